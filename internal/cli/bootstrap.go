package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/orchestrator"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdBootstrap) }

// BootstrapOptions are the inputs of `orch bootstrap`.
type BootstrapOptions struct {
	IO  *IOStreams
	Req api.BootstrapRequest

	PrivateKeyFile string
	PublicKeyFile  string
	ConfigFile     string
	ApplySpec      string
	// SkipMonitoringStack is accepted for cephadm compatibility: orch
	// deploys no monitoring stack at bootstrap.
	SkipMonitoringStack bool

	NoWait      bool
	WaitTimeout time.Duration
	// PollInterval is how often the attempt is polled.
	PollInterval time.Duration
	Format       string

	// specs are --apply-spec's documents, checked before anything starts.
	specs []map[string]any
}

// NewCmdBootstrap is `orch bootstrap`: cephadm bootstrap, run by the
// controller against a remote host.
func NewCmdBootstrap(f *Factory) *cobra.Command {
	o := &BootstrapOptions{IO: f.IO, PollInterval: 500 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "bootstrap --mon-ip IP [flags]",
		Short: "Bootstrap a new Ceph cluster: first mon, mgr and crash daemons on one host",
		Long: `Bootstrap a new cluster on the host at --mon-ip, as cephadm bootstrap does, but
run by the controller (orch serve) over SSH: the host is added with the _admin
label (its SSH host key pinned), the first keys are created and kept in the
controller's store, the first monitor is created (monmaptool, ceph-mon --mkfs)
and started, then the mgr and the crash daemon; /etc/ceph on the host gets a
minimal ceph.conf and the client.admin keyring.

The host must already accept the cluster SSH key (orch ssh get-pub-key), and
have the --image locally or be able to pull it. The controller runs the
bootstrap as an operation; this command prints each step as it completes
(--no-wait returns at once; "orch bootstrap status --wait" follows it).
A cluster that is bootstrapped already is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.load(); err != nil {
				return err
			}
			return bootstrapRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	r := &o.Req
	fl.StringVar(&r.MonIP, "mon-ip", "", "address of the first monitor, on the bootstrap host (required)")
	fl.StringVar(&r.Host, "host", "", "bootstrap host name (default: the name the host at --mon-ip reports)")
	fl.StringVar(&r.HostKey, "host-key", "", "the host's SSH host key to pin (authorized_keys format; default: trust on first use)")
	fl.StringVar(&r.Image, "image", "", "Ceph container image (default: the cluster's, else "+orchestrator.DefaultCephImage+")")
	fl.StringVar(&r.FSID, "fsid", "", "cluster fsid (default: the controller's; another one only while it manages no host)")
	fl.StringVar(&r.SSHUser, "ssh-user", "", "SSH user for all hosts (default: the cluster's, root)")
	fl.StringVar(&o.PrivateKeyFile, "ssh-private-key", "", "cluster SSH private key file (with --ssh-public-key; default: the cluster's key, generated if none)")
	fl.StringVar(&o.PublicKeyFile, "ssh-public-key", "", "cluster SSH public key file")
	fl.StringVar(&r.MonID, "mon-id", "", "mon id (default: the short host name)")
	fl.StringVar(&r.MgrID, "mgr-id", "", "mgr id (default: <short host name>.<6 random letters>)")
	fl.StringVar(&r.PublicNetwork, "public-network", "", "public network CIDR(s) (default: the host's network holding --mon-ip)")
	fl.StringVar(&r.ClusterNetwork, "cluster-network", "", "cluster (OSD replication) network CIDR(s)")
	fl.StringVarP(&o.ConfigFile, "config", "c", "", "ceph.conf file whose options are assimilated into the new cluster")
	fl.BoolVar(&r.SingleHostDefaults, "single-host-defaults", false, "options for a one-host cluster (replicas 2, CRUSH by OSD)")
	fl.BoolVar(&r.AllowOverwrite, "allow-overwrite", false, "replace an existing /etc/ceph/ceph.conf or admin keyring on the host")
	fl.BoolVar(&r.NoCleanupOnFailure, "no-cleanup-on-failure", false, "keep what a failed bootstrap deployed, for debugging")
	fl.BoolVar(&r.MgrModule, "mgr-module", false, "deploy every mgr with orch's ceph-mgr module, so that `ceph orch` on the cluster reaches this controller (needs `orch serve --listen IP:PORT --tls-auto`)")
	fl.StringVar(&r.ControllerURL, "controller-url", "", "with --mgr-module: https://HOST:PORT of the controller as the hosts reach it (default: its --listen address)")
	fl.StringVar(&o.ApplySpec, "apply-spec", "", "after bootstrap, apply this spec file (as orch apply -i)")
	fl.BoolVar(&o.SkipMonitoringStack, "skip-monitoring-stack", false, "accepted for cephadm compatibility (orch deploys no monitoring stack)")
	fl.BoolVar(&o.NoWait, "no-wait", false, "start the bootstrap and return")
	fl.DurationVar(&o.WaitTimeout, "wait-timeout", 30*time.Minute, "give up waiting after this long")
	addFormatFlag(cmd, &o.Format)
	_ = cmd.MarkFlagRequired("mon-ip")
	cmd.AddCommand(newCmdBootstrapStatus(f))
	return cmd
}

// load reads the files the flags name and checks what can be checked
// here, so that a typo fails before the controller touches a host.
func (o *BootstrapOptions) load() error {
	if _, err := netip.ParseAddr(strings.Trim(o.Req.MonIP, "[]")); err != nil {
		return usagef("--mon-ip %q: want an IP address", o.Req.MonIP)
	}
	if o.Req.ControllerURL != "" && !o.Req.MgrModule {
		return usagef("--controller-url goes with --mgr-module")
	}
	if (o.PrivateKeyFile == "") != (o.PublicKeyFile == "") {
		return usagef("--ssh-private-key and --ssh-public-key go together")
	}
	if o.PrivateKeyFile != "" {
		b, err := readInputFile(o.IO, o.PrivateKeyFile, "SSH private key", 64<<10)
		if err != nil {
			return err
		}
		o.Req.SSHPrivateKey = string(b)
		if b, err = readInputFile(o.IO, o.PublicKeyFile, "SSH public key", 64<<10); err != nil {
			return err
		}
		o.Req.SSHPublicKey = strings.TrimSpace(string(b))
	}
	if o.ConfigFile != "" {
		b, err := readInputFile(o.IO, o.ConfigFile, "config", 64<<10)
		if err != nil {
			return err
		}
		o.Req.Config = string(b)
	}
	if o.ApplySpec != "" {
		specs, err := (&ApplyOptions{IO: o.IO, File: o.ApplySpec}).buildSpecs()
		if err != nil {
			return err
		}
		o.specs = specs
	}
	return nil
}

func bootstrapRun(ctx context.Context, f *Factory, o *BootstrapOptions) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	st, err := c.Bootstrap(ctx, o.Req)
	if err != nil {
		return err
	}
	progress := o.IO.Out
	if o.Format != FormatPlain {
		progress = o.IO.ErrOut
	}
	fmt.Fprintf(progress, "Bootstrapping fsid %s on %s with %s (operation %d)\n", st.FSID, st.MonIP, st.Image, st.Operation)
	if st.GeneratedSSHKey {
		fmt.Fprintf(progress, "Generated the cluster SSH key; the host must accept it:\n  %s\n", st.SSHPublicKey)
	}
	if o.NoWait {
		fmt.Fprintf(progress, "Started; `orch bootstrap status --wait` follows it.\n")
		return nil
	}
	st, err = followBootstrap(ctx, c, progress, st.Operation, o.WaitTimeout, o.PollInterval)
	if err != nil {
		return err
	}
	if o.Format != FormatPlain {
		if err := writeStructured(o.IO.Out, o.Format, st); err != nil {
			return err
		}
	} else {
		for _, l := range st.NextSteps {
			fmt.Fprintln(o.IO.Out, l)
		}
	}
	if len(o.specs) == 0 {
		return nil
	}
	res, err := c.Apply(ctx, o.specs, false)
	if err != nil {
		return fmt.Errorf("bootstrap succeeded, but --apply-spec %s failed: %w", o.ApplySpec, err)
	}
	for _, r := range res.Results {
		fmt.Fprintln(progress, r)
	}
	return nil
}

// followBootstrap polls an attempt, printing each step as it finishes,
// until it ends. A failed attempt is an error carrying its errno.
func followBootstrap(ctx context.Context, c *api.Client, w io.Writer, id uint64, timeout, every time.Duration) (api.BootstrapStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	printed := 0
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		st, err := c.BootstrapStatus(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return st, gaveUp(id, ctx.Err())
			}
			return st, err
		}
		elapsed := 0.0
		for i := 0; i < len(st.Steps); i++ {
			s := st.Steps[i]
			elapsed += s.Seconds
			if i < printed || s.State == "running" {
				continue
			}
			line := fmt.Sprintf("[%6.1fs] %s", elapsed, s.Name)
			if s.Detail != "" {
				line += ": " + s.Detail
			}
			if s.State == "failed" {
				line += " FAILED"
			}
			fmt.Fprintln(w, line)
			printed = i + 1
		}
		if st.Done() {
			if st.State == api.BootstrapSucceeded {
				fmt.Fprintf(w, "Bootstrap took %.1fs\n", st.Seconds)
				return st, nil
			}
			msg := "bootstrap failed: " + st.Error
			if st.Cleanup != "" {
				msg += "\n" + st.Cleanup
			}
			return st, &api.Error{Code: syscall.Errno(st.Errno), Name: st.ErrnoName, Message: msg}
		}
		select {
		case <-ctx.Done():
			return st, gaveUp(id, ctx.Err())
		case <-tick.C:
		}
	}
}

func gaveUp(id uint64, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stopped waiting for bootstrap operation %d; it goes on in the controller (`orch bootstrap status --wait` follows it): %w", id, errTimedOut)
	}
	return fmt.Errorf("stopped waiting for bootstrap operation %d; it goes on in the controller (`orch bootstrap status --wait` follows it): %w", id, err)
}

// newCmdBootstrapStatus is `orch bootstrap status [--operation N] [--wait]`.
func newCmdBootstrapStatus(f *Factory) *cobra.Command {
	var (
		op      uint64
		wait    bool
		timeout time.Duration
		format  string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the latest bootstrap attempt (--wait: follow it to the end)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			progress := f.IO.Out
			if format != FormatPlain {
				progress = f.IO.ErrOut
			}
			var st api.BootstrapStatus
			if wait {
				st, err = followBootstrap(cmd.Context(), c, progress, op, timeout, 500*time.Millisecond)
				var ae *api.Error
				if err != nil && !errors.As(err, &ae) {
					return err
				}
			} else {
				if st, err = c.BootstrapStatus(cmd.Context(), op); err != nil {
					return err
				}
			}
			if format != FormatPlain {
				if werr := writeStructured(f.IO.Out, format, st); werr != nil {
					return werr
				}
				return err
			}
			if !wait {
				writeBootstrapStatus(f.IO.Out, st)
			} else if err == nil {
				for _, l := range st.NextSteps {
					fmt.Fprintln(f.IO.Out, l)
				}
			}
			return err
		},
	}
	cmd.Flags().Uint64Var(&op, "operation", 0, "the attempt's operation id (default: the latest)")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the attempt until it ends")
	cmd.Flags().DurationVar(&timeout, "wait-timeout", 30*time.Minute, "give up waiting after this long")
	addFormatFlag(cmd, &format)
	return cmd
}

// writeBootstrapStatus prints an attempt as plain text.
func writeBootstrapStatus(w io.Writer, st api.BootstrapStatus) {
	fmt.Fprintf(w, "Operation: %d\nState: %s\nFSID: %s\nHost: %s (%s)\nImage: %s\nStarted: %s\n",
		st.Operation, st.State, st.FSID, st.Host, st.MonIP, st.Image, st.Started)
	if st.Finished != "" {
		fmt.Fprintf(w, "Finished: %s (%.1fs)\n", st.Finished, st.Seconds)
	}
	for _, s := range st.Steps {
		line := fmt.Sprintf("  %-7s %6.1fs  %s", s.State, s.Seconds, s.Name)
		if s.Detail != "" {
			line += ": " + s.Detail
		}
		fmt.Fprintln(w, line)
	}
	if st.Error != "" {
		fmt.Fprintf(w, "Error: %s\n", st.Error)
	}
	if st.Cleanup != "" {
		fmt.Fprintf(w, "Cleanup: %s\n", st.Cleanup)
	}
}
