package agent

import (
	"fmt"
	"os"
)

// RescanResult is the JSON answer of `orch agent disk-rescan`.
type RescanResult struct {
	// Adapters are the SCSI host adapters found.
	Adapters []string `json:"adapters"`
	// Rescanned were told to scan all channels, targets and LUNs.
	Rescanned []string `json:"rescanned"`
	// Skipped are adapters that cannot be rescanned usefully (USB storage,
	// unknown drivers), as cephadm skips them.
	Skipped []string `json:"skipped"`
	// Failed maps an adapter to the reason its scan file refused the write.
	Failed  map[string]string `json:"failed"`
	Message string            `json:"message"`
}

// DiskRescan asks every SCSI host adapter to rescan its bus (writes
// "- - -" to /sys/class/scsi_host/*/scan) so that hot-plugged disks appear.
// Failures of individual adapters are reported in the result, not as an
// error.
func (h *Host) DiskRescan() *RescanResult {
	start := h.now()
	res := &RescanResult{Adapters: []string{}, Rescanned: []string{}, Skipped: []string{}, Failed: map[string]string{}}
	const base = "/sys/class/scsi_host"
	var targets []string
	for _, host := range h.listDir(base) {
		if !h.exists(base + "/" + host + "/scan") {
			continue
		}
		res.Adapters = append(res.Adapters, host)
		switch h.readOr(base+"/"+host+"/proc_name", unknown) {
		case unknown, "usb-storage":
			res.Skipped = append(res.Skipped, host)
		default:
			targets = append(targets, host)
		}
	}
	if len(targets) == 0 {
		res.Message = "Ok. No compatible HBAs found"
		if len(res.Adapters) == 0 {
			res.Message += " (no SCSI host adapters on this host)"
		}
		return res
	}
	for _, host := range targets {
		if err := os.WriteFile(h.path(base+"/"+host+"/scan"), []byte("- - -"), 0o200); err != nil {
			res.Failed[host] = err.Error()
			continue
		}
		res.Rescanned = append(res.Rescanned, host)
	}
	res.Message = fmt.Sprintf("Ok. %d adapters detected: %d rescanned, %d skipped, %d failed (%.2fs)",
		len(res.Adapters), len(res.Rescanned), len(res.Skipped), len(res.Failed), h.now().Sub(start).Seconds())
	return res
}
