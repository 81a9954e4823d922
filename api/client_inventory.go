package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/orchceph/orch/inventory"
)

// Inventory returns the cached device inventory of hosts (all when none
// are named); refresh also asks for a refresh of their devices (the answer
// is still the cached one).
func (c *Client) Inventory(ctx context.Context, hosts []string, refresh bool) ([]inventory.InventoryHost, error) {
	q := url.Values{}
	if len(hosts) > 0 {
		q.Set("hosts", strings.Join(hosts, ","))
	}
	if refresh {
		q.Set("refresh", strconv.FormatBool(refresh))
	}
	var out []inventory.InventoryHost
	err := c.Do(ctx, http.MethodGet, "/inventory", q, nil, &out)
	return out, err
}

// HostDetails returns every host with the summaries derived from its facts.
func (c *Client) HostDetails(ctx context.Context) ([]HostDetails, error) {
	var out []HostDetails
	err := c.Do(ctx, http.MethodGet, "/hosts/detail", nil, nil, &out)
	return out, err
}

// HostFacts returns the host's cached gather-facts JSON.
func (c *Client) HostFacts(ctx context.Context, host string) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.Do(ctx, http.MethodGet, "/hosts/"+url.PathEscape(host)+"/facts", nil, nil, &out)
	return out, err
}

// RescanHost rescans the host's SCSI buses and returns the agent's summary.
func (c *Client) RescanHost(ctx context.Context, host string) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/hosts/"+url.PathEscape(host)+"/rescan", nil, nil, &m)
	return m, err
}

// DeviceLight turns a disk's LED on or off.
func (c *Client) DeviceLight(ctx context.Context, r LightRequest) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/devices/light", nil, r, &m)
	return m, err
}

// Refresh flags hosts for a refresh and returns at once.
func (c *Client) Refresh(ctx context.Context, r RefreshRequest) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/refresh", nil, r, &m)
	return m, err
}
