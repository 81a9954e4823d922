package spec

import (
	"fmt"
	"sort"
	"strings"
)

// String renders the entry as cephadm does: host[:network][=name].
func (h HostPlacementSpec) String() string {
	s := h.Hostname
	if h.Network != "" {
		s += ":" + h.Network
	}
	if h.Name != "" {
		s += "=" + h.Name
	}
	return s
}

// Validate checks the host name (HostPlacementSpec.validate).
func (h HostPlacementSpec) Validate() error { return ValidateHostname(h.Hostname) }

// ParseHostPlacement splits "host[:network][=name]" the way
// HostPlacementSpec.parse does. The network may be an IP address, a CIDR
// or a ceph addrvec such as "[v2:1.2.3.4:3300,v1:1.2.3.4:6789]".
//
// With requireNetwork false (PlacementSpec.from_string and hosts given to
// the constructor) nothing is validated. With requireNetwork true (the
// default in cephadm, used by PlacementSpec.from_json) every network part
// must be a valid address or strict network — otherwise a Python
// ValueError message such as "'foo' does not appear to be an IPv4 or IPv6
// address" or "1.1.1.1/24 has host bits set" — and the host name must pass
// ValidateHostname.
func ParseHostPlacement(s string, requireNetwork bool) (HostPlacementSpec, error) {
	h := HostPlacementSpec{
		Hostname: plMatchHostname(s),
		Network:  plMatchNetwork(s),
		Name:     plMatchName(s),
	}
	if !requireNetwork {
		return h, nil
	}
	if err := plValidateNetworks(h.Network); err != nil {
		return HostPlacementSpec{}, err
	}
	if err := h.Validate(); err != nil {
		return HostPlacementSpec{}, err
	}
	return h, nil
}

// plDollarAt reports whether Python's `$` (no MULTILINE) matches at i: at
// the end of s or just before a newline that ends s.
func plDollarAt(s string, i int) bool {
	return i == len(s) || i == len(s)-1 && s[i] == '\n'
}

// plMatchHostname is group 1 of re.search(r'^(.*?)(:|=|$)', s), or "".
func plMatchHostname(s string) string {
	for i := 0; ; i++ {
		if i < len(s) && (s[i] == ':' || s[i] == '=') || plDollarAt(s, i) {
			return s[:i]
		}
		if s[i] == '\n' { // '.' does not match a newline
			return ""
		}
	}
}

// plMatchNetwork is group 1 of re.search(r':(.*?)(=|$)', s), or "".
func plMatchNetwork(s string) string {
	for p := 0; p < len(s); p++ {
		if s[p] != ':' {
			continue
		}
		for j := p + 1; ; j++ {
			if j < len(s) && s[j] == '=' || plDollarAt(s, j) {
				return s[p+1 : j]
			}
			if s[j] == '\n' {
				break
			}
		}
	}
	return ""
}

// plMatchName is group 1 of re.search(r'=(.*?)$', s), or "".
func plMatchName(s string) string {
	for p := 0; p < len(s); p++ {
		if s[p] != '=' {
			continue
		}
		for j := p + 1; ; j++ {
			if plDollarAt(s, j) {
				return s[p+1 : j]
			}
			if s[j] == '\n' {
				break
			}
		}
	}
	return ""
}

// plValidateNetworks checks the network part of a host entry as
// HostPlacementSpec.parse does with require_network=True.
func plValidateNetworks(network string) error {
	var networks []string
	if strings.Contains(network, ",") {
		networks = strings.Split(network, ",")
	} else if network != "" {
		networks = []string{network}
	}
	for _, n := range networks {
		// Versioned addrvec parts: keep what lies between the first and
		// the last ':' so that IPv6 addresses survive.
		if strings.HasPrefix(n, "v") || strings.HasPrefix(n, "[v") {
			i := strings.IndexByte(n, ':')
			if i < 0 {
				return &ValidationError{Kind: "IndexError", Msg: "list index out of range"}
			}
			n = n[i+1:]
			if j := strings.LastIndexByte(n, ':'); j >= 0 {
				n = n[:j]
			}
		}
		var err error
		if strings.Contains(n, "/") {
			err = plIPNetwork(n)
		} else {
			err = plIPAddress(plUnwrapIPv6(n))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// hostPlacementFromJSON is HostPlacementSpec.from_json: a string is parsed
// with network validation; a mapping must have exactly the keys hostname,
// network and name. The hostname of a mapping is checked later, by
// PlacementSpec validation, so a type problem with it is returned in
// deferred rather than as an error.
func hostPlacementFromJSON(v any) (h HostPlacementSpec, deferred error, err error) {
	wrap := func(msg string) error { return Invalid("HostPlacementSpec: " + msg) }
	if s, ok := v.(string); ok {
		h, err = ParseHostPlacement(s, true)
		return h, nil, err
	}
	m, ok := plMapping(v)
	if !ok {
		return h, nil, wrap(fmt.Sprintf(
			"ceph.deployment.service_spec.HostPlacementSpec() argument after ** must be a mapping, not %s",
			pyTypeName(v)))
	}
	if m.badKey {
		return h, nil, wrap("keywords must be strings")
	}
	fields := []string{"hostname", "network", "name"}
	for _, k := range m.keys {
		known := false
		for _, f := range fields {
			known = known || k == f
		}
		if !known {
			return h, nil, wrap(fmt.Sprintf("__new__() got an unexpected keyword argument '%s'", k))
		}
	}
	var missing []string
	for _, f := range fields {
		if _, ok := m.vals[f]; !ok {
			missing = append(missing, "'"+f+"'")
		}
	}
	if len(missing) > 0 {
		return h, nil, wrap(fmt.Sprintf("__new__() missing %d required positional argument%s: %s",
			len(missing), map[bool]string{true: "", false: "s"}[len(missing) == 1], plJoinEnglish(missing)))
	}
	str := func(field string) (string, error) {
		switch x := m.vals[field].(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		}
		return "", wrap(fmt.Sprintf("%s must be a string, not %s", field, pyTypeName(m.vals[field])))
	}
	if h.Network, err = str("network"); err != nil {
		return HostPlacementSpec{}, nil, err
	}
	if h.Name, err = str("name"); err != nil {
		return HostPlacementSpec{}, nil, err
	}
	switch x := m.vals["hostname"].(type) {
	case string:
		h.Hostname = x
	case []any, []string, map[string]any, map[any]any:
		deferred = Invalid(fmt.Sprintf("PlacementSpec: '%s' object has no attribute 'split'", pyTypeName(x)))
	default:
		deferred = Invalid(fmt.Sprintf("PlacementSpec: object of type '%s' has no len()", pyTypeName(x)))
	}
	return h, deferred, nil
}

// plJoinEnglish joins names the way CPython lists missing arguments:
// "'a'", "'a' and 'b'", "'a', 'b', and 'c'".
func plJoinEnglish(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

// plMap is a decoded mapping with string keys in a deterministic order.
type plMap struct {
	keys   []string
	vals   map[string]any
	badKey bool // some key is not a string
}

// plMapping converts a decoded YAML/JSON mapping. Key order is lost by the
// decoder, so keys are sorted.
func plMapping(v any) (plMap, bool) {
	m := plMap{vals: map[string]any{}}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			m.keys = append(m.keys, k)
			m.vals[k] = e
		}
	case map[string]string:
		for k, e := range x {
			m.keys = append(m.keys, k)
			m.vals[k] = e
		}
	case map[any]any:
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				m.badKey = true
				continue
			}
			m.keys = append(m.keys, ks)
			m.vals[ks] = e
		}
	default:
		return m, false
	}
	sort.Strings(m.keys)
	return m, true
}
