package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"golang.org/x/sync/errgroup"
)

// The liveness probe is cephadm's OfflineHostWatcher made general: every
// LivenessInterval it opens a fresh SSH connection to every host that is
// not in maintenance, up to the key exchange (no login, no command), so a
// stopped or frozen sshd or a dead link is noticed within about one
// interval plus the probe timeout, while the refresh's own cadence is
// minutes. Pooled connections are not used on purpose: an established
// session outlives a stopped listener. A host that fails is marked offline
// (as a refresh would); an offline host that answers is marked online and
// its daemons re-listed. Either change wakes the reconciler.

// livenessParallel bounds the hosts probed at once.
const livenessParallel = 50

// runLiveness probes hosts until ctx ends. Run starts it and waits for it.
func (r *Reconciler) runLiveness(ctx context.Context) {
	if r.opts.LivenessInterval < 0 {
		return
	}
	t := time.NewTicker(r.opts.LivenessInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.probeLiveness(ctx) {
			r.Wake()
		}
	}
}

// probeLiveness probes every host once and reports whether a host went
// offline or came back.
func (r *Reconciler) probeLiveness(ctx context.Context) bool {
	hosts, err := r.st.ListHosts()
	if err != nil {
		r.lg.Warn().Err(err).Msg("liveness: list hosts")
		return false
	}
	type result struct {
		host    store.Host
		err     error
		skipped bool
	}
	results := make([]result, len(hosts))
	var g errgroup.Group
	g.SetLimit(livenessParallel)
	for i, h := range hosts {
		results[i].host = h
		if strings.EqualFold(h.Status, scheduler.StatusMaintenance) {
			results[i].skipped = true
			continue
		}
		g.Go(func() error {
			t, err := r.target(h)
			if t.Name == "" {
				results[i].skipped = true
				return nil
			}
			_ = err // no identity is fine: the probe does not log in
			pctx, cancel := context.WithTimeout(ctx, r.opts.LivenessTimeout)
			defer cancel()
			_, err = r.remote.ScanHostKey(pctx, t)
			if ctx.Err() != nil {
				results[i].skipped = true
				return nil
			}
			results[i].err = err
			return nil
		})
	}
	_ = g.Wait()
	changed := false
	for _, res := range results {
		if res.skipped {
			continue
		}
		offline := strings.EqualFold(res.host.Status, scheduler.StatusOffline)
		switch {
		case res.err != nil && !offline:
			err := res.err
			if !isConnectionError(err) {
				err = fmt.Errorf("liveness probe: %w: %w", sshexec.ErrUnreachable, err)
			}
			r.noteReachability(res.host.Name, err)
			// A pooled session can outlive a stopped listener: drop it, so
			// that the refresh does not undo the mark over it.
			r.remote.Forget(res.host.Name)
			r.forgetAgentPath(res.host.Name)
			changed = true
		case res.err == nil && offline:
			r.noteReachability(res.host.Name, nil)
			if err := r.st.SetRefreshNeeded(res.host.Name, store.CacheDaemons, true); err != nil && !errors.Is(err, store.ErrNotFound) {
				r.lg.Warn().Err(err).Str("host", res.host.Name).Msg("flag host for refresh")
			}
			changed = true
		}
	}
	return changed
}
