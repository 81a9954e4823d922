package hostlab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// Up starts a lab as o describes and returns when every host accepts an SSH
// login with the admin key and its pinned host key. On failure it removes
// whatever it had created and returns the error (joined with any teardown
// error).
func Up(ctx context.Context, o Options) (*Lab, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	log := logOrNop(o.Logger).With().Str("lab", o.Prefix).Logger()
	t0 := time.Now()
	if err := EnsurePackages(ctx, !o.NoInstall, &log); err != nil {
		return nil, err
	}
	hiers, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	imgStore := ""
	if o.Images {
		if imgStore, err = EnsureImageStore(ctx, o.CacheDir, &log); err != nil {
			return nil, err
		}
	}

	rootfs := ""
	if o.Systemd {
		if err := ensureNspawn(ctx, !o.NoInstall, &log); err != nil {
			return nil, err
		}
		if rootfs, err = EnsureRootfs(ctx, o.RootfsCache, &log); err != nil {
			return nil, err
		}
	}

	unlock, err := globalLock(ctx)
	if err != nil {
		return nil, err
	}
	l, err := claim(o, imgStore)
	if err != nil {
		unlock()
		return nil, err
	}
	if o.Systemd {
		if err := l.update(func() { l.st.Systemd, l.st.Rootfs = true, rootfs }); err != nil {
			unlock()
			return nil, err
		}
	}
	l.log = log
	fail := func(err error) (*Lab, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		return nil, errors.Join(err, l.Down(dctx))
	}
	err = l.setupCtl(ctx)
	unlock() // the uplink's address now marks the subnet as taken
	if err != nil {
		return fail(err)
	}

	priv, pub, err := genKey("hostlab-admin@" + o.Prefix)
	if err == nil {
		err = writeKeyPair(l.AdminKeyPath(), priv, pub)
	}
	if err != nil {
		return fail(fmt.Errorf("admin key: %w", err))
	}
	authorized := append([]string{pub}, trimAll(o.AuthorizedKeys)...)

	l.mu.Lock()
	for i := 1; i <= o.Hosts; i++ {
		l.st.Hosts = append(l.st.Hosts, &hostState{Host: Host{
			Name: HostName(i), Addr: l.st.Subnet + "." + strconv.Itoa(i), Port: 22}})
	}
	err = l.save()
	l.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	tFiles := time.Now()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for _, h := range l.st.Hosts {
		g.Go(func() error { return l.startHost(gctx, h, hiers, authorized, o.Disks, o.DiskSize) })
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	l.mu.Lock()
	err = l.writeKnownHosts()
	l.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	tStart := time.Now()

	signer, err := l.AdminSigner()
	if err != nil {
		return fail(err)
	}
	rctx, cancel := context.WithTimeout(ctx, o.ReadyTimeout)
	defer cancel()
	g, gctx = errgroup.WithContext(rctx)
	g.SetLimit(16)
	for _, h := range l.st.Hosts {
		g.Go(func() error { return l.waitHostReady(gctx, h, signer) })
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	l.mu.Lock()
	l.st.Phase = "up"
	err = l.save()
	l.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	log.Info().Int("hosts", o.Hosts).Str("subnet", l.Subnet()).
		Dur("prepare", tFiles.Sub(t0)).Dur("start", tStart.Sub(tFiles)).Dur("ready", time.Since(tStart)).
		Dur("total", time.Since(t0)).Msg("lab up")
	return l, nil
}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// claim checks that the prefix and state directory are free, picks a
// subnet and writes the initial state. The caller holds the global lock.
func claim(o Options, imgStore string) (*Lab, error) {
	if netnsExists(o.Prefix+"-ctl") || linkExists(o.Prefix+"-up") {
		return nil, fmt.Errorf("prefix %q: %w (run down first)", o.Prefix, ErrExists)
	}
	created := false
	ents, err := os.ReadDir(o.StateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("state dir: %w", err)
		}
		created = true
	case err != nil:
		return nil, fmt.Errorf("state dir: %w", err)
	case len(ents) > 0:
		if _, err := os.Stat(filepath.Join(o.StateDir, stateFile)); err == nil {
			return nil, fmt.Errorf("state dir %s: %w (run down first)", o.StateDir, ErrExists)
		}
		return nil, fmt.Errorf("%w: state dir %s is not empty", ErrInvalidOptions, o.StateDir)
	}
	used, err := usedPrefixes()
	if err != nil {
		return nil, err
	}
	subnet, err := pickSubnet(used)
	if err != nil {
		return nil, err
	}
	l := &Lab{st: labState{
		Version:      stateVersion,
		Prefix:       o.Prefix,
		Subnet:       subnet,
		StateDir:     o.StateDir,
		CreatedDir:   created,
		Uplink:       o.Prefix + "-up",
		UplinkAddr:   subnet + ".254",
		User:         o.User,
		ImageStore:   imgStore,
		Phase:        "starting",
		AuthorizeExt: trimAll(o.AuthorizedKeys),
	}}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.save(); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	return l, nil
}

// recordNS notes a namespace in the state before it is created, so that
// Down removes it even if Up dies half-way.
func (l *Lab) recordNS(name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.st.Namespaces = append(l.st.Namespaces, name)
	return l.save()
}

// setupCtl creates the controller namespace with the bridge, and the veth
// pair joining the machine's namespace to it.
func (l *Lab) setupCtl(ctx context.Context) error {
	ctl := l.ctlNS()
	if err := l.recordNS(ctl); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "ip", "netns", "add", ctl); err != nil {
		return fmt.Errorf("create %s: %w", ctl, err)
	}
	if _, err := run(ctx, nil, "ip", "link", "add", l.st.Uplink, "type", "veth", "peer", "name", "uplink", "netns", ctl); err != nil {
		return fmt.Errorf("create uplink: %w", err)
	}
	batch := "link set lo up\nlink add br0 type bridge\nlink set br0 up\nlink set uplink master br0\nlink set uplink up\n"
	if _, err := run(ctx, []byte(batch), "ip", "-n", ctl, "-batch", "-"); err != nil {
		return fmt.Errorf("configure %s: %w", ctl, err)
	}
	if _, err := run(ctx, nil, "ip", "addr", "add", l.st.UplinkAddr+"/24", "dev", l.st.Uplink); err != nil {
		return fmt.Errorf("address uplink: %w", err)
	}
	if _, err := run(ctx, nil, "ip", "link", "set", l.st.Uplink, "up"); err != nil {
		return fmt.Errorf("uplink up: %w", err)
	}
	return nil
}

// startHost writes the host's tree, attaches its disks, creates its network
// namespace and cgroups and launches it.
func (l *Lab) startHost(ctx context.Context, h *hostState, hiers []cgHier, authorized []string, disks int, size int64) error {
	hpriv, hpub, err := genKey("root@" + h.Name)
	if err != nil {
		return fmt.Errorf("%s: host key: %w", h.Name, err)
	}
	if err := l.writeHostTree(h, authorized, hpriv, hpub); err != nil {
		return fmt.Errorf("%s: write files: %w", h.Name, err)
	}
	if err := l.update(func() { h.HostKey = hpub }); err != nil {
		return err
	}
	if disks > 0 {
		if _, err := l.attachDisks(ctx, h, disks, size); err != nil {
			return err
		}
	}
	ns := l.netnsName(h.Name)
	if err := l.recordNS(ns); err != nil {
		return err
	}
	if _, err := run(ctx, nil, "ip", "netns", "add", ns); err != nil {
		return fmt.Errorf("%s: create netns: %w", h.Name, err)
	}
	if _, err := run(ctx, nil, "ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "v"+h.Name, "netns", l.ctlNS()); err != nil {
		return fmt.Errorf("%s: create veth: %w", h.Name, err)
	}
	batch := "link set lo up\naddr add " + h.Addr + "/24 dev eth0\nlink set eth0 up\n"
	if _, err := run(ctx, []byte(batch), "ip", "-n", ns, "-batch", "-"); err != nil {
		return fmt.Errorf("%s: configure eth0: %w", h.Name, err)
	}
	if _, err := run(ctx, nil, "ip", "-n", l.ctlNS(), "link", "set", "v"+h.Name, "master", "br0", "up"); err != nil {
		return fmt.Errorf("%s: attach to bridge: %w", h.Name, err)
	}

	var cgs, names []string
	for _, c := range hiers {
		cgs = append(cgs, filepath.Join(c.mount, c.path, l.st.Prefix+"-"+h.Name))
		names = append(names, c.name)
	}
	if err := l.update(func() { h.Cgroups = cgs }); err != nil {
		return err
	}
	for i, d := range cgs {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s: cgroup: %w", h.Name, err)
		}
		if hiers[i].name == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				b, err := os.ReadFile(filepath.Join(filepath.Dir(d), f))
				if err == nil {
					err = os.WriteFile(filepath.Join(d, f), b, 0o644)
				}
				if err != nil {
					return fmt.Errorf("%s: cgroup %s: %w", h.Name, f, err)
				}
			}
		}
	}

	H := l.hostDir(h.Name)
	console, err := os.OpenFile(filepath.Join(H, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	defer console.Close()
	if l.st.Systemd {
		return l.launch(h, console, joinArgv(cgs, l.nspawnArgv(h, ns)...), nspawnEnv)
	}
	argv := joinArgv(cgs, "/usr/bin/nsenter", "--net=/run/netns/"+ns, "--",
		"/usr/bin/unshare", "--uts", "--mount", "--propagation", "private", "--pid", "--fork",
		"--kill-child", "--mount-proc", "--cgroup", "--",
		"/bin/sh", "-c", initScript, "hostlab-init")
	l.mu.Lock()
	for _, d := range h.Disks {
		argv = append(argv, filepath.Base(d.Dev))
	}
	l.mu.Unlock()
	return l.launch(h, console, argv, []string{"HL_DIR=" + H, "HL_NAME=" + h.Name,
		"HL_CGROUPS=" + strings.Join(names, " "), "HL_IMGSTORE=" + l.st.ImageStore, "HL_USER=" + l.st.User})
}

// launch starts the host's launcher process argv (its output to console)
// and records it.
func (l *Lab) launch(h *hostState, console *os.File, argv, env []string) error {
	// Not CommandContext: the host outlives this call (and, for the CLI,
	// this process); Down ends it.
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Env = append([]string{sysPath, "LANG=C"}, env...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start: %w", h.Name, err)
	}
	p, perr := newProc(cmd.Process.Pid)
	l.children.Add(1)
	go func() { defer l.children.Done(); _ = cmd.Wait() }()
	if perr != nil {
		return fmt.Errorf("%s: launcher exited at once: %w", h.Name, perr)
	}
	return l.update(func() { h.Launcher = p })
}

// joinArgv wraps argv so that it first joins the cgroup directories cgs.
func joinArgv(cgs []string, argv ...string) []string {
	out := []string{"/bin/sh", "-c", joinScript, "hostlab-join", strconv.Itoa(len(cgs))}
	out = append(out, cgs...)
	out = append(out, "--")
	return append(out, argv...)
}

// update applies f to the state under mu and saves it.
func (l *Lab) update(f func()) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
	return l.save()
}

// attachDisks creates k sparse files of size bytes and attaches each to a
// free loop device. The state records each file before losetup, and Down
// detaches every loop device backed by a file in the state directory.
func (l *Lab) attachDisks(ctx context.Context, h *hostState, k int, size int64) ([]Disk, error) {
	dir := filepath.Join(l.st.StateDir, "disks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out []Disk
	for range k {
		l.mu.Lock()
		l.st.DiskSeq++
		file := filepath.Join(dir, fmt.Sprintf("%s-disk%d.img", h.Name, l.st.DiskSeq))
		err := l.save()
		l.mu.Unlock()
		if err != nil {
			return out, err
		}
		f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			err = f.Truncate(size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return out, fmt.Errorf("%s: disk file: %w", h.Name, err)
		}
		b, err := run(ctx, nil, "losetup", "--find", "--show", file)
		if err != nil {
			return out, fmt.Errorf("%s: attach disk: %w", h.Name, err)
		}
		d := Disk{Dev: strings.TrimSpace(string(b)), File: file, Size: size}
		if !strings.HasPrefix(d.Dev, "/dev/loop") {
			return out, fmt.Errorf("%s: losetup printed %q", h.Name, d.Dev)
		}
		if err := l.update(func() { h.Disks = append(h.Disks, d) }); err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// waitHostReady waits until an SSH login as root with the admin key works
// against the host's pinned key, then records the host's init process.
func (l *Lab) waitHostReady(ctx context.Context, h *hostState, signer sshSigner) error {
	l.mu.Lock()
	launcher, key := h.Launcher, h.HostKey
	l.mu.Unlock()
	hk, err := parseKey(key)
	if err != nil {
		return fmt.Errorf("%s: %w", h.Name, err)
	}
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	var last error
	for {
		if !launcher.alive() {
			return fmt.Errorf("%s: %w: host exited during start; console:\n%s", h.Name, ErrNotRunning, l.consoleTail(h.Name))
		}
		if last = probeSSH(ctx, h.Addr, h.Port, "root", signer, hk); last == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not ready: %w (last: %v); console:\n%s", h.Name, ctx.Err(), last, l.consoleTail(h.Name))
		case <-t.C:
		}
	}
	kids := children(launcher.PID)
	if len(kids) != 1 {
		return fmt.Errorf("%s: launcher %d has %d children, want 1", h.Name, launcher.PID, len(kids))
	}
	p, err := newProc(kids[0])
	if err != nil {
		return fmt.Errorf("%s: init: %w", h.Name, err)
	}
	if err := l.update(func() { h.Init = p }); err != nil {
		return err
	}
	if l.st.Systemd {
		return l.prepareSystemdHost(ctx, h)
	}
	return nil
}

func (l *Lab) consoleTail(name string) string {
	var out []string
	for _, f := range []string{"console.log", "log/sshd.log"} {
		b, err := os.ReadFile(filepath.Join(l.hostDir(name), f))
		if err != nil || len(b) == 0 {
			continue
		}
		if len(b) > 2000 {
			b = b[len(b)-2000:]
		}
		out = append(out, f+":\n"+string(b))
	}
	return strings.Join(out, "\n")
}
