package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/orchceph/orch/spec"
)

// benchCluster returns n hosts named node00000.. in a scrambled order, with
// labels: every 10th "mon", every 3rd "rgw", every other "osd"; 1% offline.
func benchCluster(n int) ClusterState {
	r := rand.New(rand.NewPCG(1, 2))
	var st ClusterState
	st.Hosts = make([]Host, n)
	for i := range st.Hosts {
		h := Host{Name: fmt.Sprintf("node%05d", i)}
		if i%10 == 0 {
			h.Labels = append(h.Labels, "mon")
		}
		if i%3 == 0 {
			h.Labels = append(h.Labels, "rgw")
		}
		if i%2 == 0 {
			h.Labels = append(h.Labels, "osd")
		}
		if i%100 == 99 {
			h.Status = StatusOffline
			st.Unreachable = append(st.Unreachable, h.Name)
		}
		st.Hosts[i] = h
	}
	r.Shuffle(n, func(i, j int) { st.Hosts[i], st.Hosts[j] = st.Hosts[j], st.Hosts[i] })
	return st
}

func ip(v int) *int { return &v }

type benchScenario struct {
	name string
	req  func(n int) *Request
}

// daemonsOn returns one daemon of typ on every k-th host.
func daemonsOn(typ string, n, k int) []Daemon {
	var ds []Daemon
	for i := 0; i < n; i += k {
		h := fmt.Sprintf("node%05d", i)
		ds = append(ds, Daemon{Type: typ, ID: h, Hostname: h})
	}
	return ds
}

var benchScenarios = []benchScenario{
	{"count3", func(n int) *Request {
		return &Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(3)}}
	}},
	{"count3-existing", func(n int) *Request {
		return &Request{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(3)},
			Daemons: []Daemon{{Type: "mgr", ID: "a", Hostname: "node00004", IsActive: true},
				{Type: "mgr", ID: "b", Hostname: "node00007"}, {Type: "mgr", ID: "c", Hostname: "node00009"}}}
	}},
	{"label-count5", func(n int) *Request {
		return &Request{ServiceName: "mon", ServiceType: "mon", Placement: spec.PlacementSpec{Count: ip(5), Label: "mon"}}
	}},
	{"label-all", func(n int) *Request {
		return &Request{ServiceName: "rgw.zone", ServiceType: "rgw", AllowColo: true, Ports: []int{80},
			Placement: spec.PlacementSpec{Label: "rgw"}, Daemons: daemonsOn("rgw", n, 3)}
	}},
	{"pattern-count", func(n int) *Request {
		return &Request{ServiceName: "mds.fs", ServiceType: "mds", AllowColo: true,
			Placement: spec.PlacementSpec{Count: ip(4), HostPattern: &spec.HostPattern{Pattern: "node0[0-4]*"}}}
	}},
	{"all-hosts-existing", func(n int) *Request {
		return &Request{ServiceName: "crash", ServiceType: "crash",
			Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}}, Daemons: daemonsOn("crash", n, 1)}
	}},
	{"nfs-ranked", func(n int) *Request {
		return &Request{ServiceName: "nfs.foo", ServiceType: "nfs", Ranked: true, Ports: []int{2049},
			Placement: spec.PlacementSpec{Count: ip(3)}, RankMap: RankMap{0: {1: "foo.0.1"}},
			Daemons: []Daemon{{Type: "nfs", ID: "foo.0.1", Hostname: "node00010", Rank: ip(0), RankGeneration: ip(1)}}}
	}},
}

func BenchmarkPlace(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		c := NewCluster(benchCluster(n))
		for _, sc := range benchScenarios {
			req := sc.req(n)
			b.Run(fmt.Sprintf("hosts=%d/%s", n, sc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Place(req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkNewCluster(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		st := benchCluster(n)
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				NewCluster(st)
			}
		})
	}
}

// benchServices is a 200-service cluster plan: per-host services on every
// host (crash, node-exporter, ceph-exporter), mons and mgrs, and count or
// label placements for the rest, each with its daemons already running on
// part of its hosts.
func benchServices(n int) []*Request {
	reqs := []*Request{
		{ServiceName: "crash", ServiceType: "crash", Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}}, Daemons: daemonsOn("crash", n, 1)},
		{ServiceName: "node-exporter", ServiceType: "node-exporter", Ports: []int{9100}, Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}}, Daemons: daemonsOn("node-exporter", n, 2)},
		{ServiceName: "ceph-exporter", ServiceType: "ceph-exporter", Placement: spec.PlacementSpec{HostPattern: &spec.HostPattern{Pattern: "*"}}},
		{ServiceName: "mon", ServiceType: "mon", Placement: spec.PlacementSpec{Count: ip(5), Label: "mon"}, Daemons: daemonsOn("mon", 50, 10)},
		{ServiceName: "mgr", ServiceType: "mgr", Placement: spec.PlacementSpec{Count: ip(3)}, Daemons: daemonsOn("mgr", 3, 1)},
	}
	for i := len(reqs); i < 200; i++ {
		var r *Request
		switch i % 4 {
		case 0:
			id := fmt.Sprintf("rgw.z%d", i)
			r = &Request{ServiceName: id, ServiceType: "rgw", AllowColo: true, Ports: []int{80},
				Placement: spec.PlacementSpec{Count: ip(4), Label: "rgw"}}
		case 1:
			id := fmt.Sprintf("mds.fs%d", i)
			r = &Request{ServiceName: id, ServiceType: "mds", AllowColo: true,
				Placement: spec.PlacementSpec{Count: ip(2)}, Daemons: []Daemon{{Type: "mds", ID: id + ".a", Hostname: fmt.Sprintf("node%05d", i)}}}
		case 2:
			id := fmt.Sprintf("nfs.n%d", i)
			r = &Request{ServiceName: id, ServiceType: "nfs", Ranked: true, Ports: []int{2049},
				Placement: spec.PlacementSpec{Count: ip(2)}}
		default:
			id := fmt.Sprintf("iscsi.i%d", i)
			r = &Request{ServiceName: id, ServiceType: "iscsi", Ports: []int{5000},
				Placement: spec.PlacementSpec{Count: ip(2), HostPattern: &spec.HostPattern{Pattern: fmt.Sprintf("node00%d*", i%10)}}}
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func BenchmarkPass200Services(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		st := benchCluster(n)
		reqs := benchServices(n)
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := NewCluster(st)
				for _, req := range reqs {
					if _, err := c.Place(req); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
