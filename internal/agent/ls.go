package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/containers"
)

// ListOptions are the flags of `orch agent ls`.
type ListOptions struct {
	// FSID limits the listing to one cluster.
	FSID string
	// NoDetail prints only style, name, fsid and systemd_unit, and runs no
	// command at all.
	NoDetail bool
}

// DaemonStatus is one entry of `orch agent ls`, cephadm's list_daemons
// entry. It marshals to cephadm's flat object: the fields below plus every
// key of unit.meta (the fields win on a clash).
type DaemonStatus struct {
	Style       string
	Name        string
	FSID        string
	SystemdUnit string

	// Detail is false for --no-detail entries; the fields below are then
	// neither filled nor printed.
	Detail  bool
	Enabled bool
	// State is running, stopped, error or unknown.
	State                 string
	ContainerID           *string
	ContainerImageName    *string
	ContainerImageID      *string
	ContainerImageDigests []string
	// Version is the image's io.ceph.version label or `ceph -v` of a Ceph
	// daemon's container; "" when unknown (custom containers, monitoring).
	Version string
	// Started is the container's start (podman's StartedAt, else its
	// creation, which is the start for cephadm's --rm containers).
	Started *time.Time
	// Created, Deployed and Configured are the mtimes of unit.created,
	// unit.image and unit.configured.
	Created    *time.Time
	Deployed   *time.Time
	Configured *time.Time
	// MemoryUsage (bytes) and CPUPercentage ("0.28%") come from one podman
	// stats call; printed only when there is a container.
	MemoryUsage   *int64
	CPUPercentage *string
	// Meta holds unit.meta's keys (service_name, ports, ip, deployed_by,
	// rank, rank_generation, extra_*_args, memory_*, config_digest, ...).
	Meta map[string]json.RawMessage
}

// cephadmTime is cephadm's datetime_to_str: UTC with microseconds and Z.
const cephadmTime = "2006-01-02T15:04:05.000000Z"

func fmtTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC().Format(cephadmTime)
}

// MarshalJSON renders cephadm's flat object.
func (d DaemonStatus) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(d.Meta)+20)
	if d.Detail {
		for k, v := range d.Meta {
			m[k] = v
		}
	}
	m["style"] = d.Style
	m["name"] = d.Name
	m["fsid"] = d.FSID
	m["systemd_unit"] = d.SystemdUnit
	if !d.Detail {
		return json.Marshal(m)
	}
	m["enabled"] = d.Enabled
	m["state"] = d.State
	m["container_id"] = d.ContainerID
	m["container_image_name"] = d.ContainerImageName
	m["container_image_id"] = d.ContainerImageID
	m["container_image_digests"] = d.ContainerImageDigests
	m["version"] = d.Version
	m["started"] = fmtTime(d.Started)
	m["created"] = fmtTime(d.Created)
	m["deployed"] = fmtTime(d.Deployed)
	m["configured"] = fmtTime(d.Configured)
	if d.ContainerID != nil {
		m["memory_usage"] = d.MemoryUsage
		m["cpu_percentage"] = d.CPUPercentage
	}
	return json.Marshal(m)
}

// skippedClusterEntries are the cluster dir's non-daemon directories.
var skippedClusterEntries = map[string]bool{"removed": true, "crash": true, "custom_config_files": true, "home": true}

// List reports this host's daemons (cephadm `ls`): one entry per
// <data root>/<fsid>/<type>.<id>/ directory, sorted by fsid and name. With
// detail it costs a fixed number of commands whatever the daemon count:
// one `podman ps -a`, one `podman stats`, one `podman image inspect` of
// the images in use, under systemd one `systemctl show`, plus one
// `podman exec ... ceph -v` per Ceph image without a version label.
func (l *Lifecycle) List(ctx context.Context, opts ListOptions) ([]DaemonStatus, error) {
	if opts.FSID != "" && !IsFSID(opts.FSID) {
		return nil, fmt.Errorf("ls: fsid %q is not a UUID: %w", opts.FSID, ErrInvalidArgument)
	}
	var fsids []string
	if opts.FSID != "" {
		fsids = []string{opts.FSID}
	} else {
		for _, e := range readDirSorted(l.fs(l.dataRoot())) {
			if e.IsDir() && IsFSID(e.Name()) {
				fsids = append(fsids, e.Name())
			}
		}
	}
	list := []DaemonStatus{}
	for _, fsid := range fsids {
		for _, e := range readDirSorted(l.fs(l.clusterDir(fsid))) {
			name := e.Name()
			if !e.IsDir() || skippedClusterEntries[name] || strings.HasPrefix(name, ".") {
				continue
			}
			if _, _, err := validateDaemonRef(fsid, name); err != nil {
				continue
			}
			list = append(list, DaemonStatus{
				Style: "cephadm:v1", Name: name, FSID: fsid,
				SystemdUnit: strings.TrimSuffix(containers.UnitName(fsid, name), ".service"),
			})
		}
	}
	if opts.NoDetail || len(list) == 0 {
		return list, nil
	}
	if err := l.fillDetail(ctx, list); err != nil {
		return nil, err
	}
	return list, nil
}

// readDirSorted lists a directory (nil when it cannot be read).
func readDirSorted(dir string) []os.DirEntry {
	ents, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil
	}
	return ents
}

func (l *Lifecycle) fillDetail(ctx context.Context, list []DaemonStatus) error {
	sup, err := l.supervisor(ctx)
	if err != nil {
		return err
	}
	var units map[string]unitState
	if sup == SupervisorSystemd {
		names := make([]string, len(list))
		for i, d := range list {
			names[i] = containers.UnitName(d.FSID, d.Name)
		}
		units, err = l.Host.systemdUnitStates(ctx, names)
		if err != nil {
			return err
		}
	}
	cs, err := l.Host.podmanPS(ctx)
	if err != nil {
		return fmt.Errorf("ls: %w", err)
	}
	idx := indexContainers(cs)

	found := make([]*psContainer, len(list))
	anyRunning := false
	var imageIDs []string
	seenImage := map[string]bool{}
	for i, d := range list {
		c := idx.daemon(d.FSID, d.Name)
		found[i] = c
		if c == nil {
			continue
		}
		anyRunning = anyRunning || c.running()
		if id := normalizeID(c.ImageID); id != "" && !seenImage[id] {
			seenImage[id] = true
			imageIDs = append(imageIDs, id)
		}
	}
	var stats map[string]containerStats
	if anyRunning {
		stats = l.Host.podmanStats(ctx) // best effort, as in cephadm
	}
	images := l.Host.podmanImages(ctx, imageIDs)
	cephVersions := map[string]string{} // image id → version, per call

	for i := range list {
		d := &list[i]
		d.Detail = true
		dataDir := l.dataDir(d.FSID, d.Name)
		d.Created = l.mtime(path.Join(dataDir, fileUnitCreated))
		d.Deployed = l.mtime(path.Join(dataDir, fileUnitImage))
		d.Configured = l.mtime(path.Join(dataDir, fileUnitConfigured))
		d.Meta = l.readMeta(path.Join(dataDir, fileUnitMeta))
		typ, _, _ := containers.SplitDaemonName(d.Name)
		c := found[i]

		if sup == SupervisorSystemd {
			us := units[containers.UnitName(d.FSID, d.Name)]
			d.Enabled, d.State = us.enabled(), us.state()
		} else {
			d.Enabled, d.State = c != nil, podmanState(c)
		}
		if d.State == "stopped" && !l.Host.exists(path.Join(dataDir, fileUnitStopped)) {
			d.State = "error" // not running, and orch did not stop it
		}
		if c == nil {
			if b, err := os.ReadFile(l.fs(path.Join(dataDir, fileUnitImage))); err == nil {
				if s := strings.TrimSpace(string(b)); s != "" {
					d.ContainerImageName = &s
				}
			}
			continue
		}
		id, image, imageID := c.ID, c.Image, normalizeID(c.ImageID)
		d.ContainerID, d.ContainerImageName = &id, &image
		if imageID != "" {
			d.ContainerImageID = &imageID
		}
		if t := c.StartedAt.Time; !t.IsZero() {
			d.Started = &t
		} else if t := c.Created.Time; !t.IsZero() {
			d.Started = &t
		}
		img := images[imageID]
		d.ContainerImageDigests = img.digests
		d.Version = img.labels["io.ceph.version"]
		if d.Version == "" && containers.IsCephType(typ) && c.running() {
			v, ok := cephVersions[imageID]
			if !ok {
				v = l.Host.cephVersion(ctx, c.ID)
				cephVersions[imageID] = v
			}
			d.Version = v
		}
		if st, ok := stats[c.ID[:min(12, len(c.ID))]]; ok {
			d.MemoryUsage, d.CPUPercentage = st.memory, st.cpu
		}
	}
	return nil
}

func (l *Lifecycle) mtime(p string) *time.Time {
	st, err := os.Stat(l.fs(p))
	if err != nil {
		return nil
	}
	t := st.ModTime().UTC()
	return &t
}

// readMeta reads unit.meta's keys; a missing or broken file gives none.
func (l *Lifecycle) readMeta(p string) map[string]json.RawMessage {
	b, err := os.ReadFile(l.fs(p))
	if err != nil {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	return m
}

// normalizeID strips a "sha256:" prefix, as cephadm's normalize_container_id.
func normalizeID(id string) string { return strings.TrimPrefix(id, "sha256:") }

// podmanState maps a container to cephadm's states for hosts without
// systemd. A container that exited after `podman stop` (SIGTERM: 143, or
// 0) or `podman kill` (SIGKILL: 137; podman treats it as a stop and does
// not restart it, even under --restart=always) is stopped; any other exit is an error, and so is a daemon whose container
// is missing (its deploy or a restart failed).
func podmanState(c *psContainer) string {
	if c == nil {
		return "error"
	}
	switch c.State {
	case "running":
		return "running"
	case "created", "configured", "initialized":
		return "stopped"
	case "exited", "stopped":
		switch c.ExitCode {
		case 0, 137, 143:
			return "stopped"
		}
		return "error"
	}
	return "unknown"
}

// unitState is one unit's `systemctl show` properties.
type unitState struct{ active, fileState string }

// state maps ActiveState as cephadm's check_unit maps is-active.
func (u unitState) state() string {
	switch u.active {
	case "active":
		return "running"
	case "inactive":
		return "stopped"
	case "failed", "auto-restart":
		return "error"
	}
	return "unknown"
}

// enabled is `systemctl is-enabled` succeeding.
func (u unitState) enabled() bool {
	switch u.fileState {
	case "enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "transient":
		return true
	}
	return false
}

// systemdUnitStates asks systemd about every unit in one call.
func (h *Host) systemdUnitStates(ctx context.Context, units []string) (map[string]unitState, error) {
	argv := append([]string{"systemctl", "show", "--property=Id,ActiveState,UnitFileState", "--"}, units...)
	out, err := h.run(ctx, argv...)
	if err != nil {
		return nil, fmt.Errorf("ls: %w", err)
	}
	states := map[string]unitState{}
	var cur struct{ id, active, file string }
	flush := func() {
		if cur.id != "" {
			states[cur.id] = unitState{active: cur.active, fileState: cur.file}
		}
		cur.id, cur.active, cur.file = "", "", ""
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "Id":
			cur.id = v
		case "ActiveState":
			cur.active = v
		case "UnitFileState":
			cur.file = v
		}
	}
	flush()
	return states, nil
}

type containerStats struct {
	memory *int64
	cpu    *string
}

// podmanStats reads `podman stats --no-stream` for the running containers,
// keyed by 12-character container id; nil when podman cannot say.
func (h *Host) podmanStats(ctx context.Context) map[string]containerStats {
	out, err := h.run(ctx, "podman", "stats", "--no-stream", "--format", "json")
	if err != nil {
		return nil
	}
	var rows []struct {
		ID       string `json:"id"`
		CPU      string `json:"cpu_percent"`
		MemUsage string `json:"mem_usage"`
	}
	if json.Unmarshal(out, &rows) != nil {
		return nil
	}
	stats := make(map[string]containerStats, len(rows))
	for _, r := range rows {
		var st containerStats
		if mem, ok := parseMemUsage(r.MemUsage); ok {
			st.memory = &mem
		}
		if r.CPU != "" {
			cpu := r.CPU
			st.cpu = &cpu
		}
		stats[r.ID[:min(12, len(r.ID))]] = st
	}
	return stats
}

// parseMemUsage reads the used half of "708.6kB / 25.28GB" (podman prints
// decimal units, docker binary ones; both are accepted) as bytes.
func parseMemUsage(s string) (int64, bool) {
	used, _, _ := strings.Cut(s, "/")
	used = strings.TrimSpace(used)
	i := strings.IndexFunc(used, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := used, ""
	if i >= 0 {
		num, unit = used[:i], strings.TrimSpace(used[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, false
	}
	return int64(v * mult), true
}

type imageInfo struct {
	digests []string
	labels  map[string]string
}

// podmanImages inspects the given images in one call (best effort).
func (h *Host) podmanImages(ctx context.Context, ids []string) map[string]imageInfo {
	if len(ids) == 0 {
		return nil
	}
	out, err := h.run(ctx, append([]string{"podman", "image", "inspect"}, ids...)...)
	if err != nil {
		return nil
	}
	var imgs []struct {
		ID          string            `json:"Id"`
		RepoDigests []string          `json:"RepoDigests"`
		Labels      map[string]string `json:"Labels"`
	}
	if json.Unmarshal(out, &imgs) != nil {
		return nil
	}
	res := make(map[string]imageInfo, len(imgs))
	for _, im := range imgs {
		digests := append(make([]string, 0, len(im.RepoDigests)), im.RepoDigests...)
		sort.Strings(digests)
		digests = compactStrings(digests)
		res[normalizeID(im.ID)] = imageInfo{digests: digests, labels: im.Labels}
	}
	return res
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// cephVersion asks a running Ceph container for its version ("18.2.1"),
// as cephadm does when the image has no io.ceph.version label.
func (h *Host) cephVersion(ctx context.Context, containerID string) string {
	out, err := h.run(ctx, "podman", "exec", containerID, "ceph", "-v")
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(out))
	if !strings.HasPrefix(s, "ceph version ") {
		return ""
	}
	f := strings.Fields(s)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}
