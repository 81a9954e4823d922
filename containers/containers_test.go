package containers

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const fsid = "2d2fd136-6df1-11ee-9a0a-525400a1b2c3"

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./containers -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func testDaemons() map[string]Daemon {
	img := "localhost/ceph:16.2.15"
	return map[string]Daemon{
		"mon":   {FSID: fsid, Type: "mon", ID: "host1", Hostname: "host1", Image: img, Ports: []int{3300, 6789}},
		"mgr":   {FSID: fsid, Type: "mgr", ID: "host1.abcdef", Hostname: "host1", Image: img, Ports: []int{9283}},
		"osd":   {FSID: fsid, Type: "osd", ID: "3", Hostname: "host2", Image: img, MemoryLimit: 4 << 30},
		"crash": {FSID: fsid, Type: "crash", ID: "host1", Hostname: "host1", Image: img},
		"nfs":   {FSID: fsid, Type: "nfs", ID: "foo.0.1.host1.abcdef", Hostname: "host1", Image: img, Ports: []int{2049}},
		"rgw": {FSID: fsid, Type: "rgw", ID: "foo.host1.qwerty", Hostname: "host1", Image: img, Ports: []int{80},
			ExtraEntrypointArgs: []string{"--rgw-frontends=beast port=80"}},
		"container": {FSID: fsid, Type: "container", ID: "web.host3", Hostname: "host3", Image: "localhost/goapp:latest",
			Entrypoint: "/goapp", Args: []string{"--listen", ":8080"}, Ports: []int{8080},
			Env:                []string{"B=2", "A=1"},
			Mounts:             []Mount{{"/var/lib/ceph/" + fsid + "/container.web.host3/data", "/data", "z"}},
			ExtraContainerArgs: []string{"--cpus=1"},
			CustomConfigs:      []CustomConfig{{MountPath: "/etc/web/it's.conf"}}},
	}
}

func TestRunArgvGolden(t *testing.T) {
	for name, d := range testDaemons() {
		for _, sup := range []struct {
			name string
			s    Supervisor
		}{{"systemd", Systemd}, {"restart", RestartPolicy}} {
			t.Run(name+"/"+sup.name, func(t *testing.T) {
				argv, err := RunArgv(d, sup.s)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.MarshalIndent(argv, "", "  ")
				golden(t, "run-"+name+"-"+sup.name, string(b)+"\n")
			})
		}
	}
}

func TestUnitFilesGolden(t *testing.T) {
	d := testDaemons()["mon"]
	run, err := UnitRun(d, "/usr/bin/podman")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "unit.run-mon", run)
	golden(t, "unit.stop-osd", UnitStop(testDaemons()["osd"], "/usr/bin/podman"))
	golden(t, "template.service", TemplateUnit(fsid))
	golden(t, "cluster.target", TargetUnit(fsid))
	ip := "10.0.0.1"
	meta, err := MarshalMeta(Meta{ServiceName: "mon", Ports: []int{3300, 6789}, IP: &ip})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "unit.meta-mon", string(meta))
}

// TestUnitRunIsValidShell parses every rendered unit.run with bash -n and
// checks that quoting gives back exactly the argv.
func TestUnitRunIsValidShell(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash not found")
	}
	for name, d := range testDaemons() {
		t.Run(name, func(t *testing.T) {
			script, err := UnitRun(d, "podman")
			if err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", "-c", script).CombinedOutput(); err != nil {
				t.Fatalf("bash -n: %v: %s", err, out)
			}
			argv, _ := RunArgv(d, Systemd)
			lines := strings.Split(strings.TrimSpace(script), "\n")
			last := lines[len(lines)-1]
			// Replace the engine with printf to see how the shell splits it.
			cmd := exec.Command(bash, "-c", "printf '%s\\0' "+strings.TrimPrefix(last, "podman "))
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if strings.Join(got, "\x01") != strings.Join(argv, "\x01") {
				t.Errorf("shell split differs:\n got %q\nwant %q", got, argv)
			}
		})
	}
}

func TestNaming(t *testing.T) {
	tests := []struct{ got, want string }{
		{ContainerName(fsid, "rgw.foo.host1.abc"), "ceph-" + fsid + "-rgw-foo-host1-abc"},
		{UnitName(fsid, "mon.a"), "ceph-" + fsid + "@mon.a.service"},
		{DataDir(fsid, "osd.3"), "/var/lib/ceph/" + fsid + "/osd.3"},
		{RemovedDir(fsid, "mon.a", "2026-11-21T06:00:00.000000Z"), "/var/lib/ceph/" + fsid + "/removed/mon.a_2026-11-21T06:00:00.000000Z"},
		{testDaemons()["crash"].EntityName(), "client.crash.host1"},
		{testDaemons()["rgw"].EntityName(), "client.rgw.foo.host1.qwerty"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if _, _, err := SplitDaemonName("mon"); err == nil {
		t.Error("SplitDaemonName(mon) succeeded")
	}
	if typ, id, err := SplitDaemonName("rgw.a.b"); err != nil || typ != "rgw" || id != "a.b" {
		t.Errorf("SplitDaemonName(rgw.a.b) = %q %q %v", typ, id, err)
	}
}

func TestValidateRefusesBadNames(t *testing.T) {
	bad := []Daemon{
		{FSID: fsid, Type: "mon", ID: "a;rm -rf /", Image: "x"},
		{FSID: fsid, Type: "mon", ID: "", Image: "x"},
		{FSID: "", Type: "mon", ID: "a", Image: "x"},
		{FSID: fsid, Type: "mon", ID: "a", Image: ""},
		{FSID: fsid, Type: "mon", ID: "$(id)", Image: "x"},
	}
	for _, d := range bad {
		if _, err := RunArgv(d, Systemd); err == nil {
			t.Errorf("RunArgv(%+v) succeeded", d)
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a", "it's", "$(id)", "a b", "\n", "'\"", "--rgw-frontends=beast port=80"} {
		f.Add(s)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		f.Skip("bash not found")
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return
		}
		out, err := exec.Command(bash, "-c", "printf '%s' "+Quote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("Quote(%q) round-trips to %q", s, out)
		}
	})
}
