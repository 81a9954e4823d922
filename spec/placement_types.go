package spec

// PatternType says how a host pattern is matched.
type PatternType string

const (
	// PatternFnmatch is Python's fnmatch (case-sensitive, * ? [seq] [!seq]).
	PatternFnmatch PatternType = "fnmatch"
	// PatternRegex is Python's re.match: anchored at the start only.
	PatternRegex PatternType = "regex"
)

// HostPattern selects hosts by name.
type HostPattern struct {
	Pattern string
	Type    PatternType
}

// HostPlacementSpec is one explicit host entry: host[:network][=name].
type HostPlacementSpec struct {
	Hostname string
	Network  string
	Name     string
}

// PlacementSpec is cephadm's PlacementSpec. Nil pointers mean "unset",
// which cephadm distinguishes from zero (count 0 is an error, not unset).
type PlacementSpec struct {
	Count        *int
	CountPerHost *int
	Label        string
	Hosts        []HostPlacementSpec
	HostPattern  *HostPattern
}

// IsEmpty reports whether no placement field is set.
func (p PlacementSpec) IsEmpty() bool {
	return p.Count == nil && p.CountPerHost == nil && p.Label == "" && len(p.Hosts) == 0 && p.HostPattern == nil
}
