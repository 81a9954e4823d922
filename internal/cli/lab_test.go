package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orchceph/orch/hostlab"
	"github.com/spf13/cobra"
)

// runLab runs `orch lab ARGS` with every subcommand's run function
// replaced, and returns the error and what the stubs captured.
func runLab(t *testing.T, args ...string) (*labRunCapture, error) {
	t.Helper()
	ios, _, _ := TestIO("")
	f := NewFactory(ios)
	got := &labRunCapture{}
	cmd := newCmdLab(f, labRunners{
		up:       func(o *LabUpOptions) error { got.up = o; return nil },
		down:     func(o *LabOptions) error { got.down = o; return nil },
		status:   func(o *LabStatusOptions) error { got.status = o; return nil },
		exec:     func(o *LabExecOptions) error { got.exec = o; return nil },
		addDisks: func(o *LabAddDisksOptions) error { got.addDisks = o; return nil },
	})
	cmd.SetArgs(args)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	return got, cmd.ExecuteContext(context.Background())
}

type labRunCapture struct {
	up       *LabUpOptions
	down     *LabOptions
	status   *LabStatusOptions
	exec     *LabExecOptions
	addDisks *LabAddDisksOptions
}

func TestLabArgsValid(t *testing.T) {
	got, err := runLab(t, "up", "3", "--disks", "2", "--disk-size", "512M", "--prefix", "demo", "--user", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if o := got.up; o == nil || o.Hosts != 3 || o.Disks != 2 || o.DiskSize != 512<<20 || o.Prefix != "demo" ||
		o.User != "alice" || !o.Images || o.stateDir() != "/var/tmp/orch-lab/demo" {
		t.Fatalf("up options = %+v", got.up)
	}

	got, err = runLab(t, "exec", "h2", "--", "ls", "-l", "--color=never")
	if err != nil {
		t.Fatal(err)
	}
	if got.exec.Host != "h2" || !slices.Equal(got.exec.Argv, []string{"ls", "-l", "--color=never"}) {
		t.Fatalf("exec = %q %q", got.exec.Host, got.exec.Argv)
	}
	// Without "--", flags after HOST still belong to the command.
	if got, err = runLab(t, "exec", "h1", "ls", "-l"); err != nil || !slices.Equal(got.exec.Argv, []string{"ls", "-l"}) {
		t.Fatalf("exec without -- = %v %+v", err, got.exec)
	}

	if got, err = runLab(t, "add-disks", "h3", "2", "1G", "--state", "/var/tmp/x"); err != nil {
		t.Fatal(err)
	}
	if o := got.addDisks; o.Host != "h3" || o.Count != 2 || o.Size != 1<<30 || o.stateDir() != "/var/tmp/x" {
		t.Fatalf("add-disks = %+v", o)
	}
	if got, err = runLab(t, "status", "--format", "json"); err != nil || got.status.Format != FormatJSON {
		t.Fatalf("status = %v %+v", err, got.status)
	}
	if got, err = runLab(t, "down", "--prefix", "other"); err != nil || got.down.stateDir() != "/var/tmp/orch-lab/other" {
		t.Fatalf("down = %v %+v", err, got.down)
	}
}

func TestLabArgsInvalid(t *testing.T) {
	for _, args := range [][]string{
		{"up"},
		{"up", "0"},
		{"up", "x"},
		{"up", "251"},
		{"up", "3", "4"},
		{"up", "3", "--disks", "99"},
		{"up", "3", "--disks", "-1"},
		{"up", "3", "--disks", "1", "--disk-size", "1X"},
		{"up", "3", "--disks", "1", "--disk-size", "4K"},
		{"up", "3", "--user", "root"},
		{"up", "3", "--user", "a;b"},
		{"up", "3", "--prefix", "Bad"},
		{"up", "3", "--prefix", "x$(id)"},
		{"up", "3", "--state", "relative/dir"},
		{"up", "3", "--state", "/var/tmp/a,b"},
		{"up", "3", "--nope"},
		{"exec"},
		{"exec", "h1"},
		{"exec", "h1", "--"},
		{"add-disks", "h1", "0", "1G"},
		{"add-disks", "h1", "2"},
		{"add-disks", "h1", "2", "huge"},
		{"status", "--format", "yaml"},
		{"status", "extra"},
		{"down", "extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			got, err := runLab(t, args...)
			if err == nil {
				t.Fatalf("accepted; captured %+v", got)
			}
			if code, msg := ExitCodeAndMessage(labError(err)); code != 22 && !isCobraUsageError(err) {
				t.Fatalf("exit %d %q, want EINVAL (22)", code, msg)
			}
			if *got != (labRunCapture{}) {
				t.Fatalf("run function called: %+v", got)
			}
		})
	}
}

func TestLabMainExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nolab")
	for _, tc := range []struct {
		args []string
		code int
		text string
	}{
		{[]string{"lab", "up", "0"}, 22, "Error EINVAL"},
		{[]string{"lab", "up", "2", "--prefix", "UP"}, 22, "Error EINVAL"},
		{[]string{"lab", "status", "--state", missing}, 2, "Error ENOENT"},
		{[]string{"lab", "exec", "--state", missing, "h1", "--", "true"}, 2, "Error ENOENT"},
		{[]string{"lab", "add-disks", "--state", missing, "h1", "1", "1G"}, 2, "Error ENOENT"},
		{[]string{"lab", "down", "--state", missing}, 0, "nothing to do"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, errOut := TestIO("")
			code := Main(context.Background(), tc.args, ios)
			if code != tc.code || !strings.Contains(errOut.String(), tc.text) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tc.code, tc.text)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a command created the missing state dir")
	}
}

func TestLabErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{hostlab.ErrNoLab, 2},
		{hostlab.ErrNoHost, 2},
		{hostlab.ErrExists, 17},
		{hostlab.ErrNotRoot, 1},
		{hostlab.ErrNotRunning, 107},
		{hostlab.ErrInvalidOptions, 22},
	} {
		if code, msg := ExitCodeAndMessage(labError(tc.err)); code != tc.code {
			t.Errorf("%v: exit %d (%s), want %d", tc.err, code, msg, tc.code)
		}
	}
}
