package cli

import (
	"errors"
	"strconv"
	"strings"
	"syscall"

	"github.com/orchceph/orch/containers"
	"github.com/orchceph/orch/internal/agent"
	"github.com/spf13/cobra"
)

// The daemon lifecycle subcommands of `orch agent`: deploy, rm-daemon, unit
// and ls, cephadm's host-side verbs. The controller runs them over SSH;
// deploy reads its one JSON document (secrets included) on stdin.

// newAgentLifecycleCommands is the hook agent.go adds to the agent tree.
func newAgentLifecycleCommands(o *AgentOptions) []*cobra.Command {
	return []*cobra.Command{
		newCmdAgentDeploy(o),
		newCmdAgentRmDaemon(o),
		newCmdAgentUnit(o),
		newCmdAgentLs(o),
	}
}

// lifecycleFlags are the flags every lifecycle subcommand shares.
type lifecycleFlags struct {
	dataRoot   string
	supervisor string
}

func (f *lifecycleFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataRoot, "data-root", containers.DataRoot, "directory holding the cluster dirs (<data-root>/<fsid>/<type>.<id>)")
	cmd.Flags().StringVar(&f.supervisor, "supervisor", "auto", "what keeps containers running: auto (systemd if it runs the host), systemd or podman")
}

// lifecycle builds the agent's Lifecycle from the flags.
func (o *AgentOptions) lifecycle(f *lifecycleFlags) (*agent.Lifecycle, error) {
	sup, err := agent.ParseSupervisor(f.supervisor)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if !strings.HasPrefix(f.dataRoot, "/") {
		return nil, usagef("--data-root %q: want an absolute path", f.dataRoot)
	}
	return &agent.Lifecycle{Host: o.Host(), DataRoot: f.dataRoot, Supervisor: sup}, nil
}

// classifyLifecycleError gives the lifecycle's error classes their errnos
// (a busy port EADDRINUSE, a mon/osd removal without --force EPERM, an
// unknown daemon ENOENT, a held cluster lock EBUSY), then the agent's.
func classifyLifecycleError(err error) error {
	for _, c := range []struct {
		class error
		errno syscall.Errno
	}{
		{agent.ErrPortInUse, syscall.EADDRINUSE},
		{agent.ErrNeedsForce, syscall.EPERM},
		{agent.ErrDaemonNotFound, syscall.ENOENT},
		{agent.ErrLocked, syscall.EBUSY},
	} {
		if errors.Is(err, c.class) {
			return &agentError{err: err, errno: c.errno}
		}
	}
	return classifyAgentError(err)
}

func newCmdAgentDeploy(o *AgentOptions) *cobra.Command {
	var (
		lf   lifecycleFlags
		fsid string
	)
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy, redeploy or reconfigure one daemon from the JSON document on stdin",
		Long: "Reads one JSON document on stdin (cephadm's `_orch deploy` shape, see docs/agent-protocol.md), " +
			"writes the daemon's data dir and starts it under systemd or podman's restart policy.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := agent.DecodeDeployRequest(o.IO.In)
			if err != nil {
				return classifyLifecycleError(err)
			}
			if fsid != "" && fsid != req.FSID {
				return usagef("--fsid %s does not match the request's fsid %s", fsid, req.FSID)
			}
			l, err := o.lifecycle(&lf)
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			res, err := l.Deploy(ctx, req)
			if err != nil {
				return classifyLifecycleError(err)
			}
			return o.writeJSON(res)
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&fsid, "fsid", "", "refuse a request for another cluster")
	return cmd
}

func newCmdAgentRmDaemon(o *AgentOptions) *cobra.Command {
	var (
		lf    lifecycleFlags
		opts  agent.RemoveOptions
		ports string
	)
	cmd := &cobra.Command{
		Use:   "rm-daemon",
		Short: "Stop and remove one daemon (mon/osd/prometheus data is kept under removed/)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, p := range strings.Fields(ports) {
				n, err := strconv.Atoi(p)
				if err != nil || n < 1 || n > 65535 {
					return usagef("--tcp-ports: %q is not a port", p)
				}
				opts.TCPPorts = append(opts.TCPPorts, n)
			}
			l, err := o.lifecycle(&lf)
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			res, err := l.RemoveDaemon(ctx, opts)
			if err != nil {
				return classifyLifecycleError(err)
			}
			return o.writeJSON(res)
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&opts.FSID, "fsid", "", "cluster fsid")
	cmd.Flags().StringVar(&opts.Name, "name", "", "daemon name <type>.<id>")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "required to remove a mon or osd")
	cmd.Flags().BoolVar(&opts.ForceDeleteData, "force-delete-data", false, "delete mon/osd/prometheus data instead of keeping it under removed/")
	cmd.Flags().StringVar(&ports, "tcp-ports", "", "the daemon's TCP ports, space separated")
	_ = cmd.MarkFlagRequired("fsid")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newCmdAgentUnit(o *AgentOptions) *cobra.Command {
	var (
		lf         lifecycleFlags
		fsid, name string
	)
	cmd := &cobra.Command{
		Use:   "unit " + strings.Join(agent.UnitVerbs, "|"),
		Short: "Start, stop, restart, reset-failed, enable or disable one daemon",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := o.lifecycle(&lf)
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			res, err := l.Unit(ctx, fsid, name, args[0])
			if err != nil {
				return classifyLifecycleError(err)
			}
			return o.writeJSON(res)
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&fsid, "fsid", "", "cluster fsid")
	cmd.Flags().StringVar(&name, "name", "", "daemon name <type>.<id>")
	_ = cmd.MarkFlagRequired("fsid")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newCmdAgentLs(o *AgentOptions) *cobra.Command {
	var (
		lf   lifecycleFlags
		opts agent.ListOptions
	)
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List this host's daemons with cephadm ls's fields (JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := o.lifecycle(&lf)
			if err != nil {
				return err
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			list, err := l.List(ctx, opts)
			if err != nil {
				return classifyLifecycleError(err)
			}
			return o.writeJSON(list)
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&opts.FSID, "fsid", "", "only this cluster's daemons")
	cmd.Flags().BoolVar(&opts.NoDetail, "no-detail", false, "only style, name, fsid and systemd_unit; runs no command")
	return cmd
}
