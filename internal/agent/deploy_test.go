package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orchceph/orch/containers"
)

func loadRequest(t *testing.T, name string) *DeployRequest {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "lifecycle", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, err := DecodeDeployRequest(f)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// psJSON renders a `podman ps -a --format json` answer.
func psJSON(t *testing.T, cs ...psContainer) string {
	t.Helper()
	type row struct {
		ID        string            `json:"Id"`
		Names     []string          `json:"Names"`
		Image     string            `json:"Image"`
		ImageID   string            `json:"ImageID"`
		State     string            `json:"State"`
		ExitCode  int               `json:"ExitCode"`
		StartedAt int64             `json:"StartedAt"`
		Created   int64             `json:"Created"`
		Labels    map[string]string `json:"Labels"`
	}
	rows := []row{}
	for _, c := range cs {
		rows = append(rows, row{c.ID, c.Names, c.Image, c.ImageID, c.State, c.ExitCode, c.StartedAt.Unix(), c.Created.Unix(), c.Labels})
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func podmanArgv(l *Lifecycle, t *testing.T, req *DeployRequest) []string {
	t.Helper()
	argv, err := l.podmanRunArgv(req.daemon("host1", l.dataRoot()))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"podman"}, argv...)
}

func TestDeployCustomContainerPodman(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	req := loadRequest(t, "deploy-container.request.json")
	cname := containers.ContainerName(testFSID, req.Name)
	r.expect("[]\n", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname).
		expect("0123456789abcdef\n", nil, podmanArgv(l, t, req)...)

	res, err := l.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := DeployResult{
		FSID: testFSID, Name: req.Name, DeploymentType: DeployDefault, Supervisor: SupervisorPodman,
		SystemdUnit: "ceph-" + testFSID + "@container.web.host1.service", ContainerName: cname,
		ContainerID: "0123456789abcdef", DataDir: "/var/lib/ceph/" + testFSID + "/container.web.host1", Created: true,
	}
	if !jsonEqual(t, res, want) {
		t.Errorf("result = %+v\nwant %+v", *res, want)
	}
	goldenText(t, "deploy-container.tree", dumpTree(t, l, "/var/lib/ceph"))

	// The run line publishes the port, mounts the data dir's www and data,
	// the custom config file, and keeps the extra args.
	argv := podmanArgv(l, t, req)
	for _, wantArg := range []string{
		"--restart=on-failure", "8080:8080", "--cpus=1", "--entrypoint",
		"/var/lib/ceph/" + testFSID + "/container.web.host1/www:/www:z",
		"/var/lib/ceph/" + testFSID + "/container.web.host1/data:/data",
		"/var/lib/ceph/" + testFSID + "/custom_config_files/container.web.host1/web.conf:/etc/web/web.conf:z",
	} {
		if !slices.Contains(argv, wantArg) {
			t.Errorf("run argv lacks %q: %q", wantArg, argv)
		}
	}
	// Secrets never reach an argv.
	for _, a := range argv {
		if strings.Contains(a, "SECRET") {
			t.Errorf("secret in argv: %q", a)
		}
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

func TestDeployTwiceConverges(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	req := loadRequest(t, "deploy-container.request.json")
	cname := containers.ContainerName(testFSID, req.Name)
	r.expect("[]", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname).
		expect("id1\n", nil, podmanArgv(l, t, req)...)
	if _, err := l.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	first := dumpTree(t, l, "/var/lib/ceph")
	created := l.mtime(path.Join(l.dataDir(testFSID, req.Name), fileUnitCreated))

	// Second deploy: the container runs, so it is a REDEPLOY (no port
	// check, even though the daemon itself now holds the port).
	l.PortInUse = func(string, int) (bool, error) {
		t.Error("port check on a redeploy")
		return true, nil
	}
	r.expect(psJSON(t, psContainer{ID: "id1", Names: []string{cname}, State: "running"}), nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname).
		expect("id2\n", nil, podmanArgv(l, t, req)...)
	res, err := l.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeploymentType != DeployRedeploy || res.Created || res.ContainerID != "id2" {
		t.Errorf("second deploy = %+v", res)
	}
	if second := dumpTree(t, l, "/var/lib/ceph"); second != first {
		t.Errorf("redeploy changed the files:\n%s\nvs\n%s", first, second)
	}
	if again := l.mtime(path.Join(l.dataDir(testFSID, req.Name), fileUnitCreated)); !again.Equal(*created) {
		t.Errorf("unit.created rewritten: %v → %v", created, again)
	}
}

func TestDeployPortInUseCreatesNothing(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman, 8080)
	req := loadRequest(t, "deploy-container.request.json")
	req.Params.TCPPorts = []int{8080, 9090}
	r.expect("[]", nil, "podman", "ps", "-a", "--format", "json")
	_, err := l.Deploy(context.Background(), req)
	var pe *PortError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPortInUse) {
		t.Fatalf("err = %v, want a PortError", err)
	}
	if got, want := pe.Error(), "TCP Port(s) '8080,9090' required for container already in use"; got != want {
		t.Errorf("error text %q, want %q", got, want)
	}
	if !slices.Equal(pe.Busy, []int{8080}) {
		t.Errorf("busy = %v", pe.Busy)
	}
	if _, err := os.Stat(l.fs("/var/lib/ceph")); !os.IsNotExist(err) {
		t.Errorf("refused deploy created files: %s", dumpTree(t, l, "/var/lib/ceph"))
	}
}

func TestDeployMgrPortInUseIsANote(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman, 8443)
	req := &DeployRequest{FSID: testFSID, Name: "mgr.host1.abcdef", Image: "quay.io/ceph/ceph:v18",
		Params: DeployParams{TCPPorts: []int{8443}}}
	cname := containers.ContainerName(testFSID, req.Name)
	r.expect("[]", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", containers.LegacyContainerName(testFSID, req.Name), cname).
		expect("id\n", nil, podmanArgv(l, t, req)...)
	res, err := l.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Notes, []string{"ceph-mgr TCP port(s) 8443 already in use"}) {
		t.Errorf("notes = %q", res.Notes)
	}
	// Ceph daemons get their log and run dirs (mount sources).
	for _, d := range []string{"/var/log/ceph/" + testFSID, "/var/run/ceph/" + testFSID} {
		if st, err := os.Stat(l.fs(d)); err != nil || st.Mode().Perm() != 0o770 {
			t.Errorf("%s: %v %v", d, st, err)
		}
	}
}

func TestDeployReconfig(t *testing.T) {
	req := loadRequest(t, "deploy-container.request.json")
	cname := containers.ContainerName(testFSID, req.Name)

	t.Run("needs the data dir", func(t *testing.T) {
		l := lifecycleHost(t, newSeqRunner(t), SupervisorPodman)
		rc := *req
		rc.Params.Reconfig = true
		_, err := l.Deploy(context.Background(), &rc)
		if !errors.Is(err, ErrDaemonNotFound) || err.Error() != "cannot reconfig, data path /var/lib/ceph/"+testFSID+"/container.web.host1 does not exist" {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("custom container: files rewritten, units kept, restarted", func(t *testing.T) {
		r := newSeqRunner(t)
		l := lifecycleHost(t, r, SupervisorPodman)
		r.expect("[]", nil, "podman", "ps", "-a", "--format", "json").
			expect("", nil, "podman", "rm", "-f", "-i", cname).
			expect("id1\n", nil, podmanArgv(l, t, req)...)
		if _, err := l.Deploy(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		unitRun := l.fs(path.Join(l.dataDir(testFSID, req.Name), fileUnitRun))
		if err := os.WriteFile(unitRun, []byte("sentinel\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		rc := *req
		rc.Params.Reconfig = true
		rc.Image = "localhost/web:2" // ignored: units are not rewritten
		rc.ConfigBlobs.Files = map[string]string{"www/index.html": "hello again\n"}
		rc.Meta.ConfigDigest = "sha256:beef"
		r.expect("", nil, "podman", "container", "exists", cname).
			expect("", nil, "podman", "restart", cname)
		res, err := l.Deploy(context.Background(), &rc)
		if err != nil {
			t.Fatal(err)
		}
		if res.DeploymentType != DeployReconfig || res.Created {
			t.Errorf("result = %+v", res)
		}
		dd := l.fs(l.dataDir(testFSID, req.Name))
		for f, want := range map[string]string{
			"unit.run":        "sentinel\n",
			"unit.image":      "localhost/web:1\n",
			"www/index.html":  "hello again\n",
			"unit.configured": "mtime is time we were last configured\n",
		} {
			if b, _ := os.ReadFile(filepath.Join(dd, f)); string(b) != want {
				t.Errorf("%s = %q, want %q", f, b, want)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(dd, "unit.meta")); !strings.Contains(string(b), `"config_digest": "sha256:beef"`) {
			t.Errorf("unit.meta not updated: %s", b)
		}
	})

	t.Run("ceph daemon: not restarted", func(t *testing.T) {
		r := newSeqRunner(t)
		l := lifecycleHost(t, r, SupervisorPodman)
		if err := os.MkdirAll(l.fs(l.dataDir(testFSID, "crash.host1")), 0o700); err != nil {
			t.Fatal(err)
		}
		res, err := l.Deploy(context.Background(), &DeployRequest{FSID: testFSID, Name: "crash.host1", Image: "ceph:18",
			Params:      DeployParams{Reconfig: true},
			ConfigBlobs: ConfigBlobs{Config: "c\n", Keyring: "k\n"}})
		if err != nil || res.DeploymentType != DeployReconfig {
			t.Fatalf("%+v %v", res, err)
		}
	})
}

// A mon on a systemd host: the first deploy runs the mkfs init container,
// installs the units and starts the daemon's unit; the second is a
// REDEPLOY that skips mkfs and leaves the unit files alone.
func TestDeployMonSystemd(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorSystemd)
	uid, gid := 167, 167
	owned := map[string]bool{}
	l.Chown = func(p string, u, g int) error {
		if u != 167 || g != 167 {
			t.Errorf("chown %s %d:%d", p, u, g)
		}
		owned[strings.TrimPrefix(p, l.Host.Root)] = true
		return nil
	}
	req := &DeployRequest{
		FSID: testFSID, Name: "mon.host1", Image: "quay.io/ceph/ceph:v18",
		Params: DeployParams{TCPPorts: []int{3300, 6789}, UID: &uid, GID: &gid},
		Meta:   DeployMeta{ServiceName: "mon", DeployedBy: []string{"quay.io/ceph/ceph@sha256:aa"}},
		ConfigBlobs: ConfigBlobs{
			Config:  "[global]\n\tfsid = " + testFSID + "\n\tmon_host = [v2:10.0.0.1:3300]\n",
			Keyring: "[mon.]\n\tkey = AQSECRET==\n\tcaps mon = \"allow *\"\n",
		},
		InitContainers: []InitContainer{{
			Name: "mkfs", Entrypoint: "/usr/bin/ceph-mon", When: RunFirstDeploy,
			Args: []string{"--mkfs", "-i", "host1", "--fsid", testFSID, "-c", "/tmp/config", "--keyring", "/tmp/keyring"},
			VolumeMounts: map[string]string{
				".":                         "/var/lib/ceph/mon/ceph-host1:z",
				"config":                    "/tmp/config:z",
				"keyring":                   "/tmp/keyring:z",
				"/var/log/ceph/" + testFSID: "/var/log/ceph:z",
			},
		}},
	}
	unit := containers.UnitName(testFSID, "mon.host1")
	cname := containers.ContainerName(testFSID, "mon.host1")
	d := req.daemon("host1", l.dataRoot())
	mkfs := append([]string{"podman"}, l.initContainerArgv(d, req.InitContainers[0])...)
	inactive := exitErr(3, "", "systemctl", "is-active", unit)
	r.expect("inactive\n", inactive, "systemctl", "is-active", unit).
		expect("[]", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname+"-mkfs").
		expect("", nil, mkfs...).
		expect("", nil, "systemctl", "daemon-reload").
		expect("", nil, "systemctl", "disable", "ceph.target").
		expect("", nil, "systemctl", "enable", "ceph.target").
		expect("", nil, "systemctl", "start", "ceph.target").
		expect("", nil, "systemctl", "enable", "ceph-"+testFSID+".target").
		expect("", nil, "systemctl", "start", "ceph-"+testFSID+".target").
		expect("", exitErr(5, "Unit not loaded.", "systemctl", "stop", unit), "systemctl", "stop", unit).
		expect("", nil, "systemctl", "reset-failed", unit).
		expect("", nil, "systemctl", "enable", unit).
		expect("", nil, "systemctl", "start", unit)
	res, err := l.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeploymentType != DeployDefault || !res.Created || res.Supervisor != SupervisorSystemd || len(res.Notes) != 1 {
		t.Errorf("result = %+v", res)
	}
	// The data dir and everything in it belong to ceph (the temporary names
	// of the atomic writes are chowned before the rename).
	for _, p := range []string{"/var/lib/ceph/" + testFSID + "/mon.host1", "/var/log/ceph/" + testFSID, "/var/run/ceph/" + testFSID} {
		if !owned[p] {
			t.Errorf("%s not chowned (chowned: %v)", p, owned)
		}
	}
	goldenText(t, "deploy-mon-systemd.tree", dumpTree(t, l, "/var/lib/ceph", "/etc/systemd/system", "/var/log/ceph", "/var/run/ceph"))
	if want := "-v"; !slices.Contains(mkfs, "/var/lib/ceph/"+testFSID+"/mon.host1/keyring:/tmp/keyring:z") {
		t.Errorf("mkfs argv lacks the keyring %s: %q", want, mkfs)
	}

	r.expect("active\n", nil, "systemctl", "is-active", unit).
		expect("", nil, "systemctl", "daemon-reload").
		expect("", nil, "systemctl", "stop", unit).
		expect("", nil, "systemctl", "reset-failed", unit).
		expect("", nil, "systemctl", "enable", unit).
		expect("", nil, "systemctl", "start", unit)
	res, err = l.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeploymentType != DeployRedeploy || res.Created {
		t.Errorf("redeploy result = %+v", res)
	}

	// A changed template (an orch upgrade) is rewritten, but the existing
	// targets are not started again: that would start stopped daemons.
	tmpl := l.fs(path.Join(containers.UnitDir, containers.TemplateUnitName(testFSID)))
	if err := os.WriteFile(tmpl, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.expect("active\n", nil, "systemctl", "is-active", unit).
		expect("", nil, "systemctl", "daemon-reload").
		expect("", nil, "systemctl", "stop", unit).
		expect("", nil, "systemctl", "reset-failed", unit).
		expect("", nil, "systemctl", "enable", unit).
		expect("", nil, "systemctl", "start", unit)
	if _, err := l.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(tmpl); string(b) != containers.TemplateUnit(testFSID) {
		t.Errorf("template not rewritten: %q", b)
	}
}

func TestDeployInitContainerFailureStops(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	req := loadRequest(t, "deploy-container.request.json")
	req.InitContainers = []InitContainer{{Name: "prep", Entrypoint: "/bin/false"}}
	cname := containers.ContainerName(testFSID, req.Name)
	initArgv := append([]string{"podman"}, l.initContainerArgv(req.daemon("host1", l.dataRoot()), req.InitContainers[0])...)
	r.expect("[]", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname+"-prep").
		expect("", exitErr(1, "boom\n", initArgv...), initArgv...)
	_, err := l.Deploy(context.Background(), req)
	var ee *ExitError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "init container prep") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeployDataRoot(t *testing.T) {
	l := lifecycleHost(t, newSeqRunner(t), SupervisorPodman)
	l.DataRoot = "/srv/ceph"
	mgr := &DeployRequest{FSID: testFSID, Name: "mgr.a", Image: "ceph:18"}
	argv, err := l.podmanRunArgv(mgr.daemon("host1", l.dataRoot()))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range argv {
		if i > 0 && argv[i-1] == "-v" && strings.HasPrefix(a, "/var/lib/ceph/") {
			t.Errorf("mount source not under the data root: %s", a)
		}
	}
	if !slices.Contains(argv, "/srv/ceph/"+testFSID+"/mgr.a:/var/lib/ceph/mgr/ceph-a:z") {
		t.Errorf("data dir mount missing: %q", argv)
	}

	// The systemd template names /var/lib/ceph: another root is refused.
	l.Supervisor = SupervisorSystemd
	if _, err := l.Deploy(context.Background(), mgr); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("systemd with another data root: err = %v", err)
	}
}

func TestDecodeDeployRequestRejects(t *testing.T) {
	good := `{"fsid":"` + testFSID + `","name":"container.web.a","image":"img"`
	tests := []struct {
		name, doc, want string
	}{
		{"unknown key", good + `,"params":{"tcp_port":[80]}}`, `unknown field "tcp_port"`},
		{"two documents", good + `} {}`, "more than one JSON document"},
		{"bad fsid", `{"fsid":"nope","name":"mon.a","image":"i"}`, "not a UUID"},
		{"bad name", `{"fsid":"` + testFSID + `","name":"mon","image":"i"}`, "want <type>.<id>"},
		{"slash in name", `{"fsid":"` + testFSID + `","name":"mon.a/b","image":"i"}`, "invalid characters"},
		{"unknown type", `{"fsid":"` + testFSID + `","name":"toaster.a","image":"i"}`, `unsupported daemon type "toaster"`},
		{"no image", `{"fsid":"` + testFSID + `","name":"mon.a"}`, "image is required"},
		{"port range", good + `,"params":{"tcp_ports":[0]}}`, "out of range"},
		{"duplicate port", good + `,"params":{"tcp_ports":[80,80]}}`, "listed twice"},
		{"port_ips for another port", good + `,"params":{"tcp_ports":[80],"port_ips":{"81":"10.0.0.1"}}}`, "not in tcp_ports"},
		{"file escapes", good + `,"config_blobs":{"files":{"../x":"a"}}}`, "clean relative path"},
		{"absolute file", good + `,"config_blobs":{"files":{"/etc/x":"a"}}}`, "clean relative path"},
		{"file overwrites unit.run", good + `,"config_blobs":{"files":{"unit.run":"a"}}}`, "would overwrite"},
		{"relative custom config", good + `,"config_blobs":{"custom_config_files":[{"content":"a","mount_path":"etc/x"}]}}`, "absolute file path"},
		{"env without =", good + `,"container":{"envs":["A"]}}`, "want KEY=VALUE"},
		{"mount escapes", good + `,"container":{"volume_mounts":{"../../etc":"/etc"}}}`, "clean relative path"},
		{"relative mount target", good + `,"container":{"volume_mounts":{"a":"b"}}}`, "want an absolute path"},
		{"init name", good + `,"init_containers":[{"name":"Bad Name"}]}`, "want [a-z0-9-]"},
		{"init twice", good + `,"init_containers":[{"name":"a"},{"name":"a"}]}`, "used twice"},
		{"init when", good + `,"init_containers":[{"name":"a","when":"sometimes"}]}`, `when "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeDeployRequest(strings.NewReader(tt.doc))
			if err == nil {
				err = req.Validate()
			}
			if err == nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalidArgument containing %q", err, tt.want)
			}
		})
	}
}

func TestDeployRequestStringHidesSecrets(t *testing.T) {
	req := loadRequest(t, "deploy-container.request.json")
	if s := req.String(); strings.Contains(s, "SECRET") || !strings.Contains(s, req.Name) {
		t.Errorf("String() = %q", s)
	}
}

func FuzzDecodeDeployRequest(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "lifecycle", "deploy-container.request.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(`{"fsid":"` + testFSID + `","name":"mon.a","image":"i","config_blobs":{"files":{"a/../b":"x"}}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		req, err := DecodeDeployRequest(strings.NewReader(doc))
		if err != nil || req.Validate() != nil {
			return
		}
		// Whatever validates must stay inside the data dir.
		dataDir := path.Join("/var/lib/ceph", req.FSID, req.Name)
		if path.Dir(dataDir) != path.Join("/var/lib/ceph", req.FSID) {
			t.Fatalf("name %q escapes the cluster dir", req.Name)
		}
		for name := range req.ConfigBlobs.Files {
			if p := path.Join(dataDir, name); !strings.HasPrefix(p, dataDir+"/") {
				t.Fatalf("file %q escapes the data dir", name)
			}
		}
		if _, err := containers.RunArgv(req.daemon("h", "/var/lib/ceph"), containers.RestartPolicy); err != nil {
			t.Fatalf("validated request does not render: %v", err)
		}
	})
}

// A first_deploy init container that succeeded is not run again when the
// daemon itself failed to start and the deploy is retried (cephadm skips
// mkfs once the mon's data dir exists).
func TestDeployFirstDeployInitRunsOnce(t *testing.T) {
	r := newSeqRunner(t)
	l := lifecycleHost(t, r, SupervisorPodman)
	req := loadRequest(t, "deploy-container.request.json")
	req.InitContainers = []InitContainer{{Name: "mkfs", Entrypoint: "/bin/true", When: RunFirstDeploy}}
	cname := containers.ContainerName(testFSID, req.Name)
	initArgv := append([]string{"podman"}, l.initContainerArgv(req.daemon("host1", l.dataRoot()), req.InitContainers[0])...)
	run := podmanArgv(l, t, req)
	r.expect("[]", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname+"-mkfs").
		expect("", nil, initArgv...).
		expect("", nil, "podman", "rm", "-f", "-i", cname).
		expect("", exitErr(125, "Error: image not known\n", run...), run...)
	if _, err := l.Deploy(context.Background(), req); err == nil || !strings.Contains(err.Error(), "image not known") {
		t.Fatalf("err = %v", err)
	}
	r.expect("[]", nil, "podman", "ps", "-a", "--format", "json").
		expect("", nil, "podman", "rm", "-f", "-i", cname).
		expect("id\n", nil, run...)
	res, err := l.Deploy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.DeploymentType != DeployDefault {
		t.Errorf("retry = %+v", res)
	}
}
