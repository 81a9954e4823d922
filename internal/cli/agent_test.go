package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/orchceph/orch/internal/agent"
)

// agentStubRunner answers a fixed set of commands (matched on the program's
// base name) and fails the test on any other and on unused stubs.
type agentStubRunner struct {
	t     *testing.T
	stubs map[string]error // joined argv → error (nil: success)
	used  map[string]bool
}

var _ agent.Runner = (*agentStubRunner)(nil)

func newAgentStubRunner(t *testing.T, stubs map[string]error) *agentStubRunner {
	r := &agentStubRunner{t: t, stubs: stubs, used: map[string]bool{}}
	t.Cleanup(func() {
		for k := range stubs {
			if !r.used[k] {
				t.Errorf("stub never run: %s", k)
			}
		}
	})
	return r
}

func (r *agentStubRunner) Run(_ context.Context, argv []string) ([]byte, error) {
	key := strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), " ")
	err, ok := r.stubs[key]
	if !ok {
		r.t.Errorf("unexpected command %q", key)
		return nil, &agent.ExitError{Cmd: argv, Code: 127}
	}
	r.used[key] = true
	return nil, err
}

// runAgent runs `orch agent args...` against the agent's fixture host with
// the given programs installed, and returns stdout, stderr and exit code as
// Main would.
func runAgent(t *testing.T, r agent.Runner, programs []string, args ...string) (string, string, int) {
	t.Helper()
	bin := t.TempDir()
	for _, p := range programs {
		if err := os.WriteFile(filepath.Join(bin, p), []byte("#!/bin/false\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	host := func() *agent.Host {
		return &agent.Host{
			Root:   "../agent/testdata/host1",
			Path:   []string{bin},
			Runner: r,
			Uname: func() (agent.Uname, error) {
				return agent.Uname{Machine: "x86_64", Release: "6.1.0", Nodename: "node1"}, nil
			},
			IPv4Addrs: func(string) ([]string, error) { return nil, nil },
		}
	}
	ios, out, errOut := TestIO("")
	f := NewFactory(ios)
	cmd := newCmdAgent(f, host)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	if err == nil {
		return out.String(), errOut.String(), 0
	}
	if isCobraUsageError(err) {
		err = &UsageError{Msg: err.Error()}
	}
	code, msg := ExitCodeAndMessage(err)
	return out.String(), msg, code
}

func TestAgentCommands(t *testing.T) {
	ledctlLoop := "ledctl locate=/dev/loop0"
	tests := []struct {
		name       string
		args       []string
		programs   []string
		stubs      map[string]error
		wantCode   int
		wantStdout func(t *testing.T, out string)
		wantStderr string
	}{
		{
			name: "gather-facts", args: []string{"gather-facts"},
			wantStdout: func(t *testing.T, out string) {
				var f agent.Facts
				if err := json.Unmarshal([]byte(out), &f); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				if f.Hostname != "node1" || f.MemoryTotalKB != 16314020 || f.CPUCount != 2 {
					t.Errorf("facts = %+v", f)
				}
			},
		},
		{
			name: "check-host without podman", args: []string{"check-host", "--expect-hostname", "node1"},
			programs: []string{"systemctl", "lvcreate"},
			wantCode: 1,
			wantStdout: func(t *testing.T, out string) {
				var res agent.CheckHostResult
				if err := json.Unmarshal([]byte(out), &res); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				if res.OK || res.ContainerEngine.Present || !res.Hostname.Matches {
					t.Errorf("result = %+v", res)
				}
			},
			wantStderr: "Error EIO: host check failed: No container engine binary found (podman). Try run `apt/dnf/yum/zypper install podman`",
		},
		{
			name: "light on a loop device", args: []string{"light", "on", "ident", "loop0"},
			programs: []string{"ledctl"},
			stubs: map[string]error{ledctlLoop: &agent.ExitError{Cmd: []string{"ledctl", "locate=/dev/loop0"}, Code: 33,
				Stderr: "ledctl: /dev/loop0: device not supported\n"}},
			wantCode:   int(syscall.ENOTSUP),
			wantStderr: "Error ENOTSUP: /dev/loop0: LED control is not supported for this device",
		},
		{
			name: "light without tools", args: []string{"light", "off", "fault", "sdb"},
			wantCode:   int(syscall.ENOENT),
			wantStderr: "Error ENOENT: light: /dev/sdb: neither lsmcli (libstoragemgmt) nor ledctl (ledmon) is installed",
		},
		{
			name: "light ok", args: []string{"light", "off", "fault", "/dev/sdb"},
			programs: []string{"ledctl"},
			stubs:    map[string]error{"ledctl off=/dev/sdb": nil},
			wantStdout: func(t *testing.T, out string) {
				if !strings.Contains(out, `"cmd":["ledctl","off=/dev/sdb"]`) {
					t.Errorf("stdout = %s", out)
				}
			},
		},
		{
			name: "light bad state", args: []string{"light", "blink", "ident", "sdb"},
			wantCode: int(syscall.EINVAL), wantStderr: "Error EINVAL: light: first argument must be on or off",
		},
		{
			name: "light too few args", args: []string{"light", "on", "sdb"},
			wantCode: int(syscall.EINVAL), wantStderr: "Error EINVAL: accepts 3 arg(s)",
		},
		{
			name: "inventory lsm without image", args: []string{"inventory", "--with-lsm"},
			wantCode: int(syscall.EINVAL), wantStderr: "Error EINVAL: --with-lsm and --env need --image",
		},
		{
			name: "inventory without lsblk", args: []string{"inventory"},
			wantCode: int(syscall.ENOENT), wantStderr: "Error ENOENT: inventory: lsblk",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := runAgent(t, newAgentStubRunner(t, tt.stubs), tt.programs, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if tt.wantStdout != nil {
				tt.wantStdout(t, out)
			}
			if !strings.HasPrefix(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want prefix %q", stderr, tt.wantStderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}

func TestAgentIsHidden(t *testing.T) {
	ios, _, _ := TestIO("")
	root := NewCmdRoot(NewFactory(ios))
	for _, c := range root.Commands() {
		if c.Name() == "agent" {
			if !c.Hidden {
				t.Error("orch agent should be hidden")
			}
			return
		}
	}
	t.Error("orch agent is not registered")
}
