// Package cli is orch's command-line interface: one cobra command per file,
// each with an XOptions struct, a NewCmdX constructor and an xRun function.
// Streams and dependencies come from a Factory; errors are mapped to exit
// codes only in errors.go.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/orchceph/orch/api"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

// Factory hands commands their dependencies, built lazily.
type Factory struct {
	IO *IOStreams
	// Logger returns the logger commands log to (stderr, level from flags).
	Logger func() zerolog.Logger
	// LogLevel and LogFormat are the global flags' values.
	LogLevel  string
	LogFormat string

	// Socket and Timeout select the controller the API client talks to.
	Socket  string
	Timeout time.Duration
	// Client returns an API client for the controller.
	Client func() (*api.Client, error)
}

// NewFactory returns a Factory over io.
func NewFactory(ios *IOStreams) *Factory {
	f := &Factory{IO: ios, LogLevel: "warn", LogFormat: "console"}
	f.Logger = func() zerolog.Logger { return newLogger(ios.ErrOut, f.LogLevel, f.LogFormat) }
	f.Client = func() (*api.Client, error) {
		return api.NewClient(api.ClientOptions{Socket: f.Socket, Timeout: f.Timeout})
	}
	return f
}

func newLogger(w io.Writer, level, format string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.WarnLevel
	}
	if format == "json" {
		return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: true}).Level(lvl).With().Timestamp().Logger()
}

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "orch",
		Short:         "SSH-based, agentless orchestrator for Ceph clusters (cephadm compatible)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.PersistentFlags().StringVar(&f.LogLevel, "log-level", "warn", "log level (trace, debug, info, warn, error)")
	root.PersistentFlags().StringVar(&f.LogFormat, "log-format", "console", "log format (console, json)")
	defSock := os.Getenv("ORCH_SOCKET")
	if defSock == "" {
		defSock = api.DefaultSocket
	}
	root.PersistentFlags().StringVar(&f.Socket, "socket", defSock, "controller API socket (env ORCH_SOCKET)")
	root.PersistentFlags().DurationVar(&f.Timeout, "timeout", 15*time.Minute, "how long to wait for the controller")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })

	root.AddCommand(NewCmdVersion(f))
	root.AddCommand(NewCmdCompletion(f))
	root.AddCommand(NewCmdMan(f, root))
	for _, add := range extraCommands {
		root.AddCommand(add(f))
	}
	return root
}

// extraCommands lets each command file register itself without editing
// root.go; every entry is a constructor taking the Factory.
var extraCommands []func(*Factory) *cobra.Command

// Main runs the CLI with args and returns the process exit code.
func Main(ctx context.Context, args []string, ios *IOStreams) int {
	f := NewFactory(ios)
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if errors.Is(err, errSilentExit) {
		return 1
	}
	// Commands that ran another program which already reported its
	// failure exit with that program's status and print nothing more.
	var se interface{ SilentExitCode() int }
	if errors.As(err, &se) {
		return se.SilentExitCode()
	}
	// cobra's own argument errors ("unknown command", "accepts 1 arg(s)").
	if isCobraUsageError(err) {
		// One clear line: drop cobra's "Did you mean this?" suggestions.
		first, _, _ := strings.Cut(err.Error(), "\n")
		err = &UsageError{Msg: first}
	}
	code, msg := ExitCodeAndMessage(err)
	fmt.Fprintln(ios.ErrOut, msg)
	return code
}

// errSilentExit is returned by commands that already printed their failure.
var errSilentExit = errors.New("silent exit")

func isCobraUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "requires exactly", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
