package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/containers"
)

// This file holds what deploy, rm-daemon, unit and ls share: the Lifecycle
// type, supervisor detection (systemd or podman's restart policy), the
// per-cluster lock and the podman queries.

// Supervisor names what keeps a daemon's container running on this host.
type Supervisor string

const (
	// SupervisorAuto detects: systemd when it runs the host, else podman.
	SupervisorAuto Supervisor = ""
	// SupervisorSystemd wraps each container in a ceph-<fsid>@<name>
	// unit, as cephadm does.
	SupervisorSystemd Supervisor = "systemd"
	// SupervisorPodman runs detached containers with podman's restart
	// policy (on-failure); used where there is no systemd (the lab hosts).
	SupervisorPodman Supervisor = "podman"
)

// ParseSupervisor accepts "auto" (or ""), "systemd" and "podman".
func ParseSupervisor(s string) (Supervisor, error) {
	switch s {
	case "", "auto":
		return SupervisorAuto, nil
	case string(SupervisorSystemd), string(SupervisorPodman):
		return Supervisor(s), nil
	}
	return "", fmt.Errorf("supervisor %q: want auto, systemd or podman: %w", s, ErrInvalidArgument)
}

// Sentinel errors of the daemon lifecycle.
var (
	// ErrDaemonNotFound means the named daemon has no data dir on this
	// host.
	ErrDaemonNotFound = errors.New("daemon not found")
	// ErrNeedsForce means rm-daemon refused a mon or osd without --force.
	ErrNeedsForce = errors.New("needs --force")
	// ErrLocked means another agent holds the cluster's lock for longer
	// than the command may wait.
	ErrLocked = errors.New("cluster lock busy")
)

// classError prints msg (cephadm's exact text) and is its class for
// errors.Is, so the text does not end in the sentinel's own words.
type classError struct {
	msg   string
	class error
}

func (e *classError) Error() string { return e.msg }
func (e *classError) Unwrap() error { return e.class }

// Lifecycle deploys, lists, supervises and removes the Ceph (and custom)
// daemons of this host. The zero value (plus a Host) works on the real
// machine with cephadm's paths.
//
// Paths: DataRoot is the directory as the machine (and podman) sees it;
// files are read and written at Host.Root+DataRoot, so unit tests point
// Host.Root at a temporary tree while the rendered commands keep naming
// /var/lib/ceph, and integration tests point DataRoot itself at a
// temporary directory.
type Lifecycle struct {
	Host *Host
	// DataRoot holds the cluster dirs; "" means /var/lib/ceph. Only the
	// podman supervisor accepts another root (the systemd template names
	// /var/lib/ceph).
	DataRoot string
	// Supervisor forces systemd or podman; "" detects.
	Supervisor Supervisor
	// LockDir holds the per-cluster lock files; "" means /run/orch (under
	// Host.Root), as cephadm locks in /run/cephadm.
	LockDir string
	// PortInUse is the listen test for fresh deploys; nil means a real TCP
	// bind on this host.
	PortInUse PortChecker
	// Chown hands a file to the daemon's uid:gid (-1 keeps one); nil means
	// os.Lchown. Tests record instead of needing root.
	Chown func(path string, uid, gid int) error
}

func (l *Lifecycle) dataRoot() string {
	if l.DataRoot == "" {
		return containers.DataRoot
	}
	return path.Clean(l.DataRoot)
}

// fs maps a machine path to where this process reads and writes it.
func (l *Lifecycle) fs(p string) string { return l.Host.path(p) }

func (l *Lifecycle) clusterDir(fsid string) string { return path.Join(l.dataRoot(), fsid) }

func (l *Lifecycle) dataDir(fsid, name string) string { return path.Join(l.dataRoot(), fsid, name) }

func (l *Lifecycle) customConfigDir(fsid, name string) string {
	return path.Join(l.dataRoot(), fsid, "custom_config_files", name)
}

func (l *Lifecycle) portChecker() PortChecker {
	if l.PortInUse == nil {
		return tcpPortInUse
	}
	return l.PortInUse
}

// supervisor resolves SupervisorAuto by looking at the host.
func (l *Lifecycle) supervisor(ctx context.Context) (Supervisor, error) {
	s := l.Supervisor
	if s == SupervisorAuto {
		s = SupervisorPodman
		if l.Host.hasSystemd(ctx) {
			s = SupervisorSystemd
		}
	}
	if s == SupervisorSystemd && l.dataRoot() != containers.DataRoot {
		return "", fmt.Errorf("data root %s: systemd units name %s; use the podman supervisor for another root: %w",
			l.dataRoot(), containers.DataRoot, ErrInvalidArgument)
	}
	return s, nil
}

// systemdStates are `systemctl is-system-running` answers of a running
// systemd (degraded means some unit failed, which is still a working
// manager).
var systemdStates = map[string]bool{
	"initializing": true, "starting": true, "running": true,
	"degraded": true, "maintenance": true, "stopping": true,
}

// hasSystemd reports whether systemd runs this host and answers systemctl:
// /run/systemd/system exists (sd_booted) or PID 1 is systemd, and
// `systemctl is-system-running` reports a live manager. Containers and the
// lab hosts have systemctl installed without systemd running, so the
// binary alone proves nothing.
func (h *Host) hasSystemd(ctx context.Context) bool {
	booted := h.exists("/run/systemd/system") || h.readOr("/proc/1/comm", "") == "systemd"
	if !booted {
		return false
	}
	if _, err := h.LookPath("systemctl"); err != nil {
		return false
	}
	// is-system-running exits non-zero for "degraded"; its stdout counts.
	out, _ := h.run(ctx, "systemctl", "is-system-running")
	return systemdStates[strings.TrimSpace(string(out))]
}

// lockCluster takes the per-fsid lock that serialises mutating agent
// commands (cephadm's FileLock), waiting until ctx is done.
func (l *Lifecycle) lockCluster(ctx context.Context, fsid string) (unlock func(), err error) {
	dir := l.LockDir
	if dir == "" {
		dir = l.fs("/run/orch")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", fsid, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, fsid+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", fsid, err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", fsid, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w (%w)", fsid, ErrLocked, ctx.Err())
		case <-tick.C:
		}
	}
}

var fsidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsFSID reports whether s is a cluster fsid (a UUID), as cephadm's is_fsid.
func IsFSID(s string) bool { return fsidRE.MatchString(s) }

// validateDaemonRef checks an fsid and a "<type>.<id>" name before either
// is used in a path or a command.
func validateDaemonRef(fsid, name string) (daemonType, daemonID string, err error) {
	if !IsFSID(fsid) {
		return "", "", fmt.Errorf("fsid %q is not a UUID: %w", fsid, ErrInvalidArgument)
	}
	daemonType, daemonID, err = containers.SplitDaemonName(name)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", err, ErrInvalidArgument)
	}
	if strings.ContainsAny(name, "/ \t\n'\"$`\\;&|<>()*?[]{}~!#") || strings.HasPrefix(daemonID, ".") || strings.HasSuffix(name, ".") {
		return "", "", fmt.Errorf("daemon name %q: invalid characters: %w", name, ErrInvalidArgument)
	}
	return daemonType, daemonID, nil
}

// psContainer is the part of `podman ps -a --format json` the agent reads.
type psContainer struct {
	ID        string            `json:"Id"`
	Names     []string          `json:"Names"`
	Image     string            `json:"Image"`
	ImageID   string            `json:"ImageID"`
	State     string            `json:"State"`
	ExitCode  int               `json:"ExitCode"`
	StartedAt flexTime          `json:"StartedAt"`
	Created   flexTime          `json:"Created"`
	Labels    map[string]string `json:"Labels"`
}

func (c *psContainer) running() bool { return c.State == "running" }

// flexTime decodes podman's times: Unix seconds (podman 4) or an RFC 3339
// string (some versions and fields).
type flexTime struct{ time.Time }

func (t *flexTime) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" || s == `""` {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		tm, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return nil // human text such as "2 seconds ago": unknown
		}
		t.Time = tm
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	if n > 0 {
		t.Time = time.Unix(int64(n), 0).UTC()
	}
	return nil
}

// podmanPS lists every container on the host with one podman call.
func (h *Host) podmanPS(ctx context.Context) ([]psContainer, error) {
	out, err := h.run(ctx, "podman", "ps", "-a", "--format", "json")
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var cs []psContainer
	if len(strings.TrimSpace(string(out))) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("list containers: decode podman ps: %w", err)
	}
	return cs, nil
}

// containerIndex finds containers by name.
type containerIndex map[string]*psContainer

func indexContainers(cs []psContainer) containerIndex {
	idx := make(containerIndex, len(cs))
	for i := range cs {
		for _, n := range cs[i].Names {
			idx[strings.TrimPrefix(n, "/")] = &cs[i]
		}
	}
	return idx
}

// daemon returns the container of fsid/name under its current name, else
// under its legacy (pre-Pacific) name, else nil.
func (idx containerIndex) daemon(fsid, name string) *psContainer {
	if c := idx[containers.ContainerName(fsid, name)]; c != nil {
		return c
	}
	return idx[containers.LegacyContainerName(fsid, name)]
}

// containerNames are the names a daemon's container may carry: current,
// and for Ceph types the legacy one that unit.run also removes.
func containerNames(fsid, name, daemonType string) []string {
	names := []string{containers.ContainerName(fsid, name)}
	if containers.IsCephType(daemonType) {
		if legacy := containers.LegacyContainerName(fsid, name); legacy != names[0] {
			names = append([]string{legacy}, names...)
		}
	}
	return names
}

// podmanRemove force-removes containers, ignoring missing ones.
func (h *Host) podmanRemove(ctx context.Context, names ...string) error {
	argv := append([]string{"podman", "rm", "-f", "-i"}, names...)
	if _, err := h.run(ctx, argv...); err != nil {
		return fmt.Errorf("remove container %s: %w", strings.Join(names, " "), err)
	}
	return nil
}

// podmanExists reports whether a container exists (`podman container
// exists`: exit 0 yes, 1 no, anything else an error).
func (h *Host) podmanExists(ctx context.Context, name string) (bool, error) {
	_, err := h.run(ctx, "podman", "container", "exists", name)
	if err == nil {
		return true, nil
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code == 1 {
		return false, nil
	}
	return false, fmt.Errorf("container %s: %w", name, err)
}

// systemctl runs one systemctl verb on units.
func (h *Host) systemctl(ctx context.Context, args ...string) error {
	_, err := h.run(ctx, append([]string{"systemctl"}, args...)...)
	if err != nil {
		return fmt.Errorf("systemctl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// cephTarget is cephadm's ceph.target: the parent of every cluster target.
const cephTarget = `# generated by orch
[Unit]
Description=All Ceph clusters and services

[Install]
WantedBy=multi-user.target
`
