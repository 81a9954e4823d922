package spec

import "testing"

func TestHostPatternMatch(t *testing.T) {
	tests := []struct {
		pat  HostPattern
		host string
		want bool
	}{
		{HostPattern{"*", PatternFnmatch}, "host1", true},
		{HostPattern{"host?", PatternFnmatch}, "host1", true},
		{HostPattern{"host?", PatternFnmatch}, "host10", false},
		{HostPattern{"data[1-3]", PatternFnmatch}, "data2", true},
		{HostPattern{"data[1-3]", PatternFnmatch}, "data4", false},
		{HostPattern{"data[!1-3]", PatternFnmatch}, "data4", true},
		{HostPattern{"Host*", PatternFnmatch}, "host1", false},
		{HostPattern{"a.b", PatternFnmatch}, "axb", false},
		{HostPattern{"[", PatternFnmatch}, "[", true},
		{HostPattern{"[]]", PatternFnmatch}, "]", true},
		{HostPattern{"notfound", PatternFnmatch}, "host1", false},
		{HostPattern{"host1|host3", PatternRegex}, "host10", true},
		{HostPattern{"host[1-2]", PatternRegex}, "xhost1", false},
		{HostPattern{"(", PatternRegex}, "(", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.pat.Type)+":"+tt.pat.Pattern+"/"+tt.host, func(t *testing.T) {
			if got := tt.pat.Match(tt.host); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}
