//go:build integration

package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
	"github.com/rs/zerolog"
)

// TestOSDRemovalLab: one lab host, bootstrap, three OSDs from `daemon add
// osd`, all through the API routes the CLI and the ceph-mgr module use:
// zap is refused without --force and for a live OSD; `osd rm --zap`
// purges an OSD, removes its container and frees its device; `osd rm
// --replace` leaves it destroyed, and is not redeployed; the destroyed
// OSD's device is zapped by `device zap`, and the next OSD there takes
// the destroyed id; `osd rm stop` takes an OSD off the queue.
func TestOSDRemovalLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	e, _, hostDisks := newCephLab(t, ctx, 1, 3, 5<<30)
	h := e.lab.Hosts()[0]
	disks := hostDisks[h.Name]
	cl, err := e.st.GetCluster()
	if err != nil {
		t.Fatal(err)
	}
	img := cl.ContainerImage
	r := NewReconciler(e.ctl, ReconcilerOptions{Interval: time.Hour, DeployTimeout: 5 * time.Minute})
	sock := filepath.Join(t.TempDir(), "api.sock")
	srv := api.NewServer(api.NewHandler(r, spec.ErrInvalidSpec), zerolog.Nop())
	if err := srv.ListenUnix(sock); err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	defer func() { stop(); <-served }()
	c, err := api.NewClient(api.ClientOptions{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}

	devs := []string{disks[0].Dev, disks[1].Dev, disks[2].Dev}
	t0 := time.Now()
	m, err := c.CreateOSDs(ctx, h.Name, devs)
	if err != nil {
		t.Fatalf("POST /osds: %v", err)
	}
	t.Logf("%s (%v)", m.Message, time.Since(t0).Round(time.Second))
	waitUp := func(n int) {
		t.Helper()
		var s *CephHealth
		for t0 := time.Now(); time.Since(t0) < 4*time.Minute; time.Sleep(2 * time.Second) {
			if s, err = e.ctl.CephStatus(ctx); err == nil && s.OSDMap.NumUpOSDs == n {
				return
			}
		}
		t.Fatalf("want %d OSDs up: %+v, %v", n, s, err)
	}
	waitUp(3)

	// The device of each OSD, from ceph-volume raw list.
	env, err := r.loadCephEnv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := r.rawOSDs(ctx, h.Name, img, env.conf, cl.FSID)
	if err != nil || len(listed) != 3 {
		t.Fatalf("raw list: %+v, %v", listed, err)
	}
	devOf := map[int]string{}
	for _, o := range listed {
		devOf[o.OSDID] = o.Device
	}
	t.Logf("OSD devices: %v", devOf)

	// The mgr's device_health_metrics pool (size 3, one PG) lands on one
	// OSD of this one-host cluster: that one ("busy") cannot drain here;
	// the two others ("a", "b") hold no PG and are removed at once.
	var df osdDF
	for t0 := time.Now(); time.Since(t0) < 90*time.Second; time.Sleep(3 * time.Second) {
		if err := e.ctl.CephJSON(ctx, &df, "osd", "df"); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range df.Nodes {
			total += n.PGs
		}
		if total > 0 {
			break
		}
	}
	busy, empty, busyPGs := -1, []int{}, false
	for _, n := range df.Nodes {
		if n.PGs == 0 {
			empty = append(empty, n.ID)
		} else {
			busy, busyPGs = n.ID, true
		}
	}
	sort.Ints(empty)
	if len(empty) < 2 {
		t.Fatalf("want two OSDs without PGs: %+v", df)
	}
	a, b := empty[0], empty[1]
	if busy < 0 {
		busy = empty[2]
	}
	t.Logf("PGs per OSD %+v: removing osd.%d and osd.%d, stopping osd.%d", df.Nodes, a, b, busy)

	// Zap: refused without force, and for a device with a live OSD.
	r.Pass(ctx) // the daemon lists show the OSDs
	var ae *api.Error
	if _, err := c.ZapDevice(ctx, api.ZapRequest{Host: h.Name, Path: devOf[a]}); !errors.As(err, &ae) || ae.Errno() != syscall.EINVAL ||
		!strings.Contains(err.Error(), "must pass --force to PERMANENTLY ERASE DEVICE DATA") {
		t.Errorf("zap without force = %v", err)
	}
	if _, err := c.ZapDevice(ctx, api.ZapRequest{Host: h.Name, Path: devOf[a], Force: true}); !errors.As(err, &ae) || ae.Errno() != syscall.EBUSY ||
		!strings.Contains(err.Error(), fmt.Sprintf("Unable to zap: device '%s' on %s has 1 active OSD (osd.%d)", devOf[a], h.Name, a)) {
		t.Errorf("zap of a live OSD = %v", err)
	}
	if m, err := c.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{99}}); err != nil || m.Message != "Unable to find OSDs: ['99']" {
		t.Errorf("osd rm 99 = %q, %v", m.Message, err)
	}

	// osd rm --zap A: out of the tree, container gone, device available.
	if m, err := c.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{a}, Zap: true}); err != nil || m.Message != "Scheduled OSD(s) for removal." {
		t.Fatalf("osd rm %d --zap = %q, %v", a, m.Message, err)
	}
	if q, err := c.OSDRemovals(ctx); err != nil || len(q) != 1 || q[0].OSDID != a || q[0].Hostname != h.Name || !q[0].Zap || q[0].ProcessStartedAt == nil {
		t.Fatalf("osd rm status = %+v, %v", q, err)
	}
	drainQueue := func(id int) {
		t.Helper()
		for t0 := time.Now(); time.Since(t0) < 6*time.Minute; time.Sleep(2 * time.Second) {
			r.Pass(ctx)
			q, err := c.OSDRemovals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(q) == 0 {
				t.Logf("queue empty after %v", time.Since(t0).Round(time.Second))
				return
			}
			pgs := -1
			if q[0].PGCount != nil {
				pgs = *q[0].PGCount
			}
			t.Logf("queue: osd.%d %s pgs %d", q[0].OSDID, q[0].DrainStatus(), pgs)
		}
		ev, _ := e.st.ListEvents(store.EventDaemon, fmt.Sprintf("osd.%d", id))
		out, _ := e.ctl.CephCommand(ctx, "osd", "df")
		t.Fatalf("queue not empty; events %+v\n%s", ev, out)
	}
	drainQueue(a)
	tree, err := e.ctl.OSDTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	treeNode := func(id int) *OSDTreeNode {
		for i := range tree.Nodes {
			if tree.Nodes[i].Type == "osd" && tree.Nodes[i].ID == id {
				return &tree.Nodes[i]
			}
		}
		return nil
	}
	if n := treeNode(0); n != nil {
		t.Errorf("osd.0 still in the tree: %+v", n)
	}
	noContainer := func(id int) {
		t.Helper()
		out, err := e.lab.Exec(ctx, h.Name, "podman", "ps", "--format", "{{.Names}}")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range strings.Fields(string(out)) {
			if strings.HasSuffix(n, "-osd-"+strconv.Itoa(id)) || strings.HasSuffix(n, "osd."+strconv.Itoa(id)) {
				t.Errorf("osd.%d container still running: %s", id, n)
			}
		}
	}
	noContainer(0)
	available := func(dev string) {
		t.Helper()
		if err := e.ctl.RefreshHost(ctx, h.Name, store.CacheDevices); err != nil {
			t.Fatal(err)
		}
		ds, err := e.ctl.HostDevices(h.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.Path == dev {
				if !d.Available {
					t.Errorf("%s not available after zap: %v", dev, d.RejectedReasons)
				}
				return
			}
		}
		t.Errorf("%s not in the inventory", dev)
	}
	available(devOf[a])

	// osd rm stop: the busy OSD is queued, a pass starts it, and it is
	// taken off the queue; it stays up and in with its weight.
	if _, err := c.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{busy}}); err != nil {
		t.Fatal(err)
	}
	if busyPGs { // else a pass would remove it
		r.Pass(ctx)
		q, err := c.OSDRemovals(ctx)
		if err != nil || len(q) != 1 || !q[0].Started || q[0].OriginalWeight == nil {
			t.Fatalf("queue after a pass = %+v, %v", q, err)
		}
		t.Logf("osd.%d after a pass: %s, original weight %v", busy, q[0].DrainStatus(), *q[0].OriginalWeight)
	}
	if m, err := c.StopRemoveOSDs(ctx, []int{busy}); err != nil || m.Message != "Stopped OSD(s) removal" {
		t.Errorf("osd rm stop %d = %q, %v", busy, m.Message, err)
	}
	if m, err := c.StopRemoveOSDs(ctx, []int{busy}); err != nil || m.Message != fmt.Sprintf("Unable to find OSD in the queue: %d", busy) {
		t.Errorf("osd rm stop %d again = %q, %v", busy, m.Message, err)
	}
	if q, err := c.OSDRemovals(ctx); err != nil || len(q) != 0 {
		t.Errorf("queue after stop = %+v, %v", q, err)
	}

	// osd rm --replace B: destroyed, not redeployed.
	if _, err := c.RemoveOSDs(ctx, api.OSDRemoveRequest{OSDIDs: []int{b}, Replace: true}); err != nil {
		t.Fatal(err)
	}
	drainQueue(b)
	r.Pass(ctx)
	r.Pass(ctx)
	if tree, err = e.ctl.OSDTree(ctx); err != nil {
		t.Fatal(err)
	}
	if n := treeNode(b); n == nil || n.Status != "destroyed" {
		t.Errorf("osd.%d after rm --replace: %+v", b, n)
	}
	noContainer(b)
	waitUp(1)
	if n := treeNode(busy); n == nil || n.CrushWeight == 0 {
		t.Errorf("osd.%d after rm stop: %+v", busy, n)
	}

	// A new disk: the next OSD on the host takes the destroyed id, and
	// the destroyed OSD's old bluestore (same id, not zapped) is not
	// activated.
	nd, err := e.lab.AddDisks(ctx, h.Name, 1, 5<<30)
	if err != nil {
		t.Fatal(err)
	}
	m, err = c.CreateOSDs(ctx, h.Name, []string{nd[0].Dev})
	if err != nil || m.Message != fmt.Sprintf("Created osd(s) %d on host '%s'", b, h.Name) {
		t.Errorf("daemon add osd %s after rm --replace = %q, %v", nd[0].Dev, m.Message, err)
	}
	waitUp(2)
	// The old device holds osd.B's old bluestore, but osd.B is now the
	// new disk's: zap is allowed, and frees the device.
	m, err = c.ZapDevice(ctx, api.ZapRequest{Host: h.Name, Path: devOf[b], Force: true})
	if err != nil || m.Message != fmt.Sprintf("zap successful for %s on %s", devOf[b], h.Name) {
		t.Fatalf("zap %s = %q, %v", devOf[b], m.Message, err)
	}
	available(devOf[b])
	if listed, err = r.rawOSDs(ctx, h.Name, img, env.conf, cl.FSID); err != nil {
		t.Fatal(err)
	}
	for _, o := range listed {
		if o.OSDID == b && o.Device != nd[0].Dev {
			t.Errorf("osd.%d still listed on %s", b, o.Device)
		}
	}
	out, _ := e.ctl.CephCommand(ctx, "osd", "tree")
	t.Logf("ceph osd tree:\n%s", out)
}
