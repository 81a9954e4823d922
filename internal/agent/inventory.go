package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Rejection reasons, worded exactly as ceph-volume words them
// (ceph_volume/util/device.py) because the mgr and operators match on them.
const (
	ReasonUSB              = "id_bus"
	ReasonReadOnly         = "read-only"
	ReasonLocked           = "locked"
	ReasonTooSmall         = "Insufficient space (<5GB)"
	ReasonBadType          = "Device type is not acceptable. It should be raw device or partition"
	ReasonCephDisk         = "Used by ceph-disk"
	ReasonBlueStore        = "Has BlueStore device label"
	ReasonBlueStoreUnknown = "Failed to determine if device is BlueStore"
	ReasonParentBlueStore  = "Parent has BlueStore device label"
	ReasonParentUnknown    = "Failed to determine if parent device is BlueStore"
	ReasonGPT              = "Has GPT headers"
	ReasonPartitions       = "Has partitions"
	ReasonFileSystem       = "Has a FileSystem"
	ReasonVGFull           = "Insufficient space (<10 extents) on vgs"
	ReasonLVM              = "LVM detected"
)

// MinOSDSize is the smallest device ceph-volume accepts (5 GiB).
const MinOSDSize = 5 << 30

// bluestoreSignature starts every BlueStore block device.
const bluestoreSignature = "bluestore block device"

// Device is one entry of `ceph-volume inventory --format json`.
type Device struct {
	Path            string          `json:"path"`
	SysAPI          SysAPI          `json:"sys_api"`
	Available       bool            `json:"available"`
	RejectedReasons []string        `json:"rejected_reasons"`
	LVs             []LV            `json:"lvs"`
	DeviceID        string          `json:"device_id"`
	CephDevice      bool            `json:"ceph_device"`
	LSMData         json.RawMessage `json:"lsm_data"`
}

// SysAPI is ceph-volume's sys_api: sysfs facts as strings (as read), sizes
// as numbers.
type SysAPI struct {
	Actuators         string               `json:"actuators"`
	DeviceNodes       string               `json:"device_nodes"`
	Devname           string               `json:"devname"`
	HumanReadableSize string               `json:"human_readable_size"`
	IDBus             string               `json:"id_bus"`
	Locked            int                  `json:"locked"`
	Model             string               `json:"model"`
	NrRequests        string               `json:"nr_requests"`
	Parent            string               `json:"parent"`
	Partitions        map[string]Partition `json:"partitions"`
	Path              string               `json:"path"`
	Removable         string               `json:"removable"`
	Rev               string               `json:"rev"`
	RO                string               `json:"ro"`
	Rotational        string               `json:"rotational"`
	SASAddress        string               `json:"sas_address"`
	SASDeviceHandle   string               `json:"sas_device_handle"`
	SchedulerMode     string               `json:"scheduler_mode"`
	// Sectors is always 0: ceph-volume reads a sysfs file that does not
	// exist; kept for shape compatibility. Size is what counts.
	Sectors        int     `json:"sectors"`
	SectorSize     string  `json:"sectorsize"`
	Size           float64 `json:"size"`
	SupportDiscard string  `json:"support_discard"`
	Type           string  `json:"type"`
	Vendor         string  `json:"vendor"`
}

// Partition is one entry of SysAPI.Partitions.
type Partition struct {
	Start             string   `json:"start"`
	Sectors           string   `json:"sectors"`
	SectorSize        string   `json:"sectorsize"`
	Size              float64  `json:"size"`
	HumanReadableSize string   `json:"human_readable_size"`
	Holders           []string `json:"holders"`
}

// LV is one entry of Device.LVs: a logical volume on the device with the
// ceph tags ceph-volume puts on OSD volumes.
type LV struct {
	Name            string `json:"name"`
	OSDID           string `json:"osd_id,omitempty"`
	ClusterName     string `json:"cluster_name,omitempty"`
	Type            string `json:"type,omitempty"`
	OSDFSID         string `json:"osd_fsid,omitempty"`
	ClusterFSID     string `json:"cluster_fsid,omitempty"`
	OSDSpecAffinity string `json:"osdspec_affinity,omitempty"`
	BlockUUID       string `json:"block_uuid,omitempty"`
	Comment         string `json:"comment,omitempty"`
	tags            map[string]string
}

// InventoryOptions parameterises Inventory.
type InventoryOptions struct {
	// ExcludeLoop leaves loop devices out. By default attached loop devices
	// count as disks, as ceph-volume does with
	// CEPH_VOLUME_ALLOW_LOOP_DEVICES=1, so test hosts have disks.
	ExcludeLoop bool
}

// blockDev is a candidate device found in sysfs.
type blockDev struct {
	kname  string // loop0, sda1
	path   string // /dev/loop0, /dev/mapper/mpatha
	typ    string // disk, loop, part, mpath, lvm, ...
	parent string // disks: their own /dev path; partitions: the parent's kernel name
	sysdir string
}

// Inventory scans the host's block devices natively (sysfs, `lsblk -J -b
// -O`, `blkid -p`, LVM's `pvs` when installed) and reports them as
// ceph-volume's inventory does: sorted by path, with availability for OSD
// use and the reasons for rejecting the others.
func (h *Host) Inventory(ctx context.Context, opts InventoryOptions) ([]Device, error) {
	out, err := h.run(ctx, "lsblk", "-J", "-b", "-O")
	if err != nil {
		return nil, fmt.Errorf("inventory: lsblk: %w", err)
	}
	lsblk, err := ParseLsblk(out)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	pvs := h.physicalVolumes(ctx)

	devs := []Device{}
	for _, b := range h.blockDevices(opts) {
		devs = append(devs, h.inspect(ctx, b, lsblk, pvs))
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].Path < devs[j].Path })
	return devs, nil
}

// blockDevices lists disks, multipath devices, loop devices and partitions
// the way ceph-volume's get_block_devs_sysfs does.
func (h *Host) blockDevices(opts InventoryOptions) []blockDev {
	var out []blockDev
	for _, dev := range h.listDir("/sys/block") {
		sysdir := "/sys/block/" + dev
		if !h.lexists("/dev/" + dev) {
			continue
		}
		if h.heldByMultipath(sysdir) {
			continue
		}
		b := blockDev{kname: dev, path: "/dev/" + dev, typ: "disk", parent: "/dev/" + dev, sysdir: sysdir}
		if h.exists(sysdir + "/dm") {
			uuid := h.readOr(sysdir+"/dm/uuid", "")
			b.typ = strings.ToLower(strings.SplitN(uuid, "-", 2)[0])
			b.path = "/dev/mapper/" + h.readOr(sysdir+"/dm/name", dev)
		}
		if strings.HasPrefix(dev, "loop") {
			if opts.ExcludeLoop || !h.exists(sysdir+"/loop") {
				continue // not attached to a file
			}
			b.typ = "loop"
		}
		switch b.typ {
		case "disk", "mpath", "loop":
			out = append(out, b)
		}
	}
	for _, majmin := range h.listDir("/sys/dev/block") {
		link := "/sys/dev/block/" + majmin
		if n, _ := strconv.Atoi(h.readOr(link+"/partition", "0")); n <= 0 {
			continue
		}
		target, err := os.Readlink(h.path(link))
		if err != nil {
			continue
		}
		elems := strings.Split(strings.TrimRight(target, "/"), "/")
		if len(elems) < 2 {
			continue
		}
		part, parent := elems[len(elems)-1], elems[len(elems)-2]
		if opts.ExcludeLoop && strings.HasPrefix(parent, "loop") {
			continue
		}
		out = append(out, blockDev{kname: part, path: "/dev/" + part, typ: "part", parent: parent, sysdir: "/sys/block/" + parent + "/" + part})
	}
	return out
}

func (h *Host) heldByMultipath(sysdir string) bool {
	for _, holder := range h.listDir(sysdir + "/holders") {
		uuid := h.readOr(sysdir+"/holders/"+holder+"/dm/uuid", "")
		if strings.EqualFold(strings.SplitN(uuid, "-", 2)[0], "mpath") {
			return true
		}
	}
	return false
}

var schedulerRE = regexp.MustCompile(`\[(.*)\]`)

// sysAPI reads ceph-volume's sys_api facts for one device.
func (h *Host) sysAPI(b blockDev) SysAPI {
	rd := func(rel string) string { return h.readOr(b.sysdir+"/"+rel, "") }
	s := SysAPI{
		Removable:       rd("removable"),
		RO:              rd("ro"),
		Vendor:          rd("device/vendor"),
		Model:           rd("device/model"),
		Rev:             rd("device/rev"),
		SASAddress:      rd("device/sas_address"),
		SASDeviceHandle: rd("device/sas_device_handle"),
		SupportDiscard:  rd("queue/discard_granularity"),
		Rotational:      rd("queue/rotational"),
		NrRequests:      rd("queue/nr_requests"),
		Path:            b.path,
		Devname:         b.kname,
		Type:            b.typ,
		Parent:          b.parent,
	}
	if ranges := b.sysdir + "/queue/independent_access_ranges"; h.exists(ranges) {
		n := 0
		for h.exists(ranges + "/" + strconv.Itoa(n)) {
			n++
		}
		s.Actuators = strconv.Itoa(n)
	}
	if m := schedulerRE.FindStringSubmatch(rd("queue/scheduler")); m != nil {
		s.SchedulerMode = m[1]
	}
	s.DeviceNodes = b.kname
	if b.typ == "part" {
		s.DeviceNodes = b.parent
	} else if slaves := h.listDir(b.sysdir + "/slaves"); len(slaves) > 0 {
		s.DeviceNodes = strings.Join(slaves, ",")
	}
	s.Partitions = h.partitionFacts(b.sysdir)
	sectors, _ := strconv.ParseFloat(h.readOr(b.sysdir+"/size", "0"), 64)
	s.Size = sectors * 512
	s.HumanReadableSize = humanReadableSize(s.Size)
	s.SectorSize = h.readOr(b.sysdir+"/queue/logical_block_size", h.readOr(b.sysdir+"/queue/hw_sector_size", "512"))
	return s
}

// partitionFacts describes the partitions under a disk's sysfs directory.
func (h *Host) partitionFacts(sysdir string) map[string]Partition {
	parts := map[string]Partition{}
	for _, name := range h.listDir(sysdir) {
		dir := sysdir + "/" + name
		if h.readOr(dir+"/partition", "") == "" {
			continue
		}
		p := Partition{
			Start:   h.readOr(dir+"/start", "0"),
			Sectors: h.readOr(dir+"/size", "0"),
			Holders: h.listDir(dir + "/holders"),
		}
		if p.Holders == nil {
			p.Holders = []string{}
		}
		p.SectorSize = h.readOr(dir+"/queue/logical_block_size", h.readOr(dir+"/queue/hw_sector_size", "512"))
		n, _ := strconv.ParseFloat(p.Sectors, 64)
		p.Size = n * 512
		p.HumanReadableSize = humanReadableSize(p.Size)
		parts[name] = p
	}
	return parts
}

// humanReadableSize is ceph-volume's binary, two-decimal size ("6.00 GB").
func humanReadableSize(size float64) string {
	suffixes := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for ; i < len(suffixes)-1 && size >= 1024; i++ {
		size /= 1024
	}
	return fmt.Sprintf("%.2f %s", size, suffixes[i])
}

// inspect builds one device's report and decides its availability.
func (h *Host) inspect(ctx context.Context, b blockDev, lsblk map[string]LsblkDevice, pvs []pvRow) Device {
	d := Device{Path: b.path, SysAPI: h.sysAPI(b), LSMData: json.RawMessage("{}"), LVs: []LV{}}
	udev := h.udevProperties(b.kname)
	d.SysAPI.IDBus = udev["ID_BUS"]
	d.DeviceID = deviceID(udev)
	d.SysAPI.Locked = h.locked(b.path)

	lb := lsblk[b.kname]
	probe, probed := h.blkid(ctx, b.path)
	fsType, ptType := probe["TYPE"], probe["PTTYPE"]
	if !probed {
		// Without blkid, lsblk's view (from the udev database) is the best
		// there is. lsblk gives a partition its table's type, which says
		// nothing about GPT headers on the partition itself.
		fsType = string(lb.FSType)
		if b.typ != "part" {
			ptType = string(lb.PTType)
		}
	}

	// LVM membership: the device or one of its partitions is a PV.
	members := map[string]bool{b.path: true}
	for p := range d.SysAPI.Partitions {
		members["/dev/"+p] = true
	}
	var vgFree []int
	seenVG := map[string]bool{}
	for _, r := range pvs {
		if !members[r.pvName] || r.vgName == "" {
			continue
		}
		if !seenVG[r.vgName] {
			seenVG[r.vgName] = true
			n, _ := strconv.Atoi(r.vgFreeCount)
			vgFree = append(vgFree, n)
		}
		if r.lvName != "" {
			lv := lvReport(r)
			d.LVs = append(d.LVs, lv)
			if lv.tags["ceph.osd_id"] != "" {
				d.CephDevice = true
			}
		}
	}

	// The generic reasons, in ceph-volume's order.
	var generic []string
	if d.SysAPI.IDBus == "usb" {
		generic = append(generic, ReasonUSB)
	}
	if d.SysAPI.RO == "1" {
		generic = append(generic, ReasonReadOnly)
	}
	if d.SysAPI.Locked == 1 {
		generic = append(generic, ReasonLocked)
	}
	typ := b.typ
	if typ == "" {
		typ = string(lb.Type)
	}
	isPart := typ == "part"
	switch typ {
	case "disk", "device", "mpath", "loop", "part":
		if d.SysAPI.Size < MinOSDSize {
			generic = append(generic, ReasonTooSmall)
		}
	default:
		generic = append(generic, ReasonBadType)
	}
	if h.cephDiskMember(b, d.SysAPI, lsblk, probe) {
		generic = append(generic, ReasonCephDisk)
	}
	if isBS, err := h.hasBlueStoreLabel(b.path); err != nil {
		generic = append(generic, ReasonBlueStoreUnknown)
	} else if isBS {
		generic = append(generic, ReasonBlueStore)
	}
	if isPart {
		if isBS, err := h.hasBlueStoreLabel("/dev/" + b.parent); err != nil {
			generic = append(generic, ReasonParentUnknown)
		} else if isBS {
			generic = append(generic, ReasonParentBlueStore)
		}
	}
	if ptType == "gpt" {
		generic = append(generic, ReasonGPT)
	}
	if len(d.SysAPI.Partitions) > 0 {
		generic = append(generic, ReasonPartitions)
	}
	if fsType != "" {
		generic = append(generic, ReasonFileSystem)
	}

	// ceph-volume checks the device for LVM use and for raw use and rejects
	// it if either rejects it. With volume groups present, the LVM check
	// only asks for free extents.
	var lvmReasons []string
	if len(vgFree) > 0 {
		roomy := false
		for _, n := range vgFree {
			if n > 10 {
				roomy = true
			}
		}
		if !roomy {
			lvmReasons = append(lvmReasons, ReasonVGFull)
		}
	} else {
		lvmReasons = generic
	}
	rawReasons := append([]string(nil), generic...)
	if len(vgFree) > 0 {
		rawReasons = append(rawReasons, ReasonLVM)
	}
	d.Available = len(lvmReasons) == 0 && len(rawReasons) == 0
	d.RejectedReasons = []string{}
	seen := map[string]bool{}
	for _, r := range append(append([]string(nil), lvmReasons...), rawReasons...) {
		if !seen[r] {
			seen[r] = true
			d.RejectedReasons = append(d.RejectedReasons, r)
		}
	}
	return d
}

// locked reports 1 when the device cannot be opened exclusively: it is
// mounted, held by device-mapper or open O_EXCL by someone else (or cannot
// be opened at all), as ceph-volume's is_locked_raw_device does.
func (h *Host) locked(dev string) int {
	f, err := os.OpenFile(h.path(dev), os.O_RDONLY|syscall.O_EXCL, 0)
	if err != nil {
		return 1
	}
	_ = f.Close()
	return 0
}

// hasBlueStoreLabel reads the first bytes of a device for BlueStore's
// signature; an error means the device could not be read.
func (h *Host) hasBlueStoreLabel(dev string) (bool, error) {
	f, err := os.Open(h.path(dev))
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, len(bluestoreSignature))
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return string(buf[:n]) == bluestoreSignature, nil
}

// blkid probes a device's signatures bypassing the cache (blkid -p), as
// ceph-volume does. ok is false when blkid could not probe (not installed,
// device unreadable); exit status 2 means it probed and found nothing.
func (h *Host) blkid(ctx context.Context, dev string) (props map[string]string, ok bool) {
	out, err := h.run(ctx, "blkid", "-c", "/dev/null", "-p", dev)
	var ee *ExitError
	switch {
	case err == nil:
		return ParseBlkid(string(out)), true
	case errors.As(err, &ee) && ee.Code == 2:
		return map[string]string{}, true
	}
	return map[string]string{}, false
}

// cephDiskGUIDs are the GPT partition types ceph-disk created.
var cephDiskGUIDs = map[string]bool{
	"4fbd7e29-9d25-41b8-afd0-062c0ceff05d": true, // osd
	"45b0969e-9b03-4f30-b4c6-b4b80ceff106": true, // journal
	"cafecafe-9b03-4f30-b4c6-b4b80ceff106": true, // block
	"30cd0809-c2b2-499c-8879-2d6b78529876": true, // block.db
	"5ce17fce-4087-4169-b7ff-056cc58473f9": true, // block.wal
	"fb3aabf9-d25f-47cc-bf5e-721d1816496b": true, // lockbox
	"4fbd7e29-9d25-41b8-afd0-5ec00ceff05d": true, // dmcrypt osd
	"45b0969e-9b03-4f30-b4c6-5ec00ceff106": true, // dmcrypt journal
	"cafecafe-9b03-4f30-b4c6-5ec00ceff106": true, // dmcrypt block
	"93b0052d-02d9-4d8a-a43b-33a3ee4dfbc3": true, // dmcrypt block.db
	"306e8683-4fe2-4330-b7c0-00a917c16966": true, // dmcrypt block.wal
	"4fbd7e29-8ae0-4982-bf9d-5a8d867af560": true, // luks osd
}

// cephDiskMember reports whether the device (or, for a disk, one of its
// partitions) was made by ceph-disk: a "ceph" partition label or type.
func (h *Host) cephDiskMember(b blockDev, s SysAPI, lsblk map[string]LsblkDevice, probe map[string]string) bool {
	isMember := func(label, typ string) bool {
		return strings.Contains(label, "ceph") || cephDiskGUIDs[strings.ToLower(typ)]
	}
	if len(s.Partitions) > 0 {
		for p := range s.Partitions {
			if l, ok := lsblk[p]; ok && isMember(string(l.PartLabel), string(l.PartType)) {
				return true
			}
		}
		return false
	}
	l := lsblk[b.kname]
	label, typ := string(l.PartLabel), string(l.PartType)
	if label == "" {
		label = probe["PART_ENTRY_NAME"]
	}
	if typ == "" {
		typ = probe["PART_ENTRY_TYPE"]
	}
	return isMember(label, typ)
}

// udevProperties reads the udev database entry of a block device (what
// `udevadm info --query=property` prints); empty without udev.
func (h *Host) udevProperties(kname string) map[string]string {
	props := map[string]string{}
	dev := h.readOr("/sys/class/block/"+kname+"/dev", "")
	if dev == "" {
		return props
	}
	b, err := h.readFile("/run/udev/data/b" + dev)
	if err != nil {
		return props
	}
	for _, line := range strings.Split(string(b), "\n") {
		if kv, ok := strings.CutPrefix(line, "E:"); ok {
			if k, v, ok := strings.Cut(kv, "="); ok {
				props[k] = v
			}
		}
	}
	return props
}

// deviceID derives Ceph's device id (vendor_model_serial) from udev
// properties as ceph-volume and src/common/blkdev.cc do; "" when unknown.
func deviceID(p map[string]string) string {
	model, hasModel := p["ID_MODEL"]
	if strings.HasPrefix(model, "LVM PV ") {
		model = strings.TrimSpace(strings.ReplaceAll(p["ID_MODEL_ENC"], `\x20`, " "))
	}
	vendor, hasVendor := p["ID_VENDOR"]
	var id string
	switch {
	case hasVendor && hasModel && p["ID_SCSI_SERIAL"] != "":
		id = vendor + "_" + model + "_" + p["ID_SCSI_SERIAL"]
	case hasModel && p["ID_SERIAL_SHORT"] != "":
		id = model + "_" + p["ID_SERIAL_SHORT"]
	case p["ID_SERIAL"] != "":
		id = p["ID_SERIAL"]
		if strings.HasPrefix(id, "MTFD") {
			id = "Micron_" + id // Micron NVMe drives hide their vendor
		}
	}
	return strings.ReplaceAll(id, " ", "_")
}

// pvRow is one row of `pvs -o pv_name,vg_name,vg_free_count,lv_name,lv_path,lv_tags`.
type pvRow struct {
	pvName, vgName, vgFreeCount, lvName, lvPath, lvTags string
}

// physicalVolumes asks LVM for its physical volumes and the logical volumes
// on them; a host without LVM tools (or without device-mapper) has none.
func (h *Host) physicalVolumes(ctx context.Context) []pvRow {
	out, err := h.run(ctx, "pvs", "--noheadings", "--readonly", "--units=b", "--nosuffix", "--separator=;",
		"-o", "pv_name,vg_name,vg_free_count,lv_name,lv_path,lv_tags")
	if err != nil {
		return nil
	}
	return parsePVs(string(out))
}

func parsePVs(out string) []pvRow {
	var rows []pvRow
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, ";")
		for len(f) < 6 {
			f = append(f, "")
		}
		rows = append(rows, pvRow{
			pvName: strings.TrimSpace(f[0]), vgName: strings.TrimSpace(f[1]), vgFreeCount: strings.TrimSpace(f[2]),
			lvName: strings.TrimSpace(f[3]), lvPath: strings.TrimSpace(f[4]), lvTags: strings.TrimSpace(f[5]),
		})
	}
	return rows
}

// lvReport renders an LV as ceph-volume's LV.report does.
func lvReport(r pvRow) LV {
	tags := map[string]string{}
	for _, t := range strings.Split(r.lvTags, ",") {
		if k, v, ok := strings.Cut(t, "="); ok {
			tags[k] = v
		}
	}
	lv := LV{Name: r.lvName, tags: tags}
	if tags["ceph.osd_id"] == "" {
		lv.Comment = "not used by ceph"
		return lv
	}
	lv.OSDID = tags["ceph.osd_id"]
	lv.ClusterName = tags["ceph.cluster_name"]
	lv.Type = tags["ceph.type"]
	lv.OSDFSID = tags["ceph.osd_fsid"]
	lv.ClusterFSID = tags["ceph.cluster_fsid"]
	lv.OSDSpecAffinity = tags["ceph.osdspec_affinity"]
	lv.BlockUUID = tags["ceph.block_uuid"]
	return lv
}
