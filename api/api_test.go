package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

func startServer(t *testing.T, h http.Handler) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s", "orch.sock")
	srv := NewServer(h, zerolog.Nop())
	if err := srv.ListenUnix(sock); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return sock
}

func TestRoundTripAndErrors(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, 200, map[string]string{"hello": "world"})
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, fmt.Errorf("host foo: %w", ErrNotFound))
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := ReadJSON(r, &v); err != nil {
			WriteError(w, err)
			return
		}
		WriteJSON(w, 200, v)
	})
	sock := startServer(t, mux)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	c, err := NewClient(ClientOptions{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var out map[string]string
	if err := c.Do(ctx, "GET", "/ok", nil, nil, &out); err != nil || out["hello"] != "world" {
		t.Fatalf("GET /ok = %v, %v", out, err)
	}
	err = c.Do(ctx, "GET", "/missing", nil, nil, nil)
	var ae *Error
	if !errors.As(err, &ae) || ae.Errno() != syscall.ENOENT || ae.Message != "host foo: not found" {
		t.Fatalf("GET /missing = %#v", err)
	}
	var echo map[string]any
	if err := c.Do(ctx, "POST", "/echo", nil, map[string]any{"a": 1.0}, &echo); err != nil || echo["a"] != 1.0 {
		t.Fatalf("POST /echo = %v %v", echo, err)
	}
}

func TestNoControllerSaysHowToStartOne(t *testing.T) {
	c, err := NewClient(ClientOptions{Socket: filepath.Join(t.TempDir(), "none.sock")})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), "GET", "/x", nil, nil, nil)
	if !errors.Is(err, ErrNoController) {
		t.Fatalf("err = %v, want ErrNoController", err)
	}
	var ec ErrnoCarrier
	if !errors.As(err, &ec) || ec.Errno() != syscall.ENOTCONN {
		t.Errorf("errno of %v is not ENOTCONN", err)
	}
	if got := err.Error(); !strings.Contains(got, "orch serve") {
		t.Errorf("message %q does not say how to start a controller", got)
	}
}

func TestSecondServerOnLiveSocketRefused(t *testing.T) {
	sock := startServer(t, http.NewServeMux())
	srv := NewServer(http.NewServeMux(), zerolog.Nop())
	if err := srv.ListenUnix(sock); !errors.Is(err, ErrBusy) {
		t.Fatalf("second ListenUnix = %v, want ErrBusy", err)
	}
}

// hostBackendStub answers ListHosts with a fixed error and AddHost by
// reading nothing; the other methods are never called in these tests.
type hostBackendStub struct {
	HostBackend
	listErr error
}

func (s hostBackendStub) ListHosts() ([]Host, error) { return nil, s.listErr }

func TestErrorClassesAndBodyLimit(t *testing.T) {
	errDown := errors.New("ssh: unreachable")
	h := NewHandler(hostBackendStub{listErr: fmt.Errorf("h1: dial: %w", errDown)}).
		MapErrors(ErrorClass{Err: errDown, Errno: syscall.EHOSTUNREACH})
	sock := startServer(t, h)
	c, err := NewClient(ClientOptions{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	var ae *Error
	err = c.Do(context.Background(), "GET", "/hosts", nil, nil, nil)
	if !errors.As(err, &ae) || ae.Errno() != syscall.EHOSTUNREACH || ae.Message != "h1: dial: ssh: unreachable" {
		t.Fatalf("GET /hosts = %#v, want EHOSTUNREACH", err)
	}
	// A body over the limit is the client's mistake: EINVAL, not EIO.
	big := map[string]string{"hostname": strings.Repeat("x", MaxBodyBytes+10)}
	err = c.Do(context.Background(), "POST", "/hosts", nil, big, nil)
	if !errors.As(err, &ae) || ae.Errno() != syscall.EINVAL {
		t.Fatalf("POST of %d bytes = %#v, want EINVAL", MaxBodyBytes+10, err)
	}
}

type osdBackendStub struct {
	host    string
	devices []string
}

func (s *osdBackendStub) CreateOSDs(_ context.Context, host string, devices []string) (string, error) {
	s.host, s.devices = host, devices
	return fmt.Sprintf("Created osd(s) 0 on host '%s'", host), nil
}

func TestCreateOSDsRoute(t *testing.T) {
	b := &osdBackendStub{}
	sock := startServer(t, NewHandler(b))
	c, err := NewClient(ClientOptions{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := c.CreateOSDs(ctx, "h1", []string{"/dev/loop2", "/dev/loop3"})
	if err != nil || m.Message != "Created osd(s) 0 on host 'h1'" || b.host != "h1" || strings.Join(b.devices, ",") != "/dev/loop2,/dev/loop3" {
		t.Fatalf("CreateOSDs = %+v, %v (backend saw %q %v)", m, err, b.host, b.devices)
	}
	// The body the ceph-mgr module sends for `ceph orch daemon add osd`
	// (DriveGroupSpec.to_json with hosts and {path} entries).
	body := map[string]any{"service_type": "osd", "service_id": "x", "placement": map[string]any{"hosts": []any{"h2"}},
		"spec": map[string]any{"data_devices": map[string]any{"paths": []any{map[string]any{"path": "/dev/sdb"}}}}}
	if err := c.Do(ctx, "POST", "/osds", nil, body, nil); err != nil || b.host != "h2" || strings.Join(b.devices, ",") != "/dev/sdb" {
		t.Fatalf("POST /osds (module body) = %v (backend saw %q %v)", err, b.host, b.devices)
	}
	for _, bad := range []map[string]any{
		{"service_type": "mon"},
		{"placement": map[string]any{"host_pattern": "*"}, "spec": map[string]any{"data_devices": map[string]any{"paths": []any{"/dev/sdb"}}}},
		{"placement": map[string]any{"host_pattern": "h1"}},
	} {
		var ae *Error
		if err := c.Do(ctx, "POST", "/osds", nil, bad, nil); !errors.As(err, &ae) || ae.Errno() != syscall.EINVAL {
			t.Errorf("POST /osds %v = %v, want EINVAL", bad, err)
		}
	}
}
