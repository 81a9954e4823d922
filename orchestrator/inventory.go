package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

// Typed readers of the host cache, and the two synchronous device verbs
// (light, rescan). Readers never touch SSH: they return what the last
// refresh stored (nothing, without error, for a kind never refreshed).

// The controller serves the inventory area of the API.
var _ api.InventoryBackend = (*Controller)(nil)

// cachedEntry returns one cached kind of a host; ErrNotFound (api) when the
// host is unknown, a nil entry when never refreshed.
func (c *Controller) cachedEntry(host string, kind store.CacheKind) (*store.CacheEntry, error) {
	hc, err := c.st.GetHostCache(host)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NewError(syscall.ENOENT, "host %s not found", host)
	}
	if err != nil {
		return nil, err
	}
	e := hc.Entry(kind)
	if e == nil || e.Refreshed.IsZero() || len(e.Data) == 0 {
		return nil, nil
	}
	return e, nil
}

// HostDevices returns the host's devices as ceph-volume reported them at
// the last refresh, sorted by path, each with Created set to that refresh
// (cephadm's REFRESHED).
func (c *Controller) HostDevices(host string) ([]inventory.Device, error) {
	e, err := c.cachedEntry(host, store.CacheDevices)
	if err != nil || e == nil {
		return nil, err
	}
	return decodeDevices(host, e)
}

func decodeDevices(host string, e *store.CacheEntry) ([]inventory.Device, error) {
	var devs []inventory.Device
	if err := json.Unmarshal(e.Data, &devs); err != nil {
		return nil, fmt.Errorf("cached devices of %s: %w", host, err)
	}
	created := cephadmTime(e.Refreshed)
	for i := range devs {
		devs[i].Created = created
	}
	inventory.SortByPath(devs)
	return devs, nil
}

// HostNetworks returns the host's networks (subnet → interface →
// addresses) from the last refresh.
func (c *Controller) HostNetworks(host string) (map[string]map[string][]string, error) {
	e, err := c.cachedEntry(host, store.CacheNetworks)
	if err != nil || e == nil {
		return nil, err
	}
	var nets map[string]map[string][]string
	if err := json.Unmarshal(e.Data, &nets); err != nil {
		return nil, fmt.Errorf("cached networks of %s: %w", host, err)
	}
	return nets, nil
}

// HostDaemons returns the host's daemons from the last refresh, sorted by
// name.
func (c *Controller) HostDaemons(host string) ([]DaemonDescription, error) {
	e, err := c.cachedEntry(host, store.CacheDaemons)
	if err != nil || e == nil {
		return nil, err
	}
	var ds []DaemonDescription
	if err := json.Unmarshal(e.Data, &ds); err != nil {
		return nil, fmt.Errorf("cached daemons of %s: %w", host, err)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].DaemonName < ds[j].DaemonName })
	return ds, nil
}

// CacheTimes returns when each kind of the host was last refreshed (zero:
// never). A host whose daemons were never refreshed is not schedulable in
// cephadm.
func (c *Controller) CacheTimes(host string) (map[store.CacheKind]time.Time, error) {
	hc, err := c.st.GetHostCache(host)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NewError(syscall.ENOENT, "host %s not found", host)
	}
	if err != nil {
		return nil, err
	}
	out := make(map[store.CacheKind]time.Time, len(AllCacheKinds))
	for _, k := range AllCacheKinds {
		out[k] = hc.Entry(k).Refreshed
	}
	return out, nil
}

// Inventory is `orch device ls`: the cached devices of the named hosts
// (every host when none is named; names not in the inventory are
// ignored, as cephadm does), sorted by host. With refresh the hosts'
// devices and networks are flagged and the refresher woken; the answer is
// still the cached one.
func (c *Controller) Inventory(ctx context.Context, hosts []string, refresh bool) ([]inventory.InventoryHost, error) {
	want := map[string]bool{}
	for _, h := range hosts {
		want[h] = true
	}
	var out []inventory.InventoryHost
	var known []string
	err := c.st.View(func(tx *store.Tx) error {
		all, err := tx.ListHosts()
		if err != nil {
			return err
		}
		for _, h := range all {
			if len(want) > 0 && !want[h.Name] {
				continue
			}
			known = append(known, h.Name)
			hc, err := tx.GetHostCache(h.Name)
			if err != nil {
				return err
			}
			ih := inventory.InventoryHost{Name: h.Name, Addr: h.Addr, Labels: h.Labels, Devices: []inventory.Device{}}
			if e := hc.Entry(store.CacheDevices); !e.Refreshed.IsZero() && len(e.Data) > 0 {
				devs, err := decodeDevices(h.Name, e)
				if err != nil {
					return err
				}
				ih.Devices = devs
			}
			out = append(out, ih)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if refresh && len(known) > 0 {
		if err := c.InvalidateHosts(known, store.CacheDevices, store.CacheNetworks); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []inventory.InventoryHost{}
	}
	return out, nil
}

// devicePathRe is what a device argument may look like: a /dev path or a
// kernel name. Anything else is refused before it reaches a host.
var devicePathRe = regexp.MustCompile(`^(/dev/)?[A-Za-z0-9][A-Za-z0-9._:/+-]*$`)

// DeviceLight turns a disk's identification or fault LED on or off over
// SSH (cephadm's blink_device_light; synchronous, as in cephadm) and
// answers "Set ident light for HOST:DEV on". A device whose hardware
// cannot blink (a loop device, a VM disk) is ENOTSUP with the agent's
// explanation.
func (c *Controller) DeviceLight(ctx context.Context, r api.LightRequest) (string, error) {
	if r.IdentFault == "" {
		r.IdentFault = "ident"
	}
	if r.IdentFault != "ident" && r.IdentFault != "fault" {
		return "", invalidf("light type must be ident or fault, not %q", r.IdentFault)
	}
	if r.Path == "" || !devicePathRe.MatchString(r.Path) || strings.Contains(r.Path, "..") {
		return "", invalidf("invalid device %q: want a device path such as /dev/sdb", r.Path)
	}
	state := "off"
	if r.On {
		state = "on"
	}
	h, err := c.getHost(r.Host)
	if err != nil {
		return "", err
	}
	args := []string{"light", state, r.IdentFault, r.Path}
	if _, err := c.runSyncAgent(ctx, h, args); err != nil {
		//lint:ignore ST1005 cephadm's text, which users and the mgr module match
		return "", fmt.Errorf("Unable to affect %s light for %s:%s: %w", r.IdentFault, r.Host, r.Path, err)
	}
	c.log.Info().Str("host", r.Host).Str("device", r.Path).Msgf("set %s light %s", r.IdentFault, state)
	return fmt.Sprintf("Set %s light for %s:%s %s", r.IdentFault, r.Host, r.Path, state), nil
}

// RescanHost asks the host's SCSI adapters to rescan their buses
// (cephadm's rescan_host, synchronous) and answers the agent's summary,
// "Ok. N adapters detected: ...". The host's devices are flagged for the
// next refresh so that new disks show up.
func (c *Controller) RescanHost(ctx context.Context, host string) (string, error) {
	h, err := c.getHost(host)
	if err != nil {
		return "", err
	}
	out, err := c.runSyncAgent(ctx, h, []string{"disk-rescan"})
	if err != nil {
		return "", fmt.Errorf("disk rescan on %s failed: %w", host, err)
	}
	var res struct {
		Message string            `json:"message"`
		Failed  map[string]string `json:"failed"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil || res.Message == "" {
		//lint:ignore ST1005 cephadm's text
		return "", fmt.Errorf("Unexpected response from orch agent disk-rescan on %s: %.120q", host, out)
	}
	if len(res.Failed) > 0 {
		c.log.Warn().Str("host", host).Interface("failed", res.Failed).Msg("disk rescan: some adapters failed")
	}
	if err := c.InvalidateHosts([]string{host}, store.CacheDevices); err != nil {
		return "", err
	}
	return res.Message, nil
}

// runSyncAgent runs an agent command for an API call, bounded by the
// controller's check timeout; a connection failure marks the host offline
// and a success clears that, as a refresh would. The agent's own error
// ("Error ENOTSUP: ...") comes back as an *api.Error with its errno.
func (c *Controller) runSyncAgent(ctx context.Context, h store.Host, args []string) ([]byte, error) {
	cl, err := c.st.GetCluster()
	if err != nil {
		return nil, err
	}
	tb, err := c.newTargetBuilder(cl)
	if err != nil {
		return nil, err
	}
	t, err := tb.target(h)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.checkTO)
	defer cancel()
	out, err := c.runRefreshAgent(ctx, c.rt(), t, cl.FSID, args, c.checkTO)
	if ctx.Err() == nil {
		c.noteReachability(h.Name, err)
	}
	if err == nil {
		return out, nil
	}
	var ee *sshexec.ExitError
	if errors.As(err, &ee) {
		if errno, msg, ok := parseAgentError(ee.Stderr); ok {
			return nil, &agentCallError{errno: errno, msg: msg, err: err}
		}
	}
	if isConnectionError(err) {
		return nil, fmt.Errorf("%w: %w", err, api.ErrUnavailable)
	}
	return nil, err
}

// agentErrnos are the errno names the agent prints ("Error ENOTSUP: ...").
var agentErrnos = map[string]syscall.Errno{
	"EPERM": syscall.EPERM, "ENOENT": syscall.ENOENT, "EIO": syscall.EIO, "EAGAIN": syscall.EAGAIN,
	"EACCES": syscall.EACCES, "EBUSY": syscall.EBUSY, "EEXIST": syscall.EEXIST, "EINVAL": syscall.EINVAL,
	"ENOTSUP": syscall.ENOTSUP, "ETIMEDOUT": syscall.ETIMEDOUT, "ECONNREFUSED": syscall.ECONNREFUSED,
	"EHOSTUNREACH": syscall.EHOSTUNREACH, "ENOTCONN": syscall.ENOTCONN, "ECANCELED": syscall.ECANCELED,
}

// parseAgentError finds the agent's last "Error E<NAME>: <msg>" line.
func parseAgentError(stderr []byte) (syscall.Errno, string, bool) {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		rest, ok := strings.CutPrefix(l, "Error ")
		if !ok {
			continue
		}
		name, msg, ok := strings.Cut(rest, ": ")
		if !ok {
			continue
		}
		if errno, known := agentErrnos[name]; known {
			return errno, msg, true
		}
		return syscall.EIO, msg, true
	}
	return 0, "", false
}

// agentCallError is an agent command that ran and failed, with the agent's
// own message and errno (the API keeps both, and the message of any error
// wrapping it).
type agentCallError struct {
	errno syscall.Errno
	msg   string
	err   error // the *sshexec.ExitError
}

func (e *agentCallError) Error() string        { return e.msg }
func (e *agentCallError) Errno() syscall.Errno { return e.errno }
func (e *agentCallError) Unwrap() error        { return e.err }
