package inventory

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPureDependencies keeps the package free of I/O layers: it must not
// reach the SSH, store, orchestrator or API packages, nor the network or
// process-spawning parts of the standard library.
func TestPureDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-e", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/orchceph/orch/sshexec", "github.com/orchceph/orch/store",
		"github.com/orchceph/orch/orchestrator", "github.com/orchceph/orch/api",
		"net", "os/exec", "net/http",
	}
	deps := strings.Fields(string(out))
	for _, f := range forbidden {
		t.Run(f, func(t *testing.T) {
			for _, d := range deps {
				if d == f {
					t.Errorf("inventory depends on %s", f)
				}
			}
		})
	}
}
