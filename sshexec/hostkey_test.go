package sshexec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orchceph/orch/sshexec/sshtest"
	"golang.org/x/crypto/ssh"
)

func TestTOFUThenPinThenMismatch(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	tg := targetFor("n1", srv, key)
	tg.HostKey = ""

	info, err := ScanHostKey(testCtx(t), tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := ssh.FingerprintSHA256(srv.HostKey()); info.Fingerprint != want || !strings.HasPrefix(want, "SHA256:") {
		t.Fatalf("fingerprint %s, want %s", info.Fingerprint, want)
	}
	if info.AuthorizedKey != srv.AuthorizedHostKey() {
		t.Fatalf("authorized key %q, want %q", info.AuthorizedKey, srv.AuthorizedHostKey())
	}
	if srv.Active() != 0 && srv.Connections() != 1 {
		t.Fatalf("scan left %d connections", srv.Active())
	}

	p := newPool(t, Options{})
	tg.HostKey = info.AuthorizedKey // the caller pins it
	mustAdd(t, p, tg)
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}

	// The host is "reinstalled": same address, new host key.
	addr := srv.Addr()
	srv.Close()
	srv2 := startServer(t, key, sshtest.Options{Addr: addr, Handler: okHandler})
	_, err = p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{})
	var mm *HostKeyMismatchError
	if !errors.As(err, &mm) || !errors.Is(err, ErrHostKeyMismatch) {
		t.Fatalf("err = %v, want *HostKeyMismatchError", err)
	}
	if mm.Host != "n1" || mm.Addr != addr || len(mm.Expected) != 1 || mm.Expected[0] != info.Fingerprint ||
		mm.Presented != ssh.FingerprintSHA256(srv2.HostKey()) || mm.PresentedKey != srv2.AuthorizedHostKey() {
		t.Fatalf("mismatch error fields: %+v", mm)
	}
	for _, s := range []string{"n1", addr, info.Fingerprint, mm.Presented, "orch host set-key n1 --accept-new"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if srv2.Active() != 0 {
		// the refused connection must not linger; Active is 0 once the
		// server noticed, which the client's close guarantees eventually;
		// Connections proves the attempt happened.
		t.Logf("active after refusal: %d", srv2.Active())
	}
}

func TestKnownHostsFile(t *testing.T) {
	key := newSigner(t)
	srv := startServer(t, key, sshtest.Options{Handler: okHandler})
	other := startServer(t, key, sshtest.Options{Handler: okHandler})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[%s]:%d %s\n", srv.Host(), srv.Port(), srv.AuthorizedHostKey())
	// "other" listens on another port but is recorded under n2's name
	// with the wrong key.
	line += fmt.Sprintf("[n2]:%d %s\n", other.Port(), srv.AuthorizedHostKey())
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPool(t, Options{})
	tg := targetFor("n1", srv, key)
	tg.HostKey, tg.KnownHostsFile = "", kh
	mustAdd(t, p, tg)
	if _, err := p.Run(testCtx(t), "n1", []string{"true"}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	tg2 := targetFor("n2", other, key)
	tg2.HostKey, tg2.KnownHostsFile = "", kh
	mustAdd(t, p, tg2)
	_, err := p.Run(testCtx(t), "n2", []string{"true"}, RunOptions{})
	var mm *HostKeyMismatchError
	if !errors.As(err, &mm) || len(mm.Expected) != 1 || mm.Presented != ssh.FingerprintSHA256(other.HostKey()) {
		t.Fatalf("err = %v, want mismatch against the name entry", err)
	}
	// Not in the file at all.
	third := startServer(t, key, sshtest.Options{Handler: okHandler})
	tg3 := targetFor("n3", third, key)
	tg3.HostKey, tg3.KnownHostsFile = "", kh
	mustAdd(t, p, tg3)
	_, err = p.Run(testCtx(t), "n3", []string{"true"}, RunOptions{})
	if !errors.As(err, &mm) || len(mm.Expected) != 0 || !strings.Contains(err.Error(), "no key is pinned") {
		t.Fatalf("err = %v, want unknown-host verification failure", err)
	}
}

func TestProxyJump(t *testing.T) {
	key := newSigner(t)
	bastion := startServer(t, key, sshtest.Options{AllowForwarding: true})
	h1 := startServer(t, key, sshtest.Options{Handler: okHandler})
	h2 := startServer(t, key, sshtest.Options{Handler: okHandler})
	p := newPool(t, Options{})
	jump := &Jump{Addr: bastion.Host(), Port: bastion.Port(), User: "jumper", HostKey: bastion.AuthorizedHostKey()}
	for name, s := range map[string]*sshtest.Server{"h1": h1, "h2": h2} {
		tg := targetFor(name, s, key)
		tg.ProxyJump = jump
		mustAdd(t, p, tg)
	}
	for _, h := range []string{"h1", "h2", "h1"} {
		res, err := p.Run(testCtx(t), h, []string{"hostname"}, RunOptions{})
		if err != nil || string(res.Stdout) != "ok\n" {
			t.Fatalf("%s via bastion: %q %v", h, res.Stdout, err)
		}
	}
	if b, a, c := bastion.Connections(), h1.Connections(), h2.Connections(); b != 1 || a != 1 || c != 1 {
		t.Fatalf("connections bastion=%d h1=%d h2=%d, want 1 each (one shared bastion connection)", b, a, c)
	}

	// The TOFU scan also goes through the bastion.
	tg := targetFor("h1", h1, key)
	tg.HostKey, tg.ProxyJump = "", jump
	info, err := ScanHostKey(testCtx(t), tg, Options{})
	if err != nil || info.AuthorizedKey != h1.AuthorizedHostKey() {
		t.Fatalf("scan via bastion: %+v %v", info, err)
	}

	// A bastion presenting the wrong key is refused.
	bad := *jump
	bad.HostKey = h1.AuthorizedHostKey()
	tg = targetFor("h3", h2, key)
	tg.ProxyJump = &bad
	mustAdd(t, p, tg)
	_, err = p.Run(testCtx(t), "h3", []string{"true"}, RunOptions{})
	var mm *HostKeyMismatchError
	if !errors.As(err, &mm) || !strings.Contains(mm.Host, "bastion") {
		t.Fatalf("err = %v, want bastion host key mismatch", err)
	}
}

func TestParseProxyJump(t *testing.T) {
	tests := []struct {
		in         string
		user, host string
		port       int
		bad        bool
	}{
		{in: "bastion", host: "bastion", port: 22},
		{in: "ops@bastion:2222", user: "ops", host: "bastion", port: 2222},
		{in: "ssh://ops@10.0.0.1:22", user: "ops", host: "10.0.0.1", port: 22},
		{in: "[fe80::1]:2200", host: "fe80::1", port: 2200},
		{in: "ops@[::1]", user: "ops", host: "::1", port: 22},
		{in: "a,b", bad: true},
		{in: "", bad: true},
		{in: "@host", bad: true},
		{in: "host:0", bad: true},
		{in: "host:99999", bad: true},
		{in: "host:x", bad: true},
		{in: "a b", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, h, port, err := ParseProxyJump(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrInvalidTarget) {
					t.Fatalf("err = %v, want ErrInvalidTarget", err)
				}
				return
			}
			if err != nil || u != tt.user || h != tt.host || port != tt.port {
				t.Fatalf("got %q %q %d %v", u, h, port, err)
			}
		})
	}
}
