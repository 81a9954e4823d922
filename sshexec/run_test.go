package sshexec

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchceph/orch/sshexec/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestRunArgvQuotingEndToEnd(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: sshtest.ShellHandler(t.TempDir())})
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	args := []string{"", "a b", "it's", `"q"`, "$(touch /tmp/orch-pwned)", "`id`", "; rm -rf /", "*", "~", "a\nb", "x=y", "--", "-n"}
	argv := append([]string{"printf", `%s\0`}, args...)
	res, err := p.Run(testCtx(t), "n1", argv, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(string(res.Stdout), "\x00")
	got = got[:len(got)-1]
	if strings.Join(got, "|") != strings.Join(args, "|") || len(got) != len(args) {
		t.Fatalf("remote argv:\n got %q\nwant %q", got, args)
	}
	if res.Code != 0 {
		t.Fatalf("code = %d", res.Code)
	}
}

func TestRunExitCodeAndFullStderr(t *testing.T) {
	key := newSigner(t)
	big := bytes.Repeat([]byte("e"), 200_000)
	srv := startServer(t, key, sshtest.Options{Handler: func(_ context.Context, e sshtest.Exec) int {
		e.Stdout.Write([]byte("partial"))
		e.Stderr.Write(big)
		return 3
	}})
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	res, err := p.Run(testCtx(t), "n1", []string{"false", "x y"}, RunOptions{})
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Fatalf("err = %v, want *ExitError", err)
	}
	if xe.Host != "n1" || xe.Code != 3 || xe.Cmd != "false 'x y'" || !bytes.Equal(xe.Stderr, big) {
		t.Fatalf("ExitError{Host:%q Cmd:%q Code:%d len(Stderr):%d}", xe.Host, xe.Cmd, xe.Code, len(xe.Stderr))
	}
	if res.Code != 3 || string(res.Stdout) != "partial" {
		t.Fatalf("result = %d %q", res.Code, res.Stdout)
	}
	if len(err.Error()) > 2*maxErrStderr {
		t.Fatalf("error message not truncated: %d bytes", len(err.Error()))
	}
	if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrTimeout) {
		t.Fatalf("exit error misclassified: %v", err)
	}
}

func TestRunStdin(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: sshtest.ShellHandler(t.TempDir())})
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	in := strings.Repeat("secret keyring line\n", 5000)
	res, err := p.Run(testCtx(t), "n1", []string{"cat"}, RunOptions{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != in {
		t.Fatalf("stdout has %d bytes, want %d", len(res.Stdout), len(in))
	}
}

func TestRunRemoteTimeout(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: sshtest.ShellHandler(t.TempDir())})
	p := newPool(t, Options{KillAfter: time.Second})
	mustAdd(t, p, targetFor("n1", srv, key))
	start := time.Now()
	_, err := p.Run(testCtx(t), "n1", []string{"sleep", "20"}, RunOptions{Timeout: 300 * time.Millisecond})
	var xe *ExitError
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &xe) || xe.Code != 124 {
		t.Fatalf("err = %v, want ErrTimeout wrapping exit 124", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
	// The connection survives a timed-out command.
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("connections = %d, want 1", n)
	}
}

func TestRunLocalTimeoutWhenRemoteIgnoresIt(t *testing.T) {
	key := newSigner(t)
	// A host without a working timeout(1): the command never ends by itself.
	srv := startServer(t, key, sshtest.Options{Handler: func(ctx context.Context, e sshtest.Exec) int {
		<-ctx.Done()
		return 143
	}})
	p := newPool(t, Options{KillAfter: 100 * time.Millisecond, CloseGrace: 100 * time.Millisecond})
	mustAdd(t, p, targetFor("n1", srv, key))
	if err := p.Connect(testCtx(t), "n1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := p.Run(testCtx(t), "n1", []string{"hang"}, RunOptions{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %s", d)
	}
}

func TestRunCancel(t *testing.T) {
	key := newSigner(t)
	started := make(chan struct{})
	remoteCancelled := make(chan struct{})
	srv := startServer(t, key, sshtest.Options{Handler: func(ctx context.Context, e sshtest.Exec) int {
		close(started)
		<-ctx.Done()
		close(remoteCancelled)
		return 143
	}})
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		<-started
		cancel()
	}()
	start := time.Now()
	_, err := p.Run(ctx, "n1", []string{"sleep", "100"}, RunOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %s", d)
	}
	select {
	case <-remoteCancelled: // the signal / channel close reached the host
	case <-testCtx(t).Done():
		t.Fatal("remote command never saw the cancellation")
	}
}

func TestRunSudoPrefix(t *testing.T) {
	key := newSigner(t)
	var mu sync.Mutex
	var cmds, users []string
	srv := startServer(t, key, sshtest.Options{Handler: func(_ context.Context, e sshtest.Exec) int {
		mu.Lock()
		cmds, users = append(cmds, e.Command), append(users, e.User)
		mu.Unlock()
		if strings.Contains(e.Command, "needpw") {
			e.Stderr.Write([]byte("sudo: a password is required\n"))
			return 1
		}
		return 0
	}})
	p := newPool(t, Options{})
	tg := targetFor("n1", srv, key)
	tg.User = "ceph"
	mustAdd(t, p, tg)
	root := targetFor("n2", srv, key)
	mustAdd(t, p, root)
	if _, err := p.Run(testCtx(t), "n1", []string{"ls", "/var/lib/ceph dir"}, RunOptions{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(testCtx(t), "n2", []string{"ls"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := p.Run(testCtx(t), "n1", []string{"needpw"}, RunOptions{})
	var xe *ExitError
	if !errors.Is(err, ErrSudoPassword) || !errors.As(err, &xe) || !strings.Contains(err.Error(), "passwordless sudo") {
		t.Fatalf("err = %v, want ErrSudoPassword with ExitError", err)
	}
	want := []string{
		"sudo -n -- timeout -k 5 60 ls '/var/lib/ceph dir'",
		"timeout -k 5 900 ls",
		"sudo -n -- timeout -k 5 900 needpw",
	}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(cmds, "\n"), strings.Join(want, "\n"))
	}
	if users[0] != "ceph" || users[1] != "root" {
		t.Fatalf("users = %q", users)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	addr, hk := srv.Addr(), srv.HostSigner()
	srv.Close()
	srv2 := startServer(t, key, sshtest.Options{Addr: addr, HostKey: hk, Handler: okHandler})
	res, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{})
	if err != nil || string(res.Stdout) != "ok\n" {
		t.Fatalf("after restart: %q, %v", res.Stdout, err)
	}
	if n := srv2.Connections(); n != 1 {
		t.Fatalf("restarted server saw %d connections, want 1", n)
	}
	// Dropped connections are redialled too.
	srv2.DropConnections()
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := srv2.Connections(); n != 2 {
		t.Fatalf("connections = %d, want 2", n)
	}
}

func TestKeepaliveDetectsFrozenPeer(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	p := newPool(t, Options{KeepaliveInterval: 50 * time.Millisecond, KeepaliveCountMax: 2, ConnectTimeout: 300 * time.Millisecond})
	mustAdd(t, p, targetFor("n1", srv, key))
	if err := p.Connect(testCtx(t), "n1"); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	start := time.Now()
	// The op timeout is long: only keepalives (and the connect timeout
	// of the redial) can end this call early.
	_, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{Timeout: 10 * time.Minute})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dead peer detected after %s", d)
	}
}

func TestHungHandshakeTimesOut(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	srv.Freeze() // TCP accepts, sshd never speaks: a SIGSTOPped sshd
	p := newPool(t, Options{})
	tg := targetFor("n1", srv, key)
	tg.ConnectTimeout = 200 * time.Millisecond
	mustAdd(t, p, tg)
	start := time.Now()
	_, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "within 200ms") {
		t.Fatalf("err = %v, want ErrUnreachable naming the connect timeout", err)
	}
	if !strings.Contains(err.Error(), srv.Addr()) || !strings.Contains(err.Error(), "n1") {
		t.Fatalf("error does not name host and address: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s with a 200ms connect timeout", d)
	}
}

func TestUnreachableAndBackoff(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	srv.Freeze()
	p := newPool(t, Options{BackoffInitial: time.Hour})
	tg := targetFor("n1", srv, key)
	tg.ConnectTimeout = 100 * time.Millisecond
	mustAdd(t, p, tg)
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v", err)
	}
	// Within the backoff the last error is returned without dialling.
	_, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "retrying in") {
		t.Fatalf("err = %v, want the cached ErrUnreachable", err)
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("connections = %d, want 1 (backoff)", n)
	}
	srv.Thaw()
	p.Reset("n1")
	tg.ConnectTimeout = 0 // the default, for a loaded test machine
	mustAdd(t, p, tg)
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatalf("after Reset: %v", err)
	}

	// A closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr)
	ln.Close()
	gone := targetFor("gone", srv, key)
	gone.Port = dead.Port
	mustAdd(t, p, gone)
	_, err = p.Run(testCtx(t), "gone", []string{"true"}, RunOptions{})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), dead.String()) {
		t.Fatalf("err = %v, want ErrUnreachable naming %s", err, dead)
	}
	if _, err := p.Run(testCtx(t), "nope", []string{"true"}, RunOptions{}); !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("err = %v, want ErrUnknownHost", err)
	}
}

func TestAuthFailure(t *testing.T) {
	key, other := newSigner(t), newSigner(t)
	srv := startServer(t, other, sshtest.Options{Handler: okHandler}) // only "other" is authorized
	p := newPool(t, Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	_, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{})
	if !errors.Is(err, ErrAuth) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrAuth only", err)
	}
	if !strings.Contains(err.Error(), "n1") || !strings.Contains(err.Error(), srv.Addr()) {
		t.Fatalf("error does not name host and address: %v", err)
	}
}

func TestConcurrentRunsShareOneConnection(t *testing.T) {
	key := newSigner(t)
	var inflight, peak atomic.Int32
	srv := startServer(t, key, sshtest.Options{Handler: func(ctx context.Context, e sshtest.Exec) int {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		e.Stdout.Write([]byte(e.Command))
		return 0
	}})
	p := newPool(t, Options{MaxSessions: 3})
	mustAdd(t, p, targetFor("n1", srv, key))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			res, err := p.Run(testCtx(t), "n1", []string{"echo", string(rune('a' + i%26))}, RunOptions{})
			if err == nil && !strings.HasSuffix(string(res.Stdout), "echo "+string(rune('a'+i%26))) {
				err = errors.New("wrong output " + string(res.Stdout))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("connections = %d, want 1", n)
	}
	if pk := peak.Load(); pk > 3 {
		t.Fatalf("peak concurrent sessions %d > MaxSessions 3", pk)
	}
}

func TestPoolClose(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	p := New(Options{})
	mustAdd(t, p, targetFor("n1", srv, key))
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func TestAddValidates(t *testing.T) {
	key := newSigner(t)
	hk := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey())))
	tests := []struct {
		name string
		tg   Target
	}{
		{"no name", Target{Signer: key, HostKey: hk}},
		{"no signer", Target{Name: "a", HostKey: hk}},
		{"no host key", Target{Name: "a", Signer: key}},
		{"bad host key", Target{Name: "a", Signer: key, HostKey: "ssh-ed25519 !!!"}},
		{"bad user", Target{Name: "a", Signer: key, HostKey: hk, User: "x;reboot"}},
		{"bad port", Target{Name: "a", Signer: key, HostKey: hk, Port: 70000}},
		{"jump without key", Target{Name: "a", Signer: key, HostKey: hk, ProxyJump: &Jump{Addr: "b"}}},
	}
	p := newPool(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := p.Add(tt.tg); !errors.Is(err, ErrInvalidTarget) {
				t.Fatalf("Add error = %v, want ErrInvalidTarget", err)
			}
		})
	}
}
