package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/rs/zerolog"
)

// fakeBootstrap is a BootstrapBackend that plays a scripted attempt: each
// GET returns the next status of the script (the last one repeats).
type fakeBootstrap struct {
	// mu guards the fields below.
	mu       sync.Mutex
	req      *api.BootstrapRequest
	startErr error
	script   []api.BootstrapStatus
	gets     int
}

var _ api.BootstrapBackend = (*fakeBootstrap)(nil)

func (f *fakeBootstrap) Bootstrap(_ context.Context, r api.BootstrapRequest) (api.BootstrapStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.req = &r
	if f.startErr != nil {
		return api.BootstrapStatus{}, f.startErr
	}
	return api.BootstrapStatus{Operation: 7, State: api.BootstrapRunning, FSID: "f5", MonIP: r.MonIP, Image: "img:1"}, nil
}

func (f *fakeBootstrap) BootstrapStatus(op uint64) (api.BootstrapStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.script) == 0 {
		return api.BootstrapStatus{}, fmt.Errorf("no bootstrap has run on this controller: %w", api.ErrNotFound)
	}
	st := f.script[min(f.gets, len(f.script)-1)]
	f.gets++
	st.Operation = 7
	return st, nil
}

// fakeBootstrapApply also serves POST /apply (the only services route the
// bootstrap command calls; the embedded nil ServiceBackend is never used).
type fakeBootstrapApply struct {
	*fakeBootstrap
	api.ServiceBackend
	applied []map[string]any
}

func (f *fakeBootstrapApply) Apply(_ context.Context, r api.ApplyRequest) (api.ApplyResult, error) {
	f.applied = r.Specs
	return api.ApplyResult{Results: []string{"Added host 'h2'", "Scheduled crash update..."}}, nil
}

// seen returns the last request and the number of status polls.
func (f *fakeBootstrap) seen() (*api.BootstrapRequest, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.req, f.gets
}

func startBootstrapAPI(t *testing.T, b api.BootstrapBackend) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "orch.sock")
	srv := api.NewServer(api.NewHandler(b), zerolog.Nop())
	if err := srv.ListenUnix(sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sock
}

func bootStep(name, state, detail string, secs float64) api.BootstrapStep {
	return api.BootstrapStep{Name: name, State: state, Detail: detail, Seconds: secs}
}

func TestBootstrapCommand(t *testing.T) {
	running := api.BootstrapStatus{State: api.BootstrapRunning, Steps: []api.BootstrapStep{
		bootStep("Adding the host", "done", "h1 (10.0.0.5)", 0.5), bootStep("Checking the image", "running", "", 0)}}
	done := api.BootstrapStatus{State: api.BootstrapSucceeded, Seconds: 9.5, Steps: []api.BootstrapStep{
		bootStep("Adding the host", "done", "h1 (10.0.0.5)", 0.5), bootStep("Checking the image", "done", "ceph 16.2.15", 1)},
		NextSteps: []string{"Bootstrap complete.", "Cluster fsid: f5"}}

	t.Run("success", func(t *testing.T) {
		b := &fakeBootstrap{script: []api.BootstrapStatus{running, running, done}}
		sock := startBootstrapAPI(t, b)
		priv := writeFile(t, "id", "-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n")
		pub := writeFile(t, "id.pub", "ssh-ed25519 AAAA test\n")
		conf := writeFile(t, "c.conf", "[global]\nmon_data_avail_warn = 1\n")
		code, out, errOut := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--host", "h1", "--image", "img:1",
			"--ssh-private-key", priv, "--ssh-public-key", pub, "--config", conf, "--single-host-defaults", "--skip-monitoring-stack")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		want := "Bootstrapping fsid f5 on 10.0.0.5 with img:1 (operation 7)\n" +
			"[   0.5s] Adding the host: h1 (10.0.0.5)\n" +
			"[   1.5s] Checking the image: ceph 16.2.15\n" +
			"Bootstrap took 9.5s\nBootstrap complete.\nCluster fsid: f5\n"
		if out != want {
			t.Errorf("output:\n%s\nwant:\n%s", out, want)
		}
		r, _ := b.seen()
		if r.MonIP != "10.0.0.5" || r.Host != "h1" || r.Image != "img:1" || !strings.Contains(r.SSHPrivateKey, "PRIVATE KEY") ||
			r.SSHPublicKey != "ssh-ed25519 AAAA test" || !strings.Contains(r.Config, "mon_data_avail_warn") || !r.SingleHostDefaults {
			t.Errorf("request %s %+v", r, *r)
		}
	})

	t.Run("json", func(t *testing.T) {
		b := &fakeBootstrap{script: []api.BootstrapStatus{done}}
		sock := startBootstrapAPI(t, b)
		code, out, errOut := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--format", "json")
		if code != 0 || !strings.HasPrefix(out, `{"operation":7,"state":"succeeded"`) || !strings.Contains(errOut, "Checking the image") {
			t.Errorf("exit %d\nout %s\nerr %s", code, out, errOut)
		}
	})

	t.Run("failure carries the errno", func(t *testing.T) {
		failed := api.BootstrapStatus{State: api.BootstrapFailed, Steps: []api.BootstrapStep{bootStep("Adding the host", "failed", "", 0.2)},
			Error: "Cluster x already exists on host h1", Errno: 17, ErrnoName: "EEXIST", Cleanup: "removed what this attempt made: nothing on any host"}
		b := &fakeBootstrap{script: []api.BootstrapStatus{failed}}
		sock := startBootstrapAPI(t, b)
		code, out, errOut := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5")
		if code != 17 || !strings.HasPrefix(errOut, "Error EEXIST: bootstrap failed: Cluster x already exists on host h1\nremoved what") ||
			!strings.Contains(out, "Adding the host FAILED") {
			t.Errorf("exit %d\nout %s\nerr %s", code, out, errOut)
		}
	})

	t.Run("refused", func(t *testing.T) {
		b := &fakeBootstrap{startErr: api.NewError(17, "Cluster already bootstrapped: fsid f5 (mon.h1 on host h1)")}
		sock := startBootstrapAPI(t, b)
		code, out, errOut := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5")
		if code != 17 || out != "" || errOut != "Error EEXIST: Cluster already bootstrapped: fsid f5 (mon.h1 on host h1)\n" {
			t.Errorf("exit %d\nout %q\nerr %q", code, out, errOut)
		}
	})

	t.Run("no wait and status", func(t *testing.T) {
		b := &fakeBootstrap{script: []api.BootstrapStatus{done}}
		sock := startBootstrapAPI(t, b)
		code, out, _ := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--no-wait")
		if _, gets := b.seen(); code != 0 || !strings.Contains(out, "`orch bootstrap status --wait` follows it") || gets != 0 {
			t.Errorf("--no-wait: %d %q (gets %d)", code, out, gets)
		}
		code, out, _ = run(t, sock, "bootstrap", "status")
		if code != 0 || !strings.Contains(out, "State: succeeded") || !strings.Contains(out, "Checking the image: ceph 16.2.15") {
			t.Errorf("status: %d %q", code, out)
		}
		code, out, _ = run(t, sock, "bootstrap", "status", "--wait")
		if code != 0 || !strings.HasSuffix(out, "Bootstrap complete.\nCluster fsid: f5\n") {
			t.Errorf("status --wait: %d %q", code, out)
		}
	})

	t.Run("usage errors change nothing", func(t *testing.T) {
		b := &fakeBootstrap{}
		sock := startBootstrapAPI(t, b)
		bad := writeFile(t, "bad.yaml", "service_type: nosuchtype\n")
		for _, args := range [][]string{
			{"bootstrap"},
			{"bootstrap", "--mon-ip", "nope"},
			{"bootstrap", "--mon-ip", "10.0.0.5", "--ssh-private-key", "/x"},
			{"bootstrap", "--mon-ip", "10.0.0.5", "--apply-spec", bad},
			{"bootstrap", "--mon-ip", "10.0.0.5", "extra"},
		} {
			code, _, errOut := run(t, sock, args...)
			if code != 22 || !strings.HasPrefix(errOut, "Error EINVAL: ") {
				t.Errorf("%v = %d %q", args, code, errOut)
			}
		}
		code, _, errOut := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--config", "/nonexistent/ceph.conf")
		if code != 2 || !strings.Contains(errOut, "/nonexistent/ceph.conf") {
			t.Errorf("missing --config file = %d %q", code, errOut)
		}
		if r, _ := b.seen(); r != nil {
			t.Errorf("a refused command reached the controller: %+v", r)
		}
	})

	t.Run("apply-spec after success", func(t *testing.T) {
		b := &fakeBootstrapApply{fakeBootstrap: &fakeBootstrap{script: []api.BootstrapStatus{done}}}
		sock := startBootstrapAPI(t, b)
		file := writeFile(t, "cluster.yaml", "service_type: host\nhostname: h2\naddr: 10.0.0.6\n---\nservice_type: crash\nplacement:\n  host_pattern: '*'\n")
		code, out, errOut := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--apply-spec", file)
		if code != 0 || !strings.HasSuffix(out, "Added host 'h2'\nScheduled crash update...\n") {
			t.Errorf("exit %d\nout %s\nerr %s", code, out, errOut)
		}
		if len(b.applied) != 2 || b.applied[0]["service_type"] != "host" || b.applied[1]["service_type"] != "crash" {
			t.Errorf("applied %v", b.applied)
		}
	})

	t.Run("no controller", func(t *testing.T) {
		code, _, errOut := run(t, filepath.Join(t.TempDir(), "none.sock"), "bootstrap", "--mon-ip", "10.0.0.5")
		if code != 107 || !strings.Contains(errOut, "orch serve") {
			t.Errorf("= %d %q", code, errOut)
		}
	})
}

func TestGaveUp(t *testing.T) {
	if err := gaveUp(3, context.DeadlineExceeded); errnoOf(err) != 110 || !strings.Contains(err.Error(), "operation 3") {
		t.Errorf("gaveUp = %v (errno %d)", err, errnoOf(err))
	}
	if err := gaveUp(3, context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("gaveUp(canceled) = %v", err)
	}
}
