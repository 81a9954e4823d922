package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrToolMissing means a program the operation needs is not installed
	// (not found on Host.Path).
	ErrToolMissing = errors.New("required program not found")
	// ErrNotSupported means the hardware cannot do what was asked, for
	// example blink the LED of a loop device or of a disk in a VM.
	ErrNotSupported = errors.New("not supported")
	// ErrInvalidArgument means a request the agent cannot act on (an unknown
	// LED type, a device that does not exist).
	ErrInvalidArgument = errors.New("invalid argument")
)

// Runner runs one program. It is the only way the agent starts processes, so
// tests replace it with a fake that answers from fixtures.
//
// Run returns the program's stdout. A program that starts and exits non-zero
// yields an *ExitError carrying its exit code and stderr; a program that does
// not exist yields an error wrapping ErrToolMissing. Run must honour ctx.
type Runner interface {
	Run(ctx context.Context, argv []string) ([]byte, error)
}

// ExitError is a program that ran and failed.
type ExitError struct {
	Cmd    []string
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		return fmt.Sprintf("%s exited with status %d", strings.Join(e.Cmd, " "), e.Code)
	}
	return fmt.Sprintf("%s exited with status %d: %s", strings.Join(e.Cmd, " "), e.Code, msg)
}

// ExecRunner runs programs with os/exec. Env, when set, replaces the process
// environment of the child (as exec.Cmd.Env does).
type ExecRunner struct {
	Env []string
	// WaitDelay bounds how long Run waits for the child's output after ctx
	// is done; 0 means 5 seconds.
	WaitDelay time.Duration
}

var _ Runner = ExecRunner{}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("run: empty command: %w", ErrInvalidArgument)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = r.Env
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return stdout.Bytes(), &ExitError{Cmd: argv, Code: ee.ExitCode(), Stderr: stderr.String()}
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %s: %w", argv[0], ErrToolMissing)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("run %s: %w", argv[0], ctx.Err())
	}
	return nil, fmt.Errorf("run %s: %w", argv[0], err)
}

// Uname is the subset of uname(2) the facts use.
type Uname struct {
	Machine  string // "x86_64"
	Release  string // kernel release
	Nodename string // host name
}

// Host is the machine the agent describes. The zero value is the real
// machine; tests fill in fixtures.
type Host struct {
	// Root prefixes every file the agent reads or writes (/proc, /sys, /etc,
	// /run, /dev); "" means "/".
	Root string
	// Path is the list of directories programs are looked up in; nil means
	// $PATH followed by the sbin directories, which a non-login SSH
	// session's PATH often lacks (lvcreate, blkid, ledctl live there). The
	// bin directories are not added, so a PATH can still hide podman.
	Path []string
	// Runner runs programs; nil means ExecRunner{}.
	Runner Runner
	// Uname returns the kernel's identity; nil means uname(2).
	Uname func() (Uname, error)
	// IPv4Addrs returns the IPv4 addresses ("a.b.c.d/len") of an interface,
	// primary first; nil means the kernel's answer (net.InterfaceByName).
	IPv4Addrs func(iface string) ([]string, error)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// sbinDirs are searched after $PATH.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

func (h *Host) path(p string) string {
	if h.Root == "" || h.Root == "/" {
		return p
	}
	return filepath.Join(h.Root, p)
}

func (h *Host) runner() Runner {
	if h.Runner == nil {
		return ExecRunner{}
	}
	return h.Runner
}

func (h *Host) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Host) uname() (Uname, error) {
	if h.Uname != nil {
		return h.Uname()
	}
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return Uname{}, fmt.Errorf("uname: %w", err)
	}
	return Uname{Machine: utsString(u.Machine[:]), Release: utsString(u.Release[:]), Nodename: utsString(u.Nodename[:])}, nil
}

func utsString[T int8 | uint8](b []T) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// LookPath finds name along h.Path and returns its absolute path, or an error
// wrapping ErrToolMissing.
func (h *Host) LookPath(name string) (string, error) {
	dirs := h.Path
	if dirs == nil {
		dirs = append(filepath.SplitList(os.Getenv("PATH")), sbinDirs...)
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrToolMissing)
}

// run looks argv[0] up along h.Path and runs it.
func (h *Host) run(ctx context.Context, argv ...string) ([]byte, error) {
	exe, err := h.LookPath(argv[0])
	if err != nil {
		return nil, err
	}
	full := append([]string{exe}, argv[1:]...)
	return h.runner().Run(ctx, full)
}

// readFile reads a file under Root.
func (h *Host) readFile(p string) ([]byte, error) {
	return os.ReadFile(h.path(p))
}

// readTrim reads a file under Root and trims surrounding white space; ok is
// false when it cannot be read.
func (h *Host) readTrim(p string) (string, bool) {
	b, err := h.readFile(p)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// readOr is readTrim with a default for unreadable files.
func (h *Host) readOr(p, def string) string {
	if s, ok := h.readTrim(p); ok {
		return s
	}
	return def
}

// exists reports whether p exists under Root (following symlinks).
func (h *Host) exists(p string) bool {
	_, err := os.Stat(h.path(p))
	return err == nil
}

// lexists reports whether p exists under Root, not following a final symlink.
func (h *Host) lexists(p string) bool {
	_, err := os.Lstat(h.path(p))
	return err == nil
}

// listDir returns the sorted names in directory p under Root (nil if absent).
func (h *Host) listDir(p string) []string {
	ents, err := os.ReadDir(h.path(p))
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
