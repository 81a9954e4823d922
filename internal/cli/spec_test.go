package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", "service_type: mon\nplacement:\n  count: 3\n---\n---\nservice_type: rgw\nservice_id: a\nplacement:\n  label: rgw\nspec:\n  rgw_frontend_port: 8080\n")
	bad := write("bad.yaml", "service_type: mgr\n---\nservice_type: rgw\nservice_id: foo\nplacement:\n  count: 7.36\n")

	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantOut    string // substring of stdout ("" = must be empty when wantCode != 0)
		wantErr    string // exact stderr line
		wantOutEq  string // exact stdout
		checkJSONN int    // number of objects expected in JSON output
	}{
		{name: "json", args: []string{"-i", good, "--format", "json"}, checkJSONN: 2},
		{name: "json-pretty", args: []string{"-i", good, "--format", "json-pretty"}, checkJSONN: 2},
		{name: "yaml", args: []string{"-i", good, "--format", "yaml"},
			wantOutEq: "service_type: mon\nservice_name: mon\nplacement:\n  count: 3\n---\nservice_type: rgw\nservice_id: a\nservice_name: rgw.a\nplacement:\n  label: rgw\nspec:\n  rgw_frontend_port: 8080\n"},
		{name: "plain", args: []string{"-i", good}, wantOutEq: "NAME   PLACEMENT\nmon    count:3\nrgw.a  label:rgw\n"},
		{name: "stdin", args: []string{"-i", "-", "--format", "json"}, stdin: `{"service_type": "crash"}`, checkJSONN: 1},
		{name: "flag form", args: []string{"--service-type", "mds", "--service-id", "fs1", "--placement", "3 label:mds", "--format", "plain"},
			wantOutEq: "NAME     PLACEMENT\nmds.fs1  count:3;label:mds\n"},
		{name: "flag form unmanaged", args: []string{"--service-type", "mgr", "--unmanaged", "--format", "json"}, checkJSONN: 1, wantOut: `"unmanaged":true`},
		{name: "invalid document", args: []string{"-i", bad, "--format", "json"}, wantCode: 22, wantErr: "Error EINVAL: num/count must be an integer value"},
		{name: "invalid placement flag", args: []string{"--service-type", "mgr", "--placement", "label:a label:b"}, wantCode: 22,
			wantErr: "Error EINVAL: more than one label provided: ['label:a', 'label:b']"},
		{name: "service id on mon", args: []string{"--service-type", "mon", "--service-id", "x"}, wantCode: 22,
			wantErr: "Error EINVAL: Service of type 'mon' should not contain a service id"},
		{name: "invalid utf-8", args: []string{"-i", "-"}, stdin: "service_type: \xff\n", wantCode: 22, wantErr: "Error EINVAL: input is not valid UTF-8"},
		{name: "empty input", args: []string{"-i", "-"}, stdin: "", wantCode: 22, wantErr: "Error EINVAL: no service specs found in input"},
		{name: "both forms", args: []string{"-i", good, "--service-type", "mgr"}, wantCode: 22, wantErr: "Error EINVAL: -i and --service-type are mutually exclusive"},
		{name: "neither form", args: nil, wantCode: 22, wantErr: "Error EINVAL: either -i FILE|- or --service-type is required"},
		{name: "bad format", args: []string{"-i", good, "--format", "xml"}, wantCode: 22, wantErr: `Error EINVAL: invalid format "xml": want one of plain, json, json-pretty, yaml`},
		{name: "missing file", args: []string{"-i", filepath.Join(dir, "nope.yaml")}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := TestIO(tt.stdin)
			code := Main(context.Background(), append([]string{"spec", "validate"}, tt.args...), ios)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if tt.wantCode != 0 {
				if out.Len() != 0 {
					t.Errorf("stdout not empty on failure: %q", out)
				}
				lines := strings.Split(strings.TrimRight(errOut.String(), "\n"), "\n")
				if len(lines) != 1 {
					t.Errorf("stderr has %d lines, want 1: %q", len(lines), errOut)
				}
				if tt.wantErr != "" && lines[0] != tt.wantErr {
					t.Errorf("stderr = %q, want %q", lines[0], tt.wantErr)
				}
				return
			}
			if tt.wantOutEq != "" && out.String() != tt.wantOutEq {
				t.Errorf("stdout = %q, want %q", out, tt.wantOutEq)
			}
			if tt.wantOut != "" && !strings.Contains(strings.ReplaceAll(out.String(), " ", ""), tt.wantOut) {
				t.Errorf("stdout %q lacks %q", out, tt.wantOut)
			}
			if tt.checkJSONN > 0 {
				var docs []map[string]any
				if err := json.Unmarshal(out.Bytes(), &docs); err != nil {
					t.Fatalf("stdout is not a JSON array: %v\n%s", err, out)
				}
				if len(docs) != tt.checkJSONN {
					t.Fatalf("got %d docs, want %d", len(docs), tt.checkJSONN)
				}
			}
		})
	}
}

// TestSpecValidateYAMLRevalidates feeds the yaml output back in and
// checks that the JSON is unchanged.
func TestSpecValidateYAMLRevalidates(t *testing.T) {
	in := "service_type: osd\nservice_id: fast\nplacement:\n  host_pattern: 'osd*'\ndata_devices:\n  rotational: 0\n  limit: 2\nencrypted: true\n"
	run := func(stdin, format string) string {
		ios, out, errOut := TestIO(stdin)
		if code := Main(context.Background(), []string{"spec", "validate", "-i", "-", "--format", format}, ios); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return out.String()
	}
	first := run(in, "json")
	again := run(run(in, "yaml"), "json")
	if first != again {
		t.Fatalf("json changed after a yaml round trip:\n%s\n%s", first, again)
	}
}
