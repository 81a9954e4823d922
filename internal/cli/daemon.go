package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdDaemon) }

// NewCmdDaemon is `orch daemon start|stop|restart|redeploy|reconfig NAME`
// and `orch daemon rm NAME...`: scheduled, executed by the controller's
// loop (never waiting on the host), as cephadm does.
func NewCmdDaemon(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "daemon", Short: "Act on single daemons"}
	for _, action := range []string{"start", "stop", "restart", "redeploy", "reconfig"} {
		cmd.AddCommand(newCmdDaemonAction(f, action))
	}
	cmd.AddCommand(newCmdDaemonRm(f), newCmdDaemonAdd(f))
	return cmd
}

func newCmdDaemonAction(f *Factory, action string) *cobra.Command {
	var image string
	var wait bool
	c := &cobra.Command{
		Use:   action + " NAME",
		Short: strings.ToUpper(action[:1]) + action[1:] + " a daemon (<type>.<id>)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !strings.Contains(args[0], ".") {
				return usagef("%s is not a valid daemon name", args[0])
			}
			cl, err := f.Client()
			if err != nil {
				return err
			}
			m, err := cl.DaemonAction(cmd.Context(), args[0], action, image)
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
	if action == "redeploy" {
		c.Flags().StringVar(&image, "image", "", "redeploy with this container image")
	}
	c.Flags().BoolVar(&wait, "wait", false, "wait until the controller has done it")
	return c
}

// preciousTypes need --force to be removed (their data is kept aside).
var preciousTypes = map[string]bool{"osd": true, "mon": true, "prometheus": true}

func newCmdDaemonRm(f *Factory) *cobra.Command {
	var force, wait bool
	c := &cobra.Command{
		Use:   "rm NAME...",
		Short: "Remove daemons (osd, mon and prometheus need --force)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range args {
				t, _, ok := strings.Cut(name, ".")
				if !ok {
					return usagef("%s is not a valid daemon name", name)
				}
				if preciousTypes[t] && !force {
					return usagef("must pass --force to REMOVE daemon with potentially PRECIOUS DATA for %s", name)
				}
			}
			cl, err := f.Client()
			if err != nil {
				return err
			}
			res, err := cl.RemoveDaemons(cmd.Context(), args, force)
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
	c.Flags().BoolVar(&force, "force", false, "remove daemons with precious data (osd, mon, prometheus)")
	c.Flags().BoolVar(&wait, "wait", false, "wait until the controller has removed them")
	return c
}
