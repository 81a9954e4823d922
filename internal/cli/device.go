package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/inventory"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdDevice) }

// NewCmdDevice is `orch device ...`: the device inventory and disk LEDs.
func NewCmdDevice(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "device", Short: "List devices and control their LEDs"}
	cmd.AddCommand(newCmdDeviceLs(f), newCmdDeviceLight(f), newCmdDeviceZap(f))
	return cmd
}

// DeviceLsOptions are the inputs of `orch device ls`.
type DeviceLsOptions struct {
	Hosts   []string
	Format  string
	Refresh bool
	Wide    bool
	// Now is the time REFRESHED is measured from; nil means time.Now.
	Now func() time.Time
}

func newCmdDeviceLs(f *Factory) *cobra.Command {
	opts := &DeviceLsOptions{}
	cmd := &cobra.Command{
		Use:   "ls [HOST...]",
		Short: "List the devices of hosts (all hosts by default), as ceph-volume reports them",
		Long: `List devices from the controller's cache. --refresh asks for a new inventory
of the hosts' devices in the background and shows the cached one at once, as
ceph orch does.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Hosts = args
			return deviceLsRun(cmd, f, opts)
		},
	}
	addFormatFlag(cmd, &opts.Format)
	cmd.Flags().BoolVar(&opts.Refresh, "refresh", false, "refresh the inventory in the background")
	cmd.Flags().BoolVar(&opts.Wide, "wide", false, "also show transport, RPM, health and LED states")
	return cmd
}

func deviceLsRun(cmd *cobra.Command, f *Factory, o *DeviceLsOptions) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	inv, err := c.Inventory(cmd.Context(), o.Hosts, o.Refresh)
	if err != nil {
		return err
	}
	if o.Format != FormatPlain {
		return writeSorted(f.IO.Out, o.Format, inv)
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	return writeDeviceTable(f.IO.Out, inv, o.Wide, now)
}

// writeDeviceTable prints cephadm's `orch device ls` table: hosts by name,
// devices by path, SIZE right-aligned.
func writeDeviceTable(w io.Writer, inv []inventory.InventoryHost, wide bool, now time.Time) error {
	header := []string{"HOST", "PATH", "TYPE", "DEVICE ID", "SIZE", "AVAILABLE", "REFRESHED", "REJECT REASONS"}
	if wide {
		header = []string{"HOST", "PATH", "TYPE", "TRANSPORT", "RPM", "DEVICE ID", "SIZE", "HEALTH", "IDENT", "FAULT", "AVAILABLE", "REFRESHED", "REJECT REASONS"}
	}
	t := &alignedTable{header: header, right: map[string]bool{"SIZE": true}}
	hosts := append([]inventory.InventoryHost(nil), inv...)
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	for _, h := range hosts {
		devs := append([]inventory.Device(nil), h.Devices...)
		inventory.SortByPath(devs)
		for _, d := range devs {
			size, _ := d.SysAPI.Get("size")
			available := ""
			if d.Available {
				available = "Yes"
			}
			ident, fault := "N/A", "N/A"
			if v, ok := d.LSMData.Get("ledSupport"); ok {
				if led, ok := v.(inventory.Object); ok && len(led) > 0 {
					ident, fault = ledDisplay(led, "IDENTstatus"), ledDisplay(led, "FAILstatus")
				}
			}
			refreshed := "-"
			if ts, err := time.Parse("2006-01-02T15:04:05.000000Z", d.Created); err == nil && d.Created != "" {
				refreshed = prettyDelta(now.Sub(ts)) + " ago"
			}
			reasons := strings.Join(d.RejectedReasons, ", ")
			if wide {
				t.add(h.Name, d.Path, d.HumanReadableType(), lsmString(d.LSMData, "transport"), lsmString(d.LSMData, "rpm"),
					d.DeviceID, formatDimless(toFloat(size), 5), lsmString(d.LSMData, "health"), ident, fault, available, refreshed, reasons)
			} else {
				t.add(h.Name, d.Path, d.HumanReadableType(), d.DeviceID, formatDimless(toFloat(size), 5), available, refreshed, reasons)
			}
		}
	}
	return t.write(w)
}

// ledDisplay is cephadm's display_map for LED states.
func ledDisplay(led inventory.Object, key string) string {
	v := lsmString(led, key)
	switch v {
	case "Unsupported", "N/A":
		return "N/A"
	}
	return v
}

// lsmString renders a scalar of an lsm_data object ("" when absent).
func lsmString(o inventory.Object, key string) string {
	v, ok := o.Get(key)
	if !ok || v == nil {
		return ""
	}
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func toFloat(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case json.Number:
		f, _ := t.Float64()
		return f
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case string:
		f, _ := strconv.ParseFloat(t, 64)
		return f
	}
	return 0
}

// formatDimless is mgr_util.format_dimless(n, width): n in at most width
// characters with a decimal unit suffix (k, M, G, T, P, E), e.g. 10.7G.
func formatDimless(n float64, width int) string {
	units := []string{" ", "k", "M", "G", "T", "P", "E"}
	unit := 0
	pow := func(u int) float64 {
		p := 1.0
		for range u {
			p *= 1000
		}
		return p
	}
	for unit < len(units)-1 && len(strconv.FormatInt(int64(n)/int64(pow(unit)), 10)) > width-1 {
		unit++
	}
	var s string
	if unit > 0 {
		s = strconv.FormatFloat(n/pow(unit), 'f', 6, 64)
		if len(s) > width-1 {
			s = s[:width-1]
		}
		if strings.HasSuffix(s, ".") {
			s = " " + s[:len(s)-1]
		}
	} else {
		s = fmt.Sprintf("%*d", width-1, int64(n))
	}
	return s + units[unit]
}

// prettyDelta is mgr_util.to_pretty_timedelta: 45s, 12m, 5h, 3d, 6w, 4M, 2y.
func prettyDelta(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case d < 120*time.Second:
		return strconv.FormatInt(s, 10) + "s"
	case d < 120*time.Minute:
		return strconv.FormatInt(s/60, 10) + "m"
	case d < 48*time.Hour:
		return strconv.FormatInt(s/3600, 10) + "h"
	case d < 14*24*time.Hour:
		return strconv.FormatInt(s/(3600*24), 10) + "d"
	case d < 7*12*24*time.Hour:
		return strconv.FormatInt(s/(3600*24*7), 10) + "w"
	case d < 365*2*24*time.Hour:
		return strconv.FormatInt(s/(3600*24*30), 10) + "M"
	}
	return strconv.FormatInt(s/(3600*24*365), 10) + "y"
}

// alignedTable is table (table.go) with per-column alignment, for the
// listings where ceph orch right-aligns a column (SIZE).
type alignedTable struct {
	header []string
	right  map[string]bool
	rows   [][]string
}

func (t *alignedTable) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *alignedTable) write(w io.Writer) error {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = len([]rune(h))
	}
	for _, r := range t.rows {
		for i := range widths {
			if i < len(r) && len([]rune(r[i])) > widths[i] {
				widths[i] = len([]rune(r[i]))
			}
		}
	}
	var b bytes.Buffer
	line := func(cells []string) {
		var l strings.Builder
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", widths[i]-len([]rune(c)))
			if t.right[t.header[i]] {
				l.WriteString(pad + c)
			} else {
				l.WriteString(c + pad)
			}
			l.WriteString("  ")
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeSorted writes v as ceph orch does for json, json-pretty and yaml:
// object keys sorted (Python's sort_keys), numbers as written, lists in
// yaml as a multi-document stream.
func writeSorted(w io.Writer, format string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	if format == FormatYAML {
		doc = yamlNumbers(doc)
	}
	return writeStructured(w, format, doc)
}

// yamlNumbers turns json.Numbers into ints or floats, which yaml prints as
// numbers (a json.Number would be a quoted string).
func yamlNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = yamlNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = yamlNumbers(e)
		}
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// DeviceLightOptions are the inputs of `orch device light`.
type DeviceLightOptions struct {
	On         bool
	Host, Path string
	IdentFault string
}

func newCmdDeviceLight(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "light on|off HOST DEVICE [ident|fault]",
		Short: "Turn a disk's identification (default) or fault LED on or off",
		Args:  cobra.RangeArgs(3, 4),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := &DeviceLightOptions{Host: args[1], Path: args[2], IdentFault: "ident"}
			switch args[0] {
			case "on":
				o.On = true
			case "off":
			default:
				return usagef("light: first argument must be on or off, not %q", args[0])
			}
			if len(args) == 4 {
				if args[3] != "ident" && args[3] != "fault" {
					return usagef("light: the light must be ident or fault, not %q", args[3])
				}
				o.IdentFault = args[3]
			}
			return printMessage(cmd, f, func(c *api.Client) (api.Message, error) {
				return c.DeviceLight(cmd.Context(), api.LightRequest{On: o.On, IdentFault: o.IdentFault, Host: o.Host, Path: o.Path})
			})
		},
	}
}

// newCmdDeviceZap is `orch device zap HOST PATH --force` (cephadm's
// zap_device): without --force it is refused before any request.
func newCmdDeviceZap(f *Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "zap HOST PATH",
		Short: "Wipe a device with ceph-volume so that it can hold a new OSD (DATA ERASED)",
		Long: `Wipe a device of a host with "ceph-volume lvm zap --destroy", in the
cluster image on that host, as "ceph orch device zap" does. A device that
holds an OSD with a daemon is refused: remove the OSD first (orch osd rm).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				return usagef("must pass --force to PERMANENTLY ERASE DEVICE DATA")
			}
			return printMessage(cmd, f, func(c *api.Client) (api.Message, error) {
				return c.ZapDevice(cmd.Context(), api.ZapRequest{Host: args[0], Path: args[1], Force: true})
			})
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "really erase the device")
	return cmd
}
