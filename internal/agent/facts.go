package agent

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"

	"strconv"
	"strings"
)

// unknown is what cephadm reports for a fact it cannot read.
const unknown = "Unknown"

// Facts is the JSON answer of `orch agent gather-facts`: the keys and value
// conventions of cephadm's HostFacts (cephadmlib/host_facts.py). Fields are
// declared in key order because cephadm sorts its keys.
type Facts struct {
	Arch               string                `json:"arch"`
	BiosDate           string                `json:"bios_date"`
	BiosVersion        string                `json:"bios_version"`
	BoardSerial        string                `json:"board_serial"`
	ChassisSerial      string                `json:"chassis_serial"`
	CPUCores           int                   `json:"cpu_cores"`
	CPUCount           int                   `json:"cpu_count"`
	CPULoad            map[string]float64    `json:"cpu_load"`
	CPUModel           string                `json:"cpu_model"`
	CPUThreads         int                   `json:"cpu_threads"`
	EnclosureCount     int                   `json:"enclosure_count"`
	Enclosures         map[string]*Enclosure `json:"enclosures"`
	FlashCapacity      string                `json:"flash_capacity"`
	FlashCapacityBytes int64                 `json:"flash_capacity_bytes"`
	FlashCount         int                   `json:"flash_count"`
	FlashList          []FactsDisk           `json:"flash_list"`
	FQDN               string                `json:"fqdn"`
	HDDCapacity        string                `json:"hdd_capacity"`
	HDDCapacityBytes   int64                 `json:"hdd_capacity_bytes"`
	HDDCount           int                   `json:"hdd_count"`
	HDDList            []FactsDisk           `json:"hdd_list"`
	Hostname           string                `json:"hostname"`
	Interfaces         map[string]FactsNIC   `json:"interfaces"`
	Kernel             string                `json:"kernel"`
	KernelParameters   map[string]string     `json:"kernel_parameters"`
	KernelSecurity     map[string]any        `json:"kernel_security"`
	MemoryAvailableKB  int64                 `json:"memory_available_kb"`
	MemoryFreeKB       int64                 `json:"memory_free_kb"`
	MemoryTotalKB      int64                 `json:"memory_total_kb"`
	Model              string                `json:"model"`
	NICCount           int                   `json:"nic_count"`
	OperatingSystem    string                `json:"operating_system"`
	ProductSerial      string                `json:"product_serial"`
	SELinuxEnabled     bool                  `json:"selinux_enabled"`
	Shortname          string                `json:"shortname"`
	Subscribed         string                `json:"subscribed"`
	SysctlOptions      map[string]string     `json:"sysctl_options"`
	SystemUptime       float64               `json:"system_uptime"`
	TCP6PortsUsed      []int                 `json:"tcp6_ports_used"`
	TCPPortsUsed       []int                 `json:"tcp_ports_used"`
	Timestamp          float64               `json:"timestamp"`
	UDP6PortsUsed      []int                 `json:"udp6_ports_used"`
	UDPPortsUsed       []int                 `json:"udp_ports_used"`
	Vendor             string                `json:"vendor"`
}

// FactsNIC is one entry of Facts.Interfaces.
type FactsNIC struct {
	MTU           int      `json:"mtu"`
	UpperDevsList []string `json:"upper_devs_list"`
	LowerDevsList []string `json:"lower_devs_list"`
	Operstate     string   `json:"operstate"`
	// IfType is "physical" (backed by a device) or "logical".
	IfType string `json:"iftype"`
	// NICType is ethernet, infiniband, bridge, bonding or Unknown.
	NICType string `json:"nic_type"`
	Driver  string `json:"driver"`
	// Speed is in Mb/s, -1 when unknown.
	Speed       int    `json:"speed"`
	IPv4Address string `json:"ipv4_address"`
	IPv6Address string `json:"ipv6_address"`
}

// FactsDisk is one entry of Facts.HDDList / FlashList.
type FactsDisk struct {
	Description   string `json:"description"`
	Vendor        string `json:"vendor"`
	Model         string `json:"model"`
	Rev           string `json:"rev"`
	WWID          string `json:"wwid"`
	DevName       string `json:"dev_name"`
	DiskSizeBytes int64  `json:"disk_size_bytes"`
	DiskType      string `json:"disk_type"`
	Serial        string `json:"serial"`
	AltDevName    string `json:"alt_dev_name"`
	SCSIAddr      string `json:"scsi_addr"`
	EnclosureID   string `json:"enclosure_id"`
	EnclosureSlot string `json:"enclosure_slot"`
	PathID        string `json:"path_id"`
	Mpath         string `json:"mpath"`
}

// Enclosure is a SCSI enclosure (SES) found through /sys/class/scsi_generic.
type Enclosure struct {
	SESPaths     []string                     `json:"ses_paths"`
	PathCount    int                          `json:"path_count"`
	Vendor       string                       `json:"vendor"`
	Model        string                       `json:"model"`
	EncID        string                       `json:"enc_id"`
	Components   string                       `json:"components"`
	DeviceLookup map[string]string            `json:"device_lookup"`
	DeviceCount  int                          `json:"device_count"`
	SlotMap      map[string]map[string]string `json:"slot_map"`
}

// excludedBlockPrefixes are block devices that are not disks for the facts.
var excludedBlockPrefixes = []string{"sr", "zram", "dm-", "loop", "md"}

// diskVendorNames replaces vendor ids that mean nothing to people.
var diskVendorNames = map[string]string{"0x1af4": "Virtio Block Device"}

// GatherFacts collects the host's facts. Facts that cannot be read get
// cephadm's placeholders ("Unknown", 0, -1) rather than failing the call;
// only a failure to identify the kernel is an error.
func (h *Host) GatherFacts(ctx context.Context) (*Facts, error) {
	u, err := h.uname()
	if err != nil {
		return nil, fmt.Errorf("gather-facts: %w", err)
	}
	f := &Facts{
		Arch:     u.Machine,
		Kernel:   u.Release,
		Hostname: u.Nodename,
	}
	f.Shortname, _, _ = strings.Cut(u.Nodename, ".")
	f.FQDN = h.fqdn(u.Nodename)
	f.OperatingSystem = h.operatingSystem()
	f.Subscribed = h.subscribed(f.OperatingSystem)
	h.cpuInfo(f)
	f.CPULoad = h.cpuLoad()
	h.memInfo(f)

	dmi := func(name string) string { return h.readOr("/sys/class/dmi/id/"+name, unknown) }
	f.Vendor = dmi("sys_vendor")
	family, product := dmi("product_family"), dmi("product_name")
	if family == unknown && product != "" {
		f.Model = product
	} else {
		f.Model = fmt.Sprintf("%s (%s)", family, product)
	}
	f.BiosVersion, f.BiosDate = dmi("bios_version"), dmi("bios_date")
	f.ChassisSerial, f.BoardSerial, f.ProductSerial = dmi("chassis_serial"), dmi("board_serial"), dmi("product_serial")

	f.Interfaces = h.interfaces()
	for _, nic := range f.Interfaces {
		if nic.IfType == "physical" {
			f.NICCount++
		}
	}

	f.Enclosures = h.enclosures()
	f.EnclosureCount = len(f.Enclosures)
	f.HDDList, f.FlashList = []FactsDisk{}, []FactsDisk{}
	for _, d := range h.factsDisks(f.Enclosures) {
		if d.DiskType == "hdd" {
			f.HDDList = append(f.HDDList, d)
			f.HDDCapacityBytes += d.DiskSizeBytes
		} else {
			f.FlashList = append(f.FlashList, d)
			f.FlashCapacityBytes += d.DiskSizeBytes
		}
	}
	f.HDDCount, f.FlashCount = len(f.HDDList), len(f.FlashList)
	f.HDDCapacity, f.FlashCapacity = bytesToHuman(float64(f.HDDCapacityBytes)), bytesToHuman(float64(f.FlashCapacityBytes))

	now := h.now()
	f.Timestamp = float64(now.UnixNano()) / 1e9
	if up, ok := h.readTrim("/proc/uptime"); ok {
		first, _, _ := strings.Cut(up, " ")
		f.SystemUptime, _ = strconv.ParseFloat(first, 64)
	}
	f.KernelSecurity = h.kernelSecurity(ctx)
	f.SELinuxEnabled = f.KernelSecurity["type"] == "SELinux" && f.KernelSecurity["description"] != "SELinux: Disabled"
	f.SysctlOptions = h.sysctl()
	f.KernelParameters = map[string]string{}
	if v, ok := f.SysctlOptions["net.ipv4.ip_nonlocal_bind"]; ok {
		f.KernelParameters["net.ipv4.ip_nonlocal_bind"] = v
	}
	f.TCPPortsUsed = h.listeningPorts("/proc/net/tcp", "0A")
	f.TCP6PortsUsed = h.listeningPorts("/proc/net/tcp6", "0A")
	f.UDPPortsUsed = h.listeningPorts("/proc/net/udp", "07")
	f.UDP6PortsUsed = h.listeningPorts("/proc/net/udp6", "07")
	return f, nil
}

// fqdn resolves the host's canonical name the way getfqdn does with a
// files-first resolver: the first dotted name on an /etc/hosts line that
// names the host, else the host name itself.
func (h *Host) fqdn(hostname string) string {
	if strings.Contains(hostname, ".") {
		return hostname
	}
	b, err := h.readFile("/etc/hosts")
	if err != nil {
		return hostname
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		names := fields[1:]
		match := false
		for _, n := range names {
			if strings.EqualFold(n, hostname) {
				match = true
			}
		}
		if !match {
			continue
		}
		for _, n := range names {
			if strings.Contains(n, ".") {
				return n
			}
		}
	}
	return hostname
}

// operatingSystem is "<NAME> <VERSION>" from os-release, as cephadm reports
// it (it prefers these to PRETTY_NAME for consistency).
func (h *Host) operatingSystem() string {
	b, err := h.readFile("/etc/os-release")
	if err != nil {
		return unknown
	}
	kv := parseEnvFile(string(b))
	name, ok1 := kv["NAME"]
	version, ok2 := kv["VERSION"]
	if !ok1 || !ok2 {
		return unknown
	}
	return name + " " + version
}

// parseEnvFile parses KEY=value lines, removing double quotes.
func parseEnvFile(s string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		kv[k] = strings.Trim(v, `"'`)
	}
	return kv
}

// subscribed is cephadm's RHEL entitlement check.
func (h *Host) subscribed(osName string) string {
	if !strings.HasPrefix(strings.ToUpper(osName), "RED HAT") {
		return unknown
	}
	pems, _ := filepath.Glob(h.path("/etc/pki/entitlement/*.pem"))
	if len(pems) >= 2 {
		return "Yes"
	}
	return "No"
}

// cpuInfo fills the CPU facts from /proc/cpuinfo: the model, the number of
// sockets (distinct physical ids), the cores per socket and the threads
// (siblings) per socket.
func (h *Host) cpuInfo(f *Facts) {
	f.CPUModel = unknown
	b, err := h.readFile("/proc/cpuinfo")
	if err != nil {
		return
	}
	sockets := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name":
			f.CPUModel = v
		case "physical id":
			sockets[v] = true
		case "siblings":
			f.CPUThreads, _ = strconv.Atoi(v)
		case "cpu cores":
			f.CPUCores, _ = strconv.Atoi(v)
		}
	}
	f.CPUCount = len(sockets)
}

func (h *Host) cpuLoad() map[string]float64 {
	load := map[string]float64{"1min": 0, "5min": 0, "15min": 0}
	s, ok := h.readTrim("/proc/loadavg")
	if !ok {
		return load
	}
	fields := strings.Fields(s)
	for i, k := range []string{"1min", "5min", "15min"} {
		if i < len(fields) {
			load[k], _ = strconv.ParseFloat(fields[i], 64)
		}
	}
	return load
}

func (h *Host) memInfo(f *Facts) {
	b, err := h.readFile("/proc/meminfo")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(fields[1], 10, 64)
		switch strings.TrimSuffix(fields[0], ":") {
		case "MemTotal":
			f.MemoryTotalKB = n
		case "MemFree":
			f.MemoryFreeKB = n
		case "MemAvailable":
			f.MemoryAvailableKB = n
		}
	}
}

// arpTypes maps /sys/class/net/X/type (include/uapi/linux/if_arp.h).
var arpTypes = map[string]string{"1": "ethernet", "32": "infiniband", "772": "loopback"}

// interfaces describes every network interface but loopback.
func (h *Host) interfaces() map[string]FactsNIC {
	nics := map[string]FactsNIC{}
	const base = "/sys/class/net"
	for _, iface := range h.listDir(base) {
		dir := base + "/" + iface
		var nicType string
		switch {
		case h.exists(dir + "/bridge"):
			nicType = "bridge"
		case h.exists(dir + "/bonding"):
			nicType = "bonding"
		default:
			t, ok := arpTypes[h.readOr(dir+"/type", "")]
			if !ok {
				t = unknown
			}
			nicType = t
		}
		if nicType == "loopback" {
			continue
		}
		nic := FactsNIC{NICType: nicType, UpperDevsList: []string{}, LowerDevsList: []string{}, Speed: -1}
		for _, e := range h.listDir(dir) {
			if s, ok := strings.CutPrefix(e, "lower_"); ok {
				nic.LowerDevsList = append(nic.LowerDevsList, s)
			}
			if s, ok := strings.CutPrefix(e, "upper_"); ok {
				nic.UpperDevsList = append(nic.UpperDevsList, s)
			}
		}
		nic.MTU, _ = strconv.Atoi(h.readOr(dir+"/mtu", ""))
		nic.Operstate = h.readOr(dir+"/operstate", unknown)
		if s, ok := h.readTrim(dir + "/speed"); ok {
			if n, err := strconv.Atoi(s); err == nil {
				nic.Speed = n
			}
		}
		if h.exists(dir + "/device") {
			nic.IfType = "physical"
			nic.Driver = unknown
			if target, err := filepath.EvalSymlinks(h.path(dir + "/device/driver")); err == nil {
				nic.Driver = filepath.Base(target)
			} else if target, err := os.Readlink(h.path(dir + "/device/driver")); err == nil {
				nic.Driver = filepath.Base(target)
			}
		} else {
			nic.IfType = "logical"
		}
		nic.IPv4Address = h.ipv4Address(iface)
		nic.IPv6Address = h.ipv6Address(iface)
		nics[iface] = nic
	}
	return nics
}

// ipv4Address is the interface's primary IPv4 address as "addr/len", or "".
func (h *Host) ipv4Address(iface string) string {
	get := h.IPv4Addrs
	if get == nil {
		get = kernelIPv4Addrs
	}
	addrs, err := get(iface)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	return addrs[0]
}

func kernelIPv4Addrs(iface string) ([]string, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
			ones, _ := ipn.Mask.Size()
			out = append(out, fmt.Sprintf("%s/%d", ipn.IP.To4(), ones))
		}
	}
	return out, nil
}

// ipv6Address is the interface's first address in /proc/net/if_inet6 as
// "addr/len", or "".
func (h *Host) ipv6Address(iface string) string {
	b, err := h.readFile("/proc/net/if_inet6")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || fields[5] != iface || len(fields[0]) != 32 {
			continue
		}
		ip := make(net.IP, 16)
		for i := 0; i < 16; i++ {
			v, err := strconv.ParseUint(fields[0][2*i:2*i+2], 16, 8)
			if err != nil {
				return ""
			}
			ip[i] = byte(v)
		}
		plen, err := strconv.ParseUint(fields[2], 16, 8)
		if err != nil {
			return ""
		}
		return fmt.Sprintf("%s/%d", ip, plen)
	}
	return ""
}

// enclosures finds SCSI enclosures: a scsi_generic device whose device
// directory holds exactly one enclosure entry.
func (h *Host) enclosures() map[string]*Enclosure {
	encs := map[string]*Enclosure{}
	const base = "/sys/class/scsi_generic"
	for _, sg := range h.listDir(base) {
		encDirs := h.listDir(base + "/" + sg + "/device/enclosure")
		if len(encDirs) != 1 {
			continue
		}
		encPath := base + "/" + sg + "/device/enclosure/" + encDirs[0]
		id := h.readOr(encPath+"/id", unknown)
		if e, ok := encs[id]; ok {
			e.SESPaths = append(e.SESPaths, sg)
			e.PathCount = len(e.SESPaths)
			continue
		}
		e := &Enclosure{
			SESPaths:     []string{sg},
			PathCount:    1,
			Vendor:       h.readOr(base+"/"+sg+"/device/vendor", unknown),
			Model:        h.readOr(base+"/"+sg+"/device/model", unknown),
			EncID:        id,
			Components:   h.readOr(encPath+"/components", unknown),
			DeviceLookup: map[string]string{},
			SlotMap:      map[string]map[string]string{},
		}
		for _, comp := range h.listDir(encPath) {
			slotFile := encPath + "/" + comp + "/slot"
			slot, ok := h.readTrim(slotFile)
			if !ok {
				continue
			}
			dir := encPath + "/" + comp
			serial := ""
			if raw, ok := h.readTrim(dir + "/device/vpd_pg80"); ok {
				serial = printable(raw)
				e.DeviceLookup[serial] = slot
			}
			e.SlotMap[slot] = map[string]string{
				"status": h.readOr(dir+"/status", unknown),
				"fault":  h.readOr(dir+"/fault", unknown),
				"locate": h.readOr(dir+"/locate", unknown),
				"serial": serial,
			}
		}
		e.DeviceCount = len(e.DeviceLookup)
		encs[id] = e
	}
	return encs
}

// printable keeps the printable ASCII of s (vpd pages start with binary
// headers) and trims it.
func printable(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= 0x20 && r < 0x7f || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' {
			sb.WriteRune(r)
		}
	}
	return strings.TrimSpace(sb.String())
}

// factsDisks lists the physical disks of /sys/block (no loop, zram, dm, md
// or optical devices), one entry per serial number with the other paths to
// the same disk in alt_dev_name.
func (h *Host) factsDisks(encs map[string]*Enclosure) []FactsDisk {
	byPath := map[string]string{}
	for _, p := range h.listDir("/dev/disk/by-path") {
		full := "/dev/disk/by-path/" + p
		if t, err := os.Readlink(h.path(full)); err == nil {
			byPath[filepath.Base(t)] = full
		}
	}
	mpaths := map[string]string{}
	for _, p := range h.listDir("/dev/mapper") {
		if !strings.HasPrefix(p, "mpath") {
			continue
		}
		if t, err := os.Readlink(h.path("/dev/mapper/" + p)); err == nil {
			mpaths[filepath.Base(t)] = "/dev/mapper/" + p
		}
	}
	var all []FactsDisk
	serials := map[string][]string{}
	for _, dev := range h.listDir("/sys/block") {
		if hasAnyPrefix(dev, excludedBlockPrefixes) {
			continue
		}
		dir := "/sys/block/" + dev
		d := FactsDisk{
			DevName: dev,
			Model:   h.readOr(dir+"/device/model", unknown),
			Rev:     h.readOr(dir+"/device/rev", unknown),
			WWID:    h.readOr(dir+"/device/wwid", unknown),
			PathID:  byPath[dev],
		}
		vendor := h.readOr(dir+"/device/vendor", unknown)
		if v, ok := diskVendorNames[vendor]; ok {
			vendor = v
		}
		d.Vendor = vendor
		d.DiskType = "flash"
		if h.readOr(dir+"/queue/rotational", "") == "1" {
			d.DiskType = "hdd"
		}
		if holders := h.listDir(dir + "/holders"); len(holders) == 1 {
			d.Mpath = mpaths[holders[0]]
		}
		if bsg := h.listDir(dir + "/device/bsg"); len(bsg) == 1 {
			d.SCSIAddr = bsg[0]
		}
		d.Serial = printable(h.readOr(dir+"/device/vpd_pg80", unknown))
		if strings.EqualFold(d.Serial, "unknown") {
			d.Serial = ""
		} else {
			serials[d.Serial] = append(serials[d.Serial], dev)
			for id, e := range encs {
				if slot, ok := e.DeviceLookup[d.Serial]; ok {
					d.EnclosureID, d.EnclosureSlot = id, slot
				}
			}
		}
		sectors, _ := strconv.ParseInt(h.readOr(dir+"/size", "0"), 10, 64)
		d.DiskSizeBytes = sectors * 512 // the kernel counts 512-byte sectors here whatever the hardware
		d.Description = fmt.Sprintf("%s %s (%s)", d.Vendor, d.Model, bytesToHuman(float64(d.DiskSizeBytes)))
		all = append(all, d)
	}
	var out []FactsDisk
	seen := map[string]bool{}
	for _, d := range all {
		if d.Serial != "" {
			if seen[d.Serial] {
				continue
			}
			seen[d.Serial] = true
			var alt []string
			for _, other := range serials[d.Serial] {
				if other != d.DevName {
					alt = append(alt, other)
				}
			}
			d.AltDevName = strings.Join(alt, ",")
		}
		out = append(out, d)
	}
	return out
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// bytesToHuman formats n in decimal units as python-common's bytes_to_human
// does ("274.9GB").
func bytesToHuman(n float64) string {
	for _, unit := range []string{"", "K", "M", "G", "T", "P", "E", "Z"} {
		if math.Abs(n) < 1000 {
			return fmt.Sprintf("%3.1f%sB", n, unit)
		}
		n /= 1000
	}
	return fmt.Sprintf("%.1fYB", n)
}

// kernelSecurity reports the active Linux security module.
func (h *Host) kernelSecurity(ctx context.Context) map[string]any {
	lsm, ok := h.readTrim("/sys/kernel/security/lsm")
	if ok {
		var ret map[string]any
		switch {
		case strings.Contains(lsm, "selinux"):
			ret = h.selinux(ctx)
		case strings.Contains(lsm, "apparmor"):
			ret = h.apparmor()
		default:
			return map[string]any{"type": unknown, "description": "Linux Security Module framework is active, but is not using SELinux or AppArmor"}
		}
		if len(ret) > 0 {
			return ret
		}
	}
	return map[string]any{"type": "None", "description": "Linux Security Module framework is not available"}
}

func (h *Host) selinux(ctx context.Context) map[string]any {
	out, err := h.run(ctx, "sestatus")
	if err != nil {
		return nil
	}
	var status, mode, policy string
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "SELinux status":
			status = v
		case "Current mode":
			mode = v
		case "Loaded policy name":
			policy = v
		}
	}
	desc := fmt.Sprintf("SELinux: Enabled(%s, %s)", mode, policy)
	if status == "disabled" {
		desc = "SELinux: Disabled"
	}
	return map[string]any{"type": "SELinux", "description": desc}
}

func (h *Host) apparmor() map[string]any {
	if !h.exists("/etc/apparmor") {
		return nil
	}
	ret := map[string]any{"type": "AppArmor", "description": "AppArmor: Enabled"}
	profiles, ok := h.readTrim("/sys/kernel/security/apparmor/profiles")
	if !ok {
		return ret
	}
	if profiles == "" {
		return nil
	}
	counts := map[string]int{}
	var order []string
	for _, line := range strings.Split(profiles, "\n") {
		i := strings.LastIndexByte(line, ' ')
		mode := strings.Trim(line[i+1:], "()")
		if _, ok := counts[mode]; !ok {
			order = append(order, mode)
		}
		counts[mode]++
	}
	var parts []string
	for _, m := range order {
		ret[m] = counts[m]
		parts = append(parts, fmt.Sprintf("%d %s", counts[m], m))
	}
	ret["description"] = "AppArmor: Enabled(" + strings.Join(parts, ",") + ")"
	return ret
}

// sysctl reads every readable kernel parameter under /proc/sys, keyed as
// `sysctl -a` names them (dots for slashes).
func (h *Host) sysctl() map[string]string {
	out := map[string]string{}
	root := h.path("/proc/sys")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel == "fs/binfmt_misc" {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o444 == 0 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		v := strings.TrimSpace(string(b))
		if i := strings.LastIndexByte(v, '\n'); i >= 0 {
			v = strings.TrimSpace(v[i+1:])
		}
		out[strings.ReplaceAll(filepath.ToSlash(rel), "/", ".")] = v
		return nil
	})
	return out
}

// listeningPorts lists the local ports of sockets in state (hex) from a
// /proc/net table, in table order.
func (h *Host) listeningPorts(table, state string) []int {
	ports := []int{}
	b, err := h.readFile(table)
	if err != nil {
		return ports
	}
	lines := strings.Split(string(b), "\n")
	for _, line := range lines[min(1, len(lines)):] {
		fields := strings.Fields(line)
		if len(fields) < 4 || fields[3] != state {
			continue
		}
		_, port, ok := strings.Cut(fields[1], ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(port, 16, 16); err == nil {
			ports = append(ports, int(n))
		}
	}
	return ports
}
