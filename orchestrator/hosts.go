package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ListHosts returns every host, sorted by name.
func (c *Controller) ListHosts() ([]api.Host, error) {
	hs, err := c.st.ListHosts()
	if err != nil {
		return nil, err
	}
	out := make([]api.Host, 0, len(hs))
	for _, h := range hs {
		out = append(out, toAPIHost(h))
	}
	return out, nil
}

func toAPIHost(h store.Host) api.Host {
	labels := h.Labels
	if labels == nil {
		labels = []string{}
	}
	return api.Host{Hostname: h.Name, Addr: h.Addr, Labels: labels, Status: h.Status, Location: h.Location}
}

func (c *Controller) getHost(name string) (store.Host, error) {
	h, err := c.st.GetHost(name)
	if errors.Is(err, store.ErrNotFound) {
		return h, api.NewError(syscall.ENOENT, "host %s not found", name)
	}
	return h, err
}

// AddHost validates the request, connects to the host, pins its key,
// checks it with the agent, and stores it (cephadm's _add_host).
func (c *Controller) AddHost(ctx context.Context, r api.AddHostRequest) (api.AddHostResponse, error) {
	var resp api.AddHostResponse
	if err := spec.ValidateHostname(r.Hostname); err != nil {
		return resp, err
	}
	labels, err := normalizeLabels(r.Labels)
	if err != nil {
		return resp, err
	}
	for k, v := range r.Location {
		if !locationRE.MatchString(k) || !locationRE.MatchString(v) {
			return resp, invalidf("Invalid location %s=%s: CRUSH bucket types and names are [A-Za-z0-9_.-]+", k, v)
		}
	}
	switch r.Status {
	case "", "maintenance":
	default:
		return resp, invalidf("Invalid host status %q: want '' or 'maintenance'", r.Status)
	}
	addr, err := c.resolveAddr(ctx, r.Hostname, r.Addr)
	if err != nil {
		return resp, err
	}

	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	existing, err := c.st.GetHost(r.Hostname)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return resp, err
	}
	h := store.Host{Name: r.Hostname, Addr: addr, Labels: labels, Status: r.Status, Location: r.Location}
	if known {
		h.HostKey, h.Added = existing.HostKey, existing.Added
		if len(h.Location) == 0 {
			h.Location = existing.Location
		}
	}
	t, err := c.target(h)
	if err != nil {
		return resp, err
	}
	pinned, fp, tofu, err := c.pinKey(ctx, t, r.HostKey, r.KnownHosts, existing.HostKey)
	if err != nil {
		return resp, err
	}
	h.HostKey, t.HostKey = pinned, pinned
	if err := c.checkHost(ctx, t); err != nil {
		return resp, err
	}
	if err := c.st.PutHost(h); err != nil {
		return resp, err
	}
	c.log.Info().Str("host", h.Name).Str("addr", addr).Str("host_key", fp).Msg("added host")
	return api.AddHostResponse{
		Message:           fmt.Sprintf("Added host '%s' with addr '%s'", h.Name, addr),
		Fingerprint:       fp,
		TrustedOnFirstUse: tofu,
	}, nil
}

// resolveAddr returns the address to use: the one given, or the first
// IPv4 address of the name. A loopback address found by resolution is
// refused: it would point every host at the controller's own machine.
func (c *Controller) resolveAddr(ctx context.Context, host, given string) (string, error) {
	if given != "" {
		if err := validateAddr(given); err != nil {
			return "", err
		}
		return strings.Trim(given, "[]"), nil
	}
	ips, err := c.resolve(ctx, host)
	if err != nil || len(ips) == 0 {
		return "", invalidf("Cannot resolve the address of host %s (%v); give it explicitly: orch host add %s <addr>", host, err, host)
	}
	sort.SliceStable(ips, func(i, j int) bool { return ips[i].Is4() && !ips[j].Is4() })
	a := ips[0].Unmap()
	if a.IsLoopback() {
		return "", invalidf("Host %s resolves to the loopback address %s; give its real address explicitly: orch host add %s <addr>", host, a, host)
	}
	return a.String(), nil
}

// pinKey decides which host key to pin: the operator's (HostKey or
// KnownHosts), the already pinned one, or the presented one (trust on
// first use). It returns the pinned key, its fingerprint and whether it
// was trusted on first use.
func (c *Controller) pinKey(ctx context.Context, t sshexec.Target, given, knownHostsText, pinned string) (string, string, bool, error) {
	switch {
	case given != "":
		keys, err := sshexec.ParseHostKeys(given)
		if err != nil {
			return "", "", false, invalidf("Invalid host key: %v", err)
		}
		line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(keys[0])))
		return line, ssh.FingerprintSHA256(keys[0]), false, nil
	case knownHostsText != "":
		info, err := c.scan(ctx, t)
		if err != nil {
			return "", "", false, err
		}
		if err := checkKnownHosts(knownHostsText, t, info.Key); err != nil {
			return "", "", false, err
		}
		return info.AuthorizedKey, info.Fingerprint, false, nil
	case pinned != "":
		keys, err := sshexec.ParseHostKeys(pinned)
		if err != nil {
			return "", "", false, fmt.Errorf("stored host key of %s is unusable: %w", t.Name, err)
		}
		return pinned, ssh.FingerprintSHA256(keys[0]), false, nil
	}
	info, err := c.scan(ctx, t)
	if err != nil {
		return "", "", false, err
	}
	return info.AuthorizedKey, info.Fingerprint, true, nil
}

func (c *Controller) scan(ctx context.Context, t sshexec.Target) (*sshexec.HostKeyInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.checkTO)
	defer cancel()
	info, err := c.remote.ScanHostKey(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("Can't communicate with remote host `%s`, possibly because the host is not reachable: %w", t.Addr, err)
	}
	return info, nil
}

// checkKnownHosts verifies key against known_hosts text for the target's
// name or address.
func checkKnownHosts(text string, t sshexec.Target, key ssh.PublicKey) error {
	f, err := os.CreateTemp("", "orch-known-hosts-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	cb, err := knownhosts.New(f.Name())
	if err != nil {
		return invalidf("Invalid known_hosts file: %v", err)
	}
	port := t.Port
	if port == 0 {
		port = 22
	}
	addr := t.Addr
	if addr == "" {
		addr = t.Name
	}
	remote := &net.TCPAddr{IP: net.ParseIP(addr), Port: port}
	var lastErr error
	for _, name := range []string{t.Name, addr} {
		if err := cb(net.JoinHostPort(name, strconv.Itoa(port)), remote, key); err == nil {
			return nil
		} else {
			lastErr = err
		}
	}
	return fmt.Errorf("host %s presents key %s, which the given known_hosts file does not list for it (%v): %w",
		t.Name, ssh.FingerprintSHA256(key), lastErr, sshexec.ErrHostKeyMismatch)
}

// checkResult is what `orch agent check-host` prints.
type checkResult struct {
	Hostname string   `json:"hostname"`
	Errors   []string `json:"errors"`
}

// checkHost pushes the agent and runs check-host against the expected
// hostname.
func (c *Controller) checkHost(ctx context.Context, t sshexec.Target) error {
	ctx, cancel := context.WithTimeout(ctx, c.checkTO)
	defer cancel()
	cl, err := c.st.GetCluster()
	if err != nil {
		return err
	}
	bin, err := c.remote.PushBinary(ctx, t, cl.FSID, c.agent)
	if err != nil {
		return fmt.Errorf("%s: push orch agent: %w", t.Name, err)
	}
	out, err := c.remote.Run(ctx, t, []string{bin, "agent", "check-host", "--expect-hostname", t.Name}, nil, c.checkTO)
	var res checkResult
	parsed := json.Unmarshal(out, &res) == nil
	if parsed && len(res.Errors) > 0 {
		return api.NewError(syscall.EINVAL, "check-host failed on %s: %s", t.Name, strings.Join(res.Errors, "; "))
	}
	if err != nil {
		var ee *sshexec.ExitError
		if errors.As(err, &ee) {
			return api.NewError(syscall.EINVAL, "check-host failed on %s: %s", t.Name, strings.TrimSpace(string(ee.Stderr)))
		}
		return err
	}
	return nil
}

// CheckHost runs the host check on a stored host.
func (c *Controller) CheckHost(ctx context.Context, name string) (string, error) {
	h, err := c.getHost(name)
	if err != nil {
		return "", err
	}
	t, err := c.target(h)
	if err != nil {
		return "", err
	}
	if err := c.checkHost(ctx, t); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s) ok", h.Name, h.Addr), nil
}

// RemoveHost removes a host. Daemons on it block removal unless forced; an
// offline host needs both force and offline.
func (c *Controller) RemoveHost(ctx context.Context, name string, force, offline bool) (string, error) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	h, err := c.getHost(name)
	if err != nil {
		return "", err
	}
	if h.Status == "offline" && !(force && offline) {
		return "", invalidf("%s is offline. Use --offline --force to remove it; its daemons will be forgotten", name)
	}
	if offline && !force {
		return "", invalidf("--offline needs --force")
	}
	if !force {
		names, err := c.daemonNames(name)
		if err != nil {
			return "", err
		}
		if len(names) > 0 {
			return "", invalidf("Not allowed to remove %s from cluster. The following daemons are running in the host: %s. Remove them first or use --force", name, strings.Join(names, ", "))
		}
	}
	if err := c.lastAdminCheck(name, force); err != nil {
		return "", err
	}
	err = c.st.Update(func(tx *store.Tx) error {
		if err := tx.DeleteHost(name); err != nil {
			return err
		}
		if err := tx.DeleteHostCache(name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.DeleteSetting(refreshFailedKey(name)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	c.remote.Forget(name)
	return fmt.Sprintf("Removed host '%s'", name), nil
}

// daemonNames returns the cached daemon names of a host.
func (c *Controller) daemonNames(host string) ([]string, error) {
	hc, err := c.st.GetHostCache(host)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e := hc.Entry(store.CacheDaemons)
	if e == nil || len(e.Data) == 0 {
		return nil, nil
	}
	var ds []struct {
		Name       string `json:"name"`
		DaemonType string `json:"daemon_type"`
		DaemonID   string `json:"daemon_id"`
	}
	if err := json.Unmarshal(e.Data, &ds); err != nil {
		return nil, fmt.Errorf("cached daemons of %s: %w", host, err)
	}
	var names []string
	for _, d := range ds {
		n := d.Name
		if n == "" {
			n = d.DaemonType + "." + d.DaemonID
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// lastAdminCheck refuses to take away the last _admin host without force.
func (c *Controller) lastAdminCheck(host string, force bool) error {
	if force {
		return nil
	}
	hs, err := c.st.ListHosts()
	if err != nil {
		return err
	}
	admins, isAdmin := 0, false
	for _, h := range hs {
		for _, l := range h.Labels {
			if l == "_admin" {
				admins++
				if h.Name == host {
					isAdmin = true
				}
			}
		}
	}
	if isAdmin && admins == 1 {
		return invalidf("Host %s is the last host with the '_admin' label. Please add the '_admin' label to a host or add --force to this command", host)
	}
	return nil
}

// AddLabel adds a label to a host.
func (c *Controller) AddLabel(name, label string) (string, error) {
	if err := validateLabel(label); err != nil {
		return "", err
	}
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	h, err := c.getHost(name)
	if err != nil {
		return "", err
	}
	for _, l := range h.Labels {
		if l == label {
			return fmt.Sprintf("Added label %s to host %s", label, name), nil
		}
	}
	h.Labels = append(h.Labels, label)
	if err := c.st.PutHost(h); err != nil {
		return "", err
	}
	return fmt.Sprintf("Added label %s to host %s", label, name), nil
}

// RemoveLabel removes a label from a host.
func (c *Controller) RemoveLabel(name, label string, force bool) (string, error) {
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	h, err := c.getHost(name)
	if err != nil {
		return "", err
	}
	if label == "_admin" {
		if err := c.lastAdminCheck(name, force); err != nil {
			return "", err
		}
	}
	var kept []string
	for _, l := range h.Labels {
		if l != label {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(h.Labels) {
		return "", api.NewError(syscall.ENOENT, "Host %s does not have label '%s'. Please use 'ceph orch host ls' to list all the labels.", name, label)
	}
	h.Labels = kept
	if err := c.st.PutHost(h); err != nil {
		return "", err
	}
	return fmt.Sprintf("Removed label %s from host %s", label, name), nil
}

// SetAddr changes a host's address after checking the host there.
func (c *Controller) SetAddr(ctx context.Context, name, addr string) (string, error) {
	if err := validateAddr(addr); err != nil {
		return "", err
	}
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	h, err := c.getHost(name)
	if err != nil {
		return "", err
	}
	h.Addr = strings.Trim(addr, "[]")
	t, err := c.target(h)
	if err != nil {
		return "", err
	}
	if err := c.checkHost(ctx, t); err != nil {
		return "", err
	}
	if err := c.st.PutHost(h); err != nil {
		return "", err
	}
	c.remote.Forget(name)
	return fmt.Sprintf("Updated host '%s' addr to '%s'", name, h.Addr), nil
}

// SetHostKey replaces a host's pinned key (after a reinstall): either the
// key given, or the key the host presents now (accept-new). The host is
// checked with the new key before it is kept.
func (c *Controller) SetHostKey(ctx context.Context, name string, r api.HostKeyRequest) (api.AddHostResponse, error) {
	var resp api.AddHostResponse
	c.hostMu.Lock()
	defer c.hostMu.Unlock()
	h, err := c.getHost(name)
	if err != nil {
		return resp, err
	}
	t, err := c.target(h)
	if err != nil {
		return resp, err
	}
	if !r.AcceptNew && r.HostKey == "" {
		return resp, invalidf("give a host key or accept the new one")
	}
	given := r.HostKey
	pinned, fp, _, err := c.pinKey(ctx, t, given, "", "")
	if err != nil {
		return resp, err
	}
	c.remote.Forget(name)
	t.HostKey = pinned
	if err := c.checkHost(ctx, t); err != nil {
		return resp, err
	}
	h.HostKey = pinned
	if err := c.st.PutHost(h); err != nil {
		return resp, err
	}
	c.log.Warn().Str("host", name).Str("host_key", fp).Msg("replaced pinned host key")
	return api.AddHostResponse{Message: fmt.Sprintf("Pinned new host key %s for host '%s'", fp, name), Fingerprint: fp}, nil
}

// normalizeLabels validates labels and removes duplicates, keeping order.
func normalizeLabels(in []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, l := range in {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if err := validateLabel(l); err != nil {
			return nil, err
		}
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out, nil
}
