package hostlab

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// The scripts below are constant text; every input reaches them as argv or
// HL_* environment variables that the Go side validated.
var (
	//go:embed scripts/init.sh
	initBody string
	//go:embed scripts/diskview.sh
	diskviewFn string
	//go:embed scripts/join.sh
	joinScript string

	initScript     = diskviewFn + "\n" + initBody
	diskviewScript = "set -eu\n" + diskviewFn + "\nhl_diskview \"$@\"\n"
)

const sshdConfig = `# written by hostlab
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PidFile /run/sshd.pid
MaxStartups 200:30:400
MaxSessions 64
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`

// containersConf holds the podman settings this machine needs (see
// shared/reference/test-hosts.md): no CAP_SYS_RESOURCE for the rootful
// default rlimits, no systemd.
const containersConf = `[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`

func (l *Lab) containersConf() string {
	if l.st.Systemd {
		return nspawnContainersConf
	}
	return containersConf
}

func storageConf(withImages bool) string {
	extra := ""
	if withImages {
		extra = `"/var/lib/shared-images"`
	}
	return `[storage]
driver = "overlay"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
[storage.options]
additionalimagestores = [` + extra + `]
`
}

// genKey returns an OpenSSH-format ed25519 private key and its
// authorized_keys line.
func genKey(comment string) (priv []byte, pub string, err error) {
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	blk, err := ssh.MarshalPrivateKey(sk, comment)
	if err != nil {
		return nil, "", err
	}
	spk, err := ssh.NewPublicKey(pk)
	if err != nil {
		return nil, "", err
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(spk))) + " " + comment
	return pem.EncodeToMemory(blk), line, nil
}

func writeKeyPair(path string, priv []byte, pub string) error {
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		return err
	}
	return os.WriteFile(path+".pub", []byte(pub+"\n"), 0o644)
}

// writeHostTree creates the per-host directories and files written into the
// host's /etc overlay, /root and friends before the host starts.
func (l *Lab) writeHostTree(h *hostState, authorized []string, hostPriv []byte, hostPub string) error {
	H := l.hostDir(h.Name)
	for _, d := range []string{"etc.upper/ssh", "etc.upper/containers", "etc.work", "varlib.upper", "varlib.work",
		"root/.ssh", "home", "containers", "log", "vartmp"} {
		if err := os.MkdirAll(filepath.Join(H, d), 0o755); err != nil {
			return err
		}
	}
	for _, d := range []string{"root", "root/.ssh"} {
		if err := os.Chmod(filepath.Join(H, d), 0o700); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(H, "vartmp"), 0o1777); err != nil {
		return err
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
	fmt.Fprintf(&hosts, "%s controller\n", l.st.UplinkAddr)
	for _, o := range l.st.Hosts {
		fmt.Fprintf(&hosts, "%s %s\n", o.Addr, o.Name)
	}
	mid := make([]byte, 16)
	if _, err := rand.Read(mid); err != nil {
		return err
	}
	files := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{"etc.upper/hostname", h.Name + "\n", 0o644},
		{"etc.upper/machine-id", hex.EncodeToString(mid) + "\n", 0o444},
		{"etc.upper/hosts", hosts.String(), 0o644},
		{"etc.upper/ssh/sshd_config", sshdConfig, 0o644},
		{"etc.upper/ssh/ssh_host_ed25519_key", string(hostPriv), 0o600},
		{"etc.upper/ssh/ssh_host_ed25519_key.pub", hostPub + "\n", 0o644},
		{"etc.upper/containers/containers.conf", l.containersConf(), 0o644},
		{"etc.upper/containers/storage.conf", storageConf(l.st.ImageStore != ""), 0o644},
		{"root/.ssh/authorized_keys", strings.Join(authorized, "\n") + "\n", 0o600},
	}
	if l.st.User != "" {
		if err := os.MkdirAll(filepath.Join(H, "etc.upper/sudoers.d"), 0o755); err != nil {
			return err
		}
		files = append(files, struct {
			path string
			data string
			mode os.FileMode
		}{"etc.upper/sudoers.d/hostlab-" + l.st.User, l.st.User + " ALL=(ALL:ALL) NOPASSWD: ALL\n", 0o440})
	}
	// A fresh root home like a new Debian install, not the machine's
	// (its dotfiles may be slow or hold credentials).
	for _, f := range []struct{ src, dst string }{
		{"/usr/share/base-files/dot.bashrc", "root/.bashrc"},
		{"/usr/share/base-files/dot.profile", "root/.profile"},
	} {
		if b, err := os.ReadFile(f.src); err == nil {
			files = append(files, struct {
				path string
				data string
				mode os.FileMode
			}{f.dst, string(b), 0o644})
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(H, f.path), []byte(f.data), f.mode); err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(H, f.path), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeKnownHosts rewrites known_hosts from the state. Callers hold mu.
func (l *Lab) writeKnownHosts() error {
	var b strings.Builder
	for _, h := range l.st.Hosts {
		if h.HostKey == "" {
			continue
		}
		f := strings.Fields(h.HostKey)
		fmt.Fprintf(&b, "%s,%s %s %s\n", h.Name, h.Addr, f[0], f[1])
	}
	return writeFileAtomic(l.KnownHostsPath(), []byte(b.String()), 0o644)
}

// cgroupHierarchies returns the v1 hierarchies this process is in, as
// (mount option name, mount point, our path in it).
type cgHier struct{ name, mount, path string }

func cgroupHierarchies() ([]cgHier, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []cgHier
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), ":", 3)
		if len(p) != 3 || p[0] == "0" || p[1] == "" {
			continue
		}
		name := p[1]
		dir := name
		if name == "name=systemd" {
			name, dir = "systemd", "systemd"
		} else if strings.HasPrefix(name, "name=") {
			continue
		}
		mnt := filepath.Join("/sys/fs/cgroup", dir)
		if _, err := os.Stat(filepath.Join(mnt, "cgroup.procs")); err != nil {
			continue
		}
		out = append(out, cgHier{name: name, mount: mnt, path: p[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cgroup v1 hierarchy found: hostlab needs cgroup v1 or hybrid mode")
	}
	return out, nil
}
