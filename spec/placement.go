package spec

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Validation messages of PlacementSpec.validate, in cephadm's check order.
const (
	msgHostAndLabel        = "Host and label are mutually exclusive"
	msgCountMin            = "num/count must be >= 1"
	msgCountPerHostMin     = "count-per-host must be >= 1"
	msgCountPerHostAlone   = "count-per-host must be combined with label or hosts or host_pattern"
	msgCountAndPerHost     = "cannot combine count and count-per-host"
	msgCountPerHostNetName = "count-per-host cannot be combined explicit placement with names or networks"
	msgPatternAndHosts     = "cannot combine host patterns and hosts"
)

// ParsePlacement parses cephadm's placement string grammar
// (PlacementSpec.from_string) and validates the result.
//
// The string is split on spaces if it holds one, else on ';', else on ','
// unless it holds a '[' (so addrvecs survive), else it is one token. A
// leading integer token is the count; the first "count:N" and the first
// "count-per-host:N" tokens follow. Tokens that contain ':' or '=', or none
// of "[]?*:=", and neither "label:" nor "regex:", are hosts
// (host[:network][=name], networks not checked). One "label:L" token and
// one host pattern ("regex:RE" or an fnmatch pattern) may remain. An empty
// string is the empty placement.
func ParsePlacement(s string) (PlacementSpec, error) {
	var tokens []string
	switch {
	case s == "":
	case strings.Contains(s, " "):
		tokens = strings.Split(s, " ")
	case strings.Contains(s, ";"):
		tokens = strings.Split(s, ";")
	case strings.Contains(s, ",") && !strings.Contains(s, "["):
		tokens = strings.Split(s, ",")
	default:
		tokens = []string{s}
	}

	var p PlacementSpec
	if len(tokens) > 0 {
		n, ok := plParseInt(tokens[0])
		if ok {
			v, err := plBigToInt(n, "num/count")
			if err != nil {
				return PlacementSpec{}, err
			}
			p.Count = &v
			tokens = tokens[1:]
		}
	}
	var err error
	if tokens, p.Count, err = plTakeIntToken(tokens, "count:", "num/count", p.Count); err != nil {
		return PlacementSpec{}, err
	}
	if tokens, p.CountPerHost, err = plTakeIntToken(tokens, "count-per-host:", "count-per-host", nil); err != nil {
		return PlacementSpec{}, err
	}

	var labels, patterns []string
	for _, t := range tokens {
		isHost := (strings.ContainsAny(t, ":=") || !strings.ContainsAny(t, "[]?*:=")) &&
			!strings.Contains(t, "label:") && !strings.Contains(t, "regex:")
		switch {
		case isHost:
			if t == "" {
				continue // set_hosts drops empty entries
			}
			h, _ := ParseHostPlacement(t, false)
			p.Hosts = append(p.Hosts, h)
		case strings.Contains(t, "label:"):
			labels = append(labels, t)
		default:
			patterns = append(patterns, t)
		}
	}
	if len(labels) > 1 {
		return PlacementSpec{}, Invalid("more than one label provided: " + pyRepr(labels))
	}
	if len(labels) == 1 {
		p.Label = plRuneSlice(labels[0], len("label:"))
	}
	if len(patterns) > 1 {
		return PlacementSpec{}, Invalid("more than one host pattern provided: " + pyRepr(patterns))
	}
	if len(patterns) == 1 {
		p.HostPattern = hostPatternFromPretty(patterns[0])
	}
	if err := p.Validate(); err != nil {
		return PlacementSpec{}, err
	}
	return p, nil
}

// plTakeIntToken consumes the first token "<prefix>N" whose N parses as an
// int and returns the remaining tokens and N; tokens that do not parse stay.
func plTakeIntToken(tokens []string, prefix, what string, cur *int) ([]string, *int, error) {
	for i, t := range tokens {
		if !strings.HasPrefix(t, prefix) {
			continue
		}
		n, ok := plParseInt(t[len(prefix):])
		if !ok {
			continue
		}
		v, err := plBigToInt(n, what)
		if err != nil {
			return nil, nil, err
		}
		rest := append(append([]string{}, tokens[:i]...), tokens[i+1:]...)
		return rest, &v, nil
	}
	return tokens, cur, nil
}

// plBigToInt narrows a Python int to a Go int. Python accepts any size;
// orch cannot represent counts beyond the int range and says so.
func plBigToInt(n *big.Int, what string) (int, error) {
	if !n.IsInt64() || int64(int(n.Int64())) != n.Int64() {
		return 0, Invalid(fmt.Sprintf("%s must be a numeric value in the range of a 64-bit integer, got %s", what, n.String()))
	}
	return int(n.Int64()), nil
}

// hostPatternFromPretty is HostPattern.from_pretty_str: any token holding
// "regex:" is a regex made of the text after its first six characters;
// everything else is an fnmatch pattern. An empty pattern is no pattern.
func hostPatternFromPretty(tok string) *HostPattern {
	hp := HostPattern{Pattern: tok, Type: PatternFnmatch}
	if strings.Contains(tok, "regex:") {
		hp = HostPattern{Pattern: plRuneSlice(tok, len("regex:")), Type: PatternRegex}
	}
	if hp.Pattern == "" {
		return nil
	}
	return &hp
}

// PrettyStr is pretty_str: the hosts, count:N, count-per-host:N, label:L
// and the pattern (with a "regex:" prefix for regexes), joined by ';'.
// ParsePlacement(p.PrettyStr()) equals p for every placement whose parts
// hold no ';' or ',' and whose first host is not a number (the cases in
// which cephadm's own round trip is ambiguous).
func (p PlacementSpec) PrettyStr() string {
	var kv []string
	if len(p.Hosts) > 0 {
		hs := make([]string, len(p.Hosts))
		for i, h := range p.Hosts {
			hs[i] = h.String()
		}
		kv = append(kv, strings.Join(hs, ";"))
	}
	if p.Count != nil && *p.Count != 0 {
		kv = append(kv, fmt.Sprintf("count:%d", *p.Count))
	}
	if p.CountPerHost != nil && *p.CountPerHost != 0 {
		kv = append(kv, fmt.Sprintf("count-per-host:%d", *p.CountPerHost))
	}
	if p.Label != "" {
		kv = append(kv, "label:"+p.Label)
	}
	if p.hasPattern() {
		kv = append(kv, p.HostPattern.PrettyStr())
	}
	return strings.Join(kv, ";")
}

// PrettyStr is HostPattern.pretty_str: the pattern, prefixed with
// "regex:" for regexes.
func (h HostPattern) PrettyStr() string {
	if h.Type == PatternRegex {
		return "regex:" + h.Pattern
	}
	return h.Pattern
}

// hasPattern is Python's truthiness of PlacementSpec.host_pattern.
func (p PlacementSpec) hasPattern() bool {
	return p.HostPattern != nil && p.HostPattern.Pattern != ""
}

// Validate applies PlacementSpec.validate in cephadm's order: hosts with
// label; count < 1; count_per_host < 1; count_per_host without label, hosts
// or pattern; count with count_per_host; count_per_host with named or
// networked hosts; pattern with hosts; then every host name. A regex
// pattern must compile, which cephadm checks when the pattern is built.
func (p PlacementSpec) Validate() error {
	if p.hasPattern() {
		if err := p.HostPattern.validate(); err != nil {
			return err
		}
	}
	return placementCheck{p: p, countSet: p.Count != nil, perHostSet: p.CountPerHost != nil}.run()
}

// validate checks the pattern type and that a regex compiles.
func (h HostPattern) validate() error {
	switch h.Type {
	case PatternFnmatch, "":
		return nil
	case PatternRegex:
		if _, err := regexp.Compile(h.Pattern); err != nil {
			return &ValidationError{Kind: "re.error", Msg: strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
		}
		return nil
	}
	return Invalid(fmt.Sprintf("Got unexpected pattern_type: %s", h.Type))
}

// placementCheck is one run of PlacementSpec.validate. Values decoded from
// JSON may fail their integer conversion; those errors are reported at
// the point where cephadm converts them.
type placementCheck struct {
	p                    PlacementSpec
	countSet, perHostSet bool
	countErr, perHostErr error
	hostErrs             []error // per host, a deferred hostname type error
}

func (c placementCheck) run() error {
	p := c.p
	hasHosts, hasLabel := len(p.Hosts) > 0, p.Label != ""
	if hasHosts && hasLabel {
		return Invalid(msgHostAndLabel)
	}
	if c.countSet {
		if c.countErr != nil {
			return c.countErr
		}
		if *p.Count < 1 {
			return Invalid(msgCountMin)
		}
	}
	if c.perHostSet {
		if c.perHostErr != nil {
			return c.perHostErr
		}
		if *p.CountPerHost < 1 {
			return Invalid(msgCountPerHostMin)
		}
	}
	if c.perHostSet && !(hasLabel || hasHosts || p.hasPattern()) {
		return Invalid(msgCountPerHostAlone)
	}
	if c.countSet && c.perHostSet {
		return Invalid(msgCountAndPerHost)
	}
	if c.perHostSet && hasHosts {
		for _, h := range p.Hosts {
			if h.Network != "" || h.Name != "" {
				return Invalid(msgCountPerHostNetName)
			}
		}
	}
	if p.hasPattern() && hasHosts {
		return Invalid(msgPatternAndHosts)
	}
	for i, h := range p.Hosts {
		if i < len(c.hostErrs) && c.hostErrs[i] != nil {
			return c.hostErrs[i]
		}
		if err := h.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Equal is PlacementSpec.__eq__: label, hosts (in order), count, pattern
// and count_per_host all equal.
func (p PlacementSpec) Equal(o PlacementSpec) bool {
	if p.Label != o.Label || !plIntPtrEqual(p.Count, o.Count) || !plIntPtrEqual(p.CountPerHost, o.CountPerHost) {
		return false
	}
	if len(p.Hosts) != len(o.Hosts) {
		return false
	}
	for i := range p.Hosts {
		if p.Hosts[i] != o.Hosts[i] {
			return false
		}
	}
	if p.hasPattern() != o.hasPattern() {
		return false
	}
	if !p.hasPattern() {
		return true
	}
	return p.HostPattern.Pattern == o.HostPattern.Pattern && p.HostPattern.normType() == o.HostPattern.normType()
}

// normType treats an unset type as fnmatch, cephadm's default.
func (h HostPattern) normType() PatternType {
	if h.Type == "" {
		return PatternFnmatch
	}
	return h.Type
}

func plIntPtrEqual(a, b *int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// ToJSON is PlacementSpec.to_json: only set (truthy) keys among count,
// count_per_host, label, hosts (as "host[:network][=name]" strings) and
// host_pattern (the pattern string for fnmatch, or
// {"pattern": P, "pattern_type": "regex"}).
func (p PlacementSpec) ToJSON() map[string]any {
	r := map[string]any{}
	if p.Label != "" {
		r["label"] = p.Label
	}
	if len(p.Hosts) > 0 {
		hs := make([]string, len(p.Hosts))
		for i, h := range p.Hosts {
			hs[i] = h.String()
		}
		r["hosts"] = hs
	}
	if p.Count != nil && *p.Count != 0 {
		r["count"] = *p.Count
	}
	if p.CountPerHost != nil && *p.CountPerHost != 0 {
		r["count_per_host"] = *p.CountPerHost
	}
	if p.hasPattern() {
		r["host_pattern"] = p.HostPattern.ToJSON()
	}
	return r
}

// ToJSON is HostPattern.to_json: a plain string for fnmatch, a mapping
// for other pattern types.
func (h HostPattern) ToJSON() any {
	if h.normType() != PatternFnmatch {
		return map[string]any{"pattern": h.Pattern, "pattern_type": string(h.Type)}
	}
	return h.Pattern
}

// FilterMatchingHostspecs is filter_matching_hostspecs: with explicit
// hosts, those of them that are in hosts (in placement order); otherwise
// the hosts carrying the label (all hosts without one), narrowed by the
// host pattern when there is one.
func (p PlacementSpec) FilterMatchingHostspecs(hosts []HostSpec) []string {
	if len(p.Hosts) > 0 {
		known := make(map[string]bool, len(hosts))
		for _, h := range hosts {
			known[h.Hostname] = true
		}
		out := []string{}
		for _, h := range p.Hosts {
			if known[h.Hostname] {
				out = append(out, h.Hostname)
			}
		}
		return out
	}
	out := []string{}
	for _, h := range hosts {
		if p.Label == "" || h.HasLabel(p.Label) {
			out = append(out, h.Hostname)
		}
	}
	if !p.hasPattern() {
		return out
	}
	re, err := p.HostPattern.Compile()
	if err != nil {
		return []string{} // cephadm refuses such a pattern when it is built
	}
	matched := []string{}
	for _, h := range out {
		if re.MatchString(h) {
			matched = append(matched, h)
		}
	}
	return matched
}

// TargetCount is get_target_count: count when set, else the number of
// matching hosts times count_per_host (1 when unset).
func (p PlacementSpec) TargetCount(hosts []HostSpec) int {
	if p.Count != nil && *p.Count != 0 {
		return *p.Count
	}
	per := 1
	if p.CountPerHost != nil && *p.CountPerHost != 0 {
		per = *p.CountPerHost
	}
	return len(p.FilterMatchingHostspecs(hosts)) * per
}
