package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/orchceph/orch/api"
)

func TestParseOSDIDs(t *testing.T) {
	tests := []struct {
		in   []string
		want []int
		bad  bool
	}{
		{in: []string{"3"}, want: []int{3}},
		{in: []string{"osd.3", "0", "osd.12"}, want: []int{3, 0, 12}},
		{in: []string{"osd."}, bad: true},
		{in: []string{"three"}, bad: true},
		{in: []string{"-1"}, bad: true},
		{in: []string{"+1"}, bad: true},
		{in: []string{"3", "mon.a"}, bad: true},
		{in: []string{"osd.3.1"}, bad: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, " "), func(t *testing.T) {
			got, err := parseOSDIDs(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("parseOSDIDs(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("parseOSDIDs(%q) = %v, %v", tt.in, got, err)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("parseOSDIDs(%q) = %v, want %v", tt.in, got, tt.want)
				}
			}
		})
	}
}

// TestOSDCommandsRefuseBadArgsBeforeAnyRequest: bad ids and a zap without
// --force are one "Error EINVAL" line, with no controller to talk to
// (--socket points nowhere).
func TestOSDCommandsRefuseBadArgsBeforeAnyRequest(t *testing.T) {
	sock := t.TempDir() + "/none.sock"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"osd", "rm", "x"}, `Error EINVAL: Invalid OSD id "x": expected a number`},
		{[]string{"osd", "rm", "1", "osd.y", "--zap"}, `Error EINVAL: Invalid OSD id "osd.y": expected a number`},
		{[]string{"osd", "rm", "stop", "mon.a"}, `Error EINVAL: Invalid OSD id "mon.a": expected a number`},
		{[]string{"osd", "rm"}, "Error EINVAL: "},
		{[]string{"osd", "rm", "status", "--format", "xml"}, `Error EINVAL: invalid format "xml"`},
		{[]string{"device", "zap", "h1", "/dev/sdb"}, "Error EINVAL: must pass --force to PERMANENTLY ERASE DEVICE DATA"},
		{[]string{"device", "zap", "h1"}, "Error EINVAL: "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, out, errOut := TestIO("")
			code := Main(context.Background(), append(tt.args, "--socket", sock), ios)
			if code != 22 || out.Len() != 0 || !strings.HasPrefix(errOut.String(), tt.want) || strings.Count(errOut.String(), "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 22 and %q", code, out, errOut, tt.want)
			}
		})
	}
}

func TestWriteOSDRmStatus(t *testing.T) {
	pg, w := 12, 0.0195
	started := "2024-05-06T07:08:09.123456Z"
	tests := []struct {
		name string
		q    []api.OSDRemoval
		want []string
	}{
		{name: "empty", want: []string{"No OSD remove/replace operations reported"}},
		{name: "entries", q: []api.OSDRemoval{
			{OSDID: 3, Hostname: "h1", Started: true, Draining: true, PGCount: &pg, OriginalWeight: &w, DrainStartedAt: &started, Zap: true},
			{OSDID: 10, Hostname: "h2", Replace: true, Force: true},
		}, want: []string{
			"OSD  HOST  STATE        PGS  REPLACE  FORCE  ZAP    DRAIN STARTED AT",
			"3    h1    draining     12   False    False  True   2024-05-06 07:08:09.123456",
			"10   h2    not started  n/a  True     True   False  None",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeOSDRmStatus(&b, tt.q); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", b.String(), strings.Join(tt.want, "\n"))
			}
		})
	}
}
