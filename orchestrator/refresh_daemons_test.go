package orchestrator

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const testFSID = "8a7c3f6e-1d2b-4c5a-9e8f-0a1b2c3d4e5f"

func TestConvertLsFollowsProcessLsOutput(t *testing.T) {
	refreshed := time.Date(2026, 11, 21, 6, 0, 0, 123456789, time.UTC)
	out := `[
	 {"style":"cephadm:v1","name":"mon.h1","fsid":"` + testFSID + `","systemd_unit":"u","enabled":true,"state":"running",
	  "container_id":"3f2e1d0c9b8a7f6e5d4c3b2a1f0e","container_image_name":"quay.io/ceph/ceph:v18","container_image_id":"abc",
	  "container_image_digests":["quay.io/ceph/ceph@sha256:1"],"version":"18.2.1","started":"2026-11-20T08:00:00.123456789Z",
	  "created":"2026-11-20T07:59:00Z","deployed":"2026-11-20T07:58:00.000000Z","configured":"2026-11-20T07:57:00+01:00",
	  "memory_usage":123456,"cpu_percentage":"0.51%","service_name":"mon","ports":[],"ip":null,"memory_request":2048,"memory_limit":"4096"},
	 {"style":"cephadm:v1","name":"nfs.foo.0.1.h1.abcdef","fsid":"` + testFSID + `","state":"stopped","rank":"0","rank_generation":1,
	  "container_id":null,"version":"","ports":[2049],"ip":"10.0.0.5","deployed_by":["quay.io/ceph/ceph@sha256:1"],
	  "last_configured":"2026-11-20T01:00:00.000000Z","configured":"2026-11-20T02:00:00.000000Z"},
	 {"style":"cephadm:v1","name":"osd.3","fsid":"` + testFSID + `","state":"unknown"},
	 {"style":"cephadm:v1","name":"crash.h1","fsid":"` + testFSID + `","state":"error","extra_container_args":["--cpus=2"]},
	 {"style":"cephadm:v1","name":"mgr.h1.x","fsid":"` + testFSID + `"},
	 {"style":"cephadm:v1","name":"haproxy.rgw.h1.q","fsid":"` + testFSID + `","state":"running"},
	 {"style":"legacy","name":"osd.9","fsid":"` + testFSID + `","state":"running"},
	 {"style":"cephadm:v1","name":"mon.h1","fsid":"00000000-0000-0000-0000-000000000000","state":"running"},
	 {"style":"cephadm:v1","name":"nodot","fsid":"` + testFSID + `"},
	 {"style":"cephadm:v1","name":"ceph-exporterx.h1","fsid":"` + testFSID + `"},
	 {"style":"cephadm:v1","name":"mds.a.h1","fsid":"` + testFSID + `","created":"yesterday"}
	]`
	ds, skipped, err := ConvertLs("h1", testFSID, []byte(out), refreshed)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 2 || !strings.Contains(skipped[0], "unknown daemon type ceph-exporterx") || !strings.Contains(skipped[1], "mds.a.h1: created") {
		t.Errorf("skipped = %q", skipped)
	}
	got := map[string]string{}
	for _, d := range ds {
		b, _ := json.Marshal(d)
		got[d.DaemonName] = string(b)
	}
	want := map[string]string{
		"mon.h1": `{"daemon_type":"mon","daemon_id":"h1","service_name":"mon","daemon_name":"mon.h1","hostname":"h1",` +
			`"container_id":"3f2e1d0c9b8a","container_image_id":"abc","container_image_name":"quay.io/ceph/ceph:v18",` +
			`"container_image_digests":["quay.io/ceph/ceph@sha256:1"],"memory_usage":123456,"memory_request":2048,"memory_limit":4096,` +
			`"cpu_percentage":"0.51%","version":"18.2.1","status":1,"status_desc":"running","is_active":false,` +
			`"last_refresh":"2026-11-21T06:00:00.123456Z","created":"2026-11-20T07:59:00.000000Z","started":"2026-11-20T08:00:00.123456Z",` +
			`"last_deployed":"2026-11-20T07:58:00.000000Z","last_configured":"2026-11-20T06:57:00.000000Z"}`,
		"nfs.foo.0.1.h1.abcdef": `{"daemon_type":"nfs","daemon_id":"foo.0.1.h1.abcdef","daemon_name":"nfs.foo.0.1.h1.abcdef","hostname":"h1",` +
			`"status":0,"status_desc":"stopped","is_active":false,"ports":[2049],"ip":"10.0.0.5",` +
			`"deployed_by":["quay.io/ceph/ceph@sha256:1"],"rank":0,"rank_generation":1,` +
			`"last_refresh":"2026-11-21T06:00:00.123456Z","last_configured":"2026-11-20T01:00:00.000000Z"}`,
		"osd.3": `{"daemon_type":"osd","daemon_id":"3","daemon_name":"osd.3","hostname":"h1","status":-1,"status_desc":"unknown","is_active":false,` +
			`"last_refresh":"2026-11-21T06:00:00.123456Z"}`,
		"crash.h1": `{"daemon_type":"crash","daemon_id":"h1","daemon_name":"crash.h1","hostname":"h1","status":-1,"status_desc":"error","is_active":false,` +
			`"extra_container_args":["--cpus=2"],"last_refresh":"2026-11-21T06:00:00.123456Z"}`,
		"mgr.h1.x": `{"daemon_type":"mgr","daemon_id":"h1.x","daemon_name":"mgr.h1.x","hostname":"h1","status_desc":"unknown","is_active":false,` +
			`"last_refresh":"2026-11-21T06:00:00.123456Z"}`,
		"haproxy.rgw.h1.q": `{"daemon_type":"haproxy","daemon_id":"rgw.h1.q","daemon_name":"haproxy.rgw.h1.q","hostname":"h1","status":1,"status_desc":"running","is_active":false,` +
			`"last_refresh":"2026-11-21T06:00:00.123456Z"}`,
	}
	if len(got) != len(want) {
		t.Errorf("converted %d daemons, want %d: %v", len(got), len(want), got)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got[name], w)
		}
	}

	for _, bad := range []string{`{}`, `nope`, `[1,2]`} {
		ds, skipped, err := ConvertLs("h1", testFSID, []byte(bad), refreshed)
		if bad == `[1,2]` {
			if err != nil || len(ds) != 0 || len(skipped) != 2 {
				t.Errorf("ConvertLs(%s) = %v %v %v", bad, ds, skipped, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("ConvertLs(%s) accepted", bad)
		}
	}
}

func TestParseCephadmTime(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-20T08:00:00.123456Z":         "2026-11-20T08:00:00.123456Z",
		"2026-11-20T08:00:00.123456789Z":      "2026-11-20T08:00:00.123456Z",
		"2026-11-20T08:00:00Z":                "2026-11-20T08:00:00.000000Z",
		"2026-11-20T08:00:00.5+02:00":         "2026-11-20T06:00:00.500000Z",
		"2026-11-20T08:00:00.123456":          "2026-11-20T08:00:00.123456Z",
		"2026-11-20T08:00:00.123456+0000":     "2026-11-20T08:00:00.123456Z",
		"2026-11-20 08:00:00.123456789+00:00": "2026-11-20T08:00:00.123456Z",
	} {
		got, err := ParseCephadmTime(in)
		if err != nil || cephadmTime(got) != want {
			t.Errorf("ParseCephadmTime(%q) = %s, %v; want %s", in, cephadmTime(got), err, want)
		}
	}
	if _, err := ParseCephadmTime("yesterday"); err == nil {
		t.Error("parsed garbage")
	}
}
