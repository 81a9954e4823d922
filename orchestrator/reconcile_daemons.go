package orchestrator

import (
	"fmt"
	"strings"

	"github.com/orchceph/orch/store"
)

// keepWithoutSpec are the daemon types cephadm never removes as orphans
// (mon and mgr specs always exist; OSDs are not matched to specs).
func keepWithoutSpec(daemonType string) bool {
	switch daemonType {
	case "mon", "mgr", "osd":
		return true
	}
	return false
}

// redo is a daemon to reconfigure or redeploy.
type redo struct {
	d        daemonRecord
	ds       daemonSpec
	reconfig bool
}

// specOfDaemon returns the daemon's deploy spec as its service would
// deploy it now.
func daemonSpecOf(e *specEntry, d *daemonRecord) daemonSpec {
	ds := daemonSpec{svc: e, daemonType: d.DaemonType, id: d.DaemonID, host: d.Hostname,
		rank: d.Rank, gen: d.RankGeneration, ports: d.Ports}
	if d.IP != nil {
		ds.ip = *d.IP
	}
	if e != nil && e.spec != nil && e.spec.ServiceType == "container" {
		ds.ports = containerPorts(e.spec)
	}
	return ds
}

// checkDaemons is cephadm's _check_daemons: scheduled daemon actions and
// removals, orphans (daemons of no active spec) removed, and daemons whose
// configuration (config digest) or run parameters (image, container
// section, ports, extra arguments) changed reconfigured or redeployed.
// Daemons on unreachable hosts are never touched.
func (p *pass) checkDaemons() {
	p.runDaemonOps()
	var orphans []daemonRecord
	var redos []redo
	for i := range p.v.daemons {
		d := p.v.daemons[i]
		if d.Provisional || p.v.unreachable(d.Hostname) {
			continue
		}
		e := p.v.byName[d.ServiceName]
		if e == nil || e.deleted() {
			if !keepWithoutSpec(d.DaemonType) {
				orphans = append(orphans, d)
			}
			continue
		}
		if !e.managed() || e.spec.ServiceType == "osd" || d.DaemonType == "osd" || d.ConfigDigest == "" {
			// Without a recorded digest (a daemon orch did not deploy)
			// there is nothing to compare; cephadm would reconfigure it
			// once, orch leaves it alone rather than risk a restart loop.
			continue
		}
		ds := daemonSpecOf(e, &d)
		if err := p.prepCeph(&ds); err != nil {
			continue // without the cluster's conf there is nothing to compare
		}
		doc, err := p.r.buildDeploy(p.v.cluster, &ds, false)
		if err != nil {
			continue
		}
		wantCfg, wantRun := digestParts(doc.digest)
		haveCfg, haveRun := digestParts(d.ConfigDigest)
		switch {
		case haveRun != wantRun:
			redos = append(redos, redo{d: d, ds: ds})
		case haveCfg != wantCfg:
			redos = append(redos, redo{d: d, ds: ds, reconfig: true})
		}
	}
	for _, o := range orphans {
		p.r.lg.Info().Str("daemon", o.name()).Msg("Removing orphan daemon")
	}
	p.removeAll("", orphans)
	forEachHost(p, redos, func(x redo) string { return x.d.Hostname }, func(x redo) {
		p.redeploy(x.d, x.ds, x.reconfig, "")
	})
	p.reconfigOSDs()
}

// redeploy re-runs the agent's deploy for an existing daemon: a reconfig
// rewrites its configuration only, a redeploy recreates its container.
func (p *pass) redeploy(d daemonRecord, ds daemonSpec, reconfig bool, image string) error {
	if err := p.prepCeph(&ds); err != nil {
		return err
	}
	doc, err := p.r.buildDeploy(p.v.cluster, &ds, reconfig)
	if err != nil {
		return err
	}
	if err := p.r.addCephSecrets(p.ctx, doc, &ds, false); err != nil {
		return err
	}
	if image != "" {
		doc.req.Image = image
	}
	p.flagHost(d.Hostname)
	if err := p.r.deployDaemon(p.ctx, d.Hostname, doc); err != nil {
		p.r.daemonEvent(d.name(), store.LevelError, "Failed to deploy: %v", err)
		p.mu.Lock()
		p.placeFails = append(p.placeFails, fmt.Sprintf("Failed to redeploy %s on %s: %v", d.name(), d.Hostname, err))
		p.mu.Unlock()
		return err
	}
	what := "Deployed"
	if reconfig {
		what = "Reconfigured"
	}
	p.r.daemonEvent(d.name(), store.LevelInfo, "%s %s on host '%s'", what, d.name(), d.Hostname)
	updated := d
	updated.ConfigDigest = doc.digest
	updated.ExtraContainerArgs, updated.ExtraEntrypointArgs = doc.req.Meta.ExtraContainerArgs, doc.req.Meta.ExtraEntrypointArgs
	p.r.recordPending(d.name(), pendingChange{host: d.Hostname, at: p.r.now(), rec: updated})
	p.r.recordDigest(d.name(), doc.digest)
	p.mu.Lock()
	p.changed = true
	p.touched[d.Hostname] = true
	p.mu.Unlock()
	return nil
}

// runDaemonOps executes scheduled daemon actions and removals (operations
// created by the API), skipping daemons on unreachable hosts until they
// are back.
func (p *pass) runDaemonOps() {
	for i := range p.v.ops {
		op := &p.v.ops[i]
		if !live(op) || (op.Kind != opDaemonAction && op.Kind != opDaemonRm) {
			continue
		}
		d, err := decodeDetail(op)
		if err != nil {
			continue
		}
		type item struct {
			idx int
			dm  opDaemon
		}
		var items []item
		for j, dm := range d.Daemons {
			if !dm.Done {
				items = append(items, item{j, dm})
			}
		}
		results := make([]opDaemon, len(d.Daemons))
		copy(results, d.Daemons)
		forEachHost(p, items, func(it item) string { return it.dm.Host }, func(it item) {
			res := p.daemonOp(it.dm)
			p.mu.Lock()
			results[it.idx] = res
			p.mu.Unlock()
		})
		p.r.updateOp(op.ID, func(det *opDetail) string {
			failed := ""
			for j := range det.Daemons {
				if j < len(results) && results[j].Name == det.Daemons[j].Name {
					det.Daemons[j] = results[j]
				}
				if det.Daemons[j].Error != "" {
					failed = det.Daemons[j].Error
				}
			}
			return failed
		})
	}
}

// daemonOp runs one scheduled action and returns the item, done or not.
func (p *pass) daemonOp(dm opDaemon) opDaemon {
	var d *daemonRecord
	for i := range p.v.daemons {
		if p.v.daemons[i].name() == dm.Name {
			cp := p.v.daemons[i]
			d = &cp
			break
		}
	}
	if d == nil {
		if dm.Action == "rm" {
			dm.Done = true // already gone
		} else {
			dm.Done, dm.Error = true, fmt.Sprintf("daemon %s no longer exists", dm.Name)
		}
		return dm
	}
	if p.v.unreachable(d.Hostname) || d.Provisional {
		return dm // later: never touch unreachable hosts
	}
	var err error
	switch dm.Action {
	case "rm":
		err = p.removeOne(d.ServiceName, *d)
	case "start", "stop", "restart":
		err = p.r.unitAction(p.ctx, p.v.cluster.FSID, d.Hostname, d.name(), dm.Action)
		if err == nil {
			msg := fmt.Sprintf("%s %s from host '%s'", strings.ToUpper(dm.Action[:1])+dm.Action[1:], d.name(), d.Hostname)
			p.r.daemonEvent(d.name(), store.LevelInfo, "%s", msg)
			p.flagHost(d.Hostname)
			p.mu.Lock()
			p.changed = true
			p.touched[d.Hostname] = true
			p.mu.Unlock()
		}
	case "redeploy", "reconfig":
		e := p.v.byName[d.ServiceName]
		if e == nil || e.spec == nil {
			err = fmt.Errorf("cannot %s %s: its service %s has no spec", dm.Action, d.name(), d.ServiceName)
			break
		}
		err = p.redeploy(*d, daemonSpecOf(e, d), dm.Action == "reconfig", dm.Image)
	default:
		err = fmt.Errorf("unknown daemon action %q", dm.Action)
	}
	dm.Done = true
	if err != nil {
		dm.Error = err.Error()
		p.r.daemonEvent(d.name(), store.LevelError, "Failed to %s %s: %v", dm.Action, d.name(), err)
	}
	return dm
}

// purgeDeleted forgets deleted services once none of their daemons are
// left (cephadm's _purge_deleted_services).
func (p *pass) purgeDeleted() {
	for _, e := range p.v.specs {
		svc := e.rec.ServiceName
		if !e.deleted() || len(p.v.byService[svc]) > 0 {
			continue
		}
		purged := false
		err := p.r.st.Update(func(tx *store.Tx) error {
			rec, err := tx.GetSpec(svc)
			if err != nil || rec.Deleted == nil {
				return err // re-applied meanwhile: keep it
			}
			if err := tx.PurgeSpec(svc); err != nil {
				return err
			}
			purged = true
			return tx.DeleteEvents(store.EventService, svc)
		})
		if err != nil {
			p.r.lg.Warn().Err(err).Str("service", svc).Msg("purge deleted service")
			continue
		}
		if purged {
			p.r.purgeCephService(p.ctx, svc)
			p.r.lg.Info().Str("service", svc).Msg("purged deleted service")
			p.mu.Lock()
			p.result(svc).converged = true
			p.mu.Unlock()
			delete(p.v.byName, svc)
		}
	}
}

// forgetStaleDigests drops digest records of daemons no host lists any
// more (removed behind orch's back, or with their host).
func (p *pass) forgetStaleDigests() {
	live := map[string]bool{}
	for i := range p.v.daemons {
		live[p.v.daemons[i].name()] = true
	}
	for name := range p.v.digests {
		if !live[name] {
			p.r.recordDigest(name, "")
		}
	}
}

// updateOps advances apply and service-rm operations with what this pass
// found.
func (p *pass) updateOps() {
	for i := range p.v.ops {
		op := &p.v.ops[i]
		if !live(op) {
			continue
		}
		switch op.Kind {
		case opApply:
			p.r.updateOp(op.ID, func(d *opDetail) string {
				failed := ""
				for j := range d.Services {
					s := &d.Services[j]
					if s.Done {
						continue
					}
					e := p.v.byName[s.Name]
					if e == nil || e.deleted() {
						s.Done = true // removed or superseded since
						continue
					}
					res := p.results[s.Name]
					if res == nil {
						continue
					}
					if !s.Planned {
						s.Add, s.Remove, s.Planned = res.toAdd, res.toRemove, true
					}
					s.Added += res.added
					s.Removed += res.removed
					s.Add, s.Remove = max(s.Add, s.Added), max(s.Remove, s.Removed)
					switch {
					case res.failed != "":
						s.Error = res.failed
						failed = s.Name + ": " + res.failed
					case res.converged:
						s.Done = true
					}
				}
				return failed
			})
		case opServiceRm:
			p.r.updateOp(op.ID, func(d *opDetail) string {
				for j := range d.Services {
					s := &d.Services[j]
					if e := p.v.byName[s.Name]; e == nil || !e.deleted() {
						s.Done = true
						continue
					}
					if res := p.results[s.Name]; res != nil {
						s.Removed += res.removed
						s.Remove = max(s.Remove, s.Removed+len(p.v.byService[s.Name]))
					}
				}
				return ""
			})
		}
	}
}
