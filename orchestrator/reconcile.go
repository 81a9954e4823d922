package orchestrator

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/orchceph/orch/store"
	"github.com/rs/zerolog"
)

// Refresher keeps the per-host cache (daemons, facts, networks, devices)
// fresh and marks unreachable hosts offline; the controller's refresh
// (refresh.go) implements it. The reconciler calls it at the start of every
// pass and after changing a host's daemons.
type Refresher interface {
	// RefreshHosts refreshes what is due on every reachable host (all of
	// it when force is set). A host that cannot be reached is a result
	// recorded on that host, not an error.
	RefreshHosts(ctx context.Context, force bool) error
	// RefreshHost refreshes the given kinds of one host now.
	RefreshHost(ctx context.Context, host string, kinds ...store.CacheKind) error
}

// ReconcilerOptions configure a Reconciler. The zero value is usable.
type ReconcilerOptions struct {
	// Logger defaults to the controller's.
	Logger *zerolog.Logger
	// Interval is the sleep between passes that changed nothing, unless
	// woken; 0 means cephadm's max(30 s, the shortest refresh lifetime),
	// 60 s with the default lifetimes.
	Interval time.Duration
	// Parallelism bounds the hosts deployed to (or removed from) at once
	// within a pass (default 10, cephadm's worker pool).
	Parallelism int
	// DeployTimeout bounds one agent deploy, rm-daemon or unit command
	// (default 10 min; the agent bounds itself too).
	DeployTimeout time.Duration
	// Seed seeds the random daemon-name suffixes; 0 seeds from crypto/rand.
	Seed uint64
	// Refresher refreshes host caches; nil uses the controller when it
	// implements Refresher, else the reconciler works from the cache as is.
	Refresher Refresher
	// MaxCountPerHost is cephadm's max_count_per_host (default 10).
	MaxCountPerHost int
	// MaxOperations bounds the finished operations kept (default 1000).
	MaxOperations int
	// LivenessInterval is how often Run probes every host's sshd (default
	// 20 s; negative disables the probe). LivenessTimeout bounds one
	// probe (default 5 s: a stopped or frozen sshd or a dead link is
	// then offline within 25 s).
	LivenessInterval, LivenessTimeout time.Duration
}

// Reconciler is cephadm's serve loop: it refreshes hosts, places every
// managed spec with the scheduler, deploys and removes daemons through the
// host agent, reconfigures or redeploys daemons whose configuration
// changed, runs scheduled daemon actions and purges deleted services. It
// also serves the services API (apply, listings, lifecycle verbs): those
// calls only record intent in the store and wake the loop.
//
// Invariant: exactly one goroutine runs passes (Run); API methods are safe
// for concurrent use and never wait on SSH.
type Reconciler struct {
	*Controller
	opts      ReconcilerOptions
	refresher Refresher
	wake      chan struct{}
	lg        zerolog.Logger

	// passMu serialises passes (Run, and tests calling Pass).
	passMu sync.Mutex

	// binMu guards bins: the agent path pushed to each host.
	binMu sync.Mutex
	bins  map[string]string

	// decMu guards decoded (see hostDaemons).
	decMu   sync.Mutex
	decoded map[string]hostDecode

	// dmMu guards dm: whether each host's kernel has device-mapper.
	dmMu sync.Mutex
	dm   map[string]bool

	// mu guards pending, health and rng.
	mu      sync.Mutex
	pending map[string]pendingChange
	health  passHealth
	rng     *rand.Rand
}

// pendingChange is a deploy or removal the host's cached daemon list does
// not show yet; it is laid over every view until the host is refreshed.
type pendingChange struct {
	host    string
	removed bool
	at      time.Time
	rec     daemonRecord
}

// passHealth is what the last pass found (cephadm keeps these in memory).
type passHealth struct {
	applyFails map[string]string // service → error
	placeFails []string
	paused     bool
}

// NewReconciler wraps the controller with the reconciler. Start it with
// Run; it serves the full API (hosts and services) as a backend.
func NewReconciler(c *Controller, o ReconcilerOptions) *Reconciler {
	if o.Interval <= 0 {
		// cephadm's _serve_sleep: max(30 s, the shortest cache lifetime).
		rc := c.RefreshConfig()
		o.Interval = max(30*time.Second, min(rc.FactsLifetime, rc.DaemonsLifetime, rc.DevicesLifetime, rc.NetworksLifetime))
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 10
	}
	if o.DeployTimeout <= 0 {
		o.DeployTimeout = 10 * time.Minute
	}
	if o.MaxCountPerHost <= 0 {
		o.MaxCountPerHost = 10
	}
	if o.MaxOperations <= 0 {
		o.MaxOperations = 1000
	}
	if o.LivenessInterval == 0 {
		o.LivenessInterval = 20 * time.Second
	}
	if o.LivenessTimeout <= 0 {
		o.LivenessTimeout = 5 * time.Second
	}
	seed := o.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	r := &Reconciler{
		Controller: c,
		opts:       o,
		refresher:  o.Refresher,
		wake:       make(chan struct{}, 1),
		bins:       map[string]string{},
		decoded:    map[string]hostDecode{},
		dm:         map[string]bool{},
		pending:    map[string]pendingChange{},
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if r.refresher == nil {
		if rf, ok := any(c).(Refresher); ok {
			r.refresher = rf
		}
	}
	r.lg = c.log.With().Str("component", "reconciler").Logger()
	if o.Logger != nil {
		r.lg = *o.Logger
	}
	return r
}

// Wake asks the loop for a pass now; it never blocks.
func (r *Reconciler) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// letters draws n random lowercase letters for daemon-name suffixes.
func (r *Reconciler) letters(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.rng.IntN(26))
	}
	return string(b)
}

// maxImmediatePasses bounds back-to-back passes: a pass that "changes"
// something every time (a daemon the host never lists) must not spin.
const maxImmediatePasses = 20

// Run runs passes until ctx ends: a pass at once, again at once after a
// pass that changed something, otherwise after Interval or when woken.
// The first pass refreshes every host fully, so that work a killed
// controller left half done is seen before anything is placed. Run also
// owns the liveness probe goroutine and waits for it before returning.
func (r *Reconciler) Run(ctx context.Context) error {
	r.lg.Info().Dur("interval", r.opts.Interval).Msg("reconciler started")
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		r.runLiveness(ctx)
	}()
	defer func() { <-probeDone }()
	first, immediate := true, 0
	for {
		changed := r.pass(ctx, first)
		first = false
		if ctx.Err() != nil {
			r.lg.Info().Msg("reconciler stopped")
			return nil
		}
		if changed && immediate < maxImmediatePasses {
			immediate++
			continue
		}
		immediate = 0
		t := time.NewTimer(r.opts.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			r.lg.Info().Msg("reconciler stopped")
			return nil
		case <-r.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Pass runs one reconcile pass now and reports whether it changed
// anything. Run calls it in a loop; tests call it directly.
func (r *Reconciler) Pass(ctx context.Context) bool { return r.pass(ctx, false) }

func (r *Reconciler) pass(ctx context.Context, first bool) bool {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	start := time.Now()
	if r.refresher != nil {
		if err := r.refresher.RefreshHosts(ctx, first); err != nil && ctx.Err() == nil {
			r.lg.Warn().Err(err).Msg("refresh hosts")
		}
	}
	if ctx.Err() != nil {
		return false
	}
	v, err := r.loadView(viewOptions{ops: true, digests: true})
	if err != nil {
		r.lg.Error().Err(err).Msg("reconcile: read state")
		return false
	}
	p := newPass(ctx, r, v)
	if v.cluster.Paused {
		r.setHealth(passHealth{paused: true, applyFails: r.lastApplyFails(), placeFails: r.lastPlaceFails()})
		r.lg.Debug().Msg("paused: refreshed hosts only")
		return false
	}
	p.processOSDRemovals() // cephadm: the OSD removal queue before the specs
	p.applyAll()
	if !p.changed {
		p.checkDaemons()
		p.purgeDeleted()
		if !p.changed {
			p.forgetStaleDigests()
			p.syncClientFiles()
		}
	}
	p.finish()
	r.setHealth(passHealth{applyFails: p.applyFails, placeFails: p.placeFails})
	r.lg.Debug().Bool("changed", p.changed).Dur("took", time.Since(start)).Msg("reconcile pass")
	return p.changed
}

func (r *Reconciler) setHealth(h passHealth) {
	r.mu.Lock()
	r.health = h
	r.mu.Unlock()
}

func (r *Reconciler) lastApplyFails() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health.applyFails
}

func (r *Reconciler) lastPlaceFails() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health.placeFails
}

// requestRefresh flags the daemon lists of host (every host when empty)
// for the next pass and wakes the loop: `--refresh` never waits.
func (r *Reconciler) requestRefresh(host string) {
	err := r.st.Update(func(tx *store.Tx) error {
		hosts, err := tx.ListHosts()
		if err != nil {
			return err
		}
		for _, h := range hosts {
			if host != "" && h.Name != host {
				continue
			}
			if err := tx.SetRefreshNeeded(h.Name, store.CacheDaemons, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.lg.Warn().Err(err).Msg("flag hosts for refresh")
	}
	r.Wake()
}

// recordPending remembers a deploy or removal until a refresh shows it.
func (r *Reconciler) recordPending(name string, p pendingChange) {
	r.mu.Lock()
	r.pending[name] = p
	r.mu.Unlock()
}

// overlay lays pending changes over a fresh view: a removed daemon is
// hidden, a deployed one shown as starting, until the host's daemon list
// is newer than the change.
func (r *Reconciler) overlay(v *view) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return
	}
	for name, p := range r.pending {
		if _, ok := v.host[p.host]; !ok {
			delete(r.pending, name)
			continue
		}
		idx := -1
		for i := range v.daemons {
			if v.daemons[i].Hostname == p.host && v.daemons[i].name() == name {
				idx = i
				break
			}
		}
		// The host's list is newer than the change: it shows the change
		// (or, long after, the change is no longer news).
		if ref := v.refreshed[p.host]; ref.After(p.at) && ((p.removed == (idx < 0)) || ref.After(p.at.Add(pendingGrace))) {
			delete(r.pending, name)
			continue
		}
		switch {
		case p.removed && idx >= 0:
			v.daemons = append(v.daemons[:idx], v.daemons[idx+1:]...)
		case !p.removed && idx < 0:
			v.daemons = insertDaemon(v.daemons, p.rec)
		case !p.removed && p.rec.ConfigDigest != "":
			// A redeploy or reconfig: the daemon is listed, its new
			// configuration not yet.
			v.daemons[idx].ConfigDigest = p.rec.ConfigDigest
			v.daemons[idx].ExtraContainerArgs = p.rec.ExtraContainerArgs
			v.daemons[idx].ExtraEntrypointArgs = p.rec.ExtraEntrypointArgs
		}
	}
}

// pendingGrace is how long after a change a refresh that does not show it
// is still distrusted (it may have listed the host while the change ran).
const pendingGrace = 2 * time.Minute

// insertDaemon adds d after the last daemon of its host (daemons are
// grouped by host, hosts in name order).
func insertDaemon(ds []daemonRecord, d daemonRecord) []daemonRecord {
	at := len(ds)
	for i := range ds {
		if ds[i].Hostname > d.Hostname {
			at = i
			break
		}
	}
	ds = append(ds, daemonRecord{})
	copy(ds[at+1:], ds[at:])
	ds[at] = d
	return ds
}
