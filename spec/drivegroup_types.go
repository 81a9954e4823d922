package spec

// DevicePath is one explicit device of a DeviceSelection's paths.
type DevicePath struct {
	Path             string
	CrushDeviceClass string
}

// DeviceSelection is one role's device filter of a drive group
// (data_devices, db_devices, wal_devices, journal_devices).
type DeviceSelection struct {
	Paths  []DevicePath
	Model  string
	Vendor string
	Size   string
	// Rotational is nil when unset; YAML 1/0/true/false map to true/false.
	Rotational *bool
	// Limit 0 means unlimited.
	Limit     int
	All       bool
	Actuators *int
}

// DriveGroupSpec holds the OSD-specific fields of an osd service spec.
// The common fields (placement, unmanaged, ...) live on ServiceSpec.
type DriveGroupSpec struct {
	ServiceID      string
	DataDevices    *DeviceSelection
	DBDevices      *DeviceSelection
	WALDevices     *DeviceSelection
	JournalDevices *DeviceSelection
	// FilterLogic is "AND" (default) or "OR".
	FilterLogic string
}
