package api

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// osdRemovalStub records what the OSD removal routes pass on.
type osdRemovalStub struct {
	rm      OSDRemoveRequest
	stopped []int
	zap     ZapRequest
	list    []OSDRemoval
}

var _ OSDRemovalBackend = (*osdRemovalStub)(nil)

func (s *osdRemovalStub) RemoveOSDs(_ context.Context, req OSDRemoveRequest) (string, error) {
	s.rm = req
	return "Scheduled OSD(s) for removal.", nil
}

func (s *osdRemovalStub) StopRemoveOSDs(_ context.Context, ids []int) (string, error) {
	s.stopped = ids
	return "Stopped OSD(s) removal", nil
}

func (s *osdRemovalStub) OSDRemovals(context.Context) ([]OSDRemoval, error) { return s.list, nil }

func (s *osdRemovalStub) ZapDevice(_ context.Context, req ZapRequest) (string, error) {
	s.zap = req
	if !req.Force {
		return "", NewError(syscall.EINVAL, "must pass --force to PERMANENTLY ERASE DEVICE DATA")
	}
	return "zap successful for " + req.Path + " on " + req.Host, nil
}

// TestOSDRemovalRoutes sends the bodies the ceph-mgr module sends
// (mgr/orch_mgr/module.py) and checks the answers it reads.
func TestOSDRemovalRoutes(t *testing.T) {
	b := &osdRemovalStub{}
	c, err := NewClient(ClientOptions{Socket: startServer(t, NewHandler(b))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name, method, path string
		body               string
		want               string
		check              func() bool
	}{
		{name: "osd rm", method: "POST", path: "/osds/remove",
			body: `{"osd_ids": [3, 4], "replace": true, "force": false, "zap": true, "no_destroy": true}`,
			want: `{"message":"Scheduled OSD(s) for removal."}`,
			check: func() bool {
				return slices.Equal(b.rm.OSDIDs, []int{3, 4}) && b.rm.Replace && !b.rm.Force && b.rm.Zap && b.rm.NoDestroy
			}},
		{name: "osd rm stop", method: "DELETE", path: "/osds/remove", body: `{"osd_ids": [3]}`,
			want: `{"message":"Stopped OSD(s) removal"}`, check: func() bool { return slices.Equal(b.stopped, []int{3}) }},
		{name: "empty status", method: "GET", path: "/osds/remove", want: `[]`},
		{name: "device zap", method: "POST", path: "/devices/zap", body: `{"host": "h1", "path": "/dev/sdb", "force": true}`,
			want: `{"message":"zap successful for /dev/sdb on h1"}`, check: func() bool { return b.zap == ZapRequest{Host: "h1", Path: "/dev/sdb", Force: true} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in any
			if tt.body != "" {
				in = json.RawMessage(tt.body)
			}
			var out json.RawMessage
			if err := c.Do(ctx, tt.method, tt.path, nil, in, &out); err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(out)) != tt.want {
				t.Errorf("answer %s, want %s", out, tt.want)
			}
			if tt.check != nil && !tt.check() {
				t.Errorf("backend saw %+v", b)
			}
		})
	}

	pg, w, ts := 3, 0.5, "2024-05-06T07:08:09.123456Z"
	b.list = []OSDRemoval{{OSDID: 3, Hostname: "h1", Started: true, Draining: true, OriginalWeight: &w, DrainStartedAt: &ts, PGCount: &pg}}
	var raw []map[string]any
	if err := c.Do(ctx, "GET", "/osds/remove", nil, nil, &raw); err != nil || len(raw) != 1 {
		t.Fatalf("GET /osds/remove = %v, %v", raw, err)
	}
	// The keys of cephadm's OSD.to_json() (mgr/orch_mgr/convert.py OSDRemoval.JSON_KEYS), null when unset.
	for _, k := range []string{"osd_id", "started", "draining", "stopped", "replace", "force", "zap", "hostname",
		"original_weight", "drain_started_at", "drain_stopped_at", "drain_done_at", "process_started_at", "pg_count"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("status item lacks %q: %v", k, raw[0])
		}
	}
	if raw[0]["drain_done_at"] != nil || raw[0]["drain_started_at"] != ts {
		t.Errorf("status item %v", raw[0])
	}
	list, err := c.OSDRemovals(ctx)
	if err != nil || len(list) != 1 || list[0].DrainStatus() != "draining" {
		t.Errorf("OSDRemovals = %+v, %v", list, err)
	}

	var ae *Error
	if _, err := c.ZapDevice(ctx, ZapRequest{Host: "h1", Path: "/dev/sdb"}); !errors.As(err, &ae) || ae.Errno() != syscall.EINVAL {
		t.Errorf("zap without force = %v", err)
	}
	if err := c.Do(ctx, "POST", "/osds/remove", nil, json.RawMessage(`{"osd_ids": ["x"]}`), nil); !errors.As(err, &ae) || ae.Errno() != syscall.EINVAL {
		t.Errorf("osd rm with a string id = %v", err)
	}
}

func TestDrainStatus(t *testing.T) {
	ts := "2024-05-06T07:08:09.123456Z"
	tests := []struct {
		o    OSDRemoval
		want string
	}{
		{OSDRemoval{}, "not started"},
		{OSDRemoval{Started: true}, "started"},
		{OSDRemoval{Started: true, Draining: true}, "draining"},
		{OSDRemoval{Started: true, DrainDoneAt: &ts}, "done, waiting for purge"},
		{OSDRemoval{Started: true, Draining: true, DrainDoneAt: &ts}, "draining"},
	}
	for _, tt := range tests {
		if got := tt.o.DrainStatus(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.o, got, tt.want)
		}
	}
}
