package orchestrator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
)

func TestNewCephKey(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	k, err := newCephKey(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)), at)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(k)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 28 || !strings.HasPrefix(k, "AQ") || len(k) != 40 {
		t.Fatalf("key %q: %d bytes", k, len(b))
	}
	if binary.LittleEndian.Uint16(b) != 1 || binary.LittleEndian.Uint32(b[2:]) != 1700000000 ||
		binary.LittleEndian.Uint32(b[6:]) != 123456789 || binary.LittleEndian.Uint16(b[10:]) != 16 ||
		!bytes.Equal(b[12:], bytes.Repeat([]byte{0xab}, 16)) {
		t.Errorf("layout of %x", b)
	}
	if err := checkCephKey(k); err != nil {
		t.Error(err)
	}
	// A key made by ceph-authtool 16.2.15 (test fixture, not a secret of
	// any cluster).
	if err := checkCephKey("AQBqzlxlAAAAABAAp1ZCXu2Fzq5Wty5EPkWqEw=="); err != nil {
		t.Errorf("ceph-authtool key: %v", err)
	}
	for _, bad := range []string{"", "!!", "AQ==", base64.StdEncoding.EncodeToString(make([]byte, 28))} {
		if checkCephKey(bad) == nil {
			t.Errorf("checkCephKey(%q) accepted", bad)
		}
	}
	if _, err := newCephKey(bytes.NewReader(nil), at); err == nil {
		t.Error("newCephKey with no randomness succeeded")
	}
	k1, _ := newCephKey(rand.Reader, at)
	k2, _ := newCephKey(rand.Reader, at)
	if k1 == k2 {
		t.Error("two random keys are equal")
	}
}

func TestKeyringRoundTrip(t *testing.T) {
	in := []keyringEntry{
		{Entity: "mon.", Key: "AQAAAA==", Caps: map[string]string{"mon": "allow *"}},
		{Entity: "client.admin", Key: "AQBBBB==", Caps: map[string]string{"osd": "allow *", "mds": "allow *", "mon": "allow *", "mgr": "allow *"}},
	}
	text := renderKeyring(in...)
	want := "[mon.]\n\tkey = AQAAAA==\n\tcaps mon = \"allow *\"\n[client.admin]\n\tkey = AQBBBB==\n\tcaps mds = \"allow *\"\n\tcaps mgr = \"allow *\"\n\tcaps mon = \"allow *\"\n\tcaps osd = \"allow *\"\n"
	if text != want {
		t.Fatalf("renderKeyring:\n%s\nwant:\n%s", text, want)
	}
	out := parseKeyring(text)
	if len(out) != 2 || out[1].Entity != "client.admin" || out[1].Key != "AQBBBB==" || out[1].Caps["osd"] != "allow *" {
		t.Errorf("parseKeyring = %+v", out)
	}
	// `auth get` of a key being rotated: the pending key wins.
	got := parseKeyring("exported keyring for x\n[client.x]\n\tkey = OLD==\n\tpending key = NEW==\n")
	if len(got) != 1 || got[0].Key != "NEW==" {
		t.Errorf("pending key: %+v", got)
	}
	if kr, err := keyringOf("client.x", []byte("[client.x]\nkey = AQ1==\n")); err != nil || kr != "[client.x]\n\tkey = AQ1==\n" {
		t.Errorf("keyringOf = %q, %v", kr, err)
	}
	if _, err := keyringOf("client.y", []byte("[client.x]\nkey = AQ1==\n")); err == nil {
		t.Error("keyringOf of another entity succeeded")
	}
}

func FuzzParseKeyring(f *testing.F) {
	f.Add("[client.admin]\n\tkey = AQBB==\n\tcaps mon = \"allow *\"\n")
	f.Add("[x]\npending key = y\n[")
	f.Fuzz(func(t *testing.T, s string) {
		for _, e := range parseKeyring(s) {
			if e.Caps == nil {
				t.Fatal("nil caps map")
			}
		}
	})
}

func TestCephArgv(t *testing.T) {
	got := cephArgv("orch-ceph-1", "localhost/ceph:16.2.15", true, 30, []string{"auth", "get", "mon."})
	want := []string{"podman", "run", "--rm", "--init", "--net=host", "--ipc=host", "--name", "orch-ceph-1", "-i",
		"-e", "CONTAINER_IMAGE=localhost/ceph:16.2.15", "-v", "/etc/ceph:/etc/ceph:ro,z", "--entrypoint", "/usr/bin/ceph",
		"localhost/ceph:16.2.15", "--connect-timeout", "30", "auth", "get", "mon."}
	if !slices.Equal(got, want) {
		t.Errorf("cephArgv =\n%q\nwant\n%q", got, want)
	}
}

func TestCephCommandHostChoice(t *testing.T) {
	ctx := context.Background()
	e := newCephFakeEnv(t)
	if _, err := e.ctl.CephCommand(ctx, "status"); !errors.Is(err, ErrNoAdminHost) {
		t.Fatalf("without an _admin host: %v", err)
	}
	e.addAdminHost(t, "h0", "10.0.0.4", "_admin")
	e.addAdminHost(t, "h1", "10.0.0.5", "_admin")
	e.addAdminHost(t, "h2", "10.0.0.6")
	h0, _ := e.st.GetHost("h0")
	h0.Status = "offline"
	if err := e.st.PutHost(h0); err != nil {
		t.Fatal(err)
	}
	var hosts []string
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		hosts = append(hosts, c.Host)
		return []byte("{}"), nil, true
	})
	// h1 answers (h0 is offline, h2 is not _admin).
	if _, err := e.ctl.CephCommand(ctx, "status"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hosts, []string{"h1"}) {
		t.Errorf("ran on %v", hosts)
	}
	// An unreachable _admin host is skipped for the next one.
	e.addAdminHost(t, "h3", "10.0.0.7", "_admin")
	hosts = nil
	e.fake.hooks = nil
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		hosts = append(hosts, c.Host)
		if c.Host == "h1" {
			return nil, sshexec.ErrUnreachable, true
		}
		return []byte("{}"), nil, true
	})
	if _, err := e.ctl.CephCommand(ctx, "status"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hosts, []string{"h1", "h3"}) {
		t.Errorf("ran on %v", hosts)
	}
	// Every _admin host unreachable.
	e.fake.hooks = nil
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) { return nil, sshexec.ErrUnreachable, true })
	if _, err := e.ctl.CephCommand(ctx, "status"); !errors.Is(err, ErrNoAdminHost) || !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("all unreachable: %v", err)
	}
}

func TestCephErrors(t *testing.T) {
	ctx := context.Background()
	e := newCephFakeEnv(t)
	e.addAdminHost(t, "h1", "10.0.0.5", "_admin")
	var removed []string
	answer := func(err error) {
		e.fake.hooks = nil
		e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
			if c.Argv[1] == "rm" {
				removed = append(removed, c.Argv[len(c.Argv)-1])
				return nil, nil, true
			}
			return []byte("out"), err, true
		})
	}
	answer(&sshexec.ExitError{Host: "h1", Code: 2, Stderr: []byte("some warning\nError ENOENT: failed to find client.x in keyring\n")})
	_, err := e.ctl.CephCommand(ctx, "auth", "get", "client.x")
	var ce *CephError
	if !errors.As(err, &ce) || ce.Errno() != syscall.ENOENT || ce.Message != "failed to find client.x in keyring" || ce.Host != "h1" {
		t.Fatalf("CephError = %#v (%v)", ce, err)
	}
	if api.AsError(err).Code != syscall.ENOENT {
		t.Errorf("API errno of %v = %v", err, api.AsError(err).Code)
	}
	if !strings.Contains(err.Error(), "h1: ceph auth get client.x: failed to find") {
		t.Errorf("message %q", err)
	}
	// podman's own failure is not a ceph errno.
	answer(&sshexec.ExitError{Host: "h1", Code: 125, Stderr: []byte("Error: localhost/ceph:x: image not known\n")})
	_, err = e.ctl.CephCommand(ctx, "status")
	if errors.As(err, &ce) || !strings.Contains(err.Error(), "image not known") {
		t.Errorf("podman failure = %v", err)
	}
	// A timeout removes the named container.
	answer(sshexec.ErrTimeout)
	_, err = e.ctl.CephCommand(ctx, "osd", "safe-to-destroy", "1")
	if !errors.Is(err, sshexec.ErrTimeout) || len(removed) != 1 || !strings.HasPrefix(removed[0], "orch-ceph-") {
		t.Errorf("timeout: %v, removed %v", err, removed)
	}
}

func TestDaemonEntityAndCaps(t *testing.T) {
	for _, tc := range []struct {
		typ, id, host, entity string
		caps                  []string
	}{
		{"mon", "h1", "h1", "mon.", nil},
		{"mgr", "h1.abcdef", "h1", "mgr.h1.abcdef", []string{"mon", "profile mgr", "osd", "allow *", "mds", "allow *"}},
		{"osd", "3", "h1", "osd.3", []string{"mon", "allow profile osd", "mgr", "allow profile osd", "osd", "allow *"}},
		{"mds", "fs.h1.xyz", "h1", "mds.fs.h1.xyz", []string{"mon", "profile mds", "osd", "allow rw tag cephfs *=*", "mds", "allow"}},
		{"rgw", "s3.h1.abc", "h1", "client.rgw.s3.h1.abc", []string{"mon", "allow *", "mgr", "allow rw", "osd", "allow rwx tag rgw *=*"}},
		{"crash", "h1", "h1.example.com", "client.crash.h1.example.com", []string{"mon", "profile crash", "mgr", "profile crash"}},
		{"rbd-mirror", "h1.q", "h1", "client.rbd-mirror.h1.q", []string{"mon", "profile rbd-mirror", "osd", "profile rbd"}},
		{"cephfs-mirror", "h1.q", "h1", "client.cephfs-mirror.h1.q", []string{"mon", "profile cephfs-mirror", "mds", "allow r", "osd", "allow rw tag cephfs metadata=*, allow r tag cephfs data=*", "mgr", "allow r"}},
		{"nfs", "foo.0.0.h1.xyz", "h1", "client.nfs.foo.0.0.h1.xyz", []string{"mon", "allow r", "osd", "allow rw pool=.nfs namespace=foo"}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			if got := DaemonEntity(tc.typ, tc.id, tc.host); got != tc.entity {
				t.Errorf("DaemonEntity = %q, want %q", got, tc.entity)
			}
			if tc.caps == nil {
				return
			}
			caps, err := daemonCaps(tc.typ, tc.id)
			if err != nil || !slices.Equal(caps, tc.caps) {
				t.Errorf("daemonCaps = %q, %v", caps, err)
			}
		})
	}
	if _, err := daemonCaps("prometheus", "h1"); err == nil {
		t.Error("caps for prometheus")
	}
}

func TestDaemonKeyring(t *testing.T) {
	ctx := context.Background()
	e := newCephFakeEnv(t)
	e.addAdminHost(t, "h1", "10.0.0.5", "_admin")
	e.fake.daemons["mon.h1"] = nil // the fake's cluster answers once a mon "exists"
	monKey, _ := newCephKey(rand.Reader, time.Now())
	e.fake.auth["mon."] = keyringEntry{Entity: "mon.", Key: monKey, Caps: map[string]string{"mon": "allow *"}}

	kr, err := e.ctl.DaemonKeyring(ctx, "rgw", "s3.h1.abc", "h1")
	if err != nil {
		t.Fatal(err)
	}
	entry := e.fake.auth["client.rgw.s3.h1.abc"]
	if kr != "[client.rgw.s3.h1.abc]\n\tkey = "+entry.Key+"\n" || entry.Caps["osd"] != "allow rwx tag rgw *=*" {
		t.Errorf("keyring %q, entry %+v", kr, entry)
	}
	// Other caps: updated (auth caps), then fetched, same key.
	entry.Caps = map[string]string{"mon": "allow r"}
	e.fake.auth["client.rgw.s3.h1.abc"] = entry
	kr2, err := e.ctl.DaemonKeyring(ctx, "rgw", "s3.h1.abc", "h1")
	if err != nil || kr2 != kr || e.fake.auth["client.rgw.s3.h1.abc"].Caps["mgr"] != "allow rw" {
		t.Errorf("after a caps change: %q, %v, %+v", kr2, err, e.fake.auth["client.rgw.s3.h1.abc"])
	}
	var sawCaps bool
	for _, c := range e.fake.Calls() {
		if slices.Contains(c.Argv, "caps") {
			sawCaps = true
		}
		if strings.Contains(strings.Join(c.Argv, " "), entry.Key) || strings.Contains(strings.Join(c.Argv, " "), monKey) {
			t.Errorf("a key is in the argv of %s", c)
		}
	}
	if !sawCaps {
		t.Error("no `auth caps` call")
	}
	mon, err := e.ctl.DaemonKeyring(ctx, "mon", "h2", "h2")
	if err != nil || mon != "[mon.]\n\tkey = "+monKey+"\n" {
		t.Errorf("mon keyring %q, %v", mon, err)
	}
	if _, err := e.ctl.DaemonKeyring(ctx, "grafana", "h1", "h1"); !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("grafana keyring: %v", err)
	}

	if err := e.ctl.RemoveDaemonKey(ctx, "client.rgw.s3.h1.abc"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fake.auth["client.rgw.s3.h1.abc"]; ok {
		t.Error("key not removed")
	}
	if err := e.ctl.RemoveDaemonKey(ctx, "client.rgw.s3.h1.abc"); err != nil {
		t.Errorf("second removal: %v", err)
	}
	for _, p := range []string{"mon.", "client.admin", "client.bootstrap-osd"} {
		if err := e.ctl.RemoveDaemonKey(ctx, p); err == nil {
			t.Errorf("RemoveDaemonKey(%s) succeeded", p)
		}
	}
}

func TestOKToStop(t *testing.T) {
	ctx := context.Background()
	e := newCephFakeEnv(t)
	e.addAdminHost(t, "h1", "10.0.0.5", "_admin")
	var last []string
	reply := func(err error) {
		e.fake.hooks = nil
		e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) { last = c.Argv; return nil, err, true })
	}
	reply(nil)
	if r, err := e.ctl.OKToStop(ctx, "mon", "a", "b"); err != nil || !r.OK || !slices.Equal(last[len(last)-4:], []string{"mon", "ok-to-stop", "a", "b"}) {
		t.Errorf("ok: %+v %v %v", r, err, last)
	}
	reply(&sshexec.ExitError{Code: 16, Stderr: []byte("Error EBUSY: not enough monitors would be available (a) after stopping mons [b]\n")})
	if r, err := e.ctl.OKToStop(ctx, "mon", "b"); err != nil || r.OK || !strings.HasPrefix(r.Reason, "not enough monitors") {
		t.Errorf("not ok: %+v %v", r, err)
	}
	if r, err := e.ctl.SafeToDestroy(ctx, 1, 2); err != nil || r.OK || !slices.Equal(last[len(last)-4:], []string{"osd", "safe-to-destroy", "1", "2"}) {
		t.Errorf("safe-to-destroy: %+v %v %v", r, err, last)
	}
	reply(&sshexec.ExitError{Code: 22, Stderr: []byte("Error EINVAL: bad\n")})
	if _, err := e.ctl.OKToStop(ctx, "osd", "1"); err == nil {
		t.Error("EINVAL is not an error")
	}
	if _, err := e.ctl.OKToStop(ctx, "rgw", "x"); !errors.Is(err, spec.ErrInvalidSpec) {
		t.Errorf("rgw ok-to-stop: %v", err)
	}
}

func TestWriteAdminFiles(t *testing.T) {
	ctx := context.Background()
	e := newCephFakeEnv(t)
	e.addAdminHost(t, "h1", "10.0.0.5", "_admin")
	e.fake.hooks = nil
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if slices.Contains(c.Argv, "generate-minimal-conf") {
			return []byte("# minimal ceph.conf for x\n[global]\n\tfsid = x\n\tmon_host = [v2:10.0.0.5:3300/0]\n"), nil, true
		}
		return nil, nil, false
	})
	if err := e.ctl.WriteAdminFiles(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("without an admin keyring: %v", err)
	}
	secret := "[client.admin]\n\tkey = AQsecret==\n"
	if err := e.st.SetSecret(store.KeyringSecret("client.admin"), store.Secret(secret)); err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.WriteAdminFiles(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if e.fake.files[AdminKeyringPath] != secret || e.fake.modes[AdminKeyringPath] != "0600" ||
		e.fake.modes[CephConfPath] != "0644" || !strings.Contains(e.fake.files[CephConfPath], "mon_host") {
		t.Errorf("files %q modes %v", e.fake.files, e.fake.modes)
	}
	for _, c := range e.fake.Calls() {
		if strings.Contains(strings.Join(c.Argv, " "), "AQsecret") {
			t.Errorf("the keyring is in the argv of %s", c)
		}
	}
}
