// Package labtest holds what the tests against real parts (lab hosts,
// podman, real Ceph) share: the orch binary they push to hosts and the
// registry-free Ceph image they load there. Test code only.
package labtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildOrch returns $ORCH_BIN (made absolute) or a freshly built static
// orch binary in a temporary directory of t.
func BuildOrch(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("ORCH_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	out := filepath.Join(t.TempDir(), "orch")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/orch")
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build orch: %v\n%s", err, b)
	}
	return out
}

// CephImage builds (or finds cached) the registry-free Ceph image with
// images/build-ceph-image.sh and returns its reference and a `podman save`
// archive that lab hosts can load: the archive is a hard link into the
// script's cache, in a directory under /var/cache, which lab hosts see
// (their /tmp, /var/tmp and /var/lib are private).
// $ORCH_TEST_CEPH_IMAGE with $ORCH_TEST_CEPH_ARCHIVE skip the build.
func CephImage(t testing.TB) (image, archive string) {
	t.Helper()
	if img := os.Getenv("ORCH_TEST_CEPH_IMAGE"); img != "" {
		if a := os.Getenv("ORCH_TEST_CEPH_ARCHIVE"); a != "" {
			return img, a
		}
	}
	dir, err := os.MkdirTemp("/var/cache", "orch-test-ceph-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	archive = filepath.Join(dir, "ceph.tar")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(RepoRoot(), "images", "build-ceph-image.sh"), "--quiet", "--save", archive)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build-ceph-image.sh: %v", err)
	}
	return strings.TrimSpace(string(out)), archive
}
