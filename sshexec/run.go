package sshexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

// RunOptions are per-call options of Run.
type RunOptions struct {
	// Stdin, when set, is copied to the command's standard input; it must
	// reach EOF (or the command must exit) for Run to finish.
	Stdin io.Reader
	// Timeout bounds this operation; zero means Options.DefaultTimeout.
	// It is enforced remotely (timeout(1) sends SIGTERM, then SIGKILL
	// KillAfter later) and locally (Run returns ErrTimeout at the latest
	// KillAfter plus CloseGrace after it, even if the host stays silent).
	Timeout time.Duration
}

// Result is the outcome of a command that ran.
type Result struct {
	Stdout []byte
	Stderr []byte
	// Code is the exit status (0 on success).
	Code     int
	Duration time.Duration
}

// Run executes argv on host and returns its output. The command is argv
// quoted once (QuoteArgv), wrapped as
//
//	[sudo -n --] timeout -k <KillAfter> <Timeout> argv...
//
// with sudo for any user but root. A non-zero exit returns the Result and
// an *ExitError; a command killed by the remote timeout also wraps
// ErrTimeout; sudo asking for a password wraps ErrSudoPassword. Connection
// failures wrap ErrUnreachable, ErrHostKeyMismatch or ErrAuth. When ctx
// ends Run returns at once with ctx's error; the remote process is sent
// SIGTERM and its channel closed (best effort: the remote timeout bounds
// it regardless).
func (p *Pool) Run(ctx context.Context, host string, argv []string, opts RunOptions) (Result, error) {
	t, err := p.target(host)
	if err != nil {
		return Result{}, err
	}
	if _, err := QuoteArgv(argv); err != nil {
		return Result{}, fmt.Errorf("%s: run %s: %w", host, quoteForMsg(argv), err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = p.opts.DefaultTimeout
	}
	line, err := QuoteArgv(p.remoteArgv(t, argv, timeout))
	if err != nil {
		return Result{}, fmt.Errorf("%s: run %s: %w", host, quoteForMsg(argv), err)
	}
	cmd := quoteForMsg(argv)
	// The local bound leaves the remote timeout(1) room to fire first and
	// report exit 124, which names the timeout precisely.
	lctx, cancel := context.WithTimeout(ctx, timeout+p.opts.KillAfter+p.opts.CloseGrace)
	defer cancel()
	deadline, _ := lctx.Deadline()
	localErr := func(err error) error {
		// The socket deadline may fire just before lctx's timer does.
		if ctx.Err() == nil && (lctx.Err() != nil || !time.Now().Before(deadline)) {
			return fmt.Errorf("%s: run %s: no result within %s: %w: %w", host, cmd, timeout, ErrTimeout, err)
		}
		return err
	}

	for attempt := 0; ; attempt++ {
		c, reused, err := p.conn(lctx, t)
		if err != nil {
			return Result{}, localErr(err)
		}
		if err := c.acquire(lctx); err != nil {
			if reused && attempt == 0 && lctx.Err() == nil {
				continue // died while idle; the watcher dropped it
			}
			return Result{}, localErr(fmt.Errorf("%s: run %s: %w: %w", host, cmd, ErrUnreachable, err))
		}
		sess, err := p.newSession(lctx, c)
		if err != nil {
			c.release()
			if lctx.Err() != nil {
				return Result{}, localErr(fmt.Errorf("%s: run %s: open session: %w", host, cmd, err))
			}
			if reused && attempt == 0 {
				// A stale connection: nothing ran, so one redial is safe.
				c.close(fmt.Errorf("open session: %w", err))
				continue
			}
			return Result{}, fmt.Errorf("%s: run %s: open session: %w: %w", host, cmd, ErrUnreachable, err)
		}
		return p.runSession(ctx, lctx, t, c, sess, cmd, line, timeout, opts)
	}
}

// remoteArgv wraps argv with the remote timeout and, for non-root users,
// passwordless sudo (outermost, so that timeout runs as root and can kill
// what it started).
func (p *Pool) remoteArgv(t Target, argv []string, timeout time.Duration) []string {
	w := make([]string, 0, len(argv)+7)
	if t.user() != "root" {
		w = append(w, "sudo", "-n", "--")
	}
	w = append(w, "timeout", "-k", seconds(p.opts.KillAfter), seconds(timeout))
	return append(w, argv...)
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

func (p *Pool) runSession(ctx, lctx context.Context, t Target, c *conn, sess *ssh.Session, cmd, line string, timeout time.Duration, opts RunOptions) (Result, error) {
	host := t.Name
	var stdout, stderr bytes.Buffer
	sess.Stdin = opts.Stdin
	sess.Stdout = &stdout
	sess.Stderr = &stderr
	start := time.Now()
	if err := sess.Start(line); err != nil {
		sess.Close()
		c.release()
		return Result{}, fmt.Errorf("%s: run %s: start: %w: %w", host, cmd, ErrUnreachable, err)
	}
	done := make(chan error, 1)
	p.goOwned(func() {
		err := sess.Wait()
		sess.Close()
		c.release()
		done <- err
	})
	var werr error
	select {
	case werr = <-done:
	case <-lctx.Done():
		// Best effort remote cancel: timeout(1) forwards SIGTERM to the
		// command; closing the channel frees it. A peer that does not
		// answer within CloseGrace loses the whole connection, which
		// guarantees the Wait goroutine above ends.
		p.goOwned(func() {
			_ = sess.Signal(ssh.SIGTERM)
			sess.Close()
			grace := time.NewTimer(p.opts.CloseGrace)
			defer grace.Stop()
			select {
			case <-done:
			case <-grace.C:
				c.close(fmt.Errorf("cancelled session did not close within %s", p.opts.CloseGrace))
				<-done
			}
		})
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("%s: run %s: %w", host, cmd, ctx.Err())
		}
		return Result{}, fmt.Errorf("%s: run %s: no exit status within %s: %w", host, cmd, timeout, ErrTimeout)
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	log := p.log.With().Str("host", host).Logger()
	if werr == nil {
		log.Debug().Str("cmd", cmd).Dur("took", res.Duration).Msg("ran")
		return res, nil
	}
	var ee *ssh.ExitError
	if !errors.As(werr, &ee) {
		if c.isDead() {
			werr = fmt.Errorf("%w: %w", c.deathReason(), werr)
		}
		return res, fmt.Errorf("%s: run %s: connection lost while running: %w: %w", host, cmd, ErrUnreachable, werr)
	}
	res.Code = ee.ExitStatus()
	xe := &ExitError{Host: host, Cmd: cmd, Code: res.Code, Stderr: res.Stderr, Signal: ee.Signal()}
	log.Debug().Str("cmd", cmd).Int("code", res.Code).Dur("took", res.Duration).Msg("ran")
	switch {
	case (res.Code == 124 || res.Code == 137) && res.Duration >= timeout:
		return res, fmt.Errorf("%s: run %s: timed out after %s (killed on the host): %w: %w", host, cmd, timeout, ErrTimeout, xe)
	case t.user() != "root" && res.Code == 1 && sudoWantsPassword(res.Stderr):
		return res, fmt.Errorf("%s: run %s: user %s needs passwordless sudo (NOPASSWD in sudoers) on the host: %w: %w",
			host, cmd, t.user(), ErrSudoPassword, xe)
	}
	return res, xe
}

// sudoWantsPassword recognises sudo -n's refusals.
func sudoWantsPassword(stderr []byte) bool {
	return bytes.HasPrefix(stderr, []byte("sudo:")) &&
		(bytes.Contains(stderr, []byte("a password is required")) || bytes.Contains(stderr, []byte("a terminal is required")))
}
