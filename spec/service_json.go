package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// ServiceSpecFromJSON is cephadm's ServiceSpec.from_json followed by
// validate(): m is a decoded YAML/JSON object in either the "new" style
// (type fields under spec:) or the "old" flat style.
func ServiceSpecFromJSON(m map[string]any) (*ServiceSpec, error) {
	return serviceSpecFromValue(fromGo(m))
}

func pyClass(v any) string { return "<class '" + pyTypeName(v) + "'>" }

func unknownServiceType(t any) error {
	return Invalid(fmt.Sprintf("Unknown service type %s; known types: %s", pyRepr(t), strings.Join(KnownServiceTypes, ", ")))
}

// serviceSpecFromValue implements from_json for a Python value.
func serviceSpecFromValue(v any) (*ServiceSpec, error) {
	m, ok := v.(*Map)
	if !ok {
		return nil, Invalid(fmt.Sprintf(`Service Spec is not an (JSON or YAML) object. got "%s"`, pyStr(v)))
	}
	c := m.Copy()
	if nw, ok := c.Get("networks"); ok && nw != nil {
		switch nw.(type) {
		case []any:
		case string:
			c.Set("networks", []any{nw})
		default:
			return nil, Invalid(fmt.Sprintf("Networks (%s) must be a string or list of strings", pyStr(nw)))
		}
	}
	if sn, ok := c.Get("service_name"); ok && pyTruthy(sn) {
		str, ok := sn.(string)
		if !ok {
			return nil, Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'split'", pyTypeName(sn)))
		}
		parts := strings.SplitN(str, ".", 2)
		if st, _ := c.Get("service_type"); !pyTruthy(st) {
			c.Set("service_type", parts[0])
		}
		if id, _ := c.Get("service_id"); !pyTruthy(id) && len(parts) > 1 {
			c.Set("service_id", parts[1])
		}
		c.Delete("service_name")
	}
	stv, _ := c.Get("service_type")
	if !pyTruthy(stv) {
		return nil, Invalid(`Spec needs a "service_type" key.`)
	}
	st, ok := stv.(string)
	if !ok || !IsKnownServiceType(st) {
		return nil, unknownServiceType(stv)
	}
	c.Delete("status")
	cls := classFor(st)
	switch st {
	case "osd":
		if err := osdPrepare(c); err != nil {
			return nil, err
		}
	case "snmp-gateway":
		if err := checkSNMPEnums(c); err != nil {
			return nil, err
		}
		if sp, ok := c.Get("spec"); ok {
			if sm, ok := sp.(*Map); ok {
				if err := checkSNMPEnums(sm); err != nil {
					return nil, err
				}
			}
		}
	}
	args := NewMap()
	var err error
	c.Each(func(k, v any) {
		if err != nil {
			return
		}
		switch k {
		case "placement":
			var p PlacementSpec
			if p, err = PlacementFromJSON(toGoValue(v)); err == nil {
				args.Set(k, p)
			}
		case "custom_configs":
			var cc []CustomConfig
			if cc, err = customConfigsFromJSON(v); err == nil {
				args.Set(k, cc)
			}
		case "spec":
			if v == nil {
				// `spec:` with only comments under it (as in cephadm's
				// documentation) means no type-specific fields.
				return
			}
			sm, ok := v.(*Map)
			if !ok {
				if v == nil || pyTypeName(v) != "list" && pyTypeName(v) != "str" {
					err = Invalid(fmt.Sprintf("ServiceSpec: '%s' object is not iterable", pyTypeName(v)))
				} else {
					err = Invalid(fmt.Sprintf("ServiceSpec: spec must be a mapping, got '%s'", pyTypeName(v)))
				}
				return
			}
			sm.Each(func(k, v any) { args.Set(k, v) })
		default:
			args.Set(k, v)
		}
	})
	if err != nil {
		return nil, err
	}
	s, err := construct(cls, st, args)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// construct is the spec class's constructor applied to keyword args.
func construct(cls *specClass, st string, args *Map) (*ServiceSpec, error) {
	for _, k := range args.Keys() {
		if _, ok := k.(string); !ok {
			return nil, Invalid("ServiceSpec: keywords must be strings")
		}
	}
	for _, k := range args.Keys() {
		if !cls.accepts(k.(string)) {
			return nil, Invalid(fmt.Sprintf("ServiceSpec: %s.__init__() got an unexpected keyword argument '%s'", cls.name, k))
		}
	}
	get := func(k string) any { v, _ := args.Get(k); return v }

	if st == "rgw" && !pyTruthy(get("service_id")) && pyTruthy(get("rgw_realm")) && pyTruthy(get("rgw_zone")) {
		realm, ok1 := get("rgw_realm").(string)
		zone, ok2 := get("rgw_zone").(string)
		if !ok1 || !ok2 {
			return nil, Invalid("ServiceSpec: rgw_realm and rgw_zone must be strings")
		}
		args.Set("service_id", realm+"."+zone)
	}

	s := &ServiceSpec{ServiceType: st, class: cls, attrs: NewMap()}
	if p, ok := get("placement").(PlacementSpec); ok {
		s.Placement = p
	} else if pv := get("placement"); pv != nil {
		p, err := PlacementFromJSON(toGoValue(pv))
		if err != nil {
			return nil, err
		}
		s.Placement = p
	}
	if keepsServiceID(st) {
		switch id := get("service_id").(type) {
		case nil:
		case string:
			s.ServiceID, s.idSet = id, true
		case int64:
			s.ServiceID, s.idSet = strconv.FormatInt(id, 10), true
		default:
			return nil, Invalid(fmt.Sprintf("ServiceSpec: service_id must be a string, got %s", pyTypeName(id)))
		}
	}
	s.Unmanaged = pyTruthy(get("unmanaged"))
	s.PreviewOnly = pyTruthy(get("preview_only"))
	if nw := get("networks"); pyTruthy(nw) {
		var list []any
		switch x := nw.(type) {
		case []any:
			list = x
		case string:
			list = []any{x}
		default:
			return nil, Invalid(fmt.Sprintf("Networks (%s) must be a string or list of strings", pyStr(nw)))
		}
		for _, n := range list {
			ns, ok := n.(string)
			if !ok {
				return nil, Invalid(fmt.Sprintf("Cannot parse network %s: %s does not appear to be an IPv4 or IPv6 network", pyStr(n), pyRepr(n)))
			}
			s.Networks = append(s.Networks, ns)
		}
	}
	if cfg := get("config"); pyTruthy(cfg) {
		cm, ok := cfg.(*Map)
		if !ok {
			return nil, Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'items'", pyTypeName(cfg)))
		}
		s.Config = NewMap()
		var err error
		cm.Each(func(k, v any) {
			ks, ok := k.(string)
			if !ok {
				if err == nil {
					err = Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'replace'", pyTypeName(k)))
				}
				return
			}
			s.Config.Set(strings.ReplaceAll(ks, " ", "_"), v)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, k := range []string{"extra_container_args", "extra_entrypoint_args"} {
		v := get(k)
		if !pyTruthy(v) {
			continue
		}
		a, err := argumentsFromJSON(v)
		if err != nil {
			return nil, err
		}
		if k == "extra_container_args" {
			s.ExtraContainerArgs = a
		} else {
			s.ExtraEntrypointArgs = a
		}
	}
	switch cc := get("custom_configs").(type) {
	case []CustomConfig:
		s.CustomConfigs = cc
	case nil:
	default:
		parsed, err := customConfigsFromJSON(cc)
		if err != nil {
			return nil, err
		}
		s.CustomConfigs = parsed
	}
	for _, a := range cls.attrs {
		if v, ok := args.Get(a.name); ok {
			s.attrs.Set(a.name, v)
		} else {
			s.attrs.Set(a.name, a.def())
		}
	}
	if cls.init != nil {
		if err := cls.init(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// argumentsFromJSON is ArgumentSpec.from_general_args.
func argumentsFromJSON(v any) ([]ArgumentSpec, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case string:
		for _, r := range x {
			items = append(items, string(r))
		}
	case *Map:
		items = x.Keys()
	default:
		return nil, Invalid(fmt.Sprintf("ServiceSpec: '%s' object is not iterable", pyTypeName(v)))
	}
	out := make([]ArgumentSpec, 0, len(items))
	for _, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, ArgumentSpec{Argument: x, Split: true, FromString: true})
		case *Map:
			if !x.Has("argument") {
				return nil, Invalid(`ArgumentSpec must have an "argument" field`)
			}
			for _, k := range x.Keys() {
				if k != "argument" && k != "split" {
					return nil, Invalid(fmt.Sprintf("ArgumentSpec got an unknown field %s", pyRepr(k)))
				}
			}
			arg, _ := x.Get("argument")
			as, ok := arg.(string)
			if !ok {
				return nil, Invalid(fmt.Sprintf("ArgumentSpec argument must be a string. Got %s", pyClass(arg)))
			}
			split, _ := x.Get("split")
			out = append(out, ArgumentSpec{Argument: as, Split: pyTruthy(split)})
		default:
			return nil, Invalid(fmt.Sprintf("Unknown type for argument: %s", pyClass(it)))
		}
	}
	return out, nil
}

// customConfigsFromJSON is [CustomConfig.from_json(c) for c in v].
func customConfigsFromJSON(v any) ([]CustomConfig, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, Invalid(fmt.Sprintf("ServiceSpec: custom_configs must be a list, got %s", pyTypeName(v)))
	}
	out := make([]CustomConfig, 0, len(l))
	for _, e := range l {
		m, ok := e.(*Map)
		if !ok {
			return nil, Invalid(fmt.Sprintf("CustomConfig must be a mapping with \"content\" and \"mount_path\", got %s", pyTypeName(e)))
		}
		for _, k := range []string{"content", "mount_path"} {
			if !m.Has(k) {
				return nil, Invalid(fmt.Sprintf(`CustomConfig must have "%s" field`, k))
			}
		}
		for _, k := range m.Keys() {
			if k != "content" && k != "mount_path" {
				return nil, Invalid(fmt.Sprintf(`CustomConfig got unknown field "%s"`, pyStr(k)))
			}
		}
		content, _ := m.Get("content")
		mount, _ := m.Get("mount_path")
		cs, ok := content.(string)
		if !ok {
			return nil, Invalid(fmt.Sprintf("CustomConfig content must be a string. Got %s", pyClass(content)))
		}
		ms, ok := mount.(string)
		if !ok {
			return nil, Invalid(fmt.Sprintf("CustomConfig content must be a string. Got %s", pyClass(mount)))
		}
		out = append(out, CustomConfig{Content: cs, MountPath: ms})
	}
	return out, nil
}

// NewServiceSpec builds and validates a spec the way `orch apply T
// "PLACEMENT"` does from command-line flags.
func NewServiceSpec(serviceType, serviceID string, placement PlacementSpec, unmanaged bool) (*ServiceSpec, error) {
	if serviceType == "" {
		return nil, Invalid("Cannot add Service: type required")
	}
	if !IsKnownServiceType(serviceType) {
		return nil, unknownServiceType(serviceType)
	}
	if serviceID != "" && !keepsServiceID(serviceType) {
		return nil, Invalid(fmt.Sprintf("Service of type '%s' should not contain a service id", serviceType))
	}
	cls := classFor(serviceType)
	args := NewMap()
	args.Set("service_type", serviceType)
	if serviceID != "" {
		args.Set("service_id", serviceID)
	}
	args.Set("placement", placement)
	if unmanaged {
		args.Set("unmanaged", true)
	}
	s, err := construct(cls, serviceType, args)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// toGoValue converts Python values into the plain Go values the
// placement and host-spec constructors take: *Map becomes map[string]any,
// or map[any]any when a key is not a string, so that such keys can still
// be refused.
func toGoValue(v any) any {
	switch x := v.(type) {
	case *Map:
		allStr := true
		x.Each(func(k, _ any) {
			if _, ok := k.(string); !ok {
				allStr = false
			}
		})
		if allStr {
			out := make(map[string]any, x.Len())
			x.Each(func(k, v any) { out[k.(string)] = toGoValue(v) })
			return out
		}
		out := make(map[any]any, x.Len())
		x.Each(func(k, v any) { out[k] = toGoValue(v) })
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toGoValue(e)
		}
		return out
	}
	return v
}
