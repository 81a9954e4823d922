package hostlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ForTest starts an n-host lab for a test and tears it down in t.Cleanup.
// It skips the test only when not running as root (CI runs as root, so the
// tests run there); any other failure fails the test. Unless opts says
// otherwise it uses a random prefix, a fresh state directory under
// /var/tmp, and always the cached image store (Images); so labs of tests running in
// parallel (also from other packages) do not collide.
func ForTest(t testing.TB, n int, opts Options) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("hostlab: needs root")
	}
	if opts.Prefix == "" {
		b := make([]byte, 3)
		if _, err := rand.Read(b); err != nil {
			t.Fatalf("hostlab: %v", err)
		}
		opts.Prefix = "t" + hex.EncodeToString(b)
	}
	if opts.StateDir == "" {
		reapTestLabs(t)
		dir, err := os.MkdirTemp(testLabRoot, testLabPattern)
		if err != nil {
			t.Fatalf("hostlab: %v", err)
		}
		if err := writeTestOwner(dir); err != nil {
			t.Fatalf("hostlab: %v", err)
		}
		opts.StateDir = dir
		// The lab removes the directory's content; the directory itself
		// and its owner record are ours to remove.
		t.Cleanup(func() {
			_ = os.Remove(dir)
			_ = os.Remove(dir + testOwnerSuffix)
		})
	}
	opts.Hosts = n
	opts.Images = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	l, err := Up(ctx, opts)
	if err != nil {
		t.Fatalf("hostlab: up %d hosts: %v", n, err)
	}
	t.Logf("hostlab: %d hosts up in %v (prefix %s, subnet %s)", n, time.Since(start).Round(time.Millisecond), l.Prefix(), l.Subnet())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := l.Down(ctx); err != nil {
			t.Errorf("hostlab: down: %v", err)
		}
	})
	return l
}

// Test labs live in testLabRoot/testLabPattern directories, each with a
// sibling DIR+testOwnerSuffix file naming the test process that made it
// (the state directory itself must be empty for Up).
const (
	testLabRoot     = "/var/tmp"
	testLabPattern  = "orch-lab-test-"
	testOwnerSuffix = ".owner"
)

// writeTestOwner records this process as the owner of a test lab.
func writeTestOwner(dir string) error {
	me, err := newProc(os.Getpid())
	if err != nil {
		return err
	}
	b, err := json.Marshal(me)
	if err != nil {
		return err
	}
	return os.WriteFile(dir+testOwnerSuffix, b, 0o600)
}

// reapTestLabs removes the labs of test processes that are gone: a test
// binary killed by go test's -timeout never runs its cleanups, and its
// hosts (processes, loop devices, namespaces) would stay behind. Labs of
// live processes, and directories without an owner record, are left alone.
func reapTestLabs(t testing.TB) {
	owners, _ := filepath.Glob(filepath.Join(testLabRoot, testLabPattern+"*"+testOwnerSuffix))
	for _, ownerFile := range owners {
		dir := strings.TrimSuffix(ownerFile, testOwnerSuffix)
		b, err := os.ReadFile(ownerFile)
		if err != nil {
			continue
		}
		var owner proc
		if json.Unmarshal(b, &owner) != nil || owner.PID <= 0 || owner.alive() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		l, err := Load(dir, nil)
		switch {
		case errors.Is(err, ErrNoLab):
			// Never came up, or already down: only the directory is left.
		case err != nil:
			t.Logf("hostlab: the lab of dead test process %d in %s: %v", owner.PID, dir, err)
			cancel()
			continue
		default:
			if err := l.Down(ctx); err != nil {
				t.Logf("hostlab: reaping the lab of dead test process %d in %s: %v", owner.PID, dir, err)
				cancel()
				continue
			}
			t.Logf("hostlab: reaped the lab of dead test process %d (%s)", owner.PID, dir)
		}
		cancel()
		_ = os.RemoveAll(dir)
		_ = os.Remove(ownerFile)
	}
}
