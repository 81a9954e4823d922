package agent

import (
	"context"
	"encoding/json"
	"fmt"
)

// CephVolumeOptions parameterises CephVolumeInventory.
type CephVolumeOptions struct {
	// Image is the Ceph container image holding ceph-volume.
	Image string
	// WithLSM asks ceph-volume for libstoragemgmt data (health, LEDs).
	WithLSM bool
	// Env are extra KEY=VALUE variables for ceph-volume, for example
	// CEPH_VOLUME_ALLOW_LOOP_DEVICES=1.
	Env []string
}

// cephVolumeMounts are the host paths ceph-volume needs, mounted only when
// they exist on the host (podman refuses missing sources).
var cephVolumeMounts = []string{"/dev", "/run/udev", "/sys", "/run/lvm", "/run/lock/lvm"}

// CephVolumeArgv is the podman command line that runs
// `ceph-volume inventory --format json` in image, as cephadm runs it.
func (h *Host) CephVolumeArgv(opts CephVolumeOptions) []string {
	argv := []string{"podman", "run", "--rm", "--privileged", "--net=host", "--ipc=host"}
	for _, m := range cephVolumeMounts {
		if h.exists(m) {
			argv = append(argv, "-v", m+":"+m)
		}
	}
	for _, e := range opts.Env {
		argv = append(argv, "-e", e)
	}
	argv = append(argv, "--entrypoint", "ceph-volume", opts.Image, "inventory", "--format", "json")
	if opts.WithLSM {
		argv = append(argv, "--with-lsm")
	}
	return argv
}

// CephVolumeInventory runs ceph-volume in the cluster's image and returns
// its devices verbatim (as raw JSON objects, so fields newer than this
// agent survive the trip to the controller).
func (h *Host) CephVolumeInventory(ctx context.Context, opts CephVolumeOptions) ([]json.RawMessage, error) {
	if opts.Image == "" {
		return nil, fmt.Errorf("ceph-volume inventory: no image given: %w", ErrInvalidArgument)
	}
	out, err := h.run(ctx, h.CephVolumeArgv(opts)...)
	if err != nil {
		return nil, fmt.Errorf("ceph-volume inventory in %s: %w", opts.Image, err)
	}
	var devs []json.RawMessage
	if err := json.Unmarshal(out, &devs); err != nil {
		return nil, fmt.Errorf("ceph-volume inventory in %s: parse output: %w", opts.Image, err)
	}
	if devs == nil {
		devs = []json.RawMessage{}
	}
	return devs, nil
}
