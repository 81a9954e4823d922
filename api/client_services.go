package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// Apply stores specs (and adds host specs) and returns at once; the
// reconciler does the work, tracked by the returned operation.
func (c *Client) Apply(ctx context.Context, specs []map[string]any, noOverwrite bool) (ApplyResult, error) {
	var out ApplyResult
	err := c.Do(ctx, http.MethodPost, "/apply", nil, ApplyRequest{Specs: specs, NoOverwrite: noOverwrite}, &out)
	return out, err
}

// PlanJSON previews specs against the live cluster and returns the plan
// document of `orch plan --format json`.
func (c *Client) PlanJSON(ctx context.Context, specs []map[string]any) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.Do(ctx, http.MethodPost, "/plan", nil, PlanRequest{Specs: specs}, &out)
	return out, err
}

// PlanPlain previews specs and returns cephadm's preview tables.
func (c *Client) PlanPlain(ctx context.Context, specs []map[string]any, explain bool) (string, error) {
	var t Text
	q := url.Values{"format": {"plain"}}
	if explain {
		q.Set("explain", "true")
	}
	err := c.Do(ctx, http.MethodPost, "/plan", q, PlanRequest{Specs: specs}, &t)
	return t.Value, err
}

// ListServices is `orch ls`.
func (c *Client) ListServices(ctx context.Context, f ServiceFilter) ([]ServiceDescription, error) {
	q := url.Values{}
	setNonEmpty(q, "service_type", f.ServiceType)
	setNonEmpty(q, "service_name", f.ServiceName)
	if f.Refresh {
		q.Set("refresh", "true")
	}
	var out []ServiceDescription
	err := c.Do(ctx, http.MethodGet, "/services", q, nil, &out)
	return out, err
}

// ListDaemons is `orch ps`.
func (c *Client) ListDaemons(ctx context.Context, f DaemonFilter) ([]DaemonDescription, error) {
	q := url.Values{}
	setNonEmpty(q, "service_name", f.ServiceName)
	setNonEmpty(q, "daemon_type", f.DaemonType)
	setNonEmpty(q, "daemon_id", f.DaemonID)
	setNonEmpty(q, "host", f.Host)
	if f.Refresh {
		q.Set("refresh", "true")
	}
	var out []DaemonDescription
	err := c.Do(ctx, http.MethodGet, "/daemons", q, nil, &out)
	return out, err
}

// ListDaemonsRaw is ListDaemons without decoding: callers that need only
// a few fields decode the JSON themselves (orch ps over many hosts).
func (c *Client) ListDaemonsRaw(ctx context.Context, f DaemonFilter) (json.RawMessage, error) {
	q := url.Values{}
	setNonEmpty(q, "service_name", f.ServiceName)
	setNonEmpty(q, "daemon_type", f.DaemonType)
	setNonEmpty(q, "daemon_id", f.DaemonID)
	setNonEmpty(q, "host", f.Host)
	if f.Refresh {
		q.Set("refresh", "true")
	}
	var out json.RawMessage
	err := c.Do(ctx, http.MethodGet, "/daemons", q, nil, &out)
	return out, err
}

func setNonEmpty(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// RemoveService is `orch rm SERVICE`.
func (c *Client) RemoveService(ctx context.Context, name string, force bool) (ActionMessage, error) {
	var m ActionMessage
	q := url.Values{"force": {strconv.FormatBool(force)}}
	err := c.Do(ctx, http.MethodDelete, "/services/"+url.PathEscape(name), q, nil, &m)
	return m, err
}

// ServiceAction schedules start|stop|restart|redeploy|reconfig for every
// daemon of a service.
func (c *Client) ServiceAction(ctx context.Context, name, action string) (Results, error) {
	var r Results
	err := c.Do(ctx, http.MethodPost, "/services/"+url.PathEscape(name)+"/"+url.PathEscape(action), nil, struct{}{}, &r)
	return r, err
}

// SetManaged is `orch set-managed|set-unmanaged SERVICE`.
func (c *Client) SetManaged(ctx context.Context, name string, managed bool) (Message, error) {
	action := "set-unmanaged"
	if managed {
		action = "set-managed"
	}
	var m Message
	err := c.Do(ctx, http.MethodPost, "/services/"+url.PathEscape(name)+"/"+action, nil, struct{}{}, &m)
	return m, err
}

// DaemonAction schedules start|stop|restart|redeploy|reconfig of a daemon.
func (c *Client) DaemonAction(ctx context.Context, name, action, image string) (ActionMessage, error) {
	var req DaemonActionRequest
	if image != "" {
		req.Image = &image
	}
	var m ActionMessage
	err := c.Do(ctx, http.MethodPost, "/daemons/"+url.PathEscape(name)+"/"+url.PathEscape(action), nil, req, &m)
	return m, err
}

// RemoveDaemons schedules the removal of daemons.
func (c *Client) RemoveDaemons(ctx context.Context, names []string, force bool) (Results, error) {
	var r Results
	err := c.Do(ctx, http.MethodPost, "/daemons/remove", nil, RemoveDaemonsRequest{Names: names, Force: force}, &r)
	return r, err
}

// Pause stops the reconciler from changing anything (refresh goes on).
func (c *Client) Pause(ctx context.Context) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/pause", nil, struct{}{}, &m)
	return m, err
}

// Resume undoes Pause and wakes the reconciler.
func (c *Client) Resume(ctx context.Context) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/resume", nil, struct{}{}, &m)
	return m, err
}

// ListOperations is `orch op ls`.
func (c *Client) ListOperations(ctx context.Context) ([]Operation, error) {
	var ops []Operation
	err := c.Do(ctx, http.MethodGet, "/operations", nil, nil, &ops)
	return ops, err
}

// GetOperation is `orch op show ID`.
func (c *Client) GetOperation(ctx context.Context, id uint64) (Operation, error) {
	var op Operation
	err := c.Do(ctx, http.MethodGet, "/operations/"+strconv.FormatUint(id, 10), nil, nil, &op)
	return op, err
}

// Health is `orch health`.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.Do(ctx, http.MethodGet, "/health", nil, nil, &h)
	return h, err
}

// Export returns the cluster snapshot `orch plan --snapshot` replays.
func (c *Client) Export(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	err := c.Do(ctx, http.MethodGet, "/export", nil, nil, &raw)
	return raw, err
}
