//go:build integration

package hostlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sync/errgroup"
)

// sshRun runs cmd over c and returns its trimmed stdout.
func sshRun(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	if err := s.Run(cmd); err != nil {
		t.Fatalf("%q: %v; stderr: %s", cmd, err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// dialKnownHosts connects the way an operator's client would: the lab's
// known_hosts file and a private key.
func dialKnownHosts(ctx context.Context, l *Lab, h Host, user string, signer ssh.Signer, timeout time.Duration) (*ssh.Client, error) {
	cb, err := knownhosts.New(l.KnownHostsPath())
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: cb, Timeout: timeout}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(h.Addr, strconv.Itoa(h.Port))
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	defer stop()
	cc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		if dctx.Err() != nil {
			return nil, fmt.Errorf("%w (%v)", dctx.Err(), err)
		}
		return nil, err
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

// leftovers lists what a downed lab must not leave behind.
func leftovers(t *testing.T, prefix, stateDir, uplink string, pids []proc, cgroups []string) []string {
	t.Helper()
	var out []string
	nss, _ := os.ReadDir("/run/netns")
	for _, e := range nss {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, "netns "+e.Name())
		}
	}
	if linkExists(uplink) {
		out = append(out, "link "+uplink)
	}
	devs, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, f := range devs {
		if b, _ := os.ReadFile(f); strings.HasPrefix(string(b), stateDir+"/") {
			out = append(out, "loop "+f)
		}
	}
	for _, p := range pids {
		if p.alive() {
			out = append(out, fmt.Sprintf("process %d (%s)", p.PID, procComm(p.PID)))
		}
	}
	for _, c := range cgroups {
		if _, err := os.Stat(c); err == nil {
			out = append(out, "cgroup "+c)
		}
	}
	hiers, _ := cgroupHierarchies()
	for _, h := range hiers {
		m, _ := filepath.Glob(filepath.Join(h.mount, h.path, prefix+"-h*"))
		for _, d := range m {
			out = append(out, "cgroup "+d)
		}
	}
	// Any live process still in one of the lab's cgroups or with one of its
	// mounts (its namespaces would then still exist).
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(p))
		if b, err := os.ReadFile(p + "/cgroup"); err == nil && strings.Contains(string(b), "/"+prefix+"-h") {
			out = append(out, fmt.Sprintf("process %d (%s) in a lab cgroup", pid, procComm(pid)))
		}
		if b, err := os.ReadFile(p + "/mountinfo"); err == nil && strings.Contains(string(b), stateDir+"/") {
			out = append(out, fmt.Sprintf("process %d (%s) sees a lab mount", pid, procComm(pid)))
		}
	}
	if ents, err := os.ReadDir(stateDir); err == nil && len(ents) > 0 {
		out = append(out, fmt.Sprintf("state dir %s has %d entries", stateDir, len(ents)))
	}
	return out
}

func TestLab(t *testing.T) {
	// An extra key stands in for orch's cluster key (--authorize-key).
	extraPriv, extraPub, err := genKey("orch-cluster")
	if err != nil {
		t.Fatal(err)
	}
	extra, err := ssh.ParsePrivateKey(extraPriv)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l := ForTest(t, 3, Options{Disks: 2, DiskSize: 64 << 20, User: "labuser", AuthorizedKeys: []string{extraPub}})
	t.Logf("up 3 hosts with 2 disks each: %v", time.Since(start))
	ctx := t.Context()
	admin, err := l.AdminSigner()
	if err != nil {
		t.Fatal(err)
	}
	hosts := l.Hosts()
	if len(hosts) != 3 {
		t.Fatalf("Hosts() = %v", hosts)
	}
	if fi, err := os.Stat(l.AdminKeyPath()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin key mode: %v %v", fi.Mode(), err)
	}

	t.Run("hostname and identity over ssh", func(t *testing.T) {
		seen := map[string]bool{}
		for _, h := range hosts {
			c, err := dialKnownHosts(ctx, l, h, "root", admin, 5*time.Second)
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			if got := sshRun(t, c, "hostname"); got != h.Name {
				t.Errorf("%s: hostname = %q", h.Name, got)
			}
			if got := sshRun(t, c, "cat /etc/hostname"); got != h.Name {
				t.Errorf("%s: /etc/hostname = %q", h.Name, got)
			}
			// Private /etc, /root and /var/lib: a file written on one host
			// is not on another.
			sshRun(t, c, "echo "+h.Name+" > /etc/hostlab-probe && echo x > /root/probe && touch /var/lib/probe-"+h.Name)
			id := sshRun(t, c, "cat /etc/machine-id")
			if seen[id] {
				t.Errorf("%s: machine-id %s not unique", h.Name, id)
			}
			seen[id] = true
			c.Close()
		}
		for _, h := range hosts {
			out, err := l.Exec(ctx, h.Name, "sh", "-c", "cat /etc/hostlab-probe; ls /var/lib | grep probe-")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Fields(string(out)); !slices.Equal(got, []string{h.Name, "probe-" + h.Name}) {
				t.Errorf("%s: sees %q, want only its own files", h.Name, got)
			}
		}
		if _, err := os.Stat("/etc/hostlab-probe"); err == nil {
			t.Error("a host's /etc write reached the machine")
		}
	})

	t.Run("openssh client with strict host key checking", func(t *testing.T) {
		h := hosts[1]
		cmd := exec.CommandContext(ctx, "ssh", "-i", l.AdminKeyPath(), "-o", "UserKnownHostsFile="+l.KnownHostsPath(),
			"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-F", "/dev/null",
			"root@"+h.Addr, "hostname")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != h.Name {
			t.Fatalf("ssh: %v: %s", err, out)
		}
	})

	t.Run("authorised extra key and sudo user", func(t *testing.T) {
		for _, h := range hosts {
			c, err := dialKnownHosts(ctx, l, h, "root", extra, 5*time.Second)
			if err != nil {
				t.Fatalf("%s: extra key as root: %v", h.Name, err)
			}
			c.Close()
			c, err = dialKnownHosts(ctx, l, h, "labuser", extra, 5*time.Second)
			if err != nil {
				t.Fatalf("%s: extra key as labuser: %v", h.Name, err)
			}
			if got := sshRun(t, c, "id -un; sudo -n id -u; sudo -n cat /etc/ssh/ssh_host_ed25519_key.pub | cut -d' ' -f2"); got != "labuser\n0\n"+strings.Fields(mustHostKeyLine(t, l, h.Name))[1] {
				t.Errorf("%s: labuser/sudo = %q", h.Name, got)
			}
			c.Close()
		}
		// Without sudo the user is not root.
		c, err := l.Dial(ctx, "h1", "labuser")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, _ := c.NewSession()
		defer s.Close()
		if err := s.Run("cat /etc/ssh/ssh_host_ed25519_key"); err == nil {
			t.Error("labuser read the host's private key without sudo")
		}
	})

	t.Run("each host sees only its own disks", func(t *testing.T) {
		for _, h := range hosts {
			disks, err := l.Disks(h.Name)
			if err != nil || len(disks) != 2 {
				t.Fatalf("%s: Disks = %v, %v", h.Name, disks, err)
			}
			var want []string
			for _, d := range disks {
				want = append(want, filepath.Base(d.Dev))
			}
			slices.Sort(want)
			c, err := l.Dial(ctx, h.Name, "")
			if err != nil {
				t.Fatal(err)
			}
			var lsblk struct {
				Blockdevices []struct {
					Name string `json:"name"`
					Type string `json:"type"`
					Size int64  `json:"size"`
				} `json:"blockdevices"`
			}
			if err := json.Unmarshal([]byte(sshRun(t, c, "lsblk -J -b -d -o NAME,TYPE,SIZE")), &lsblk); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range lsblk.Blockdevices {
				got = append(got, b.Name)
				if b.Type != "loop" || b.Size != 64<<20 {
					t.Errorf("%s: %s is %s of %d bytes", h.Name, b.Name, b.Type, b.Size)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: lsblk shows %v, want %v", h.Name, got, want)
			}
			devs := strings.Fields(sshRun(t, c, "cd /dev && ls -d loop*"))
			slices.Sort(devs)
			if !slices.Equal(devs, want) {
				t.Errorf("%s: /dev has %v, want %v", h.Name, devs, want)
			}
			// The disk is usable: write and read back through the device.
			dev := "/dev/" + want[0]
			if got := sshRun(t, c, "echo "+h.Name+" | dd of="+dev+" bs=512 conv=sync status=none && head -c 2 "+dev); got != h.Name {
				t.Errorf("%s: read back %q from %s", h.Name, got, dev)
			}
			c.Close()
		}
	})

	t.Run("podman run inside a host", func(t *testing.T) {
		c, err := l.Dial(ctx, "h1", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := sshRun(t, c, "podman run --rm --pull=never --network=none "+ImageName+" echo hello"); got != "hello" {
			t.Errorf("podman run = %q", got)
		}
		sshRun(t, c, "podman run -d --init --name probe --pull=never --network=host "+ImageName+" sleep 600")
		if got := sshRun(t, c, "podman ps --format '{{.Names}}'"); got != "probe" {
			t.Errorf("h1 podman ps = %q", got)
		}
		out, err := l.Exec(ctx, "h2", "podman", "ps", "-a", "--format", "{{.Names}}")
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("h2 sees containers %q (%v): stores must be per host", out, err)
		}
		// The container is left running: Down must take it away.
	})

	t.Run("exec and typed exit errors", func(t *testing.T) {
		out, err := l.Exec(ctx, "h2", "cat", "/etc/hostname")
		if err != nil || strings.TrimSpace(string(out)) != "h2" {
			t.Fatalf("Exec = %q, %v", out, err)
		}
		_, err = l.Exec(ctx, "h1", "sh", "-c", "echo oops >&2; exit 3")
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != 3 || strings.TrimSpace(ee.Stderr) != "oops" || ee.Host != "h1" {
			t.Fatalf("Exec exit 3 = %#v", err)
		}
		// argv is not a shell string.
		out, err = l.Exec(ctx, "h1", "echo", "$(id)", ";", "true")
		if err != nil || strings.TrimSpace(string(out)) != "$(id) ; true" {
			t.Fatalf("argv passed through a shell: %q %v", out, err)
		}
		if _, err := l.Exec(ctx, "h9", "true"); !errors.Is(err, ErrNoHost) {
			t.Fatalf("Exec on h9 = %v, want ErrNoHost", err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		if _, err := l.Exec(short, "h1", "sleep", "30"); !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 5*time.Second {
			t.Fatalf("cancelled Exec = %v after %v", err, time.Since(t0))
		}
	})

	t.Run("frozen sshd fails within the timeout, existing connections live", func(t *testing.T) {
		h := hosts[0]
		live, err := l.Dial(ctx, h.Name, "")
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		if err := l.FreezeSSHD(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		if s := l.Status()[0]; s.SSHD != "frozen" {
			t.Errorf("status sshd = %q, want frozen", s.SSHD)
		}
		t0 := time.Now()
		_, err = dialKnownHosts(ctx, l, h, "root", admin, time.Second)
		if err == nil || time.Since(t0) > 3*time.Second {
			t.Fatalf("dial to frozen sshd: %v after %v", err, time.Since(t0))
		}
		if got := sshRun(t, live, "hostname"); got != h.Name {
			t.Errorf("existing connection: %q", got)
		}
		if err := l.ThawSSHD(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		if err := l.WaitSSH(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stopped sshd refuses at once", func(t *testing.T) {
		h := hosts[1]
		if err := l.StopSSHD(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		if s := l.Status()[1]; s.SSHD != "stopped" || !s.Running {
			t.Errorf("status = %+v, want running host with sshd stopped", s)
		}
		t0 := time.Now()
		_, err := dialKnownHosts(ctx, l, h, "root", admin, 5*time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(t0) > time.Second {
			t.Fatalf("dial to stopped sshd: %v after %v, want ECONNREFUSED at once", err, time.Since(t0))
		}
		if err := l.StopSSHD(ctx, h.Name); err != nil {
			t.Fatalf("second StopSSHD: %v", err)
		}
		if err := l.StartSSHD(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		if err := l.StartSSHD(ctx, h.Name); err != nil {
			t.Fatalf("second StartSSHD: %v", err)
		}
		if n := strings.Count(string(must(l.Exec(ctx, h.Name, "ps", "-eo", "args"))), "[listener]"); n != 1 {
			t.Errorf("%d sshd listeners after restart, want 1", n)
		}
	})

	t.Run("link down fails within the timeout", func(t *testing.T) {
		h := hosts[2]
		if err := l.LinkDown(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		_, err := dialKnownHosts(ctx, l, h, "root", admin, time.Second)
		if err == nil || time.Since(t0) > 3*time.Second {
			t.Fatalf("dial with link down: %v after %v", err, time.Since(t0))
		}
		if s := l.Status()[2]; s.Link != "down" {
			t.Errorf("status link = %q", s.Link)
		}
		if err := l.LinkUp(ctx, h.Name); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := l.WaitSSH(wctx, h.Name); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("regenerated host key is refused by a client that pinned the old one", func(t *testing.T) {
		h := hosts[2]
		old, err := l.HostKey(h.Name)
		if err != nil {
			t.Fatal(err)
		}
		oldKnown, err := os.ReadFile(l.KnownHostsPath())
		if err != nil {
			t.Fatal(err)
		}
		newKey, err := l.RegenerateHostKey(ctx, h.Name)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(newKey.Marshal(), old.Marshal()) {
			t.Fatal("key did not change")
		}
		_, err = dialSSH(ctx, h.Addr, h.Port, "root", admin, old)
		if err == nil || !strings.Contains(err.Error(), "host key mismatch") {
			t.Fatalf("dial with the old key pinned: %v", err)
		}
		pinned := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(pinned, oldKnown, 0o600); err != nil {
			t.Fatal(err)
		}
		cb, _ := knownhosts.New(pinned)
		cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(admin)}, HostKeyCallback: cb, Timeout: 5 * time.Second}
		_, err = ssh.Dial("tcp", net.JoinHostPort(h.Addr, "22"), cfg)
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) || len(ke.Want) == 0 {
			t.Fatalf("old known_hosts: %v, want a knownhosts.KeyError", err)
		}
		c, err := dialKnownHosts(ctx, l, h, "root", admin, 5*time.Second)
		if err != nil {
			t.Fatalf("lab known_hosts after regenerate: %v", err)
		}
		c.Close()
	})

	t.Run("add disks", func(t *testing.T) {
		added, err := l.AddDisks(ctx, "h3", 1, 32<<20)
		if err != nil || len(added) != 1 {
			t.Fatalf("AddDisks = %v, %v", added, err)
		}
		out := must(l.Exec(ctx, "h3", "lsblk", "-d", "-n", "-o", "NAME"))
		if n := len(strings.Fields(string(out))); n != 3 {
			t.Errorf("h3 lsblk after add: %q", out)
		}
		if !strings.Contains(string(out), filepath.Base(added[0].Dev)) {
			t.Errorf("h3 lsblk lacks %s: %q", added[0].Dev, out)
		}
		if out := must(l.Exec(ctx, "h2", "lsblk", "-d", "-n", "-o", "NAME")); strings.Contains(string(out), filepath.Base(added[0].Dev)) {
			t.Errorf("h2 sees h3's new disk: %q", out)
		}
	})

	t.Run("load from state", func(t *testing.T) {
		l2, err := Load(l.StateDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range l2.Status() {
			if !s.Running || s.SSHD != "running" || s.Link != "up" {
				t.Errorf("loaded status %+v", s)
			}
		}
	})

	// Down, then check that nothing is left. ForTest's cleanup calls Down a
	// second time, which must be a no-op.
	l.mu.Lock()
	var pids []proc
	var cgroups []string
	for _, h := range l.st.Hosts {
		pids = append(pids, h.Init, h.Launcher)
		cgroups = append(cgroups, h.Cgroups...)
	}
	for _, p := range children(l.st.Hosts[0].Init.PID) { // sshd, conmon...
		if pr, err := newProc(p); err == nil {
			pids = append(pids, pr)
		}
	}
	prefix, stateDir, uplink := l.st.Prefix, l.st.StateDir, l.st.Uplink
	l.mu.Unlock()
	t0 := time.Now()
	if err := l.Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	t.Logf("down: %v", time.Since(t0))
	if left := leftovers(t, prefix, stateDir, uplink, pids, cgroups); len(left) > 0 {
		t.Fatalf("down left:\n%s", strings.Join(left, "\n"))
	}
	if err := l.Down(ctx); err != nil {
		t.Fatalf("second down: %v", err)
	}
}

func mustHostKeyLine(t *testing.T, l *Lab, name string) string {
	t.Helper()
	k, err := l.HostKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(k))
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Two labs at once (as two test packages would run) get different
// subnets and cannot reach each other.
func TestTwoLabs(t *testing.T) {
	ctx := t.Context()
	labs := make([]*Lab, 2)
	var g errgroup.Group
	for i := range labs {
		dir, err := os.MkdirTemp("/var/tmp", "orch-lab-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove(dir) })
		prefix := fmt.Sprintf("t%d%x", i, time.Now().UnixNano()&0xffffff)
		g.Go(func() error {
			l, err := Up(ctx, Options{Hosts: 1, Prefix: prefix, StateDir: dir})
			labs[i] = l
			return err
		})
	}
	err := g.Wait()
	t.Cleanup(func() {
		for _, l := range labs {
			if l != nil {
				if err := l.Down(context.Background()); err != nil {
					t.Errorf("down %s: %v", l.Prefix(), err)
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b := labs[0], labs[1]
	if a.Subnet() == b.Subnet() {
		t.Fatalf("both labs on %s", a.Subnet())
	}
	for _, l := range labs {
		if err := l.WaitSSH(ctx, "h1"); err != nil {
			t.Fatalf("%s: %v", l.Prefix(), err)
		}
	}
	// bash's /dev/tcp: a's host has no route to b's subnet.
	_, err = a.Exec(ctx, "h1", "timeout", "3", "bash", "-c", "echo > /dev/tcp/"+b.Hosts()[0].Addr+"/22")
	var ee *ExitError
	if !errors.As(err, &ee) || !strings.Contains(ee.Stderr, "unreachable") {
		t.Fatalf("lab a reached lab b: %v", err)
	}
}

// A failed Up removes what it had created.
func TestUpFailureCleansUp(t *testing.T) {
	dir, err := os.MkdirTemp("/var/tmp", "orch-lab-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	prefix := fmt.Sprintf("f%x", time.Now().UnixNano()&0xffffff)
	// No host can accept a login within a millisecond.
	_, err = Up(t.Context(), Options{Hosts: 2, Disks: 1, DiskSize: 1 << 20, Prefix: prefix, StateDir: dir, ReadyTimeout: time.Millisecond})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Up = %v, want a readiness timeout", err)
	}
	if left := leftovers(t, prefix, dir, prefix+"-up", nil, nil); len(left) > 0 {
		t.Fatalf("failed up left:\n%s", strings.Join(left, "\n"))
	}
}

// TestStartSSHDWithLingeringSession stops sshd while a session is open (its
// process is reparented to the host's init) and checks that StartSSHD
// starts a new listener instead of mistaking the session for one.
func TestStartSSHDWithLingeringSession(t *testing.T) {
	lab := ForTest(t, 1, Options{})
	h := lab.Hosts()[0].Name
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := lab.Dial(ctx, h, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Start("sleep 60"); err != nil {
		t.Fatal(err)
	}
	if err := lab.StopSSHD(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := lab.StartSSHD(ctx, h); err != nil {
		t.Fatalf("StartSSHD with a session still open: %v", err)
	}
	c2, err := lab.Dial(ctx, h, "")
	if err != nil {
		t.Fatalf("login after StartSSHD: %v", err)
	}
	c2.Close()
}

// TestReapDeadTestLab: a lab whose test process died without its cleanup
// (go test's -timeout kills the binary) is removed by the next ForTest's
// reaper; a lab of a live process is left alone.
func TestReapDeadTestLab(t *testing.T) {
	mk := func(owner proc) (*Lab, string) {
		dir, err := os.MkdirTemp(testLabRoot, testLabPattern)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(owner)
		if err := os.WriteFile(dir+testOwnerSuffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove(dir); _ = os.Remove(dir + testOwnerSuffix) })
		prefix := fmt.Sprintf("r%x", time.Now().UnixNano()&0xffffff)
		l, err := Up(t.Context(), Options{Hosts: 1, Disks: 1, DiskSize: 1 << 20, Prefix: prefix, StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return l, dir
	}
	me, err := newProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A dead owner: this PID with another start time (a reused PID).
	dead, deadDir := mk(proc{PID: me.PID, Start: me.Start + 1})
	live, liveDir := mk(me)
	t.Cleanup(func() { _ = live.Down(context.Background()) })

	reapTestLabs(t)
	if left := leftovers(t, dead.Prefix(), deadDir, dead.Prefix()+"-up", nil, nil); len(left) > 0 {
		t.Errorf("the dead test's lab is still there:\n%s", strings.Join(left, "\n"))
	}
	if _, err := os.Stat(deadDir + testOwnerSuffix); !os.IsNotExist(err) {
		t.Errorf("owner record left: %v", err)
	}
	if _, err := Load(liveDir, nil); err != nil {
		t.Fatalf("the live test's lab was touched: %v", err)
	}
	if err := live.WaitSSH(t.Context(), "h1"); err != nil {
		t.Fatalf("the live test's host: %v", err)
	}
}
