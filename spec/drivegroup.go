package spec

import (
	"fmt"
	"strings"
)

// DriveGroupValidationError returns cephadm's DriveGroupValidationError:
// `Failed to validate OSD spec "<name>": <msg>` ("<unnamed>" for no name).
func DriveGroupValidationError(name, msg string) error {
	if name == "" {
		name = "<unnamed>"
	}
	return &ValidationError{Kind: "DriveGroupValidationError", Msg: fmt.Sprintf("Failed to validate OSD spec \"%s\": %s", name, msg)}
}

// supportedFeatures are DriveGroupSpec._supported_features.
var supportedFeatures = map[string]bool{
	"encrypted": true, "block_wal_size": true, "osds_per_device": true, "db_slots": true, "wal_slots": true,
	"block_db_size": true, "placement": true, "service_id": true, "service_type": true, "data_devices": true,
	"db_devices": true, "wal_devices": true, "journal_devices": true, "data_directories": true,
	"objectstore": true, "osd_id_claims": true, "journal_size": true, "unmanaged": true, "filter_logic": true,
	"preview_only": true, "extra_container_args": true, "data_allocate_fraction": true, "method": true,
	"crush_device_class": true, "config": true,
}

// supportedFilters are DeviceSelection._supported_filters.
var supportedFilters = map[string]bool{
	"actuators": true, "paths": true, "size": true, "vendor": true, "model": true, "rotational": true,
	"limit": true, "all": true,
}

var deviceRoles = []string{"data_devices", "db_devices", "wal_devices", "journal_devices"}

var osdClass = &specClass{
	name:          "DriveGroupSpec",
	common:        []string{"service_type", "service_id", "placement", "unmanaged", "preview_only", "extra_container_args", "config", "custom_configs"},
	managedConfig: managedBase,
	attrs: []attrDef{
		{"data_devices", none}, {"db_devices", none}, {"wal_devices", none}, {"journal_devices", none},
		{"data_directories", none}, {"osds_per_device", none}, {"objectstore", val("bluestore")},
		{"encrypted", val(false)}, {"db_slots", none}, {"wal_slots", none}, {"osd_id_claims", none},
		{"block_db_size", none}, {"block_wal_size", none}, {"journal_size", none},
		{"filter_logic", val("AND")}, {"data_allocate_fraction", none}, {"method", none},
		{"crush_device_class", none},
	},
	init:     initDriveGroup,
	validate: validateDriveGroup,
}

// osdPrepare is the DriveGroupSpec part of from_json: the legacy top-level
// host_pattern, the feature check and the device selections.
func osdPrepare(c *Map) error {
	if hp, ok := c.Get("host_pattern"); ok && !c.Has("placement") {
		p := NewMap()
		p.Set("host_pattern", hp)
		c.Delete("host_pattern")
		c.Set("placement", p)
	}
	name := "<unnamed>"
	if id, ok := c.Get("service_id"); ok {
		name = ""
		if id != nil {
			name = pyStr(id)
		}
	}
	convert := func(m *Map, check bool) error {
		if check {
			for _, k := range m.Keys() {
				if ks, ok := k.(string); !ok || !supportedFeatures[ks] {
					return DriveGroupValidationError(name, fmt.Sprintf("Feature `%s` is not supported", pyStr(k)))
				}
			}
		}
		for _, k := range m.Keys() {
			ks, _ := k.(string)
			if !strings.HasSuffix(ks, "_devices") {
				continue
			}
			v, _ := m.Get(k)
			if _, done := v.(*DeviceSelection); done {
				continue
			}
			sel, err := deviceSelectionFromJSON(name, ks, v)
			if err != nil {
				return err
			}
			if sel == nil {
				m.Set(k, nil)
			} else {
				m.Set(k, sel)
			}
		}
		return nil
	}
	if sp, ok := c.Get("spec"); ok && sp != nil {
		sm, ok := sp.(*Map)
		if !ok {
			return Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'keys'", pyTypeName(sp)))
		}
		sm = sm.Copy()
		c.Set("spec", sm)
		if sm.Len() == 0 {
			return DriveGroupValidationError(name, "Didn't find drive selections")
		}
		if err := convert(sm, true); err != nil {
			return err
		}
		// Selections written next to a `spec:` section are honoured too
		// (cephadm's own tests rely on it).
		return convert(c, false)
	}
	return convert(c, true)
}

// deviceSelectionFromJSON is DeviceSelection.from_json for role key of
// the drive group called name.
func deviceSelectionFromJSON(name, key string, v any) (*DeviceSelection, error) {
	if !pyTruthy(v) {
		return nil, nil
	}
	m, ok := v.(*Map)
	if !ok {
		return nil, Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'keys'", pyTypeName(v)))
	}
	for _, k := range m.Keys() {
		if ks, ok := k.(string); !ok || !supportedFilters[ks] {
			return nil, DriveGroupValidationError(name+"."+key, fmt.Sprintf("Filtering for `%s` is not supported", pyStr(k)))
		}
	}
	d := &DeviceSelection{raw: NewMap()}
	for _, k := range []string{"actuators", "model", "size", "rotational", "limit", "vendor", "all"} {
		if v, ok := m.Get(k); ok {
			d.raw.Set(k, v)
		}
	}
	if p, ok := m.Get("paths"); ok && p != nil {
		var items []any
		switch x := p.(type) {
		case []any:
			items = x
		case *Map:
			items = x.Keys()
		case string:
			for _, r := range x {
				items = append(items, string(r))
			}
		default:
			return nil, DriveGroupValidationError(name, fmt.Sprintf("'%s' object is not iterable", pyTypeName(p)))
		}
		d.Paths = []DevicePath{}
		for _, it := range items {
			if im, ok := it.(*Map); ok {
				path, ok := im.Get("path")
				if !ok {
					path = ""
				}
				dp := DevicePath{Path: pyStr(path)}
				if cdc, ok := im.Get("crush_device_class"); ok && cdc != nil {
					dp.CrushDeviceClass = pyStr(cdc)
				}
				d.Paths = append(d.Paths, dp)
				continue
			}
			d.Paths = append(d.Paths, DevicePath{Path: pyStr(it)})
		}
	}
	d.fillTyped()
	return d, nil
}

// fillTyped derives the typed fields from the raw values.
func (d *DeviceSelection) fillTyped() {
	get := func(k string) any { v, _ := d.raw.Get(k); return v }
	if v := get("model"); v != nil {
		d.Model = pyStr(v)
	}
	if v := get("vendor"); v != nil {
		d.Vendor = pyStr(v)
	}
	if v := get("size"); v != nil {
		d.Size = pyStr(v)
	}
	if v := get("rotational"); v != nil {
		b := pyTruthy(v)
		if s, ok := v.(string); ok {
			b = s == "1" || strings.EqualFold(s, "true")
		}
		d.Rotational = &b
	}
	if n, ok := asInt(get("limit")); ok {
		d.Limit = n
	}
	d.All = pyTruthy(get("all"))
	if n, ok := asInt(get("actuators")); ok {
		d.Actuators = &n
	}
}

// value returns the attribute k as cephadm stores it.
func (d *DeviceSelection) value(k string) any {
	if d.raw != nil {
		v, _ := d.raw.Get(k)
		return v
	}
	switch k {
	case "model":
		return nilIfEmpty(d.Model)
	case "vendor":
		return nilIfEmpty(d.Vendor)
	case "size":
		return nilIfEmpty(d.Size)
	case "rotational":
		if d.Rotational != nil {
			return *d.Rotational
		}
	case "limit":
		if d.Limit != 0 {
			return int64(d.Limit)
		}
	case "all":
		return d.All
	case "actuators":
		if d.Actuators != nil {
			return int64(*d.Actuators)
		}
	}
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// toJSON is DeviceSelection.to_json.
func (d *DeviceSelection) toJSON() any {
	m := NewMap()
	if len(d.Paths) > 0 {
		l := make([]any, len(d.Paths))
		for i, p := range d.Paths {
			l[i] = p.Path
		}
		m.Set("paths", l)
	}
	for _, k := range []string{"model", "vendor", "size"} {
		if v := d.value(k); pyTruthy(v) {
			m.Set(k, v)
		}
	}
	if v := d.value("rotational"); v != nil {
		m.Set("rotational", v)
	}
	for _, k := range []string{"limit", "all"} {
		if v := d.value(k); pyTruthy(v) {
			m.Set(k, v)
		}
	}
	return m
}

func (d *DeviceSelection) pyRepr() string {
	var parts []string
	for _, k := range []string{"actuators", "paths", "size", "vendor", "model", "rotational", "limit", "all", "limit"} {
		if k == "paths" {
			if len(d.Paths) > 0 {
				ps := make([]string, len(d.Paths))
				for i, p := range d.Paths {
					ps[i] = "Device(path=" + pyQuote(p.Path) + ")"
				}
				parts = append(parts, "paths=["+strings.Join(ps, ", ")+"]")
			}
			continue
		}
		v := d.value(k)
		if k == "all" && v == nil {
			v = false
		}
		if v != nil {
			parts = append(parts, k+"="+pyRepr(v))
		}
	}
	return "DeviceSelection(" + strings.Join(parts, ", ") + ")"
}

// Validate is DeviceSelection.validate(name).
func (d *DeviceSelection) Validate(name string) error {
	props := []any{d.value("actuators"), d.value("model"), d.value("vendor"), d.value("size"), d.value("rotational")}
	anyProp := false
	for _, p := range props {
		if p != nil {
			anyProp = true
		}
	}
	if len(d.Paths) > 0 && anyProp {
		return DriveGroupValidationError(name, "device selection: `paths` and other parameters are mutually exclusive")
	}
	empty := len(d.Paths) == 0 && !anyProp
	all := pyTruthy(d.value("all"))
	if !all && empty {
		return DriveGroupValidationError(name, "device selection cannot be empty")
	}
	if all && !empty {
		return DriveGroupValidationError(name, "device selection: `all` and other parameters are mutually exclusive. "+d.pyRepr())
	}
	return nil
}

func initDriveGroup(s *ServiceSpec) error {
	if !pyTruthy(mustGet(s, "osd_id_claims")) {
		s.attrs.Set("osd_id_claims", NewMap())
	}
	fl := mustGet(s, "filter_logic")
	fs, ok := fl.(string)
	if !ok {
		return Invalid(fmt.Sprintf("ServiceSpec: '%s' object has no attribute 'upper'", pyTypeName(fl)))
	}
	s.attrs.Set("filter_logic", strings.ToUpper(fs))
	dg := &DriveGroupSpec{ServiceID: s.ServiceID, FilterLogic: strings.ToUpper(fs)}
	sel := func(k string) *DeviceSelection {
		v, _ := mustGet(s, k).(*DeviceSelection)
		return v
	}
	dg.DataDevices, dg.DBDevices, dg.WALDevices, dg.JournalDevices = sel("data_devices"), sel("db_devices"), sel("wal_devices"), sel("journal_devices")
	dg.Objectstore, _ = mustGet(s, "objectstore").(string)
	dg.Encrypted = s.boolAttr("encrypted")
	dg.OsdsPerDevice = mustGet(s, "osds_per_device")
	dg.DBSlots = mustGet(s, "db_slots")
	dg.WALSlots = mustGet(s, "wal_slots")
	dg.BlockDBSize = mustGet(s, "block_db_size")
	dg.BlockWALSize = mustGet(s, "block_wal_size")
	dg.JournalSize = mustGet(s, "journal_size")
	dg.DataAllocateFraction = mustGet(s, "data_allocate_fraction")
	dg.Method, _ = mustGet(s, "method").(string)
	dg.CrushDeviceClass, _ = mustGet(s, "crush_device_class").(string)
	dg.DataDirectories, _ = stringList(mustGet(s, "data_directories"))
	if claims, ok := mustGet(s, "osd_id_claims").(*Map); ok && claims.Len() > 0 {
		dg.OsdIDClaims = map[string][]string{}
		claims.Each(func(k, v any) {
			var ids []string
			if l, ok := v.([]any); ok {
				for _, e := range l {
					ids = append(ids, pyStr(e))
				}
			}
			dg.OsdIDClaims[pyStr(k)] = ids
		})
	}
	s.DriveGroup = dg
	return nil
}

func validateDriveGroup(s *ServiceSpec) error {
	id := s.ServiceID
	if s.Placement.IsEmpty() {
		return DriveGroupValidationError(id, "`placement` required")
	}
	dg := s.DriveGroup
	if dg == nil || dg.DataDevices == nil {
		return DriveGroupValidationError(id, "`data_devices` element is required.")
	}
	prefix := id
	if !s.idSet {
		prefix = "None"
	}
	for i, d := range []*DeviceSelection{dg.DataDevices, dg.DBDevices, dg.WALDevices, dg.JournalDevices} {
		if d == nil {
			continue
		}
		if err := d.Validate(prefix + "." + deviceRoles[i]); err != nil {
			return err
		}
	}
	for _, d := range []*DeviceSelection{dg.DBDevices, dg.WALDevices, dg.JournalDevices} {
		if d != nil && d.All {
			return DriveGroupValidationError(id, "`all` is only allowed for data_devices")
		}
	}
	os := mustGet(s, "objectstore")
	oss, ok := os.(string)
	if !ok {
		return Invalid(fmt.Sprintf("ServiceSpec: 'in <string>' requires string as left operand, not %s", pyTypeName(os)))
	}
	// cephadm tests `objectstore not in ('bluestore')`: a substring test.
	if !strings.Contains("bluestore", oss) {
		return DriveGroupValidationError(id, fmt.Sprintf("%s is not supported. Must be one of ('bluestore')", oss))
	}
	for _, k := range []string{"block_wal_size", "block_db_size", "journal_size"} {
		switch mustGet(s, k).(type) {
		case nil, int64, string:
		default:
			return DriveGroupValidationError(id, k+" must be of type int or string")
		}
	}
	if fl := dg.FilterLogic; fl != "AND" && fl != "OR" {
		return DriveGroupValidationError(id, "filter_logic must be either <AND> or <OR>")
	}
	switch m := mustGet(s, "method"); m {
	case nil, "lvm", "raw":
	default:
		return DriveGroupValidationError(id, "method must be one of None, lvm, raw")
	}
	for _, p := range dg.DataDevices.Paths {
		if p.Path == "" {
			return DriveGroupValidationError(id, "Device path cannot be empty")
		}
	}
	return nil
}
