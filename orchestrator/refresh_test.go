package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

func kindCalls(fh *fakeAgentHost) map[string]int {
	return map[string]int{
		"ls": fh.count("ls"), "gather-facts": fh.count("gather-facts"),
		"list-networks": fh.count("list-networks"), "inventory": fh.count("inventory"),
	}
}

func wantCalls(t *testing.T, fh *fakeAgentHost, ls, facts, nets, inv int) {
	t.Helper()
	got := kindCalls(fh)
	want := map[string]int{"ls": ls, "gather-facts": facts, "list-networks": nets, "inventory": inv}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s ran %d times, want %d (all: %v)", fh.host, k, got[k], v, got)
		}
	}
}

func TestRefreshCachesEveryKind(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1", "h2")
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	now := re.now.Now()
	for name, fh := range re.hosts {
		wantCalls(t, fh, 1, 1, 1, 1)
		hc := re.cache(t, name)
		for _, k := range AllCacheKinds {
			if e := hc.Entry(k); !e.Refreshed.Equal(now) {
				t.Errorf("%s %s refreshed at %v, want %v", name, k, e.Refreshed, now)
			}
		}
		if !bytes.Equal(hc.Facts.Data, fakeFacts(name)) {
			t.Errorf("%s: cached facts differ from the agent's", name)
		}
		facts, err := re.ctl.HostFacts(name)
		if err != nil || facts.Hostname != name || facts.MemoryTotalKB != 32827612 {
			t.Errorf("HostFacts(%s) = %+v, %v", name, facts, err)
		}
		nets, err := re.ctl.HostNetworks(name)
		if err != nil || nets["10.0.0.0/24"]["eth0"][0] != "10.0.0.2" || len(nets) != 3 {
			t.Errorf("HostNetworks(%s) = %v, %v", name, nets, err)
		}
		devs, err := re.ctl.HostDevices(name)
		if err != nil || len(devs) != 4 || devs[0].Path != "/dev/sda" || !devs[0].Available || devs[1].Available {
			t.Fatalf("HostDevices(%s) = %v, %v", name, devs, err)
		}
		if devs[0].Created != "2026-11-21T06:00:00.000000Z" {
			t.Errorf("device created = %q, want the refresh time", devs[0].Created)
		}
		ds, err := re.ctl.HostDaemons(name)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range ds {
			names = append(names, d.DaemonName)
			if d.Hostname != name || d.LastRefresh != "2026-11-21T06:00:00.000000Z" || len(d.ContainerID) != 12 {
				t.Errorf("daemon %+v", d)
			}
		}
		want := fmt.Sprintf("crash.%s mgr.%s.abcdef mon.%s node-exporter.%s osd.1 osd.2", name, name, name, name)
		if strings.Join(names, " ") != want {
			t.Errorf("daemons of %s = %v, want %s", name, names, want)
		}
	}
	// A second pass right away finds nothing due.
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, re.hosts["h1"], 1, 1, 1, 1)
	if fs, _ := re.ctl.RefreshFailures(); len(fs) != 0 {
		t.Errorf("failures after a clean refresh: %+v", fs)
	}
}

func TestRefreshLifetimes(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1")
	fh := re.hosts["h1"]
	steps := []struct {
		advance              time.Duration
		ls, facts, nets, inv int
	}{
		{0, 1, 1, 1, 1},
		{30 * time.Second, 1, 1, 1, 1},   // nothing expired
		{31 * time.Second, 1, 2, 1, 1},   // facts: 60 s
		{60 * time.Second, 1, 3, 1, 1},   // facts again
		{480 * time.Second, 2, 4, 1, 1},  // t=601: daemons (600 s)
		{1200 * time.Second, 3, 5, 2, 2}, // t=1801: devices and networks (1800 s), daemons again
	}
	for i, s := range steps {
		re.now.Add(s.advance)
		if err := re.ctl.RefreshHosts(ctx, false); err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint("step", i), func(t *testing.T) { wantCalls(t, fh, s.ls, s.facts, s.nets, s.inv) })
	}
	hc := re.cache(t, "h1")
	if !hc.Facts.Refreshed.Equal(re.now.Now()) || hc.Daemons.Refreshed.Equal(re.now.Now().Add(-1200*time.Second)) {
		t.Errorf("refresh times: facts %v daemons %v (now %v)", hc.Facts.Refreshed, hc.Daemons.Refreshed, re.now.Now())
	}

	t.Run("configured lifetimes", func(t *testing.T) {
		re.ctl.ConfigureRefresh(RefreshOptions{FactsLifetime: time.Hour})
		defer re.ctl.ConfigureRefresh(RefreshOptions{})
		before := fh.count("gather-facts")
		re.now.Add(61 * time.Second)
		if err := re.ctl.RefreshHosts(ctx, false); err != nil {
			t.Fatal(err)
		}
		if fh.count("gather-facts") != before {
			t.Error("facts refreshed within a 1 h lifetime")
		}
	})
}

func TestRefreshForcedAndFlagged(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1", "h2")
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := re.ctl.RefreshHosts(ctx, true); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, re.hosts["h1"], 2, 2, 2, 2)

	// A refresh flag asks for that kind only, once.
	if err := re.st.SetRefreshNeeded("h2", store.CacheDevices, true); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := re.ctl.RefreshHosts(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	wantCalls(t, re.hosts["h2"], 2, 2, 2, 3)
	wantCalls(t, re.hosts["h1"], 2, 2, 2, 2)
	if hc := re.cache(t, "h2"); hc.RefreshNeeded != (store.RefreshFlags{}) {
		t.Errorf("flags after refresh: %+v", hc.RefreshNeeded)
	}

	// A flagged kind that fails keeps its flag, so the next pass retries.
	re.hosts["h1"].setFail("ls", 1, "Error EIO: podman ps failed\n")
	if err := re.st.SetRefreshNeeded("h1", store.CacheDaemons, true); err != nil {
		t.Fatal(err)
	}
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	if hc := re.cache(t, "h1"); !hc.RefreshNeeded.Daemons {
		t.Error("failed flagged refresh lost its flag")
	}
	re.hosts["h1"].setFail("ls", 0, "")
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	if hc := re.cache(t, "h1"); hc.RefreshNeeded.Daemons {
		t.Error("flag survived a successful refresh")
	}
	wantCalls(t, re.hosts["h1"], 4, 2, 2, 2)

	// RefreshHost refreshes what it is told, now, and consumes its flag.
	if err := re.st.SetRefreshNeeded("h1", store.CacheNetworks, true); err != nil {
		t.Fatal(err)
	}
	if err := re.ctl.RefreshHost(ctx, "h1", store.CacheNetworks); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, re.hosts["h1"], 4, 2, 3, 2)
	if hc := re.cache(t, "h1"); hc.RefreshNeeded.Networks {
		t.Error("RefreshHost left its kind flagged")
	}
	if err := re.ctl.RefreshHost(ctx, "nosuch"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("RefreshHost(nosuch) = %v", err)
	}
}

func TestInvalidateKicksABackgroundRefresh(t *testing.T) {
	re := newRefreshEnv(t, "h1", "h2")
	if err := re.ctl.InvalidateHosts([]string{"h1"}, store.CacheDevices); err != nil {
		t.Fatal(err)
	}
	re.ctl.WaitRefresh()
	// The background pass refreshes everything due: both hosts were never
	// refreshed.
	wantCalls(t, re.hosts["h1"], 1, 1, 1, 1)
	wantCalls(t, re.hosts["h2"], 1, 1, 1, 1)
	if err := re.ctl.InvalidateHosts([]string{"h2"}, store.CacheDevices, store.CacheNetworks); err != nil {
		t.Fatal(err)
	}
	re.ctl.WaitRefresh()
	wantCalls(t, re.hosts["h2"], 1, 1, 2, 2)
	wantCalls(t, re.hosts["h1"], 1, 1, 1, 1)
	if err := re.ctl.InvalidateHosts([]string{"nosuch"}); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("InvalidateHosts(nosuch) = %v", err)
	}
	if _, err := re.ctl.ScheduleRefresh(api.RefreshRequest{Kinds: []string{"bogus"}}); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("ScheduleRefresh(bogus kind) = %v", err)
	}

	t.Run("a running loop is woken instead", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		re.ctl.ConfigureRefresh(RefreshOptions{Interval: time.Hour})
		go func() { done <- re.ctl.RunRefreshLoop(ctx) }()
		before := re.hosts["h1"].count("inventory")
		deadline := time.Now().Add(10 * time.Second)
		for re.hosts["h1"].count("inventory") == before {
			if _, err := re.ctl.ScheduleRefresh(api.RefreshRequest{Hosts: []string{"h1"}, Kinds: []string{"devices"}}); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatal("the loop did not refresh after a kick")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("RunRefreshLoop = %v", err)
		}
		re.ctl.WaitRefresh()
	})
}

func TestRefreshSkipsMaintenanceHosts(t *testing.T) {
	re := newRefreshEnv(t, "h1", "h2")
	h, _ := re.st.GetHost("h2")
	h.Status = "maintenance"
	if err := re.st.PutHost(h); err != nil {
		t.Fatal(err)
	}
	if err := re.ctl.RefreshHosts(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, re.hosts["h2"], 0, 0, 0, 0)
	wantCalls(t, re.hosts["h1"], 1, 1, 1, 1)
	if err := re.ctl.RefreshHost(context.Background(), "h2"); !errors.Is(err, api.ErrBusy) {
		t.Errorf("RefreshHost on a maintenance host = %v", err)
	}
	if h, _ := re.st.GetHost("h2"); h.Status != "maintenance" {
		t.Errorf("status = %q", h.Status)
	}
}

func TestRefreshMarksUnreachableHostsOfflineAndRecovers(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1", "h2", "h3")
	down := re.hosts["h2"]
	addr := down.srv.Addr()
	down.srv.Close()
	// A maintenance host that is also down stays in maintenance.
	re.hosts["h3"].srv.Close()
	h3, _ := re.st.GetHost("h3")
	h3.Status = "maintenance"
	_ = re.st.PutHost(h3)

	start := time.Now()
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatalf("an unreachable host failed the pass: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("pass took %v", took)
	}
	wantCalls(t, re.hosts["h1"], 1, 1, 1, 1)
	if h, _ := re.st.GetHost("h2"); h.Status != "offline" {
		t.Fatalf("h2 status = %q, want offline", h.Status)
	}
	if h, _ := re.st.GetHost("h1"); h.Status != "" {
		t.Errorf("h1 status = %q", h.Status)
	}
	if h, _ := re.st.GetHost("h3"); h.Status != "maintenance" {
		t.Errorf("h3 status = %q", h.Status)
	}
	fs, err := re.ctl.RefreshFailures()
	if err != nil || len(fs) != 1 || fs[0].Host != "h2" || !fs[0].Offline || !strings.Contains(fs[0].Errors[ConnectFailure], "h2") {
		t.Fatalf("RefreshFailures = %+v, %v", fs, err)
	}
	if d := fs[0].Details(); len(d) != 1 || !strings.Contains(d[0], "could not be reached") {
		t.Errorf("details = %q", d)
	}
	// The record is persistent: another controller on the same store sees it.
	other, _ := New(Options{Store: re.st, Remote: re.ctl.remote})
	if fs2, _ := other.RefreshFailures(); len(fs2) != 1 {
		t.Errorf("failures seen by a new controller: %+v", fs2)
	}

	// Offline hosts are probed every pass, so they come back as soon as
	// they answer, though nothing is due by age.
	down.start(t, re.key, addr)
	re.now.Add(time.Second)
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	if h, _ := re.st.GetHost("h2"); h.Status != "" {
		t.Fatalf("h2 status after recovery = %q", h.Status)
	}
	wantCalls(t, down, 1, 1, 1, 1)
	if fs, _ := re.ctl.RefreshFailures(); len(fs) != 0 {
		t.Errorf("failures after recovery: %+v", fs)
	}
}

func TestRefreshRecordsKindFailures(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1", "h2")
	re.hosts["h1"].setFail("inventory", int(syscall.EIO), "Error EIO: inventory: lsblk: exit status 1\n")
	re.hosts["h1"].out["list-networks"] = []byte(`not json`)
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	hc := re.cache(t, "h1")
	if !hc.Devices.Refreshed.IsZero() || !hc.Networks.Refreshed.IsZero() || hc.Facts.Refreshed.IsZero() || hc.Daemons.Refreshed.IsZero() {
		t.Errorf("cache after partial failure: %+v", hc)
	}
	if h, _ := re.st.GetHost("h1"); h.Status != "" {
		t.Errorf("a host that answered went %q", h.Status)
	}
	fs, err := re.ctl.RefreshFailures()
	if err != nil || len(fs) != 1 || fs[0].Offline || len(fs[0].Errors) != 2 {
		t.Fatalf("failures = %+v, %v", fs, err)
	}
	if e := fs[0].Errors["devices"]; !strings.Contains(e, "host h1 `orch agent inventory` failed") || !strings.Contains(e, "lsblk") {
		t.Errorf("devices failure = %q", e)
	}
	if e := fs[0].Errors["networks"]; !strings.Contains(e, "list-networks printed no") {
		t.Errorf("networks failure = %q", e)
	}
	since := fs[0].Since

	// Never refreshed kinds are retried every pass; one recovers.
	re.hosts["h1"].setFail("inventory", 0, "")
	re.now.Add(5 * time.Second)
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	fs, _ = re.ctl.RefreshFailures()
	if len(fs) != 1 || len(fs[0].Errors) != 1 || fs[0].Errors["networks"] == "" || !fs[0].Since.Equal(since) || !fs[0].Updated.After(since) {
		t.Fatalf("failures after devices recovered = %+v", fs)
	}
	re.hosts["h1"].mu.Lock()
	re.hosts["h1"].out["list-networks"] = fakeNetworks("h1")
	re.hosts["h1"].mu.Unlock()
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	if fs, _ := re.ctl.RefreshFailures(); len(fs) != 0 {
		t.Errorf("failures after full recovery = %+v", fs)
	}
	if _, err := re.st.GetSetting(RefreshFailedPrefix + "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failure record left behind: %v", err)
	}
}

func TestRefreshConcurrencyIsBounded(t *testing.T) {
	var active, maxActive atomic.Int64
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("h%02d", i)
	}
	re := newRefreshEnv(t, names...)
	for _, fh := range re.hosts {
		fh.active, fh.maxActive = &active, &maxActive
		fh.delay = 30 * time.Millisecond
	}
	re.ctl.ConfigureRefresh(RefreshOptions{Concurrency: 3})
	if err := re.ctl.RefreshHosts(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if m := maxActive.Load(); m > 3 || m < 2 {
		t.Errorf("at most %d hosts probed at once, want 3 (bounded, and parallel)", m)
	}
	for _, fh := range re.hosts {
		wantCalls(t, fh, 1, 1, 1, 1)
	}
}

func TestRefreshPushesAMissingAgent(t *testing.T) {
	re := newRefreshEnv(t, "h1", "h2")
	// h2 answers "no such file" once, as a host whose agent was removed.
	if err := re.ctl.RefreshHost(context.Background(), "h1", store.CacheFacts); err != nil {
		t.Fatal(err)
	}
	re.hosts["h2"].noBins = 1
	if err := re.ctl.RefreshHost(context.Background(), "h2", store.CacheFacts); err != nil {
		t.Fatalf("refresh of a host without the agent: %v", err)
	}
	if n := re.hosts["h2"].count("gather-facts"); n != 2 {
		t.Errorf("gather-facts ran %d times on h2, want 2 (fail, push, retry)", n)
	}
}

func TestRefreshCancelledPassRecordsNothing(t *testing.T) {
	re := newRefreshEnv(t, "h1", "h2")
	for _, fh := range re.hosts {
		fh.delay = 5 * time.Second
	}
	if err := re.st.SetRefreshNeeded("h1", store.CacheDevices, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := re.ctl.RefreshHosts(ctx, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled pass = %v", err)
	}
	for _, n := range []string{"h1", "h2"} {
		if h, _ := re.st.GetHost(n); h.Status != "" {
			t.Errorf("%s status %q after a cancelled pass", n, h.Status)
		}
	}
	if fs, _ := re.ctl.RefreshFailures(); len(fs) != 0 {
		t.Errorf("failures after a cancelled pass: %+v", fs)
	}
	if hc := re.cache(t, "h1"); !hc.RefreshNeeded.Devices {
		t.Error("a cancelled pass consumed the refresh flag")
	}
	// The hosts were released: a new pass can claim them.
	if !re.ctl.rt().tryAcquire("h1") {
		t.Error("h1 still claimed after the pass")
	}
	re.ctl.rt().release("h1")
}

func TestDeviceLightAndRescan(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1")
	msg, err := re.ctl.DeviceLight(ctx, api.LightRequest{On: true, Host: "h1", Path: "/dev/sda"})
	if err != nil || msg != "Set ident light for h1:/dev/sda on" {
		t.Fatalf("DeviceLight = %q, %v", msg, err)
	}
	re.hosts["h1"].setFail("light", 95, "Error ENOTSUP: /dev/loop3: LED control is not supported for this device (no enclosure or LED-capable controller; ledctl says: exit status 33)\n")
	_, err = re.ctl.DeviceLight(ctx, api.LightRequest{On: false, IdentFault: "fault", Host: "h1", Path: "/dev/loop3"})
	var ec api.ErrnoCarrier
	if !errors.As(err, &ec) || ec.Errno() != syscall.ENOTSUP {
		t.Fatalf("light on a loop device = %v, want ENOTSUP", err)
	}
	if !strings.HasPrefix(err.Error(), "Unable to affect fault light for h1:/dev/loop3: /dev/loop3: LED control is not supported") {
		t.Errorf("message = %q", err)
	}
	for _, bad := range []api.LightRequest{
		{Host: "h1", Path: "/dev/sda; reboot"}, {Host: "h1", Path: ""}, {Host: "h1", Path: "/dev/../etc/passwd"},
		{Host: "h1", Path: "/dev/sda", IdentFault: "blink"},
	} {
		if _, err := re.ctl.DeviceLight(ctx, bad); !errors.Is(err, spec.ErrInvalidSpec) {
			t.Errorf("DeviceLight(%+v) = %v, want invalid", bad, err)
		}
	}
	if _, err := re.ctl.DeviceLight(ctx, api.LightRequest{Host: "nosuch", Path: "/dev/sda"}); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("DeviceLight on unknown host = %v", err)
	}

	msg, err = re.ctl.RescanHost(ctx, "h1")
	if err != nil || !strings.HasPrefix(msg, "Ok. 1 adapters detected") {
		t.Fatalf("RescanHost = %q, %v", msg, err)
	}
	re.ctl.WaitRefresh() // the rescan flagged devices and kicked a refresh
	if re.hosts["h1"].count("inventory") == 0 {
		t.Error("no device refresh after a rescan")
	}

	// An unreachable host is EHOSTUNREACH and goes offline.
	re.hosts["h1"].srv.Close()
	re.pool.Reset("h1")
	_, err = re.ctl.RescanHost(ctx, "h1")
	if !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("rescan of a down host = %v", err)
	}
	if h, _ := re.st.GetHost("h1"); h.Status != "offline" {
		t.Errorf("status after a failed rescan = %q", h.Status)
	}
}

func TestInventoryAndDetails(t *testing.T) {
	ctx := context.Background()
	re := newRefreshEnv(t, "h1", "h2", "h3")
	if err := re.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	re.addHost(t, "h0") // never refreshed
	inv, err := re.ctl.Inventory(ctx, nil, false)
	if err != nil || len(inv) != 4 {
		t.Fatalf("Inventory = %v, %v", inv, err)
	}
	if inv[0].Name != "h0" || len(inv[0].Devices) != 0 || inv[1].Name != "h1" || len(inv[1].Devices) != 4 || inv[1].Addr != "127.0.0.1" {
		t.Errorf("inventory = %+v", inv)
	}
	inv, err = re.ctl.Inventory(ctx, []string{"h2", "nosuch"}, false)
	if err != nil || len(inv) != 1 || inv[0].Name != "h2" {
		t.Errorf("Inventory(h2, nosuch) = %+v, %v", inv, err)
	}
	b, _ := json.Marshal(inv)
	for _, k := range []string{`"name":"h2"`, `"human_readable_type":"hdd"`, `"created":"2026-11-21T06:00:00.000000Z"`, `"rejected_reasons":["Insufficient space`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("inventory JSON lacks %s: %s", k, b)
		}
	}

	ds, err := re.ctl.HostDetails()
	if err != nil || len(ds) != 4 {
		t.Fatalf("HostDetails = %+v, %v", ds, err)
	}
	d := ds[1]
	want := api.HostDetails{Addr: "127.0.0.1", CPUSummary: "16C/32T", HDDSummary: "2/8.0TB", Hostname: "h1", Labels: []string{"lab"},
		NICCount: float64(2), OS: "Debian GNU/Linux 12 (bookworm)", RAM: "32 GiB", Server: "QEMU Standard PC (Q35 + ICH9, 2009)",
		ServiceType: "host", SSDSummary: "1/1.0TB"}
	if fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("details =\n%+v\nwant\n%+v", d, want)
	}
	if ds[0].CPUSummary != "N/A" || ds[0].NICCount != "N/A" || ds[0].RAM != "N/A" {
		t.Errorf("details without facts = %+v", ds[0])
	}
	raw, err := re.ctl.HostFactsJSON("h1")
	if err != nil || !bytes.Equal(raw, fakeFacts("h1")) {
		t.Errorf("HostFactsJSON = %.40s, %v", raw, err)
	}
	if _, err := re.ctl.HostFactsJSON("h0"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("facts of a host never refreshed = %v", err)
	}
	// refresh flags devices and networks and kicks; the answer is cached.
	if _, err := re.ctl.Inventory(ctx, []string{"h3"}, true); err != nil {
		t.Fatal(err)
	}
	re.ctl.WaitRefresh()
	wantCalls(t, re.hosts["h3"], 1, 1, 2, 2)
}

func TestHostDetailsDerivation(t *testing.T) {
	h := store.Host{Name: "n1", Addr: "10.0.0.1"}
	cases := []struct {
		facts                      map[string]any
		cpu, ram, hdd, ssd, server string
	}{
		{map[string]any{"cpu_cores": 4.0, "cpu_count": 1.0, "cpu_threads": 2.0, "memory_total_kb": 8000000.0, "hdd_capacity": "0.0B", "hdd_count": 0.0, "flash_capacity": "", "vendor": " Dell ", "model": "R740 "},
			"4C/8T", "8 GiB", "-", "N/A", "Dell R740"},
		{map[string]any{"memory_total_kb": 524288.0, "hdd_capacity": "2.0TB", "hdd_count": 1.0, "flash_capacity": "1.0TB", "flash_count": 3.0},
			"N/A", "512 MiB", "1/2.0TB", "3/1.0TB", " "},
		{map[string]any{"memory_total_kb": 1048577.0}, "N/A", "2 GiB", "N/A", "N/A", " "},
	}
	for i, c := range cases {
		d := hostDetails(h, c.facts)
		if d.CPUSummary != c.cpu || d.RAM != c.ram || d.HDDSummary != c.hdd || d.SSDSummary != c.ssd || d.Server != c.server {
			t.Errorf("case %d: %+v", i, d)
		}
	}
}

func TestRefreshInvalidFactsDoNotSinkTheBatch(t *testing.T) {
	re := newRefreshEnv(t, "h1", "h2", "h3")
	re.hosts["h2"].out["gather-facts"] = []byte(`{"hostname": "h2", oops}`)
	if err := re.ctl.RefreshHosts(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"h1", "h3"} {
		if hc := re.cache(t, n); hc.Facts.Refreshed.IsZero() || hc.Devices.Refreshed.IsZero() {
			t.Errorf("%s not cached after a neighbour sent bad facts", n)
		}
	}
	hc := re.cache(t, "h2")
	if !hc.Facts.Refreshed.IsZero() || hc.Devices.Refreshed.IsZero() {
		t.Errorf("h2: facts %v devices %v", hc.Facts.Refreshed, hc.Devices.Refreshed)
	}
	fs, _ := re.ctl.RefreshFailures()
	if len(fs) != 1 || fs[0].Host != "h2" || !strings.Contains(fs[0].Errors["facts"], "invalid JSON") {
		t.Errorf("failures = %+v", fs)
	}
}

func TestRefreshKickHook(t *testing.T) {
	re := newRefreshEnv(t, "h1")
	woken := 0
	re.ctl.SetRefreshKick(func() { woken++ })
	if err := re.ctl.InvalidateHosts(nil, store.CacheFacts); err != nil {
		t.Fatal(err)
	}
	re.ctl.WaitRefresh()
	if woken != 1 || re.hosts["h1"].count("gather-facts") != 0 {
		t.Errorf("woken %d times, facts gathered %d times: want the hook and no background pass", woken, re.hosts["h1"].count("gather-facts"))
	}
	if hc := re.cache(t, "h1"); !hc.RefreshNeeded.Facts {
		t.Error("flag not set")
	}
}
