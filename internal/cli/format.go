package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

// Output formats of `ceph orch` commands.
const (
	FormatPlain      = "plain"
	FormatJSON       = "json"
	FormatJSONPretty = "json-pretty"
	FormatYAML       = "yaml"
)

// addFormatFlag registers --format with the given allowed values; the first
// is the default.
func addFormatFlag(cmd *cobra.Command, dst *string, allowed ...string) {
	if len(allowed) == 0 {
		allowed = []string{FormatPlain, FormatJSON, FormatJSONPretty, FormatYAML}
	}
	cmd.Flags().StringVar(dst, "format", allowed[0], "output format ("+strings.Join(allowed, ", ")+")")
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return allowed, cobra.ShellCompDirectiveNoFileComp
	})
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(*cobra.Command, []string) error {
		for _, a := range allowed {
			if *dst == a {
				return nil
			}
		}
		return usagef("invalid format %q: want one of %s", *dst, strings.Join(allowed, ", "))
	})
}

func chainPreRun(a, b func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	if a == nil {
		return b
	}
	return func(c *cobra.Command, args []string) error {
		if err := a(c, args); err != nil {
			return err
		}
		return b(c, args)
	}
}

// writeStructured writes v as json, json-pretty or yaml. A slice given in
// yaml is written as a multi-document stream, as ceph orch does.
func writeStructured(w io.Writer, format string, v any) error {
	switch format {
	case FormatJSON, FormatJSONPretty:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if format == FormatJSONPretty {
			enc.SetIndent("", "  ")
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(buf.Bytes())
		return err
	case FormatYAML:
		return writeYAMLDocs(w, v)
	}
	return fmt.Errorf("writeStructured: unsupported format %q", format)
}

// writeYAMLDocs writes a []any-like value as documents separated by "---".
func writeYAMLDocs(w io.Writer, v any) error {
	docs, ok := v.([]any)
	if !ok {
		docs = []any{v}
	}
	for i, d := range docs {
		if i > 0 {
			if _, err := io.WriteString(w, "---\n"); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}
