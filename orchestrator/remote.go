package orchestrator

import (
	"context"
	"time"

	"github.com/orchceph/orch/sshexec"
)

// Remote is the subset of the SSH executor the controller uses.
type Remote interface {
	// Run runs argv on the host and returns its stdout. A non-zero exit is
	// an *sshexec.ExitError; connection failures wrap sshexec sentinels.
	Run(ctx context.Context, t sshexec.Target, argv []string, stdin []byte, timeout time.Duration) ([]byte, error)
	// ScanHostKey returns the key the host presents, unverified, for
	// trust on first use.
	ScanHostKey(ctx context.Context, t sshexec.Target) (*sshexec.HostKeyInfo, error)
	// PushBinary uploads localPath content-addressed under
	// /var/lib/orch/<fsid>/ unless it is already there, and returns the
	// remote path.
	PushBinary(ctx context.Context, t sshexec.Target, fsid, localPath string) (string, error)
	// Forget drops the host's pooled connection (after a key or address
	// change, or host removal).
	Forget(host string)
}
