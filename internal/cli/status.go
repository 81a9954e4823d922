package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdStatus) }

// NewCmdStatus is `orch status`, as `ceph orch status` prints it.
func NewCmdStatus(f *Factory) *cobra.Command {
	var format string
	var detail bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the orchestrator is available",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			paused, _ := st.Details["paused"].(bool)
			if format != FormatPlain {
				out := map[string]any{"available": st.Available, "backend": "orch", "paused": paused}
				if !st.Available {
					out["message"] = st.Reason
				}
				for k, v := range st.Details {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				return writeStructured(f.IO.Out, format, out)
			}
			fmt.Fprintln(f.IO.Out, "Backend: orch")
			if st.Available {
				fmt.Fprintln(f.IO.Out, "Available: Yes")
			} else {
				fmt.Fprintf(f.IO.Out, "Available: No (%s)\n", st.Reason)
			}
			fmt.Fprintf(f.IO.Out, "Paused: %s\n", yesNo(paused))
			if detail {
				if w, ok := st.Details["workers"]; ok {
					fmt.Fprintf(f.IO.Out, "Host Parallelism: %v\n", w)
				}
			}
			return nil
		},
	}
	addFormatFlag(cmd, &format)
	cmd.Flags().BoolVar(&detail, "detail", false, "show more details")
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}
