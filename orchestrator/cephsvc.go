package orchestrator

// Ceph daemons through the reconciler (cephadm's CephService
// prepare_create / post_remove): a mon, mgr, crash, mds, rgw, rbd-mirror
// or cephfs-mirror daemon is deployed with the cluster's real minimal
// ceph.conf (fsid + mon_host, `config generate-minimal-conf`), its own
// keyring with cephadm's caps, and the ceph uid/gid of the image. A new
// monitor is made with `ceph-mon --mkfs` from the current monmap (`ceph mon
// getmap`) and the shared `mon.` key, as first-deploy init containers,
// then joins the quorum on its host's address. Removing a daemon removes
// its auth key; removing a monitor first takes it out of the monmap.
//
// The config digest covers the ceph.conf (not the keyring), so a change in
// mon_host marks every Ceph daemon deployed by the reconciler for a
// reconfig. Secrets (keyrings, the monmap) travel in the deploy document
// on the agent's stdin only.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

// cephUID is the ceph user of the Ceph images (Debian and CentOS builds)
// when the bootstrap record does not say.
const cephUID = 167

// cephSvcTypes are the Ceph daemon types the reconciler deploys with a
// real configuration and keyring.
var cephSvcTypes = map[string]bool{
	"mon": true, "mgr": true, "crash": true, "mds": true, "rgw": true,
	"rbd-mirror": true, "cephfs-mirror": true, "nfs": true,
}

// isCephSvcType reports whether t is one of cephSvcTypes.
func isCephSvcType(t string) bool { return cephSvcTypes[t] }

// cephEnv is what Ceph daemons' deploy documents need from the cluster,
// read once per pass.
type cephEnv struct {
	// conf is `ceph config generate-minimal-conf`.
	conf     string
	uid, gid int
}

// cephEnvOnce lazily reads the cephEnv of one pass.
type cephEnvOnce struct {
	once sync.Once
	env  *cephEnv
	err  error
}

// loadCephEnv reads the minimal conf through the _admin host and the ceph
// uid/gid from the bootstrap record (167 when there is none).
func (r *Reconciler) loadCephEnv(ctx context.Context) (*cephEnv, error) {
	conf, err := r.MinimalConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("ceph config generate-minimal-conf: %w", err)
	}
	env := &cephEnv{conf: conf, uid: cephUID, gid: cephUID}
	err = r.st.View(func(tx *store.Tx) error {
		rec, err := loadBootstrapRecord(tx)
		if err != nil || rec == nil {
			return err
		}
		if rec.UID > 0 {
			env.uid = rec.UID
		}
		if rec.GID > 0 {
			env.gid = rec.GID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return env, nil
}

// cephEnv returns the pass's cephEnv, reading it on first use.
func (p *pass) cephEnv() (*cephEnv, error) {
	p.ceph.once.Do(func() {
		p.ceph.env, p.ceph.err = p.r.loadCephEnv(p.ctx)
		if p.ceph.err != nil {
			p.r.lg.Warn().Err(p.ceph.err).Msg("read the Ceph configuration for Ceph daemons")
		}
	})
	return p.ceph.env, p.ceph.err
}

// prepCeph fills the Ceph part of a daemon spec: the pass's cephEnv and,
// for a mon, its public address (the slot's IP, else the host's address
// in the mon public network, see monAddr). Other types are left alone.
func (p *pass) prepCeph(ds *daemonSpec) error {
	if !isCephSvcType(ds.daemonType) {
		return nil
	}
	env, err := p.cephEnv()
	if err != nil {
		return err
	}
	ds.ceph = env
	if ds.daemonType == "mon" {
		ip := ds.ip
		if ip == "" {
			if h := p.v.host[ds.host]; h != nil {
				ip = monAddr(h.Addr, p.v.networks[ds.host], p.v.monPublicNetwork)
			}
		}
		if _, err := netip.ParseAddr(ip); err == nil {
			ds.monIP = ip
		}
	}
	return nil
}

// cephDaemonConf is a Ceph daemon's ceph.conf: the minimal conf, plus for
// a mon its public address (cephadm's `[mon.<id>] public addrv`), which is
// how a new monitor finds the address it joins the monmap with.
func cephDaemonConf(d *daemonSpec) string {
	conf := d.ceph.conf
	if d.daemonType == "mon" && d.monIP != "" {
		if len(conf) > 0 && conf[len(conf)-1] != '\n' {
			conf += "\n"
		}
		conf += fmt.Sprintf("[mon.%s]\n\tpublic addrv = %s\n", d.id, monmapAddrv(d.monIP))
	}
	return conf
}

// applyCephBlobs sets the configuration and ownership of a Ceph daemon's
// deploy document (the parts the digest covers); buildDeploy calls it.
func applyCephBlobs(req *agent.DeployRequest, d *daemonSpec) {
	req.ConfigBlobs.Config = cephDaemonConf(d)
	uid, gid := d.ceph.uid, d.ceph.gid
	req.Params.UID, req.Params.GID = &uid, &gid
	if d.daemonType == "nfs" {
		applyNFSBlobs(req, d)
	}
}

// monJoinScript turns the base64 monmap the deploy wrote into the binary
// monmap monMkfsScript reads (a deploy document is JSON text: binary
// content cannot travel in it as is). Argument: mon id.
const monJoinScript = `set -eu
d=/var/lib/ceph/mon/ceph-$1/bootstrap
base64 -d "$d/monmap.b64" >"$d/monmap"
rm -f "$d/monmap.b64"`

// addCephSecrets adds what the digest does not cover to a Ceph daemon's
// deploy document: its keyring and, for a new monitor, the current monmap,
// the mon. keyring for mkfs and the init containers that make its store.
func (r *Reconciler) addCephSecrets(ctx context.Context, doc *deployDoc, d *daemonSpec, fresh bool) error {
	if !isCephSvcType(d.daemonType) || d.ceph == nil {
		return nil
	}
	keyring, err := r.cephKeyring(ctx, d)
	if err != nil {
		return fmt.Errorf("keyring of %s: %w", d.name(), err)
	}
	req := doc.req
	req.ConfigBlobs.Keyring = keyring
	if err := r.addMgrModuleIfOn(req, d); err != nil { // mgrmodule.go
		return err
	}
	if fresh {
		if err := r.daemonConfigHooks(ctx, d); err != nil {
			return err
		}
	}
	if d.daemonType == "mon" && fresh {
		monmap, err := r.CephCommand(ctx, "mon", "getmap")
		if err != nil {
			return fmt.Errorf("ceph mon getmap: %w", err)
		}
		if len(monmap) == 0 {
			return errors.New("ceph mon getmap: empty monmap")
		}
		if req.ConfigBlobs.Files == nil {
			req.ConfigBlobs.Files = map[string]string{}
		}
		req.ConfigBlobs.Files["bootstrap/monmap.b64"] = base64.StdEncoding.EncodeToString(monmap) + "\n"
		req.ConfigBlobs.Files["bootstrap/keyring"] = keyring
		req.InitContainers = append(req.InitContainers,
			agent.InitContainer{Name: "monmap", Entrypoint: "/bin/bash",
				Args: []string{"-c", monJoinScript, "monmap", d.id}, DefaultMounts: true, When: agent.RunFirstDeploy},
			agent.InitContainer{Name: "mkfs", Entrypoint: "/bin/bash",
				Args: []string{"-c", monMkfsScript, "mkfs", d.id, req.FSID}, DefaultMounts: true, When: agent.RunFirstDeploy})
	}
	return req.Validate()
}

// cephKeyring is the daemon's keyring: for a mon the shared mon. key (from
// the store, where bootstrap keeps it; else `auth get mon.`), for the
// others their entity with cephadm's caps.
func (r *Reconciler) cephKeyring(ctx context.Context, d *daemonSpec) (string, error) {
	if d.daemonType == "mon" {
		if s, err := r.st.GetSecret(store.KeyringSecret("mon.")); err == nil && len(s) > 0 {
			if kr, err := keyringOf("mon.", []byte(s)); err == nil {
				return kr, nil
			}
		}
	}
	return r.DaemonKeyring(ctx, d.daemonType, d.id, d.host)
}

// preRemoveCeph is cephadm's pre_remove for Ceph daemons: a monitor is
// taken out of the monmap (`ceph mon rm`) once its removal keeps a quorum
// (cephadm's _check_safe_to_destroy: the monitors left in the quorum must
// be a majority of the smaller monmap). The last monitor is never removed.
func (r *Reconciler) preRemoveCeph(ctx context.Context, d *daemonRecord) error {
	if d.DaemonType != "mon" {
		return nil
	}
	q, err := r.QuorumStatus(ctx)
	if err != nil {
		return fmt.Errorf("check the quorum before removing %s: %w", d.name(), err)
	}
	if err := monSafeToRemove(q, d.DaemonID); err != nil {
		return err
	}
	inMap := false
	for _, m := range q.MonMap.Mons {
		if m.Name == d.DaemonID {
			inMap = true
		}
	}
	if !inMap {
		return nil
	}
	_, err = r.CephCommand(ctx, "mon", "rm", d.DaemonID)
	var ce *CephError
	if errors.As(err, &ce) && ce.Errno() == syscall.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove mon.%s from the monmap: %w", d.DaemonID, err)
	}
	return nil
}

// monSafeToRemove is cephadm's _check_safe_to_destroy for a monitor.
func monSafeToRemove(q *QuorumStatus, id string) error {
	n := len(q.MonMap.Mons)
	inMap := false
	for _, m := range q.MonMap.Mons {
		if m.Name == id {
			inMap = true
		}
	}
	if !inMap {
		return nil
	}
	if n <= 1 {
		return fmt.Errorf("not safe to remove mon.%s: it is the only monitor", id)
	}
	left := 0
	for _, name := range q.QuorumNames {
		if name != id {
			left++
		}
	}
	if need := (n-1)/2 + 1; left < need {
		return fmt.Errorf("not safe to remove mon.%s: new quorum should be %d (from %d monitors), but only %d are in quorum",
			id, need, n-1, left)
	}
	return nil
}

// postRemoveCeph is cephadm's post_remove: the daemon's auth key goes
// (mons share the protected mon. key and keep it). A failure is logged:
// the daemon is gone either way.
func (r *Reconciler) postRemoveCeph(ctx context.Context, d *daemonRecord) {
	if !isCephSvcType(d.DaemonType) || d.DaemonType == "mon" {
		return
	}
	entity := DaemonEntity(d.DaemonType, d.DaemonID, d.Hostname)
	if d.DaemonType == "rgw" {
		if _, err := r.CephCommand(ctx, "config", "rm", entity, "rgw_frontends"); err != nil {
			r.lg.Warn().Err(err).Str("daemon", d.name()).Msg("remove rgw_frontends")
		}
	}
	if err := r.RemoveDaemonKey(ctx, entity); err != nil {
		r.lg.Warn().Err(err).Str("daemon", d.name()).Str("entity", entity).Msg("remove the daemon's key")
	}
}

// daemonConfigHooks are cephadm's config()/prepare_create settings in the
// monitors' configuration database before a new daemon starts: an mds
// joins the file system named by its service id (`mds_join_fs`); an rgw
// gets its realm, zonegroup and zone (on client.rgw.<service id>) and its
// own frontend (`rgw_frontends` on client.rgw.<daemon id>: beast on the
// daemon's port, bound to its IP when it has one).
func (r *Reconciler) daemonConfigHooks(ctx context.Context, d *daemonSpec) error {
	if d.svc == nil || d.svc.spec == nil {
		return nil
	}
	s := d.svc.spec
	switch d.daemonType {
	case "mds":
		if s.ServiceID != "" {
			return r.ConfigSet(ctx, "mds."+s.ServiceID, "mds_join_fs", s.ServiceID)
		}
	case "rgw":
		f, _ := s.RGW()
		svcWho := "client.rgw." + s.ServiceID
		for _, kv := range [][2]string{{"rgw_realm", f.Realm}, {"rgw_zonegroup", f.Zonegroup}, {"rgw_zone", f.Zone}} {
			if kv[1] != "" {
				if err := r.ConfigSet(ctx, svcWho, kv[0], kv[1]); err != nil {
					return err
				}
			}
		}
		if err := r.storeRGWCert(ctx, s); err != nil {
			return err
		}
		return r.ConfigSet(ctx, DaemonEntity("rgw", d.id, d.host), "rgw_frontends", rgwFrontends(f, d))
	case "nfs":
		return r.prepareNFS(ctx, d)
	}
	return nil
}

// rgwFrontends is cephadm's rgw_frontends value for one daemon.
func rgwFrontends(f spec.RGWFields, d *daemonSpec) string {
	port := 80
	if f.SSL {
		port = 443
	}
	if len(d.ports) > 0 {
		port = d.ports[0]
	}
	typ := f.FrontendType
	if typ == "" {
		typ = "beast"
	}
	var args []string
	switch {
	case typ == "beast" && d.ip != "":
		key := "endpoint"
		if f.SSL {
			key = "ssl_endpoint"
		}
		args = append(args, fmt.Sprintf("%s=%s", key, hostPort(d.ip, port)))
	case typ == "beast":
		key := "port"
		if f.SSL {
			key = "ssl_port"
		}
		args = append(args, fmt.Sprintf("%s=%d", key, port))
	default: // civetweb
		p := strconv.Itoa(port)
		if f.SSL {
			p += "s"
		}
		if d.ip != "" {
			p = hostPort(d.ip, port)
			if f.SSL {
				p += "s"
			}
		}
		args = append(args, "port="+p)
	}
	if f.SSL {
		args = append(args, "ssl_certificate=config://rgw/cert/"+d.svc.rec.ServiceName)
	}
	return typ + " " + strings.Join(args, " ")
}
