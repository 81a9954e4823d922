package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/orchceph/orch/internal/agent"
)

// prefixRunner answers commands whose joined argv (program base name
// first) starts with a key; it fails the test on any other command and on
// keys nobody used.
type prefixRunner struct {
	t *testing.T
	// mu guards used.
	mu      sync.Mutex
	answers map[string]string
	used    map[string]bool
}

var _ agent.Runner = (*prefixRunner)(nil)

func newPrefixRunner(t *testing.T, answers map[string]string) *prefixRunner {
	r := &prefixRunner{t: t, answers: answers, used: map[string]bool{}}
	t.Cleanup(func() {
		for k := range answers {
			if !r.used[k] {
				t.Errorf("stub never run: %s", k)
			}
		}
	})
	return r
}

func (r *prefixRunner) Run(_ context.Context, argv []string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := strings.Join(append([]string{filepath.Base(argv[0])}, argv[1:]...), " ")
	best := ""
	for k := range r.answers {
		if strings.HasPrefix(cmd, k) && len(k) > len(best) {
			best = k
		}
	}
	if best == "" {
		r.t.Errorf("unexpected command %q", cmd)
		return nil, &agent.ExitError{Cmd: argv, Code: 127}
	}
	r.used[best] = true
	return []byte(r.answers[best]), nil
}

// runLifecycle runs `orch agent args...` with stdin against a temporary
// root where podman exists, and returns stdout, the error line and the
// exit code as Main would.
func runLifecycle(t *testing.T, root string, r agent.Runner, stdin string, args ...string) (string, string, int) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "podman"), []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	host := func() *agent.Host {
		return &agent.Host{
			Root: root, Path: []string{bin}, Runner: r,
			Uname: func() (agent.Uname, error) { return agent.Uname{Nodename: "node1"}, nil },
		}
	}
	ios, out, errOut := TestIO(stdin)
	cmd := newCmdAgent(NewFactory(ios), host)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	if err == nil {
		return out.String(), errOut.String(), 0
	}
	if isCobraUsageError(err) {
		err = &UsageError{Msg: err.Error()}
	}
	code, msg := ExitCodeAndMessage(err)
	return out.String(), msg, code
}

const lcFSID = "2d2fd136-6df1-11ee-9a0a-525400a1b2c3"

func deployDoc(port int) string {
	return fmt.Sprintf(`{"fsid":%q,"name":"container.web.node1","image":"localhost/web:1",
		"params":{"tcp_ports":[%d]},"meta":{"service_name":"container.web"},
		"config_blobs":{"keyring":"[client.x]\n\tkey = SECRET\n"},
		"container":{"entrypoint":"/bin/httpd","args":["-f"]}}`, lcFSID, port)
}

func TestAgentDeployCommand(t *testing.T) {
	// A port really held on this machine: the fresh deploy is refused
	// before anything is written, with EADDRINUSE.
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().(*net.TCPAddr).Port

	root := t.TempDir()
	r := newPrefixRunner(t, map[string]string{"podman ps -a --format json": "[]"})
	out, msg, code := runLifecycle(t, root, r, deployDoc(busy), "deploy", "--supervisor", "podman")
	want := fmt.Sprintf("TCP Port(s) '%d' required for container already in use", busy)
	if code != int(syscall.EADDRINUSE) || !strings.Contains(msg, want) || out != "" {
		t.Errorf("busy port: code %d, %q, stdout %q", code, msg, out)
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/ceph", lcFSID)); !os.IsNotExist(err) {
		t.Errorf("refused deploy created the cluster dir (%v)", err)
	}

	free := busy + 1
	for ; free < 65535; free++ {
		if l, err := net.Listen("tcp", fmt.Sprintf(":%d", free)); err == nil {
			l.Close()
			break
		}
	}
	r = newPrefixRunner(t, map[string]string{
		"podman ps -a --format json": "[]",
		"podman rm -f -i":            "",
		"podman run -d":              "cafe0123\n",
	})
	out, msg, code = runLifecycle(t, root, r, deployDoc(free), "deploy", "--supervisor", "podman", "--fsid", lcFSID)
	if code != 0 {
		t.Fatalf("deploy: %d %s", code, msg)
	}
	var res agent.DeployResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.DeploymentType != agent.DeployDefault || res.ContainerID != "cafe0123" || !res.Created {
		t.Errorf("result = %+v", res)
	}
	if strings.Contains(out, "SECRET") {
		t.Error("secret printed")
	}
	kr, err := os.Stat(filepath.Join(root, "var/lib/ceph", lcFSID, "container.web.node1", "keyring"))
	if err != nil || kr.Mode().Perm() != 0o600 {
		t.Errorf("keyring: %v %v", kr, err)
	}

	// ls --no-detail runs nothing.
	out, msg, code = runLifecycle(t, root, newPrefixRunner(t, nil), "", "ls", "--no-detail")
	if code != 0 || !strings.Contains(out, `"name":"container.web.node1"`) || strings.Contains(out, "state") {
		t.Errorf("ls --no-detail: %d %s %s", code, msg, out)
	}
}

func TestAgentLifecycleErrors(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/ceph", lcFSID, "mon.a"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantMsg  string
	}{
		{"bad json", "{", []string{"deploy"}, int(syscall.EINVAL), "Error EINVAL: decode deploy request"},
		{"fsid mismatch", deployDoc(1), []string{"deploy", "--fsid", "9b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"}, int(syscall.EINVAL), "does not match"},
		{"bad supervisor", "", []string{"ls", "--supervisor", "docker"}, int(syscall.EINVAL), "want auto, systemd or podman"},
		{"relative data root", "", []string{"ls", "--data-root", "var/lib/ceph"}, int(syscall.EINVAL), "want an absolute path"},
		{"mon without force", "", []string{"rm-daemon", "--supervisor", "podman", "--fsid", lcFSID, "--name", "mon.a"}, int(syscall.EPERM),
			"Error EPERM: must pass --force to proceed: this command may destroy precious data!"},
		{"rm-daemon needs a name", "", []string{"rm-daemon", "--fsid", lcFSID}, int(syscall.EINVAL), `"name" not set`},
		{"bad port", "", []string{"rm-daemon", "--fsid", lcFSID, "--name", "mon.a", "--tcp-ports", "80 x"}, int(syscall.EINVAL), `"x" is not a port`},
		{"unit verb", "", []string{"unit", "--supervisor", "podman", "--fsid", lcFSID, "--name", "mon.a", "explode"}, int(syscall.EINVAL), `unknown verb "explode"`},
		{"unit missing daemon", "", []string{"unit", "--supervisor", "podman", "--fsid", lcFSID, "--name", "mon.b", "start"}, int(syscall.ENOENT), "Error ENOENT: unit mon.b: daemon not found"},
		{"reconfig of nothing", `{"fsid":"` + lcFSID + `","name":"mgr.x","image":"i","params":{"reconfig":true}}`,
			[]string{"deploy", "--supervisor", "podman"}, int(syscall.ENOENT), "cannot reconfig, data path /var/lib/ceph/" + lcFSID + "/mgr.x does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, msg, code := runLifecycle(t, root, newPrefixRunner(t, nil), tt.stdin, tt.args...)
			if code != tt.wantCode || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("code %d msg %q; want %d %q", code, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
}
