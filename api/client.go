package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"
)

// DefaultSocket is where `orch serve` listens unless told otherwise.
const DefaultSocket = "/run/orch/orch.sock"

// Client talks to a controller.
type Client struct {
	hc      *http.Client
	base    string
	display string
}

// ClientOptions selects the transport: a unix socket (default) or an
// https:// address with a client certificate.
type ClientOptions struct {
	Socket  string
	URL     string // https://host:port
	TLS     *TLSFiles
	Timeout time.Duration
}

// NewClient builds a client; it does not connect.
func NewClient(o ClientOptions) (*Client, error) {
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, NewError(syscall.EINVAL, "invalid controller URL %q: want https://HOST:PORT", o.URL)
		}
		if o.TLS == nil {
			return nil, NewError(syscall.EINVAL, "a TCP controller address needs a client certificate, key and CA")
		}
		cfg, err := clientTLS(*o.TLS)
		if err != nil {
			return nil, err
		}
		tr := &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 4}
		return &Client{hc: &http.Client{Transport: tr, Timeout: o.Timeout}, base: "https://" + u.Host, display: o.URL}, nil
	}
	sock := o.Socket
	if sock == "" {
		sock = DefaultSocket
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		MaxIdleConnsPerHost: 4,
	}
	return &Client{hc: &http.Client{Transport: tr, Timeout: o.Timeout}, base: "http://orch", display: sock}, nil
}

func clientTLS(f TLSFiles) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, NewError(syscall.EINVAL, "load client certificate: %v", err)
	}
	caPEM, err := os.ReadFile(f.ClientCAFile)
	if err != nil {
		return nil, NewError(syscall.EINVAL, "read CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, NewError(syscall.EINVAL, "no certificates in %s", f.ClientCAFile)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool}, nil
}

// ErrNoController is wrapped by errors that mean no controller answered.
var ErrNoController = errors.New("no controller")

type noControllerError struct {
	where string
	err   error
}

func (e *noControllerError) Error() string {
	return fmt.Sprintf("cannot reach the orch controller at %s (%v); start it with `orch serve` (or `systemctl start orch`), or point --socket at it", e.where, e.err)
}
func (e *noControllerError) Unwrap() []error      { return []error{ErrNoController, e.err} }
func (e *noControllerError) Errno() syscall.Errno { return syscall.ENOTCONN }

// Do sends a request with in (if not nil) as JSON and decodes the answer
// into out (if not nil). API errors come back as *Error.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ne net.Error
		var oe *net.OpError
		if errors.As(err, &oe) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) || (errors.As(err, &ne) && !ne.Timeout()) {
			return &noControllerError{where: c.display, err: err}
		}
		return NewError(syscall.ETIMEDOUT, "controller at %s: %v", c.display, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return NewError(syscall.EIO, "read controller answer: %v", err)
	}
	if resp.StatusCode >= 300 {
		var ae Error
		if json.Unmarshal(data, &ae) == nil && ae.Message != "" {
			if ae.Name == "" {
				ae.Name = ErrnoName(ae.Code)
			}
			return &ae
		}
		return NewError(syscall.EIO, "controller answered %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], data...)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return NewError(syscall.EIO, "decode controller answer: %v", err)
	}
	return nil
}
