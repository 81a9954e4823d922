package hostlab

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"10G", 10 << 30, false},
		{"10GiB", 10 << 30, false},
		{"512M", 512 << 20, false},
		{"1m", 1 << 20, false},
		{"4096", 4096, false},
		{"2T", 2 << 40, false},
		{"64K", 64 << 10, false},
		{"", 0, true},
		{"G", 0, true},
		{"-1G", 0, true},
		{"0", 0, true},
		{"1.5G", 0, true},
		{"10X", 0, true},
		{"99999999T", 0, true},
		{"1G; rm -rf /", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.err {
				if !errors.Is(err, ErrInvalidOptions) {
					t.Fatalf("ParseSize(%q) = %d, %v; want ErrInvalidOptions", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKz8nS6VSOK4JtBY0qN1wE1bHk6mQ1iKq3dV8oVgD7Jb test@x"
	ok := Options{Hosts: 3}
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		ok   bool
	}{
		{"defaults", func(*Options) {}, true},
		{"zero hosts", func(o *Options) { o.Hosts = 0 }, false},
		{"too many hosts", func(o *Options) { o.Hosts = MaxHosts + 1 }, false},
		{"max hosts", func(o *Options) { o.Hosts = MaxHosts }, true},
		{"prefix upper", func(o *Options) { o.Prefix = "Lab" }, false},
		{"prefix too long", func(o *Options) { o.Prefix = "abcdefghijklm" }, false},
		{"prefix 12", func(o *Options) { o.Prefix = "abcdefghijkl" }, true},
		{"prefix dash", func(o *Options) { o.Prefix = "a-b" }, false},
		{"prefix shell", func(o *Options) { o.Prefix = "a;rm" }, false},
		{"disks", func(o *Options) { o.Disks, o.DiskSize = 2, 1<<30 }, true},
		{"disks default size", func(o *Options) { o.Disks = 2 }, true},
		{"too many disks", func(o *Options) { o.Disks = MaxDisksPerOp + 1 }, false},
		{"negative disks", func(o *Options) { o.Disks = -1 }, false},
		{"tiny disk", func(o *Options) { o.Disks, o.DiskSize = 1, 4096 }, false},
		{"odd disk", func(o *Options) { o.Disks, o.DiskSize = 1, 1<<20+1 }, false},
		{"relative state", func(o *Options) { o.StateDir = "state" }, false},
		{"state with comma", func(o *Options) { o.StateDir = "/var/tmp/a,b" }, false},
		{"state with colon", func(o *Options) { o.StateDir = "/var/tmp/a:b" }, false},
		{"state with space", func(o *Options) { o.StateDir = "/var/tmp/a b" }, false},
		{"state is /tmp", func(o *Options) { o.StateDir = "/tmp/" }, false},
		{"state ok", func(o *Options) { o.StateDir = "/var/tmp/mylab" }, true},
		{"user", func(o *Options) { o.User = "alice" }, true},
		{"user root", func(o *Options) { o.User = "root" }, false},
		{"user upper", func(o *Options) { o.User = "Alice" }, false},
		{"user shell", func(o *Options) { o.User = "a$(id)" }, false},
		{"user dash first", func(o *Options) { o.User = "-x" }, false},
		{"authorized key", func(o *Options) { o.AuthorizedKeys = []string{key} }, true},
		{"bad key", func(o *Options) { o.AuthorizedKeys = []string{"ssh-ed25519 nope"} }, false},
		{"two keys in one", func(o *Options) { o.AuthorizedKeys = []string{key + "\n" + key} }, false},
		{"relative cache", func(o *Options) { o.CacheDir = "cache" }, false},
		{"systemd", func(o *Options) { o.Systemd = true }, true},
		{"systemd with disks", func(o *Options) { o.Systemd, o.Disks = true, 1 }, false},
		{"systemd with user", func(o *Options) { o.Systemd, o.User = true, "alice" }, false},
		{"relative rootfs cache", func(o *Options) { o.RootfsCache = "rootfs" }, false},
		{"rootfs cache with colon", func(o *Options) { o.RootfsCache = "/var/cache/a:b" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.mod(&o)
			got, err := o.withDefaults()
			if tc.ok != (err == nil) {
				t.Fatalf("withDefaults() error = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidOptions) {
					t.Fatalf("error %v does not wrap ErrInvalidOptions", err)
				}
				return
			}
			if got.Prefix == "" || got.StateDir == "" || got.CacheDir == "" || got.Parallel <= 0 || got.ReadyTimeout <= 0 {
				t.Fatalf("defaults not filled: %+v", got)
			}
			if got.Disks > 0 && got.DiskSize < MinDiskSize {
				t.Fatalf("disk size default not filled: %d", got.DiskSize)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	o, err := Options{Hosts: 30}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Prefix != DefaultPrefix || o.StateDir != "/var/tmp/orch-lab/"+DefaultPrefix {
		t.Fatalf("prefix/state = %q %q", o.Prefix, o.StateDir)
	}
	if o.ReadyTimeout != 90*time.Second {
		t.Fatalf("ReadyTimeout = %v, want 90s for 30 hosts", o.ReadyTimeout)
	}
	if HostName(12) != "h12" {
		t.Fatalf("HostName(12) = %q", HostName(12))
	}
}

func TestPickSubnet(t *testing.T) {
	pp := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		used []netip.Prefix
		want string
		err  bool
	}{
		{"empty", nil, "10.77.0", false},
		{"unrelated", pp("192.0.2.0/24", "127.0.0.0/8"), "10.77.0", false},
		{"first taken", pp("10.77.0.0/24"), "10.77.1", false},
		{"two taken", pp("10.77.1.0/24", "10.77.0.0/24"), "10.77.2", false},
		{"covering /8", pp("10.0.0.0/8"), "", true},
		{"covering /20", pp("10.77.0.0/20"), "10.77.16", false},
		{"host route", pp("10.77.0.5/32"), "10.77.1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickSubnet(tc.used)
			if tc.err != (err != nil) || got != tc.want {
				t.Fatalf("pickSubnet = %q, %v; want %q (err %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestHexIPv4(t *testing.T) {
	a, err := hexIPv4("0002000A") // /proc/net/route little-endian for 10.0.2.0
	if err != nil || a.String() != "10.0.2.0" {
		t.Fatalf("hexIPv4 = %v, %v", a, err)
	}
	if _, err := hexIPv4("zz"); err == nil {
		t.Fatal("hexIPv4(zz) succeeded")
	}
	if _, err := usedPrefixes(); err != nil {
		t.Fatalf("usedPrefixes: %v", err)
	}
}

func TestProcStat(t *testing.T) {
	ppid, state, start, err := procStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ppid != os.Getppid() || start == 0 || state == 'Z' {
		t.Fatalf("procStat(self) = ppid %d state %c start %d", ppid, state, start)
	}
	me, err := newProc(os.Getpid())
	if err != nil || !me.alive() {
		t.Fatalf("self not alive: %+v %v", me, err)
	}
	if (proc{PID: os.Getpid(), Start: me.Start + 1}).alive() {
		t.Fatal("a different start time must not count as the same process")
	}
	if (proc{}).alive() {
		t.Fatal("zero proc alive")
	}
}

func TestJoinArgv(t *testing.T) {
	got := joinArgv([]string{"/cg/a", "/cg/b"}, "nsenter", "--", "x; y")
	want := []string{"/bin/sh", "-c", joinScript, "hostlab-join", "2", "/cg/a", "/cg/b", "--", "nsenter", "--", "x; y"}
	if !slices.Equal(got, want) {
		t.Fatalf("joinArgv = %q", got)
	}
}

func TestScriptsAreConstant(t *testing.T) {
	// Inputs reach the scripts only through HL_* and "$@"; a template
	// marker or a Go format verb would mean text is being built from input.
	for name, s := range map[string]string{"init": initScript, "diskview": diskviewScript, "join": joinScript} {
		if strings.Contains(s, "{{") || strings.Contains(s, "%s") || strings.Contains(s, "%d") {
			t.Errorf("%s script contains a template marker", name)
		}
		if strings.TrimSpace(s) == "" {
			t.Errorf("%s script is empty", name)
		}
	}
	if !strings.Contains(initScript, "hl_diskview()") || !strings.Contains(diskviewScript, `hl_diskview "$@"`) {
		t.Error("diskview function not wired into the scripts")
	}
}

func TestStorageConf(t *testing.T) {
	if s := storageConf(true); !strings.Contains(s, `additionalimagestores = ["/var/lib/shared-images"]`) {
		t.Fatalf("storageConf(true) = %s", s)
	}
	if s := storageConf(false); !strings.Contains(s, "additionalimagestores = []") {
		t.Fatalf("storageConf(false) = %s", s)
	}
}

func TestGenKey(t *testing.T) {
	priv, pub, err := genKey("root@h1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(priv), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Fatalf("private key not in OpenSSH format")
	}
	if _, err := parseKey(pub); err != nil || !strings.HasSuffix(pub, " root@h1") {
		t.Fatalf("public key %q: %v", pub, err)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(t.TempDir(), nil)
	if !errors.Is(err, ErrNoLab) {
		t.Fatalf("Load(empty) = %v, want ErrNoLab", err)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := &Lab{st: labState{Version: stateVersion, Prefix: "x", Subnet: "10.77.9", StateDir: dir,
		Hosts: []*hostState{{Host: Host{Name: "h1", Addr: "10.77.9.1", Port: 22}}}}}
	if err := l.update(func() { l.st.Hosts[0].LinkDown = true }); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := got.Hosts(); len(h) != 1 || h[0].Addr != "10.77.9.1" || got.Subnet() != "10.77.9.0/24" {
		t.Fatalf("loaded %+v", h)
	}
	if _, err := got.Host("h2"); !errors.Is(err, ErrNoHost) {
		t.Fatalf("Host(h2) = %v, want ErrNoHost", err)
	}
	if s := got.Status(); len(s) != 1 || s[0].Running || s[0].Link != "down" {
		t.Fatalf("Status = %+v", s)
	}
	if _, err := got.Exec(t.Context(), "h1", "true"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Exec on a dead host = %v, want ErrNotRunning", err)
	}
}

func TestNspawnArgv(t *testing.T) {
	dir := t.TempDir()
	l := &Lab{st: labState{Prefix: "p", StateDir: dir, Systemd: true, Rootfs: "/var/cache/orch-lab-rootfs/bookworm-r1",
		ImageStore: "/var/tmp/orch-lab-cache/images"}}
	h := &hostState{Host: Host{Name: "h1"}}
	etc := filepath.Join(dir, "hosts", "h1", "etc.upper")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "machine-id"), []byte("0123456789abcdef0123456789abcdef\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	argv := strings.Join(l.nspawnArgv(h, "p-h1"), " ")
	for _, want := range []string{"--boot", "--volatile=overlay", "--directory=/var/cache/orch-lab-rootfs/bookworm-r1",
		"--network-namespace-path=/run/netns/p-h1", "--register=no", "--keep-unit", "--capability=CAP_NET_ADMIN",
		"--uuid=0123456789abcdef0123456789abcdef", "--hostname=h1",
		"--bind-ro=" + etc + "/containers/containers.conf:/etc/containers/containers.conf",
		"--bind=" + filepath.Join(dir, "hosts", "h1", "root") + ":/root",
		"--bind-ro=/var/tmp/orch-lab-cache/images:/var/lib/shared-images"} {
		if !strings.Contains(argv, want) {
			t.Errorf("nspawn argv lacks %q: %s", want, argv)
		}
	}
	if c := l.containersConf(); !strings.Contains(c, "keyring = false") || !strings.Contains(c, `cgroups = "disabled"`) {
		t.Errorf("nspawn containers.conf: %s", c)
	}
}

func TestDebianSource(t *testing.T) {
	mirror, suite := debianSource()
	if !strings.HasPrefix(mirror, "http") || suite == "" || strings.HasSuffix(mirror, "/") {
		t.Errorf("debianSource() = %q, %q", mirror, suite)
	}
}

func TestIsListenerCmdline(t *testing.T) {
	tests := []struct {
		cmdline string
		want    bool
	}{
		{"sshd: /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log [listener] 0 of 200-400 startups", true},
		{"/usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log", true},
		{"sshd: root@notty", false},
		{"sshd: root [priv]", false},
		{"sshd: orchdeploy@notty", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isListenerCmdline(tt.cmdline); got != tt.want {
			t.Errorf("isListenerCmdline(%q) = %v, want %v", tt.cmdline, got, tt.want)
		}
	}
}
