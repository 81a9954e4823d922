package orchestrator

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/agent"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

// fakeOSD is one OSD of osdRmEnv's cluster.
type fakeOSD struct {
	host      string
	weight    float64
	pgs       int
	status    string // up, down, destroyed
	out       bool
	dev, uuid string
	// rawID, when set, is the id raw list reports (a stale bluestore).
	rawID *int
}

// osdRmEnv is a cephSvcEnv whose cluster has OSDs: it answers osd tree,
// osd df, ok-to-stop, safe-to-destroy and the OSD state changes, and
// ceph-volume raw list and lvm zap. cmds records the state-changing
// commands in order ("reweight 3 0", "rm-daemon osd.3", "down 3",
// "purge 3", "zap /dev/sdb --destroy", ...).
type osdRmEnv struct {
	*cephSvcEnv
	osds map[int]*fakeOSD
	cmds []string
	// notSafe, notOK and fail make safe-to-destroy, ok-to-stop or a
	// command ("purge", "down", ...) fail.
	notSafe, notOK bool
	fail           map[string]bool
	// upAgain is how many destroy/purge calls find the OSD up again (a
	// stopped OSD the monitors still had up).
	upAgain int
}

func newOSDRmEnv(t *testing.T) *osdRmEnv {
	t.Helper()
	e := &osdRmEnv{cephSvcEnv: newCephSvcEnv(t), osds: map[int]*fakeOSD{}, fail: map[string]bool{}}
	bkey, _ := newCephKey(rand.Reader, time.Now())
	if err := e.st.SetSecret(store.KeyringSecret("client.bootstrap-osd"), store.Secret(minimalKeyring("client.bootstrap-osd", bkey))); err != nil {
		t.Fatal(err)
	}
	e.addOSD(t, 3, "h2", "/dev/sdb", 0.5, 5)
	e.addOSD(t, 4, "h2", "/dev/sdc", 0.25, 0)
	e.fake.hook(func(c cephFakeCall) ([]byte, error, bool) {
		if len(c.Argv) >= 5 && c.Argv[0] == "env" && c.Argv[4] == cephVolumeScript {
			return e.cephVolume(t, c)
		}
		if len(c.Argv) > 2 && c.Argv[1] == "agent" && c.Argv[2] == "rm-daemon" {
			e.cmds = append(e.cmds, "rm-daemon "+c.Argv[slices.Index(c.Argv, "--name")+1])
			return nil, nil, false
		}
		i := slices.Index(c.Argv, "--connect-timeout")
		if c.Argv[0] != "podman" || i < 0 || c.Argv[i+2] != "osd" {
			return nil, nil, false
		}
		return e.osdCommand(c, c.Argv[i+3:])
	})
	return e
}

func (e *osdRmEnv) addOSD(t *testing.T, id int, host, dev string, weight float64, pgs int) {
	t.Helper()
	e.osds[id] = &fakeOSD{host: host, weight: weight, pgs: pgs, status: "up", dev: dev, uuid: fmt.Sprintf("uuid-%d", id)}
	e.fake.mu.Lock()
	e.fake.daemons[fmt.Sprintf("osd.%d", id)] = &agent.DeployRequest{FSID: e.fsid, Name: fmt.Sprintf("osd.%d", id)}
	e.fake.mu.Unlock()
	e.writeDaemons(t)
}

// writeDaemons caches the osd daemons of the fake as h2's daemon list.
func (e *osdRmEnv) writeDaemons(t *testing.T) {
	t.Helper()
	var ds []map[string]any
	e.fake.mu.Lock()
	for _, n := range bootSorted(bootKeys(e.fake.daemons)) {
		if id, ok := strings.CutPrefix(n, "osd."); ok {
			ds = append(ds, map[string]any{"daemon_type": "osd", "daemon_id": id, "daemon_name": n, "hostname": "h2", "service_name": "osd"})
		}
	}
	e.fake.mu.Unlock()
	b, _ := json.Marshal(ds)
	if ds == nil {
		b = []byte("[]")
	}
	if err := e.st.UpdateHostCache("h2", store.CacheDaemons, b, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func (e *osdRmEnv) cephVolume(t *testing.T, c cephFakeCall) ([]byte, error, bool) {
	args := c.Argv[7:]
	switch {
	case args[0] == "raw" && args[1] == "list":
		m := map[string]rawOSD{}
		for id, o := range e.osds {
			if o.host == c.Host && o.dev != "" {
				if o.rawID != nil {
					id = *o.rawID
				}
				m[o.uuid] = rawOSD{CephFSID: e.fsid, Device: o.dev, OSDID: id, OSDUUID: o.uuid, Type: "bluestore"}
			}
		}
		m["other"] = rawOSD{CephFSID: "other-fsid", Device: "/dev/sdz", OSDID: 1, OSDUUID: "other"}
		b, _ := json.Marshal(m)
		return b, nil, true
	case args[0] == "raw" && args[1] == "prepare":
		e.cmds = append(e.cmds, "prepare "+strings.Join(args[2:], " "))
		if e.fail["prepare"] {
			return nil, fakeExit(c.Host, c.Argv, 1, "--> RuntimeError: The osd ID 3 is already in use or does not exist."), true
		}
		dev := args[slices.Index(args, "--data")+1]
		id := 100
		if i := slices.Index(args, "--osd-id"); i > 0 {
			id, _ = strconv.Atoi(args[i+1])
		}
		e.osds[id] = &fakeOSD{host: c.Host, dev: dev, uuid: fmt.Sprintf("uuid-new-%d", id), status: "up", weight: 0.5}
		return nil, nil, true
	case args[0] == "lvm" && args[1] == "zap":
		if e.fail["zap"] {
			return nil, fakeExit(c.Host, c.Argv, 1, "--> RuntimeError: zap failed"), true
		}
		dev := args[len(args)-1]
		e.cmds = append(e.cmds, "zap "+strings.Join(args[2:], " "))
		for _, o := range e.osds {
			if o.host == c.Host && o.dev == dev {
				o.dev = ""
			}
		}
		return nil, nil, true
	}
	t.Errorf("unexpected ceph-volume %v", args)
	return nil, fakeExit(c.Host, c.Argv, 1, "no"), true
}

// osdCommand answers `ceph osd ARGS`.
func (e *osdRmEnv) osdCommand(c cephFakeCall, args []string) ([]byte, error, bool) {
	fail := func(code int, name, msg string) ([]byte, error, bool) {
		return nil, fakeExit(c.Host, c.Argv, code, "Error "+name+": "+msg), true
	}
	ids := func() []int {
		var out []int
		for _, a := range args[1:] {
			if id, err := strconv.Atoi(strings.TrimPrefix(a, "osd.")); err == nil {
				out = append(out, id)
			}
		}
		return out
	}
	get := func(id int) *fakeOSD { return e.osds[id] }
	if e.fail[args[0]] {
		return fail(16, "EBUSY", "injected failure of "+args[0])
	}
	switch args[0] {
	case "tree":
		var nodes []map[string]any
		var children []int
		for id, o := range e.osds {
			children = append(children, id)
			nodes = append(nodes, map[string]any{"id": id, "name": fmt.Sprintf("osd.%d", id), "type": "osd", "status": o.status, "crush_weight": o.weight})
		}
		nodes = append(nodes, map[string]any{"id": -2, "name": "h2", "type": "host", "children": children})
		b, _ := json.Marshal(map[string]any{"nodes": nodes, "stray": []any{}})
		return b, nil, true
	case "df":
		var nodes []map[string]any
		for id, o := range e.osds {
			nodes = append(nodes, map[string]any{"id": id, "pgs": o.pgs})
		}
		b, _ := json.Marshal(map[string]any{"nodes": nodes})
		return b, nil, true
	case "dump":
		var osds []map[string]any
		for id, o := range e.osds {
			osds = append(osds, map[string]any{"osd": id, "uuid": o.uuid})
		}
		b, _ := json.Marshal(map[string]any{"osds": osds})
		return b, nil, true
	case "ok-to-stop":
		if e.notOK {
			return fail(16, "EBUSY", "unsafe to stop osd(s) at this time")
		}
		return nil, nil, true
	case "safe-to-destroy":
		for _, id := range ids() {
			if o := get(id); o != nil && o.pgs > 0 || e.notSafe {
				return fail(16, "EBUSY", fmt.Sprintf("OSD(s) %d have %d pgs currently mapped to them.", id, o.pgs))
			}
		}
		return nil, nil, true
	case "crush":
		id, _ := strconv.Atoi(strings.TrimPrefix(args[2], "osd."))
		w, _ := strconv.ParseFloat(args[3], 64)
		get(id).weight = w
		e.cmds = append(e.cmds, "reweight "+strconv.Itoa(id)+" "+args[3])
	case "out", "in", "down":
		id := ids()[0]
		if args[0] == "down" {
			get(id).status = "down"
		} else {
			get(id).out = args[0] == "out"
		}
		e.cmds = append(e.cmds, args[0]+" "+args[1])
	case "destroy-actual", "purge-actual":
		if e.upAgain > 0 {
			e.upAgain--
			e.cmds = append(e.cmds, "refused: up")
			return fail(16, "EBUSY", fmt.Sprintf("osd.%s is not `down`.", args[1]))
		}
		return e.destroyOrPurge(args, ids()[0], get)
	default:
		return nil, nil, false
	}
	return nil, nil, true
}

func (e *osdRmEnv) destroyOrPurge(args []string, id int, get func(int) *fakeOSD) ([]byte, error, bool) {
	fail := func(code int, name, msg string) ([]byte, error, bool) {
		return nil, fakeExit("h1", args, code, "Error "+name+": "+msg), true
	}
	switch args[0] {
	case "destroy-actual":
		if args[2] != "--yes-i-really-mean-it" {
			return fail(1, "EPERM", "are you SURE?")
		}
		get(id).status = "destroyed"
		e.cmds = append(e.cmds, "destroy "+args[1])
	case "purge-actual":
		if args[2] != "--yes-i-really-mean-it" {
			return fail(1, "EPERM", "are you SURE?")
		}
		delete(e.osds, id)
		e.cmds = append(e.cmds, "purge "+args[1])
	}
	return nil, nil, true
}

// process runs the queue step of one pass over a fresh view.
func (e *osdRmEnv) process(t *testing.T, r *Reconciler) *pass {
	t.Helper()
	v, err := r.loadView(viewOptions{digests: true})
	if err != nil {
		t.Fatal(err)
	}
	r.overlay(v)
	p := newPass(context.Background(), r, v)
	p.processOSDRemovals()
	return p
}

func (e *osdRmEnv) queue(t *testing.T) []store.OSDRemoval {
	t.Helper()
	q, err := e.st.ListOSDRemovals()
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestRemoveOSDsQueues(t *testing.T) {
	tests := []struct {
		name   string
		req    api.OSDRemoveRequest
		want   string
		queued []int
		err    bool
	}{
		{name: "zap", req: api.OSDRemoveRequest{OSDIDs: []int{3}, Zap: true}, want: "Scheduled OSD(s) for removal.", queued: []int{3}},
		{name: "no zap note", req: api.OSDRemoveRequest{OSDIDs: []int{3, 4}},
			want: "Scheduled OSD(s) for removal.\nVG/LV for the OSDs won't be zapped (--zap wasn't passed).\nRun the `orch osd rm` command with `--zap` to zap the VG/LV.", queued: []int{3, 4}},
		{name: "unknown ids skipped", req: api.OSDRemoveRequest{OSDIDs: []int{7, 3}, Zap: true}, want: "Scheduled OSD(s) for removal.", queued: []int{3}},
		{name: "none found", req: api.OSDRemoveRequest{OSDIDs: []int{7, 8}}, want: "Unable to find OSDs: ['7', '8']"},
		{name: "no ids", req: api.OSDRemoveRequest{}, err: true},
		{name: "negative", req: api.OSDRemoveRequest{OSDIDs: []int{-1}}, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOSDRmEnv(t)
			msg, err := e.r.RemoveOSDs(context.Background(), tt.req)
			if tt.err {
				if !errors.Is(err, spec.ErrInvalidSpec) {
					t.Fatalf("RemoveOSDs = %q, %v; want EINVAL", msg, err)
				}
				return
			}
			if err != nil || msg != tt.want {
				t.Fatalf("RemoveOSDs = %q, %v; want %q", msg, err, tt.want)
			}
			var got []int
			for _, q := range e.queue(t) {
				got = append(got, q.OSDID)
				if q.Hostname != "h2" || q.ProcessStartedAt == nil || q.Zap != tt.req.Zap || q.Started {
					t.Errorf("entry %+v", q)
				}
			}
			if !slices.Equal(got, tt.queued) {
				t.Errorf("queued %v, want %v", got, tt.queued)
			}
			if len(e.cmds) != 0 {
				t.Errorf("queueing ran %v", e.cmds)
			}
		})
	}
}

// TestOSDRemovalStateMachine walks osd.3 (5 PGs) through the queue.
func TestOSDRemovalStateMachine(t *testing.T) {
	tests := []struct {
		name string
		req  api.OSDRemoveRequest
		// passes: PGs of osd.3 before each pass.
		passes []int
		want   []string
		// left: osd.3 still in the cluster (and its state).
		left string
	}{
		{name: "drain, purge, zap", req: api.OSDRemoveRequest{OSDIDs: []int{3}, Zap: true}, passes: []int{5, 5, 0},
			want: []string{"reweight 3 0", "rm-daemon osd.3", "down 3", "purge 3", "zap --destroy /dev/sdb"}},
		{name: "no-destroy zap", req: api.OSDRemoveRequest{OSDIDs: []int{3}, Zap: true, NoDestroy: true}, passes: []int{0},
			want: []string{"rm-daemon osd.3", "down 3", "purge 3", "zap /dev/sdb"}},
		{name: "no zap", req: api.OSDRemoveRequest{OSDIDs: []int{3}}, passes: []int{5, 0},
			want: []string{"reweight 3 0", "rm-daemon osd.3", "down 3", "purge 3"}},
		{name: "replace", req: api.OSDRemoveRequest{OSDIDs: []int{3}, Replace: true}, passes: []int{5, 0},
			want: []string{"out 3", "rm-daemon osd.3", "down 3", "destroy 3"}, left: "destroyed"},
		{name: "replace and zap", req: api.OSDRemoveRequest{OSDIDs: []int{3}, Replace: true, Zap: true}, passes: []int{0},
			want: []string{"rm-daemon osd.3", "down 3", "destroy 3", "zap --destroy /dev/sdb"}, left: "destroyed"},
		// --force does not wait for the drain, but safe-to-destroy still
		// has to agree (cephadm): here it does once the PGs are gone.
		{name: "force", req: api.OSDRemoveRequest{OSDIDs: []int{3}, Force: true}, passes: []int{5, 0},
			want: []string{"reweight 3 0", "rm-daemon osd.3", "down 3", "purge 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOSDRmEnv(t)
			if _, err := e.r.RemoveOSDs(context.Background(), tt.req); err != nil {
				t.Fatal(err)
			}
			for i, pgs := range tt.passes {
				if o := e.osds[3]; o != nil {
					o.pgs = pgs
				}
				e.process(t, e.r)
				q := e.queue(t)
				if last := i == len(tt.passes)-1; last != (len(q) == 0) {
					t.Fatalf("after pass %d (pgs %d): queue %+v; commands %v", i, pgs, q, e.cmds)
				}
				if len(q) == 1 {
					if !q[0].Started || q[0].OriginalWeight == nil || *q[0].OriginalWeight != 0.5 || q[0].PGCount == nil || *q[0].PGCount != pgs {
						t.Errorf("pass %d: entry %+v", i, q[0])
					}
					if pgs > 0 && (!q[0].Draining || q[0].DrainStartedAt == nil) {
						t.Errorf("pass %d: not draining: %+v", i, q[0])
					}
				}
			}
			if !slices.Equal(e.cmds, tt.want) {
				t.Errorf("commands %v, want %v", e.cmds, tt.want)
			}
			o := e.osds[3]
			switch {
			case tt.left == "" && o != nil:
				t.Errorf("osd.3 left: %+v", o)
			case tt.left != "" && (o == nil || o.status != tt.left):
				t.Errorf("osd.3 = %+v, want %s", o, tt.left)
			}
			if _, ok := e.fake.daemons["osd.3"]; ok {
				t.Error("osd.3 daemon not removed")
			}
			if _, ok := e.fake.auth["osd.3"]; ok {
				t.Error("osd.3 key not removed")
			}
			if e.osds[4] == nil || e.osds[4].weight != 0.25 || e.fake.daemons["osd.4"] == nil {
				t.Errorf("osd.4 touched: %+v", e.osds[4])
			}
			hc, err := e.st.GetHostCache("h2")
			if err != nil || !hc.RefreshNeeded.Devices {
				t.Errorf("h2 devices not flagged for refresh: %+v, %v", hc.RefreshNeeded, err)
			}
			claims := e.r.osdIDClaims("h2")
			if tt.req.Replace != slices.Equal(claims, []int{3}) {
				t.Errorf("id claims on h2 = %v", claims)
			}
			e.checkNoSecretInArgv(t)
		})
	}
}

// TestOSDRemovalWaits: an OSD that is not safe to destroy, or that cannot
// be stopped, stays queued and untouched.
func TestOSDRemovalWaits(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *osdRmEnv)
		force   bool
		want    []string
		drained bool
	}{
		{name: "not safe to destroy", setup: func(e *osdRmEnv) { e.osds[3].pgs = 0; e.notSafe = true }},
		{name: "force is still not safe", setup: func(e *osdRmEnv) { e.notSafe = true }, force: true, want: []string{"reweight 3 0"}, drained: true},
		{name: "not ok to stop", setup: func(e *osdRmEnv) { e.notOK = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOSDRmEnv(t)
			tt.setup(e)
			if _, err := e.r.RemoveOSDs(context.Background(), api.OSDRemoveRequest{OSDIDs: []int{3}, Force: tt.force}); err != nil {
				t.Fatal(err)
			}
			e.process(t, e.r)
			e.process(t, e.r)
			q := e.queue(t)
			if len(q) != 1 || q[0].Draining != tt.drained || !slices.Equal(e.cmds, tt.want) {
				t.Errorf("queue %+v, commands %v", q, e.cmds)
			}
		})
	}
}

// TestOSDRemovalFailuresRetry: a failing step leaves the entry queued with
// an event, and the next pass finishes the job.
func TestOSDRemovalFailuresRetry(t *testing.T) {
	for _, step := range []string{"down", "purge-actual", "zap"} {
		t.Run(step, func(t *testing.T) {
			e := newOSDRmEnv(t)
			e.osds[3].pgs = 0
			if _, err := e.r.RemoveOSDs(context.Background(), api.OSDRemoveRequest{OSDIDs: []int{3}, Zap: true}); err != nil {
				t.Fatal(err)
			}
			e.fail[step] = true
			e.process(t, e.r)
			if q := e.queue(t); len(q) != 1 {
				t.Fatalf("queue after a failed %s: %+v", step, q)
			}
			ev, _ := e.st.ListEvents(store.EventDaemon, "osd.3")
			if len(ev) == 0 || !strings.Contains(ev[len(ev)-1].Message, "Failed to remove") {
				t.Errorf("events %+v", ev)
			}
			delete(e.fail, step)
			e.writeDaemons(t) // the daemon list as the refresh would show it
			e.process(t, e.r)
			if q := e.queue(t); len(q) != 0 || e.osds[3] != nil {
				t.Errorf("after the retry: queue %+v, osd %+v, commands %v", q, e.osds[3], e.cmds)
			}
		})
	}
}

// TestOSDRemovalSurvivesRestart: a new reconciler over the same store
// carries on with a draining OSD without starting it again.
func TestOSDRemovalSurvivesRestart(t *testing.T) {
	e := newOSDRmEnv(t)
	if _, err := e.r.RemoveOSDs(context.Background(), api.OSDRemoveRequest{OSDIDs: []int{3}}); err != nil {
		t.Fatal(err)
	}
	e.process(t, e.r)
	e.osds[3].weight = 0 // as drained
	r2 := NewReconciler(e.ctl, ReconcilerOptions{Seed: 4})
	e.process(t, r2)
	q := e.queue(t)
	if len(q) != 1 || !q[0].Draining || *q[0].OriginalWeight != 0.5 {
		t.Fatalf("after restart: %+v", q)
	}
	e.osds[3].pgs = 0
	e.process(t, r2)
	if q := e.queue(t); len(q) != 0 {
		t.Fatalf("queue %+v", q)
	}
	if want := []string{"reweight 3 0", "rm-daemon osd.3", "down 3", "purge 3"}; !slices.Equal(e.cmds, want) {
		t.Errorf("commands %v, want %v", e.cmds, want)
	}
}

func TestOSDRemovalDropsOSDsGoneFromCluster(t *testing.T) {
	e := newOSDRmEnv(t)
	if _, err := e.r.RemoveOSDs(context.Background(), api.OSDRemoveRequest{OSDIDs: []int{3}}); err != nil {
		t.Fatal(err)
	}
	delete(e.osds, 3)
	e.process(t, e.r)
	if q := e.queue(t); len(q) != 0 || len(e.cmds) != 0 {
		t.Errorf("queue %+v, commands %v", q, e.cmds)
	}
}

func TestOSDRemovalEmptyQueueAsksNothing(t *testing.T) {
	e := newOSDRmEnv(t)
	n := len(e.fake.Calls())
	e.process(t, e.r)
	if calls := e.fake.Calls()[n:]; len(calls) != 0 {
		t.Errorf("an empty queue ran %v", calls)
	}
}

func TestStopRemoveOSDs(t *testing.T) {
	tests := []struct {
		name    string
		replace bool
		passes  int
		want    []string
	}{
		{name: "before the drain", passes: 0},
		{name: "draining", passes: 1, want: []string{"reweight 3 0", "reweight 3 0.5"}},
		{name: "replace draining", replace: true, passes: 1, want: []string{"out 3", "in 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOSDRmEnv(t)
			ctx := context.Background()
			if _, err := e.r.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{3, 4}, Replace: tt.replace}); err != nil {
				t.Fatal(err)
			}
			e.osds[4].pgs = 5 // osd.4 must stay queued
			for range tt.passes {
				e.process(t, e.r)
			}
			msg, err := e.r.StopRemoveOSDs(ctx, []int{3})
			if err != nil || msg != "Stopped OSD(s) removal" {
				t.Fatalf("StopRemoveOSDs = %q, %v", msg, err)
			}
			var rest []string
			for _, c := range e.cmds {
				if !strings.HasSuffix(c, " 4") && !strings.Contains(c, " 4 ") {
					rest = append(rest, c)
				}
			}
			if !slices.Equal(rest, tt.want) {
				t.Errorf("commands %v, want %v", rest, tt.want)
			}
			if q := e.queue(t); len(q) != 1 || q[0].OSDID != 4 {
				t.Errorf("queue %+v", q)
			}
			msg, err = e.r.StopRemoveOSDs(ctx, []int{3, 4})
			if err != nil || msg != "Unable to find OSD in the queue: 3" {
				t.Errorf("second stop = %q, %v", msg, err)
			}
			// The pass does not bring a stopped entry back.
			e.process(t, e.r)
			if q := e.queue(t); len(q) != 1 || q[0].OSDID != 4 {
				t.Errorf("queue after a pass %+v", q)
			}
		})
	}
}

func TestOSDRemovalsStatus(t *testing.T) {
	e := newOSDRmEnv(t)
	ctx := context.Background()
	if got, err := e.r.OSDRemovals(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty queue = %+v, %v", got, err)
	}
	if _, err := e.r.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{3}, Zap: true}); err != nil {
		t.Fatal(err)
	}
	e.process(t, e.r)
	got, err := e.r.OSDRemovals(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("OSDRemovals = %+v, %v", got, err)
	}
	o := got[0]
	if o.OSDID != 3 || o.Hostname != "h2" || !o.Started || !o.Draining || !o.Zap || o.PGCount == nil || *o.PGCount != 5 ||
		o.DrainStartedAt == nil || o.ProcessStartedAt == nil || o.DrainDoneAt != nil || o.DrainStatus() != "draining" {
		t.Errorf("entry %+v", o)
	}
	if _, err := time.Parse(api.TimeFormat, *o.DrainStartedAt); err != nil {
		t.Errorf("drain_started_at %q: %v", *o.DrainStartedAt, err)
	}
	b, _ := json.Marshal(o)
	for _, k := range []string{`"drain_stopped_at":null`, `"drain_done_at":null`, `"original_weight":0.5`, `"stopped":false`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON %s lacks %s", b, k)
		}
	}
}

// TestReplacedOSDsAreNotRedeployed: the drive-group handling skips OSDs
// queued for removal and the old bluestore of a destroyed OSD; the next
// OSD prepared on the host claims the destroyed id once.
func TestReplacedOSDsAreNotRedeployed(t *testing.T) {
	e := newOSDRmEnv(t)
	e.osds[3].pgs = 0
	if _, err := e.r.RemoveOSDs(context.Background(), api.OSDRemoveRequest{OSDIDs: []int{3, 4}, Replace: true}); err != nil {
		t.Fatal(err)
	}
	e.osds[4].pgs = 7
	e.process(t, e.r)
	listed := []rawOSD{{OSDID: 3, OSDUUID: "uuid-3"}, {OSDID: 4, OSDUUID: "uuid-4"}, {OSDID: 3, OSDUUID: "new"}, {OSDID: 5, OSDUUID: "uuid-5"}}
	got := e.r.withoutRemovedOSDs(slices.Clone(listed))
	if want := []rawOSD{{OSDID: 3, OSDUUID: "new"}, {OSDID: 5, OSDUUID: "uuid-5"}}; !slices.Equal(got, want) {
		t.Errorf("withoutRemovedOSDs = %+v, want %+v", got, want)
	}
	if c := e.r.osdIDClaims("h2"); !slices.Equal(c, []int{3}) {
		t.Fatalf("claims on h2 = %v", c)
	}
	if c := e.r.osdIDClaims("h1"); len(c) != 0 {
		t.Errorf("claims on h1 = %v", c)
	}
	e.r.claimUsed(3)
	if c := e.r.osdIDClaims("h2"); len(c) != 0 {
		t.Errorf("claims after reuse = %v", c)
	}
}

func TestZapDevice(t *testing.T) {
	tests := []struct {
		name  string
		req   api.ZapRequest
		setup func(t *testing.T, e *osdRmEnv)
		errno syscall.Errno
		want  string
	}{
		{name: "no force", req: api.ZapRequest{Host: "h2", Path: "/dev/sda"}, errno: syscall.EINVAL,
			want: "must pass --force to PERMANENTLY ERASE DEVICE DATA"},
		{name: "unknown host", req: api.ZapRequest{Host: "h9", Path: "/dev/sda", Force: true}, errno: syscall.EINVAL,
			want: "Host 'h9' is not a member of the cluster"},
		{name: "not scanned", req: api.ZapRequest{Host: "h1", Path: "/dev/sda", Force: true}, errno: syscall.EINVAL,
			want: "Host 'h1 hasn't been scanned yet to determine it's inventory. Please try again later."},
		{name: "bad path", req: api.ZapRequest{Host: "h2", Path: "/dev/sda;reboot", Force: true}, errno: syscall.EINVAL,
			want: `invalid device path "/dev/sda;reboot"`},
		{name: "path not found", req: api.ZapRequest{Host: "h2", Path: "/dev/sdq", Force: true}, errno: syscall.EINVAL,
			want: "Device path '/dev/sdq' not found on host 'h2'"},
		{name: "maintenance", req: api.ZapRequest{Host: "h2", Path: "/dev/sda", Force: true}, errno: syscall.EINVAL,
			setup: func(t *testing.T, e *osdRmEnv) {
				h, _ := e.st.GetHost("h2")
				h.Status = "maintenance"
				if err := e.st.PutHost(h); err != nil {
					t.Fatal(err)
				}
			}, want: "Host 'h2' is in maintenance mode, which prevents any actions against it."},
		{name: "live OSD", req: api.ZapRequest{Host: "h2", Path: "/dev/sdb", Force: true}, errno: syscall.EBUSY,
			want: "Unable to zap: device '/dev/sdb' on h2 has 1 active OSD (osd.3). Use 'ceph orch osd rm' first."},
		{name: "OSD without a daemon", req: api.ZapRequest{Host: "h2", Path: "/dev/sdb", Force: true},
			setup: func(t *testing.T, e *osdRmEnv) {
				e.fake.mu.Lock()
				delete(e.fake.daemons, "osd.3")
				e.fake.mu.Unlock()
				e.writeDaemons(t)
			}, want: "zap successful for /dev/sdb on h2"},
		{name: "free device", req: api.ZapRequest{Host: "h2", Path: "/dev/sda", Force: true}, want: "zap successful for /dev/sda on h2"},
		// osd.3 was destroyed and its id taken by a new OSD on /dev/sda:
		// the old bluestore on /dev/sdb is not live.
		{name: "id reused elsewhere", req: api.ZapRequest{Host: "h2", Path: "/dev/sdb", Force: true},
			setup: func(t *testing.T, e *osdRmEnv) {
				e.osds[3].uuid = "uuid-new"
				three := 3
				e.osds[33] = &fakeOSD{host: "h2", dev: "/dev/sdb", uuid: "uuid-3", rawID: &three}
				e.osds[3].dev = "/dev/sda"
			}, want: "zap successful for /dev/sdb on h2"},
		{name: "zap fails", req: api.ZapRequest{Host: "h2", Path: "/dev/sda", Force: true}, errno: syscall.EIO,
			setup: func(t *testing.T, e *osdRmEnv) { e.fail["zap"] = true }, want: "Zap failed: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOSDRmEnv(t)
			if err := e.st.UpdateHostCache("h2", store.CacheDevices, fakeDevices("h2"), time.Now()); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, e)
			}
			msg, err := e.r.ZapDevice(context.Background(), tt.req)
			if tt.errno == 0 {
				if err != nil || msg != tt.want {
					t.Fatalf("ZapDevice = %q, %v; want %q", msg, err, tt.want)
				}
				if want := []string{"zap --destroy " + tt.req.Path}; !slices.Equal(e.cmds, want) {
					t.Errorf("commands %v, want %v", e.cmds, want)
				}
				hc, _ := e.st.GetHostCache("h2")
				if !hc.RefreshNeeded.Devices || !hc.RefreshNeeded.Networks {
					t.Errorf("refresh flags %+v", hc.RefreshNeeded)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ZapDevice = %q, %v; want %q", msg, err, tt.want)
			}
			var ae *api.Error
			switch {
			case tt.errno == syscall.EINVAL && !errors.Is(err, spec.ErrInvalidSpec),
				tt.errno == syscall.EBUSY && (!errors.As(err, &ae) || ae.Errno() != syscall.EBUSY):
				t.Errorf("errno of %v, want %v", err, tt.errno)
			}
			if slices.ContainsFunc(e.cmds, func(c string) bool { return strings.HasPrefix(c, "zap") }) {
				t.Errorf("zapped: %v", e.cmds)
			}
		})
	}
}

// TestReplacedOSDIDIsReused: after `osd rm --replace`, the next OSD
// prepared on that host gets the destroyed id (`raw prepare --osd-id`),
// once; a failed claim is dropped so that the next try does without it.
func TestReplacedOSDIDIsReused(t *testing.T) {
	for _, failFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("prepare fails %v", failFirst), func(t *testing.T) {
			e := newOSDRmEnv(t)
			ctx := context.Background()
			e.osds[3].pgs = 0
			if _, err := e.r.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{3}, Replace: true}); err != nil {
				t.Fatal(err)
			}
			e.process(t, e.r)
			if o := e.osds[3]; o == nil || o.status != "destroyed" {
				t.Fatalf("osd.3 = %+v", o)
			}
			e.cmds = nil
			if failFirst {
				e.fail["prepare"] = true
				if _, err := e.r.CreateOSDs(ctx, "h2", []string{"/dev/sdd"}); err == nil {
					t.Fatal("CreateOSDs did not fail")
				}
				delete(e.fail, "prepare")
			}
			msg, err := e.r.CreateOSDs(ctx, "h2", []string{"/dev/sdd"})
			want, wantCmds := "Created osd(s) 3 on host 'h2'", []string{"prepare --bluestore --data /dev/sdd --osd-id 3"}
			if failFirst {
				want = "Created osd(s) 100 on host 'h2'"
				wantCmds = []string{"prepare --bluestore --data /dev/sdd --osd-id 3", "prepare --bluestore --data /dev/sdd"}
			}
			if err != nil || msg != want {
				t.Fatalf("CreateOSDs = %q, %v; want %q", msg, err, want)
			}
			if !slices.Equal(e.cmds, wantCmds) {
				t.Errorf("commands %v, want %v", e.cmds, wantCmds)
			}
			e.fake.mu.Lock()
			d3 := e.fake.daemons["osd.3"]
			e.fake.mu.Unlock()
			if !failFirst && (d3 == nil || d3.InitContainers[0].Args[4] != "uuid-new-3") {
				t.Errorf("osd.3 deployed as %+v", d3)
			}
			if c := e.r.osdIDClaims("h2"); len(c) != 0 {
				t.Errorf("claims left: %v", c)
			}
		})
	}
}

// TestOSDRemovalRetriesWhileStillUp: the monitors may still have a just
// stopped OSD up; purge's "is not `down`" refusal is retried after
// marking it down again, in the same pass.
func TestOSDRemovalRetriesWhileStillUp(t *testing.T) {
	e := newOSDRmEnv(t)
	e.osds[3].pgs = 0
	e.upAgain = 1
	if _, err := e.r.RemoveOSDs(context.Background(), api.OSDRemoveRequest{OSDIDs: []int{3}}); err != nil {
		t.Fatal(err)
	}
	e.process(t, e.r)
	want := []string{"rm-daemon osd.3", "down 3", "refused: up", "down 3", "purge 3"}
	if q := e.queue(t); len(q) != 0 || !slices.Equal(e.cmds, want) {
		t.Errorf("queue %+v, commands %v; want %v", q, e.cmds, want)
	}
}
