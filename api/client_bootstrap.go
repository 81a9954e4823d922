package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Bootstrap starts a bootstrap; the answer names its operation.
func (c *Client) Bootstrap(ctx context.Context, r BootstrapRequest) (BootstrapStatus, error) {
	var st BootstrapStatus
	err := c.Do(ctx, http.MethodPost, "/bootstrap", nil, r, &st)
	return st, err
}

// BootstrapStatus reports a bootstrap attempt (operation 0: the latest).
func (c *Client) BootstrapStatus(ctx context.Context, operation uint64) (BootstrapStatus, error) {
	var st BootstrapStatus
	var q url.Values
	if operation != 0 {
		q = url.Values{"operation": {strconv.FormatUint(operation, 10)}}
	}
	err := c.Do(ctx, http.MethodGet, "/bootstrap", q, nil, &st)
	return st, err
}
