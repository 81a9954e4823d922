package orchestrator

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenFile compares got with testdata/<name>.golden (rewritten with
// -update).
func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./orchestrator -run %s -update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// testSpecEntry parses a stored spec body into a spec entry.
func testSpecEntry(t *testing.T, body string) *specEntry {
	t.Helper()
	s, err := parseStoredSpec(json.RawMessage(body))
	if err != nil {
		t.Fatal(err)
	}
	return &specEntry{rec: store.SpecRecord{ServiceName: s.ServiceName()}, spec: s}
}

func intp(n int) *int { return &n }

func TestGaneshaConfGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec string
		d    daemonSpec
	}{
		{"default", `{"service_type":"nfs","service_id":"foo"}`,
			daemonSpec{daemonType: "nfs", id: "foo.0.1.h2.abcdef", host: "h2", rank: intp(0), gen: intp(1), ports: []int{2049}}},
		{"port-ip", `{"service_type":"nfs","service_id":"bar","spec":{"port":12049}}`,
			daemonSpec{daemonType: "nfs", id: "bar.1.0.h3.qwerty", host: "h3", rank: intp(1), gen: intp(0), ports: []int{12049}, ip: "10.0.0.7"}},
		{"virtual-ip", `{"service_type":"nfs","service_id":"vip","spec":{"virtual_ip":"10.0.0.100/24"}}`,
			daemonSpec{daemonType: "nfs", id: "vip.0.0.h2.zzzzzz", host: "h2", rank: intp(0), gen: intp(0), ip: "10.0.0.6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.svc = testSpecEntry(t, tc.spec)
			goldenFile(t, "ganesha-"+tc.name+".conf", renderGaneshaConf(nfsGaneshaConf(&tc.d)))
		})
	}
}

func TestNFSCapsAndPorts(t *testing.T) {
	caps, err := daemonCaps("nfs", "foo.0.1.h2.abcdef")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"mon", "allow r", "osd", "allow rw pool=.nfs namespace=foo"}; !slices.Equal(caps, want) {
		t.Errorf("caps = %q, want %q", caps, want)
	}
	if got := DaemonEntity("nfs", "foo.0.1.h2.abcdef", "h2"); got != "client.nfs.foo.0.1.h2.abcdef" {
		t.Errorf("entity = %s", got)
	}
	for _, tc := range []struct {
		spec string
		want []int
	}{
		{`{"service_type":"nfs","service_id":"foo"}`, []int{2049}},
		{`{"service_type":"nfs","service_id":"foo","spec":{"port":12049}}`, nil},
		{`{"service_type":"rgw","service_id":"foo"}`, nil},
	} {
		e := testSpecEntry(t, tc.spec)
		if got := containerPorts(e.spec); !slices.Equal(got, tc.want) {
			t.Errorf("%s: containerPorts = %v, want %v", tc.spec, got, tc.want)
		}
	}
}

// nfsFake answers what an nfs deploy runs besides the usual ceph calls:
// the image check, `osd pool ls/create/application enable` and the
// prepare/purge scripts.
type nfsFake struct {
	noGanesha bool
	pools     []string
	// ran are the ceph and script calls, as text.
	ran []string
}

func (n *nfsFake) install(e *cephSvcEnv) {
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		a := c.Argv
		if a[0] != "podman" {
			return nil, nil, false
		}
		if i := slices.Index(a, ganeshaBinary); i > 0 && a[i-1] == "--entrypoint" {
			n.ran = append(n.ran, c.Host+": ganesha.nfsd "+strings.Join(a[i+2:], " "))
			if n.noGanesha {
				return nil, fakeExit(c.Host, a, 127, "Error: crun: executable file `/usr/bin/ganesha.nfsd` not found in $PATH"), true
			}
			return []byte("NFS-Ganesha Release = V4.3\n"), nil, true
		}
		if i := slices.Index(a, "/bin/sh"); i > 0 && a[i-1] == "--entrypoint" && slices.Contains(a, "--net=host") {
			script := a[i+3]
			name := "script?"
			switch script {
			case nfsPrepareScript:
				name = "prepare"
			case nfsPurgeScript:
				name = "purge"
			}
			n.ran = append(n.ran, name+" "+strings.Join(a[i+5:], " "))
			return nil, nil, true
		}
		i := slices.Index(a, "--connect-timeout")
		if i < 0 {
			return nil, nil, false
		}
		args := a[i+2:]
		switch {
		case len(args) >= 3 && args[0] == "osd" && args[1] == "pool" && args[2] == "ls":
			b, _ := json.Marshal(n.pools)
			return b, nil, true
		case len(args) >= 3 && args[0] == "osd" && args[1] == "pool":
			n.ran = append(n.ran, strings.Join(args, " "))
			if args[2] == "create" {
				n.pools = append(n.pools, args[3])
			}
			return nil, nil, true
		}
		return nil, nil, false
	})
}

func TestNFSDeployAndRemove(t *testing.T) {
	e := newCephSvcEnv(t)
	nf := &nfsFake{pools: []string{"device_health_metrics"}}
	nf.install(e)
	p := e.pass(t)
	svc := testSpecEntry(t, `{"service_type":"nfs","service_id":"foo"}`)
	ds := daemonSpec{svc: svc, daemonType: "nfs", id: "foo.0.1.h2.abcdef", host: "h2", rank: intp(0), gen: intp(1),
		ports: containerPorts(svc.spec)}
	if err := p.deployOne(&ds); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"h2: ganesha.nfsd -v",
		"osd pool create .nfs",
		"osd pool application enable .nfs nfs",
		"prepare .nfs foo conf-nfs.foo 0",
	}
	if !slices.Equal(nf.ran, want) {
		t.Errorf("ran:\n%q\nwant\n%q", nf.ran, want)
	}
	e.fake.mu.Lock()
	doc := e.fake.daemons["nfs.foo.0.1.h2.abcdef"]
	a, ok := e.fake.auth["client.nfs.foo.0.1.h2.abcdef"]
	e.fake.mu.Unlock()
	if doc == nil {
		t.Fatal("nfs daemon not deployed")
	}
	if !ok || a.Caps["osd"] != "allow rw pool=.nfs namespace=foo" || a.Caps["mon"] != "allow r" {
		t.Errorf("auth = %+v", a)
	}
	if !strings.Contains(doc.ConfigBlobs.Keyring, "[client.nfs.foo.0.1.h2.abcdef]") || !strings.Contains(doc.ConfigBlobs.Keyring, a.Key) {
		t.Errorf("keyring = %q", doc.ConfigBlobs.Keyring)
	}
	if !strings.Contains(doc.ConfigBlobs.Config, "mon_host") {
		t.Errorf("config = %q", doc.ConfigBlobs.Config)
	}
	if got := doc.ConfigBlobs.Files[ganeshaConfFile]; got != renderGaneshaConf(nfsGaneshaConf(&ds)) ||
		!strings.Contains(got, `UserId = "nfs.foo.0.1.h2.abcdef";`) || !strings.Contains(got, "NFS_Port = 2049;") {
		t.Errorf("ganesha.conf = %q", got)
	}
	if !slices.Equal(doc.Params.TCPPorts, []int{2049}) || *doc.Meta.Rank != 0 || *doc.Meta.RankGeneration != 1 {
		t.Errorf("ports %v, rank %v.%v", doc.Params.TCPPorts, doc.Meta.Rank, doc.Meta.RankGeneration)
	}
	e.checkNoSecretInArgv(t)

	// A second gateway of another service on h2 would take 2049 too.
	bar := testSpecEntry(t, `{"service_type":"nfs","service_id":"bar"}`)
	other := daemonSpec{svc: bar, daemonType: "nfs", id: "bar.0.0.h2.qwerty", host: "h2", ports: containerPorts(bar.spec)}
	if msg := p.portConflict(&other, nil); !strings.Contains(msg, "TCP Port(s) '2049' required for nfs already in use by nfs.foo.0.1.h2.abcdef") {
		t.Errorf("port conflict = %q", msg)
	}

	// The pool exists now: a second daemon makes only its grace entry.
	nf.ran = nil
	ds2 := daemonSpec{svc: svc, daemonType: "nfs", id: "foo.1.0.h1.zzzzzz", host: "h1", rank: intp(1), gen: intp(0), ports: []int{2049}}
	if err := p.deployOne(&ds2); err != nil {
		t.Fatal(err)
	}
	if want := []string{"h1: ganesha.nfsd -v", "prepare .nfs foo conf-nfs.foo 1"}; !slices.Equal(nf.ran, want) {
		t.Errorf("second deploy ran %q, want %q", nf.ran, want)
	}

	// Removing the daemon removes its key.
	rec := daemonRecord{DaemonDescription: api.DaemonDescription{DaemonType: "nfs", DaemonID: ds.id, Hostname: "h2", Ports: []int{2049}}}
	if err := p.removeOne("nfs.foo", rec); err != nil {
		t.Fatal(err)
	}
	e.fake.mu.Lock()
	_, still := e.fake.auth["client.nfs.foo.0.1.h2.abcdef"]
	_, other2 := e.fake.auth["client.nfs.foo.1.0.h1.zzzzzz"]
	e.fake.mu.Unlock()
	if still || !other2 {
		t.Errorf("after removal: removed key present %v, other daemon's key present %v", still, other2)
	}

	// Purging the deleted service removes its grace table.
	nf.ran = nil
	e.r.purgeCephService(t.Context(), "nfs.foo")
	if want := []string{"purge .nfs foo"}; !slices.Equal(nf.ran, want) {
		t.Errorf("purge ran %q, want %q", nf.ran, want)
	}
}

func TestNFSUnavailableInImage(t *testing.T) {
	e := newCephSvcEnv(t)
	nf := &nfsFake{noGanesha: true}
	nf.install(e)
	p := e.pass(t)
	svc := testSpecEntry(t, `{"service_type":"nfs","service_id":"foo"}`)
	err := p.deployOne(&daemonSpec{svc: svc, daemonType: "nfs", id: "foo.0.0.h2.abcdef", host: "h2", rank: intp(0), gen: intp(0)})
	var ue *NFSUnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, api.ErrNotSupported) {
		t.Fatalf("deploy with an image without ganesha: %v", err)
	}
	if want := "nfs is not available in this image (" + DefaultCephImage + "): no /usr/bin/ganesha.nfsd"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if len(nf.ran) != 1 {
		t.Errorf("ran after the image check: %q", nf.ran)
	}
	e.fake.mu.Lock()
	defer e.fake.mu.Unlock()
	if _, ok := e.fake.daemons["nfs.foo.0.0.h2.abcdef"]; ok {
		t.Error("deployed anyway")
	}
	if _, ok := e.fake.auth["client.nfs.foo.0.0.h2.abcdef"]; ok {
		t.Error("the key of the daemon not deployed was left behind")
	}
}
