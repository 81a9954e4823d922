//go:build integration

package agent

// The systemd supervisor against REAL systemd: one hostlab host that boots
// systemd as PID 1 (hostlab.Options.Systemd: systemd-nspawn --boot over a
// cached debootstrap root with systemd, sshd and podman). A freshly built
// static orch binary is copied into it and driven like the controller
// drives it: `orch agent deploy` with the JSON document on stdin,
// `orch agent ls`, `orch agent unit`, `orch agent rm-daemon`, each run
// inside the host through the lab's exec. The daemon is a custom
// `container` (busybox httpd, imported from a tarball: no registry) with a
// published port, which the test fetches from the machine over the lab
// network.
//
// Run: go test -tags integration -run TestSystemdSupervisorIntegration -v ./internal/agent/
// The first run builds the host root filesystem (about a minute, cached
// under /var/cache/orch-lab-rootfs).

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/orchceph/orch/internal/labtest"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/containers"
	"github.com/orchceph/orch/hostlab"
)

// sdEnv is one systemd lab host with orch copied in.
type sdEnv struct {
	t    *testing.T
	lab  *hostlab.Lab
	host string
	addr string
}

// exec runs argv inside the host; it fails the test on error.
func (e *sdEnv) must(stdin []byte, argv ...string) string {
	e.t.Helper()
	out, err := e.run(stdin, argv...)
	if err != nil {
		e.t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

func (e *sdEnv) run(stdin []byte, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := e.lab.ExecInput(ctx, e.host, stdin, argv...)
	return strings.TrimSpace(string(out)), err
}

// orch runs the copied orch binary inside the host and decodes its JSON.
func (e *sdEnv) orch(stdin []byte, v any, args ...string) {
	e.t.Helper()
	out := e.must(stdin, append([]string{"/usr/local/bin/orch"}, args...)...)
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			e.t.Fatalf("orch %s: decode %q: %v", strings.Join(args, " "), out, err)
		}
	}
}

func (e *sdEnv) eventually(what string, within time.Duration, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.t.Fatalf("%s: %v", what, err)
}

func (e *sdEnv) get(port int) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s:%d/", e.addr, port))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("HTTP %s", resp.Status)
	}
	return string(b), err
}

func (e *sdEnv) answers(port int, want string) func() error {
	return func() error {
		got, err := e.get(port)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
}

// lsEntry returns `orch agent ls`'s entry for name, or nil.
func (e *sdEnv) lsEntry(fsid, name string) map[string]any {
	e.t.Helper()
	var list []map[string]any
	e.orch(nil, &list, "agent", "ls", "--fsid", fsid)
	for _, d := range list {
		if d["name"] == name {
			return d
		}
	}
	return nil
}

// mainPID is the unit's MainPID (conmon's, from the PIDFile), 0 when none.
func (e *sdEnv) mainPID(unit string) int {
	e.t.Helper()
	out := e.must(nil, "systemctl", "show", "-p", "MainPID", "--value", unit)
	n, _ := strconv.Atoi(out)
	return n
}

// busyboxTar is a two-file image (static busybox + applet links).
func busyboxTar(t *testing.T) []byte {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"bin/", "tmp/", "www/", "etc/", "proc/", "sys/", "dev/"} {
		hdr(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755})
	}
	hdr(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))})
	if _, err := tw.Write(bb); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sh", "httpd", "sleep", "echo", "cat", "true"} {
		hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777})
	}
	passwd := "root:x:0:0:root:/:/bin/sh\n"
	hdr(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))})
	if _, err := io.WriteString(tw, passwd); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildOrch builds a static orch binary for this test.
func buildOrch(t *testing.T) string {
	t.Helper()
	out := labtest.BuildOrch(t)
	if !staticELF(out) {
		t.Fatalf("%s is not static", out)
	}
	return out
}

func TestSystemdSupervisorIntegration(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go tool to build orch")
	}
	t0 := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what) }
	orchBin := buildOrch(t)
	step("orch built")

	// The rootfs build (first run only) is not host start time.
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	if _, err := hostlab.EnsureRootfs(rctx, "", nil); err != nil {
		rcancel()
		t.Fatalf("rootfs: %v", err)
	}
	rcancel()
	step("rootfs ready")
	tUp := time.Now()
	lab := hostlab.ForTest(t, 1, hostlab.Options{Systemd: true})
	step(fmt.Sprintf("systemd host up in %v", time.Since(tUp).Round(time.Millisecond)))
	h := lab.Hosts()[0]
	e := &sdEnv{t: t, lab: lab, host: h.Name, addr: h.Addr}

	// Real systemd is PID 1 and running.
	if got := e.must(nil, "cat", "/proc/1/comm"); got != "systemd" {
		t.Fatalf("PID 1 is %q", got)
	}
	e.eventually("systemd running", 60*time.Second, func() error {
		out, _ := e.run(nil, "systemctl", "is-system-running")
		if out != "running" && out != "degraded" {
			return fmt.Errorf("is-system-running: %q", out)
		}
		return nil
	})
	if out, _ := e.run(nil, "systemctl", "--failed", "--no-legend", "--plain"); out != "" {
		t.Errorf("failed units at boot:\n%s", out)
	}
	step("systemd running")

	b, err := os.ReadFile(orchBin)
	if err != nil {
		t.Fatal(err)
	}
	e.must(b, "sh", "-c", "cat > /usr/local/bin/orch && chmod 755 /usr/local/bin/orch")
	image := "localhost/orch-sd-bbox:latest"
	e.must(busyboxTar(t), "podman", "import", "-q", "--change", `CMD ["/bin/sh"]`, "-", image)
	step("orch copied, image imported")

	r := randomHex(t, 16)
	fsid := fmt.Sprintf("%s-%s-%s-%s-%s", r[:8], r[8:12], r[12:16], r[16:20], r[20:32])
	id := "sd" + randomHex(t, 3)
	name := "container.web." + id
	unit := containers.UnitName(fsid, name)
	cname := containers.ContainerName(fsid, name)
	port := 18080
	req := &DeployRequest{
		FSID: fsid, Name: name, Image: image,
		Params: DeployParams{TCPPorts: []int{port}},
		Meta:   DeployMeta{ServiceName: "container.web", Ports: []int{port}},
		ConfigBlobs: ConfigBlobs{
			Files: map[string]string{"www/index.html": "hello systemd\n"},
		},
		Container: &CustomContainer{
			Entrypoint:   "/bin/httpd",
			Args:         []string{"-f", "-p", strconv.Itoa(port), "-h", "/www"},
			VolumeMounts: map[string]string{"www": "/www"},
		},
	}
	doc, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, argv := range [][]string{
				{"systemctl", "status", "--no-pager", "-l", unit},
				{"journalctl", "--no-pager", "-n", "80", "-u", unit},
				{"podman", "ps", "-a"},
			} {
				out, err := e.run(nil, argv...)
				t.Logf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			}
		}
	})

	// 1. Deploy through `orch agent deploy` (auto-detected supervisor).
	tDeploy := time.Now()
	var res DeployResult
	e.orch(doc, &res, "agent", "deploy")
	step(fmt.Sprintf("deployed in %v", time.Since(tDeploy).Round(time.Millisecond)))
	if res.Supervisor != SupervisorSystemd || res.DeploymentType != DeployDefault || res.SystemdUnit != unit {
		t.Fatalf("deploy result: %+v", res)
	}
	if got, err := e.run(nil, "systemctl", "is-active", unit); got != "active" {
		t.Fatalf("systemctl is-active %s = %q (%v)", unit, got, err)
	}
	if got, _ := e.run(nil, "systemctl", "is-enabled", unit); got != "enabled" {
		t.Errorf("systemctl is-enabled %s = %q", unit, got)
	}
	for _, f := range []string{"/etc/systemd/system/" + containers.TemplateUnitName(fsid),
		"/etc/systemd/system/ceph-" + fsid + ".target", "/etc/systemd/system/ceph.target"} {
		e.must(nil, "test", "-f", f)
	}
	e.eventually("HTTP after deploy", 30*time.Second, e.answers(port, "hello systemd\n"))

	// 2. ls: running, with the systemd unit.
	d := e.lsEntry(fsid, name)
	if d == nil {
		t.Fatalf("ls does not list %s", name)
	}
	for k, want := range map[string]any{"state": "running", "systemd_unit": unit, "enabled": true, "container_image_name": image} {
		if d[k] != want && !(k == "systemd_unit" && d[k] == strings.TrimSuffix(unit, ".service")) {
			t.Errorf("ls %s = %v, want %v", k, d[k], want)
		}
	}
	step("ls ok")

	// 3. `orch agent unit restart`: a new container (new id), same unit.
	oldID := e.must(nil, "podman", "inspect", "--format", "{{.Id}}", cname)
	oldMain := e.mainPID(unit)
	var ur UnitResult
	e.orch(nil, &ur, "agent", "unit", "--fsid", fsid, "--name", name, "restart")
	if ur.Supervisor != SupervisorSystemd {
		t.Errorf("unit restart: %+v", ur)
	}
	if got, _ := e.run(nil, "systemctl", "is-active", unit); got != "active" {
		t.Fatalf("after restart is-active = %q", got)
	}
	newID := e.must(nil, "podman", "inspect", "--format", "{{.Id}}", cname)
	if newID == oldID || e.mainPID(unit) == oldMain {
		t.Errorf("unit restart did not restart the container (id %s -> %s)", oldID, newID)
	}
	e.eventually("HTTP after unit restart", 30*time.Second, e.answers(port, "hello systemd\n"))
	step("unit restart ok")

	// 4. The daemon dies (SIGKILL to the container's process): systemd's
	// Restart=on-failure (RestartSec=10s) brings it back.
	pid := e.must(nil, "podman", "inspect", "--format", "{{.State.Pid}}", cname)
	killedID := e.must(nil, "podman", "inspect", "--format", "{{.Id}}", cname)
	e.must(nil, "kill", "-KILL", pid)
	tKill := time.Now()
	e.eventually("systemd restarts the killed daemon", 60*time.Second, func() error {
		id, err := e.run(nil, "podman", "inspect", "--format", "{{.Id}} {{.State.Status}}", cname)
		if err != nil || id == killedID+" running" || !strings.HasSuffix(id, " running") {
			return fmt.Errorf("container: %q %v", id, err)
		}
		if got, _ := e.run(nil, "systemctl", "is-active", unit); got != "active" {
			return fmt.Errorf("is-active %q", got)
		}
		return nil
	})
	if n, _ := e.run(nil, "systemctl", "show", "-p", "NRestarts", "--value", unit); n == "0" {
		t.Errorf("NRestarts = %s after the kill", n)
	}
	e.eventually("HTTP after crash restart", 30*time.Second, e.answers(port, "hello systemd\n"))
	step(fmt.Sprintf("restarted by systemd %v after SIGKILL", time.Since(tKill).Round(time.Millisecond)))

	// 5. rm-daemon: unit stopped and disabled, container and data gone.
	var rm RemoveResult
	e.orch(nil, &rm, "agent", "rm-daemon", "--fsid", fsid, "--name", name, "--tcp-ports", strconv.Itoa(port))
	if !rm.Removed {
		t.Fatalf("rm-daemon: %+v", rm)
	}
	if got, _ := e.run(nil, "systemctl", "is-active", unit); got == "active" || got == "activating" {
		t.Errorf("after rm-daemon is-active = %q", got)
	}
	if got, _ := e.run(nil, "systemctl", "is-enabled", unit); got == "enabled" {
		t.Errorf("after rm-daemon is-enabled = %q", got)
	}
	if _, err := e.run(nil, "podman", "container", "exists", cname); err == nil {
		t.Error("container still exists after rm-daemon")
	}
	if _, err := e.run(nil, "test", "-e", "/var/lib/ceph/"+fsid+"/"+name); err == nil {
		t.Error("data dir still exists after rm-daemon")
	}
	if d := e.lsEntry(fsid, name); d != nil {
		t.Errorf("ls still lists %s: %v", name, d)
	}
	if _, err := e.get(port); err == nil {
		t.Error("HTTP still answers after rm-daemon")
	}
	step("rm-daemon ok")
}
