package cli

import (
	"fmt"

	"github.com/orchceph/orch/api"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, NewCmdSSH) }

// NewCmdSSH is `orch ssh ...`: the cluster SSH identity, as cephadm's
// `ceph cephadm generate-key|get-pub-key|set-priv-key|...`.
func NewCmdSSH(f *Factory) *cobra.Command {
	cmd := &cobra.Command{Use: "ssh", Short: "Manage the cluster's SSH identity, user and ssh_config"}
	get := func(use, what, short string) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				c, err := f.Client()
				if err != nil {
					return err
				}
				v, err := c.SSHGet(cmd.Context(), what)
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(f.IO.Out, withNewline(v))
				return err
			}}
	}
	set := func(use, what, short string) *cobra.Command {
		var in string
		c := &cobra.Command{Use: use + " -i FILE|-", Short: short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if in == "" {
					return usagef("-i FILE (or - for stdin) is required")
				}
				v, err := readInput(f, in)
				if err != nil {
					return err
				}
				return printMessage(cmd, f, func(c *api.Client) (api.Message, error) { return c.SSHSet(cmd.Context(), what, v) })
			}}
		c.Flags().StringVarP(&in, "input", "i", "", "file to read (- for stdin)")
		return c
	}
	cmd.AddCommand(
		&cobra.Command{Use: "generate-key", Short: "Generate the cluster's ed25519 SSH key (if none exists)", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return printMessage(cmd, f, func(c *api.Client) (api.Message, error) { return c.SSHGenerateKey(cmd.Context()) })
			}},
		&cobra.Command{Use: "clear-key", Short: "Remove the cluster SSH key", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return printMessage(cmd, f, func(c *api.Client) (api.Message, error) { return c.SSHClearKey(cmd.Context()) })
			}},
		&cobra.Command{Use: "clear-ssh-config", Short: "Reset the ssh_config to the default", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return printMessage(cmd, f, func(c *api.Client) (api.Message, error) { return c.SSHClearConfig(cmd.Context()) })
			}},
		get("get-pub-key", "pub-key", "Print the cluster's public SSH key"),
		get("get-user", "user", "Print the SSH user"),
		get("get-ssh-config", "config", "Print the ssh_config in use"),
		set("set-priv-key", "priv-key", "Set the cluster's private SSH key (tested against a known host first)"),
		set("set-pub-key", "pub-key", "Set the cluster's public SSH key"),
		set("set-ssh-config", "config", "Set the ssh_config (validated, then tested against a known host)"),
		&cobra.Command{Use: "set-user USER", Short: "Set the SSH user (non-root users need passwordless sudo)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return printMessage(cmd, f, func(c *api.Client) (api.Message, error) { return c.SSHSet(cmd.Context(), "user", args[0]) })
			}},
	)
	return cmd
}

// readInput reads a -i argument: a file, or stdin for "-". Secrets read
// here go to the controller in a request body, never in argv or logs.
func readInput(f *Factory, name string) (string, error) {
	b, err := readInputFile(f.IO, name, "input", api.MaxBodyBytes)
	return string(b), err
}

func withNewline(s string) string {
	if s == "" || s[len(s)-1] == '\n' {
		return s
	}
	return s + "\n"
}
