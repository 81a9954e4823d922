package spec

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func intp(n int) *int { return &n }

func hps(host, network, name string) HostPlacementSpec {
	return HostPlacementSpec{Hostname: host, Network: network, Name: name}
}

// TestParsePlacement covers cephadm's test_parse_placement_specs and the
// from_string doctests, plus tokenising edge cases.
func TestParsePlacement(t *testing.T) {
	tests := []struct {
		in     string
		want   PlacementSpec
		pretty string
	}{
		{"", PlacementSpec{}, ""},
		{"count:2", PlacementSpec{Count: intp(2)}, "count:2"},
		{"3", PlacementSpec{Count: intp(3)}, "count:3"},
		{"host1 host2", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "", "")}}, "host1;host2"},
		{"host1;host2", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "", "")}}, "host1;host2"},
		{"host1,host2", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "", "")}}, "host1;host2"},
		{"host1 host2=b", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "", "b")}}, "host1;host2=b"},
		{"host1=a host2=b", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", "a"), hps("host2", "", "b")}}, "host1=a;host2=b"},
		{"host1:1.2.3.4=a host2:1.2.3.5=b", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "1.2.3.4", "a"), hps("host2", "1.2.3.5", "b")}}, "host1:1.2.3.4=a;host2:1.2.3.5=b"},
		{"myhost:[v1:10.1.1.10:6789]", PlacementSpec{Hosts: []HostPlacementSpec{hps("myhost", "[v1:10.1.1.10:6789]", "")}}, "myhost:[v1:10.1.1.10:6789]"},
		{"2 host1 host2", PlacementSpec{Count: intp(2), Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "", "")}}, "host1;host2;count:2"},
		{"label:foo", PlacementSpec{Label: "foo"}, "label:foo"},
		{"label:mon", PlacementSpec{Label: "mon"}, "label:mon"},
		{"3 label:foo", PlacementSpec{Count: intp(3), Label: "foo"}, "count:3;label:foo"},
		{"*", PlacementSpec{HostPattern: &HostPattern{"*", PatternFnmatch}}, "*"},
		{"data[1-3]", PlacementSpec{HostPattern: &HostPattern{"data[1-3]", PatternFnmatch}}, "data[1-3]"},
		{"3 data[1-3]", PlacementSpec{Count: intp(3), HostPattern: &HostPattern{"data[1-3]", PatternFnmatch}}, "count:3;data[1-3]"},
		{"3 data?", PlacementSpec{Count: intp(3), HostPattern: &HostPattern{"data?", PatternFnmatch}}, "count:3;data?"},
		{"3 data*", PlacementSpec{Count: intp(3), HostPattern: &HostPattern{"data*", PatternFnmatch}}, "count:3;data*"},
		{"count-per-host:4 label:foo", PlacementSpec{CountPerHost: intp(4), Label: "foo"}, "count-per-host:4;label:foo"},
		{"regex:Foo[0-9]|Bar[0-9]", PlacementSpec{HostPattern: &HostPattern{"Foo[0-9]|Bar[0-9]", PatternRegex}}, "regex:Foo[0-9]|Bar[0-9]"},
		{"3 regex:Foo[0-9]|Bar[0-9]", PlacementSpec{Count: intp(3), HostPattern: &HostPattern{"Foo[0-9]|Bar[0-9]", PatternRegex}}, "count:3;regex:Foo[0-9]|Bar[0-9]"},
		// count: overrides a leading count; only the first count: is taken.
		{"2 count:3 label:x", PlacementSpec{Count: intp(3), Label: "x"}, "count:3;label:x"},
		{"count:2 count:3", PlacementSpec{Count: intp(2), Hosts: []HostPlacementSpec{hps("count", "3", "")}}, "count:3;count:2"},
		// Python int(): sign, underscores, Unicode digits, whitespace.
		{"+2;host1", PlacementSpec{Count: intp(2), Hosts: []HostPlacementSpec{hps("host1", "", "")}}, "host1;count:2"},
		{"1_0", PlacementSpec{Count: intp(10)}, "count:10"},
		{"٣", PlacementSpec{Count: intp(3)}, "count:3"},
		{"\t4;label:a", PlacementSpec{Count: intp(4), Label: "a"}, "count:4;label:a"},
		// A count: token that is not a number stays, and is a host.
		{"count:x", PlacementSpec{Hosts: []HostPlacementSpec{hps("count", "x", "")}}, "count:x"},
		// Empty tokens are dropped.
		{"host1  host2 ", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "", "")}}, "host1;host2"},
		// Commas split only without '['.
		{"h1:[v2:1.2.3.4:3300,v1:1.2.3.4:6789]", PlacementSpec{Hosts: []HostPlacementSpec{hps("h1", "[v2:1.2.3.4:3300,v1:1.2.3.4:6789]", "")}}, "h1:[v2:1.2.3.4:3300,v1:1.2.3.4:6789]"},
		{"host1:10.0.0.0/24=a;host2", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "10.0.0.0/24", "a"), hps("host2", "", "")}}, "host1:10.0.0.0/24=a;host2"},
		// Networks are not checked by from_string.
		{"myhost:1", PlacementSpec{Hosts: []HostPlacementSpec{hps("myhost", "1", "")}}, "myhost:1"},
		// Label and pattern together are allowed (they intersect).
		{"* label:foo", PlacementSpec{Label: "foo", HostPattern: &HostPattern{"*", PatternFnmatch}}, "label:foo;*"},
		{"1 *", PlacementSpec{Count: intp(1), HostPattern: &HostPattern{"*", PatternFnmatch}}, "count:1;*"},
		// "regex:" anywhere makes a regex of everything after six characters.
		{"aregex:x", PlacementSpec{HostPattern: &HostPattern{":x", PatternRegex}}, "regex::x"},
		{"regex:", PlacementSpec{}, ""},
		{"label:", PlacementSpec{}, ""},
		// Python's $ matches before a final newline.
		{"host1\n", PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", "")}}, "host1"},
		{"count-per-host:2 h1 h2", PlacementSpec{CountPerHost: intp(2), Hosts: []HostPlacementSpec{hps("h1", "", ""), hps("h2", "", "")}}, "h1;h2;count-per-host:2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePlacement(tt.in)
			if err != nil {
				t.Fatalf("ParsePlacement(%q): %v", tt.in, err)
			}
			if !p.Equal(tt.want) {
				t.Errorf("ParsePlacement(%q) = %s, want %s", tt.in, p.PrettyStr(), tt.want.PrettyStr())
			}
			if got := p.PrettyStr(); got != tt.pretty {
				t.Errorf("PrettyStr() = %q, want %q", got, tt.pretty)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate() of a parsed placement: %v", err)
			}
		})
	}
}

// TestParsePlacementErrors covers test_parse_placement_specs_raises and
// cephadm's validation order, with exact messages.
func TestParsePlacementErrors(t *testing.T) {
	tests := []struct {
		in, kind, msg string
	}{
		{"host=a host*", "SpecValidationError", msgPatternAndHosts},
		{"host=a label:wrong", "SpecValidationError", msgHostAndLabel},
		{"host? host*", "SpecValidationError", "more than one host pattern provided: ['host?', 'host*']"},
		{"host? regex:host*", "SpecValidationError", "more than one host pattern provided: ['host?', 'regex:host*']"},
		{"regex:host? host*", "SpecValidationError", "more than one host pattern provided: ['regex:host?', 'host*']"},
		{"regex:host? regex:host*", "SpecValidationError", "more than one host pattern provided: ['regex:host?', 'regex:host*']"},
		{"host=a count-per-host:0", "SpecValidationError", msgCountPerHostMin},
		{"host=a count-per-host:-10", "SpecValidationError", msgCountPerHostMin},
		{"count:2 count-per-host:1", "SpecValidationError", msgCountPerHostAlone},
		{"host1=a host2=b count-per-host:2", "SpecValidationError", msgCountPerHostNetName},
		{"host1:10/8 count-per-host:2", "SpecValidationError", msgCountPerHostNetName},
		{"count-per-host:2", "SpecValidationError", msgCountPerHostAlone},
		{"label:a label:b", "SpecValidationError", "more than one label provided: ['label:a', 'label:b']"},
		{"0", "SpecValidationError", msgCountMin},
		{"count:-1 label:x", "SpecValidationError", msgCountMin},
		{"2 count-per-host:2 label:x", "SpecValidationError", msgCountAndPerHost},
		{"* host1 host2", "SpecValidationError", msgPatternAndHosts},
		{"a_b", "SpecValidationError", `name component must include only a-z, 0-9, and -. Got "a_b"`},
		{"a..b", "SpecValidationError", `.-delimited name component must not be empty. Got "a..b"`},
		{"=name", "SpecValidationError", `.-delimited name component must not be empty. Got ""`},
		{"1 " + "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl", "SpecValidationError",
			`.-delimited name component must not be more than 63 chars. Got "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"`},
		{"regex:(", "re.error", ""},
		{"a,b=x;y", "SpecValidationError", `name component must include only a-z, 0-9, and -. Got "a,b"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParsePlacement(tt.in)
			checkPlacementError(t, err, tt.kind, tt.msg)
		})
	}
}

func TestParseHostPlacement(t *testing.T) {
	tests := []struct {
		in             string
		requireNetwork bool
		want           HostPlacementSpec
	}{
		{"myhost", false, hps("myhost", "", "")},
		{"myhost=sname", false, hps("myhost", "", "sname")},
		{"myhost:10.1.1.10", true, hps("myhost", "10.1.1.10", "")},
		{"myhost:10.1.1.10=sname", true, hps("myhost", "10.1.1.10", "sname")},
		{"myhost:10.1.1.0/32", true, hps("myhost", "10.1.1.0/32", "")},
		{"myhost:10.1.1.0/32=sname", true, hps("myhost", "10.1.1.0/32", "sname")},
		{"myhost:[v1:10.1.1.10:6789]", true, hps("myhost", "[v1:10.1.1.10:6789]", "")},
		{"myhost:[v1:10.1.1.10:6789]=sname", true, hps("myhost", "[v1:10.1.1.10:6789]", "sname")},
		{"myhost:[v1:10.1.1.10:6789,v2:10.1.1.11:3000]", true, hps("myhost", "[v1:10.1.1.10:6789,v2:10.1.1.11:3000]", "")},
		{"myhost:[v1:10.1.1.10:6789,v2:10.1.1.11:3000]=sname", true, hps("myhost", "[v1:10.1.1.10:6789,v2:10.1.1.11:3000]", "sname")},
		{"h:[v2:[::1]:3300]", true, hps("h", "[v2:[::1]:3300]", "")},
		{"h:[::1]", true, hps("h", "[::1]", "")},
		{"h:fe80::/10", true, hps("h", "fe80::/10", "")},
		{"h:1.2.3.0/255.255.255.0", true, hps("h", "1.2.3.0/255.255.255.0", "")},
		{"h:1.2.3.0/0.0.0.255", true, hps("h", "1.2.3.0/0.0.0.255", "")},
		{"h:1.2.3.0/024", true, hps("h", "1.2.3.0/024", "")},
		{"h=a:b", false, hps("h", "b", "a:b")},
		{"h:x=y=z", false, hps("h", "x", "y=z")},
		{"h:a\nb", false, hps("h", "", "")},
		{"h=a\n", false, hps("h", "", "a")},
		{"ab\ncd", false, hps("", "", "")},
		{"myhost:1", false, hps("myhost", "1", "")},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := ParseHostPlacement(tt.in, tt.requireNetwork)
			if err != nil {
				t.Fatalf("ParseHostPlacement(%q, %v): %v", tt.in, tt.requireNetwork, err)
			}
			if h != tt.want {
				t.Errorf("got %+v, want %+v", h, tt.want)
			}
		})
	}
}

func TestParseHostPlacementErrors(t *testing.T) {
	tests := []struct {
		in, kind, msg string
	}{
		{"myhost:1.1.1.1/24", "ValueError", "1.1.1.1/24 has host bits set"},
		{"myhost:1", "ValueError", "'1' does not appear to be an IPv4 or IPv6 address"},
		{"h:fe80::1/10", "ValueError", "fe80::1/10 has host bits set"},
		{"h:1.2.3.0/33", "ValueError", "'1.2.3.0/33' does not appear to be an IPv4 or IPv6 network"},
		{"h:1.2.3.0/24/1", "ValueError", "'1.2.3.0/24/1' does not appear to be an IPv4 or IPv6 network"},
		{"h:1.2.3.4/255.0.255.0", "ValueError", "'1.2.3.4/255.0.255.0' does not appear to be an IPv4 or IPv6 network"},
		{"h:01.2.3.4", "ValueError", "'01.2.3.4' does not appear to be an IPv4 or IPv6 address"},
		{"h:1.2.3.4,", "ValueError", "'' does not appear to be an IPv4 or IPv6 address"},
		{"h:[v1:10.1.1.10:6789,1.2.3.4]", "ValueError", "'1.2.3.4]' does not appear to be an IPv4 or IPv6 address"},
		{"h:v1", "IndexError", "list index out of range"},
		{"h:[", "ValueError", "'[' does not appear to be an IPv4 or IPv6 address"},
		{"h:it's", "ValueError", `"it's" does not appear to be an IPv4 or IPv6 address`},
		{"a_b:1.2.3.4", "SpecValidationError", `name component must include only a-z, 0-9, and -. Got "a_b"`},
		{"", "SpecValidationError", `.-delimited name component must not be empty. Got ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseHostPlacement(tt.in, true)
			checkPlacementError(t, err, tt.kind, tt.msg)
			// Without network validation nothing fails.
			if _, err := ParseHostPlacement(tt.in, false); err != nil {
				t.Errorf("ParseHostPlacement(%q, false): %v", tt.in, err)
			}
		})
	}
}

func TestHostPlacementString(t *testing.T) {
	tests := []struct {
		h    HostPlacementSpec
		want string
	}{
		{hps("h", "", ""), "h"},
		{hps("h", "1.2.3.4", ""), "h:1.2.3.4"},
		{hps("h", "", "n"), "h=n"},
		{hps("h", "10.0.0.0/8", "n"), "h:10.0.0.0/8=n"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.h.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			back, err := ParseHostPlacement(tt.want, false)
			if err != nil || back != tt.h {
				t.Errorf("ParseHostPlacement(String()) = %+v, %v", back, err)
			}
		})
	}
}

// TestPlacementFromJSON covers PlacementSpec.from_json, including the
// placement errors of test_service_spec_validation_error.
func TestPlacementFromJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want PlacementSpec
	}{
		{"count", map[string]any{"count": 3}, PlacementSpec{Count: intp(3)}},
		{"count int64", map[string]any{"count": int64(2), "label": "x"}, PlacementSpec{Count: intp(2), Label: "x"}},
		{"integral float", map[string]any{"count": 3.0}, PlacementSpec{Count: intp(3)}},
		{"bool is an int", map[string]any{"count": true}, PlacementSpec{Count: intp(1)}},
		{"null count", map[string]any{"count": nil, "label": "x"}, PlacementSpec{Label: "x"}},
		{"hosts strings", map[string]any{"hosts": []any{"host1", "host2:10.0.0.1=a"}},
			PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", ""), hps("host2", "10.0.0.1", "a")}}},
		{"hosts []string", map[string]any{"hosts": []string{"host1"}}, PlacementSpec{Hosts: []HostPlacementSpec{hps("host1", "", "")}}},
		{"hosts mapping", map[string]any{"hosts": []any{map[string]any{"hostname": "h1", "network": "x", "name": nil}}},
			PlacementSpec{Hosts: []HostPlacementSpec{hps("h1", "x", "")}}},
		{"hosts string iterates", map[string]any{"hosts": "ab"}, PlacementSpec{Hosts: []HostPlacementSpec{hps("a", "", ""), hps("b", "", "")}}},
		{"empty hosts", map[string]any{"hosts": []any{}, "count": 2}, PlacementSpec{Count: intp(2)}},
		{"pattern string", map[string]any{"host_pattern": "osd*"}, PlacementSpec{HostPattern: &HostPattern{"osd*", PatternFnmatch}}},
		{"pattern regex", map[string]any{"host_pattern": map[string]any{"pattern": "Foo[0-9]|Bar[0-9]", "pattern_type": "regex"}},
			PlacementSpec{HostPattern: &HostPattern{"Foo[0-9]|Bar[0-9]", PatternRegex}}},
		{"pattern map fnmatch", map[string]any{"host_pattern": map[string]any{"pattern": "a*"}}, PlacementSpec{HostPattern: &HostPattern{"a*", PatternFnmatch}}},
		{"pattern map null type", map[string]any{"host_pattern": map[string]any{"pattern": "a*", "pattern_type": nil}}, PlacementSpec{HostPattern: &HostPattern{"a*", PatternFnmatch}}},
		{"empty pattern", map[string]any{"host_pattern": "", "label": "l"}, PlacementSpec{Label: "l"}},
		{"label and pattern", map[string]any{"label": "foo", "host_pattern": "*"}, PlacementSpec{Label: "foo", HostPattern: &HostPattern{"*", PatternFnmatch}}},
		{"count per host", map[string]any{"count_per_host": 2, "label": "rgw"}, PlacementSpec{CountPerHost: intp(2), Label: "rgw"}},
		{"map[any]any", map[any]any{"count": 2}, PlacementSpec{Count: intp(2)}},
		{"empty", map[string]any{}, PlacementSpec{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlacementFromJSON(tt.in)
			if err != nil {
				t.Fatalf("PlacementFromJSON(%v): %v", tt.in, err)
			}
			if !p.Equal(tt.want) {
				t.Errorf("got %s, want %s", p.PrettyStr(), tt.want.PrettyStr())
			}
		})
	}
}

func TestPlacementFromJSONErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        any
		kind, msg string
	}{
		{"count twelve per host", map[string]any{"count_per_host": "twelve"}, "SpecValidationError", "count-per-host must be a numeric value"},
		{"count per host string", map[string]any{"count_per_host": "2"}, "SpecValidationError", "count-per-host must be an integer value"},
		{"count per host float", map[string]any{"count_per_host": 7.36}, "SpecValidationError", "count-per-host must be an integer value"},
		{"count fifteen", map[string]any{"count": "fifteen"}, "SpecValidationError", "num/count must be a numeric value"},
		{"count string", map[string]any{"count": "4"}, "SpecValidationError", "num/count must be an integer value"},
		{"count float", map[string]any{"count": 7.36}, "SpecValidationError", "num/count must be an integer value"},
		{"count zero", map[string]any{"count": 0}, "SpecValidationError", msgCountMin},
		{"count false", map[string]any{"count": false}, "SpecValidationError", msgCountMin},
		{"count list", map[string]any{"count": []any{1}}, "SpecValidationError", "num/count must be a numeric value"},
		{"count per host zero", map[string]any{"count_per_host": 0}, "SpecValidationError", msgCountPerHostMin},
		{"count per host alone", map[string]any{"count_per_host": 2}, "SpecValidationError", msgCountPerHostAlone},
		{"hosts before count", map[string]any{"count": "x", "hosts": []any{"h", "h2"}, "label": "l"}, "SpecValidationError", msgHostAndLabel},
		{"unknown key", map[string]any{"count": 1, "foo": 1}, "SpecValidationError", "PlacementSpec: __init__() got an unexpected keyword argument 'foo'"},
		{"non-string key", map[any]any{1: 2}, "SpecValidationError", "PlacementSpec: keywords must be strings"},
		{"nil", nil, "SpecValidationError", "PlacementSpec: 'NoneType' object has no attribute 'copy'"},
		{"string", "3 label:x", "SpecValidationError", "PlacementSpec: 'str' object has no attribute 'copy'"},
		{"list", []any{"h"}, "SpecValidationError", "PlacementSpec: 'list' object has no attribute 'get'"},
		{"hosts int", map[string]any{"hosts": 2}, "SpecValidationError", "PlacementSpec: 'int' object is not iterable"},
		{"host network checked", map[string]any{"hosts": []any{"h:1.1.1.1/24"}}, "ValueError", "1.1.1.1/24 has host bits set"},
		{"host name checked", map[string]any{"hosts": []any{"a_b"}}, "SpecValidationError", `name component must include only a-z, 0-9, and -. Got "a_b"`},
		{"host entry int", map[string]any{"hosts": []any{3}}, "SpecValidationError",
			"HostPlacementSpec: ceph.deployment.service_spec.HostPlacementSpec() argument after ** must be a mapping, not int"},
		{"host map missing", map[string]any{"hosts": []any{map[string]any{"hostname": "a"}}}, "SpecValidationError",
			"HostPlacementSpec: __new__() missing 2 required positional arguments: 'network' and 'name'"},
		{"host map missing all", map[string]any{"hosts": []any{map[string]any{}}}, "SpecValidationError",
			"HostPlacementSpec: __new__() missing 3 required positional arguments: 'hostname', 'network', and 'name'"},
		{"host map extra", map[string]any{"hosts": []any{map[string]any{"hostname": "a", "network": "", "name": "", "x": 1}}}, "SpecValidationError",
			"HostPlacementSpec: __new__() got an unexpected keyword argument 'x'"},
		{"host map hostname int", map[string]any{"hosts": []any{map[string]any{"hostname": 5, "network": "", "name": ""}}}, "SpecValidationError",
			"PlacementSpec: object of type 'int' has no len()"},
		{"host map hostname checked", map[string]any{"hosts": []any{map[string]any{"hostname": "a_b", "network": "", "name": ""}}}, "SpecValidationError",
			`name component must include only a-z, 0-9, and -. Got "a_b"`},
		{"pattern and hosts", map[string]any{"hosts": []any{"h"}, "host_pattern": "*"}, "SpecValidationError", msgPatternAndHosts},
		{"pattern no field", map[string]any{"host_pattern": map[string]any{"pattern_type": "regex"}}, "SpecValidationError",
			"Got dict for host pattern with no pattern field: {'pattern_type': 'regex'}"},
		{"pattern empty", map[string]any{"host_pattern": map[string]any{"pattern": ""}}, "SpecValidationError",
			"Got dict for host patternwith empty pattern: {'pattern': ''}"},
		{"pattern type unknown", map[string]any{"host_pattern": map[string]any{"pattern": "a", "pattern_type": "glob"}}, "SpecValidationError",
			"Got dict for host pattern with unknown pattern type: {'pattern': 'a', 'pattern_type': 'glob'}"},
		{"pattern int", map[string]any{"host_pattern": 5}, "SpecValidationError", "Cannot convert <class 'int'> object to HostPattern"},
		{"pattern list", map[string]any{"host_pattern": []any{"a"}}, "SpecValidationError", "Cannot convert <class 'list'> object to HostPattern"},
		{"pattern bad regex", map[string]any{"host_pattern": map[string]any{"pattern": "(", "pattern_type": "regex"}}, "re.error", ""},
		{"count infinity", map[string]any{"count": math.Inf(1)}, "OverflowError", "cannot convert float infinity to integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := PlacementFromJSON(tt.in)
			checkPlacementError(t, err, tt.kind, tt.msg)
		})
	}
}

func TestPlacementToJSON(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", `{}`},
		{"3 label:foo", `{"count":3,"label":"foo"}`},
		{"host1:10.0.0.1=a host2", `{"hosts":["host1:10.0.0.1=a","host2"]}`},
		{"count-per-host:2 osd*", `{"count_per_host":2,"host_pattern":"osd*"}`},
		{"regex:Foo[0-9]|Bar[0-9]", `{"host_pattern":{"pattern":"Foo[0-9]|Bar[0-9]","pattern_type":"regex"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePlacement(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(p.ToJSON())
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("ToJSON() = %s, want %s", got, tt.want)
			}
			back, err := PlacementFromJSON(p.ToJSON())
			if err != nil || !back.Equal(p) {
				t.Errorf("PlacementFromJSON(ToJSON()) = %+v, %v", back, err)
			}
		})
	}
}

func TestPlacementEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b PlacementSpec
		want bool
	}{
		{"empty", PlacementSpec{}, PlacementSpec{}, true},
		{"count nil vs set", PlacementSpec{}, PlacementSpec{Count: intp(1)}, false},
		{"count values", PlacementSpec{Count: intp(1)}, PlacementSpec{Count: intp(1)}, true},
		{"host order", PlacementSpec{Hosts: []HostPlacementSpec{hps("a", "", ""), hps("b", "", "")}},
			PlacementSpec{Hosts: []HostPlacementSpec{hps("b", "", ""), hps("a", "", "")}}, false},
		{"pattern type", PlacementSpec{HostPattern: &HostPattern{"a", PatternFnmatch}}, PlacementSpec{HostPattern: &HostPattern{"a", PatternRegex}}, false},
		{"default type", PlacementSpec{HostPattern: &HostPattern{"a", ""}}, PlacementSpec{HostPattern: &HostPattern{"a", PatternFnmatch}}, true},
		{"empty pattern", PlacementSpec{HostPattern: &HostPattern{"", PatternRegex}}, PlacementSpec{}, true},
		{"label", PlacementSpec{Label: "a"}, PlacementSpec{Label: "b"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
			if got := tt.b.Equal(tt.a); got != tt.want {
				t.Errorf("Equal (swapped) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterMatchingHostspecs(t *testing.T) {
	hosts := []HostSpec{
		{Hostname: "host1", Labels: []string{"foo"}},
		{Hostname: "host2"},
		{Hostname: "host10", Labels: []string{"foo"}},
		{Hostname: "osd1", Labels: []string{"foo", "bar"}},
		{Hostname: "data1"},
	}
	tests := []struct {
		placement string
		want      []string
	}{
		{"", []string{"host1", "host2", "host10", "osd1", "data1"}},
		{"3", []string{"host1", "host2", "host10", "osd1", "data1"}},
		{"host2 host1 unknown", []string{"host2", "host1"}},
		{"label:foo", []string{"host1", "host10", "osd1"}},
		{"label:none", []string{}},
		{"host*", []string{"host1", "host2", "host10"}},
		{"host?", []string{"host1", "host2"}},
		{"[!h]*", []string{"osd1", "data1"}},
		{"HOST*", []string{}},
		{"label:foo host*", []string{"host1", "host10"}},
		{"regex:host1|osd", []string{"host1", "host10", "osd1"}},
		{"regex:1$", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.placement, func(t *testing.T) {
			p, err := ParsePlacement(tt.placement)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.FilterMatchingHostspecs(hosts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FilterMatchingHostspecs = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTargetCount covers test_placement_target_size.
func TestTargetCount(t *testing.T) {
	five := []string{"host1", "host2", "host3", "host4", "host5"}
	foobar := []string{"foo1", "foo2", "bar1", "bar2"}
	tests := []struct {
		name  string
		p     PlacementSpec
		hosts []string
		want  int
	}{
		{"count", PlacementSpec{Count: intp(3)}, five, 3},
		{"all", PlacementSpec{HostPattern: &HostPattern{"*", PatternFnmatch}}, five, 5},
		{"per host", PlacementSpec{CountPerHost: intp(2), HostPattern: &HostPattern{"*", PatternFnmatch}}, five, 10},
		{"pattern", PlacementSpec{HostPattern: &HostPattern{"foo*", PatternFnmatch}}, foobar, 2},
		{"pattern per host", PlacementSpec{CountPerHost: intp(2), HostPattern: &HostPattern{"foo*", PatternFnmatch}}, foobar, 4},
		{"explicit", PlacementSpec{Hosts: []HostPlacementSpec{hps("foo1", "", ""), hps("nope", "", "")}}, foobar, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hs []HostSpec
			for _, h := range tt.hosts {
				hs = append(hs, HostSpec{Hostname: h})
			}
			if got := tt.p.TargetCount(hs); got != tt.want {
				t.Errorf("TargetCount = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPlacementValidateConstructed(t *testing.T) {
	tests := []struct {
		name string
		p    PlacementSpec
		msg  string
	}{
		{"ok", PlacementSpec{Count: intp(2), Label: "x"}, ""},
		{"hosts and label", PlacementSpec{Label: "x", Hosts: []HostPlacementSpec{hps("a", "", "")}, Count: intp(0)}, msgHostAndLabel},
		{"count zero", PlacementSpec{Count: intp(0)}, msgCountMin},
		{"bad host", PlacementSpec{Hosts: []HostPlacementSpec{hps("a b", "", "")}}, `name component must include only a-z, 0-9, and -. Got "a b"`},
		{"unknown pattern type", PlacementSpec{HostPattern: &HostPattern{"a", "glob"}}, "Got unexpected pattern_type: glob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkPlacementError(t, err, "SpecValidationError", tt.msg)
		})
	}
}
