package agent

import (
	"context"
	"errors"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/orchceph/orch/containers"
)

func TestUnitSystemd(t *testing.T) {
	unit := containers.UnitName(testFSID, "mgr.host1.abc")
	tests := []struct {
		verb string
		cmds [][]string
	}{
		{"start", [][]string{{"systemctl", "start", unit}}},
		{"stop", [][]string{{"systemctl", "stop", unit}}},
		{"restart", [][]string{{"systemctl", "reset-failed", unit}, {"systemctl", "restart", unit}}},
		{"reset-failed", [][]string{{"systemctl", "reset-failed", unit}}},
		{"enable", [][]string{{"systemctl", "enable", unit}}},
		{"disable", [][]string{{"systemctl", "disable", unit}}},
	}
	for _, tt := range tests {
		t.Run(tt.verb, func(t *testing.T) {
			r := newSeqRunner(t)
			for _, c := range tt.cmds {
				r.expect("", nil, c...)
			}
			l := lifecycleHost(t, r, SupervisorSystemd)
			mkDaemonDir(t, l, testFSID, "mgr.host1.abc")
			mark := l.fs(path.Join(l.dataDir(testFSID, "mgr.host1.abc"), fileUnitStopped))
			if tt.verb != "stop" {
				// A daemon orch stopped before: start and restart clear the
				// mark, the other verbs keep it.
				if err := os.WriteFile(mark, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			res, err := l.Unit(context.Background(), testFSID, "mgr.host1.abc", tt.verb)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verb != tt.verb || res.SystemdUnit != unit || res.Supervisor != SupervisorSystemd {
				t.Errorf("result = %+v", res)
			}
			_, err = os.Stat(mark)
			wantMark := tt.verb != "start" && tt.verb != "restart"
			if (err == nil) != wantMark {
				t.Errorf("after %s: stop mark exists = %v, want %v", tt.verb, err == nil, wantMark)
			}
		})
	}
}

func TestUnitSystemdFailure(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorSystemd)
	mkDaemonDir(t, l, testFSID, "mgr.a")
	unit := containers.UnitName(testFSID, "mgr.a")
	r.expect("", exitErr(1, "Job for "+unit+" failed.\n", "systemctl", "start", unit), "systemctl", "start", unit)
	_, err := l.Unit(context.Background(), testFSID, "mgr.a", "start")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 || !strings.Contains(err.Error(), "Job for") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnitPodman(t *testing.T) {
	name := "container.web.host1"
	cname := containers.ContainerName(testFSID, name)
	exists := []string{"podman", "container", "exists", cname}
	missing := exitErr(1, "", exists...)
	tests := []struct {
		verb      string
		cmds      []seqCall
		wantNotes string
	}{
		{"stop", []seqCall{{argv: exists}, {argv: []string{"podman", "stop", cname}}}, ""},
		{"stop", []seqCall{{argv: exists, err: missing}}, "does not exist; nothing to stop"},
		{"start", []seqCall{{argv: exists}, {argv: []string{"podman", "start", cname}}}, ""},
		{"restart", []seqCall{{argv: exists}, {argv: []string{"podman", "restart", cname}}}, ""},
		{"start", []seqCall{
			{argv: exists, err: missing},
			{argv: []string{"podman", "rm", "-f", "-i", cname}},
			{argv: []string{"podman", "run", "-d", "--name", cname, "img"}, out: "abcdef0123456789\n"},
		}, "was missing; created abcdef012345 from unit.podman.json"},
		{"reset-failed", nil, "has nothing to do"},
		{"enable", nil, "has nothing to do"},
		{"disable", nil, "has nothing to do"},
	}
	for _, tt := range tests {
		t.Run(tt.verb+tt.wantNotes, func(t *testing.T) {
			r := newSeqRunner(t)
			for _, c := range tt.cmds {
				r.expect(c.out, c.err, c.argv...)
			}
			l := lifecycleHost(t, r, SupervisorPodman)
			mkDaemonDir(t, l, testFSID, name)
			argv := `["run","-d","--name","` + cname + `","img"]`
			if err := os.WriteFile(l.fs(path.Join(l.dataDir(testFSID, name), fileUnitPodman)), []byte(argv), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := l.Unit(context.Background(), testFSID, name, tt.verb)
			if err != nil {
				t.Fatal(err)
			}
			notes := strings.Join(res.Notes, "; ")
			if (tt.wantNotes == "") != (notes == "") || !strings.Contains(notes, tt.wantNotes) {
				t.Errorf("notes = %q, want %q", notes, tt.wantNotes)
			}
		})
	}
}

func TestUnitPodmanOSDStopWaitsLonger(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	mkDaemonDir(t, l, testFSID, "osd.1")
	cname := containers.ContainerName(testFSID, "osd.1")
	r.expect("", nil, "podman", "container", "exists", cname).
		expect("", nil, "podman", "stop", "-t", "30", cname)
	if _, err := l.Unit(context.Background(), testFSID, "osd.1", "stop"); err != nil {
		t.Fatal(err)
	}
}

func TestUnitPodmanCephStartRecreatesRunDir(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	mkDaemonDir(t, l, testFSID, "mgr.a")
	cname := containers.ContainerName(testFSID, "mgr.a")
	r.expect("", nil, "podman", "container", "exists", cname).
		expect("", nil, "podman", "start", cname)
	if _, err := l.Unit(context.Background(), testFSID, "mgr.a", "start"); err != nil {
		t.Fatal(err)
	}
	if !l.Host.exists("/var/run/ceph/" + testFSID) {
		t.Error("/var/run/ceph/<fsid> not recreated")
	}
}

func TestUnitErrors(t *testing.T) {
	l := lifecycleHost(t, newSeqRunner(t), SupervisorPodman)
	mkDaemonDir(t, l, testFSID, "mgr.a")
	if _, err := l.Unit(context.Background(), testFSID, "mgr.a", "explode"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown verb: %v", err)
	}
	if _, err := l.Unit(context.Background(), testFSID, "mgr.b", "start"); !errors.Is(err, ErrDaemonNotFound) {
		t.Errorf("missing daemon: %v", err)
	}
	if _, err := l.Unit(context.Background(), "nope", "mgr.a", "start"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bad fsid: %v", err)
	}
}
