package cli

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/orchceph/orch/spec"
)

func init() { extraCommands = append(extraCommands, NewCmdSpec) }

// NewCmdSpec is the `orch spec` command group.
func NewCmdSpec(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "Work with service specs offline",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdSpecValidate(f, nil))
	return cmd
}

// SpecValidateOptions are the inputs of `orch spec validate`.
type SpecValidateOptions struct {
	IO *IOStreams

	// File is the -i argument ("-" for stdin); empty for the flag form.
	File string

	ServiceType string
	ServiceID   string
	Placement   string
	Unmanaged   bool

	Format string
}

// NewCmdSpecValidate builds `orch spec validate`; runF replaces the run
// function in tests.
func NewCmdSpecValidate(f *Factory, runF func(*SpecValidateOptions) error) *cobra.Command {
	opts := &SpecValidateOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate (-i FILE|- | --service-type TYPE [--service-id ID] [--placement STRING] [--unmanaged])",
		Short: "Parse and validate service specs as cephadm does and print them canonically",
		Long: "Reads YAML or JSON service specs (multi-document streams, both cephadm spec styles,\n" +
			"`service_type: host` documents) or builds one spec from flags, validates them with\n" +
			"cephadm's rules and messages, and prints them in cephadm's canonical form.\n" +
			"The first invalid document fails the command (exit 22) and nothing is printed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fileSet := cmd.Flags().Changed("input")
			typeSet := cmd.Flags().Changed("service-type")
			switch {
			case fileSet && typeSet:
				return usagef("-i and --service-type are mutually exclusive")
			case !fileSet && !typeSet:
				return usagef("either -i FILE|- or --service-type is required")
			case fileSet && opts.File == "":
				return usagef("-i needs a file name or -")
			case !fileSet && (cmd.Flags().Changed("service-id") || cmd.Flags().Changed("placement") || cmd.Flags().Changed("unmanaged")) && !typeSet:
				return usagef("--service-id, --placement and --unmanaged need --service-type")
			case typeSet && opts.ServiceType == "":
				return usagef("--service-type must not be empty")
			}
			if runF != nil {
				return runF(opts)
			}
			return specValidateRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "input", "i", "", "spec file to read (YAML or JSON), - for stdin")
	cmd.Flags().StringVar(&opts.ServiceType, "service-type", "", "service type (flag form)")
	cmd.Flags().StringVar(&opts.ServiceID, "service-id", "", "service id (flag form)")
	cmd.Flags().StringVar(&opts.Placement, "placement", "", "placement string, cephadm's PlacementSpec.from_string grammar (flag form)")
	cmd.Flags().BoolVar(&opts.Unmanaged, "unmanaged", false, "mark the service unmanaged (flag form)")
	addFormatFlag(cmd, &opts.Format)
	return cmd
}

// readSpecInput reads -i FILE|- with spec.MaxInputSize as the bound.
func readSpecInput(ios *IOStreams, name string) ([]byte, error) {
	return readInputFile(ios, name, "input", spec.MaxInputSize)
}

func specValidateRun(opts *SpecValidateOptions) error {
	var docs []spec.Document
	if opts.File != "" {
		data, err := readSpecInput(opts.IO, opts.File)
		if err != nil {
			return err
		}
		if docs, err = spec.LoadDocuments(data); err != nil {
			return err
		}
	} else {
		p, err := spec.ParsePlacement(opts.Placement)
		if err != nil {
			return err
		}
		s, err := spec.NewServiceSpec(opts.ServiceType, opts.ServiceID, p, opts.Unmanaged)
		if err != nil {
			return err
		}
		docs = []spec.Document{{Service: s}}
	}
	var buf bytes.Buffer
	if err := writeSpecDocuments(&buf, opts.Format, docs); err != nil {
		return err
	}
	_, err := opts.IO.Out.Write(buf.Bytes())
	return err
}

// writeSpecDocuments renders validated documents in one of the output
// formats; yaml is PyYAML's dump of cephadm's to_json, as `orch ls
// --export` writes it.
func writeSpecDocuments(w io.Writer, format string, docs []spec.Document) error {
	switch format {
	case FormatYAML:
		vals := make([]any, len(docs))
		for i, d := range docs {
			vals[i] = d.ToJSON()
		}
		_, err := io.WriteString(w, spec.DumpYAML(vals...))
		return err
	case FormatJSON, FormatJSONPretty:
		vals := make([]any, len(docs))
		for i, d := range docs {
			vals[i] = d.ToJSON()
		}
		return writeStructured(w, format, vals)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPLACEMENT")
	for _, d := range docs {
		placement := ""
		if d.Service != nil {
			placement = d.Service.Placement.PrettyStr()
		}
		fmt.Fprintf(tw, "%s\t%s\n", d.Name(), placement)
	}
	return tw.Flush()
}
