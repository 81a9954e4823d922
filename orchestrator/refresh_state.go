package orchestrator

import (
	"context"
	"sync"
)

// refreshRuntime is the refresh's in-memory state for one Controller: its
// options, which hosts are being refreshed, the agent's remote path, and
// the kick machinery.
type refreshRuntime struct {
	// kick wakes RunRefreshLoop (capacity 1: kicks coalesce).
	kick chan struct{}

	// mu guards the fields below.
	mu   sync.Mutex
	opts RefreshOptions
	// busy holds the hosts being refreshed; the channel is closed when
	// the refresh ends.
	busy map[string]chan struct{}
	// bins maps fsid+local agent path to the agent's remote path.
	bins map[string]string
	// loops counts running RunRefreshLoop calls.
	loops int
	// bgRunning: a background pass runs; bgAgain: kicked while it ran;
	// bgCancel cancels it; closed: CloseRefresh was called.
	bgRunning, bgAgain, closed bool
	bgCancel                   context.CancelFunc
	// bgDone is closed when the background goroutine last started ends.
	bgDone chan struct{}
	// wake, when set, replaces background passes (SetRefreshKick).
	wake func()
}

func newRefreshRuntime() *refreshRuntime {
	return &refreshRuntime{
		kick: make(chan struct{}, 1),
		opts: RefreshOptions{}.withDefaults(),
		busy: map[string]chan struct{}{},
		bins: map[string]string{},
	}
}

// rt returns the Controller's refresh state (created in New).
func (c *Controller) rt() *refreshRuntime { return c.refresh }

// tryAcquire claims host for a refresh unless one is under way.
func (rt *refreshRuntime) tryAcquire(host string) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if _, busy := rt.busy[host]; busy {
		return false
	}
	rt.busy[host] = make(chan struct{})
	return true
}

// acquire claims host, waiting for a refresh under way to end.
func (rt *refreshRuntime) acquire(ctx context.Context, host string) error {
	for {
		rt.mu.Lock()
		ch, busy := rt.busy[host]
		if !busy {
			rt.busy[host] = make(chan struct{})
			rt.mu.Unlock()
			return nil
		}
		rt.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release ends host's refresh.
func (rt *refreshRuntime) release(host string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if ch, ok := rt.busy[host]; ok {
		close(ch)
		delete(rt.busy, host)
	}
}
