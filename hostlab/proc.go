package hostlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ExitError is a command that ran and failed, with its stderr.
type ExitError struct {
	Host   string // "" for commands run on the machine itself
	Argv   []string
	Code   int // -1 when killed by a signal
	Stderr string
}

func (e *ExitError) Error() string {
	where := "machine"
	if e.Host != "" {
		where = e.Host
	}
	msg := strings.TrimSpace(e.Stderr)
	if len(msg) > 2000 {
		msg = "..." + msg[len(msg)-2000:]
	}
	return fmt.Sprintf("%s: %s exited %d: %s", where, strings.Join(e.Argv, " "), e.Code, msg)
}

// sysPath is the PATH used for every command the lab runs.
const sysPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// run runs argv on the machine and returns stdout.
func run(ctx context.Context, stdin []byte, argv ...string) ([]byte, error) {
	return runEnv(ctx, nil, stdin, argv...)
}

// runEnv is run with extra environment variables.
func runEnv(ctx context.Context, env []string, stdin []byte, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append([]string{sysPath, "LANG=C"}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			return out.Bytes(), fmt.Errorf("%s: %w", strings.Join(argv, " "), ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), &ExitError{Argv: argv, Code: ee.ExitCode(), Stderr: errb.String()}
		}
		return out.Bytes(), fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return out.Bytes(), nil
}

// procStat returns the parent PID, state and start time of pid.
func procStat(pid int) (ppid int, state byte, start uint64, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, 0, err
	}
	// comm may contain spaces and parentheses: fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, 0, err
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, 0, err
	}
	return ppid, f[0][0], start, nil
}

func procComm(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return strings.TrimSpace(string(b))
}

func newProc(pid int) (proc, error) {
	_, _, start, err := procStat(pid)
	if err != nil {
		return proc{}, err
	}
	return proc{PID: pid, Start: start}, nil
}

// alive reports whether p is still the process recorded (not a reused PID)
// and not a zombie.
func (p proc) alive() bool {
	if p.PID <= 0 {
		return false
	}
	_, state, start, err := procStat(p.PID)
	return err == nil && start == p.Start && state != 'Z' && state != 'X'
}

// children returns the PIDs whose parent is pid.
func children(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, _, _, err := procStat(c); err == nil && pp == pid {
			out = append(out, c)
		}
	}
	return out
}

// waitGone polls until none of ps is alive or ctx ends. Polling is the
// readiness check here: processes that are not our children cannot be
// waited for.
func waitGone(ctx context.Context, ps ...proc) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		left := 0
		for _, p := range ps {
			if p.alive() {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d processes still alive: %w", left, ctx.Err())
		case <-t.C:
		}
	}
}
