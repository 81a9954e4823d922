package orchestrator

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
)

func TestReconcileConvergesAndScales(t *testing.T) {
	sc := newSimCluster(t, "h1", "h2", "h3")
	res := sc.apply(containerSpec("web", 2, 8080, nil))
	if len(res.Results) != 1 || res.Results[0] != "Scheduled container.web update..." || res.Operation == 0 {
		t.Fatalf("apply = %+v", res)
	}
	sc.converge(5)
	got := sc.allDaemons()
	if len(got) != 2 {
		t.Fatalf("daemons after count 2 = %v", got)
	}
	for _, d := range got {
		host, name, _ := strings.Cut(d, ":")
		if name != "container.web."+host {
			t.Errorf("daemon %s: want the name container.web.<host> (no suffix for container)", d)
		}
	}
	op, err := sc.r.GetOperation(res.Operation)
	if err != nil || op.State != "succeeded" || op.Progress != 1 {
		t.Fatalf("operation = %+v, %v", op, err)
	}
	ds, err := sc.r.ListDaemons(api.DaemonFilter{ServiceName: "container.web"})
	if err != nil || len(ds) != 2 {
		t.Fatalf("ListDaemons = %v, %v", ds, err)
	}
	for _, d := range ds {
		if d.Status == nil || *d.Status != api.StatusRunning || d.StatusDesc != "running" || !slices.Equal(d.Ports, []int{8080}) ||
			d.ServiceName != "container.web" || d.ContainerImageName != "localhost/orch-testapp:latest" || d.LastRefresh == "" {
			t.Errorf("daemon = %+v", d)
		}
		if len(d.Events) == 0 || !strings.Contains(d.Events[0], `daemon:`+d.Name()+` [INFO] "Deployed `+d.Name()+` on host '`+d.Hostname+`'"`) {
			t.Errorf("events of %s = %v", d.Name(), d.Events)
		}
	}
	svcs, err := sc.r.ListServices(api.ServiceFilter{})
	if err != nil || len(svcs) != 1 || svcs[0].Status.Size != 2 || svcs[0].Status.Running != 2 || svcs[0].Status.Created == "" {
		t.Fatalf("ListServices = %+v, %v", svcs, err)
	}

	// Scale up to 3, then down to 1: surplus daemons are removed.
	sc.apply(containerSpec("web", 3, 8080, nil))
	sc.converge(5)
	if got := sc.allDaemons(); len(got) != 3 {
		t.Fatalf("daemons after count 3 = %v", got)
	}
	res = sc.apply(containerSpec("web", 1, 8080, nil))
	sc.converge(5)
	if got := sc.allDaemons(); len(got) != 1 {
		t.Fatalf("daemons after count 1 = %v", got)
	}
	if n := sc.log.count("rm "); n != 2 {
		t.Errorf("removals = %d, want 2: %v", n, sc.log.all())
	}
	op, _ = sc.r.GetOperation(res.Operation)
	var d opDetail
	_ = json.Unmarshal(op.Detail, &d)
	if op.State != "succeeded" || len(d.Services) != 1 || d.Services[0].Removed != 2 || d.Services[0].Remove != 2 {
		t.Errorf("scale-down operation = %+v %s", op, op.Detail)
	}
	// Nothing more to do: another pass changes nothing and sends nothing.
	before := len(sc.log.all())
	if sc.r.Pass(context.Background()) {
		t.Error("pass after convergence changed something")
	}
	if len(sc.log.all()) != before {
		t.Errorf("idle pass sent lifecycle commands: %v", sc.log.all()[before:])
	}
}

func TestReconcileUnreachableHostKeepsDaemons(t *testing.T) {
	sc := newSimCluster(t, "h1", "h2", "h3")
	sc.apply(containerSpec("web", 2, 8080, nil))
	sc.converge(5)
	got := sc.allDaemons()
	down, _, _ := strings.Cut(got[0], ":")
	sc.stopHost(down)
	sc.r.requestRefresh("")
	// The next refresh marks it offline; its daemon is kept and counted
	// (container daemons are not rescheduled), nothing is sent to it.
	sc.converge(5)
	h, _ := sc.e.st.GetHost(down)
	if h.Status != "offline" {
		t.Fatalf("host %s status = %q, want offline", down, h.Status)
	}
	ds, _ := sc.r.ListDaemons(api.DaemonFilter{Host: down})
	if len(ds) != 1 || ds[0].StatusDesc != "host is offline" || *ds[0].Status != api.StatusError {
		t.Fatalf("daemons on the offline host = %+v", ds)
	}
	if n := sc.log.count("deploy "); n != 2 {
		t.Errorf("deploys = %d, want 2 (no replacement for a daemon on an offline host): %v", n, sc.log.all())
	}
	// Scaling down does not remove the daemon we cannot reach.
	sc.apply(containerSpec("web", 1, 8080, nil))
	sc.converge(5)
	for _, e := range sc.log.all() {
		if strings.Contains(e, " "+down+" ") {
			if strings.HasPrefix(e, "rm ") {
				t.Errorf("removed a daemon on the unreachable host: %s", e)
			}
		}
	}
	hl, err := sc.r.Health()
	if err != nil || hl.Checks[HealthHostCheckFail].Count != 1 {
		t.Errorf("health = %+v, %v", hl, err)
	}
}

func TestReconcileMovesAddBeforeRemove(t *testing.T) {
	sc := newSimCluster(t, "h1", "h2")
	pl := func(h string) map[string]any {
		return map[string]any{"service_type": "container", "service_id": "app",
			"placement": map[string]any{"hosts": []any{h}}, "spec": map[string]any{"image": "img:1"}}
	}
	sc.apply(pl("h1"))
	sc.converge(5)
	sc.apply(pl("h2"))
	sc.converge(5)
	log := sc.log.all()
	want := []string{"deploy h1 container.app.h1", "deploy h2 container.app.h2", "rm h1 container.app.h1"}
	if !slices.Equal(log, want) {
		t.Fatalf("lifecycle log = %v, want %v (new daemon first, then the old one removed)", log, want)
	}
}

func TestReconcilePauseStopsChanges(t *testing.T) {
	sc := newSimCluster(t, "h1")
	if _, err := sc.r.Pause(); err != nil {
		t.Fatal(err)
	}
	sc.apply(containerSpec("web", 1, 8080, nil))
	lsBefore := sc.hosts["h1"].lsCalls
	sc.e.st.SetRefreshNeeded("h1", store.CacheDaemons, true)
	if sc.r.Pass(context.Background()) {
		t.Fatal("a paused pass changed something")
	}
	if len(sc.log.all()) != 0 {
		t.Fatalf("paused controller acted: %v", sc.log.all())
	}
	if sc.hosts["h1"].lsCalls == lsBefore {
		t.Error("paused controller stopped refreshing hosts")
	}
	hl, _ := sc.r.Health()
	if c, ok := hl.Checks[HealthPaused]; !ok || c.Summary != "cephadm background work is paused" {
		t.Errorf("health while paused = %+v", hl)
	}
	if _, err := sc.r.Resume(); err != nil {
		t.Fatal(err)
	}
	sc.converge(5)
	if got := sc.allDaemons(); len(got) != 1 {
		t.Fatalf("after resume: %v", got)
	}
	if hl, _ := sc.r.Health(); hl.Status != "HEALTH_OK" {
		t.Errorf("health after resume = %+v", hl)
	}
}

func TestReconcileRemoveServicePurges(t *testing.T) {
	sc := newSimCluster(t, "h1", "h2")
	sc.apply(containerSpec("web", 2, 8080, nil))
	sc.converge(5)
	msg, err := sc.r.RemoveService("container.web", false)
	if err != nil || msg.Message != "Removed service container.web" || msg.Operation == 0 {
		t.Fatalf("RemoveService = %+v, %v", msg, err)
	}
	svcs, _ := sc.r.ListServices(api.ServiceFilter{})
	if len(svcs) != 1 || svcs[0].Status.Deleted == "" {
		t.Fatalf("services while deleting = %+v", svcs)
	}
	sc.converge(6)
	if got := sc.allDaemons(); len(got) != 0 {
		t.Fatalf("daemons left after rm: %v", got)
	}
	if _, err := sc.e.st.GetSpec("container.web"); err == nil {
		t.Fatal("spec not purged once its daemons were gone")
	}
	op, _ := sc.r.GetOperation(msg.Operation)
	if op.State != "succeeded" {
		t.Errorf("rm operation = %+v", op)
	}
	if _, err := sc.r.RemoveService("container.web", false); err == nil || !strings.Contains(err.Error(), "Invalid service 'container.web'") {
		t.Errorf("second rm = %v", err)
	}
	sc.apply(map[string]any{"service_type": "mgr", "placement": map[string]any{"count": 1}})
	if _, err := sc.r.RemoveService("mgr", false); err == nil || !strings.Contains(err.Error(), `you might want to mark the mgr service as "unmanaged"`) {
		t.Errorf("rm mgr without force = %v", err)
	}
}

func TestReconcileDaemonActionsAndRedeploy(t *testing.T) {
	sc := newSimCluster(t, "h1")
	sc.apply(containerSpec("web", 1, 8080, nil))
	sc.converge(5)
	name := "container.web.h1"
	for _, action := range []string{"stop", "start", "restart"} {
		m, err := sc.r.DaemonAction(name, action, "")
		if err != nil || m.Message != "Scheduled to "+action+" "+name+" on host 'h1'" {
			t.Fatalf("DaemonAction %s = %+v, %v", action, m, err)
		}
		sc.converge(5)
		op, _ := sc.r.GetOperation(m.Operation)
		if op.State != "succeeded" {
			t.Fatalf("%s operation = %+v", action, op)
		}
		if action == "stop" {
			ds, _ := sc.r.ListDaemons(api.DaemonFilter{DaemonID: "web.h1"})
			if len(ds) != 1 || ds[0].StatusDesc != "stopped" {
				t.Fatalf("after stop: %+v", ds)
			}
			// A stopped daemon still fills its slot: nothing is redeployed.
			if n := sc.log.count("deploy "); n != 1 {
				t.Fatalf("deploys after stop = %d", n)
			}
		}
	}
	if _, err := sc.r.DaemonAction("container.nope", "restart", ""); err == nil || !strings.Contains(err.Error(), "Unable to find container.nope daemon(s)") {
		t.Errorf("action on unknown daemon = %v", err)
	}
	// Changing the container's environment redeploys it; changing only
	// its files reconfigures it.
	sc.apply(containerSpec("web", 1, 8080, map[string]any{"envs": []any{"A=1"}}))
	sc.converge(5)
	if n := sc.log.count("redeploy h1 " + name); n != 1 {
		t.Fatalf("redeploys after env change = %d: %v", n, sc.log.all())
	}
	sc.apply(containerSpec("web", 1, 8080, map[string]any{"envs": []any{"A=1"}, "files": map[string]any{"x.conf": "x"}}))
	sc.converge(5)
	if n := sc.log.count("reconfig h1 " + name); n != 1 {
		t.Fatalf("reconfigs after files change = %d: %v", n, sc.log.all())
	}
	// Service-level actions schedule every daemon.
	rs, err := sc.r.ServiceAction("container.web", "restart")
	if err != nil || len(rs.Results) != 1 || rs.Results[0] != "Scheduled to restart "+name+" on host 'h1'" {
		t.Fatalf("ServiceAction = %+v, %v", rs, err)
	}
	sc.converge(5)
	if n := sc.log.count("unit-restart h1 " + name); n != 2 {
		t.Errorf("restarts = %d", n)
	}
	// daemon rm: removed, then redeployed by its managed service.
	rm, err := sc.r.RemoveDaemons([]string{name}, false)
	if err != nil || rm.Results[0] != "Scheduled to remove "+name+" from host 'h1'" {
		t.Fatalf("RemoveDaemons = %+v, %v", rm, err)
	}
	sc.converge(6)
	if n := sc.log.count("rm h1 " + name); n != 1 {
		t.Errorf("rm-daemon calls = %d: %v", n, sc.log.all())
	}
	if got := sc.allDaemons(); len(got) != 1 {
		t.Errorf("daemons after daemon rm of a managed service = %v", got)
	}
}

func TestReconcilePortConflictReported(t *testing.T) {
	sc := newSimCluster(t, "h1")
	sc.apply(containerSpec("a", 1, 8080, nil))
	sc.converge(5)
	sc.apply(containerSpec("b", 1, 8080, nil))
	sc.converge(5)
	if got := sc.allDaemons(); len(got) != 1 {
		t.Fatalf("daemons = %v", got)
	}
	hl, _ := sc.r.Health()
	c, ok := hl.Checks[HealthDaemonPlaceFail]
	if !ok || c.Summary != "Failed to place 1 daemon(s)" || !strings.Contains(c.Detail[0], "TCP Port(s) '8080' required for container already in use by container.a.h1 on host 'h1'") {
		t.Fatalf("health = %+v", hl)
	}
	svcs, _ := sc.r.ListServices(api.ServiceFilter{ServiceName: "container.b"})
	if len(svcs) != 1 || len(svcs[0].Events) == 0 || !strings.Contains(svcs[0].Events[len(svcs[0].Events)-1], "[ERROR]") {
		t.Fatalf("service events = %+v", svcs)
	}
	// A port held by something else on the host: the agent refuses it.
	sc.hosts["h1"].mu.Lock()
	sc.hosts["h1"].busyPorts[9090] = true
	sc.hosts["h1"].mu.Unlock()
	sc.apply(containerSpec("c", 1, 9090, nil))
	sc.converge(5)
	hl, _ = sc.r.Health()
	found := false
	for _, d := range hl.Checks[HealthDaemonPlaceFail].Detail {
		found = found || strings.Contains(d, "TCP Port(s) '9090' required for container already in use")
	}
	if !found {
		t.Errorf("agent port refusal not reported: %+v", hl.Checks)
	}
}

func TestApplyValidation(t *testing.T) {
	sc := newSimCluster(t, "h1", "h2")
	for _, tc := range []struct {
		spec map[string]any
		want string
	}{
		{map[string]any{"service_type": "mon", "placement": map[string]any{"count": 7}}, "The maximum number of mon daemons allowed with 2 hosts is 5."},
		{map[string]any{"service_type": "crash", "placement": map[string]any{"hosts": []any{"h9"}}}, "Unknown hosts"},
		{map[string]any{"service_type": "crash", "placement": map[string]any{"label": "nope"}}, "No matching hosts for label nope"},
		{map[string]any{"service_type": "container", "service_id": "x", "placement": map[string]any{"count": 21}, "spec": map[string]any{"image": "i"}},
			"The maximum number of container daemons allowed with 2 hosts is 20 (2x10)"},
	} {
		_, err := sc.r.Apply(context.Background(), api.ApplyRequest{Specs: []map[string]any{tc.spec}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("apply %v = %v, want %q", tc.spec, err, tc.want)
		}
	}
	// Default placement is filled in and stored; --no-overwrite skips.
	res := sc.apply(map[string]any{"service_type": "crash"})
	if res.Results[0] != "Scheduled crash update..." {
		t.Fatalf("apply crash = %+v", res)
	}
	rec, _ := sc.e.st.GetSpec("crash")
	if !strings.Contains(string(rec.Spec), `"placement":{"host_pattern":"*"}`) {
		t.Errorf("stored crash spec = %s", rec.Spec)
	}
	res, err := sc.r.Apply(context.Background(), api.ApplyRequest{Specs: []map[string]any{{"service_type": "crash"}}, NoOverwrite: true})
	if err != nil || res.Results[0] != "Skipped crash service spec. To change crash spec omit --no-overwrite flag" {
		t.Errorf("no-overwrite = %+v, %v", res, err)
	}
	// set-unmanaged / set-managed.
	if m, err := sc.r.SetManaged("crash", false); err != nil || m != "Set unmanaged to True for service crash" {
		t.Errorf("SetManaged = %q, %v", m, err)
	}
	rec, _ = sc.e.st.GetSpec("crash")
	if !strings.Contains(string(rec.Spec), `"unmanaged":true`) {
		t.Errorf("unmanaged spec = %s", rec.Spec)
	}
}

func TestLivenessProbeMarksOfflineAndBack(t *testing.T) {
	sc := newSimCluster(t, "h1", "h2")
	sc.converge(3)
	addr := sc.stopHost("h1")
	if !sc.r.probeLiveness(context.Background()) {
		t.Fatal("probe saw no change after h1's sshd stopped")
	}
	if h, _ := sc.e.st.GetHost("h1"); h.Status != "offline" {
		t.Fatalf("h1 status = %q", h.Status)
	}
	if h, _ := sc.e.st.GetHost("h2"); h.Status != "" {
		t.Fatalf("h2 status = %q", h.Status)
	}
	if sc.r.probeLiveness(context.Background()) {
		t.Error("second probe reported a change")
	}
	sc.startHost(sc.hosts["h1"], addr)
	if !sc.r.probeLiveness(context.Background()) {
		t.Fatal("probe did not see h1 back")
	}
	if h, _ := sc.e.st.GetHost("h1"); h.Status != "" {
		t.Fatalf("h1 status after restart = %q", h.Status)
	}
	if hc, _ := sc.e.st.GetHostCache("h1"); !hc.RefreshNeeded.Daemons {
		t.Error("h1's daemons not flagged for a refresh after coming back")
	}
}

func TestEventsAndOperationsSurviveARestart(t *testing.T) {
	sc := newSimCluster(t, "h1")
	res := sc.apply(containerSpec("web", 1, 8080, nil))
	sc.converge(5)
	// A new reconciler over the same store (a restarted controller) sees
	// the events and the finished operation.
	r2 := NewReconciler(sc.e.ctl, ReconcilerOptions{Seed: 7})
	ds, err := r2.ListDaemons(api.DaemonFilter{})
	if err != nil || len(ds) != 1 || len(ds[0].Events) == 0 || !strings.Contains(ds[0].Events[0], "Deployed container.web.h1 on host 'h1'") {
		t.Fatalf("daemons after restart = %+v, %v", ds, err)
	}
	svcs, _ := r2.ListServices(api.ServiceFilter{})
	if len(svcs) != 1 || len(svcs[0].Events) == 0 {
		t.Fatalf("service events after restart = %+v", svcs)
	}
	op, err := r2.GetOperation(res.Operation)
	if err != nil || op.State != "succeeded" {
		t.Fatalf("operation after restart = %+v, %v", op, err)
	}
	if r2.opts.Interval != 60*time.Second {
		t.Errorf("default interval = %s, want cephadm's 60 s", r2.opts.Interval)
	}
}
