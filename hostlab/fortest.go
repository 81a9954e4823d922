package hostlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
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
		dir, err := os.MkdirTemp("/var/tmp", "orch-lab-test-")
		if err != nil {
			t.Fatalf("hostlab: %v", err)
		}
		opts.StateDir = dir
		// The lab removes the directory's content; the directory itself
		// is ours to remove.
		t.Cleanup(func() { _ = os.Remove(dir) })
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
