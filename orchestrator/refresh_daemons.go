package orchestrator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/api"
)

// DaemonDescription is one daemon as cephadm's DaemonDescription.to_json()
// renders it (`orch ps --format json`; keys with null values left out). It
// is what the refresh caches per host (store.CacheDaemons), converted from
// the agent's `ls` output by ConvertLs. The wire type lives in api so that
// the API, the reconciler and the refresh share one definition.
type DaemonDescription = api.DaemonDescription

// ParseCephadmTime reads python-common's str_to_datetime inputs: ISO 8601
// with or without fractional seconds (any precision) and a Z or numeric
// offset; a time without a zone is UTC. The result is UTC.
func ParseCephadmTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: not an ISO 8601 time", s)
}

// cephadmTime formats t as cephadm's datetime_to_str ("" for the zero time).
func cephadmTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(api.TimeFormat)
}

// KnownDaemonTypes are cephadm's KNOWN_DAEMON_TYPES: the daemon types of
// every known service type (ingress → haproxy and keepalived,
// jaeger-tracing → its four parts).
var KnownDaemonTypes = []string{
	"agent", "alertmanager", "ceph-exporter", "cephfs-mirror", "container", "crash", "elasticsearch",
	"grafana", "haproxy", "iscsi", "jaeger-agent", "jaeger-collector", "jaeger-query", "keepalived",
	"loki", "mds", "mgr", "mon", "nfs", "node-exporter", "node-proxy", "nvmeof", "osd", "prometheus",
	"promtail", "rbd-mirror", "rgw", "smb", "snmp-gateway",
}

func knownDaemonType(t string) bool {
	for _, k := range KnownDaemonTypes {
		if k == t {
			return true
		}
	}
	return false
}

// lsEntry is one entry of `orch agent ls` (cephadm `ls`): the fixed keys
// plus every key of the daemon's unit.meta.
type lsEntry struct {
	Style                 string          `json:"style"`
	Name                  string          `json:"name"`
	FSID                  string          `json:"fsid"`
	State                 *string         `json:"state"`
	ContainerID           *string         `json:"container_id"`
	ContainerImageID      *string         `json:"container_image_id"`
	ContainerImageName    *string         `json:"container_image_name"`
	ContainerImageDigests []string        `json:"container_image_digests"`
	Version               *string         `json:"version"`
	Created               *string         `json:"created"`
	Started               *string         `json:"started"`
	LastConfigured        *string         `json:"last_configured"`
	LastDeployed          *string         `json:"last_deployed"`
	Configured            *string         `json:"configured"`
	Deployed              *string         `json:"deployed"`
	MemoryUsage           json.RawMessage `json:"memory_usage"`
	MemoryRequest         json.RawMessage `json:"memory_request"`
	MemoryLimit           json.RawMessage `json:"memory_limit"`
	CPUPercentage         *string         `json:"cpu_percentage"`
	ServiceName           *string         `json:"service_name"`
	Ports                 []int           `json:"ports"`
	IP                    *string         `json:"ip"`
	DeployedBy            []string        `json:"deployed_by"`
	Rank                  json.RawMessage `json:"rank"`
	RankGeneration        json.RawMessage `json:"rank_generation"`
	ExtraContainerArgs    []string        `json:"extra_container_args"`
	ExtraEntrypointArgs   []string        `json:"extra_entrypoint_args"`
}

// ConvertLs turns the agent's `ls` output for host into the daemons of
// cluster fsid, with cephadm's _process_ls_output rules: only entries whose
// style starts with "cephadm", of this fsid, with a "." in the name and a
// known daemon type; state running/stopped/error/unknown → status
// running/stopped/error/error with status_desc the state; container ids
// shortened to 12 characters; last_refresh = refreshed.
//
// Unlike cephadm it also reads the agent's "configured"/"deployed" keys
// for last_configured/last_deployed (cephadm reads keys its binary never
// writes, reference §11). Entries it cannot read are skipped and reported
// in skipped, as cephadm logs and skips unknown types.
func ConvertLs(host, fsid string, out []byte, refreshed time.Time) (daemons []DaemonDescription, skipped []string, err error) {
	// Decode the whole list at once; only when an entry does not fit is
	// the list decoded entry by entry, to skip just the bad ones.
	var entries []lsEntry
	if err := json.Unmarshal(out, &entries); err != nil {
		var raw []json.RawMessage
		if err := json.Unmarshal(out, &raw); err != nil {
			return nil, nil, fmt.Errorf("ls output is not a JSON array: %w", err)
		}
		entries = make([]lsEntry, 0, len(raw))
		for i, r := range raw {
			var e lsEntry
			if err := json.Unmarshal(r, &e); err != nil {
				skipped = append(skipped, fmt.Sprintf("entry %d: %v", i, err))
				continue
			}
			entries = append(entries, e)
		}
	}
	daemons = make([]DaemonDescription, 0, len(entries))
	for _, e := range entries {
		if !strings.HasPrefix(e.Style, "cephadm") || e.FSID != fsid {
			continue
		}
		typ, id, ok := strings.Cut(e.Name, ".")
		if !ok {
			continue
		}
		if !knownDaemonType(typ) {
			skipped = append(skipped, fmt.Sprintf("unknown daemon type %s (%s)", typ, e.Name))
			continue
		}
		d := DaemonDescription{
			DaemonType: typ, DaemonID: id, DaemonName: e.Name, Hostname: host,
			ContainerImageDigests: e.ContainerImageDigests,
			Ports:                 e.Ports,
			DeployedBy:            e.DeployedBy,
			ExtraContainerArgs:    e.ExtraContainerArgs,
			ExtraEntrypointArgs:   e.ExtraEntrypointArgs,
			LastRefresh:           cephadmTime(refreshed),
			StatusDesc:            "unknown",
		}
		if e.ContainerID != nil {
			d.ContainerID = *e.ContainerID
			if len(d.ContainerID) > 12 {
				d.ContainerID = d.ContainerID[:12]
			}
		}
		d.ContainerImageID = lsString(e.ContainerImageID)
		d.ContainerImageName = lsString(e.ContainerImageName)
		d.Version = lsString(e.Version)
		d.CPUPercentage = lsString(e.CPUPercentage)
		d.ServiceName = lsString(e.ServiceName)
		if e.IP != nil && *e.IP != "" {
			ip := *e.IP
			d.IP = &ip
		}
		if e.State != nil {
			d.StatusDesc = *e.State
			st := api.StatusError // "error", "unknown" and anything else
			switch *e.State {
			case "running":
				st = api.StatusRunning
			case "stopped":
				st = api.StatusStopped
			}
			d.Status = &st
		}
		var perr []string
		num := func(name string, raw json.RawMessage) *int64 {
			v, err := jsonInt(raw)
			if err != nil {
				perr = append(perr, name+": "+err.Error())
			}
			return v
		}
		d.MemoryUsage = num("memory_usage", e.MemoryUsage)
		d.MemoryRequest = num("memory_request", e.MemoryRequest)
		d.MemoryLimit = num("memory_limit", e.MemoryLimit)
		if v := num("rank", e.Rank); v != nil {
			r := int(*v)
			d.Rank = &r
		}
		if v := num("rank_generation", e.RankGeneration); v != nil {
			g := int(*v)
			d.RankGeneration = &g
		}
		ts := func(name string, vals ...*string) string {
			for _, v := range vals {
				if v == nil || *v == "" {
					continue
				}
				t, err := ParseCephadmTime(*v)
				if err != nil {
					perr = append(perr, name+": "+err.Error())
					return ""
				}
				return cephadmTime(t)
			}
			return ""
		}
		d.Created = ts("created", e.Created)
		d.Started = ts("started", e.Started)
		d.LastConfigured = ts("last_configured", e.LastConfigured, e.Configured)
		d.LastDeployed = ts("last_deployed", e.LastDeployed, e.Deployed)
		if len(perr) > 0 {
			skipped = append(skipped, fmt.Sprintf("%s: %s", e.Name, strings.Join(perr, "; ")))
			continue
		}
		daemons = append(daemons, d)
	}
	return daemons, skipped, nil
}

func lsString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// jsonInt reads an optional integer that may be written as a number or a
// numeric string (cephadm does int(d['rank'])).
func jsonInt(raw json.RawMessage) (*int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%s is not a number", raw)
	}
	n := int64(f)
	return &n, nil
}
