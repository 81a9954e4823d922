// Package sshtest is an in-process SSH server for tests of sshexec and its
// callers: loopback only (127.0.0.1:0), an ed25519 host key, public key
// authentication, exec requests answered by a pluggable Handler, an "sftp"
// subsystem backed by a real directory, keepalive replies, direct-tcpip
// forwarding (so it can act as a ProxyJump bastion), and fault injection:
// Freeze stops all I/O as a SIGSTOPped sshd would, DropConnections cuts
// every connection.
//
// Invariant: Close is blocking; when it returns every goroutine the Server
// started has ended (handlers must honour their context).
package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Exec is one exec request.
type Exec struct {
	// User is the authenticated user name.
	User string
	// Command is the command string exactly as the client sent it.
	Command string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
}

// Handler runs an exec request and returns its exit status. ctx ends when
// the client closes the channel, sends a signal, or the Server closes; a
// Handler must return soon after.
type Handler func(ctx context.Context, e Exec) int

// Options configure a Server.
type Options struct {
	// Addr to listen on; default "127.0.0.1:0". Reuse a closed Server's
	// Addr (and HostKey) to simulate a restart.
	Addr string
	// HostKey defaults to a fresh ed25519 key.
	HostKey ssh.Signer
	// AuthorizedKeys may log in as any user; publickey is the only method.
	AuthorizedKeys []ssh.PublicKey
	// Handler answers exec requests; nil refuses them.
	Handler Handler
	// SFTPDir, when set, enables the "sftp" subsystem with this working
	// directory (relative paths resolve under it; absolute ones are the
	// real filesystem).
	SFTPDir string
	// AllowForwarding accepts direct-tcpip channels (ProxyJump).
	AllowForwarding bool
}

// Server is a running in-process SSH server.
type Server struct {
	opts   Options
	ln     net.Listener
	cfg    *ssh.ServerConfig
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	total  atomic.Int64

	// mu guards conns, frozen, thaw and closed.
	mu     sync.Mutex
	conns  map[*gatedConn]struct{}
	frozen bool
	thaw   chan struct{} // closed by Thaw
	closed bool
}

// New starts a Server.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.HostKey == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("sshtest: generate host key: %w", err)
		}
		if opts.HostKey, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("sshtest: host key: %w", err)
		}
	}
	authorized := map[string]bool{}
	for _, k := range opts.AuthorizedKeys {
		authorized[string(k.Marshal())] = true
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if authorized[string(k.Marshal())] {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("sshtest: key not authorized")
		},
		ServerVersion: "SSH-2.0-sshtest",
	}
	cfg.AddHostKey(opts.HostKey)
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("sshtest: listen %s: %w", opts.Addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: opts, ln: ln, cfg: cfg, ctx: ctx, cancel: cancel, conns: map[*gatedConn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the listening host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the listening IP.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr()); return h }

// Port is the listening port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(p)
	return n
}

// HostSigner is the host key pair (pass it to a new Server to restart).
func (s *Server) HostSigner() ssh.Signer { return s.opts.HostKey }

// HostKey is the public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.opts.HostKey.PublicKey() }

// AuthorizedHostKey is the public host key in authorized_keys format.
func (s *Server) AuthorizedHostKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey())))
}

// Connections counts the TCP connections accepted so far.
func (s *Server) Connections() int { return int(s.total.Load()) }

// Active counts the connections currently open.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Freeze stops every read and write on current and new connections, as a
// SIGSTOPped sshd would: TCP still connects, nothing is answered.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.frozen = true
		s.thaw = make(chan struct{})
	}
}

// Thaw resumes I/O after Freeze.
func (s *Server) Thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.frozen = false
		close(s.thaw)
	}
}

// DropConnections closes every open connection (the listener stays).
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops the listener, closes every connection and waits for all the
// Server's goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	s.cancel()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// gate blocks while the server is frozen; it returns an error once the
// connection is closed.
func (s *Server) gate(done <-chan struct{}) error {
	s.mu.Lock()
	if !s.frozen {
		s.mu.Unlock()
		return nil
	}
	thaw := s.thaw
	s.mu.Unlock()
	select {
	case <-thaw:
		return nil
	case <-done:
		return net.ErrClosed
	}
}

type gatedConn struct {
	net.Conn
	s    *Server
	once sync.Once
	done chan struct{}
}

func (c *gatedConn) Read(b []byte) (int, error) {
	if err := c.s.gate(c.done); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *gatedConn) Write(b []byte) (int, error) {
	if err := c.s.gate(c.done); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *gatedConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.total.Add(1)
		gc := &gatedConn{Conn: nc, s: s, done: make(chan struct{})}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[gc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(gc)
			gc.Close()
			s.mu.Lock()
			delete(s.conns, gc)
			s.mu.Unlock()
		}()
	}
}

func (s *Server) serveConn(gc *gatedConn) {
	sc, chans, reqs, err := ssh.NewServerConn(gc, s.cfg)
	if err != nil {
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer sc.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range reqs {
			switch {
			case r.Type == "keepalive@openssh.com":
				_ = r.Reply(true, nil)
			case r.WantReply:
				_ = r.Reply(false, nil)
			}
		}
	}()
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			ch, creqs, err := nch.Accept()
			if err != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serveSession(ctx, sc.User(), ch, creqs)
			}()
		case "direct-tcpip":
			if !s.opts.AllowForwarding {
				_ = nch.Reject(ssh.Prohibited, "forwarding disabled")
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.forward(ctx, nch)
			}()
		default:
			_ = nch.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
}

func (s *Server) serveSession(ctx context.Context, user string, ch ssh.Channel, reqs <-chan *ssh.Request) {
	// Unblock everything when the connection or server ends.
	stop := context.AfterFunc(ctx, func() { ch.Close() })
	defer stop()
	// The handler's context also ends on a signal or channel close.
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	started := false
	for r := range reqs {
		switch r.Type {
		case "exec":
			var p struct{ Command string }
			if started || s.opts.Handler == nil || ssh.Unmarshal(r.Payload, &p) != nil {
				_ = r.Reply(false, nil)
				continue
			}
			started = true
			_ = r.Reply(true, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := s.opts.Handler(ctx, Exec{User: user, Command: p.Command, Stdin: ch, Stdout: ch, Stderr: ch.Stderr()})
				_ = ch.CloseWrite()
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
				_ = ch.Close()
			}()
		case "subsystem":
			var p struct{ Name string }
			if started || s.opts.SFTPDir == "" || ssh.Unmarshal(r.Payload, &p) != nil || p.Name != "sftp" {
				_ = r.Reply(false, nil)
				continue
			}
			started = true
			_ = r.Reply(true, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer ch.Close()
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.opts.SFTPDir))
				if err != nil {
					return
				}
				_ = srv.Serve()
				_ = srv.Close()
			}()
		case "signal":
			cancel()
			if r.WantReply {
				_ = r.Reply(true, nil)
			}
		case "env":
			_ = r.Reply(true, nil)
		default:
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}
	// The client closed the channel.
	cancel()
}

func (s *Server) forward(ctx context.Context, nch ssh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &p); err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, "bad payload")
		return
	}
	var d net.Dialer
	tc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		tc.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); ssh.DiscardRequests(reqs) }()
	stop := context.AfterFunc(ctx, func() { tc.Close(); ch.Close() })
	defer stop()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(tc, ch)
		tc.Close()
		ch.Close()
	}()
	go func() {
		defer wg.Done()
		_, _ = io.Copy(ch, tc)
		tc.Close()
		ch.Close()
	}()
	wg.Wait()
}
