package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestServerBasics(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ssh.NewSignerFromKey(priv)
	srv, err := New(Options{AuthorizedKeys: []ssh.PublicKey{key.PublicKey()}, Handler: func(_ context.Context, e Exec) int {
		e.Stdout.Write([]byte(e.User + ":" + e.Command))
		return 7
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := &ssh.ClientConfig{User: "alice", Auth: []ssh.AuthMethod{ssh.PublicKeys(key)}, HostKeyCallback: ssh.FixedHostKey(srv.HostKey())}
	c, err := ssh.Dial("tcp", srv.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil || !ok {
		t.Fatalf("keepalive reply %v %v", ok, err)
	}
	s, _ := c.NewSession()
	out, err := s.Output("do it")
	if ee, ok := err.(*ssh.ExitError); !ok || ee.ExitStatus() != 7 || string(out) != "alice:do it" {
		t.Fatalf("exec: %q %v", out, err)
	}
	s, _ = c.NewSession()
	if err := s.RequestSubsystem("sftp"); err == nil {
		t.Fatal("sftp subsystem accepted without SFTPDir")
	}
	if _, err := c.Dial("tcp", srv.Addr()); err == nil {
		t.Fatal("direct-tcpip accepted without AllowForwarding")
	}
	if srv.Connections() != 1 || srv.Active() != 1 {
		t.Fatalf("connections %d active %d", srv.Connections(), srv.Active())
	}
	srv.DropConnections()
	if err := c.Wait(); err == nil {
		t.Log("connection ended cleanly")
	}
	bad := *cfg
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ssh.NewSignerFromKey(otherPriv)
	bad.Auth = []ssh.AuthMethod{ssh.PublicKeys(other)}
	if _, err := ssh.Dial("tcp", srv.Addr(), &bad); err == nil {
		t.Fatal("unauthorized key accepted")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if srv.Active() != 0 {
		t.Fatalf("active after Close: %d", srv.Active())
	}
	if nc, err := net.Dial("tcp", srv.Addr()); err == nil {
		nc.Close()
		t.Fatal("listener still open after Close")
	}
}
