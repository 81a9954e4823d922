package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
)

// startPausedController runs `orch serve` on a store prepared with a
// paused cluster, two hosts and one cached daemon on h1, so that the
// services commands have something to show without any SSH host (the
// controller has no SSH key: refreshes fail, nothing is deployed).
func startPausedController(t *testing.T) (sock, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "orch.db")
	st, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fsid := "3c8f1a2e-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
	running := api.StatusRunning
	now := time.Now().UTC()
	ip := "10.0.0.1"
	cached := []api.DaemonDescription{{DaemonType: "container", DaemonID: "web.h1", DaemonName: "container.web.h1",
		Hostname: "h1", ServiceName: "container.web", Status: &running, StatusDesc: "running", Ports: []int{8080}, IP: &ip,
		ContainerID: "0123456789ab", ContainerImageID: "feedfacecafebeef00", ContainerImageName: "localhost/orch-testapp:latest",
		Version: "1.0", Created: now.Add(-3 * time.Hour).Format(api.TimeFormat), Started: now.Add(-2 * time.Hour).Format(api.TimeFormat),
		LastRefresh: now.Add(-time.Minute).Format(api.TimeFormat)}}
	data, _ := json.Marshal(cached)
	err = st.Update(func(tx *store.Tx) error {
		if err := tx.PutCluster(store.Cluster{FSID: fsid, SSHUser: "root", Paused: true}); err != nil {
			return err
		}
		for _, h := range []string{"h1", "h2"} {
			if err := tx.PutHost(store.Host{Name: h, Addr: "10.0.0." + h[1:], Labels: []string{"web"}}); err != nil {
				return err
			}
		}
		return tx.UpdateHostCache("h1", store.CacheDaemons, data, now.Add(-time.Minute))
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	sock = filepath.Join(dir, "orch.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, errOut := TestIO("")
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--socket", sock, "--store", dbPath, "--agent-binary", "/bin/true", "--log-level", "error"}, ios)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut)
		}
	})
	for i := 0; i < 500; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock, dbPath
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("controller did not start")
	return "", ""
}

const webSpec = `service_type: container
service_id: web
placement:
  count: 1
spec:
  image: localhost/orch-testapp:latest
  ports:
  - 8080
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServicesCommands(t *testing.T) {
	sock, _ := startPausedController(t)
	file := writeFile(t, "web.yaml", webSpec)

	// apply -i: one message per spec, and an operation.
	code, out, errOut := run(t, sock, "apply", "-i", file)
	if code != 0 || out != "Scheduled container.web update...\n" {
		t.Fatalf("apply -i = %d %q %q", code, out, errOut)
	}
	code, out, _ = run(t, sock, "apply", "crash", "label:web")
	if code != 0 || out != "Scheduled crash update...\n" {
		t.Fatalf("apply crash = %d %q", code, out)
	}
	code, out, _ = run(t, sock, "apply", "-i", file, "--no-overwrite")
	if code != 0 || out != "Skipped container.web service spec. To change container.web spec omit --no-overwrite flag\n" {
		t.Fatalf("apply --no-overwrite = %d %q", code, out)
	}
	// cephadm's apply-time checks, as EINVAL.
	for _, args := range [][]string{
		{"apply", "mon", "7"},
		{"apply", "crash", "nohost"},
		{"apply", "-i", file, "crash"},
		{"apply", "nosuchtype"},
	} {
		code, out, errOut := run(t, sock, args...)
		if code != 22 || out != "" || !strings.HasPrefix(errOut, "Error EINVAL: ") {
			t.Errorf("%v = %d %q %q", args, code, out, errOut)
		}
	}
	if _, _, errOut := run(t, sock, "apply", "mon", "7"); !strings.Contains(errOut, "The maximum number of mon daemons allowed with 2 hosts is 5.") {
		t.Errorf("mon limit message = %q", errOut)
	}

	// orch ls: cephadm's columns; the cached daemon runs.
	code, out, _ = run(t, sock, "ls")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !regexp.MustCompile(`^NAME +PORTS +RUNNING +REFRESHED +AGE +PLACEMENT$`).MatchString(lines[0]) {
		t.Fatalf("ls = %d %q", code, out)
	}
	// crash counts h1 only: h2's daemons were never listed (not schedulable).
	if !regexp.MustCompile(`^container\.web +\?:8080 +1/1 +\d+s ago +\d+s +count:1$`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^crash +0/1 +- +\d+s +label:web$`).MatchString(lines[2]) {
		t.Errorf("ls rows = %q", lines[1:])
	}
	code, out, _ = run(t, sock, "ls", "container")
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("ls container = %q", out)
	}
	code, out, _ = run(t, sock, "ls", "--format", "json")
	var svcs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &svcs) != nil || len(svcs) != 2 || svcs[0]["service_name"] != "container.web" {
		t.Fatalf("ls json = %q", out)
	}
	st := svcs[0]["status"].(map[string]any)
	if st["running"] != 1.0 || st["size"] != 1.0 || st["created"] == nil || st["container_image_name"] != "localhost/orch-testapp:latest" {
		t.Errorf("ls json status = %v", st)
	}
	code, out, _ = run(t, sock, "ls", "container", "--format", "yaml")
	if code != 0 || !strings.HasPrefix(out, "service_type: container\nservice_id: web\nservice_name: container.web\nplacement:\n  count: 1\n") ||
		!strings.Contains(out, "\nstatus:\n") || !strings.Contains(out, "  running: 1\n") {
		t.Errorf("ls yaml = %q", out)
	}
	// --export is a stream apply -i accepts.
	code, out, _ = run(t, sock, "ls", "--export")
	if code != 0 || !strings.Contains(out, "---\n") || !strings.Contains(out, "service_type: crash") || !strings.Contains(out, "image: localhost/orch-testapp:latest") {
		t.Fatalf("ls --export = %q", out)
	}
	exported := writeFile(t, "export.yaml", out)
	if code, out, errOut := run(t, sock, "apply", "-i", exported); code != 0 || out != "Scheduled container.web update...\nScheduled crash update...\n" {
		t.Errorf("apply -i of the export = %d %q %q", code, out, errOut)
	}

	// orch ps: columns and filters.
	code, out, _ = run(t, sock, "ps")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 ||
		!regexp.MustCompile(`^NAME +HOST +PORTS +STATUS +REFRESHED +AGE +MEM USE +MEM LIM +VERSION +IMAGE ID +CONTAINER ID$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^container\.web\.h1 +h1 +10\.0\.0\.1:8080 +running \(2h\) +\d+s ago +3h +- +- +1\.0 +feedfacecafe +0123456789ab$`).MatchString(lines[1]) {
		t.Fatalf("ps = %d %q", code, out)
	}
	if code, out, _ := run(t, sock, "ps", "h2"); code != 0 || out != "No daemons reported\n" {
		t.Errorf("ps h2 = %d %q", code, out)
	}
	code, out, _ = run(t, sock, "ps", "--daemon-type", "container", "--format", "json")
	var ds []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ds) != nil || len(ds) != 1 || ds[0]["daemon_name"] != "container.web.h1" || ds[0]["status"] != 1.0 {
		t.Fatalf("ps json = %q", out)
	}
	code, out, _ = run(t, sock, "ps", "--format", "yaml")
	if code != 0 || !strings.HasPrefix(out, "daemon_type: container\ndaemon_id: web.h1\nservice_name: container.web\ndaemon_name: container.web.h1\nhostname: h1\n") {
		t.Errorf("ps yaml = %q", out)
	}

	// Lifecycle verbs are scheduled (the controller is paused: they wait).
	if code, out, _ := run(t, sock, "daemon", "restart", "container.web.h1"); code != 0 || out != "Scheduled to restart container.web.h1 on host 'h1'\n" {
		t.Errorf("daemon restart = %d %q", code, out)
	}
	if code, out, _ := run(t, sock, "restart", "container.web"); code != 0 || out != "Scheduled to restart container.web.h1 on host 'h1'\n" {
		t.Errorf("restart service = %d %q", code, out)
	}
	if code, _, errOut := run(t, sock, "daemon", "rm", "mon.h1"); code != 22 || !strings.Contains(errOut, "must pass --force to REMOVE daemon with potentially PRECIOUS DATA for mon.h1") {
		t.Errorf("daemon rm mon = %d %q", code, errOut)
	}
	if code, _, errOut := run(t, sock, "daemon", "restart", "container.nope"); code != 2 || errOut != "Error ENOENT: Unable to find container.nope daemon(s)\n" {
		t.Errorf("daemon restart unknown = %d %q", code, errOut)
	}
	if code, out, _ := run(t, sock, "set-unmanaged", "crash"); code != 0 || out != "Set unmanaged to True for service crash\n" {
		t.Errorf("set-unmanaged = %d %q", code, out)
	}
	if code, out, _ := run(t, sock, "ls", "crash"); code != 0 || !strings.Contains(out, "<unmanaged>") {
		t.Errorf("ls of unmanaged = %q", out)
	}

	// Operations.
	code, out, _ = run(t, sock, "op", "ls")
	if code != 0 || !strings.HasPrefix(out, "ID  KIND") || !strings.Contains(out, "apply container.web") || !strings.Contains(out, "daemon-action  pending") {
		t.Errorf("op ls = %d %q", code, out)
	}
	code, out, _ = run(t, sock, "op", "show", "1", "--format", "json")
	var op api.Operation
	if code != 0 || json.Unmarshal([]byte(out), &op) != nil || op.ID != 1 || op.Kind != "apply" {
		t.Errorf("op show = %d %q", code, out)
	}
	if code, _, errOut := run(t, sock, "op", "show", "999"); code != 2 || !strings.HasPrefix(errOut, "Error ENOENT: operation 999 not found") {
		t.Errorf("op show 999 = %d %q", code, errOut)
	}

	// Health: paused.
	code, out, _ = run(t, sock, "health")
	if code != 0 || !strings.HasPrefix(out, "HEALTH_WARN\n") || !strings.Contains(out, "[WRN] CEPHADM_PAUSED: cephadm background work is paused\n    'orch resume' to resume\n") {
		t.Errorf("health = %d %q", code, out)
	}

	// Export: the snapshot `orch plan --snapshot` replays.
	code, out, _ = run(t, sock, "export")
	var snap map[string]json.RawMessage
	if code != 0 || json.Unmarshal([]byte(out), &snap) != nil {
		t.Fatalf("export = %d %q", code, out)
	}
	for _, k := range []string{"hosts", "daemons", "inventory", "networks", "rank_maps", "specs"} {
		if _, ok := snap[k]; !ok {
			t.Errorf("export lacks %s: %s", k, out)
		}
	}
	snapFile := writeFile(t, "snap.json", out)
	more := writeFile(t, "more.yaml", strings.Replace(webSpec, "count: 1", "count: 2", 1))
	code, offline, errOut := run(t, sock, "plan", "-i", more, "--snapshot", snapFile, "--format", "json")
	if code != 0 {
		t.Fatalf("plan --snapshot of the export = %d %q", code, errOut)
	}
	code, live, errOut := run(t, sock, "apply", "-i", more, "--dry-run", "--format", "json")
	if code != 0 || live != offline {
		t.Errorf("apply --dry-run = %d %q %q, want the offline plan %q", code, live, errOut, offline)
	}
	if code, live, errOut := run(t, sock, "plan", "-i", more, "--format", "json"); code != 0 || live != offline {
		t.Errorf("plan without --snapshot = %d %q %q, want the offline plan %q", code, live, errOut, offline)
	}
	code, out, _ = run(t, sock, "apply", "-i", more, "--dry-run")
	if code != 0 || !strings.Contains(out, "SERVICESPEC PREVIEWS") || !strings.Contains(out, "|container  |container.web  |h2      |") {
		t.Errorf("apply --dry-run plain = %d %q", code, out)
	}

	// rm: mon/mgr refused, others marked deleted.
	if code, out, _ := run(t, sock, "rm", "container.web"); code != 0 || out != "Removed service container.web\n" {
		t.Errorf("rm = %d %q", code, out)
	}
	if code, out, _ := run(t, sock, "ls", "container"); code != 0 || !strings.Contains(out, "<deleting>") {
		t.Errorf("ls while deleting = %q", out)
	}
	if code, _, errOut := run(t, sock, "rm", "nosuch"); code != 2 || !strings.Contains(errOut, "Invalid service 'nosuch'") {
		t.Errorf("rm nosuch = %d %q", code, errOut)
	}
	if code, out, _ := run(t, sock, "resume"); code != 0 || out != "" {
		t.Errorf("resume = %d %q", code, out)
	}
	if code, out, _ := run(t, sock, "pause"); code != 0 || out != "" {
		t.Errorf("pause = %d %q", code, out)
	}
}

func TestProgressLine(t *testing.T) {
	op := api.Operation{ID: 3, Kind: "apply", State: "running", Progress: 0.5, Messages: []string{"apply container.web"}}
	if got := progressLine(op, false); got != "operation 3 running: 50% (apply container.web)" {
		t.Errorf("plain = %q", got)
	}
	if got := progressLine(op, true); got != "[===============               ]  50% apply container.web (running)" {
		t.Errorf("bar = %q", got)
	}
}

func TestFormatUnits(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{123456789, " 117M"}, {53 * 1024 * 1024, "53.0M"}, {1000, "1000 "}, {2048, "2048 "}, {20480, "20.0k"}} {
		if got := formatUnits(tc.n, 5, false); got != tc.want {
			t.Errorf("formatUnits(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestApplyAllAvailableDevicesSpec(t *testing.T) {
	o := &ApplyOptions{AllAvailableDevices: true}
	if err := o.parseArgs(nil, []string{"osd"}); err != nil {
		t.Fatal(err)
	}
	specs, err := o.buildSpecs()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(specs)
	// The body ceph orch sends for the same command (reference §3.4).
	want := `[{"placement":{"host_pattern":"*"},"service_id":"all-available-devices","service_name":"osd.all-available-devices","service_type":"osd","spec":{"data_devices":{"all":true},"filter_logic":"AND","objectstore":"bluestore"}}]`
	if string(b) != want {
		t.Errorf("specs = %s\nwant %s", b, want)
	}
	for _, args := range [][]string{{"osd", "3"}, {"mon"}} {
		o := &ApplyOptions{AllAvailableDevices: true}
		if err := o.parseArgs(nil, args); err == nil {
			t.Errorf("parseArgs(%v) with --all-available-devices succeeded", args)
		}
	}
	if err := (&ApplyOptions{}).parseArgs(nil, []string{"osd"}); err == nil {
		t.Error("orch apply osd without a spec succeeded")
	}
}
