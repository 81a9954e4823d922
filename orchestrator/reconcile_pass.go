package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/plan"
	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
	"golang.org/x/sync/errgroup"
)

// pass is one reconcile pass over a view.
type pass struct {
	ctx context.Context
	r   *Reconciler
	v   *view

	// mu guards everything below; deploy and remove workers run in
	// parallel (one goroutine per host).
	mu         sync.Mutex
	changed    bool
	applyFails map[string]string
	placeFails []string
	results    map[string]*svcResult
	touched    map[string]bool
	chosen     map[string]bool // daemon names picked this pass
	planned    map[string][]plannedPorts
	snap       *plan.Snapshot
	// ceph is the Ceph configuration of this pass (read on first use).
	ceph cephEnvOnce
}

// plannedPorts are ports a daemon deployed in this pass will hold.
type plannedPorts struct {
	name  string
	ports []int
}

// svcResult is what a pass did for one service (for its operations).
type svcResult struct {
	toAdd, toRemove int
	added, removed  int
	converged       bool
	failed          string
}

func newPass(ctx context.Context, r *Reconciler, v *view) *pass {
	return &pass{ctx: ctx, r: r, v: v, applyFails: map[string]string{}, results: map[string]*svcResult{},
		touched: map[string]bool{}, chosen: map[string]bool{}, planned: map[string][]plannedPorts{}}
}

func (p *pass) result(svc string) *svcResult {
	res := p.results[svc]
	if res == nil {
		res = &svcResult{}
		p.results[svc] = res
	}
	return res
}

// applyFail records a spec that could not be applied (APPLY_SPEC_FAIL).
func (p *pass) applyFail(svc string, err error) {
	msg := err.Error()
	p.mu.Lock()
	p.applyFails[svc] = msg
	p.result(svc).failed = "Failed to apply: " + msg
	p.mu.Unlock()
	p.r.serviceEvent(svc, store.LevelError, "Failed to apply: %s", msg)
	p.r.lg.Warn().Str("service", svc).Err(err).Msg("apply spec")
}

// placeFail records a daemon that could not be placed (DAEMON_PLACE_FAIL).
func (p *pass) placeFail(svc, msg string) {
	p.mu.Lock()
	p.placeFails = append(p.placeFails, msg)
	p.result(svc).failed = msg
	p.mu.Unlock()
	p.r.serviceEvent(svc, store.LevelError, "%s", msg)
	p.r.lg.Warn().Str("service", svc).Msg(msg)
}

// snapshot is the cluster as the scheduler sees it in this pass: every
// host (those never refreshed are treated as draining: they are known,
// but nothing is placed there until their daemons are), the daemons
// including this pass's changes, networks, rank maps and active specs.
func (p *pass) snapshot() *plan.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.snap == nil {
		p.snap = p.v.planSnapshot(true)
	}
	return p.snap
}

func (p *pass) invalidateSnapshot() {
	p.mu.Lock()
	p.snap = nil
	p.mu.Unlock()
}

// planSnapshot renders the view for package plan. forReconcile marks hosts
// whose daemons were never listed as draining (cephadm's schedulable
// hosts need one daemon refresh).
func (v *view) planSnapshot(forReconcile bool) *plan.Snapshot {
	snap := &plan.Snapshot{Networks: v.networks, RankMaps: map[string]scheduler.RankMap{}, MonPublicNetwork: v.monPublicNetwork}
	for _, h := range v.hosts {
		labels := h.Labels
		if forReconcile && v.refreshed[h.Name].IsZero() && !slices.Contains(labels, scheduler.LabelNoSchedule) {
			labels = append(slices.Clone(labels), scheduler.LabelNoSchedule)
		}
		snap.Hosts = append(snap.Hosts, plan.Host{Hostname: h.Name, Addr: h.Addr, Labels: labels, Status: planStatus(h.Status)})
	}
	for i := range v.daemons {
		snap.Daemons = append(snap.Daemons, planDaemon(&v.daemons[i]))
	}
	for _, e := range v.specs {
		if e.spec == nil || e.deleted() {
			continue
		}
		snap.Specs = append(snap.Specs, spec.Document{Service: e.spec})
		if len(e.rec.RankMap) > 0 {
			snap.RankMaps[e.rec.ServiceName] = toSchedRankMap(e.rec.RankMap)
		}
	}
	return snap
}

func planStatus(s string) string {
	switch st := strings.ToLower(s); st {
	case scheduler.StatusOffline, scheduler.StatusMaintenance:
		return st
	}
	return ""
}

func planDaemon(d *daemonRecord) plan.Daemon {
	pd := plan.Daemon{DaemonType: d.DaemonType, DaemonID: d.DaemonID, Hostname: d.Hostname,
		ServiceName: d.ServiceName, Ports: d.Ports, Rank: d.Rank, RankGeneration: d.RankGeneration, IsActive: d.IsActive}
	if d.IP != nil {
		pd.IP = *d.IP
	}
	if pd.Rank != nil && pd.RankGeneration == nil {
		pd.Rank = nil
	}
	return pd
}

func toSchedRankMap(m store.RankMap) scheduler.RankMap {
	out := make(scheduler.RankMap, len(m))
	for r, gens := range m {
		g := make(map[int]string, len(gens))
		for k, v := range gens {
			if v != nil {
				g[k] = *v
			} else {
				g[k] = ""
			}
		}
		out[r] = g
	}
	return out
}

func toStoreRankMap(m scheduler.RankMap) store.RankMap {
	if m == nil {
		return nil
	}
	out := make(store.RankMap, len(m))
	for r, gens := range m {
		g := make(map[int]*string, len(gens))
		for k, v := range gens {
			if v != "" {
				v := v
				g[k] = &v
			} else {
				g[k] = nil
			}
		}
		out[r] = g
	}
	return out
}

func rankMapsEqual(a, b scheduler.RankMap) bool {
	if len(a) != len(b) {
		return false
	}
	for r, ga := range a {
		gb, ok := b[r]
		if !ok || len(ga) != len(gb) {
			return false
		}
		for g, id := range ga {
			if id2, ok := gb[g]; !ok || id2 != id {
				return false
			}
		}
	}
	return true
}

// hasCount reports whether a spec's placement (or default) uses count.
func hasCount(s *spec.ServiceSpec) bool {
	pl := s.Placement
	if pl.IsEmpty() {
		pl = spec.DefaultPlacement(s.ServiceType)
	}
	return pl.Count != nil
}

// applyAll places every managed spec: services without a count first
// (their placement is deterministic), then those with one; by name within
// each group.
func (p *pass) applyAll() {
	var first, second, osds []*specEntry
	for _, e := range p.v.specs {
		svc := e.rec.ServiceName
		switch {
		case e.deleted():
			continue
		case e.err != nil:
			p.applyFail(svc, e.err)
			continue
		case e.managed() && e.spec.ServiceType == "osd":
			osds = append(osds, e)
			continue
		case !e.managed() || e.spec.ServiceType == "osd":
			// Unmanaged services are left alone.
			p.result(svc).converged = true
			continue
		}
		if hasCount(e.spec) {
			second = append(second, e)
		} else {
			first = append(first, e)
		}
	}
	for _, e := range append(first, second...) {
		if p.ctx.Err() != nil {
			return
		}
		p.applyService(e)
	}
	// OSD specs: ceph-volume on the selected devices (osd.go).
	for _, e := range osds {
		if p.ctx.Err() != nil {
			return
		}
		p.applyOSDs(e)
	}
}

// deployJob is one daemon to deploy, with the to-be-removed daemons of the
// same service on its host that must go first (same name or a shared
// port).
type deployJob struct {
	d       daemonSpec
	replace []daemonRecord
}

func portsOverlap(a, b []int) []int {
	var out []int
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func joinPorts(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ",")
}

// applyService is cephadm's _apply_service for one spec.
func (p *pass) applyService(e *specEntry) {
	svc := e.rec.ServiceName
	res, err := plan.Compute([]spec.Document{{Service: e.spec}}, p.snapshot(),
		plan.Options{MaxCountPerHost: p.r.opts.MaxCountPerHost})
	if err != nil {
		p.applyFail(svc, err)
		return
	}
	if len(res.Services) == 0 {
		p.result(svc).converged = true
		return
	}
	sp := res.Services[0]
	result := p.result(svc)
	result.toAdd, result.toRemove = len(sp.ToAdd), len(sp.ToRemove)
	ranked := sp.RankMap != nil
	if ranked && !rankMapsEqual(sp.RankMap, toSchedRankMap(e.rec.RankMap)) {
		// cephadm saves the rank map before acting on it.
		p.saveRankMap(svc, sp.RankMap)
	}
	if len(sp.ToAdd) == 0 && len(sp.ToRemove) == 0 {
		result.converged = true
		return
	}
	existing := p.v.daemonsOf(svc)
	if st := e.spec.ServiceType; st == "mon" || st == "mgr" {
		if len(existing)+len(sp.ToAdd)-len(sp.ToRemove) < 1 {
			p.r.lg.Debug().Str("service", svc).Msg("cannot scale mon|mgr below 1")
			result.converged = true
			return
		}
	}
	p.r.lg.Info().Str("service", svc).Int("add", len(sp.ToAdd)).Int("remove", len(sp.ToRemove)).
		Msgf("Updating %s deployment (+%d -%d -> %d)", svc, len(sp.ToAdd), len(sp.ToRemove), len(sp.Slots))

	// The daemons to remove, looked up by name on their host (copies: the
	// view's daemon list changes while the pass deploys).
	var toRemove []daemonRecord
	for i := range sp.ToRemove {
		sd := &sp.ToRemove[i]
		for _, d := range existing {
			if d.name() == sd.Name() && d.Hostname == sd.Hostname {
				toRemove = append(toRemove, *d)
				break
			}
		}
	}
	extraPorts := containerPorts(e.spec)
	var jobs []*deployJob
	for _, slot := range sp.ToAdd {
		ds := daemonSpec{svc: e, daemonType: slot.DaemonType, host: slot.Hostname, ip: slot.IP,
			rank: slot.Rank, gen: slot.RankGeneration}
		ds.ports = append(append([]int(nil), slot.Ports...), extraPorts...)
		id, err := uniqueName(nameRequest{DaemonType: slot.DaemonType, Host: slot.Hostname, Prefix: e.spec.ServiceID,
			ForceName: slot.Name, Rank: slot.Rank, RankGeneration: slot.RankGeneration}, p.taken(slot.DaemonType), p.r.letters)
		if err != nil {
			p.placeFail(svc, fmt.Sprintf("Failed while placing %s on %s: %v", slot.DaemonType, slot.Hostname, err))
			continue
		}
		ds.id = id
		p.chosen[ds.name()] = true
		job := &deployJob{d: ds}
		kept := toRemove[:0:0]
		for _, d := range toRemove {
			if d.Hostname == ds.host && (d.name() == ds.name() || len(portsOverlap(d.Ports, ds.ports)) > 0) {
				job.replace = append(job.replace, d)
			} else {
				kept = append(kept, d)
			}
		}
		toRemove = kept
		if msg := p.portConflict(&ds, job.replace); msg != "" {
			p.placeFail(svc, fmt.Sprintf("Failed while placing %s on %s: %s", ds.name(), ds.host, msg))
			p.r.daemonEvent(ds.name(), store.LevelError, "Failed to deploy: %s", msg)
			continue
		}
		p.planned[ds.host] = append(p.planned[ds.host], plannedPorts{name: ds.name(), ports: ds.ports})
		jobs = append(jobs, job)
	}
	if ranked {
		// Ranked services remove first, then fence and add (cephadm).
		p.removeAll(svc, toRemove)
		toRemove = nil
	}
	deployed := p.deployAll(svc, jobs)
	p.removeAll(svc, toRemove)
	if ranked && len(deployed) > 0 {
		rm := sp.RankMap.Clone()
		for _, d := range deployed {
			if d.rank != nil && d.gen != nil {
				if rm[*d.rank] == nil {
					rm[*d.rank] = map[int]string{}
				}
				rm[*d.rank][*d.gen] = d.id
			}
		}
		p.saveRankMap(svc, rm)
	}
}

// taken reports whether a daemon id of type t is in use or picked.
func (p *pass) taken(t string) func(id string) bool {
	return func(id string) bool {
		name := t + "." + id
		if p.chosen[name] {
			return true
		}
		for i := range p.v.daemons {
			if p.v.daemons[i].DaemonType == t && p.v.daemons[i].DaemonID == id {
				return true
			}
		}
		return false
	}
}

// portConflict finds a daemon on the host (of any service) that holds one
// of d's ports and is not about to be removed for it, cephadm's host-side
// port check done before anything is sent.
func (p *pass) portConflict(d *daemonSpec, replaced []daemonRecord) string {
	if len(d.ports) == 0 {
		return ""
	}
	for i := range p.v.daemons {
		o := &p.v.daemons[i]
		if o.Hostname != d.host || o.name() == d.name() || slices.ContainsFunc(replaced, func(r daemonRecord) bool {
			return r.name() == o.name() && r.Hostname == o.Hostname
		}) {
			continue
		}
		if busy := portsOverlap(d.ports, o.Ports); len(busy) > 0 {
			return fmt.Sprintf("TCP Port(s) '%s' required for %s already in use by %s on host '%s'",
				joinPorts(busy), d.daemonType, o.name(), d.host)
		}
	}
	for _, pp := range p.planned[d.host] {
		if busy := portsOverlap(d.ports, pp.ports); len(busy) > 0 {
			return fmt.Sprintf("TCP Port(s) '%s' required for %s already in use by %s on host '%s'",
				joinPorts(busy), d.daemonType, pp.name, d.host)
		}
	}
	return ""
}

func (p *pass) saveRankMap(svc string, rm scheduler.RankMap) {
	err := p.r.st.Update(func(tx *store.Tx) error {
		rec, err := tx.GetSpec(svc)
		if err != nil {
			return err
		}
		rec.RankMap = toStoreRankMap(rm)
		return tx.PutSpec(rec)
	})
	if err != nil {
		p.r.lg.Warn().Err(err).Str("service", svc).Msg("save rank map")
		return
	}
	if e := p.v.byName[svc]; e != nil {
		e.rec.RankMap = toStoreRankMap(rm)
	}
	p.invalidateSnapshot()
}

// byHost groups items by host, hosts in first-seen order.
func byHost[T any](items []T, host func(T) string) (hosts []string, groups map[string][]T) {
	groups = map[string][]T{}
	for _, it := range items {
		h := host(it)
		if _, ok := groups[h]; !ok {
			hosts = append(hosts, h)
		}
		groups[h] = append(groups[h], it)
	}
	return hosts, groups
}

// forEachHost runs fn for every host's group, Parallelism hosts at a time;
// within a host, items run in order. A failing host is data, not a reason
// to stop the others.
func forEachHost[T any](p *pass, items []T, host func(T) string, fn func(T)) {
	hosts, groups := byHost(items, host)
	var g errgroup.Group
	g.SetLimit(p.r.opts.Parallelism)
	for _, h := range hosts {
		list := groups[h]
		g.Go(func() error {
			for _, it := range list {
				if p.ctx.Err() != nil {
					return nil
				}
				fn(it)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// deployAll deploys the jobs, hosts in parallel, and returns the daemons
// that were deployed.
func (p *pass) deployAll(svc string, jobs []*deployJob) []daemonSpec {
	var mu sync.Mutex
	var done []daemonSpec
	forEachHost(p, jobs, func(j *deployJob) string { return j.d.host }, func(j *deployJob) {
		for _, d := range j.replace {
			if err := p.removeOne(svc, d); err != nil {
				p.placeFail(svc, fmt.Sprintf("Failed while placing %s on %s: remove %s first: %v", j.d.name(), j.d.host, d.name(), err))
				return
			}
		}
		if err := p.deployOne(&j.d); err != nil {
			p.placeFail(svc, fmt.Sprintf("Failed while placing %s on %s: %v", j.d.name(), j.d.host, err))
			return
		}
		mu.Lock()
		done = append(done, j.d)
		mu.Unlock()
	})
	return done
}

func (p *pass) removeAll(svc string, ds []daemonRecord) {
	forEachHost(p, ds, func(d daemonRecord) string { return d.Hostname }, func(d daemonRecord) {
		s := svc
		if s == "" {
			s = d.ServiceName
		}
		if err := p.removeOne(s, d); err != nil {
			p.placeFail(s, fmt.Sprintf("Failed to remove %s from host '%s': %v", d.name(), d.Hostname, err))
		}
	})
}

// flagHost records, before touching a host, that its daemon list must be
// re-read: a controller killed mid-deploy then sees the daemon on restart.
func (p *pass) flagHost(host string) {
	if err := p.r.st.SetRefreshNeeded(host, store.CacheDaemons, true); err != nil {
		p.r.lg.Warn().Err(err).Str("host", host).Msg("flag host for refresh")
	}
}

// deployOne deploys one new daemon (cephadm's _create_daemon).
func (p *pass) deployOne(d *daemonSpec) error {
	if err := p.prepCeph(d); err != nil {
		return err
	}
	doc, err := p.r.buildDeploy(p.v.cluster, d, false)
	if err != nil {
		return err
	}
	if err := p.r.addCephSecrets(p.ctx, doc, d, true); err != nil {
		return err
	}
	p.flagHost(d.host)
	err = p.r.deployDaemon(p.ctx, d.host, doc)
	if err != nil {
		p.r.daemonEvent(d.name(), store.LevelError, "Failed to deploy: %v", err)
		var ae *agentError
		if !errors.As(err, &ae) || !ae.portInUse() {
			// A failed fresh deploy may leave a half-made daemon behind;
			// remove it so that the next pass starts clean.
			rec := &daemonRecord{DaemonDescription: api.DaemonDescription{DaemonType: d.daemonType, DaemonID: d.id, Hostname: d.host}}
			if rmErr := p.r.removeDaemon(p.ctx, p.v.cluster.FSID, rec); rmErr != nil {
				p.r.lg.Warn().Err(rmErr).Str("daemon", d.name()).Msg("clean up after failed deploy")
			}
		}
		return err
	}
	now := p.r.now()
	st := api.StatusStarting
	rec := daemonRecord{DaemonDescription: api.DaemonDescription{DaemonType: d.daemonType, DaemonID: d.id,
		DaemonName: d.name(), Hostname: d.host, ServiceName: doc.req.Meta.ServiceName, Status: &st,
		StatusDesc: "starting", Ports: d.ports, IP: doc.req.Meta.IP, Rank: d.rank, RankGeneration: d.gen,
		ContainerImageName: doc.req.Image, ExtraContainerArgs: doc.req.Meta.ExtraContainerArgs,
		ExtraEntrypointArgs: doc.req.Meta.ExtraEntrypointArgs, LastDeployed: fmtTime(now)},
		ConfigDigest: doc.digest, Provisional: true}
	p.r.recordPending(d.name(), pendingChange{host: d.host, at: now, rec: rec})
	p.r.recordDigest(d.name(), doc.digest)
	msg := fmt.Sprintf("Deployed %s on host '%s'", d.name(), d.host)
	p.r.daemonEvent(d.name(), store.LevelInfo, "%s", msg)
	if d.svc != nil {
		p.r.serviceEvent(d.svc.rec.ServiceName, store.LevelInfo, "%s", msg)
	}
	p.r.lg.Info().Str("host", d.host).Str("daemon", d.name()).Msg("deployed")
	p.mu.Lock()
	p.v.daemons = insertDaemon(p.v.daemons, rec)
	p.reindexLocked()
	p.snap = nil
	p.changed = true
	p.touched[d.host] = true
	if d.svc != nil {
		p.result(d.svc.rec.ServiceName).added++
	}
	p.mu.Unlock()
	return nil
}

// removeOne removes one daemon (cephadm's _remove_daemon).
func (p *pass) removeOne(svc string, d daemonRecord) error {
	name, host := d.name(), d.Hostname
	if err := p.r.preRemoveCeph(p.ctx, &d); err != nil {
		return err
	}
	p.flagHost(host)
	if err := p.r.removeDaemon(p.ctx, p.v.cluster.FSID, &d); err != nil {
		return err
	}
	p.r.postRemoveCeph(p.ctx, &d)
	now := p.r.now()
	p.r.recordPending(name, pendingChange{host: host, removed: true, at: now})
	p.r.recordDigest(name, "")
	if err := p.r.st.DeleteEvents(store.EventDaemon, name); err != nil {
		p.r.lg.Warn().Err(err).Str("daemon", name).Msg("drop events of removed daemon")
	}
	if svc != "" {
		p.r.serviceEvent(svc, store.LevelInfo, "Removed %s from host '%s'", name, host)
	}
	p.r.lg.Info().Str("host", host).Str("daemon", name).Msg("removed")
	p.mu.Lock()
	for i := range p.v.daemons {
		if p.v.daemons[i].name() == name && p.v.daemons[i].Hostname == host {
			p.v.daemons = append(p.v.daemons[:i], p.v.daemons[i+1:]...)
			break
		}
	}
	p.reindexLocked()
	p.snap = nil
	p.changed = true
	p.touched[host] = true
	if svc != "" {
		p.result(svc).removed++
	}
	p.mu.Unlock()
	return nil
}

// reindexLocked rebuilds byService after daemons changed; p.mu is held.
func (p *pass) reindexLocked() {
	p.v.byService = map[string][]int{}
	for i := range p.v.daemons {
		p.v.byService[p.v.daemons[i].ServiceName] = append(p.v.byService[p.v.daemons[i].ServiceName], i)
	}
}

// finish refreshes the daemon lists of the hosts this pass changed (so the
// next pass sees the truth), updates operations and prunes old ones.
func (p *pass) finish() {
	if rf := p.r.refresher; rf != nil && len(p.touched) > 0 && p.ctx.Err() == nil {
		hosts := make([]string, 0, len(p.touched))
		for h := range p.touched {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		forEachHost(p, hosts, func(h string) string { return h }, func(h string) {
			if err := rf.RefreshHost(p.ctx, h, store.CacheDaemons); err != nil {
				p.r.lg.Debug().Err(err).Str("host", h).Msg("refresh after change")
				return // the flag stays: the next pass lists the host again
			}
			if err := p.r.st.SetRefreshNeeded(h, store.CacheDaemons, false); err != nil {
				p.r.lg.Debug().Err(err).Str("host", h).Msg("clear refresh flag")
			}
		})
	}
	p.updateOps()
	p.r.pruneOps(p.v.ops)
}
