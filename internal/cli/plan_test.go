package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	specs := write("specs.yaml", "service_type: mgr\nplacement:\n  count: 2\n---\nservice_type: nfs\nservice_id: foo\nplacement:\n  count: 1\n")
	snap := write("snap.json", `{"hosts": [{"hostname": "node1", "labels": [], "status": ""},
	                                      {"hostname": "node2", "labels": ["_no_schedule"], "status": ""}],
	                           "daemons": [{"daemon_type": "mgr", "daemon_id": "node2.x", "hostname": "node2"}]}`)
	badSnap := write("bad.json", `{"hosts": [{"hostname": "a"}, {"hostname": "a"}]}`)
	noLabel := write("nolabel.yaml", "service_type: mgr\nplacement:\n  label: nope\n")

	for _, tt := range []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantErr  string // substring of stderr
		check    func(t *testing.T, stdout string)
	}{
		{name: "json", args: []string{"-i", specs, "--snapshot", snap, "--format", "json"}, check: func(t *testing.T, out string) {
			var doc struct {
				Services []struct {
					ServiceName string            `json:"service_name"`
					ToAdd       []json.RawMessage `json:"to_add"`
					ToRemove    []string          `json:"to_remove"`
					RankMap     json.RawMessage   `json:"rank_map"`
				} `json:"services"`
				OSDs []json.RawMessage `json:"osds"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if len(doc.Services) != 2 || doc.Services[0].ServiceName != "mgr" || doc.Services[1].ServiceName != "nfs.foo" || doc.OSDs == nil {
				t.Fatalf("document = %s", out)
			}
			if len(doc.Services[0].ToAdd) != 1 || strings.Join(doc.Services[0].ToRemove, ",") != "mgr.node2.x" {
				t.Errorf("mgr = %+v", doc.Services[0])
			}
			if string(doc.Services[1].RankMap) != `{"0":{"0":null}}` {
				t.Errorf("nfs rank_map = %s", doc.Services[1].RankMap)
			}
		}},
		{name: "plain", args: []string{"-i", specs, "--snapshot", snap}, check: func(t *testing.T, out string) {
			for _, s := range []string{"SERVICESPEC PREVIEWS", "|SERVICE  |NAME     |ADD_TO  |REMOVE_FROM  |", "|mgr      |mgr      |node1   |mgr.node2.x  |", "OSDSPEC PREVIEWS"} {
				if !strings.Contains(out, s) {
					t.Errorf("plain output lacks %q:\n%s", s, out)
				}
			}
		}},
		{name: "yaml", args: []string{"-i", specs, "--snapshot", snap, "--format", "yaml"}, check: func(t *testing.T, out string) {
			if !strings.Contains(out, "service_name: mgr") || !strings.Contains(out, "rank_map: null") {
				t.Errorf("yaml output:\n%s", out)
			}
		}},
		{name: "explain", args: []string{"-i", specs, "--snapshot", snap, "--format", "json", "--explain"}, check: func(t *testing.T, out string) {
			if !strings.Contains(out, `"rejected":[{"host":"node2","reason":"host is draining (_no_schedule)"}]`) {
				t.Errorf("explain output: %s", out)
			}
		}},
		{name: "specs on stdin", args: []string{"-i", "-", "--snapshot", snap, "--format", "json"}, stdin: `{"service_type": "crash"}`,
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, `"service_name":"crash"`) {
					t.Errorf("output: %s", out)
				}
			}},
		{name: "no controller", args: []string{"-i", specs}, wantCode: 107, wantErr: "Error ENOTCONN: orch plan without --snapshot plans against the live cluster state, which needs a running controller (`orch serve`)"},
		{name: "unplaceable spec", args: []string{"-i", noLabel, "--snapshot", snap}, wantCode: 22,
			wantErr: "Error EINVAL: Cannot place <ServiceSpec for service_name=mgr>: No matching hosts for label nope"},
		{name: "invalid snapshot", args: []string{"-i", specs, "--snapshot", badSnap}, wantCode: 22, wantErr: "Error EINVAL: " + badSnap + ": invalid snapshot: hosts[1]: host a is listed twice"},
		{name: "missing snapshot", args: []string{"-i", specs, "--snapshot", filepath.Join(dir, "nope.json")}, wantCode: 2, wantErr: "Error ENOENT"},
		{name: "missing -i", args: []string{"--snapshot", snap}, wantCode: 22, wantErr: "Error EINVAL: -i FILE|- is required"},
		{name: "both on stdin", args: []string{"-i", "-", "--snapshot", "-"}, wantCode: 22, wantErr: "cannot both read stdin"},
		{name: "bad max count", args: []string{"-i", specs, "--snapshot", snap, "--max-count-per-host", "0"}, wantCode: 22, wantErr: "at least 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := TestIO(tt.stdin)
			code := Main(context.Background(), append([]string{"plan"}, tt.args...), ios)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut)
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErr)
			}
			if code != 0 && out.Len() != 0 {
				t.Errorf("stdout not empty on failure: %s", out)
			}
			if tt.check != nil {
				tt.check(t, out.String())
			}
		})
	}
}
