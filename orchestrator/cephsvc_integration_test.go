//go:build integration

package orchestrator

import (
	"context"
	"fmt"
	"github.com/orchceph/orch/internal/labtest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
)

// TestCephServicesLab: bootstrap on h1, add the other hosts, then `apply
// mon N`, `apply mgr 2` and `apply crash '*'` through the reconciler: the
// new monitors join the quorum, one mgr is active with a standby, every
// host runs crash. Scaling mon down removes a monitor from the monmap.
// ORCH_TEST_CEPH_HOSTS sets the number of lab hosts (default 3).
func TestCephServicesLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	n := 3
	if v, err := strconv.Atoi(os.Getenv("ORCH_TEST_CEPH_HOSTS")); err == nil && v >= 2 {
		n = v
	}
	img, archive := labtest.CephImage(t)
	e := newLabEnv(t, n)
	hosts := e.lab.Hosts()

	t0 := time.Now()
	if err := e.lab.LoadImage(ctx, archive); err != nil {
		t.Fatal(err)
	}
	t.Logf("podman load on %d hosts: %v", n, time.Since(t0).Round(time.Millisecond))

	t0 = time.Now()
	st := e.bootstrap(t, ctx, api.BootstrapRequest{MonIP: hosts[0].Addr, Image: img})
	t.Logf("bootstrap: %v", time.Since(t0).Round(time.Millisecond))
	for _, h := range hosts[1:] {
		e.add(t, h)
	}
	r := NewReconciler(e.ctl, ReconcilerOptions{Interval: time.Hour, DeployTimeout: 5 * time.Minute})

	apply := func(yaml string) {
		t.Helper()
		m := map[string]any{}
		for _, line := range strings.Split(yaml, ";") {
			k, v, _ := strings.Cut(line, "=")
			m[k] = v
		}
		var docs []map[string]any
		switch m["service_type"] {
		default:
			count, _ := strconv.Atoi(m["count"].(string))
			docs = append(docs, map[string]any{"service_type": m["service_type"], "placement": map[string]any{"count": count}})
		case "crash":
			docs = append(docs, map[string]any{"service_type": "crash", "placement": map[string]any{"host_pattern": "*"}})
		}
		if _, err := r.Apply(ctx, api.ApplyRequest{Specs: docs}); err != nil {
			t.Fatalf("apply %s: %v", yaml, err)
		}
	}
	// converge runs passes until ok() holds.
	converge := func(what string, limit time.Duration, ok func() (bool, string)) {
		t.Helper()
		t0 := time.Now()
		last := ""
		for time.Since(t0) < limit {
			r.Pass(ctx)
			var done bool
			if done, last = ok(); done {
				t.Logf("%s: converged in %v: %s", what, time.Since(t0).Round(time.Millisecond), last)
				return
			}
			time.Sleep(2 * time.Second)
		}
		r.mu.Lock()
		fails, applyFails := r.health.placeFails, r.health.applyFails
		r.mu.Unlock()
		t.Fatalf("%s: not converged after %v: %s; placement failures %v; apply failures %v", what, limit, last, fails, applyFails)
	}

	monCount := min(n, 3)
	apply(fmt.Sprintf("service_type=mon;count=%d", monCount))
	apply("service_type=mgr;count=2")
	apply("service_type=crash")
	converge(fmt.Sprintf("mon %d, mgr 2, crash *", monCount), 8*time.Minute, func() (bool, string) {
		q, err := e.ctl.QuorumStatus(ctx)
		if err != nil {
			return false, err.Error()
		}
		s, err := e.ctl.CephStatus(ctx)
		if err != nil {
			return false, err.Error()
		}
		ds, err := r.ListDaemons(api.DaemonFilter{ServiceName: "crash"})
		if err != nil {
			return false, err.Error()
		}
		crashHosts := map[string]bool{}
		for _, d := range ds {
			if d.Status != nil && *d.Status == api.StatusRunning {
				crashHosts[d.Hostname] = true
			}
		}
		msg := fmt.Sprintf("quorum %v (monmap %d), mgr available %v standbys %d, crash running on %d hosts",
			q.QuorumNames, len(q.MonMap.Mons), s.MgrMap.Available, s.MgrMap.NumStandby, len(crashHosts))
		return len(q.QuorumNames) == monCount && s.MgrMap.Available && s.MgrMap.NumStandby == 1 && len(crashHosts) == n, msg
	})
	out, err := e.ctl.CephCommand(ctx, "-s")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ceph -s:\n%s", out)

	// No keyring in an argv: every new daemon's keyring is in its data dir
	// (0600), and the mons are in the minimal conf the others now carry.
	conf, err := e.ctl.MinimalConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts[:monCount] {
		if !strings.Contains(conf, h.Addr+":3300") {
			t.Errorf("mon_host of the minimal conf lacks %s: %s", h.Addr, conf)
		}
	}

	// Scale the monitors down by one: the removed one leaves the monmap.
	if monCount >= 3 {
		apply(fmt.Sprintf("service_type=mon;count=%d", monCount-1))
		converge("mon scale-down", 4*time.Minute, func() (bool, string) {
			q, err := e.ctl.QuorumStatus(ctx)
			if err != nil {
				return false, err.Error()
			}
			return len(q.MonMap.Mons) == monCount-1 && len(q.QuorumNames) == monCount-1,
				fmt.Sprintf("quorum %v, monmap %d", q.QuorumNames, len(q.MonMap.Mons))
		})
	}

	// The monmap changed: the daemons the reconciler deployed are
	// reconfigured with the new mon_host, then passes are idle.
	passes := 0
	for passes < 6 && r.Pass(ctx) {
		passes++
	}
	if passes == 6 {
		t.Errorf("still changing after %d passes: %v", passes, r.lastPlaceFails())
	}
	conf, err = e.ctl.MinimalConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := hosts[n-1]
	got, err := e.lab.Exec(ctx, last.Name, "cat", "/var/lib/ceph/"+st.FSID+"/crash."+last.Name+"/config")
	if err != nil {
		t.Fatalf("crash config on %s: %v", last.Name, err)
	}
	if string(got) != conf {
		t.Errorf("crash.%s config after %d passes:\n%s\nwant the minimal conf:\n%s", last.Name, passes, got, conf)
	}
	t.Logf("reconfigured after the monmap changes in %d passes; crash.%s config:\n%s", passes, last.Name, got)
}
