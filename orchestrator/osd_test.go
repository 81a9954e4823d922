package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

func TestParseRawList(t *testing.T) {
	out := []byte(`{
 "u1": {"ceph_fsid": "F", "device": "/dev/loop3", "osd_id": 1, "osd_uuid": "u1", "type": "bluestore"},
 "u0": {"ceph_fsid": "F", "device": "/dev/loop2", "osd_id": 0, "osd_uuid": "u0", "type": "bluestore"},
 "x":  {"ceph_fsid": "other", "device": "/dev/loop9", "osd_id": 0, "osd_uuid": "x", "type": "bluestore"}}`)
	osds, err := parseRawList(out, "F")
	if err != nil || len(osds) != 2 || osds[0].OSDID != 0 || osds[0].Device != "/dev/loop2" || osds[1].OSDUUID != "u1" {
		t.Fatalf("parseRawList = %+v, %v", osds, err)
	}
	if _, err := parseRawList([]byte("nope"), "F"); err == nil {
		t.Error("bad JSON accepted")
	}
	ic := osdActivateInit(osds[0])
	if ic.When != agent.RunFirstDeploy || !ic.Privileged || !ic.DefaultMounts ||
		!slices.Equal(ic.Args, []string{"activate", "--osd-id", "0", "--osd-uuid", "u0", "--no-systemd", "--no-tmpfs"}) {
		t.Errorf("activate = %+v", ic)
	}
}

// TestApplyOSDsPreparesAndDeploys: an all-available-devices spec prepares
// the available devices of h2 with ceph-volume (the bootstrap-osd keyring
// on stdin only, the device_slaves crash retried), lists them and deploys
// one osd daemon per OSD of the cluster on the host's own devices.
func TestApplyOSDsPreparesAndDeploys(t *testing.T) {
	e := newCephSvcEnv(t)
	bkey, _ := newCephKey(rand.Reader, time.Now())
	bkr := minimalKeyring("client.bootstrap-osd", bkey)
	if err := e.st.SetSecret(store.KeyringSecret("client.bootstrap-osd"), store.Secret(bkr)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := e.st.UpdateHostCache("h2", store.CacheDevices, fakeDevices("h2"), now); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UpdateHostCache("h2", store.CacheDaemons, json.RawMessage(`[]`), now); err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"service_type": "osd", "service_id": "all-available-devices",
		"placement": map[string]any{"hosts": []any{"h2"}}, "spec": map[string]any{"data_devices": map[string]any{"all": true}}}
	body, _ := json.Marshal(spec)
	if err := e.st.PutSpec(store.SpecRecord{ServiceName: "osd.all-available-devices", Spec: body, Created: now}); err != nil {
		t.Fatal(err)
	}
	var prepared []string
	slaves := 0
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if len(c.Argv) < 5 || c.Argv[0] != "env" || c.Argv[4] != cephVolumeScript {
			return nil, nil, false
		}
		if string(c.Stdin) != bkr {
			t.Errorf("ceph-volume stdin = %q, want the bootstrap-osd keyring", c.Stdin)
		}
		args := c.Argv[7:]
		switch {
		case args[0] == "raw" && args[1] == "prepare":
			if args[len(args)-1] == "/dev/sdc" && slaves == 0 {
				slaves++
				return nil, fakeExit(c.Host, c.Argv, 1, "UnboundLocalError: local variable 'device_slaves' referenced before assignment"), true
			}
			prepared = append(prepared, args[len(args)-1])
			return nil, nil, true
		case args[0] == "raw" && args[1] == "list":
			m := map[string]rawOSD{}
			for i, d := range prepared {
				u := fmt.Sprintf("uuid-%d", i)
				m[u] = rawOSD{CephFSID: e.fsid, Device: d, OSDID: i, OSDUUID: u, Type: "bluestore"}
			}
			// An OSD of another cluster.
			m["uuid-9"] = rawOSD{CephFSID: "other", Device: "/dev/loop9", OSDID: 9, OSDUUID: "uuid-9"}
			b, _ := json.Marshal(m)
			return b, nil, true
		}
		t.Errorf("unexpected ceph-volume %v", args)
		return nil, fakeExit(c.Host, c.Argv, 1, "no"), true
	})
	p := e.pass(t)
	p.applyAll()
	if len(p.placeFails) > 0 || len(p.applyFails) > 0 {
		t.Fatalf("failures: %v %v", p.placeFails, p.applyFails)
	}
	if !slices.Equal(prepared, []string{"/dev/sda", "/dev/sdc"}) || slaves != 1 {
		t.Errorf("prepared %v (device_slaves retries %d)", prepared, slaves)
	}
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	for i, dev := range prepared {
		name := fmt.Sprintf("osd.%d", i)
		d := e.fake.daemons[name]
		if d == nil {
			t.Fatalf("%s (%s) not deployed; have %v", name, dev, bootKeys(e.fake.daemons))
		}
		a := e.fake.auth[name]
		if !strings.Contains(d.ConfigBlobs.Config, "mon_host") || a.Key == "" || !strings.Contains(d.ConfigBlobs.Keyring, a.Key) ||
			d.Params.UID == nil || *d.Params.UID != 167 || len(d.InitContainers) != 1 || d.InitContainers[0].Name != "activate" ||
			d.Meta.ServiceName != "osd.all-available-devices" {
			t.Errorf("%s: %+v", name, d)
		}
	}
	if _, ok := e.fake.daemons["osd.9"]; ok {
		t.Error("deployed another cluster's OSD")
	}
	for _, c := range e.fake.calls {
		if strings.Contains(strings.Join(c.Argv, " "), bkey) {
			t.Errorf("bootstrap-osd key in an argv: %s", c)
		}
	}
}

// TestCreateOSDs: `orch daemon add osd h2:/dev/sdc` prepares that device
// only and deploys its OSD in the spec-less service "osd".
func TestCreateOSDs(t *testing.T) {
	e := newCephSvcEnv(t)
	bkey, _ := newCephKey(rand.Reader, time.Now())
	if err := e.st.SetSecret(store.KeyringSecret("client.bootstrap-osd"), store.Secret(minimalKeyring("client.bootstrap-osd", bkey))); err != nil {
		t.Fatal(err)
	}
	var prepared []string
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if len(c.Argv) < 8 || c.Argv[0] != "env" || c.Argv[4] != cephVolumeScript {
			return nil, nil, false
		}
		args := c.Argv[7:]
		if args[1] == "prepare" {
			prepared = append(prepared, args[len(args)-1])
			return nil, nil, true
		}
		b, _ := json.Marshal(map[string]rawOSD{"u": {CephFSID: e.fsid, Device: "/dev/sdc", OSDID: 4, OSDUUID: "u"}})
		return b, nil, true
	})
	if _, err := e.r.CreateOSDs(context.Background(), "h2", []string{"/dev/sdc; rm -rf /"}); err == nil {
		t.Error("a bad device path was accepted")
	}
	msg, err := e.r.CreateOSDs(context.Background(), "h2", []string{"/dev/sdc"})
	if err != nil || msg != "Created osd(s) 4 on host 'h2'" {
		t.Fatalf("CreateOSDs = %q, %v", msg, err)
	}
	if !slices.Equal(prepared, []string{"/dev/sdc"}) {
		t.Errorf("prepared %v", prepared)
	}
	e.fake.mu.Lock()
	d := e.fake.daemons["osd.4"]
	e.fake.mu.Unlock()
	if d == nil || d.Meta.ServiceName != "osd" || d.InitContainers[0].Args[4] != "u" {
		t.Fatalf("osd.4 = %+v", d)
	}
}

func TestOSDPrepares(t *testing.T) {
	tests := []struct {
		name         string
		method       string
		data, db, wl []string
		ids          []int // replaced OSD ids for the first call
		want         [][]string
		err          string
	}{
		{name: "data only", data: []string{"/dev/a", "/dev/b"}, want: [][]string{
			{"raw", "prepare", "--bluestore", "--data", "/dev/a"},
			{"raw", "prepare", "--bluestore", "--data", "/dev/b"}}},
		{name: "db and wal paired", data: []string{"/dev/a", "/dev/b"}, db: []string{"/dev/x", "/dev/y"}, wl: []string{"/dev/w", "/dev/v"}, want: [][]string{
			{"raw", "prepare", "--bluestore", "--data", "/dev/a", "--block.db", "/dev/x", "--block.wal", "/dev/w"},
			{"raw", "prepare", "--bluestore", "--data", "/dev/b", "--block.db", "/dev/y", "--block.wal", "/dev/v"}}},
		{name: "db only", data: []string{"/dev/a"}, db: []string{"/dev/x"}, want: [][]string{
			{"raw", "prepare", "--bluestore", "--data", "/dev/a", "--block.db", "/dev/x"}}},
		{name: "shared db refused", data: []string{"/dev/a", "/dev/b"}, db: []string{"/dev/x"},
			err: "Number of data devices must match number of db devices for raw mode osds (2 data, 1 db)"},
		{name: "wal count mismatch", data: []string{"/dev/a"}, wl: []string{"/dev/w", "/dev/v"},
			err: "Number of data devices must match number of wal devices for raw mode osds (1 data, 2 wal)"},
		{name: "raw reuses a replaced id", data: []string{"/dev/a", "/dev/b"}, ids: []int{7}, want: [][]string{
			{"raw", "prepare", "--bluestore", "--data", "/dev/a", "--osd-id", "7"},
			{"raw", "prepare", "--bluestore", "--data", "/dev/b"}}},
		{name: "lvm batch shares db", method: "lvm", data: []string{"/dev/a", "/dev/b"}, db: []string{"/dev/x"}, ids: []int{7, 9}, want: [][]string{
			{"lvm", "batch", "--no-auto", "/dev/a", "/dev/b", "--db-devices", "/dev/x", "--osd-ids", "7", "9", "--yes", "--no-systemd"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "raw"
			}
			preps, err := osdPrepares(method, tt.data, tt.db, tt.wl)
			var got [][]string
			for i, p := range preps {
				var ids []int
				if i == 0 {
					ids = tt.ids
				}
				got = append(got, p.argv(ids))
			}
			if tt.err != "" {
				var ve *spec.ValidationError
				if err == nil || err.Error() != tt.err || !errors.As(err, &ve) {
					t.Fatalf("err = %v, want the validation error %q", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("osdPrepares(%s) = %v, %v; want %v", method, got, err, tt.want)
			}
		})
	}
}
