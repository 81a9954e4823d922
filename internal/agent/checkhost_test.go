package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckHost(t *testing.T) {
	podmanVersion := []string{"podman", "version", "--format", "{{.Client.Version}}"}
	tests := []struct {
		name         string
		programs     []string
		stubs        func(r *fakeRunner)
		opts         CheckHostOptions
		systemd      bool // host booted with systemd (run/systemd/system)
		wantOK       bool
		wantErrors   []string
		wantWarnings []string
		check        func(t *testing.T, res *CheckHostResult)
	}{
		{
			name:     "healthy host",
			programs: []string{"podman", "systemctl", "lvcreate"},
			stubs:    func(r *fakeRunner) { r.on("4.3.1\n", nil, podmanVersion...) },
			opts:     CheckHostOptions{ExpectHostname: "NODE1"},
			wantOK:   true,
			check: func(t *testing.T, res *CheckHostResult) {
				if res.ContainerEngine.Version != "4.3.1" || !res.ContainerEngine.Working {
					t.Errorf("engine = %+v", res.ContainerEngine)
				}
				if res.TimeSync != (TimeSyncCheck{Active: true, Source: "chronyd", Method: "process"}) {
					t.Errorf("time sync = %+v", res.TimeSync)
				}
				if !res.Hostname.Matches {
					t.Errorf("hostname should match case-insensitively: %+v", res.Hostname)
				}
			},
		},
		{
			name:       "no podman",
			programs:   []string{"systemctl", "lvcreate"},
			wantErrors: []string{"No container engine binary found (podman). Try run `apt/dnf/yum/zypper install podman`"},
			check: func(t *testing.T, res *CheckHostResult) {
				if res.ContainerEngine.Present {
					t.Errorf("engine should be absent: %+v", res.ContainerEngine)
				}
			},
		},
		{
			name:       "podman too old",
			programs:   []string{"podman", "systemctl", "lvcreate"},
			stubs:      func(r *fakeRunner) { r.on("1.9.3\n", nil, podmanVersion...) },
			wantErrors: []string{"podman version 2.0.2 or later is required"},
		},
		{
			name:     "podman broken",
			programs: []string{"podman", "systemctl", "lvcreate"},
			stubs: func(r *fakeRunner) {
				r.on("", exitErr(125, "Error: cannot connect to storage\n", podmanVersion...), podmanVersion...)
			},
			wantErrors: []string{"is not working: podman version --format {{.Client.Version}} exited with status 125: Error: cannot connect to storage"},
		},
		{
			name:       "hostname mismatch",
			programs:   []string{"podman", "systemctl", "lvcreate"},
			stubs:      func(r *fakeRunner) { r.on("4.9.4-rhel\n", nil, podmanVersion...) },
			opts:       CheckHostOptions{ExpectHostname: "node2"},
			wantErrors: []string{`hostname "node1" does not match expected hostname "node2"`},
		},
		{
			name:         "no lvm2, no systemctl: warnings by default",
			programs:     []string{"podman"},
			stubs:        func(r *fakeRunner) { r.on("4.3.1\n", nil, podmanVersion...) },
			wantOK:       true,
			wantWarnings: []string{"systemctl binary does not appear to be installed", "lvcreate binary does not appear to be installed"},
		},
		{
			name:       "no lvm2 under --strict",
			programs:   []string{"podman", "systemctl"},
			stubs:      func(r *fakeRunner) { r.on("4.3.1\n", nil, podmanVersion...) },
			opts:       CheckHostOptions{Strict: true},
			wantErrors: []string{"lvcreate binary does not appear to be installed"},
		},
		{
			name:     "systemd host: second unit active",
			programs: []string{"podman", "systemctl", "lvcreate"},
			systemd:  true,
			stubs: func(r *fakeRunner) {
				r.on("4.3.1\n", nil, podmanVersion...)
				r.on("inactive\n", exitErr(3, ""), "systemctl", "is-active", "chrony.service")
				r.on("active\n", nil, "systemctl", "is-active", "chronyd.service")
			},
			wantOK: true,
			check: func(t *testing.T, res *CheckHostResult) {
				if res.TimeSync != (TimeSyncCheck{Active: true, Source: "chronyd.service", Method: "systemd"}) {
					t.Errorf("time sync = %+v", res.TimeSync)
				}
			},
		},
		{
			name:     "systemd host without time sync, strict",
			programs: []string{"podman", "systemctl", "lvcreate"},
			systemd:  true,
			opts:     CheckHostOptions{Strict: true},
			stubs: func(r *fakeRunner) {
				r.on("4.3.1\n", nil, podmanVersion...)
				for _, u := range TimeSyncUnits {
					r.on("inactive\n", exitErr(3, ""), "systemctl", "is-active", u)
				}
			},
			wantErrors: []string{"No time synchronization is active"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFakeRunner(t)
			if tt.stubs != nil {
				tt.stubs(r)
			}
			h := fixtureHost(t, r, tt.programs...)
			if tt.systemd {
				h.Root = t.TempDir()
				if err := os.MkdirAll(filepath.Join(h.Root, "run/systemd/system"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			res, err := h.CheckHost(context.Background(), tt.opts)
			if res == nil {
				t.Fatalf("no result (err %v)", err)
			}
			if res.OK != tt.wantOK || (err == nil) != tt.wantOK {
				t.Fatalf("OK = %v, err = %v; want OK %v", res.OK, err, tt.wantOK)
			}
			for _, w := range tt.wantErrors {
				if !contains(res.Errors, w) {
					t.Errorf("errors %q lack %q", res.Errors, w)
				}
				var che *CheckHostError
				if !errors.As(err, &che) || !contains(che.Problems, w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			if len(res.Errors) != len(tt.wantErrors) {
				t.Errorf("errors = %q, want %q", res.Errors, tt.wantErrors)
			}
			for _, w := range tt.wantWarnings {
				if !contains(res.Warnings, w) {
					t.Errorf("warnings %q lack %q", res.Warnings, w)
				}
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{
		{"2.0.2", true}, {"2.0.1", false}, {"2.1", true}, {"4.3.1", true}, {"1.9.10", false},
		{"3", true}, {"2.0.2-dev", true}, {"", false}, {"x.y", false},
	} {
		if got := versionAtLeast(tt.v, MinPodmanVersion); got != tt.want {
			t.Errorf("versionAtLeast(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
