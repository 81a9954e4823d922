package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdRm) }

// NewCmdRm is `orch rm SERVICE [--force]`: the spec is marked deleted,
// the controller removes the daemons and then forgets the service.
func NewCmdRm(f *Factory) *cobra.Command {
	var force, wait bool
	c := &cobra.Command{
		Use:   "rm SERVICE_NAME",
		Short: "Remove a service (its daemons are removed in the background)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := f.Client()
			if err != nil {
				return err
			}
			m, err := cl.RemoveService(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, m.Message)
			if wait && m.Operation != 0 {
				return waitOperation(cmd.Context(), cl, f.IO, m.Operation, f.Timeout, 0)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "remove even a mon or mgr service, or an osd service whose OSDs remain")
	c.Flags().BoolVar(&wait, "wait", false, "wait until the daemons are gone and the service is purged")
	return c
}
