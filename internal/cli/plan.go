package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/plan"
	"github.com/orchceph/orch/spec"
)

func init() { extraCommands = append(extraCommands, NewCmdPlan) }

// PlanOptions are the inputs of `orch plan`.
type PlanOptions struct {
	IO *IOStreams

	// File is the -i argument ("-" for stdin).
	File string
	// Snapshot is the --snapshot file; empty means the live cluster.
	Snapshot string
	Format   string
	Explain  bool
	// MaxCountPerHost is cephadm's max_count_per_host option.
	MaxCountPerHost int
	// Client reaches the controller for plans without --snapshot.
	Client func() (*api.Client, error)
}

// NewCmdPlan builds `orch plan`; runF replaces the run function in tests.
func NewCmdPlan(f *Factory) *cobra.Command { return newCmdPlan(f, nil) }

func newCmdPlan(f *Factory, runF func(*PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{IO: f.IO, Client: f.Client}
	cmd := &cobra.Command{
		Use:   "plan -i FILE|- [--snapshot SNAPSHOT.json]",
		Short: "Show what applying service specs would do, without doing it",
		Long: "Places every spec of FILE as the controller would (cephadm's scheduler, defaults and\n" +
			"checks) and prints, per service, the daemon slots it should have, the daemons to add and\n" +
			"the daemons to remove, and per OSD spec and host the devices the drive group takes.\n" +
			"With --snapshot the cluster state comes from a file (hosts, daemons, inventory,\n" +
			"networks, rank_maps, specs, as `orch export --format json` writes it) and no\n" +
			"controller is needed. --explain lists every host a service does not use, and why.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.File == "" {
				return usagef("-i FILE|- is required")
			}
			if opts.File == "-" && opts.Snapshot == "-" {
				return usagef("-i and --snapshot cannot both read stdin")
			}
			if opts.MaxCountPerHost < 1 {
				return usagef("--max-count-per-host must be at least 1")
			}
			if runF != nil {
				return runF(opts)
			}
			return planRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "input", "i", "", "spec file to plan (YAML or JSON), - for stdin")
	cmd.Flags().StringVar(&opts.Snapshot, "snapshot", "", "plan against this cluster snapshot (JSON) instead of the live cluster")
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "list each host a service does not use, with the reason")
	cmd.Flags().IntVar(&opts.MaxCountPerHost, "max-count-per-host", plan.DefaultMaxCountPerHost,
		"cephadm's mgr/cephadm/max_count_per_host: the most daemons of one service per host")
	addFormatFlag(cmd, &opts.Format)
	return cmd
}

// errnoError gives an error the errno the CLI reports.
type errnoError struct {
	errno syscall.Errno
	err   error
}

func (e *errnoError) Error() string        { return e.err.Error() }
func (e *errnoError) Unwrap() error        { return e.err }
func (e *errnoError) Errno() syscall.Errno { return e.errno }

// errNeedsController explains why a plan without --snapshot cannot run.
var errNeedsController = errors.New("orch plan without --snapshot plans against the live cluster state, " +
	"which needs a running controller (`orch serve`); pass --snapshot FILE to plan offline")

func planRun(opts *PlanOptions) error {
	if opts.Snapshot == "" {
		return planWithController(opts)
	}
	data, err := readSpecInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	docs, err := spec.LoadDocuments(data)
	if err != nil {
		return err
	}
	snap, err := readSnapshotFile(opts.IO, opts.Snapshot)
	if err != nil {
		return err
	}
	res, err := plan.Compute(docs, snap, plan.Options{MaxCountPerHost: opts.MaxCountPerHost, Explain: opts.Explain})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch opts.Format {
	case FormatPlain:
		err = res.WritePlain(&buf, opts.Explain)
	case FormatYAML:
		err = writePlanYAML(&buf, res.JSON())
	default:
		err = writeStructured(&buf, opts.Format, res.JSON())
	}
	if err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(buf.Bytes())
	return err
}

// writePlanYAML writes the JSON document as YAML (through JSON, so that
// the field names and null rank maps are the same).
func writePlanYAML(w io.Writer, v plan.ResultJSON) error {
	j, err := jsonBytes(v)
	if err != nil {
		return err
	}
	var doc any
	if err := yaml.Unmarshal(j, &doc); err != nil {
		return err
	}
	return writeStructured(w, FormatYAML, doc)
}

func jsonBytes(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeStructured(&buf, FormatJSON, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readSnapshotFile(ios *IOStreams, name string) (*plan.Snapshot, error) {
	var r io.Reader
	if name == "-" {
		r = ios.In
	} else {
		f, err := os.Open(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: cannot open snapshot file %s", ErrNotFound, name)
			}
			return nil, fmt.Errorf("cannot open snapshot file %s: %w", name, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, plan.MaxSnapshotSize+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	snap, err := plan.ReadSnapshot(data)
	if errors.Is(err, plan.ErrInvalidSnapshot) {
		return nil, &errnoError{errno: syscall.EINVAL, err: fmt.Errorf("%s: %w", name, err)}
	}
	return snap, err
}

// planWithController plans against the live cluster: the controller's
// POST /plan, which places exactly as `orch plan --snapshot` of `orch
// export` would.
func planWithController(opts *PlanOptions) error {
	data, err := readSpecInput(opts.IO, opts.File)
	if err != nil {
		return err
	}
	docs, err := spec.LoadDocuments(data)
	if err != nil {
		return err
	}
	specs := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		b, err := d.ToJSON().MarshalJSON()
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		specs = append(specs, m)
	}
	if opts.Client == nil {
		return &errnoError{errno: syscall.ENOTCONN, err: errNeedsController}
	}
	c, err := opts.Client()
	if err != nil {
		return err
	}
	err = planLive(context.Background(), c, opts.IO.Out, specs, opts.Format, opts.Explain)
	if errors.Is(err, api.ErrNoController) {
		return &errnoError{errno: syscall.ENOTCONN, err: fmt.Errorf("%w: %w", errNeedsController, err)}
	}
	return err
}
