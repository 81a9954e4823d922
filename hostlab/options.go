package hostlab

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
)

// Limits on what one lab may ask for.
const (
	MaxHosts       = 250 // one /24: .1-.250 are hosts, .254 is the machine's uplink
	MaxDisksPerOp  = 16
	MinDiskSize    = 1 << 20
	MaxDiskSize    = 16 << 40
	DefaultPrefix  = "orchlab"
	DefaultDiskStr = "10G"
	// DefaultStateRoot holds each lab's state directory, named after its prefix.
	DefaultStateRoot = "/var/tmp/orch-lab"
	// DefaultCacheDir holds the cached image store shared by every lab.
	DefaultCacheDir = "/var/tmp/orch-lab-cache"
	// ImageName is the tiny registry-free image every lab host can run when
	// Options.Images is set (static busybox; CMD /bin/sh).
	ImageName = "localhost/bbox:latest"
)

// Options says what Up builds. The zero value of every optional field is a
// sensible default.
type Options struct {
	// Hosts is the number of hosts, 1..MaxHosts. They are named h1..hN.
	Hosts int
	// Disks sparse-file loop devices of DiskSize bytes are attached to every
	// host; only that host sees them.
	Disks    int
	DiskSize int64
	// Prefix names the lab's network namespaces (<prefix>-ctl,
	// <prefix>-hN) and its uplink (<prefix>-up); [a-z][a-z0-9]{0,11}.
	// Two labs up at the same time need different prefixes.
	Prefix string
	// StateDir holds keys, per-host trees, disk images and lab.json. It
	// must be empty or absent; default DefaultStateRoot/<prefix>.
	StateDir string
	// AuthorizedKeys are extra public keys (authorized_keys lines) allowed
	// to log in as root and as User on every host, next to the lab's own
	// admin key.
	AuthorizedKeys []string
	// User, when set, is created on every host with passwordless sudo and
	// the same authorised keys as root.
	User string
	// Images binds the cached image store holding ImageName read-only into
	// every host (podman additionalimagestores).
	Images bool
	// CacheDir holds the image store; default DefaultCacheDir.
	CacheDir string
	// Systemd makes every host boot real systemd as its PID 1
	// (systemd-nspawn --boot over a cached debootstrap root filesystem with
	// systemd, sshd and podman; see nspawn.go) instead of catatonit + sshd
	// over the machine's own root. Not yet combinable with Disks or User.
	Systemd bool
	// RootfsCache holds the systemd hosts' root filesystem; default
	// DefaultRootfsCache.
	RootfsCache string
	// NoInstall makes Up fail instead of installing missing packages.
	NoInstall bool
	// ReadyTimeout bounds the wait for every host to accept an SSH login;
	// default 60s plus 1s per host.
	ReadyTimeout time.Duration
	// Parallel is how many hosts are set up at once; default 8.
	Parallel int
	// Logger receives progress; default zerolog.Nop().
	Logger *zerolog.Logger
}

// ErrInvalidOptions is wrapped by every validation failure.
var ErrInvalidOptions = errors.New("invalid lab options")

var (
	prefixRE = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)
	userRE   = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,30}$`)
)

func invalidf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, a...))
}

// ValidatePrefix checks a lab prefix.
func ValidatePrefix(p string) error {
	if !prefixRE.MatchString(p) {
		return invalidf("prefix %q: want [a-z][a-z0-9]{0,11}", p)
	}
	return nil
}

// ValidateUser checks a lab user name (not root).
func ValidateUser(u string) error {
	if !userRE.MatchString(u) || u == "root" {
		return invalidf("user %q: want a non-root name matching [a-z_][a-z0-9_-]{0,30}", u)
	}
	return nil
}

// ValidateStateDir checks that dir is absolute and safe to put in mount
// options (overlayfs splits its options on ',' and ':').
func ValidateStateDir(dir string) error {
	if !filepath.IsAbs(dir) {
		return invalidf("state dir %q: must be absolute", dir)
	}
	if strings.ContainsAny(dir, ",:= \t\n\\\"'") {
		return invalidf("state dir %q: must not contain , : = quotes or whitespace", dir)
	}
	if c := filepath.Clean(dir); c == "/" || c == "/tmp" || c == "/run" || c == "/var/tmp" {
		return invalidf("state dir %q: refusing a system directory", dir)
	}
	return nil
}

// ValidateDisks checks a disk count and size.
func ValidateDisks(k int, size int64) error {
	if k < 0 || k > MaxDisksPerOp {
		return invalidf("disks %d: want 0..%d", k, MaxDisksPerOp)
	}
	if k > 0 && (size < MinDiskSize || size > MaxDiskSize) {
		return invalidf("disk size %d: want 1M..16T", size)
	}
	if k > 0 && size%512 != 0 {
		return invalidf("disk size %d: want a multiple of 512 bytes", size)
	}
	return nil
}

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Hosts < 1 || o.Hosts > MaxHosts {
		return o, invalidf("hosts %d: want 1..%d", o.Hosts, MaxHosts)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if err := ValidatePrefix(o.Prefix); err != nil {
		return o, err
	}
	if o.Disks > 0 && o.DiskSize == 0 {
		o.DiskSize, _ = ParseSize(DefaultDiskStr)
	}
	if err := ValidateDisks(o.Disks, o.DiskSize); err != nil {
		return o, err
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir(o.Prefix)
	}
	o.StateDir = filepath.Clean(o.StateDir)
	if err := ValidateStateDir(o.StateDir); err != nil {
		return o, err
	}
	if o.User != "" {
		if err := ValidateUser(o.User); err != nil {
			return o, err
		}
	}
	for i, k := range o.AuthorizedKeys {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil {
			return o, invalidf("authorized key %d: %v", i+1, err)
		}
		if strings.ContainsAny(strings.TrimSpace(k), "\n\r") {
			return o, invalidf("authorized key %d: one key per entry", i+1)
		}
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir
	}
	if !filepath.IsAbs(o.CacheDir) || strings.ContainsAny(o.CacheDir, ",:") {
		return o, invalidf("cache dir %q: must be absolute, without , or :", o.CacheDir)
	}
	if o.Systemd && (o.Disks > 0 || o.User != "") {
		return o, invalidf("systemd hosts do not support disks or a user yet")
	}
	if o.RootfsCache == "" {
		o.RootfsCache = DefaultRootfsCache
	}
	if !filepath.IsAbs(o.RootfsCache) || strings.ContainsAny(o.RootfsCache, ",: \t\n") {
		return o, invalidf("rootfs cache %q: must be absolute, without , : or whitespace", o.RootfsCache)
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 60*time.Second + time.Duration(o.Hosts)*time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	return o, nil
}

// DefaultStateDir is the state directory of the lab with this prefix when
// none is given.
func DefaultStateDir(prefix string) string { return filepath.Join(DefaultStateRoot, prefix) }

// HostName is the name of the i-th host (1-based).
func HostName(i int) string { return "h" + strconv.Itoa(i) }

// ParseSize parses a disk size as truncate(1) does: a number with an
// optional binary suffix K, M, G, T (KiB, MiB...), optionally followed by
// "iB" or "B". "10G" is 10 GiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "iB"), "B")
	if t == "" {
		return 0, invalidf("size %q: empty", s)
	}
	mult := int64(1)
	switch t[len(t)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	}
	if mult != 1 {
		t = t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, invalidf("size %q: want a positive number with an optional K, M, G or T suffix", s)
	}
	if n > MaxDiskSize/mult {
		return 0, invalidf("size %q: too large", s)
	}
	return n * mult, nil
}
