package agent

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
)

// inventoryRunner answers the commands an inventory of testdata/host1 runs;
// skip names devices the inventory is expected not to probe.
func inventoryRunner(t *testing.T, skip ...string) *fakeRunner {
	r := newFakeRunner(t).
		on(readTestdata(t, "host1/lsblk.json"), nil, "lsblk", "-J", "-b", "-O").
		on("  /dev/sda;ceph-abc;0;osd-block-1;/dev/ceph-abc/osd-block-1;ceph.osd_id=3,ceph.type=block,ceph.cluster_name=ceph,ceph.osd_fsid=f1,ceph.cluster_fsid=c1\n"+
			"  /dev/sdb1-not-here;vg9;100;;;\n", nil,
			"pvs", "--noheadings", "--readonly", "--units=b", "--nosuffix", "--separator=;", "-o", "pv_name,vg_name,vg_free_count,lv_name,lv_path,lv_tags").
		on(`/dev/sdc: PTUUID="0f1e" PTTYPE="gpt"`+"\n", nil, "blkid", "-c", "/dev/null", "-p", "/dev/sdc").
		on(`/dev/sdc1: UUID="aa-bb" BLOCK_SIZE="512" TYPE="xfs" USAGE="filesystem" PART_ENTRY_SCHEME="gpt" PART_ENTRY_NAME="data" PART_ENTRY_TYPE="0fc63daf-8483-4772-8e79-3d69d8477de4"`+"\n", nil,
			"blkid", "-c", "/dev/null", "-p", "/dev/sdc1")
	for _, dev := range []string{"/dev/mapper/mpatha", "/dev/loop0", "/dev/sda", "/dev/sdb", "/dev/sdd", "/dev/sde", "/dev/zram0"} {
		if slices.Contains(skip, dev) {
			continue
		}
		r.on("", exitErr(2, ""), "blkid", "-c", "/dev/null", "-p", dev)
	}
	return r
}

func TestInventory(t *testing.T) {
	h := fixtureHost(t, inventoryRunner(t), "lsblk", "blkid", "pvs")
	devs, err := h.Inventory(context.Background(), InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path      string
		available bool
		reasons   []string
	}{
		{"/dev/loop0", true, []string{}},
		{"/dev/mapper/mpatha", true, []string{}},
		{"/dev/sda", false, []string{ReasonVGFull, ReasonLVM}},
		{"/dev/sdb", true, []string{}},
		{"/dev/sdc", false, []string{ReasonGPT, ReasonPartitions}},
		{"/dev/sdc1", false, []string{ReasonTooSmall, ReasonFileSystem}},
		{"/dev/sdd", false, []string{ReasonUSB, ReasonReadOnly}},
		{"/dev/sde", false, []string{ReasonBlueStore}},
		{"/dev/zram0", false, []string{ReasonTooSmall}},
	}
	if len(devs) != len(want) {
		var paths []string
		for _, d := range devs {
			paths = append(paths, d.Path)
		}
		t.Fatalf("devices = %q, want %d of them (no lvm, multipath legs, detached loops or absent nodes)", paths, len(want))
	}
	for i, w := range want {
		d := devs[i]
		t.Run(w.path, func(t *testing.T) {
			if d.Path != w.path || d.Available != w.available || !reflect.DeepEqual(d.RejectedReasons, w.reasons) {
				t.Errorf("got %s available=%v reasons=%q; want %s available=%v reasons=%q", d.Path, d.Available, d.RejectedReasons, w.path, w.available, w.reasons)
			}
		})
	}
	byPath := map[string]Device{}
	for _, d := range devs {
		byPath[d.Path] = d
	}

	sda := byPath["/dev/sda"]
	wantLV := LV{Name: "osd-block-1", OSDID: "3", ClusterName: "ceph", Type: "block", OSDFSID: "f1", ClusterFSID: "c1"}
	if !sda.CephDevice || len(sda.LVs) != 1 || sda.LVs[0].Name != wantLV.Name || sda.LVs[0].OSDID != "3" || sda.LVs[0].ClusterFSID != "c1" {
		t.Errorf("sda ceph_device=%v lvs=%+v, want %+v", sda.CephDevice, sda.LVs, wantLV)
	}
	if sda.DeviceID != "SAMSUNG_MZ7LH960_S45NNA0M123456" || sda.SysAPI.IDBus != "ata" {
		t.Errorf("sda device_id=%q id_bus=%q", sda.DeviceID, sda.SysAPI.IDBus)
	}
	if got := byPath["/dev/sdb"].DeviceID; got != "SEAGATE_ST4000NM0035_ZC1A2B3C" {
		t.Errorf("sdb device_id = %q", got)
	}
	if got := byPath["/dev/sdd"].DeviceID; got != "Kingston_DataTraveler_0001" {
		t.Errorf("sdd device_id = %q", got)
	}

	sdb := byPath["/dev/sdb"].SysAPI
	wantSdb := SysAPI{
		DeviceNodes: "sdb", Devname: "sdb", HumanReadableSize: "3.64 TB", IDBus: "scsi", Model: "ST4000NM0035",
		NrRequests: "64", Parent: "/dev/sdb", Partitions: map[string]Partition{}, Path: "/dev/sdb", Removable: "0",
		RO: "0", Rotational: "1", SchedulerMode: "mq-deadline", SectorSize: "512", Size: 7814037168 * 512,
		SupportDiscard: "0", Type: "disk", Vendor: "SEAGATE",
	}
	if !reflect.DeepEqual(sdb, wantSdb) {
		t.Errorf("sdb sys_api =\n%+v\nwant\n%+v", sdb, wantSdb)
	}
	wantPart := map[string]Partition{"sdc1": {Start: "2048", Sectors: "2097152", SectorSize: "512", Size: 1 << 30, HumanReadableSize: "1.00 GB", Holders: []string{}}}
	if got := byPath["/dev/sdc"].SysAPI.Partitions; !reflect.DeepEqual(got, wantPart) {
		t.Errorf("sdc partitions = %+v, want %+v", got, wantPart)
	}
	if p := byPath["/dev/sdc1"].SysAPI; p.Type != "part" || p.Parent != "sdc" || p.DeviceNodes != "sdc" {
		t.Errorf("sdc1 sys_api = %+v", p)
	}
	if m := byPath["/dev/mapper/mpatha"].SysAPI; m.Type != "mpath" || m.DeviceNodes != "sdf" || m.Devname != "dm-1" {
		t.Errorf("mpatha sys_api = %+v", m)
	}

	// The JSON has ceph-volume's keys.
	b, err := json.Marshal(byPath["/dev/loop0"])
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"path", "sys_api", "available", "rejected_reasons", "lvs", "device_id", "ceph_device", "lsm_data"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	golden(t, "host1/inventory.golden.json", devs)
}

func TestInventoryExcludeLoop(t *testing.T) {
	r := inventoryRunner(t, "/dev/loop0")
	h := fixtureHost(t, r, "lsblk", "blkid", "pvs")
	devs, err := h.Inventory(context.Background(), InventoryOptions{ExcludeLoop: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.SysAPI.Type == "loop" {
			t.Errorf("loop device %s listed with ExcludeLoop", d.Path)
		}
	}
	if len(devs) != 8 {
		t.Errorf("got %d devices, want 8", len(devs))
	}
}

func TestInventoryWithoutLsblk(t *testing.T) {
	h := fixtureHost(t, newFakeRunner(t), "blkid")
	if _, err := h.Inventory(context.Background(), InventoryOptions{}); !errors.Is(err, ErrToolMissing) {
		t.Fatalf("err = %v, want ErrToolMissing", err)
	}
}

func TestParseBlkid(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want map[string]string
	}{
		{`/dev/loop1: UUID="6e0d" VERSION="1.0" BLOCK_SIZE="4096" TYPE="ext4" USAGE="filesystem"`,
			map[string]string{"UUID": "6e0d", "VERSION": "1.0", "BLOCK_SIZE": "4096", "TYPE": "ext4", "USAGE": "filesystem"}},
		{`/dev/sdc1: PART_ENTRY_NAME="ceph data" PART_ENTRY_TYPE="4fbd7e29-9d25-41b8-afd0-062c0ceff05d"`,
			map[string]string{"PART_ENTRY_NAME": "ceph data", "PART_ENTRY_TYPE": "4fbd7e29-9d25-41b8-afd0-062c0ceff05d"}},
		{"", map[string]string{}},
		{`/dev/x: BARE=value TYPE="swap"`, map[string]string{"BARE": "value", "TYPE": "swap"}},
	} {
		if got := ParseBlkid(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseBlkid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseLsblkOldTypes(t *testing.T) {
	// util-linux before 2.33 printed every value as a string.
	devs, err := ParseLsblk([]byte(`{"blockdevices":[{"name":"sda","kname":"sda","type":"disk","size":"1000","rota":"1","ro":"0",
		"children":[{"name":"sda1","kname":"sda1","type":"part","size":"500","rota":"1","ro":"0","pkname":"sda","fstype":"xfs"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if devs["sda"].Rota != "1" || devs["sda1"].FSType != "xfs" || devs["sda1"].PKName != "sda" || devs["sda"].Children != nil {
		t.Errorf("parsed = %+v", devs)
	}
	if _, err := ParseLsblk([]byte(`{"blockdevices":[{"name":{}}]}`)); err == nil {
		t.Error("an object as a name should be an error")
	}
}

func TestHumanReadableSize(t *testing.T) {
	for _, tt := range []struct {
		n    float64
		want string
	}{
		{0, "0.00 B"}, {1023, "1023.00 B"}, {1024, "1.00 KB"}, {6 << 30, "6.00 GB"}, {256 << 30, "256.00 GB"}, {1 << 60, "1024.00 PB"},
	} {
		if got := humanReadableSize(tt.n); got != tt.want {
			t.Errorf("humanReadableSize(%v) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDeviceID(t *testing.T) {
	for _, tt := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"ID_VENDOR": "ATA", "ID_MODEL": "X", "ID_SCSI_SERIAL": "S1"}, "ATA_X_S1"},
		{map[string]string{"ID_MODEL": "Samsung SSD", "ID_SERIAL_SHORT": "S2"}, "Samsung_SSD_S2"},
		{map[string]string{"ID_SERIAL": "MTFDDAK960TDN_1"}, "Micron_MTFDDAK960TDN_1"},
		{map[string]string{"ID_MODEL": "LVM PV abc", "ID_MODEL_ENC": `Real\x20Model`, "ID_SERIAL_SHORT": "S3"}, "Real_Model_S3"},
		{map[string]string{}, ""},
	} {
		if got := deviceID(tt.props); got != tt.want {
			t.Errorf("deviceID(%v) = %q, want %q", tt.props, got, tt.want)
		}
	}
}

func FuzzParseBlkid(f *testing.F) {
	f.Add(`/dev/loop1: UUID="6e0d" TYPE="ext4"`)
	f.Add(`x: A="unterminated`)
	f.Fuzz(func(t *testing.T, s string) { _ = ParseBlkid(s) })
}

func FuzzParseLsblk(f *testing.F) {
	f.Add([]byte(`{"blockdevices":[{"name":"sda","children":[{"name":"sda1"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseLsblk(b) })
}

func TestInventoryWithoutBlkidUsesLsblk(t *testing.T) {
	r := newFakeRunner(t).on(readTestdata(t, "host1/lsblk.json"), nil, "lsblk", "-J", "-b", "-O")
	h := fixtureHost(t, r, "lsblk") // no blkid, no LVM tools
	devs, err := h.Inventory(context.Background(), InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"/dev/sdc":  {ReasonGPT, ReasonPartitions},
		"/dev/sdc1": {ReasonTooSmall, ReasonFileSystem},
		"/dev/sda":  {},
	}
	for _, d := range devs {
		if w, ok := want[d.Path]; ok && !reflect.DeepEqual(d.RejectedReasons, w) {
			t.Errorf("%s reasons = %q, want %q", d.Path, d.RejectedReasons, w)
		}
	}
}
