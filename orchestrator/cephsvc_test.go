package orchestrator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/store"
)

// cephSvcEnv is a reconciler over a cephFake with a running mon.h1: h1 is
// the _admin host, h2 a second host.
type cephSvcEnv struct {
	*cephFakeEnv
	r      *Reconciler
	fsid   string
	monmap []byte
	// quorum is quorum_status's answer (JSON); mons are what `mon rm`
	// removed.
	quorum  string
	removed []string
}

func newCephSvcEnv(t *testing.T) *cephSvcEnv {
	t.Helper()
	e := &cephSvcEnv{cephFakeEnv: newCephFakeEnv(t), monmap: []byte{0, 1, 2, 0xff, 0xfe, '\n', 'm'}}
	e.addAdminHost(t, "h1", "10.0.0.5", AdminLabel)
	e.addAdminHost(t, "h2", "10.0.0.6")
	cl, err := e.st.GetCluster()
	if err != nil {
		t.Fatal(err)
	}
	e.fsid = cl.FSID
	monKey, _ := newCephKey(rand.Reader, time.Now())
	if err := e.st.SetSecret(store.KeyringSecret("mon."), store.Secret(minimalKeyring("mon.", monKey))); err != nil {
		t.Fatal(err)
	}
	e.fake.mu.Lock()
	e.fake.daemons["mon.h1"] = &agent.DeployRequest{FSID: e.fsid, Name: "mon.h1"}
	e.fake.auth["mon."] = keyringEntry{Entity: "mon.", Key: monKey, Caps: map[string]string{"mon": "allow *"}}
	e.fake.mu.Unlock()
	e.quorum = `{"quorum_names":["h1"],"monmap":{"epoch":1,"mons":[{"rank":0,"name":"h1"}]}}`
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		i := slices.Index(c.Argv, "--connect-timeout")
		if c.Argv[0] != "podman" || i < 0 {
			return nil, nil, false
		}
		args := c.Argv[i+2:]
		switch {
		case len(args) >= 2 && args[0] == "mon" && args[1] == "getmap":
			return e.monmap, nil, true
		case args[0] == "quorum_status":
			return []byte(e.quorum), nil, true
		case len(args) >= 3 && args[0] == "mon" && args[1] == "rm":
			e.removed = append(e.removed, args[2])
			return nil, nil, true
		}
		return nil, nil, false
	})
	e.r = NewReconciler(e.ctl, ReconcilerOptions{Seed: 3})
	return e
}

func (e *cephSvcEnv) pass(t *testing.T) *pass {
	t.Helper()
	v, err := e.r.loadView(viewOptions{digests: true})
	if err != nil {
		t.Fatal(err)
	}
	return newPass(context.Background(), e.r, v)
}

// checkNoSecretInArgv fails when a key of the fake's auth database (or the
// store's mon. key) appears in any command line.
func (e *cephSvcEnv) checkNoSecretInArgv(t *testing.T) {
	t.Helper()
	e.fake.mu.Lock()
	var keys []string
	for _, a := range e.fake.auth {
		keys = append(keys, a.Key)
	}
	e.fake.mu.Unlock()
	for _, c := range e.fake.Calls() {
		line := strings.Join(c.Argv, " ")
		for _, k := range keys {
			if strings.Contains(line, k) {
				t.Errorf("a key in an argv: %s", c)
			}
		}
	}
}

func TestCephDaemonsDeployWithConfAndKeyring(t *testing.T) {
	e := newCephSvcEnv(t)
	p := e.pass(t)
	for _, ds := range []daemonSpec{
		{daemonType: "mgr", id: "h2.abcdef", host: "h2", ports: mgrPorts},
		{daemonType: "crash", id: "h2", host: "h2"},
		{daemonType: "rgw", id: "foo.h2.xyzabc", host: "h2", ports: []int{80}},
		{daemonType: "mds", id: "fs.h2.qwerty", host: "h2"},
		{daemonType: "mon", id: "h2", host: "h2", ports: monPorts},
	} {
		if err := p.deployOne(&ds); err != nil {
			t.Fatalf("deploy %s: %v", ds.name(), err)
		}
	}
	e.fake.mu.Lock()
	docs := map[string]*agent.DeployRequest{}
	for n, d := range e.fake.daemons {
		docs[n] = d
	}
	auth := e.fake.auth
	e.fake.mu.Unlock()
	for name, entity := range map[string]string{"mgr.h2.abcdef": "mgr.h2.abcdef", "crash.h2": "client.crash.h2",
		"rgw.foo.h2.xyzabc": "client.rgw.foo.h2.xyzabc", "mds.fs.h2.qwerty": "mds.fs.h2.qwerty", "mon.h2": "mon."} {
		d := docs[name]
		if d == nil {
			t.Fatalf("%s not deployed", name)
		}
		if !strings.Contains(d.ConfigBlobs.Config, "mon_host = [v2:10.0.0.5:3300/0,v1:10.0.0.5:6789/0]") ||
			!strings.Contains(d.ConfigBlobs.Config, "fsid = "+e.fsid) {
			t.Errorf("%s: config %q", name, d.ConfigBlobs.Config)
		}
		a, ok := auth[entity]
		if !ok || !strings.Contains(d.ConfigBlobs.Keyring, "["+entity+"]") || !strings.Contains(d.ConfigBlobs.Keyring, a.Key) {
			t.Errorf("%s: keyring %q, want %s's key", name, d.ConfigBlobs.Keyring, entity)
		}
		if d.Params.UID == nil || *d.Params.UID != 167 || d.Params.GID == nil || *d.Params.GID != 167 {
			t.Errorf("%s: uid/gid %v/%v", name, d.Params.UID, d.Params.GID)
		}
		if !strings.HasPrefix(d.Meta.ConfigDigest, "c=") {
			t.Errorf("%s: digest %q", name, d.Meta.ConfigDigest)
		}
	}
	if c := auth["mgr.h2.abcdef"].Caps; c["mon"] != "profile mgr" || c["osd"] != "allow *" {
		t.Errorf("mgr caps = %v", c)
	}
	mon := docs["mon.h2"]
	if !strings.Contains(mon.ConfigBlobs.Config, "[mon.h2]\n\tpublic addrv = [v2:10.0.0.6:3300,v1:10.0.0.6:6789]\n") {
		t.Errorf("mon config = %q", mon.ConfigBlobs.Config)
	}
	mm, err := base64.StdEncoding.DecodeString(strings.TrimSpace(mon.ConfigBlobs.Files["bootstrap/monmap.b64"]))
	if err != nil || !bytes.Equal(mm, e.monmap) {
		t.Errorf("monmap file = %q (%v), want the getmap bytes", mon.ConfigBlobs.Files["bootstrap/monmap.b64"], err)
	}
	if mon.ConfigBlobs.Files["bootstrap/keyring"] != mon.ConfigBlobs.Keyring {
		t.Errorf("mkfs keyring = %q", mon.ConfigBlobs.Files["bootstrap/keyring"])
	}
	if len(mon.InitContainers) != 2 || mon.InitContainers[0].Name != "monmap" || mon.InitContainers[1].Name != "mkfs" ||
		mon.InitContainers[1].When != agent.RunFirstDeploy || !slices.Contains(mon.InitContainers[1].Args, monMkfsScript) {
		t.Errorf("mon init containers = %+v", mon.InitContainers)
	}
	if len(docs["mgr.h2.abcdef"].InitContainers) != 0 {
		t.Errorf("mgr has init containers")
	}
	e.checkNoSecretInArgv(t)
}

func TestCephDaemonRemovalRemovesKeyAndMon(t *testing.T) {
	e := newCephSvcEnv(t)
	p := e.pass(t)
	crash := daemonSpec{daemonType: "crash", id: "h2", host: "h2"}
	if err := p.deployOne(&crash); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.auth["client.crash.h2"]; !ok {
		t.Fatal("no crash key")
	}
	rec := func(typ, id, host string) daemonRecord {
		return daemonRecord{DaemonDescription: api.DaemonDescription{DaemonType: typ, DaemonID: id, Hostname: host}}
	}
	if err := p.removeOne("crash", rec("crash", "h2", "h2")); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.auth["client.crash.h2"]; ok {
		t.Error("client.crash.h2 still in the auth database after removal")
	}

	// Two mons in quorum: removing one leaves a quorum of the new monmap.
	e.quorum = `{"quorum_names":["h1","h2"],"monmap":{"epoch":2,"mons":[{"rank":0,"name":"h1"},{"rank":1,"name":"h2"}]}}`
	if err := p.removeOne("mon", rec("mon", "h2", "h2")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.removed, []string{"h2"}) {
		t.Errorf("mon rm = %v", e.removed)
	}
	if _, ok := e.fake.auth["mon."]; !ok {
		t.Error("the shared mon. key was removed")
	}
	// Three in the monmap, one down: removing another in-quorum mon
	// would leave 1 of 2.
	e.quorum = `{"quorum_names":["h1","h2"],"monmap":{"epoch":3,"mons":[{"name":"h1"},{"name":"h2"},{"name":"h3"}]}}`
	err := p.removeOne("mon", rec("mon", "h2", "h2"))
	if err == nil || !strings.Contains(err.Error(), "not safe to remove mon.h2") {
		t.Errorf("unsafe mon removal: %v", err)
	}
	// The only monitor is never removed.
	e.quorum = `{"quorum_names":["h1"],"monmap":{"epoch":1,"mons":[{"name":"h1"}]}}`
	if err := p.removeOne("mon", rec("mon", "h1", "h1")); err == nil {
		t.Error("removed the only monitor")
	}
	if len(e.removed) != 1 {
		t.Errorf("mon rm = %v", e.removed)
	}
}

func TestCephConfDigestFollowsMonHost(t *testing.T) {
	env := &cephEnv{conf: clientConf("f", "10.0.0.5"), uid: 167, gid: 167}
	d := daemonSpec{daemonType: "crash", id: "h2", host: "h2", ceph: env}
	req1 := &agent.DeployRequest{}
	applyCephBlobs(req1, &d)
	env2 := &cephEnv{conf: strings.Replace(env.conf, "]\n", ",v2:10.0.0.6:3300/0]\n", 1), uid: 167, gid: 167}
	d.ceph = env2
	req2 := &agent.DeployRequest{}
	applyCephBlobs(req2, &d)
	if shortSHA(req1.ConfigBlobs) == shortSHA(req2.ConfigBlobs) {
		t.Error("a new mon_host does not change the config digest")
	}
}

func TestCephEnvFailureFailsDeploy(t *testing.T) {
	e := newCephSvcEnv(t)
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if slices.Contains(c.Argv, "generate-minimal-conf") {
			return nil, fakeExit(c.Host, c.Argv, 110, "Error ETIMEDOUT: timed out"), true
		}
		return nil, nil, false
	})
	p := e.pass(t)
	err := p.deployOne(&daemonSpec{daemonType: "mgr", id: "h2.x", host: "h2"})
	var ce *CephError
	if !errors.As(err, &ce) {
		t.Fatalf("deploy without a conf: %v", err)
	}
	if _, ok := e.fake.daemons["mgr.h2.x"]; ok {
		t.Error("deployed with a placeholder conf")
	}
}

func TestCephConfigHooks(t *testing.T) {
	e := newCephSvcEnv(t)
	p := e.pass(t)
	entry := func(body string) *specEntry {
		s, err := parseStoredSpec(json.RawMessage(body))
		if err != nil {
			t.Fatal(err)
		}
		return &specEntry{rec: store.SpecRecord{ServiceName: s.ServiceName()}, spec: s}
	}
	rgw := entry(`{"service_type":"rgw","service_id":"foo","spec":{"rgw_realm":"r","rgw_zone":"z","rgw_frontend_port":8080}}`)
	mds := entry(`{"service_type":"mds","service_id":"cephfs"}`)
	for _, ds := range []daemonSpec{
		{svc: rgw, daemonType: "rgw", id: "foo.h2.abcdef", host: "h2", ports: []int{8080}},
		{svc: mds, daemonType: "mds", id: "cephfs.h2.qwerty", host: "h2"},
	} {
		if err := p.deployOne(&ds); err != nil {
			t.Fatal(err)
		}
	}
	var sets []string
	for _, c := range e.fake.Calls() {
		if i := slices.Index(c.Argv, "config"); i > 0 && c.Argv[i+1] == "set" {
			sets = append(sets, strings.Join(c.Argv[i+2:], " "))
		}
	}
	want := []string{"client.rgw.foo rgw_realm r", "client.rgw.foo rgw_zone z",
		"client.rgw.foo.h2.abcdef rgw_frontends beast port=8080", "mds.cephfs mds_join_fs cephfs"}
	if !slices.Equal(sets, want) {
		t.Errorf("config set calls:\n%q\nwant\n%q", sets, want)
	}
	ssl := entry(`{"service_type":"rgw","service_id":"s","spec":{"ssl":true}}`)
	f, _ := ssl.spec.RGW()
	if got := rgwFrontends(f, &daemonSpec{svc: ssl, ip: "10.0.0.6"}); got != "beast ssl_endpoint=10.0.0.6:443 ssl_certificate=config://rgw/cert/rgw.s" {
		t.Errorf("ssl frontends = %q", got)
	}
}
