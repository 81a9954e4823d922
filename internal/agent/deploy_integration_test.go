//go:build integration

package agent

// The daemon lifecycle against real podman on this machine: deploy a
// custom container (busybox httpd) with a port, list it, redeploy,
// reconfigure, stop/start, kill it, remove it; refuse a second daemon on
// the same port; keep a mon's data under removed/.
//
// How it runs on the test machine (see ../shared/reference/test-hosts.md
// §2): the test re-executes itself as root inside private mount, network
// and PID namespaces (`unshare --mount --net --pid --fork --kill-child`,
// with catatonit as PID 1 to reap conmon's children). In there it
//   - unmounts /sys/fs/cgroup/unified, because crun refuses the hybrid
//     cgroup layout;
//   - mounts tmpfs over /run/containers/networks and /run/netns, so
//     netavark's IPAM database and the containers' netns files are private
//     (the custom container uses podman's default bridge, which must not
//     touch the machine's own network namespace);
//   - points podman at its own containers.conf (default_ulimits within the
//     machine's hard limits, cgroupfs, file events, tmp_dir) and
//     storage.conf (vfs graphroot and runroot) under a short /tmp/orchit-*
//     directory (conmon's socket paths must stay under 108 bytes).
// When the inner test ends, PID 1 exits and the kernel kills whatever is
// left in the namespace; the outer test then deletes the directory and
// checks that no process still refers to it. Nothing is imported into the
// machine's own image store.
//
// Run: go test -tags integration -run TestLifecycleIntegration ./internal/agent/

import (
	"archive/tar"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/containers"
)

const lifecycleNSEnv = "ORCH_LIFECYCLE_IT_DIR"

func TestLifecycleIntegration(t *testing.T) {
	if work := os.Getenv(lifecycleNSEnv); work != "" {
		lifecycleInNamespace(t, work)
		return
	}
	needRoot(t, "podman", "unshare", "ip")
	catatonit := "/usr/libexec/podman/catatonit"
	if _, err := os.Stat(catatonit); err != nil {
		p, err := (&Host{}).LookPath("catatonit")
		if err != nil {
			t.Skip("needs catatonit (installed with podman)")
		}
		catatonit = p
	}
	if !staticELF("/bin/busybox") {
		t.Skip("needs a static /bin/busybox (apt-get install busybox-static)")
	}
	work, err := os.MkdirTemp("/tmp", "orchit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(work); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
		"--propagation", "private", catatonit, "--",
		exe, "-test.run", "^TestLifecycleIntegration$", "-test.v", "-test.count=1", "-test.timeout=4m")
	cmd.Env = append(os.Environ(), lifecycleNSEnv+"="+work)
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespaces:\n%s", out)
	if err != nil {
		t.Fatalf("namespaced run: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: TestLifecycleIntegration") {
		t.Fatal("the namespaced test did not pass")
	}
	// Everything started in there died with its PID namespace.
	if procs := processesMentioning(work); len(procs) > 0 {
		t.Errorf("processes left behind: %v", procs)
	}
}

// staticELF reports whether p is an ELF binary without an interpreter.
func staticELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

func processesMentioning(s string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

// itEnv is the inner test's podman environment.
type itEnv struct {
	t      *testing.T
	work   string
	env    []string
	host   *Host
	l      *Lifecycle
	image  string
	client *http.Client
}

func (e *itEnv) podman(args ...string) (string, error) {
	cmd := exec.Command("podman", args...)
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (e *itEnv) mustPodman(args ...string) string {
	e.t.Helper()
	out, err := e.podman(args...)
	if err != nil {
		e.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// setupNamespace makes this (already unshared) process's view fit podman.
func setupNamespace(t *testing.T, work string) []string {
	t.Helper()
	if err := syscall.Unmount("/sys/fs/cgroup/unified", syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("hide the cgroup2 hybrid mount: %v", err)
	}
	for _, d := range []string{"/run/containers/networks", "/run/netns"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mount("tmpfs", d, "tmpfs", 0, "mode=0755"); err != nil {
			t.Fatalf("mount tmpfs on %s: %v", d, err)
		}
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v %s", err, out)
	}
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = %q
`, filepath.Join(work, "libpod"))
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(work, "graph"), filepath.Join(work, "run"))
	for name, content := range map[string]string{"containers.conf": conf, "storage.conf": storage} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return append(os.Environ(),
		"CONTAINERS_CONF="+filepath.Join(work, "containers.conf"),
		"CONTAINERS_STORAGE_CONF="+filepath.Join(work, "storage.conf"))
}

// importBusybox builds a two-file image (static busybox + applet links)
// and imports it with podman: no registry involved.
func (e *itEnv) importBusybox() {
	e.t.Helper()
	tarPath := filepath.Join(e.work, "bbox.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		e.t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range []string{"bin/", "tmp/", "www/", "etc/", "proc/", "sys/", "dev/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := tw.Write(bb); err != nil {
		e.t.Fatal(err)
	}
	for _, applet := range []string{"sh", "httpd", "sleep", "echo", "cat", "true"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777}); err != nil {
			e.t.Fatal(err)
		}
	}
	passwd := "root:x:0:0:root:/:/bin/sh\n"
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := io.WriteString(tw, passwd); err != nil {
		e.t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		e.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.mustPodman("import", "-q", "--change", `CMD ["/bin/sh"]`, tarPath, e.image)
}

// get fetches http://127.0.0.1:port/p.
func (e *itEnv) get(port int, p string) (string, error) {
	resp, err := e.client.Get(fmt.Sprintf("http://127.0.0.1:%d/%s", port, p))
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

// eventually polls cond until it holds or 20 s pass (containers start in
// ~100 ms; the bound only matters when something is broken).
func (e *itEnv) eventually(what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("%s: %v", what, err)
}

func (e *itEnv) answers(port int, p, want string) func() error {
	return func() error {
		got, err := e.get(port, p)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
}

func (e *itEnv) ls(fsid string) map[string]map[string]any {
	e.t.Helper()
	list, err := e.l.List(context.Background(), ListOptions{FSID: fsid})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(list)
	if err != nil {
		e.t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(b, &entries); err != nil {
		e.t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, d := range entries {
		byName[d["name"].(string)] = d
	}
	return byName
}

func (e *itEnv) state(fsid, name string) string {
	if d := e.ls(fsid)[name]; d != nil {
		return d["state"].(string)
	}
	return "absent"
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	f, err := os.Open("/dev/urandom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

func lifecycleInNamespace(t *testing.T, work string) {
	env := setupNamespace(t, work)
	e := &itEnv{t: t, work: work, env: env, image: "localhost/orch-it-bbox:latest",
		client: &http.Client{Timeout: 2 * time.Second}}
	e.host = &Host{Runner: ExecRunner{Env: env}}
	e.l = &Lifecycle{Host: e.host, DataRoot: filepath.Join(work, "data"), LockDir: filepath.Join(work, "lock"), Supervisor: SupervisorAuto}
	t.Cleanup(func() {
		// Remove what we made even when the test failed half-way; PID 1's
		// exit is only the backstop.
		if out, err := e.podman("rm", "-f", "-a", "-t", "2"); err != nil {
			t.Logf("cleanup containers: %v %s", err, out)
		}
		if out, err := e.podman("rmi", "-a", "-f"); err != nil {
			t.Logf("cleanup images: %v %s", err, out)
		}
	})
	e.importBusybox()

	ctx := context.Background()
	if sup, err := e.l.supervisor(ctx); err != nil || sup != SupervisorPodman {
		t.Fatalf("this machine has no systemd; supervisor = %q, %v", sup, err)
	}
	r := randomHex(t, 16)
	fsid := fmt.Sprintf("%s-%s-%s-%s-%s", r[:8], r[8:12], r[12:16], r[16:20], r[20:32])
	id := "it" + randomHex(t, 3)
	name := "container.web." + id
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	req := func(index string) *DeployRequest {
		return &DeployRequest{
			FSID: fsid, Name: name, Image: e.image,
			Params: DeployParams{TCPPorts: []int{port}},
			Meta:   DeployMeta{ServiceName: "container.web", Ports: []int{port}, ConfigDigest: "sha256:" + fmt.Sprint(len(index))},
			ConfigBlobs: ConfigBlobs{
				Keyring:           "[client.web]\n\tkey = SECRET\n",
				Files:             map[string]string{"www/index.html": index},
				CustomConfigFiles: []CustomConfigFile{{Content: "custom\n", MountPath: "/www/custom.txt"}},
			},
			Container: &CustomContainer{
				Entrypoint:   "/bin/httpd",
				Args:         []string{"-f", "-p", strconv.Itoa(port), "-h", "/www"},
				VolumeMounts: map[string]string{"www": "/www"},
			},
			InitContainers: []InitContainer{{
				Name: "seed", Entrypoint: "/bin/sh", When: RunFirstDeploy,
				Args:         []string{"-c", "echo seeded >> /seed/marker"},
				VolumeMounts: map[string]string{"www": "/seed"},
			}},
		}
	}

	t0 := time.Now()
	step := func(what string) { t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what) }
	defer step("done")
	step("step 1")
	// 1. Fresh deploy.
	res, err := e.l.Deploy(ctx, req("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res.DeploymentType != DeployDefault || !res.Created || res.Supervisor != SupervisorPodman || res.ContainerID == "" {
		t.Fatalf("deploy: %+v", res)
	}
	e.eventually("HTTP after deploy", e.answers(port, "", "hello\n"))
	e.eventually("custom config file served", e.answers(port, "custom.txt", "custom\n"))
	e.eventually("init container output", e.answers(port, "marker", "seeded\n"))
	kr, err := os.Stat(filepath.Join(res.DataDir, "keyring"))
	if err != nil || kr.Mode().Perm() != 0o600 {
		t.Errorf("keyring: %v %v", kr, err)
	}

	step("step 2")
	// 2. ls reports it running with its meta, from one ps and one stats.
	d := e.ls(fsid)[name]
	if d == nil {
		t.Fatalf("ls does not list %s", name)
	}
	for k, want := range map[string]any{
		"state": "running", "style": "cephadm:v1", "enabled": true, "service_name": "container.web",
		"config_digest": "sha256:6", "container_id": res.ContainerID, "container_image_name": e.image, "version": "",
		"systemd_unit": "ceph-" + fsid + "@" + name,
	} {
		if d[k] != want {
			t.Errorf("ls %s = %v, want %v", k, d[k], want)
		}
	}
	if ports, _ := d["ports"].([]any); len(ports) != 1 || ports[0] != float64(port) {
		t.Errorf("ls ports = %v", d["ports"])
	}
	for _, k := range []string{"started", "created", "deployed", "configured", "container_image_id", "memory_usage", "cpu_percentage"} {
		if d[k] == nil {
			t.Errorf("ls %s is null", k)
		}
	}
	if digests, _ := d["container_image_digests"].([]any); len(digests) == 0 {
		t.Errorf("no image digests: %v", d["container_image_digests"])
	}

	step("step 3")
	// 3. The same deploy again converges: a REDEPLOY, one container, the
	// init container (first_deploy) not run again.
	res2, err := e.l.Deploy(ctx, req("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res2.DeploymentType != DeployRedeploy || res2.Created {
		t.Errorf("redeploy: %+v", res2)
	}
	e.eventually("HTTP after redeploy", e.answers(port, "", "hello\n"))
	e.eventually("init ran once", e.answers(port, "marker", "seeded\n"))
	cname := containers.ContainerName(fsid, name)
	if n := e.mustPodman("ps", "-a", "-q", "--filter", "name="+cname); len(strings.Fields(n)) != 1 {
		t.Errorf("containers named %s after redeploy: %q", cname, n)
	}

	step("step 4")
	// 4. A second daemon wanting the same port is refused before anything
	// is created.
	other := req("other\n")
	other.Name = "container.web.other" + id
	_, err = e.l.Deploy(ctx, other)
	var pe *PortError
	if !errors.As(err, &pe) || pe.Error() != fmt.Sprintf("TCP Port(s) '%d' required for container already in use", port) {
		t.Fatalf("second daemon on port %d: %v", port, err)
	}
	if _, err := os.Stat(e.l.dataDir(fsid, other.Name)); !os.IsNotExist(err) {
		t.Errorf("refused deploy left %s (%v)", other.Name, err)
	}
	if _, err := e.podman("container", "exists", containers.ContainerName(fsid, other.Name)); err == nil {
		t.Errorf("refused deploy created container %s", containers.ContainerName(fsid, other.Name))
	}

	step("step 5")
	// 5. Reconfig rewrites the files and restarts the custom container.
	rc := req("hello again\n")
	rc.Params.Reconfig = true
	res3, err := e.l.Deploy(ctx, rc)
	if err != nil || res3.DeploymentType != DeployReconfig {
		t.Fatalf("reconfig: %+v %v", res3, err)
	}
	e.eventually("HTTP after reconfig", e.answers(port, "", "hello again\n"))
	if got := e.ls(fsid)[name]["config_digest"]; got != "sha256:12" {
		t.Errorf("config_digest after reconfig = %v", got)
	}

	step("step 6")
	// 6. unit stop / start.
	if _, err := e.l.Unit(ctx, fsid, name, "stop"); err != nil {
		t.Fatal(err)
	}
	if s := e.state(fsid, name); s != "stopped" {
		t.Errorf("state after unit stop = %s", s)
	}
	if _, err := e.get(port, ""); err == nil {
		t.Error("HTTP still answers after unit stop")
	}
	if _, err := e.l.Unit(ctx, fsid, name, "start"); err != nil {
		t.Fatal(err)
	}
	e.eventually("HTTP after unit start", e.answers(port, "", "hello again\n"))
	if s := e.state(fsid, name); s != "running" {
		t.Errorf("state after unit start = %s", s)
	}

	step("step 7")
	// 7. The daemon dies (SIGKILL to the container's init, as the OOM
	// killer or a crash would): podman's on-failure policy restarts it.
	pid, err := strconv.Atoi(e.mustPodman("inspect", "--format", "{{.State.Pid}}", cname))
	if err != nil || pid <= 0 {
		t.Fatalf("container pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.eventually("restart after SIGKILL", func() error {
		out := e.mustPodman("inspect", "--format", "{{.RestartCount}} {{.State.Status}}", cname)
		if out != "1 running" {
			return fmt.Errorf("restart count and state %q", out)
		}
		return nil
	})
	e.eventually("HTTP after crash restart", e.answers(port, "", "hello again\n"))

	// `podman kill` by hand: podman does not restart the container (it
	// counts as a stop, exit 137), and since orch did not stop it, ls
	// reports an error (the daemon should be running).
	e.mustPodman("kill", cname)
	e.eventually("podman kill stops", func() error {
		if s := e.state(fsid, name); s != "error" {
			return fmt.Errorf("state %s", s)
		}
		return nil
	})
	time.Sleep(time.Second) // would a restart happen? (none is expected)
	if s := e.state(fsid, name); s != "error" {
		t.Errorf("after podman kill the state became %s", s)
	}
	if _, err := e.l.Unit(ctx, fsid, name, "restart"); err != nil {
		t.Fatal(err)
	}
	e.eventually("HTTP after unit restart", e.answers(port, "", "hello again\n"))

	step("step 8")
	// 8. rm-daemon removes it; ls no longer shows it; removing again is a
	// success.
	rm, err := e.l.RemoveDaemon(ctx, RemoveOptions{FSID: fsid, Name: name, TCPPorts: []int{port}})
	if err != nil || !rm.Removed || rm.KeptDataAt != "" {
		t.Fatalf("rm-daemon: %+v %v", rm, err)
	}
	if _, ok := e.ls(fsid)[name]; ok {
		t.Error("ls still lists the removed daemon")
	}
	if out, err := e.podman("container", "exists", cname); err == nil {
		t.Errorf("container still exists: %s", out)
	}
	if _, err := os.Stat(e.l.customConfigDir(fsid, name)); !os.IsNotExist(err) {
		t.Errorf("custom config dir left: %v", err)
	}
	if rm2, err := e.l.RemoveDaemon(ctx, RemoveOptions{FSID: fsid, Name: name}); err != nil || rm2.Removed {
		t.Errorf("second rm-daemon: %+v %v", rm2, err)
	}
	if _, err := e.get(port, ""); err == nil {
		t.Error("HTTP still answers after rm-daemon")
	}

	step("step 9")
	// 9. A mon's data is kept under removed/ (a fake mon dir; no Ceph).
	mon := e.l.dataDir(fsid, "mon.fake")
	if err := os.MkdirAll(filepath.Join(mon, "store.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mon, "store.db", "CURRENT"), []byte("MANIFEST-000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := e.l.RemoveDaemon(ctx, RemoveOptions{FSID: fsid, Name: "mon.fake"}); !errors.Is(err, ErrNeedsForce) {
		t.Fatalf("mon without --force: %v", err)
	}
	rmMon, err := e.l.RemoveDaemon(ctx, RemoveOptions{FSID: fsid, Name: "mon.fake", Force: true})
	if err != nil || !rmMon.Removed || !strings.HasPrefix(rmMon.KeptDataAt, path.Join(e.l.clusterDir(fsid), "removed", "mon.fake_")) {
		t.Fatalf("rm mon: %+v %v", rmMon, err)
	}
	if b, err := os.ReadFile(filepath.Join(rmMon.KeptDataAt, "store.db", "CURRENT")); err != nil || string(b) != "MANIFEST-000001\n" {
		t.Errorf("kept mon data: %q %v", b, err)
	}
	stamp := strings.TrimPrefix(filepath.Base(rmMon.KeptDataAt), "mon.fake_")
	if _, err := time.Parse(removedStampFormat, stamp); err != nil {
		t.Errorf("removed stamp %q: %v", stamp, err)
	}
	if list := e.ls(fsid); len(list) != 0 {
		t.Errorf("ls after removals: %v", list)
	}
}
