package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Status returns the controller's availability.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.Do(ctx, http.MethodGet, "/status", nil, nil, &s)
	return s, err
}

// ListHosts returns every host.
func (c *Client) ListHosts(ctx context.Context) ([]Host, error) {
	var hs []Host
	err := c.Do(ctx, http.MethodGet, "/hosts", nil, nil, &hs)
	return hs, err
}

// AddHost adds (or re-adds) a host after checking it over SSH.
func (c *Client) AddHost(ctx context.Context, r AddHostRequest) (AddHostResponse, error) {
	var out AddHostResponse
	err := c.Do(ctx, http.MethodPost, "/hosts", nil, r, &out)
	return out, err
}

// RemoveHost removes a host.
func (c *Client) RemoveHost(ctx context.Context, host string, force, offline bool) (Message, error) {
	var m Message
	q := url.Values{"force": {strconv.FormatBool(force)}, "offline": {strconv.FormatBool(offline)}}
	err := c.Do(ctx, http.MethodDelete, "/hosts/"+url.PathEscape(host), q, nil, &m)
	return m, err
}

// AddHostLabel adds a label to a host.
func (c *Client) AddHostLabel(ctx context.Context, host, label string) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/hosts/"+url.PathEscape(host)+"/labels", nil, LabelRequest{label}, &m)
	return m, err
}

// RemoveHostLabel removes a label from a host.
func (c *Client) RemoveHostLabel(ctx context.Context, host, label string, force bool) (Message, error) {
	var m Message
	q := url.Values{"force": {strconv.FormatBool(force)}}
	err := c.Do(ctx, http.MethodDelete, "/hosts/"+url.PathEscape(host)+"/labels/"+url.PathEscape(label), q, nil, &m)
	return m, err
}

// SetHostAddr changes a host's address (checked over SSH first).
func (c *Client) SetHostAddr(ctx context.Context, host, addr string) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/hosts/"+url.PathEscape(host)+"/addr", nil, AddrRequest{addr}, &m)
	return m, err
}

// CheckHost runs the host check over SSH.
func (c *Client) CheckHost(ctx context.Context, host string) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/hosts/"+url.PathEscape(host)+"/check", nil, nil, &m)
	return m, err
}

// SetHostKey replaces a host's pinned SSH host key.
func (c *Client) SetHostKey(ctx context.Context, host string, r HostKeyRequest) (AddHostResponse, error) {
	var out AddHostResponse
	err := c.Do(ctx, http.MethodPost, "/hosts/"+url.PathEscape(host)+"/hostkey", nil, r, &out)
	return out, err
}

// SSH identity: GET/PUT/DELETE /ssh/{what}, what in priv-key, pub-key,
// user, config; POST /ssh/generate-key.

// SSHGet returns the public key, user or ssh_config.
func (c *Client) SSHGet(ctx context.Context, what string) (string, error) {
	var t Text
	err := c.Do(ctx, http.MethodGet, "/ssh/"+url.PathEscape(what), nil, nil, &t)
	return t.Value, err
}

// SSHSet stores a private key, public key, user or ssh_config after
// testing it against a known host.
func (c *Client) SSHSet(ctx context.Context, what, value string) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPut, "/ssh/"+url.PathEscape(what), nil, Text{value}, &m)
	return m, err
}

// SSHGenerateKey generates the cluster's ed25519 key if there is none.
func (c *Client) SSHGenerateKey(ctx context.Context) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodPost, "/ssh/generate-key", nil, nil, &m)
	return m, err
}

// SSHClearKey removes the cluster key.
func (c *Client) SSHClearKey(ctx context.Context) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodDelete, "/ssh/key", nil, nil, &m)
	return m, err
}

// SSHClearConfig resets the ssh_config to the default.
func (c *Client) SSHClearConfig(ctx context.Context) (Message, error) {
	var m Message
	err := c.Do(ctx, http.MethodDelete, "/ssh/config", nil, nil, &m)
	return m, err
}
