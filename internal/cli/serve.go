package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/orchestrator"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"
)

func init() { extraCommands = append(extraCommands, NewCmdServe) }

// ServeOptions configure `orch serve`; a config file may set them and
// flags override it.
type ServeOptions struct {
	Config      string `yaml:"-"`
	StorePath   string `yaml:"store"`
	Socket      string `yaml:"socket"`
	Listen      string `yaml:"listen"`
	TLSCert     string `yaml:"tls_cert"`
	TLSKey      string `yaml:"tls_key"`
	TLSClientCA string `yaml:"tls_client_ca"`
	TLSAuto     bool   `yaml:"tls_auto"`
	AgentBinary string `yaml:"agent_binary"`
	LogLevel    string `yaml:"log_level"`
	LogFormat   string `yaml:"log_format"`
}

// DefaultStorePath is where the controller keeps its state.
const DefaultStorePath = "/var/lib/orch/orch.db"

// NewCmdServe is `orch serve`, the controller.
func NewCmdServe(f *Factory) *cobra.Command {
	o := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the orch controller (REST API on a unix socket, optional TCP with mTLS)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.loadConfig(cmd); err != nil {
				return err
			}
			return serveRun(cmd, f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Config, "config", "", "YAML config file (keys: store, socket, listen, tls_cert, tls_key, tls_client_ca, tls_auto, agent_binary, log_level, log_format)")
	fl.StringVar(&o.StorePath, "store", DefaultStorePath, "state file (bbolt)")
	fl.StringVar(&o.Listen, "listen", "", "also listen on this TCP address with mutual TLS (needs --tls-auto, or --tls-cert, --tls-key, --tls-client-ca)")
	fl.BoolVar(&o.TLSAuto, "tls-auto", false, "TLS for --listen from the controller's own CA (made on first start, kept in the store): a server certificate for the listen address, client certificates of that CA (orch bootstrap --mgr-module gives each mgr one)")
	fl.StringVar(&o.TLSCert, "tls-cert", "", "server certificate (PEM)")
	fl.StringVar(&o.TLSKey, "tls-key", "", "server private key (PEM)")
	fl.StringVar(&o.TLSClientCA, "tls-client-ca", "", "CA that client certificates must chain to (PEM)")
	fl.StringVar(&o.AgentBinary, "agent-binary", "", "orch binary to push to hosts (default: this executable)")
	return cmd
}

// loadConfig reads the config file; flags given on the command line win.
func (o *ServeOptions) loadConfig(cmd *cobra.Command) error {
	if o.Config == "" {
		return nil
	}
	b, err := os.ReadFile(o.Config)
	if err != nil {
		return usagef("read config: %v", err)
	}
	var fileOpts ServeOptions
	dec := yaml.NewDecoder(bytesReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fileOpts); err != nil {
		return usagef("config %s: %v", o.Config, err)
	}
	set := func(flag string, dst *string, v string) {
		if v != "" && !cmd.Flags().Changed(flag) && !cmd.Root().PersistentFlags().Changed(flag) {
			*dst = v
		}
	}
	set("store", &o.StorePath, fileOpts.StorePath)
	set("listen", &o.Listen, fileOpts.Listen)
	set("tls-cert", &o.TLSCert, fileOpts.TLSCert)
	set("tls-key", &o.TLSKey, fileOpts.TLSKey)
	set("tls-client-ca", &o.TLSClientCA, fileOpts.TLSClientCA)
	if fileOpts.TLSAuto && !cmd.Flags().Changed("tls-auto") {
		o.TLSAuto = true
	}
	set("agent-binary", &o.AgentBinary, fileOpts.AgentBinary)
	set("socket", &o.Socket, fileOpts.Socket)
	set("log-level", &o.LogLevel, fileOpts.LogLevel)
	set("log-format", &o.LogFormat, fileOpts.LogFormat)
	return nil
}

func serveRun(cmd *cobra.Command, f *Factory, o *ServeOptions) error {
	// Refuse bad flags before anything is created or listens.
	if err := o.checkTLS(); err != nil {
		return err
	}
	if o.Socket != "" {
		f.Socket = o.Socket
	}
	if o.LogLevel != "" {
		f.LogLevel = o.LogLevel
	}
	if o.LogFormat != "" {
		f.LogFormat = o.LogFormat
	}
	if !cmd.Root().PersistentFlags().Changed("log-level") && o.LogLevel == "" {
		f.LogLevel = "info"
	}
	log := f.Logger()
	if o.AgentBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own executable: %w", err)
		}
		o.AgentBinary = exe
	}
	if err := os.MkdirAll(filepath.Dir(o.StorePath), 0o700); err != nil {
		return err
	}
	st, err := store.Open(o.StorePath, store.Options{Timeout: time.Second, Logger: log})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w (is another `orch serve` running?): %w", err, api.ErrBusy)
		}
		return err
	}
	defer st.Close()
	poolOpts := sshexec.Options{Logger: &log}
	pool := sshexec.New(poolOpts)
	defer pool.Close()
	ctl, err := orchestrator.New(orchestrator.Options{
		Store:       st,
		Remote:      &orchestrator.PoolRemote{Pool: pool, ScanOptions: poolOpts},
		Logger:      &log,
		AgentBinary: o.AgentBinary,
	})
	if err != nil {
		return err
	}
	// The reconciler serves the whole API (host routes included) and runs
	// the serve loop; it owns host refreshes.
	rec := orchestrator.NewReconciler(ctl, orchestrator.ReconcilerOptions{})
	srv := api.NewServer(api.NewHandler(rec, spec.ErrInvalidSpec).MapErrors(
		api.ErrorClass{Err: sshexec.ErrHostKeyMismatch, Errno: syscall.EACCES},
		api.ErrorClass{Err: sshexec.ErrAuth, Errno: syscall.EACCES},
		api.ErrorClass{Err: sshexec.ErrSudoPassword, Errno: syscall.EACCES},
		api.ErrorClass{Err: sshexec.ErrUnreachable, Errno: syscall.EHOSTUNREACH},
		api.ErrorClass{Err: sshexec.ErrTimeout, Errno: syscall.ETIMEDOUT},
	), log)
	if err := srv.ListenUnix(f.Socket); err != nil {
		return err
	}
	listener, err := o.listenTCP(srv, ctl, log)
	if err != nil {
		return err
	}
	if err := ctl.SetAPIListener(listener); err != nil {
		return err
	}
	cl, _ := ctl.Cluster()
	log.Info().Str("socket", f.Socket).Str("store", o.StorePath).Str("fsid", cl.FSID).Msg("orch controller serving")
	ctx, cancel := context.WithCancel(cmd.Context())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		_ = rec.Run(ctx)
	}()
	err = srv.Serve(ctx)
	cancel()
	<-loopDone
	ctl.CloseRefresh()
	ctl.CloseBootstrap()
	return err
}

// checkTLS refuses --listen without a way to do mutual TLS, before
// anything is created or listens.
func (o *ServeOptions) checkTLS() error {
	files := o.TLSCert != "" || o.TLSKey != ""
	switch {
	case o.TLSAuto && o.Listen == "":
		return usagef("--tls-auto needs --listen ADDR")
	case o.TLSAuto && files:
		return usagef("--tls-auto issues the server certificate itself: drop --tls-cert and --tls-key (--tls-client-ca adds a CA whose clients are accepted too)")
	case o.Listen != "" && !o.TLSAuto && (o.TLSCert == "" || o.TLSKey == "" || o.TLSClientCA == ""):
		return usagef("--listen needs --tls-auto, or --tls-cert, --tls-key and --tls-client-ca: the TCP API always requires client certificates")
	}
	return nil
}

// listenTCP starts the TCP listener (none without --listen) and describes
// it for the controller. With --tls-auto the server certificate is issued
// by the controller's CA at every start, for the listen address (every
// address of the machine when it is unspecified), and the CA certificate
// is written next to the store (ca.crt, 0644) for other clients.
func (o *ServeOptions) listenTCP(srv *api.Server, ctl *orchestrator.Controller, log zerolog.Logger) (*orchestrator.APIListener, error) {
	if o.Listen == "" {
		return nil, nil
	}
	if !o.TLSAuto {
		if err := srv.ListenTCP(o.Listen, api.TLSFiles{CertFile: o.TLSCert, KeyFile: o.TLSKey, ClientCAFile: o.TLSClientCA}); err != nil {
			return nil, err
		}
		return &orchestrator.APIListener{Addr: lastAddr(srv)}, nil
	}
	var ifaceIPs []net.IP
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ifaceIPs = append(ifaceIPs, n.IP)
			}
		}
	}
	hostname, _ := os.Hostname()
	ips, dns, err := orchestrator.TLSAutoNames(o.Listen, ifaceIPs, hostname)
	if err != nil {
		return nil, usagef("%v", err)
	}
	ta, err := ctl.IssueServerTLS(ips, dns)
	if err != nil {
		return nil, fmt.Errorf("--tls-auto: %w", err)
	}
	pool := ta.CA.Pool()
	if o.TLSClientCA != "" {
		b, err := os.ReadFile(o.TLSClientCA)
		if err != nil {
			return nil, fmt.Errorf("read --tls-client-ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, usagef("--tls-client-ca %s: no certificates", o.TLSClientCA)
		}
	}
	if err := srv.ListenTLS(o.Listen, ta.Cert, pool); err != nil {
		return nil, err
	}
	caFile := filepath.Join(filepath.Dir(o.StorePath), "ca.crt")
	if err := writeFileAtomic(caFile, ta.CA.CertPEM(), 0o644); err != nil {
		return nil, err
	}
	l := &orchestrator.APIListener{Addr: lastAddr(srv), OwnCA: true, IPs: ta.IPs, DNSNames: ta.DNSNames}
	log.Info().Str("listen", l.Addr).Strs("names", append(append([]string(nil), l.IPs...), l.DNSNames...)).
		Str("ca", caFile).Msg("TCP API with the controller's CA (--tls-auto)")
	return l, nil
}

// lastAddr is the address of the listener just added (":0" resolved).
func lastAddr(srv *api.Server) string {
	as := srv.Addrs()
	return as[len(as)-1].String()
}

// writeFileAtomic writes data to p with mode perm via a rename.
func writeFileAtomic(p string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".new-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}
