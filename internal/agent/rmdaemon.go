package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/orchceph/orch/containers"
)

// removedStampFormat is cephadm's DATEFMT, used in removed/<name>_<stamp>.
const removedStampFormat = "2006-01-02T15:04:05.000000Z"

// RemoveOptions are the flags of `orch agent rm-daemon`.
type RemoveOptions struct {
	FSID string
	Name string
	// Force is required for mon and osd (cephadm's rule).
	Force bool
	// ForceDeleteData deletes a mon/osd/prometheus data dir instead of
	// keeping it under removed/.
	ForceDeleteData bool
	// TCPPorts are the daemon's ports (cephadm closes them in firewalld;
	// orch manages no firewall yet and only records them).
	TCPPorts []int
}

// RemoveResult is what `orch agent rm-daemon` prints.
type RemoveResult struct {
	FSID string `json:"fsid"`
	Name string `json:"name"`
	// Removed is false when there was no such daemon (still a success).
	Removed bool `json:"removed"`
	// KeptDataAt is where a mon/osd/prometheus data dir was moved.
	KeptDataAt string   `json:"kept_data_at,omitempty"`
	Notes      []string `json:"notes,omitempty"`
}

// RemoveDaemon stops a daemon, removes its unit or container, and deletes
// its data dir, except for mon, osd and prometheus whose data dir moves to
// <cluster>/removed/<name>_<UTC stamp>. Removing a daemon that is not there
// succeeds with a note, so a retried removal converges.
func (l *Lifecycle) RemoveDaemon(ctx context.Context, opts RemoveOptions) (*RemoveResult, error) {
	typ, _, err := validateDaemonRef(opts.FSID, opts.Name)
	if err != nil {
		return nil, err
	}
	if (typ == "mon" || typ == "osd") && !opts.Force {
		return nil, &classError{msg: "must pass --force to proceed: this command may destroy precious data!", class: ErrNeedsForce}
	}
	sup, err := l.supervisor(ctx)
	if err != nil {
		return nil, err
	}
	unlock, err := l.lockCluster(ctx, opts.FSID)
	if err != nil {
		return nil, fmt.Errorf("rm-daemon %s: %w", opts.Name, err)
	}
	defer unlock()

	res := &RemoveResult{FSID: opts.FSID, Name: opts.Name}
	if sup == SupervisorSystemd {
		unit := containers.UnitName(opts.FSID, opts.Name)
		// Each may fail for a unit that is already gone; that is the goal.
		for _, verb := range []string{"stop", "reset-failed", "disable"} {
			if err := l.Host.systemctl(ctx, verb, unit); err != nil {
				res.Notes = append(res.Notes, err.Error())
			}
		}
		if err := os.RemoveAll(l.fs(path.Join(containers.UnitDir, unit+".d"))); err != nil {
			return nil, fmt.Errorf("rm-daemon %s: %w", opts.Name, err)
		}
	}
	// Under systemd the container is --rm and already gone; a leftover from
	// a crash or from the podman supervisor is removed either way.
	if err := l.Host.podmanRemove(ctx, containerNames(opts.FSID, opts.Name, typ)...); err != nil {
		return nil, fmt.Errorf("rm-daemon %s: %w", opts.Name, err)
	}

	dataDir := l.dataDir(opts.FSID, opts.Name)
	if _, err := os.Lstat(l.fs(dataDir)); errors.Is(err, fs.ErrNotExist) {
		res.Notes = append(res.Notes, fmt.Sprintf("daemon %s not found on this host; nothing to remove", opts.Name))
	} else if containers.KeepsDataOnRemove(typ) && !opts.ForceDeleteData {
		stamp := l.Host.now().UTC().Format(removedStampFormat)
		dst := path.Join(l.clusterDir(opts.FSID), "removed", opts.Name+"_"+stamp)
		if err := os.MkdirAll(l.fs(path.Dir(dst)), 0o700); err != nil {
			return nil, fmt.Errorf("rm-daemon %s: %w", opts.Name, err)
		}
		if err := os.Rename(l.fs(dataDir), l.fs(dst)); err != nil {
			return nil, fmt.Errorf("rm-daemon %s: keep data: %w", opts.Name, err)
		}
		res.Removed, res.KeptDataAt = true, dst
	} else {
		if err := os.RemoveAll(l.fs(dataDir)); err != nil {
			return nil, fmt.Errorf("rm-daemon %s: %w", opts.Name, err)
		}
		res.Removed = true
	}
	if err := os.RemoveAll(l.fs(l.customConfigDir(opts.FSID, opts.Name))); err != nil {
		return nil, fmt.Errorf("rm-daemon %s: %w", opts.Name, err)
	}
	if len(opts.TCPPorts) > 0 {
		res.Notes = append(res.Notes, "no firewall is managed; ports "+joinInts(opts.TCPPorts, " ")+" left as they are")
	}
	return res, nil
}
