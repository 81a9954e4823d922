package orchestrator

// OSDs from drive-group specs (cephadm's OSDService.create_from_spec): for
// each host the spec's placement matches, the cached devices are filtered
// with inventory.SelectDrives; ceph-volume, in the cluster image on that
// host, runs `raw prepare --bluestore --data DEV` for each selected device
// (this kernel has no device-mapper, so no lvm), then `raw list` names the
// OSDs of this cluster on the host, and each one without a daemon is
// deployed as osd.<id>, with `ceph-volume activate --no-systemd
// --no-tmpfs` as a first-deploy init container that fills its data dir
// from the bluestore label. The client.bootstrap-osd keyring reaches
// ceph-volume on stdin only.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

// cephVolumeTimeout bounds one ceph-volume run (a prepare makes a
// bluestore: mkfs of the OSD, tens of seconds on a slow disk).
const cephVolumeTimeout = 10 * time.Minute

// cephVolumeScript runs ceph-volume in the cluster image on the host: it
// makes the runtime directories the OSD containers bind, then runs the
// container with the ceph.conf from $ORCH_CEPH_CONF and the
// client.bootstrap-osd keyring read from stdin (never a file on the host,
// never an argv). Arguments: image, then ceph-volume's arguments.
const cephVolumeScript = `set -eu
mkdir -p /run/udev /run/lvm /run/lock/lvm
img=$1; shift
exec podman run --rm -i --pull=never --net=host --ipc=host --privileged \
  -e CEPH_VOLUME_ALLOW_LOOP_DEVICES=1 -e CEPH_VOLUME_SKIP_RESTORECON=yes -e CEPH_VOLUME_DEBUG=1 \
  -e ORCH_CEPH_CONF="$ORCH_CEPH_CONF" \
  -v /dev:/dev -v /sys:/sys -v /run/udev:/run/udev -v /run/lvm:/run/lvm -v /run/lock/lvm:/run/lock/lvm \
  --entrypoint /bin/bash "$img" -c '
set -eu
mkdir -p /etc/ceph /var/lib/ceph/bootstrap-osd
printf "%s\n" "$ORCH_CEPH_CONF" >/etc/ceph/ceph.conf
umask 077
cat >/var/lib/ceph/bootstrap-osd/ceph.keyring
exec /usr/sbin/ceph-volume "$@"' ceph-volume "$@"`

// rawOSD is one entry of `ceph-volume raw list --format json`.
type rawOSD struct {
	CephFSID string `json:"ceph_fsid"`
	Device   string `json:"device"`
	OSDID    int    `json:"osd_id"`
	OSDUUID  string `json:"osd_uuid"`
	Type     string `json:"type"`
}

// parseRawList reads `raw list` and keeps the OSDs of cluster fsid, by id.
func parseRawList(out []byte, fsid string) ([]rawOSD, error) {
	var m map[string]rawOSD
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("ceph-volume raw list: %w", err)
	}
	var osds []rawOSD
	for _, o := range m {
		if o.CephFSID == fsid {
			osds = append(osds, o)
		}
	}
	sort.Slice(osds, func(i, j int) bool { return osds[i].OSDID < osds[j].OSDID })
	return osds, nil
}

// cephVolume runs ceph-volume ARGS on host with the bootstrap-osd keyring
// on stdin; it retries ceph-volume's known 'device_slaves' crash
// (images/README.md) twice.
func (r *Reconciler) cephVolume(ctx context.Context, host, image, conf string, keyring []byte, args ...string) ([]byte, error) {
	h, err := r.st.GetHost(host)
	if err != nil {
		return nil, err
	}
	t, err := r.target(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host, err)
	}
	// The conf is not secret; it travels in the environment of sh.
	argv := append([]string{"env", "ORCH_CEPH_CONF=" + conf, "sh", "-c", cephVolumeScript, "sh", image}, args...)
	for try := 1; ; try++ {
		out, err := r.remote.Run(ctx, t, argv, keyring, cephVolumeTimeout)
		if err == nil {
			return out, nil
		}
		var ee *sshexec.ExitError
		if errors.As(err, &ee) {
			if strings.Contains(string(ee.Stderr), "device_slaves") && try < 3 {
				r.lg.Info().Str("host", host).Msg("ceph-volume hit the device_slaves bug; retrying")
				time.Sleep(time.Second)
				continue
			}
			return out, fmt.Errorf("%s: ceph-volume %s: %s: %w", host, strings.Join(args, " "), cephLastLine(ee.Stderr), err)
		}
		return out, fmt.Errorf("%s: ceph-volume %s: %w", host, strings.Join(args, " "), err)
	}
}

// bootstrapOSDKeyring is the client.bootstrap-osd keyring: the store's
// (bootstrap keeps it), else the cluster's.
func (r *Reconciler) bootstrapOSDKeyring(ctx context.Context) ([]byte, error) {
	if s, err := r.st.GetSecret(store.KeyringSecret("client.bootstrap-osd")); err == nil && len(s) > 0 {
		return []byte(s), nil
	}
	out, err := r.CephCommand(ctx, "auth", "get", "client.bootstrap-osd")
	if err != nil {
		return nil, fmt.Errorf("client.bootstrap-osd keyring: %w", err)
	}
	kr, err := keyringOf("client.bootstrap-osd", out)
	return []byte(kr), err
}

// applyOSDs is one pass over an OSD spec: prepare the selected devices of
// every matching host, then deploy the OSDs ceph-volume lists there.
func (p *pass) applyOSDs(e *specEntry) {
	svc := e.rec.ServiceName
	dg := e.spec.DriveGroup
	if dg == nil {
		p.result(svc).converged = true
		return
	}
	var hs []spec.HostSpec
	for _, h := range p.v.hosts {
		if p.v.unreachable(h.Name) || p.v.refreshed[h.Name].IsZero() || strings.EqualFold(h.Status, "maintenance") {
			continue
		}
		hs = append(hs, spec.HostSpec{Hostname: h.Name, Addr: h.Addr, Labels: h.Labels})
	}
	hosts := e.spec.Placement.FilterMatchingHostspecs(hs)
	if len(hosts) == 0 {
		p.result(svc).converged = true
		return
	}
	env, err := p.cephEnv()
	if err != nil {
		p.applyFail(svc, err)
		return
	}
	var failed bool
	forEachHost(p, hosts, func(h string) string { return h }, func(h string) {
		if err := p.applyOSDsOn(e, env, h); err != nil {
			p.placeFail(svc, fmt.Sprintf("Failed to apply %s on %s: %v", svc, h, err))
			p.mu.Lock()
			failed = true
			p.mu.Unlock()
		}
	})
	if !failed {
		p.mu.Lock()
		p.result(svc).converged = true
		p.mu.Unlock()
	}
}

// osdsOn returns the osd daemons on host (any service).
func (p *pass) osdsOn(host string) map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for i := range p.v.daemons {
		if d := &p.v.daemons[i]; d.DaemonType == "osd" && d.Hostname == host {
			out[d.DaemonID] = true
		}
	}
	return out
}

// applyOSDsOn prepares the devices the spec selects on host and deploys the
// cluster's OSDs found there without a daemon.
func (p *pass) applyOSDsOn(e *specEntry, env *cephEnv, host string) error {
	devs, err := p.r.HostDevices(host)
	if err != nil {
		return err
	}
	existing := 0
	p.mu.Lock()
	for _, d := range p.v.daemonsOf(e.rec.ServiceName) {
		if d.Hostname == host {
			existing++
		}
	}
	p.mu.Unlock()
	var data, db, wal []string
	if len(devs) > 0 {
		sel, err := inventory.SelectDrives(e.spec.DriveGroup, devs, existing)
		if err != nil {
			return err
		}
		data, db, wal = availablePaths(sel.Data), availablePaths(sel.DB), availablePaths(sel.WAL)
	}
	if len(data) == 0 {
		return nil
	}
	dm, err := p.r.hasDeviceMapper(p.ctx, host)
	if err != nil {
		return err
	}
	method, err := osdMethod(e.spec.DriveGroup.Method, host, dm)
	if err != nil {
		return err
	}
	preps, err := osdPrepares(method, data, db, wal)
	if err != nil {
		return err
	}
	if err := p.prepareOSDs(e, env, host, preps); err != nil {
		// Devices prepared before the failure still get their daemons.
		if lerr := p.deployListedOSDs(e, env, host); lerr != nil {
			p.r.lg.Warn().Err(lerr).Str("host", host).Msg("deploy the OSDs prepared before a failure")
		}
		return err
	}
	return p.deployListedOSDs(e, env, host)
}

// availablePaths are the paths of the devices ceph-volume called available.
func availablePaths(devs []inventory.Device) []string {
	var out []string
	for _, d := range devs {
		if d.Available {
			out = append(out, d.Path)
		}
	}
	return out
}

// osdPrepare is one ceph-volume call that makes OSDs: `lvm batch` over
// every data device (db and wal devices shared among them), or `raw
// prepare` of one data device with its own db and wal device.
type osdPrepare struct {
	lvm           bool
	data, db, wal []string
}

// osdPrepares are the ceph-volume calls for a drive group's devices on a
// host, as cephadm's drive-group translation: one lvm batch, or for raw
// mode one prepare per data device with db/wal devices paired one to one
// (raw mode cannot share a device between OSDs).
func osdPrepares(method string, data, db, wal []string) ([]osdPrepare, error) {
	if method == "lvm" {
		return []osdPrepare{{lvm: true, data: data, db: db, wal: wal}}, nil
	}
	if len(db) > 0 && len(db) != len(data) {
		return nil, invalidf("Number of data devices must match number of db devices for raw mode osds (%d data, %d db)", len(data), len(db))
	}
	if len(wal) > 0 && len(wal) != len(data) {
		return nil, invalidf("Number of data devices must match number of wal devices for raw mode osds (%d data, %d wal)", len(data), len(wal))
	}
	out := make([]osdPrepare, 0, len(data))
	for i, d := range data {
		o := osdPrepare{data: []string{d}}
		if len(db) > 0 {
			o.db = []string{db[i]}
		}
		if len(wal) > 0 {
			o.wal = []string{wal[i]}
		}
		out = append(out, o)
	}
	return out, nil
}

// argv is ceph-volume's arguments, reusing ids (of OSDs destroyed with
// --replace; at most one per data device).
func (o osdPrepare) argv(ids []int) []string {
	if o.lvm {
		return lvmBatchArgs(o.data, o.db, o.wal, ids)
	}
	args := []string{"raw", "prepare", "--bluestore", "--data", o.data[0]}
	if len(o.db) > 0 {
		args = append(args, "--block.db", o.db[0])
	}
	if len(o.wal) > 0 {
		args = append(args, "--block.wal", o.wal[0])
	}
	if len(ids) > 0 {
		args = append(args, "--osd-id", strconv.Itoa(ids[0]))
	}
	return args
}

// prepareOSDs runs each ceph-volume prepare on host, handing the ids of
// OSDs replaced there to the first devices.
func (p *pass) prepareOSDs(e *specEntry, env *cephEnv, host string, preps []osdPrepare) error {
	keyring, err := p.r.bootstrapOSDKeyring(p.ctx)
	if err != nil {
		return err
	}
	image := p.r.image(p.v.cluster, e.spec, "osd")
	p.flagHost(host)
	if err := p.r.st.SetRefreshNeeded(host, store.CacheDevices, true); err != nil {
		p.r.lg.Warn().Err(err).Str("host", host).Msg("flag devices for refresh")
	}
	claims := p.r.osdIDClaims(host) // ids of OSDs destroyed with --replace (osdrm.go)
	for _, prep := range preps {
		t0 := time.Now()
		used := claims[:min(len(claims), len(prep.data))] // replaced OSD ids this call reuses
		args := prep.argv(used)
		what := "an OSD on " + host + ":" + prep.data[0]
		if prep.lvm {
			what = fmt.Sprintf("%d OSD(s) on %s:%s", len(prep.data), host, strings.Join(prep.data, ","))
		}
		_, err := p.r.cephVolume(p.ctx, host, image, env.conf, keyring, args...)
		// A claimed id is used, or not reusable: either way the next
		// prepare goes without it.
		for _, id := range used {
			p.r.claimUsed(id)
		}
		claims = claims[len(used):]
		if err != nil {
			return err
		}
		p.r.serviceEvent(e.rec.ServiceName, store.LevelInfo, "Prepared %s", what)
		p.r.lg.Info().Str("host", host).Strs("args", args).Dur("took", time.Since(t0)).Msg("ceph-volume prepare")
	}
	return nil
}

// deployListedOSDs deploys osd.<id> for each OSD of the cluster that
// `raw list` shows on host and that has no daemon.
func (p *pass) deployListedOSDs(e *specEntry, env *cephEnv, host string) error {
	keyring, err := p.r.bootstrapOSDKeyring(p.ctx)
	if err != nil {
		return err
	}
	image := p.r.image(p.v.cluster, e.spec, "osd")
	out, err := p.r.cephVolume(p.ctx, host, image, env.conf, keyring, "raw", "list", "--format", "json")
	if err != nil {
		return err
	}
	osds, err := parseRawList(out, p.v.cluster.FSID)
	if err != nil {
		return err
	}
	if dm, err := p.r.hasDeviceMapper(p.ctx, host); err != nil {
		return err
	} else if dm {
		out, err := p.r.cephVolume(p.ctx, host, image, env.conf, keyring, "lvm", "list", "--format", "json")
		if err != nil {
			return err
		}
		lvm, err := parseLvmList(out, p.v.cluster.FSID)
		if err != nil {
			return err
		}
		osds = append(osds, lvm...)
	}
	osds = p.r.withoutRemovedOSDs(osds) // queued for removal, or destroyed (osdrm.go)
	have := p.osdsOn(host)
	for _, o := range osds {
		id := strconv.Itoa(o.OSDID)
		if have[id] {
			continue
		}
		ds := daemonSpec{svc: e, daemonType: "osd", id: id, host: host, ceph: env}
		if err := p.deployOSD(&ds, o); err != nil {
			return err
		}
	}
	return nil
}

// deployOSD deploys one prepared OSD: its conf and osd.<id> keyring, and
// ceph-volume activate as a first-deploy init container.
func (p *pass) deployOSD(d *daemonSpec, o rawOSD) error {
	doc, err := p.r.buildDeploy(p.v.cluster, d, false)
	if err != nil {
		return err
	}
	kr, err := p.r.DaemonKeyring(p.ctx, "osd", d.id, d.host)
	if err != nil {
		return fmt.Errorf("keyring of %s: %w", d.name(), err)
	}
	doc.req.ConfigBlobs.Keyring = kr
	doc.req.InitContainers = append(doc.req.InitContainers, osdActivateInit(o))
	if err := doc.req.Validate(); err != nil {
		return err
	}
	p.flagHost(d.host)
	if err := p.r.deployDaemon(p.ctx, d.host, doc); err != nil {
		p.r.daemonEvent(d.name(), store.LevelError, "Failed to deploy: %v", err)
		return err
	}
	now := p.r.now()
	st := api.StatusStarting
	rec := daemonRecord{DaemonDescription: api.DaemonDescription{DaemonType: "osd", DaemonID: d.id,
		DaemonName: d.name(), Hostname: d.host, ServiceName: doc.req.Meta.ServiceName, Status: &st,
		StatusDesc: "starting", ContainerImageName: doc.req.Image, LastDeployed: fmtTime(now)},
		ConfigDigest: doc.digest, Provisional: true}
	p.r.recordPending(d.name(), pendingChange{host: d.host, at: now, rec: rec})
	p.r.recordDigest(d.name(), doc.digest)
	msg := fmt.Sprintf("Deployed %s on host '%s'", d.name(), d.host)
	p.r.daemonEvent(d.name(), store.LevelInfo, "%s", msg)
	p.r.serviceEvent(d.svc.rec.ServiceName, store.LevelInfo, "%s", msg)
	p.mu.Lock()
	p.v.daemons = insertDaemon(p.v.daemons, rec)
	p.reindexLocked()
	p.snap = nil
	p.changed = true
	p.touched[d.host] = true
	p.result(d.svc.rec.ServiceName).added++
	p.mu.Unlock()
	return nil
}

// osdActivateInit fills the OSD's data dir from its bluestore label, as
// cephadm's OSD pre-start does (`ceph-volume activate` without systemd or
// tmpfs, so the files stay in the host's data dir).
func osdActivateInit(o rawOSD) agent.InitContainer {
	return agent.InitContainer{
		Name: "activate", Entrypoint: "/usr/sbin/ceph-volume",
		Args:          []string{"activate", "--osd-id", strconv.Itoa(o.OSDID), "--osd-uuid", o.OSDUUID, "--no-systemd", "--no-tmpfs"},
		Envs:          []string{"CEPH_VOLUME_ALLOW_LOOP_DEVICES=1", "CEPH_VOLUME_SKIP_RESTORECON=yes"},
		DefaultMounts: true, Privileged: true, When: agent.RunFirstDeploy,
	}
}

// CreateOSDs is `orch daemon add osd HOST:DEV[,DEV...]` (cephadm's
// create_osds with a one-host drive group of explicit paths): it prepares
// each device with ceph-volume on host and deploys the OSDs, now, under the
// reconciler's pass lock. The OSDs belong to the spec-less service "osd"
// (cephadm's `osd <unmanaged>`). It returns cephadm's message, "Created
// osd(s) 0,1 on host 'h1'", or that nothing was created.
func (r *Reconciler) CreateOSDs(ctx context.Context, host string, devices []string) (string, error) {
	if len(devices) == 0 {
		return "", invalidf("no devices to create OSDs on for host %s", host)
	}
	for _, d := range devices {
		if !strings.HasPrefix(d, "/dev/") || strings.ContainsAny(d, " \t\n'\"$`\\;&|<>()") {
			return "", invalidf("invalid device path %q: want /dev/...", d)
		}
	}
	h, err := r.getHost(host)
	if err != nil {
		return "", err
	}
	if h.Status == "offline" || h.Status == "maintenance" {
		return "", api.NewError(syscall.EHOSTUNREACH, "host %s is %s: not creating OSDs there", host, h.Status)
	}
	r.passMu.Lock()
	defer r.passMu.Unlock()
	v, err := r.loadView(viewOptions{digests: true})
	if err != nil {
		return "", err
	}
	r.overlay(v)
	p := newPass(ctx, r, v)
	env, err := p.cephEnv()
	if err != nil {
		return "", err
	}
	e := &specEntry{rec: store.SpecRecord{ServiceName: "osd"}, spec: &spec.ServiceSpec{ServiceType: "osd"}}
	before := p.osdsOn(host)
	preps, _ := osdPrepares("raw", devices, nil, nil)
	if err := p.prepareOSDs(e, env, host, preps); err != nil {
		if lerr := p.deployListedOSDs(e, env, host); lerr != nil {
			r.lg.Warn().Err(lerr).Str("host", host).Msg("deploy the OSDs prepared before a failure")
		}
		p.finish()
		return "", err
	}
	if err := p.deployListedOSDs(e, env, host); err != nil {
		p.finish()
		return "", err
	}
	var made []string
	for id := range p.osdsOn(host) {
		if !before[id] {
			made = append(made, id)
		}
	}
	p.finish()
	if len(made) == 0 {
		return "Created no osd(s) on host " + host + "; already created?", nil
	}
	sort.Slice(made, func(i, j int) bool { a, _ := strconv.Atoi(made[i]); b, _ := strconv.Atoi(made[j]); return a < b })
	return fmt.Sprintf("Created osd(s) %s on host '%s'", strings.Join(made, ","), host), nil
}
