package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// specClass describes one of cephadm's ServiceSpec subclasses: the keyword
// arguments its constructor accepts, the attributes it stores (with their
// defaults), and its validate() and get_port_start().
type specClass struct {
	name string
	// common are the common ServiceSpec keyword arguments the class accepts.
	common []string
	// ignored are accepted keyword arguments that are not stored.
	ignored []string
	// attrs are the type-specific attributes in constructor order.
	attrs []attrDef
	// init runs after the attributes got their values (cephadm's
	// constructor body).
	init func(s *ServiceSpec) error
	// validate runs after the base validation (or alone when
	// skipBaseValidate: MONSpec does not call the base validate()).
	validate         func(s *ServiceSpec) error
	skipBaseValidate bool
	ports            func(s *ServiceSpec) []int
	managedConfig    map[string]bool
	// alwaysEmit are attributes written by to_json even when falsy.
	alwaysEmit map[string]bool
}

type attrDef struct {
	name string
	def  func() any
}

func val(v any) func() any { return func() any { return v } }

var none = val(nil)

func (c *specClass) accepts(k string) bool {
	for _, n := range c.common {
		if n == k {
			return true
		}
	}
	for _, n := range c.ignored {
		if n == k {
			return true
		}
	}
	for _, a := range c.attrs {
		if a.name == k {
			return true
		}
	}
	return false
}

var (
	commonAll     = []string{"service_type", "service_id", "placement", "count", "config", "unmanaged", "preview_only", "networks", "extra_container_args", "extra_entrypoint_args", "custom_configs"}
	commonNoCount = []string{"service_type", "service_id", "placement", "config", "unmanaged", "preview_only", "networks", "extra_container_args", "extra_entrypoint_args", "custom_configs"}
	managedBase   = map[string]bool{"mds_join_fs": true}
	managedRGW    = map[string]bool{"mds_join_fs": true, "rgw_zone": true, "rgw_realm": true, "rgw_zonegroup": true, "rgw_frontends": true}
)

var baseClass = &specClass{name: "ServiceSpec", common: commonAll, managedConfig: managedBase}

var classes map[string]*specClass

func init() {
	monitoring := func(name string, defPort int, extra []attrDef, validate func(*ServiceSpec) error) *specClass {
		return &specClass{
			name: name, common: commonNoCount, managedConfig: managedBase,
			attrs:    append([]attrDef{{"port", none}}, extra...),
			validate: validate,
			ports: func(s *ServiceSpec) []int {
				if p, ok := s.intAttr("port"); ok && p != 0 {
					return []int{p}
				}
				return []int{defPort}
			},
		}
	}
	monitoringClass := func(defPort int) *specClass { return monitoring("MonitoringSpec", defPort, nil, nil) }
	alertmanager := monitoring("AlertManagerSpec", 9093, []attrDef{{"user_data", none}, {"secure", val(false)}}, validateAlertmanager)
	alertmanager.init = func(s *ServiceSpec) error {
		if !pyTruthy(mustGet(s, "user_data")) {
			s.attrs.Set("user_data", NewMap())
		}
		return nil
	}
	alertmanager.ports = func(s *ServiceSpec) []int {
		p := 9093
		if v, ok := s.intAttr("port"); ok && v != 0 {
			p = v
		}
		return []int{p, 9094}
	}
	grafana := monitoring("GrafanaSpec", 3000, []attrDef{
		{"only_bind_port_on_networks", val(false)}, {"protocol", val("https")},
		{"initial_admin_password", none}, {"anonymous_access", val(true)},
	}, validateGrafana)
	grafana.alwaysEmit = map[string]bool{"anonymous_access": true}
	prometheus := monitoring("PrometheusSpec", 9095, []attrDef{{"retention_time", none}, {"retention_size", none}}, validatePrometheus)
	prometheus.init = initPrometheus

	tracing := func(port int) *specClass {
		return &specClass{
			name:          "TracingSpec",
			common:        []string{"service_type", "service_id", "config", "networks", "placement", "unmanaged", "preview_only"},
			attrs:         []attrDef{{"without_query", val(false)}, {"es_nodes", none}},
			managedConfig: managedBase,
			ports: func(*ServiceSpec) []int {
				if port == 0 {
					return []int{}
				}
				return []int{port}
			},
		}
	}

	classes = map[string]*specClass{
		"mon": {
			name: "MONSpec", common: commonAll, managedConfig: managedBase,
			attrs: []attrDef{{"crush_locations", none}}, skipBaseValidate: true,
			validate: validateMon,
		},
		"rgw": {
			name: "RGWSpec", common: commonNoCount, managedConfig: managedRGW, ignored: []string{"subcluster"},
			attrs: []attrDef{
				{"rgw_realm", none}, {"rgw_zonegroup", none}, {"rgw_zone", none}, {"rgw_frontend_port", none},
				{"rgw_frontend_ssl_certificate", none}, {"rgw_frontend_type", none}, {"rgw_frontend_extra_args", none},
				{"ssl", val(false)}, {"rgw_realm_token", none}, {"update_endpoints", val(false)}, {"zone_endpoints", none},
				{"rgw_user_counters_cache", val(false)}, {"rgw_user_counters_cache_size", none},
				{"rgw_bucket_counters_cache", val(false)}, {"rgw_bucket_counters_cache_size", none},
			},
			validate: validateRGW,
			ports: func(s *ServiceSpec) []int {
				if p, ok := s.intAttr("rgw_frontend_port"); ok && p != 0 {
					return []int{p}
				}
				if s.boolAttr("ssl") {
					return []int{443}
				}
				return []int{80}
			},
		},
		"nfs": {
			name: "NFSServiceSpec", common: commonNoCount, managedConfig: managedBase,
			attrs: []attrDef{{"port", none}, {"virtual_ip", none}, {"enable_haproxy_protocol", val(false)}, {"idmap_conf", none}},
			ports: func(s *ServiceSpec) []int {
				if p, ok := s.intAttr("port"); ok && p != 0 {
					return []int{p}
				}
				return []int{}
			},
		},
		"mds": {
			name: "MDSSpec", managedConfig: managedBase,
			common:   []string{"service_type", "service_id", "placement", "config", "unmanaged", "preview_only", "extra_container_args", "extra_entrypoint_args", "custom_configs"},
			validate: validateMDS,
		},
		"iscsi": {
			name: "IscsiServiceSpec", common: commonNoCount, managedConfig: managedBase,
			attrs: []attrDef{
				{"pool", none}, {"trusted_ip_list", none}, {"api_port", val(int64(5000))}, {"api_user", val("admin")},
				{"api_password", val("admin")}, {"api_secure", none}, {"ssl_cert", none}, {"ssl_key", none},
			},
			init: func(s *ServiceSpec) error {
				if !s.boolAttr("api_secure") && s.boolAttr("ssl_cert") && s.boolAttr("ssl_key") {
					s.attrs.Set("api_secure", true)
				}
				return nil
			},
			validate: func(s *ServiceSpec) error {
				if !s.boolAttr("pool") {
					return Invalid("Cannot add ISCSI: No Pool specified")
				}
				return nil
			},
			ports: func(s *ServiceSpec) []int {
				if p, ok := s.intAttr("api_port"); ok && p != 0 {
					return []int{p}
				}
				return []int{5000}
			},
		},
		"nvmeof": {
			name: "NvmeofServiceSpec", common: commonNoCount, managedConfig: managedBase,
			attrs: []attrDef{
				{"name", none}, {"group", none}, {"port", none}, {"pool", none}, {"enable_auth", val(false)},
				{"min_controller_id", val("1")}, {"max_controller_id", val("65519")},
				{"enable_spdk_discovery_controller", val(false)}, {"server_key", none}, {"server_cert", none},
				{"client_key", none}, {"client_cert", none}, {"spdk_path", none}, {"tgt_path", none},
				{"timeout", val(int64(60))}, {"conn_retries", val(int64(10))}, {"transports", val("tcp")},
				{"transport_tcp_options", func() any {
					m := NewMap()
					m.Set("in_capsule_data_size", int64(8192))
					m.Set("max_io_qpairs_per_ctrlr", int64(7))
					return m
				}},
				{"tgt_cmd_extra_args", none},
			},
			init:     initNvmeof,
			validate: validateNvmeof,
			ports:    func(*ServiceSpec) []int { return []int{5500, 4420, 8009} },
		},
		"ingress": {
			name: "IngressSpec", managedConfig: managedBase,
			common: []string{"service_type", "service_id", "config", "networks", "placement", "unmanaged", "extra_container_args", "extra_entrypoint_args", "custom_configs"},
			attrs: []attrDef{
				{"backend_service", none}, {"frontend_port", none}, {"ssl_cert", none}, {"ssl_key", none},
				{"ssl_dh_param", none}, {"ssl_ciphers", none}, {"ssl_options", none}, {"monitor_port", none},
				{"monitor_user", none}, {"monitor_password", none}, {"enable_stats", none}, {"keepalived_password", none},
				{"virtual_ip", none}, {"virtual_ips_list", none}, {"virtual_interface_networks", val([]any{})},
				{"use_keepalived_multicast", val(false)}, {"vrrp_interface_network", none},
				{"first_virtual_router_id", val(int64(50))}, {"ssl", val(false)}, {"keepalive_only", val(false)},
				{"enable_haproxy_protocol", val(false)},
			},
			init: func(s *ServiceSpec) error {
				if !pyTruthy(mustGet(s, "virtual_interface_networks")) {
					s.attrs.Set("virtual_interface_networks", []any{})
				}
				return nil
			},
			validate: validateIngress,
			ports: func(s *ServiceSpec) []int {
				out := []int{}
				if p, ok := s.intAttr("frontend_port"); ok {
					out = append(out, p)
				}
				if p, ok := s.intAttr("monitor_port"); ok {
					out = append(out, p)
				}
				return out
			},
		},
		"container": {
			name: "CustomContainerSpec", common: commonNoCount, managedConfig: managedBase,
			attrs: []attrDef{
				{"image", none}, {"entrypoint", none}, {"uid", none}, {"gid", none},
				{"volume_mounts", func() any { return NewMap() }}, {"args", val([]any{})}, {"envs", val([]any{})},
				{"privileged", val(false)}, {"bind_mounts", none}, {"ports", val([]any{})}, {"dirs", val([]any{})},
				{"files", func() any { return NewMap() }}, {"init_containers", none},
			},
			init:     initContainer,
			validate: validateContainer,
		},
		"alertmanager":  alertmanager,
		"grafana":       grafana,
		"prometheus":    prometheus,
		"node-exporter": monitoringClass(9100),
		"loki":          monitoringClass(3100),
		"promtail":      monitoringClass(9080),
		"ceph-exporter": {
			name:   "CephExporterSpec",
			common: []string{"service_type", "placement", "unmanaged", "preview_only", "extra_container_args", "extra_entrypoint_args"},
			attrs: []attrDef{{"sock_dir", none}, {"addrs", val("")}, {"port", none},
				{"prio_limit", val(int64(5))}, {"stats_period", val(int64(5))}},
			managedConfig: managedBase,
			validate:      validateCephExporter,
		},
		"snmp-gateway": {
			name:   "SNMPGatewaySpec",
			common: []string{"service_type", "placement", "unmanaged", "preview_only", "extra_container_args", "extra_entrypoint_args", "custom_configs"},
			attrs: []attrDef{{"snmp_version", none}, {"snmp_destination", val("")}, {"credentials", func() any { return NewMap() }},
				{"engine_id", none}, {"auth_protocol", none}, {"privacy_protocol", none}, {"port", none}},
			managedConfig: managedBase,
			validate:      validateSNMP,
			ports: func(s *ServiceSpec) []int {
				if p, ok := s.intAttr("port"); ok && p != 0 {
					return []int{p}
				}
				return []int{9464}
			},
		},
		"elasticsearch":    tracing(9200),
		"jaeger-agent":     tracing(6799),
		"jaeger-collector": tracing(14250),
		"jaeger-query":     tracing(16686),
		"jaeger-tracing":   tracing(0),
		"osd":              osdClass,
	}
}

func classFor(serviceType string) *specClass {
	if c, ok := classes[serviceType]; ok {
		return c
	}
	return baseClass
}

func mustGet(s *ServiceSpec, name string) any {
	v, _ := s.attrs.Get(name)
	return v
}

func validateMon(s *ServiceSpec) error {
	cl := mustGet(s, "crush_locations")
	if !pyTruthy(cl) {
		return nil
	}
	m, ok := cl.(*Map)
	if !ok {
		return Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'items'", pyTypeName(cl)))
	}
	var err error
	m.Each(func(k, v any) {
		if err != nil {
			return
		}
		host, ok := k.(string)
		if !ok {
			err = Invalid(fmt.Sprintf("Invalid hostname found in spec crush locations: %s", pyStr(k)))
			return
		}
		if herr := ValidateHostname(host); herr != nil {
			err = Invalid(fmt.Sprintf("Invalid hostname found in spec crush locations: %s", herr.Error()))
			return
		}
		locs, ok := v.([]any)
		if !ok {
			err = Invalid(fmt.Sprintf("ServiceSpec: crush locations of %s must be a list", host))
			return
		}
		for _, l := range locs {
			ls, _ := l.(string)
			if !strings.Contains(ls, "=") || len(strings.Split(ls, "=")) != 2 {
				err = Invalid(fmt.Sprintf("Crush locations must be of form <bucket>=<location>. Found crush location: %s", pyStr(l)))
				return
			}
		}
	})
	return err
}

func validateRGW(s *ServiceSpec) error {
	realm, zone := s.boolAttr("rgw_realm"), s.boolAttr("rgw_zone")
	if realm && !zone {
		return Invalid("Cannot add RGW: Realm specified but no zone specified")
	}
	if zone && !realm {
		return Invalid("Cannot add RGW: Zone specified but no realm specified")
	}
	if ft := mustGet(s, "rgw_frontend_type"); ft != nil {
		if ft != "beast" && ft != "civetweb" {
			return Invalid("Invalid rgw_frontend_type value. Valid values are: beast, civetweb.\n" +
				"Additional rgw type parameters can be passed using rgw_frontend_extra_args.")
		}
	}
	return nil
}

func validateMDS(s *ServiceSpec) error {
	if id := s.ServiceID; id != "" && id[0] >= '0' && id[0] <= '9' {
		return Invalid("MDS service id cannot start with a numeric digit")
	}
	return nil
}

func initNvmeof(s *ServiceSpec) error {
	or := func(name string, def any) {
		if !pyTruthy(mustGet(s, name)) {
			s.attrs.Set(name, def)
		}
	}
	or("port", int64(5500))
	or("server_key", "./server.key")
	or("server_cert", "./server.crt")
	or("client_key", "./client.key")
	or("client_cert", "./client.crt")
	or("spdk_path", "/usr/local/bin/nvmf_tgt")
	or("tgt_path", "/usr/local/bin/nvmf_tgt")
	return nil
}

func validateNvmeof(s *ServiceSpec) error {
	if !s.boolAttr("pool") {
		return Invalid("Cannot add NVMEOF: No Pool specified")
	}
	if s.boolAttr("enable_auth") {
		if !s.boolAttr("server_key") && !s.boolAttr("server_cert") && !s.boolAttr("client_key") && !s.boolAttr("client_cert") {
			return Invalid("enable_auth is true but client/server certificates are missing")
		}
	}
	if mustGet(s, "transports") != "tcp" {
		return Invalid("Invalid transport. Valid values are tcp")
	}
	return nil
}

func validateIngress(s *ServiceSpec) error {
	if !s.boolAttr("backend_service") {
		return Invalid("Cannot add ingress: No backend_service specified")
	}
	if !s.boolAttr("keepalive_only") && !s.boolAttr("frontend_port") {
		return Invalid("Cannot add ingress: No frontend_port specified")
	}
	if !s.boolAttr("monitor_port") {
		return Invalid("Cannot add ingress: No monitor_port specified")
	}
	if !s.boolAttr("virtual_ip") && !s.boolAttr("virtual_ips_list") {
		return Invalid("Cannot add ingress: No virtual_ip provided")
	}
	if mustGet(s, "virtual_ip") != nil && mustGet(s, "virtual_ips_list") != nil {
		return Invalid("Cannot add ingress: Single and multiple virtual IPs specified")
	}
	return nil
}

func initContainer(s *ServiceSpec) error {
	if s.ServiceID == "" {
		return Invalid("Cannot add Service: id required")
	}
	// cephadm only asserts image is not None; a falsy image would be
	// dropped by to_json and the spec could not be re-applied.
	if !pyTruthy(mustGet(s, "image")) {
		return Invalid("CustomContainerSpec: image is required")
	}
	ics := mustGet(s, "init_containers")
	if !pyTruthy(ics) {
		s.attrs.Set("init_containers", nil)
		return nil
	}
	l, ok := ics.([]any)
	if !ok {
		return Invalid(fmt.Sprintf("Unknown type for InitContainerSpec: <class '%s'>", pyTypeName(ics)))
	}
	out := make([]any, 0, len(l))
	for _, e := range l {
		m, ok := e.(*Map)
		if !ok {
			return Invalid(fmt.Sprintf("Unknown type for InitContainerSpec: <class '%s'>", pyTypeName(e)))
		}
		ic, err := initContainerFromJSON(m)
		if err != nil {
			return err
		}
		out = append(out, ic)
	}
	s.attrs.Set("init_containers", out)
	return nil
}

// initContainerSpec is cephadm's InitContainerSpec.
type initContainerSpec struct {
	fields *Map // image, entrypoint, volume_mounts, envs, privileged (set ones)
	args   []ArgumentSpec
}

var initContainerFields = []string{"image", "entrypoint", "volume_mounts", "envs", "privileged"}

func initContainerFromJSON(m *Map) (*initContainerSpec, error) {
	ic := &initContainerSpec{fields: NewMap()}
	set := false
	for _, k := range initContainerFields {
		if v, ok := m.Get(k); ok && v != nil {
			ic.fields.Set(k, v)
			set = true
		}
	}
	if ea, ok := m.Get("entrypoint_args"); ok && ea != nil {
		set = true
		if pyTruthy(ea) {
			args, err := argumentsFromJSON(ea)
			if err != nil {
				return nil, err
			}
			ic.args = args
		}
	}
	if !set {
		return nil, Invalid("At least one parameter must be set (no values were specified)")
	}
	return ic, nil
}

func (ic *initContainerSpec) toJSON() any {
	out := NewMap()
	for _, k := range initContainerFields {
		if v, ok := ic.fields.Get(k); ok {
			out.Set(k, v)
		}
	}
	if len(ic.args) > 0 {
		out.Set("entrypoint_args", argsToJSON(ic.args))
	}
	return out
}

func validateContainer(s *ServiceSpec) error {
	if s.boolAttr("args") && len(s.ExtraContainerArgs) > 0 {
		return Invalid(`"args" and "extra_container_args" are mutually exclusive (and both serve the same purpose)`)
	}
	if s.boolAttr("files") && len(s.CustomConfigs) > 0 {
		return Invalid(`"files" and "custom_configs" are mutually exclusive (and both serve the same purpose)`)
	}
	return nil
}

func validateAlertmanager(s *ServiceSpec) error {
	if p, ok := s.intAttr("port"); ok && p == 9094 {
		return Invalid("Port 9094 is reserved for AlertManager cluster listen address")
	}
	return nil
}

func validateGrafana(s *ServiceSpec) error {
	p := mustGet(s, "protocol")
	if p != "http" && p != "https" {
		return Invalid(fmt.Sprintf("Invalid protocol '%s'. Valid values are: 'http', 'https'.", pyStr(p)))
	}
	if !s.boolAttr("anonymous_access") && !s.boolAttr("initial_admin_password") {
		return Invalid("Either initial_admin_password must be set or anonymous_access must be set to true. " +
			"Otherwise the grafana dashboard will be inaccessible.")
	}
	return nil
}

func initPrometheus(s *ServiceSpec) error {
	for _, k := range []string{"retention_time", "retention_size"} {
		v := mustGet(s, k)
		if !pyTruthy(v) {
			s.attrs.Set(k, nil)
			continue
		}
		str, ok := v.(string)
		if !ok {
			return Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'strip'", pyTypeName(v)))
		}
		str = strings.Trim(str, " \t\n\r\x0b\x0c")
		s.attrs.Set(k, str)
	}
	return nil
}

var (
	reRetentionTime = regexp.MustCompile(`^(\d+)(y|w|d|h|m|s)\n?$`)
	reRetentionSize = regexp.MustCompile(`^(\d+)(B|KB|MB|GB|TB|PB|EB)\n?$`)
)

func validatePrometheus(s *ServiceSpec) error {
	if t := s.strAttr("retention_time"); t != "" && !reRetentionTime.MatchString(t) {
		return Invalid("Invalid retention time. Valid units are: y, w, d, h, m, s")
	}
	if z := s.strAttr("retention_size"); z != "" && !reRetentionSize.MatchString(z) {
		return Invalid("Invalid retention size. Valid units are: B, KB, MB, GB, TB, PB, EB")
	}
	return nil
}

func validateCephExporter(s *ServiceSpec) error {
	for _, k := range []string{"prio_limit", "stats_period"} {
		v := mustGet(s, k)
		if _, ok := v.(int64); !ok {
			t := pyTypeName(v)
			return Invalid(fmt.Sprintf("%s must be an integer. Got <class '%s'>", k, t))
		}
	}
	return nil
}

// SNMP enums, checked by SNMPGatewaySpec._from_json_impl.
var snmpEnums = []struct {
	key    string
	values []string
}{
	{"snmp_version", []string{"V2c", "V3"}},
	{"auth_protocol", []string{"MD5", "SHA"}},
	{"privacy_protocol", []string{"DES", "AES"}},
}

func checkSNMPEnums(d *Map) error {
	for _, e := range snmpEnums {
		v, ok := d.Get(e.key)
		if !ok {
			continue
		}
		s, _ := v.(string)
		found := false
		for _, allowed := range e.values {
			if s == allowed {
				found = true
			}
		}
		if !found {
			return Invalid(fmt.Sprintf("%s unsupported. Must be one of %s", e.key, strings.Join(e.values, ", ")))
		}
	}
	return nil
}

func validateSNMP(s *ServiceSpec) error {
	creds := mustGet(s, "credentials")
	if !pyTruthy(creds) {
		return Invalid("Missing authentication information (credentials). SNMP V2c and V3 require credential information")
	}
	version := mustGet(s, "snmp_version")
	if !pyTruthy(version) {
		return Invalid("Missing SNMP version (snmp_version)")
	}
	vs := pyStr(version)
	required := map[string][]string{
		"V2c": {"snmp_community"},
		"V3":  {"snmp_v3_auth_username", "snmp_v3_auth_password"},
	}
	if s.boolAttr("privacy_protocol") {
		required["V3"] = append(required["V3"], "snmp_v3_priv_password")
	}
	cm, _ := creds.(*Map)
	var missing []string
	for _, p := range required[vs] {
		if cm == nil || !cm.Has(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return Invalid(fmt.Sprintf("SNMP %s credentials are incomplete. Missing %s", vs, strings.Join(missing, ", ")))
	}
	engine := mustGet(s, "engine_id")
	if pyTruthy(engine) {
		es, ok := engine.(string)
		if !ok {
			return Invalid(fmt.Sprintf("ServiceSpec: object of type '%s' has no len()", pyTypeName(engine)))
		}
		n := len([]rune(es))
		if !(n >= 10 && n <= 64 && isHex(es) && n%2 == 0) {
			return Invalid("engine_id must be a string containing 10-64 hex characters. Its length must be divisible by 2")
		}
	} else if vs == "V3" {
		return Invalid("Must provide an engine_id for SNMP V3 notifications")
	}
	dest := mustGet(s, "snmp_destination")
	if !pyTruthy(dest) {
		return Invalid("SNMP destination (snmp_destination) must be provided")
	}
	ds, ok := dest.(string)
	if !ok {
		return Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'count'", pyTypeName(dest)))
	}
	valid, desc := validAddr(ds)
	if !valid {
		return Invalid("SNMP destination (snmp_destination) is invalid: " + desc)
	}
	if desc != "IPv4:Port" && desc != "Name:Port" {
		return Invalid(fmt.Sprintf("SNMP destination (snmp_destination) type (%s) is invalid. Must be either: IPv4:Port, Name:Port", desc))
	}
	return nil
}

// isHex is ceph.utils.is_hex: int(s, 16) works and s starts with a hex
// digit.
func isHex(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return false
	}
	body := t
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if len(body) > 2 && (body[:2] == "0x" || body[:2] == "0X") {
		body = strings.TrimPrefix(body[2:], "_")
	}
	if body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return false
	}
	for _, c := range body {
		if !(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return strings.ContainsRune("0123456789abcdefABCDEF", rune(s[0]))
}
