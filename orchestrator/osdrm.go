package orchestrator

// OSD removal (cephadm's OSDRemovalQueue, services/osd.py): `orch osd rm`
// queues OSDs in the store; every reconcile pass, before specs are
// applied, walks the queue: start (record the CRUSH weight), drain the
// OSDs that are ok to stop (CRUSH weight 0, or `osd out` with --replace),
// wait until they hold no PG (unless --force), wait for `osd
// safe-to-destroy`, then `osd down`, remove the daemon, `osd
// destroy-actual` (--replace: the id stays, "destroyed") or `osd
// purge-actual`, zap the OSD's devices when asked, and drop the entry.
// Every step is saved in the store, so a restarted controller carries on
// from where it stopped. `orch osd rm stop` restores the weight and drops
// the entry; `orch device zap` wipes one device with ceph-volume.
//
// OSDs destroyed with --replace are remembered (setting osdReplacedKey):
// their ids are claimed by the next OSDs prepared on that host (`raw
// prepare --osd-id`, cephadm's OsdIdClaims), and their old bluestore, when
// not zapped, is never activated again by the drive-group handling.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/store"
)

// maxOSDDrainingCount is cephadm's max_osd_draining_count default: how many
// OSDs drain at once.
const maxOSDDrainingCount = 10

// osdReplacedKey is the setting holding the OSDs destroyed with --replace
// (JSON list of replacedOSD).
const osdReplacedKey = "orch/osd_replaced"

// replacedOSD is one OSD destroyed for replacement.
type replacedOSD struct {
	OSDID    int    `json:"osd_id"`
	Hostname string `json:"hostname"`
	// OSDUUIDs are the bluestore uuids of the destroyed OSD: never
	// activated again.
	OSDUUIDs []string `json:"osd_uuids,omitempty"`
	// Reused is set once a new OSD took the id.
	Reused bool `json:"reused,omitempty"`
}

// RemoveOSDs is `orch osd rm` (cephadm's remove_osds): each id that has an
// osd daemon is queued (an id already queued keeps its entry) and the loop
// is woken. As in cephadm, ids without a daemon are skipped, and when none
// has one the answer is "Unable to find OSDs: [...]", not an error.
func (r *Reconciler) RemoveOSDs(ctx context.Context, req api.OSDRemoveRequest) (string, error) {
	if len(req.OSDIDs) == 0 {
		return "", invalidf("no OSD ids to remove")
	}
	for _, id := range req.OSDIDs {
		if id < 0 {
			return "", invalidf("invalid OSD id %d", id)
		}
	}
	hosts, err := r.osdDaemonHosts()
	if err != nil {
		return "", err
	}
	now := r.now().UTC()
	var queued int
	err = r.st.Update(func(tx *store.Tx) error {
		for _, id := range req.OSDIDs {
			host, ok := hosts[id]
			if !ok {
				continue
			}
			queued++
			if _, err := tx.GetOSDRemoval(id); err == nil {
				continue
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := tx.PutOSDRemoval(store.OSDRemoval{OSDID: id, Hostname: host, Replace: req.Replace,
				Force: req.Force, Zap: req.Zap, NoDestroy: req.NoDestroy, ProcessStartedAt: &now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if queued == 0 {
		return "Unable to find OSDs: " + pyStrList(req.OSDIDs), nil
	}
	for _, id := range req.OSDIDs {
		if h, ok := hosts[id]; ok {
			r.daemonEvent(fmt.Sprintf("osd.%d", id), store.LevelInfo, "Scheduled osd.%d on host '%s' for removal", id, h)
		}
	}
	r.Wake()
	msg := "Scheduled OSD(s) for removal."
	if !req.Zap {
		msg += "\nVG/LV for the OSDs won't be zapped (--zap wasn't passed).\nRun the `orch osd rm` command with `--zap` to zap the VG/LV."
	}
	return msg, nil
}

// pyStrList renders ids as Python prints a list of strings: ['1', '2'].
func pyStrList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "'" + strconv.Itoa(id) + "'"
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// osdDaemonHosts maps the id of every known osd daemon to its host.
func (r *Reconciler) osdDaemonHosts() (map[int]string, error) {
	v, err := r.loadView(viewOptions{})
	if err != nil {
		return nil, err
	}
	r.overlay(v)
	out := map[int]string{}
	for i := range v.daemons {
		d := &v.daemons[i]
		if d.DaemonType != "osd" {
			continue
		}
		if id, err := strconv.Atoi(d.DaemonID); err == nil {
			out[id] = d.Hostname
		}
	}
	return out, nil
}

// StopRemoveOSDs is `orch osd rm stop` (cephadm's stop_remove_osds): for
// each id in order, restore the weight (or mark it in, for --replace)
// and drop it from the queue. Like cephadm it stops at the first id that
// is not queued and answers "Unable to find OSD in the queue: N". It waits
// for a running pass, so that the pass cannot act on an entry it dropped.
func (r *Reconciler) StopRemoveOSDs(ctx context.Context, ids []int) (string, error) {
	if len(ids) == 0 {
		return "", invalidf("no OSD ids to stop removing")
	}
	r.passMu.Lock()
	defer r.passMu.Unlock()
	for _, id := range ids {
		e, err := r.st.GetOSDRemoval(id)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
			return fmt.Sprintf("Unable to find OSD in the queue: %d", id), nil
		}
		if err != nil {
			return "", err
		}
		if err := r.stopDraining(ctx, &e); err != nil {
			return "", err
		}
		if err := r.st.DeleteOSDRemoval(id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		r.daemonEvent(fmt.Sprintf("osd.%d", id), store.LevelInfo, "Stopped the removal of osd.%d", id)
	}
	r.Wake()
	return "Stopped OSD(s) removal", nil
}

// stopDraining undoes the drain (cephadm's OSD.stop_draining): --replace
// OSDs are marked in again, the others get their CRUSH weight back.
func (r *Reconciler) stopDraining(ctx context.Context, e *store.OSDRemoval) error {
	id := strconv.Itoa(e.OSDID)
	switch {
	case e.Replace && e.DrainStartedAt != nil:
		if _, err := r.CephCommand(ctx, "osd", "in", id); err != nil {
			return fmt.Errorf("mark osd.%d in: %w", e.OSDID, err)
		}
	case !e.Replace && e.OriginalWeight != nil && e.DrainStartedAt != nil:
		w := strconv.FormatFloat(*e.OriginalWeight, 'f', -1, 64)
		if _, err := r.CephCommand(ctx, "osd", "crush", "reweight", "osd."+id, w); err != nil {
			return fmt.Errorf("restore the CRUSH weight of osd.%d: %w", e.OSDID, err)
		}
	}
	now := r.now().UTC()
	e.Started, e.Stopped, e.Draining, e.DrainStoppedAt = false, true, false, &now
	return nil
}

// OSDRemovals is `orch osd rm status`: the queue, by OSD id.
func (r *Reconciler) OSDRemovals(context.Context) ([]api.OSDRemoval, error) {
	q, err := r.st.ListOSDRemovals()
	if err != nil {
		return nil, err
	}
	out := make([]api.OSDRemoval, 0, len(q))
	for _, e := range q {
		out = append(out, osdRemovalJSON(e))
	}
	return out, nil
}

func osdRemovalJSON(e store.OSDRemoval) api.OSDRemoval {
	ts := func(t *time.Time) *string {
		if t == nil || t.IsZero() {
			return nil
		}
		s := fmtTime(*t)
		return &s
	}
	return api.OSDRemoval{OSDID: e.OSDID, Started: e.Started, Draining: e.Draining, Stopped: e.Stopped,
		Replace: e.Replace, Force: e.Force, Zap: e.Zap, Hostname: e.Hostname, OriginalWeight: e.OriginalWeight,
		DrainStartedAt: ts(e.DrainStartedAt), DrainStoppedAt: ts(e.DrainStoppedAt), DrainDoneAt: ts(e.DrainDoneAt),
		ProcessStartedAt: ts(e.ProcessStartedAt), PGCount: e.PGCount}
}

// osdDF is the part of `ceph osd df` the queue reads.
type osdDF struct {
	Nodes []struct {
		ID  int `json:"id"`
		PGs int `json:"pgs"`
	} `json:"nodes"`
}

// osdRemovalState is what one pass knows about the cluster's OSDs.
type osdRemovalState struct {
	tree *OSDTree
	// pgs maps OSD id → PG count; missing means unknown.
	pgs map[int]int
}

func (s *osdRemovalState) node(id int) (OSDTreeNode, bool) {
	for _, list := range [][]OSDTreeNode{s.tree.Nodes, s.tree.Stray} {
		for _, n := range list {
			if n.ID == id && n.ID >= 0 {
				return n, true
			}
		}
	}
	return OSDTreeNode{}, false
}

// processOSDRemovals is one pass over the removal queue (cephadm's
// process_removal_queue). Nothing is asked of the cluster when the queue
// is empty. A failing OSD stays queued, with an event, and is retried on
// the next pass; the others go on.
func (p *pass) processOSDRemovals() {
	q, err := p.r.st.ListOSDRemovals()
	if err != nil {
		p.r.lg.Warn().Err(err).Msg("read the OSD removal queue")
		return
	}
	if len(q) == 0 || p.ctx.Err() != nil {
		return
	}
	var st osdRemovalState
	if st.tree, err = p.r.OSDTree(p.ctx); err != nil {
		p.r.lg.Warn().Err(err).Msg("OSD removal queue: osd tree")
		return
	}
	st.pgs = map[int]int{}
	var df osdDF
	if err := p.r.CephJSON(p.ctx, &df, "osd", "df"); err != nil {
		p.r.lg.Warn().Err(err).Msg("OSD removal queue: osd df")
	}
	for _, n := range df.Nodes {
		st.pgs[n.ID] = n.PGs
	}

	// Drop the OSDs that left the cluster; start the new ones.
	live := q[:0]
	for _, e := range q {
		n, ok := st.node(e.OSDID)
		if !ok {
			p.r.lg.Info().Int("osd", e.OSDID).Msg("OSD removal queue: osd is not in the cluster any more")
			p.dropOSDRemoval(e.OSDID)
			continue
		}
		if !e.Started && !e.Stopped {
			e.Started = true
			w := n.CrushWeight
			e.OriginalWeight = &w
		}
		if pg, ok := st.pgs[e.OSDID]; ok {
			pg := pg
			e.PGCount = &pg
		} else {
			e.PGCount = nil
		}
		if osdEmpty(&e) && e.DrainDoneAt == nil {
			now := p.r.now().UTC()
			e.DrainDoneAt, e.Draining = &now, false
		}
		if !p.saveOSDRemoval(e) {
			continue
		}
		live = append(live, e)
	}
	q = live

	// Drain the idle OSDs that are ok to stop, up to the limit.
	draining := 0
	var idle []int
	for i := range q {
		if q[i].Draining && !osdEmpty(&q[i]) {
			draining++
		} else if !q[i].Draining && !osdEmpty(&q[i]) && !q[i].Stopped {
			idle = append(idle, i)
		}
	}
	if n := max(1, maxOSDDrainingCount) - draining; n > 0 && len(idle) > 0 {
		for _, i := range p.osdStopThreshold(q, idle) {
			if n == 0 {
				break
			}
			if err := p.startDraining(&q[i]); err != nil {
				p.osdRemovalFailed(q[i].OSDID, err)
				continue
			}
			p.saveOSDRemoval(q[i])
			n--
		}
	}

	for i := range q {
		if p.ctx.Err() != nil {
			return
		}
		e := q[i]
		if !e.Force && !osdEmpty(&e) {
			p.r.lg.Debug().Int("osd", e.OSDID).Msg("not empty yet")
			continue
		}
		ok, err := p.r.SafeToDestroy(p.ctx, e.OSDID)
		if err != nil {
			p.osdRemovalFailed(e.OSDID, err)
			continue
		}
		if !ok.OK {
			p.r.lg.Debug().Int("osd", e.OSDID).Str("reason", ok.Reason).Msg("not safe to destroy yet")
			continue
		}
		if err := p.removeQueuedOSD(&e); err != nil {
			p.osdRemovalFailed(e.OSDID, err)
		}
	}
}

// osdEmpty is cephadm's OSD.is_empty: a PG count of exactly 0.
func osdEmpty(e *store.OSDRemoval) bool { return e.PGCount != nil && *e.PGCount == 0 }

// osdStopThreshold is cephadm's find_osd_stop_threshold: halve the list
// until `osd ok-to-stop` agrees (none when even one is not ok).
func (p *pass) osdStopThreshold(q []store.OSDRemoval, idx []int) []int {
	for len(idx) > 0 {
		ids := make([]string, len(idx))
		for k, i := range idx {
			ids[k] = strconv.Itoa(q[i].OSDID)
		}
		ok, err := p.r.OKToStop(p.ctx, "osd", ids...)
		if err != nil {
			p.r.lg.Warn().Err(err).Msg("OSD removal queue: osd ok-to-stop")
			return nil
		}
		if ok.OK {
			return idx
		}
		if len(idx) <= 1 {
			p.r.lg.Debug().Str("reason", ok.Reason).Msg("can't even stop one OSD; retrying later")
			return nil
		}
		idx = idx[len(idx)/2:]
	}
	return nil
}

// startDraining is cephadm's OSD.start_draining.
func (p *pass) startDraining(e *store.OSDRemoval) error {
	id := strconv.Itoa(e.OSDID)
	if e.Replace {
		if _, err := p.r.CephCommand(p.ctx, "osd", "out", id); err != nil {
			return fmt.Errorf("mark osd.%d out: %w", e.OSDID, err)
		}
	} else if _, err := p.r.CephCommand(p.ctx, "osd", "crush", "reweight", "osd."+id, "0"); err != nil {
		return fmt.Errorf("reweight osd.%d to 0: %w", e.OSDID, err)
	}
	now := p.r.now().UTC()
	e.DrainStartedAt, e.Draining = &now, true
	p.r.lg.Info().Int("osd", e.OSDID).Msg("started draining")
	return nil
}

// removeQueuedOSD removes one drained OSD: down, daemon, destroy or purge,
// zap, then the queue entry.
func (p *pass) removeQueuedOSD(e *store.OSDRemoval) error {
	id := strconv.Itoa(e.OSDID)
	name := "osd." + id
	// The OSD's bluestore devices, read before anything is destroyed.
	var listed []rawOSD
	if e.Zap || e.Replace {
		var err error
		if listed, err = p.rawOSDsOn(e.Hostname); err != nil {
			return err
		}
		listed = slices.DeleteFunc(listed, func(o rawOSD) bool { return o.OSDID != e.OSDID })
	}
	var daemon *daemonRecord
	p.mu.Lock()
	for i := range p.v.daemons {
		if d := &p.v.daemons[i]; d.DaemonType == "osd" && d.DaemonID == id {
			c := *d
			daemon = &c
		}
	}
	p.mu.Unlock()
	if daemon != nil {
		if err := p.removeOne(daemon.ServiceName, *daemon); err != nil {
			return fmt.Errorf("remove %s from host '%s': %w", name, daemon.Hostname, err)
		}
		p.r.lg.Info().Str("host", daemon.Hostname).Int("osd", e.OSDID).Msg("removed the OSD daemon")
	}
	// Down only once the daemon is stopped: a running OSD marked down
	// says it was wrongly marked down and comes back up, and destroy
	// and purge refuse an OSD that is up.
	verb, what := "purge-actual", "purge"
	if e.Replace {
		verb, what = "destroy-actual", "destroy"
	}
	if err := p.downAnd(id, verb); err != nil {
		return fmt.Errorf("Could not %s %s: %w", what, name, err)
	}
	if e.Replace {
		uuids := make([]string, 0, len(listed))
		for _, o := range listed {
			uuids = append(uuids, o.OSDUUID)
		}
		if err := p.r.recordReplaced(replacedOSD{OSDID: e.OSDID, Hostname: e.Hostname, OSDUUIDs: uuids}); err != nil {
			return err
		}
		p.r.lg.Info().Int("osd", e.OSDID).Msg("destroyed; ready for replacement")
	} else {
		p.r.lg.Info().Int("osd", e.OSDID).Msg("purged")
	}
	if e.Zap {
		for _, o := range listed {
			if err := p.zapDevice(e.Hostname, o.Device, !e.NoDestroy); err != nil {
				return err
			}
			p.r.lg.Info().Str("host", e.Hostname).Str("device", o.Device).Int("osd", e.OSDID).Msg("zapped")
		}
	}
	if err := p.r.st.SetRefreshNeeded(e.Hostname, store.CacheDevices, true); err != nil {
		p.r.lg.Warn().Err(err).Str("host", e.Hostname).Msg("flag devices for refresh")
	}
	p.dropOSDRemoval(e.OSDID)
	done := "Removed"
	if e.Replace {
		done = "Destroyed"
	}
	p.r.serviceEvent("osd", store.LevelInfo, "%s %s from host '%s'", done, name, e.Hostname)
	p.mu.Lock()
	p.changed = true
	p.touched[e.Hostname] = true
	p.mu.Unlock()
	return nil
}

// downAnd marks osd.id down and runs `osd VERB id --yes-i-really-mean-it`
// (destroy-actual or purge-actual). The monitors may not have the OSD down
// yet when its daemon has just stopped (or it may still be booting back
// after being marked down while running): an "is not `down`" refusal is
// retried a few times.
func (p *pass) downAnd(id, verb string) error {
	var err error
	for try := 0; try < 5; try++ {
		if try > 0 {
			select {
			case <-p.ctx.Done():
				return p.ctx.Err()
			case <-time.After(time.Duration(try) * time.Second):
			}
		}
		if _, err = p.r.CephCommand(p.ctx, "osd", "down", id); err != nil {
			return fmt.Errorf("osd down: %w", err)
		}
		if _, err = p.r.CephCommand(p.ctx, "osd", verb, id, "--yes-i-really-mean-it"); err == nil || !strings.Contains(err.Error(), "is not `down`") {
			return err
		}
	}
	return err
}

// rawOSDsOn is `ceph-volume raw list` on host: the cluster's OSDs there.
func (p *pass) rawOSDsOn(host string) ([]rawOSD, error) {
	env, err := p.cephEnv()
	if err != nil {
		return nil, err
	}
	return p.r.rawOSDs(p.ctx, host, p.r.image(p.v.cluster, nil, "osd"), env.conf, p.v.cluster.FSID)
}

func (r *Reconciler) rawOSDs(ctx context.Context, host, image, conf, fsid string) ([]rawOSD, error) {
	keyring, err := r.bootstrapOSDKeyring(ctx)
	if err != nil {
		return nil, err
	}
	out, err := r.cephVolume(ctx, host, image, conf, keyring, "raw", "list", "--format", "json")
	if err != nil {
		return nil, err
	}
	return parseRawList(out, fsid)
}

// zapDevice is `ceph-volume lvm zap [--destroy] DEV` on host (it wipes raw
// devices too).
func (p *pass) zapDevice(host, dev string, destroy bool) error {
	env, err := p.cephEnv()
	if err != nil {
		return err
	}
	return p.r.zap(p.ctx, host, p.r.image(p.v.cluster, nil, "osd"), env.conf, dev, destroy)
}

func (r *Reconciler) zap(ctx context.Context, host, image, conf, dev string, destroy bool) error {
	keyring, err := r.bootstrapOSDKeyring(ctx)
	if err != nil {
		return err
	}
	args := []string{"lvm", "zap"}
	if destroy {
		args = append(args, "--destroy")
	}
	if _, err := r.cephVolume(ctx, host, image, conf, keyring, append(args, dev)...); err != nil {
		return fmt.Errorf("Zap failed: %w", err)
	}
	return nil
}

// saveOSDRemoval writes e back unless the entry left the queue meanwhile
// (`osd rm stop`); it reports whether e is still queued.
func (p *pass) saveOSDRemoval(e store.OSDRemoval) bool {
	queued := true
	err := p.r.st.Update(func(tx *store.Tx) error {
		if _, err := tx.GetOSDRemoval(e.OSDID); errors.Is(err, store.ErrNotFound) {
			queued = false
			return nil
		} else if err != nil {
			return err
		}
		return tx.PutOSDRemoval(e)
	})
	if err != nil {
		p.r.lg.Warn().Err(err).Int("osd", e.OSDID).Msg("save the OSD removal queue")
	}
	return queued
}

func (p *pass) dropOSDRemoval(id int) {
	if err := p.r.st.DeleteOSDRemoval(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		p.r.lg.Warn().Err(err).Int("osd", id).Msg("drop from the OSD removal queue")
	}
}

func (p *pass) osdRemovalFailed(id int, err error) {
	p.r.daemonEvent(fmt.Sprintf("osd.%d", id), store.LevelError, "Failed to remove: %v", err)
	p.r.lg.Warn().Err(err).Int("osd", id).Msg("OSD removal")
}

// replacedOSDs reads the OSDs destroyed for replacement.
func (r *Reconciler) replacedOSDs() ([]replacedOSD, error) {
	s, err := r.st.GetSetting(osdReplacedKey)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s == "") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []replacedOSD
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("setting %s: %w", osdReplacedKey, err)
	}
	return out, nil
}

// updateReplaced rewrites the list with fn in one transaction.
func (r *Reconciler) updateReplaced(fn func([]replacedOSD) []replacedOSD) error {
	return r.st.Update(func(tx *store.Tx) error {
		var list []replacedOSD
		s, err := tx.GetSetting(osdReplacedKey)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case s != "":
			if err := json.Unmarshal([]byte(s), &list); err != nil {
				return fmt.Errorf("setting %s: %w", osdReplacedKey, err)
			}
		}
		b, err := json.Marshal(fn(list))
		if err != nil {
			return err
		}
		return tx.SetSetting(osdReplacedKey, string(b))
	})
}

// recordReplaced remembers an OSD destroyed for replacement (a later one
// with the same id replaces the record).
func (r *Reconciler) recordReplaced(o replacedOSD) error {
	return r.updateReplaced(func(list []replacedOSD) []replacedOSD {
		list = slices.DeleteFunc(list, func(x replacedOSD) bool { return x.OSDID == o.OSDID })
		list = append(list, o)
		sort.Slice(list, func(i, j int) bool { return list[i].OSDID < list[j].OSDID })
		return list
	})
}

// osdIDClaims are the ids of OSDs destroyed for replacement on host and
// not reused yet, lowest first (cephadm's OsdIdClaims.filtered_by_host).
func (r *Reconciler) osdIDClaims(host string) []int {
	list, err := r.replacedOSDs()
	if err != nil {
		r.lg.Warn().Err(err).Msg("read the replaced OSDs")
		return nil
	}
	var ids []int
	for _, o := range list {
		if !o.Reused && o.Hostname == host {
			ids = append(ids, o.OSDID)
		}
	}
	return ids
}

// claimUsed marks a replaced OSD's id as taken by a new OSD.
func (r *Reconciler) claimUsed(id int) {
	err := r.updateReplaced(func(list []replacedOSD) []replacedOSD {
		for i := range list {
			if list[i].OSDID == id {
				list[i].Reused = true
			}
		}
		return list
	})
	if err != nil {
		r.lg.Warn().Err(err).Int("osd", id).Msg("record the reuse of a replaced OSD id")
	}
}

// withoutRemovedOSDs drops, from what `raw list` found on a host, the OSDs
// that must not get a daemon: those in the removal queue and the old
// bluestores of OSDs destroyed for replacement.
func (r *Reconciler) withoutRemovedOSDs(osds []rawOSD) []rawOSD {
	q, err := r.st.ListOSDRemovals()
	if err != nil {
		r.lg.Warn().Err(err).Msg("read the OSD removal queue")
	}
	replaced, err := r.replacedOSDs()
	if err != nil {
		r.lg.Warn().Err(err).Msg("read the replaced OSDs")
	}
	return slices.DeleteFunc(osds, func(o rawOSD) bool {
		if slices.ContainsFunc(q, func(e store.OSDRemoval) bool { return e.OSDID == o.OSDID }) {
			return true
		}
		return slices.ContainsFunc(replaced, func(x replacedOSD) bool { return slices.Contains(x.OSDUUIDs, o.OSDUUID) })
	})
}

// ZapDevice is `orch device zap HOST PATH --force` (cephadm's zap_device):
// refused without force, for an unknown host or one in maintenance, before
// the host's devices were inventoried, for a path not in the inventory,
// and when the device holds an OSD of this cluster that still has a daemon
// (or one of another cluster). Then `ceph-volume lvm zap --destroy PATH`
// runs in the cluster image on the host, and the host's devices and
// networks are flagged for a refresh.
func (r *Reconciler) ZapDevice(ctx context.Context, req api.ZapRequest) (string, error) {
	host, dev := req.Host, req.Path
	if !req.Force {
		return "", invalidf("must pass --force to PERMANENTLY ERASE DEVICE DATA")
	}
	if !strings.HasPrefix(dev, "/dev/") || strings.ContainsAny(dev, " \t\n'\"$`\\;&|<>()") {
		return "", invalidf("invalid device path %q: want /dev/...", dev)
	}
	h, err := r.st.GetHost(host)
	if errors.Is(err, store.ErrNotFound) {
		return "", invalidf("Host '%s' is not a member of the cluster", host)
	}
	if err != nil {
		return "", err
	}
	if strings.EqualFold(h.Status, "maintenance") {
		return "", invalidf("Host '%s' is in maintenance mode, which prevents any actions against it.", host)
	}
	devs, err := r.HostDevices(host)
	if err != nil {
		return "", err
	}
	if devs == nil {
		return "", invalidf("Host '%s hasn't been scanned yet to determine it's inventory. Please try again later.", host)
	}
	if !slices.ContainsFunc(devs, func(d inventory.Device) bool { return d.Path == dev }) {
		return "", invalidf("Device path '%s' not found on host '%s'", dev, host)
	}
	cl, err := r.st.GetCluster()
	if err != nil {
		return "", err
	}
	env, err := r.loadCephEnv(ctx)
	if err != nil {
		return "", err
	}
	image := r.image(cl, nil, "osd")
	keyring, err := r.bootstrapOSDKeyring(ctx)
	if err != nil {
		return "", err
	}
	out, err := r.cephVolume(ctx, host, image, env.conf, keyring, "raw", "list", "--format", "json")
	if err != nil {
		return "", err
	}
	var all map[string]rawOSD
	if err := json.Unmarshal(out, &all); err != nil {
		return "", fmt.Errorf("%s: ceph-volume raw list: %w", host, err)
	}
	daemons, err := r.osdDaemonHosts()
	if err != nil {
		return "", err
	}
	var onDev []rawOSD
	for _, o := range all {
		if o.Device != dev {
			continue
		}
		if o.CephFSID != cl.FSID {
			return "", invalidf("device %s has lv's from a different Ceph cluster (%s)", dev, o.CephFSID)
		}
		if _, ok := daemons[o.OSDID]; ok {
			onDev = append(onDev, o)
		}
	}
	var ids []int
	if len(onDev) > 0 {
		// An OSD with a daemon is live on this device only if the osdmap
		// knows it by this bluestore's uuid: a destroyed or purged OSD's
		// id may have been taken by a new OSD on another device.
		uuids, err := r.osdUUIDs(ctx)
		if err != nil {
			return "", err
		}
		for _, o := range onDev {
			if strings.EqualFold(uuids[o.OSDID], o.OSDUUID) {
				ids = append(ids, o.OSDID)
			}
		}
	}
	sort.Ints(ids)
	var active []string
	for _, id := range ids {
		active = append(active, fmt.Sprintf("osd.%d", id))
	}
	if len(active) > 0 {
		s := ""
		if len(active) > 1 {
			s = "s"
		}
		return "", api.NewError(syscall.EBUSY, "Unable to zap: device '%s' on %s has %d active OSD%s (%s). Use 'ceph orch osd rm' first.",
			dev, host, len(active), s, strings.Join(active, ", "))
	}
	r.lg.Info().Str("host", host).Str("device", dev).Msg("zap device")
	zerr := r.zap(ctx, host, image, env.conf, dev, true)
	for _, k := range []store.CacheKind{store.CacheDevices, store.CacheNetworks} {
		if err := r.st.SetRefreshNeeded(host, k, true); err != nil {
			r.lg.Warn().Err(err).Str("host", host).Msg("flag for refresh")
		}
	}
	r.Wake()
	if zerr != nil {
		return "", zerr
	}
	return fmt.Sprintf("zap successful for %s on %s", dev, host), nil
}

// osdUUIDs maps each OSD id of the osdmap to its uuid (`ceph osd dump`).
func (r *Reconciler) osdUUIDs(ctx context.Context) (map[int]string, error) {
	var dump struct {
		OSDs []struct {
			OSD  int    `json:"osd"`
			UUID string `json:"uuid"`
		} `json:"osds"`
	}
	if err := r.CephJSON(ctx, &dump, "osd", "dump"); err != nil {
		return nil, err
	}
	out := make(map[int]string, len(dump.OSDs))
	for _, o := range dump.OSDs {
		out[o.OSD] = o.UUID
	}
	return out, nil
}

var _ api.OSDRemovalBackend = (*Reconciler)(nil)
