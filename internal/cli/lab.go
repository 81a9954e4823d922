package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/orchceph/orch/hostlab"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdLab) }

// LabOptions are the flags every `orch lab` command shares.
type LabOptions struct {
	IO       *IOStreams
	Factory  *Factory
	Prefix   string
	StateDir string
}

func (o *LabOptions) stateDir() string {
	if o.StateDir != "" {
		return o.StateDir
	}
	return hostlab.DefaultStateDir(o.Prefix)
}

func (o *LabOptions) validate() error {
	if err := hostlab.ValidatePrefix(o.Prefix); err != nil {
		return labError(err)
	}
	if o.StateDir != "" {
		if err := hostlab.ValidateStateDir(o.StateDir); err != nil {
			return labError(err)
		}
	}
	return nil
}

func (o *LabOptions) load() (*hostlab.Lab, error) {
	log := o.Factory.Logger()
	l, err := hostlab.Load(o.stateDir(), &log)
	if err != nil {
		return nil, labError(err)
	}
	return l, nil
}

// NewCmdLab is `orch lab`: local test hosts (see hostlab/README.md).
func NewCmdLab(f *Factory) *cobra.Command { return newCmdLab(f, labRunners{}) }

// labRunners replace the subcommands' run functions in tests; nil means the
// real one.
type labRunners struct {
	up       func(*LabUpOptions) error
	down     func(*LabOptions) error
	status   func(*LabStatusOptions) error
	exec     func(*LabExecOptions) error
	addDisks func(*LabAddDisksOptions) error
}

func newCmdLab(f *Factory, r labRunners) *cobra.Command {
	opts := &LabOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Local test hosts: real sshd + podman hosts in network namespaces (needs root)",
		Long: `Local test hosts for tests and the demo. Each host is a real OpenSSH sshd in its
own network, UTS, mount, PID and cgroup namespaces, with its own hostname, /etc,
/var/lib, /root, podman store and optional loop-device disks only it sees. The
machine reaches them on a private /24 through a veth into the lab's bridge.`,
	}
	cmd.PersistentFlags().StringVar(&opts.Prefix, "prefix", hostlab.DefaultPrefix, "lab name prefix (namespaces <prefix>-ctl, <prefix>-hN)")
	cmd.PersistentFlags().StringVar(&opts.StateDir, "state", "", "state directory (default "+hostlab.DefaultStateRoot+"/<prefix>)")
	cmd.AddCommand(NewCmdLabUp(opts, r.up))
	cmd.AddCommand(NewCmdLabDown(opts, r.down))
	cmd.AddCommand(NewCmdLabStatus(opts, r.status))
	cmd.AddCommand(NewCmdLabExec(opts, r.exec))
	cmd.AddCommand(NewCmdLabAddDisks(opts, r.addDisks))
	return cmd
}

// LabUpOptions are `orch lab up`'s inputs.
type LabUpOptions struct {
	*LabOptions
	Hosts          int
	Disks          int
	DiskSize       int64
	AuthorizeFiles []string
	User           string
	Images         bool
	Systemd        bool
	NoInstall      bool
	Timeout        time.Duration
	Format         string
}

// NewCmdLabUp is `orch lab up N`.
func NewCmdLabUp(lo *LabOptions, runF func(*LabUpOptions) error) *cobra.Command {
	opts := &LabUpOptions{LabOptions: lo}
	var diskSize string
	cmd := &cobra.Command{
		Use:   "up N",
		Short: "Start N hosts and print HOST ADDR lines",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 1 || n > hostlab.MaxHosts {
				return usagef("N %q: want a number 1..%d", args[0], hostlab.MaxHosts)
			}
			opts.Hosts = n
			if opts.DiskSize, err = hostlab.ParseSize(diskSize); err != nil {
				return labError(err)
			}
			if err := hostlab.ValidateDisks(opts.Disks, opts.DiskSize); err != nil {
				return labError(err)
			}
			if opts.User != "" {
				if err := hostlab.ValidateUser(opts.User); err != nil {
					return labError(err)
				}
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return labUpRun(cmd, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Disks, "disks", 0, "loop-device disks per host")
	cmd.Flags().StringVar(&diskSize, "disk-size", hostlab.DefaultDiskStr, "size of each disk (sparse; K, M, G, T suffixes)")
	cmd.Flags().StringArrayVar(&opts.AuthorizeFiles, "authorize-key", nil, "public key file to authorise for root (and --user) on every host (repeatable)")
	cmd.Flags().StringVar(&opts.User, "user", "", "create this non-root user with passwordless sudo on every host")
	cmd.Flags().BoolVar(&opts.Images, "images", true, "bind the cached registry-free image store ("+hostlab.ImageName+") into every host")
	cmd.Flags().BoolVar(&opts.Systemd, "systemd", false, "boot real systemd as PID 1 in every host (systemd-nspawn; no disks or sudo user)")
	cmd.Flags().BoolVar(&opts.NoInstall, "no-install", false, "fail instead of installing missing packages")
	cmd.Flags().DurationVar(&opts.Timeout, "ready-timeout", 0, "how long to wait for every host to accept SSH (default 60s + 1s per host)")
	addFormatFlag(cmd, &opts.Format, FormatPlain, FormatJSON)
	return cmd
}

func labUpRun(cmd *cobra.Command, opts *LabUpOptions) error {
	var keys []string
	for _, f := range opts.AuthorizeFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return usagef("--authorize-key: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				keys = append(keys, line)
			}
		}
	}
	log := opts.Factory.Logger()
	l, err := hostlab.Up(cmd.Context(), hostlab.Options{
		Hosts: opts.Hosts, Disks: opts.Disks, DiskSize: opts.DiskSize, Prefix: opts.Prefix,
		StateDir: opts.StateDir, AuthorizedKeys: keys, User: opts.User, Images: opts.Images,
		NoInstall: opts.NoInstall, ReadyTimeout: opts.Timeout, Logger: &log, Systemd: opts.Systemd,
	})
	if err != nil {
		return labError(err)
	}
	if opts.Format == FormatJSON {
		return writeStructured(opts.IO.Out, FormatJSON, labSummary(l))
	}
	for _, h := range l.Hosts() {
		fmt.Fprintf(opts.IO.Out, "%s %s\n", h.Name, h.Addr)
	}
	hs := l.Hosts()
	fmt.Fprintf(opts.IO.ErrOut, "lab %s: %d hosts on %s; log in with:\n  ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes root@%s\n",
		l.Prefix(), len(hs), l.Subnet(), l.AdminKeyPath(), l.KnownHostsPath(), hs[0].Addr)
	return nil
}

type labSummaryJSON struct {
	Prefix string `json:"prefix"`
	Subnet string `json:"subnet"`
	// ControllerAddr is this machine's address on the lab subnet (where
	// lab hosts reach a controller's --listen).
	ControllerAddr string               `json:"controller_addr"`
	StateDir       string               `json:"state_dir"`
	AdminKey       string               `json:"admin_key"`
	KnownHosts     string               `json:"known_hosts"`
	User           string               `json:"user,omitempty"`
	ImageStore     string               `json:"image_store,omitempty"`
	Hosts          []hostlab.HostStatus `json:"hosts"`
}

func labSummary(l *hostlab.Lab) labSummaryJSON {
	return labSummaryJSON{Prefix: l.Prefix(), Subnet: l.Subnet(), ControllerAddr: l.ControllerAddr(), StateDir: l.StateDir(), AdminKey: l.AdminKeyPath(),
		KnownHosts: l.KnownHostsPath(), User: l.User(), ImageStore: l.ImageStore(), Hosts: l.Status()}
}

// NewCmdLabDown is `orch lab down`.
func NewCmdLabDown(lo *LabOptions, runF func(*LabOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Remove everything the lab created (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lo.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(lo)
			}
			l, err := lo.load()
			if errors.Is(err, hostlab.ErrNoLab) {
				fmt.Fprintf(lo.IO.ErrOut, "no lab at %s: nothing to do\n", lo.stateDir())
				return nil
			}
			if err != nil {
				return err
			}
			if os.Geteuid() != 0 {
				return labError(hostlab.ErrNotRoot)
			}
			if err := l.Down(cmd.Context()); err != nil {
				return labError(err)
			}
			fmt.Fprintf(lo.IO.ErrOut, "lab %s removed\n", l.Prefix())
			return nil
		},
	}
}

// LabStatusOptions are `orch lab status`'s inputs.
type LabStatusOptions struct {
	*LabOptions
	Format string
}

// NewCmdLabStatus is `orch lab status`.
func NewCmdLabStatus(lo *LabOptions, runF func(*LabStatusOptions) error) *cobra.Command {
	opts := &LabStatusOptions{LabOptions: lo}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the lab's hosts, processes, links and disks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lo.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			l, err := lo.load()
			if err != nil {
				return err
			}
			if opts.Format == FormatJSON {
				return writeStructured(lo.IO.Out, FormatJSON, labSummary(l))
			}
			tw := tabwriter.NewWriter(lo.IO.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tADDR\tSTATE\tSSHD\tLINK\tMEM\tDISKS")
			for _, s := range l.Status() {
				state := "down"
				if s.Running {
					state = "running"
				}
				disks := strings.Join(s.Disks, ",")
				if disks == "" {
					disks = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Addr, state, s.SSHD, s.Link,
					fmt.Sprintf("%.1fM", float64(s.MemoryKiB)/1024), disks)
			}
			return tw.Flush()
		},
	}
	addFormatFlag(cmd, &opts.Format, FormatPlain, FormatJSON)
	return cmd
}

// LabExecOptions are `orch lab exec`'s inputs.
type LabExecOptions struct {
	*LabOptions
	Host string
	Argv []string
}

// NewCmdLabExec is `orch lab exec HOST -- CMD...`.
func NewCmdLabExec(lo *LabOptions, runF func(*LabExecOptions) error) *cobra.Command {
	opts := &LabExecOptions{LabOptions: lo}
	cmd := &cobra.Command{
		Use:   "exec HOST -- CMD [ARG...]",
		Short: "Run a command as root inside a host's namespaces (no SSH)",
		Long: `Run a command as root inside a host's namespaces (no SSH). The exit status is 0
when the command succeeds and 1 otherwise; its output passes through.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 && args[1] == "--" {
				args = append(args[:1:1], args[2:]...)
			}
			if len(args) < 2 {
				return usagef("usage: orch lab exec HOST -- CMD [ARG...]")
			}
			opts.Host, opts.Argv = args[0], args[1:]
			if err := lo.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			l, err := lo.load()
			if err != nil {
				return err
			}
			c, err := l.Command(cmd.Context(), opts.Host, opts.Argv...)
			if err != nil {
				return labError(err)
			}
			if term := os.Getenv("TERM"); term != "" {
				c.Env = append(c.Env, "TERM="+term)
			}
			c.Stdin, c.Stdout, c.Stderr = lo.IO.In, lo.IO.Out, lo.IO.ErrOut
			err = c.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return errSilentExit
			}
			return err
		},
	}
	// Everything after HOST belongs to the command, flags included.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// LabAddDisksOptions are `orch lab add-disks`'s inputs.
type LabAddDisksOptions struct {
	*LabOptions
	Host  string
	Count int
	Size  int64
}

// NewCmdLabAddDisks is `orch lab add-disks HOST K SIZE`.
func NewCmdLabAddDisks(lo *LabOptions, runF func(*LabAddDisksOptions) error) *cobra.Command {
	opts := &LabAddDisksOptions{LabOptions: lo}
	return &cobra.Command{
		Use:   "add-disks HOST K SIZE",
		Short: "Attach K more sparse loop disks of SIZE to a host; prints the devices",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := strconv.Atoi(args[1])
			if err != nil || k < 1 {
				return usagef("K %q: want a positive number", args[1])
			}
			size, err := hostlab.ParseSize(args[2])
			if err != nil {
				return labError(err)
			}
			if err := hostlab.ValidateDisks(k, size); err != nil {
				return labError(err)
			}
			opts.Host, opts.Count, opts.Size = args[0], k, size
			if err := lo.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			l, err := lo.load()
			if err != nil {
				return err
			}
			disks, err := l.AddDisks(cmd.Context(), opts.Host, k, size)
			for _, d := range disks {
				fmt.Fprintln(lo.IO.Out, d.Dev)
			}
			if err != nil {
				return labError(err)
			}
			return nil
		},
	}
}

// labErrno carries the errno a hostlab error maps to.
type labErrno struct {
	err   error
	errno syscall.Errno
}

func (e *labErrno) Error() string        { return e.err.Error() }
func (e *labErrno) Unwrap() error        { return e.err }
func (e *labErrno) Errno() syscall.Errno { return e.errno }

// labError classifies hostlab's sentinel errors for errors.go.
func labError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, hostlab.ErrInvalidOptions):
		return &UsageError{Msg: err.Error()}
	case errors.Is(err, hostlab.ErrNoLab), errors.Is(err, hostlab.ErrNoHost):
		return &labErrno{err, syscall.ENOENT}
	case errors.Is(err, hostlab.ErrExists):
		return &labErrno{err, syscall.EEXIST}
	case errors.Is(err, hostlab.ErrNotRoot):
		return &labErrno{err, syscall.EPERM}
	case errors.Is(err, hostlab.ErrNotRunning), errors.Is(err, hostlab.ErrSSHDNotRunning):
		return &labErrno{err, syscall.ENOTCONN}
	}
	return err
}
