package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdPause, NewCmdResume) }

// NewCmdPause is `orch pause`: the controller keeps refreshing hosts but
// changes nothing until `orch resume`.
func NewCmdPause(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "pause",
		Short: "Pause the orchestrator's background work (hosts are still refreshed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.Pause(cmd.Context())
			if err == nil && m.Message != "" {
				fmt.Fprintln(f.IO.Out, m.Message)
			}
			return err
		},
	}
}

// NewCmdResume is `orch resume`; it always wakes the reconciler.
func NewCmdResume(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "resume",
		Short: "Resume the orchestrator's background work",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.Resume(cmd.Context())
			if err == nil && m.Message != "" {
				fmt.Fprintln(f.IO.Out, m.Message)
			}
			return err
		},
	}
}
