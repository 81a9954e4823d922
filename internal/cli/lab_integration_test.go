//go:build integration

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLabCommands drives `orch lab` end to end: up, status, exec,
// add-disks, a second up refused, down twice.
func TestLabCommands(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("orch lab needs root")
	}
	dir, err := os.MkdirTemp("/var/tmp", "orch-lab-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	prefix := fmt.Sprintf("c%x", time.Now().UnixNano()&0xffffff)
	lab := func(args ...string) (int, string, string) {
		ios, out, errOut := TestIO("")
		code := Main(context.Background(), append([]string{"lab", "--prefix", prefix, "--state", dir}, args...), ios)
		return code, out.String(), errOut.String()
	}
	t.Cleanup(func() { lab("down") })

	code, out, errOut := lab("up", "2", "--disks", "1", "--disk-size", "16M")
	if code != 0 {
		t.Fatalf("up: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "h1 10.77.") || !strings.HasPrefix(lines[1], "h2 10.77.") {
		t.Fatalf("up printed %q", out)
	}
	if code, _, errOut = lab("up", "1"); code != 17 || !strings.Contains(errOut, "Error EEXIST") {
		t.Fatalf("second up: exit %d %q, want EEXIST", code, errOut)
	}

	code, out, errOut = lab("status", "--format", "json")
	if code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	var st labSummaryJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Prefix != prefix || len(st.Hosts) != 2 || !st.Hosts[1].Running || st.Hosts[1].SSHD != "running" || len(st.Hosts[0].Disks) != 1 {
		t.Fatalf("status = %+v", st)
	}
	if code, out, _ = lab("status"); code != 0 || !strings.Contains(out, "HOST") || !strings.Contains(out, "running") {
		t.Fatalf("plain status: %d %q", code, out)
	}

	if code, out, errOut = lab("exec", "h2", "--", "cat", "/etc/hostname"); code != 0 || strings.TrimSpace(out) != "h2" {
		t.Fatalf("exec: %d %q %q", code, out, errOut)
	}
	if code, _, _ = lab("exec", "h2", "--", "false"); code != 1 {
		t.Fatalf("exec false: exit %d, want 1", code)
	}
	if code, _, errOut = lab("exec", "h7", "--", "true"); code != 2 || !strings.Contains(errOut, "ENOENT") {
		t.Fatalf("exec on h7: %d %q", code, errOut)
	}

	if code, out, errOut = lab("add-disks", "h1", "1", "16M"); code != 0 || !strings.HasPrefix(out, "/dev/loop") {
		t.Fatalf("add-disks: %d %q %q", code, out, errOut)
	}
	if code, out, _ = lab("exec", "h1", "--", "lsblk", "-d", "-n", "-o", "NAME"); code != 0 || len(strings.Fields(out)) != 2 {
		t.Fatalf("h1 disks after add: %q", out)
	}

	if code, _, errOut = lab("down"); code != 0 {
		t.Fatalf("down: %d %s", code, errOut)
	}
	if _, err := os.Stat("/run/netns/" + prefix + "-ctl"); err == nil {
		t.Fatal("ctl namespace left after down")
	}
	if code, _, errOut = lab("down"); code != 0 || !strings.Contains(errOut, "nothing to do") {
		t.Fatalf("second down: %d %q", code, errOut)
	}
}
