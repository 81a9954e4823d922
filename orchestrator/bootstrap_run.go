package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/containers"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"github.com/rs/zerolog"
)

// Timeouts of the bootstrap's waits and remote steps.
const (
	bootQuorumTimeout = 3 * time.Minute
	bootMgrTimeout    = 5 * time.Minute
	bootPullTimeout   = 15 * time.Minute
	bootDeployTimeout = 10 * time.Minute
	bootPollEvery     = time.Second
	// bootStepTotal is the number of steps of an attempt (for progress).
	bootStepTotal = 13
)

// Daemon ports (cephadm's): the monitor's msgr2 and legacy ports; the
// mgr's prometheus and service-discovery endpoints (no dashboard: the
// monitoring stack is skipped).
var (
	monPorts = []int{3300, 6789}
	mgrPorts = []int{9283, 8765}
)

// bootRun is one bootstrap attempt, run by one goroutine.
type bootRun struct {
	c       *Controller
	req     api.BootstrapRequest
	rec     *bootstrapRecord
	st      api.BootstrapStatus
	started time.Time
	log     zerolog.Logger

	host   store.Host
	target sshexec.Target
	// keys are the generated secrets (entity → key); never logged.
	keys map[string]string
	// conf is the cluster's minimal ceph.conf once the mon is up.
	conf string
}

// run executes the steps; on failure it removes what the attempt made
// (unless told not to) and records the error.
func (b *bootRun) run(ctx context.Context) {
	err := b.steps(ctx)
	if err == nil {
		b.finish(nil, "")
		b.log.Info().Dur("took", b.c.now().Sub(b.started)).Msg("bootstrap complete")
		return
	}
	b.log.Error().Err(err).Msg("bootstrap failed")
	made := b.describeMade()
	cleanup := ""
	switch {
	case b.req.NoCleanupOnFailure:
		cleanup = "left in place (--no-cleanup-on-failure): " + made + "; the next `orch bootstrap` removes it first"
	case b.c.bootClosing():
		// The controller is shutting down: do not hold it up with a
		// cleanup; the next attempt removes what this one made.
		cleanup = "left in place (the controller stopped): " + made + "; the next `orch bootstrap` removes it first"
	default:
		cctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		if cerr := b.cleanup(cctx); cerr != nil {
			cleanup = "cleanup incomplete (" + cerr.Error() + "); the next `orch bootstrap` retries it"
		} else {
			cleanup = "removed what this attempt made: " + made
		}
		cancel()
	}
	b.finish(err, cleanup)
}

func (b *bootRun) describeMade() string {
	var parts []string
	if len(b.rec.Daemons) > 0 {
		parts = append(parts, strings.Join(b.rec.Daemons, ", ")+" on "+b.rec.Host)
	}
	if b.rec.AdminFiles {
		parts = append(parts, "/etc/ceph files on "+b.rec.Host)
	}
	if len(parts) == 0 {
		return "nothing on any host"
	}
	return strings.Join(parts, "; ")
}

// steps runs the attempt's steps in order (cephadm bootstrap §10.1).
func (b *bootRun) steps(ctx context.Context) error {
	if lo := b.rec.Leftovers; len(lo) > 0 {
		if err := b.step("Removing what an earlier failed bootstrap left", func() (string, error) {
			return b.removeLeftovers(ctx)
		}); err != nil {
			return err
		}
	}
	steps := []bootStepFn{
		{"Adding the host and pinning its SSH host key", b.addHost},
		{"Checking the Ceph image on the host", b.checkImage},
		{"Finding the public network", b.publicNetwork},
		{"Checking the host for an existing cluster", b.checkExisting},
		{"Creating the mon., client.admin and client.bootstrap-osd keys", b.createKeys},
		{"Writing /etc/ceph/ceph.conf and the client.admin keyring", b.writeBootstrapFiles},
		{"Deploying the first monitor (monmap, mkfs)", b.deployMon},
		{"Waiting for the monitor quorum", b.waitQuorum},
		{"Setting the initial cluster configuration", b.configure},
		{"Deploying the mgr", b.deployMgr},
		{"Waiting for the mgr to become available", b.waitMgr},
		{"Deploying the crash daemon", b.deployCrash},
		{"Recording the cluster", b.record},
	}
	if b.req.MgrModule {
		steps = withMgrModuleSteps(steps, b)
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bootstrap cancelled before %q: %w", s.name, err)
		}
		if err := b.step(s.name, func() (string, error) { return s.fn(ctx) }); err != nil {
			return err
		}
	}
	return nil
}

// step runs fn as a named step, recording it (running, then done or
// failed with its duration and detail) in the operation.
func (b *bootRun) step(name string, fn func() (string, error)) error {
	t0 := b.c.now()
	b.st.Steps = append(b.st.Steps, api.BootstrapStep{Name: name, State: "running"})
	b.save()
	detail, err := fn()
	s := &b.st.Steps[len(b.st.Steps)-1]
	s.Seconds = roundSeconds(b.c.now().Sub(t0))
	s.Detail = detail
	if err != nil {
		s.State = "failed"
		b.save()
		return err
	}
	s.State = "done"
	b.log.Info().Str("step", name).Str("detail", detail).Float64("seconds", s.Seconds).Msg("bootstrap step done")
	b.save()
	return nil
}

func roundSeconds(d time.Duration) float64 {
	return float64(d.Round(10*time.Millisecond)) / float64(time.Second)
}

// save writes the status into the operation and the record into the
// settings, in one transaction.
func (b *bootRun) save() {
	b.st.Seconds = roundSeconds(b.c.now().Sub(b.started))
	b.st.Host, b.st.Addr = b.rec.Host, b.rec.Addr
	b.st.MonID, b.st.MgrID = b.rec.MonID, b.rec.MgrID
	b.st.PublicNetwork, b.st.CephVersion = b.rec.PublicNetwork, b.rec.CephVersion
	body, err := json.Marshal(b.st)
	if err == nil {
		err = b.c.st.Update(func(tx *store.Tx) error {
			if err := saveBootstrapRecord(tx, b.rec); err != nil {
				return err
			}
			_, err := tx.UpdateOperation(b.st.Operation, func(op *store.Operation) error {
				op.Result = body
				done := 0
				for _, s := range b.st.Steps {
					if s.State == "done" {
						done++
					}
				}
				op.Progress = min(float64(done)/bootStepTotal, 0.99)
				switch b.st.State {
				case api.BootstrapSucceeded:
					op.State, op.Progress = store.OpSucceeded, 1
				case api.BootstrapFailed:
					op.State, op.Error = store.OpFailed, b.st.Error
				default:
					op.State = store.OpRunning
				}
				return nil
			})
			return err
		})
	}
	if err != nil {
		b.log.Warn().Err(err).Msg("save bootstrap progress")
	}
}

// finish records the outcome.
func (b *bootRun) finish(err error, cleanup string) {
	now := b.c.now().UTC()
	b.st.Finished = fmtBootTime(now)
	b.rec.Finished = now
	if err == nil {
		b.st.State = api.BootstrapSucceeded
		b.rec.State = bootRecComplete
		b.st.NextSteps = b.nextSteps()
		b.save()
		return
	}
	e := api.AsError(err, spec.ErrInvalidSpec)
	b.st.State, b.st.Error, b.st.Errno, b.st.ErrnoName, b.st.Cleanup = api.BootstrapFailed, e.Message, int(e.Code), e.Name, cleanup
	b.rec.State = bootRecFailed
	if len(b.rec.Daemons) == 0 && !b.rec.AdminFiles && len(b.rec.Leftovers) == 0 {
		// Nothing is left: forget the attempt (the operation keeps its
		// story), so that the next bootstrap starts fresh.
		b.save()
		if derr := b.c.st.Update(func(tx *store.Tx) error {
			if err := tx.DeleteSetting(bootstrapSetting); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		}); derr != nil {
			b.log.Warn().Err(derr).Msg("forget failed bootstrap")
		}
		return
	}
	b.save()
}

// ---- steps ---------------------------------------------------------------

// addHost adds the bootstrap host (pinning its key, pushing the agent,
// checking it) with the _admin label, as cephadm's `orch host add <host>
// <mon ip>` and `orch host label add <host> _admin`.
func (b *bootRun) addHost(ctx context.Context) (string, error) {
	c := b.c
	name, hostKey, note, err := b.resolveHost(ctx)
	if err != nil {
		return "", err
	}
	labels := []string{AdminLabel}
	if h, err := c.st.GetHost(name); err == nil {
		labels = append(append([]string(nil), h.Labels...), AdminLabel)
	}
	resp, err := c.AddHost(ctx, api.AddHostRequest{
		Host: api.Host{Hostname: name, Addr: b.req.MonIP, Labels: labels}, HostKey: hostKey, AddrGiven: true,
	})
	if err != nil {
		return "", b.sshHint(err)
	}
	h, err := c.st.GetHost(name)
	if err != nil {
		return "", err
	}
	b.host = h
	if b.target, err = c.target(h); err != nil {
		return "", err
	}
	b.rec.Host, b.rec.Addr = h.Name, h.Addr
	if note == "" && resp.TrustedOnFirstUse {
		note = "trusted on first use"
	}
	key := "host key " + resp.Fingerprint
	if note != "" {
		key += " (" + note + ")"
	}
	return fmt.Sprintf("%s (%s), %s, label %s", h.Name, h.Addr, key, AdminLabel), nil
}

// sshHint explains an authentication failure: the host must authorise the
// cluster key first (bootstrap runs on the controller, not on the host).
func (b *bootRun) sshHint(err error) error {
	if !errors.Is(err, sshexec.ErrAuth) {
		return err
	}
	user, _ := b.c.User()
	return fmt.Errorf("%w\nThe host does not accept the cluster SSH key. Add it to ~%s/.ssh/authorized_keys on %s:\n  %s\nthen run `orch bootstrap` again (`orch ssh get-pub-key` prints it)",
		err, user, b.req.MonIP, b.st.SSHPublicKey)
}

// resolveHost returns the bootstrap host's name: --host, the stored host
// with address MonIP, or the hostname the machine at MonIP reports (its
// key trusted on first use, or checked against --host-key, and then pinned
// as that key).
func (b *bootRun) resolveHost(ctx context.Context) (name, hostKey, note string, err error) {
	c := b.c
	if b.req.Host != "" {
		return b.req.Host, b.req.HostKey, "", nil
	}
	hosts, err := c.st.ListHosts()
	if err != nil {
		return "", "", "", err
	}
	for _, h := range hosts {
		if h.Addr == b.req.MonIP {
			return h.Name, b.req.HostKey, "", nil
		}
	}
	t, err := c.target(store.Host{Name: b.req.MonIP, Addr: b.req.MonIP})
	if err != nil {
		return "", "", "", err
	}
	defer c.remote.Forget(t.Name)
	key, _, tofu, err := c.pinKey(ctx, t, b.req.HostKey, "", "")
	if err != nil {
		return "", "", "", err
	}
	t.HostKey = key
	out, err := c.remote.Run(ctx, t, []string{"hostname"}, nil, c.checkTO)
	if err != nil {
		return "", "", "", b.sshHint(fmt.Errorf("%s: ask the host for its name: %w", b.req.MonIP, err))
	}
	name = strings.TrimSpace(string(out))
	if strings.Contains(name, ".") {
		return "", "", "", invalidf("the host at %s is named %q, a fully qualified name; give its short name with --host (and make `hostname` print it)", b.req.MonIP, name)
	}
	if err := spec.ValidateHostname(name); err != nil {
		return "", "", "", err
	}
	if tofu {
		note = "trusted on first use"
	}
	return name, key, note, nil
}

// agent runs an `orch agent` command on the bootstrap host.
func (b *bootRun) agent(ctx context.Context, stdin []byte, timeout time.Duration, args ...string) ([]byte, error) {
	c := b.c
	bin, err := c.remote.PushBinary(ctx, b.target, b.rec.FSID, c.agent)
	if err != nil {
		return nil, fmt.Errorf("%s: push orch agent: %w", b.target.Name, err)
	}
	return runAgentOn(ctx, c.remote, b.target, bin, stdin, timeout, args...)
}

// runAgentOn runs `BIN agent ARGS...`; a failure carries the agent's own
// message (its "Error E...:" line).
func runAgentOn(ctx context.Context, r Remote, t sshexec.Target, bin string, stdin []byte, timeout time.Duration, args ...string) ([]byte, error) {
	out, err := r.Run(ctx, t, append([]string{bin, "agent"}, args...), stdin, timeout)
	var ee *sshexec.ExitError
	if errors.As(err, &ee) {
		return out, fmt.Errorf("%s: agent %s: %s: %w", t.Name, args[0], cephMessage(ee.Stderr), err)
	}
	if err != nil {
		return out, fmt.Errorf("%s: agent %s: %w", t.Name, args[0], err)
	}
	return out, nil
}

// checkImage makes sure the image is on the host (pulling it if not),
// reads its Ceph version and its ceph uid/gid (cephadm's
// extract_uid_gid).
func (b *bootRun) checkImage(ctx context.Context) (string, error) {
	c, img := b.c, b.req.Image
	pulled := ""
	if _, err := c.remote.Run(ctx, b.target, []string{"podman", "image", "inspect", "--format", "{{.Id}}", img}, nil, c.checkTO); err != nil {
		var ee *sshexec.ExitError
		if !errors.As(err, &ee) {
			return "", fmt.Errorf("%s: podman image inspect %s: %w", b.host.Name, img, err)
		}
		if _, err := c.remote.Run(ctx, b.target, []string{"podman", "pull", img}, nil, bootPullTimeout); err != nil {
			return "", fmt.Errorf("image %s is not on host %s and cannot be pulled: %w\nLoad it there first (podman load -i ARCHIVE, see images/README.md) or give another --image", img, b.host.Name, err)
		}
		pulled = ", pulled"
	}
	out, err := c.remote.Run(ctx, b.target, []string{"podman", "run", "--rm", "--net=none", "--entrypoint", "/bin/sh", img,
		"-c", `ceph --version && stat -c '%u %g' /var/lib/ceph`}, nil, c.checkTO)
	if err != nil {
		return "", fmt.Errorf("%s: read the Ceph version and uid of %s: %w", b.host.Name, img, err)
	}
	version, uid, gid, err := parseImageInfo(string(out))
	if err != nil {
		return "", fmt.Errorf("%s: image %s: %w", b.host.Name, img, err)
	}
	b.rec.CephVersion, b.rec.UID, b.rec.GID = version, uid, gid
	return fmt.Sprintf("%s: ceph %s, ceph uid:gid %d:%d%s", img, version, uid, gid, pulled), nil
}

// parseImageInfo reads "ceph version 16.2.15 (...) pacific (stable)" and
// "167 167". Ceph before Octopus (15) has no config database nor
// generate-minimal-conf, which bootstrap relies on.
func parseImageInfo(out string) (version string, uid, gid int, err error) {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 {
		return "", 0, 0, fmt.Errorf("unexpected output %q", out)
	}
	f := strings.Fields(lines[0])
	if len(f) < 3 || f[0] != "ceph" || f[1] != "version" {
		return "", 0, 0, fmt.Errorf("`ceph --version` printed %q", lines[0])
	}
	version = f[2]
	major, err := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
	if err != nil {
		return "", 0, 0, fmt.Errorf("ceph version %q: %w", version, err)
	}
	if major < 15 {
		return "", 0, 0, invalidf("ceph %s is too old: orch bootstraps Octopus (15) and later", version)
	}
	ids := strings.Fields(lines[len(lines)-1])
	if len(ids) != 2 {
		return "", 0, 0, fmt.Errorf("uid/gid of /var/lib/ceph: %q", lines[len(lines)-1])
	}
	if uid, err = strconv.Atoi(ids[0]); err == nil {
		gid, err = strconv.Atoi(ids[1])
	}
	if err != nil {
		return "", 0, 0, fmt.Errorf("uid/gid of /var/lib/ceph: %q", lines[len(lines)-1])
	}
	return version, uid, gid, nil
}

// publicNetwork settles the mon's public network: --public-network, else
// the most specific network of the host that holds MonIP (cephadm's
// infer from the host's routes, here `orch agent list-networks`).
func (b *bootRun) publicNetwork(ctx context.Context) (string, error) {
	ip := netip.MustParseAddr(b.req.MonIP)
	if b.req.PublicNetwork != "" {
		for _, n := range strings.Split(b.req.PublicNetwork, ",") {
			if netip.MustParsePrefix(strings.TrimSpace(n)).Contains(ip) {
				b.rec.PublicNetwork = b.req.PublicNetwork
				b.rec.ClusterNetwork = b.req.ClusterNetwork
				return b.rec.PublicNetwork + " (given)", nil
			}
		}
		return "", invalidf("--mon-ip %s is not in --public-network %s", b.req.MonIP, b.req.PublicNetwork)
	}
	out, err := b.agent(ctx, nil, b.c.checkTO, "list-networks")
	if err != nil {
		return "", err
	}
	var nets map[string]map[string][]string
	if err := json.Unmarshal(out, &nets); err != nil {
		return "", fmt.Errorf("%s: list-networks: %w", b.host.Name, err)
	}
	n, err := pickPublicNetwork(nets, ip)
	if err != nil {
		return "", fmt.Errorf("%s: %w", b.host.Name, err)
	}
	b.rec.PublicNetwork, b.rec.ClusterNetwork = n, b.req.ClusterNetwork
	return n + " (from the host's routes)", nil
}

// pickPublicNetwork returns the most specific network holding ip, a host
// route (/32, /128) only when nothing else holds it; ties break by name.
func pickPublicNetwork(nets map[string]map[string][]string, ip netip.Addr) (string, error) {
	best, bestBits := "", -1
	for _, name := range bootSorted(bootKeys(nets)) {
		p, err := netip.ParsePrefix(name)
		if err != nil || !p.Contains(ip) {
			continue
		}
		bits := p.Bits()
		if bits == p.Addr().BitLen() {
			bits = 0 // a host route: the last resort
		}
		if bits > bestBits {
			best, bestBits = p.Masked().String(), bits
		}
	}
	if best == "" {
		return "", invalidf("no network of the host holds the mon IP %s; check --mon-ip, or give --public-network", ip)
	}
	return best, nil
}

func bootKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkExisting refuses a host that already has daemons of this fsid
// (cephadm: ClusterAlreadyExists) or another cluster's /etc/ceph files
// (unless --allow-overwrite).
func (b *bootRun) checkExisting(ctx context.Context) (string, error) {
	out, err := b.agent(ctx, nil, b.c.checkTO, "ls", "--fsid", b.rec.FSID, "--no-detail")
	if err != nil {
		return "", err
	}
	var ds []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(out, &ds); err != nil {
		return "", fmt.Errorf("%s: agent ls: %w", b.host.Name, err)
	}
	if len(ds) > 0 {
		names := make([]string, len(ds))
		for i, d := range ds {
			names[i] = d.Name
		}
		return "", bootErr(api.ErrExists, "Cluster %s already exists on host %s (daemons %s under %s): remove it first",
			b.rec.FSID, b.host.Name, strings.Join(names, ", "), containers.ClusterDir(b.rec.FSID))
	}
	out, err = b.c.remote.Run(ctx, b.target, []string{"sh", "-c", `for f; do if [ -e "$f" ]; then echo "$f"; fi; done`, "sh",
		CephConfPath, AdminKeyringPath}, nil, b.c.checkTO)
	if err != nil {
		return "", fmt.Errorf("%s: look for /etc/ceph files: %w", b.host.Name, err)
	}
	if existing := strings.Fields(string(out)); len(existing) > 0 {
		if !b.req.AllowOverwrite {
			return "", bootErr(api.ErrExists, "%s already exist(s) on host %s; pass --allow-overwrite to replace", strings.Join(existing, " and "), b.host.Name)
		}
		return "no daemons of " + b.rec.FSID + "; /etc/ceph files will be overwritten", nil
	}
	return "no daemons of " + b.rec.FSID + ", no /etc/ceph files", nil
}

// createKeys generates the cluster's first keys in Go (Ceph's AES key
// format) and keeps the admin and bootstrap-osd keyrings in the store.
func (b *bootRun) createKeys(ctx context.Context) (string, error) {
	now := b.c.now()
	b.keys = map[string]string{}
	for _, e := range []string{"mon.", "client.admin", "client.bootstrap-osd"} {
		k, err := newCephKey(rand.Reader, now)
		if err != nil {
			return "", err
		}
		b.keys[e] = k
	}
	if b.rec.MonID = b.req.MonID; b.rec.MonID == "" {
		b.rec.MonID, _, _ = strings.Cut(b.host.Name, ".")
	}
	if b.rec.MgrID = b.req.MgrID; b.rec.MgrID == "" {
		suffix, err := randomLetters(6)
		if err != nil {
			return "", err
		}
		short, _, _ := strings.Cut(b.host.Name, ".")
		b.rec.MgrID = short + "." + suffix
	}
	err := b.c.st.Update(func(tx *store.Tx) error {
		for entity, k := range b.keys {
			if err := tx.SetSecret(store.KeyringSecret(entity), store.Secret(minimalKeyring(entity, k))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return "keyrings kept in the store (mode 0600): " + strings.Join(bootSorted(bootKeys(b.keys)), ", "), nil
}

// writeBootstrapFiles writes the bootstrap ceph.conf (fsid, mon_host) and
// the admin keyring to /etc/ceph on the host, so that `ceph` commands can
// run there as soon as the monitor is up.
func (b *bootRun) writeBootstrapFiles(ctx context.Context) (string, error) {
	b.rec.AdminFiles = true
	b.save()
	conf := clientConf(b.rec.FSID, b.req.MonIP)
	if err := b.c.writeAdminFiles(ctx, b.host, conf, []byte(minimalKeyring("client.admin", b.keys["client.admin"]))); err != nil {
		return "", err
	}
	return CephConfPath + " (0644), " + AdminKeyringPath + " (0600) on " + b.host.Name, nil
}

// cephCall runs on the bootstrap host with the bootstrap image.
func (b *bootRun) cephCall(timeout time.Duration, connect int) cephCall {
	return cephCall{host: b.host.Name, image: b.req.Image, timeout: timeout, connectTimeout: connect}
}

// deployMon deploys mon.<id>: the monmap and `ceph-mon --mkfs` run as
// first-deploy init containers, then the daemon on the host network.
func (b *bootRun) deployMon(ctx context.Context) (string, error) {
	name := "mon." + b.rec.MonID
	b.rec.Daemons = append(b.rec.Daemons, name)
	b.save()
	req, err := monDeployRequest(monDeploy{
		FSID: b.rec.FSID, Image: b.req.Image, ID: b.rec.MonID, UID: b.rec.UID, GID: b.rec.GID,
		MonIP: b.req.MonIP, PublicNetwork: b.rec.PublicNetwork, Keys: b.keys,
	})
	if err != nil {
		return "", err
	}
	if err := b.deploy(ctx, req); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s on %s, listening on %s", name, b.host.Name, monAddrv(b.req.MonIP)), nil
}

func (b *bootRun) deploy(ctx context.Context, req *agent.DeployRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	_, err = b.agent(ctx, body, bootDeployTimeout, "deploy", "--fsid", req.FSID)
	return err
}

// waitFor polls check every bootPollEvery until it reports done, the
// timeout passes or ctx ends; on timeout the error names what was awaited
// and carries the daemon's last log lines.
func (b *bootRun) waitFor(ctx context.Context, timeout time.Duration, what, daemon string, check func(context.Context) (bool, error)) error {
	deadline := b.c.now().Add(timeout)
	var last error
	for {
		ok, err := check(ctx)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if b.c.now().After(deadline) {
			msg := fmt.Sprintf("timed out after %s waiting for %s", timeout, what)
			if last != nil {
				msg += " (last error: " + last.Error() + ")"
			}
			if logs := b.daemonLogs(daemon); logs != "" {
				msg += "\nlast lines of " + daemon + "'s log on " + b.host.Name + ":\n" + logs
			}
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(bootPollEvery):
		}
	}
}

// daemonLogs returns the tail of a daemon container's log (best effort).
func (b *bootRun) daemonLogs(daemon string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := b.c.remote.Run(ctx, b.target, []string{"sh", "-c", `podman logs --tail 15 "$1" 2>&1`, "sh",
		containers.ContainerName(b.rec.FSID, daemon)}, nil, 20*time.Second)
	if err != nil && len(out) == 0 {
		return ""
	}
	return strings.TrimRight(string(out), "\n")
}

// waitQuorum waits until the monitor is in quorum.
func (b *bootRun) waitQuorum(ctx context.Context) (string, error) {
	t0 := b.c.now()
	var q QuorumStatus
	err := b.waitFor(ctx, bootQuorumTimeout, "mon."+b.rec.MonID+" to form a quorum", "mon."+b.rec.MonID, func(ctx context.Context) (bool, error) {
		if err := b.c.cephJSON(ctx, b.cephCall(45*time.Second, 10), &q, "quorum_status"); err != nil {
			return false, err
		}
		return q.InQuorum(b.rec.MonID), nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("quorum %s after %.1fs", strings.Join(q.QuorumNames, ","), roundSeconds(b.c.now().Sub(t0))), nil
}

// configure sets the options cephadm's bootstrap sets (public network,
// global_id reclaim, container image; the single-host defaults when
// asked), assimilates --config, and replaces the bootstrap ceph.conf with
// the cluster's minimal one.
func (b *bootRun) configure(ctx context.Context) (string, error) {
	ini := bootstrapConfig(b.rec, b.req)
	call := b.cephCall(0, 0)
	call.stdin = []byte(ini)
	if _, err := b.c.ceph(ctx, call, "config", "assimilate-conf", "-i", "-"); err != nil {
		return "", err
	}
	n := strings.Count(ini, " = ")
	if strings.TrimSpace(b.req.Config) != "" {
		call.stdin = []byte(b.req.Config)
		if _, err := b.c.ceph(ctx, call, "config", "assimilate-conf", "-i", "-"); err != nil {
			return "", fmt.Errorf("assimilate --config: %w", err)
		}
	}
	conf, err := b.c.minimalConfig(ctx, b.cephCall(0, 0))
	if err != nil {
		return "", err
	}
	b.conf = conf
	if err := b.c.writeHostFile(ctx, b.host, CephConfPath, "0644", []byte(conf)); err != nil {
		return "", err
	}
	detail := fmt.Sprintf("%d options set; public_network %s", n, b.rec.PublicNetwork)
	if b.req.Config != "" {
		detail += "; --config assimilated"
	}
	return detail, nil
}

// deployMgr deploys mgr.<id> with its keyring from `auth get-or-create`.
func (b *bootRun) deployMgr(ctx context.Context) (string, error) {
	name := "mgr." + b.rec.MgrID
	keyring, err := b.c.daemonKeyring(ctx, b.cephCall(0, 0), "mgr", b.rec.MgrID, b.host.Name)
	if err != nil {
		return "", err
	}
	b.rec.Daemons = append(b.rec.Daemons, name)
	b.save()
	req, err := cephDeployRequest(cephDeploy{
		FSID: b.rec.FSID, Image: b.req.Image, Type: "mgr", ID: b.rec.MgrID, UID: b.rec.UID, GID: b.rec.GID,
		Config: b.conf, Keyring: keyring, Ports: mgrPorts,
	})
	if err != nil {
		return "", err
	}
	if b.req.MgrModule {
		if err := b.c.addMgrModule(req, b.rec.MgrID); err != nil {
			return "", err
		}
	}
	if err := b.deploy(ctx, req); err != nil {
		return "", err
	}
	return name + " on " + b.host.Name, nil
}

// waitMgr waits until `ceph mgr stat` says a mgr is available.
func (b *bootRun) waitMgr(ctx context.Context) (string, error) {
	t0 := b.c.now()
	var ms struct {
		Available  bool   `json:"available"`
		ActiveName string `json:"active_name"`
	}
	err := b.waitFor(ctx, bootMgrTimeout, "mgr."+b.rec.MgrID+" to become available", "mgr."+b.rec.MgrID, func(ctx context.Context) (bool, error) {
		if err := b.c.cephJSON(ctx, b.cephCall(45*time.Second, 10), &ms, "mgr", "stat"); err != nil {
			return false, err
		}
		return ms.Available, nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("mgr.%s active after %.1fs", ms.ActiveName, roundSeconds(b.c.now().Sub(t0))), nil
}

// deployCrash deploys crash.<host> (cephadm's `orch apply crash`).
func (b *bootRun) deployCrash(ctx context.Context) (string, error) {
	short, _, _ := strings.Cut(b.host.Name, ".")
	name := "crash." + short
	keyring, err := b.c.daemonKeyring(ctx, b.cephCall(0, 0), "crash", short, b.host.Name)
	if err != nil {
		return "", err
	}
	b.rec.Daemons = append(b.rec.Daemons, name)
	b.save()
	req, err := cephDeployRequest(cephDeploy{
		FSID: b.rec.FSID, Image: b.req.Image, Type: "crash", ID: short, UID: b.rec.UID, GID: b.rec.GID,
		Config: b.conf, Keyring: keyring,
	})
	if err != nil {
		return "", err
	}
	if err := b.deploy(ctx, req); err != nil {
		return "", err
	}
	return name + " on " + b.host.Name, nil
}

// record keeps the image in the cluster record, stores the mon, mgr and
// crash specs (managed, cephadm's defaults) and marks the cluster bootstrapped.
func (b *bootRun) record(ctx context.Context) (string, error) {
	now := b.c.now().UTC()
	err := b.c.st.Update(func(tx *store.Tx) error {
		if _, err := tx.UpdateCluster(func(cl *store.Cluster) error { cl.ContainerImage = b.req.Image; return nil }); err != nil {
			return err
		}
		return storeBootstrapSpecs(tx, now)
	})
	if err != nil {
		return "", err
	}
	// Show the new daemons in `orch ps` at once (best effort: the
	// refresh loop catches up otherwise).
	if err := b.c.RefreshHost(ctx, b.host.Name, store.CacheDaemons); err != nil {
		b.log.Warn().Err(err).Msg("refresh the bootstrap host's daemons")
	}
	return "container image " + b.req.Image + "; services mon (count 5), mgr (count 2), crash (*)", nil
}

func (b *bootRun) nextSteps() []string {
	img := b.req.Image
	return []string{
		"Bootstrap complete.",
		"Cluster fsid: " + b.rec.FSID,
		fmt.Sprintf("Ceph %s (%s): mon.%s and mgr.%s on %s (%s), public network %s.", b.rec.CephVersion, img, b.rec.MonID, b.rec.MgrID, b.rec.Host, b.rec.Addr, b.rec.PublicNetwork),
		fmt.Sprintf("%s and the client.admin keyring are on %s (label %s); the keyring is also in the controller's store.", CephConfPath, b.rec.Host, AdminLabel),
		"Run the ceph CLI on " + b.rec.Host + ":",
		"\tpodman run --rm -it --net=host -v /etc/ceph:/etc/ceph:ro " + img + " ceph -s",
		"Add more hosts: authorize the cluster key (`orch ssh get-pub-key`) for " + sshUserOr(b.c) + " on each, then",
		"\torch host add HOST ADDR",
		"Then deploy OSDs and services (as `ceph orch apply`): orch apply osd --all-available-devices",
	}
}

func sshUserOr(c *Controller) string {
	u, err := c.User()
	if err != nil || u == "" {
		return "root"
	}
	return u
}

// ---- failure handling ------------------------------------------------------

// cleanup removes what this attempt made (cephadm's rollback: rm-cluster
// of the new fsid): its daemons in reverse order, data included, the
// /etc/ceph files when they name this fsid, and the keys it stored.
func (b *bootRun) cleanup(ctx context.Context) error {
	lo := bootLeftovers{FSID: b.rec.FSID, Host: b.rec.Host, Daemons: b.rec.Daemons, AdminFiles: b.rec.AdminFiles}
	if err := b.c.removeBootLeftovers(ctx, lo); err != nil {
		return err
	}
	b.rec.Daemons, b.rec.AdminFiles = nil, false
	return b.c.st.Update(func(tx *store.Tx) error {
		for _, e := range []string{"mon.", "client.admin", "client.bootstrap-osd"} {
			if err := tx.DeleteSecret(store.KeyringSecret(e)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

// removeLeftovers is the first step after a failed or interrupted attempt.
func (b *bootRun) removeLeftovers(ctx context.Context) (string, error) {
	var done []string
	for len(b.rec.Leftovers) > 0 {
		lo := b.rec.Leftovers[0]
		if err := b.c.removeBootLeftovers(ctx, lo); err != nil {
			return "", err
		}
		b.rec.Leftovers = b.rec.Leftovers[1:]
		b.save()
		what := strings.Join(lo.Daemons, ", ")
		if lo.AdminFiles {
			what = strings.TrimPrefix(what+", /etc/ceph files", ", ")
		}
		done = append(done, what+" on "+lo.Host)
	}
	return "removed " + strings.Join(done, "; "), nil
}

// removeBootLeftovers removes one attempt's daemons and files from its
// host. Daemons already gone are fine (rm-daemon is idempotent).
func (c *Controller) removeBootLeftovers(ctx context.Context, lo bootLeftovers) error {
	if lo.Host == "" || (len(lo.Daemons) == 0 && !lo.AdminFiles) {
		return nil
	}
	h, err := c.st.GetHost(lo.Host)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the host was removed since: nothing to reach
	}
	if err != nil {
		return err
	}
	t, err := c.target(h)
	if err != nil {
		return err
	}
	var errs []error
	if len(lo.Daemons) > 0 {
		bin, err := c.remote.PushBinary(ctx, t, lo.FSID, c.agent)
		if err != nil {
			return fmt.Errorf("%s: push orch agent: %w", h.Name, err)
		}
		for i := len(lo.Daemons) - 1; i >= 0; i-- {
			_, err := runAgentOn(ctx, c.remote, t, bin, nil, bootDeployTimeout,
				"rm-daemon", "--fsid", lo.FSID, "--name", lo.Daemons[i], "--force", "--force-delete-data")
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if lo.AdminFiles {
		if err := c.removeAdminFiles(ctx, h, lo.FSID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
