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

	// raw holds the filter values exactly as given (cephadm keeps them
	// untyped and writes them back unchanged); nil for selections built in
	// Go, whose typed fields are then authoritative.
	raw *Map
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

	// Objectstore is "bluestore" unless given otherwise.
	Objectstore string
	Encrypted   bool
	// Method is "", "lvm" or "raw".
	Method           string
	CrushDeviceClass string
	DataDirectories  []string
	// OsdIDClaims maps a host to the OSD ids to reuse there.
	OsdIDClaims map[string][]string
	// The following keep cephadm's loose typing: an int, a string such as
	// "10G" or "3", or nil when unset. DataAllocateFraction is a float64,
	// an int64 or nil.
	OsdsPerDevice        any
	DBSlots              any
	WALSlots             any
	BlockDBSize          any
	BlockWALSize         any
	JournalSize          any
	DataAllocateFraction any
}
