package inventory

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/orchceph/orch/spec"
)

// FuzzParseSize feeds arbitrary size filters (user input from OSD specs)
// to the parser and checks that it either rejects the unit with cephadm's
// message or yields bounds that convert and compare without failing.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"10G", "20G:50G", ":50G", "50G:", "20.12GB", "10P", "wrong", "", "1TB:", "10g:40g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sf, err := ParseSizeFilter(s)
		if err != nil {
			var mi *MatchInvalid
			if !errors.As(err, &mi) || !strings.HasPrefix(mi.Msg, "Unit '") || !strings.HasSuffix(mi.Msg, "' not supported") {
				t.Fatalf("ParseSizeFilter(%q) error %T %v, want an unsupported unit", s, err, err)
			}
			return
		}
		if sf.Raw != s {
			t.Fatalf("Raw = %q, want %q", sf.Raw, s)
		}
		any := false
		for _, b := range []SizeBound{sf.Low, sf.High, sf.Exact} {
			if !b.IsSet() {
				continue
			}
			any = true
			if _, known := unitBytes[b.Unit]; !known {
				t.Fatalf("bound %+v has unit outside KB/MB/GB/TB", b)
			}
			n := ToByte(b)
			if n < 0 || math.IsNaN(n) {
				t.Fatalf("ToByte(%+v) = %v", b, n)
			}
			// The bound's own text parses back to the same bound.
			again, err := GetKV(b.Value + b.Unit)
			if err != nil || again != b {
				t.Fatalf("GetKV(%q) = %+v, %v; want %+v", b.Value+b.Unit, again, err, b)
			}
		}
		_, err = sf.MatchBytes(1e9)
		if any && err != nil {
			t.Fatalf("MatchBytes with bounds %+v: %v", sf, err)
		}
		if !any && err == nil {
			t.Fatalf("MatchBytes without bounds succeeded for %q", s)
		}
	})
}

// FuzzDeviceJSON decodes arbitrary device reports (data from hosts) and
// checks that a decoded device re-encodes to an equal device and can be
// searched and selected without panicking.
func FuzzDeviceJSON(f *testing.F) {
	f.Add([]byte(`{"path": "/dev/sda", "available": true, "sys_api": {"rotational": "1", "human_readable_size": "1.00 TB", "model": "M", "vendor": "V"}}`))
	f.Add([]byte(`{"path": "/dev/sdb", "available": false, "ceph_device": true, "lvs": [{"osdspec_affinity": "x"}], "extra": [1, {"a": null}]}`))
	f.Add([]byte(`{"path": "", "sys_api": {"size": 10, "size": "1.0 GB"}, "rejected_reasons": ["b", "a"], "crush_device_class": "ssd"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Device
		if err := json.Unmarshal(data, &d); err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", d, err)
		}
		var again Device
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("Unmarshal(%s): %v", out, err)
		}
		if !d.Equal(&again) || !reflect.DeepEqual(d, again) {
			t.Fatalf("round trip changed the device:\n%#v\n%#v", d, again)
		}
		FindKey(&d, "model")
		for _, ds := range []*spec.DeviceSelection{
			{All: true}, {Size: "1G:"}, {Model: "M", Vendor: "V"}, {Rotational: boolp(true), Limit: 1},
		} {
			sel, err := SelectDrives(&spec.DriveGroupSpec{ServiceID: "x", DataDevices: ds}, []Device{d}, 0)
			if err == nil && len(sel.Data) > 1 {
				t.Fatalf("one device selected %d times", len(sel.Data))
			}
			var ve *spec.ValidationError
			var de *DeviceError
			if err != nil && !errors.As(err, &ve) && !errors.As(err, &de) {
				t.Fatalf("untyped error %T %v", err, err)
			}
		}
	})
}
