package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCephVolumeInventory(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"dev", "sys", "run/udev"} { // no /run/lvm: not mounted
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	wantArgv := []string{"podman", "run", "--rm", "--privileged", "--net=host", "--ipc=host",
		"-v", "/dev:/dev", "-v", "/run/udev:/run/udev", "-v", "/sys:/sys",
		"-e", "CEPH_VOLUME_ALLOW_LOOP_DEVICES=1",
		"--entrypoint", "ceph-volume", "quay.io/ceph/ceph:v18", "inventory", "--format", "json", "--with-lsm"}
	r := newFakeRunner(t).on(`[{"path":"/dev/vdb","available":true,"being_replaced":false}]`, nil, wantArgv...)
	h := fixtureHost(t, r, "podman")
	h.Root = root
	opts := CephVolumeOptions{Image: "quay.io/ceph/ceph:v18", WithLSM: true, Env: []string{"CEPH_VOLUME_ALLOW_LOOP_DEVICES=1"}}
	devs, err := h.CephVolumeInventory(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || string(devs[0]) != `{"path":"/dev/vdb","available":true,"being_replaced":false}` {
		t.Errorf("devices = %s (newer fields must survive)", devs)
	}
	if got := h.CephVolumeArgv(opts); !reflect.DeepEqual(got, wantArgv) {
		t.Errorf("argv = %q", got)
	}
}

func TestCephVolumeInventoryErrors(t *testing.T) {
	argv := []string{"podman", "run", "--rm", "--privileged", "--net=host", "--ipc=host", "--entrypoint", "ceph-volume", "img", "inventory", "--format", "json"}
	tests := []struct {
		name     string
		programs []string
		opts     CephVolumeOptions
		stubs    func(r *fakeRunner)
		want     error
	}{
		{name: "no image", programs: []string{"podman"}, want: ErrInvalidArgument},
		{name: "no podman", opts: CephVolumeOptions{Image: "img"}, want: ErrToolMissing},
		{name: "container fails", programs: []string{"podman"}, opts: CephVolumeOptions{Image: "img"},
			stubs: func(r *fakeRunner) { r.on("", exitErr(125, "Error: image not known", argv...), argv...) }},
		{name: "garbage output", programs: []string{"podman"}, opts: CephVolumeOptions{Image: "img"},
			stubs: func(r *fakeRunner) { r.on("--> oops", nil, argv...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFakeRunner(t)
			if tt.stubs != nil {
				tt.stubs(r)
			}
			h := fixtureHost(t, r, tt.programs...)
			h.Root = t.TempDir()
			_, err := h.CephVolumeInventory(context.Background(), tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
