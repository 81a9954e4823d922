package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/orchceph/orch/"

// TestPurePackagesStayPure fails when a pure package reaches I/O layers.
func TestPurePackagesStayPure(t *testing.T) {
	pure := []string{"spec", "scheduler", "inventory", "containers"}
	forbidden := []string{"store", "sshexec", "orchestrator", "api", "internal/cli", "hostlab", "internal/agent"}
	for _, p := range pure {
		t.Run(p, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", module+p).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				for _, f := range forbidden {
					if dep == module+f || strings.HasPrefix(dep, module+f+"/") {
						t.Errorf("%s depends on %s", p, dep)
					}
				}
				for _, io := range []string{"os/exec", "net/http", "github.com/rs/zerolog", "go.etcd.io/bbolt", "golang.org/x/crypto/ssh"} {
					if dep == io {
						t.Errorf("%s depends on %s", p, io)
					}
				}
			}
		})
	}
}
