package sshexec

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/orchceph/orch/sshexec/sshtest"
	"golang.org/x/crypto/ssh"
)

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t testing.TB, client ssh.Signer, o sshtest.Options) *sshtest.Server {
	t.Helper()
	o.AuthorizedKeys = append(o.AuthorizedKeys, client.PublicKey())
	s, err := sshtest.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func targetFor(name string, s *sshtest.Server, client ssh.Signer) Target {
	return Target{Name: name, Addr: s.Host(), Port: s.Port(), Signer: client, HostKey: s.AuthorizedHostKey()}
}

func newPool(t testing.TB, o Options) *Pool {
	t.Helper()
	p := New(o)
	t.Cleanup(func() { p.Close() })
	return p
}

func mustAdd(t testing.TB, p *Pool, tg Target) {
	t.Helper()
	if err := p.Add(tg); err != nil {
		t.Fatal(err)
	}
}

// testCtx bounds a test so that a hang fails instead of blocking.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// okHandler answers every command with "ok\n" and exit 0.
func okHandler(_ context.Context, e sshtest.Exec) int {
	_, _ = e.Stdout.Write([]byte("ok\n"))
	return 0
}
