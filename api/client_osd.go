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
