//go:build integration

package sshexec_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/hostlab"
	"github.com/orchceph/orch/sshexec"
	"golang.org/x/crypto/ssh"
)

// TestLabProxyJumpAndSudoUpload proves against real OpenSSH what the unit
// tests prove against the in-process server: a host reached through a
// one-hop bastion (both host keys verified), and an atomic upload by a
// non-root user through passwordless sudo.
func TestLabProxyJumpAndSudoUpload(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lab hosts need root")
	}
	lab := hostlab.ForTest(t, 2, hostlab.Options{User: "orchup"})
	signer, err := lab.AdminSigner()
	if err != nil {
		t.Fatal(err)
	}
	h1, h2 := lab.Hosts()[0], lab.Hosts()[1]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := sshexec.New(sshexec.Options{ConnectTimeout: 10 * time.Second})
	defer p.Close()

	// h2 through h1: the controller reaches only the bastion.
	jumped := sshexec.Target{Name: "via-" + h2.Name, Addr: h2.Addr, Port: h2.Port, Signer: signer,
		KnownHostsFile: lab.KnownHostsPath(),
		ProxyJump:      &sshexec.Jump{Addr: h1.Addr, Port: h1.Port, KnownHostsFile: lab.KnownHostsPath()}}
	if err := p.Add(jumped); err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(ctx, jumped.Name, []string{"hostname"}, sshexec.RunOptions{Timeout: 30 * time.Second})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != h2.Name {
		t.Fatalf("hostname through the bastion = %q, %v", res.Stdout, err)
	}
	// A bastion presenting an unexpected key is refused.
	bad := jumped
	bad.Name = "via-bad"
	bad.ProxyJump = &sshexec.Jump{Addr: h1.Addr, Port: h1.Port, HostKey: mustAuthorized(t, lab, h2.Name)} // h2's key, not h1's
	if err := p.Add(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, bad.Name, []string{"true"}, sshexec.RunOptions{Timeout: 30 * time.Second}); err == nil {
		t.Fatal("a bastion with the wrong host key was accepted")
	}

	// A non-root user uploads through sudo: the file is root's, atomic.
	user := sshexec.Target{Name: h1.Name, Addr: h1.Addr, Port: h1.Port, User: "orchup", Signer: signer, KnownHostsFile: lab.KnownHostsPath()}
	if err := p.Add(user); err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("orch\n"), 10000)
	dst := "/var/lib/orch/uploadtest/file"
	if err := p.Upload(ctx, h1.Name, dst, bytes.NewReader(content), sshexec.UploadOptions{Mode: 0o640}); err != nil {
		t.Fatalf("upload as orchup: %v", err)
	}
	out, err := lab.Exec(ctx, h1.Name, "stat", "-c", "%U %a %s", dst)
	if err != nil || strings.TrimSpace(string(out)) != "root 640 50000" {
		t.Errorf("uploaded file: %q, %v (want root 640 50000)", out, err)
	}
	if out, _ := lab.Exec(ctx, h1.Name, "sh", "-c", "ls -A /var/lib/orch/uploadtest /tmp | grep -c orch-upload || true"); strings.TrimSpace(string(out)) != "0" {
		t.Errorf("temporary upload files left behind: %s", out)
	}
}

func mustAuthorized(t *testing.T, lab *hostlab.Lab, host string) string {
	t.Helper()
	k, err := lab.HostKey(host)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}
