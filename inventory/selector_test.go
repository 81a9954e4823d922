package inventory

import (
	"errors"
	"reflect"
	"testing"

	"github.com/orchceph/orch/spec"
)

// mkDevice builds a device the way cephadm's test helper _mk_device does.
func mkDevice(path string, rotational bool, size string) Device {
	rot := "0"
	if rotational {
		rot = "1"
	}
	return Device{
		Path: path,
		SysAPI: Object{
			{"rotational", rot}, {"vendor", "Vendor"}, {"human_readable_size", size},
			{"partitions", Object{}}, {"locked", 0}, {"path", path},
			{"model", "Model"}, {"size", 423347879936},
		},
		Available: true,
		DeviceID:  "Model-Vendor-foobar",
	}
}

func hdds(paths ...string) []Device {
	out := make([]Device, len(paths))
	for i, p := range paths {
		out[i] = mkDevice(p, true, "394.27 GB")
	}
	return out
}

func with(d Device, fn func(*Device)) Device { fn(&d); return d }

func boolp(b bool) *bool { return &b }

func TestSelectDrives(t *testing.T) {
	five := hdds("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd", "/dev/sde")
	mixed := []Device{
		mkDevice("/dev/sda", false, "394.27 GB"),
		mkDevice("/dev/sdb", true, "394.27 GB"),
	}
	sized := []Device{
		mkDevice("/dev/sda", true, "300.00 GB"),
		mkDevice("/dev/sdb", true, "1.20 TB"),
		mkDevice("/dev/sdc", false, "10.0 GB"),
		with(mkDevice("/dev/sdd", false, "50.00 GB"), func(d *Device) { d.SysAPI.Set("model", "SAMSUNG MZ7") }),
	}
	cephA := with(mkDevice("/dev/sda", true, "394.27 GB"), func(d *Device) {
		d.Available, d.CephDevice = false, true
	})
	affinity := func(path, aff string) Device {
		return with(mkDevice(path, true, "394.27 GB"), func(d *Device) {
			d.Available, d.CephDevice = false, true
			d.LVs = []LV{{Object{{"name", "osd-block-1"}, {"osdspec_affinity", aff}}}}
		})
	}
	all := &spec.DeviceSelection{All: true}

	tests := []struct {
		name     string
		dg       spec.DriveGroupSpec
		devices  []Device
		existing int
		want     map[Role][]string
	}{
		{
			name:    "all takes every available device",
			dg:      spec.DriveGroupSpec{ServiceID: "foobar", DataDevices: all},
			devices: five,
			want:    map[Role][]string{RoleData: Paths(five), RoleDB: {}},
		},
		{
			name: "limit stops data, db takes the rest",
			dg: spec.DriveGroupSpec{ServiceID: "foobar",
				DataDevices: &spec.DeviceSelection{All: true, Limit: 3}, DBDevices: all},
			devices: five,
			want:    map[Role][]string{RoleData: {"/dev/sda", "/dev/sdb", "/dev/sdc"}, RoleDB: {"/dev/sdd", "/dev/sde"}},
		},
		{
			name: "rotational splits data and db",
			dg: spec.DriveGroupSpec{ServiceID: "foobar",
				DataDevices: &spec.DeviceSelection{Rotational: boolp(true)},
				DBDevices:   &spec.DeviceSelection{Rotational: boolp(false)}},
			devices: mixed,
			want:    map[Role][]string{RoleData: {"/dev/sdb"}, RoleDB: {"/dev/sda"}},
		},
		{
			name:     "a ceph device does not count against the limit",
			dg:       spec.DriveGroupSpec{DataDevices: &spec.DeviceSelection{All: true, Limit: 2}},
			devices:  append([]Device{cephA}, hdds("/dev/sdb", "/dev/sdc")...),
			existing: 1,
			want:     map[Role][]string{RoleData: {"/dev/sda", "/dev/sdb"}},
		},
		{
			name:     "existing daemons at the limit select nothing",
			dg:       spec.DriveGroupSpec{ServiceID: "x", DataDevices: &spec.DeviceSelection{All: true, Limit: 2}},
			devices:  five,
			existing: 2,
			want:     map[Role][]string{RoleData: {}},
		},
		{
			name: "limit reached before an invalid filter is ever built",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{Size: "10P", Limit: 1}},
			devices:  five,
			existing: 1,
			want:     map[Role][]string{RoleData: {}},
		},
		{
			name: "unavailable devices are skipped",
			dg:   spec.DriveGroupSpec{ServiceID: "x", DataDevices: all},
			devices: []Device{
				with(mkDevice("/dev/sda", true, "1.00 TB"), func(d *Device) {
					d.Available, d.RejectedReasons = false, []string{"locked"}
				}),
				mkDevice("/dev/sdb", true, "1.00 TB"),
			},
			want: map[Role][]string{RoleData: {"/dev/sdb"}},
		},
		{
			name:    "unavailable ceph device of this spec is kept, of another spec skipped",
			dg:      spec.DriveGroupSpec{ServiceID: "mine", DataDevices: all},
			devices: []Device{affinity("/dev/sda", "mine"), affinity("/dev/sdb", "other"), affinity("/dev/sdc", "")},
			want:    map[Role][]string{RoleData: {"/dev/sda", "/dev/sdc"}},
		},
		{
			name: "size range, model substring and exact size per role",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{Size: "200GB:2TB", Rotational: boolp(true)},
				WALDevices:  &spec.DeviceSelection{Size: "10G"},
				DBDevices:   &spec.DeviceSelection{Model: "SAMSUNG"}},
			devices: sized,
			want: map[Role][]string{
				RoleData: {"/dev/sda", "/dev/sdb"}, RoleWAL: {"/dev/sdc"}, RoleDB: {"/dev/sdd"}, RoleJournal: {},
			},
		},
		{
			name: "model match is case-sensitive",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{Model: "samsung"}},
			devices: sized,
			want:    map[Role][]string{RoleData: {}},
		},
		{
			name: "OR takes a device matching any filter",
			dg: spec.DriveGroupSpec{ServiceID: "x", FilterLogic: "or",
				DataDevices: &spec.DeviceSelection{Size: ":20G", Model: "SAMSUNG"}},
			devices: sized,
			want:    map[Role][]string{RoleData: {"/dev/sdc", "/dev/sdd"}},
		},
		{
			name: "AND needs every filter",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{Size: ":60G", Rotational: boolp(false), Vendor: "Vend"}},
			devices: sized,
			want:    map[Role][]string{RoleData: {"/dev/sdc", "/dev/sdd"}},
		},
		{
			name: "wal is assigned before db",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{Rotational: boolp(true)},
				DBDevices:   &spec.DeviceSelection{Rotational: boolp(false)},
				WALDevices:  &spec.DeviceSelection{Rotational: boolp(false), Limit: 1}},
			devices: sized,
			want:    map[Role][]string{RoleData: {"/dev/sda", "/dev/sdb"}, RoleWAL: {"/dev/sdc"}, RoleDB: {"/dev/sdd"}},
		},
		{
			name:    "without data_devices nothing is selected",
			dg:      spec.DriveGroupSpec{ServiceID: "x", DBDevices: all},
			devices: five,
			want:    map[Role][]string{RoleData: {}, RoleDB: {}},
		},
		{
			name: "explicit paths come back as written, other roles still filter the full pool",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{Paths: []spec.DevicePath{{Path: "/dev/sdc"}, {Path: "/dev/sda", CrushDeviceClass: "hdd"}}},
				DBDevices:   all},
			devices: hdds("/dev/sda", "/dev/sdb"),
			want:    map[Role][]string{RoleData: {"/dev/sdc", "/dev/sda"}, RoleDB: {"/dev/sda", "/dev/sdb"}},
		},
		{
			name:    "the inventory is ordered by path before the limit applies",
			dg:      spec.DriveGroupSpec{ServiceID: "x", DataDevices: &spec.DeviceSelection{All: true, Limit: 2}},
			devices: hdds("/dev/sdc", "/dev/sdb", "/dev/sda"),
			want:    map[Role][]string{RoleData: {"/dev/sda", "/dev/sdb"}},
		},
		{
			name: "an equal duplicate is taken once and stays in the pool for the next role",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: all, WALDevices: all},
			devices: hdds("/dev/sda", "/dev/sda"),
			want:    map[Role][]string{RoleData: {"/dev/sda"}, RoleWAL: {"/dev/sda"}},
		},
		{
			name: "an empty selection matches everything under AND",
			dg: spec.DriveGroupSpec{ServiceID: "x",
				DataDevices: &spec.DeviceSelection{}},
			devices: hdds("/dev/sda"),
			want:    map[Role][]string{RoleData: {"/dev/sda"}},
		},
		{
			name: "an empty selection matches nothing under OR",
			dg: spec.DriveGroupSpec{ServiceID: "x", FilterLogic: "OR",
				DataDevices: &spec.DeviceSelection{}},
			devices: hdds("/dev/sda"),
			want:    map[Role][]string{RoleData: {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]Device(nil), tt.devices...)
			sel, err := SelectDrives(&tt.dg, tt.devices, tt.existing)
			if err != nil {
				t.Fatalf("SelectDrives: %v", err)
			}
			for role, want := range tt.want {
				if got := Paths(sel.Role(role)); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", role, got, want)
				}
			}
			if !reflect.DeepEqual(in, tt.devices) {
				t.Errorf("SelectDrives modified its input")
			}
		})
	}
}

func TestSelectDrivesErrors(t *testing.T) {
	noModel := mkDevice("/dev/sda", true, "1.00 TB")
	noModel.SysAPI = Object{{"rotational", "1"}, {"human_readable_size", "1.00 TB"}}
	tests := []struct {
		name    string
		dg      spec.DriveGroupSpec
		devices []Device
		// wantMsg is the DriveGroupValidationError message; empty means a
		// *DeviceError is expected.
		wantMsg string
	}{
		{
			name:    "no filters applied",
			dg:      spec.DriveGroupSpec{ServiceID: "foobar", DataDevices: &spec.DeviceSelection{Size: "wrong"}},
			devices: hdds("/dev/sda"),
			wantMsg: `Failed to validate OSD spec "foobar.data_devices": No filters applied`,
		},
		{
			name:    "unsupported unit in the filter",
			dg:      spec.DriveGroupSpec{ServiceID: "foobar", DataDevices: &spec.DeviceSelection{Size: "10P"}},
			devices: hdds("/dev/sda"),
			wantMsg: `Failed to validate OSD spec "foobar.data_devices": Unit 'P' not supported`,
		},
		{
			name: "error names the failing role",
			dg: spec.DriveGroupSpec{ServiceID: "foobar", DataDevices: &spec.DeviceSelection{Rotational: boolp(true)},
				DBDevices: &spec.DeviceSelection{Size: "None"}},
			devices: append(hdds("/dev/sda"), mkDevice("/dev/sdb", false, "1.00 TB")),
			wantMsg: `Failed to validate OSD spec "foobar.db_devices": No filters applied`,
		},
		{
			name:    "device without the filtered key",
			dg:      spec.DriveGroupSpec{ServiceID: "foobar", DataDevices: &spec.DeviceSelection{Model: "X"}},
			devices: []Device{noModel},
			wantMsg: `Failed to validate OSD spec "foobar.data_devices": No value found for model or None`,
		},
		{
			name:    "unset service id prints as None",
			dg:      spec.DriveGroupSpec{DataDevices: &spec.DeviceSelection{Size: "x"}},
			devices: hdds("/dev/sda"),
			wantMsg: `Failed to validate OSD spec "None.data_devices": No filters applied`,
		},
		{
			name:    "binary unit on the device",
			dg:      spec.DriveGroupSpec{ServiceID: "s", DataDevices: &spec.DeviceSelection{Size: "1T:"}},
			devices: []Device{mkDevice("/dev/sda", true, "1.50 TiB")},
			wantMsg: `Failed to validate OSD spec "s.data_devices": Unit 'TIB' not supported`,
		},
		{
			name:    "device size without a decimal point",
			dg:      spec.DriveGroupSpec{ServiceID: "s", DataDevices: &spec.DeviceSelection{Size: "10G"}},
			devices: []Device{mkDevice("/dev/sda", true, "10 GB")},
		},
		{
			name: "device size only in bytes",
			dg:   spec.DriveGroupSpec{ServiceID: "s", DataDevices: &spec.DeviceSelection{Size: "10G"}},
			devices: []Device{with(mkDevice("/dev/sda", true, ""), func(d *Device) {
				d.SysAPI = Object{{"size", 10000000000}}
			})},
		},
		{
			name:    "device without a path",
			dg:      spec.DriveGroupSpec{ServiceID: "s", DataDevices: &spec.DeviceSelection{All: true}},
			devices: []Device{mkDevice("", true, "1.00 TB")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := SelectDrives(&tt.dg, tt.devices, 0)
			if err == nil {
				t.Fatalf("SelectDrives = %v, want an error", sel)
			}
			if tt.wantMsg == "" {
				var de *DeviceError
				if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDevice) {
					t.Fatalf("error %T %v, want *DeviceError", err, err)
				}
				if errors.Is(err, spec.ErrInvalidSpec) {
					t.Errorf("device error %v must not classify as an invalid spec", err)
				}
				return
			}
			var ve *spec.ValidationError
			if !errors.As(err, &ve) || ve.Kind != "DriveGroupValidationError" {
				t.Fatalf("error %T %v, want a DriveGroupValidationError", err, err)
			}
			if !errors.Is(err, spec.ErrInvalidSpec) {
				t.Errorf("errors.Is(err, spec.ErrInvalidSpec) = false")
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestSelectionHelpers(t *testing.T) {
	sel := &Selection{Data: hdds("/dev/sda", "/dev/sdb"), DB: hdds("/dev/nvme0n1")}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"DataPaths", sel.DataPaths(), []string{"/dev/sda", "/dev/sdb"}},
		{"DBPaths", sel.DBPaths(), []string{"/dev/nvme0n1"}},
		{"WALPaths is empty, not nil", sel.WALPaths(), []string{}},
		{"JournalPaths", sel.JournalPaths(), []string{}},
		{"Empty", sel.Empty(), false},
		{"Empty of zero selection", (&Selection{}).Empty(), true},
		{"String", sel.String(), "DeviceSelection(data devices=['/dev/sda', '/dev/sdb'], wal_devices=[], " +
			"db devices=['/dev/nvme0n1'], journal devices=[])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}
