package orchestrator

import (
	"fmt"

	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

// reconfigOSDs gives OSD daemons a new ceph.conf when the cluster's
// minimal conf changed since they were deployed (a monitor added or
// removed changes mon_host), as cephadm reconfigures every Ceph daemon
// whose config changed. Only the configuration is rewritten: the OSD keeps
// running, and reads the new file at its next start. OSDs without a
// recorded digest (not deployed by orch) and on unreachable hosts are left
// alone.
func (p *pass) reconfigOSDs() {
	var todo []daemonSpec
	for i := range p.v.daemons {
		d := &p.v.daemons[i]
		if d.DaemonType != "osd" || d.Provisional || d.ConfigDigest == "" || p.v.unreachable(d.Hostname) {
			continue
		}
		e := p.v.byName[d.ServiceName]
		if e != nil && (e.deleted() || e.spec == nil) {
			continue
		}
		if e == nil {
			// OSDs of `orch daemon add osd` belong to the spec-less "osd".
			e = &specEntry{rec: store.SpecRecord{ServiceName: d.ServiceName}, spec: &spec.ServiceSpec{ServiceType: "osd"}}
		}
		env, err := p.cephEnv()
		if err != nil {
			return // logged by cephEnv
		}
		ds := daemonSpec{svc: e, daemonType: "osd", id: d.DaemonID, host: d.Hostname, ceph: env}
		doc, err := p.r.buildDeploy(p.v.cluster, &ds, true)
		if err != nil {
			continue
		}
		want, _ := digestParts(doc.digest)
		have, _ := digestParts(d.ConfigDigest)
		if want != have {
			todo = append(todo, ds)
		}
	}
	forEachHost(p, todo, func(d daemonSpec) string { return d.host }, func(d daemonSpec) {
		if err := p.reconfigOSD(&d); err != nil {
			p.r.daemonEvent(d.name(), store.LevelError, "Failed to reconfigure: %v", err)
			p.mu.Lock()
			p.placeFails = append(p.placeFails, fmt.Sprintf("Failed to reconfigure %s on %s: %v", d.name(), d.host, err))
			p.mu.Unlock()
		}
	})
}

// reconfigOSD rewrites one OSD's configuration and keyring.
func (p *pass) reconfigOSD(d *daemonSpec) error {
	doc, err := p.r.buildDeploy(p.v.cluster, d, true)
	if err != nil {
		return err
	}
	kr, err := p.r.DaemonKeyring(p.ctx, "osd", d.id, d.host)
	if err != nil {
		return fmt.Errorf("keyring of %s: %w", d.name(), err)
	}
	doc.req.ConfigBlobs.Keyring = kr
	if err := doc.req.Validate(); err != nil {
		return err
	}
	p.flagHost(d.host)
	if err := p.r.deployDaemon(p.ctx, d.host, doc); err != nil {
		return err
	}
	p.r.daemonEvent(d.name(), store.LevelInfo, "Reconfigured %s on host '%s'", d.name(), d.host)
	p.r.recordDigest(d.name(), doc.digest)
	p.mu.Lock()
	p.changed = true
	p.touched[d.host] = true
	p.mu.Unlock()
	return nil
}
