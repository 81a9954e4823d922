//go:build integration

package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
	"github.com/rs/zerolog"
)

// TestOSDsLab: bootstrap on h1, add h2, `apply osd
// --all-available-devices`: ceph-volume raw prepares each host's loop disk
// and the reconciler deploys the OSDs, up and in.
func TestOSDsLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	const n = 2
	e, _, _ := newCephLab(t, ctx, n, 1, 6<<30)
	hosts := e.lab.Hosts()
	r := NewReconciler(e.ctl, ReconcilerOptions{Interval: time.Hour, DeployTimeout: 5 * time.Minute})
	for _, h := range hosts {
		devs, err := e.ctl.HostDevices(h.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			t.Logf("%s: %s available=%v %v", h.Name, d.Path, d.Available, d.RejectedReasons)
		}
		if len(devs) == 0 {
			t.Fatalf("%s: no devices in the inventory", h.Name)
		}
	}
	spec := map[string]any{"service_type": "osd", "service_id": "all-available-devices",
		"placement": map[string]any{"host_pattern": "*"}, "spec": map[string]any{"data_devices": map[string]any{"all": true}}}
	if _, err := r.Apply(ctx, api.ApplyRequest{Specs: []map[string]any{spec}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	last := ""
	for time.Since(t0) < 10*time.Minute {
		r.Pass(ctx)
		s, err := e.ctl.CephStatus(ctx)
		if err == nil {
			last = fmt.Sprintf("osds %d up %d in %d", s.OSDMap.NumOSDs, s.OSDMap.NumUpOSDs, s.OSDMap.NumInOSDs)
			if s.OSDMap.NumOSDs == n && s.OSDMap.NumUpOSDs == n && s.OSDMap.NumInOSDs == n {
				break
			}
		} else {
			last = err.Error()
		}
		time.Sleep(3 * time.Second)
	}
	t.Logf("after %v: %s", time.Since(t0).Round(time.Millisecond), last)
	out, _ := e.ctl.CephCommand(ctx, "-s")
	t.Logf("ceph -s:\n%s", out)
	tree, _ := e.ctl.CephCommand(ctx, "osd", "tree")
	t.Logf("ceph osd tree:\n%s", tree)
	r.mu.Lock()
	fails, applyFails := r.health.placeFails, r.health.applyFails
	r.mu.Unlock()
	s, err := e.ctl.CephStatus(ctx)
	if err != nil || s.OSDMap.NumUpOSDs != n || s.OSDMap.NumInOSDs != n {
		t.Fatalf("OSDs not up and in: %s (%v); placement failures %v; apply failures %v", last, err, fails, applyFails)
	}
	// Converged: another pass prepares nothing.
	r.Pass(ctx)
	s, _ = e.ctl.CephStatus(ctx)
	if s.OSDMap.NumOSDs != n {
		t.Errorf("after another pass: %d OSDs", s.OSDMap.NumOSDs)
	}

	// `orch daemon add osd h2:DEV` on a new disk.
	disks, err := e.lab.AddDisks(ctx, hosts[1].Name, 1, 6<<30)
	if err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	// Through the API route `orch daemon add osd` and the ceph-mgr module
	// use (POST /osds with a one-host drive group).
	sock := filepath.Join(t.TempDir(), "api.sock")
	srv := api.NewServer(api.NewHandler(r), zerolog.Nop())
	if err := srv.ListenUnix(sock); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	defer func() { stop(); <-served }()
	client, err := api.NewClient(api.ClientOptions{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	m, err := client.CreateOSDs(ctx, hosts[1].Name, []string{disks[0].Dev})
	if err != nil {
		t.Fatalf("POST /osds: %v", err)
	}
	msg := m.Message
	t.Logf("CreateOSDs %s:%s: %s (%v)", hosts[1].Name, disks[0].Dev, msg, time.Since(t0).Round(time.Millisecond))
	for time.Since(t0) < 3*time.Minute {
		if s, err = e.ctl.CephStatus(ctx); err == nil && s.OSDMap.NumUpOSDs == n+1 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if s == nil || s.OSDMap.NumUpOSDs != n+1 {
		t.Fatalf("after daemon add osd: %+v, %v", s, err)
	}
	t.Logf("osd.%d up after %v", n, time.Since(t0).Round(time.Millisecond))

	// A drive group with a db device: ceph-volume raw pairs the data
	// device with its own db device (--block.db), and the OSD's bluefs
	// uses it. The all-available-devices spec is made unmanaged first, or
	// it would take the new disks; the drive group selects by size, since
	// cephadm ignores db_devices when data_devices are given by path.
	spec["unmanaged"] = true
	if _, err := r.Apply(ctx, api.ApplyRequest{Specs: []map[string]any{spec}}); err != nil {
		t.Fatal(err)
	}
	dataDisk, err := e.lab.AddDisks(ctx, hosts[0].Name, 1, 8<<30)
	if err != nil {
		t.Fatal(err)
	}
	dbDisk, err := e.lab.AddDisks(ctx, hosts[0].Name, 1, 6<<30) // ceph-volume calls devices under 5 GB unavailable
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.RefreshHost(ctx, hosts[0].Name, store.CacheDevices); err != nil {
		t.Fatal(err)
	}
	withDB := map[string]any{"service_type": "osd", "service_id": "withdb", "placement": map[string]any{"hosts": []any{hosts[0].Name}},
		"spec": map[string]any{"data_devices": map[string]any{"size": "7G:"}, "db_devices": map[string]any{"size": ":7G"}}}
	if _, err := r.Apply(ctx, api.ApplyRequest{Specs: []map[string]any{withDB}}); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	for time.Since(t0) < 5*time.Minute {
		r.Pass(ctx)
		if s, err = e.ctl.CephStatus(ctx); err == nil && s.OSDMap.NumUpOSDs == n+2 {
			break
		}
		time.Sleep(3 * time.Second)
	}
	if s == nil || s.OSDMap.NumUpOSDs != n+2 {
		r.mu.Lock()
		fails := r.health.placeFails
		r.mu.Unlock()
		t.Fatalf("OSD with a db device not up: %+v, %v; placement failures %v", s, err, fails)
	}
	meta, err := e.ctl.CephCommand(ctx, "osd", "metadata", strconv.Itoa(n+1), "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	if err := json.Unmarshal(meta, &md); err != nil {
		t.Fatalf("osd metadata: %v: %s", err, meta)
	}
	if md["bluefs_dedicated_db"] != "1" || !strings.Contains(fmt.Sprint(md["bluefs_db_devices"]), filepath.Base(dbDisk[0].Dev)) {
		t.Errorf("osd.%d: bluefs_dedicated_db %v, db devices %v; want %s", n+1, md["bluefs_dedicated_db"], md["bluefs_db_devices"], dbDisk[0].Dev)
	}
	if !strings.Contains(fmt.Sprint(md["devices"]), filepath.Base(dataDisk[0].Dev)) {
		t.Errorf("osd.%d: devices %v, want data on %s", n+1, md["devices"], dataDisk[0].Dev)
	}
	t.Logf("osd.%d with data on %s and db on %s up after %v", n+1, dataDisk[0].Dev, dbDisk[0].Dev, time.Since(t0).Round(time.Millisecond))

	// An rgw on h1 (pools of size 2: the OSDs are on 2 hosts) answers
	// HTTP on its frontend port.
	for _, kv := range [][2]string{{"osd_pool_default_size", "2"}, {"osd_pool_default_pg_num", "8"}} {
		if err := e.ctl.ConfigSet(ctx, "global", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	rgw := map[string]any{"service_type": "rgw", "service_id": "lab", "placement": map[string]any{"hosts": []any{hosts[0].Name}},
		"spec": map[string]any{"rgw_frontend_port": 8080}}
	if _, err := r.Apply(ctx, api.ApplyRequest{Specs: []map[string]any{rgw}}); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	url := "http://" + hosts[0].Addr + ":8080/"
	cl := &http.Client{Timeout: 3 * time.Second}
	var body []byte
	for time.Since(t0) < 4*time.Minute {
		r.Pass(ctx)
		if resp, err := cl.Get(url); err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		body = nil
		time.Sleep(3 * time.Second)
	}
	if body == nil {
		r.mu.Lock()
		fails := r.health.placeFails
		r.mu.Unlock()
		out, _ := e.ctl.CephCommand(ctx, "-s")
		t.Fatalf("rgw did not answer %s within %v; placement failures %v\n%s", url, time.Since(t0).Round(time.Second), fails, out)
	}
	t.Logf("rgw answered %s after %v: %.120s", url, time.Since(t0).Round(time.Millisecond), body)

	// An mds for a CephFS "lab" (pools and file system made with the ceph
	// CLI; the mds joins it through mds_join_fs).
	for _, args := range [][]string{{"osd", "pool", "create", "cephfs.lab.meta", "8"}, {"osd", "pool", "create", "cephfs.lab.data", "8"},
		{"fs", "new", "lab", "cephfs.lab.meta", "cephfs.lab.data"}} {
		if _, err := e.ctl.CephCommand(ctx, args...); err != nil {
			t.Fatalf("ceph %v: %v", args, err)
		}
	}
	mds := map[string]any{"service_type": "mds", "service_id": "lab", "placement": map[string]any{"hosts": []any{hosts[1].Name}}}
	if _, err := r.Apply(ctx, api.ApplyRequest{Specs: []map[string]any{mds}}); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	stat := ""
	for time.Since(t0) < 3*time.Minute {
		r.Pass(ctx)
		if b, err := e.ctl.CephCommand(ctx, "mds", "stat"); err == nil {
			if stat = strings.TrimSpace(string(b)); strings.Contains(stat, "up:active") {
				break
			}
		}
		time.Sleep(2 * time.Second)
	}
	if !strings.Contains(stat, "up:active") {
		t.Fatalf("mds not active after %v: %s", time.Since(t0).Round(time.Second), stat)
	}
	t.Logf("mds stat after %v: %s", time.Since(t0).Round(time.Millisecond), stat)
	out, _ = e.ctl.CephCommand(ctx, "-s")
	t.Logf("ceph -s:\n%s", out)
}
