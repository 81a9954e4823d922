package agent

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test helpers of the daemon lifecycle (deploy, rm-daemon, unit, ls).

// seqCall is one expected command and its canned answer.
type seqCall struct {
	argv []string // argv[0] is matched by base name
	out  string
	err  error
}

// seqRunner expects commands in exactly the given order: an unexpected,
// out-of-order or missing command fails the test (the fake of k0sproject/
// rig's style that verifies unused stubs, made strict about order because
// the lifecycle's order is its contract: stop before start, rm before run).
type seqRunner struct {
	t *testing.T
	// mu guards want and next.
	mu   sync.Mutex
	want []seqCall
	next int
}

var _ Runner = (*seqRunner)(nil)

func newSeqRunner(t *testing.T) *seqRunner {
	r := &seqRunner{t: t}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range r.want[r.next:] {
			t.Errorf("expected command never run: %q", c.argv)
		}
	})
	return r
}

// expect appends an expected command.
func (r *seqRunner) expect(out string, err error, argv ...string) *seqRunner {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = append(r.want, seqCall{argv: argv, out: out, err: err})
	return r
}

func (r *seqRunner) Run(_ context.Context, argv []string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := append([]string{filepath.Base(argv[0])}, argv[1:]...)
	if r.next >= len(r.want) {
		r.t.Errorf("unexpected command %q (no more expected)", got)
		return nil, &ExitError{Cmd: argv, Code: 127, Stderr: "unexpected command in test"}
	}
	w := r.want[r.next]
	if !slices.Equal(w.argv, got) {
		r.t.Errorf("command %d:\n got %q\nwant %q", r.next, got, w.argv)
		return nil, &ExitError{Cmd: argv, Code: 127, Stderr: "unexpected command in test"}
	}
	r.next++
	return []byte(w.out), w.err
}

const (
	testFSID  = "2d2fd136-6df1-11ee-9a0a-525400a1b2c3"
	testFSID2 = "9b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"
)

// lifecycleHost is a Lifecycle over a temporary root with podman and
// systemctl "installed" (the runner answers for them) and a port checker
// that reports the given ports busy.
func lifecycleHost(t *testing.T, r Runner, sup Supervisor, busy ...int) *Lifecycle {
	t.Helper()
	root := t.TempDir()
	return &Lifecycle{
		Host: &Host{
			Root:   root,
			Path:   binDir(t, "podman", "systemctl"),
			Runner: r,
			Uname:  func() (Uname, error) { return Uname{Machine: "x86_64", Release: "6.1.0", Nodename: "host1"}, nil },
			Now:    func() time.Time { return fixedNow },
		},
		Supervisor: sup,
		PortInUse: func(ip string, port int) (bool, error) {
			return slices.Contains(busy, port), nil
		},
	}
}

// podmanPath is where the test's podman placeholder lives.
func (l *Lifecycle) testPodman(t *testing.T) string {
	p, err := l.Host.LookPath("podman")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dumpTree renders every file and directory under root/dir as text: path,
// mode and content, sorted, with the podman placeholder's directory shown
// as /usr/bin so golden files do not depend on t.TempDir.
func dumpTree(t *testing.T, l *Lifecycle, dirs ...string) string {
	t.Helper()
	podmanDir := filepath.Dir(l.testPodman(t))
	var lines []string
	for _, dir := range dirs {
		base := l.fs(dir)
		err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel := strings.TrimPrefix(p, l.Host.Root)
			if d.IsDir() {
				lines = append(lines, fmt.Sprintf("== %s/ %v", rel, info.Mode().Perm()))
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			content := strings.ReplaceAll(string(b), podmanDir, "/usr/bin")
			lines = append(lines, fmt.Sprintf("== %s %v\n%s", rel, info.Mode().Perm(), content))
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// goldenText compares got with testdata/lifecycle/name, or rewrites it
// under -update.
func goldenText(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "lifecycle", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file (go test ./internal/agent -run %s -update); got:\n%s", p, t.Name(), got)
	}
}
