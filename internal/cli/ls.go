package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdLs) }

// LsOptions are the inputs of `orch ls`.
type LsOptions struct {
	IO          *IOStreams
	ServiceType string
	ServiceName string
	Export      bool
	Refresh     bool
	Format      string
	// Now is the clock for ages (tests pin it).
	Now func() time.Time
}

// NewCmdLs is `orch ls [TYPE] [NAME]`, cephadm's service listing.
func NewCmdLs(f *Factory) *cobra.Command { return newCmdLs(f, nil) }

func newCmdLs(f *Factory, runF func(*LsOptions) error) *cobra.Command {
	o := &LsOptions{IO: f.IO, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "ls [SERVICE_TYPE] [SERVICE_NAME]",
		Short: "List services known to the orchestrator",
		Long: "Lists every service (from the controller's store; nothing is asked of hosts): NAME, PORTS,\n" +
			"RUNNING (running/expected), REFRESHED, AGE and PLACEMENT. --export prints the specs as a\n" +
			"YAML stream that `orch apply -i` accepts. --refresh asks for fresh host data and returns at once.",
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.ServiceType = args[0]
			}
			if len(args) > 1 {
				o.ServiceName = args[1]
			}
			if runF != nil {
				return runF(o)
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			svcs, err := c.ListServices(cmd.Context(), api.ServiceFilter{ServiceType: o.ServiceType, ServiceName: o.ServiceName, Refresh: o.Refresh})
			if err != nil {
				return err
			}
			return lsRun(o, svcs)
		},
	}
	cmd.Flags().BoolVar(&o.Export, "export", false, "print the service specs (YAML unless --format json)")
	cmd.Flags().BoolVar(&o.Refresh, "refresh", false, "ask for a refresh of host data (returns the cached listing at once)")
	addFormatFlag(cmd, &o.Format)
	return cmd
}

// lsRun renders a service listing.
func lsRun(o *LsOptions, svcs []api.ServiceDescription) error {
	w := o.IO.Out
	if o.Export {
		return exportSpecs(w, o.Format, svcs)
	}
	switch o.Format {
	case FormatYAML:
		docs := make([]json.RawMessage, 0, len(svcs))
		for _, s := range svcs {
			b, err := json.Marshal(s)
			if err != nil {
				return err
			}
			docs = append(docs, b)
		}
		return writeOrderedYAML(w, docs)
	case FormatJSON, FormatJSONPretty:
		if svcs == nil {
			svcs = []api.ServiceDescription{}
		}
		return writeSortedJSON(w, o.Format, svcs)
	}
	if len(svcs) == 0 {
		fmt.Fprintln(w, "No services reported")
		return nil
	}
	now := o.Now()
	t := newTable("NAME", "PORTS", "RUNNING", "REFRESHED", "AGE", "PLACEMENT")
	for _, s := range svcs {
		var head struct {
			ServiceType string         `json:"service_type"`
			ServiceName string         `json:"service_name"`
			Unmanaged   bool           `json:"unmanaged"`
			Placement   map[string]any `json:"placement"`
		}
		if err := json.Unmarshal(s.Spec, &head); err != nil {
			return fmt.Errorf("service from the controller: %w", err)
		}
		pl := "<no spec>"
		switch {
		case head.Unmanaged:
			pl = "<unmanaged>"
		case head.Placement != nil:
			if p, err := spec.PlacementFromJSON(head.Placement); err == nil {
				pl = p.PrettyStr()
			}
		}
		refreshed := niceDelta(now, s.Status.LastRefresh, " ago")
		if s.Status.Deleted != "" {
			refreshed = "<deleting>"
		}
		running := fmt.Sprintf("%d/%d", s.Status.Running, s.Status.Size)
		if head.ServiceType == "osd" {
			running = fmt.Sprint(s.Status.Running)
		}
		t.add(head.ServiceName, portSummary(s.Status.VirtualIP, s.Status.Ports, "?"), running, refreshed,
			niceDelta(now, s.Status.Created, ""), pl)
	}
	return t.write(w)
}

// portSummary is cephadm's get_port_summary: "<ip or dflt>:<p1,p2>".
func portSummary(ip string, ports []int, dflt string) string {
	if len(ports) == 0 {
		return ""
	}
	if ip == "" {
		ip = dflt
	}
	ip, _, _ = strings.Cut(ip, "/")
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = fmt.Sprint(p)
	}
	return ip + ":" + strings.Join(ps, ",")
}

// exportSpecs prints the (not deleted) specs of a listing: a YAML stream
// by default (spec.DumpYAML, what `orch apply -i` reads), or JSON.
func exportSpecs(w io.Writer, format string, svcs []api.ServiceDescription) error {
	var raws []json.RawMessage
	for _, s := range svcs {
		if s.Status.Deleted != "" || s.Status.Created == "" {
			continue // deleting, or synthesised for daemons without a spec
		}
		raws = append(raws, s.Spec)
	}
	if len(raws) == 0 {
		if format == FormatJSON || format == FormatJSONPretty {
			return writeStructured(w, format, []any{})
		}
		return nil
	}
	arr, err := json.Marshal(raws)
	if err != nil {
		return err
	}
	docs, err := spec.LoadDocuments(arr)
	if err != nil {
		return fmt.Errorf("stored specs: %w", err)
	}
	if format == FormatJSON || format == FormatJSONPretty {
		vals := make([]any, len(docs))
		for i, d := range docs {
			vals[i] = d.ToJSON()
		}
		return writeStructured(w, format, vals)
	}
	vals := make([]any, len(docs))
	for i, d := range docs {
		vals[i] = d.ToJSON()
	}
	_, err = io.WriteString(w, spec.DumpYAML(vals...))
	return err
}
