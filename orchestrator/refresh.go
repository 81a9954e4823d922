package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// This file is the controller's per-host refresh (cephadm's
// _refresh_hosts_and_daemons, reference §2.2–2.3): it runs the agent's
// `ls`, `gather-facts`, `list-networks` and `inventory` over SSH and
// caches their answers in the store with their refresh times.
//
// A pass plans from the store (what is due by age or by a refresh flag),
// probes the due hosts through sshexec.FanOut semantics (at most
// Concurrency hosts at a time; an unreachable host is a result, never an
// error that stops the others) and hands each host's outcome to one
// writer, which commits them in batches: one bbolt transaction (one
// fsync) per batch instead of one per host and kind.

// Default cache lifetimes: cephadm's facts_cache_timeout,
// daemon_cache_timeout and device_cache_timeout (networks share the
// device timeout in cephadm).
const (
	DefaultFactsLifetime    = 60 * time.Second
	DefaultDaemonsLifetime  = 600 * time.Second
	DefaultDevicesLifetime  = 1800 * time.Second
	DefaultNetworksLifetime = 1800 * time.Second
)

// RefreshOptions tune the refresh. Zero values take the defaults.
type RefreshOptions struct {
	// Concurrency bounds the hosts probed at once (default
	// sshexec.DefaultFanOutLimit, 50; cephadm uses 10).
	Concurrency int
	// Cache lifetimes per kind; an entry older than its lifetime is
	// refreshed by the next pass.
	FactsLifetime, DaemonsLifetime, DevicesLifetime, NetworksLifetime time.Duration
	// CommandTimeout bounds one agent command on a host (default 300 s).
	CommandTimeout time.Duration
	// Interval is how long RunRefreshLoop sleeps between passes unless
	// kicked (default 60 s, cephadm's serve-loop sleep with default
	// lifetimes).
	Interval time.Duration
	// PassTimeout bounds a background pass started by a kick when no
	// RunRefreshLoop runs (default 30 min).
	PassTimeout time.Duration
	// BatchSize is the most hosts committed in one store transaction
	// (default 64).
	BatchSize int
}

func (o RefreshOptions) withDefaults() RefreshOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = sshexec.DefaultFanOutLimit
	}
	def(&o.FactsLifetime, DefaultFactsLifetime)
	def(&o.DaemonsLifetime, DefaultDaemonsLifetime)
	def(&o.DevicesLifetime, DefaultDevicesLifetime)
	def(&o.NetworksLifetime, DefaultNetworksLifetime)
	def(&o.CommandTimeout, 300*time.Second)
	def(&o.Interval, 60*time.Second)
	def(&o.PassTimeout, 30*time.Minute)
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	return o
}

// Lifetime returns the cache lifetime of kind.
func (o RefreshOptions) Lifetime(k store.CacheKind) time.Duration {
	switch k {
	case store.CacheFacts:
		return o.FactsLifetime
	case store.CacheDaemons:
		return o.DaemonsLifetime
	case store.CacheDevices:
		return o.DevicesLifetime
	case store.CacheNetworks:
		return o.NetworksLifetime
	}
	return 0
}

// AllCacheKinds are the refreshed kinds in the order a host is probed
// (cephadm's: daemons, facts, networks, devices).
var AllCacheKinds = []store.CacheKind{store.CacheDaemons, store.CacheFacts, store.CacheNetworks, store.CacheDevices}

// agentArgs is the agent subcommand (after "agent") that gathers kind.
func agentArgs(kind store.CacheKind, fsid, image string) []string {
	switch kind {
	case store.CacheDaemons:
		return []string{"ls", "--fsid", fsid}
	case store.CacheFacts:
		return []string{"gather-facts"}
	case store.CacheNetworks:
		return []string{"list-networks"}
	case store.CacheDevices:
		if image != "" {
			// The native scan counts loop devices as disks (test hosts
			// have nothing else); ceph-volume does too only when told,
			// so both paths report the same devices.
			return []string{"inventory", "--image", image, "--env", "CEPH_VOLUME_ALLOW_LOOP_DEVICES=1"}
		}
		return []string{"inventory"}
	}
	return nil
}

// ConfigureRefresh sets the refresh options. Call it before the first
// refresh; later calls apply to passes that start afterwards.
func (c *Controller) ConfigureRefresh(o RefreshOptions) {
	rt := c.rt()
	rt.mu.Lock()
	rt.opts = o.withDefaults()
	rt.mu.Unlock()
}

// RefreshConfig returns the refresh options in effect.
func (c *Controller) RefreshConfig() RefreshOptions {
	rt := c.rt()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.opts
}

// RefreshHosts runs one refresh pass over every host: each kind of each
// host that is older than its lifetime, was never refreshed, or is flagged
// (store refresh flags) is gathered again; force refreshes everything.
// Hosts in maintenance are skipped; hosts being refreshed by another call
// are left to it. A host that cannot be reached is marked offline and a
// host reached again loses that mark; failures are recorded per host
// (RefreshFailures) rather than returned. The error is for the pass itself
// (store trouble, no SSH identity, ctx ended).
func (c *Controller) RefreshHosts(ctx context.Context, force bool) error {
	_, err := c.refreshPass(ctx, force)
	return err
}

// RefreshHost refreshes the given kinds of one host now (all kinds when
// none are given), whatever their age, waiting for a refresh of the same
// host already under way. It returns the host's failure, if any, besides
// recording it like a pass does.
func (c *Controller) RefreshHost(ctx context.Context, host string, kinds ...store.CacheKind) error {
	h, err := c.getHost(host)
	if err != nil {
		return err
	}
	if h.Status == "maintenance" {
		return fmt.Errorf("host %s is in maintenance mode; not refreshing it: %w", host, api.ErrBusy)
	}
	if len(kinds) == 0 {
		kinds = AllCacheKinds
	}
	for _, k := range kinds {
		if agentArgs(k, "", "") == nil {
			return api.NewError(syscall.EINVAL, "refresh %s: unknown cache kind %q", host, k)
		}
	}
	kinds = orderKinds(kinds)
	cl, err := c.st.GetCluster()
	if err != nil {
		return err
	}
	tb, err := c.newTargetBuilder(cl)
	if err != nil {
		return err
	}
	rt := c.rt()
	if err := rt.acquire(ctx, host); err != nil {
		return err
	}
	defer rt.release(host)
	// Consume the flags of the kinds about to be refreshed, as a pass does
	// (a failure puts them back), reading the host again now that it is
	// ours.
	flagged := map[store.CacheKind]bool{}
	err = c.st.Update(func(tx *store.Tx) error {
		if h, err = tx.GetHost(host); err != nil {
			return err
		}
		hc, err := tx.GetHostCache(host)
		if err != nil {
			return err
		}
		for _, k := range kinds {
			if refreshFlag(hc.RefreshNeeded, k) {
				flagged[k] = true
				if err := tx.SetRefreshNeeded(host, k, false); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return api.NewError(syscall.ENOENT, "host %s not found", host)
	}
	if err != nil {
		return err
	}
	t, err := tb.target(h)
	if err != nil {
		return err
	}
	o := c.probeHost(ctx, rt, t, cl, kinds, flagged)
	if err := c.commitBatch([]*hostOutcome{o}); err != nil {
		return err
	}
	c.logTransition(o)
	return o.err()
}

// InvalidateHosts flags kinds of hosts (every host when hosts is empty,
// every kind when kinds is empty) for the next refresh and wakes the
// refresher; it returns without waiting for SSH. Unknown hosts are
// ErrNotFound.
func (c *Controller) InvalidateHosts(hosts []string, kinds ...store.CacheKind) error {
	if len(kinds) == 0 {
		kinds = AllCacheKinds
	}
	err := c.st.Update(func(tx *store.Tx) error {
		if len(hosts) == 0 {
			all, err := tx.ListHosts()
			if err != nil {
				return err
			}
			for _, h := range all {
				hosts = append(hosts, h.Name)
			}
		}
		for _, h := range hosts {
			if _, err := tx.GetHost(h); errors.Is(err, store.ErrNotFound) {
				return api.NewError(syscall.ENOENT, "host %s not found", h)
			} else if err != nil {
				return err
			}
			for _, k := range kinds {
				if err := tx.SetRefreshNeeded(h, k, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.kickRefresh()
	return nil
}

// ScheduleRefresh is POST /refresh: InvalidateHosts with kinds by name.
func (c *Controller) ScheduleRefresh(r api.RefreshRequest) (string, error) {
	var kinds []store.CacheKind
	for _, k := range r.Kinds {
		kind := store.CacheKind(k)
		if agentArgs(kind, "", "") == nil {
			return "", api.NewError(syscall.EINVAL, "unknown refresh kind %q: want daemons, facts, networks or devices", k)
		}
		kinds = append(kinds, kind)
	}
	if err := c.InvalidateHosts(r.Hosts, kinds...); err != nil {
		return "", err
	}
	what := "all hosts"
	if len(r.Hosts) > 0 {
		what = fmt.Sprintf("%d host(s)", len(r.Hosts))
	}
	return "Scheduled refresh of " + what, nil
}

// RunRefreshLoop refreshes hosts until ctx ends: a pass at once, then one
// whenever kicked (InvalidateHosts) or after RefreshOptions.Interval. It
// stands in for the reconciler's serve loop, which will call RefreshHosts
// itself. It returns ctx's error.
func (c *Controller) RunRefreshLoop(ctx context.Context) error {
	rt := c.rt()
	rt.mu.Lock()
	rt.loops++
	rt.mu.Unlock()
	defer func() {
		rt.mu.Lock()
		rt.loops--
		rt.mu.Unlock()
	}()
	for {
		if err := c.RefreshHosts(ctx, false); err != nil && ctx.Err() == nil {
			c.log.Warn().Err(err).Msg("refresh pass failed")
		}
		timer := time.NewTimer(c.RefreshConfig().Interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-rt.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// kickRefresh wakes RunRefreshLoop, or, when none runs, starts one
// background pass (or asks the running one to go again). Background passes
// belong to the refresh runtime; CloseRefresh ends and waits for them.
func (c *Controller) kickRefresh() {
	rt := c.rt()
	rt.mu.Lock()
	if wake := rt.wake; wake != nil {
		rt.mu.Unlock()
		wake()
		return
	}
	defer rt.mu.Unlock()
	if rt.loops > 0 {
		select {
		case rt.kick <- struct{}{}:
		default:
		}
		return
	}
	if rt.closed {
		return
	}
	if rt.bgRunning {
		rt.bgAgain = true
		return
	}
	rt.bgRunning = true
	done := make(chan struct{})
	rt.bgDone = done
	go func() {
		defer close(done)
		for {
			rt.mu.Lock()
			if rt.closed {
				rt.bgRunning = false
				rt.mu.Unlock()
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), rt.opts.PassTimeout)
			rt.bgCancel = cancel
			rt.bgAgain = false
			rt.mu.Unlock()

			if err := c.RefreshHosts(ctx, false); err != nil && ctx.Err() == nil {
				c.log.Warn().Err(err).Msg("background refresh pass failed")
			}
			cancel()

			rt.mu.Lock()
			rt.bgCancel = nil
			if !rt.bgAgain || rt.closed {
				rt.bgRunning = false
				rt.mu.Unlock()
				return
			}
			rt.mu.Unlock()
		}
	}()
}

// SetRefreshKick hands refresh requests (InvalidateHosts, `--refresh`) to
// wake, typically the reconciler's Wake, whose serve loop calls
// RefreshHosts: no background pass is started then. nil restores the
// default.
func (c *Controller) SetRefreshKick(wake func()) {
	rt := c.rt()
	rt.mu.Lock()
	rt.wake = wake
	rt.mu.Unlock()
}

// CloseRefresh cancels background refresh passes and waits for them. Kicks
// after it start nothing (RunRefreshLoop is ended by its own context).
func (c *Controller) CloseRefresh() {
	rt := c.rt()
	rt.mu.Lock()
	rt.closed = true
	if rt.bgCancel != nil {
		rt.bgCancel()
	}
	done := rt.bgDone
	rt.mu.Unlock()
	if done != nil {
		<-done
	}
}

// WaitRefresh waits until no background pass runs (one started by a kick
// made meanwhile included).
func (c *Controller) WaitRefresh() {
	rt := c.rt()
	for {
		rt.mu.Lock()
		done := rt.bgDone
		running := rt.bgRunning
		rt.mu.Unlock()
		if !running || done == nil {
			return
		}
		<-done
	}
}

// hostPlan is one host of a pass and the kinds due on it.
type hostPlan struct {
	host    store.Host
	kinds   []store.CacheKind
	flagged map[store.CacheKind]bool
}

// planPass reads hosts and cache times in one snapshot and returns the
// hosts with due kinds, sorted by name.
func (c *Controller) planPass(force bool, opts RefreshOptions) ([]hostPlan, error) {
	now := c.now()
	var plans []hostPlan
	err := c.st.View(func(tx *store.Tx) error {
		hosts, err := tx.ListHosts()
		if err != nil {
			return err
		}
		caches, err := tx.ListHostCachesOf() // refresh times and flags only
		if err != nil {
			return err
		}
		byHost := make(map[string]*store.HostCache, len(caches))
		for i := range caches {
			byHost[caches[i].Host] = &caches[i]
		}
		for _, h := range hosts {
			if h.Status == "maintenance" {
				continue
			}
			hc := byHost[h.Name]
			if hc == nil {
				hc = &store.HostCache{Host: h.Name}
			}
			p := hostPlan{host: h}
			for _, k := range AllCacheKinds {
				flagged := refreshFlag(hc.RefreshNeeded, k)
				e := hc.Entry(k)
				if force || flagged || e.Refreshed.IsZero() || now.Sub(e.Refreshed) >= opts.Lifetime(k) {
					p.kinds = append(p.kinds, k)
				}
				if flagged {
					if p.flagged == nil {
						p.flagged = map[store.CacheKind]bool{}
					}
					p.flagged[k] = true
				}
			}
			// An offline host is probed every pass, even with nothing due,
			// so that it comes back as soon as it answers.
			if len(p.kinds) == 0 && h.Status == "offline" {
				p.kinds = []store.CacheKind{store.CacheFacts}
			}
			if len(p.kinds) > 0 {
				plans = append(plans, p)
			}
		}
		// Drop the cached data now: a pass over many hosts must not keep
		// every host's facts alive while it probes.
		clear(byHost)
		return nil
	})
	return plans, err
}

func refreshFlag(f store.RefreshFlags, k store.CacheKind) bool {
	switch k {
	case store.CacheFacts:
		return f.Facts
	case store.CacheDaemons:
		return f.Daemons
	case store.CacheDevices:
		return f.Devices
	case store.CacheNetworks:
		return f.Networks
	}
	return false
}

// orderKinds returns kinds in probe order without duplicates.
func orderKinds(kinds []store.CacheKind) []store.CacheKind {
	var out []store.CacheKind
	for _, k := range AllCacheKinds {
		for _, w := range kinds {
			if w == k {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// passResult summarises a pass (for tests, logs and benchmarks).
type passResult struct {
	probed, failed, offline int
}

func (c *Controller) refreshPass(ctx context.Context, force bool) (passResult, error) {
	var res passResult
	rt := c.rt()
	opts := c.RefreshConfig()
	cl, err := c.st.GetCluster()
	if err != nil {
		return res, err
	}
	tb, err := c.newTargetBuilder(cl)
	if err != nil {
		return res, err
	}
	plans, err := c.planPass(force, opts)
	if err != nil {
		return res, err
	}
	// Claim the hosts; another refresh of a host already has it.
	claimed := plans[:0]
	for _, p := range plans {
		if rt.tryAcquire(p.host.Name) {
			claimed = append(claimed, p)
		}
	}
	plans = claimed
	if len(plans) == 0 {
		return res, nil
	}
	// Consume the refresh flags before probing: a flag set while the probe
	// runs survives and asks for another refresh, so a change made during
	// the probe is never lost. A failed probe puts its flags back.
	err = c.st.Update(func(tx *store.Tx) error {
		for _, p := range plans {
			for k := range p.flagged {
				if err := tx.SetRefreshNeeded(p.host.Name, k, false); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		for _, p := range plans {
			rt.release(p.host.Name)
		}
		return res, err
	}

	byName := make(map[string]*hostPlan, len(plans))
	names := make([]string, len(plans))
	for i := range plans {
		byName[plans[i].host.Name] = &plans[i]
		names[i] = plans[i].host.Name
	}
	start := time.Now()
	outcomes := make(chan *hostOutcome, opts.Concurrency)
	writeErr := make(chan error, 1)
	go func() { writeErr <- c.writeOutcomes(rt, outcomes, opts.BatchSize, &res) }()
	results := sshexec.FanOut(ctx, names, opts.Concurrency, func(ctx context.Context, name string) (struct{}, error) {
		p := byName[name]
		t, err := tb.target(p.host)
		var o *hostOutcome
		if err != nil {
			o = &hostOutcome{host: name, reflag: p.flagged, connErr: err}
		} else {
			o = c.probeHost(ctx, rt, t, cl, p.kinds, p.flagged)
		}
		outcomes <- o
		return struct{}{}, nil
	})
	// Hosts the fan-out never started (ctx ended) give their flags back
	// and are released like the others.
	for _, r := range results {
		if r.Err != nil {
			outcomes <- &hostOutcome{host: r.Host, reflag: byName[r.Host].flagged, aborted: true}
		}
	}
	close(outcomes)
	err = <-writeErr
	c.log.Debug().Int("hosts", res.probed).Int("failed", res.failed).Int("offline", res.offline).
		Dur("took", time.Since(start)).Msg("refresh pass")
	if err == nil {
		err = ctx.Err()
	}
	return res, err
}

// cacheWrite is one refreshed kind of a host.
type cacheWrite struct {
	kind store.CacheKind
	data json.RawMessage
	at   time.Time
}

// hostOutcome is what probing one host produced.
type hostOutcome struct {
	host   string
	addr   string
	writes []cacheWrite
	// failed maps a kind to why gathering it failed (the host answered).
	failed map[store.CacheKind]error
	// connErr is set when the host could not be reached: it goes offline.
	connErr error
	// aborted is set when the caller's context ended: nothing is recorded
	// about the host's health.
	aborted bool
	// reflag are the refresh flags this probe consumed; failed kinds get
	// theirs back.
	reflag map[store.CacheKind]bool
	// wentOffline / cameBack are set by the commit.
	wentOffline, cameBack bool
}

func (o *hostOutcome) err() error {
	if o.connErr != nil {
		return o.connErr
	}
	var errs []error
	for _, k := range AllCacheKinds {
		if e := o.failed[k]; e != nil {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// isConnectionError reports whether err means the host could not be
// reached (cephadm's HostConnectionError): TCP or SSH failure, a host key
// that no longer matches, or refused credentials.
func isConnectionError(err error) bool {
	return errors.Is(err, sshexec.ErrUnreachable) || errors.Is(err, sshexec.ErrHostKeyMismatch) || errors.Is(err, sshexec.ErrAuth)
}

// probeHost runs the agent for each kind on the host and returns the
// outcome; it never fails as a whole.
func (c *Controller) probeHost(ctx context.Context, rt *refreshRuntime, t sshexec.Target, cl store.Cluster, kinds []store.CacheKind, flagged map[store.CacheKind]bool) *hostOutcome {
	o := &hostOutcome{host: t.Name, addr: t.Addr, reflag: flagged}
	timeout := c.RefreshConfig().CommandTimeout
	for _, k := range kinds {
		args := agentArgs(k, cl.FSID, cl.ContainerImage)
		out, err := c.runRefreshAgent(ctx, rt, t, cl.FSID, args, timeout)
		if err == nil {
			var data json.RawMessage
			data, err = c.processOutput(t.Name, cl.FSID, k, out)
			if err == nil {
				o.writes = append(o.writes, cacheWrite{kind: k, data: data, at: c.now()})
				continue
			}
		}
		switch {
		case ctx.Err() != nil:
			o.aborted = true
			return o
		case isConnectionError(err):
			o.connErr = err
			return o
		}
		if o.failed == nil {
			o.failed = map[store.CacheKind]error{}
		}
		o.failed[k] = fmt.Errorf("host %s `orch agent %s` failed: %w", t.Name, args[0], err)
	}
	return o
}

// processOutput checks an agent answer and returns what is cached for it:
// facts, networks and devices as the agent printed them (after checking
// their shape), daemons converted to DaemonDescriptions.
func (c *Controller) processOutput(host, fsid string, k store.CacheKind, out []byte) (json.RawMessage, error) {
	// A copy of exactly the answer's size: the SSH read buffer behind out
	// can be twice as large, and the answer waits for the batch commit.
	out = bytes.Clone(bytes.TrimSpace(out))
	switch k {
	case store.CacheFacts:
		// Only the shape is checked here: the store validates every entry
		// it writes (a second full scan of ~55 KiB per host would cost a
		// tenth of a 1,000-host pass), and a batch it refuses is retried
		// host by host (commitBatch).
		if len(out) < 2 || out[0] != '{' || out[len(out)-1] != '}' {
			return nil, fmt.Errorf("gather-facts printed no JSON object: %.80q", out)
		}
		return out, nil
	case store.CacheNetworks:
		var nets map[string]map[string][]string
		if err := json.Unmarshal(out, &nets); err != nil || nets == nil {
			return nil, fmt.Errorf("list-networks printed no {subnet: {iface: [ips]}} object: %.80q", out)
		}
		return out, nil
	case store.CacheDevices:
		var devs []struct {
			Path string `json:"path"`
		}
		if err := json.Unmarshal(out, &devs); err != nil || devs == nil {
			return nil, fmt.Errorf("inventory printed no device list: %.80q", out)
		}
		for i, d := range devs {
			if d.Path == "" {
				return nil, fmt.Errorf("inventory: device %d has no path", i)
			}
		}
		return out, nil
	case store.CacheDaemons:
		ds, skipped, err := ConvertLs(host, fsid, out, c.now())
		if err != nil {
			return nil, err
		}
		if len(skipped) > 0 {
			c.log.Warn().Str("host", host).Strs("skipped", skipped).Msg("ignored daemon entries")
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i].DaemonName < ds[j].DaemonName })
		return json.Marshal(ds)
	}
	return nil, fmt.Errorf("unknown cache kind %q", k)
}

// runRefreshAgent runs `<agent> agent <args>` on the host. The agent's remote path
// is learnt from the first push and is the same on every host (it is
// content-addressed under the cluster's directory); a host that lacks it
// gets it pushed and the command is run again, as cephadm does with its
// own binary.
func (c *Controller) runRefreshAgent(ctx context.Context, rt *refreshRuntime, t sshexec.Target, fsid string, args []string, timeout time.Duration) ([]byte, error) {
	bin, pushed, err := c.refreshAgentPath(ctx, rt, t, fsid, "")
	if err != nil {
		return nil, err
	}
	argv := append([]string{bin, "agent"}, args...)
	out, err := c.remote.Run(ctx, t, argv, nil, timeout)
	var ee *sshexec.ExitError
	if !pushed && errors.As(err, &ee) && (ee.Code == 126 || ee.Code == 127) && bytes.Contains(ee.Stderr, []byte(bin)) {
		if bin, _, err = c.refreshAgentPath(ctx, rt, t, fsid, bin); err != nil {
			return nil, err
		}
		argv[0] = bin
		out, err = c.remote.Run(ctx, t, argv, nil, timeout)
	}
	return out, err
}

// refreshAgentPath returns the agent's remote path, pushing the binary to t when
// the path is not known yet or when missing (the path found absent there).
// pushed says it was pushed (or checked) on t by this call.
func (c *Controller) refreshAgentPath(ctx context.Context, rt *refreshRuntime, t sshexec.Target, fsid, missing string) (string, bool, error) {
	key := fsid + "\x00" + c.agent
	rt.mu.Lock()
	if p := rt.bins[key]; p != "" && p != missing {
		rt.mu.Unlock()
		return p, false, nil
	}
	rt.mu.Unlock()
	p, err := c.remote.PushBinary(ctx, t, fsid, c.agent)
	if err != nil {
		return "", true, fmt.Errorf("%s: push orch agent: %w", t.Name, err)
	}
	rt.mu.Lock()
	rt.bins[key] = p
	rt.mu.Unlock()
	return p, true, nil
}

// writeOutcomes commits outcomes in batches until in is closed, releasing
// each host once its outcome is committed. It returns the first store
// error; later batches are still tried.
func (c *Controller) writeOutcomes(rt *refreshRuntime, in <-chan *hostOutcome, batch int, res *passResult) error {
	var first error
	buf := make([]*hostOutcome, 0, batch)
	for o := range in {
		buf = append(buf[:0], o)
	drain:
		for len(buf) < batch {
			select {
			case o, ok := <-in:
				if !ok {
					break drain
				}
				buf = append(buf, o)
			default:
				break drain
			}
		}
		err := c.commitBatch(buf)
		for i, o := range buf {
			rt.release(o.host)
			if err == nil && !o.aborted {
				res.probed++
				if o.connErr != nil {
					res.offline++
				} else if len(o.failed) > 0 {
					res.failed++
				}
				c.logTransition(o)
			}
			buf[i] = nil // let the outcome's data go
		}
		if err != nil && first == nil {
			first = fmt.Errorf("refresh: commit %d host(s): %w", len(buf), err)
		}
	}
	return first
}

// commitBatch commits outcomes in one transaction. If the store refuses
// it for invalid data (an entry that is not JSON), each host is committed
// on its own, with its invalid entries dropped and recorded as failures,
// so that one host's garbage does not cost the others their refresh.
func (c *Controller) commitBatch(buf []*hostOutcome) error {
	err := c.st.Update(func(tx *store.Tx) error {
		for _, o := range buf {
			if err := c.commitOutcome(tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, store.ErrInvalid) {
		return err
	}
	var errs []error
	for _, o := range buf {
		kept := o.writes[:0]
		for _, w := range o.writes {
			if json.Valid(w.data) {
				kept = append(kept, w)
				continue
			}
			if o.failed == nil {
				o.failed = map[store.CacheKind]error{}
			}
			o.failed[w.kind] = fmt.Errorf("host %s `orch agent %s` printed invalid JSON", o.host, agentArgs(w.kind, "", "")[0])
		}
		o.writes = kept
		if err := c.st.Update(func(tx *store.Tx) error { return c.commitOutcome(tx, o) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// commitOutcome records one host's outcome in tx: the refreshed entries,
// the refresh flags of failed kinds, the offline mark and the failure
// record. A host removed meanwhile is skipped.
func (c *Controller) commitOutcome(tx *store.Tx, o *hostOutcome) error {
	h, err := tx.GetHost(o.host)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, w := range o.writes {
		if err := tx.UpdateHostCache(o.host, w.kind, w.data, w.at); err != nil {
			return err
		}
	}
	for k := range o.reflag {
		done := false
		for _, w := range o.writes {
			done = done || w.kind == k
		}
		if !done {
			if err := tx.SetRefreshNeeded(o.host, k, true); err != nil {
				return err
			}
		}
	}
	if o.aborted {
		return nil
	}
	switch {
	case o.connErr != nil && h.Status == "":
		h.Status = "offline"
		o.wentOffline = true
	case o.connErr == nil && h.Status == "offline":
		h.Status = ""
		o.cameBack = true
	}
	if o.wentOffline || o.cameBack {
		if err := tx.PutHost(h); err != nil {
			return err
		}
	}
	return c.recordFailures(tx, o)
}

func (c *Controller) logTransition(o *hostOutcome) {
	switch {
	case o.wentOffline:
		c.log.Warn().Str("host", o.host).Err(o.connErr).Msg("host is offline")
	case o.cameBack:
		c.log.Info().Str("host", o.host).Msg("host is back online")
	}
}

// noteReachability records the result of a synchronous remote call (light,
// rescan) on the host's offline mark, as a refresh would.
func (c *Controller) noteReachability(host string, err error) {
	if err != nil && !isConnectionError(err) {
		return
	}
	o := &hostOutcome{host: host, connErr: err}
	uerr := c.st.Update(func(tx *store.Tx) error {
		h, err := tx.GetHost(host)
		if err != nil {
			return err
		}
		switch {
		case o.connErr != nil && h.Status == "":
			h.Status, o.wentOffline = "offline", true
		case o.connErr == nil && h.Status == "offline":
			h.Status, o.cameBack = "", true
		default:
			return nil
		}
		return tx.PutHost(h)
	})
	if uerr == nil {
		c.logTransition(o)
	}
}

// targetBuilder builds SSH targets for many hosts with the cluster
// record, ssh_config and identity read once (Controller.target reads them
// per host).
type targetBuilder struct {
	user   string
	cfg    *sshexec.SSHConfig
	signer ssh.Signer
}

func (c *Controller) newTargetBuilder(cl store.Cluster) (*targetBuilder, error) {
	s, err := c.signer()
	if err != nil {
		return nil, err
	}
	tb := &targetBuilder{user: cl.SSHUser, signer: s}
	if cl.SSHConfig != "" {
		if tb.cfg, err = sshexec.ParseSSHConfig(cl.SSHConfig); err != nil {
			return nil, fmt.Errorf("stored ssh_config: %w", err)
		}
	}
	return tb, nil
}

func (b *targetBuilder) target(h store.Host) (sshexec.Target, error) {
	t := sshexec.Target{Name: h.Name, Addr: h.Addr, HostKey: h.HostKey}
	if b.cfg != nil {
		var err error
		if t, err = b.cfg.Resolve(h.Name).Apply(t); err != nil {
			return t, err
		}
	}
	if b.user != "" {
		t.User = b.user
	}
	t.Signer = b.signer
	return t, nil
}
