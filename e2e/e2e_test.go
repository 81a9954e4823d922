//go:build e2e

// Package e2e runs orch end to end against real parts: the orch binary
// as controller (`orch serve`) and CLI, three lab hosts (real OpenSSH and
// podman in network namespaces, loop disks) and a real Ceph cluster from
// the locally built image. `make e2e` runs it; see TestCephCluster.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/hostlab"
	"github.com/orchceph/orch/internal/labtest"
	"github.com/orchceph/orch/inventory"
)

// env is one scenario's controller, lab and cluster.
type env struct {
	t     *testing.T
	ctx   context.Context
	bin   string
	sock  string
	dir   string
	lab   *hostlab.Lab
	hosts []hostlab.Host
	image string
	start time.Time
}

// step logs a scenario step with the time since the start.
func (e *env) step(format string, a ...any) {
	e.t.Logf("[%6.1fs] %s", time.Since(e.start).Seconds(), fmt.Sprintf(format, a...))
}

// orchExit runs the orch CLI against the controller.
func (e *env) orchExit(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	cmd := exec.CommandContext(e.ctx, e.bin, args...)
	cmd.Env = append(os.Environ(), "ORCH_SOCKET="+e.sock)
	var o, x bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &x
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), x.String()
	} else if err != nil {
		e.t.Fatalf("orch %s: %v", strings.Join(args, " "), err)
	}
	return 0, o.String(), x.String()
}

// orch runs the orch CLI and fails the test unless it succeeds.
func (e *env) orch(args ...string) string {
	e.t.Helper()
	code, out, errOut := e.orchExit(args...)
	if code != 0 {
		e.t.Fatalf("orch %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// ceph runs the ceph CLI of the cluster image on h1 (the _admin host).
func (e *env) ceph(args ...string) (string, error) {
	argv := append([]string{"podman", "run", "--rm", "--net=host", "-v", "/etc/ceph:/etc/ceph:ro",
		"--entrypoint", "ceph", e.image, "--connect-timeout", "20"}, args...)
	out, err := e.lab.Exec(e.ctx, e.hosts[0].Name, argv...)
	if err != nil {
		return string(out), fmt.Errorf("ceph %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// cephStatus is the part of `ceph -s --format json` the scenario checks.
type cephStatus struct {
	Health struct {
		Status string                     `json:"status"`
		Checks map[string]json.RawMessage `json:"checks"`
	} `json:"health"`
	QuorumNames []string `json:"quorum_names"`
	MonMap      struct {
		NumMons int `json:"num_mons"`
	} `json:"monmap"`
	OSDMap struct {
		NumOSDs   int `json:"num_osds"`
		NumUpOSDs int `json:"num_up_osds"`
		NumInOSDs int `json:"num_in_osds"`
	} `json:"osdmap"`
	MgrMap struct {
		Available   bool `json:"available"`
		NumStandbys int  `json:"num_standbys"`
	} `json:"mgrmap"`
	FSMap struct {
		Up     int `json:"up"`
		ByRank []struct {
			Status string `json:"status"`
		} `json:"by_rank"`
	} `json:"fsmap"`
}

func (s *cephStatus) String() string {
	checks := slices.Sorted(func(yield func(string) bool) {
		for k := range s.Health.Checks {
			if !yield(k) {
				return
			}
		}
	})
	return fmt.Sprintf("health %s %v; quorum %v (%d mons); mgr available %v, %d standby; osds %d/%d up/%d in; mds up %d",
		s.Health.Status, checks, s.QuorumNames, s.MonMap.NumMons, s.MgrMap.Available, s.MgrMap.NumStandbys,
		s.OSDMap.NumOSDs, s.OSDMap.NumUpOSDs, s.OSDMap.NumInOSDs, s.FSMap.Up)
}

func (e *env) status() (*cephStatus, error) {
	out, err := e.ceph("-s", "--format", "json")
	if err != nil {
		return nil, err
	}
	var s cephStatus
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return nil, fmt.Errorf("ceph -s: %w: %q", err, out)
	}
	return &s, nil
}

// waitFor polls check until it returns nil, and fails the test with its
// last error after timeout.
func (e *env) waitFor(what string, timeout time.Duration, check func() error) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			e.step("%s", what)
			return
		}
		if time.Now().After(deadline) || e.ctx.Err() != nil {
			_, ps, _ := e.orchExit("ps")
			e.t.Fatalf("%s: not after %v: %v\norch ps:\n%s", what, timeout, err, ps)
		}
		time.Sleep(2 * time.Second)
	}
}

// waitCeph waits until `ceph -s` passes check.
func (e *env) waitCeph(what string, timeout time.Duration, check func(*cephStatus) error) *cephStatus {
	e.t.Helper()
	var last *cephStatus
	e.waitFor(what, timeout, func() error {
		s, err := e.status()
		if err != nil {
			return err
		}
		last = s
		if err := check(s); err != nil {
			return fmt.Errorf("%w (%s)", err, s)
		}
		return nil
	})
	return last
}

// daemons is `orch ps --format json` with extra arguments (filters).
func (e *env) daemons(args ...string) []api.DaemonDescription {
	e.t.Helper()
	out := e.orch(append([]string{"ps", "--format", "json"}, args...)...)
	var ds []api.DaemonDescription
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		e.t.Fatalf("orch ps json: %v: %q", err, out)
	}
	return ds
}

// running checks that a daemon type has n daemons, all running.
func (e *env) running(daemonType string, n int) error {
	ds := e.daemons("--daemon-type", daemonType)
	var states []string
	ok := len(ds) == n
	for _, d := range ds {
		states = append(states, d.Name()+"="+d.StatusDesc)
		ok = ok && d.StatusDesc == "running"
	}
	if !ok {
		return fmt.Errorf("want %d %s daemons running, have %v", n, daemonType, states)
	}
	return nil
}

// startController runs `orch serve` (with extra flags) as a child process
// and returns a function that stops it; the test's cleanup stops it too.
// Its log is printed when the test fails.
func (e *env) startController(extra ...string) (stop func()) {
	logPath := filepath.Join(e.dir, "serve.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	args := append([]string{"serve", "--socket", e.sock, "--store", filepath.Join(e.dir, "orch.db"),
		"--agent-binary", e.bin, "--log-level", "info"}, extra...)
	cmd := exec.Command(e.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			logf.Close()
		})
	}
	e.t.Cleanup(func() {
		stop()
		if e.t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 30000 {
				b = b[len(b)-30000:]
			}
			e.t.Logf("orch serve log (tail):\n%s", b)
		}
	})
	for i := 0; ; i++ {
		if cmd.ProcessState != nil {
			e.t.Fatalf("orch serve exited: %v", cmd.ProcessState)
		}
		if c, err := net.Dial("unix", e.sock); err == nil {
			c.Close()
			return stop
		}
		if i > 500 {
			e.t.Fatal("orch serve did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a TCP port free on addr now.
func freePort(t *testing.T, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// httpGet returns the status code of GET url.
func httpGet(url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}

// TestCephCluster is issue 7's scenario on three lab hosts with two loop
// disks each: bootstrap; add two hosts; mon 3, mgr 2, an OSD on every
// disk, an mds for a CephFS, an rgw; ceph -s shows 3 mons in quorum, an
// active mgr with a standby, every OSD up and in, an active mds and no
// error-level health; rgw answers HTTP; mon scaled to 1 and back to 3; an
// OSD removed through the removal queue (its disk zapped and available
// again); a mon container stopped by hand shows as failed in orch ps and
// `orch daemon restart` brings it back into the quorum.
func TestCephCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("lab hosts need root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := t.TempDir()
	e := &env{t: t, ctx: ctx, bin: labtest.BuildOrch(t), dir: dir, sock: filepath.Join(dir, "orch.sock"), start: time.Now()}
	var archive string
	e.image, archive = labtest.CephImage(t)
	e.step("Ceph image %s ready", e.image)

	stop := e.startController()
	e.orch("ssh", "generate-key")
	pub := strings.TrimSpace(e.orch("ssh", "get-pub-key"))
	e.lab = hostlab.ForTest(t, 3, hostlab.Options{Disks: 2, DiskSize: 10 << 30, AuthorizedKeys: []string{pub}})
	e.hosts = e.lab.Hosts()
	// Restart the controller with its TCP API (mutual TLS, its own CA) on
	// the address the lab hosts reach the machine at, for the mgr module.
	stop()
	apiAddr := net.JoinHostPort(e.lab.ControllerAddr(), freePort(t, e.lab.ControllerAddr()))
	e.startController("--listen", apiAddr, "--tls-auto")
	if err := e.lab.LoadImage(ctx, archive); err != nil {
		t.Fatal(err)
	}
	e.step("3 lab hosts up, image loaded")

	// Bootstrap on h1, then the other two hosts.
	h1, h2, h3 := e.hosts[0], e.hosts[1], e.hosts[2]
	e.orch("bootstrap", "--mon-ip", h1.Addr, "--host", h1.Name, "--image", e.image, "--mgr-module")
	e.step("bootstrapped on %s, the mgr's orchestrator is orch at %s", h1.Name, apiAddr)
	if out, err := e.ceph("orch", "status"); err != nil || !strings.Contains(out, "Backend: orch") || !strings.Contains(out, "Available: Yes") {
		t.Fatalf("ceph orch status: %v\n%s", err, out)
	}
	for _, h := range []hostlab.Host{h2, h3} {
		if out := e.orch("host", "add", h.Name, h.Addr); !strings.Contains(out, "Added host '"+h.Name+"'") {
			t.Fatalf("host add %s: %q", h.Name, out)
		}
	}

	// Services.
	e.orch("apply", "mon", "3")
	e.orch("apply", "mgr", "2")
	e.waitFor("apply --dry-run previews an OSD on each of the 6 lab disks", 3*time.Minute, func() error {
		out := e.orch("apply", "osd", "--all-available-devices", "--dry-run", "--format", "json")
		var plan struct {
			OSDs []struct {
				Host string   `json:"host"`
				Data []string `json:"data"`
			} `json:"osds"`
		}
		if err := json.Unmarshal([]byte(out), &plan); err != nil {
			return fmt.Errorf("dry-run: %v: %q", err, out)
		}
		n := 0
		for _, o := range plan.OSDs {
			for _, d := range o.Data {
				if strings.HasPrefix(d, "/dev/loop") {
					n++
				}
			}
		}
		if n != 6 {
			return fmt.Errorf("dry-run previews %d devices: %s", n, out)
		}
		return nil
	})
	if out, err := e.ceph("osd", "ls"); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("the dry run made OSDs: %q %v", out, err)
	}
	e.orch("apply", "osd", "--all-available-devices")
	e.waitCeph("3 mons in quorum, a mgr with a standby, 6 OSDs up and in", 8*time.Minute, func(s *cephStatus) error {
		switch {
		case len(s.QuorumNames) != 3:
			return fmt.Errorf("quorum %v", s.QuorumNames)
		case !s.MgrMap.Available || s.MgrMap.NumStandbys != 1:
			return fmt.Errorf("mgr")
		case s.OSDMap.NumOSDs != 6 || s.OSDMap.NumUpOSDs != 6 || s.OSDMap.NumInOSDs != 6:
			return fmt.Errorf("osds")
		}
		return nil
	})
	if _, err := e.ceph("fs", "volume", "create", "cephfs"); err != nil {
		t.Fatal(err)
	}
	e.orch("apply", "mds", "cephfs", "--placement", "2")
	// The rgw goes through ceph-mgr: `ceph orch apply` on the cluster
	// reaches orch through the module.
	if out, err := e.ceph("orch", "apply", "rgw", "e2e", "--placement=1 "+h2.Name, "--port", "8080"); err != nil || !strings.Contains(out, "Scheduled rgw.e2e update") {
		t.Fatalf("ceph orch apply rgw: %v\n%s", err, out)
	}
	st := e.waitCeph("an active mds for cephfs, no error-level health", 5*time.Minute, func(s *cephStatus) error {
		switch {
		case len(s.FSMap.ByRank) != 1 || s.FSMap.ByRank[0].Status != "up:active":
			return fmt.Errorf("mds")
		case s.Health.Status == "HEALTH_ERR":
			return fmt.Errorf("health")
		}
		return nil
	})
	e.step("ceph -s: %s", st)
	rgwURL := "http://" + net.JoinHostPort(h2.Addr, "8080") + "/"
	e.waitFor("rgw answers HTTP on "+rgwURL, 3*time.Minute, func() error {
		code, body, err := httpGet(rgwURL)
		if err != nil {
			return err
		}
		if code != http.StatusOK || !strings.Contains(body, "ListAllMyBucketsResult") {
			return fmt.Errorf("GET %s: %d %q", rgwURL, code, body)
		}
		return nil
	})
	for typ, n := range map[string]int{"mon": 3, "mgr": 2, "osd": 6, "mds": 2, "rgw": 1, "crash": 3} {
		e.waitFor(fmt.Sprintf("orch ps: %d %s running", n, typ), 2*time.Minute, func() error { return e.running(typ, n) })
	}
	if ps := e.orch("ps", "--daemon-type", "rgw"); !strings.Contains(ps, "*:8080") {
		t.Errorf("orch ps shows no rgw port:\n%s", ps)
	}
	// ceph orch ps (ceph-mgr → module → controller) lists what orch ps does.
	var mine, theirs []string
	for _, d := range e.daemons() {
		mine = append(mine, d.Name())
	}
	out, err := e.ceph("orch", "ps", "--format", "json")
	var cephPS []struct {
		DaemonType string `json:"daemon_type"`
		DaemonID   string `json:"daemon_id"`
	}
	if err == nil {
		err = json.Unmarshal([]byte(out), &cephPS)
	}
	for _, d := range cephPS {
		theirs = append(theirs, d.DaemonType+"."+d.DaemonID)
	}
	slices.Sort(mine)
	slices.Sort(theirs)
	if err != nil || !slices.Equal(mine, theirs) {
		t.Errorf("ceph orch ps (%v) lists %v, orch ps %v", err, theirs, mine)
	} else {
		e.step("ceph orch ps through the mgr module lists the same %d daemons", len(theirs))
	}

	// mon 3 → 1 → 3.
	e.orch("apply", "mon", "1")
	e.waitCeph("mon scaled to 1", 5*time.Minute, func(s *cephStatus) error {
		if len(s.QuorumNames) != 1 || s.MonMap.NumMons != 1 {
			return fmt.Errorf("quorum %v", s.QuorumNames)
		}
		return nil
	})
	e.waitFor("orch ps: 1 mon", 2*time.Minute, func() error { return e.running("mon", 1) })
	e.orch("apply", "mon", "3")
	e.waitCeph("mon scaled back to 3", 5*time.Minute, func(s *cephStatus) error {
		if len(s.QuorumNames) != 3 {
			return fmt.Errorf("quorum %v", s.QuorumNames)
		}
		return nil
	})
	e.waitFor("orch ps: 3 mons", 2*time.Minute, func() error { return e.running("mon", 3) })
	// The client files on the _admin host and every OSD's config follow
	// the monitors (the reconciler rewrites them after mon_host changed).
	e.waitFor("ceph.conf on h1 and the OSDs' configs name all 3 mons", 3*time.Minute, func() error {
		files := []string{"/etc/ceph/ceph.conf"}
		out, err := e.lab.Exec(ctx, h1.Name, "sh", "-c", "ls -d /var/lib/ceph/*/osd.*")
		if err != nil {
			return fmt.Errorf("osd dirs on h1: %v: %s", err, out)
		}
		for _, d := range strings.Fields(string(out)) {
			files = append(files, d+"/config")
		}
		for _, f := range files {
			b, err := e.lab.Exec(ctx, h1.Name, "cat", f)
			if err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
			for _, h := range e.hosts {
				if !strings.Contains(string(b), h.Addr+":3300") {
					return fmt.Errorf("%s on h1 does not name %s: %q", f, h.Addr, b)
				}
			}
		}
		return nil
	})

	// Remove an OSD through the queue, zapping its disk. The service is
	// made unmanaged first, or the reconciler would make a new OSD on
	// the zapped disk (cephadm's documented behaviour too).
	e.orch("set-unmanaged", "osd.all-available-devices")
	victim := e.daemons("--daemon-type", "osd")
	slices.SortFunc(victim, func(a, b api.DaemonDescription) int {
		return strings.Compare(a.Hostname+a.DaemonID, b.Hostname+b.DaemonID)
	})
	osd := victim[len(victim)-1]
	// Queued through ceph-mgr (ceph orch osd rm → the module → the
	// controller's queue), followed with orch osd rm status.
	if out, err = e.ceph("orch", "osd", "rm", osd.DaemonID, "--zap"); err != nil || !strings.Contains(out, "Scheduled OSD(s) for removal") {
		t.Fatalf("ceph orch osd rm: %v\n%s", err, out)
	}
	e.step("ceph orch osd rm %s --zap: %s", osd.DaemonID, strings.TrimSpace(out))
	if st := e.orch("osd", "rm", "status"); !strings.Contains(st, osd.DaemonID+" ") || !strings.Contains(st, osd.Hostname) {
		t.Errorf("orch osd rm status does not show osd.%s:\n%s", osd.DaemonID, st)
	}
	e.waitFor("removal queue empty", 8*time.Minute, func() error {
		out := e.orch("osd", "rm", "status", "--format", "json")
		var q []map[string]any
		if err := json.Unmarshal([]byte(out), &q); err != nil {
			return fmt.Errorf("osd rm status: %v: %q", err, out)
		}
		if len(q) != 0 {
			return fmt.Errorf("queue %v", q)
		}
		return nil
	})
	e.waitCeph("5 OSDs up and in", 3*time.Minute, func(s *cephStatus) error {
		if s.OSDMap.NumOSDs != 5 || s.OSDMap.NumUpOSDs != 5 || s.OSDMap.NumInOSDs != 5 {
			return fmt.Errorf("osds")
		}
		return nil
	})
	if tree, err := e.ceph("osd", "tree"); err != nil || strings.Contains(tree, "osd."+osd.DaemonID+" ") {
		t.Errorf("osd.%s still in the tree (%v):\n%s", osd.DaemonID, err, tree)
	}
	e.waitFor("orch ps: 5 osds", 2*time.Minute, func() error { return e.running("osd", 5) })
	e.waitFor("the zapped disk is available again", 3*time.Minute, func() error {
		var hosts []inventory.InventoryHost
		out := e.orch("device", "ls", osd.Hostname, "--refresh", "--format", "json")
		if err := json.Unmarshal([]byte(out), &hosts); err != nil {
			return fmt.Errorf("device ls: %v: %q", err, out)
		}
		avail := 0
		for _, h := range hosts {
			for _, d := range h.Devices {
				if d.Available {
					avail++
				}
			}
		}
		if avail != 1 {
			return fmt.Errorf("%d available devices on %s", avail, osd.Hostname)
		}
		return nil
	})

	// A mon container stopped by hand: orch ps shows it failed; orch
	// daemon restart brings it back.
	mon := "mon." + h3.Name
	names, err := e.lab.Exec(ctx, h3.Name, "podman", "ps", "--format", "{{.Names}}")
	if err != nil {
		t.Fatalf("podman ps on %s: %v", h3.Name, err)
	}
	var cname string
	for _, n := range strings.Fields(string(names)) {
		if strings.HasPrefix(n, "ceph-") && strings.HasSuffix(n, "-mon-"+h3.Name) {
			cname = n
		}
	}
	if cname == "" {
		t.Fatalf("no mon container on %s: %s", h3.Name, names)
	}
	if out, err := e.lab.Exec(ctx, h3.Name, "podman", "stop", cname); err != nil {
		t.Fatalf("podman stop %s on %s: %v\n%s", cname, h3.Name, err, out)
	}
	e.step("stopped %s by hand", cname)
	e.waitFor("orch ps shows "+mon+" failed", 2*time.Minute, func() error {
		ds := e.daemons("--daemon-type", "mon", "--refresh")
		for _, d := range ds {
			if d.Name() == mon {
				if d.StatusDesc != "error" {
					return fmt.Errorf("%s is %s", mon, d.StatusDesc)
				}
				return nil
			}
		}
		return fmt.Errorf("%s not listed", mon)
	})
	if ps := e.orch("ps", "--daemon-type", "mon"); !strings.Contains(ps, "error") {
		t.Errorf("orch ps:\n%s", ps)
	}
	e.orch("daemon", "restart", mon)
	e.waitFor(mon+" running again", 3*time.Minute, func() error { return e.running("mon", 3) })
	st = e.waitCeph("3 mons in quorum again, no error-level health", 3*time.Minute, func(s *cephStatus) error {
		if len(s.QuorumNames) != 3 || s.Health.Status == "HEALTH_ERR" {
			return fmt.Errorf("quorum %v", s.QuorumNames)
		}
		return nil
	})
	e.step("final ceph -s: %s", st)
	t.Logf("orch ps:\n%s", e.orch("ps"))
}
