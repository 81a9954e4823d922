package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got (as indented JSON) with testdata/name, or rewrites it
// under -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from golden file; got:\n%s", name, b)
	}
}

func TestGatherFacts(t *testing.T) {
	h := fixtureHost(t, newFakeRunner(t))
	f, err := h.GatherFacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"arch", f.Arch, "x86_64"},
		{"kernel", f.Kernel, "6.1.0-18-amd64"},
		{"hostname", f.Hostname, "node1"},
		{"shortname", f.Shortname, "node1"},
		{"fqdn", f.FQDN, "node1.example.com"},
		{"operating_system", f.OperatingSystem, "Debian GNU/Linux 12 (bookworm)"},
		{"subscribed", f.Subscribed, "Unknown"},
		{"cpu_model", f.CPUModel, "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"},
		{"cpu_count", f.CPUCount, 2},
		{"cpu_cores", f.CPUCores, 2},
		{"cpu_threads", f.CPUThreads, 4},
		{"cpu_load", f.CPULoad, map[string]float64{"1min": 0.52, "5min": 0.58, "15min": 0.59}},
		{"memory_total_kb", f.MemoryTotalKB, int64(16314020)},
		{"memory_free_kb", f.MemoryFreeKB, int64(1234567)},
		{"memory_available_kb", f.MemoryAvailableKB, int64(9876543)},
		{"vendor", f.Vendor, "Dell Inc."},
		{"model", f.Model, "PowerEdge (PowerEdge R640)"},
		{"bios_version", f.BiosVersion, "2.11.2"},
		{"bios_date", f.BiosDate, "01/01/2021"},
		{"chassis_serial", f.ChassisSerial, "Unknown"},
		{"nic_count", f.NICCount, 2},
		{"timestamp", f.Timestamp, float64(fixedNow.Unix())},
		{"system_uptime", f.SystemUptime, 3600.25},
		{"kernel_security", f.KernelSecurity, map[string]any{"type": "None", "description": "Linux Security Module framework is not available"}},
		{"selinux_enabled", f.SELinuxEnabled, false},
		{"kernel_parameters", f.KernelParameters, map[string]string{"net.ipv4.ip_nonlocal_bind": "1"}},
		{"tcp_ports_used", f.TCPPortsUsed, []int{22, 3306}},
		{"tcp6_ports_used", f.TCP6PortsUsed, []int{8080}},
		{"udp_ports_used", f.UDPPortsUsed, []int{68}},
		{"udp6_ports_used", f.UDP6PortsUsed, []int{}},
		{"hdd_count", f.HDDCount, 4},
		{"flash_count", f.FlashCount, 2},
		{"flash_capacity_bytes", f.FlashCapacityBytes, int64((1875385008 + 20971520) * 512)},
		{"flash_capacity", f.FlashCapacity, "970.9GB"},
		{"enclosure_count", f.EnclosureCount, 1},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.key, c.got, c.want)
		}
	}

	wantNICs := map[string]FactsNIC{
		"eth0":  {MTU: 9000, UpperDevsList: []string{}, LowerDevsList: []string{}, Operstate: "up", IfType: "physical", NICType: "ethernet", Driver: "ixgbe", Speed: 10000, IPv4Address: "10.0.0.2/24", IPv6Address: "2001:db8::10/64"},
		"eth1":  {MTU: 1500, UpperDevsList: []string{"bond0"}, LowerDevsList: []string{}, Operstate: "up", IfType: "physical", NICType: "ethernet", Driver: "Unknown", Speed: -1},
		"bond0": {MTU: 1500, UpperDevsList: []string{}, LowerDevsList: []string{"eth1"}, Operstate: "up", IfType: "logical", NICType: "bonding", Speed: -1, IPv4Address: "192.168.5.10/16"},
		"br0":   {MTU: 1500, UpperDevsList: []string{}, LowerDevsList: []string{}, Operstate: "down", IfType: "logical", NICType: "bridge", Speed: -1},
		"ib0":   {MTU: 2044, UpperDevsList: []string{}, LowerDevsList: []string{}, Operstate: "up", IfType: "logical", NICType: "infiniband", Speed: -1},
	}
	if !reflect.DeepEqual(f.Interfaces, wantNICs) {
		t.Errorf("interfaces = %+v\nwant %+v", f.Interfaces, wantNICs)
	}

	byName := map[string]FactsDisk{}
	for _, d := range append(append([]FactsDisk{}, f.HDDList...), f.FlashList...) {
		byName[d.DevName] = d
	}
	for _, excluded := range []string{"loop0", "loop1", "zram0", "dm-0", "dm-1", "sr0"} {
		if _, ok := byName[excluded]; ok {
			t.Errorf("%s is not a physical disk but is listed", excluded)
		}
	}
	sdb := byName["sdb"]
	if sdb.Serial != "ZC1A2B3C" || sdb.EnclosureID != "0x500304801234567f" || sdb.EnclosureSlot != "3" ||
		sdb.PathID != "/dev/disk/by-path/pci-0000:00:17.0-sas-phy3-lun-0" || sdb.DiskType != "hdd" ||
		sdb.Description != "SEAGATE ST4000NM0035 (4.0TB)" {
		t.Errorf("sdb = %+v", sdb)
	}
	if sda := byName["sda"]; sda.DiskType != "flash" || sda.Rev != "HXT7904Q" || sda.Serial != "S45NNA0M123456" {
		t.Errorf("sda = %+v", sda)
	}
	enc := f.Enclosures["0x500304801234567f"]
	if enc == nil || enc.Vendor != "SMC" || enc.DeviceLookup["ZC1A2B3C"] != "3" || enc.SlotMap["3"]["locate"] != "1" {
		t.Errorf("enclosure = %+v", enc)
	}
	golden(t, "host1/facts.golden.json", f)
}

func TestBytesToHuman(t *testing.T) {
	for _, tt := range []struct {
		n    float64
		want string
	}{
		{0, "0.0B"}, {999, "999.0B"}, {1000, "1.0KB"}, {274877906944, "274.9GB"}, {4e12, "4.0TB"}, {1e24, "1.0YB"},
	} {
		if got := bytesToHuman(tt.n); got != tt.want {
			t.Errorf("bytesToHuman(%v) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFQDN(t *testing.T) {
	h := &Host{Root: "testdata/host1"}
	for _, tt := range []struct{ host, want string }{
		{"node1", "node1.example.com"},
		{"NODE1", "node1.example.com"},
		{"other", "other"},
		{"already.qualified", "already.qualified"},
	} {
		if got := h.fqdn(tt.host); got != tt.want {
			t.Errorf("fqdn(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}
