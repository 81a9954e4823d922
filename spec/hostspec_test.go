package spec

import (
	"encoding/json"
	"testing"
)

func TestHostSpecFromJSON(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want HostSpec
	}{
		{"bare", map[string]any{"hostname": "foo"}, HostSpec{Hostname: "foo", Addr: "foo"}},
		{"label string", map[string]any{"hostname": "foo", "labels": "l1"}, HostSpec{Hostname: "foo", Addr: "foo", Labels: []string{"l1"}}},
		{"labels", map[string]any{"hostname": "foo", "labels": []any{"l1", "l2"}}, HostSpec{Hostname: "foo", Addr: "foo", Labels: []string{"l1", "l2"}}},
		{"labels deduplicated", map[string]any{"hostname": "foo", "labels": []any{"b", "a", "b"}}, HostSpec{Hostname: "foo", Addr: "foo", Labels: []string{"b", "a"}}},
		{"location", map[string]any{"hostname": "foo", "location": map[string]any{"rack": "foo"}},
			HostSpec{Hostname: "foo", Addr: "foo", Location: map[string]string{"rack": "foo"}}},
		{"addr and status", map[string]any{"service_type": "host", "hostname": "node1", "addr": "10.0.0.11", "status": "maintenance"},
			HostSpec{Hostname: "node1", Addr: "10.0.0.11", Status: "maintenance"}},
		{"empty addr", map[string]any{"hostname": "foo", "addr": ""}, HostSpec{Hostname: "foo", Addr: "foo"}},
		{"null labels", map[string]any{"hostname": "foo", "labels": nil}, HostSpec{Hostname: "foo", Addr: "foo"}},
		{"oob", map[string]any{"hostname": "foo", "oob": map[string]any{"addr": "169.254.1.1", "port": "443", "username": "u", "password": "p"}},
			HostSpec{Hostname: "foo", Addr: "foo", Oob: map[string]string{"addr": "169.254.1.1", "port": "443", "username": "u", "password": "p"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HostSpecFromJSON(tt.in)
			if err != nil {
				t.Fatalf("HostSpecFromJSON(%v): %v", tt.in, err)
			}
			if !h.Equal(tt.want) || h.Status != tt.want.Status || len(h.Oob) != len(tt.want.Oob) {
				t.Errorf("got %+v, want %+v", h, tt.want)
			}
			if len(tt.want.Labels) > 0 && !equalStrings(h.Labels, tt.want.Labels) {
				t.Errorf("labels = %v, want %v (order kept)", h.Labels, tt.want.Labels)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHostSpecFromJSONErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        map[string]any
		kind, msg string
	}{
		{"labels int", map[string]any{"hostname": "foo", "labels": 124}, "SpecValidationError", "Labels (124) must be a string or list of strings"},
		{"labels mixed", map[string]any{"hostname": "foo", "labels": []any{"a", 2}}, "SpecValidationError", "Labels (['a', 2]) must be a string or list of strings"},
		{"labels map", map[string]any{"hostname": "foo", "labels": map[string]any{"a": "b"}}, "SpecValidationError", "Labels ({'a': 'b'}) must be a string or list of strings"},
		{"location string", map[string]any{"hostname": "foo", "location": "rack=bar"}, "SpecValidationError", "Location (rack=bar) must be a dictionary of strings to strings"},
		{"location list", map[string]any{"hostname": "foo", "location": []any{"a"}}, "SpecValidationError", "Location (['a']) must be a dictionary of strings to strings"},
		{"location int key", map[string]any{"hostname": "foo", "location": map[any]any{1: "rack"}}, "SpecValidationError", "Location ({1: 'rack'}) must be a dictionary of strings to strings"},
		{"location int value", map[string]any{"hostname": "foo", "location": map[string]any{"rack": 1}}, "SpecValidationError", "Location ({'rack': 1}) must be a dictionary of strings to strings"},
		{"labels checked before hostname", map[string]any{"labels": 1}, "SpecValidationError", "Labels (1) must be a string or list of strings"},
		{"missing hostname", map[string]any{"addr": "1.2.3.4"}, "KeyError", "'hostname'"},
		{"hostname int", map[string]any{"hostname": 5}, "TypeError", "object of type 'int' has no len()"},
		{"invalid hostname", map[string]any{"hostname": "foo.example_com"}, "SpecValidationError", `name component must include only a-z, 0-9, and -. Got "foo.example_com"`},
		{"oob without password", map[string]any{"hostname": "foo", "oob": map[string]any{"username": "u"}}, "SpecValidationError", "oob is missing the password field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := HostSpecFromJSON(tt.in)
			checkPlacementError(t, err, tt.kind, tt.msg)
		})
	}
}

func TestHostSpecToJSON(t *testing.T) {
	tests := []struct {
		name string
		h    HostSpec
		want string
		back HostSpec // what HostSpecFromJSON makes of the output
	}{
		{"bare", HostSpec{Hostname: "a", Addr: "a"}, `{"addr":"a","hostname":"a","labels":[],"status":""}`,
			HostSpec{Hostname: "a", Addr: "a"}},
		{"full", HostSpec{Hostname: "a", Addr: "10.0.0.1", Labels: []string{"x", "x", "_admin"}, Status: "offline", Location: map[string]string{"rack": "r1"}},
			`{"addr":"10.0.0.1","hostname":"a","labels":["x","_admin"],"location":{"rack":"r1"},"status":"offline"}`,
			HostSpec{Hostname: "a", Addr: "10.0.0.1", Labels: []string{"x", "_admin"}, Location: map[string]string{"rack": "r1"}}},
		{"empty location omitted", HostSpec{Hostname: "a", Addr: "a", Location: map[string]string{}}, `{"addr":"a","hostname":"a","labels":[],"status":""}`,
			HostSpec{Hostname: "a", Addr: "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.h.ToJSON())
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("ToJSON = %s, want %s", b, tt.want)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			back, err := HostSpecFromJSON(m)
			if err != nil || !back.Equal(tt.back) || back.Status != tt.h.Status {
				t.Errorf("HostSpecFromJSON(ToJSON()) = %+v, %v", back, err)
			}
		})
	}
}

func TestHostSpecEqual(t *testing.T) {
	base := HostSpec{Hostname: "a", Addr: "a", Labels: []string{"x", "y"}}
	tests := []struct {
		name string
		o    HostSpec
		want bool
	}{
		{"same", base, true},
		{"label order ignored", HostSpec{Hostname: "a", Addr: "a", Labels: []string{"y", "x"}}, true},
		{"status ignored", HostSpec{Hostname: "a", Addr: "a", Labels: []string{"x", "y"}, Status: "offline"}, true},
		{"addr differs", HostSpec{Hostname: "a", Addr: "b", Labels: []string{"x", "y"}}, false},
		{"location differs", HostSpec{Hostname: "a", Addr: "a", Labels: []string{"x", "y"}, Location: map[string]string{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.Equal(tt.o); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}
