package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// MaxBodyBytes bounds every request body (specs, snapshots).
const MaxBodyBytes = 8 << 20

// Server serves a Handler on a unix socket and, optionally, TCP with mTLS.
type Server struct {
	handler http.Handler
	log     zerolog.Logger

	httpSrv *http.Server
	lns     []net.Listener
}

// NewServer wraps h; log may be zerolog.Nop().
func NewServer(h http.Handler, log zerolog.Logger) *Server {
	s := &Server{handler: h, log: log}
	s.httpSrv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	return s
}

// ListenUnix listens on a unix socket at path with mode 0600, removing a
// stale socket file first. The parent directory is created 0700.
func (s *Server) ListenUnix(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("api: create socket dir: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("api: %s exists and is not a socket", path)
		}
		// A live controller answers; a stale socket does not.
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return fmt.Errorf("api: another controller is listening on %s: %w", path, ErrBusy)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("api: remove stale socket: %w", err)
		}
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("api: chmod socket: %w", err)
	}
	s.lns = append(s.lns, ln)
	return nil
}

// TLSFiles names the server's certificate, key and the CA that client
// certificates must chain to.
type TLSFiles struct {
	CertFile, KeyFile, ClientCAFile string
}

// ListenTCP listens on addr with TLS 1.3 and required client certificates.
func (s *Server) ListenTCP(addr string, files TLSFiles) error {
	cert, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
	if err != nil {
		return fmt.Errorf("api: load server certificate: %w", err)
	}
	caPEM, err := os.ReadFile(files.ClientCAFile)
	if err != nil {
		return fmt.Errorf("api: read client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("api: no certificates in %s", files.ClientCAFile)
	}
	return s.ListenTLS(addr, cert, pool)
}

// ListenTLS listens on addr with TLS 1.3, the server certificate cert and
// required client certificates that chain to clientCAs (`orch serve
// --tls-auto` passes certificates of the controller's own CA).
func (s *Server) ListenTLS(addr string, cert tls.Certificate, clientCAs *x509.CertPool) error {
	if clientCAs == nil {
		return errors.New("api: the TCP API needs a client CA")
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
	}
	ln, err := tls.Listen("tcp", addr, cfg)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", addr, err)
	}
	s.lns = append(s.lns, ln)
	return nil
}

// Addrs returns the listeners' addresses (for tests using ":0").
func (s *Server) Addrs() []net.Addr {
	out := make([]net.Addr, len(s.lns))
	for i, l := range s.lns {
		out[i] = l.Addr()
	}
	return out
}

// Serve serves every listener until ctx is done, then shuts down
// gracefully. It returns the first serve error other than a clean close.
func (s *Server) Serve(ctx context.Context) error {
	if len(s.lns) == 0 {
		return errors.New("api: no listeners")
	}
	errc := make(chan error, len(s.lns))
	for _, ln := range s.lns {
		go func(ln net.Listener) { errc <- s.httpSrv.Serve(ln) }(ln)
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	shCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.httpSrv.Shutdown(shCtx)
	// Drain the remaining serve goroutines so none outlives Serve.
	for i := 0; i < len(s.lns)-boolToInt(first != nil); i++ {
		if err := <-errc; first == nil && err != nil && !errors.Is(err, http.ErrServerClosed) {
			first = err
		}
	}
	if errors.Is(first, http.ErrServerClosed) {
		return nil
	}
	return first
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// WriteJSON writes v with status 200.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes err as an API error; invalid lists extra sentinels that
// mean EINVAL (spec.ErrInvalidSpec, for example).
func WriteError(w http.ResponseWriter, err error, invalid ...error) {
	writeError(w, err, nil, invalid...)
}

func writeError(w http.ResponseWriter, err error, classes []ErrorClass, invalid ...error) {
	ae := classify(err, classes, invalid...)
	WriteJSON(w, httpStatus(ae.Code), ae)
}

// ReadJSON decodes a bounded request body into v; unknown fields are
// allowed so that newer clients can talk to older servers.
func ReadJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return NewError(syscall.EINVAL, "request body larger than %d bytes", MaxBodyBytes)
	}
	if err != nil {
		return NewError(syscall.EIO, "read request body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return NewError(syscall.EINVAL, "request body larger than %d bytes", MaxBodyBytes)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return NewError(syscall.EINVAL, "invalid JSON request body: %v", err)
	}
	return nil
}
