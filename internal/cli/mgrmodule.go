package cli

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/orchceph/orch/mgr"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdMgrModule) }

// NewCmdMgrModule is `orch mgr-module install|uninstall`: it installs the
// embedded ceph-mgr module on this machine (where a ceph-mgr runs and the
// ceph CLI can reach the cluster), enables it and selects it as the
// orchestrator backend. Flags after -- go to the installer unchanged
// (--api-url, --client-cert, --client-key, --ca-cert, --mgr-id, ...).
func NewCmdMgrModule(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "mgr-module", Short: "Install orch's ceph-mgr orchestrator module"}
	run := func(extra ...string) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			dir, err := os.MkdirTemp("", "orch-mgr-module-*")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			if err := os.CopyFS(dir, mgr.Files); err != nil {
				return err
			}
			if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					return os.Chmod(p, 0o755)
				}
				return os.Chmod(p, 0o644)
			}); err != nil {
				return err
			}
			argv := append([]string{filepath.Join(dir, "install.sh")}, extra...)
			argv = append(argv, args...)
			c := exec.CommandContext(cmd.Context(), "bash", argv...)
			c.Stdin, c.Stdout, c.Stderr = f.IO.In, f.IO.Out, f.IO.ErrOut
			if err := c.Run(); err != nil {
				if ee, ok := err.(*exec.ExitError); ok {
					return &installError{code: ee.ExitCode()}
				}
				return err
			}
			return nil
		}
	}
	cmd.AddCommand(
		&cobra.Command{Use: "install [-- INSTALLER FLAGS]", Short: "Install, enable and select the module (idempotent)", RunE: run(), DisableFlagParsing: true},
		&cobra.Command{Use: "uninstall [-- INSTALLER FLAGS]", Short: "Remove the module and restore the previous backend", RunE: run("--uninstall"), DisableFlagParsing: true},
	)
	return cmd
}

// installError carries the installer's exit status; it already printed
// its error.
type installError struct{ code int }

func (e *installError) Error() string { return "mgr module installer failed" }

// SilentExitCode makes Main exit with the installer's status.
func (e *installError) SilentExitCode() int { return e.code }
