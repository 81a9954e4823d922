package sshexec

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for the classes of failure callers branch on with errors.Is.
var (
	// ErrUnreachable: the host could not be reached or the connection was
	// lost (TCP connect failed, no SSH handshake within the connect timeout,
	// keepalives unanswered, connection dropped mid-command).
	ErrUnreachable = errors.New("host unreachable")
	// ErrHostKeyMismatch: the host presented a key other than the pinned
	// one (or none is known for it). See *HostKeyMismatchError.
	ErrHostKeyMismatch = errors.New("host key verification failed")
	// ErrAuth: the host refused the client's credentials.
	ErrAuth = errors.New("authentication failed")
	// ErrSudoPassword: the SSH user is not root and sudo asked for a
	// password; orch requires passwordless sudo.
	ErrSudoPassword = errors.New("sudo requires a password")
	// ErrTimeout: the operation exceeded its timeout.
	ErrTimeout = errors.New("operation timed out")
	// ErrUnknownHost: the host name was never added to the Pool.
	ErrUnknownHost = errors.New("unknown host")
	// ErrInvalidTarget: a Target, argv, path or ssh_config is unusable.
	ErrInvalidTarget = errors.New("invalid ssh target")
	// ErrClosed: the Pool was closed.
	ErrClosed = errors.New("ssh pool closed")
)

// ExitError reports a remote command that ran and exited non-zero. It keeps
// the full stderr; Error shows at most its last maxErrStderr bytes.
type ExitError struct {
	Host string
	// Cmd is the caller's argv, quoted (without the sudo/timeout wrapper).
	Cmd string
	// Code is the exit status; 128+n when the command died of signal n.
	Code   int
	Stderr []byte
	// Signal is the signal name when the remote reported one ("KILL").
	Signal string
}

const maxErrStderr = 1024

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: run %s: exit code %d", e.Host, e.Cmd, e.Code)
	if e.Signal != "" {
		fmt.Fprintf(&b, " (signal %s)", e.Signal)
	}
	if s := strings.TrimSpace(string(e.Stderr)); s != "" {
		if len(s) > maxErrStderr {
			s = "..." + s[len(s)-maxErrStderr:]
		}
		fmt.Fprintf(&b, ": stderr: %s", s)
	}
	return b.String()
}

// HostKeyMismatchError reports a host whose presented key is not the pinned
// one. errors.Is(err, ErrHostKeyMismatch) holds.
type HostKeyMismatchError struct {
	Host string
	// Addr is host:port as dialled.
	Addr string
	// Expected are the SHA256 fingerprints of the pinned keys; empty when
	// no key is known for the host (e.g. not in the known_hosts file).
	Expected []string
	// Presented is the SHA256 fingerprint of the key the host presented,
	// PresentedKey the key in authorized_keys format.
	Presented    string
	PresentedKey string
}

func (e *HostKeyMismatchError) Error() string {
	what := "expected " + strings.Join(e.Expected, " or ")
	if len(e.Expected) == 0 {
		what = "no key is pinned for this host"
	}
	return fmt.Sprintf("%s: verify host key of %s: %s, host presented %s "+
		"(if the host was reinstalled, accept its new key with: orch host set-key %s --accept-new): %v",
		e.Host, e.Addr, what, e.Presented, e.Host, ErrHostKeyMismatch)
}

// Is makes errors.Is(err, ErrHostKeyMismatch) true.
func (e *HostKeyMismatchError) Is(target error) bool { return target == ErrHostKeyMismatch }
