package sshexec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

const clientVersion = "SSH-2.0-orch"

func connectTimeout(t Target, o Options) time.Duration {
	if t.ConnectTimeout > 0 {
		return t.ConnectTimeout
	}
	return o.ConnectTimeout
}

// clientConfig returns the handshake configuration for user with signer,
// verifying the host key with (pinned, knownHosts). authStarted is set
// once key exchange and host key verification are done and the server
// asks for credentials, which tells an auth failure from a network one.
func clientConfig(name, hostport, user string, signer ssh.Signer, pinned, knownHosts string, authStarted *atomic.Bool) (*ssh.ClientConfig, error) {
	cb, algos, err := verifier(name, hostport, pinned, knownHosts)
	if err != nil {
		return nil, err
	}
	return &ssh.ClientConfig{
		User:              user,
		ClientVersion:     clientVersion,
		HostKeyCallback:   cb,
		HostKeyAlgorithms: algos,
		Auth: []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			authStarted.Store(true)
			return []ssh.Signer{signer}, nil
		})},
	}, nil
}

// dialTransport opens the byte stream to t: TCP, or a direct-tcpip channel
// through the bastion client jc.
func dialTransport(ctx context.Context, t Target, jc *ssh.Client, timeout time.Duration) (net.Conn, error) {
	var (
		nc  net.Conn
		err error
	)
	if jc != nil {
		nc, err = jc.DialContext(ctx, "tcp", t.hostport())
		if err != nil {
			err = fmt.Errorf("via bastion %s: %w", jc.RemoteAddr(), err)
		}
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", t.hostport())
	}
	if err != nil {
		return nil, classify(ctx, t.Name, t.hostport(), "TCP connect", timeout, err, false)
	}
	return nc, nil
}

// handshake runs the SSH handshake on nc. ctx bounds all of it: its
// deadline becomes the socket deadline and its end closes nc, so a peer
// that accepted TCP and then stopped (SIGSTOPped sshd) cannot hang us,
// even over a bastion channel, which has no deadlines.
func handshake(ctx context.Context, nc net.Conn, hostport string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl) // unsupported on bastion channels; AfterFunc covers them
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c, chans, reqs, err := ssh.NewClientConn(nc, hostport, cfg)
	if !stop() {
		// ctx ended; nc is (being) closed.
		if err == nil {
			c.Close()
		}
		return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// dialJump connects and authenticates to t's bastion.
func dialJump(ctx context.Context, t Target, o Options) (*ssh.Client, error) {
	j := t.ProxyJump
	signer := j.Signer
	if signer == nil {
		signer = t.Signer
	}
	name := "bastion " + j.hostport()
	var authStarted atomic.Bool
	cfg, err := clientConfig(name, j.hostport(), j.user(), signer, j.HostKey, j.KnownHostsFile, &authStarted)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	timeout := connectTimeout(t, o)
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", j.hostport())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, classify(ctx, name, j.hostport(), "TCP connect", timeout, err, false))
	}
	c, err := handshake(ctx, nc, j.hostport(), cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, classify(ctx, name, j.hostport(), "SSH handshake", timeout, err, authStarted.Load()))
	}
	return c, nil
}

// classify turns a connection failure into an error that names host,
// address and what failed, wrapping the matching sentinel.
func classify(ctx context.Context, name, hostport, phase string, timeout time.Duration, err error, authStarted bool) error {
	var mm *HostKeyMismatchError
	if errors.As(err, &mm) {
		return mm
	}
	if errors.Is(err, ErrHostKeyMismatch) || errors.Is(err, ErrInvalidTarget) {
		return fmt.Errorf("%s: connect %s: %w", name, hostport, err)
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, net.ErrClosed)) {
		if dl, ok := ctx.Deadline(); ok && ctx.Err() == context.DeadlineExceeded && !time.Now().Before(dl) {
			// Our connect deadline (or the caller's) fired.
			return fmt.Errorf("%s: connect %s: %s did not complete within %s (host down, firewalled or sshd hung): %w: %w",
				name, hostport, phase, timeout, ErrUnreachable, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: connect %s: %s: %w", name, hostport, phase, ctx.Err())
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: connect %s: %s did not complete within %s (host down, firewalled or sshd hung): %w: %w",
			name, hostport, phase, timeout, ErrUnreachable, err)
	}
	isNet := errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
	if authStarted && !isNet {
		return fmt.Errorf("%s: connect %s: server refused the cluster key: %w: %w", name, hostport, ErrAuth, err)
	}
	return fmt.Errorf("%s: connect %s: %s failed: %w: %w", name, hostport, phase, ErrUnreachable, err)
}
