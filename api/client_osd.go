package api

import (
	"context"
	"net/http"
)

// CreateOSDs sends a one-host drive group (placement host_pattern and
// data_devices paths) to POST /osds.
func (c *Client) CreateOSDs(ctx context.Context, host string, devices []string) (Message, error) {
	paths := make([]string, len(devices))
	copy(paths, devices)
	body := map[string]any{
		"service_type": "osd",
		"placement":    map[string]any{"host_pattern": host},
		"spec":         map[string]any{"data_devices": map[string]any{"paths": paths}},
	}
	var m Message
	err := c.Do(ctx, http.MethodPost, "/osds", nil, body, &m)
	return m, err
}

// RemoveOSDs is POST /osds/remove (`orch osd rm`).
func (c *Client) RemoveOSDs(ctx context.Context, req OSDRemoveRequest) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/osds/remove", nil, req, &m)
	return m, err
}

// StopRemoveOSDs is DELETE /osds/remove (`orch osd rm stop`).
func (c *Client) StopRemoveOSDs(ctx context.Context, ids []int) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodDelete, "/osds/remove", nil, OSDIDsRequest{OSDIDs: ids}, &m)
	return m, err
}

// OSDRemovals is GET /osds/remove (`orch osd rm status`).
func (c *Client) OSDRemovals(ctx context.Context) ([]OSDRemoval, error) {
	var out []OSDRemoval
	err := c.Do(ctx, http.MethodGet, "/osds/remove", nil, nil, &out)
	return out, err
}

// ZapDevice is POST /devices/zap (`orch device zap`).
func (c *Client) ZapDevice(ctx context.Context, req ZapRequest) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/devices/zap", nil, req, &m)
	return m, err
}
