package containers

import (
	"fmt"
	"path"
	"strings"
)

// Default host paths, as cephadm lays them out.
const (
	DataRoot = "/var/lib/ceph"
	LogRoot  = "/var/log/ceph"
	RunRoot  = "/var/run/ceph"
	UnitDir  = "/etc/systemd/system"
)

// DaemonName is "<type>.<id>".
func DaemonName(daemonType, daemonID string) string { return daemonType + "." + daemonID }

// SplitDaemonName splits "<type>.<id>" at the first dot.
func SplitDaemonName(name string) (daemonType, daemonID string, err error) {
	t, id, ok := strings.Cut(name, ".")
	if !ok || t == "" || id == "" {
		return "", "", fmt.Errorf("invalid daemon name %q: want <type>.<id>", name)
	}
	return t, id, nil
}

// ContainerName is cephadm's container name: ceph-<fsid>-<type>-<id> with
// every "." replaced by "-".
func ContainerName(fsid, daemonName string) string {
	return strings.ReplaceAll("ceph-"+fsid+"-"+daemonName, ".", "-")
}

// LegacyContainerName is the pre-Pacific name, still stopped and removed.
func LegacyContainerName(fsid, daemonName string) string { return "ceph-" + fsid + "-" + daemonName }

// UnitName is the systemd unit of a daemon: ceph-<fsid>@<type>.<id>.service.
func UnitName(fsid, daemonName string) string { return "ceph-" + fsid + "@" + daemonName + ".service" }

// TemplateUnitName is the template every daemon unit instantiates.
func TemplateUnitName(fsid string) string { return "ceph-" + fsid + "@.service" }

// TargetName is the per-cluster target.
func TargetName(fsid string) string { return "ceph-" + fsid + ".target" }

// ClusterDir is /var/lib/ceph/<fsid>.
func ClusterDir(fsid string) string { return path.Join(DataRoot, fsid) }

// DataDir is /var/lib/ceph/<fsid>/<type>.<id>.
func DataDir(fsid, daemonName string) string { return path.Join(DataRoot, fsid, daemonName) }

// RemovedDir is where precious data of removed mon/osd/prometheus daemons
// is kept: /var/lib/ceph/<fsid>/removed/<name>_<timestamp>.
func RemovedDir(fsid, daemonName, utcStamp string) string {
	return path.Join(DataRoot, fsid, "removed", daemonName+"_"+utcStamp)
}

// CustomConfigDir holds a daemon's custom config files.
func CustomConfigDir(fsid, daemonName string) string {
	return path.Join(DataRoot, fsid, "custom_config_files", daemonName)
}

// KeepsDataOnRemove reports whether removing a daemon of this type moves
// its data dir under removed/ instead of deleting it.
func KeepsDataOnRemove(daemonType string) bool {
	switch daemonType {
	case "mon", "osd", "prometheus":
		return true
	}
	return false
}
