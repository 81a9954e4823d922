package inventory

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/orchceph/orch/spec"
)

var (
	genSizes   = []string{"10.00 GB", "100.00 GB", "394.27 GB", "1.00 TB", "3.64 TB"}
	genModels  = []string{"Model", "SAMSUNG MZ7", "INTEL SSDPE"}
	genVendors = []string{"ATA", "Vendor"}
	genSpecIDs = []string{"spec-a", "spec-b"}
)

func genDevices(t *rapid.T) []Device {
	n := rapid.IntRange(0, 12).Draw(t, "devices")
	perm := rapid.Permutation([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}).Draw(t, "order")
	devs := make([]Device, 0, n)
	for i := 0; i < n; i++ {
		path := fmt.Sprintf("/dev/sd%c", 'a'+perm[i])
		d := mkDevice(path, rapid.Bool().Draw(t, "rotational"), rapid.SampledFrom(genSizes).Draw(t, "size"))
		d.SysAPI.Set("model", rapid.SampledFrom(genModels).Draw(t, "model"))
		d.SysAPI.Set("vendor", rapid.SampledFrom(genVendors).Draw(t, "vendor"))
		d.Available = rapid.Bool().Draw(t, "available")
		d.CephDevice = rapid.Bool().Draw(t, "ceph")
		switch rapid.IntRange(0, 2).Draw(t, "lvs") {
		case 1:
			d.LVs = []LV{{Object{{"name", "lv"}, {"osdspec_affinity",
				rapid.SampledFrom(append([]string{""}, genSpecIDs...)).Draw(t, "affinity")}}}}
		case 2:
			d.LVs = []LV{{Object{{"name", "lv"}}}}
		}
		devs = append(devs, d)
	}
	return devs
}

func genSelection(t *rapid.T, label string) *spec.DeviceSelection {
	if rapid.IntRange(0, 3).Draw(t, label+"-nil") == 0 {
		return nil
	}
	ds := &spec.DeviceSelection{
		Size:   rapid.SampledFrom([]string{"", "", "50G:", ":200G", "100GB:2TB", "1T", "10G"}).Draw(t, label+"-size"),
		Model:  rapid.SampledFrom([]string{"", "", "SAMSUNG", "INTEL", "Mod"}).Draw(t, label+"-model"),
		Vendor: rapid.SampledFrom([]string{"", "", "ATA"}).Draw(t, label+"-vendor"),
		All:    rapid.Bool().Draw(t, label+"-all"),
		Limit:  rapid.IntRange(0, 4).Draw(t, label+"-limit"),
	}
	switch rapid.IntRange(0, 2).Draw(t, label+"-rot") {
	case 1:
		ds.Rotational = boolp(true)
	case 2:
		ds.Rotational = boolp(false)
	}
	return ds
}

func genDriveGroup(t *rapid.T) *spec.DriveGroupSpec {
	return &spec.DriveGroupSpec{
		ServiceID:      rapid.SampledFrom(genSpecIDs).Draw(t, "service_id"),
		FilterLogic:    rapid.SampledFrom([]string{"AND", "OR", ""}).Draw(t, "logic"),
		DataDevices:    genSelection(t, "data"),
		WALDevices:     genSelection(t, "wal"),
		DBDevices:      genSelection(t, "db"),
		JournalDevices: genSelection(t, "journal"),
	}
}

// TestSelectDrivesProperties checks the selection's invariants on random
// inventories and drive groups: limits hold, no device serves two roles,
// unavailable devices are only taken when cephadm allows it, results are
// sorted and deterministic, and the input is left alone.
func TestSelectDrivesProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		devs := genDevices(t)
		dg := genDriveGroup(t)
		existing := rapid.IntRange(0, 3).Draw(t, "existing")
		before := slices.Clone(devs)

		sel, err := SelectDrives(dg, devs, existing)
		if err != nil {
			t.Fatalf("SelectDrives: %v", err)
		}
		if !reflect.DeepEqual(before, devs) {
			t.Fatalf("input modified")
		}
		again, err := SelectDrives(dg, devs, existing)
		if err != nil || !reflect.DeepEqual(sel, again) {
			t.Fatalf("not deterministic: %v then %v (%v)", sel, again, err)
		}
		if dg.DataDevices == nil && !sel.Empty() {
			t.Fatalf("selected %v without data_devices", sel)
		}

		owner := map[string]Role{}
		for _, r := range Roles() {
			ds := roleSelection(dg, r)
			got := sel.Role(r)
			if ds == nil && len(got) > 0 {
				t.Fatalf("%s selected %v without a filter", r, Paths(got))
			}
			nonCeph := 0
			for i, d := range got {
				if i > 0 && got[i-1].Path > d.Path {
					t.Fatalf("%s not sorted: %v", r, Paths(got))
				}
				if prev, dup := owner[d.Path]; dup {
					t.Fatalf("%s in both %s and %s", d.Path, prev, r)
				}
				owner[d.Path] = r
				if !d.CephDevice {
					nonCeph++
				}
				if !d.Available {
					if !d.CephDevice {
						t.Fatalf("%s took unavailable non-Ceph device %s", r, d.Path)
					}
					if otherSpec(&d, dg.ServiceID) {
						t.Fatalf("%s took %s, which belongs to another spec", r, d.Path)
					}
				}
				if !containsDevice(devs, &d) {
					t.Fatalf("%s selected %s, which is not in the inventory", r, d.Path)
				}
				if ds.Rotational != nil && (dg.FilterLogic == "AND" || dg.FilterLogic == "") {
					want := map[bool]string{true: "1", false: "0"}[*ds.Rotational]
					if d.Rotational() != want {
						t.Fatalf("%s took %s with rotational %q under AND rotational=%q", r, d.Path, d.Rotational(), want)
					}
				}
			}
			if ds != nil && ds.Limit > 0 {
				room := ds.Limit - existing
				if room < 0 {
					room = 0
				}
				if nonCeph > room {
					t.Fatalf("%s took %d non-Ceph devices with limit %d and %d existing", r, nonCeph, ds.Limit, existing)
				}
				if existing >= ds.Limit && len(got) > 0 {
					t.Fatalf("%s took %v although existing daemons reach the limit", r, Paths(got))
				}
			}
		}
	})
}
