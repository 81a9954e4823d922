package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/containers"
)

// lsTree lays out two clusters' data dirs plus everything ls must skip.
func lsTree(t *testing.T, l *Lifecycle) {
	t.Helper()
	stamp := time.Date(2025, 2, 3, 4, 5, 6, 789012000, time.UTC)
	daemon := func(fsid, name, meta string, files ...string) {
		dir := l.fs(path.Join("/var/lib/ceph", fsid, name))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if meta != "" {
			files = append(files, fileUnitMeta)
		}
		for i, f := range files {
			content := "x\n"
			switch f {
			case fileUnitMeta:
				content = meta
			case fileUnitImage:
				content = "quay.io/ceph/ceph:v18\n"
			}
			p := filepath.Join(dir, f)
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			mt := stamp.Add(time.Duration(i) * time.Minute)
			if err := os.Chtimes(p, mt, mt); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := []string{fileUnitCreated, fileUnitImage, fileUnitConfigured}
	daemon(testFSID, "mon.host1", `{"service_name":"mon","ports":[3300,6789],"ip":null,"deployed_by":["quay.io/ceph/ceph@sha256:aa"],"rank":null,"rank_generation":null,"extra_container_args":null,"extra_entrypoint_args":null,"memory_request":null,"memory_limit":null}`, all...)
	daemon(testFSID, "container.web.host1", `{"service_name":"container.web","ports":[8080],"config_digest":"sha256:c0ffee","name":"meta must not win"}`, all...)
	daemon(testFSID, "crash.host1", "", append(all, fileUnitStopped)...) // stopped by orch
	daemon(testFSID2, "mgr.host1.abcdef", `{"service_name":"mgr"}`, all...)
	for _, d := range []string{
		testFSID + "/removed/mon.old_2024-01-01T00:00:00.000000Z", testFSID + "/crash/posted",
		testFSID + "/custom_config_files/container.web.host1", testFSID + "/home", testFSID + "/.hidden.x",
		"mon/ceph-host1", "bootstrap-osd", "not-a-fsid.x",
	} {
		if err := os.MkdirAll(l.fs(path.Join("/var/lib/ceph", d)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(l.fs("/var/lib/ceph/"+testFSID+"/cephadm.0123abcd"), []byte("bin"), 0o700); err != nil {
		t.Fatal(err)
	}
}

func lsJSON(t *testing.T, list []DaemonStatus) string {
	t.Helper()
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestListNoDetailRunsNothing(t *testing.T) {
	l := lifecycleHost(t, newSeqRunner(t), SupervisorAuto)
	lsTree(t, l)
	list, err := l.List(context.Background(), ListOptions{NoDetail: true})
	if err != nil {
		t.Fatal(err)
	}
	goldenText(t, "ls-no-detail.json", lsJSON(t, list))

	one, err := l.List(context.Background(), ListOptions{NoDetail: true, FSID: testFSID2})
	if err != nil || len(one) != 1 || one[0].Name != "mgr.host1.abcdef" {
		t.Errorf("--fsid: %+v %v", one, err)
	}
	if _, err := l.List(context.Background(), ListOptions{FSID: "../etc"}); err == nil {
		t.Error("bad fsid accepted")
	}
}

func TestListEmptyHost(t *testing.T) {
	l := lifecycleHost(t, newSeqRunner(t), SupervisorPodman)
	list, err := l.List(context.Background(), ListOptions{})
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("list = %#v, %v", list, err)
	}
	if got := lsJSON(t, list); got != "[]\n" {
		t.Errorf("empty list prints %q", got)
	}
}

const (
	monImage = "sha256:aaaa000000000000000000000000000000000000000000000000000000000001"
	webImage = "bbbb000000000000000000000000000000000000000000000000000000000002"
	mgrImage = "cccc000000000000000000000000000000000000000000000000000000000003"
	monCID   = "1111111111110000000000000000000000000000000000000000000000000001"
	webCID   = "2222222222220000000000000000000000000000000000000000000000000002"
	mgrCID   = "3333333333330000000000000000000000000000000000000000000000000003"
)

func lsContainers(t *testing.T) string {
	started := time.Date(2025, 2, 3, 5, 0, 0, 0, time.UTC)
	return psJSON(t,
		psContainer{ID: monCID, Names: []string{containers.ContainerName(testFSID, "mon.host1")}, Image: "quay.io/ceph/ceph:v18",
			ImageID: monImage, State: "running", StartedAt: flexTime{started}, Created: flexTime{started.Add(-time.Second)}},
		psContainer{ID: webCID, Names: []string{containers.ContainerName(testFSID, "container.web.host1")}, Image: "localhost/web:1",
			ImageID: webImage, State: "exited", ExitCode: 143, Created: flexTime{started}},
		psContainer{ID: mgrCID, Names: []string{containers.LegacyContainerName(testFSID2, "mgr.host1.abcdef")}, Image: "quay.io/ceph/ceph:v18.2.2",
			ImageID: mgrImage, State: "running", StartedAt: flexTime{started}},
		psContainer{ID: "4444", Names: []string{"someone-else"}, Image: "x", State: "running"},
	)
}

const lsStats = `[
 {"id":"111111111111","name":"mon","cpu_percent":"1.25%","mem_usage":"708.6kB / 25.28GB"},
 {"id":"333333333333","name":"mgr","cpu_percent":"0.00%","mem_usage":"1.5GiB / 25.28GB"},
 {"id":"444400000000","name":"someone-else","cpu_percent":"9%","mem_usage":"1MB / 2GB"}
]`

const lsImages = `[
 {"Id":"bbbb000000000000000000000000000000000000000000000000000000000002","RepoDigests":["localhost/web@sha256:02"],"Labels":null},
 {"Id":"aaaa000000000000000000000000000000000000000000000000000000000001","RepoDigests":["quay.io/ceph/ceph@sha256:02","quay.io/ceph/ceph@sha256:01","quay.io/ceph/ceph@sha256:02"],"Labels":{"maintainer":"x"}},
 {"Id":"cccc000000000000000000000000000000000000000000000000000000000003","RepoDigests":[],"Labels":{"io.ceph.version":"18.2.2"}}
]`

func TestListDetailPodman(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	lsTree(t, l)
	r.expect(lsContainers(t), nil, "podman", "ps", "-a", "--format", "json").
		expect(lsStats, nil, "podman", "stats", "--no-stream", "--format", "json").
		expect(lsImages, nil, "podman", "image", "inspect", webImage, strings.TrimPrefix(monImage, "sha256:"), mgrImage).
		expect("ceph version 18.2.1 (7fe91d5d5842e04be3b4f514d6dd990c54b29c76) reef (stable)\n", nil, "podman", "exec", monCID, "ceph", "-v")
	list, err := l.List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	goldenText(t, "ls-podman.json", lsJSON(t, list))
}

func TestListDetailSystemd(t *testing.T) {
	for _, orchStopped := range []bool{true, false} {
		t.Run(fmt.Sprintf("stopped by orch %v", orchStopped), func(t *testing.T) { testListDetailSystemd(t, orchStopped) })
	}
}

// testListDetailSystemd: crash.host1's unit is inactive; it is "stopped"
// when orch stopped it (unit.stopped), else "error".
func testListDetailSystemd(t *testing.T, orchStopped bool) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorSystemd)
	lsTree(t, l)
	crashState := "stopped"
	if !orchStopped {
		crashState = "error"
		if err := os.Remove(l.fs(path.Join("/var/lib/ceph", testFSID, "crash.host1", fileUnitStopped))); err != nil {
			t.Fatal(err)
		}
	}
	units := []string{
		containers.UnitName(testFSID, "container.web.host1"),
		containers.UnitName(testFSID, "crash.host1"),
		containers.UnitName(testFSID, "mon.host1"),
		containers.UnitName(testFSID2, "mgr.host1.abcdef"),
	}
	show := "Id=" + units[0] + "\nActiveState=failed\nUnitFileState=enabled\n\n" +
		"Id=" + units[1] + "\nActiveState=inactive\nUnitFileState=disabled\n\n" +
		"Id=" + units[2] + "\nActiveState=active\nUnitFileState=enabled\n\n" +
		"Id=" + units[3] + "\nActiveState=activating\nUnitFileState=enabled-runtime\n"
	r.expect(show, nil, append([]string{"systemctl", "show", "--property=Id,ActiveState,UnitFileState", "--"}, units...)...).
		expect(lsContainers(t), nil, "podman", "ps", "-a", "--format", "json").
		expect("", exitErr(125, "cgroup stats unavailable"), "podman", "stats", "--no-stream", "--format", "json").
		expect("", exitErr(125, "boom"), "podman", "image", "inspect", webImage, strings.TrimPrefix(monImage, "sha256:"), mgrImage).
		expect("", exitErr(126, "no ceph"), "podman", "exec", monCID, "ceph", "-v").
		expect("ceph version 18.2.2 (x) reef (stable)\n", nil, "podman", "exec", mgrCID, "ceph", "-v")
	list, err := l.List(context.Background(), ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range list {
		got[d.Name] = d.State
		if d.ContainerID != nil && (d.MemoryUsage != nil || d.CPUPercentage != nil) {
			t.Errorf("%s: stats without a stats answer", d.Name)
		}
	}
	want := map[string]string{"container.web.host1": "error", "crash.host1": crashState, "mon.host1": "running", "mgr.host1.abcdef": "unknown"}
	if !jsonEqual(t, got, want) {
		t.Errorf("states = %v, want %v", got, want)
	}
	if list[2].Version != "" || list[3].Version != "18.2.2" {
		t.Errorf("versions = %q %q", list[2].Version, list[3].Version)
	}
	if !list[0].Enabled || list[1].Enabled || !list[3].Enabled {
		t.Errorf("enabled = %v %v %v", list[0].Enabled, list[1].Enabled, list[3].Enabled)
	}
}

func TestParseMemUsage(t *testing.T) {
	for in, want := range map[string]int64{
		"708.6kB / 25.28GB": 708600,
		"1.5GiB / 25GB":     1610612736,
		"12MiB":             12 << 20,
		"0B / 0B":           0,
		"512 / 1024":        512,
	} {
		if got, ok := parseMemUsage(in); !ok || got != want {
			t.Errorf("parseMemUsage(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "--", "1.2XB / 3GB"} {
		if _, ok := parseMemUsage(in); ok {
			t.Errorf("parseMemUsage(%q) accepted", in)
		}
	}
}

func TestPodmanState(t *testing.T) {
	tests := []struct {
		c    *psContainer
		want string
	}{
		{nil, "error"},
		{&psContainer{State: "running"}, "running"},
		{&psContainer{State: "created"}, "stopped"},
		{&psContainer{State: "exited", ExitCode: 0}, "stopped"},
		{&psContainer{State: "exited", ExitCode: 143}, "stopped"},
		{&psContainer{State: "exited", ExitCode: 137}, "stopped"},
		{&psContainer{State: "exited", ExitCode: 1}, "error"},
		{&psContainer{State: "paused"}, "unknown"},
	}
	for _, tt := range tests {
		if got := podmanState(tt.c); got != tt.want {
			t.Errorf("podmanState(%+v) = %s, want %s", tt.c, got, tt.want)
		}
	}
}

func TestFlexTime(t *testing.T) {
	var v struct{ A, B, C, D flexTime }
	if err := json.Unmarshal([]byte(`{"A":1795243373,"B":"2026-11-21T06:42:54.341762443Z","C":"2 seconds ago","D":-62135596800}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Unix() != 1795243373 || v.B.Nanosecond() != 341762443 || !v.C.IsZero() || !v.D.IsZero() {
		t.Errorf("%+v", v)
	}
}
