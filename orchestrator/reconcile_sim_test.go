package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/sshexec/sshtest"
	"github.com/orchceph/orch/store"
	"golang.org/x/crypto/ssh"
)

// simHost is an in-process SSH server running a stateful fake of the host
// agent: deploy, rm-daemon, unit and ls act on an in-memory daemon table,
// and the probes (gather-facts, list-networks, inventory, check-host)
// answer like a small real host. It records every lifecycle command in
// order, so tests can check what the controller did and in which order.
type simHost struct {
	name    string
	ip      string
	srv     *sshtest.Server
	hostKey ssh.Signer
	log     *simLog

	mu      sync.Mutex
	daemons map[string]*simDaemon
	// busyPorts are held by something other than orch's daemons.
	busyPorts map[int]bool
	// failDeploy makes deploys fail with this message (exit 1).
	failDeploy string
	lsCalls    int
}

type simDaemon struct {
	req     agent.DeployRequest
	state   string
	created time.Time
}

// simLog is the cluster-wide, ordered log of lifecycle commands.
type simLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *simLog) add(s string) {
	l.mu.Lock()
	l.entries = append(l.entries, s)
	l.mu.Unlock()
}

func (l *simLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

func (l *simLog) count(prefix string) int {
	n := 0
	for _, e := range l.all() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// simArgs parses the words after "agent" (unquoted; orch never sends
// spaces in these arguments).
func simArgs(cmd string) (sub string, flags map[string]string, pos []string) {
	f := strings.Fields(cmd)
	flags = map[string]string{}
	for i, w := range f {
		if strings.Trim(w, "'") != "agent" || i+1 >= len(f) {
			continue
		}
		sub = strings.Trim(f[i+1], "'")
		rest := f[i+2:]
		for j := 0; j < len(rest); j++ {
			w := strings.Trim(rest[j], "'")
			if strings.HasPrefix(w, "--") {
				if j+1 < len(rest) && !strings.HasPrefix(strings.Trim(rest[j+1], "'"), "--") && w != "--force" {
					flags[w] = strings.Trim(rest[j+1], "'")
					j++
				} else {
					flags[w] = "true"
				}
				continue
			}
			pos = append(pos, w)
		}
		break
	}
	return sub, flags, pos
}

func (h *simHost) handle(ctx context.Context, e sshtest.Exec) int {
	if f := strings.Fields(e.Command); len(f) > 0 && f[len(f)-1] == "true" {
		return 0 // connection tests
	}
	sub, flags, pos := simArgs(e.Command)
	switch sub {
	case "check-host":
		fmt.Fprintf(e.Stdout, `{"hostname":%q,"errors":[]}`, h.name)
		return 0
	case "gather-facts":
		fmt.Fprintf(e.Stdout, `{"hostname":%q,"shortname":%q,"memory_total_kb":1000000}`, h.name, h.name)
		return 0
	case "list-networks":
		fmt.Fprintf(e.Stdout, `{"10.9.0.0/24":{"eth0":[%q]}}`, h.ip)
		return 0
	case "inventory":
		io.WriteString(e.Stdout, `[]`)
		return 0
	case "ls":
		return h.ls(e, flags["--fsid"])
	case "deploy":
		return h.deploy(e)
	case "rm-daemon":
		return h.rmDaemon(e, flags["--name"])
	case "unit":
		if len(pos) != 1 {
			fmt.Fprintln(e.Stderr, "Error EINVAL: unit needs a verb")
			return 22
		}
		return h.unit(e, flags["--name"], pos[0])
	}
	fmt.Fprintf(e.Stderr, "unexpected command %q\n", e.Command)
	return 127
}

func (h *simHost) ls(e sshtest.Exec, fsid string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lsCalls++
	names := make([]string, 0, len(h.daemons))
	for n := range h.daemons {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []agent.DaemonStatus{}
	for _, n := range names {
		d := h.daemons[n]
		if d.req.FSID != fsid {
			continue
		}
		meta := map[string]json.RawMessage{}
		mb, _ := json.Marshal(d.req.Meta)
		_ = json.Unmarshal(mb, &meta)
		cid := fmt.Sprintf("%064x", len(n)*7919+int(d.created.UnixNano()%1000))
		img, iid := d.req.Image, "0123456789abcdef0123456789abcdef"
		at := d.created
		out = append(out, agent.DaemonStatus{Style: "cephadm:v1", Name: n, FSID: fsid,
			SystemdUnit: "ceph-" + fsid + "@" + n, Detail: true, Enabled: true, State: d.state,
			ContainerID: &cid, ContainerImageName: &img, ContainerImageID: &iid,
			Started: &at, Created: &at, Deployed: &at, Configured: &at, Meta: meta})
	}
	b, _ := json.Marshal(out)
	e.Stdout.Write(b)
	return 0
}

func (h *simHost) deploy(e sshtest.Exec) int {
	req, err := agent.DecodeDeployRequest(e.Stdin)
	if err != nil {
		fmt.Fprintf(e.Stderr, "Error EINVAL: %v\n", err)
		return 22
	}
	if err := req.Validate(); err != nil {
		fmt.Fprintf(e.Stderr, "Error EINVAL: %v\n", err)
		return 22
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failDeploy != "" {
		fmt.Fprintf(e.Stderr, "Error EIO: %s\n", h.failDeploy)
		return 5
	}
	old, exists := h.daemons[req.Name]
	kind := "deploy"
	switch {
	case req.Params.Reconfig:
		if !exists {
			fmt.Fprintf(e.Stderr, "Error ENOENT: cannot reconfig, data path does not exist\n")
			return 2
		}
		kind = "reconfig"
	case exists && old.state == "running":
		kind = "redeploy"
	default:
		for _, p := range req.Params.TCPPorts {
			busy := h.busyPorts[p]
			for n, d := range h.daemons {
				if n != req.Name && d.state == "running" && slices.Contains(d.req.Params.TCPPorts, p) {
					busy = true
				}
			}
			if busy {
				fmt.Fprintf(e.Stderr, "Error EADDRINUSE: deploy %s: TCP Port(s) '%d' required for %s already in use\n", req.Name, p, strings.SplitN(req.Name, ".", 2)[0])
				return 98
			}
		}
	}
	d := &simDaemon{req: *req, state: "running", created: time.Now()}
	if exists {
		d.created = old.created
	}
	h.daemons[req.Name] = d
	h.log.add(fmt.Sprintf("%s %s %s", kind, h.name, req.Name))
	fmt.Fprintf(e.Stdout, `{"fsid":%q,"name":%q,"deployment_type":"DEFAULT"}`, req.FSID, req.Name)
	return 0
}

func (h *simHost) rmDaemon(e sshtest.Exec, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.daemons[name]; !ok {
		fmt.Fprintf(e.Stderr, "Error ENOENT: rm-daemon %s: daemon not found\n", name)
		return 2
	}
	delete(h.daemons, name)
	h.log.add(fmt.Sprintf("rm %s %s", h.name, name))
	fmt.Fprintf(e.Stdout, `{"name":%q}`, name)
	return 0
}

func (h *simHost) unit(e sshtest.Exec, name, verb string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, ok := h.daemons[name]
	if !ok {
		fmt.Fprintf(e.Stderr, "Error ENOENT: unit %s: daemon not found\n", name)
		return 2
	}
	switch verb {
	case "start", "restart":
		d.state = "running"
	case "stop":
		d.state = "stopped"
	}
	if verb != "reset-failed" {
		h.log.add(fmt.Sprintf("unit-%s %s %s", verb, h.name, name))
	}
	fmt.Fprintf(e.Stdout, `{"name":%q}`, name)
	return 0
}

func (h *simHost) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for n := range h.daemons {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// simCluster is a controller with its reconciler over simHosts.
type simCluster struct {
	t     *testing.T
	e     *env
	r     *Reconciler
	hosts map[string]*simHost
	order []string
	log   *simLog
	key   ssh.PublicKey
}

func newSimCluster(t *testing.T, names ...string) *simCluster {
	t.Helper()
	e := newEnv(t, nil)
	t.Cleanup(e.ctl.CloseRefresh)
	sc := &simCluster{t: t, e: e, hosts: map[string]*simHost{}, log: &simLog{}}
	sc.key = clusterKey(t, e)
	for _, n := range names {
		sc.addHost(n)
	}
	sc.r = NewReconciler(e.ctl, ReconcilerOptions{Seed: 42, Interval: time.Hour, DeployTimeout: 20 * time.Second})
	return sc
}

func (sc *simCluster) addHost(name string) *simHost {
	t := sc.t
	t.Helper()
	h := &simHost{name: name, ip: fmt.Sprintf("10.9.0.%d", len(sc.order)+1), hostKey: newHostKey(t), log: sc.log,
		daemons: map[string]*simDaemon{}, busyPorts: map[int]bool{}}
	sc.startHost(h, "")
	sc.hosts[name] = h
	sc.order = append(sc.order, name)
	if err := sc.e.st.PutHost(store.Host{Name: name, Addr: "127.0.0.1", HostKey: h.srv.AuthorizedHostKey()}); err != nil {
		t.Fatal(err)
	}
	sc.writeSSHConfig()
	return h
}

// startHost (re)starts a host's SSH server, on addr ("" for a new port).
func (sc *simCluster) startHost(h *simHost, addr string) {
	t := sc.t
	t.Helper()
	srv, err := sshtest.New(sshtest.Options{Addr: addr, HostKey: h.hostKey, AuthorizedKeys: []ssh.PublicKey{sc.key},
		SFTPDir: t.TempDir(), Handler: h.handle})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	t.Cleanup(func() { srv.Close() })
}

// stopHost takes a host's SSH server down (the host becomes unreachable).
func (sc *simCluster) stopHost(name string) string {
	h := sc.hosts[name]
	addr := h.srv.Addr()
	h.srv.Close()
	sc.e.pool.Remove(name)
	return addr
}

func (sc *simCluster) writeSSHConfig() {
	sc.t.Helper()
	var b strings.Builder
	for _, n := range sc.order {
		fmt.Fprintf(&b, "Host %s\n  Port %d\n  StrictHostKeyChecking yes\n  ConnectTimeout 2\n", n, sc.hosts[n].srv.Port())
	}
	if _, err := sc.e.ctl.SetSSHConfig(context.Background(), b.String()); err != nil {
		sc.t.Fatal(err)
	}
}

// converge runs passes until one changes nothing (at most max).
func (sc *simCluster) converge(max int) int {
	sc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 1; i <= max; i++ {
		if !sc.r.Pass(ctx) {
			return i
		}
	}
	sc.t.Fatalf("no convergence after %d passes; log: %v", max, sc.log.all())
	return max
}

func (sc *simCluster) apply(specs ...map[string]any) api.ApplyResult {
	sc.t.Helper()
	res, err := sc.r.Apply(context.Background(), api.ApplyRequest{Specs: specs})
	if err != nil {
		sc.t.Fatalf("apply: %v", err)
	}
	return res
}

// allDaemons lists every daemon on every sim host as "host:name".
func (sc *simCluster) allDaemons() []string {
	var out []string
	for _, n := range sc.order {
		for _, d := range sc.hosts[n].names() {
			out = append(out, n+":"+d)
		}
	}
	return out
}

func containerSpec(id string, count int, port int, extra map[string]any) map[string]any {
	s := map[string]any{
		"service_type": "container", "service_id": id,
		"placement": map[string]any{"count": count},
		"spec":      map[string]any{"image": "localhost/orch-testapp:latest", "ports": []any{port}},
	}
	for k, v := range extra {
		s["spec"].(map[string]any)[k] = v
	}
	return s
}
