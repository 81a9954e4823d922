package sshexec

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyInfo is a host key presented on first contact, for the caller to
// show (Fingerprint) and pin (AuthorizedKey goes into Target.HostKey).
type HostKeyInfo struct {
	Key ssh.PublicKey
	// AuthorizedKey is the key in authorized_keys format, without newline.
	AuthorizedKey string
	// Fingerprint is "SHA256:<base64>", as ssh-keygen -l prints it.
	Fingerprint string
}

func newHostKeyInfo(k ssh.PublicKey) *HostKeyInfo {
	return &HostKeyInfo{
		Key:           k,
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))),
		Fingerprint:   ssh.FingerprintSHA256(k),
	}
}

// ParseHostKeys parses one or more authorized_keys-format lines (blank
// lines and # comments are skipped). It refuses an input with no key.
func ParseHostKeys(s string) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	rest := []byte(s)
	for len(bytes.TrimSpace(rest)) > 0 {
		k, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, fmt.Errorf("parse host key: %w: %w", ErrInvalidTarget, err)
		}
		keys = append(keys, k)
		rest = r
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("parse host key: no key found: %w", ErrInvalidTarget)
	}
	return keys, nil
}

// algorithmsFor lists the host key algorithms that let a server present a
// key of one of the given types, so that the server shows the pinned key
// rather than another of its keys.
func algorithmsFor(types []string) []string {
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, t := range types {
		switch t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		default:
			add(t)
		}
	}
	return algos
}

// verifier builds the HostKeyCallback for a host (name for messages,
// hostport as dialled) from a pinned key or a known_hosts file, and the
// host key algorithms to offer. It never accepts an unknown key.
func verifier(name, hostport, pinned, knownHostsFile string) (ssh.HostKeyCallback, []string, error) {
	if pinned != "" {
		keys, err := ParseHostKeys(pinned)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: pinned host key: %w", name, err)
		}
		fps := make([]string, len(keys))
		types := make([]string, len(keys))
		for i, k := range keys {
			fps[i] = ssh.FingerprintSHA256(k)
			types[i] = k.Type()
		}
		cb := func(_ string, _ net.Addr, presented ssh.PublicKey) error {
			b := presented.Marshal()
			for _, k := range keys {
				if bytes.Equal(k.Marshal(), b) {
					return nil
				}
			}
			info := newHostKeyInfo(presented)
			return &HostKeyMismatchError{Host: name, Addr: hostport, Expected: fps, Presented: info.Fingerprint, PresentedKey: info.AuthorizedKey}
		}
		return cb, algorithmsFor(types), nil
	}
	kh, err := knownhosts.New(knownHostsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read known_hosts %s: %w: %w", name, knownHostsFile, ErrInvalidTarget, err)
	}
	// Entries may be under the address dialled or under the host name.
	names := []string{hostport}
	if _, port, err := net.SplitHostPort(hostport); err == nil && name != "" {
		names = append(names, net.JoinHostPort(name, port))
	}
	// Probing with a key no host has yields the keys on file (KeyError.Want)
	// without accepting anything.
	probe, _ := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	var types []string
	var fps []string
	for _, n := range names {
		var ke *knownhosts.KeyError
		if err := kh(n, probeAddr(n), probe); errors.As(err, &ke) {
			for _, w := range ke.Want {
				types = append(types, w.Key.Type())
				fps = append(fps, ssh.FingerprintSHA256(w.Key))
			}
		}
		if len(types) > 0 {
			break
		}
	}
	cb := func(_ string, remote net.Addr, presented ssh.PublicKey) error {
		var last error
		for _, n := range names {
			err := kh(n, remote, presented)
			if err == nil {
				return nil
			}
			var rev *knownhosts.RevokedError
			if errors.As(err, &rev) {
				return fmt.Errorf("%s: verify host key of %s: key %s is revoked in %s: %w",
					name, hostport, ssh.FingerprintSHA256(presented), knownHostsFile, ErrHostKeyMismatch)
			}
			last = err
		}
		var ke *knownhosts.KeyError
		if errors.As(last, &ke) {
			info := newHostKeyInfo(presented)
			return &HostKeyMismatchError{Host: name, Addr: hostport, Expected: fps, Presented: info.Fingerprint, PresentedKey: info.AuthorizedKey}
		}
		return fmt.Errorf("%s: verify host key of %s: %w: %w", name, hostport, ErrHostKeyMismatch, last)
	}
	return cb, algorithmsFor(types), nil
}

// probeAddr gives knownhosts a syntactically valid remote address.
func probeAddr(hostport string) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", hostport)
	if err != nil || a.IP == nil {
		return &net.TCPAddr{IP: net.IPv4zero}
	}
	return a
}

// errScanned stops a handshake once the host key has been captured.
var errScanned = errors.New("host key captured")

// ScanHostKey connects to t (through its bastion, which must itself be
// pinned), captures the host key the server presents and stops before
// authenticating: trust on first use. The caller shows the fingerprint and
// pins AuthorizedKey in Target.HostKey; the key is never trusted
// implicitly. t.HostKey and t.KnownHostsFile are ignored.
func ScanHostKey(ctx context.Context, t Target, opts Options) (*HostKeyInfo, error) {
	opts = opts.withDefaults()
	t.HostKey, t.KnownHostsFile = "", ""
	if t.Name == "" {
		return nil, fmt.Errorf("scan host key: empty host name: %w", ErrInvalidTarget)
	}
	var got ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User:          t.user(),
		ClientVersion: clientVersion,
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			got = k
			return errScanned
		},
	}
	timeout := connectTimeout(t, opts)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var jc *ssh.Client
	if t.ProxyJump != nil {
		var err error
		jc, err = dialJump(dctx, t, opts)
		if err != nil {
			return nil, err
		}
		defer jc.Close()
	}
	nc, err := dialTransport(dctx, t, jc, timeout)
	if err != nil {
		return nil, err
	}
	c, err := handshake(dctx, nc, t.hostport(), cfg)
	if c != nil {
		c.Close()
	}
	if got != nil && errors.Is(err, errScanned) {
		return newHostKeyInfo(got), nil
	}
	if err == nil {
		err = errors.New("server completed a handshake without presenting a host key")
	}
	return nil, classify(dctx, t.Name, t.hostport(), "SSH handshake", timeout, err, false)
}
