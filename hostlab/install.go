package hostlab

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/rs/zerolog"
)

// requirement is a file the lab needs and the Debian package providing it.
type requirement struct {
	paths []string // any of these
	pkg   string
	check func(path string) bool // extra check on the found path, optional
}

var requirements = []requirement{
	{paths: []string{"/usr/sbin/sshd"}, pkg: "openssh-server"},
	{paths: []string{"/usr/bin/ssh-keygen"}, pkg: "openssh-client"},
	{paths: []string{"/usr/bin/podman"}, pkg: "podman"},
	{paths: []string{"/usr/bin/crun", "/usr/bin/runc"}, pkg: "crun"},
	{paths: []string{"/usr/bin/conmon"}, pkg: "conmon"},
	// netavark (podman's default bridge network inside a host) runs iptables.
	{paths: []string{"/usr/sbin/iptables", "/sbin/iptables"}, pkg: "iptables"},
	{paths: []string{"/usr/bin/catatonit"}, pkg: "catatonit"},
	{paths: []string{"/bin/busybox"}, pkg: "busybox-static", check: isStaticELF},
	{paths: []string{"/usr/sbin/ip", "/sbin/ip", "/bin/ip"}, pkg: "iproute2"},
	{paths: []string{"/usr/bin/newuidmap"}, pkg: "uidmap"},
	{paths: []string{"/usr/bin/sudo"}, pkg: "sudo"},
	{paths: []string{"/usr/bin/nsenter"}, pkg: "util-linux"},
	{paths: []string{"/usr/sbin/losetup", "/sbin/losetup"}, pkg: "mount"},
	{paths: []string{"/usr/sbin/useradd"}, pkg: "passwd"},
}

// isStaticELF: busybox is copied into an image, so it must not need a
// dynamic loader.
func isStaticELF(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// MissingPackages lists the Debian packages whose files the lab needs and
// cannot find.
func MissingPackages() []string {
	var out []string
	for _, r := range requirements {
		ok := false
		for _, p := range r.paths {
			if _, err := os.Stat(p); err == nil && (r.check == nil || r.check(p)) {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, r.pkg)
		}
	}
	return out
}

// ErrMissingPackages is returned (wrapped) when packages are missing and
// installing them was not allowed or failed.
var ErrMissingPackages = errors.New("missing packages")

// EnsurePackages installs the packages the lab needs when missing, with
// apt-get (waiting for another apt to finish). With install false it only
// reports what is missing.
func EnsurePackages(ctx context.Context, install bool, logger *zerolog.Logger) error {
	log := logOrNop(logger)
	missing := MissingPackages()
	if len(missing) == 0 {
		return nil
	}
	if !install {
		return fmt.Errorf("%w: %s (install them, or allow the lab to)", ErrMissingPackages, strings.Join(missing, " "))
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("%w: %s, and no apt-get to install them", ErrMissingPackages, strings.Join(missing, " "))
	}
	log.Info().Strs("packages", missing).Msg("installing")
	argv := append([]string{"apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends"}, missing...)
	_, err := runEnv(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, nil, argv...)
	if err != nil {
		// The package lists may be stale or absent: refresh once and retry.
		log.Info().Err(err).Msg("apt-get install failed; running apt-get update")
		if _, uerr := runEnv(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, nil,
			"apt-get", "-o", "DPkg::Lock::Timeout=600", "update"); uerr != nil {
			return fmt.Errorf("%w: apt-get update: %w", ErrMissingPackages, uerr)
		}
		if _, err = runEnv(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, nil, argv...); err != nil {
			return fmt.Errorf("%w: %w", ErrMissingPackages, err)
		}
	}
	if still := MissingPackages(); len(still) > 0 {
		return fmt.Errorf("%w after install: %s", ErrMissingPackages, strings.Join(still, " "))
	}
	return nil
}
