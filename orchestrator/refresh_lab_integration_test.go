//go:build integration

package orchestrator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/rs/zerolog"
)

// TestLabRefresh runs the refresh against real lab hosts (sshd, podman,
// the pushed orch agent) with loop disks: one empty, one holding a file
// system, one partitioned, one too small; a host without disks; LEDs on
// loop disks; a host whose podman is hidden; a host whose sshd stops.
func TestLabRefresh(t *testing.T) {
	ctx := context.Background()
	e := newLabEnv(t, 3)
	hosts := e.lab.Hosts()
	for _, h := range hosts {
		e.add(t, h)
	}
	h1, h2, h3 := hosts[0].Name, hosts[1].Name, hosts[2].Name
	const gib = int64(1) << 30

	// h1: 10 GiB empty, 6 GiB with ext4, 6 GiB partitioned; h2: 20 GiB
	// empty, 1 GiB; h3: none.
	d1, err := e.lab.AddDisks(ctx, h1, 1, 10*gib)
	must(t, err)
	d1fs, err := e.lab.AddDisks(ctx, h1, 1, 6*gib)
	must(t, err)
	d1pt, err := e.lab.AddDisks(ctx, h1, 1, 6*gib)
	must(t, err)
	d2, err := e.lab.AddDisks(ctx, h2, 1, 20*gib)
	must(t, err)
	d2small, err := e.lab.AddDisks(ctx, h2, 1, 1*gib)
	must(t, err)
	if _, err := e.lab.Exec(ctx, h1, "mkfs.ext4", "-q", "-F", d1fs[0].Dev); err != nil {
		t.Fatalf("mkfs.ext4: %v", err)
	}
	if _, err := e.lab.ExecInput(ctx, h1, []byte("label: gpt\n,1GiB\n"), "sfdisk", "-q", d1pt[0].Dev); err != nil {
		t.Fatalf("sfdisk: %v", err)
	}
	// Lab loop disks lack partition scanning, so the partition is added
	// by hand. Such a partition outlives the loop device's detach and
	// would show up on whichever lab disk gets the number next: it is
	// removed before the lab goes down (cleanups run last-in first-out).
	if _, err := e.lab.Exec(ctx, h1, "partx", "-a", d1pt[0].Dev); err == nil {
		t.Cleanup(func() { _, _ = e.lab.Exec(context.Background(), h1, "partx", "-d", d1pt[0].Dev) })
	}
	must(t, e.lab.RefreshDiskView(ctx, h1))

	if err := e.ctl.RefreshHosts(ctx, false); err != nil {
		t.Fatal(err)
	}
	if fs, _ := e.ctl.RefreshFailures(); len(fs) != 0 {
		t.Fatalf("refresh failures: %+v", fs)
	}

	t.Run("each host sees only its own disks, with ceph-volume's verdicts", func(t *testing.T) {
		want := map[string]map[string][]string{
			h1: {d1[0].Dev: {}, d1fs[0].Dev: {"Has a FileSystem"}, d1pt[0].Dev: nil},
			h2: {d2[0].Dev: {}, d2small[0].Dev: {"Insufficient space (<5GB)"}},
			h3: {},
		}
		for host, disks := range want {
			devs, err := e.ctl.HostDevices(host)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range devs {
				if strings.HasPrefix(d.Path, d1pt[0].Dev+"p") {
					continue // the partition, when the kernel shows it
				}
				got = append(got, d.Path)
				reasons, mine := disks[d.Path]
				if !mine {
					t.Errorf("%s lists %s, which is not its disk", host, d.Path)
					continue
				}
				if d.Created == "" {
					t.Errorf("%s %s: no refresh time", host, d.Path)
				}
				if reasons == nil { // the partitioned disk
					t.Logf("%s %s (partitioned): %q", host, d.Path, d.RejectedReasons)
					if d.Available || !(slices.Contains(d.RejectedReasons, "Has partitions") || slices.Contains(d.RejectedReasons, "Has GPT headers")) {
						t.Errorf("%s %s (partitioned): available=%v %q", host, d.Path, d.Available, d.RejectedReasons)
					}
					continue
				}
				if d.Available != (len(reasons) == 0) || !slices.Equal(d.RejectedReasons, reasons) {
					t.Errorf("%s %s: available=%v %q, want %q", host, d.Path, d.Available, d.RejectedReasons, reasons)
				}
			}
			if len(got) != len(disks) {
				t.Errorf("%s lists %v, want %d disks", host, got, len(disks))
			}
		}
		inv, err := e.ctl.Inventory(ctx, []string{h3, h1}, false)
		if err != nil || len(inv) != 2 || inv[0].Name != h1 || len(inv[1].Devices) != 0 {
			t.Errorf("Inventory(h3, h1) = %+v, %v", inv, err)
		}
	})

	t.Run("ceph-volume agrees", func(t *testing.T) {
		for _, host := range []string{h1, h2} {
			out, err := e.lab.Exec(ctx, host, "env", "CEPH_VOLUME_ALLOW_LOOP_DEVICES=1", "ceph-volume", "inventory", "--format", "json")
			if err != nil {
				t.Skipf("ceph-volume cannot run inside a lab host: %v", err)
			}
			var theirs []struct {
				Path            string   `json:"path"`
				Available       bool     `json:"available"`
				RejectedReasons []string `json:"rejected_reasons"`
			}
			if err := json.Unmarshal(out, &theirs); err != nil {
				t.Skipf("ceph-volume output: %v", err)
			}
			mine, _ := e.ctl.HostDevices(host)
			seen := 0
			for _, cv := range theirs {
				for _, d := range mine {
					if d.Path != cv.Path {
						continue
					}
					seen++
					sort.Strings(cv.RejectedReasons)
					if cv.Available != d.Available || !slices.Equal(cv.RejectedReasons, d.RejectedReasons) {
						t.Errorf("%s %s: ceph-volume %v %q, orch %v %q", host, d.Path, cv.Available, cv.RejectedReasons, d.Available, d.RejectedReasons)
					}
				}
			}
			if seen != len(mine) || seen == 0 {
				t.Errorf("ceph-volume listed %d of %s's %d devices: %s", seen, host, len(mine), out)
			}
		}
	})

	t.Run("facts and networks match the hosts", func(t *testing.T) {
		for _, h := range hosts {
			f, err := e.ctl.HostFacts(h.Name)
			if err != nil || f == nil {
				t.Fatalf("facts of %s: %v", h.Name, err)
			}
			if f.Hostname != h.Name {
				t.Errorf("%s: hostname %q", h.Name, f.Hostname)
			}
			meminfo, err := e.lab.Exec(ctx, h.Name, "cat", "/proc/meminfo")
			must(t, err)
			if kb := procField(string(meminfo), "MemTotal:"); kb == 0 || kb != f.MemoryTotalKB {
				t.Errorf("%s: memory_total_kb %d, /proc/meminfo %d", h.Name, f.MemoryTotalKB, kb)
			}
			cpuinfo, err := e.lab.Exec(ctx, h.Name, "cat", "/proc/cpuinfo")
			must(t, err)
			processors := strings.Count("\n"+string(cpuinfo), "\nprocessor")
			if strings.Contains(string(cpuinfo), "physical id") && f.CPUCount*f.CPUThreads != processors {
				t.Errorf("%s: cpu_count %d x cpu_threads %d, %d processors", h.Name, f.CPUCount, f.CPUThreads, processors)
			}
			eth0, ok := f.Interfaces["eth0"]
			if !ok || eth0.IPv4Address != h.Addr+"/24" || eth0.MTU == 0 {
				t.Errorf("%s: eth0 = %+v (interfaces %v)", h.Name, eth0, keys(f.Interfaces))
			}
			if _, ok := f.Interfaces["lo"]; ok {
				t.Errorf("%s: loopback listed", h.Name)
			}
			nets, err := e.ctl.HostNetworks(h.Name)
			must(t, err)
			_, subnet, _ := net.ParseCIDR(h.Addr + "/24")
			if ips := nets[subnet.String()]["eth0"]; !slices.Contains(ips, h.Addr) {
				t.Errorf("%s: networks %v lack %s on eth0 in %s", h.Name, nets, h.Addr, subnet)
			}
			ds, err := e.ctl.HostDaemons(h.Name)
			if err != nil || len(ds) != 0 {
				t.Errorf("%s: daemons %v, %v (none deployed)", h.Name, ds, err)
			}
		}
		details, err := e.ctl.HostDetails()
		must(t, err)
		for _, d := range details {
			if d.CPUSummary == "N/A" || !strings.HasSuffix(d.RAM, "iB") || d.OS == "N/A" {
				t.Errorf("details of %s: %+v", d.Hostname, d)
			}
		}
	})

	t.Run("an LED on a loop disk is not supported, through the API", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "orch.sock")
		srv := api.NewServer(api.NewHandler(e.ctl), zerolog.Nop())
		must(t, srv.ListenUnix(sock))
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(sctx) }()
		defer func() { cancel(); <-done }()
		c, err := api.NewClient(api.ClientOptions{Socket: sock, Timeout: time.Minute})
		must(t, err)
		_, err = c.DeviceLight(ctx, api.LightRequest{On: true, Host: h1, Path: d1[0].Dev})
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != syscall.ENOTSUP {
			t.Fatalf("light on %s = %v, want ENOTSUP", d1[0].Dev, err)
		}
		if !strings.HasPrefix(ae.Message, "Unable to affect ident light for "+h1+":"+d1[0].Dev+": ") || !strings.Contains(ae.Message, "not supported") {
			t.Errorf("message = %q", ae.Message)
		}
		t.Log(ae.Message)
		// The host answered: it is not offline.
		if h, _ := e.st.GetHost(h1); h.Status != "" {
			t.Errorf("status after a refused LED = %q", h.Status)
		}
		m, err := c.RescanHost(ctx, h1)
		if err != nil || !strings.HasPrefix(m.Message, "Ok") {
			t.Errorf("rescan = %+v, %v", m, err)
		}
		inv, err := c.Inventory(ctx, []string{h2}, false)
		if err != nil || len(inv) != 1 || len(inv[0].Devices) != 2 {
			t.Errorf("GET /inventory?hosts=%s = %+v, %v", h2, inv, err)
		}
	})

	t.Run("a host without podman fails check-host clearly", func(t *testing.T) {
		// The host has its own mount namespace: hiding podman there hides
		// it from that host only.
		if _, err := e.lab.Exec(ctx, h3, "mount", "--bind", "/dev/null", "/usr/bin/podman"); err != nil {
			t.Fatalf("hide podman: %v", err)
		}
		defer func() {
			if _, err := e.lab.Exec(ctx, h3, "umount", "/usr/bin/podman"); err != nil {
				t.Errorf("unhide podman: %v", err)
			}
		}()
		_, err := e.ctl.CheckHost(ctx, h3)
		if err == nil || !strings.Contains(err.Error(), "No container engine binary found (podman)") || !errors.Is(err, api.ErrInvalid) {
			t.Fatalf("CheckHost without podman = %v", err)
		}
		t.Log(err)
		if _, err := e.ctl.CheckHost(ctx, h2); err != nil {
			t.Errorf("CheckHost of a host with podman: %v", err)
		}
	})

	t.Run("stopped sshd: offline, then back", func(t *testing.T) {
		must(t, e.lab.StopSSHD(ctx, h2))
		e.pool.Reset(h2) // the pooled connection would outlive the listener
		start := time.Now()
		if err := e.ctl.RefreshHosts(ctx, true); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > labConnectTimeout+10*time.Second {
			t.Errorf("pass with a host down took %v", took)
		}
		if h, _ := e.st.GetHost(h2); h.Status != "offline" {
			t.Errorf("%s status = %q, want offline", h2, h.Status)
		}
		if h, _ := e.st.GetHost(h1); h.Status != "" {
			t.Errorf("%s status = %q", h1, h.Status)
		}
		fs, _ := e.ctl.RefreshFailures()
		if len(fs) != 1 || fs[0].Host != h2 || !fs[0].Offline {
			t.Errorf("failures = %+v", fs)
		}
		must(t, e.lab.StartSSHD(ctx, h2))
		// The pool backs off after a failed dial; retry for a while.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if err := e.ctl.RefreshHosts(ctx, false); err != nil {
				t.Fatal(err)
			}
			if h, _ := e.st.GetHost(h2); h.Status == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still offline after sshd restarted", h2)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if fs, _ := e.ctl.RefreshFailures(); len(fs) != 0 {
			t.Errorf("failures after recovery: %+v", fs)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func procField(text, key string) int64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == key {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
