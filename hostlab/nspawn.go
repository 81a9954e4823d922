package hostlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Systemd hosts (Options.Systemd): instead of catatonit + sshd in a set of
// namespaces over the machine's own root, each host boots real systemd as
// its PID 1 with
//
//	systemd-nspawn --boot --volatile=overlay --directory=<cached rootfs>
//	    --network-namespace-path=/run/netns/<prefix>-hN --register=no --keep-unit
//
// inside the host's network namespace and cgroups. The root filesystem is a
// debootstrap tree (minbase + systemd, sshd, podman) cached under
// DefaultRootfsCache and shared read-only by every host: --volatile=overlay
// puts a tmpfs upper layer over it, so each host's changes vanish with it.
// The host's own files (hostname, hosts, sshd config and key, podman
// config) are bound in read-only, its machine-id is nspawn's --uuid; /root and /var/lib/containers are
// bound read-write from the state directory.
// See shared/reference/test-hosts.md ("nspawn (systemd) hosts").

const (
	// DefaultRootfsCache holds the cached systemd host root filesystems.
	DefaultRootfsCache = "/var/cache/orch-lab-rootfs"
	// rootfsRevision changes whenever the package set below changes, so an
	// older cached tree is not reused.
	rootfsRevision = "r1"
	rootfsStamp    = ".hostlab-rootfs-complete"
	defaultMirror  = "http://deb.debian.org/debian"
	defaultSuite   = "bookworm"
)

// rootfsBase is installed by debootstrap itself (Depends are resolved),
// rootfsExtra afterwards with apt in the chroot.
var (
	rootfsBase  = []string{"systemd", "systemd-sysv", "dbus", "openssh-server", "iproute2", "procps", "ca-certificates"}
	rootfsExtra = []string{"podman", "crun", "conmon", "catatonit", "netavark", "iptables", "busybox-static"}
)

// nspawnContainersConf is containersConf plus what podman needs under
// nspawn: its seccomp filter blocks keyctl (crun: "create keyring:
// Operation not permitted") and it mounts the v1 cgroup controllers
// read-only (no per-container cgroups).
const nspawnContainersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
keyring = false
cgroups = "disabled"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`

// debianSource returns the machine's configured Debian mirror and suite
// (the first "deb" entry of /etc/apt/sources.list or a deb822 .sources
// file naming the main archive), falling back to deb.debian.org and the
// machine's codename.
func debianSource() (mirror, suite string) {
	suite = defaultSuite
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, ln := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(ln, "VERSION_CODENAME="); ok && strings.Trim(v, `"`) != "" {
				suite = strings.Trim(v, `"`)
			}
		}
	}
	okURI := func(u string) bool {
		return (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) &&
			!strings.Contains(u, "security") && !strings.ContainsAny(u, " \t'\"")
	}
	if f, err := os.Open("/etc/apt/sources.list"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fl := strings.Fields(sc.Text())
			if len(fl) >= 3 && fl[0] == "deb" {
				i := 1
				for i < len(fl) && strings.HasPrefix(fl[i], "[") { // [arch=... signed-by=...]
					for i < len(fl) && !strings.HasSuffix(fl[i], "]") {
						i++
					}
					i++
				}
				if i+1 < len(fl) && okURI(fl[i]) && fl[i+1] == suite {
					f.Close()
					return strings.TrimSuffix(fl[i], "/"), suite
				}
			}
		}
		f.Close()
	}
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, stanza := range strings.Split(string(b), "\n\n") {
			var uris, suites []string
			for _, ln := range strings.Split(stanza, "\n") {
				if v, ok := strings.CutPrefix(ln, "URIs:"); ok {
					uris = strings.Fields(v)
				}
				if v, ok := strings.CutPrefix(ln, "Suites:"); ok {
					suites = strings.Fields(v)
				}
			}
			hasSuite := false
			for _, s := range suites {
				hasSuite = hasSuite || s == suite
			}
			if hasSuite && len(uris) > 0 && okURI(uris[0]) {
				return strings.TrimSuffix(uris[0], "/"), suite
			}
		}
	}
	return defaultMirror, suite
}

// EnsureRootfs returns the cached systemd host root filesystem under
// cacheDir ("" means DefaultRootfsCache), building it when absent:
// debootstrap --variant=minbase from the machine's configured Debian mirror
// with systemd, sshd and friends, then podman and its helpers installed
// with apt in a chroot. The build takes about a minute and some 450 MB; a
// finished tree carries a stamp file, a half-built one is redone.
func EnsureRootfs(ctx context.Context, cacheDir string, logger *zerolog.Logger) (string, error) {
	log := logOrNop(logger)
	if cacheDir == "" {
		cacheDir = DefaultRootfsCache
	}
	mirror, suite := debianSource()
	dir := filepath.Join(cacheDir, suite+"-"+rootfsRevision)
	if _, err := os.Stat(filepath.Join(dir, rootfsStamp)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("rootfs cache: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(cacheDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("rootfs cache: %w", err)
	}
	defer lf.Close()
	for {
		err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return "", fmt.Errorf("rootfs cache lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("rootfs cache lock: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer func() { _ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(filepath.Join(dir, rootfsStamp)); err == nil {
		return dir, nil // built by someone else while we waited
	}
	if _, err := os.Stat("/usr/sbin/debootstrap"); err != nil {
		if _, err := runEnv(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, nil,
			"apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", "debootstrap"); err != nil {
			return "", fmt.Errorf("%w: debootstrap: %w", ErrMissingPackages, err)
		}
	}
	t0 := time.Now()
	build := dir + ".build"
	if err := os.RemoveAll(build); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	log.Info().Str("mirror", mirror).Str("suite", suite).Str("dir", dir).Msg("building systemd host rootfs")
	if _, err := run(ctx, nil, "debootstrap", "--variant=minbase", "--include="+strings.Join(rootfsBase, ","),
		suite, build, mirror); err != nil {
		return "", fmt.Errorf("rootfs: debootstrap: %w", err)
	}
	tBoot := time.Now()
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		_ = os.WriteFile(filepath.Join(build, "etc/resolv.conf"), b, 0o644)
	}
	// No service starts inside the chroot.
	prc := filepath.Join(build, "usr/sbin/policy-rc.d")
	if err := os.WriteFile(prc, []byte("#!/bin/sh\nexit 101\n"), 0o755); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	// Constant script; the tree's path is $1.
	const chrootScript = `set -e
mount -t proc proc "$1/proc"
mount --rbind /dev "$1/dev"
R=$1; shift
chroot "$R" apt-get -q update
chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
chroot "$R" apt-get clean
`
	argv := append([]string{"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", chrootScript, "hostlab-rootfs", build}, rootfsExtra...)
	if _, err := run(ctx, nil, argv...); err != nil {
		return "", fmt.Errorf("rootfs: install podman: %w", err)
	}
	if err := os.Remove(prc); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	// nspawn binds /etc/resolv.conf and the host's files over these; an
	// empty machine-id makes systemd take nspawn's --uuid as the host's.
	_ = os.WriteFile(filepath.Join(build, "etc/machine-id"), nil, 0o444)
	// The getty on nspawn's console is useless (--console=passive) and
	// only adds boot time.
	_ = os.Symlink("/dev/null", filepath.Join(build, "etc/systemd/system/console-getty.service"))
	if err := os.WriteFile(filepath.Join(build, rootfsStamp), []byte(time.Now().UTC().Format(time.RFC3339)+" "+mirror+" "+suite+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	if err := os.Rename(build, dir); err != nil {
		return "", fmt.Errorf("rootfs: %w", err)
	}
	log.Info().Dur("debootstrap", tBoot.Sub(t0)).Dur("total", time.Since(t0)).Msg("systemd host rootfs built")
	return dir, nil
}

// nspawnEnv: /proc/sys/net writable (it belongs to the host's own network
// namespace; netavark sets ip_forward and per-bridge sysctls), the rest of
// /proc/sys and /sys stay read-only so a host cannot change the machine's
// global sysctls.
var nspawnEnv = []string{"SYSTEMD_NSPAWN_API_VFS_WRITABLE=network"}

// nspawnArgv is the systemd-nspawn command line of host h (without the
// cgroup join).
func (l *Lab) nspawnArgv(h *hostState, ns string) []string {
	H := l.hostDir(h.Name)
	E := filepath.Join(H, "etc.upper")
	argv := []string{"/usr/bin/systemd-nspawn", "--boot", "--quiet",
		"--directory=" + l.st.Rootfs, "--volatile=overlay",
		"--network-namespace-path=/run/netns/" + ns,
		"--register=no", "--keep-unit", "--machine=" + ns, "--hostname=" + h.Name,
		"--console=passive", "--private-users=no", "--resolv-conf=off", "--timezone=off", "--link-journal=no",
		// nspawn grants CAP_NET_ADMIN only with --private-network, not with
		// --network-namespace-path; podman's netavark needs it (bridge,
		// veth, routes) inside the host's own network namespace.
		"--capability=CAP_NET_ADMIN",
	}
	// The host's machine-id as nspawn's --uuid: systemd then makes it the
	// (transient) /etc/machine-id over the rootfs's empty one. Binding the
	// file instead makes systemd-machine-id-commit.service fail at boot.
	if b, err := os.ReadFile(filepath.Join(E, "machine-id")); err == nil && len(strings.TrimSpace(string(b))) == 32 {
		argv = append(argv, "--uuid="+strings.TrimSpace(string(b)))
	}
	for _, f := range []struct{ src, dst string }{
		{"hostname", "/etc/hostname"},
		{"hosts", "/etc/hosts"},
		{"ssh/sshd_config", "/etc/ssh/sshd_config"},
		{"ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key"},
		{"ssh/ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_ed25519_key.pub"},
		{"containers/containers.conf", "/etc/containers/containers.conf"},
		{"containers/storage.conf", "/etc/containers/storage.conf"},
	} {
		argv = append(argv, "--bind-ro="+filepath.Join(E, f.src)+":"+f.dst)
	}
	argv = append(argv, "--bind="+filepath.Join(H, "root")+":/root",
		"--bind="+filepath.Join(H, "containers")+":/var/lib/containers")
	if l.st.ImageStore != "" {
		argv = append(argv, "--bind-ro="+l.st.ImageStore+":/var/lib/shared-images")
	}
	return argv
}

// Systemd reports whether the lab's hosts boot systemd (Options.Systemd).
func (l *Lab) Systemd() bool { return l.st.Systemd }

// poweroffSystemdHosts asks every systemd host to shut down cleanly
// (SIGTERM to systemd-nspawn makes the container's systemd power off) and
// waits up to 10 s for them. Callers hold mu. Down SIGKILLs whatever is
// left.
func (l *Lab) poweroffSystemdHosts(ctx context.Context) {
	var wait []proc
	for _, h := range l.st.Hosts {
		if h.Launcher.alive() {
			_ = syscall.Kill(h.Launcher.PID, syscall.SIGTERM)
			wait = append(wait, h.Launcher)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitGone(wctx, wait...); err != nil {
		l.log.Warn().Err(err).Msg("systemd hosts did not power off in time; killing them")
	}
	// nspawn leaves its mount propagation directory behind.
	for _, h := range l.st.Hosts {
		_ = os.RemoveAll(filepath.Join("/run/systemd/nspawn/propagate", l.netnsName(h.Name)))
	}
}

// ensureNspawn makes sure systemd-nspawn (Debian's systemd-container) is
// installed.
func ensureNspawn(ctx context.Context, install bool, logger *zerolog.Logger) error {
	if _, err := os.Stat("/usr/bin/systemd-nspawn"); err == nil {
		return nil
	}
	if !install {
		return fmt.Errorf("%w: systemd-container (install it, or allow the lab to)", ErrMissingPackages)
	}
	log := logOrNop(logger)
	log.Info().Strs("packages", []string{"systemd-container"}).Msg("installing")
	if _, err := runEnv(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, nil, "apt-get", "-o", "DPkg::Lock::Timeout=600",
		"install", "-y", "--no-install-recommends", "systemd-container"); err != nil {
		return fmt.Errorf("%w: systemd-container: %w", ErrMissingPackages, err)
	}
	return nil
}

// cgroupRWScript remounts the host's v1 cgroup controllers read-write.
// nspawn mounts them read-only, but podman's --cgroups=split (the systemd
// supervisor's unit.run) makes crun create the container's cgroups below
// the unit's in every controller. The host runs in its own cgroup namespace
// rooted at its own cgroups (<prefix>-hN), so these mounts only reach the
// host's subtree, as in the catatonit hosts. Constant text.
const cgroupRWScript = `set -e
for d in /sys/fs/cgroup/*; do
  case ${d##*/} in systemd|unified) continue;; esac
  if mountpoint -q "$d"; then mount -o remount,bind,rw,nosuid,nodev,noexec "$d"; fi
done
`

// prepareSystemdHost runs once the host answers SSH.
func (l *Lab) prepareSystemdHost(ctx context.Context, h *hostState) error {
	_, err := run(ctx, nil, "/usr/bin/nsenter", "-t", fmt.Sprint(h.Init.PID), "-m", "-C", "--", "/bin/sh", "-c", cgroupRWScript)
	if err != nil {
		return fmt.Errorf("%s: cgroups read-write: %w", h.Name, err)
	}
	return nil
}
