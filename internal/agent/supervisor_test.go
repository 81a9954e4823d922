package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSupervisorDetection(t *testing.T) {
	tests := []struct {
		name      string
		booted    bool   // /run/systemd/system exists
		pid1      string // /proc/1/comm
		systemctl bool
		state     string // is-system-running's stdout; "" = not asked
		stateErr  error
		want      Supervisor
	}{
		{name: "no systemd", systemctl: true, want: SupervisorPodman},
		{name: "systemctl without systemd booted", systemctl: true, pid1: "catatonit", want: SupervisorPodman},
		{name: "running", booted: true, systemctl: true, state: "running\n", want: SupervisorSystemd},
		{name: "degraded exits 1 but works", booted: true, systemctl: true, state: "degraded\n",
			stateErr: exitErr(1, "", "systemctl"), want: SupervisorSystemd},
		{name: "pid 1 is systemd", pid1: "systemd", systemctl: true, state: "starting\n", want: SupervisorSystemd},
		{name: "offline", booted: true, systemctl: true, state: "offline\n",
			stateErr: exitErr(1, "System has not been booted with systemd", "systemctl"), want: SupervisorPodman},
		{name: "no systemctl", booted: true, want: SupervisorPodman},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newSeqRunner(t)
			if tt.state != "" {
				r.expect(tt.state, tt.stateErr, "systemctl", "is-system-running")
			}
			root := t.TempDir()
			if tt.booted {
				if err := os.MkdirAll(filepath.Join(root, "run/systemd/system"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.pid1 != "" {
				if err := os.MkdirAll(filepath.Join(root, "proc/1"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, "proc/1/comm"), []byte(tt.pid1+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			progs := []string{"podman"}
			if tt.systemctl {
				progs = append(progs, "systemctl")
			}
			l := &Lifecycle{Host: &Host{Root: root, Path: binDir(t, progs...), Runner: r}}
			got, err := l.supervisor(context.Background())
			if err != nil || got != tt.want {
				t.Errorf("supervisor = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseSupervisor(t *testing.T) {
	for in, want := range map[string]Supervisor{"": SupervisorAuto, "auto": SupervisorAuto, "systemd": SupervisorSystemd, "podman": SupervisorPodman} {
		if got, err := ParseSupervisor(in); err != nil || got != want {
			t.Errorf("ParseSupervisor(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSupervisor("docker"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("docker: %v", err)
	}
}

func TestLockClusterSerialises(t *testing.T) {
	l := &Lifecycle{Host: &Host{}, LockDir: t.TempDir()}
	unlock, err := l.lockCluster(context.Background(), testFSID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, err := l.lockCluster(ctx, testFSID); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock while held: %v", err)
	}
	// Another cluster is independent.
	u2, err := l.lockCluster(context.Background(), testFSID2)
	if err != nil {
		t.Fatal(err)
	}
	u2()
	unlock()
	u3, err := l.lockCluster(context.Background(), testFSID)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	u3()
}

func TestValidateDaemonRef(t *testing.T) {
	good := []string{"mon.a", "osd.12", "container.web.host1", "rgw.realm.zone.host1.abcdef", "node-exporter.host1"}
	bad := []string{"", "mon", ".a", "mon.", "mon.a/b", "mon.a b", "mon.$(x)", "mon.a;b", "mon..a"}
	for _, n := range good {
		if _, _, err := validateDaemonRef(testFSID, n); err != nil {
			t.Errorf("%q rejected: %v", n, err)
		}
	}
	for _, n := range bad {
		if _, _, err := validateDaemonRef(testFSID, n); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q accepted (err %v)", n, err)
		}
	}
}
