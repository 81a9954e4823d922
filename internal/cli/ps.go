package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdPs) }

// PsOptions are the inputs of `orch ps`.
type PsOptions struct {
	IO     *IOStreams
	Filter api.DaemonFilter
	Format string
	Now    func() time.Time
}

// NewCmdPs is `orch ps [HOST]`, cephadm's daemon listing.
func NewCmdPs(f *Factory) *cobra.Command {
	o := &PsOptions{IO: f.IO, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "ps [HOSTNAME]",
		Short: "List daemons known to the orchestrator",
		Long: "Lists daemons from the controller's store (never waiting on a host): NAME, HOST, PORTS,\n" +
			"STATUS, REFRESHED, AGE, MEM USE, MEM LIM, VERSION, IMAGE ID, CONTAINER ID, sorted by name.\n" +
			"--refresh asks for fresh host data and returns the cached listing at once.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Filter.Host = args[0]
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			raw, err := c.ListDaemonsRaw(cmd.Context(), o.Filter)
			if err != nil {
				return err
			}
			if o.Format == FormatPlain {
				// The table needs a few fields: decode only those.
				lite, err := decodePsRows(raw)
				if err != nil {
					return fmt.Errorf("decode controller answer: %w", err)
				}
				rows := make([]api.DaemonDescription, len(lite))
				for i := range lite {
					rows[i] = lite[i].description()
				}
				return psRun(o, rows)
			}
			var ds []api.DaemonDescription
			if err := json.Unmarshal(raw, &ds); err != nil {
				return fmt.Errorf("decode controller answer: %w", err)
			}
			return psRun(o, ds)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Filter.ServiceName, "service-name", "", "only daemons of this service")
	fl.StringVar(&o.Filter.DaemonType, "daemon-type", "", "only daemons of this type")
	fl.StringVar(&o.Filter.DaemonID, "daemon-id", "", "only the daemon with this id")
	// ceph spells them with underscores.
	fl.StringVar(&o.Filter.ServiceName, "service_name", "", "alias of --service-name")
	fl.StringVar(&o.Filter.DaemonType, "daemon_type", "", "alias of --daemon-type")
	fl.StringVar(&o.Filter.DaemonID, "daemon_id", "", "alias of --daemon-id")
	for _, n := range []string{"service_name", "daemon_type", "daemon_id"} {
		_ = fl.MarkHidden(n)
	}
	fl.BoolVar(&o.Filter.Refresh, "refresh", false, "ask for a refresh of host data (returns the cached listing at once)")
	addFormatFlag(cmd, &o.Format)
	return cmd
}

// psRow is the part of a DaemonDescription the plain table shows.
type psRow struct {
	DaemonType       string  `json:"daemon_type"`
	DaemonID         string  `json:"daemon_id"`
	Hostname         string  `json:"hostname"`
	Ports            []int   `json:"ports"`
	IP               *string `json:"ip"`
	Status           *int    `json:"status"`
	StatusDesc       string  `json:"status_desc"`
	LastRefresh      string  `json:"last_refresh"`
	Created          string  `json:"created"`
	Started          string  `json:"started"`
	MemoryUsage      *int64  `json:"memory_usage"`
	MemoryRequest    *int64  `json:"memory_request"`
	Version          string  `json:"version"`
	ContainerImageID string  `json:"container_image_id"`
	ContainerID      string  `json:"container_id"`
}

func (r *psRow) description() api.DaemonDescription {
	return api.DaemonDescription{DaemonType: r.DaemonType, DaemonID: r.DaemonID, Hostname: r.Hostname, Ports: r.Ports,
		IP: r.IP, Status: r.Status, StatusDesc: r.StatusDesc, LastRefresh: r.LastRefresh, Created: r.Created,
		Started: r.Started, MemoryUsage: r.MemoryUsage, MemoryRequest: r.MemoryRequest, Version: r.Version,
		ContainerImageID: r.ContainerImageID, ContainerID: r.ContainerID}
}

// naturalLess orders names with digit runs compared as numbers (natsort).
func naturalLess(a, b string) int {
	for a != "" && b != "" {
		if isASCIIDigit(a[0]) && isASCIIDigit(b[0]) {
			i, j := digitsLen(a), digitsLen(b)
			na, nb := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitsLen(s string) int {
	i := 0
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	return i
}

func statusName(st *int) string {
	if st == nil {
		return "unknown"
	}
	switch *st {
	case api.StatusError:
		return "error"
	case api.StatusStopped:
		return "stopped"
	case api.StatusRunning:
		return "running"
	case api.StatusStarting:
		return "starting"
	}
	return "unknown"
}

func ukn(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// psRun renders a daemon listing.
func psRun(o *PsOptions, ds []api.DaemonDescription) error {
	w := o.IO.Out
	// Sort an index (the descriptions are large; moving them is slow).
	order := make([]int, len(ds))
	names := make([]string, len(ds))
	for i := range ds {
		order[i], names[i] = i, ds[i].Name()
	}
	slices.SortStableFunc(order, func(a, b int) int { return naturalLess(names[a], names[b]) })
	sorted := make([]api.DaemonDescription, len(ds))
	for i, j := range order {
		sorted[i] = ds[j]
	}
	ds = sorted
	switch o.Format {
	case FormatYAML:
		docs := make([]json.RawMessage, 0, len(ds))
		for _, d := range ds {
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			docs = append(docs, b)
		}
		return writeOrderedYAML(w, docs)
	case FormatJSON:
		// cephadm's to_json key order (not re-sorted: at 10,000 daemons
		// the extra round trip costs more than the listing), encoded
		// without reflection (api.DaemonDescription.AppendJSON).
		b := make([]byte, 0, 512*len(ds)+2)
		b = append(b, '[')
		for i := range ds {
			if i > 0 {
				b = append(b, ',')
			}
			b = ds[i].AppendJSON(b)
		}
		_, err := w.Write(append(b, ']', '\n'))
		return err
	case FormatJSONPretty:
		return writeStructured(w, o.Format, ds)
	}
	if len(ds) == 0 {
		fmt.Fprintln(w, "No daemons reported")
		return nil
	}
	now := o.Now()
	withCID := false
	for _, d := range ds {
		withCID = withCID || d.ContainerID != ""
	}
	header := []string{"NAME", "HOST", "PORTS", "STATUS", "REFRESHED", "AGE", "MEM USE", "MEM LIM", "VERSION", "IMAGE ID"}
	if withCID {
		header = append(header, "CONTAINER ID")
	}
	t := newTable(header...)
	for _, d := range ds {
		status := d.StatusDesc
		if status == "" {
			status = statusName(d.Status)
		}
		if d.Status != nil && *d.Status == api.StatusRunning {
			if started, ok := parseAPITime(d.Started); ok {
				status += " (" + prettyDelta(max(now.Sub(started), 0)) + ")"
			}
		}
		ip := ""
		if d.IP != nil {
			ip = *d.IP
		}
		imageID := ukn(d.ContainerImageID)
		if len(imageID) > 12 {
			imageID = imageID[:12]
		}
		row := []string{d.Name(), ukn(d.Hostname), portSummary(ip, d.Ports, "*"), status,
			niceDelta(now, d.LastRefresh, " ago"), niceDelta(now, d.Created, ""),
			niceBytes(d.MemoryUsage), niceBytes(d.MemoryRequest), ukn(d.Version), imageID}
		if withCID {
			row = append(row, ukn(d.ContainerID))
		}
		t.add(row...)
	}
	return t.write(w)
}
