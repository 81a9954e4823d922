//go:build integration

package agent

// Tests against this machine's real disks, tools and kernel. They need root,
// util-linux (losetup, lsblk, blkid), fdisk (sfdisk) and e2fsprogs
// (mkfs.ext4); the comparison with ceph-volume needs ceph-osd and udev, the
// LED test ledmon. Run with: go test -tags integration ./internal/agent/...

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range tools {
		if _, err := (&Host{}).LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// loopDisk attaches a sparse file of size bytes as a loop device (with
// partition scanning) and detaches it when the test ends.
func loopDisk(t *testing.T, size int64) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, size); err != nil {
		t.Fatal(err)
	}
	dev := mustRun(t, "losetup", "-f", "--show", "-P", f)
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v %s", dev, err, out)
		}
	})
	return dev
}

// testDisks makes the loop disks of the inventory tests and returns the
// expected verdict of each device (partitions included).
func testDisks(t *testing.T) map[string][]string {
	const gib = 1 << 30
	empty10 := loopDisk(t, 10*gib)
	empty20 := loopDisk(t, 20*gib)
	small := loopDisk(t, 1*gib)
	withFS := loopDisk(t, 6*gib)
	mustRun(t, "mkfs.ext4", "-q", "-F", withFS)
	parted := loopDisk(t, 6*gib)
	cmd := exec.Command("sfdisk", "-q", parted)
	cmd.Stdin = strings.NewReader("label: dos\n,1GiB\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	part := parted + "p1"
	if _, err := os.Stat("/sys/block/" + filepath.Base(parted) + "/" + filepath.Base(part)); err != nil {
		// Some kernels (sandboxed VMs) ignore the re-read sfdisk asks for;
		// BLKPG through partx still adds the partition.
		mustRun(t, "partx", "-a", parted)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, err := os.Stat(part); err != nil; _, err = os.Stat(part) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", part)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return map[string][]string{
		empty10: {},
		empty20: {},
		small:   {ReasonTooSmall},
		withFS:  {ReasonFileSystem},
		parted:  {ReasonPartitions},
		part:    {ReasonTooSmall},
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestIntegrationInventory(t *testing.T) {
	needRoot(t, "losetup", "lsblk", "blkid", "mkfs.ext4", "sfdisk", "partx")
	want := testDisks(t)
	devs, err := (&Host{}).Inventory(context.Background(), InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]Device{}
	for _, d := range devs {
		if _, mine := want[d.Path]; mine {
			ours[d.Path] = d
		}
	}
	for path, reasons := range want {
		d, ok := ours[path]
		if !ok {
			t.Errorf("%s missing from the inventory", path)
			continue
		}
		if d.Available != (len(reasons) == 0) || !sameSet(d.RejectedReasons, reasons) {
			t.Errorf("%s: available=%v reasons=%q, want reasons %q", path, d.Available, d.RejectedReasons, reasons)
		}
	}
	for path, d := range ours {
		if strings.HasSuffix(path, "p1") {
			continue
		}
		if d.SysAPI.Type != "loop" || d.SysAPI.Rotational != "1" || d.SysAPI.SectorSize != "512" || d.DeviceID != "" || len(d.LVs) != 0 {
			t.Errorf("%s sys_api = %+v device_id=%q", path, d.SysAPI, d.DeviceID)
		}
	}

	t.Run("matches ceph-volume", func(t *testing.T) {
		if _, err := exec.LookPath("ceph-volume"); err != nil {
			t.Skip("ceph-volume not installed (apt-get install ceph-osd udev)")
		}
		cmd := exec.Command("ceph-volume", "inventory", "--format", "json")
		cmd.Env = append(os.Environ(), "CEPH_VOLUME_ALLOW_LOOP_DEVICES=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ceph-volume inventory: %v\n%s", err, stderr.String())
		}
		var theirs []struct {
			Path            string   `json:"path"`
			Available       bool     `json:"available"`
			RejectedReasons []string `json:"rejected_reasons"`
			SysAPI          struct {
				Size              float64 `json:"size"`
				HumanReadableSize string  `json:"human_readable_size"`
				Type              string  `json:"type"`
			} `json:"sys_api"`
		}
		if err := json.Unmarshal(out, &theirs); err != nil {
			t.Fatalf("parse ceph-volume output: %v\n%s", err, out)
		}
		seen := 0
		for _, cv := range theirs {
			mine, ok := ours[cv.Path]
			if !ok {
				continue
			}
			seen++
			if cv.Available != mine.Available || !sameSet(cv.RejectedReasons, mine.RejectedReasons) {
				t.Errorf("%s: ceph-volume says available=%v %q, orch says available=%v %q",
					cv.Path, cv.Available, cv.RejectedReasons, mine.Available, mine.RejectedReasons)
			}
			if cv.SysAPI.Size != mine.SysAPI.Size || cv.SysAPI.HumanReadableSize != mine.SysAPI.HumanReadableSize || cv.SysAPI.Type != mine.SysAPI.Type {
				t.Errorf("%s: ceph-volume sys_api %+v, orch size=%v %q type=%q", cv.Path, cv.SysAPI, mine.SysAPI.Size, mine.SysAPI.HumanReadableSize, mine.SysAPI.Type)
			}
		}
		if seen != len(want) {
			t.Errorf("ceph-volume listed %d of the %d test devices", seen, len(want))
		}
	})

	t.Run("a device held open exclusively is locked", func(t *testing.T) {
		var dev string
		for path, reasons := range want {
			if len(reasons) == 0 {
				dev = path
				break
			}
		}
		f, err := os.OpenFile(dev, os.O_RDONLY|syscall.O_EXCL, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		devs, err := (&Host{}).Inventory(context.Background(), InventoryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range devs {
			if d.Path == dev && (d.Available || !slices.Contains(d.RejectedReasons, ReasonLocked) || d.SysAPI.Locked != 1) {
				t.Errorf("%s held with O_EXCL: available=%v reasons=%q locked=%d", dev, d.Available, d.RejectedReasons, d.SysAPI.Locked)
			}
		}
	})
}

func TestIntegrationFacts(t *testing.T) {
	f, err := (&Host{}).GatherFacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(meminfo), "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "MemTotal:" {
			if n, _ := strconv.ParseInt(fields[1], 10, 64); n != f.MemoryTotalKB {
				t.Errorf("memory_total_kb = %d, /proc/meminfo says %d", f.MemoryTotalKB, n)
			}
		}
	}
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	processors := strings.Count(string(cpuinfo), "\nprocessor") + map[bool]int{true: 1}[strings.HasPrefix(string(cpuinfo), "processor")]
	if strings.Contains(string(cpuinfo), "physical id") && f.CPUCount*f.CPUThreads != processors {
		t.Errorf("cpu_count %d x cpu_threads %d != %d processors", f.CPUCount, f.CPUThreads, processors)
	}
	if f.CPUModel == "" || f.CPUModel == unknown {
		t.Errorf("cpu_model = %q", f.CPUModel)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 {
			if _, ok := f.Interfaces[ifi.Name]; ok {
				t.Errorf("loopback %s listed", ifi.Name)
			}
			continue
		}
		nic, ok := f.Interfaces[ifi.Name]
		if !ok {
			t.Errorf("interface %s missing from facts", ifi.Name)
			continue
		}
		if nic.MTU != ifi.MTU {
			t.Errorf("%s mtu = %d, kernel says %d", ifi.Name, nic.MTU, ifi.MTU)
		}
		addrs, _ := ifi.Addrs()
		var v4 []string
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				ones, _ := ipn.Mask.Size()
				v4 = append(v4, ipn.IP.String()+"/"+strconv.Itoa(ones))
			}
		}
		if (len(v4) == 0) != (nic.IPv4Address == "") || (len(v4) > 0 && !slices.Contains(v4, nic.IPv4Address)) {
			t.Errorf("%s ipv4_address = %q, kernel has %q", ifi.Name, nic.IPv4Address, v4)
		}
	}
	if len(f.Interfaces) != len(ifs)-1 && len(f.Interfaces) != len(ifs) {
		t.Errorf("%d interfaces in facts, kernel has %d", len(f.Interfaces), len(ifs))
	}
	host, _ := os.Hostname()
	if f.Hostname != host {
		t.Errorf("hostname = %q, want %q", f.Hostname, host)
	}
}

func TestIntegrationListNetworks(t *testing.T) {
	needRoot(t, "ip")
	nets, err := (&Host{}).ListNetworks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ifs, _ := net.Interfaces()
	for _, ifi := range ifs {
		if ifi.Flags&net.FlagLoopback != 0 || ifi.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			subnet := (&net.IPNet{IP: ipn.IP.Mask(ipn.Mask), Mask: ipn.Mask}).String()
			if !slices.Contains(nets[subnet][ifi.Name], ipn.IP.String()) {
				t.Errorf("%s on %s: networks[%s] = %v", ipn, ifi.Name, subnet, nets[subnet])
			}
		}
	}
}

func TestIntegrationLightLoopNotSupported(t *testing.T) {
	needRoot(t, "losetup", "ledctl")
	const logFile = "/var/log/ledctl.log"
	if _, err := os.Stat(logFile); errors.Is(err, os.ErrNotExist) {
		t.Cleanup(func() { _ = os.Remove(logFile) }) // ledctl appends to it
	}
	dev := loopDisk(t, 1<<30)
	_, err := (&Host{}).Light(context.Background(), LightRequest{Device: dev, Type: LEDIdent, On: true})
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("err = %v, want ErrNotSupported", err)
	}
	if !strings.Contains(err.Error(), "LED control is not supported") || !strings.Contains(err.Error(), dev) {
		t.Errorf("unclear error: %v", err)
	}
	t.Log(err)
}

func TestIntegrationCheckHostWithoutPodman(t *testing.T) {
	// A PATH with the other tools the host has, but no podman.
	dir := t.TempDir()
	for _, tool := range []string{"systemctl", "lvcreate"} {
		if p, err := (&Host{}).LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	host, _ := os.Hostname()
	res, err := (&Host{Path: []string{dir}}).CheckHost(context.Background(), CheckHostOptions{ExpectHostname: host})
	var che *CheckHostError
	if !errors.As(err, &che) || res == nil || res.OK {
		t.Fatalf("err = %v, result %+v: want a failed check", err, res)
	}
	if !strings.Contains(err.Error(), "No container engine binary found (podman)") || len(che.Problems) != 1 {
		t.Errorf("err = %v; want exactly the missing podman", err)
	}
	t.Log(err)

	if _, err := (&Host{}).LookPath("podman"); err == nil {
		res, _ := (&Host{}).CheckHost(context.Background(), CheckHostOptions{ExpectHostname: strings.ToUpper(host)})
		if !res.ContainerEngine.Working || !res.Hostname.Matches {
			t.Errorf("with podman on PATH: %+v", res)
		}
	}
}

func TestIntegrationExecRunner(t *testing.T) {
	r := ExecRunner{}
	ctx := context.Background()
	if out, err := r.Run(ctx, []string{"sh", "-c", "echo hi"}); err != nil || string(out) != "hi\n" {
		t.Errorf("echo: %q, %v", out, err)
	}
	_, err := r.Run(ctx, []string{"sh", "-c", "echo bad >&2; exit 3"})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || ee.Stderr != "bad\n" {
		t.Errorf("exit 3: %v", err)
	}
	if _, err := r.Run(ctx, []string{"/nonexistent/prog"}); !errors.Is(err, ErrToolMissing) {
		t.Errorf("missing program: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Run(short, []string{"sleep", "10"}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
}
