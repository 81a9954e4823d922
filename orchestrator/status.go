package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

// Status is what `orch status` / `ceph orch status` show.
func (c *Controller) Status(ctx context.Context) api.Status {
	cl, err := c.st.GetCluster()
	if err != nil {
		return api.Status{Available: false, Reason: "store: " + err.Error(), Details: map[string]any{}}
	}
	details := map[string]any{"workers": 50, "paused": cl.Paused, "fsid": cl.FSID}
	if _, err := c.st.GetSecret(store.SecretSSHPrivateKey); err != nil {
		return api.Status{Available: false, Reason: "SSH keys not set. Use `orch ssh generate-key` or `orch ssh set-priv-key -i FILE`", Details: details}
	}
	return api.Status{Available: true, Details: details}
}

// defaultSSHConfig is what get-ssh-config prints when none is set. Unlike
// cephadm's default, host keys are checked: orch pins them per host.
const defaultSSHConfig = `Host *
  User root
  StrictHostKeyChecking yes
  ConnectTimeout=30
`

// SSHConfig returns the stored ssh_config, or the default.
func (c *Controller) SSHConfig() (string, error) {
	cl, err := c.st.GetCluster()
	if err != nil {
		return "", err
	}
	if cl.SSHConfig == "" {
		return defaultSSHConfig, nil
	}
	return cl.SSHConfig, nil
}

// SetSSHConfig validates and stores an ssh_config (cephadm's rules:
// StrictHostKeyChecking must be set and not "ask"; orch also refuses
// "no", because it never disables host key checking).
func (c *Controller) SetSSHConfig(ctx context.Context, text string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", invalidf("ssh_config is empty")
	}
	cfg, err := sshexec.ParseSSHConfig(text)
	if err != nil {
		return "", invalidf("%v", err)
	}
	if err := cfg.Validate(); err != nil {
		return "", invalidf("%v", err)
	}
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if err := c.testSSHConfig(ctx, cfg); err != nil {
		return "", err
	}
	if _, err := c.st.UpdateCluster(func(cl *store.Cluster) error { cl.SSHConfig = text; return nil }); err != nil {
		return "", err
	}
	c.forgetAll()
	return "Set ssh_config", nil
}

// ClearSSHConfig resets to the default.
func (c *Controller) ClearSSHConfig() (string, error) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	if _, err := c.st.UpdateCluster(func(cl *store.Cluster) error { cl.SSHConfig = ""; return nil }); err != nil {
		return "", err
	}
	c.forgetAll()
	return "Cleared ssh_config", nil
}

// testSSHConfig runs `true` on the first known host with the new config
// applied; with no hosts or no key there is nothing to test yet.
func (c *Controller) testSSHConfig(ctx context.Context, cfg *sshexec.SSHConfig) error {
	hosts, err := c.st.ListHosts()
	if err != nil || len(hosts) == 0 {
		return err
	}
	h := hosts[0]
	t, err := c.target(h)
	if err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return nil
		}
		return err
	}
	t.Addr, t.Port, t.ConnectTimeout, t.ProxyJump = h.Addr, 0, 0, nil
	if t, err = cfg.Resolve(h.Name).Apply(t); err != nil {
		return invalidf("%v", err)
	}
	cl, err := c.st.GetCluster()
	if err != nil {
		return err
	}
	if cl.SSHUser != "" {
		t.User = cl.SSHUser
	}
	// A probe under another name, so the pooled connection of the host
	// (made with the old config) is neither used nor replaced.
	t.Name = h.Name + ".ssh-config-test"
	defer c.remote.Forget(t.Name)
	ctx, cancel := context.WithTimeout(ctx, c.checkTO)
	defer cancel()
	if _, err := c.remote.Run(ctx, t, []string{"true"}, nil, c.checkTO); err != nil {
		return fmt.Errorf("ssh connection to %s with the new ssh_config failed; nothing was changed: %w", h.Name, err)
	}
	return nil
}
