package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() {
	extraCommands = append(extraCommands,
		func(f *Factory) *cobra.Command { return newCmdServiceAction(f, "start") },
		func(f *Factory) *cobra.Command { return newCmdServiceAction(f, "stop") },
		func(f *Factory) *cobra.Command { return newCmdServiceAction(f, "restart") },
		func(f *Factory) *cobra.Command { return newCmdServiceAction(f, "redeploy") },
		func(f *Factory) *cobra.Command { return newCmdServiceAction(f, "reconfig") },
		func(f *Factory) *cobra.Command { return newCmdSetManaged(f, false) },
		func(f *Factory) *cobra.Command { return newCmdSetManaged(f, true) },
	)
}

// newCmdServiceAction is `orch start|stop|restart|redeploy|reconfig
// SERVICE`: the action is scheduled for each of the service's daemons
// (stopping a whole mon, mgr or osd service is refused).
func newCmdServiceAction(f *Factory, action string) *cobra.Command {
	var wait bool
	c := &cobra.Command{
		Use:   action + " SERVICE_NAME",
		Short: strings.ToUpper(action[:1]) + action[1:] + " every daemon of a service",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := f.Client()
			if err != nil {
				return err
			}
			res, err := cl.ServiceAction(cmd.Context(), args[0], action)
			if err != nil {
				return err
			}
			for _, r := range res.Results {
				fmt.Fprintln(f.IO.Out, r)
			}
			if wait && res.Operation != 0 {
				return waitOperation(cmd.Context(), cl, f.IO, res.Operation, f.Timeout, 0)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&wait, "wait", false, "wait until the controller has done it")
	return c
}

// newCmdSetManaged is `orch set-managed|set-unmanaged SERVICE`.
func newCmdSetManaged(f *Factory, managed bool) *cobra.Command {
	use, short := "set-unmanaged", "Stop managing a service's daemons (they are left as they are)"
	if managed {
		use, short = "set-managed", "Manage a service's daemons again"
	}
	return &cobra.Command{
		Use:   use + " SERVICE_NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := f.Client()
			if err != nil {
				return err
			}
			m, err := cl.SetManaged(cmd.Context(), args[0], managed)
			if err != nil {
				return err
			}
			fmt.Fprintln(f.IO.Out, m.Message)
			return nil
		},
	}
}
