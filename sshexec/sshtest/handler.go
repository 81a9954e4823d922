package sshtest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// ShellHandler runs each command with the local /bin/sh -c in dir, as
// sshd runs it through the login shell. The process group is killed when
// the request's context ends.
func ShellHandler(dir string) Handler {
	return func(ctx context.Context, e Exec) int {
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", e.Command)
		cmd.Dir = dir
		cmd.Stdin, cmd.Stdout, cmd.Stderr = e.Stdin, e.Stdout, e.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = time.Second
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ee.ExitCode()
		default:
			fmt.Fprintf(e.Stderr, "sshtest: %v\n", err)
			return 127
		}
	}
}
