package sshexec

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Target is how to reach one host. Hosts are known to the Pool by Name.
type Target struct {
	// Name is the inventory host name; it identifies the host in the Pool,
	// in errors and in logs.
	Name string
	// Addr is the hostname or IP to dial; empty means Name.
	Addr string
	// Port defaults to 22.
	Port int
	// User defaults to "root". Any other user runs commands through
	// passwordless sudo ("sudo -n --").
	User string
	// Signer is the client identity (the cluster SSH key).
	Signer ssh.Signer
	// HostKey pins the host's key: one or more lines in authorized_keys
	// format ("ssh-ed25519 AAAA... comment"). Either HostKey or
	// KnownHostsFile is required: host keys are always verified. Use
	// ScanHostKey to learn the key on first contact.
	HostKey string
	// KnownHostsFile is an OpenSSH known_hosts file to verify against.
	KnownHostsFile string
	// ProxyJump, when set, reaches the host through one bastion.
	ProxyJump *Jump
	// ConnectTimeout bounds TCP connect plus the whole SSH handshake;
	// zero means the Pool's default.
	ConnectTimeout time.Duration
}

// Jump is a one-hop bastion (ssh -J user@host:port). Its host key is
// verified like a Target's.
type Jump struct {
	Addr string
	Port int
	User string
	// Signer defaults to the Target's Signer.
	Signer         ssh.Signer
	HostKey        string
	KnownHostsFile string
}

func (t Target) addr() string {
	if t.Addr != "" {
		return t.Addr
	}
	return t.Name
}

func (t Target) hostport() string { return net.JoinHostPort(t.addr(), strconv.Itoa(portOr22(t.Port))) }

func (t Target) user() string {
	if t.User == "" {
		return "root"
	}
	return t.User
}

func portOr22(p int) int {
	if p == 0 {
		return 22
	}
	return p
}

func (j *Jump) hostport() string { return net.JoinHostPort(j.Addr, strconv.Itoa(portOr22(j.Port))) }

func (j *Jump) user() string {
	if j.User == "" {
		return "root"
	}
	return j.User
}

// key identifies a bastion connection in the Pool; targets with the same
// bastion and credentials share it.
func (j *Jump) key(s ssh.Signer) string {
	fp := ""
	if s != nil {
		fp = ssh.FingerprintSHA256(s.PublicKey())
	}
	return "jump:" + j.user() + "@" + j.hostport() + "/" + fp + "/" + j.HostKey + "/" + j.KnownHostsFile
}

func (t Target) validate() error {
	if t.Name == "" {
		return fmt.Errorf("target: empty host name: %w", ErrInvalidTarget)
	}
	if t.Signer == nil {
		return fmt.Errorf("%s: target: no SSH identity (Signer): %w", t.Name, ErrInvalidTarget)
	}
	if t.HostKey == "" && t.KnownHostsFile == "" {
		return fmt.Errorf("%s: target: no pinned host key or known_hosts file (host keys are always verified; scan and pin the key first): %w", t.Name, ErrInvalidTarget)
	}
	if t.Port < 0 || t.Port > 65535 {
		return fmt.Errorf("%s: target: port %d out of range: %w", t.Name, t.Port, ErrInvalidTarget)
	}
	if strings.ContainsAny(t.user(), " \t\n\x00'\"\\$`;&|<>") {
		return fmt.Errorf("%s: target: invalid user %q: %w", t.Name, t.user(), ErrInvalidTarget)
	}
	if j := t.ProxyJump; j != nil {
		if j.Addr == "" {
			return fmt.Errorf("%s: target: ProxyJump without an address: %w", t.Name, ErrInvalidTarget)
		}
		if j.HostKey == "" && j.KnownHostsFile == "" {
			return fmt.Errorf("%s: target: bastion %s has no pinned host key or known_hosts file: %w", t.Name, j.hostport(), ErrInvalidTarget)
		}
		if j.Port < 0 || j.Port > 65535 {
			return fmt.Errorf("%s: target: bastion port %d out of range: %w", t.Name, j.Port, ErrInvalidTarget)
		}
	}
	return nil
}

// ParseProxyJump parses one ProxyJump hop, "[user@]host[:port]" or
// "ssh://[user@]host[:port]" (IPv6 hosts in brackets). Several hops
// (a comma-separated list) are refused: orch supports one bastion.
func ParseProxyJump(s string) (user, host string, port int, err error) {
	orig := s
	bad := func(why string) (string, string, int, error) {
		return "", "", 0, fmt.Errorf("ProxyJump %q: %s: %w", orig, why, ErrInvalidTarget)
	}
	s = strings.TrimPrefix(s, "ssh://")
	if s == "" {
		return bad("empty")
	}
	if strings.Contains(s, ",") {
		return bad("more than one hop (orch supports a single bastion)")
	}
	if strings.ContainsAny(s, " \t\n\x00/") {
		return bad("invalid characters")
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		user, s = s[:i], s[i+1:]
		if user == "" {
			return bad("empty user")
		}
	}
	host, port = s, 22
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		h, p, perr := net.SplitHostPort(s)
		if perr != nil {
			if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
				return bad("invalid host:port")
			}
			h = s[1 : len(s)-1]
		} else {
			n, aerr := strconv.Atoi(p)
			if aerr != nil || n < 1 || n > 65535 {
				return bad("invalid port")
			}
			port = n
		}
		host = h
	}
	if host == "" {
		return bad("empty host")
	}
	return user, host, port, nil
}
