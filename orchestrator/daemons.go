package orchestrator

import (
	"bytes"
	"encoding/json"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/plan"
)

// daemonRecord is one daemon as the reconciler and the listings see it:
// the host's cached `ls` entry (either cephadm's ls shape or the
// DaemonDescription shape, whichever the refresh stored), decoded
// tolerantly, plus what orch wrote into unit.meta.
type daemonRecord struct {
	api.DaemonDescription
	// ConfigDigest is unit.meta's config_digest: "c=<hex>,r=<hex>" for
	// daemons orch deployed (see deploy.go).
	ConfigDigest string
	// Refreshed is when the host's daemons were last listed.
	Refreshed time.Time
	// Provisional marks a daemon deployed by this controller that no
	// refresh has listed yet (cephadm's "starting" placeholder).
	Provisional bool
}

func (d *daemonRecord) name() string { return d.DaemonType + "." + d.DaemonID }

// cachedDaemon is the union of the two shapes a host's daemon cache may
// hold: cephadm's `ls` entry (name, state, deployed, configured, meta keys)
// and DaemonDescription.to_json() (daemon_type, daemon_id, status, ...).
type cachedDaemon struct {
	Name        string `json:"name"`
	Style       string `json:"style"`
	FSID        string `json:"fsid"`
	State       string `json:"state"`
	DaemonType  string `json:"daemon_type"`
	DaemonID    string `json:"daemon_id"`
	DaemonName  string `json:"daemon_name"`
	Hostname    string `json:"hostname"`
	ServiceName string `json:"service_name"`

	Status     *int   `json:"status"`
	StatusDesc string `json:"status_desc"`

	ContainerID           *string  `json:"container_id"`
	ContainerImageID      *string  `json:"container_image_id"`
	ContainerImageName    *string  `json:"container_image_name"`
	ContainerImageDigests []string `json:"container_image_digests"`
	Version               *string  `json:"version"`
	MemoryUsage           *int64   `json:"memory_usage"`
	MemoryRequest         *int64   `json:"memory_request"`
	MemoryLimit           *int64   `json:"memory_limit"`
	CPUPercentage         *string  `json:"cpu_percentage"`
	IsActive              bool     `json:"is_active"`
	OSDSpecAffinity       *string  `json:"osdspec_affinity"`

	Ports               []int    `json:"ports"`
	IP                  *string  `json:"ip"`
	DeployedBy          []string `json:"deployed_by"`
	Rank                *int     `json:"rank"`
	RankGeneration      *int     `json:"rank_generation"`
	ExtraContainerArgs  []string `json:"extra_container_args"`
	ExtraEntrypointArgs []string `json:"extra_entrypoint_args"`
	ConfigDigest        string   `json:"config_digest"`

	Created        *string `json:"created"`
	Started        *string `json:"started"`
	Deployed       *string `json:"deployed"`
	Configured     *string `json:"configured"`
	LastDeployed   *string `json:"last_deployed"`
	LastConfigured *string `json:"last_configured"`
	LastRefresh    *string `json:"last_refresh"`
}

// stateStatus maps `ls` states to DaemonDescriptionStatus as cephadm's
// _process_ls_output does (unknown counts as error).
func stateStatus(state string) int {
	switch state {
	case "running":
		return api.StatusRunning
	case "stopped":
		return api.StatusStopped
	case "starting":
		return api.StatusStarting
	}
	return api.StatusError
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// decodeHostDaemons decodes one host's cached daemon list. Entries of
// other clusters, legacy daemons and entries that do not decode are
// skipped (and counted), as cephadm's _process_ls_output skips what it
// cannot use.
func decodeHostDaemons(host, fsid string, data []byte, refreshed time.Time) ([]daemonRecord, int) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, 0
	}
	// One decoding pass when every entry fits; entry by entry otherwise,
	// so that one odd entry does not hide the host's other daemons.
	var all []cachedDaemon
	if err := json.Unmarshal(data, &all); err == nil {
		out := make([]daemonRecord, 0, len(all))
		for i := range all {
			if d, ok := all[i].record(host, fsid, refreshed); ok {
				out = append(out, d)
			}
		}
		return out, 0
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, 1
	}
	out := make([]daemonRecord, 0, len(raw))
	bad := 0
	for _, r := range raw {
		var c cachedDaemon
		if err := json.Unmarshal(r, &c); err != nil {
			bad++
			continue
		}
		d, ok := c.record(host, fsid, refreshed)
		if !ok {
			continue
		}
		out = append(out, d)
	}
	return out, bad
}

func (c *cachedDaemon) record(host, fsid string, refreshed time.Time) (daemonRecord, bool) {
	var d daemonRecord
	if c.Style != "" && !strings.HasPrefix(c.Style, "cephadm") {
		return d, false
	}
	if c.FSID != "" && fsid != "" && c.FSID != fsid {
		return d, false
	}
	typ, id := c.DaemonType, c.DaemonID
	if typ == "" || id == "" {
		name := c.Name
		if name == "" {
			name = c.DaemonName
		}
		t, i, ok := strings.Cut(name, ".")
		if !ok || t == "" || i == "" {
			return d, false
		}
		typ, id = t, i
	}
	d.DaemonType, d.DaemonID = typ, id
	d.DaemonName = typ + "." + id
	d.Hostname = host
	d.ServiceName = c.ServiceName
	if d.ServiceName == "" {
		d.ServiceName = plan.DeriveServiceName(typ, id, host)
	}
	switch {
	case c.Status != nil:
		st := *c.Status
		d.Status = &st
		d.StatusDesc = c.StatusDesc
	case c.State != "":
		st := stateStatus(c.State)
		d.Status = &st
		d.StatusDesc = c.State
	default:
		st := api.StatusUnknown
		d.Status = &st
		d.StatusDesc = "unknown"
	}
	if cid := deref(c.ContainerID); len(cid) > 12 {
		d.ContainerID = cid[:12]
	} else {
		d.ContainerID = cid
	}
	d.ContainerImageID = deref(c.ContainerImageID)
	d.ContainerImageName = deref(c.ContainerImageName)
	d.ContainerImageDigests = c.ContainerImageDigests
	d.Version = deref(c.Version)
	d.MemoryUsage, d.MemoryRequest, d.MemoryLimit = c.MemoryUsage, c.MemoryRequest, c.MemoryLimit
	d.CPUPercentage = deref(c.CPUPercentage)
	d.IsActive = c.IsActive
	if typ == "osd" {
		d.OSDSpecAffinity = deref(c.OSDSpecAffinity)
	}
	d.Ports = c.Ports
	if c.IP != nil && *c.IP != "" {
		ip := *c.IP
		d.IP = &ip
	}
	d.DeployedBy = c.DeployedBy
	d.Rank, d.RankGeneration = c.Rank, c.RankGeneration
	d.ExtraContainerArgs, d.ExtraEntrypointArgs = c.ExtraContainerArgs, c.ExtraEntrypointArgs
	d.ConfigDigest = c.ConfigDigest
	d.Created = deref(c.Created)
	d.Started = deref(c.Started)
	d.LastDeployed = firstNonEmpty(deref(c.LastDeployed), deref(c.Deployed))
	d.LastConfigured = firstNonEmpty(deref(c.LastConfigured), deref(c.Configured))
	d.Refreshed = refreshed
	d.LastRefresh = firstNonEmpty(deref(c.LastRefresh), fmtTime(refreshed))
	return d, true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// daemonMatches applies GET /daemons filters.
func daemonMatches(d *daemonRecord, f api.DaemonFilter) bool {
	return (f.ServiceName == "" || d.ServiceName == f.ServiceName) &&
		(f.DaemonType == "" || d.DaemonType == f.DaemonType) &&
		(f.DaemonID == "" || d.DaemonID == f.DaemonID) &&
		(f.Host == "" || d.Hostname == f.Host)
}

// ListDaemons is GET /daemons: the cached daemons (never SSH), filtered,
// in the controller's order (by host, then as the host listed them), with
// their events. refresh only flags the hosts' daemon lists for the next
// pass and wakes the reconciler, as cephadm's --refresh does.
func (r *Reconciler) ListDaemons(f api.DaemonFilter) ([]api.DaemonDescription, error) {
	v, err := r.loadView(viewOptions{events: true})
	if err != nil {
		return nil, err
	}
	if f.Refresh {
		r.requestRefresh(f.Host)
	}
	out := make([]api.DaemonDescription, 0, len(v.daemons))
	for i := range v.daemons {
		d := &v.daemons[i]
		if !daemonMatches(d, f) {
			continue
		}
		dd := d.DaemonDescription
		dd.Events = v.daemonEvents[d.name()]
		out = append(out, dd)
	}
	return out, nil
}

// findDaemon returns the daemon named name ("<type>.<id>") or ENOENT.
func (v *view) findDaemon(name string) (*daemonRecord, error) {
	for i := range v.daemons {
		if v.daemons[i].name() == name {
			return &v.daemons[i], nil
		}
	}
	return nil, notFoundf("Unable to find %s daemon(s)", name)
}

// daemonsOf returns the daemons of a service, in view order.
func (v *view) daemonsOf(svc string) []*daemonRecord {
	var out []*daemonRecord
	for _, i := range v.byService[svc] {
		out = append(out, &v.daemons[i])
	}
	return out
}

// notFoundf is an ENOENT error with exactly the given message.
func notFoundf(format string, a ...any) error {
	return api.NewError(syscall.ENOENT, format, a...)
}
