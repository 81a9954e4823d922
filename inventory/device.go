package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Device is one entry of `ceph-volume inventory --format json`, as cephadm
// stores it (python-common ceph.deployment.inventory.Device).
//
// JSON null for device_id, crush_device_class and ceph_device decodes to
// the zero value; crush_device_class "" is written back as null, as
// ceph-volume writes an unset class.
type Device struct {
	// Path is the device node, e.g. /dev/sdb.
	Path string
	// SysAPI is ceph-volume's sys_api dictionary: rotational ("1"/"0"),
	// size (bytes), human_readable_size ("3.64 TB"), model, vendor,
	// partitions, ... Unknown keys are kept.
	SysAPI Object
	// Available is ceph-volume's verdict that the device can take an OSD.
	Available bool
	// RejectedReasons says why Available is false.
	RejectedReasons []string
	// LVs are the logical volumes ceph-volume found on the device.
	LVs []LV
	// DeviceID is the udev-derived identifier (vendor_model_serial).
	DeviceID string
	// LSMData is the libstoragemgmt report (health, LED support, ...).
	LSMData Object
	// Created is when cephadm recorded the entry (ISO 8601), if known.
	Created string
	// CephDevice is true when the device already backs a Ceph OSD.
	CephDevice bool
	// CrushDeviceClass is the class given to OSDs on this device, if set.
	CrushDeviceClass string
	// Extra keeps top-level keys this package does not model, in document
	// order, so that a report from a newer ceph-volume round-trips.
	Extra Object
}

// LV is one logical volume of a device's "lvs" list (name, osd_id,
// cluster_name, type, osd_fsid, cluster_fsid, osdspec_affinity,
// block_uuid, ...). Kept as an ordered Object so that unknown keys
// round-trip and so that cephadm's key lookup can walk it.
type LV struct {
	Object
}

// Name returns the LV name.
func (lv LV) Name() string { return lv.String("name") }

// OSDID returns the id of the OSD the LV belongs to, as a string.
func (lv LV) OSDID() string { return scalarString(lv.Object, "osd_id") }

// ClusterFSID returns the fsid of the cluster the LV belongs to.
func (lv LV) ClusterFSID() string { return lv.String("cluster_fsid") }

// OSDSpecAffinity returns the OSD spec (service id) that created the LV
// and whether the key is present at all.
func (lv LV) OSDSpecAffinity() (string, bool) {
	v, ok := lv.Get("osdspec_affinity")
	s, _ := v.(string)
	return s, ok
}

func scalarString(o Object, key string) string {
	v, _ := o.Get(key)
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(t)
	}
}

// Rotational returns sys_api.rotational: "1" for spinning disks, "0" for
// solid state, "" when unknown.
func (d *Device) Rotational() string { return scalarString(d.SysAPI, "rotational") }

// Model returns sys_api.model.
func (d *Device) Model() string { return d.SysAPI.String("model") }

// Vendor returns sys_api.vendor.
func (d *Device) Vendor() string { return d.SysAPI.String("vendor") }

// HumanReadableSize returns sys_api.human_readable_size, e.g. "3.64 TB".
func (d *Device) HumanReadableSize() string { return d.SysAPI.String("human_readable_size") }

// SizeBytes returns sys_api.size in bytes and whether it is present.
func (d *Device) SizeBytes() (int64, bool) { return d.SysAPI.Int("size") }

// HumanReadableType is "hdd" or "ssd" from sys_api.rotational, or
// "unknown" when the key is missing, as cephadm derives it.
func (d *Device) HumanReadableType() string {
	v, ok := d.SysAPI.Get("rotational")
	if !ok {
		return "unknown"
	}
	if s, isStr := v.(string); isStr && s == "1" {
		return "hdd"
	}
	return "ssd"
}

// report is the dictionary cephadm's Device.to_json() returns, which is
// what the matchers search: cephadm's report_fields, in its order. Extra
// keys are absent because cephadm drops them when it loads a device.
func (d *Device) report() Object {
	lvs := make([]any, len(d.LVs))
	for i, lv := range d.LVs {
		lvs[i] = lv.Object
	}
	reasons := make([]any, len(d.RejectedReasons))
	for i, r := range d.RejectedReasons {
		reasons[i] = r
	}
	var class any
	if d.CrushDeviceClass != "" {
		class = d.CrushDeviceClass
	}
	var created any
	if d.Created != "" {
		created = d.Created
	}
	return Object{
		{"ceph_device", d.CephDevice},
		{"rejected_reasons", reasons},
		{"available", d.Available},
		{"path", d.Path},
		{"sys_api", d.SysAPI},
		{"created", created},
		{"lvs", lvs},
		{"human_readable_type", d.HumanReadableType()},
		{"device_id", d.DeviceID},
		{"lsm_data", d.LSMData},
		{"crush_device_class", class},
	}
}

// Equal reports whether d and o are the same device report, as cephadm's
// Device.__eq__ decides it: every report field except created.
func (d *Device) Equal(o *Device) bool {
	if d.Path != o.Path || d.Available != o.Available || d.CephDevice != o.CephDevice ||
		d.DeviceID != o.DeviceID || d.CrushDeviceClass != o.CrushDeviceClass ||
		len(d.RejectedReasons) != len(o.RejectedReasons) || len(d.LVs) != len(o.LVs) {
		return false
	}
	for i := range d.RejectedReasons {
		if d.RejectedReasons[i] != o.RejectedReasons[i] {
			return false
		}
	}
	for i := range d.LVs {
		if !objectEqual(d.LVs[i].Object, o.LVs[i].Object) {
			return false
		}
	}
	return objectEqual(d.SysAPI, o.SysAPI) && objectEqual(d.LSMData, o.LSMData)
}

// MarshalJSON writes the device in ceph-volume's shape plus cephadm's
// derived human_readable_type, followed by any Extra keys.
func (d Device) MarshalJSON() ([]byte, error) {
	reasons := d.RejectedReasons
	if reasons == nil {
		reasons = []string{}
	}
	lvs := d.LVs
	if lvs == nil {
		lvs = []LV{}
	}
	var class any
	if d.CrushDeviceClass != "" {
		class = d.CrushDeviceClass
	}
	out := Object{
		{"path", d.Path},
		{"sys_api", d.SysAPI},
		{"available", d.Available},
		{"rejected_reasons", reasons},
		{"device_id", d.DeviceID},
		{"lsm_data", d.LSMData},
		{"lvs", lvs},
		{"ceph_device", d.CephDevice},
		{"crush_device_class", class},
		{"human_readable_type", d.HumanReadableType()},
	}
	if d.Created != "" {
		out = append(out, Member{"created", d.Created})
	}
	for _, m := range d.Extra {
		if _, dup := out.Get(m.Key); !dup {
			out = append(out, m)
		}
	}
	return out.MarshalJSON()
}

// deviceJSON is the typed decoding target for the known keys.
type deviceJSON struct {
	Path             *string  `json:"path"`
	SysAPI           Object   `json:"sys_api"`
	Available        *bool    `json:"available"`
	RejectedReasons  []string `json:"rejected_reasons"`
	LVs              []LV     `json:"lvs"`
	DeviceID         *string  `json:"device_id"`
	LSMData          Object   `json:"lsm_data"`
	Created          *string  `json:"created"`
	CephDevice       *bool    `json:"ceph_device"`
	CrushDeviceClass *string  `json:"crush_device_class"`
}

var knownDeviceKeys = map[string]bool{
	"path": true, "sys_api": true, "available": true, "rejected_reasons": true,
	"lvs": true, "device_id": true, "lsm_data": true, "created": true,
	"ceph_device": true, "crush_device_class": true,
	// derived from sys_api.rotational; not stored
	"human_readable_type": true,
}

// UnmarshalJSON reads a ceph-volume or cephadm device report. Like
// cephadm's Device.from_json it sorts rejected_reasons.
func (d *Device) UnmarshalJSON(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("device: expected a JSON object, got %.10q", string(trimmed))
	}
	var j deviceJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	var all Object
	if err := all.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	*d = Device{
		SysAPI:          j.SysAPI,
		RejectedReasons: j.RejectedReasons,
		LVs:             j.LVs,
		LSMData:         j.LSMData,
	}
	if j.Path != nil {
		d.Path = *j.Path
	}
	if j.Available != nil {
		d.Available = *j.Available
	}
	if j.DeviceID != nil {
		d.DeviceID = *j.DeviceID
	}
	if j.Created != nil {
		d.Created = *j.Created
	}
	if j.CephDevice != nil {
		d.CephDevice = *j.CephDevice
	}
	if j.CrushDeviceClass != nil {
		d.CrushDeviceClass = *j.CrushDeviceClass
	}
	// Absent and null collections decode as empty ones, which is how they
	// are written back, so that a decoded device survives a round trip.
	if d.SysAPI == nil {
		d.SysAPI = Object{}
	}
	if d.LSMData == nil {
		d.LSMData = Object{}
	}
	if d.RejectedReasons == nil {
		d.RejectedReasons = []string{}
	}
	if d.LVs == nil {
		d.LVs = []LV{}
	}
	for i := range d.LVs {
		if d.LVs[i].Object == nil {
			d.LVs[i].Object = Object{}
		}
	}
	sort.Strings(d.RejectedReasons)
	for _, m := range all {
		if !knownDeviceKeys[m.Key] {
			d.Extra = append(d.Extra, m)
		}
	}
	return nil
}

// String is a short description for logs and error messages.
func (d Device) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Device(path=%s, available=%t, ceph_device=%t", d.Path, d.Available, d.CephDevice)
	if !d.Available && len(d.RejectedReasons) > 0 {
		fmt.Fprintf(&b, ", rejection reasons=%v", d.RejectedReasons)
	}
	b.WriteByte(')')
	return b.String()
}

// SortByPath orders devices by path, keeping the relative order of equal
// paths, as cephadm's Devices container does for every host inventory.
func SortByPath(devs []Device) {
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].Path < devs[j].Path })
}

// InventoryHost is one host's device inventory in the shape of
// `orch device ls --format json` (cephadm's InventoryHost).
type InventoryHost struct {
	Name    string   `json:"name"`
	Addr    string   `json:"addr,omitempty"`
	Devices []Device `json:"devices"`
	Labels  []string `json:"labels,omitempty"`
}

// Hosts is a list of host inventories with lookup helpers.
type Hosts []InventoryHost

// Find returns the inventory of the named host, or nil.
func (hs Hosts) Find(name string) *InventoryHost {
	for i := range hs {
		if hs[i].Name == name {
			return &hs[i]
		}
	}
	return nil
}
