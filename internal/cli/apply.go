package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

func init() { extraCommands = append(extraCommands, NewCmdApply) }

// ApplyOptions are the inputs of `orch apply`.
type ApplyOptions struct {
	IO *IOStreams

	ServiceType string
	// ServiceID is the first argument of types that need one (mds: the
	// file system, rgw/nfs/container/...: the id).
	ServiceID   string
	Placement   string
	File        string
	DryRun      bool
	NoOverwrite bool
	Unmanaged   bool
	// AllAvailableDevices is `orch apply osd --all-available-devices`.
	AllAvailableDevices bool
	Format              string
	Explain             bool

	// rgw and nfs shorthand options.
	Realm, ZoneGroup, Zone string
	Port                   int
	SSL                    bool

	Wait        bool
	WaitTimeout time.Duration
	// PollInterval is how often --wait asks for the operation.
	PollInterval time.Duration
}

// NewCmdApply is `orch apply`, cephadm's way of declaring services.
func NewCmdApply(f *Factory) *cobra.Command {
	o := &ApplyOptions{IO: f.IO, PollInterval: 500 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "apply [SERVICE_TYPE [SERVICE_ID] [PLACEMENT]] | -i FILE",
		Short: "Declare services (specs); the controller deploys them in the background",
		Long: "Stores service specs (and adds the hosts of host specs) and returns at once; the\n" +
			"controller's reconciler then deploys and removes daemons. With -i, every document of\n" +
			"FILE (YAML stream or JSON) is applied in order. Without -i, one spec is built from\n" +
			"SERVICE_TYPE, a service id for the types that need one (mds: the file system name;\n" +
			"rgw, nfs, container, ingress, iscsi, nvmeof) and a placement string such as\n" +
			"\"3 label:web\" or \"host1 host2\". --dry-run prints what would change (as `orch plan`),\n" +
			"--wait follows the operation until the services converge.",
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parseArgs(cmd, args); err != nil {
				return err
			}
			return applyRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "input", "i", "", "spec file (YAML or JSON), - for stdin")
	fl.StringVar(&o.Placement, "placement", "", "placement string (instead of the positional one)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "show what would change, change nothing")
	fl.BoolVar(&o.NoOverwrite, "no-overwrite", false, "skip services and hosts that already exist")
	fl.BoolVar(&o.Unmanaged, "unmanaged", false, "store the spec as unmanaged (no daemons are deployed or removed)")
	fl.BoolVar(&o.AllAvailableDevices, "all-available-devices", false, "osd: create OSDs on every available device of every host (spec osd.all-available-devices)")
	fl.BoolVar(&o.Explain, "explain", false, "with --dry-run: list the hosts each service does not use, and why")
	fl.StringVar(&o.Realm, "realm", "", "rgw: realm")
	fl.StringVar(&o.ZoneGroup, "zonegroup", "", "rgw: zone group")
	fl.StringVar(&o.Zone, "zone", "", "rgw: zone")
	fl.IntVar(&o.Port, "port", 0, "rgw/nfs: frontend port")
	fl.BoolVar(&o.SSL, "ssl", false, "rgw: serve TLS")
	fl.BoolVar(&o.Wait, "wait", false, "wait until the controller has converged the services")
	fl.DurationVar(&o.WaitTimeout, "wait-timeout", 30*time.Minute, "give up --wait after this long")
	addFormatFlag(cmd, &o.Format)
	return cmd
}

// typesWithID take a service id as their first argument.
var typesWithID = map[string]bool{"mds": true, "rgw": true, "nfs": true, "container": true, "ingress": true,
	"iscsi": true, "nvmeof": true}

func (o *ApplyOptions) parseArgs(cmd *cobra.Command, args []string) error {
	if o.File != "" {
		if len(args) > 0 || o.Placement != "" || o.Unmanaged {
			return usagef("unrecognized command -i; -h or --help for usage")
		}
		return nil
	}
	if len(args) == 0 {
		return usagef("give a service type, or a spec file with -i")
	}
	o.ServiceType = args[0]
	rest := args[1:]
	if typesWithID[o.ServiceType] && len(rest) > 0 {
		o.ServiceID, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		if o.Placement != "" {
			return usagef("give the placement either as an argument or with --placement, not both")
		}
		o.Placement = strings.Join(rest, " ")
	}
	if o.AllAvailableDevices {
		if o.ServiceType != "osd" || o.ServiceID != "" || o.Placement != "" {
			return usagef("--all-available-devices goes with `orch apply osd` alone (no placement)")
		}
		// cephadm's spec for it: every host, every available device.
		o.ServiceID, o.Placement = "all-available-devices", "*"
	} else if o.ServiceType == "osd" {
		return usagef("orch apply osd needs --all-available-devices or a drive group spec (-i FILE)")
	}
	switch o.ServiceType {
	case "rgw", "nfs":
	default:
		if o.Port != 0 || o.SSL || o.Realm != "" || o.Zone != "" || o.ZoneGroup != "" {
			return usagef("--port, --ssl, --realm, --zonegroup and --zone only apply to rgw (and --port to nfs)")
		}
	}
	return nil
}

// buildSpecs returns the spec objects to send: the file's documents in
// cephadm's to_json shape, or the one spec the arguments describe.
func (o *ApplyOptions) buildSpecs() ([]map[string]any, error) {
	var docs []spec.Document
	if o.File != "" {
		data, err := readSpecInput(o.IO, o.File)
		if err != nil {
			return nil, err
		}
		if docs, err = spec.LoadDocuments(data); err != nil {
			return nil, err
		}
	} else {
		p, err := spec.ParsePlacement(o.Placement)
		if err != nil {
			return nil, err
		}
		m := map[string]any{"service_type": o.ServiceType, "placement": p.ToJSON()}
		if o.ServiceID != "" {
			m["service_id"] = o.ServiceID
		}
		if o.Unmanaged {
			m["unmanaged"] = true
		}
		sp := map[string]any{}
		switch o.ServiceType {
		case "osd":
			sp["data_devices"] = map[string]any{"all": true}
		case "rgw":
			if o.Realm != "" {
				sp["rgw_realm"] = o.Realm
			}
			if o.ZoneGroup != "" {
				sp["rgw_zonegroup"] = o.ZoneGroup
			}
			if o.Zone != "" {
				sp["rgw_zone"] = o.Zone
			}
			if o.Port != 0 {
				sp["rgw_frontend_port"] = o.Port
			}
			if o.SSL {
				sp["ssl"] = true
			}
		case "nfs":
			if o.Port != 0 {
				sp["port"] = o.Port
			}
		}
		if len(sp) > 0 {
			m["spec"] = sp
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		if docs, err = spec.LoadDocuments(data); err != nil {
			return nil, err
		}
	}
	out := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		b, err := d.ToJSON().MarshalJSON()
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func applyRun(ctx context.Context, f *Factory, o *ApplyOptions) error {
	specs, err := o.buildSpecs()
	if err != nil {
		return err
	}
	c, err := f.Client()
	if err != nil {
		return err
	}
	if o.DryRun {
		return planLive(ctx, c, o.IO.Out, specs, o.Format, o.Explain)
	}
	res, err := c.Apply(ctx, specs, o.NoOverwrite)
	if err != nil {
		return err
	}
	if o.Format != FormatPlain {
		if err := writeStructured(o.IO.Out, o.Format, res); err != nil {
			return err
		}
	} else {
		for _, r := range res.Results {
			fmt.Fprintln(o.IO.Out, r)
		}
	}
	if !o.Wait || res.Operation == 0 {
		return nil
	}
	return waitOperation(ctx, c, o.IO, res.Operation, o.WaitTimeout, o.PollInterval)
}

// planLive previews specs against the controller's cluster (POST /plan):
// cephadm's preview tables, or the plan document of `orch plan`.
func planLive(ctx context.Context, c *api.Client, w io.Writer, specs []map[string]any, format string, explain bool) error {
	if format == FormatPlain {
		text, err := c.PlanPlain(ctx, specs, explain)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, text)
		return err
	}
	raw, err := c.PlanJSON(ctx, specs)
	if err != nil {
		return err
	}
	// Keep the plan document's own key order, as `orch plan` prints it.
	switch format {
	case FormatJSON:
		raw = bytes.TrimSpace(raw)
		_, err = w.Write(append(raw, '\n'))
		return err
	case FormatJSONPretty:
		var b bytes.Buffer
		if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
			return err
		}
		b.WriteByte('\n')
		_, err = w.Write(b.Bytes())
		return err
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return err
	}
	return writeStructured(w, FormatYAML, doc)
}

// waitOperation polls an operation until it finishes: a progress bar on a
// terminal, a line per change otherwise. A failed operation is an error.
func waitOperation(ctx context.Context, c *api.Client, ios *IOStreams, id uint64, timeout, every time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	last := ""
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		op, err := c.GetOperation(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("gave up waiting for operation %d after %s; `orch op show %d` follows it: %w", id, timeout, id, errTimedOut)
			}
			return err
		}
		line := progressLine(op, ios.IsTerminal)
		if ios.IsTerminal {
			fmt.Fprintf(ios.ErrOut, "\r%s\x1b[K", line)
		} else if line != last {
			fmt.Fprintln(ios.ErrOut, line)
		}
		last = line
		if op.Done() {
			if ios.IsTerminal {
				fmt.Fprintln(ios.ErrOut)
			}
			if op.State != "succeeded" {
				return fmt.Errorf("operation %d %s: %s", id, op.State, op.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			if ios.IsTerminal {
				fmt.Fprintln(ios.ErrOut)
			}
			return fmt.Errorf("gave up waiting for operation %d after %s; `orch op show %d` follows it: %w", id, timeout, id, errTimedOut)
		case <-tick.C:
		}
	}
}

// progressLine renders an operation's progress: a bar on a terminal.
func progressLine(op api.Operation, bar bool) string {
	pct := int(op.Progress*100 + 0.5)
	what := op.Kind
	if len(op.Messages) > 0 {
		what = op.Messages[0]
	}
	if !bar {
		return fmt.Sprintf("operation %d %s: %d%% (%s)", op.ID, op.State, pct, what)
	}
	const width = 30
	n := min(width, int(op.Progress*width+0.5))
	return fmt.Sprintf("[%s%s] %3d%% %s (%s)", strings.Repeat("=", n), strings.Repeat(" ", width-n), pct, what, op.State)
}
