package spec

import (
	"fmt"
	"math"
	"sort"
)

// placementKeys are PlacementSpec's constructor arguments, the only keys
// a placement mapping may hold.
var placementKeys = map[string]bool{
	"label": true, "hosts": true, "count": true, "count_per_host": true, "host_pattern": true,
}

// PlacementFromJSON is PlacementSpec.from_json followed by validation. v is
// a decoded YAML/JSON value. Errors follow cephadm's order: the host
// entries (strings are parsed with network validation, mappings need
// exactly hostname, network and name), unknown keys, the host pattern
// (a string, or {pattern, pattern_type} with pattern_type fnmatch or
// regex), then Validate's checks. count and count_per_host follow Python's
// int(): 3 and 3.0 and true are accepted; "4" and 7.36 are "must be an
// integer value"; "fifteen" or a list is "must be a numeric value".
//
// Messages that cephadm builds from Python exceptions keep their text,
// e.g. "PlacementSpec: __init__() got an unexpected keyword argument 'foo'"
// and, for a nil or non-mapping v, "PlacementSpec: 'str' object has no
// attribute 'copy'". Mapping keys are visited in sorted order.
func PlacementFromJSON(v any) (PlacementSpec, error) {
	wrap := func(msg string) error { return Invalid("PlacementSpec: " + msg) }
	switch v.(type) {
	case []any, []string:
		return PlacementSpec{}, wrap("'list' object has no attribute 'get'")
	}
	m, ok := plMapping(v)
	if !ok {
		return PlacementSpec{}, wrap(fmt.Sprintf("'%s' object has no attribute 'copy'", pyTypeName(v)))
	}

	var p PlacementSpec
	c := placementCheck{}
	if hosts := m.vals["hosts"]; pyTruthy(hosts) {
		items, err := plIterate(hosts)
		if err != nil {
			return PlacementSpec{}, wrap(err.Error())
		}
		for _, item := range items {
			h, deferred, err := hostPlacementFromJSON(item)
			if err != nil {
				return PlacementSpec{}, err
			}
			p.Hosts = append(p.Hosts, h)
			c.hostErrs = append(c.hostErrs, deferred)
		}
	}

	if m.badKey {
		return PlacementSpec{}, wrap("keywords must be strings")
	}
	for _, k := range m.keys {
		if !placementKeys[k] {
			return PlacementSpec{}, wrap(fmt.Sprintf("__init__() got an unexpected keyword argument '%s'", k))
		}
	}

	label := m.vals["label"]
	if pyTruthy(label) {
		switch label.(type) {
		case []any, []string, map[string]any, map[any]any:
			return PlacementSpec{}, wrap(fmt.Sprintf("label must be a string, not %s", pyTypeName(label)))
		}
		p.Label = pyStr(label)
	}

	if raw, ok := m.vals["count"]; ok && raw != nil {
		c.countSet = true
		p.Count, c.countErr = plCountFromJSON(raw, "num/count")
	}
	if raw, ok := m.vals["count_per_host"]; ok && raw != nil {
		c.perHostSet = true
		p.CountPerHost, c.perHostErr = plCountFromJSON(raw, "count-per-host")
	}

	hp, err := hostPatternFromJSON(m.vals["host_pattern"])
	if err != nil {
		return PlacementSpec{}, err
	}
	p.HostPattern = hp

	c.p = p
	if err := c.run(); err != nil {
		return PlacementSpec{}, err
	}
	return p, nil
}

// plIterate is Python's iteration over a truthy value: the items of a
// list, the characters of a string, the keys of a mapping.
func plIterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	case string:
		var out []any
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case map[any]any:
		var out []any
		for k := range x {
			out = append(out, k)
		}
		sort.Slice(out, func(i, j int) bool { return pyRepr(out[i]) < pyRepr(out[j]) })
		return out, nil
	}
	if m, ok := plMapping(v); ok {
		out := make([]any, len(m.keys))
		for i, k := range m.keys {
			out[i] = k
		}
		return out, nil
	}
	return nil, fmt.Errorf("'%s' object is not iterable", pyTypeName(v))
}

// plCountFromJSON converts a decoded count the way PlacementSpec.validate
// checks it: int(v) must succeed ("<what> must be a numeric value") and
// equal v ("<what> must be an integer value"). The range check (>= 1) is
// left to the caller's validation order.
func plCountFromJSON(v any, what string) (*int, error) {
	numeric := Invalid(what + " must be a numeric value")
	integer := Invalid(what + " must be an integer value")
	switch x := v.(type) {
	case bool:
		n := 0
		if x {
			n = 1
		}
		return &n, nil
	case string:
		if _, ok := plParseInt(x); ok {
			return nil, integer
		}
		return nil, numeric
	case float32:
		return plCountFromFloat(float64(x), numeric, integer, what)
	case float64:
		return plCountFromFloat(x, numeric, integer, what)
	}
	if b, ok := pyAsBigInt(v); ok {
		n, err := plBigToInt(b, what)
		if err != nil {
			return nil, err
		}
		return &n, nil
	}
	return nil, numeric
}

func plCountFromFloat(f float64, numeric, integer error, what string) (*int, error) {
	if math.IsNaN(f) {
		return nil, numeric
	}
	if math.IsInf(f, 0) {
		return nil, &ValidationError{Kind: "OverflowError", Msg: "cannot convert float infinity to integer"}
	}
	if f != math.Trunc(f) {
		return nil, integer
	}
	if f < math.MinInt64 || f >= math.MaxInt64 {
		return nil, Invalid(fmt.Sprintf("%s must be a numeric value in the range of a 64-bit integer, got %s", what, pyFloatRepr(f)))
	}
	n := int(f)
	return &n, nil
}

// hostPatternFromJSON is HostPattern.to_host_pattern for a decoded value:
// nil or "" is no pattern, a string is fnmatch, a mapping needs a
// non-empty string "pattern" and an optional "pattern_type".
func hostPatternFromJSON(v any) (*HostPattern, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return &HostPattern{Pattern: x, Type: PatternFnmatch}, nil
	}
	m, ok := plMapping(v)
	if !ok {
		return nil, Invalid(fmt.Sprintf("Cannot convert <class '%s'> object to HostPattern", pyTypeName(v)))
	}
	pattern, ok := m.vals["pattern"]
	if !ok {
		return nil, Invalid("Got dict for host pattern with no pattern field: " + pyRepr(v))
	}
	if !pyTruthy(pattern) {
		// cephadm's message lacks the space between "pattern" and "with".
		return nil, Invalid("Got dict for host patternwith empty pattern: " + pyRepr(v))
	}
	ps, ok := pattern.(string)
	if !ok {
		return nil, &ValidationError{Kind: "AssertionError",
			Msg: fmt.Sprintf("host_pattern pattern must be a string, not %s", pyTypeName(pattern))}
	}
	hp := HostPattern{Pattern: ps, Type: PatternFnmatch}
	if pt, ok := m.vals["pattern_type"]; ok && pyTruthy(pt) {
		switch pt {
		case "fnmatch":
		case "regex":
			hp.Type = PatternRegex
			if err := hp.validate(); err != nil {
				return nil, err
			}
		default:
			return nil, Invalid("Got dict for host pattern with unknown pattern type: " + pyRepr(v))
		}
	}
	return &hp, nil
}
