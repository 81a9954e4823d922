package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newCmdDaemonAdd is `orch daemon add osd HOST:DEVICES`.
func newCmdDaemonAdd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "add", Short: "Add daemons by hand"}
	cmd.AddCommand(&cobra.Command{
		Use:   "osd HOST:/dev/X[,/dev/Y...]",
		Short: "Create OSDs on the given devices of one host (ceph-volume in the cluster image)",
		Long: `Create OSDs on the given devices of one host, as cephadm's
"ceph orch daemon add osd HOST:/dev/sdb,/dev/sdc" does (also accepted:
HOST:data_devices=/dev/sdb,/dev/sdc). It waits for ceph-volume and reports
the OSDs it created.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, devices, err := parseOSDTarget(args[0])
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.CreateOSDs(cmd.Context(), host, devices)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IO.Out, m.Message)
			return err
		},
	})
	return cmd
}

// parseOSDTarget parses HOST:/dev/a,/dev/b or HOST:data_devices=/dev/a,/dev/b.
func parseOSDTarget(s string) (string, []string, error) {
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" || rest == "" {
		return "", nil, usagef("invalid osd target %q: want HOST:/dev/X[,/dev/Y...]", s)
	}
	rest = strings.TrimPrefix(rest, "data_devices=")
	var devices []string
	for _, d := range strings.Split(rest, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if !strings.HasPrefix(d, "/dev/") {
			return "", nil, usagef("invalid device %q in %q: want /dev/... (db_devices and other drive-group keys need a spec file: orch apply -i)", d, s)
		}
		devices = append(devices, d)
	}
	if len(devices) == 0 {
		return "", nil, usagef("invalid osd target %q: no devices", s)
	}
	return host, devices, nil
}
