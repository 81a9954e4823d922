package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Wire types of the services area (apply, plan, services, daemons,
// operations, health, pause, export). Service and daemon JSON are
// cephadm's ServiceDescription.to_json() and DaemonDescription.to_json(),
// so the ceph-mgr module passes them through unchanged.

// TimeFormat is cephadm's datetime_to_str: UTC, microseconds, "Z".
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// Daemon status values (cephadm's DaemonDescriptionStatus).
const (
	StatusUnknown  = -2
	StatusError    = -1
	StatusStopped  = 0
	StatusRunning  = 1
	StatusStarting = 2
)

// ApplyResult answers POST /apply: one message per input spec, in input
// order (cephadm's "Scheduled <svc> update..."), and the operation that
// tracks the reconciler's work on the accepted service specs (0 when there
// is none, e.g. only hosts were added).
type ApplyResult struct {
	Results   []string `json:"results"`
	Operation uint64   `json:"operation,omitempty"`
}

// PlanRequest is POST /plan: the specs to preview (cephadm's plan()).
type PlanRequest struct {
	Specs []map[string]any `json:"specs"`
}

// ServiceStatus is the "status" object of a ServiceDescription.
type ServiceStatus struct {
	ContainerImageID   string `json:"container_image_id,omitempty"`
	ContainerImageName string `json:"container_image_name,omitempty"`
	ServiceURL         string `json:"service_url,omitempty"`
	Size               int    `json:"size"`
	Running            int    `json:"running"`
	LastRefresh        string `json:"last_refresh,omitempty"`
	Created            string `json:"created,omitempty"`
	Deleted            string `json:"deleted,omitempty"`
	VirtualIP          string `json:"virtual_ip,omitempty"`
	Ports              []int  `json:"ports,omitempty"`
}

// ServiceDescription is cephadm's ServiceDescription.to_json(): the keys of
// the spec's to_json() in their order, then "status" and "events".
type ServiceDescription struct {
	// Spec is the spec's to_json() object.
	Spec   json.RawMessage
	Status ServiceStatus
	// Events are cephadm's event strings,
	// `<created> service:<name> [INFO] "<message>"`.
	Events []string
}

// MarshalJSON splices status and events into the spec object.
func (d ServiceDescription) MarshalJSON() ([]byte, error) {
	spec := bytes.TrimSpace(d.Spec)
	if len(spec) < 2 || spec[0] != '{' {
		return nil, errors.New("service description: spec is not a JSON object")
	}
	var b bytes.Buffer
	b.Write(spec[:len(spec)-1])
	if len(bytes.TrimSpace(spec[1:len(spec)-1])) > 0 {
		b.WriteByte(',')
	}
	st, err := json.Marshal(d.Status)
	if err != nil {
		return nil, err
	}
	b.WriteString(`"status":`)
	b.Write(st)
	if len(d.Events) > 0 {
		ev, err := json.Marshal(d.Events)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"events":`)
		b.Write(ev)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON takes status and events out and keeps every other key, in
// order, as Spec.
func (d *ServiceDescription) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return fmt.Errorf("service description: want a JSON object")
	}
	var spec bytes.Buffer
	spec.WriteByte('{')
	n := 0
	*d = ServiceDescription{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		switch key {
		case "status":
			if err := json.Unmarshal(raw, &d.Status); err != nil {
				return fmt.Errorf("service description status: %w", err)
			}
		case "events":
			if err := json.Unmarshal(raw, &d.Events); err != nil {
				return fmt.Errorf("service description events: %w", err)
			}
		default:
			if n > 0 {
				spec.WriteByte(',')
			}
			n++
			k, _ := json.Marshal(key)
			spec.Write(k)
			spec.WriteByte(':')
			spec.Write(raw)
		}
	}
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return err
	}
	spec.WriteByte('}')
	d.Spec = spec.Bytes()
	return nil
}

// DaemonDescription is cephadm's DaemonDescription.to_json() (keys with
// null values omitted, as cephadm drops them).
type DaemonDescription struct {
	DaemonType            string   `json:"daemon_type"`
	DaemonID              string   `json:"daemon_id"`
	ServiceName           string   `json:"service_name,omitempty"`
	DaemonName            string   `json:"daemon_name"`
	Hostname              string   `json:"hostname"`
	ContainerID           string   `json:"container_id,omitempty"`
	ContainerImageID      string   `json:"container_image_id,omitempty"`
	ContainerImageName    string   `json:"container_image_name,omitempty"`
	ContainerImageDigests []string `json:"container_image_digests,omitempty"`
	MemoryUsage           *int64   `json:"memory_usage,omitempty"`
	MemoryRequest         *int64   `json:"memory_request,omitempty"`
	MemoryLimit           *int64   `json:"memory_limit,omitempty"`
	CPUPercentage         string   `json:"cpu_percentage,omitempty"`
	Version               string   `json:"version,omitempty"`
	// Status is one of the Status* constants.
	Status              *int     `json:"status,omitempty"`
	StatusDesc          string   `json:"status_desc,omitempty"`
	OSDSpecAffinity     string   `json:"osdspec_affinity,omitempty"`
	IsActive            bool     `json:"is_active"`
	Ports               []int    `json:"ports,omitempty"`
	IP                  *string  `json:"ip,omitempty"`
	DeployedBy          []string `json:"deployed_by,omitempty"`
	Rank                *int     `json:"rank,omitempty"`
	RankGeneration      *int     `json:"rank_generation,omitempty"`
	ExtraContainerArgs  []string `json:"extra_container_args,omitempty"`
	ExtraEntrypointArgs []string `json:"extra_entrypoint_args,omitempty"`
	// Times are in TimeFormat.
	LastRefresh    string   `json:"last_refresh,omitempty"`
	Created        string   `json:"created,omitempty"`
	Started        string   `json:"started,omitempty"`
	LastDeployed   string   `json:"last_deployed,omitempty"`
	LastConfigured string   `json:"last_configured,omitempty"`
	Events         []string `json:"events,omitempty"`
}

// Name is "<type>.<id>".
func (d *DaemonDescription) Name() string { return d.DaemonType + "." + d.DaemonID }

// DaemonFilter selects daemons for GET /daemons (empty fields match all).
type DaemonFilter struct {
	ServiceName string
	DaemonType  string
	DaemonID    string
	Host        string
	Refresh     bool
}

// ServiceFilter selects services for GET /services.
type ServiceFilter struct {
	ServiceType string
	ServiceName string
	Refresh     bool
}

// RemoveDaemonsRequest is POST /daemons/remove.
type RemoveDaemonsRequest struct {
	Names []string `json:"names"`
	Force bool     `json:"force"`
}

// DaemonActionRequest is POST /daemons/{name}/{action}.
type DaemonActionRequest struct {
	Image *string `json:"image"`
}

// Results is the answer of calls that report one line per item.
type Results struct {
	Results   []string `json:"results"`
	Operation uint64   `json:"operation,omitempty"`
}

// ActionMessage is the answer of single-item scheduling calls.
type ActionMessage struct {
	Message   string `json:"message"`
	Operation uint64 `json:"operation,omitempty"`
}

// Operation is an asynchronous job: GET /operations[/{id}].
type Operation struct {
	ID       uint64          `json:"id"`
	Kind     string          `json:"kind"`
	State    string          `json:"state"`
	Progress float64         `json:"progress"`
	Created  string          `json:"created"`
	Updated  string          `json:"updated"`
	Messages []string        `json:"messages,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// Done reports whether the operation reached a final state.
func (o *Operation) Done() bool {
	switch o.State {
	case "succeeded", "failed", "cancelled":
		return true
	}
	return false
}

// HealthCheck is one entry of GET /health, in ceph-mgr's
// set_health_checks shape.
type HealthCheck struct {
	Severity string   `json:"severity"`
	Summary  string   `json:"summary"`
	Count    int      `json:"count"`
	Detail   []string `json:"detail"`
}

// Health is GET /health: the active checks by name (CEPHADM_PAUSED, ...).
type Health struct {
	Status string                 `json:"status"`
	Checks map[string]HealthCheck `json:"checks"`
}
