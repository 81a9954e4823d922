package cli

import (
	"fmt"
	"strings"

	"github.com/orchceph/orch/api"
	"github.com/spf13/cobra"
)

// hostLsDetailRun is `orch host ls --detail`: the host table plus cephadm's
// HostDetails columns derived from each host's facts.
func hostLsDetailRun(cmd *cobra.Command, f *Factory, o *HostLsOptions) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	details, err := c.HostDetails(cmd.Context())
	if err != nil {
		return err
	}
	// Filter with host ls's own filters, on the HostSpec part.
	byName := make(map[string]api.HostDetails, len(details))
	hosts := make([]api.Host, 0, len(details))
	for _, d := range details {
		byName[d.Hostname] = d
		hosts = append(hosts, api.Host{Hostname: d.Hostname, Addr: d.Addr, Labels: d.Labels, Status: d.Status})
	}
	hosts = filterHosts(hosts, o.Label, o.HostPattern, o.HostStatus)
	details = details[:0]
	for _, h := range hosts {
		details = append(details, byName[h.Hostname])
	}
	if o.Format != FormatPlain {
		return writeSorted(f.IO.Out, o.Format, details)
	}
	t := newTable("HOST", "ADDR", "LABELS", "STATUS", "VENDOR/MODEL", "CPU", "RAM", "HDD", "SSD", "NIC")
	for _, d := range details {
		t.add(d.Hostname, d.Addr, strings.Join(d.Labels, ","), capitalize(d.Status),
			d.Server, d.CPUSummary, d.RAM, d.HDDSummary, d.SSDSummary, fmt.Sprint(d.NICCount))
	}
	if err := t.write(f.IO.Out); err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, hostLsFooter(len(details), o))
	return err
}

// hostLsFooter is host ls's "<n> hosts in cluster ..." line.
func hostLsFooter(n int, o *HostLsOptions) string {
	footer := fmt.Sprintf("%d hosts in cluster", n)
	if o.Label != "" {
		footer += " who had label " + o.Label
	}
	if o.HostPattern != "" {
		footer += " whose hostname matched " + o.HostPattern
	}
	if o.HostStatus != "" {
		footer += " with status " + o.HostStatus
	}
	return footer
}

// HostFactsOptions are the inputs of `orch host facts`.
type HostFactsOptions struct {
	Host   string
	Format string
}

func newCmdHostFacts(f *Factory) *cobra.Command {
	opts := &HostFactsOptions{}
	cmd := &cobra.Command{
		Use:   "facts HOSTNAME",
		Short: "Show the facts last gathered from a host (cephadm gather-facts keys)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Host = args[0]
			c, err := f.Client()
			if err != nil {
				return err
			}
			facts, err := c.HostFacts(cmd.Context(), opts.Host)
			if err != nil {
				return err
			}
			return writeSorted(f.IO.Out, opts.Format, facts)
		},
	}
	addFormatFlag(cmd, &opts.Format, FormatJSONPretty, FormatJSON, FormatYAML)
	return cmd
}

func newCmdHostRescan(f *Factory) *cobra.Command {
	var withSummary bool
	cmd := &cobra.Command{
		Use:   "rescan HOSTNAME",
		Short: "Rescan a host's SCSI buses for new disks (their inventory is refreshed next)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.RescanHost(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			msg := m.Message
			if !withSummary {
				// ceph orch prints the part before the first period ("Ok").
				msg, _, _ = strings.Cut(msg, ".")
			}
			_, err = fmt.Fprintln(f.IO.Out, msg)
			return err
		},
	}
	cmd.Flags().BoolVar(&withSummary, "with-summary", false, "print the adapters found and rescanned")
	return cmd
}
