package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t *testing.T, yaml string) []spec.Document {
	t.Helper()
	docs, err := spec.LoadDocuments([]byte(yaml))
	if err != nil {
		t.Fatalf("LoadDocuments: %v", err)
	}
	return docs
}

func hostsOf(slots []scheduler.Slot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.String()
	}
	sort.Strings(out)
	return out
}

func namesOf(ds []scheduler.Daemon) []string {
	out := make([]string, len(ds))
	for i := range ds {
		out[i] = ds[i].Name()
	}
	sort.Strings(out)
	return out
}

func TestComputeServices(t *testing.T) {
	for _, tc := range []struct {
		name       string
		yaml       string
		wantSlots  []string
		wantAdd    []string
		wantRemove []string
		rankMap    string // JSON of the rank map, "" for null
	}{
		{
			name:      "mon count skips the offline host",
			yaml:      "service_type: mon\nplacement:\n  count: 3\n",
			wantSlots: []string{"mon:node1", "mon:node2"}, wantAdd: []string{"mon:node2"},
		},
		{
			name:      "empty placement gets the type's default (crash on every host)",
			yaml:      "service_type: crash\n",
			wantSlots: []string{"crash:node1", "crash:node2", "crash:node3"},
			wantAdd:   []string{"crash:node1", "crash:node2"},
		},
		{
			name:      "daemons on draining hosts go, the active mgr stays",
			yaml:      "service_type: mgr\nplacement:\n  count: 2\n",
			wantSlots: []string{"mgr:node1", "mgr:node2"}, wantAdd: []string{"mgr:node2"},
			wantRemove: []string{"mgr.node4.xyzabc"},
		},
		{
			name:      "ranked nfs keeps its rank",
			yaml:      "service_type: nfs\nservice_id: foo\nplacement:\n  count: 1\n",
			wantSlots: []string{"nfs:node1(rank=0.0)"},
			rankMap:   `{"0":{"0":"foo.0.0.node1.aaaaaa"}}`,
		},
		{
			name:      "ranked nfs scales up with new ranks",
			yaml:      "service_type: nfs\nservice_id: foo\nplacement:\n  label: rgw\n",
			wantSlots: []string{"nfs:node1(rank=0.0)", "nfs:node2(rank=1.0)"},
			wantAdd:   []string{"nfs:node2(rank=1.0)"},
			rankMap:   `{"0":{"0":"foo.0.0.node1.aaaaaa"},"1":{"0":null}}`,
		},
		{
			name:      "networks pick each host's address",
			yaml:      "service_type: rgw\nservice_id: r\nnetworks: [10.0.0.0/24]\nplacement:\n  label: rgw\n",
			wantSlots: []string{"rgw:node1(10.0.0.1:80)", "rgw:node2(10.0.0.2:80)"},
			wantAdd:   []string{"rgw:node1(10.0.0.1:80)", "rgw:node2(10.0.0.2:80)"},
		},
		{
			name: "ingress: haproxy plus keepalived per host, only where the VIP fits",
			yaml: "service_type: ingress\nservice_id: rgw.r\nplacement:\n  count: 3\nspec:\n  backend_service: rgw.r\n" +
				"  virtual_ip: 10.0.0.100/24\n  frontend_port: 8080\n  monitor_port: 8999\n",
			wantSlots: []string{"haproxy:node1(*:8080,8999)", "haproxy:node2(*:8080,8999)", "keepalived:node1", "keepalived:node2"},
			wantAdd:   []string{"haproxy:node1(*:8080,8999)", "haproxy:node2(*:8080,8999)", "keepalived:node1", "keepalived:node2"},
		},
		{
			name:      "unmanaged services change nothing",
			yaml:      "service_type: mgr\nunmanaged: true\nplacement:\n  count: 3\n",
			wantSlots: []string{"mgr:node1", "mgr:node4"},
		},
		{
			name:      "host documents join the cluster first",
			yaml:      "service_type: host\nhostname: node5\nlabels: [rgw]\n---\nservice_type: mds\nservice_id: fs\nplacement:\n  label: rgw\n",
			wantSlots: []string{"mds:node1", "mds:node2", "mds:node5"},
			wantAdd:   []string{"mds:node1", "mds:node2", "mds:node5"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Compute(load(t, tc.yaml), readTestSnapshot(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Services) != 1 {
				t.Fatalf("services = %+v", res.Services)
			}
			s := res.Services[0]
			if got := hostsOf(s.Slots); !slices.Equal(got, sortedCopy(tc.wantSlots)) {
				t.Errorf("slots = %v, want %v", got, tc.wantSlots)
			}
			if got := hostsOf(s.ToAdd); !slices.Equal(got, sortedCopy(tc.wantAdd)) {
				t.Errorf("to_add = %v, want %v", got, tc.wantAdd)
			}
			if got := namesOf(s.ToRemove); !slices.Equal(got, sortedCopy(tc.wantRemove)) {
				t.Errorf("to_remove = %v, want %v", got, tc.wantRemove)
			}
			rm, _ := json.Marshal(RankMapJSON(s.RankMap))
			want := tc.rankMap
			if want == "" {
				want = "null"
			}
			if string(rm) != want {
				t.Errorf("rank map = %s, want %s", rm, want)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func TestComputeRelatedService(t *testing.T) {
	snap := readTestSnapshot(t)
	snap.Daemons = append(snap.Daemons, Daemon{DaemonType: "rgw", DaemonID: "r.node2.abc", Hostname: "node2", ServiceName: "rgw.r"})
	docs := load(t, "service_type: ingress\nservice_id: rgw.r\nplacement:\n  count: 1\nspec:\n  backend_service: rgw.r\n"+
		"  virtual_ip: 10.0.0.100/24\n  frontend_port: 8080\n  monitor_port: 8999\n")
	res, err := Compute(docs, snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := hostsOf(res.Services[0].ToAdd); !slices.Equal(got, []string{"haproxy:node2(*:8080,8999)", "keepalived:node2"}) {
		t.Errorf("ingress did not follow its backend: to_add = %v", got)
	}
}

func TestComputeOSDs(t *testing.T) {
	docs := load(t, `service_type: osd
service_id: fast
placement:
  host_pattern: 'node*'
spec:
  data_devices:
    rotational: 1
    limit: 2
  db_devices:
    rotational: 0
`)
	res, err := Compute(docs, readTestSnapshot(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Services) != 0 {
		t.Errorf("osd spec listed as a service: %+v", res.Services)
	}
	var hosts []string
	for _, o := range res.OSDs {
		hosts = append(hosts, o.Host)
	}
	// node4 is draining; node2 and node3 have no inventory and get empty lists.
	if !slices.Equal(hosts, []string{"node1", "node2", "node3"}) {
		t.Fatalf("osd hosts = %v", hosts)
	}
	n1 := res.OSDs[0]
	// One OSD of the spec exists on node1, so the limit of 2 leaves one disk.
	if !slices.Equal(n1.Data, []string{"/dev/sdb"}) || !slices.Equal(n1.DB, []string{"/dev/nvme0n1"}) ||
		len(n1.WAL) != 0 || n1.Journal == nil {
		t.Errorf("node1 selection = %+v", n1)
	}
	if res.OSDs[1].Data == nil || len(res.OSDs[1].Data) != 0 {
		t.Errorf("node2 selection = %+v", res.OSDs[1])
	}
}

func TestComputeErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, msg string }{
		{"label without hosts", "service_type: mgr\nplacement:\n  label: nope\n",
			"Cannot place <ServiceSpec for service_name=mgr>: No matching hosts for label nope"},
		{"unknown host", "service_type: rgw\nservice_id: x\nplacement:\n  hosts: [node9, node1]\n",
			"Cannot place <RGWSpec for service_name=rgw.x> on node9: Unknown hosts"},
		{"too many mgrs", "service_type: mgr\nplacement:\n  count: 6\n",
			"The maximum number of mgr daemons allowed with 4 hosts is 5."},
		{"too many rgws", "service_type: rgw\nservice_id: x\nplacement:\n  count: 41\n",
			"The maximum number of rgw daemons allowed with 4 hosts is 40 (4x10). This limit can be adjusted by changing the mgr/cephadm/max_count_per_host config option"},
		{"count_per_host too high", "service_type: rgw\nservice_id: x\nplacement:\n  label: rgw\n  count_per_host: 11\n",
			"The maximum count_per_host allowed is 10. This limit can be adjusted by changing the mgr/cephadm/max_count_per_host config option"},
		{"colocation", "service_type: mgr\nplacement:\n  label: rgw\n  count_per_host: 2\n",
			"Cannot place more than one mgr per host"},
		{"label only on a draining host", "service_type: mgr\nplacement:\n  label: _no_schedule\n",
			"Cannot place <ServiceSpec for service_name=mgr>: No matching hosts for label _no_schedule"},
		{"drive selection that cannot be applied", "service_type: osd\nservice_id: bad\nplacement:\n  hosts: [node1]\nspec:\n  data_devices:\n    size: wrong\n",
			`Failed to validate OSD spec "bad.data_devices": No filters applied`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(load(t, tc.yaml), readTestSnapshot(t), Options{})
			if err == nil {
				t.Fatal("Compute succeeded")
			}
			if err.Error() != tc.msg {
				t.Errorf("error = %q, want %q", err, tc.msg)
			}
			if !errors.Is(err, spec.ErrInvalidSpec) {
				t.Errorf("error %v does not match spec.ErrInvalidSpec", err)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	docs := load(t, "service_type: mgr\nplacement:\n  count: 2\n---\nservice_type: nfs\nservice_id: foo\nplacement:\n  count: 1\n")
	res, err := Compute(docs, readTestSnapshot(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res.JSON())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Services []map[string]json.RawMessage `json:"services"`
		OSDs     []any                        `json:"osds"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Services) != 2 || got.OSDs == nil {
		t.Fatalf("document = %s", b)
	}
	mgr := got.Services[0]
	if string(mgr["service_name"]) != `"mgr"` || string(mgr["rank_map"]) != "null" || string(mgr["to_remove"]) != `["mgr.node4.xyzabc"]` {
		t.Errorf("mgr entry = %s", b)
	}
	var slots []map[string]json.RawMessage
	if err := json.Unmarshal(mgr["slots"], &slots); err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		for _, k := range []string{"daemon_type", "hostname", "network", "name", "ip", "ports", "rank", "rank_generation"} {
			if _, ok := s[k]; !ok {
				t.Errorf("slot lacks %q: %s", k, b)
			}
		}
		if string(s["ip"]) != "null" || string(s["ports"]) != "[]" {
			t.Errorf("slot ip/ports = %s/%s", s["ip"], s["ports"])
		}
	}
	if string(got.Services[1]["rank_map"]) != `{"0":{"0":"foo.0.0.node1.aaaaaa"}}` {
		t.Errorf("nfs rank_map = %s", got.Services[1]["rank_map"])
	}
	if _, ok := mgr["rejected"]; ok {
		t.Errorf("rejected listed without Explain")
	}
}

func TestExplainJSON(t *testing.T) {
	res, err := Compute(load(t, "service_type: mgr\nplacement:\n  count: 2\n"), readTestSnapshot(t), Options{Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res.JSON().Services[0].Rejected {
		got[r.Host] = r.Reason
	}
	want := map[string]string{"node3": string(scheduler.ReasonUnreachable), "node4": string(scheduler.ReasonDraining)}
	if len(got) != len(want) || got["node3"] != want["node3"] || got["node4"] != want["node4"] {
		t.Errorf("rejected = %v, want %v", got, want)
	}
}

func TestWritePlain(t *testing.T) {
	docs := load(t, "service_type: mgr\nplacement:\n  count: 2\n---\nservice_type: osd\nservice_id: fast\nplacement:\n  hosts: [node1]\nspec:\n  data_devices:\n    rotational: 1\n  db_devices:\n    rotational: 0\n")
	res, err := Compute(docs, readTestSnapshot(t), Options{Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := res.WritePlain(&b, true); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "plain.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("plain output:\n%s\nwant (%s):\n%s", got, golden, want)
	}
	if strings.Count(b.String(), "\n") < 10 {
		t.Errorf("short output")
	}
}

func TestComputeIsDeterministic(t *testing.T) {
	yaml := "service_type: mds\nservice_id: fs\nplacement:\n  count: 3\n---\nservice_type: crash\n"
	a, err := Compute(load(t, yaml), readTestSnapshot(t), Options{Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a.JSON())
	for i := 0; i < 5; i++ {
		b, err := Compute(load(t, yaml), readTestSnapshot(t), Options{Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		jb, _ := json.Marshal(b.JSON())
		if !bytes.Equal(ja, jb) {
			t.Fatalf("plans differ:\n%s\n%s", ja, jb)
		}
	}
}

// TestComputeMonPublicNetwork: new monitors go only to hosts with an
// address in the mon public_network (cephadm's matches_network filter);
// other services ignore it.
func TestComputeMonPublicNetwork(t *testing.T) {
	snap := &Snapshot{
		Hosts: []Host{{Hostname: "a"}, {Hostname: "b"}, {Hostname: "c"}},
		Networks: map[string]scheduler.HostNetworks{
			"a": {"10.1.0.0/24": {"eth0": {"10.1.0.1"}}},
			"b": {"10.2.0.0/24": {"eth0": {"10.2.0.2"}}},
			"c": {"10.1.0.0/24": {"eth0": {"10.1.0.3"}}, "10.2.0.0/24": {"eth1": {"10.2.0.3"}}},
		},
	}
	tests := []struct {
		public, yaml string
		want         []string
	}{
		{"", "service_type: mon\nplacement:\n  count: 3\n", []string{"mon:a", "mon:b", "mon:c"}},
		{"10.1.0.0/24", "service_type: mon\nplacement:\n  count: 3\n", []string{"mon:a", "mon:c"}},
		{"10.2.0.0/24", "service_type: mon\nplacement:\n  count: 3\n", []string{"mon:b", "mon:c"}},
		{"10.1.0.0/24,10.2.0.0/24", "service_type: mon\nplacement:\n  count: 3\n", []string{"mon:a", "mon:b", "mon:c"}},
		{"10.1.0.0/24", "service_type: mgr\nplacement:\n  count: 3\n", []string{"mgr:a", "mgr:b", "mgr:c"}},
	}
	for _, tt := range tests {
		s := *snap
		s.MonPublicNetwork = tt.public
		res, err := Compute(load(t, tt.yaml), &s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := hostsOf(res.Services[0].Slots); !slices.Equal(got, tt.want) {
			t.Errorf("public %q, %s: slots %v, want %v", tt.public, strings.Fields(tt.yaml)[1], got, tt.want)
		}
	}
	if _, err := ReadSnapshot([]byte(`{"mon_public_network": "10.0.0.0/33"}`)); err == nil || !errors.Is(err, ErrInvalidSnapshot) {
		t.Errorf("bad mon_public_network: %v", err)
	}
	s, err := ReadSnapshot([]byte(`{"mon_public_network": "10.1.0.0/24, 10.2.0.0/24"}`))
	if err != nil || !slices.Equal(s.MonPublicNetworks(), []string{"10.1.0.0/24", "10.2.0.0/24"}) {
		t.Errorf("mon_public_network: %v, %v", s, err)
	}
}
