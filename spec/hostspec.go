package spec

import (
	"fmt"
	"maps"
	"slices"
	"sort"
)

// HostSpec is cephadm's HostSpec: a host of the cluster as stored in the
// inventory and as written in a "service_type: host" document.
type HostSpec struct {
	// Hostname is the bare host name (not the FQDN).
	Hostname string
	// Addr is the DNS name or IP used to reach the host; it defaults to
	// Hostname.
	Addr string
	// Labels are unique, in first-seen order.
	Labels []string
	// Location is the CRUSH location (e.g. rack: r1); nil when unset.
	Location map[string]string
	// Status is "" or a human readable state such as "maintenance" or
	// "offline".
	Status string
	// Oob holds out-of-band management details (node-proxy): addr, port,
	// username, password; nil when unset.
	Oob map[string]string
}

// HasLabel reports whether the host carries label.
func (h HostSpec) HasLabel(label string) bool { return slices.Contains(h.Labels, label) }

// HostSpecFromJSON is HostSpec.from_json (with normalize_json) followed
// by validation. labels may be a string or a list of strings (duplicates
// removed); location must map strings to strings; a missing addr is the
// host name. Unknown keys such as service_type are ignored.
//
// Messages are cephadm's: "Labels (124) must be a string or list of
// strings", "Location (rack=bar) must be a dictionary of strings to
// strings", the assert_valid_host messages of ValidateHostname, and
// "'hostname'" (Python's KeyError) when the host name is missing.
func HostSpecFromJSON(m map[string]any) (HostSpec, error) {
	var h HostSpec
	if labels, ok := m["labels"]; ok && labels != nil {
		switch x := labels.(type) {
		case string:
			h.Labels = []string{x}
		case []string:
			h.Labels = plUniqueStrings(x)
		case []any:
			strs := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return HostSpec{}, Invalid(fmt.Sprintf("Labels (%s) must be a string or list of strings", pyStr(labels)))
				}
				strs = append(strs, s)
			}
			h.Labels = plUniqueStrings(strs)
		default:
			return HostSpec{}, Invalid(fmt.Sprintf("Labels (%s) must be a string or list of strings", pyStr(labels)))
		}
	}
	if loc, ok := m["location"]; ok && loc != nil {
		l, ok := plStringMap(loc)
		if !ok {
			return HostSpec{}, Invalid(fmt.Sprintf("Location (%s) must be a dictionary of strings to strings", pyStr(loc)))
		}
		h.Location = l
	}

	raw, ok := m["hostname"]
	if !ok {
		return HostSpec{}, &ValidationError{Kind: "KeyError", Msg: "'hostname'"}
	}
	switch x := raw.(type) {
	case string:
		h.Hostname = x
	case []any, []string, map[string]any, map[any]any:
		return HostSpec{}, &ValidationError{Kind: "AttributeError",
			Msg: fmt.Sprintf("'%s' object has no attribute 'split'", pyTypeName(raw))}
	default:
		return HostSpec{}, &ValidationError{Kind: "TypeError",
			Msg: fmt.Sprintf("object of type '%s' has no len()", pyTypeName(raw))}
	}

	h.Addr = h.Hostname
	if addr := m["addr"]; pyTruthy(addr) {
		s, err := plScalarString("addr", addr)
		if err != nil {
			return HostSpec{}, err
		}
		h.Addr = s
	}
	if status := m["status"]; pyTruthy(status) {
		s, err := plScalarString("status", status)
		if err != nil {
			return HostSpec{}, err
		}
		h.Status = s
	}
	if oob := m["oob"]; pyTruthy(oob) {
		om, ok := plMapping(oob)
		if !ok || om.badKey {
			return HostSpec{}, Invalid(fmt.Sprintf("oob (%s) must be a dictionary", pyStr(oob)))
		}
		h.Oob = map[string]string{}
		for _, k := range om.keys {
			s, err := plScalarString("oob."+k, om.vals[k])
			if err != nil {
				return HostSpec{}, err
			}
			h.Oob[k] = s
		}
	}
	if err := h.Validate(); err != nil {
		return HostSpec{}, err
	}
	return h, nil
}

// Validate is HostSpec.validate: the host name must be valid and oob, when
// set, must name a username and a password.
func (h HostSpec) Validate() error {
	if err := ValidateHostname(h.Hostname); err != nil {
		return err
	}
	if len(h.Oob) > 0 {
		for _, f := range []string{"username", "password"} {
			if _, ok := h.Oob[f]; !ok {
				// cephadm raises a bare assertion here, with an empty message.
				return Invalid(fmt.Sprintf("oob is missing the %s field", f))
			}
		}
	}
	return nil
}

// ToJSON is HostSpec.to_json: hostname, addr, labels (unique, never nil)
// and status, plus location and oob when set.
func (h HostSpec) ToJSON() map[string]any {
	r := map[string]any{
		"hostname": h.Hostname,
		"addr":     h.Addr,
		"labels":   plUniqueStrings(h.Labels),
		"status":   h.Status,
	}
	if len(h.Location) > 0 {
		r["location"] = maps.Clone(h.Location)
	}
	if len(h.Oob) > 0 {
		r["oob"] = maps.Clone(h.Oob)
	}
	return r
}

// Equal is HostSpec.__eq__: hostname, addr, labels (as sorted lists) and
// location; status is ignored because it is still the same host.
func (h HostSpec) Equal(o HostSpec) bool {
	if h.Hostname != o.Hostname || h.Addr != o.Addr {
		return false
	}
	a, b := slices.Clone(h.Labels), slices.Clone(o.Labels)
	sort.Strings(a)
	sort.Strings(b)
	if !slices.Equal(a, b) {
		return false
	}
	if (h.Location == nil) != (o.Location == nil) {
		return false
	}
	return maps.Equal(h.Location, o.Location)
}

// plUniqueStrings drops repeated strings, keeping first occurrences, and
// never returns nil (cephadm emits an empty list).
func plUniqueStrings(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// plStringMap accepts a decoded mapping whose keys and values are all
// strings.
func plStringMap(v any) (map[string]string, bool) {
	out := map[string]string{}
	switch x := v.(type) {
	case map[string]string:
		return maps.Clone(x), true
	case map[string]any:
		for k, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[k] = s
		}
		return out, true
	case map[any]any:
		for k, e := range x {
			ks, ok := k.(string)
			s, ok2 := e.(string)
			if !ok || !ok2 {
				return nil, false
			}
			out[ks] = s
		}
		return out, true
	}
	return nil, false
}

// plScalarString renders a scalar as Python's str() would; cephadm keeps
// such values untyped, orch stores them as strings.
func plScalarString(field string, v any) (string, error) {
	switch v.(type) {
	case []any, []string, map[string]any, map[any]any, map[string]string:
		return "", Invalid(fmt.Sprintf("%s (%s) must be a string", field, pyStr(v)))
	}
	return pyStr(v), nil
}
