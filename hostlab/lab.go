// Package hostlab runs local test hosts for orch's integration tests and
// demo: each host is a real OpenSSH sshd in its own network, UTS, mount, PID
// and cgroup namespaces, with its own hostname, /etc, /var/lib, /root, /home,
// /run, /tmp, /var/tmp, /dev, podman store and optional loop-device disks
// that only it sees. The machine reaches the hosts over a veth into a bridge
// that lives in the lab's own namespace, on a private /24 chosen per lab.
//
// Everything a lab creates is recorded in <state>/lab.json before it is
// created, and Down removes exactly that: processes (checked by PID and start
// time), loop devices (checked by backing file), cgroups, namespaces, the
// uplink and the state directory. A *Lab is safe for concurrent use.
//
// The package needs root (namespaces, mounts, loop devices). See README.md.
package hostlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
)

// Sentinel errors callers branch on.
var (
	// ErrNoLab: there is no lab state in the given directory.
	ErrNoLab = errors.New("no lab")
	// ErrExists: a lab with this prefix or state directory is already up.
	ErrExists = errors.New("lab already exists")
	// ErrNoHost: the lab has no host of that name.
	ErrNoHost = errors.New("no such host")
	// ErrNotRunning: the host's processes are gone.
	ErrNotRunning = errors.New("host not running")
	// ErrNotRoot: the lab needs root.
	ErrNotRoot = errors.New("hostlab needs root")
)

// Host is one lab host as a client sees it.
type Host struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	Port int    `json:"port"`
}

// Disk is a loop device attached to one host.
type Disk struct {
	Dev  string `json:"dev"`  // /dev/loopN
	File string `json:"file"` // sparse backing file under the state dir
	Size int64  `json:"size"`
}

// proc identifies a process across PID reuse.
type proc struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // field 22 of /proc/PID/stat
}

type hostState struct {
	Host
	HostKey  string   `json:"host_key"` // authorized_keys form
	Launcher proc     `json:"launcher"` // the unshare process
	Init     proc     `json:"init"`     // PID 1 of the host (catatonit), outer PID
	Cgroups  []string `json:"cgroups"`
	Disks    []Disk   `json:"disks"`
	LinkDown bool     `json:"link_down,omitempty"`
}

const stateVersion = 1

type labState struct {
	Version      int          `json:"version"`
	Prefix       string       `json:"prefix"`
	Subnet       string       `json:"subnet"` // "10.77.3" (a /24)
	StateDir     string       `json:"state_dir"`
	CreatedDir   bool         `json:"created_dir"`
	Uplink       string       `json:"uplink"` // veth in the machine's namespace
	UplinkAddr   string       `json:"uplink_addr"`
	User         string       `json:"user,omitempty"`
	ImageStore   string       `json:"image_store,omitempty"`
	Namespaces   []string     `json:"namespaces"` // created, in order
	Hosts        []*hostState `json:"hosts"`
	Phase        string       `json:"phase"` // "starting", "up"
	DiskSeq      int          `json:"disk_seq"`
	AuthorizeExt []string     `json:"authorized_keys,omitempty"`
	Systemd      bool         `json:"systemd,omitempty"` // hosts boot systemd with systemd-nspawn
	Rootfs       string       `json:"rootfs,omitempty"`  // their root filesystem
}

// Lab is a running (or partly started) lab.
type Lab struct {
	log zerolog.Logger

	// mu guards st and the files that mirror it (lab.json, known_hosts).
	mu sync.Mutex
	st labState

	// children are launchers this process started; Down waits for them.
	children sync.WaitGroup
}

const stateFile = "lab.json"

// Load opens the lab whose state is in stateDir. It returns an error
// wrapping ErrNoLab when there is none.
func Load(stateDir string, logger *zerolog.Logger) (*Lab, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", stateDir, ErrNoLab)
	}
	if err != nil {
		return nil, fmt.Errorf("load lab: %w", err)
	}
	l := &Lab{log: logOrNop(logger)}
	if err := json.Unmarshal(b, &l.st); err != nil {
		return nil, fmt.Errorf("load lab %s: %w", stateDir, err)
	}
	if l.st.Version != stateVersion {
		return nil, fmt.Errorf("load lab %s: state version %d, want %d", stateDir, l.st.Version, stateVersion)
	}
	return l, nil
}

func logOrNop(l *zerolog.Logger) zerolog.Logger {
	if l == nil {
		return zerolog.Nop()
	}
	return *l
}

// save writes lab.json atomically. Callers hold mu.
func (l *Lab) save() error {
	b, err := json.MarshalIndent(&l.st, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(l.st.StateDir, stateFile), append(b, '\n'), 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Prefix is the lab's name prefix.
func (l *Lab) Prefix() string { return l.st.Prefix }

// StateDir is the lab's state directory.
func (l *Lab) StateDir() string { return l.st.StateDir }

// Subnet is the lab's /24, e.g. "10.77.3.0/24".
func (l *Lab) Subnet() string { return l.st.Subnet + ".0/24" }

// ControllerAddr is the machine's own address on the lab subnet.
func (l *Lab) ControllerAddr() string { return l.st.UplinkAddr }

// User is the non-root sudo user created on every host, or "".
func (l *Lab) User() string { return l.st.User }

// ImageStore is the read-only image store bound into every host, or "".
func (l *Lab) ImageStore() string { return l.st.ImageStore }

// AdminKeyPath is the lab's private ed25519 key (0600), authorised for root
// (and User) on every host.
func (l *Lab) AdminKeyPath() string { return filepath.Join(l.st.StateDir, "id_ed25519") }

// KnownHostsPath is a known_hosts file with every host's current key, under
// both its name and its address.
func (l *Lab) KnownHostsPath() string { return filepath.Join(l.st.StateDir, "known_hosts") }

// Hosts lists the hosts in order h1..hN.
func (l *Lab) Hosts() []Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Host, 0, len(l.st.Hosts))
	for _, h := range l.st.Hosts {
		out = append(out, h.Host)
	}
	return out
}

// Host returns the host called name.
func (l *Lab) Host(name string) (Host, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := l.hostLocked(name)
	if err != nil {
		return Host{}, err
	}
	return h.Host, nil
}

func (l *Lab) hostLocked(name string) (*hostState, error) {
	i := slices.IndexFunc(l.st.Hosts, func(h *hostState) bool { return h.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrNoHost)
	}
	return l.st.Hosts[i], nil
}

// HostKey is the host's current sshd host key.
func (l *Lab) HostKey(name string) (ssh.PublicKey, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := l.hostLocked(name)
	if err != nil {
		return nil, err
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(h.HostKey))
	if err != nil {
		return nil, fmt.Errorf("%s: parse host key: %w", name, err)
	}
	return k, nil
}

// Disks lists the loop devices attached to host name.
func (l *Lab) Disks(name string) ([]Disk, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, err := l.hostLocked(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(h.Disks), nil
}

// AdminSigner returns the lab's admin key as an ssh.Signer.
func (l *Lab) AdminSigner() (ssh.Signer, error) {
	b, err := os.ReadFile(l.AdminKeyPath())
	if err != nil {
		return nil, fmt.Errorf("read admin key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("parse admin key: %w", err)
	}
	return s, nil
}

func (l *Lab) hostDir(name string) string { return filepath.Join(l.st.StateDir, "hosts", name) }

func (l *Lab) netnsName(host string) string { return l.st.Prefix + "-" + host }

func (l *Lab) ctlNS() string { return l.st.Prefix + "-ctl" }
