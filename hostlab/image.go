package hostlab

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// imageStoreVersion names the cached store; bump it when its content changes.
const imageStoreVersion = "imgstore-v1"

// busyboxApplets are linked into the image's /bin.
var busyboxApplets = []string{"sh", "ls", "cat", "sleep", "echo", "hostname", "ps", "mount", "ip", "wget", "nc",
	"id", "uname", "env", "true", "false", "grep", "head", "tail", "wc", "date", "touch", "mkdir", "rm", "df"}

// EnsureImageStore returns a podman graphroot under cacheDir holding
// ImageName (static busybox), building it on first use (about 0.3 s) without
// any registry. Concurrent callers (other processes too) share one build.
func EnsureImageStore(ctx context.Context, cacheDir string, logger *zerolog.Logger) (string, error) {
	log := logOrNop(logger)
	base := filepath.Join(cacheDir, imageStoreVersion)
	graph := filepath.Join(base, "graph")
	marker := filepath.Join(base, "ready")
	if _, err := os.Stat(marker); err == nil {
		return graph, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(cacheDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("image store: lock: %w", err)
	}
	if _, err := os.Stat(marker); err == nil {
		return graph, nil // built by someone else while we waited
	}
	t0 := time.Now()
	// A build without a marker was interrupted: start over.
	if err := os.RemoveAll(base); err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	rootfs, err := busyboxTar()
	if err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	conf := filepath.Join(base, "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o644); err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	run := filepath.Join(base, "run")
	tmp := filepath.Join(base, "tmp")
	_, err = runEnv(ctx, []string{"CONTAINERS_CONF=" + conf}, rootfs,
		"podman", "--root", graph, "--runroot", run, "--tmpdir", tmp, "--storage-driver", "overlay",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file",
		"import", "--change", `CMD ["/bin/sh"]`, "-", ImageName)
	if err != nil {
		return "", fmt.Errorf("image store: podman import: %w", err)
	}
	_ = os.RemoveAll(run)
	_ = os.RemoveAll(tmp)
	if err := os.WriteFile(marker, []byte(ImageName+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("image store: %w", err)
	}
	log.Info().Str("store", graph).Dur("took", time.Since(t0)).Msg("built image store")
	return graph, nil
}

// busyboxTar is a root filesystem with the machine's static busybox.
func busyboxTar() ([]byte, error) {
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, err
	}
	if !isStaticELF("/bin/busybox") {
		return nil, fmt.Errorf("/bin/busybox is not static (install busybox-static)")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, d := range []string{"bin/", "etc/", "tmp/", "proc/", "sys/", "dev/", "root/", "run/", "var/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: now}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		data []byte
		mode int64
	}{
		{"bin/busybox", bb, 0o755},
		{"etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644},
		{"etc/group", []byte("root:x:0:\n"), 0o644},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: now}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	for _, a := range busyboxApplets {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777, ModTime: now}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
