package hostlab

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

type sshSigner = ssh.Signer

func parseKey(authorized string) (ssh.PublicKey, error) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return nil, fmt.Errorf("parse host key: %w", err)
	}
	return k, nil
}

// dialSSH opens an SSH connection bounded by ctx (and 5 s), checking the
// server's key against hostKey.
func dialSSH(ctx context.Context, addr string, port int, user string, signer ssh.Signer, hostKey ssh.PublicKey) (*ssh.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	target := net.JoinHostPort(addr, strconv.Itoa(port))
	var d net.Dialer
	conn, err := d.DialContext(dctx, "tcp", target)
	if err != nil {
		return nil, err
	}
	// The handshake is bounded too: a frozen sshd accepts TCP but never
	// speaks.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         5 * time.Second,
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, target, cfg)
	if !stop() {
		if err == nil {
			c.Close()
		}
		return nil, fmt.Errorf("ssh %s: %w", target, dctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// probeSSH logs in and runs "true".
func probeSSH(ctx context.Context, addr string, port int, user string, signer ssh.Signer, hostKey ssh.PublicKey) error {
	c, err := dialSSH(ctx, addr, port, user, signer, hostKey)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Run("true")
}

// Dial opens an SSH connection to host as user ("" is root) with the lab's
// admin key, verifying the host's current key. The caller closes it.
func (l *Lab) Dial(ctx context.Context, host, user string) (*ssh.Client, error) {
	h, err := l.Host(host)
	if err != nil {
		return nil, err
	}
	hk, err := l.HostKey(host)
	if err != nil {
		return nil, err
	}
	signer, err := l.AdminSigner()
	if err != nil {
		return nil, err
	}
	if user == "" {
		user = "root"
	}
	c, err := dialSSH(ctx, h.Addr, h.Port, user, signer, hk)
	if err != nil {
		return nil, fmt.Errorf("%s: ssh: %w", host, err)
	}
	return c, nil
}
