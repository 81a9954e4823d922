package orchestrator

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/sshexec"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// cephFakeCall is one command the controller ran on a fake host.
type cephFakeCall struct {
	Host  string
	Argv  []string
	Stdin []byte
}

func (c cephFakeCall) String() string { return c.Host + ": " + strings.Join(c.Argv, " ") }

// cephFake is a Remote whose hosts behave like lab hosts running a small
// Ceph cluster: the agent's check-host, list-networks, ls, deploy and
// rm-daemon, podman image checks, the ceph CLI in a container (auth,
// config, quorum_status, mgr stat, ...), and the sh scripts that write
// /etc/ceph. Unknown commands fail the test: every command the controller
// sends must be one the fake was written for.
type cephFake struct {
	t       *testing.T
	hostKey ssh.PublicKey

	// mu guards everything below.
	mu    sync.Mutex
	calls []cephFakeCall
	// hostname answers `hostname` on an address.
	hostname map[string]string
	// networks is list-networks' answer.
	networks string
	// files are the /etc/ceph files written (path → content, mode).
	files map[string]string
	modes map[string]string
	// daemons are deployed daemons (name → deploy request).
	daemons map[string]*agent.DeployRequest
	// auth is the cluster's auth database (entity → key, caps).
	auth map[string]keyringEntry
	// hooks override answers: when one returns handled, its result wins.
	hooks []func(c cephFakeCall) (out []byte, err error, handled bool)
	// imageMissing makes `podman image inspect` fail and pulls fail.
	imageMissing bool
	// mgrNeverAvailable keeps `mgr stat` unavailable.
	mgrNeverAvailable bool
	// deviceMapper makes the hosts' kernels have device-mapper (lvm).
	deviceMapper bool
	// deployGate, when set, blocks every deploy until closed.
	deployGate chan struct{}
}

var _ Remote = (*cephFake)(nil)

func newCephFake(t *testing.T) *cephFake {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return &cephFake{
		t: t, hostKey: k,
		hostname: map[string]string{},
		networks: `{"10.0.0.0/24": {"eth0": ["10.0.0.5"]}, "10.0.0.5/32": {"eth0": ["10.0.0.5"]}}`,
		files:    map[string]string{}, modes: map[string]string{},
		daemons: map[string]*agent.DeployRequest{},
		auth:    map[string]keyringEntry{},
	}
}

func (f *cephFake) hook(h func(c cephFakeCall) ([]byte, error, bool)) {
	f.mu.Lock()
	f.hooks = append(f.hooks, h)
	f.mu.Unlock()
}

func (f *cephFake) Calls() []cephFakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cephFakeCall(nil), f.calls...)
}

func (f *cephFake) ScanHostKey(_ context.Context, t sshexec.Target) (*sshexec.HostKeyInfo, error) {
	return &sshexec.HostKeyInfo{Key: f.hostKey, AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.hostKey))),
		Fingerprint: ssh.FingerprintSHA256(f.hostKey)}, nil
}

func (f *cephFake) PushBinary(_ context.Context, t sshexec.Target, fsid, _ string) (string, error) {
	return "/var/lib/orch/" + fsid + "/orch.test", nil
}

func (f *cephFake) Forget(string) {}

// exit is a failed command as sshexec reports it.
func fakeExit(host string, argv []string, code int, stderr string) error {
	return &sshexec.ExitError{Host: host, Cmd: strings.Join(argv, " "), Code: code, Stderr: []byte(stderr)}
}

func (f *cephFake) Run(ctx context.Context, t sshexec.Target, argv []string, stdin []byte, _ time.Duration) ([]byte, error) {
	c := cephFakeCall{Host: t.Name, Argv: append([]string(nil), argv...), Stdin: append([]byte(nil), stdin...)}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	hooks := append([]func(cephFakeCall) ([]byte, error, bool)(nil), f.hooks...)
	gate := f.deployGate
	f.mu.Unlock()
	if t.Signer == nil || t.HostKey == "" {
		f.t.Errorf("%s: ran without a signer or a pinned host key", c)
	}
	if len(argv) >= 3 && argv[1] == "agent" && argv[2] == "deploy" && gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for _, h := range hooks {
		if out, err, ok := h(c); ok {
			return out, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answer(c)
}

// answer plays the host; f.mu is held.
func (f *cephFake) answer(c cephFakeCall) ([]byte, error) {
	a := c.Argv
	switch {
	case len(a) == 1 && a[0] == "hostname":
		if n, ok := f.hostname[c.Host]; ok {
			return []byte(n + "\n"), nil
		}
		return []byte(c.Host + "\n"), nil
	case len(a) >= 3 && a[1] == "agent":
		return f.agent(c)
	case a[0] == "sh" && len(a) >= 3 && a[2] == writeFileScript:
		f.files[a[4]], f.modes[a[4]] = string(c.Stdin), a[5]
		return nil, nil
	case a[0] == "sh" && len(a) >= 3 && a[2] == removeAdminFilesScript:
		if strings.Contains(f.files[CephConfPath], a[4]) {
			delete(f.files, CephConfPath)
			delete(f.files, AdminKeyringPath)
		}
		return nil, nil
	case a[0] == "sh" && len(a) >= 3 && strings.HasPrefix(a[2], "for f;"):
		var out []string
		for _, p := range a[4:] {
			if _, ok := f.files[p]; ok {
				out = append(out, p)
			}
		}
		return []byte(strings.Join(out, "\n")), nil
	case a[0] == "sh" && len(a) >= 3 && strings.HasPrefix(a[2], "podman logs"):
		return []byte("debug last log line of " + a[4] + "\n"), nil
	case slices.Equal(a, deviceMapperProbe):
		if f.deviceMapper {
			return nil, nil
		}
		return nil, fakeExit(c.Host, a, 1, "")
	case a[0] == "podman" && len(a) > 2 && a[1] == "image" && a[2] == "inspect":
		if f.imageMissing {
			return nil, fakeExit(c.Host, a, 125, "Error: "+a[len(a)-1]+": image not known")
		}
		return []byte("sha256:0123\n"), nil
	case a[0] == "podman" && len(a) > 1 && a[1] == "pull":
		return nil, fakeExit(c.Host, a, 125, "Error: initializing source docker://"+a[2]+": pinging container registry: connection refused")
	case a[0] == "podman" && len(a) > 2 && a[1] == "rm":
		return nil, nil
	case a[0] == "podman" && slices.Contains(a, "/bin/sh") && slices.Contains(a, "--net=none"):
		return []byte("ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)\n167 167\n"), nil
	case a[0] == "podman" && slices.Contains(a, "/usr/bin/ceph"):
		i := slices.Index(a, "--connect-timeout")
		return f.ceph(c, a[i+2:])
	}
	f.t.Errorf("unexpected command %s", c)
	return nil, fakeExit(c.Host, a, 127, "fake: unexpected command")
}

func (f *cephFake) agent(c cephFakeCall) ([]byte, error) {
	a := c.Argv[2:]
	switch a[0] {
	case "check-host":
		return []byte(fmt.Sprintf(`{"hostname":%q,"errors":[]}`, c.Host)), nil
	case "list-networks":
		return []byte(f.networks), nil
	case "ls":
		var out []map[string]string
		for _, n := range bootSorted(bootKeys(f.daemons)) {
			out = append(out, map[string]string{"style": "cephadm:v1", "name": n, "fsid": f.daemons[n].FSID})
		}
		if out == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(out)
	case "deploy":
		req, err := agent.DecodeDeployRequest(strings.NewReader(string(c.Stdin)))
		if err != nil {
			return nil, fakeExit(c.Host, c.Argv, 22, "Error EINVAL: "+err.Error())
		}
		if err := req.Validate(); err != nil {
			return nil, fakeExit(c.Host, c.Argv, 22, "Error EINVAL: "+err.Error())
		}
		f.daemons[req.Name] = req
		return []byte(`{"deployment_type":"DEFAULT"}`), nil
	case "rm-daemon":
		i := slices.Index(a, "--name")
		delete(f.daemons, a[i+1])
		return []byte(`{"removed":true}`), nil
	}
	f.t.Errorf("unexpected agent command %s", c)
	return nil, fakeExit(c.Host, c.Argv, 22, "Error EINVAL: unknown")
}

// ceph answers the ceph CLI from the fake's cluster state.
func (f *cephFake) ceph(c cephFakeCall, args []string) ([]byte, error) {
	fail := func(code int, name, msg string) ([]byte, error) {
		return nil, fakeExit(c.Host, c.Argv, code, "Error "+name+": "+msg)
	}
	_, monUp := f.monName()
	if !monUp {
		return nil, fakeExit(c.Host, c.Argv, 1, "[errno 110] RADOS timed out (error connecting to the cluster)")
	}
	jsonOut := slices.Contains(args, "json")
	switch {
	case args[0] == "quorum_status":
		n, _ := f.monName()
		return []byte(fmt.Sprintf(`{"quorum_names":[%q],"quorum_leader_name":%q,"monmap":{"epoch":1,"mons":[{"rank":0,"name":%q}]}}`, n, n, n)), nil
	case args[0] == "config" && args[1] == "assimilate-conf":
		return nil, nil
	case args[0] == "config" && args[1] == "generate-minimal-conf":
		mon := f.daemons["mon."+fakeMonID(f)]
		return []byte(clientConf(mon.FSID, "10.0.0.5")), nil
	case args[0] == "config" && args[1] == "set":
		return nil, nil
	case args[0] == "mgr" && args[1] == "stat":
		for n := range f.daemons {
			if strings.HasPrefix(n, "mgr.") && !f.mgrNeverAvailable {
				return []byte(fmt.Sprintf(`{"epoch":3,"available":true,"active_name":%q,"num_standby":0}`, strings.TrimPrefix(n, "mgr."))), nil
			}
		}
		return []byte(`{"epoch":1,"available":false,"active_name":"","num_standby":0}`), nil
	case args[0] == "auth" && args[1] == "get-or-create":
		e := args[2]
		caps := fakeCaps(args[3:])
		if old, ok := f.auth[e]; ok {
			if !fakeCapsEqual(old.Caps, caps) {
				return fail(22, "EINVAL", "key for "+e+" exists but cap does not match")
			}
			return []byte(minimalKeyring(e, old.Key)), nil
		}
		k, _ := newCephKey(rand.Reader, time.Now())
		f.auth[e] = keyringEntry{Entity: e, Key: k, Caps: caps}
		return []byte(minimalKeyring(e, k)), nil
	case args[0] == "auth" && args[1] == "caps":
		old, ok := f.auth[args[2]]
		if !ok {
			return fail(2, "ENOENT", "couldn't find entity")
		}
		old.Caps = fakeCaps(args[3:])
		f.auth[args[2]] = old
		return nil, nil
	case args[0] == "auth" && args[1] == "get":
		e, ok := f.auth[args[2]]
		if !ok {
			return fail(2, "ENOENT", "failed to find "+args[2]+" in keyring")
		}
		if jsonOut {
			return json.Marshal([]map[string]any{{"entity": e.Entity, "key": e.Key, "caps": e.Caps}})
		}
		return []byte(renderKeyring(e)), nil
	case args[0] == "auth" && args[1] == "rm":
		if _, ok := f.auth[args[2]]; !ok {
			return []byte("entity " + args[2] + " does not exist\n"), nil
		}
		delete(f.auth, args[2])
		return nil, nil
	}
	f.t.Errorf("unexpected ceph command %v", args)
	return fail(22, "EINVAL", "unrecognized command")
}

func (f *cephFake) monName() (string, bool) {
	for n := range f.daemons {
		if strings.HasPrefix(n, "mon.") {
			return strings.TrimPrefix(n, "mon."), true
		}
	}
	return "", false
}

func fakeMonID(f *cephFake) string { n, _ := f.monName(); return n }

func fakeCaps(args []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "--format" {
			break
		}
		m[args[i]] = args[i+1]
	}
	return m
}

func fakeCapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// seedMonAuth registers the keys the mon's mkfs would import.
func (f *cephFake) seedMonAuth() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.daemons {
		if kr, ok := d.ConfigBlobs.Files["bootstrap/keyring"]; ok {
			for _, e := range parseKeyring(kr) {
				f.auth[e.Entity] = e
			}
		}
	}
}

// cephFakeEnv is a controller over a real store and a cephFake.
type cephFakeEnv struct {
	ctl  *Controller
	st   *store.Store
	fake *cephFake
}

func newCephFakeEnv(t *testing.T) *cephFakeEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "orch.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	agentBin := filepath.Join(dir, "orch")
	if err := os.WriteFile(agentBin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := newCephFake(t)
	ctl, err := New(Options{Store: st, Remote: fake, AgentBinary: agentBin, CheckTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.CloseBootstrap)
	// The mon imports the bootstrap keyring at mkfs: seed the fake's auth
	// database from the mon's deploy document.
	fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if len(c.Argv) > 2 && c.Argv[1] == "agent" && c.Argv[2] == "deploy" && strings.Contains(string(c.Stdin), `"bootstrap/keyring"`) {
			fake.mu.Lock()
			out, err := fake.answer(c)
			fake.mu.Unlock()
			fake.seedMonAuth()
			return out, err, true
		}
		return nil, nil, false
	})
	return &cephFakeEnv{ctl: ctl, st: st, fake: fake}
}

// addAdminHost stores a host labelled _admin with a pinned key and a
// cluster key, without running anything.
func (e *cephFakeEnv) addAdminHost(t *testing.T, name, addr string, labels ...string) {
	t.Helper()
	if _, err := e.ctl.PublicKey(); errors.Is(err, ErrNoSSHKey) {
		if _, err := e.ctl.GenerateKey(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(e.fake.hostKey)))
	if err := e.st.PutHost(store.Host{Name: name, Addr: addr, HostKey: key, Labels: labels}); err != nil {
		t.Fatal(err)
	}
}
