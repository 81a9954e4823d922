package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/spec"
)

// ErrInvalidSnapshot classifies every problem with a snapshot file; the
// CLI maps it to EINVAL.
var ErrInvalidSnapshot = errors.New("invalid snapshot")

// MaxSnapshotSize bounds the snapshot file (a 10,000-host cluster with
// full device inventories stays well below it).
const MaxSnapshotSize = 1 << 30

// Snapshot is the cluster state a plan is computed against. Every part is
// optional; unknown JSON keys are ignored.
type Snapshot struct {
	Hosts     []Host
	Daemons   []Daemon
	Inventory []inventory.InventoryHost
	// Networks is host → subnet → interface → addresses.
	Networks map[string]scheduler.HostNetworks
	// RankMaps are the stored rank maps of ranked services, by service name.
	RankMaps map[string]scheduler.RankMap
	// Specs are the already-applied specs, in file order.
	Specs []spec.Document
	// MonPublicNetwork is the cluster's mon public_network (comma-separated
	// CIDRs, as Ceph's option): new monitors go only to hosts with an
	// address in one of them, as cephadm's mon placement filter does.
	MonPublicNetwork string
}

// Host is one entry of `orch host ls --format json`.
type Host struct {
	Hostname string   `json:"hostname"`
	Addr     string   `json:"addr,omitempty"`
	Labels   []string `json:"labels"`
	// Status is "", "offline" or "maintenance".
	Status string `json:"status"`
}

// Daemon is one entry of `orch ps --format json`.
type Daemon struct {
	DaemonType     string `json:"daemon_type"`
	DaemonID       string `json:"daemon_id"`
	Hostname       string `json:"hostname"`
	ServiceName    string `json:"service_name,omitempty"`
	Ports          []int  `json:"ports,omitempty"`
	IP             string `json:"ip,omitempty"`
	Rank           *int   `json:"rank,omitempty"`
	RankGeneration *int   `json:"rank_generation,omitempty"`
	IsActive       bool   `json:"is_active,omitempty"`
}

// MonPublicNetworks splits MonPublicNetwork at commas.
func (s *Snapshot) MonPublicNetworks() []string {
	var out []string
	for _, n := range strings.Split(s.MonPublicNetwork, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// Name is the daemon name "<type>.<id>".
func (d *Daemon) Name() string { return d.DaemonType + "." + d.DaemonID }

// snapshotJSON is the file's shape; raw parts are decoded with their own
// checks so that errors name the offending entry.
type snapshotJSON struct {
	Hosts     []json.RawMessage                        `json:"hosts"`
	Daemons   []json.RawMessage                        `json:"daemons"`
	Inventory []json.RawMessage                        `json:"inventory"`
	Networks  map[string]map[string]json.RawMessage    `json:"networks"`
	RankMaps  map[string]map[string]map[string]*string `json:"rank_maps"`
	Specs     json.RawMessage                          `json:"specs"`
	// MonPublicNetwork is "mon_public_network".
	MonPublicNetwork string `json:"mon_public_network"`
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidSnapshot}, a...)...)
}

// jsonProblem turns a decoding error into a short, located message.
func jsonProblem(where string, data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return invalid("%s: line %d: %s", where, line, se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "value"
		}
		return invalid("%s: %s: expected %s, got JSON %s", where, field, te.Type.String(), te.Value)
	}
	return invalid("%s: %s", where, strings.TrimPrefix(err.Error(), "json: "))
}

// ReadSnapshot decodes and checks a snapshot file. Hosts need a unique
// hostname and a known status; daemons need a type, an id and a host; rank
// map keys must be integers; specs must be valid specs. Every error wraps
// ErrInvalidSnapshot, or is the spec's *spec.ValidationError.
func ReadSnapshot(data []byte) (*Snapshot, error) {
	if len(data) > MaxSnapshotSize {
		return nil, invalid("snapshot is too large: %d bytes (limit %d)", len(data), MaxSnapshotSize)
	}
	var raw snapshotJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, jsonProblem("snapshot", data, err)
	}
	if dec.More() {
		return nil, invalid("snapshot: trailing data after the JSON object")
	}
	snap := &Snapshot{MonPublicNetwork: strings.TrimSpace(raw.MonPublicNetwork)}
	for _, n := range snap.MonPublicNetworks() {
		if _, err := netip.ParsePrefix(n); err != nil {
			return nil, invalid("mon_public_network: %q is not a network (CIDR)", n)
		}
	}
	seen := map[string]bool{}
	for i, r := range raw.Hosts {
		var h Host
		if err := json.Unmarshal(r, &h); err != nil {
			return nil, jsonProblem(fmt.Sprintf("hosts[%d]", i), r, err)
		}
		if h.Hostname == "" {
			return nil, invalid("hosts[%d]: hostname is missing", i)
		}
		if seen[h.Hostname] {
			return nil, invalid("hosts[%d]: host %s is listed twice", i, h.Hostname)
		}
		seen[h.Hostname] = true
		switch st := strings.ToLower(h.Status); st {
		case "", scheduler.StatusOffline, scheduler.StatusMaintenance:
			h.Status = st
		default:
			return nil, invalid("hosts[%d] (%s): unknown status %q (want \"\", \"offline\" or \"maintenance\")", i, h.Hostname, h.Status)
		}
		snap.Hosts = append(snap.Hosts, h)
	}
	for i, r := range raw.Daemons {
		var d Daemon
		if err := json.Unmarshal(r, &d); err != nil {
			return nil, jsonProblem(fmt.Sprintf("daemons[%d]", i), r, err)
		}
		switch {
		case d.DaemonType == "":
			return nil, invalid("daemons[%d]: daemon_type is missing", i)
		case d.DaemonID == "":
			return nil, invalid("daemons[%d]: daemon_id is missing", i)
		case d.Hostname == "":
			return nil, invalid("daemons[%d] (%s): hostname is missing", i, d.Name())
		case d.Rank != nil && d.RankGeneration == nil:
			return nil, invalid("daemons[%d] (%s): rank without rank_generation", i, d.Name())
		}
		if d.ServiceName == "" {
			d.ServiceName = DeriveServiceName(d.DaemonType, d.DaemonID, d.Hostname)
		}
		snap.Daemons = append(snap.Daemons, d)
	}
	for i, r := range raw.Inventory {
		var ih inventory.InventoryHost
		if err := json.Unmarshal(r, &ih); err != nil {
			return nil, jsonProblem(fmt.Sprintf("inventory[%d]", i), r, err)
		}
		if ih.Name == "" {
			return nil, invalid("inventory[%d]: name is missing", i)
		}
		snap.Inventory = append(snap.Inventory, ih)
	}
	if len(raw.Networks) > 0 {
		snap.Networks = make(map[string]scheduler.HostNetworks, len(raw.Networks))
		for host, subnets := range raw.Networks {
			hn := make(scheduler.HostNetworks, len(subnets))
			for subnet, v := range subnets {
				ifaces, err := decodeIfaces(v)
				if err != nil {
					return nil, jsonProblem(fmt.Sprintf("networks[%s][%s]", host, subnet), v, err)
				}
				hn[subnet] = ifaces
			}
			snap.Networks[host] = hn
		}
	}
	if len(raw.RankMaps) > 0 {
		snap.RankMaps = make(map[string]scheduler.RankMap, len(raw.RankMaps))
		svcs := make([]string, 0, len(raw.RankMaps))
		for svc := range raw.RankMaps {
			svcs = append(svcs, svc)
		}
		sort.Strings(svcs)
		for _, svc := range svcs {
			rm, err := rankMapFromJSON(raw.RankMaps[svc])
			if err != nil {
				return nil, invalid("rank_maps[%s]: %v", svc, err)
			}
			snap.RankMaps[svc] = rm
		}
	}
	if s := bytes.TrimSpace(raw.Specs); len(s) > 0 && !bytes.Equal(s, []byte("null")) {
		if s[0] != '[' {
			return nil, invalid("specs: expected a JSON array of spec objects")
		}
		var items []json.RawMessage
		if err := json.Unmarshal(s, &items); err != nil {
			return nil, jsonProblem("specs", s, err)
		}
		if len(items) > 0 {
			docs, err := spec.LoadDocuments(s)
			if err != nil {
				return nil, fmt.Errorf("snapshot specs: %w", err)
			}
			snap.Specs = docs
		}
	}
	return snap, nil
}

// decodeIfaces reads one subnet of a host's networks: {iface: [ip, ...]},
// or the list of addresses older cephadm releases stored (kept under the
// interface name "").
func decodeIfaces(v json.RawMessage) (map[string][]string, error) {
	if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '[' {
		var ips []string
		if err := json.Unmarshal(t, &ips); err != nil {
			return nil, err
		}
		return map[string][]string{"": ips}, nil
	}
	var ifaces map[string][]string
	err := json.Unmarshal(v, &ifaces)
	return ifaces, err
}

func rankMapFromJSON(m map[string]map[string]*string) (scheduler.RankMap, error) {
	out := make(scheduler.RankMap, len(m))
	for rs, gens := range m {
		r, err := strconv.Atoi(rs)
		if err != nil || r < 0 {
			return nil, fmt.Errorf("rank %q is not a non-negative integer", rs)
		}
		g := make(map[int]string, len(gens))
		for gs, id := range gens {
			gen, err := strconv.Atoi(gs)
			if err != nil || gen < 0 {
				return nil, fmt.Errorf("rank %d: generation %q is not a non-negative integer", r, gs)
			}
			if id != nil && *id == "" {
				return nil, fmt.Errorf("rank %d generation %d: empty daemon id (use null)", r, gen)
			}
			if id != nil {
				g[gen] = *id
			} else {
				g[gen] = ""
			}
		}
		out[r] = g
	}
	return out, nil
}

// daemonTypeService maps daemon types to the service type they belong to
// (cephadm's daemon_type_to_service) where the two differ.
var daemonTypeService = map[string]string{"haproxy": "ingress", "keepalived": "ingress"}

// DeriveServiceName is the service name cephadm derives for a daemon that
// does not record one (DaemonDescription.service_name): the service type,
// plus for types that need a service id, the id recovered from the daemon
// id ("<service_id>.<host>[.<random>]").
func DeriveServiceName(daemonType, daemonID, hostname string) string {
	svc := daemonType
	if s, ok := daemonTypeService[daemonType]; ok {
		svc = s
	}
	if svc == "osd" {
		return "osd.unmanaged"
	}
	if !spec.RequiresServiceID(svc) {
		return svc
	}
	id := deriveServiceID(daemonType, daemonID, hostname)
	if svc == "nfs" {
		// Ranked nfs daemons are named <service_id>.<rank>.<generation>....
		if p := strings.Split(id, "."); len(p) > 2 && isDigits(p[len(p)-1]) && isDigits(p[len(p)-2]) {
			id = strings.Join(p[:len(p)-2], ".")
		}
	}
	return svc + "." + id
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func deriveServiceID(daemonType, id, hostname string) string {
	host, _, _ := strings.Cut(hostname, ".")
	if host != "" && host == id {
		return id
	}
	if host != "" && strings.Contains(id, host) {
		i := strings.LastIndex(id, host)
		pre, post := id[:i], id[i+len(host):]
		if strings.HasSuffix(pre, ".") && (post == "" || strings.HasPrefix(post, ".")) {
			return pre[:len(pre)-1]
		}
		return id
	}
	parts := strings.Split(id, ".")
	switch {
	case daemonType == "rgw" && (len(parts) == 3 || len(parts) == 4):
		return strings.Join(parts[:2], ".")
	case daemonType == "iscsi" && len(parts) > 1:
		return strings.Join(parts[:len(parts)-1], ".")
	}
	return id
}
