package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

func bootAndWait(t *testing.T, e *cephFakeEnv, r api.BootstrapRequest) api.BootstrapStatus {
	t.Helper()
	st, err := e.ctl.Bootstrap(context.Background(), r)
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err = e.ctl.WaitBootstrap(ctx, st.Operation)
	if err != nil {
		t.Fatalf("WaitBootstrap: %v", err)
	}
	return st
}

// secrets returns every key the store and the fake cluster hold.
func (e *cephFakeEnv) secrets(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, ent := range []string{"mon.", "client.admin", "client.bootstrap-osd"} {
		if s, err := e.st.GetSecret(store.KeyringSecret(ent)); err == nil {
			for _, k := range parseKeyring(string(s)) {
				out = append(out, k.Key)
			}
		}
	}
	for _, a := range e.fake.auth {
		out = append(out, a.Key)
	}
	return out
}

// noSecretInArgv fails when a key appears in any command line.
func (e *cephFakeEnv) noSecretInArgv(t *testing.T, keys []string) {
	t.Helper()
	for _, c := range e.fake.Calls() {
		line := strings.Join(c.Argv, " ")
		for _, k := range keys {
			if k != "" && strings.Contains(line, k) {
				t.Errorf("a key is in the argv of %s", c)
			}
		}
	}
}

func TestBootstrapFake(t *testing.T) {
	e := newCephFakeEnv(t)
	e.fake.hostname["10.0.0.5"] = "node1"
	st := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Image: "localhost/ceph:16.2.15"})
	if st.State != api.BootstrapSucceeded {
		t.Fatalf("state %s: %s; steps %+v", st.State, st.Error, st.Steps)
	}
	if len(st.Steps) != bootStepTotal {
		t.Errorf("%d steps, want %d", len(st.Steps), bootStepTotal)
	}
	for _, s := range st.Steps {
		if s.State != "done" {
			t.Errorf("step %q: %s", s.Name, s.State)
		}
	}
	if st.Host != "node1" || st.MonID != "node1" || !strings.HasPrefix(st.MgrID, "node1.") || len(st.MgrID) != 12 ||
		st.PublicNetwork != "10.0.0.0/24" || st.CephVersion != "16.2.15" || !st.GeneratedSSHKey || st.SSHPublicKey == "" {
		t.Errorf("status %+v", st)
	}
	if len(st.NextSteps) == 0 || st.NextSteps[0] != "Bootstrap complete." {
		t.Errorf("next steps %q", st.NextSteps)
	}

	t.Run("host", func(t *testing.T) {
		h, err := e.st.GetHost("node1")
		if err != nil || h.Addr != "10.0.0.5" || !slices.Contains(h.Labels, AdminLabel) || !strings.HasPrefix(h.HostKey, "ssh-ed25519 ") {
			t.Errorf("host %+v, %v", h, err)
		}
	})
	t.Run("daemons", func(t *testing.T) {
		names := bootSorted(bootKeys(e.fake.daemons))
		want := []string{"crash.node1", "mgr." + st.MgrID, "mon.node1"}
		if !slices.Equal(names, want) {
			t.Fatalf("daemons %v, want %v", names, want)
		}
		mon := e.fake.daemons["mon.node1"]
		if *mon.Params.UID != 167 || *mon.Params.GID != 167 || mon.Image != "localhost/ceph:16.2.15" ||
			!slices.Equal(mon.Params.TCPPorts, []int{3300, 6789}) || mon.Params.PortIPs["3300"] != "10.0.0.5" ||
			mon.Meta.ServiceName != "mon" {
			t.Errorf("mon params %+v meta %+v", mon.Params, mon.Meta)
		}
		if len(mon.InitContainers) != 2 || mon.InitContainers[0].Name != "monmap" || mon.InitContainers[1].Name != "mkfs" ||
			mon.InitContainers[0].When != agent.RunFirstDeploy || mon.InitContainers[1].When != agent.RunFirstDeploy {
			t.Errorf("init containers %+v", mon.InitContainers)
		}
		if !slices.Contains(mon.InitContainers[0].Args, "[v2:10.0.0.5:3300,v1:10.0.0.5:6789]") {
			t.Errorf("monmaptool args %q", mon.InitContainers[0].Args)
		}
		// The mon's own keyring holds mon. only; the admin key reaches the
		// host only in the bootstrap keyring file that mkfs deletes.
		if ents := parseKeyring(mon.ConfigBlobs.Keyring); len(ents) != 1 || ents[0].Entity != "mon." {
			t.Errorf("mon keyring entities %+v", ents)
		}
		boot := parseKeyring(mon.ConfigBlobs.Files["bootstrap/keyring"])
		if len(boot) != 3 || boot[1].Entity != "client.admin" || boot[1].Caps["mgr"] != "allow *" {
			t.Errorf("bootstrap keyring %+v", boot)
		}
		if !strings.Contains(mon.ConfigBlobs.Config, "mon_host = [v2:10.0.0.5:3300/0,v1:10.0.0.5:6789/0]") ||
			!strings.Contains(mon.ConfigBlobs.Config, "[mon.node1]\n\tpublic network = 10.0.0.0/24") {
			t.Errorf("mon config:\n%s", mon.ConfigBlobs.Config)
		}
		mgr := e.fake.daemons["mgr."+st.MgrID]
		if ents := parseKeyring(mgr.ConfigBlobs.Keyring); len(ents) != 1 || ents[0].Entity != "mgr."+st.MgrID ||
			e.fake.auth["mgr."+st.MgrID].Caps["mon"] != "profile mgr" {
			t.Errorf("mgr keyring %+v", ents)
		}
		crash := e.fake.daemons["crash.node1"]
		if ents := parseKeyring(crash.ConfigBlobs.Keyring); len(ents) != 1 || ents[0].Entity != "client.crash.node1" {
			t.Errorf("crash keyring %+v", ents)
		}
		if !strings.Contains(crash.ConfigBlobs.Config, "fsid = "+st.FSID) {
			t.Errorf("crash config %q", crash.ConfigBlobs.Config)
		}
	})
	t.Run("admin files and secrets", func(t *testing.T) {
		admin, err := e.st.GetSecret(store.KeyringSecret("client.admin"))
		if err != nil {
			t.Fatal(err)
		}
		if e.fake.files[AdminKeyringPath] != string(admin) || e.fake.modes[AdminKeyringPath] != "0600" || e.fake.modes[CephConfPath] != "0644" {
			t.Errorf("files %v", e.fake.modes)
		}
		if err := checkCephKey(parseKeyring(string(admin))[0].Key); err != nil {
			t.Error(err)
		}
		e.noSecretInArgv(t, e.secrets(t))
	})
	t.Run("records", func(t *testing.T) {
		cl, _ := e.ctl.Cluster()
		if cl.ContainerImage != "localhost/ceph:16.2.15" || cl.FSID != st.FSID {
			t.Errorf("cluster %+v", cl)
		}
		for _, svc := range []string{"mon", "mgr", "crash"} {
			rec, err := e.st.GetSpec(svc)
			if err != nil {
				t.Fatalf("spec %s: %v", svc, err)
			}
			var m map[string]any
			_ = json.Unmarshal(rec.Spec, &m)
			if m["unmanaged"] == true {
				t.Errorf("spec %s: %s", svc, rec.Spec)
			}
		}
		got, err := e.ctl.BootstrapStatus(0)
		if err != nil || got.Operation != st.Operation || got.State != api.BootstrapSucceeded {
			t.Errorf("BootstrapStatus(0) = %+v, %v", got, err)
		}
		op, _ := e.st.GetOperation(st.Operation)
		if op.Kind != opBootstrap || op.State != store.OpSucceeded || op.Progress != 1 {
			t.Errorf("operation %+v", op)
		}
	})
	t.Run("second bootstrap refused", func(t *testing.T) {
		_, err := e.ctl.Bootstrap(context.Background(), api.BootstrapRequest{MonIP: "10.0.0.5"})
		if !errors.Is(err, api.ErrExists) || !strings.HasPrefix(err.Error(), "Cluster already bootstrapped: fsid "+st.FSID) {
			t.Errorf("second bootstrap: %v", err)
		}
	})
}

func TestBootstrapFailureCleansUp(t *testing.T) {
	e := newCephFakeEnv(t)
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if len(c.Argv) > 2 && c.Argv[2] == "deploy" && strings.Contains(string(c.Stdin), `"name":"crash.`) {
			return nil, fakeExit(c.Host, c.Argv, 1, "Error EIO: deploy crash.h: start container: boom"), true
		}
		return nil, nil, false
	})
	st := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Host: "h5", Image: "img:1"})
	if st.State != api.BootstrapFailed || !strings.Contains(st.Error, "start container: boom") || st.ErrnoName != "EIO" {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(st.Cleanup, "removed what this attempt made: mon.h5, mgr.") {
		t.Errorf("cleanup %q", st.Cleanup)
	}
	if last := st.Steps[len(st.Steps)-1]; last.State != "failed" || last.Name != "Deploying the crash daemon" {
		t.Errorf("last step %+v", last)
	}
	// Removed in reverse order, data included.
	var rms []string
	for _, c := range e.fake.Calls() {
		if len(c.Argv) > 2 && c.Argv[2] == "rm-daemon" {
			if !slices.Contains(c.Argv, "--force-delete-data") {
				t.Errorf("rm-daemon without --force-delete-data: %s", c)
			}
			rms = append(rms, c.Argv[slices.Index(c.Argv, "--name")+1])
		}
	}
	if !slices.Equal(rms, []string{"crash.h5", "mgr." + st.MgrID, "mon.h5"}) {
		t.Errorf("removed %v", rms)
	}
	if len(e.fake.daemons) != 0 || len(e.fake.files) != 0 {
		t.Errorf("left daemons %v files %v", bootKeys(e.fake.daemons), bootKeys(e.fake.files))
	}
	for _, ent := range []string{"mon.", "client.admin", "client.bootstrap-osd"} {
		if _, err := e.st.GetSecret(store.KeyringSecret(ent)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("secret %s kept: %v", ent, err)
		}
	}
	if _, err := e.st.GetSetting(bootstrapSetting); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record kept: %v", err)
	}
	// The next attempt starts from scratch and succeeds.
	e.fake.hooks = e.fake.hooks[:1]
	st2 := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Host: "h5", Image: "img:1"})
	if st2.State != api.BootstrapSucceeded || st2.FSID != st.FSID || st2.Steps[0].Name != "Adding the host and pinning its SSH host key" {
		t.Errorf("retry %+v", st2)
	}
}

func TestBootstrapNoCleanupThenRetry(t *testing.T) {
	e := newCephFakeEnv(t)
	// Fail right after the mon: the config step is refused.
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if slices.Contains(c.Argv, "assimilate-conf") {
			return nil, fakeExit(c.Host, c.Argv, 22, "Error EINVAL: bad option"), true
		}
		return nil, nil, false
	})
	st := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Host: "h5", Image: "img:1", NoCleanupOnFailure: true})
	if st.State != api.BootstrapFailed || st.ErrnoName != "EINVAL" || !strings.Contains(st.Cleanup, "left in place") {
		t.Fatalf("status %+v", st)
	}
	if _, ok := e.fake.daemons["mon.h5"]; !ok {
		t.Fatal("mon removed despite --no-cleanup-on-failure")
	}
	// A retry removes the leftovers first.
	e.fake.hooks = e.fake.hooks[:1]
	st2 := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Host: "h5", Image: "img:1"})
	if st2.State != api.BootstrapSucceeded {
		t.Fatalf("retry %s: %s", st2.State, st2.Error)
	}
	if st2.Steps[0].Name != "Removing what an earlier failed bootstrap left" || !strings.Contains(st2.Steps[0].Detail, "mon.h5") {
		t.Errorf("first step %+v", st2.Steps[0])
	}
}

func TestBootstrapInterrupted(t *testing.T) {
	e := newCephFakeEnv(t)
	// A record and an operation left running by a controller that died.
	e.addAdminHost(t, "h5", "10.0.0.5", AdminLabel)
	op, err := e.st.CreateOperation(store.Operation{Kind: opBootstrap, State: store.OpRunning, Result: json.RawMessage(`{"state":"running"}`)})
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := e.ctl.Cluster()
	rec := &bootstrapRecord{State: bootRecRunning, Operation: op.ID, FSID: cl.FSID, Host: "h5", MonIP: "10.0.0.5", Daemons: []string{"mon.h5"}, AdminFiles: true}
	if err := e.st.Update(func(tx *store.Tx) error { return saveBootstrapRecord(tx, rec) }); err != nil {
		t.Fatal(err)
	}
	got, err := e.ctl.BootstrapStatus(op.ID)
	if err != nil || got.State != api.BootstrapFailed || !strings.HasPrefix(got.Error, "interrupted") {
		t.Errorf("status of the dead attempt: %+v, %v", got, err)
	}
	st := bootAndWait(t, e, api.BootstrapRequest{MonIP: "10.0.0.5", Image: "img:1"})
	if st.State != api.BootstrapSucceeded || st.Steps[0].Name != "Removing what an earlier failed bootstrap left" {
		t.Fatalf("after interruption: %s %s %+v", st.State, st.Error, st.Steps)
	}
	old, _ := e.st.GetOperation(op.ID)
	if old.State != store.OpFailed {
		t.Errorf("old operation %+v", old)
	}
}

func TestBootstrapBusyAndValidation(t *testing.T) {
	ctx := context.Background()
	e := newCephFakeEnv(t)
	gate := make(chan struct{})
	e.fake.deployGate = gate
	st, err := e.ctl.Bootstrap(ctx, api.BootstrapRequest{MonIP: "10.0.0.5", Host: "h5", Image: "img:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.Bootstrap(ctx, api.BootstrapRequest{MonIP: "10.0.0.5"}); !errors.Is(err, api.ErrBusy) {
		t.Errorf("second concurrent bootstrap: %v", err)
	}
	got, _ := e.ctl.BootstrapStatus(st.Operation)
	if got.State != api.BootstrapRunning {
		t.Errorf("running attempt reported %s", got.State)
	}
	close(gate)
	if st, err = e.ctl.WaitBootstrap(ctx, st.Operation); err != nil || st.State != api.BootstrapSucceeded {
		t.Fatalf("%+v %v", st, err)
	}

	e2 := newCephFakeEnv(t)
	e2.addAdminHost(t, "h1", "10.0.0.1")
	for _, tc := range []struct {
		name string
		req  api.BootstrapRequest
		want string
	}{
		{"no mon ip", api.BootstrapRequest{}, "--mon-ip"},
		{"bad mon ip", api.BootstrapRequest{MonIP: "10.0.0.300"}, "--mon-ip"},
		{"unspecified mon ip", api.BootstrapRequest{MonIP: "0.0.0.0"}, "--mon-ip"},
		{"bad fsid", api.BootstrapRequest{MonIP: "10.0.0.5", FSID: "nope"}, "--fsid"},
		{"fsid with hosts", api.BootstrapRequest{MonIP: "10.0.0.5", FSID: "2d2fd136-6df1-11ee-9a0a-525400a1b2c3"}, "already manages 1 host"},
		{"bad host", api.BootstrapRequest{MonIP: "10.0.0.5", Host: "a b"}, ""},
		{"bad image", api.BootstrapRequest{MonIP: "10.0.0.5", Image: "img; rm -rf /"}, "--image"},
		{"bad mgr id", api.BootstrapRequest{MonIP: "10.0.0.5", MgrID: "x/y"}, "--mgr-id"},
		{"bad network", api.BootstrapRequest{MonIP: "10.0.0.5", PublicNetwork: "10.0.0.0"}, "--public-network"},
		{"key halves", api.BootstrapRequest{MonIP: "10.0.0.5", SSHPrivateKey: "x"}, "go together"},
		{"bad user", api.BootstrapRequest{MonIP: "10.0.0.5", SSHUser: "Root!"}, "SSH user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e2.ctl.Bootstrap(ctx, tc.req)
			if !errors.Is(err, spec.ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Bootstrap(%v) = %v", tc.req, err)
			}
		})
	}
	if ops, _ := e2.st.ListOperations(); len(ops) != 0 {
		t.Errorf("refused requests created operations: %+v", ops)
	}
}

func TestBootstrapHostChecks(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(e *cephFakeEnv)
		req   api.BootstrapRequest
		want  string
		errno string
	}{
		{"existing cluster dir", func(e *cephFakeEnv) {
			cl, _ := e.ctl.Cluster()
			e.fake.daemons["mon.old"] = &agent.DeployRequest{FSID: cl.FSID, Name: "mon.old"}
		}, api.BootstrapRequest{}, "already exists on host h5", "EEXIST"},
		{"existing /etc/ceph", func(e *cephFakeEnv) { e.fake.files[CephConfPath] = "[global]\n" },
			api.BootstrapRequest{}, "--allow-overwrite", "EEXIST"},
		{"image missing", func(e *cephFakeEnv) { e.fake.imageMissing = true },
			api.BootstrapRequest{}, "is not on host h5 and cannot be pulled", "EIO"},
		{"mon ip on no network", func(e *cephFakeEnv) { e.fake.networks = `{"192.168.0.0/24": {"eth0": ["192.168.0.2"]}}` },
			api.BootstrapRequest{}, "no network of the host holds the mon IP", "EINVAL"},
		{"public network without the mon ip", nil,
			api.BootstrapRequest{PublicNetwork: "192.168.0.0/24"}, "is not in --public-network", "EINVAL"},
		{"key not authorized", func(e *cephFakeEnv) {
			e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
				return nil, errors.Join(sshexec.ErrAuth, errors.New("ssh: unable to authenticate")), true
			})
		}, api.BootstrapRequest{}, "does not accept the cluster SSH key", "EIO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCephFakeEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			r := tc.req
			r.MonIP, r.Host, r.Image = "10.0.0.5", "h5", "img:1"
			if tc.name == "key not authorized" {
				r.Host = ""
			}
			st := bootAndWait(t, e, r)
			if st.State != api.BootstrapFailed || !strings.Contains(st.Error, tc.want) || st.ErrnoName != tc.errno {
				t.Errorf("status %s errno %s: %s", st.State, st.ErrnoName, st.Error)
			}
			if tc.name == "key not authorized" && !strings.Contains(st.Error, st.SSHPublicKey) {
				t.Errorf("the error does not show the key to authorize: %s", st.Error)
			}
		})
	}
}

func TestPickPublicNetwork(t *testing.T) {
	nets := map[string]map[string][]string{
		"10.0.0.0/8":   {"eth0": {"10.1.2.3"}},
		"10.1.2.0/24":  {"eth0": {"10.1.2.3"}},
		"10.1.2.3/32":  {"eth0": {"10.1.2.3"}},
		"192.0.2.0/24": {"eth1": {"192.0.2.1"}},
		"fd00::/64":    {"eth0": {"fd00::3"}},
	}
	for ip, want := range map[string]string{"10.1.2.3": "10.1.2.0/24", "10.9.9.9": "10.0.0.0/8", "192.0.2.7": "192.0.2.0/24", "fd00::3": "fd00::/64", "172.16.0.1": ""} {
		got, err := pickPublicNetwork(nets, netip.MustParseAddr(ip))
		if got != want || (want == "") != (err != nil) {
			t.Errorf("pickPublicNetwork(%s) = %q, %v; want %q", ip, got, err, want)
		}
	}
	if got, _ := pickPublicNetwork(map[string]map[string][]string{"10.1.2.3/32": {}}, netip.MustParseAddr("10.1.2.3")); got != "10.1.2.3/32" {
		t.Errorf("host route only: %q", got)
	}
}

func TestParseImageInfo(t *testing.T) {
	v, uid, gid, err := parseImageInfo("ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)\n167 167\n")
	if err != nil || v != "16.2.15" || uid != 167 || gid != 167 {
		t.Errorf("= %q %d %d %v", v, uid, gid, err)
	}
	for _, bad := range []string{"", "ceph version 14.2.22 (x) nautilus (stable)\n167 167", "bash: ceph: not found\n", "ceph version 18.2.0 (x)\nroot root"} {
		if _, _, _, err := parseImageInfo(bad); err == nil {
			t.Errorf("parseImageInfo(%q) accepted", bad)
		}
	}
}

func TestBootstrapConfigText(t *testing.T) {
	if got, want := clientConf("F", "10.0.0.5"), "# minimal ceph.conf for F\n[global]\n\tfsid = F\n\tmon_host = [v2:10.0.0.5:3300/0,v1:10.0.0.5:6789/0]\n"; got != want {
		t.Errorf("clientConf = %q", got)
	}
	if got := monConf("F", "fd00::5", "a", "fd00::/64"); !strings.Contains(got, "mon_host = [v2:[fd00::5]:3300/0,v1:[fd00::5]:6789/0]\n\tms_bind_ipv6 = true\n") ||
		!strings.Contains(got, "[mon.a]\n\tpublic network = fd00::/64\n") {
		t.Errorf("monConf v6 = %q", got)
	}
	if got := monmapAddrv("10.0.0.5"); got != "[v2:10.0.0.5:3300,v1:10.0.0.5:6789]" {
		t.Errorf("monmapAddrv = %q", got)
	}
	rec := &bootstrapRecord{PublicNetwork: "10.0.0.0/24", ClusterNetwork: "10.1.0.0/24"}
	got := bootstrapConfig(rec, api.BootstrapRequest{MonIP: "10.0.0.5", Image: "img:1", SingleHostDefaults: true})
	want := "[global]\n\tcontainer_image = img:1\n\tcluster_network = 10.1.0.0/24\n\tosd_crush_chooseleaf_type = 0\n\tosd_pool_default_size = 2\n" +
		"[mon]\n\tauth_allow_insecure_global_id_reclaim = false\n\tpublic_network = 10.0.0.0/24\n[mgr]\n\tmgr_standby_modules = false\n"
	if got != want {
		t.Errorf("bootstrapConfig =\n%s\nwant\n%s", got, want)
	}
	if _, err := monDeployRequest(monDeploy{FSID: "2d2fd136-6df1-11ee-9a0a-525400a1b2c3", Image: "i", ID: "a", MonIP: "10.0.0.5", Keys: map[string]string{"mon.": "k"}}); err == nil {
		t.Error("mon deploy without the admin key")
	}
}

func TestBootstrapRequestStringHidesKey(t *testing.T) {
	r := api.BootstrapRequest{MonIP: "10.0.0.5", SSHPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----secret"}
	for _, s := range []string{r.String(), fmt.Sprintf("%v", r), fmt.Sprint(r)} {
		if strings.Contains(s, "secret") {
			t.Errorf("%q shows the key", s)
		}
	}
}
