package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdOSD) }

// NewCmdOSD is `orch osd ...`: the OSD removal queue.
func NewCmdOSD(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "osd", Short: "Remove and replace OSDs"}
	cmd.AddCommand(newCmdOSDRm(f))
	return cmd
}

// OSDRmOptions are the inputs of `orch osd rm`.
type OSDRmOptions struct {
	IDs                            []int
	Replace, Force, Zap, NoDestroy bool
}

func newCmdOSDRm(f *Factory) *cobra.Command {
	opts := &OSDRmOptions{}
	cmd := &cobra.Command{
		Use:   "rm ID...",
		Short: "Drain OSDs and remove them (ids as 3 or osd.3)",
		Long: `Queue OSDs for removal, as "ceph orch osd rm" does. The controller drains
each OSD (CRUSH weight 0), waits until it holds no PG (unless --force) and
"ceph osd safe-to-destroy" agrees, then stops and removes its daemon and
purges it, or with --replace marks it destroyed so that the next OSD on
that host reuses its id. --zap also wipes the OSD's devices. Follow the
queue with "orch osd rm status"; "orch osd rm stop" cancels.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseOSDIDs(args)
			if err != nil {
				return err
			}
			opts.IDs = ids
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.RemoveOSDs(cmd.Context(), api.OSDRemoveRequest{OSDIDs: opts.IDs, Replace: opts.Replace,
				Force: opts.Force, Zap: opts.Zap, NoDestroy: opts.NoDestroy})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IO.Out, m.Message)
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "keep the OSD id (destroyed) for a replacement disk")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "do not wait for the OSD to be drained")
	cmd.Flags().BoolVar(&opts.Zap, "zap", false, "wipe the OSD's devices (DATA ERASED)")
	cmd.Flags().BoolVar(&opts.NoDestroy, "no-destroy", false, "with --zap, do not destroy volume groups and logical volumes")
	cmd.AddCommand(newCmdOSDRmStatus(f), newCmdOSDRmStop(f))
	return cmd
}

func newCmdOSDRmStop(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "stop ID...",
		Short: "Stop removing OSDs: restore their weight and take them off the queue",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseOSDIDs(args)
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			m, err := c.StopRemoveOSDs(cmd.Context(), ids)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(f.IO.Out, m.Message)
			return err
		},
	}
}

func newCmdOSDRmStatus(f *Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the OSD removal queue",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			q, err := c.OSDRemovals(cmd.Context())
			if err != nil {
				return err
			}
			if format != FormatPlain {
				if q == nil {
					q = []api.OSDRemoval{}
				}
				return writeStructured(f.IO.Out, format, q)
			}
			return writeOSDRmStatus(f.IO.Out, q)
		},
	}
	addFormatFlag(cmd, &format)
	return cmd
}

// writeOSDRmStatus prints cephadm's `orch osd rm status` table.
func writeOSDRmStatus(w io.Writer, q []api.OSDRemoval) error {
	if len(q) == 0 {
		_, err := fmt.Fprintln(w, "No OSD remove/replace operations reported")
		return err
	}
	t := newTable("OSD", "HOST", "STATE", "PGS", "REPLACE", "FORCE", "ZAP", "DRAIN STARTED AT")
	for i := range q {
		o := &q[i]
		pgs := "n/a"
		if o.PGCount != nil && *o.PGCount >= 0 {
			pgs = strconv.Itoa(*o.PGCount)
		}
		started := "None"
		if o.DrainStartedAt != nil {
			started = *o.DrainStartedAt
			if ts, err := time.Parse(api.TimeFormat, started); err == nil {
				// cephadm prints the datetime object: "2024-01-02 03:04:05.123456".
				started = ts.UTC().Format("2006-01-02 15:04:05.000000")
			}
		}
		t.add(strconv.Itoa(o.OSDID), o.Hostname, o.DrainStatus(), pgs, pyBool(o.Replace), pyBool(o.Force), pyBool(o.Zap), started)
	}
	return t.write(w)
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// parseOSDIDs reads OSD ids as "3" or "osd.3".
func parseOSDIDs(args []string) ([]int, error) {
	ids := make([]int, 0, len(args))
	for _, a := range args {
		s := strings.TrimPrefix(a, "osd.")
		id, err := strconv.Atoi(s)
		if err != nil || id < 0 || s == "" || s[0] == '+' || s[0] == '-' {
			return nil, usagef("Invalid OSD id %q: expected a number", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
