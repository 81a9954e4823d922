//go:build integration

package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/orchceph/orch/internal/labtest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/hostlab"
	"github.com/orchceph/orch/store"
)

// bootLabExec runs argv in a lab host (no SSH) and returns its output.
func bootLabExec(t *testing.T, ctx context.Context, lab *hostlab.Lab, host string, argv ...string) string {
	t.Helper()
	out, err := lab.Exec(ctx, host, argv...)
	if err != nil {
		t.Fatalf("%s: %v: %v\n%s", host, argv, err, out)
	}
	return string(out)
}

func TestBootstrapLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	img, archive := labtest.CephImage(t)
	e := newLabEnv(t, 1)
	h := e.lab.Hosts()[0]

	t0 := time.Now()
	bootLabExec(t, ctx, e.lab, h.Name, "podman", "load", "-q", "-i", archive)
	t.Logf("podman load of %s into %s: %v", img, h.Name, time.Since(t0).Round(time.Millisecond))

	// A first attempt, stopped (as by a controller shutdown) once its
	// monitor runs: what it made stays, recorded, and the next attempt
	// removes it first.
	var firstFSID string
	t.Run("interrupted attempt", func(t *testing.T) {
		ctl1, err := New(Options{Store: e.st, Remote: e.ctl.remote, AgentBinary: e.ctl.agent, CheckTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		st, err := ctl1.Bootstrap(ctx, api.BootstrapRequest{MonIP: h.Addr, Image: img})
		if err != nil {
			t.Fatal(err)
		}
		firstFSID = st.FSID
		waitBootStep(t, ctx, ctl1, st.Operation, "Waiting for the monitor quorum")
		ctl1.CloseBootstrap()
		st, err = ctl1.BootstrapStatus(st.Operation)
		if err != nil || st.State != api.BootstrapFailed || !strings.Contains(st.Cleanup, "left in place (the controller stopped): mon.") {
			t.Fatalf("interrupted attempt: %+v, %v", st, err)
		}
		t.Logf("interrupted attempt: %s; %s", st.Error, st.Cleanup)
		ps := bootLabExec(t, ctx, e.lab, h.Name, "podman", "ps", "-a", "--format", "{{.Names}}")
		if !strings.Contains(ps, "ceph-"+st.FSID+"-mon-") {
			t.Errorf("the interrupted attempt's mon is gone already:\n%s", ps)
		}
	})

	t0 = time.Now()
	st, err := e.ctl.Bootstrap(ctx, api.BootstrapRequest{MonIP: h.Addr, Image: img})
	if err != nil {
		t.Fatal(err)
	}
	st, err = e.ctl.WaitBootstrap(ctx, st.Operation)
	took := time.Since(t0)
	for _, s := range st.Steps {
		t.Logf("%6.2fs %-7s %s: %s", s.Seconds, s.State, s.Name, s.Detail)
	}
	if err != nil || st.State != api.BootstrapSucceeded {
		t.Fatalf("bootstrap: %v, %s: %s (errno %s)", err, st.State, st.Error, st.ErrnoName)
	}
	t.Logf("bootstrap took %v (controller's count %.1fs)", took.Round(time.Millisecond), st.Seconds)
	fsid := st.FSID
	if st.Steps[0].Name != "Removing what an earlier failed bootstrap left" || fsid != firstFSID {
		t.Errorf("first step %+v (fsid %s, first attempt's %s)", st.Steps[0], fsid, firstFSID)
	}

	t.Run("ceph -s through the image on the host", func(t *testing.T) {
		out := bootLabExec(t, ctx, e.lab, h.Name, "podman", "run", "--rm", "--net=host", "-v", "/etc/ceph:/etc/ceph:ro",
			"--entrypoint", "ceph", img, "-s", "-f", "json")
		var s CephHealth
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("ceph -s: %v\n%s", err, out)
		}
		if s.FSID != fsid || s.MonMap.NumMons != 1 || len(s.QuorumNames) != 1 || s.QuorumNames[0] != st.MonID {
			t.Errorf("mons: fsid %s, %d mons, quorum %v; want %s, 1, [%s]", s.FSID, s.MonMap.NumMons, s.QuorumNames, fsid, st.MonID)
		}
		if !s.MgrMap.Available {
			t.Error("no available mgr")
		}
		if s.Health.Status == "HEALTH_ERR" || s.Health.Status == "" {
			t.Errorf("health %q: %+v", s.Health.Status, s.Health.Checks)
		}
		t.Logf("health %s %v", s.Health.Status, s.Health.Checks)
	})

	t.Run("second bootstrap is refused", func(t *testing.T) {
		_, err := e.ctl.Bootstrap(ctx, api.BootstrapRequest{MonIP: h.Addr, Image: img})
		if !errors.Is(err, api.ErrExists) || !strings.Contains(err.Error(), "Cluster already bootstrapped: fsid "+fsid) {
			t.Fatalf("second bootstrap = %v", err)
		}
	})

	t.Run("mon binds the lab address", func(t *testing.T) {
		q, err := e.ctl.QuorumStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.MonMap.Mons) != 1 || len(q.MonMap.Mons[0].PublicAddrs.AddrVec) != 2 ||
			q.MonMap.Mons[0].PublicAddrs.AddrVec[0].Addr != h.Addr+":3300" {
			t.Errorf("monmap: %+v", q.MonMap)
		}
		ss := bootLabExec(t, ctx, e.lab, h.Name, "ss", "-ltnH")
		for _, want := range []string{h.Addr + ":3300", h.Addr + ":6789"} {
			if !strings.Contains(ss, want) {
				t.Errorf("nothing listens on %s in %s:\n%s", want, h.Name, ss)
			}
		}
	})

	t.Run("data and logs stay inside the host", func(t *testing.T) {
		in := bootLabExec(t, ctx, e.lab, h.Name, "sh", "-c",
			"ls -d /var/lib/ceph/"+fsid+"/mon."+st.MonID+"/store.db /var/log/ceph/"+fsid+" && stat -c '%n %a %U' /etc/ceph/ceph.client.admin.keyring /etc/ceph/ceph.conf /etc/ceph")
		if !strings.Contains(in, "keyring 600 root") || !strings.Contains(in, "ceph.conf 644 root") || !strings.Contains(in, "/etc/ceph 755 root") {
			t.Errorf("in %s:\n%s", h.Name, in)
		}
		for _, p := range []string{"/var/lib/ceph/" + fsid, "/var/log/ceph/" + fsid} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists on the machine itself (%v)", p, err)
			}
		}
		if b, err := os.ReadFile("/etc/ceph/ceph.conf"); err == nil && strings.Contains(string(b), fsid) {
			t.Error("the machine's /etc/ceph/ceph.conf names the lab cluster")
		}
		ps := bootLabExec(t, ctx, e.lab, h.Name, "podman", "ps", "--format", "{{.Names}} {{.Status}}")
		for _, d := range []string{"mon." + st.MonID, "mgr." + st.MgrID, "crash." + h.Name} {
			if !strings.Contains(ps, strings.ReplaceAll("ceph-"+fsid+"-"+d, ".", "-")+" Up") {
				t.Errorf("%s is not running:\n%s", d, ps)
			}
		}
	})

	t.Run("stored state", func(t *testing.T) {
		cl, _ := e.ctl.Cluster()
		if cl.ContainerImage != img || cl.FSID != fsid {
			t.Errorf("cluster record %+v", cl)
		}
		sec, err := e.st.GetSecret(store.KeyringSecret("client.admin"))
		if err != nil {
			t.Fatal(err)
		}
		onHost := bootLabExec(t, ctx, e.lab, h.Name, "cat", AdminKeyringPath)
		if strings.TrimSpace(onHost) != strings.TrimSpace(string(sec)) {
			t.Error("the host's admin keyring differs from the store's")
		}
		hs, _ := e.ctl.ListHosts()
		if len(hs) != 1 || !strings.Contains(strings.Join(hs[0].Labels, ","), AdminLabel) {
			t.Errorf("hosts %+v", hs)
		}
		for _, svc := range []string{"mon", "mgr", "crash"} {
			if _, err := e.st.GetSpec(svc); err != nil {
				t.Errorf("spec %s: %v", svc, err)
			}
		}
	})

	t.Run("talking to ceph", func(t *testing.T) {
		t0 := time.Now()
		conf, err := e.ctl.MinimalConfig(ctx)
		if err != nil || !strings.Contains(conf, "fsid = "+fsid) || !strings.Contains(conf, h.Addr+":3300") {
			t.Fatalf("MinimalConfig = %q, %v", conf, err)
		}
		t.Logf("one ceph command: %v", time.Since(t0).Round(time.Millisecond))
		kr, err := e.ctl.DaemonKeyring(ctx, "rgw", "test.h1.abcdef", h.Name)
		if err != nil || !strings.HasPrefix(kr, "[client.rgw.test.h1.abcdef]\n\tkey = AQ") {
			t.Fatalf("DaemonKeyring(rgw) = %q, %v", bootRedactKey(kr), err)
		}
		again, err := e.ctl.DaemonKeyring(ctx, "rgw", "test.h1.abcdef", h.Name)
		if err != nil || again != kr {
			t.Errorf("second DaemonKeyring differs or fails: %v", err)
		}
		// Other caps on the same entity: updated, same key.
		if _, err := e.ctl.CephCommand(ctx, "auth", "caps", "client.rgw.test.h1.abcdef", "mon", "allow r"); err != nil {
			t.Fatal(err)
		}
		if k3, err := e.ctl.DaemonKeyring(ctx, "rgw", "test.h1.abcdef", h.Name); err != nil || k3 != kr {
			t.Errorf("DaemonKeyring after a caps change: %v", err)
		}
		var caps []struct {
			Caps map[string]string `json:"caps"`
		}
		if err := e.ctl.CephJSON(ctx, &caps, "auth", "get", "client.rgw.test.h1.abcdef"); err != nil || len(caps) != 1 || caps[0].Caps["osd"] != "allow rwx tag rgw *=*" {
			t.Errorf("caps after DaemonKeyring = %+v, %v", caps, err)
		}
		if mon, err := e.ctl.DaemonKeyring(ctx, "mon", st.MonID, h.Name); err != nil || !strings.HasPrefix(mon, "[mon.]\n") {
			t.Errorf("DaemonKeyring(mon) = %q, %v", bootRedactKey(mon), err)
		}
		if err := e.ctl.RemoveDaemonKey(ctx, "client.rgw.test.h1.abcdef"); err != nil {
			t.Fatal(err)
		}
		if err := e.ctl.RemoveDaemonKey(ctx, "client.rgw.test.h1.abcdef"); err != nil {
			t.Errorf("removing a missing key: %v", err)
		}
		if err := e.ctl.RemoveDaemonKey(ctx, "client.admin"); err == nil {
			t.Error("RemoveDaemonKey(client.admin) succeeded")
		}
		_, err = e.ctl.CephCommand(ctx, "auth", "get", "client.rgw.test.h1.abcdef")
		var ce *CephError
		if !errors.As(err, &ce) || ce.Errno() != 2 {
			t.Errorf("auth get of a removed key = %v, want ENOENT", err)
		}
		ok, err := e.ctl.OKToStop(ctx, "mon", st.MonID)
		if err != nil || ok.OK {
			t.Errorf("OKToStop(the only mon) = %+v, %v; want not ok", ok, err)
		}
		t.Logf("mon ok-to-stop: %+v", ok)
		tree, err := e.ctl.OSDTree(ctx)
		if err != nil || len(tree.Nodes) == 0 {
			t.Errorf("OSDTree = %+v, %v", tree, err)
		}
		sd, err := e.ctl.SafeToDestroy(ctx, 0)
		t.Logf("safe-to-destroy 0 (no such OSD): %+v, %v", sd, err)
		if err != nil {
			t.Error(err)
		}
	})

	t.Run("status after success", func(t *testing.T) {
		got, err := e.ctl.BootstrapStatus(0)
		if err != nil || got.Operation != st.Operation || got.State != api.BootstrapSucceeded || len(got.NextSteps) == 0 {
			t.Errorf("BootstrapStatus(0) = %+v, %v", got, err)
		}
	})
}

func bootRedactKey(s string) string {
	if i := strings.Index(s, "key = "); i >= 0 {
		return s[:i] + "key = [redacted]"
	}
	return s
}

// waitBootStep waits until the attempt has started the named step.
func waitBootStep(t *testing.T, ctx context.Context, c *Controller, op uint64, step string) {
	t.Helper()
	for {
		st, err := c.BootstrapStatus(op)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st.Steps {
			if s.Name == step {
				return
			}
		}
		if st.Done() {
			t.Fatalf("attempt ended before %q: %s %s", step, st.State, st.Error)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
