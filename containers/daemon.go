package containers

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Mount is one bind mount: host path → container path with options
// ("z", "ro", ...).
type Mount struct {
	Source  string
	Target  string
	Options string
}

func (m Mount) volumeArg() string {
	s := m.Source + ":" + m.Target
	if m.Options != "" {
		s += ":" + m.Options
	}
	return s
}

// CustomConfig is a spec custom_configs entry, rendered to
// CustomConfigDir/<basename> and bind-mounted at MountPath.
type CustomConfig struct {
	MountPath string
}

// Daemon is everything needed to render one daemon's container.
type Daemon struct {
	FSID     string
	Type     string
	ID       string
	Hostname string
	Image    string
	// Ports the daemon listens on (checked for conflicts before a fresh
	// deploy; published with -p when the daemon is not host-networked).
	Ports []int

	// Entrypoint and Args override the per-type defaults (custom
	// containers set them from the spec).
	Entrypoint string
	Args       []string
	// Env holds extra KEY=VALUE entries.
	Env []string
	// Mounts are added after the per-type default mounts.
	Mounts []Mount
	// Privileged forces --privileged (mon, osd and iscsi always are).
	Privileged bool
	// NoInit disables --init (cephadm's --no-container-init).
	NoInit bool

	ExtraContainerArgs  []string
	ExtraEntrypointArgs []string
	CustomConfigs       []CustomConfig

	MemoryRequest int64
	MemoryLimit   int64
}

// Name is "<type>.<id>".
func (d Daemon) Name() string { return DaemonName(d.Type, d.ID) }

// IsCephType reports whether the daemon runs a Ceph binary from the
// cluster image and so gets the ceph mounts, entity name and log options.
func IsCephType(t string) bool {
	switch t {
	case "mon", "mgr", "osd", "mds", "rgw", "crash", "rbd-mirror", "cephfs-mirror", "ceph-exporter", "nfs", "iscsi":
		return true
	}
	return false
}

// Validate checks the fields every rendering needs.
func (d Daemon) Validate() error {
	switch {
	case d.FSID == "":
		return fmt.Errorf("daemon %s: fsid is required", d.Name())
	case d.Type == "" || d.ID == "":
		return fmt.Errorf("daemon name %q: type and id are required", d.Name())
	case d.Image == "":
		return fmt.Errorf("daemon %s: image is required", d.Name())
	case strings.ContainsAny(d.FSID+d.Type+d.ID, "/ \t\n'\"$`\\;&|<>()"):
		return fmt.Errorf("daemon %s: invalid characters in fsid, type or id", d.Name())
	}
	return nil
}

// HostNetwork reports whether the daemon shares the host's network
// namespace: every type except custom containers.
func (d Daemon) HostNetwork() bool { return d.Type != "container" }

func (d Daemon) privileged() bool {
	switch d.Type {
	case "mon", "osd", "iscsi":
		return true
	}
	return d.Privileged
}

// entityName is the Ceph auth entity the daemon runs as.
func (d Daemon) entityName() string {
	switch d.Type {
	case "mon", "mgr", "osd", "mds":
		return d.Type + "." + d.ID
	case "crash":
		return "client.crash." + d.Hostname
	default:
		return "client." + d.Type + "." + d.ID
	}
}

// EntityName is the Ceph auth entity of the daemon (client.rgw.<id>, ...).
func (d Daemon) EntityName() string { return d.entityName() }

func (d Daemon) entrypoint() string {
	if d.Entrypoint != "" {
		return d.Entrypoint
	}
	switch d.Type {
	case "mon", "mgr", "osd", "mds":
		return "/usr/bin/ceph-" + d.Type
	case "rgw":
		return "/usr/bin/radosgw"
	case "crash":
		return "/usr/bin/ceph-crash"
	case "rbd-mirror":
		return "/usr/bin/rbd-mirror"
	case "cephfs-mirror":
		return "/usr/bin/cephfs-mirror"
	case "ceph-exporter":
		return "/usr/bin/ceph-exporter"
	case "nfs":
		return "/usr/bin/ganesha.nfsd"
	}
	return ""
}

// containerDataDir is where the daemon's data dir appears in the container.
func (d Daemon) containerDataDir() string {
	switch d.Type {
	case "rgw":
		return "/var/lib/ceph/radosgw/ceph-rgw." + d.ID
	case "crash":
		return "/var/lib/ceph/crash.data"
	case "mon", "mgr", "osd", "mds":
		return "/var/lib/ceph/" + d.Type + "/ceph-" + d.ID
	}
	return "/var/lib/ceph/" + d.Type + "/ceph-" + d.ID
}

func (d Daemon) args() []string {
	if len(d.Args) > 0 || !IsCephType(d.Type) {
		return append(append([]string(nil), d.Args...), d.ExtraEntrypointArgs...)
	}
	var a []string
	switch d.Type {
	case "crash":
		a = []string{"-n", d.entityName()}
	case "nfs":
		// Foreground, logging to stderr (the journal), at event level
		// (cephadm's extra_args).
		a = []string{"-F", "-L", "STDERR", "-N", "NIV_EVENT"}
	default:
		a = []string{"-n", d.entityName(), "-f", "--setuser", "ceph", "--setgroup", "ceph",
			"--default-log-to-file=false", "--default-log-to-stderr=true", "--default-log-stderr-prefix=debug "}
		if d.Type == "mon" {
			a = append(a, "--default-mon-cluster-log-to-file=false", "--default-mon-cluster-log-to-stderr=true")
		}
	}
	return append(a, d.ExtraEntrypointArgs...)
}

// DefaultMounts returns the per-type mounts, in a fixed order.
func (d Daemon) DefaultMounts() []Mount {
	if !IsCephType(d.Type) {
		return nil
	}
	dataDir := DataDir(d.FSID, d.Name())
	ms := []Mount{
		{path.Join(RunRoot, d.FSID), "/var/run/ceph", "z"},
		{path.Join(LogRoot, d.FSID), "/var/log/ceph", "z"},
		{path.Join(ClusterDir(d.FSID), "crash"), "/var/lib/ceph/crash", "z"},
		{dataDir, d.containerDataDir(), "z"},
		{path.Join(dataDir, "config"), "/etc/ceph/ceph.conf", "z"},
	}
	switch d.Type {
	case "crash":
		ms = append(ms, Mount{path.Join(dataDir, "keyring"), "/etc/ceph/ceph." + d.entityName() + ".keyring", "z"})
	case "osd":
		ms = append(ms,
			Mount{"/dev", "/dev", ""},
			Mount{"/run/udev", "/run/udev", ""},
			Mount{"/sys", "/sys", ""},
			Mount{"/run/lvm", "/run/lvm", ""},
			Mount{"/run/lock/lvm", "/run/lock/lvm", ""},
		)
	case "nfs":
		// ganesha's librados clients find the keyring on the default
		// search path (/etc/ceph/keyring), as cephadm mounts it.
		ms = append(ms,
			Mount{path.Join(dataDir, "keyring"), "/etc/ceph/keyring", "z"},
			Mount{path.Join(dataDir, "etc/ganesha"), "/etc/ganesha", "z"})
	}
	return ms
}

// mounts is the full, ordered mount list including custom config files.
func (d Daemon) mounts() []Mount {
	ms := append(d.DefaultMounts(), d.Mounts...)
	for _, cc := range d.CustomConfigs {
		ms = append(ms, Mount{path.Join(CustomConfigDir(d.FSID, d.Name()), path.Base(cc.MountPath)), cc.MountPath, "z"})
	}
	return ms
}

func (d Daemon) env() []string {
	e := []string{"CONTAINER_IMAGE=" + d.Image, "NODE_NAME=" + d.Hostname}
	if IsCephType(d.Type) {
		e = append(e, "TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=134217728")
	}
	extra := append([]string(nil), d.Env...)
	sort.Strings(extra)
	return append(e, extra...)
}

// Supervisor says what keeps the container running.
type Supervisor int

const (
	// Systemd: a ceph-<fsid>@<name> unit runs unit.run (cephadm's layout).
	Systemd Supervisor = iota
	// RestartPolicy: no systemd on the host; podman's restart policy keeps
	// the detached container running.
	RestartPolicy
)

// RunArgv renders the podman run command for the daemon, without the
// leading "podman". Values are separate argv elements; nothing here is
// ever interpreted by a shell except inside unit.run, where Quote is used.
func RunArgv(d Daemon, sup Supervisor) ([]string, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	name := ContainerName(d.FSID, d.Name())
	a := []string{"run"}
	switch sup {
	case Systemd:
		unit := UnitName(d.FSID, d.Name())
		a = append(a, "--rm", "-d", "--log-driver", "journald",
			"--conmon-pidfile", "/run/"+unit+"-pid", "--cidfile", "/run/"+unit+"-cid", "--cgroups=split")
	case RestartPolicy:
		a = append(a, "-d", "--restart=on-failure", "--log-driver", "k8s-file", "--log-opt", "max-size=10mb")
	default:
		return nil, fmt.Errorf("unknown supervisor %d", sup)
	}
	a = append(a, "--ipc=host", "--stop-signal=SIGTERM")
	if d.MemoryRequest > 0 {
		a = append(a, "-e", "POD_MEMORY_REQUEST="+strconv.FormatInt(d.MemoryRequest, 10))
	}
	if d.MemoryLimit > 0 {
		a = append(a, "-e", "POD_MEMORY_LIMIT="+strconv.FormatInt(d.MemoryLimit, 10), "--memory", strconv.FormatInt(d.MemoryLimit, 10))
	}
	if d.HostNetwork() {
		a = append(a, "--net=host")
	} else {
		for _, p := range d.Ports {
			a = append(a, "-p", fmt.Sprintf("%d:%d", p, p))
		}
	}
	if ep := d.entrypoint(); ep != "" {
		a = append(a, "--entrypoint", ep)
	}
	if d.privileged() {
		a = append(a, "--privileged", "--group-add=disk")
	}
	if !d.NoInit {
		a = append(a, "--init")
	}
	a = append(a, "--name", name, "--pids-limit=0")
	a = append(a, d.ExtraContainerArgs...)
	for _, e := range d.env() {
		a = append(a, "-e", e)
	}
	for _, m := range d.mounts() {
		a = append(a, "-v", m.volumeArg())
	}
	a = append(a, "--label", "ceph.fsid="+d.FSID, "--label", "ceph.daemon="+d.Name())
	a = append(a, d.Image)
	a = append(a, d.args()...)
	return a, nil
}
