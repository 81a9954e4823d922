package spec

import (
	"errors"
	"strings"
	"testing"
)

// prettyAmbiguous reports whether p is one of the placements whose
// pretty_str cephadm itself cannot parse back to p: a part holding ';'
// (the separator), a lone part holding ',' but no '[', a first host that
// reads as a count, or a host whose rendering reads as a count:,
// count-per-host:, label: or regex: token ("regex=:0" renders as
// "regex:0=:0"), or a host without a network whose name holds ':' (that
// ':' would start a network: "h=:0" parses back as network "0").
func prettyAmbiguous(p PlacementSpec) bool {
	var parts []string
	for _, h := range p.Hosts {
		parts = append(parts, h.String())
	}
	if p.Label != "" {
		parts = append(parts, "label:"+p.Label)
	}
	if p.hasPattern() {
		parts = append(parts, p.HostPattern.PrettyStr())
	}
	for _, s := range parts {
		if strings.Contains(s, ";") {
			return true
		}
	}
	pretty := p.PrettyStr()
	if !strings.Contains(pretty, ";") && strings.Contains(pretty, ",") && !strings.Contains(pretty, "[") {
		return true
	}
	if len(p.Hosts) > 0 {
		if _, ok := plParseInt(p.Hosts[0].String()); ok {
			return true
		}
	}
	for _, h := range p.Hosts {
		s := h.String()
		if strings.Contains(s, "label:") || strings.Contains(s, "regex:") || h.Network == "" && strings.Contains(h.Name, ":") {
			return true
		}
		for _, prefix := range []string{"count:", "count-per-host:"} {
			if strings.HasPrefix(s, prefix) {
				if _, ok := plParseInt(s[len(prefix):]); ok {
					return true
				}
			}
		}
	}
	return false
}

// FuzzParsePlacement checks that parsing never panics, that every error is
// a cephadm-class validation error, and that every accepted placement
// validates and round-trips through PrettyStr (and through ToJSON when
// from_json accepts it).
func FuzzParsePlacement(f *testing.F) {
	for _, s := range []string{
		"", "3", "count:2", "host1 host2", "host1;host2", "host1,host2", "2 host1 host2", "label:mon", "3 label:mon",
		"*", "data[1-3]", "regex:Foo[0-9]|Bar[0-9]", "count-per-host:2 label:rgw", "host1:10.0.0.0/24=a;host2",
		"myhost:[v1:10.1.1.10:6789,v2:10.1.1.11:3000]=sname", "host? host*", "count:2 count-per-host:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlacement(s)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("ParsePlacement(%q): error %v is not a ValidationError", s, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePlacement(%q) accepted a placement that does not validate: %v", s, err)
		}
		if prettyAmbiguous(p) {
			return
		}
		pretty := p.PrettyStr()
		q, err := ParsePlacement(pretty)
		if err != nil {
			t.Fatalf("ParsePlacement(%q) -> %q does not parse: %v", s, pretty, err)
		}
		if !q.Equal(p) {
			t.Fatalf("ParsePlacement(%q) -> %q -> %q: not equal", s, pretty, q.PrettyStr())
		}
		if r, err := PlacementFromJSON(p.ToJSON()); err == nil && !r.Equal(p) {
			t.Fatalf("PlacementFromJSON(ToJSON()) of %q = %q", s, r.PrettyStr())
		}
	})
}
