package scheduler

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/orchceph/orch/spec"
	"pgregory.net/rapid"
)

// svcKind is a service type with cephadm's per-type facts.
type svcKind struct {
	typ, id string
	colo    bool
	ranked  bool
	ports   []int
	primary string
	perHost string
}

var svcKinds = []svcKind{
	{typ: "mgr"},
	{typ: "mds", id: "fs", colo: true},
	{typ: "nfs", id: "foo", ranked: true, ports: []int{2049}},
	{typ: "rgw", id: "r.z", colo: true, ports: []int{80}},
	{typ: "ingress", id: "rgw.r", ports: []int{443, 8888}, primary: "haproxy", perHost: "keepalived"},
	{typ: "crash"},
}

type world struct {
	st  ClusterState
	req *Request
}

func genWorld(t *rapid.T) world {
	nHosts := rapid.IntRange(0, 7).Draw(t, "nHosts")
	var all []string
	var st ClusterState
	for i := 0; i < nHosts; i++ {
		name := fmt.Sprintf("h%d", i)
		all = append(all, name)
		var labels []string
		for _, l := range []string{"a", "b"} {
			if rapid.Bool().Draw(t, "label-"+name+l) {
				labels = append(labels, l)
			}
		}
		status := rapid.SampledFrom([]string{"", "", "", "offline", "maintenance"}).Draw(t, "status-"+name)
		if status != "" {
			st.Unreachable = append(st.Unreachable, name)
		}
		if rapid.IntRange(0, 5).Draw(t, "drain-"+name) == 0 {
			st.Draining = append(st.Draining, name)
			continue
		}
		st.Hosts = append(st.Hosts, Host{Name: name, Labels: labels, Status: status})
	}
	k := rapid.SampledFrom(svcKinds).Draw(t, "kind")
	req := &Request{
		ServiceType:       k.typ,
		ServiceName:       k.typ,
		AllowColo:         k.colo,
		Ranked:            k.ranked,
		Ports:             k.ports,
		PrimaryDaemonType: k.primary,
		PerHostDaemonType: k.perHost,
		Explain:           rapid.Bool().Draw(t, "explain"),
	}
	if k.id != "" {
		req.ServiceName += "." + k.id
	}
	primary := k.typ
	if k.primary != "" {
		primary = k.primary
	}
	pl := &req.Placement
	intp := func(v int) *int { return &v }
	switch rapid.IntRange(0, 5).Draw(t, "rule") {
	case 0:
		hosts := rapid.SliceOfNDistinct(rapid.SampledFrom(append(all, "x")), 0, 4, rapid.ID[string]).Draw(t, "hosts")
		for _, h := range hosts {
			pl.Hosts = append(pl.Hosts, spec.HostPlacementSpec{Hostname: h})
		}
	case 1:
		pl.Label = rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "label")
	case 2:
		pl.HostPattern = &spec.HostPattern{Pattern: rapid.SampledFrom([]string{"*", "h[0-3]", "h?", "nomatch"}).Draw(t, "pattern")}
	case 3:
		pl.Label = rapid.SampledFrom([]string{"a", "b"}).Draw(t, "label")
		pl.HostPattern = &spec.HostPattern{Pattern: "h[0-4]"}
	}
	if rapid.Bool().Draw(t, "hasCount") {
		pl.Count = intp(rapid.IntRange(1, 6).Draw(t, "count"))
	} else if rapid.Bool().Draw(t, "hasCPH") && (k.colo || rapid.Bool().Draw(t, "cph1")) {
		cph := 1
		if k.colo {
			cph = rapid.IntRange(1, 3).Draw(t, "cph")
		}
		pl.CountPerHost = intp(cph)
	}
	if pl.Label == "" && pl.HostPattern == nil && len(pl.Hosts) == 0 && pl.Count == nil && pl.CountPerHost == nil {
		pl.Count = intp(rapid.IntRange(1, 4).Draw(t, "fallbackCount"))
	}
	if pl.CountPerHost != nil && pl.Label == "" && pl.HostPattern == nil && len(pl.Hosts) == 0 {
		pl.HostPattern = &spec.HostPattern{Pattern: "*"}
	}
	if k.ranked {
		req.RankMap = RankMap{}
	}
	nd := rapid.IntRange(0, 6).Draw(t, "nDaemons")
	for i := 0; i < nd; i++ {
		typ := primary
		if k.perHost != "" && rapid.Bool().Draw(t, "perHostDaemon") {
			typ = k.perHost
		}
		d := Daemon{Type: typ, ID: fmt.Sprintf("d%d", i),
			Hostname: rapid.SampledFrom(append(all, "gone")).Draw(t, "dhost"),
			IsActive: rapid.IntRange(0, 4).Draw(t, "active") == 0}
		if typ == primary && len(k.ports) > 0 && rapid.Bool().Draw(t, "hasPorts") {
			off := rapid.IntRange(0, 2).Draw(t, "portOff")
			for _, p := range k.ports {
				d.Ports = append(d.Ports, p+off)
			}
		}
		if k.ranked && typ == primary {
			r, g := rapid.IntRange(0, 3).Draw(t, "rank"), rapid.IntRange(0, 2).Draw(t, "gen")
			d.Rank, d.RankGeneration = &r, &g
			if rapid.IntRange(0, 3).Draw(t, "inMap") > 0 {
				if req.RankMap[r] == nil {
					req.RankMap[r] = map[int]string{}
				}
				req.RankMap[r][g] = d.ID
			}
		}
		req.Daemons = append(req.Daemons, d)
	}
	return world{st: st, req: req}
}

func primaryOf(req *Request) string {
	if req.PrimaryDaemonType != "" {
		return req.PrimaryDaemonType
	}
	return req.ServiceType
}

// apply returns the daemons and rank map that result from carrying out plan.
func apply(req *Request, plan *Plan) ([]Daemon, RankMap) {
	var out []Daemon
	for _, d := range req.Daemons {
		if !slices.ContainsFunc(plan.ToRemove, func(r Daemon) bool { return r.Name() == d.Name() && r.Hostname == d.Hostname }) {
			out = append(out, d)
		}
	}
	rm := plan.RankMap.Clone()
	for i, s := range plan.ToAdd {
		id := s.Name
		if id == "" {
			id = fmt.Sprintf("new%d", i)
		}
		d := Daemon{Type: s.DaemonType, ID: id, Hostname: s.Hostname, Ports: slices.Clone(s.Ports), IP: s.IP}
		if s.Rank != nil {
			r, g := *s.Rank, *s.RankGeneration
			d.Rank, d.RankGeneration = &r, &g
			rm[r][g] = id
		}
		out = append(out, d)
	}
	return out, rm
}

func TestPropertyPlacement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		c := NewCluster(w.st)
		before := fmt.Sprintf("%+v", *w.req)
		plan, err := c.Place(w.req)
		if fmt.Sprintf("%+v", *w.req) != before {
			t.Fatalf("Place modified its request")
		}

		// Identical input gives identical output, whatever the host order.
		rev := w.st
		rev.Hosts = slices.Clone(w.st.Hosts)
		slices.Reverse(rev.Hosts)
		plan2, err2 := NewCluster(rev).Place(w.req)
		if !reflect.DeepEqual(plan, plan2) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("non-deterministic:\n%+v %v\n%+v %v", plan, err, plan2, err2)
		}
		if err != nil {
			var pe *PlacementError
			if !errors.As(err, &pe) || !errors.Is(err, spec.ErrInvalidSpec) {
				t.Fatalf("error %T %v is not a *PlacementError matching ErrInvalidSpec", err, err)
			}
			return
		}
		primary := primaryOf(w.req)
		pl := w.req.Placement

		perHost := map[string]int{}
		nPrimary := 0
		for _, s := range plan.Slots {
			if s.DaemonType == primary {
				perHost[s.Hostname]++
				nPrimary++
			}
		}
		// Never more daemons than count.
		if pl.Count != nil && nPrimary > *pl.Count {
			t.Fatalf("%d slots for count %d", nPrimary, *pl.Count)
		}
		// Never more than count_per_host (or one without colocation) per host.
		limit := 1
		if pl.Count == nil && pl.CountPerHost != nil {
			limit = *pl.CountPerHost
		}
		if pl.Count == nil || !w.req.AllowColo {
			for h, n := range perHost {
				if n > limit {
					t.Fatalf("%d slots on %s, limit %d", n, h, limit)
				}
			}
		}
		unreach := map[string]bool{}
		for _, h := range w.st.Unreachable {
			unreach[h] = true
		}
		// Daemons on unreachable hosts are never removed.
		for _, d := range plan.ToRemove {
			if unreach[d.Hostname] {
				t.Fatalf("removes %s on unreachable %s", d.Name(), d.Hostname)
			}
		}
		// No new primary daemon on an unreachable or draining host. (Per-host
		// daemons follow the primary slots, kept ones on unreachable hosts
		// included, as in cephadm.)
		for _, s := range plan.ToAdd {
			if s.DaemonType != primary {
				continue
			}
			if unreach[s.Hostname] || slices.Contains(w.st.Draining, s.Hostname) {
				t.Fatalf("adds %s on unusable host", s)
			}
		}
		// Every slot is either new or an existing daemon's.
		if len(plan.Slots) < len(plan.ToAdd) {
			t.Fatalf("fewer slots than additions")
		}
		// Planning the resulting state gives an empty diff.
		next := *w.req
		next.Daemons, next.RankMap = apply(w.req, plan)
		again, err := c.Place(&next)
		if err != nil {
			t.Fatalf("re-plan: %v", err)
		}
		if len(again.ToAdd) != 0 || len(again.ToRemove) != 0 {
			t.Fatalf("re-plan not empty: add %v remove %v\nfirst plan: add %v remove %v slots %v",
				strs(again.ToAdd), names(again.ToRemove), strs(plan.ToAdd), names(plan.ToRemove), strs(plan.Slots))
		}
		if !slices.Equal(hostnames(again.Slots), hostnames(plan.Slots)) && !sameMultiset(hostnames(again.Slots), hostnames(plan.Slots)) {
			t.Fatalf("re-plan slots %v, first plan %v", strs(again.Slots), strs(plan.Slots))
		}
	})
}

func sameMultiset(a, b []string) bool { return slices.Equal(sorted(a), sorted(b)) }
