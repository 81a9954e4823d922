package spec

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// Document is one spec document of an input stream: a service spec or,
// for `service_type: host`, a host spec. Exactly one field is set.
type Document struct {
	Service *ServiceSpec
	Host    *HostSpec
}

// Name is the service name, or "host.<hostname>" for a host spec.
func (d Document) Name() string {
	if d.Host != nil {
		return "host." + d.Host.Hostname
	}
	return d.Service.ServiceName()
}

// ToJSON returns the document in cephadm's to_json shape: ServiceSpec's
// ordered form, or for hosts {service_type: host, hostname, addr, labels,
// status[, location][, oob]}.
func (d Document) ToJSON() *Map {
	if d.Service != nil {
		return d.Service.ToJSON()
	}
	return hostToJSON(*d.Host)
}

func hostToJSON(h HostSpec) *Map {
	in := h.ToJSON()
	out := NewMap()
	out.Set("service_type", "host")
	for _, k := range []string{"hostname", "addr", "labels", "status", "location", "oob"} {
		if v, ok := in[k]; ok {
			out.Set(k, fromGo(v))
		}
	}
	var rest []string
	for k := range in {
		if !out.Has(k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out.Set(k, fromGo(in[k]))
	}
	return out
}

// ErrNoDocuments is returned by LoadDocuments for input without any
// (non-empty) document.
var ErrNoDocuments = Invalid("no service specs found in input")

// LoadDocuments reads a YAML stream (documents separated by "---", empty
// documents skipped) or a JSON object or array of objects, and returns
// one validated Document per spec in input order. Both of cephadm's spec
// styles are accepted; a top-level list contributes each of its items.
// The first invalid document stops loading with a *ValidationError
// carrying cephadm's message. Input is bounded by MaxInputSize.
func LoadDocuments(data []byte) ([]Document, error) {
	if len(data) > MaxInputSize {
		return nil, Invalid(fmt.Sprintf("input is too large: %d bytes (limit %d)", len(data), MaxInputSize))
	}
	if !utf8.Valid(data) {
		return nil, Invalid("input is not valid UTF-8")
	}
	var raw []any
	parsed := false
	if looksLikeJSON(data) {
		v, ok, err := parseJSON(data)
		if err != nil {
			return nil, err
		}
		if ok {
			raw, parsed = []any{v}, true
		}
	}
	if !parsed {
		var err error
		if raw, err = parseYAMLStream(data); err != nil {
			return nil, err
		}
	}
	var docs []Document
	for _, r := range raw {
		items := []any{r}
		if l, ok := r.([]any); ok {
			items = l
		}
		for _, it := range items {
			if it == nil {
				continue
			}
			d, err := documentFromValue(it)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return nil, ErrNoDocuments
	}
	return docs, nil
}

// documentFromValue dispatches on service_type as cephadm's
// json_to_generic_spec does.
func documentFromValue(v any) (Document, error) {
	if m, ok := v.(*Map); ok {
		if st, _ := m.Get("service_type"); st == "host" {
			h, err := hostFromValue(m)
			if err != nil {
				return Document{}, err
			}
			return Document{Host: &h}, nil
		}
	}
	s, err := serviceSpecFromValue(v)
	if err != nil {
		return Document{}, err
	}
	return Document{Service: s}, nil
}

func hostFromValue(m *Map) (HostSpec, error) {
	for _, k := range m.Keys() {
		if _, ok := k.(string); !ok {
			return HostSpec{}, Invalid(fmt.Sprintf("HostSpec: keywords must be strings, got %s", pyRepr(k)))
		}
	}
	g, _ := toGoValue(m).(map[string]any)
	return HostSpecFromJSON(g)
}
