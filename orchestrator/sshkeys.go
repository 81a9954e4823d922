package orchestrator

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// ErrNoSSHKey means the cluster has no SSH identity yet.
var ErrNoSSHKey = api.NewError(syscall.ENOENT, "No cluster SSH key defined")

// signer returns the cluster's SSH identity. The parsed signer is cached
// per key: the SSH pool compares targets by value, and a freshly parsed
// signer on every call made each command look like a changed target,
// which dropped the host's pooled connection (also under concurrent
// commands using it).
func (c *Controller) signer() (ssh.Signer, error) {
	sec, err := c.st.GetSecret(store.SecretSSHPrivateKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NewError(syscall.ENOENT, "SSH keys not set. Use `orch ssh generate-key` or `orch ssh set-priv-key -i FILE`")
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(sec)
	c.signerMu.Lock()
	defer c.signerMu.Unlock()
	if c.signerCache != nil && c.signerSum == sum {
		return c.signerCache, nil
	}
	s, err := ssh.ParsePrivateKey([]byte(sec))
	if err != nil {
		return nil, fmt.Errorf("stored SSH private key is unusable: %w", err)
	}
	c.signerCache, c.signerSum = s, sum
	return s, nil
}

// GenerateKey creates the cluster's ed25519 identity. It refuses to replace
// an existing key: hosts trust it, and replacing it silently would lock
// the controller out of them.
func (c *Controller) GenerateKey(ctx context.Context) (string, error) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if _, err := c.st.GetSecret(store.SecretSSHPrivateKey); err == nil {
		return "", api.NewError(syscall.EEXIST, "a cluster SSH key already exists; `orch ssh get-pub-key` prints it, `orch ssh clear-key` removes it")
	}
	cl, err := c.st.GetCluster()
	if err != nil {
		return "", err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "ceph-"+cl.FSID)
	if err != nil {
		return "", fmt.Errorf("encode key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", err
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " ceph-" + cl.FSID
	err = c.st.Update(func(tx *store.Tx) error {
		if err := tx.SetSecret(store.SecretSSHPrivateKey, store.Secret(pem.EncodeToMemory(block))); err != nil {
			return err
		}
		_, err := tx.UpdateCluster(func(cl *store.Cluster) error { cl.SSHPublicKey = authorized; return nil })
		return err
	})
	if err != nil {
		return "", err
	}
	c.log.Info().Str("fingerprint", ssh.FingerprintSHA256(sshPub)).Msg("generated cluster SSH key")
	return "Generated a new cluster SSH key (ed25519). Authorize it on each host: orch ssh get-pub-key >> ~root/.ssh/authorized_keys", nil
}

// PublicKey returns the cluster's public key.
func (c *Controller) PublicKey() (string, error) {
	cl, err := c.st.GetCluster()
	if err != nil {
		return "", err
	}
	if cl.SSHPublicKey == "" {
		return "", ErrNoSSHKey
	}
	return cl.SSHPublicKey, nil
}

// SetPrivateKey stores a private key after testing it against a known
// host (the first, by name); on failure nothing changes.
func (c *Controller) SetPrivateKey(ctx context.Context, pemText string) (string, error) {
	if strings.TrimSpace(pemText) == "" {
		return "", invalidf("empty private key")
	}
	s, err := ssh.ParsePrivateKey([]byte(pemText))
	if err != nil {
		var pe *ssh.PassphraseMissingError
		if errors.As(err, &pe) {
			return "", invalidf("the private key is protected by a passphrase; orch needs a key without one")
		}
		return "", invalidf("invalid private key: %v", err)
	}
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if err := c.testIdentity(ctx, s, ""); err != nil {
		return "", err
	}
	pub := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	err = c.st.Update(func(tx *store.Tx) error {
		if err := tx.SetSecret(store.SecretSSHPrivateKey, store.Secret(pemText)); err != nil {
			return err
		}
		_, err := tx.UpdateCluster(func(cl *store.Cluster) error {
			if cl.SSHPublicKey == "" || !samePublicKey(cl.SSHPublicKey, pub) {
				cl.SSHPublicKey = pub
			}
			return nil
		})
		return err
	})
	if err != nil {
		return "", err
	}
	c.forgetAll()
	return "Set the cluster SSH private key", nil
}

// SetPublicKey stores the public key; it must match the private key.
func (c *Controller) SetPublicKey(ctx context.Context, authorized string) (string, error) {
	k, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(authorized)))
	if err != nil {
		return "", invalidf("invalid public key: %v", err)
	}
	_ = comment
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if s, err := c.signer(); err == nil {
		if !samePublicKey(string(ssh.MarshalAuthorizedKey(s.PublicKey())), authorized) {
			return "", invalidf("the public key does not match the cluster's private key")
		}
	}
	if _, err := c.st.UpdateCluster(func(cl *store.Cluster) error {
		cl.SSHPublicKey = strings.TrimSpace(authorized)
		return nil
	}); err != nil {
		return "", err
	}
	return "Set the cluster SSH public key " + ssh.FingerprintSHA256(k), nil
}

// ClearKey removes the cluster identity.
func (c *Controller) ClearKey() (string, error) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	err := c.st.Update(func(tx *store.Tx) error {
		if err := tx.DeleteSecret(store.SecretSSHPrivateKey); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, err := tx.UpdateCluster(func(cl *store.Cluster) error { cl.SSHPublicKey = ""; return nil })
		return err
	})
	if err != nil {
		return "", err
	}
	c.forgetAll()
	return "Removed the cluster SSH key", nil
}

// User returns the SSH user.
func (c *Controller) User() (string, error) {
	cl, err := c.st.GetCluster()
	if err != nil {
		return "", err
	}
	if cl.SSHUser == "" {
		return "root", nil
	}
	return cl.SSHUser, nil
}

// SetUser changes the SSH user after testing it against a known host.
func (c *Controller) SetUser(ctx context.Context, user string) (string, error) {
	if err := validateUser(user); err != nil {
		return "", err
	}
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if s, err := c.signer(); err == nil {
		if err := c.testIdentity(ctx, s, user); err != nil {
			return "", err
		}
	}
	if _, err := c.st.UpdateCluster(func(cl *store.Cluster) error { cl.SSHUser = user; return nil }); err != nil {
		return "", err
	}
	c.forgetAll()
	msg := "ssh user set to " + user
	if user != "root" {
		msg += ". sudo will be used"
	}
	return msg, nil
}

// testIdentity runs `true` on the first known host with the given signer
// (and user, when not empty). With no hosts there is nothing to test.
func (c *Controller) testIdentity(ctx context.Context, s ssh.Signer, user string) error {
	hosts, err := c.st.ListHosts()
	if err != nil || len(hosts) == 0 {
		return err
	}
	h := hosts[0]
	t, err := c.target(h)
	if err != nil && !errors.Is(err, api.ErrNotFound) {
		return err
	}
	t.Signer = s
	if user != "" {
		t.User = user
	}
	ctx, cancel := context.WithTimeout(ctx, c.checkTO)
	defer cancel()
	if _, err := c.remote.Run(ctx, t, []string{"true"}, nil, c.checkTO); err != nil {
		return fmt.Errorf("ssh connection %s@%s failed; nothing was changed: %w", t.User, h.Name, err)
	}
	return nil
}

func (c *Controller) forgetAll() {
	hosts, err := c.st.ListHosts()
	if err != nil {
		return
	}
	for _, h := range hosts {
		c.remote.Forget(h.Name)
	}
}

// target builds the SSH target of a stored host: the cluster user and
// key, the pinned host key, and the ssh_config's HostName, Port,
// ConnectTimeout and ProxyJump for that host. `orch ssh set-user` wins
// over a User in the ssh_config. The signer is missing (with an
// ErrNotFound-class error) when no key is set.
func (c *Controller) target(h store.Host) (sshexec.Target, error) {
	cl, err := c.st.GetCluster()
	if err != nil {
		return sshexec.Target{}, err
	}
	t := sshexec.Target{Name: h.Name, Addr: h.Addr, HostKey: h.HostKey}
	if cl.SSHConfig != "" {
		cfg, err := sshexec.ParseSSHConfig(cl.SSHConfig)
		if err != nil {
			return t, fmt.Errorf("stored ssh_config: %w", err)
		}
		if t, err = cfg.Resolve(h.Name).Apply(t); err != nil {
			return t, err
		}
	}
	if cl.SSHUser != "" {
		t.User = cl.SSHUser
	}
	s, err := c.signer()
	t.Signer = s
	return t, err
}

// samePublicKey compares two authorized_keys lines ignoring comments.
func samePublicKey(a, b string) bool {
	ka, _, _, _, errA := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(a)))
	kb, _, _, _, errB := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(b)))
	return errA == nil && errB == nil && string(ka.Marshal()) == string(kb.Marshal())
}
