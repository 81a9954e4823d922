package orchestrator

// ceph-volume's two modes. cephadm prepares OSDs with `lvm batch` (one
// call per host and drive group, ceph-volume makes the LVs) unless the
// drive group says `method: raw`. LVM needs the kernel's device-mapper;
// where a host has none (as on the lab hosts of this project's tests),
// orch uses `raw prepare`, one call per data device, which cephadm also
// supports. `method: lvm` on a host without device-mapper is refused with
// a clear error rather than left to fail inside ceph-volume.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/orchceph/orch/sshexec"
)

// deviceMapperProbe exits 0 when the kernel has device-mapper.
var deviceMapperProbe = []string{"test", "-e", "/dev/mapper/control"}

// hasDeviceMapper reports (and remembers, per host) whether host's kernel
// has device-mapper.
func (r *Reconciler) hasDeviceMapper(ctx context.Context, host string) (bool, error) {
	r.dmMu.Lock()
	v, ok := r.dm[host]
	r.dmMu.Unlock()
	if ok {
		return v, nil
	}
	h, err := r.st.GetHost(host)
	if err != nil {
		return false, err
	}
	t, err := r.target(h)
	if err != nil {
		return false, fmt.Errorf("%s: %w", host, err)
	}
	_, err = r.remote.Run(ctx, t, deviceMapperProbe, nil, r.checkTO)
	var ee *sshexec.ExitError
	switch {
	case err == nil:
		v = true
	case errors.As(err, &ee) && ee.Code == 1:
		v = false
	default:
		return false, fmt.Errorf("%s: check for device-mapper: %w", host, err)
	}
	r.dmMu.Lock()
	r.dm[host] = v
	r.dmMu.Unlock()
	return v, nil
}

// osdMethod is ceph-volume's mode for a drive group on a host: the spec's
// method, else lvm where the kernel has device-mapper and raw where not.
func osdMethod(specMethod, host string, deviceMapper bool) (string, error) {
	switch specMethod {
	case "raw":
		return "raw", nil
	case "lvm":
		if !deviceMapper {
			return "", invalidf("method lvm needs device-mapper, which the kernel of host %s lacks (no /dev/mapper/control); use method: raw", host)
		}
		return "lvm", nil
	case "":
		if deviceMapper {
			return "lvm", nil
		}
		return "raw", nil
	}
	return "", invalidf("method must be one of None, lvm, raw")
}

// lvmBatchArgs is cephadm's `lvm batch` for a drive group on one host:
// every data device in one call, db and wal devices shared among them,
// ids of replaced OSDs reused.
func lvmBatchArgs(data, db, wal []string, osdIDs []int) []string {
	args := append([]string{"lvm", "batch", "--no-auto"}, data...)
	if len(db) > 0 {
		args = append(append(args, "--db-devices"), db...)
	}
	if len(wal) > 0 {
		args = append(append(args, "--wal-devices"), wal...)
	}
	if len(osdIDs) > 0 {
		args = append(args, "--osd-ids")
		for _, id := range osdIDs {
			args = append(args, strconv.Itoa(id))
		}
	}
	return append(args, "--yes", "--no-systemd")
}

// lvmListEntry is one LV of `ceph-volume lvm list --format json` (a map
// of OSD id to the OSD's LVs).
type lvmListEntry struct {
	Devices []string          `json:"devices"`
	Path    string            `json:"path"`
	Tags    map[string]string `json:"tags"`
	Type    string            `json:"type"`
}

// parseLvmList reads `lvm list` and keeps the OSDs of cluster fsid, by
// id, as rawOSD records (the device is the block LV's first device).
func parseLvmList(out []byte, fsid string) ([]rawOSD, error) {
	var m map[string][]lvmListEntry
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("ceph-volume lvm list: %w", err)
	}
	var osds []rawOSD
	for key, lvs := range m {
		id, err := strconv.Atoi(key)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("ceph-volume lvm list: OSD id %q is not a number", key)
		}
		for _, lv := range lvs {
			if lv.Type != "block" || lv.Tags["ceph.cluster_fsid"] != fsid {
				continue
			}
			o := rawOSD{CephFSID: fsid, OSDID: id, OSDUUID: lv.Tags["ceph.osd_fsid"], Type: "bluestore"}
			if len(lv.Devices) > 0 {
				o.Device = lv.Devices[0]
			}
			osds = append(osds, o)
		}
	}
	sort.Slice(osds, func(i, j int) bool { return osds[i].OSDID < osds[j].OSDID })
	return osds, nil
}
