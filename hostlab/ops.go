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

	"golang.org/x/crypto/ssh"
	"golang.org/x/sync/errgroup"
)

// running returns a copy of the host's state after checking that its init
// process is alive.
func (l *Lab) running(name string) (hostState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := l.hostLocked(name)
	if err != nil {
		return hostState{}, err
	}
	if !h.Init.alive() {
		return hostState{}, fmt.Errorf("%s: %w", name, ErrNotRunning)
	}
	return *h, nil
}

// Command returns an unstarted command that runs argv as root inside host
// name's namespaces and cgroups (no SSH involved). The caller wires its
// streams and may add to Env (PATH, HOME, USER and LOGNAME are set).
func (l *Lab) Command(ctx context.Context, name string, argv ...string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("%s: exec: %w: empty command", name, ErrInvalidOptions)
	}
	h, err := l.running(name)
	if err != nil {
		return nil, err
	}
	full := joinArgv(h.Cgroups, append([]string{"/usr/bin/nsenter", "-t", strconv.Itoa(h.Init.PID),
		"-m", "-u", "-n", "-p", "-C", "-w", "--"}, argv...)...)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Env = []string{sysPath, "HOME=/root", "USER=root", "LOGNAME=root", "LANG=C.UTF-8"}
	return cmd, nil
}

// Exec runs argv inside host name and returns its stdout; a non-zero exit is
// an *ExitError with the command's stderr. Cancelling ctx kills the command
// and everything it started in its process group.
func (l *Lab) Exec(ctx context.Context, name string, argv ...string) ([]byte, error) {
	return l.ExecInput(ctx, name, nil, argv...)
}

// ExecInput is Exec with stdin.
func (l *Lab) ExecInput(ctx context.Context, name string, stdin []byte, argv ...string) ([]byte, error) {
	cmd, err := l.Command(ctx, name, argv...)
	if err != nil {
		return nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			return out.Bytes(), fmt.Errorf("%s: exec %s: %w", name, strings.Join(argv, " "), ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.Bytes(), &ExitError{Host: name, Argv: argv, Code: ee.ExitCode(), Stderr: errb.String()}
		}
		return out.Bytes(), fmt.Errorf("%s: exec %s: %w", name, strings.Join(argv, " "), err)
	}
	return out.Bytes(), nil
}

// sshdListener returns the outer PID of the host's listening sshd (the
// sshd child of the host's init; sessions are children of the listener).
func sshdListener(h hostState) (int, bool) {
	for _, c := range children(h.Init.PID) {
		if procComm(c) == "sshd" && isListenerCmdline(procCmdline(c)) {
			return c, true
		}
	}
	return 0, false
}

// isListenerCmdline tells the listening sshd from its session processes:
// both are named "sshd", and when the listener is stopped its sessions
// are reparented to the host's init, where they used to be mistaken for
// a running listener (StartSSHD then waited forever for a login).
// OpenSSH titles the listener "sshd: /usr/sbin/sshd ... [listener] ..."
// and sessions "sshd: user@tty" or "sshd: user [priv]"; before it sets
// its title the listener's command line is the plain "/usr/sbin/sshd ...".
func isListenerCmdline(cmdline string) bool {
	return strings.Contains(cmdline, "[listener]") || strings.HasPrefix(cmdline, "/usr/sbin/sshd")
}

// procCmdline is /proc/<pid>/cmdline with NULs as spaces.
func procCmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// ErrSSHDNotRunning: the host has no listening sshd.
var ErrSSHDNotRunning = errors.New("sshd not running")

func (l *Lab) signalSSHD(name string, sig syscall.Signal) (int, error) {
	h, err := l.running(name)
	if err != nil {
		return 0, err
	}
	pid, ok := sshdListener(h)
	if !ok {
		return 0, fmt.Errorf("%s: %w", name, ErrSSHDNotRunning)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return 0, fmt.Errorf("%s: signal sshd: %w", name, err)
	}
	return pid, nil
}

// StopSSHD stops the host's listening sshd (open sessions stay) and returns
// once it is gone: new connections are then refused.
func (l *Lab) StopSSHD(ctx context.Context, name string) error {
	pid, err := l.signalSSHD(name, syscall.SIGTERM)
	if errors.Is(err, ErrSSHDNotRunning) {
		return nil
	}
	if err != nil {
		return err
	}
	p, err := newProc(pid)
	if err != nil {
		return nil // already gone
	}
	return waitGone(ctx, p)
}

// StartSSHD starts the host's sshd if it is not running and returns once a
// root login works.
func (l *Lab) StartSSHD(ctx context.Context, name string) error {
	h, err := l.running(name)
	if err != nil {
		return err
	}
	if _, ok := sshdListener(h); !ok {
		if _, err := l.Exec(ctx, name, "/usr/sbin/sshd", "-f", "/etc/ssh/sshd_config", "-E", "/var/log/sshd.log"); err != nil {
			return err
		}
	}
	return l.WaitSSH(ctx, name)
}

// FreezeSSHD stops the listening sshd with SIGSTOP and returns once it is
// stopped: TCP connections are still accepted by the kernel but the SSH
// handshake never starts. Open sessions are served by their own processes
// and keep working.
func (l *Lab) FreezeSSHD(ctx context.Context, name string) error {
	pid, err := l.signalSSHD(name, syscall.SIGSTOP)
	if err != nil {
		return err
	}
	return waitState(ctx, pid, true)
}

// ThawSSHD resumes a frozen sshd with SIGCONT and returns once it runs.
func (l *Lab) ThawSSHD(ctx context.Context, name string) error {
	pid, err := l.signalSSHD(name, syscall.SIGCONT)
	if err != nil {
		return err
	}
	return waitState(ctx, pid, false)
}

// waitState polls until pid is stopped (state T) or not, as wanted; signal
// delivery is asynchronous.
func waitState(ctx context.Context, pid int, stopped bool) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		_, st, _, err := procStat(pid)
		if err != nil {
			return fmt.Errorf("sshd %d: %w", pid, err)
		}
		if (st == 'T') == stopped {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sshd %d: state %c: %w", pid, st, ctx.Err())
		case <-t.C:
		}
	}
}

// WaitSSH waits until a root login to the host works with its current key.
func (l *Lab) WaitSSH(ctx context.Context, name string) error {
	h, err := l.Host(name)
	if err != nil {
		return err
	}
	hk, err := l.HostKey(name)
	if err != nil {
		return err
	}
	signer, err := l.AdminSigner()
	if err != nil {
		return err
	}
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		perr := probeSSH(ctx, h.Addr, h.Port, "root", signer, hk)
		if perr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: ssh not ready: %w (last: %v)", name, ctx.Err(), perr)
		case <-t.C:
		}
	}
}

// LinkDown takes the host's switch port down (the bridge side of its veth):
// its address stops answering, as if the cable were pulled.
func (l *Lab) LinkDown(ctx context.Context, name string) error { return l.setLink(ctx, name, false) }

// LinkUp brings the host's switch port back.
func (l *Lab) LinkUp(ctx context.Context, name string) error { return l.setLink(ctx, name, true) }

func (l *Lab) setLink(ctx context.Context, name string, up bool) error {
	if _, err := l.Host(name); err != nil {
		return err
	}
	state := "down"
	if up {
		state = "up"
	}
	if _, err := run(ctx, nil, "ip", "-n", l.ctlNS(), "link", "set", "v"+name, state); err != nil {
		return fmt.Errorf("%s: link %s: %w", name, state, err)
	}
	return l.update(func() {
		if h, err := l.hostLocked(name); err == nil {
			h.LinkDown = !up
		}
	})
}

// RegenerateHostKey gives the host a new sshd host key (as a reinstall
// would), reloads sshd, updates the lab's known_hosts and HostKey, and
// returns the new key once sshd presents it.
func (l *Lab) RegenerateHostKey(ctx context.Context, name string) (ssh.PublicKey, error) {
	h, err := l.running(name)
	if err != nil {
		return nil, err
	}
	priv, pub, err := genKey("root@" + name)
	if err != nil {
		return nil, err
	}
	// Written through the host's own view of /etc (its overlay), never
	// into the overlay's upper directory behind its back.
	dir := filepath.Join("/proc", strconv.Itoa(h.Init.PID), "root", "etc", "ssh")
	if err := writeFileAtomic(filepath.Join(dir, "ssh_host_ed25519_key"), priv, 0o600); err != nil {
		return nil, fmt.Errorf("%s: write host key: %w", name, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "ssh_host_ed25519_key.pub"), []byte(pub+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("%s: write host key: %w", name, err)
	}
	if err := l.update(func() {
		if hs, err := l.hostLocked(name); err == nil {
			hs.HostKey = pub
		}
	}); err != nil {
		return nil, err
	}
	l.mu.Lock()
	err = l.writeKnownHosts()
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// SIGHUP makes sshd re-execute itself and read its keys again.
	if _, err := l.signalSSHD(name, syscall.SIGHUP); err != nil && !errors.Is(err, ErrSSHDNotRunning) {
		return nil, err
	}
	if err := l.WaitSSH(ctx, name); err != nil {
		return nil, err
	}
	return parseKey(pub)
}

// AddDisks attaches k more sparse loop disks of size bytes to host name and
// refreshes its view of block devices.
func (l *Lab) AddDisks(ctx context.Context, name string, k int, size int64) ([]Disk, error) {
	if err := ValidateDisks(k, size); err != nil {
		return nil, err
	}
	if _, err := l.running(name); err != nil {
		return nil, err
	}
	l.mu.Lock()
	h, err := l.hostLocked(name)
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	added, err := l.attachDisks(ctx, h, k, size)
	if err != nil {
		return added, err
	}
	return added, l.RefreshDiskView(ctx, name)
}

// RefreshDiskView rebuilds the host's /dev nodes, /sys/block,
// /sys/dev/block and /proc/partitions for its disks, picking up partitions
// created since.
func (l *Lab) RefreshDiskView(ctx context.Context, name string) error {
	disks, err := l.Disks(name)
	if err != nil {
		return err
	}
	argv := []string{"/bin/sh", "-c", diskviewScript, "hostlab-diskview"}
	for _, d := range disks {
		argv = append(argv, filepath.Base(d.Dev))
	}
	_, err = l.Exec(ctx, name, argv...)
	return err
}

// HostStatus is one host's state as Status reports it.
type HostStatus struct {
	Host
	Running   bool     `json:"running"`
	InitPID   int      `json:"init_pid,omitempty"`
	SSHD      string   `json:"sshd"` // running, frozen, stopped, unknown
	SSHDPID   int      `json:"sshd_pid,omitempty"`
	Link      string   `json:"link"` // up, down
	Disks     []string `json:"disks"`
	MemoryKiB int64    `json:"memory_kib"` // the host's memory cgroup usage
}

// Status reports every host's processes, link and disks.
func (l *Lab) Status() []HostStatus {
	l.mu.Lock()
	hosts := make([]hostState, 0, len(l.st.Hosts))
	for _, h := range l.st.Hosts {
		hosts = append(hosts, *h)
	}
	l.mu.Unlock()
	out := make([]HostStatus, 0, len(hosts))
	for _, h := range hosts {
		s := HostStatus{Host: h.Host, SSHD: "unknown", Link: "up", Disks: []string{}}
		if h.LinkDown {
			s.Link = "down"
		}
		for _, d := range h.Disks {
			s.Disks = append(s.Disks, d.Dev)
		}
		if h.Init.alive() {
			s.Running, s.InitPID = true, h.Init.PID
			s.SSHD = "stopped"
			if pid, ok := sshdListener(h); ok {
				s.SSHDPID = pid
				s.SSHD = "running"
				if _, st, _, err := procStat(pid); err == nil && st == 'T' {
					s.SSHD = "frozen"
				}
			}
		}
		for _, c := range h.Cgroups {
			if b, err := os.ReadFile(filepath.Join(c, "memory.usage_in_bytes")); err == nil {
				n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
				s.MemoryKiB = n / 1024
			}
		}
		out = append(out, s)
	}
	return out
}

// LoadImage runs `podman load` of an image archive on every host at once
// and returns the first failure. The path must be one the hosts see: the
// machine's /var/cache is, their /tmp, /var/tmp and /var/lib are private.
func (l *Lab) LoadImage(ctx context.Context, archive string) error {
	var g errgroup.Group
	for _, h := range l.Hosts() {
		g.Go(func() error {
			if out, err := l.Exec(ctx, h.Name, "podman", "load", "-q", "-i", archive); err != nil {
				return fmt.Errorf("%s: podman load %s: %w: %s", h.Name, archive, err, out)
			}
			return nil
		})
	}
	return g.Wait()
}
