package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orchceph/orch/spec"
)

func readTestSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestReadSnapshot(t *testing.T) {
	snap := readTestSnapshot(t)
	if len(snap.Hosts) != 4 || snap.Hosts[2].Status != "offline" {
		t.Errorf("hosts = %+v (status must be lower-cased)", snap.Hosts)
	}
	wantSvc := map[string]string{
		"mon.node1": "mon", "mgr.node1.abcdef": "mgr", "crash.node3": "crash",
		"nfs.foo.0.0.node1.aaaaaa": "nfs.foo", "osd.0": "osd.fast",
	}
	for _, d := range snap.Daemons {
		if want, ok := wantSvc[d.Name()]; ok && d.ServiceName != want {
			t.Errorf("%s: service_name = %q, want %q", d.Name(), d.ServiceName, want)
		}
	}
	if len(snap.Inventory) != 1 || len(snap.Inventory[0].Devices) != 3 {
		t.Errorf("inventory = %+v", snap.Inventory)
	}
	if ips := snap.Networks["node2"]["10.0.0.0/24"]["eth0"]; len(ips) != 1 || ips[0] != "10.0.0.2" {
		t.Errorf("networks = %v", snap.Networks)
	}
	if id := snap.RankMaps["nfs.foo"][0][0]; id != "foo.0.0.node1.aaaaaa" {
		t.Errorf("rank map = %v", snap.RankMaps)
	}
	if len(snap.Specs) != 1 || snap.Specs[0].Service.ServiceName() != "mon" {
		t.Errorf("specs = %+v", snap.Specs)
	}
}

func TestReadSnapshotErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		specErr        bool
	}{
		{"not json", `hosts:`, "snapshot: line 1", false},
		{"trailing data", `{} {}`, "trailing data", false},
		{"hosts not a list", `{"hosts": {}}`, "snapshot", false},
		{"missing hostname", `{"hosts": [{"labels": []}]}`, "hosts[0]: hostname is missing", false},
		{"duplicate host", `{"hosts": [{"hostname": "a"}, {"hostname": "a"}]}`, "host a is listed twice", false},
		{"bad status", `{"hosts": [{"hostname": "a", "status": "gone"}]}`, `unknown status "gone"`, false},
		{"labels not strings", `{"hosts": [{"hostname": "a", "labels": [1]}]}`, "hosts[0]: labels", false},
		{"daemon without type", `{"daemons": [{"daemon_id": "x", "hostname": "a"}]}`, "daemon_type is missing", false},
		{"daemon without id", `{"daemons": [{"daemon_type": "mgr", "hostname": "a"}]}`, "daemon_id is missing", false},
		{"daemon without host", `{"daemons": [{"daemon_type": "mgr", "daemon_id": "x"}]}`, "mgr.x): hostname is missing", false},
		{"rank without generation", `{"daemons": [{"daemon_type": "nfs", "daemon_id": "x", "hostname": "a", "rank": 0}]}`, "rank without rank_generation", false},
		{"ports not ints", `{"daemons": [{"daemon_type": "mgr", "daemon_id": "x", "hostname": "a", "ports": ["80"]}]}`, "daemons[0]: ports", false},
		{"inventory without name", `{"inventory": [{"devices": []}]}`, "inventory[0]: name is missing", false},
		{"rank key", `{"rank_maps": {"nfs.a": {"x": {"0": null}}}}`, `rank "x" is not a non-negative integer`, false},
		{"generation key", `{"rank_maps": {"nfs.a": {"0": {"-1": null}}}}`, `generation "-1"`, false},
		{"empty rank id", `{"rank_maps": {"nfs.a": {"0": {"0": ""}}}}`, "empty daemon id", false},
		{"networks not addresses", `{"networks": {"a": {"10.0.0.0/8": {"eth0": "10.0.0.1"}}}}`, "networks[a][10.0.0.0/8]", false},
		{"specs not a list", `{"specs": {"service_type": "mon"}}`, "specs: expected a JSON array", false},
		{"invalid spec", `{"specs": [{"service_type": "mds"}]}`, "id required", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot([]byte(tc.in))
			if err == nil {
				t.Fatalf("ReadSnapshot(%s) succeeded", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if tc.specErr != errors.Is(err, spec.ErrInvalidSpec) || tc.specErr == errors.Is(err, ErrInvalidSnapshot) {
				t.Errorf("error classes: ErrInvalidSpec=%v ErrInvalidSnapshot=%v", errors.Is(err, spec.ErrInvalidSpec), errors.Is(err, ErrInvalidSnapshot))
			}
		})
	}
}

func TestReadSnapshotOldNetworkFormat(t *testing.T) {
	snap, err := ReadSnapshot([]byte(`{"networks": {"a": {"10.0.0.0/8": ["10.0.0.2", "10.0.0.1"]}, "b": {"10.0.0.0/8": null}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ips := snap.Networks["a"]["10.0.0.0/8"][""]; len(ips) != 2 {
		t.Errorf("networks = %v", snap.Networks)
	}
}

func TestReadSnapshotEmpty(t *testing.T) {
	for _, in := range []string{`{}`, `{"hosts": null, "daemons": [], "specs": null, "future_key": 1}`} {
		snap, err := ReadSnapshot([]byte(in))
		if err != nil {
			t.Fatalf("ReadSnapshot(%s): %v", in, err)
		}
		if len(snap.Hosts)+len(snap.Daemons)+len(snap.Specs) != 0 {
			t.Errorf("ReadSnapshot(%s) = %+v", in, snap)
		}
	}
}

func TestDeriveServiceName(t *testing.T) {
	for _, tc := range []struct{ typ, id, host, want string }{
		{"mon", "node1", "node1", "mon"},
		{"mgr", "node1.abcdef", "node1", "mgr"},
		{"crash", "node1", "node1.example.com", "crash"},
		{"osd", "3", "node1", "osd.unmanaged"},
		{"mds", "fs1.node1.abcdef", "node1", "mds.fs1"},
		{"mds", "fs1.node1", "node1.example.com", "mds.fs1"},
		{"rgw", "realm.zone.node2.xyz", "node2", "rgw.realm.zone"},
		{"rgw", "realm.zone.abcdef", "other", "rgw.realm.zone"},
		{"haproxy", "rgw.foo.node1.qwerty", "node1", "ingress.rgw.foo"},
		{"keepalived", "rgw.foo.node2.asdfgh", "node2", "ingress.rgw.foo"},
		{"nfs", "foo.0.1.node1.zzzzzz", "node1", "nfs.foo"},
		{"iscsi", "gw.abcdef", "other", "iscsi.gw"},
		{"mds", "node1", "node1", "mds.node1"},
	} {
		t.Run(tc.typ+"."+tc.id, func(t *testing.T) {
			if got := DeriveServiceName(tc.typ, tc.id, tc.host); got != tc.want {
				t.Errorf("DeriveServiceName(%q, %q, %q) = %q, want %q", tc.typ, tc.id, tc.host, got, tc.want)
			}
		})
	}
}

// FuzzReadSnapshot checks that any input either decodes into a snapshot
// that can be planned against, or fails with a classified error.
func FuzzReadSnapshot(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "snapshot.json")); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"hosts": [{"hostname": "a", "labels": ["x"], "status": "maintenance"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := ReadSnapshot(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidSnapshot) && !errors.Is(err, spec.ErrInvalidSpec) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			return
		}
		docs, err := spec.LoadDocuments([]byte(`{"service_type": "crash", "placement": {"host_pattern": "*"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compute(docs, snap, Options{Explain: true}); err != nil && !errors.Is(err, spec.ErrInvalidSpec) {
			t.Fatalf("Compute on a valid snapshot: unclassified error %T: %v", err, err)
		}
	})
}
