package cli

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdHealth) }

// NewCmdHealth is `orch health`: cephadm's health checks (CEPHADM_*) as
// `ceph health detail` shows them.
func NewCmdHealth(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show the orchestrator's health checks with their detail lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			h, err := c.Health(cmd.Context())
			if err != nil {
				return err
			}
			if format != FormatPlain {
				return writeSortedJSONOr(f, format, h)
			}
			fmt.Fprintln(f.IO.Out, h.Status)
			names := make([]string, 0, len(h.Checks))
			for n := range h.Checks {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				c := h.Checks[n]
				fmt.Fprintf(f.IO.Out, "[WRN] %s: %s\n", n, c.Summary)
				for _, d := range c.Detail {
					fmt.Fprintf(f.IO.Out, "    %s\n", d)
				}
			}
			return nil
		},
	}
	addFormatFlag(cmd, &format)
	return cmd
}

func writeSortedJSONOr(f *Factory, format string, v any) error {
	if format == FormatYAML {
		return writeStructured(f.IO.Out, format, v)
	}
	return writeSortedJSON(f.IO.Out, format, v)
}
