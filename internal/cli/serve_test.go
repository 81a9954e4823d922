package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/internal/pki"
)

// startController runs `orch serve` in-process on a temporary socket and
// store, and returns the socket path.
func startController(t *testing.T) string {
	t.Helper()
	return startControllerAt(t, t.TempDir(), "run")
}

// startControllerAt runs `orch serve` (no TCP) on the store in dir, with
// its socket in dir/sub, until the test ends.
func startControllerAt(t *testing.T, dir, sub string) string {
	t.Helper()
	sock := filepath.Join(dir, sub, "orch.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, errOut := TestIO("")
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--socket", sock, "--store", filepath.Join(dir, "orch.db"), "--agent-binary", "/bin/true", "--log-level", "error"}, ios)
	}()
	exited := false
	t.Cleanup(func() {
		cancel()
		if exited {
			return
		}
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d: %s", code, errOut)
		}
	})
	for i := 0; i < 500; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		select {
		case code := <-done:
			exited = true
			t.Fatalf("serve exited %d early: %s", code, errOut)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("controller did not start")
	return ""
}

func run(t *testing.T, sock string, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := TestIO("")
	code := Main(context.Background(), append([]string{"--socket", sock}, args...), ios)
	return code, out.String(), errOut.String()
}

func TestServeHostAndSSHCommands(t *testing.T) {
	sock := startController(t)
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v mode %v", err, fi.Mode())
	}
	code, out, _ := run(t, sock, "status")
	if code != 0 || !strings.Contains(out, "Available: No (SSH keys not set") {
		t.Fatalf("status = %d %q", code, out)
	}
	if code, out, errOut := run(t, sock, "ssh", "get-pub-key"); code != 2 || out != "" || !strings.HasPrefix(errOut, "Error ENOENT: No cluster SSH key defined") {
		t.Fatalf("get-pub-key before generate = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := run(t, sock, "ssh", "generate-key"); code != 0 {
		t.Fatalf("generate-key = %d %q", code, errOut)
	}
	code, out, _ = run(t, sock, "ssh", "get-pub-key")
	if code != 0 || !strings.HasPrefix(out, "ssh-ed25519 ") {
		t.Fatalf("get-pub-key = %d %q", code, out)
	}
	code, out, _ = run(t, sock, "status", "--format", "json")
	var st map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st["available"] != true {
		t.Fatalf("status json = %d %q", code, out)
	}
	code, out, _ = run(t, sock, "host", "ls")
	if code != 0 || out != "HOST  ADDR  LABELS  STATUS\n0 hosts in cluster\n" {
		t.Fatalf("host ls = %d %q", code, out)
	}
	code, out, _ = run(t, sock, "host", "ls", "--format", "json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("host ls json = %d %q", code, out)
	}
	// Invalid input is EINVAL (22) with one line; nothing reaches a host.
	for _, args := range [][]string{
		{"host", "add", "bad;name", "10.0.0.1"},
		{"host", "add", "h1", "10.0.0.1", "--labels", "a b"},
		{"host", "add", "h1", "$(reboot)"},
		{"ssh", "set-user", "Bad User"},
		{"host", "ls", "--format", "xml"},
	} {
		code, out, errOut := run(t, sock, args...)
		if code != 22 || out != "" || !strings.HasPrefix(errOut, "Error EINVAL: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v = %d %q %q, want exit 22 and one Error EINVAL line", args, code, out, errOut)
		}
	}
	if code, _, errOut := run(t, sock, "host", "rm", "nosuch"); code != 2 || !strings.HasPrefix(errOut, "Error ENOENT: host nosuch not found") {
		t.Errorf("host rm nosuch = %d %q", code, errOut)
	}
	if code, _, errOut := run(t, sock, "host", "label", "add", "nosuch", "mon"); code != 2 {
		t.Errorf("label add on unknown host = %d %q", code, errOut)
	}
}

func TestNoControllerSaysHowToStartOne(t *testing.T) {
	code, out, errOut := run(t, filepath.Join(t.TempDir(), "nothing.sock"), "host", "ls")
	if code != 107 || out != "" || !strings.HasPrefix(errOut, "Error ENOTCONN: cannot reach the orch controller") || !strings.Contains(errOut, "orch serve") {
		t.Fatalf("host ls without controller = %d %q %q", code, out, errOut)
	}
}

func TestSecondServeRefused(t *testing.T) {
	sock := startController(t)
	dir := t.TempDir()
	ios, _, errOut := TestIO("")
	code := Main(context.Background(), []string{"serve", "--socket", sock, "--store", filepath.Join(dir, "o.db")}, ios)
	if code == 0 || !strings.Contains(errOut.String(), "another controller is listening") {
		t.Fatalf("second serve on the same socket = %d %q", code, errOut)
	}
}

// TestServeConfigFile starts the controller from a config file (socket and
// store given there) and checks the config's error paths.
func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "cfg", "orch.sock")
	cfg := filepath.Join(dir, "orch.yaml")
	if err := os.WriteFile(cfg, []byte("store: "+filepath.Join(dir, "o.db")+"\nsocket: "+sock+"\nagent_binary: /bin/true\nlog_level: error\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, errOut := TestIO("")
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve", "--config", cfg}, ios) }()
	up := false
	for i := 0; i < 500 && !up; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			up = true
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !up {
		cancel()
		t.Fatalf("controller from %s did not listen on %s: %s", cfg, sock, errOut)
	}
	if code, out, _ := run(t, sock, "status"); code != 0 || !strings.Contains(out, "Backend: orch") {
		t.Errorf("status via the config's socket = %d %q", code, out)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}

	// Unknown keys, a missing file, and a TCP listener without the TLS
	// files that make it mutual TLS are refused with EINVAL before anything
	// listens.
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("storee: /x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--config", bad},
		{"serve", "--config", filepath.Join(dir, "missing.yaml")},
		{"serve", "--socket", filepath.Join(dir, "t.sock"), "--store", filepath.Join(dir, "t.db"), "--listen", "127.0.0.1:0"},
	} {
		ios, out, errOut := TestIO("")
		if code := Main(context.Background(), args, ios); code != 22 || out.Len() != 0 || !strings.HasPrefix(errOut.String(), "Error EINVAL: ") {
			t.Errorf("%v = %d %q %q, want exit 22", args, code, out, errOut)
		}
	}
	for _, f := range []string{"t.db", "t.sock"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a refused serve created %s", f)
		}
	}
}

// TestServeTLSAuto: `orch serve --listen 127.0.0.1:0 --tls-auto` makes the
// controller's CA (its certificate next to the store, 0644) and records
// the listener, which `orch bootstrap --mgr-module` checks its URL
// against; a controller without a TCP listener refuses --mgr-module.
// Every case is refused before a host is touched.
func TestServeTLSAuto(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "orch.sock")
	ctx, cancel := context.WithCancel(context.Background())
	ios, _, errOut := TestIO("")
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve", "--socket", sock, "--store", filepath.Join(dir, "orch.db"), "--agent-binary", "/bin/true",
			"--log-level", "error", "--listen", "127.0.0.1:0", "--tls-auto"}, ios)
	}()
	// The socket can accept before the TCP listener is up and ca.crt
	// written (requests are served only after both): wait for both.
	up := false
	for i := 0; i < 500 && !up; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			_, err := os.Stat(filepath.Join(dir, "ca.crt"))
			up = err == nil
		}
		if !up {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !up {
		cancel()
		t.Fatalf("controller did not start: %d %s", <-done, errOut)
	}
	fi, err := os.Stat(filepath.Join(dir, "ca.crt"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("ca.crt: %v %v", fi, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if c, err := pki.ParseCertificate(b); err != nil || !c.IsCA {
		t.Errorf("ca.crt is not a CA certificate: %v", err)
	}
	code, _, e := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--mgr-module", "--controller-url", "https://10.9.9.9:7443")
	if code != 22 || !strings.HasPrefix(e, "Error EINVAL: --controller-url \"https://10.9.9.9:7443\": the controller's certificate does not name 10.9.9.9 (it names 127.0.0.1") {
		t.Errorf("bootstrap with a URL the certificate does not name = %d %q", code, e)
	}
	if code, _, e := run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--controller-url", "https://127.0.0.1:7443"); code != 22 || !strings.Contains(e, "--controller-url goes with --mgr-module") {
		t.Errorf("--controller-url alone = %d %q", code, e)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut)
	}

	// The same store without --listen: the listener record is gone.
	sock = startControllerAt(t, dir, "run2")
	code, _, e = run(t, sock, "bootstrap", "--mon-ip", "10.0.0.5", "--mgr-module")
	if code != 22 || !strings.Contains(e, "the controller has no TCP listener") || !strings.Contains(e, "orch serve --listen IP:PORT --tls-auto") {
		t.Errorf("bootstrap --mgr-module without a listener = %d %q", code, e)
	}
	code, out, _ := run(t, sock, "bootstrap", "status")
	if code != 2 {
		t.Errorf("a refused bootstrap started one: %d %q", code, out)
	}

	for _, args := range [][]string{
		{"serve", "--socket", filepath.Join(dir, "t.sock"), "--store", filepath.Join(dir, "t.db"), "--tls-auto"},
		{"serve", "--socket", filepath.Join(dir, "t.sock"), "--store", filepath.Join(dir, "t.db"), "--listen", "127.0.0.1:0", "--tls-auto", "--tls-cert", "x", "--tls-key", "y"},
	} {
		ios, out, errOut := TestIO("")
		if code := Main(context.Background(), args, ios); code != 22 || out.Len() != 0 || !strings.HasPrefix(errOut.String(), "Error EINVAL: ") {
			t.Errorf("%v = %d %q %q, want exit 22", args, code, out, errOut)
		}
	}
}
