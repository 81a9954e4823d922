package agent

import (
	"context"
	"fmt"
	"os"
	"path"

	"github.com/orchceph/orch/containers"
)

// UnitVerbs are the verbs of `orch agent unit`, cephadm's `unit` command.
var UnitVerbs = []string{"start", "stop", "restart", "reset-failed", "enable", "disable"}

// UnitResult is what `orch agent unit` prints.
type UnitResult struct {
	FSID        string     `json:"fsid"`
	Name        string     `json:"name"`
	Verb        string     `json:"verb"`
	Supervisor  Supervisor `json:"supervisor"`
	SystemdUnit string     `json:"systemd_unit"`
	Notes       []string   `json:"notes,omitempty"`
}

// Unit starts, stops, restarts, resets, enables or disables one daemon:
// `systemctl <verb> ceph-<fsid>@<name>` under systemd; without systemd the
// podman equivalents (start, stop, restart); reset-failed, enable and
// disable have no podman meaning and only leave a note.
func (l *Lifecycle) Unit(ctx context.Context, fsid, name, verb string) (*UnitResult, error) {
	typ, _, err := validateDaemonRef(fsid, name)
	if err != nil {
		return nil, err
	}
	known := false
	for _, v := range UnitVerbs {
		known = known || v == verb
	}
	if !known {
		return nil, fmt.Errorf("unit %s: unknown verb %q: %w", name, verb, ErrInvalidArgument)
	}
	sup, err := l.supervisor(ctx)
	if err != nil {
		return nil, err
	}
	if !l.Host.exists(l.dataDir(fsid, name)) {
		return nil, fmt.Errorf("unit %s: %w on this host (no %s)", name, ErrDaemonNotFound, l.dataDir(fsid, name))
	}
	unlock, err := l.lockCluster(ctx, fsid)
	if err != nil {
		return nil, fmt.Errorf("unit %s: %w", name, err)
	}
	defer unlock()
	res := &UnitResult{FSID: fsid, Name: name, Verb: verb, Supervisor: sup, SystemdUnit: containers.UnitName(fsid, name)}
	res.Notes, err = l.unitVerb(ctx, sup, fsid, name, typ, verb)
	if err != nil {
		return nil, fmt.Errorf("unit %s %s: %w", verb, name, err)
	}
	switch verb {
	case "stop":
		err = os.WriteFile(l.fs(path.Join(l.dataDir(fsid, name), fileUnitStopped)), []byte("stopped by the orchestrator\n"), 0o600)
	case "start", "restart":
		err = l.clearStopped(fsid, name)
	}
	if err != nil {
		return nil, fmt.Errorf("unit %s %s: %w", verb, name, err)
	}
	return res, nil
}

// fileUnitStopped marks a daemon the orchestrator stopped (`orch daemon
// stop`, `orch stop SERVICE`): `ls` reports such a daemon "stopped", and a
// daemon that is not running without the mark "error", because something
// other than orch stopped it (a crash, or `podman stop` by hand) and it
// should be running.
const fileUnitStopped = "unit.stopped"

// clearStopped removes the stop mark: the daemon was started again.
func (l *Lifecycle) clearStopped(fsid, name string) error {
	err := os.Remove(l.fs(path.Join(l.dataDir(fsid, name), fileUnitStopped)))
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// unitVerb does the work of Unit (also used by reconfig's restart); the
// caller holds the cluster lock.
func (l *Lifecycle) unitVerb(ctx context.Context, sup Supervisor, fsid, name, daemonType, verb string) ([]string, error) {
	if sup == SupervisorSystemd {
		unit := containers.UnitName(fsid, name)
		if verb == "restart" {
			// cephadm's restart is reset-failed + restart: a unit that hit
			// its start limit would refuse otherwise.
			if err := l.Host.systemctl(ctx, "reset-failed", unit); err != nil {
				return nil, err
			}
		}
		return nil, l.Host.systemctl(ctx, verb, unit)
	}
	cname := containers.ContainerName(fsid, name)
	switch verb {
	case "reset-failed", "enable", "disable":
		return []string{"no systemd on this host: podman's restart policy supervises " + cname + "; " + verb + " has nothing to do"}, nil
	}
	exists, err := l.Host.podmanExists(ctx, cname)
	if err != nil {
		return nil, err
	}
	switch verb {
	case "stop":
		if !exists {
			return []string{"container " + cname + " does not exist; nothing to stop"}, nil
		}
		argv := []string{"podman", "stop"}
		if daemonType == "osd" {
			argv = append(argv, "-t", "30")
		}
		if _, err := l.Host.run(ctx, append(argv, cname)...); err != nil {
			return nil, fmt.Errorf("stop container %s: %w", cname, err)
		}
		return nil, nil
	default: // start, restart
		if containers.IsCephType(daemonType) {
			// /var/run is a tmpfs: after a reboot the mount source is gone.
			if err := os.MkdirAll(l.fs(path.Join(containers.RunRoot, fsid)), 0o770); err != nil {
				return nil, err
			}
		}
		if !exists {
			id, err := l.startPodman(ctx, fsid, name, daemonType)
			if err != nil {
				return nil, err
			}
			return []string{"container " + cname + " was missing; created " + shortID(id) + " from " + fileUnitPodman}, nil
		}
		if _, err := l.Host.run(ctx, "podman", verb, cname); err != nil {
			return nil, fmt.Errorf("%s container %s: %w", verb, cname, err)
		}
		return nil, nil
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
