package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDiskRescan(t *testing.T) {
	t.Run("adapters", func(t *testing.T) {
		root := t.TempDir()
		for name, proc := range map[string]string{"host0": "ahci", "host1": "usb-storage", "host2": "mpt3sas", "host3": ""} {
			dir := filepath.Join(root, "sys/class/scsi_host", name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "scan"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if proc != "" {
				if err := os.WriteFile(filepath.Join(dir, "proc_name"), []byte(proc+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A scan file that cannot be written: a directory in its place.
		bad := filepath.Join(root, "sys/class/scsi_host/host4")
		if err := os.MkdirAll(filepath.Join(bad, "scan"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bad, "proc_name"), []byte("qla2xxx"), 0o644); err != nil {
			t.Fatal(err)
		}
		res := (&Host{Root: root, Now: func() time.Time { return fixedNow }}).DiskRescan()
		if want := []string{"host0", "host2"}; !reflect.DeepEqual(res.Rescanned, want) {
			t.Errorf("rescanned = %q, want %q", res.Rescanned, want)
		}
		if want := []string{"host1", "host3"}; !reflect.DeepEqual(res.Skipped, want) {
			t.Errorf("skipped = %q, want %q", res.Skipped, want)
		}
		if _, ok := res.Failed["host4"]; !ok || len(res.Failed) != 1 {
			t.Errorf("failed = %v, want host4", res.Failed)
		}
		if res.Message != "Ok. 5 adapters detected: 2 rescanned, 2 skipped, 1 failed (0.00s)" {
			t.Errorf("message = %q", res.Message)
		}
		b, err := os.ReadFile(filepath.Join(root, "sys/class/scsi_host/host0/scan"))
		if err != nil || string(b) != "- - -" {
			t.Errorf("host0/scan = %q, %v; want \"- - -\"", b, err)
		}
	})
	t.Run("none", func(t *testing.T) {
		res := (&Host{Root: t.TempDir()}).DiskRescan()
		if len(res.Adapters) != 0 || !strings.Contains(res.Message, "no SCSI host adapters on this host") {
			t.Errorf("result = %+v", res)
		}
	})
}
