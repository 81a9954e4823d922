package sshexec

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
)

// Options configure a Pool. Zero values take the documented defaults.
type Options struct {
	// Logger receives connection events, with a per-host sub-logger.
	// Default: zerolog.Nop().
	Logger *zerolog.Logger
	// DefaultTimeout bounds each operation that sets no Timeout: 900 s,
	// cephadm's default_cephadm_command_timeout.
	DefaultTimeout time.Duration
	// ConnectTimeout bounds TCP connect plus the whole SSH handshake
	// (Target.ConnectTimeout overrides it). Default 10 s.
	ConnectTimeout time.Duration
	// KeepaliveInterval is how often an idle-or-busy connection is probed
	// with keepalive@openssh.com; a probe unanswered for
	// KeepaliveInterval*KeepaliveCountMax drops the connection.
	// Defaults 15 s and 3; a negative interval disables keepalives.
	KeepaliveInterval time.Duration
	KeepaliveCountMax int
	// KillAfter is the grace the remote timeout(1) gives a command between
	// SIGTERM and SIGKILL. Default 5 s.
	KillAfter time.Duration
	// MaxSessions caps concurrent sessions per connection (OpenSSH's
	// MaxSessions defaults to 10). Default 10.
	MaxSessions int
	// BackoffInitial and BackoffMax bound the wait after a failed dial
	// before the host is dialled again; calls in between fail fast with
	// the last error. Defaults 1 s and 60 s.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// CloseGrace is how long a cancelled operation's session may take to
	// close before the whole connection is dropped. Default 2 s.
	CloseGrace time.Duration
	// RemoteRoot is where PushBinary stores binaries: RemoteRoot/<fsid>/.
	// Default /var/lib/orch.
	RemoteRoot string
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		nop := zerolog.Nop()
		o.Logger = &nop
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = 900 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.KeepaliveInterval == 0 {
		o.KeepaliveInterval = 15 * time.Second
	}
	if o.KeepaliveCountMax <= 0 {
		o.KeepaliveCountMax = 3
	}
	if o.KillAfter <= 0 {
		o.KillAfter = 5 * time.Second
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 60 * time.Second
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = 2 * time.Second
	}
	if o.RemoteRoot == "" {
		o.RemoteRoot = "/var/lib/orch"
	}
	return o
}

// Pool holds one persistent SSH connection per host, dialled on first use.
// It is safe for concurrent use. Close it to release connections and wait
// for its goroutines.
type Pool struct {
	opts Options
	log  zerolog.Logger

	// wg counts the goroutines the Pool owns (connection watchers,
	// keepalives, cleanup of cancelled sessions).
	wg sync.WaitGroup

	// mu guards targets, slots and closed.
	mu      sync.Mutex
	targets map[string]Target
	// slots is keyed by host name, or by Jump.key for bastions.
	slots  map[string]*slot
	closed bool
}

// slot is the connection state of one host or bastion.
type slot struct {
	conn *conn
	// dialing is non-nil while a dial is in flight; closed when it ends.
	dialing chan struct{}
	// after a failed dial: no new dial before next; callers get lastErr.
	failures int
	next     time.Time
	lastErr  error
}

// New returns an empty Pool.
func New(opts Options) *Pool {
	opts = opts.withDefaults()
	return &Pool{
		opts:    opts,
		log:     *opts.Logger,
		targets: map[string]Target{},
		slots:   map[string]*slot{},
	}
}

// Add registers or replaces the target for t.Name. Replacing a target with
// different connection parameters drops its connection and backoff state.
func (p *Pool) Add(t Target) error {
	if err := t.validate(); err != nil {
		return err
	}
	if _, _, err := verifier(t.Name, t.hostport(), t.HostKey, t.KnownHostsFile); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	old, ok := p.targets[t.Name]
	p.targets[t.Name] = t
	if ok && !sameTarget(old, t) {
		p.resetLocked(t.Name)
	}
	return nil
}

func sameTarget(a, b Target) bool {
	ja, jb := a.ProxyJump, b.ProxyJump
	if (ja == nil) != (jb == nil) || (ja != nil && *ja != *jb) {
		return false
	}
	a.ProxyJump, b.ProxyJump = nil, nil
	return a == b
}

// Remove forgets host and closes its connection.
func (p *Pool) Remove(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.targets, host)
	p.resetLocked(host)
}

// Reset closes host's connection and clears its dial backoff, so that the
// next operation dials at once (e.g. after the operator fixed the host).
func (p *Pool) Reset(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked(host)
}

func (p *Pool) resetLocked(key string) {
	s := p.slots[key]
	if s == nil {
		return
	}
	if s.conn != nil {
		s.conn.close(errors.New("connection reset"))
	}
	if s.dialing == nil {
		delete(p.slots, key)
		return
	}
	// A dial is in flight; its result will be stored, but the backoff
	// state is cleared now.
	s.failures, s.next, s.lastErr = 0, time.Time{}, nil
}

// Hosts returns the names of the registered hosts, in no defined order.
func (p *Pool) Hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.targets))
	for n := range p.targets {
		out = append(out, n)
	}
	return out
}

// Connect makes sure host has a live connection (dialling if needed).
func (p *Pool) Connect(ctx context.Context, host string) error {
	t, err := p.target(host)
	if err != nil {
		return err
	}
	_, _, err = p.conn(ctx, t)
	return err
}

// Close closes every connection and waits for the Pool's goroutines.
// Operations in flight fail with ErrUnreachable or ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	for _, s := range p.slots {
		if s.conn != nil {
			s.conn.close(ErrClosed)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

func (p *Pool) target(host string) (Target, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Target{}, fmt.Errorf("%s: %w", host, ErrClosed)
	}
	t, ok := p.targets[host]
	if !ok {
		return Target{}, fmt.Errorf("%s: %w", host, ErrUnknownHost)
	}
	return t, nil
}

// goOwned runs f on a goroutine the Pool waits for in Close; once the Pool
// is closed it runs f synchronously (every connection is closed by then,
// so f cannot block long).
func (p *Pool) goOwned(f func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		f()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// conn returns a live connection for t, dialling it if needed. reused
// reports a connection that existed before this call (and so may have died
// unnoticed since).
func (p *Pool) conn(ctx context.Context, t Target) (c *conn, reused bool, err error) {
	return p.connKey(ctx, t.Name, func(ctx context.Context) (*ssh.Client, error) { return p.dial(ctx, t) })
}

func (p *Pool) connKey(ctx context.Context, key string, dial func(context.Context) (*ssh.Client, error)) (*conn, bool, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, fmt.Errorf("%s: %w", key, ErrClosed)
		}
		s := p.slots[key]
		if s == nil {
			s = &slot{}
			p.slots[key] = s
		}
		if s.conn != nil && !s.conn.isDead() {
			c := s.conn
			p.mu.Unlock()
			return c, true, nil
		}
		if ch := s.dialing; ch != nil {
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, false, fmt.Errorf("%s: connect: %w", key, ctx.Err())
			}
		}
		if now := time.Now(); now.Before(s.next) && s.lastErr != nil {
			err := s.lastErr
			wait := s.next.Sub(now).Round(time.Millisecond)
			p.mu.Unlock()
			return nil, false, fmt.Errorf("%w (retrying in %s)", err, wait)
		}
		ch := make(chan struct{})
		s.dialing = ch
		p.mu.Unlock()

		cl, err := dial(ctx)

		p.mu.Lock()
		s.dialing = nil
		close(ch)
		if err == nil && p.closed {
			cl.Close()
			err = fmt.Errorf("%s: %w", key, ErrClosed)
		}
		if err != nil {
			if ctx.Err() == nil || errors.Is(err, ErrUnreachable) {
				// The host failed, not the caller: back off.
				s.failures++
				d := p.opts.BackoffInitial << min(s.failures-1, 16)
				if d > p.opts.BackoffMax || d <= 0 {
					d = p.opts.BackoffMax
				}
				s.next, s.lastErr = time.Now().Add(d), err
			}
			p.mu.Unlock()
			return nil, false, err
		}
		c := p.newConn(key, cl)
		s.conn, s.failures, s.next, s.lastErr = c, 0, time.Time{}, nil
		p.mu.Unlock()
		return c, false, nil
	}
}

// dial connects and authenticates to t, through its bastion if any.
func (p *Pool) dial(ctx context.Context, t Target) (*ssh.Client, error) {
	timeout := connectTimeout(t, p.opts)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		// The operation's own deadline is the tighter bound; say so.
		timeout = max(time.Until(dl).Round(time.Millisecond), 0)
	}
	log := p.log.With().Str("host", t.Name).Str("addr", t.hostport()).Logger()
	var jc *ssh.Client
	if j := t.ProxyJump; j != nil {
		signer := j.Signer
		if signer == nil {
			signer = t.Signer
		}
		c, _, err := p.connKey(ctx, j.key(signer), func(ctx context.Context) (*ssh.Client, error) {
			dctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return dialJump(dctx, t, p.opts)
		})
		if err != nil {
			return nil, err
		}
		jc = c.client
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var authStarted atomic.Bool
	cfg, err := clientConfig(t.Name, t.hostport(), t.user(), t.Signer, t.HostKey, t.KnownHostsFile, &authStarted)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	nc, err := dialTransport(dctx, t, jc, timeout)
	if err != nil {
		log.Debug().Err(err).Msg("dial failed")
		return nil, err
	}
	cl, err := handshake(dctx, nc, t.hostport(), cfg)
	if err != nil {
		err = classify(dctx, t.Name, t.hostport(), "SSH handshake", timeout, err, authStarted.Load())
		log.Debug().Err(err).Msg("handshake failed")
		return nil, err
	}
	log.Debug().Dur("took", time.Since(start)).Msg("connected")
	return cl, nil
}

// conn is one live SSH connection.
type conn struct {
	key    string
	client *ssh.Client
	// sessions is a semaphore of MaxSessions.
	sessions chan struct{}
	// dead is closed once the connection has ended.
	dead      chan struct{}
	closeOnce sync.Once
	// why records the reason the connection was closed by us; set before
	// the close so that the connection is never handed out again.
	why atomic.Pointer[error]
}

func (c *conn) isDead() bool {
	if c.why.Load() != nil {
		return true
	}
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

func (c *conn) close(why error) {
	c.closeOnce.Do(func() {
		c.why.Store(&why)
		c.client.Close()
	})
}

// deathReason says why the connection ended, for errors.
func (c *conn) deathReason() error {
	if w := c.why.Load(); w != nil {
		return *w
	}
	return errors.New("connection closed by peer")
}

func (p *Pool) newConn(key string, cl *ssh.Client) *conn {
	c := &conn{key: key, client: cl, sessions: make(chan struct{}, p.opts.MaxSessions), dead: make(chan struct{})}
	log := p.log.With().Str("host", key).Logger()
	p.wg.Add(2) // under p.mu, checked not closed by the caller
	go func() {
		defer p.wg.Done()
		err := cl.Wait()
		close(c.dead)
		p.mu.Lock()
		if s := p.slots[key]; s != nil && s.conn == c {
			s.conn = nil
		}
		p.mu.Unlock()
		log.Debug().AnErr("reason", c.deathReason()).AnErr("wait", err).Msg("connection closed")
	}()
	go func() {
		defer p.wg.Done()
		p.keepalive(c, log)
	}()
	return c
}

// keepalive probes c with keepalive@openssh.com until it dies; a probe
// unanswered within interval*countMax closes it, so a dead or frozen peer
// is detected even while a command waits on it.
func (p *Pool) keepalive(c *conn, log zerolog.Logger) {
	iv := p.opts.KeepaliveInterval
	if iv < 0 {
		<-c.dead
		return
	}
	limit := iv * time.Duration(p.opts.KeepaliveCountMax)
	tick := time.NewTicker(iv)
	defer tick.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() { // waited for below: it ends once c is closed at the latest
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		timer := time.NewTimer(limit)
		select {
		case err := <-reply:
			timer.Stop()
			if err != nil {
				c.close(fmt.Errorf("keepalive: %w", err))
				return
			}
		case <-timer.C:
			log.Warn().Dur("after", limit).Msg("keepalive unanswered, dropping connection")
			c.close(fmt.Errorf("no keepalive reply within %s (peer dead or frozen)", limit))
			<-reply
			return
		case <-c.dead:
			timer.Stop()
			<-reply
			return
		}
	}
}

// acquire takes a session slot on c.
func (c *conn) acquire(ctx context.Context) error {
	select {
	case c.sessions <- struct{}{}:
		return nil
	case <-c.dead:
		return fmt.Errorf("connection lost: %w", c.deathReason())
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *conn) release() { <-c.sessions }

// newSession opens a session without letting a stuck peer block past ctx:
// if ctx ends first, the late session is closed by an owned goroutine.
func (p *Pool) newSession(ctx context.Context, c *conn) (*ssh.Session, error) {
	type res struct {
		s   *ssh.Session
		err error
	}
	ch := make(chan res, 1)
	p.goOwned(func() {
		s, err := c.client.NewSession()
		ch <- res{s, err}
	})
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		p.goOwned(func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		})
		return nil, ctx.Err()
	}
}
