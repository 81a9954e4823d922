package orchestrator

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/orchceph/orch/sshexec"
)

// PoolRemote adapts an *sshexec.Pool to Remote.
type PoolRemote struct {
	Pool *sshexec.Pool
	// ScanOptions are used for host-key scans (connect timeout).
	ScanOptions sshexec.Options

	// mu guards bins.
	mu   sync.Mutex
	bins map[string]*sshexec.Binary
}

var _ Remote = (*PoolRemote)(nil)

// Run registers t (replacing a changed target drops its connection) and
// runs argv on it.
func (r *PoolRemote) Run(ctx context.Context, t sshexec.Target, argv []string, stdin []byte, timeout time.Duration) ([]byte, error) {
	if err := r.Pool.Add(t); err != nil {
		return nil, err
	}
	opts := sshexec.RunOptions{Timeout: timeout}
	if stdin != nil {
		opts.Stdin = bytes.NewReader(stdin)
	}
	res, err := r.Pool.Run(ctx, t.Name, argv, opts)
	return res.Stdout, err
}

// ScanHostKey returns the key the host presents.
func (r *PoolRemote) ScanHostKey(ctx context.Context, t sshexec.Target) (*sshexec.HostKeyInfo, error) {
	return sshexec.ScanHostKey(ctx, t, r.ScanOptions)
}

// PushBinary pushes localPath content-addressed (hashing it once).
func (r *PoolRemote) PushBinary(ctx context.Context, t sshexec.Target, fsid, localPath string) (string, error) {
	if err := r.Pool.Add(t); err != nil {
		return "", err
	}
	r.mu.Lock()
	bin, ok := r.bins[localPath]
	r.mu.Unlock()
	if !ok {
		b, err := sshexec.OpenBinary(localPath)
		if err != nil {
			return "", err
		}
		r.mu.Lock()
		if r.bins == nil {
			r.bins = map[string]*sshexec.Binary{}
		}
		r.bins[localPath] = b
		bin = b
		r.mu.Unlock()
	}
	return r.Pool.PushBinary(ctx, t.Name, fsid, bin)
}

// Forget drops the host's connection and target.
func (r *PoolRemote) Forget(host string) { r.Pool.Remove(host) }
