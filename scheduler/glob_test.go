package scheduler

import (
	"testing"
	"unicode/utf8"

	"github.com/orchceph/orch/spec"
)

func TestHostMatcher(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		typ     spec.PatternType
		host    string
		want    bool
	}{
		{"*", spec.PatternFnmatch, "anything", true},
		{"*", spec.PatternFnmatch, "", true},
		{"mgr*", spec.PatternFnmatch, "mgr1", true},
		{"mgr*", spec.PatternFnmatch, "osd1", false},
		{"Mgr*", spec.PatternFnmatch, "mgr1", false},
		{"host?", spec.PatternFnmatch, "host1", true},
		{"host?", spec.PatternFnmatch, "host10", false},
		{"[1-2]", spec.PatternFnmatch, "2", true},
		{"[1-2]", spec.PatternFnmatch, "3", false},
		{"[!1-2]", spec.PatternFnmatch, "3", true},
		{"[!1-2]", spec.PatternFnmatch, "1", false},
		{"[]]", spec.PatternFnmatch, "]", true},
		{"[!]", spec.PatternFnmatch, "x", false}, // unterminated "[!]" is literal
		{"[!]", spec.PatternFnmatch, "[!]", true},
		{"a[", spec.PatternFnmatch, "a[", true},
		{"*a*b", spec.PatternFnmatch, "xaxxb", true},
		{"*a*b", spec.PatternFnmatch, "xaxxbc", false},
		{"node[0-9][0-9]", spec.PatternFnmatch, "node07", true},
		{"[z-a]x", spec.PatternFnmatch, "x", false},
		{"notfound", spec.PatternFnmatch, "1", false},
		{"host1|host3", spec.PatternRegex, "host10", true},
		{"host1|host3", spec.PatternRegex, "xhost1", false},
		{"h(", spec.PatternRegex, "h(", false},
	} {
		t.Run(string(tc.typ)+":"+tc.pattern+"/"+tc.host, func(t *testing.T) {
			m := newHostMatcher(spec.HostPattern{Pattern: tc.pattern, Type: tc.typ})
			if got := m.match(tc.host); got != tc.want {
				t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.host, got, tc.want)
			}
			if ref := (spec.HostPattern{Pattern: tc.pattern, Type: tc.typ}).Match(tc.host); ref != tc.want {
				t.Errorf("spec.HostPattern.Match disagrees: %v", ref)
			}
		})
	}
}

// FuzzGlobMatchesSpec checks the fast fnmatch matcher against
// spec.HostPattern.Match, the reference translation to a regexp.
func FuzzGlobMatchesSpec(f *testing.F) {
	for _, s := range [][2]string{{"*", "a"}, {"h[1-3]*", "h2x"}, {"[!a]?", "bc"}, {"**a", "aa"},
		{"[]-]", "-"}, {"[a-]", "-"}, {"x[!]y]", "x]y"}, {"ä*", "äb"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, host string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(host) {
			t.Skip()
		}
		hp := spec.HostPattern{Pattern: pattern, Type: spec.PatternFnmatch}
		if _, err := hp.Compile(); err != nil {
			t.Skip()
		}
		m := newHostMatcher(hp)
		if got, want := m.match(host), hp.Match(host); got != want {
			t.Fatalf("match(%q, %q) = %v, spec says %v", pattern, host, got, want)
		}
	})
}

func BenchmarkGlobMatch(b *testing.B) {
	m := newHostMatcher(spec.HostPattern{Pattern: "node0[0-4]*", Type: spec.PatternFnmatch})
	b.ReportAllocs()
	for b.Loop() {
		m.match("node03217")
	}
}
