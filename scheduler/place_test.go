package scheduler

import (
	"errors"
	"slices"
	"testing"

	"github.com/orchceph/orch/spec"
)

func hosts(names ...string) []Host {
	out := make([]Host, len(names))
	for i, n := range names {
		out[i] = Host{Name: n}
	}
	return out
}

func TestPlaceBehaviour(t *testing.T) {
	three := hosts("host1", "host2", "host3")
	for _, tc := range []struct {
		name       string
		st         ClusterState
		req        Request
		wantSlots  []string // multiset
		wantAdd    []string // multiset
		wantRemove []string // sorted
	}{
		{
			name: "nfs moves away from an offline host",
			st: ClusterState{Hosts: []Host{{Name: "host1"}, {Name: "host2", Status: "offline"}, {Name: "host3"}},
				Unreachable: []string{"host2"}},
			req: Request{ServiceName: "nfs.foo", ServiceType: "nfs", Ranked: true, Placement: spec.PlacementSpec{Count: ip(1)},
				RankMap: RankMap{0: {0: "foo.0.0.host2"}},
				Daemons: []Daemon{{Type: "nfs", ID: "foo.0.0.host2", Hostname: "host2", Rank: ip(0), RankGeneration: ip(0)}}},
			// The offline daemon is not a candidate any more but is never removed.
			wantSlots: []string{"nfs:host3(rank=0.1)"}, wantAdd: []string{"nfs:host3(rank=0.1)"},
		},
		{
			name: "nfs stays on a host in maintenance",
			st: ClusterState{Hosts: []Host{{Name: "host1"}, {Name: "host2", Status: "maintenance"}},
				Unreachable: []string{"host2"}},
			req: Request{ServiceName: "nfs.foo", ServiceType: "nfs", Ranked: true, Placement: spec.PlacementSpec{Count: ip(1)},
				RankMap: RankMap{0: {0: "a"}},
				Daemons: []Daemon{{Type: "nfs", ID: "a", Hostname: "host2", Rank: ip(0), RankGeneration: ip(0)}}},
			wantSlots: []string{"nfs:host2(rank=0.0)"},
		},
		{
			name: "mon on an offline host is kept and counted",
			st: ClusterState{Hosts: []Host{{Name: "host1"}, {Name: "host2", Status: "offline"}, {Name: "host3"}},
				Unreachable: []string{"host2"}},
			req: Request{ServiceName: "mon", ServiceType: "mon", Placement: spec.PlacementSpec{Count: ip(2)},
				Daemons: []Daemon{{Type: "mon", ID: "a", Hostname: "host1"}, {Type: "mon", ID: "b", Hostname: "host2"}}},
			wantSlots: []string{"mon:host1", "mon:host2"},
		},
		{
			name: "daemons on draining hosts are removed",
			st:   ClusterState{Hosts: hosts("host1", "host2"), Draining: []string{"host3"}},
			req: Request{ServiceName: "crash", ServiceType: "crash", Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}},
				Daemons: []Daemon{{Type: "crash", ID: "host1", Hostname: "host1"}, {Type: "crash", ID: "host3", Hostname: "host3"}}},
			wantSlots: []string{"crash:host1", "crash:host2"}, wantAdd: []string{"crash:host2"}, wantRemove: []string{"crash.host3"},
		},
		{
			name: "a draining host that is also unreachable keeps its daemon",
			st:   ClusterState{Hosts: hosts("host1"), Draining: []string{"host3"}, Unreachable: []string{"host3"}},
			req: Request{ServiceName: "crash", ServiceType: "crash", Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}},
				Daemons: []Daemon{{Type: "crash", ID: "host3", Hostname: "host3"}}},
			wantSlots: []string{"crash:host1"}, wantAdd: []string{"crash:host1"},
		},
		{
			name: "related service hosts are preferred",
			st:   ClusterState{Hosts: hosts("host1", "host2", "host3", "host4")},
			req: Request{ServiceName: "ingress.rgw.foo", ServiceType: "ingress", PrimaryDaemonType: "haproxy",
				PerHostDaemonType: "keepalived", Ports: []int{443, 1967}, Placement: spec.PlacementSpec{Count: ip(2)},
				RelatedHosts: []string{"host2", "host4"}},
			wantSlots: []string{"haproxy:host2(*:443,1967)", "haproxy:host4(*:443,1967)", "keepalived:host2", "keepalived:host4"},
			wantAdd:   []string{"haproxy:host2(*:443,1967)", "haproxy:host4(*:443,1967)", "keepalived:host2", "keepalived:host4"},
		},
		{
			name: "related hosts are skipped once used",
			st:   ClusterState{Hosts: hosts("host1", "host2")},
			req: Request{ServiceName: "mds.fs", ServiceType: "mds", AllowColo: true, Placement: spec.PlacementSpec{Count: ip(3)},
				RelatedHosts: []string{"host1"}},
			// 1 + (3-1)//2 = 2 rounds: both of host1's slots come first, then
			// host2 fills the rest.
			wantSlots: []string{"mds:host1", "mds:host1", "mds:host2"}, wantAdd: []string{"mds:host1", "mds:host1", "mds:host2"},
		},
		{
			name: "blocking hosts get nothing and lose their daemons",
			st:   ClusterState{Hosts: three},
			req: Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}},
				BlockingHosts: []string{"host2"}, Daemons: []Daemon{{Type: "mgr", ID: "x", Hostname: "host1"}}},
			wantSlots: []string{"mgr:host1", "mgr:host3"}, wantAdd: []string{"mgr:host3"},
		},
		{
			name: "ports renumbered per colocated daemon",
			st:   ClusterState{Hosts: hosts("host1")},
			req: Request{ServiceName: "rgw.z", ServiceType: "rgw", AllowColo: true, Ports: []int{8080},
				Placement: spec.PlacementSpec{Label: "", HostPattern: &spec.HostPattern{Pattern: "host*"}, CountPerHost: ip(3)}},
			wantSlots: []string{"rgw:host1(*:8080)", "rgw:host1(*:8081)", "rgw:host1(*:8082)"},
			wantAdd:   []string{"rgw:host1(*:8080)", "rgw:host1(*:8081)", "rgw:host1(*:8082)"},
		},
		{
			name: "a daemon with other ports does not fill a slot",
			st:   ClusterState{Hosts: hosts("host1")},
			req: Request{ServiceName: "rgw.z", ServiceType: "rgw", AllowColo: true, Ports: []int{80},
				Placement: spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "host1"}}},
				Daemons:   []Daemon{{Type: "rgw", ID: "z.a", Hostname: "host1", Ports: []int{8000}}}},
			wantSlots: []string{"rgw:host1(*:80)"}, wantAdd: []string{"rgw:host1(*:80)"}, wantRemove: []string{"rgw.z.a"},
		},
		{
			name: "during an upgrade port differences do not count",
			st:   ClusterState{Hosts: hosts("host1")},
			req: Request{ServiceName: "rgw.z", ServiceType: "rgw", AllowColo: true, Ports: []int{80}, UpgradeInProgress: true,
				Placement: spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "host1"}}},
				Daemons:   []Daemon{{Type: "rgw", ID: "z.a", Hostname: "host1", Ports: []int{8000}}}},
			wantSlots: []string{"rgw:host1(*:80)"},
		},
		{
			name: "explicit names must match daemon ids",
			st:   ClusterState{Hosts: hosts("host1", "host2")},
			req: Request{ServiceName: "mon", ServiceType: "mon",
				Placement: spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "host1", Name: "a"}, {Hostname: "host2", Network: "10.0.0.0/24", Name: "b"}}},
				Daemons:   []Daemon{{Type: "mon", ID: "a", Hostname: "host1"}, {Type: "mon", ID: "c", Hostname: "host2"}}},
			wantSlots: []string{"mon:host1(name=a)", "mon:host2(network=10.0.0.0/24 name=b)"},
			wantAdd:   []string{"mon:host2(network=10.0.0.0/24 name=b)"}, wantRemove: []string{"mon.c"},
		},
		{
			name: "ip_addrs win over networks when configured on the host",
			st: ClusterState{Hosts: hosts("host1", "host2"), Networks: map[string]HostNetworks{
				"host1": {"10.0.0.0/24": {"eth0": {"10.0.0.5", "10.0.0.3"}}, "192.168.1.0/24": {"eth1": {"192.168.1.9"}}},
				"host2": {"10.0.0.0/24": {"eth0": {"10.0.0.7"}}},
			}},
			req: Request{ServiceName: "rgw.z", ServiceType: "rgw", AllowColo: true, Ports: []int{80},
				Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}},
				Networks:  []string{"10.0.0.0/24"},
				IPAddrs:   map[string]string{"host1": "192.168.1.9", "host2": "172.16.0.1"}},
			wantSlots: []string{"rgw:host1(192.168.1.9:80)", "rgw:host2(10.0.0.7:80)"},
			wantAdd:   []string{"rgw:host1(192.168.1.9:80)", "rgw:host2(10.0.0.7:80)"},
		},
		{
			name: "lowest address string on the first matching network; hosts without are dropped",
			st: ClusterState{Hosts: hosts("host1", "host2", "host3"), Networks: map[string]HostNetworks{
				"host1": {"10.0.0.0/8": {"eth0": {"10.0.0.9", "10.0.0.10"}}},
				"host2": {"fd00::/64": {"eth0": {"fd00::2"}}, "10.0.0.0/8": {"eth1": {"10.1.0.1"}}},
			}},
			req: Request{ServiceName: "rgw.z", ServiceType: "rgw", AllowColo: true, Ports: []int{80},
				Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}},
				Networks:  []string{"fd00:0::/64", "10.0.0.0/8"}},
			wantSlots: []string{"rgw:host1(10.0.0.10:80)", "rgw:host2(fd00::2:80)"},
			wantAdd:   []string{"rgw:host1(10.0.0.10:80)", "rgw:host2(fd00::2:80)"},
		},
		{
			name: "loopback networks offer 127.0.0.1",
			st:   ClusterState{Hosts: hosts("host1")},
			req: Request{ServiceName: "rgw.z", ServiceType: "rgw", AllowColo: true, Ports: []int{80},
				Placement: spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "host1"}}},
				Networks:  []string{"127.0.0.0/8"}},
			wantSlots: []string{"rgw:host1(127.0.0.1:80)"}, wantAdd: []string{"rgw:host1(127.0.0.1:80)"},
		},
		{
			name: "mon public network filter",
			st: ClusterState{Hosts: hosts("host1", "host2"), Networks: map[string]HostNetworks{
				"host1": {"10.1.0.0/16": {"eth0": {"10.1.0.1"}}},
				"host2": {"192.168.0.0/24": {"eth0": {"192.168.0.2"}}},
			}},
			req: Request{ServiceName: "mon", ServiceType: "mon", Placement: spec.PlacementSpec{Count: ip(5)},
				PublicNetworks: []string{"10.0.0.0/8"}},
			wantSlots: []string{"mon:host1"}, wantAdd: []string{"mon:host1"},
		},
		{
			name: "ingress needs an interface for the virtual IP",
			st: ClusterState{Hosts: hosts("host1", "host2"), Networks: map[string]HostNetworks{
				"host1": {"10.0.0.0/24": {"eth0": {"10.0.0.1"}}},
				"host2": {"10.0.0.0/24": {}},
			}},
			req: Request{ServiceName: "ingress.x", ServiceType: "ingress", PrimaryDaemonType: "haproxy",
				PerHostDaemonType: "keepalived", Ports: []int{80, 81}, Placement: spec.PlacementSpec{Count: ip(2)},
				VirtualIPs: []string{"10.0.0.100/24"}},
			wantSlots: []string{"haproxy:host1(*:80,81)", "keepalived:host1"},
			wantAdd:   []string{"haproxy:host1(*:80,81)", "keepalived:host1"},
		},
		{
			name: "keepalived-only ingress has no per-host daemons",
			st:   ClusterState{Hosts: hosts("host1", "host2")},
			req: Request{ServiceName: "ingress.x", ServiceType: "ingress", PrimaryDaemonType: "keepalived",
				Placement: spec.PlacementSpec{Count: ip(1)},
				Daemons:   []Daemon{{Type: "keepalived", ID: "x.a", Hostname: "host2"}}},
			wantSlots: []string{"keepalived:host2"},
		},
		{
			name: "label and host pattern intersect",
			st:   ClusterState{Hosts: []Host{{Name: "mgr1", Labels: []string{"foo"}}, {Name: "mgr2", Labels: []string{"foo"}}, {Name: "osd1", Labels: []string{"foo"}}, {Name: "mgr3"}}},
			req: Request{ServiceName: "mgr", ServiceType: "mgr",
				Placement: spec.PlacementSpec{Label: "foo", HostPattern: &spec.HostPattern{Pattern: "mgr*"}}},
			wantSlots: []string{"mgr:mgr1", "mgr:mgr2"}, wantAdd: []string{"mgr:mgr1", "mgr:mgr2"},
		},
		{
			name: "regex patterns match at the start only",
			st:   ClusterState{Hosts: hosts("host1", "host3", "host10", "xhost1")},
			req: Request{ServiceName: "mgr", ServiceType: "mgr",
				Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "host1|host3", Type: spec.PatternRegex}}},
			wantSlots: []string{"mgr:host1", "mgr:host10", "mgr:host3"}, wantAdd: []string{"mgr:host1", "mgr:host10", "mgr:host3"},
		},
		{
			name: "a daemon on a host the cluster never knew is removed",
			st:   ClusterState{Hosts: hosts("host1")},
			req: Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(1)},
				Daemons: []Daemon{{Type: "mgr", ID: "old", Hostname: "gone"}}},
			wantSlots: []string{"mgr:host1"}, wantAdd: []string{"mgr:host1"}, wantRemove: []string{"mgr.old"},
		},
		{
			name: "unranked daemons of a ranked service are replaced",
			st:   ClusterState{Hosts: hosts("host1")},
			req: Request{ServiceName: "nfs.foo", ServiceType: "nfs", Ranked: true, Placement: spec.PlacementSpec{Count: ip(1)},
				Daemons: []Daemon{{Type: "nfs", ID: "foo.host1", Hostname: "host1"}}},
			wantSlots: []string{"nfs:host1(rank=0.0)"}, wantAdd: []string{"nfs:host1(rank=0.0)"}, wantRemove: []string{"nfs.foo.host1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			plan, err := Place(tc.st, &req)
			if err != nil {
				t.Fatal(err)
			}
			if !equalSorted(strs(plan.Slots), tc.wantSlots) {
				t.Errorf("slots = %v, want %v", strs(plan.Slots), tc.wantSlots)
			}
			if !equalSorted(strs(plan.ToAdd), tc.wantAdd) {
				t.Errorf("to_add = %v, want %v", strs(plan.ToAdd), tc.wantAdd)
			}
			if !equalSorted(names(plan.ToRemove), tc.wantRemove) {
				t.Errorf("to_remove = %v, want %v", names(plan.ToRemove), tc.wantRemove)
			}
		})
	}
}

func TestPlaceErrors(t *testing.T) {
	st := ClusterState{Hosts: []Host{{Name: "host1", Labels: []string{"a"}}, {Name: "host2"}}, Draining: []string{"host9"}}
	for _, tc := range []struct {
		name  string
		req   Request
		class error
		kind  string
		msg   string
	}{
		{"count zero", Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(0)}},
			ErrInvalidCount, "SpecValidationError", "num/count must be >= 1"},
		{"count_per_host zero", Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{CountPerHost: ip(0), Label: "a"}},
			ErrInvalidCount, "SpecValidationError", "count-per-host must be >= 1"},
		{"colocation", Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{CountPerHost: ip(2), Label: "a"}},
			ErrColocation, "OrchestratorValidationError", "Cannot place more than one mgr per host"},
		{"unknown hosts sorted and unique", Request{ServiceName: "mgr", ServiceType: "mgr",
			Placement: spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "z"}, {Hostname: "host9"}, {Hostname: "b"}, {Hostname: "z", Name: "x"}}}},
			ErrUnknownHosts, "OrchestratorValidationError", "Cannot place <ServiceSpec for service_name=mgr> on b, z: Unknown hosts"},
		{"pattern without match", Request{ServiceName: "rgw.x", ServiceType: "rgw", OneLineStr: "<RGWSpec for service_name=rgw.x>",
			Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "nomatch*"}}},
			ErrNoMatchingHost, "OrchestratorValidationError", "Cannot place <RGWSpec for service_name=rgw.x>: No matching hosts"},
		{"label and pattern without common host", Request{ServiceName: "mgr", ServiceType: "mgr",
			Placement: spec.PlacementSpec{Label: "a", HostPattern: &spec.HostPattern{Pattern: "host2"}}},
			ErrNoMatchingHost, "OrchestratorValidationError", "Cannot place <ServiceSpec for service_name=mgr>: No matching hosts"},
		{"label without host", Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Label: "mon"}},
			ErrNoLabelHost, "OrchestratorValidationError", "Cannot place <ServiceSpec for service_name=mgr>: No matching hosts for label mon"},
		{"empty placement", Request{ServiceName: "mgr", ServiceType: "mgr"},
			ErrEmptyPlacement, "OrchestratorValidationError", "placement spec is empty: no hosts, no label, no pattern, no count"},
		{"network with host bits", Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(1)}, Networks: []string{"10.0.0.1/8"}},
			ErrBadNetwork, "SpecValidationError", "Cannot parse network 10.0.0.1/8: 10.0.0.1/8 has host bits set"},
		{"network garbage", Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(1)}, Networks: []string{"nope"}},
			ErrBadNetwork, "SpecValidationError", "Cannot parse network nope: 'nope' does not appear to be an IPv4 or IPv6 network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Place(st, &tc.req)
			var pe *PlacementError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PlacementError", err)
			}
			if pe.Msg != tc.msg || pe.Kind != tc.kind {
				t.Errorf("err = %s(%q), want %s(%q)", pe.Kind, pe.Msg, tc.kind, tc.msg)
			}
			if !errors.Is(err, tc.class) || !errors.Is(err, spec.ErrInvalidSpec) {
				t.Errorf("errors.Is(%v, %v / ErrInvalidSpec) = false", err, tc.class)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	st := ClusterState{
		Hosts: []Host{
			{Name: "a1", Labels: []string{"rgw"}}, {Name: "a2", Labels: []string{"rgw"}},
			{Name: "a3", Labels: []string{"rgw"}, Status: "offline"}, {Name: "a4", Labels: []string{"rgw"}},
			{Name: "b1", Labels: []string{"rgw"}}, {Name: "c1"},
		},
		Unreachable: []string{"a3"},
		Draining:    []string{"a9"},
		Networks: map[string]HostNetworks{
			"a1": {"10.0.0.0/24": {"eth0": {"10.0.0.1"}}}, "a2": {"10.0.0.0/24": {"eth0": {"10.0.0.2"}}},
			"a3": {"10.0.0.0/24": {"eth0": {"10.0.0.3"}}}, "a4": {"10.0.0.0/24": {"eth0": {"10.0.0.4"}}},
		},
	}
	req := &Request{ServiceName: "rgw.x", ServiceType: "rgw", AllowColo: true, Ports: []int{80}, Explain: true,
		Networks:  []string{"10.0.0.0/24"},
		Placement: spec.PlacementSpec{Label: "rgw", HostPattern: &spec.HostPattern{Pattern: "a*"}, Count: ip(1)}}
	plan, err := Place(st, req)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Reason{}
	for _, r := range plan.Rejected {
		got[r.Host] = r.Reason
	}
	placed := plan.Slots[0].Hostname
	want := map[string]Reason{
		"a9": ReasonDraining, "b1": ReasonPatternMismatch, "c1": ReasonLabelMissing, "a3": ReasonUnreachable,
	}
	for _, h := range []string{"a1", "a2", "a4"} {
		if h != placed {
			want[h] = ReasonCountSatisfied
		}
	}
	if len(got) != len(want) {
		t.Errorf("rejected = %v, want %v", got, want)
	}
	for h, r := range want {
		if got[h] != r {
			t.Errorf("%s: reason %q, want %q", h, got[h], r)
		}
	}
	if _, ok := got[placed]; ok {
		t.Errorf("placed host %s listed as rejected", placed)
	}

	// Without networks on the host, and for types rescheduled from offline.
	st.Networks["a4"] = nil
	req.ServiceType, req.ServiceName, req.PrimaryDaemonType = "nfs", "nfs.x", ""
	req.Ranked = true
	req.Placement = spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "a*"}}
	plan, err = Place(st, req)
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]Reason{}
	for _, r := range plan.Rejected {
		got[r.Host] = r.Reason
	}
	if got["a4"] != ReasonNoNetworkIP || got["a3"] != ReasonOfflineReschedule || got["c1"] != ReasonPatternMismatch {
		t.Errorf("rejected = %v", got)
	}

	// Explicit host lists.
	req.Placement = spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "a1"}}}
	req.Networks = nil
	plan, err = Place(st, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Rejected {
		if r.Host != "a9" && r.Reason != ReasonNotListed {
			t.Errorf("%s: %q, want %q", r.Host, r.Reason, ReasonNotListed)
		}
	}
}

func TestPlaceDoesNotModifyRequest(t *testing.T) {
	req := &Request{ServiceName: "nfs.foo", ServiceType: "nfs", Ranked: true, Ports: []int{2049},
		Placement: spec.PlacementSpec{Count: ip(3)}, RankMap: RankMap{0: {1: "a"}},
		Daemons: []Daemon{{Type: "nfs", ID: "a", Hostname: "h1", Rank: ip(0), RankGeneration: ip(1), Ports: []int{2049}}}}
	plan, err := Place(ClusterState{Hosts: hosts("h1", "h2", "h3")}, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.RankMap) != 1 || len(req.RankMap[0]) != 1 {
		t.Errorf("request rank map modified: %v", req.RankMap)
	}
	if len(plan.RankMap) != 3 {
		t.Errorf("plan rank map = %v, want 3 ranks", plan.RankMap)
	}
	plan.Slots[0].Ports[0] = 1
	if req.Ports[0] != 2049 {
		t.Errorf("slot ports alias the request's ports")
	}
}

func TestSlotString(t *testing.T) {
	for _, tc := range []struct {
		s    Slot
		want string
	}{
		{Slot{DaemonType: "mgr", Hostname: "h"}, "mgr:h"},
		{Slot{DaemonType: "rgw", Hostname: "h", Ports: []int{80}}, "rgw:h(*:80)"},
		{Slot{DaemonType: "haproxy", Hostname: "h", IP: "10.0.0.1", Ports: []int{443, 8888}}, "haproxy:h(10.0.0.1:443,8888)"},
		{Slot{DaemonType: "nfs", Hostname: "h", Rank: ip(0), RankGeneration: ip(2)}, "nfs:h(rank=0.2)"},
		{Slot{DaemonType: "mon", Hostname: "h", Network: "10.0.0.0/8", Name: "a"}, "mon:h(network=10.0.0.0/8 name=a)"},
		{Slot{DaemonType: "mon", Hostname: "h", IP: "10.0.0.1"}, "mon:h"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.s.String(); got != tc.want {
				t.Errorf("String() = %q", got)
			}
		})
	}
}

func TestSplitHosts(t *testing.T) {
	st := SplitHosts([]Host{
		{Name: "a"}, {Name: "b", Status: "Offline"}, {Name: "c", Status: "maintenance", Labels: []string{LabelNoSchedule}},
		{Name: "d", Labels: []string{"x", LabelNoSchedule}},
	}, nil)
	if got := hostNames(st.Hosts); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("schedulable = %v", got)
	}
	if !slices.Equal(st.Unreachable, []string{"b", "c"}) || !slices.Equal(st.Draining, []string{"c", "d"}) {
		t.Errorf("unreachable = %v, draining = %v", st.Unreachable, st.Draining)
	}
}

func hostNames(hs []Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	return out
}

func TestCandidateRange(t *testing.T) {
	names := []string{"a", "node001", "node002", "node010", "node1", "z"}
	for _, tc := range []struct {
		pat    string
		lo, hi int
	}{
		{"node00*", 1, 3}, {"node0?0", 1, 4}, {"[n]ode*", 0, 6}, {"x*", 5, 5}, {"node1", 4, 5},
	} {
		t.Run(tc.pat, func(t *testing.T) {
			m := newHostMatcher(spec.HostPattern{Pattern: tc.pat})
			lo, hi := m.candidateRange(names)
			if lo != tc.lo || hi != tc.hi {
				t.Errorf("range = [%d,%d), want [%d,%d)", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

func TestClusterConcurrentUse(t *testing.T) {
	c := NewCluster(benchCluster(1000))
	reqs := benchServices(1000)
	want := make([]*Plan, len(reqs))
	for i, r := range reqs {
		p, err := c.Place(r)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = p
	}
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i, r := range reqs {
				p, err := c.Place(r)
				if err != nil {
					done <- err
					return
				}
				if !slices.Equal(strs(p.Slots), strs(want[i].Slots)) {
					done <- errors.New("concurrent Place gave a different plan for " + r.ServiceName)
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestSlotMatchesDaemon(t *testing.T) {
	base := Slot{DaemonType: "rgw", Hostname: "h1", IP: "10.0.0.1", Ports: []int{80, 81}}
	for _, tc := range []struct {
		name    string
		slot    Slot
		d       Daemon
		upgrade bool
		want    bool
	}{
		{"same", base, Daemon{Type: "rgw", ID: "a", Hostname: "h1", IP: "10.0.0.1", Ports: []int{80, 81}}, false, true},
		{"unknown ports and ip match", base, Daemon{Type: "rgw", ID: "a", Hostname: "h1"}, false, true},
		{"other type", base, Daemon{Type: "mds", ID: "a", Hostname: "h1"}, false, false},
		{"other host", base, Daemon{Type: "rgw", ID: "a", Hostname: "h2"}, false, false},
		{"other ports", base, Daemon{Type: "rgw", ID: "a", Hostname: "h1", Ports: []int{80}}, false, false},
		{"other ports during upgrade", base, Daemon{Type: "rgw", ID: "a", Hostname: "h1", Ports: []int{80}}, true, true},
		{"other ip", base, Daemon{Type: "rgw", ID: "a", Hostname: "h1", IP: "10.0.0.2"}, false, false},
		{"ip ignored without slot ports", Slot{DaemonType: "mon", Hostname: "h1"}, Daemon{Type: "mon", ID: "a", Hostname: "h1", IP: "10.0.0.2"}, false, true},
		{"name must match", Slot{DaemonType: "mon", Hostname: "h1", Name: "b"}, Daemon{Type: "mon", ID: "a", Hostname: "h1"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.slot.MatchesDaemon(&tc.d, tc.upgrade); got != tc.want {
				t.Errorf("%v.MatchesDaemon(%+v, %v) = %v, want %v", tc.slot, tc.d, tc.upgrade, got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	// Validation alone accepts draining hosts as known and places nothing.
	c := NewCluster(ClusterState{Hosts: hosts("h1"), Draining: []string{"h2"}})
	if c.Len() != 1 {
		t.Errorf("Len() = %d", c.Len())
	}
	ok := &Request{ServiceName: "mgr", ServiceType: "mgr",
		Placement: spec.PlacementSpec{Hosts: []spec.HostPlacementSpec{{Hostname: "h1"}, {Hostname: "h2"}}}}
	if err := c.Validate(ok); err != nil {
		t.Errorf("Validate: %v", err)
	}
	bad := &Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Label: "x"}}
	if err := c.Validate(bad); !errors.Is(err, ErrNoLabelHost) {
		t.Errorf("Validate = %v, want ErrNoLabelHost", err)
	}
}

// The quirks below are cephadm's behaviour, kept for parity (README).
func TestParityQuirks(t *testing.T) {
	t.Run("a kept daemon on a blocking host stays in the slots and is removed", func(t *testing.T) {
		plan, err := Place(ClusterState{Hosts: hosts("h1", "h2", "h3")}, &Request{ServiceName: "mgr", ServiceType: "mgr",
			Placement: spec.PlacementSpec{Count: ip(2)}, BlockingHosts: []string{"h1"},
			Daemons: []Daemon{{Type: "mgr", ID: "a", Hostname: "h1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(hostnames(plan.Slots), "h1") || !slices.Equal(names(plan.ToRemove), []string{"mgr.a"}) || len(plan.ToAdd) != 2 {
			t.Errorf("slots %v add %v remove %v", strs(plan.Slots), strs(plan.ToAdd), names(plan.ToRemove))
		}
	})
	t.Run("per-host daemons follow a kept slot on an unreachable host", func(t *testing.T) {
		plan, err := Place(ClusterState{Hosts: []Host{{Name: "h1", Status: "maintenance"}, {Name: "h2"}}, Unreachable: []string{"h1"}},
			&Request{ServiceName: "ingress.x", ServiceType: "ingress", PrimaryDaemonType: "haproxy", PerHostDaemonType: "keepalived",
				Placement: spec.PlacementSpec{Count: ip(1)}, Daemons: []Daemon{{Type: "haproxy", ID: "x.a", Hostname: "h1"}}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(strs(plan.ToAdd), []string{"keepalived:h1"}) {
			t.Errorf("to_add = %v", strs(plan.ToAdd))
		}
	})
	t.Run("count without colocation is truncated to the hosts", func(t *testing.T) {
		plan, err := Place(ClusterState{Hosts: hosts("h1", "h2")}, &Request{ServiceName: "mgr", ServiceType: "mgr",
			Placement: spec.PlacementSpec{Count: ip(5)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Slots) != 2 {
			t.Errorf("slots = %v", strs(plan.Slots))
		}
	})
}

func TestRankMapClone(t *testing.T) {
	m := RankMap{0: {1: "a", 2: ""}, 3: {}}
	c := m.Clone()
	c[0][1] = "b"
	if m[0][1] != "a" {
		t.Errorf("Clone shares maps")
	}
	if g, ok := m.maxGen(0); !ok || g != 2 {
		t.Errorf("maxGen(0) = %d, %v", g, ok)
	}
	if _, ok := m.maxGen(3); ok {
		t.Errorf("maxGen of an empty rank is ok")
	}
	if RankMap(nil).Clone() != nil {
		t.Errorf("Clone(nil) != nil")
	}
}
