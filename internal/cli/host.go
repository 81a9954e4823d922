package cli

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdHost) }

// NewCmdHost is `orch host ...`, cephadm's host management verbs.
func NewCmdHost(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "host", Short: "Manage cluster hosts"}
	cmd.AddCommand(newCmdHostAdd(f), newCmdHostRm(f), newCmdHostLs(f), newCmdHostLabel(f),
		newCmdHostSetAddr(f), newCmdHostCheck(f), newCmdHostSetKey(f), newCmdHostFacts(f), newCmdHostRescan(f))
	return cmd
}

// HostAddOptions are the inputs of `orch host add`.
type HostAddOptions struct {
	Hostname    string
	Addr        string
	Labels      []string
	Maintenance bool
	HostKey     string
	KnownHosts  string
}

func newCmdHostAdd(f *Factory) *cobra.Command {
	opts := &HostAddOptions{}
	cmd := &cobra.Command{
		Use:   "add HOSTNAME [ADDR]",
		Short: "Add a host: connect over SSH, pin its host key and check it",
		Long: `Add a host. orch connects to ADDR (default: HOSTNAME) with the cluster SSH
key, verifies the host key (the one given with --host-key/--known-hosts, or
the one presented, trusted on first use and printed), checks the host and
stores it.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Hostname = args[0]
			if len(args) > 1 {
				opts.Addr = args[1]
			}
			return hostAddRun(cmd, f, opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Labels, "labels", nil, "labels, comma separated")
	cmd.Flags().BoolVar(&opts.Maintenance, "maintenance", false, "add the host in maintenance mode")
	cmd.Flags().StringVar(&opts.HostKey, "host-key", "", "the host's public SSH host key (authorized_keys format) to pin")
	cmd.Flags().StringVar(&opts.KnownHosts, "known-hosts", "", "a known_hosts file holding the host's key to pin")
	return cmd
}

func hostAddRun(cmd *cobra.Command, f *Factory, o *HostAddOptions) error {
	req := api.AddHostRequest{Host: api.Host{Hostname: o.Hostname, Addr: o.Addr, Labels: o.Labels}, HostKey: o.HostKey}
	req.AddrGiven = o.Addr != ""
	if o.Maintenance {
		req.Status = "maintenance"
	}
	if o.KnownHosts != "" {
		b, err := os.ReadFile(o.KnownHosts)
		if err != nil {
			return usagef("read known_hosts file: %v", err)
		}
		req.KnownHosts = string(b)
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	resp, err := c.AddHost(cmd.Context(), req)
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, resp.Message)
	if resp.TrustedOnFirstUse {
		fmt.Fprintf(f.IO.ErrOut, "Pinned host key of %s on first use: %s\n", o.Hostname, resp.Fingerprint)
	}
	return nil
}

func newCmdHostRm(f *Factory) *cobra.Command {
	var force, offline bool
	cmd := &cobra.Command{
		Use:   "rm HOSTNAME",
		Short: "Remove a host (refused while daemons remain unless --force)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.RemoveHost(cmd.Context(), args[0], force, offline)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, m.Message)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "remove even though daemons remain")
	cmd.Flags().BoolVar(&offline, "offline", false, "remove a host that cannot be reached (needs --force)")
	return cmd
}

// HostLsOptions are the inputs of `orch host ls`.
type HostLsOptions struct {
	Format      string
	Label       string
	HostPattern string
	HostStatus  string
	// Detail adds the columns derived from each host's facts.
	Detail bool
}

func newCmdHostLs(f *Factory) *cobra.Command {
	opts := &HostLsOptions{}
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List hosts",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return hostLsRun(cmd, f, opts) },
	}
	addFormatFlag(cmd, &opts.Format)
	cmd.Flags().StringVar(&opts.Label, "label", "", "only hosts with this label")
	cmd.Flags().StringVar(&opts.HostPattern, "host-pattern", "", "only hosts whose name matches this fnmatch pattern")
	cmd.Flags().StringVar(&opts.HostStatus, "host-status", "", "only hosts with this status (offline, maintenance, ...)")
	cmd.Flags().BoolVar(&opts.Detail, "detail", false, "also show vendor/model, CPU, RAM, disks and NICs from the hosts' facts")
	return cmd
}

func hostLsRun(cmd *cobra.Command, f *Factory, o *HostLsOptions) error {
	if o.Detail {
		return hostLsDetailRun(cmd, f, o)
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	hosts, err := c.ListHosts(cmd.Context())
	if err != nil {
		return err
	}
	hosts = filterHosts(hosts, o.Label, o.HostPattern, o.HostStatus)
	if o.Format != FormatPlain {
		docs := make([]any, len(hosts))
		for i := range hosts {
			docs[i] = hosts[i]
		}
		if o.Format == FormatYAML {
			return writeStructured(f.IO.Out, o.Format, docs)
		}
		return writeStructured(f.IO.Out, o.Format, hosts)
	}
	t := newTable("HOST", "ADDR", "LABELS", "STATUS")
	for _, h := range hosts {
		t.add(h.Hostname, h.Addr, strings.Join(h.Labels, ","), capitalize(h.Status))
	}
	if err := t.write(f.IO.Out); err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, hostLsFooter(len(hosts), o))
	return err
}

// filterHosts applies ceph orch host ls's client-side filters.
func filterHosts(hosts []api.Host, label, pattern, status string) []api.Host {
	out := []api.Host{}
	hp := spec.HostPattern{Pattern: pattern, Type: spec.PatternFnmatch}
	for _, h := range hosts {
		if label != "" && !containsString(h.Labels, label) {
			continue
		}
		if pattern != "" && !hp.Match(h.Hostname) {
			continue
		}
		if status != "" && !strings.EqualFold(h.Status, status) {
			continue
		}
		out = append(out, h)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Hostname < out[j].Hostname })
	return out
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func newCmdHostLabel(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "label", Short: "Add or remove host labels"}
	var force bool
	add := &cobra.Command{
		Use:   "add HOSTNAME LABEL",
		Short: "Add a label to a host",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printMessage(cmd, f, func(c *api.Client) (api.Message, error) {
				return c.AddHostLabel(cmd.Context(), args[0], args[1])
			})
		},
	}
	rm := &cobra.Command{
		Use:   "rm HOSTNAME LABEL",
		Short: "Remove a label from a host",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printMessage(cmd, f, func(c *api.Client) (api.Message, error) {
				return c.RemoveHostLabel(cmd.Context(), args[0], args[1], force)
			})
		},
	}
	rm.Flags().BoolVar(&force, "force", false, "remove the _admin label from the last _admin host")
	cmd.AddCommand(add, rm)
	return cmd
}

func newCmdHostSetAddr(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "set-addr HOSTNAME ADDR",
		Short: "Change a host's address (checked over SSH first)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printMessage(cmd, f, func(c *api.Client) (api.Message, error) {
				return c.SetHostAddr(cmd.Context(), args[0], args[1])
			})
		},
	}
}

func newCmdHostCheck(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check HOSTNAME",
		Short: "Check a host over SSH (container engine, hostname, time sync, lvm2)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return printMessage(cmd, f, func(c *api.Client) (api.Message, error) {
				return c.CheckHost(cmd.Context(), args[0])
			})
		},
	}
}

func newCmdHostSetKey(f *Factory) *cobra.Command {
	var acceptNew bool
	var key string
	cmd := &cobra.Command{
		Use:   "set-key HOSTNAME (--accept-new | --host-key KEY)",
		Short: "Replace a host's pinned SSH host key (after a reinstall)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if acceptNew == (key != "") {
				return usagef("give exactly one of --accept-new or --host-key")
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			r, err := c.SetHostKey(cmd.Context(), args[0], api.HostKeyRequest{HostKey: key, AcceptNew: acceptNew})
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, r.Message)
			return nil
		},
	}
	cmd.Flags().BoolVar(&acceptNew, "accept-new", false, "pin the key the host presents now")
	cmd.Flags().StringVar(&key, "host-key", "", "the new public host key (authorized_keys format)")
	return cmd
}

// printMessage runs a call that answers with a Message and prints it.
func printMessage(cmd *cobra.Command, f *Factory, call func(*api.Client) (api.Message, error)) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	m, err := call(c)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, m.Message)
	return err
}
