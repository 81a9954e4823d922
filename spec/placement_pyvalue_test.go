package spec

import (
	"math"
	"testing"
)

func TestPlParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means ValueError
	}{
		{"3", "3"}, {"-3", "-3"}, {"+3", "3"}, {" 7 ", "7"}, {"\t8\n", "8"}, {"007", "7"}, {"1_000", "1000"},
		{"٣", "3"}, {"１２", "12"}, {"99999999999999999999", "99999999999999999999"},
		{"", ""}, {"+", ""}, {"_1", ""}, {"1_", ""}, {"1__0", ""}, {"1.0", ""}, {"0x10", ""}, {"1 2", ""}, {"--1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, ok := plParseInt(tt.in)
			if tt.want == "" {
				if ok {
					t.Fatalf("plParseInt(%q) = %v, want failure", tt.in, n)
				}
				return
			}
			if !ok || n.String() != tt.want {
				t.Fatalf("plParseInt(%q) = %v, %v; want %s", tt.in, n, ok, tt.want)
			}
		})
	}
}

func TestPlRepr(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"none", nil, "None"},
		{"true", true, "True"},
		{"int", 124, "124"},
		{"float", 7.36, "7.36"},
		{"integral float", 3.0, "3.0"},
		{"big float", 1e16, "1e+16"},
		{"small float", 1e-5, "1e-05"},
		{"inf", math.Inf(1), "inf"},
		{"str", "a", "'a'"},
		{"str quote", "it's", `"it's"`},
		{"str both quotes", `it's "x"`, `'it\'s "x"'`},
		{"str escapes", "a\nb\\\x01", `'a\nb\\\x01'`},
		{"str unicode", "é", "'é'"},
		{"list", []any{"a", 2, nil}, "['a', 2, None]"},
		{"dict sorted", map[string]any{"b": 1, "a": "x"}, "{'a': 'x', 'b': 1}"},
		{"dict any", map[any]any{1: "rack"}, "{1: 'rack'}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pyRepr(tt.in); got != tt.want {
				t.Errorf("pyRepr(%#v) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
