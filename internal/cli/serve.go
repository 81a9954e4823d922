package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/orchestrator"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
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
	fl.StringVar(&o.Config, "config", "", "YAML config file (keys: store, socket, listen, tls_cert, tls_key, tls_client_ca, agent_binary, log_level, log_format)")
	fl.StringVar(&o.StorePath, "store", DefaultStorePath, "state file (bbolt)")
	fl.StringVar(&o.Listen, "listen", "", "also listen on this TCP address with mutual TLS (needs --tls-cert, --tls-key, --tls-client-ca)")
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
	set("agent-binary", &o.AgentBinary, fileOpts.AgentBinary)
	set("socket", &o.Socket, fileOpts.Socket)
	set("log-level", &o.LogLevel, fileOpts.LogLevel)
	set("log-format", &o.LogFormat, fileOpts.LogFormat)
	return nil
}

func serveRun(cmd *cobra.Command, f *Factory, o *ServeOptions) error {
	// Refuse bad flags before anything is created or listens.
	if o.Listen != "" && (o.TLSCert == "" || o.TLSKey == "" || o.TLSClientCA == "") {
		return usagef("--listen needs --tls-cert, --tls-key and --tls-client-ca: the TCP API always requires client certificates")
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
	if o.Listen != "" {
		if err := srv.ListenTCP(o.Listen, api.TLSFiles{CertFile: o.TLSCert, KeyFile: o.TLSKey, ClientCAFile: o.TLSClientCA}); err != nil {
			return err
		}
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
