package spec

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// KnownServiceTypes are the service types cephadm accepts (Reef/Squid
// KNOWN_SERVICE_TYPES), in cephadm's order.
var KnownServiceTypes = []string{
	"alertmanager", "crash", "grafana", "iscsi", "nvmeof", "loki", "promtail", "mds", "mgr", "mon",
	"nfs", "node-exporter", "osd", "prometheus", "rbd-mirror", "rgw", "agent", "ceph-exporter",
	"container", "ingress", "cephfs-mirror", "snmp-gateway", "jaeger-tracing", "elasticsearch",
	"jaeger-agent", "jaeger-collector", "jaeger-query", "node-proxy",
}

// requiresServiceID are the types whose specs must carry a service_id.
var requiresServiceID = map[string]bool{
	"iscsi": true, "nvmeof": true, "mds": true, "nfs": true, "rgw": true, "container": true, "ingress": true,
}

// IsKnownServiceType reports whether t is one of KnownServiceTypes.
func IsKnownServiceType(t string) bool {
	for _, k := range KnownServiceTypes {
		if k == t {
			return true
		}
	}
	return false
}

// RequiresServiceID reports whether specs of type t need a service_id.
func RequiresServiceID(t string) bool { return requiresServiceID[t] }

// keepsServiceID reports whether a spec of type t keeps a given service_id
// (cephadm silently drops it for every other type).
func keepsServiceID(t string) bool { return requiresServiceID[t] || t == "osd" }

// ArgumentSpec is one extra container or entrypoint argument: either a
// plain string (split on spaces when used) or {argument, split}.
type ArgumentSpec struct {
	Argument string
	Split    bool
	// FromString records that the argument was given as a bare string, so
	// that it is written back the same way.
	FromString bool
}

// Args returns the argv words of the argument (cephadm's to_args).
func (a ArgumentSpec) Args() []string {
	if !a.Split {
		return []string{a.Argument}
	}
	var out []string
	for _, p := range strings.Split(a.Argument, " ") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a ArgumentSpec) toJSON() any {
	if a.FromString {
		return a.Argument
	}
	m := NewMap()
	m.Set("argument", a.Argument)
	m.Set("split", a.Split)
	return m
}

// CustomConfig is a file mounted into the daemon's container.
type CustomConfig struct {
	Content   string
	MountPath string
}

func (c CustomConfig) toJSON() any {
	m := NewMap()
	m.Set("content", c.Content)
	m.Set("mount_path", c.MountPath)
	return m
}

// ServiceSpec is cephadm's ServiceSpec together with its per-type
// subclass. Common fields are typed; the type-specific attributes are kept
// as cephadm stores them (see Field and the typed views such as Ingress).
type ServiceSpec struct {
	ServiceType string
	// ServiceID is empty for types that take none.
	ServiceID   string
	Placement   PlacementSpec
	Unmanaged   bool
	PreviewOnly bool
	Networks    []string
	// Config holds `config` options (keys with spaces replaced by "_");
	// nil when unset.
	Config              *Map
	ExtraContainerArgs  []ArgumentSpec
	ExtraEntrypointArgs []ArgumentSpec
	CustomConfigs       []CustomConfig
	// DriveGroup holds the OSD fields of an osd spec; nil for other types.
	DriveGroup *DriveGroupSpec

	class *specClass
	// idSet records that a service_id was given (cephadm distinguishes
	// None from "" in a few messages).
	idSet bool
	// attrs are the type-specific attributes (cephadm's instance
	// attributes), with defaults applied.
	attrs *Map
}

// ServiceName is cephadm's service_name(): "type" or "type.id".
func (s *ServiceSpec) ServiceName() string {
	if s.ServiceID != "" {
		return s.ServiceType + "." + s.ServiceID
	}
	return s.ServiceType
}

// ClassName is the name of cephadm's spec class for this spec's type
// (RGWSpec, NFSServiceSpec, IngressSpec, MONSpec, ServiceSpec, ...).
func (s *ServiceSpec) ClassName() string { return classFor(s.ServiceType).name }

// OneLineStr is cephadm's one_line_str(), used in scheduler messages:
// "<ServiceSpec for service_name=mgr>".
func (s *ServiceSpec) OneLineStr() string {
	return fmt.Sprintf("<%s for service_name=%s>", s.ClassName(), s.ServiceName())
}

// Field returns a type-specific attribute (e.g. "rgw_frontend_port") as
// cephadm stores it, defaults applied. ok is false for unknown names.
func (s *ServiceSpec) Field(name string) (any, bool) {
	if s.attrs == nil {
		return nil, false
	}
	return s.attrs.Get(name)
}

// ConfigOptions returns Config as strings (values rendered with str()).
func (s *ServiceSpec) ConfigOptions() map[string]string {
	out := map[string]string{}
	s.Config.Each(func(k, v any) { out[pyStr(k)] = pyStr(v) })
	return out
}

// ToJSON is cephadm's to_json(): the top-level keys in cephadm's fixed
// order, then every other non-empty attribute under "spec" in sorted key
// order. The result encodes with encoding/json (ordered) and DumpYAML.
func (s *ServiceSpec) ToJSON() *Map {
	ret := NewMap()
	ret.Set("service_type", s.ServiceType)
	if s.ServiceID != "" {
		ret.Set("service_id", s.ServiceID)
	}
	ret.Set("service_name", s.ServiceName())
	if pj := s.Placement.ToJSON(); len(pj) > 0 {
		ret.Set("placement", mapFromGo(pj))
	}
	if s.Unmanaged {
		ret.Set("unmanaged", true)
	}
	if len(s.Networks) > 0 {
		ret.Set("networks", stringsToList(s.Networks))
	}
	if len(s.ExtraContainerArgs) > 0 {
		ret.Set("extra_container_args", argsToJSON(s.ExtraContainerArgs))
	}
	if len(s.ExtraEntrypointArgs) > 0 {
		ret.Set("extra_entrypoint_args", argsToJSON(s.ExtraEntrypointArgs))
	}
	if len(s.CustomConfigs) > 0 {
		l := make([]any, len(s.CustomConfigs))
		for i, c := range s.CustomConfigs {
			l[i] = c.toJSON()
		}
		ret.Set("custom_configs", l)
	}
	c := NewMap()
	if s.Config.Len() > 0 {
		c.Set("config", s.Config)
	}
	if s.PreviewOnly {
		c.Set("preview_only", true)
	}
	s.attrs.Each(func(k, v any) {
		v = toJSONValue(v)
		if pyTruthy(v) || s.class.alwaysEmit[k.(string)] && v != nil {
			c.Set(k, v)
		}
	})
	if c.Len() > 0 {
		keys := c.Keys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].(string) < keys[j].(string) })
		sorted := NewMap()
		for _, k := range keys {
			v, _ := c.Get(k)
			sorted.Set(k, v)
		}
		ret.Set("spec", sorted)
	}
	return ret
}

// toJSONValue converts typed spec values, also inside lists (a custom
// container's init_containers), to their to_json form.
func toJSONValue(v any) any {
	switch x := v.(type) {
	case interface{ toJSON() any }:
		return x.toJSON()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSONValue(e)
		}
		return out
	}
	return v
}

func stringsToList(ss []string) []any {
	l := make([]any, len(ss))
	for i, s := range ss {
		l[i] = s
	}
	return l
}

func argsToJSON(args []ArgumentSpec) []any {
	l := make([]any, len(args))
	for i, a := range args {
		l[i] = a.toJSON()
	}
	return l
}

var reServiceID = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// Validate is cephadm's validate() for the spec's class.
func (s *ServiceSpec) Validate() error {
	cls := classFor(s.ServiceType)
	if !cls.skipBaseValidate {
		if err := s.validateBase(cls); err != nil {
			return err
		}
	}
	if cls.validate != nil {
		return cls.validate(s)
	}
	return nil
}

func (s *ServiceSpec) validateBase(cls *specClass) error {
	if s.ServiceType == "" {
		return Invalid("Cannot add Service: type required")
	}
	if s.ServiceType != "osd" {
		if requiresServiceID[s.ServiceType] && s.ServiceID == "" {
			return Invalid("Cannot add Service: id required")
		}
		if !requiresServiceID[s.ServiceType] && s.ServiceID != "" {
			return Invalid(fmt.Sprintf("Service of type '%s' should not contain a service id", s.ServiceType))
		}
	}
	if s.ServiceID != "" && !reServiceID.MatchString(s.ServiceID) {
		return Invalid("Service id contains invalid characters, only [a-zA-Z0-9_.-] allowed")
	}
	if err := s.Placement.Validate(); err != nil {
		return err
	}
	var err error
	s.Config.Each(func(k, _ any) {
		ks, _ := k.(string)
		if err == nil && cls.managedConfig[ks] {
			err = Invalid(fmt.Sprintf("Cannot set config option %s in spec: it is managed by cephadm", ks))
		}
	})
	if err != nil {
		return err
	}
	for _, n := range s.Networks {
		if msg := pyIPNetwork(n); msg != "" {
			return Invalid(fmt.Sprintf("Cannot parse network %s: %s", n, msg))
		}
	}
	return nil
}

// PortStart is cephadm's get_port_start(): the first ports a daemon of
// this service binds (renumbered +k for colocated daemons).
func (s *ServiceSpec) PortStart() []int {
	cls := classFor(s.ServiceType)
	if cls.ports == nil {
		return []int{}
	}
	return cls.ports(s)
}

// intAttr returns an int attribute, ok false when unset or not an int.
func (s *ServiceSpec) intAttr(name string) (int, bool) {
	v, _ := s.Field(name)
	return asInt(v)
}

func (s *ServiceSpec) strAttr(name string) string {
	v, _ := s.Field(name)
	str, _ := v.(string)
	return str
}

func (s *ServiceSpec) boolAttr(name string) bool {
	v, _ := s.Field(name)
	return pyTruthy(v)
}

func (s *ServiceSpec) intPtrAttr(name string) *int {
	if v, ok := s.intAttr(name); ok {
		return &v
	}
	return nil
}

// VirtualIP is cephadm's get_virtual_ip() (ingress only).
func (s *ServiceSpec) VirtualIP() string {
	if s.ServiceType != "ingress" {
		return ""
	}
	return s.strAttr("virtual_ip")
}

// IngressFields is the typed view of an ingress spec that the scheduler
// needs.
type IngressFields struct {
	BackendService           string
	FrontendPort             *int
	MonitorPort              *int
	VirtualIP                string
	VirtualIPsList           []string
	VirtualInterfaceNetworks []string
	KeepaliveOnly            bool
	SSL                      bool
	FirstVirtualRouterID     *int
}

// Ingress returns the ingress fields; ok is false for other types.
func (s *ServiceSpec) Ingress() (IngressFields, bool) {
	if s.ServiceType != "ingress" {
		return IngressFields{}, false
	}
	vl, _ := s.Field("virtual_ips_list")
	vips, _ := stringList(vl)
	vn, _ := s.Field("virtual_interface_networks")
	vnets, _ := stringList(vn)
	return IngressFields{
		BackendService:           s.strAttr("backend_service"),
		FrontendPort:             s.intPtrAttr("frontend_port"),
		MonitorPort:              s.intPtrAttr("monitor_port"),
		VirtualIP:                s.strAttr("virtual_ip"),
		VirtualIPsList:           vips,
		VirtualInterfaceNetworks: vnets,
		KeepaliveOnly:            s.boolAttr("keepalive_only"),
		SSL:                      s.boolAttr("ssl"),
		FirstVirtualRouterID:     s.intPtrAttr("first_virtual_router_id"),
	}, true
}

// RGWFields is the typed view of an rgw spec.
type RGWFields struct {
	Realm, Zonegroup, Zone string
	FrontendPort           *int
	FrontendType           string
	SSL                    bool
}

// RGW returns the rgw fields; ok is false for other types.
func (s *ServiceSpec) RGW() (RGWFields, bool) {
	if s.ServiceType != "rgw" {
		return RGWFields{}, false
	}
	return RGWFields{
		Realm:        s.strAttr("rgw_realm"),
		Zonegroup:    s.strAttr("rgw_zonegroup"),
		Zone:         s.strAttr("rgw_zone"),
		FrontendPort: s.intPtrAttr("rgw_frontend_port"),
		FrontendType: s.strAttr("rgw_frontend_type"),
		SSL:          s.boolAttr("ssl"),
	}, true
}

// NFSFields is the typed view of an nfs spec.
type NFSFields struct {
	Port                  *int
	VirtualIP             string
	EnableHAProxyProtocol bool
}

// NFS returns the nfs fields; ok is false for other types.
func (s *ServiceSpec) NFS() (NFSFields, bool) {
	if s.ServiceType != "nfs" {
		return NFSFields{}, false
	}
	return NFSFields{
		Port:                  s.intPtrAttr("port"),
		VirtualIP:             s.strAttr("virtual_ip"),
		EnableHAProxyProtocol: s.boolAttr("enable_haproxy_protocol"),
	}, true
}

// Equal reports whether two specs are equal as cephadm's __eq__ sees them
// (same class, same attributes), by comparing their canonical JSON.
func (s *ServiceSpec) Equal(o *ServiceSpec) bool {
	if s == nil || o == nil {
		return s == o
	}
	a, err1 := s.ToJSON().MarshalJSON()
	b, err2 := o.ToJSON().MarshalJSON()
	return err1 == nil && err2 == nil && string(a) == string(b) && s.PreviewOnly == o.PreviewOnly
}

// DefaultPlacement is the placement cephadm's `orch apply` gives a spec of
// serviceType whose placement is empty (reference §4.2). Types without a
// default get an empty placement.
func DefaultPlacement(serviceType string) PlacementSpec {
	count := func(n int) PlacementSpec { return PlacementSpec{Count: &n} }
	switch serviceType {
	case "mon":
		return count(5)
	case "mgr", "mds", "rgw", "ingress", "rbd-mirror":
		return count(2)
	case "iscsi", "nvmeof", "cephfs-mirror", "nfs", "grafana", "alertmanager", "prometheus",
		"loki", "container", "snmp-gateway", "elasticsearch", "jaeger-collector", "jaeger-query", "smb":
		return count(1)
	case "node-exporter", "ceph-exporter", "promtail", "crash", "jaeger-agent", "agent", "node-proxy":
		return PlacementSpec{HostPattern: &HostPattern{Pattern: "*", Type: PatternFnmatch}}
	}
	return PlacementSpec{}
}
