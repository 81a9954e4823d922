package orchestrator

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/sshexec/sshtest"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// fakeHost is an in-process SSH server that answers the agent's
// check-host like a real agent would for the given hostname.
type fakeHost struct {
	srv      *sshtest.Server
	hostname string
	failMsg  atomic.Value // string: when set, check-host fails with it
	commands atomic.Int64
}

func startFakeHost(t *testing.T, hostname string, authorized ssh.PublicKey, hostKey ssh.Signer, addr string) *fakeHost {
	t.Helper()
	fh := &fakeHost{hostname: hostname}
	fh.failMsg.Store("")
	srv, err := sshtest.New(sshtest.Options{
		Addr:           addr,
		HostKey:        hostKey,
		AuthorizedKeys: []ssh.PublicKey{authorized},
		SFTPDir:        t.TempDir(),
		Handler: func(ctx context.Context, e sshtest.Exec) int {
			fh.commands.Add(1)
			switch {
			case strings.Contains(e.Command, "agent check-host"):
				if !strings.Contains(e.Command, "--expect-hostname "+fh.hostname) {
					fmt.Fprintf(e.Stdout, `{"hostname":%q,"errors":["hostname %s does not match expected"]}`, fh.hostname, fh.hostname)
					return 1
				}
				if m := fh.failMsg.Load().(string); m != "" {
					fmt.Fprintf(e.Stderr, "ERROR: %s\n", m)
					return 1
				}
				fmt.Fprintf(e.Stdout, `{"hostname":%q,"errors":[]}`, fh.hostname)
				return 0
			case strings.HasSuffix(strings.TrimSpace(e.Command), "true"):
				return 0
			}
			fmt.Fprintf(e.Stderr, "unexpected command %q\n", e.Command)
			return 127
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fh.srv = srv
	t.Cleanup(func() { srv.Close() })
	return fh
}

type env struct {
	ctl   *Controller
	st    *store.Store
	pool  *sshexec.Pool
	agent string
}

func newEnv(t *testing.T, resolve map[string]string) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "orch.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	agent := filepath.Join(dir, "orch-agent")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\necho agent\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := sshexec.Options{ConnectTimeout: 3 * time.Second, RemoteRoot: filepath.Join(dir, "remote"), BackoffInitial: time.Millisecond, BackoffMax: time.Millisecond}
	pool := sshexec.New(opts)
	t.Cleanup(func() { pool.Close() })
	ctl, err := New(Options{
		Store: st, Remote: &PoolRemote{Pool: pool, ScanOptions: opts}, AgentBinary: agent, CheckTimeout: 10 * time.Second,
		Resolve: func(_ context.Context, h string) ([]netip.Addr, error) {
			if a, ok := resolve[h]; ok {
				return []netip.Addr{netip.MustParseAddr(a)}, nil
			}
			return nil, errors.New("no such host")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctl: ctl, st: st, pool: pool, agent: agent}
}

func clusterKey(t *testing.T, e *env) ssh.PublicKey {
	t.Helper()
	if _, err := e.ctl.GenerateKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub, err := e.ctl.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newHostKey(t *testing.T) ssh.Signer {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addReq(name string, fh *fakeHost) api.AddHostRequest {
	return api.AddHostRequest{Host: api.Host{Hostname: name, Addr: fh.srv.Host()}, AddrGiven: true}
}

func TestAddHostNeedsKey(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.ctl.AddHost(context.Background(), api.AddHostRequest{Host: api.Host{Hostname: "h1", Addr: "127.0.0.1"}})
	if !errors.Is(err, api.ErrNotFound) || !strings.Contains(err.Error(), "SSH keys not set") {
		t.Fatalf("AddHost without key = %v", err)
	}
	if st := e.ctl.Status(context.Background()); st.Available {
		t.Error("Status available without SSH keys")
	}
}

func TestAddHostPinsKeyAndDetectsMismatch(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	ck := clusterKey(t, e)
	hk := newHostKey(t)
	fh := startFakeHost(t, "h1", ck, hk, "")

	// sshtest listens on 127.0.0.1 with a random port: the port is part of
	// the target, so point the pool at it through a ProxyJump-free target.
	req := addReq("h1", fh)
	resp, err := e.addWithPort(ctx, req, fh)
	if err != nil {
		t.Fatalf("AddHost: %v", err)
	}
	if !resp.TrustedOnFirstUse || resp.Fingerprint != ssh.FingerprintSHA256(hk.PublicKey()) {
		t.Errorf("AddHost = %+v, want TOFU with %s", resp, ssh.FingerprintSHA256(hk.PublicKey()))
	}
	h, err := e.st.GetHost("h1")
	if err != nil || !samePublicKey(h.HostKey, string(ssh.MarshalAuthorizedKey(hk.PublicKey()))) {
		t.Fatalf("stored host %+v, %v", h, err)
	}
	if msg, err := e.ctl.CheckHost(ctx, "h1"); err != nil || !strings.HasSuffix(msg, "ok") {
		t.Fatalf("CheckHost = %q, %v", msg, err)
	}

	// The host is reinstalled: same address, new host key.
	addr := fh.srv.Addr()
	fh.srv.Close()
	hk2 := newHostKey(t)
	fh2 := startFakeHost(t, "h1", ck, hk2, addr)
	e.pool.Reset("h1")
	_, err = e.ctl.CheckHost(ctx, "h1")
	var mm *sshexec.HostKeyMismatchError
	if !errors.Is(err, sshexec.ErrHostKeyMismatch) || !errors.As(err, &mm) {
		t.Fatalf("CheckHost after reinstall = %v, want a host key mismatch", err)
	}
	for _, fp := range []string{ssh.FingerprintSHA256(hk.PublicKey()), ssh.FingerprintSHA256(hk2.PublicKey())} {
		if !strings.Contains(err.Error(), fp) {
			t.Errorf("mismatch error %q does not name %s", err, fp)
		}
	}
	if before := fh2.commands.Load(); before != 0 {
		t.Errorf("%d commands ran on a host with the wrong key", before)
	}
	// Accepting the new key pins it and the host works again.
	if _, err := e.ctl.SetHostKey(ctx, "h1", api.HostKeyRequest{AcceptNew: true}); err != nil {
		t.Fatalf("SetHostKey: %v", err)
	}
	if _, err := e.ctl.CheckHost(ctx, "h1"); err != nil {
		t.Fatalf("CheckHost after accept-new: %v", err)
	}
}

// addWithPort adds a host served on a non-22 port. Controller targets use
// port 22 unless the ssh_config says otherwise, so tests set the port via
// the per-host ssh_config Port setting.
func (e *env) addWithPort(ctx context.Context, r api.AddHostRequest, fh *fakeHost) (api.AddHostResponse, error) {
	if _, err := e.ctl.SetSSHConfig(ctx, fmt.Sprintf("Host %s\n  Port %d\n  StrictHostKeyChecking yes\n", r.Hostname, fh.srv.Port())); err != nil {
		return api.AddHostResponse{}, err
	}
	return e.ctl.AddHost(ctx, r)
}

func TestAddHostRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]string{"loopy": "127.0.0.1"})
	clusterKey(t, e)
	bad := []api.AddHostRequest{
		{Host: api.Host{Hostname: "h1;touch /tmp/pwned", Addr: "10.0.0.1"}},
		{Host: api.Host{Hostname: "$(id)", Addr: "10.0.0.1"}},
		{Host: api.Host{Hostname: "h1", Addr: "10.0.0.1;id"}},
		{Host: api.Host{Hostname: "h1", Addr: "10.0.0.1", Labels: []string{"ok", "bad label"}}},
		{Host: api.Host{Hostname: "h1", Addr: "10.0.0.1", Labels: []string{"`id`"}}},
		{Host: api.Host{Hostname: "h1", Addr: "10.0.0.1", Status: "offline"}},
		{Host: api.Host{Hostname: "loopy"}},      // resolves to loopback
		{Host: api.Host{Hostname: "nosuchhost"}}, // does not resolve
	}
	for _, r := range bad {
		t.Run(r.Hostname+"/"+r.Addr, func(t *testing.T) {
			_, err := e.ctl.AddHost(ctx, r)
			if !errors.Is(err, spec.ErrInvalidSpec) {
				t.Fatalf("AddHost(%+v) = %v, want an invalid-input error", r, err)
			}
		})
	}
	hs, _ := e.ctl.ListHosts()
	if len(hs) != 0 {
		t.Errorf("hosts stored after refused adds: %+v", hs)
	}
}

func TestCheckHostFailureIsReported(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	ck := clusterKey(t, e)
	fh := startFakeHost(t, "h2", ck, newHostKey(t), "")
	fh.failMsg.Store("No container engine binary found; try installing podman")
	_, err := e.addWithPort(ctx, addReq("h2", fh), fh)
	if err == nil || !strings.Contains(err.Error(), "podman") || !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("AddHost on a host failing its check = %v", err)
	}
	if _, err := e.st.GetHost("h2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a host failing its check was stored: %v", err)
	}
	// A host whose real hostname differs is refused too.
	fh3 := startFakeHost(t, "other", ck, newHostKey(t), "")
	if _, err := e.addWithPort(ctx, addReq("h3", fh3), fh3); err == nil {
		t.Fatal("AddHost of a host with another hostname succeeded")
	}
}

func TestRemoveHostAndLabels(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	ck := clusterKey(t, e)
	fh := startFakeHost(t, "h1", ck, newHostKey(t), "")
	r := addReq("h1", fh)
	r.Labels = []string{"_admin", "mon", "mon"}
	if _, err := e.addWithPort(ctx, r, fh); err != nil {
		t.Fatal(err)
	}
	hs, _ := e.ctl.ListHosts()
	if len(hs) != 1 || strings.Join(hs[0].Labels, ",") != "_admin,mon" {
		t.Fatalf("hosts = %+v", hs)
	}
	// A location given on re-add is kept; a bad one is refused.
	r.Location = map[string]string{"rack": "r1"}
	if _, err := e.ctl.AddHost(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Location = map[string]string{"rack": "r1;reboot"}
	if _, err := e.ctl.AddHost(ctx, r); !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("AddHost with a bad location = %v", err)
	}
	if hs, _ := e.ctl.ListHosts(); len(hs) != 1 || hs[0].Location["rack"] != "r1" {
		t.Errorf("location not kept: %+v", hs)
	}
	if _, err := e.ctl.AddLabel("h1", "rgw"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.AddLabel("h1", "a|b"); !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("AddLabel(a|b) = %v", err)
	}
	if _, err := e.ctl.AddLabel("nope", "x"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("AddLabel on unknown host = %v", err)
	}
	if _, err := e.ctl.RemoveLabel("h1", "_admin", false); err == nil {
		t.Error("removing the last _admin label without force succeeded")
	}
	if _, err := e.ctl.RemoveLabel("h1", "nolabel", false); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("RemoveLabel(nolabel) = %v", err)
	}
	if _, err := e.ctl.RemoveLabel("h1", "rgw", false); err != nil {
		t.Fatal(err)
	}
	// Daemons on the host block removal unless forced.
	if err := e.st.UpdateHostCache("h1", store.CacheDaemons, []byte(`[{"name":"mon.h1"},{"daemon_type":"crash","daemon_id":"h1"}]`), time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := e.ctl.RemoveHost(ctx, "h1", false, false)
	if err == nil || !strings.Contains(err.Error(), "crash.h1, mon.h1") {
		t.Fatalf("RemoveHost with daemons = %v", err)
	}
	if _, err := e.ctl.RemoveHost(ctx, "h1", true, false); err != nil {
		t.Fatalf("RemoveHost --force: %v", err)
	}
	if _, err := e.ctl.RemoveHost(ctx, "h1", true, false); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("second RemoveHost = %v", err)
	}
	if _, err := e.st.GetHostCache("h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("host cache survived removal: %v", err)
	}
}

func TestOfflineHostRemoval(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.st.PutHost(store.Host{Name: "gone", Addr: "10.9.9.9", Status: "offline"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.ctl.RemoveHost(ctx, "gone", true, false); err == nil {
		t.Error("removing an offline host without --offline succeeded")
	}
	if _, err := e.ctl.RemoveHost(ctx, "gone", false, true); err == nil {
		t.Error("--offline without --force succeeded")
	}
	if _, err := e.ctl.RemoveHost(ctx, "gone", true, true); err != nil {
		t.Fatalf("--offline --force: %v", err)
	}
}

func TestSSHIdentity(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	if _, err := e.ctl.PublicKey(); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("PublicKey before generate = %v", err)
	}
	clusterKey(t, e)
	if _, err := e.ctl.GenerateKey(ctx); !errors.Is(err, api.ErrExists) {
		t.Errorf("second GenerateKey = %v, want ErrExists", err)
	}
	if _, err := e.ctl.SetPrivateKey(ctx, "not a key"); !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("SetPrivateKey(garbage) = %v", err)
	}
	if _, err := e.ctl.SetUser(ctx, "bad user"); !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("SetUser(bad user) = %v", err)
	}
	if msg, err := e.ctl.SetUser(ctx, "cephadm"); err != nil || !strings.Contains(msg, "sudo will be used") {
		t.Errorf("SetUser(cephadm) = %q, %v", msg, err)
	}
	for _, cfg := range []string{"", "Host *\n  User root\n", "Host *\n  StrictHostKeyChecking ask\n", "Host *\n  StrictHostKeyChecking no\n"} {
		if _, err := e.ctl.SetSSHConfig(ctx, cfg); !errors.Is(err, spec.ErrInvalidSpec) {
			t.Errorf("SetSSHConfig(%q) = %v, want refused", cfg, err)
		}
	}
	// A new private key is tested against a known host before it is kept.
	ck, _ := e.ctl.PublicKey()
	k, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(ck))
	if _, err := e.ctl.SetUser(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	fh := startFakeHost(t, "h1", k, newHostKey(t), "")
	if _, err := e.addWithPort(ctx, addReq("h1", fh), fh); err != nil {
		t.Fatal(err)
	}
	// A new ssh_config is tested against a known host before it is kept.
	before, _ := e.ctl.SSHConfig()
	if _, err := e.ctl.SetSSHConfig(ctx, "Host *\n  Port 1\n  StrictHostKeyChecking yes\n"); err == nil {
		t.Fatal("SetSSHConfig pointing at a closed port succeeded")
	}
	if after, _ := e.ctl.SSHConfig(); after != before {
		t.Errorf("ssh_config changed after a refused SetSSHConfig: %q", after)
	}
	if _, err := e.ctl.SetSSHConfig(ctx, fmt.Sprintf("Host h1\n  Port %d\n  ConnectTimeout 5\n  StrictHostKeyChecking yes\n", fh.srv.Port())); err != nil {
		t.Fatalf("SetSSHConfig with a working config: %v", err)
	}
	if _, err := e.ctl.CheckHost(ctx, "h1"); err != nil {
		t.Fatalf("CheckHost after SetSSHConfig: %v", err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(other, "")
	if _, err := e.ctl.SetPrivateKey(ctx, string(pem.EncodeToMemory(block))); err == nil {
		t.Fatal("SetPrivateKey with a key the host does not accept succeeded")
	}
	if pub, _ := e.ctl.PublicKey(); pub != ck {
		t.Error("public key changed after a refused SetPrivateKey")
	}
	if _, err := e.ctl.ClearKey(); err != nil {
		t.Fatal(err)
	}
	if st := e.ctl.Status(ctx); st.Available || !strings.Contains(st.Reason, "SSH keys not set") {
		t.Errorf("Status after clear-key = %+v", st)
	}
}
