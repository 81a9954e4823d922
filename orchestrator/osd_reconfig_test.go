package orchestrator

import (
	"slices"
	"strings"
	"testing"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

// TestOSDReconfigOnMonHostChange: an OSD deployed with one mon_host gets
// a reconfig (config and keyring rewritten, no restart) once the
// cluster's minimal conf names another monitor; an OSD whose digest still
// matches, one without a digest and one on an offline host are left alone.
func TestOSDReconfigOnMonHostChange(t *testing.T) {
	e := newCephSvcEnv(t)
	conf := clientConf(e.fsid, "10.0.0.5")
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if c.Argv[0] == "podman" && slices.Contains(c.Argv, "generate-minimal-conf") {
			return []byte(conf), nil, true
		}
		return nil, nil, false
	})
	digestFor := func(id, host string) string {
		p := e.pass(t)
		env, err := p.cephEnv()
		if err != nil {
			t.Fatal(err)
		}
		svc := &specEntry{rec: store.SpecRecord{ServiceName: "osd"}, spec: &spec.ServiceSpec{ServiceType: "osd"}}
		ds := daemonSpec{svc: svc, daemonType: "osd", id: id, host: host, ceph: env}
		doc, err := e.r.buildDeploy(p.v.cluster, &ds, false)
		if err != nil {
			t.Fatal(err)
		}
		return doc.digest
	}
	old := digestFor("1", "h2")
	conf = clientConf(e.fsid, "10.0.0.5") + "\tmon_host = [v2:10.0.0.6:3300/0]\n"
	current := digestFor("2", "h2")
	e.addAdminHost(t, "h3", "10.0.0.7")
	setStatus(t, e, "h3", "offline")

	p := e.pass(t)
	osd := func(id, host, digest string) daemonRecord {
		return daemonRecord{DaemonDescription: api.DaemonDescription{DaemonType: "osd", DaemonID: id, Hostname: host, ServiceName: "osd"},
			ConfigDigest: digest}
	}
	p.v.daemons = append(p.v.daemons, osd("1", "h2", old), osd("2", "h2", current), osd("3", "h2", ""), osd("4", "h3", old))
	p.reindexLocked()
	p.reconfigOSDs()

	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	var got []string
	for name := range e.fake.daemons {
		if strings.HasPrefix(name, "osd.") {
			got = append(got, name)
		}
	}
	if !slices.Equal(got, []string{"osd.1"}) {
		t.Fatalf("reconfigured %v, want [osd.1]", got)
	}
	req := e.fake.daemons["osd.1"]
	if !req.Params.Reconfig || !strings.Contains(req.ConfigBlobs.Config, "10.0.0.6") ||
		!strings.Contains(req.ConfigBlobs.Keyring, "[osd.1]") || len(req.InitContainers) != 0 {
		t.Errorf("osd.1 deploy: reconfig %v, config %q, keyring has entity %v, init %v",
			req.Params.Reconfig, req.ConfigBlobs.Config, strings.Contains(req.ConfigBlobs.Keyring, "[osd.1]"), req.InitContainers)
	}
}
