//go:build integration

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/hostlab"
)

// e2eEnv is an in-process `orch serve` whose reconciler deploys real
// podman containers on real lab hosts (sshd + podman in namespaces).
type e2eEnv struct {
	t    *testing.T
	sock string
	lab  *hostlab.Lab
}

func (e *e2eEnv) orch(args ...string) (string, string) {
	e.t.Helper()
	code, out, errOut := run(e.t, e.sock, args...)
	if code != 0 {
		e.t.Fatalf("orch %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out, errOut
}

func (e *e2eEnv) daemons() []api.DaemonDescription {
	e.t.Helper()
	out, _ := e.orch("ps", "--service-name", "container.web", "--format", "json")
	var ds []api.DaemonDescription
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		e.t.Fatalf("ps json: %v: %q", err, out)
	}
	return ds
}

// waitDaemons waits until the service has n daemons in the wanted state.
func (e *e2eEnv) waitDaemons(n int, state string) []api.DaemonDescription {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ds := e.daemons()
		ok := len(ds) == n
		for _, d := range ds {
			ok = ok && d.StatusDesc == state
		}
		if ok {
			return ds
		}
		if time.Now().After(deadline) {
			out, _ := e.orch("ps")
			e.t.Fatalf("want %d %s daemons, have %d:\n%s", n, state, len(ds), out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// httpStatus GETs http://addr:8080/ and returns the testapp's answer.
func httpStatus(addr string) (map[string]any, error) {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(addr, "8080") + "/")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("answer %q: %w", b, err)
	}
	return st, nil
}

func waitHTTP(t *testing.T, addr string, up bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := httpStatus(addr)
		if (err == nil) == up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("http on %s: up=%v wanted, last error %v", addr, up, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestE2EContainerService drives the whole path with cephadm's custom
// container service type: apply → deploy on real hosts → HTTP answers →
// scale up and down → daemon stop/start/restart → rm purges everything.
func TestE2EContainerService(t *testing.T) {
	bin, image := e2eArtifacts(t)
	ctx := context.Background()
	dir := t.TempDir()

	// The controller.
	sock := filepath.Join(dir, "orch.sock")
	sctx, cancel := context.WithCancel(ctx)
	ios, _, serveErr := TestIO("")
	done := make(chan int, 1)
	go func() {
		done <- Main(sctx, []string{"serve", "--socket", sock, "--store", filepath.Join(dir, "orch.db"),
			"--agent-binary", bin, "--log-level", "warn"}, ios)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, serveErr)
		}
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if i > 500 {
			t.Fatal("controller did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e := &e2eEnv{t: t, sock: sock}
	e.orch("ssh", "generate-key")
	pub, _ := e.orch("ssh", "get-pub-key")
	e.lab = hostlab.ForTest(t, 3, hostlab.Options{AuthorizedKeys: []string{strings.TrimSpace(pub)}})
	addr := map[string]string{}
	for _, h := range e.lab.Hosts() {
		if out, err := e.lab.ExecInput(ctx, h.Name, image, "podman", "load"); err != nil {
			t.Fatalf("podman load on %s: %v: %s", h.Name, err, out)
		}
		e.orch("host", "add", h.Name, h.Addr)
		addr[h.Name] = h.Addr
	}

	spec := func(count int) string {
		p := filepath.Join(dir, fmt.Sprintf("web-%d.yaml", count))
		doc := fmt.Sprintf(`service_type: container
service_id: web
placement:
  count: %d
spec:
  image: localhost/orch-testapp:latest
  entrypoint: /testapp
  envs:
  - TESTAPP_PORT=8080
  ports:
  - 8080
`, count)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// count 2: two real containers answering HTTP.
	out, _ := e.orch("apply", "-i", spec(2), "--wait", "--wait-timeout", "3m")
	if !strings.HasPrefix(out, "Scheduled container.web update...\n") {
		t.Fatalf("apply printed %q", out)
	}
	ds := e.waitDaemons(2, "running")
	for _, d := range ds {
		if d.Name() != "container.web."+d.Hostname || d.ContainerID == "" {
			t.Errorf("daemon %+v", d)
		}
		st, err := httpStatus(addr[d.Hostname])
		if err != nil || st["status"] != "ok" {
			t.Errorf("%s: http = %v, %v", d.Hostname, st, err)
		}
	}
	psOut, _ := e.orch("ps")
	if !strings.Contains(psOut, "running (") || !strings.Contains(psOut, ":8080") {
		t.Errorf("orch ps:\n%s", psOut)
	}
	lsOut, _ := e.orch("ls")
	if !strings.Contains(lsOut, "container.web") || !strings.Contains(lsOut, "2/2") {
		t.Errorf("orch ls:\n%s", lsOut)
	}

	// Scale to 3, then back to 1: surplus daemons are removed, their
	// containers gone.
	e.orch("apply", "-i", spec(3), "--wait", "--wait-timeout", "3m")
	ds = e.waitDaemons(3, "running")
	for _, d := range ds {
		waitHTTP(t, addr[d.Hostname], true)
	}
	e.orch("apply", "-i", spec(1), "--wait", "--wait-timeout", "3m")
	ds = e.waitDaemons(1, "running")
	keep := ds[0].Hostname
	for h, a := range addr {
		waitHTTP(t, a, h == keep)
		out, err := e.lab.Exec(ctx, h, "podman", "ps", "-a", "--format", "{{.Names}}")
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Count(string(out), "-container-web-")
		if (h == keep) != (n == 1) || n > 1 {
			t.Errorf("containers on %s: %q", h, out)
		}
	}

	// Daemon lifecycle.
	name := ds[0].Name()
	e.orch("daemon", "stop", name, "--wait")
	e.waitDaemons(1, "stopped")
	waitHTTP(t, addr[keep], false)
	e.orch("daemon", "start", name, "--wait")
	e.waitDaemons(1, "running")
	waitHTTP(t, addr[keep], true)
	before, _ := httpStatus(addr[keep])
	e.orch("daemon", "restart", name, "--wait")
	waitHTTP(t, addr[keep], true)
	deadline := time.Now().Add(30 * time.Second)
	for {
		after, err := httpStatus(addr[keep])
		if err == nil && after["started"] != before["started"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restart did not restart the container: before %v after %v", before, after)
		}
		time.Sleep(300 * time.Millisecond)
	}
	evOut, _ := e.orch("ps", "--format", "yaml")
	if !strings.Contains(evOut, "Deployed "+name) || !strings.Contains(evOut, "Restart "+name) {
		t.Errorf("events in orch ps --format yaml:\n%s", evOut)
	}

	// rm: everything goes and the spec is purged.
	e.orch("rm", "container.web", "--wait")
	if ds := e.daemons(); len(ds) != 0 {
		t.Errorf("daemons after rm: %+v", ds)
	}
	if out, _ := e.orch("ls"); out != "No services reported\n" {
		t.Errorf("ls after rm: %q", out)
	}
	for h := range addr {
		out, err := e.lab.Exec(ctx, h, "podman", "ps", "-a", "--format", "{{.Names}}")
		if err != nil || strings.Contains(string(out), "container-web") {
			t.Errorf("containers left on %s: %q %v", h, out, err)
		}
	}
	opsOut, _ := e.orch("op", "ls", "--format", "json")
	var ops []api.Operation
	_ = json.Unmarshal([]byte(opsOut), &ops)
	for _, op := range ops {
		if op.State != "succeeded" {
			t.Errorf("operation %+v", op)
		}
	}
	if hl, _ := e.orch("health"); !strings.HasPrefix(hl, "HEALTH_OK") {
		t.Errorf("health:\n%s", hl)
	}
}
