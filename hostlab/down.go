package hostlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Down removes everything the lab created, and only that: the hosts'
// processes (each host's PID namespace is ended by killing its init, which
// takes sshd, sessions, conmon and containers with it, and with them the
// host's mounts), loop devices backed by files in the state directory, the
// hosts' cgroups, the namespaces and uplink it recorded, and the state
// directory. It is idempotent and keeps going after errors, which it
// returns joined.
func (l *Lab) Down(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	t0 := time.Now()
	var errs []error

	// 1. Processes. SIGKILL to a PID namespace's init kills everything in
	// it; unshare then exits. A launcher whose init was never recorded is
	// killed itself (--kill-child takes its child along).
	if l.st.Systemd {
		l.poweroffSystemdHosts(ctx)
	}
	var wait []proc
	for _, h := range l.st.Hosts {
		switch {
		case h.Init.alive():
			_ = syscall.Kill(h.Init.PID, syscall.SIGKILL)
		case h.Launcher.alive():
			for _, c := range children(h.Launcher.PID) {
				if p, err := newProc(c); err == nil {
					wait = append(wait, p)
				}
			}
			_ = syscall.Kill(h.Launcher.PID, syscall.SIGKILL)
		}
		wait = append(wait, h.Init, h.Launcher)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	err := waitGone(wctx, wait...)
	cancel()
	if err != nil {
		errs = append(errs, fmt.Errorf("down: %w", err))
	}
	l.children.Wait()

	// 2. Loop devices backed by our files (found by scanning, so a device
	// attached just before a crash is found too).
	if err := detachLoops(ctx, l.st.StateDir); err != nil {
		errs = append(errs, err)
	}

	// 3. Cgroups, deepest first (podman makes its own below ours).
	for _, h := range l.st.Hosts {
		for _, d := range h.Cgroups {
			if err := removeCgroupTree(ctx, d); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", h.Name, err))
			}
		}
	}

	// 4. Namespaces (the veths go with them) and the uplink.
	if l.st.Uplink != "" && linkExists(l.st.Uplink) {
		if _, err := run(ctx, nil, "ip", "link", "del", l.st.Uplink); err != nil && linkExists(l.st.Uplink) {
			errs = append(errs, err)
		}
	}
	for i := len(l.st.Namespaces) - 1; i >= 0; i-- {
		ns := l.st.Namespaces[i]
		if !netnsExists(ns) {
			continue
		}
		if _, err := run(ctx, nil, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, fmt.Errorf("delete netns %s: %w", ns, err))
		}
	}

	// 5. The state directory, unless something above failed: then it is
	// what a second Down needs.
	if len(errs) == 0 {
		if err := removeState(l.st.StateDir, l.st.CreatedDir); err != nil {
			errs = append(errs, err)
		}
	}
	l.log.Info().Dur("took", time.Since(t0)).Int("errors", len(errs)).Msg("lab down")
	return errors.Join(errs...)
}

// detachLoops detaches every loop device whose backing file is below dir.
func detachLoops(ctx context.Context, dir string) error {
	devs, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	var errs []error
	for _, f := range devs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		back := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
		if !strings.HasPrefix(back, dir+"/") {
			continue
		}
		dev := "/dev/" + filepath.Base(filepath.Dir(filepath.Dir(f)))
		if _, err := run(ctx, nil, "losetup", "-d", dev); err != nil {
			errs = append(errs, fmt.Errorf("detach %s (%s): %w", dev, back, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree removes dir and the cgroups below it, deepest first. A
// cgroup whose last task has just died can be busy for a moment; that is
// retried until ctx ends.
func removeCgroupTree(ctx context.Context, dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for _, d := range dirs {
		for {
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			if !errors.Is(err, syscall.EBUSY) {
				return fmt.Errorf("cgroup %s: %w", d, err)
			}
			select {
			case <-rctx.Done():
				return fmt.Errorf("cgroup %s: still busy: %w", d, err)
			case <-t.C:
			}
		}
	}
	return nil
}

// removeState deletes the state directory (or only its content when it
// existed before the lab).
func removeState(dir string, created bool) error {
	if _, err := os.Stat(filepath.Join(dir, stateFile)); errors.Is(err, fs.ErrNotExist) {
		return nil // already removed, or not ours
	}
	if created {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove state: %w", err)
		}
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("remove state: %w", err)
	}
	for _, e := range ents {
		if e.Name() == stateFile {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove state: %w", err)
		}
	}
	// lab.json last: while it exists, Down can be run again.
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("remove state: %w", err)
	}
	return nil
}
