// Command testapp is the tiny HTTP server in localhost/orch-testapp, the image
// orch's tests use for the `container` (custom container) service. It is its
// own Go module so that it never touches orch's go.mod.
//
//	testapp [--port N] [--addr IP] [--name S] [--files-dir DIR]   serve HTTP until SIGTERM/SIGINT
//	testapp healthcheck [--port N]                                  GET /healthz on 127.0.0.1, exit 0 or 1
//	testapp oneshot                                                 print the status JSON and exit
//	testapp --version
//
// Flags default from the environment: TESTAPP_PORT (or PORT, else 8080),
// TESTAPP_ADDR (all addresses), TESTAPP_NAME, TESTAPP_FILES_DIR.
//
//	GET /         200, JSON {"status":"ok","hostname",...} (see status)
//	GET /healthz  200 "ok"
//	GET /files/F  the file F from --files-dir (404 without one); checks config files a spec mounts
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const version = "orch-testapp 1.0"

type status struct {
	Status        string            `json:"status"`
	Hostname      string            `json:"hostname"`
	Name          string            `json:"name,omitempty"`
	Version       string            `json:"version"`
	PID           int               `json:"pid"`
	Addr          string            `json:"addr"`
	Port          int               `json:"port"`
	Started       string            `json:"started"`
	UptimeSeconds float64           `json:"uptime_seconds"`
	Args          []string          `json:"args"`
	Env           map[string]string `json:"env"`
	Files         []string          `json:"files,omitempty"`
}

type config struct {
	port     int
	addr     string
	name     string
	filesDir string
}

func envOr(def string, keys ...string) string {
	for _, k := range keys {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			return v
		}
	}
	return def
}

func parseFlags(name string, args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	port, err := strconv.Atoi(envOr("8080", "TESTAPP_PORT", "PORT"))
	if err != nil {
		return c, fmt.Errorf("TESTAPP_PORT/PORT: %w", err)
	}
	fs.IntVar(&c.port, "port", port, "TCP port to listen on (env TESTAPP_PORT, PORT)")
	fs.StringVar(&c.addr, "addr", envOr("", "TESTAPP_ADDR"), "address to bind, empty for all (env TESTAPP_ADDR)")
	fs.StringVar(&c.name, "name", envOr("", "TESTAPP_NAME"), "a name echoed in the status (env TESTAPP_NAME)")
	fs.StringVar(&c.filesDir, "files-dir", envOr("", "TESTAPP_FILES_DIR"), "directory served under /files/ (env TESTAPP_FILES_DIR)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.port < 0 || c.port > 65535 {
		return c, fmt.Errorf("port %d out of range", c.port)
	}
	return c, nil
}

type server struct {
	cfg     config
	started time.Time
	host    string
}

func (s *server) status() status {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TESTAPP_") {
			env[k] = v
		}
	}
	st := status{
		Status: "ok", Hostname: s.host, Name: s.cfg.name, Version: version, PID: os.Getpid(),
		Addr: s.cfg.addr, Port: s.cfg.port, Started: s.started.UTC().Format(time.RFC3339Nano),
		UptimeSeconds: time.Since(s.started).Seconds(), Args: os.Args[1:], Env: env,
	}
	if s.cfg.filesDir != "" {
		if ents, err := os.ReadDir(s.cfg.filesDir); err == nil {
			for _, e := range ents {
				st.Files = append(st.Files, e.Name())
			}
			sort.Strings(st.Files)
		}
	}
	return st
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.status())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/files/")
		if s.cfg.filesDir == "" || name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(s.cfg.filesDir, name))
	})
	return logRequests(mux)
}

func logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339), r.RemoteAddr, r.Method, r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

func serve(cfg config) error {
	host, _ := os.Hostname()
	s := &server{cfg: cfg, started: time.Now(), host: host}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.addr, strconv.Itoa(cfg.port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("%s: %s listening on %s (pid %d)\n", version, host, ln.Addr(), os.Getpid())
	select {
	case sig := <-sigs:
		fmt.Printf("received %v, shutting down\n", sig)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			return err
		}
		fmt.Println("stopped")
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

func healthcheck(cfg config) error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port)) + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

func main() {
	args := os.Args[1:]
	mode := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "--version", "-version", "version":
			fmt.Println(version)
			return
		case "healthcheck", "oneshot", "serve":
			mode, args = args[0], args[1:]
		}
	}
	cfg, err := parseFlags("testapp "+mode, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	switch mode {
	case "healthcheck":
		err = healthcheck(cfg)
	case "oneshot":
		host, _ := os.Hostname()
		s := &server{cfg: cfg, started: time.Now(), host: host}
		err = json.NewEncoder(os.Stdout).Encode(s.status())
	default:
		err = serve(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}
