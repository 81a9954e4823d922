package orchestrator

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

func TestOSDMethod(t *testing.T) {
	tests := []struct {
		method string
		dm     bool
		want   string
		err    bool
	}{
		{"", true, "lvm", false},
		{"", false, "raw", false},
		{"raw", true, "raw", false},
		{"raw", false, "raw", false},
		{"lvm", true, "lvm", false},
		{"lvm", false, "", true},
		{"zfs", true, "", true},
	}
	for _, tt := range tests {
		got, err := osdMethod(tt.method, "h1", tt.dm)
		var ve *spec.ValidationError
		if got != tt.want || (err != nil) != tt.err || (err != nil && !errors.As(err, &ve)) {
			t.Errorf("osdMethod(%q, dm=%v) = %q, %v; want %q (error %v)", tt.method, tt.dm, got, err, tt.want, tt.err)
		}
	}
}

func TestLvmBatchArgs(t *testing.T) {
	got := lvmBatchArgs([]string{"/dev/a", "/dev/b"}, []string{"/dev/x"}, []string{"/dev/w"}, []int{4})
	want := []string{"lvm", "batch", "--no-auto", "/dev/a", "/dev/b", "--db-devices", "/dev/x", "--wal-devices", "/dev/w",
		"--osd-ids", "4", "--yes", "--no-systemd"}
	if !slices.Equal(got, want) {
		t.Errorf("lvmBatchArgs = %v\nwant %v", got, want)
	}
	if got := lvmBatchArgs([]string{"/dev/a"}, nil, nil, nil); !slices.Equal(got, []string{"lvm", "batch", "--no-auto", "/dev/a", "--yes", "--no-systemd"}) {
		t.Errorf("data only: %v", got)
	}
}

// lvmListFixture is the shape of `ceph-volume lvm list --format json`
// (16.2): OSD id → its LVs (block, and db/wal when separate).
const lvmListFixture = `{
 "0": [
  {"devices": ["/dev/sdb"], "lv_name": "osd-block-u0", "path": "/dev/ceph-a/osd-block-u0", "type": "block",
   "tags": {"ceph.cluster_fsid": "F", "ceph.osd_fsid": "u0", "ceph.osd_id": "0", "ceph.type": "block"}},
  {"devices": ["/dev/sdx"], "lv_name": "osd-db-u0", "path": "/dev/ceph-b/osd-db-u0", "type": "db",
   "tags": {"ceph.cluster_fsid": "F", "ceph.osd_fsid": "u0", "ceph.osd_id": "0", "ceph.type": "db"}}
 ],
 "3": [
  {"devices": ["/dev/sdc"], "path": "/dev/ceph-c/osd-block-u3", "type": "block",
   "tags": {"ceph.cluster_fsid": "F", "ceph.osd_fsid": "u3", "ceph.osd_id": "3", "ceph.type": "block"}}
 ],
 "7": [
  {"devices": ["/dev/sdd"], "type": "block", "tags": {"ceph.cluster_fsid": "other", "ceph.osd_fsid": "u7"}}
 ]
}`

func TestParseLvmList(t *testing.T) {
	got, err := parseLvmList([]byte(lvmListFixture), "F")
	want := []rawOSD{
		{CephFSID: "F", Device: "/dev/sdb", OSDID: 0, OSDUUID: "u0", Type: "bluestore"},
		{CephFSID: "F", Device: "/dev/sdc", OSDID: 3, OSDUUID: "u3", Type: "bluestore"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseLvmList = %+v, %v", got, err)
	}
	for _, bad := range []string{`[]`, `{"x": []}`, `{"-1": []}`, `not json`} {
		if _, err := parseLvmList([]byte(bad), "F"); err == nil {
			t.Errorf("parseLvmList(%s) accepted", bad)
		}
	}
}

func FuzzParseLvmList(f *testing.F) {
	f.Add([]byte(lvmListFixture))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		osds, err := parseLvmList(b, "F")
		if err != nil {
			return
		}
		for _, o := range osds {
			if o.CephFSID != "F" || o.OSDID < 0 {
				t.Fatalf("kept %+v", o)
			}
		}
	})
}

// TestApplyOSDsWithLVM: on a host whose kernel has device-mapper, a drive
// group without method is prepared with one `lvm batch` (data and db
// devices together), its OSDs are found with `lvm list`, and deployed; a
// spec with method: raw still uses raw prepare there. Without
// device-mapper, method: lvm fails with a clear error.
func TestApplyOSDsWithLVM(t *testing.T) {
	for _, tt := range []struct {
		name     string
		method   string
		dm       bool
		wantCall []string
		wantFail string
	}{
		{name: "lvm batch", dm: true, wantCall: []string{"lvm", "batch", "--no-auto", "/dev/sda", "/dev/sdc", "--yes", "--no-systemd"}},
		{name: "raw by request", method: "raw", dm: true, wantCall: []string{"raw", "prepare", "--bluestore", "--data", "/dev/sda"}},
		{name: "lvm without device-mapper", method: "lvm", dm: false,
			wantFail: "Failed to apply osd.all-available-devices on h2: method lvm needs device-mapper, which the kernel of host h2 lacks (no /dev/mapper/control); use method: raw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newCephSvcEnv(t)
			e.fake.deviceMapper = tt.dm
			bkey, _ := newCephKey(rand.Reader, time.Now())
			if err := e.st.SetSecret(store.KeyringSecret("client.bootstrap-osd"), store.Secret(minimalKeyring("client.bootstrap-osd", bkey))); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if err := e.st.UpdateHostCache("h2", store.CacheDevices, fakeDevices("h2"), now); err != nil {
				t.Fatal(err)
			}
			if err := e.st.UpdateHostCache("h2", store.CacheDaemons, json.RawMessage(`[]`), now); err != nil {
				t.Fatal(err)
			}
			sp := map[string]any{"data_devices": map[string]any{"all": true}}
			if tt.method != "" {
				sp["method"] = tt.method
			}
			body, _ := json.Marshal(map[string]any{"service_type": "osd", "service_id": "all-available-devices",
				"placement": map[string]any{"hosts": []any{"h2"}}, "spec": sp})
			if err := e.st.PutSpec(store.SpecRecord{ServiceName: "osd.all-available-devices", Spec: body, Created: now}); err != nil {
				t.Fatal(err)
			}
			var calls [][]string
			prepared := false
			e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
				if len(c.Argv) < 5 || c.Argv[0] != "env" || c.Argv[4] != cephVolumeScript {
					return nil, nil, false
				}
				args := c.Argv[7:]
				switch {
				case args[1] == "prepare" || args[1] == "batch":
					calls = append(calls, args)
					prepared = true
					return nil, nil, true
				case args[0] == "raw" && args[1] == "list":
					return []byte(`{}`), nil, true
				case args[0] == "lvm" && args[1] == "list":
					if !tt.dm {
						t.Error("lvm list without device-mapper")
					}
					if !prepared {
						return []byte(`{}`), nil, true
					}
					return []byte(`{"0": [{"devices": ["/dev/sda"], "type": "block", "tags": {"ceph.cluster_fsid": "` + e.fsid + `", "ceph.osd_fsid": "u0"}}]}`), nil, true
				}
				t.Errorf("unexpected ceph-volume %v", args)
				return nil, fakeExit(c.Host, c.Argv, 1, "no"), true
			})
			p := e.pass(t)
			p.applyAll()
			if tt.wantFail != "" {
				if len(p.placeFails) != 1 || p.placeFails[0] != tt.wantFail || len(calls) > 0 {
					t.Fatalf("failures %v, ceph-volume calls %v", p.placeFails, calls)
				}
				return
			}
			if len(p.placeFails) > 0 || len(calls) == 0 || !slices.Equal(calls[0], tt.wantCall) {
				t.Fatalf("failures %v; ceph-volume calls %v, want first %v", p.placeFails, calls, tt.wantCall)
			}
			if tt.dm && tt.method == "" {
				e.fake.mu.Lock()
				d := e.fake.daemons["osd.0"]
				e.fake.mu.Unlock()
				if d == nil || len(d.InitContainers) != 1 || !slices.Contains(d.InitContainers[0].Args, "u0") {
					t.Errorf("osd.0 from lvm list not deployed: %+v", d)
				}
			}
		})
	}
}
