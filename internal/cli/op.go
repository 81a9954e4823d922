package cli

import (
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdOp) }

// timedOut is an error class with the ETIMEDOUT errno.
type timedOut struct{}

func (timedOut) Error() string        { return "timed out" }
func (timedOut) Errno() syscall.Errno { return syscall.ETIMEDOUT }

var errTimedOut error = timedOut{}

// NewCmdOp is `orch op ls|show ID`: the controller's asynchronous
// operations (apply, rm, daemon actions) and how far they got.
func NewCmdOp(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "op", Short: "Show the controller's operations (apply, rm, daemon actions)"}
	var lsFormat, showFormat string
	var wait bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List operations, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			ops, err := c.ListOperations(cmd.Context())
			if err != nil {
				return err
			}
			if lsFormat != FormatPlain {
				if ops == nil {
					ops = []api.Operation{}
				}
				return writeStructured(f.IO.Out, lsFormat, ops)
			}
			if len(ops) == 0 {
				fmt.Fprintln(f.IO.Out, "No operations reported")
				return nil
			}
			now := time.Now()
			t := newTable("ID", "KIND", "STATE", "PROGRESS", "AGE", "DESCRIPTION")
			for _, op := range ops {
				desc := ""
				if len(op.Messages) > 0 {
					desc = op.Messages[0]
				}
				if op.Error != "" {
					desc += ": " + op.Error
				}
				t.add(strconv.FormatUint(op.ID, 10), op.Kind, op.State, fmt.Sprintf("%d%%", int(op.Progress*100+0.5)),
					niceDelta(now, op.Created, ""), desc)
			}
			return t.write(f.IO.Out)
		},
	}
	addFormatFlag(ls, &lsFormat)
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one operation (--wait: until it finishes)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil || id == 0 {
				return usagef("invalid operation id %q: want a positive integer", args[0])
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			if wait {
				if err := waitOperation(cmd.Context(), c, f.IO, id, 24*time.Hour, 500*time.Millisecond); err != nil {
					return err
				}
			}
			op, err := c.GetOperation(cmd.Context(), id)
			if err != nil {
				return err
			}
			if showFormat != FormatPlain {
				return writeStructured(f.IO.Out, showFormat, op)
			}
			fmt.Fprintf(f.IO.Out, "ID: %d\nKind: %s\nState: %s\nProgress: %d%%\nCreated: %s\nUpdated: %s\n",
				op.ID, op.Kind, op.State, int(op.Progress*100+0.5), op.Created, op.Updated)
			for _, m := range op.Messages {
				fmt.Fprintf(f.IO.Out, "Message: %s\n", m)
			}
			if op.Error != "" {
				fmt.Fprintf(f.IO.Out, "Error: %s\n", op.Error)
			}
			if len(op.Detail) > 0 {
				fmt.Fprintf(f.IO.Out, "Detail: %s\n", op.Detail)
			}
			return nil
		},
	}
	show.Flags().BoolVar(&wait, "wait", false, "wait until the operation finishes")
	addFormatFlag(show, &showFormat)
	cmd.AddCommand(ls, show)
	return cmd
}
