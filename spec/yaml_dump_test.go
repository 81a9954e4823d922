package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDumpYAMLScalarStyles(t *testing.T) {
	long := strings.Repeat("word ", 20) + "end"
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"plain", "abc", "k: abc\n"},
		{"star", "*", "k: '*'\n"},
		{"empty", "", "k: ''\n"},
		{"bool-like", "yes", "k: 'yes'\n"},
		{"int-like", "010", "k: '010'\n"},
		{"float-like", "1.5", "k: '1.5'\n"},
		{"not float", "1e5", "k: 1e5\n"},
		{"null-like", "null", "k: 'null'\n"},
		{"leading space", " a", "k: ' a'\n"},
		{"colon space", "a: b", "k: 'a: b'\n"},
		{"colon", "a:b", "k: a:b\n"},
		{"hash", "a #b", "k: 'a #b'\n"},
		{"quote", "it's", "k: it's\n"},
		{"leading quote", "'x", "k: '''x'\n"},
		{"tab", "a\tb", "k: \"a\\tb\"\n"},
		{"unicode", "café", "k: \"caf\\xE9\"\n"},
		{"multiline", "a\nb", "k: 'a\n\n  b'\n"},
		{"int", int64(5), "k: 5\n"},
		{"float", 0.5, "k: 0.5\n"},
		{"float integral", 2.0, "k: 2.0\n"},
		{"float exp", 1e20, "k: 1.0e+20\n"},
		{"bool", false, "k: false\n"},
		{"none", nil, "k: null\n"},
		{"empty list", []any{}, "k: []\n"},
		{"empty map", NewMap(), "k: {}\n"},
		{"list", []any{"a", int64(1)}, "k:\n- a\n- 1\n"},
		{"nested list", []any{[]any{"a", "b"}}, "k:\n- - a\n  - b\n"},
		{"long plain folds", long, "k: " + strings.Repeat("word ", 15) + "word\n  word word word word end\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMap()
			m.Set("k", tt.v)
			if got := DumpYAML(m); got != tt.want {
				t.Fatalf("DumpYAML = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDumpYAMLSortsNestedOnly(t *testing.T) {
	inner := NewMap()
	inner.Set("b", int64(1))
	inner.Set("a", int64(2))
	top := NewMap()
	top.Set("z", "first")
	top.Set("m", inner)
	want := "z: first\nm:\n  a: 2\n  b: 1\n"
	if got := DumpYAML(top); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := DumpYAML(top, top); got != want+"---\n"+want {
		t.Fatalf("multi-doc got %q", got)
	}
}

// TestRoundTripFixtures checks that every cephadm test_yaml document in
// testdata/roundtrip is printed back byte for byte.
func TestRoundTripFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "roundtrip", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d := loadOne(t, data)
			if got := DumpYAML(d.ToJSON()); got != string(data) {
				t.Fatalf("dump differs\n got:\n%s\nwant:\n%s", got, data)
			}
		})
	}
}
