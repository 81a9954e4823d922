//go:build integration

package orchestrator

import (
	"context"
	"errors"
	"github.com/orchceph/orch/internal/labtest"
	"github.com/rs/zerolog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/hostlab"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

type labEnv struct {
	ctl  *Controller
	st   *store.Store
	pool *sshexec.Pool
	lab  *hostlab.Lab
}

const labConnectTimeout = 3 * time.Second

// newLabEnv creates a controller with a fresh cluster key and a lab of n
// hosts that authorise it (for root and for the sudo user "orchdeploy").
func newLabEnv(t *testing.T, n int) *labEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("lab hosts need root")
	}
	agent := labtest.BuildOrch(t)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "orch.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := sshexec.Options{ConnectTimeout: labConnectTimeout, BackoffInitial: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond}
	pool := sshexec.New(opts)
	t.Cleanup(func() { pool.Close() })
	o := Options{Store: st, Remote: &PoolRemote{Pool: pool, ScanOptions: opts}, AgentBinary: agent, CheckTimeout: 30 * time.Second}
	if os.Getenv("ORCH_TEST_LOG") != "" {
		// The controller's log on stderr, for debugging a lab test.
		lg := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
		o.Logger = &lg
	}
	ctl, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.GenerateKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub, err := ctl.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	lab := hostlab.ForTest(t, n, hostlab.Options{AuthorizedKeys: []string{pub}, User: "orchdeploy"})
	return &labEnv{ctl: ctl, st: st, pool: pool, lab: lab}
}

// bootstrap runs `orch bootstrap` with req and fails the test unless it
// succeeds.
func (e *labEnv) bootstrap(t *testing.T, ctx context.Context, req api.BootstrapRequest) api.BootstrapStatus {
	t.Helper()
	st, err := e.ctl.Bootstrap(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if st, err = e.ctl.WaitBootstrap(ctx, st.Operation); err != nil || st.State != api.BootstrapSucceeded {
		t.Fatalf("bootstrap: %v, %s: %s", err, st.State, st.Error)
	}
	return st
}

// newCephLab starts n lab hosts with k loop disks of size bytes each,
// loads the Ceph image on them, adds them with their devices listed, and
// bootstraps a cluster on the first. It returns the env, the bootstrap
// status and each host's new disks.
func newCephLab(t *testing.T, ctx context.Context, n, k int, size int64) (*labEnv, api.BootstrapStatus, map[string][]hostlab.Disk) {
	t.Helper()
	img, archive := labtest.CephImage(t)
	e := newLabEnv(t, n)
	disks := map[string][]hostlab.Disk{}
	for _, h := range e.lab.Hosts() {
		d, err := e.lab.AddDisks(ctx, h.Name, k, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.lab.RefreshDiskView(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		disks[h.Name] = d
		t.Logf("%s: disks %v", h.Name, d)
	}
	if err := e.lab.LoadImage(ctx, archive); err != nil {
		t.Fatal(err)
	}
	for _, h := range e.lab.Hosts() {
		e.add(t, h)
		if err := e.ctl.RefreshHost(ctx, h.Name, store.CacheDevices); err != nil {
			t.Fatal(err)
		}
	}
	st := e.bootstrap(t, ctx, api.BootstrapRequest{MonIP: e.lab.Hosts()[0].Addr, Image: img})
	return e, st, disks
}

func (e *labEnv) add(t *testing.T, h hostlab.Host, labels ...string) api.AddHostResponse {
	t.Helper()
	r, err := e.ctl.AddHost(context.Background(), api.AddHostRequest{Host: api.Host{Hostname: h.Name, Addr: h.Addr, Labels: labels}, AddrGiven: true})
	if err != nil {
		t.Fatalf("AddHost(%s): %v", h.Name, err)
	}
	return r
}

func TestLabHostManagement(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	e := newLabEnv(t, 3)
	hosts := e.lab.Hosts()

	// Add every host: the key presented is pinned on first use and the
	// agent's check-host runs there.
	for i, h := range hosts {
		r := e.add(t, h, "lab")
		want, err := e.lab.HostKey(h.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !r.TrustedOnFirstUse || r.Fingerprint != ssh.FingerprintSHA256(want) {
			t.Errorf("host %d: AddHost = %+v, want TOFU pin of %s", i, r, ssh.FingerprintSHA256(want))
		}
	}
	ls, err := e.ctl.ListHosts()
	if err != nil || len(ls) != 3 {
		t.Fatalf("ListHosts = %v, %v", ls, err)
	}
	// The agent binary was pushed content-addressed, once.
	cl, _ := e.ctl.Cluster()
	out, err := e.lab.Exec(ctx, hosts[0].Name, "ls", "/var/lib/orch/"+cl.FSID)
	if err != nil || strings.Count(string(out), "orch.") != 1 {
		t.Errorf("pushed binaries on %s: %q, %v", hosts[0].Name, out, err)
	}
	if msg, err := e.ctl.CheckHost(ctx, hosts[0].Name); err != nil || !strings.HasSuffix(msg, " ok") {
		t.Errorf("CheckHost = %q, %v", msg, err)
	}

	t.Run("wrong hostname is refused", func(t *testing.T) {
		_, err := e.ctl.AddHost(ctx, api.AddHostRequest{Host: api.Host{Hostname: "notthename", Addr: hosts[1].Addr}, AddrGiven: true})
		if err == nil || !strings.Contains(err.Error(), "check-host failed") {
			t.Fatalf("AddHost with the wrong hostname = %v", err)
		}
	})

	t.Run("shell metacharacters execute nothing", func(t *testing.T) {
		marker := "/tmp/orch-pwned"
		for _, r := range []api.AddHostRequest{
			{Host: api.Host{Hostname: "h1;touch " + marker, Addr: hosts[0].Addr}},
			{Host: api.Host{Hostname: "$(touch " + marker + ")", Addr: hosts[0].Addr}},
			{Host: api.Host{Hostname: "h1", Addr: hosts[0].Addr + ";touch " + marker}},
			{Host: api.Host{Hostname: "h1", Addr: hosts[0].Addr, Labels: []string{"`touch " + marker + "`"}}},
		} {
			if _, err := e.ctl.AddHost(ctx, r); !errors.Is(err, spec.ErrInvalidSpec) {
				t.Errorf("AddHost(%+v) = %v, want invalid", r, err)
			}
		}
		if _, err := e.ctl.AddLabel(hosts[0].Name, "x;touch "+marker); !errors.Is(err, spec.ErrInvalidSpec) {
			t.Errorf("AddLabel with metacharacters = %v", err)
		}
		// Arguments that reach a host are passed literally, never run.
		t0, _ := e.st.GetHost(hosts[0].Name)
		tg, _ := e.ctl.target(t0)
		got, err := e.ctl.remote.Run(ctx, tg, []string{"echo", "$(touch " + marker + ")", ";", "`id`"}, nil, 10*time.Second)
		if err != nil || strings.TrimSpace(string(got)) != "$(touch "+marker+") ; `id`" {
			t.Errorf("echo of metacharacters = %q, %v", got, err)
		}
		for _, h := range hosts {
			if _, err := e.lab.Exec(ctx, h.Name, "test", "-e", marker); err == nil {
				t.Errorf("%s exists on %s", marker, h.Name)
			}
		}
	})

	t.Run("non-root user through sudo", func(t *testing.T) {
		if msg, err := e.ctl.SetUser(ctx, "orchdeploy"); err != nil || !strings.Contains(msg, "sudo will be used") {
			t.Fatalf("SetUser = %q, %v", msg, err)
		}
		if _, err := e.ctl.CheckHost(ctx, hosts[1].Name); err != nil {
			t.Fatalf("CheckHost as orchdeploy: %v", err)
		}
		t1, _ := e.st.GetHost(hosts[1].Name)
		tg, _ := e.ctl.target(t1)
		out, err := e.ctl.remote.Run(ctx, tg, []string{"id", "-un"}, nil, 10*time.Second)
		if err != nil || strings.TrimSpace(string(out)) != "root" {
			t.Errorf("id -un through sudo = %q, %v", out, err)
		}
		who, err := e.ctl.remote.Run(ctx, tg, []string{"printenv", "SUDO_USER"}, nil, 10*time.Second)
		if err != nil || strings.TrimSpace(string(who)) != "orchdeploy" {
			t.Errorf("SUDO_USER = %q, %v", who, err)
		}
		if _, err := e.ctl.SetUser(ctx, "root"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("reinstalled host is refused until its new key is accepted", func(t *testing.T) {
		h := hosts[1]
		old, _ := e.lab.HostKey(h.Name)
		newKey, err := e.lab.RegenerateHostKey(ctx, h.Name)
		if err != nil {
			t.Fatal(err)
		}
		e.pool.Reset(h.Name)
		_, err = e.ctl.CheckHost(ctx, h.Name)
		if !errors.Is(err, sshexec.ErrHostKeyMismatch) {
			t.Fatalf("CheckHost after host key change = %v, want mismatch", err)
		}
		for _, fp := range []string{ssh.FingerprintSHA256(old), ssh.FingerprintSHA256(newKey)} {
			if !strings.Contains(err.Error(), fp) {
				t.Errorf("error %q does not name %s", err, fp)
			}
		}
		if !strings.Contains(err.Error(), "set-key") {
			t.Errorf("error %q does not say how to accept the new key", err)
		}
		if _, err := e.ctl.SetHostKey(ctx, h.Name, api.HostKeyRequest{AcceptNew: true}); err != nil {
			t.Fatalf("SetHostKey --accept-new: %v", err)
		}
		if _, err := e.ctl.CheckHost(ctx, h.Name); err != nil {
			t.Fatalf("CheckHost with the new key: %v", err)
		}
	})

	// Each failure mode must give a clear error within the connect
	// timeout (plus scheduling slack), never hang the caller.
	failures := []struct {
		name        string
		break_, fix func(context.Context, string) error
	}{
		{"sshd stopped", e.lab.StopSSHD, e.lab.StartSSHD},
		{"sshd frozen", e.lab.FreezeSSHD, e.lab.ThawSSHD},
		{"link down", e.lab.LinkDown, e.lab.LinkUp},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			// Every step is bounded: a lab that does not recover must fail
			// the test, never hang the suite.
			ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			h := hosts[2].Name
			if err := f.break_(ctx, h); err != nil {
				t.Fatal(err)
			}
			e.pool.Reset(h)
			start := time.Now()
			_, err := e.ctl.CheckHost(ctx, h)
			took := time.Since(start)
			if err := f.fix(ctx, h); err != nil {
				t.Fatal(err)
			}
			if err == nil {
				t.Fatal("CheckHost succeeded on a broken host")
			}
			if !errors.Is(err, sshexec.ErrUnreachable) {
				t.Errorf("error %v does not wrap ErrUnreachable", err)
			}
			if !strings.Contains(err.Error(), h) {
				t.Errorf("error %q does not name the host", err)
			}
			if took > labConnectTimeout+2*time.Second {
				t.Errorf("failure took %v, more than the %v connect timeout", took, labConnectTimeout)
			}
			e.pool.Reset(h)
			if err := e.lab.WaitSSH(ctx, h); err != nil {
				t.Fatal(err)
			}
			if _, err := e.ctl.CheckHost(ctx, h); err != nil {
				t.Errorf("CheckHost after repair: %v", err)
			}
		})
	}

	t.Run("remove", func(t *testing.T) {
		if _, err := e.ctl.RemoveHost(ctx, hosts[2].Name, false, false); err != nil {
			t.Fatal(err)
		}
		ls, _ := e.ctl.ListHosts()
		if len(ls) != 2 {
			t.Errorf("hosts after rm: %+v", ls)
		}
	})
}
