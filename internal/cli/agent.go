package cli

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/orchceph/orch/internal/agent"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdAgent) }

// AgentOptions are the options shared by every `orch agent` subcommand.
type AgentOptions struct {
	IO *IOStreams
	// Host is the machine the agent describes; tests point it at fixtures.
	Host func() *agent.Host
	// Timeout bounds the whole subcommand: the controller's SSH session may
	// not be able to cancel us, so we bound ourselves.
	Timeout time.Duration
}

// NewCmdAgent is the hidden `orch agent ...` tree that the controller runs
// on managed hosts over SSH; every subcommand prints JSON on stdout.
func NewCmdAgent(f *Factory) *cobra.Command {
	return newCmdAgent(f, func() *agent.Host { return &agent.Host{} })
}

func newCmdAgent(f *Factory, host func() *agent.Host) *cobra.Command {
	opts := &AgentOptions{IO: f.IO, Host: host}
	cmd := &cobra.Command{
		Use:    "agent",
		Short:  "Host-side agent run by the controller over SSH (JSON on stdout)",
		Hidden: true,
		Args:   cobra.NoArgs,
	}
	cmd.PersistentFlags().DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "give up after this long")
	cmd.AddCommand(
		newCmdAgentCheckHost(opts),
		newCmdAgentGatherFacts(opts),
		newCmdAgentListNetworks(opts),
		newCmdAgentInventory(opts),
		newCmdAgentLight(opts),
		newCmdAgentDiskRescan(opts),
	)
	cmd.AddCommand(newAgentLifecycleCommands(opts)...)
	return cmd
}

// context returns the command's context bounded by --timeout.
func (o *AgentOptions) context(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Timeout > 0 {
		return context.WithTimeout(ctx, o.Timeout)
	}
	return context.WithCancel(ctx)
}

// writeJSON prints v as one line of JSON.
func (o *AgentOptions) writeJSON(v any) error {
	return writeStructured(o.IO.Out, FormatJSON, v)
}

// agentError gives an agent error its errno; the agent package knows
// nothing of exit codes.
type agentError struct {
	err   error
	errno syscall.Errno
}

func (e *agentError) Error() string        { return e.err.Error() }
func (e *agentError) Unwrap() error        { return e.err }
func (e *agentError) Errno() syscall.Errno { return e.errno }

// classifyAgentError maps the agent's error classes to errnos: a device
// that cannot blink is ENOTSUP, a missing program ENOENT, a bad request
// EINVAL, running out of time ETIMEDOUT. Anything else stays unclassified
// (exit 1, "Error EIO").
func classifyAgentError(err error) error {
	if err == nil {
		return nil
	}
	for _, c := range []struct {
		class error
		errno syscall.Errno
	}{
		{agent.ErrNotSupported, syscall.ENOTSUP},
		{agent.ErrToolMissing, syscall.ENOENT},
		{agent.ErrInvalidArgument, syscall.EINVAL},
		{context.DeadlineExceeded, syscall.ETIMEDOUT},
	} {
		if errors.Is(err, c.class) {
			return &agentError{err: err, errno: c.errno}
		}
	}
	return err
}
