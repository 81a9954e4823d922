package agent

import (
	"context"
	"errors"
	"os"
	"path"
	"slices"
	"testing"

	"github.com/orchceph/orch/containers"
)

// mkDaemonDir creates a daemon's data dir with one data file and its
// custom config dir.
func mkDaemonDir(t *testing.T, l *Lifecycle, fsid, name string) {
	t.Helper()
	for _, d := range []string{l.dataDir(fsid, name), l.customConfigDir(fsid, name)} {
		if err := os.MkdirAll(l.fs(d), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.fs(path.Join(d, "store")), []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRemoveDaemon(t *testing.T) {
	stamp := fixedNow.Format(removedStampFormat) // 2025-03-01T12:00:00.000000Z
	tests := []struct {
		name       string
		sup        Supervisor
		opts       RemoveOptions
		exists     bool
		cmds       [][]string
		wantErr    error
		wantResult RemoveResult
	}{
		{
			name: "mon needs force", sup: SupervisorPodman, exists: true,
			opts:    RemoveOptions{Name: "mon.host1"},
			wantErr: ErrNeedsForce,
		},
		{
			name: "osd needs force", sup: SupervisorPodman, exists: true,
			opts:    RemoveOptions{Name: "osd.3"},
			wantErr: ErrNeedsForce,
		},
		{
			name: "mon data kept", sup: SupervisorPodman, exists: true,
			opts: RemoveOptions{Name: "mon.host1", Force: true},
			cmds: [][]string{{"podman", "rm", "-f", "-i",
				containers.LegacyContainerName(testFSID, "mon.host1"), containers.ContainerName(testFSID, "mon.host1")}},
			wantResult: RemoveResult{Name: "mon.host1", Removed: true,
				KeptDataAt: "/var/lib/ceph/" + testFSID + "/removed/mon.host1_" + stamp},
		},
		{
			name: "prometheus data kept without force", sup: SupervisorPodman, exists: true,
			opts:       RemoveOptions{Name: "prometheus.host1"},
			cmds:       [][]string{{"podman", "rm", "-f", "-i", containers.ContainerName(testFSID, "prometheus.host1")}},
			wantResult: RemoveResult{Name: "prometheus.host1", Removed: true, KeptDataAt: "/var/lib/ceph/" + testFSID + "/removed/prometheus.host1_" + stamp},
		},
		{
			name: "force-delete-data", sup: SupervisorPodman, exists: true,
			opts: RemoveOptions{Name: "osd.3", Force: true, ForceDeleteData: true},
			cmds: [][]string{{"podman", "rm", "-f", "-i",
				containers.LegacyContainerName(testFSID, "osd.3"), containers.ContainerName(testFSID, "osd.3")}},
			wantResult: RemoveResult{Name: "osd.3", Removed: true},
		},
		{
			name: "custom container deleted", sup: SupervisorPodman, exists: true,
			opts:       RemoveOptions{Name: "container.web.host1", TCPPorts: []int{8080}},
			cmds:       [][]string{{"podman", "rm", "-f", "-i", containers.ContainerName(testFSID, "container.web.host1")}},
			wantResult: RemoveResult{Name: "container.web.host1", Removed: true, Notes: []string{"no firewall is managed; ports 8080 left as they are"}},
		},
		{
			name: "missing daemon is a success", sup: SupervisorPodman,
			opts: RemoveOptions{Name: "container.web.host1"},
			cmds: [][]string{{"podman", "rm", "-f", "-i", containers.ContainerName(testFSID, "container.web.host1")}},
			wantResult: RemoveResult{Name: "container.web.host1",
				Notes: []string{"daemon container.web.host1 not found on this host; nothing to remove"}},
		},
		{
			name: "systemd", sup: SupervisorSystemd, exists: true,
			opts: RemoveOptions{Name: "crash.host1"},
			cmds: [][]string{
				{"systemctl", "stop", containers.UnitName(testFSID, "crash.host1")},
				{"systemctl", "reset-failed", containers.UnitName(testFSID, "crash.host1")},
				{"systemctl", "disable", containers.UnitName(testFSID, "crash.host1")},
				{"podman", "rm", "-f", "-i", containers.LegacyContainerName(testFSID, "crash.host1"), containers.ContainerName(testFSID, "crash.host1")},
			},
			wantResult: RemoveResult{Name: "crash.host1", Removed: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSeqRunner(t)
			for _, c := range tt.cmds {
				r.expect("", nil, c...)
			}
			l := lifecycleHost(t, r, tt.sup)
			tt.opts.FSID = testFSID
			if tt.exists {
				mkDaemonDir(t, l, testFSID, tt.opts.Name)
			}
			dropIn := l.fs(path.Join(containers.UnitDir, containers.UnitName(testFSID, tt.opts.Name)+".d"))
			if err := os.MkdirAll(dropIn, 0o755); err != nil {
				t.Fatal(err)
			}
			res, err := l.RemoveDaemon(context.Background(), tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if err.Error() != "must pass --force to proceed: this command may destroy precious data!" {
					t.Errorf("error text %q", err)
				}
				if !l.Host.exists(l.dataDir(testFSID, tt.opts.Name)) {
					t.Error("refused removal touched the data dir")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.wantResult.FSID = testFSID
			if !jsonEqual(t, res, tt.wantResult) {
				t.Errorf("result = %+v\nwant     %+v", *res, tt.wantResult)
			}
			if l.Host.exists(l.dataDir(testFSID, tt.opts.Name)) || l.Host.exists(l.customConfigDir(testFSID, tt.opts.Name)) {
				t.Error("data or custom config dir still there")
			}
			if res.KeptDataAt != "" {
				if b, err := os.ReadFile(l.fs(path.Join(res.KeptDataAt, "store"))); err != nil || string(b) != "precious\n" {
					t.Errorf("kept data: %q %v", b, err)
				}
			}
			if gone := !l.Host.exists(path.Join(containers.UnitDir, containers.UnitName(testFSID, tt.opts.Name)+".d")); gone != (tt.sup == SupervisorSystemd) {
				t.Errorf("drop-in dir removed = %v under %s", gone, tt.sup)
			}
		})
	}
}

func TestRemoveDaemonSystemdUnitAlreadyGone(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorSystemd)
	unit := containers.UnitName(testFSID, "container.x.y")
	notLoaded := exitErr(5, "Failed to stop "+unit+": Unit "+unit+" not loaded.", "systemctl", "stop", unit)
	r.expect("", notLoaded, "systemctl", "stop", unit).
		expect("", exitErr(1, "not loaded", "systemctl"), "systemctl", "reset-failed", unit).
		expect("", exitErr(1, "not loaded", "systemctl"), "systemctl", "disable", unit).
		expect("", nil, "podman", "rm", "-f", "-i", containers.ContainerName(testFSID, "container.x.y"))
	res, err := l.RemoveDaemon(context.Background(), RemoveOptions{FSID: testFSID, Name: "container.x.y"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed || len(res.Notes) != 4 || !slices.ContainsFunc(res.Notes, func(s string) bool { return s == "daemon container.x.y not found on this host; nothing to remove" }) {
		t.Errorf("result = %+v", res)
	}
}

func TestRemoveDaemonRejectsBadNames(t *testing.T) {
	l := lifecycleHost(t, newSeqRunner(t), SupervisorPodman)
	for _, o := range []RemoveOptions{
		{FSID: "x", Name: "mon.a"},
		{FSID: testFSID, Name: "../../etc"},
		{FSID: testFSID, Name: "mon.a/../../b"},
		{FSID: testFSID, Name: "nodot"},
	} {
		if _, err := l.RemoveDaemon(context.Background(), o); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: err = %v", o, err)
		}
	}
}
