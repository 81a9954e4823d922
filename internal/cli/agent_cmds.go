package cli

import (
	"github.com/orchceph/orch/internal/agent"
	"github.com/spf13/cobra"
)

// newCmdAgentCheckHost is `orch agent check-host [--expect-hostname H]`:
// the result is printed whether or not the host passes; a failing host
// also exits non-zero with the problems on stderr.
func newCmdAgentCheckHost(o *AgentOptions) *cobra.Command {
	var opts agent.CheckHostOptions
	cmd := &cobra.Command{
		Use:   "check-host",
		Short: "Check that this host can run Ceph daemons (podman, systemctl, lvm2, time sync, hostname)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := o.context(cmd)
			defer cancel()
			res, checkErr := o.Host().CheckHost(ctx, opts)
			if res != nil {
				if err := o.writeJSON(res); err != nil {
					return err
				}
			}
			return classifyAgentError(checkErr)
		},
	}
	cmd.Flags().StringVar(&opts.ExpectHostname, "expect-hostname", "", "fail unless the host's name is this (case-insensitive)")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "treat missing systemctl, lvcreate or time sync as errors, as cephadm does")
	return cmd
}

func newCmdAgentGatherFacts(o *AgentOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "gather-facts",
		Short: "Print this host's facts (cephadm gather-facts keys)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := o.context(cmd)
			defer cancel()
			facts, err := o.Host().GatherFacts(ctx)
			if err != nil {
				return classifyAgentError(err)
			}
			return o.writeJSON(facts)
		},
	}
}

func newCmdAgentListNetworks(o *AgentOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list-networks",
		Short: "Print {subnet: {iface: [ips]}} for this host's directly attached networks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := o.context(cmd)
			defer cancel()
			nets, err := o.Host().ListNetworks(ctx)
			if err != nil {
				return classifyAgentError(err)
			}
			return o.writeJSON(nets)
		},
	}
}

func newCmdAgentInventory(o *AgentOptions) *cobra.Command {
	var (
		native agent.InventoryOptions
		cv     agent.CephVolumeOptions
	)
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Print this host's block devices as ceph-volume inventory --format json does",
		Long: "Without --image the devices are scanned natively (sysfs, lsblk, blkid, pvs); " +
			"with --image, ceph-volume itself runs in that container image.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := o.context(cmd)
			defer cancel()
			if cv.Image != "" {
				devs, err := o.Host().CephVolumeInventory(ctx, cv)
				if err != nil {
					return classifyAgentError(err)
				}
				return o.writeJSON(devs)
			}
			if cv.WithLSM || len(cv.Env) > 0 {
				return usagef("--with-lsm and --env need --image")
			}
			devs, err := o.Host().Inventory(ctx, native)
			if err != nil {
				return classifyAgentError(err)
			}
			return o.writeJSON(devs)
		},
	}
	cmd.Flags().StringVar(&cv.Image, "image", "", "run ceph-volume in this container image instead of scanning natively")
	cmd.Flags().BoolVar(&cv.WithLSM, "with-lsm", false, "ask ceph-volume for libstoragemgmt data (with --image)")
	cmd.Flags().StringArrayVar(&cv.Env, "env", nil, "KEY=VALUE for ceph-volume, repeatable (with --image)")
	cmd.Flags().BoolVar(&native.ExcludeLoop, "exclude-loop", false, "leave loop devices out (they count as disks by default)")
	return cmd
}

func newCmdAgentLight(o *AgentOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "light on|off ident|fault DEVICE",
		Short: "Turn a disk's identification or fault LED on or off (lsmcli or ledctl)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			var on bool
			switch args[0] {
			case "on":
				on = true
			case "off":
			default:
				return usagef("light: first argument must be on or off, not %q", args[0])
			}
			if args[1] != agent.LEDIdent && args[1] != agent.LEDFault {
				return usagef("light: second argument must be %s or %s, not %q", agent.LEDIdent, agent.LEDFault, args[1])
			}
			ctx, cancel := o.context(cmd)
			defer cancel()
			res, err := o.Host().Light(ctx, agent.LightRequest{Device: args[2], Type: args[1], On: on})
			if err != nil {
				return classifyAgentError(err)
			}
			return o.writeJSON(res)
		},
	}
}

func newCmdAgentDiskRescan(o *AgentOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "disk-rescan",
		Short: "Ask every SCSI host adapter to rescan for new disks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.writeJSON(o.Host().DiskRescan())
		},
	}
}
