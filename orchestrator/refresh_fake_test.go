package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/sshexec/sshtest"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// Canned agent answers with the shapes and sizes of real ones: facts with a
// full sysctl map (~55 KiB, like a Debian host's), four devices, three
// networks and six daemons of the cluster plus entries cephadm ignores.

func fakeFacts(host string) []byte {
	sysctl := make(map[string]string, 1100)
	for i := range 1100 {
		sysctl[fmt.Sprintf("net.ipv4.conf.veth%03d.some_reasonably_long_parameter_name", i)] = "0"
	}
	f := agent.Facts{
		Arch: "x86_64", BiosDate: "04/01/2014", BiosVersion: "1.16.2-debian-1.16.2-1", BoardSerial: "Unknown",
		ChassisSerial: "Unknown", CPUCores: 8, CPUCount: 2, CPULoad: map[string]float64{"1min": 0.5, "5min": 0.4, "15min": 0.3},
		CPUModel: "AMD EPYC 7B13", CPUThreads: 2, Enclosures: map[string]*agent.Enclosure{},
		FlashCapacity: "1.0TB", FlashCapacityBytes: 1000204886016, FlashCount: 1,
		FlashList: []agent.FactsDisk{{Description: "SAMSUNG MZ7 (1.0TB)", Vendor: "ATA", Model: "SAMSUNG MZ7", DevName: "sdc", DiskSizeBytes: 1000204886016, DiskType: "flash", Serial: "S1"}},
		FQDN:      host + ".example.com", HDDCapacity: "8.0TB", HDDCapacityBytes: 8001563222016, HDDCount: 2,
		HDDList: []agent.FactsDisk{
			{Description: "ST4000 (4.0TB)", Vendor: "ATA", Model: "ST4000", DevName: "sda", DiskSizeBytes: 4000781611008, DiskType: "hdd", Serial: "Z1"},
			{Description: "ST4000 (4.0TB)", Vendor: "ATA", Model: "ST4000", DevName: "sdb", DiskSizeBytes: 4000781611008, DiskType: "hdd", Serial: "Z2"},
		},
		Hostname: host,
		Interfaces: map[string]agent.FactsNIC{
			"eth0": {MTU: 1500, Operstate: "up", IfType: "physical", NICType: "ethernet", Driver: "virtio_net", Speed: 10000, IPv4Address: "10.0.0.2/24", IPv6Address: "fe80::1/64", UpperDevsList: []string{}, LowerDevsList: []string{}},
			"eth1": {MTU: 9000, Operstate: "up", IfType: "physical", NICType: "ethernet", Driver: "virtio_net", Speed: 25000, IPv4Address: "192.168.0.2/24", UpperDevsList: []string{}, LowerDevsList: []string{}},
		},
		Kernel: "6.1.0-18-amd64", KernelParameters: map[string]string{"net.ipv4.ip_nonlocal_bind": "0"},
		KernelSecurity:    map[string]any{"type": "AppArmor", "description": "AppArmor: Enabled(27 enforce)"},
		MemoryAvailableKB: 30000000, MemoryFreeKB: 20000000, MemoryTotalKB: 32827612,
		Model: "Standard PC (Q35 + ICH9, 2009)", NICCount: 2, OperatingSystem: "Debian GNU/Linux 12 (bookworm)",
		ProductSerial: "Unknown", Shortname: host, Subscribed: "Unknown", SysctlOptions: sysctl,
		SystemUptime: 12345.6, TCP6PortsUsed: []int{22}, TCPPortsUsed: []int{22, 3300, 6789}, Timestamp: 1.7e9,
		UDP6PortsUsed: []int{}, UDPPortsUsed: []int{323}, Vendor: "QEMU",
	}
	b, _ := json.Marshal(f)
	return b
}

func fakeNetworks(host string) []byte {
	return []byte(`{"10.0.0.0/24":{"eth0":["10.0.0.2"]},"192.168.0.0/24":{"eth1":["192.168.0.2"]},"fe80::/64":{"eth0":["fe80::1"]}}`)
}

func fakeDevices(host string) []byte {
	dev := func(path string, size int64, rot string, avail bool, reasons ...string) agent.Device {
		if reasons == nil {
			reasons = []string{}
		}
		return agent.Device{
			Path: path, Available: avail, RejectedReasons: reasons, LVs: []agent.LV{}, DeviceID: "ATA_ST4000_" + filepath.Base(path),
			LSMData: json.RawMessage(`{}`),
			SysAPI: agent.SysAPI{Path: path, Devname: filepath.Base(path), Size: float64(size), Rotational: rot, SectorSize: "512",
				HumanReadableSize: fmt.Sprintf("%.2f GB", float64(size)/(1<<30)), Vendor: "ATA", Model: "ST4000", Type: "disk",
				Partitions: map[string]agent.Partition{}, RO: "0", Removable: "0"},
		}
	}
	b, _ := json.Marshal([]agent.Device{
		dev("/dev/sda", 4000781611008, "1", true),
		dev("/dev/sdb", 4000781611008, "1", false, "Insufficient space (<10 extents) on vgs", "LVM detected", "locked"),
		dev("/dev/sdc", 1000204886016, "0", true),
		dev("/dev/vda", 107374182400, "1", false, "Has partitions", "locked"),
	})
	return b
}

func fakeLs(host, fsid string) []byte {
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	meta := func(svc string, ports ...int) map[string]json.RawMessage {
		m := map[string]json.RawMessage{"service_name": json.RawMessage(fmt.Sprintf("%q", svc))}
		if len(ports) > 0 {
			p, _ := json.Marshal(ports)
			m["ports"] = p
		}
		return m
	}
	d := func(name, state string, m map[string]json.RawMessage) agent.DaemonStatus {
		return agent.DaemonStatus{
			Style: "cephadm:v1", Name: name, FSID: fsid, SystemdUnit: "ceph-" + fsid + "@" + name,
			Detail: true, Enabled: true, State: state,
			ContainerID:           str("3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e"),
			ContainerImageName:    str("quay.io/ceph/ceph:v18.2.1"),
			ContainerImageID:      str("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"),
			ContainerImageDigests: []string{"quay.io/ceph/ceph@sha256:0123456789abcdef"},
			Version:               "18.2.1", Started: &at, Created: &at, Deployed: &at, Configured: &at,
			MemoryUsage: n(123456789), CPUPercentage: str("0.51%"), Meta: m,
		}
	}
	ls := []agent.DaemonStatus{
		d("mon."+host, "running", meta("mon")),
		d("mgr."+host+".abcdef", "running", meta("mgr", 8443, 9283)),
		d("crash."+host, "running", meta("crash")),
		d("osd.1", "running", meta("osd.default")),
		d("osd.2", "stopped", meta("osd.default")),
		d("node-exporter."+host, "error", meta("node-exporter", 9100)),
		// ignored by cephadm's rules: another cluster, legacy style, unknown type
		{Style: "cephadm:v1", Name: "mon.x", FSID: "11111111-2222-3333-4444-555555555555", SystemdUnit: "x"},
		{Style: "legacy", Name: "osd.9", FSID: fsid, SystemdUnit: "ceph-osd@9"},
		d("bogus.thing", "running", nil),
	}
	b, _ := json.Marshal(ls)
	return b
}

// agentSub returns the agent subcommand of a remote command line
// ("timeout -k 5 300 /x/orch.sha agent gather-facts" → "gather-facts") and
// the words after it.
func agentSub(cmd string) (string, []string) {
	f := strings.Fields(cmd)
	for i, w := range f {
		if w == "agent" && i+1 < len(f) {
			return strings.Trim(f[i+1], "'"), f[i+2:]
		}
	}
	return "", nil
}

// agentAnswers is a fake host's canned agent: per subcommand an answer, or
// a failure (stderr, exit code).
type agentAnswers struct {
	host string
	fsid func() string

	mu     sync.Mutex
	out    map[string][]byte
	fail   map[string]agentFail
	calls  map[string]int
	delay  time.Duration
	noBins int // answer 127 ("no such file") this many times
	// active counts commands running on all hosts sharing it.
	active, maxActive *atomic.Int64
}

type agentFail struct {
	code   int
	stderr string
}

func newAgentAnswers(host string, fsid func() string) *agentAnswers {
	return &agentAnswers{
		host: host, fsid: fsid,
		out: map[string][]byte{
			"gather-facts":  fakeFacts(host),
			"list-networks": fakeNetworks(host),
			"inventory":     fakeDevices(host),
		},
		fail:  map[string]agentFail{},
		calls: map[string]int{},
	}
}

func (a *agentAnswers) setFail(sub string, code int, stderr string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if code == 0 {
		delete(a.fail, sub)
		return
	}
	a.fail[sub] = agentFail{code, stderr}
}

func (a *agentAnswers) count(sub string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[sub]
}

func (a *agentAnswers) handle(ctx context.Context, e sshtest.Exec) int {
	sub, rest := agentSub(e.Command)
	a.mu.Lock()
	a.calls[sub]++
	fail, failing := a.fail[sub]
	out, ok := a.out[sub]
	delay := a.delay
	noBin := a.noBins > 0
	if noBin {
		a.noBins--
	}
	a.mu.Unlock()
	if a.active != nil {
		n := a.active.Add(1)
		defer a.active.Add(-1)
		for {
			m := a.maxActive.Load()
			if n <= m || a.maxActive.CompareAndSwap(m, n) {
				break
			}
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return 143
		}
	}
	if noBin {
		fields := strings.Fields(e.Command)
		for _, w := range fields {
			if strings.Contains(w, "orch.") {
				fmt.Fprintf(e.Stderr, "timeout: failed to run command %s: No such file or directory\n", w)
			}
		}
		return 127
	}
	switch {
	case sub == "" && strings.HasSuffix(strings.TrimSpace(e.Command), "true"):
		return 0 // a connection probe (set-ssh-config tests a new config)
	case failing:
		io.WriteString(e.Stderr, fail.stderr)
		return fail.code
	case sub == "check-host":
		fmt.Fprintf(e.Stdout, `{"ok":true,"hostname":%q,"errors":[]}`, a.host)
		return 0
	case sub == "ls":
		fsid := ""
		for i, w := range rest {
			if w == "--fsid" && i+1 < len(rest) {
				fsid = rest[i+1]
			}
		}
		if fsid != a.fsid() {
			fmt.Fprintf(e.Stderr, "Error EINVAL: wrong fsid %q\n", fsid)
			return 22
		}
		e.Stdout.Write(fakeLs(a.host, fsid))
		return 0
	case sub == "light":
		fmt.Fprintf(e.Stdout, `{"device":%q,"type":%q,"on":%v,"tool":"ledctl","cmd":[]}`, rest[2], rest[1], rest[0] == "on")
		return 0
	case sub == "disk-rescan":
		io.WriteString(e.Stdout, `{"adapters":["host0"],"rescanned":["host0"],"skipped":[],"failed":{},"message":"Ok. 1 adapters detected: 1 rescanned, 0 skipped, 0 failed (0.00s)"}`)
		return 0
	case ok:
		e.Stdout.Write(out)
		return 0
	}
	fmt.Fprintf(e.Stderr, "unexpected command %q\n", e.Command)
	return 127
}

// refreshEnv is a controller with fake agent hosts registered in its store
// (pinned host keys, ports through the ssh_config) and a settable clock.
type refreshEnv struct {
	*env
	now   *fakeClock
	hosts map[string]*fakeAgentHost
	key   ssh.PublicKey
}

type fakeAgentHost struct {
	*agentAnswers
	srv     *sshtest.Server
	hostKey ssh.Signer
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newRefreshEnv(t *testing.T, names ...string) *refreshEnv {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)}
	e := newEnvWithClock(t, clock.Now)
	re := &refreshEnv{env: e, now: clock, hosts: map[string]*fakeAgentHost{}}
	re.key = clusterKey(t, e)
	for _, n := range names {
		re.addHost(t, n)
	}
	return re
}

// newEnvWithClock is newEnv (hosts_test.go) with an injected clock.
func newEnvWithClock(t *testing.T, now func() time.Time) *env {
	t.Helper()
	e := newEnv(t, nil)
	ctl, err := New(Options{Store: e.st, Remote: e.ctl.remote, AgentBinary: e.agent, CheckTimeout: 10 * time.Second, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.CloseRefresh)
	e.ctl = ctl
	return e
}

func (re *refreshEnv) fsid() string {
	cl, _ := re.st.GetCluster()
	return cl.FSID
}

// addHost starts a fake agent host and registers it directly in the store.
func (re *refreshEnv) addHost(t *testing.T, name string) *fakeAgentHost {
	t.Helper()
	a := newAgentAnswers(name, re.fsid)
	fh := &fakeAgentHost{agentAnswers: a, hostKey: newHostKey(t)}
	fh.start(t, re.key, "")
	re.hosts[name] = fh
	if err := re.st.PutHost(store.Host{Name: name, Addr: "127.0.0.1", HostKey: fh.srv.AuthorizedHostKey(), Labels: []string{"lab"}}); err != nil {
		t.Fatal(err)
	}
	re.writeSSHConfig(t)
	return fh
}

func (fh *fakeAgentHost) start(t *testing.T, authorized ssh.PublicKey, addr string) {
	t.Helper()
	srv, err := sshtest.New(sshtest.Options{
		Addr: addr, HostKey: fh.hostKey, AuthorizedKeys: []ssh.PublicKey{authorized},
		SFTPDir: t.TempDir(), Handler: fh.handle,
	})
	if err != nil {
		t.Fatal(err)
	}
	fh.srv = srv
	t.Cleanup(func() { srv.Close() })
}

// writeSSHConfig points every host name at its server's port.
func (re *refreshEnv) writeSSHConfig(t *testing.T) {
	t.Helper()
	var b strings.Builder
	for name, fh := range re.hosts {
		fmt.Fprintf(&b, "Host %s\n  Port %d\n  StrictHostKeyChecking yes\n", name, fh.srv.Port())
	}
	if _, err := re.ctl.SetSSHConfig(context.Background(), b.String()); err != nil {
		t.Fatal(err)
	}
}

func (re *refreshEnv) cache(t *testing.T, host string) store.HostCache {
	t.Helper()
	hc, err := re.st.GetHostCache(host)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}
