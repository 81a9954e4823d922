//go:build integration

package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/orchceph/orch/internal/labtest"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/hostlab"
	"github.com/orchceph/orch/spec"
	"github.com/rs/zerolog"
)

// TestMgrModuleCluster: a controller serving its TCP API with its own CA
// (as `orch serve --listen UPLINK:0 --tls-auto`) on the lab's uplink
// address, `orch bootstrap --mgr-module` on h1; then the real `ceph orch`
// CLI, run on the host through the cluster image, answers from this
// controller. A second mgr deployed by the reconciler on h2 gets the
// module too: after `ceph mgr fail`, `ceph orch` still answers through it.
func TestMgrModuleCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	img, archive := labtest.CephImage(t)
	e := newLabEnv(t, 2)
	hosts := e.lab.Hosts()
	if err := e.lab.LoadImage(ctx, archive); err != nil {
		t.Fatal(err)
	}

	// The API over TCP with mutual TLS, as `orch serve --tls-auto` runs it.
	r := NewReconciler(e.ctl, ReconcilerOptions{Interval: time.Hour, DeployTimeout: 5 * time.Minute})
	uplink := e.lab.ControllerAddr()
	ips, dns, err := TLSAutoNames(net.JoinHostPort(uplink, "0"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ta, err := e.ctl.IssueServerTLS(ips, dns)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(api.NewHandler(r, spec.ErrInvalidSpec), zerolog.Nop())
	if err := srv.ListenTLS(net.JoinHostPort(uplink, "0"), ta.Cert, ta.CA.Pool()); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addrs()[0].String()
	if err := e.ctl.SetAPIListener(&APIListener{Addr: addr, OwnCA: true, IPs: ta.IPs, DNSNames: ta.DNSNames}); err != nil {
		t.Fatal(err)
	}
	srvCtx, stopSrv := context.WithCancel(ctx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(srvCtx) }()
	t.Cleanup(func() {
		stopSrv()
		if err := <-srvDone; err != nil {
			t.Errorf("api server: %v", err)
		}
	})
	t.Logf("controller API on https://%s (names %v %v)", addr, ta.IPs, ta.DNSNames)

	t0 := time.Now()
	st, err := e.ctl.Bootstrap(ctx, api.BootstrapRequest{MonIP: hosts[0].Addr, Image: img, MgrModule: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err = e.ctl.WaitBootstrap(ctx, st.Operation)
	for _, s := range st.Steps {
		t.Logf("%6.2fs %-7s %s: %s", s.Seconds, s.State, s.Name, s.Detail)
	}
	if err != nil || st.State != api.BootstrapSucceeded {
		t.Fatalf("bootstrap: %v, %s: %s", err, st.State, st.Error)
	}
	t.Logf("bootstrap with the mgr module: %v", time.Since(t0).Round(time.Millisecond))

	// cephOn runs the ceph CLI on a host through the cluster image, as an
	// operator would on a cephadm cluster.
	cephOn := func(host string, args ...string) (string, error) {
		argv := append([]string{"podman", "run", "--rm", "--net=host", "-v", "/etc/ceph:/etc/ceph:ro", "--entrypoint", "ceph", img,
			"--connect-timeout", "20"}, args...)
		out, err := e.lab.Exec(ctx, host, argv...)
		return string(out), err
	}
	mustCeph := func(host string, args ...string) string {
		t.Helper()
		out, err := cephOn(host, args...)
		if err != nil {
			t.Fatalf("%s: ceph %s: %v\n%s", host, strings.Join(args, " "), err, out)
		}
		return out
	}
	h1 := hosts[0].Name

	checkOrch := func(t *testing.T, host string) {
		t.Helper()
		out := mustCeph(host, "orch", "status")
		if !strings.Contains(out, "Backend: orch") || !strings.Contains(out, "Available: Yes") {
			t.Errorf("ceph orch status:\n%s", out)
		}
		var hl []struct {
			Hostname string   `json:"hostname"`
			Addr     string   `json:"addr"`
			Labels   []string `json:"labels"`
		}
		out = mustCeph(host, "orch", "host", "ls", "--format", "json")
		if err := json.Unmarshal([]byte(out), &hl); err != nil {
			t.Fatalf("ceph orch host ls: %v\n%s", err, out)
		}
		want, err := e.ctl.ListHosts()
		if err != nil {
			t.Fatal(err)
		}
		var got, exp []string
		for _, h := range hl {
			got = append(got, fmt.Sprintf("%s %s %v", h.Hostname, h.Addr, h.Labels))
		}
		for _, h := range want {
			exp = append(exp, fmt.Sprintf("%s %s %v", h.Hostname, h.Addr, h.Labels))
		}
		slices.Sort(got)
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("ceph orch host ls = %q; the controller's hosts %q", got, exp)
		}
		t.Logf("ceph orch host ls on %s: %q", host, got)
	}

	t.Run("ceph orch on the admin host", func(t *testing.T) {
		checkOrch(t, h1)
		var ps []struct {
			DaemonType string `json:"daemon_type"`
			DaemonID   string `json:"daemon_id"`
			Hostname   string `json:"hostname"`
		}
		out := mustCeph(h1, "orch", "ps", "--format", "json")
		if err := json.Unmarshal([]byte(out), &ps); err != nil {
			t.Fatalf("ceph orch ps: %v\n%s", err, out)
		}
		var names []string
		for _, d := range ps {
			names = append(names, d.DaemonType+"."+d.DaemonID+"@"+d.Hostname)
		}
		for _, want := range []string{"mon." + st.MonID + "@" + h1, "mgr." + st.MgrID + "@" + h1, "crash." + h1 + "@" + h1} {
			if !slices.Contains(names, want) {
				t.Errorf("ceph orch ps lacks %s: %q", want, names)
			}
		}
		t.Logf("ceph orch ps: %q", names)
		// Errors come back from the controller with their errno.
		_, err := cephOn(h1, "orch", "host", "rm", "no-such-host")
		var ee *hostlab.ExitError
		if !errors.As(err, &ee) || !strings.Contains(ee.Stderr, "Error E") || !strings.Contains(ee.Stderr, "no-such-host") {
			t.Errorf("ceph orch host rm no-such-host = %v", err)
		} else {
			t.Logf("ceph orch host rm no-such-host: exit %d: %s", ee.Code, strings.TrimSpace(ee.Stderr))
		}
	})

	// fileModes returns "mode uid name" of the TLS files of a mgr's data dir.
	fileModes := func(host, mgrID string) string {
		return bootLabExec(t, ctx, e.lab, host, "sh", "-c",
			`cd "/var/lib/ceph/$1/mgr.$2" && stat -c '%a %u %n' orch-mgr-tls orch-mgr-tls/* orch-mgr-module/module.py`, "sh", st.FSID, mgrID)
	}
	t.Run("files on the host", func(t *testing.T) {
		out := fileModes(h1, st.MgrID)
		for _, want := range []string{"700 167 orch-mgr-tls\n", "600 167 orch-mgr-tls/client.key", "600 167 orch-mgr-tls/client.crt", "600 167 orch-mgr-module/module.py"} {
			if !strings.Contains(out, want) {
				t.Errorf("want %q in:\n%s", want, out)
			}
		}
		cfg := mustCeph(h1, "config", "get", "mgr", "mgr/orch/client_key")
		if strings.TrimSpace(cfg) != "/etc/orch-mgr/client.key" {
			t.Errorf("mgr/orch/client_key = %q", cfg)
		}
	})

	t.Run("a mgr deployed by the reconciler gets the module", func(t *testing.T) {
		h2 := hosts[1]
		e.add(t, h2)
		for _, doc := range []map[string]any{
			{"service_type": "mon", "placement": map[string]any{"hosts": []any{h1}}},
			{"service_type": "mgr", "placement": map[string]any{"count": 2}},
		} {
			if _, err := r.Apply(ctx, api.ApplyRequest{Specs: []map[string]any{doc}}); err != nil {
				t.Fatal(err)
			}
		}
		var standby string
		deadline := time.Now().Add(8 * time.Minute)
		for {
			r.Pass(ctx)
			s, err := e.ctl.CephStatus(ctx)
			if err == nil && s.MgrMap.Available && s.MgrMap.NumStandby == 1 {
				ds, _ := r.ListDaemons(api.DaemonFilter{DaemonType: "mgr"})
				for _, d := range ds {
					if d.Hostname == h2.Name {
						standby = d.DaemonID
					}
				}
				if standby != "" {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no standby mgr on %s: %v; placement failures %v", h2.Name, err, r.lastPlaceFails())
			}
			time.Sleep(2 * time.Second)
		}
		t.Logf("mgr.%s on %s is the standby", standby, h2.Name)
		if out := fileModes(h2.Name, standby); !strings.Contains(out, "600 167 orch-mgr-tls/client.key") {
			t.Errorf("%s:\n%s", h2.Name, out)
		}
		// Fail the active mgr: the reconciler's mgr takes over and serves
		// `ceph orch` through its own client certificate.
		mustCeph(h1, "mgr", "fail", st.MgrID)
		deadline = time.Now().Add(3 * time.Minute)
		for {
			var ms struct {
				Available  bool   `json:"available"`
				ActiveName string `json:"active_name"`
			}
			out, err := cephOn(h1, "mgr", "stat", "--format", "json")
			if err == nil && json.Unmarshal([]byte(out), &ms) == nil && ms.Available && ms.ActiveName == standby {
				if o, err := cephOn(h1, "orch", "status"); err == nil && strings.Contains(o, "Available: Yes") {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("mgr.%s did not take over with the module: %v\n%s", standby, err, out)
			}
			time.Sleep(2 * time.Second)
		}
		checkOrch(t, h1)
	})
}
