package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// generic decodes JSON into plain Go values for order-insensitive
// comparison.
func generic(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

func TestDeviceJSONRoundTrip(t *testing.T) {
	raw := readTestdata(t, "ceph-volume-inventory.json")
	var devs []Device
	if err := json.Unmarshal(raw, &devs); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if len(devs) != 3 {
		t.Fatalf("decoded %d devices, want 3", len(devs))
	}
	out, err := json.Marshal(devs)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var again []Device
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatalf("Unmarshal of output: %v", err)
	}
	for i := range devs {
		if !devs[i].Equal(&again[i]) || !reflect.DeepEqual(devs[i], again[i]) {
			t.Errorf("device %d changed in a round trip:\n%+v\n%+v", i, devs[i], again[i])
		}
	}

	// Every input key survives with its value; human_readable_type is added.
	in := generic(t, raw).([]any)
	gotAll := generic(t, out).([]any)
	for i := range in {
		want := in[i].(map[string]any)
		got := gotAll[i].(map[string]any)
		for k, v := range want {
			if k == "rejected_reasons" {
				continue // sorted on load, as cephadm does
			}
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("device %d key %q = %v, want %v", i, k, got[k], v)
			}
		}
		if _, ok := got["human_readable_type"]; !ok {
			t.Errorf("device %d: human_readable_type missing", i)
		}
	}

	t.Run("sys_api order is kept", func(t *testing.T) {
		want := []string{"compaction_threshold", "rotational", "vendor", "model", "size",
			"human_readable_size", "partitions", "path", "locked"}
		if got := devs[0].SysAPI.Keys(); !reflect.DeepEqual(got, want) {
			t.Errorf("keys = %q, want %q", got, want)
		}
	})
	t.Run("unknown top-level keys are kept", func(t *testing.T) {
		if v, ok := devs[0].Extra.Get("being_replaced"); !ok || v != false {
			t.Errorf("Extra = %v, want being_replaced=false", devs[0].Extra)
		}
	})
}

func TestDeviceFields(t *testing.T) {
	raw := readTestdata(t, "ceph-volume-inventory.json")
	var devs []Device
	if err := json.Unmarshal(raw, &devs); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	size, sizeOK := devs[0].SizeBytes()
	osd := devs[2]
	aff, affOK := osd.LVs[0].OSDSpecAffinity()
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"path", devs[0].Path, "/dev/sdb"},
		{"rotational", devs[0].Rotational(), "1"},
		{"type hdd", devs[0].HumanReadableType(), "hdd"},
		{"type ssd", devs[1].HumanReadableType(), "ssd"},
		{"model", devs[0].Model(), "ST4000NM0035-1V4"},
		{"vendor", devs[0].Vendor(), "ATA"},
		{"human size", devs[0].HumanReadableSize(), "3.64 TB"},
		{"size", size, int64(4000787030016)},
		{"size present", sizeOK, true},
		{"empty device_id", devs[1].DeviceID, ""},
		{"null crush class", devs[0].CrushDeviceClass, ""},
		{"crush class", devs[1].CrushDeviceClass, "ssd"},
		{"rejected reasons sorted", osd.RejectedReasons, []string{"Has a FileSystem", "LVM detected", "locked"}},
		{"ceph device", osd.CephDevice, true},
		{"lv name", osd.LVs[0].Name(), "osd-block-3f1c"},
		{"lv osd id", osd.LVs[0].OSDID(), "7"},
		{"lv cluster fsid", osd.LVs[0].ClusterFSID(), "c0ffee00-0000-4000-8000-000000000001"},
		{"lv affinity", aff, "fast"},
		{"lv affinity present", affOK, true},
		{"unknown type without rotational", (&Device{}).HumanReadableType(), "unknown"},
		{"String", osd.String(), "Device(path=/dev/sdd, available=false, ceph_device=true, " +
			"rejection reasons=[Has a FileSystem LVM detected locked])"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestDeviceUnmarshalNulls(t *testing.T) {
	var d Device
	in := `{"path": null, "sys_api": null, "available": null, "rejected_reasons": null, "lvs": null,
		"device_id": null, "lsm_data": null, "ceph_device": null, "crush_device_class": null}`
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want := Device{SysAPI: Object{}, LSMData: Object{}, RejectedReasons: []string{}, LVs: []LV{}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("nulls decoded to %#v, want %#v", d, want)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	wantJSON := `{"path":"","sys_api":{},"available":false,"rejected_reasons":[],"device_id":"","lsm_data":{},` +
		`"lvs":[],"ceph_device":false,"crush_device_class":null,"human_readable_type":"unknown"}`
	if string(out) != wantJSON {
		t.Errorf("Marshal = %s\nwant      %s", out, wantJSON)
	}
}

func TestDeviceUnmarshalErrors(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `3`, `{"sys_api": []}`, `{"lvs": {}}`, `{"path": 3}`, `{`} {
		t.Run(in, func(t *testing.T) {
			var d Device
			if err := json.Unmarshal([]byte(in), &d); err == nil {
				t.Errorf("Unmarshal(%s) succeeded: %+v", in, d)
			}
		})
	}
}

func TestDeviceEqual(t *testing.T) {
	base := mkDevice("/dev/sda", true, "1.00 TB")
	tests := []struct {
		name  string
		other Device
		want  bool
	}{
		{"identical", base, true},
		{"created ignored", with(base, func(d *Device) { d.Created = "2024-01-01T00:00:00Z" }), true},
		{"sys_api order ignored", with(base, func(d *Device) {
			d.SysAPI = append(Object{}, base.SysAPI...)
			d.SysAPI[0], d.SysAPI[1] = d.SysAPI[1], d.SysAPI[0]
		}), true},
		{"int and float size equal", with(base, func(d *Device) {
			d.SysAPI = append(Object{}, base.SysAPI...)
			d.SysAPI.Set("size", 423347879936.0)
		}), true},
		{"path differs", with(base, func(d *Device) { d.Path = "/dev/sdb" }), false},
		{"availability differs", with(base, func(d *Device) { d.Available = false }), false},
		{"sys_api value differs", with(base, func(d *Device) {
			d.SysAPI = append(Object{}, base.SysAPI...)
			d.SysAPI.Set("model", "Other")
		}), false},
		{"lvs differ", with(base, func(d *Device) { d.LVs = []LV{{Object{{"name", "x"}}}} }), false},
		{"class differs", with(base, func(d *Device) { d.CrushDeviceClass = "ssd" }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.Equal(&tt.other); got != tt.want {
				t.Errorf("Equal = %t, want %t", got, tt.want)
			}
		})
	}
}

func TestFindKey(t *testing.T) {
	var d Device
	err := json.Unmarshal([]byte(`{
		"path": "/dev/sdx",
		"sys_api": {"partitions": {"sdx1": {"human_readable_size": "1.00 GB", "size": 1},
		                           "sdx2": {"human_readable_size": "2.00 GB"}},
		            "foo": "bar", "foo": "baz", "nested": [{"deep": "first"}, {"deep": "second"}]},
		"lvs": [{"name": "lv0", "osd_id": "3", "deep": "lv"}],
		"lsm_data": {"health": "Good", "ledSupport": {"IDENTsupport": "Supported"}},
		"available": true
	}`), &d)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	tests := []struct {
		key   string
		want  any
		found bool
	}{
		{"path", "/dev/sdx", true},
		{"foo", "baz", true}, // last value of a repeated key, as Python's json
		// not in sys_api itself: the first partition in document order
		{"human_readable_size", "1.00 GB", true},
		{"deep", "first", true}, // sys_api is walked before lvs
		{"osd_id", "3", true},
		{"IDENTsupport", "Supported", true},
		{"human_readable_type", "unknown", true},
		{"crush_device_class", nil, true}, // present as None in cephadm's report
		{"missing", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, found := FindKey(&d, tt.key)
			if found != tt.found || !pyEqual(got, tt.want) {
				t.Errorf("FindKey(%q) = %#v, %t; want %#v, %t", tt.key, got, found, tt.want, tt.found)
			}
		})
	}
}

func TestMatchers(t *testing.T) {
	dev := Device{Path: "/dev/vdb", SysAPI: Object{
		{"model", "SAMSUNG MZ7LH"}, {"rotates", "1"}, {"count", 3}, {"tags", []any{"a", "b"}},
		{"flags", Object{{"x", true}}}, {"none", nil}, {"size", "20.00 GB"},
	}}
	tests := []struct {
		name    string
		m       Matcher
		want    bool
		wantErr string // "device" for a *DeviceError, else the *MatchInvalid message
	}{
		{"substring hit", &SubstringMatcher{"model", "MZ7"}, true, ""},
		{"substring case-sensitive", &SubstringMatcher{"model", "samsung"}, false, ""},
		{"substring in list", &SubstringMatcher{"tags", "b"}, true, ""},
		{"substring dict key", &SubstringMatcher{"flags", "x"}, true, ""},
		{"substring on a number", &SubstringMatcher{"count", "3"}, false, "device"},
		{"substring on null", &SubstringMatcher{"none", "3"}, false, "device"},
		{"substring missing key", &SubstringMatcher{"vendor", "x"}, false, "No value found for vendor or None"},
		{"equality hit", &EqualityMatcher{"rotates", "1"}, true, ""},
		{"equality miss", &EqualityMatcher{"rotates", "0"}, false, ""},
		{"equality number vs string", &EqualityMatcher{"count", "3"}, false, ""},
		{"equality number", &EqualityMatcher{"count", 3.0}, true, ""},
		{"equality missing key", &EqualityMatcher{"rotational", "1"}, false, "No value found for rotational or "},
		{"all", &AllMatcher{"False"}, true, ""},
		{"size exact falls back to size", &SizeMatcher{Filter: mustSize(t, "20GB")}, true, ""},
		{"size no bounds", &SizeMatcher{Filter: mustSize(t, "None")}, false, "No filters applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.Compare(&dev)
			switch tt.wantErr {
			case "":
				if err != nil || got != tt.want {
					t.Errorf("Compare = %t, %v; want %t", got, err, tt.want)
				}
			case "device":
				var de *DeviceError
				if !errors.As(err, &de) {
					t.Errorf("Compare error = %v, want *DeviceError", err)
				}
			default:
				var mi *MatchInvalid
				if !errors.As(err, &mi) || mi.Msg != tt.wantErr {
					t.Errorf("Compare error = %v, want *MatchInvalid %q", err, tt.wantErr)
				}
			}
		})
	}
	t.Run("size empty value does not match", func(t *testing.T) {
		d := Device{Path: "/dev/x", SysAPI: Object{{"human_readable_size", ""}, {"size", "20.00 GB"}}}
		got, err := (&SizeMatcher{Filter: mustSize(t, "20GB")}).Compare(&d)
		if err != nil || got {
			t.Errorf("Compare = %t, %v; want false (no fallback for a present, empty key)", got, err)
		}
	})
	t.Run("size missing keys", func(t *testing.T) {
		_, err := (&SizeMatcher{Filter: mustSize(t, "20GB")}).Compare(&Device{Path: "/dev/x"})
		var mi *MatchInvalid
		if !errors.As(err, &mi) || mi.Msg != "No value found for human_readable_size or size" {
			t.Errorf("Compare error = %v", err)
		}
	})
}

func mustSize(t *testing.T, s string) SizeFilter {
	t.Helper()
	f, err := ParseSizeFilter(s)
	if err != nil {
		t.Fatalf("ParseSizeFilter(%q): %v", s, err)
	}
	return f
}

func TestInventoryHostJSON(t *testing.T) {
	raw := []byte(`[{"name": "node1", "addr": "10.0.0.1", "labels": ["osd"],
		"devices": [{"path": "/dev/sdb", "available": true, "sys_api": {"rotational": "1"}}]},
		{"name": "node2", "devices": []}]`)
	var hosts Hosts
	if err := json.Unmarshal(raw, &hosts); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	h := hosts.Find("node1")
	if h == nil || h.Addr != "10.0.0.1" || len(h.Devices) != 1 || h.Devices[0].Path != "/dev/sdb" ||
		!reflect.DeepEqual(h.Labels, []string{"osd"}) {
		t.Fatalf("Find(node1) = %+v", h)
	}
	if hosts.Find("node3") != nil {
		t.Errorf("Find(node3) found a host")
	}
	out, err := json.Marshal(hosts[1])
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if string(out) != `{"name":"node2","devices":[]}` {
		t.Errorf("Marshal = %s", out)
	}
}
