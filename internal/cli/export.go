package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdExport) }

// NewCmdExport is `orch export`: the cluster snapshot (hosts, daemons in
// the controller's order, inventory, networks, rank maps, specs) that
// `orch plan --snapshot` replays offline.
func NewCmdExport(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print the cluster snapshot that `orch plan --snapshot` reads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			raw, err := c.Export(cmd.Context())
			if err != nil {
				return err
			}
			if format == FormatYAML {
				return writeOrderedYAML(f.IO.Out, []json.RawMessage{raw})
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			return writeStructured(f.IO.Out, format, v)
		},
	}
	addFormatFlag(cmd, &format, FormatJSON, FormatJSONPretty, FormatYAML)
	return cmd
}
