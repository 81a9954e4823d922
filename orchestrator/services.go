package orchestrator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"syscall"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/internal/plan"
	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/spec"
	"github.com/orchceph/orch/store"
)

var _ api.ServiceBackend = (*Reconciler)(nil)
var _ api.HostBackend = (*Reconciler)(nil)

// loadSpecs parses API spec objects (cephadm's to_json shapes, host specs
// included) with the spec package's loader.
func loadSpecs(specs []map[string]any) ([]spec.Document, error) {
	if len(specs) == 0 {
		return nil, spec.ErrNoDocuments
	}
	data, err := json.Marshal(specs)
	if err != nil {
		return nil, invalidf("specs: %v", err)
	}
	return spec.LoadDocuments(data)
}

// Apply is POST /apply (cephadm's apply()): host specs are added at once
// (connect, pin the key, check: the one synchronous exception); service
// specs get cephadm's apply-time checks (default placement filled in,
// mon/mgr and max_count_per_host limits, placement validated against all
// hosts), are stored with their creation time, and an operation tracks
// the reconciler's work on them. The first failing document stops the
// rest, as in cephadm.
func (r *Reconciler) Apply(ctx context.Context, req api.ApplyRequest) (api.ApplyResult, error) {
	var res api.ApplyResult
	docs, err := loadSpecs(req.Specs)
	if err != nil {
		return res, err
	}
	type pendingSpec struct {
		svc *spec.ServiceSpec
		idx int
	}
	var toStore []pendingSpec
	res.Results = make([]string, 0, len(docs))
	for _, d := range docs {
		if d.Host != nil {
			msg, err := r.applyHost(ctx, d.Host, req.NoOverwrite)
			if err != nil {
				return res, err
			}
			res.Results = append(res.Results, msg)
			continue
		}
		s := d.Service
		name := s.ServiceName()
		if s.PreviewOnly {
			// `apply --dry-run` through the mgr: plan() shows it.
			res.Results = append(res.Results, name+" (preview only)")
			continue
		}
		if req.NoOverwrite {
			if _, err := r.st.GetSpec(name); err == nil {
				res.Results = append(res.Results, fmt.Sprintf("Skipped %s service spec. To change %s spec omit --no-overwrite flag", name, name))
				continue
			}
		}
		if err := r.validateApply(s); err != nil {
			return res, err
		}
		if s.Placement.IsEmpty() && s.ServiceType != "osd" {
			s.Placement = spec.DefaultPlacement(s.ServiceType)
		}
		toStore = append(toStore, pendingSpec{svc: s, idx: len(res.Results)})
		res.Results = append(res.Results, fmt.Sprintf("Scheduled %s update...", name))
	}
	if len(toStore) == 0 {
		return res, nil
	}
	now := r.now().UTC()
	err = r.st.Update(func(tx *store.Tx) error {
		detail := &opDetail{}
		var names []string
		for _, ps := range toStore {
			name := ps.svc.ServiceName()
			body, err := ps.svc.ToJSON().MarshalJSON()
			if err != nil {
				return err
			}
			rec := store.SpecRecord{ServiceName: name, Spec: body, Created: now}
			if old, err := tx.GetSpec(name); err == nil {
				rec.RankMap = old.RankMap
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := tx.PutSpec(rec); err != nil {
				return err
			}
			detail.Services = append(detail.Services, opService{Name: name})
			names = append(names, name)
		}
		op, err := createOp(tx, opApply, detail, "apply "+strings.Join(names, ", "))
		res.Operation = op.ID
		return err
	})
	if err != nil {
		return api.ApplyResult{}, err
	}
	for _, ps := range toStore {
		r.lg.Info().Str("service", ps.svc.ServiceName()).Str("placement", ps.svc.Placement.PrettyStr()).Msg("saving service spec")
	}
	r.Wake()
	return res, nil
}

// applyHost adds (or updates) a host from a host spec.
func (r *Reconciler) applyHost(ctx context.Context, h *spec.HostSpec, noOverwrite bool) (string, error) {
	if noOverwrite {
		if _, err := r.st.GetHost(h.Hostname); err == nil {
			return fmt.Sprintf("Skipped %s host spec. To change %s spec omit --no-overwrite flag", h.Hostname, "host"), nil
		}
	}
	addr := h.Addr
	if addr == h.Hostname {
		addr = "" // resolve it, as `orch host add NAME` does
	}
	resp, err := r.AddHost(ctx, api.AddHostRequest{
		Host:      api.Host{Hostname: h.Hostname, Addr: addr, Labels: h.Labels, Status: strings.ToLower(h.Status), Location: h.Location},
		AddrGiven: addr != "",
	})
	if err != nil {
		return "", err
	}
	return resp.Message, nil
}

// validateApply runs cephadm's _apply_service_spec checks for one spec
// against every known host (package plan holds them).
func (r *Reconciler) validateApply(s *spec.ServiceSpec) error {
	v, err := r.loadView(viewOptions{devices: s.ServiceType == "osd"})
	if err != nil {
		return err
	}
	snap := v.planSnapshot(false)
	snap.Inventory = v.inventory()
	_, err = plan.Compute([]spec.Document{{Service: s}}, snap, plan.Options{MaxCountPerHost: r.opts.MaxCountPerHost})
	return err
}

// inventory decodes the cached device lists for package plan.
func (v *view) inventory() []inventory.InventoryHost {
	var out []inventory.InventoryHost
	for _, h := range v.hosts {
		raw, ok := v.devices[h.Name]
		if !ok {
			continue
		}
		var devs []inventory.Device
		if err := json.Unmarshal(raw, &devs); err != nil {
			var wrapped struct {
				Devices []inventory.Device `json:"devices"`
			}
			if json.Unmarshal(raw, &wrapped) != nil {
				continue
			}
			devs = wrapped.Devices
		}
		out = append(out, inventory.InventoryHost{Name: h.Name, Addr: h.Addr, Devices: devs})
	}
	return out
}

// Plan is POST /plan (cephadm's plan(), `orch apply --dry-run`, `orch
// plan`): the specs placed against the cluster as the controller holds it,
// exactly as `orch plan --snapshot` of `orch export` would.
func (r *Reconciler) Plan(ctx context.Context, specs []map[string]any, plain, explain bool) (any, error) {
	docs, err := loadSpecs(specs)
	if err != nil {
		return nil, err
	}
	v, err := r.loadView(viewOptions{devices: true})
	if err != nil {
		return nil, err
	}
	snap := v.planSnapshot(false)
	snap.Inventory = v.inventory()
	res, err := plan.Compute(docs, snap, plan.Options{MaxCountPerHost: r.opts.MaxCountPerHost, Explain: explain})
	if err != nil {
		return nil, err
	}
	if plain {
		var b bytes.Buffer
		if err := res.WritePlain(&b, explain); err != nil {
			return nil, err
		}
		return api.Text{Value: b.String()}, nil
	}
	return res.JSON(), nil
}

// schedulableHostSpecs are the hosts cephadm counts for a service's size:
// refreshed at least once and not draining.
func (v *view) schedulableHostSpecs() []spec.HostSpec {
	var out []spec.HostSpec
	for _, h := range v.hosts {
		if v.refreshed[h.Name].IsZero() || containsString(h.Labels, scheduler.LabelNoSchedule) {
			continue
		}
		out = append(out, spec.HostSpec{Hostname: h.Name, Addr: h.Addr, Labels: h.Labels, Status: h.Status})
	}
	return out
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// ListServices is GET /services: one ServiceDescription per stored spec
// (deleted ones until purged), plus services that only have daemons
// (shown as unmanaged), sorted by name; served from the store.
func (r *Reconciler) ListServices(f api.ServiceFilter) ([]api.ServiceDescription, error) {
	v, err := r.loadView(viewOptions{events: true})
	if err != nil {
		return nil, err
	}
	if f.Refresh {
		r.requestRefresh("")
	}
	hosts := v.schedulableHostSpecs()
	match := func(svcType, name string) bool {
		return (f.ServiceType == "" || svcType == f.ServiceType) && (f.ServiceName == "" || name == f.ServiceName)
	}
	var out []api.ServiceDescription
	for _, e := range v.specs {
		name := e.rec.ServiceName
		svcType, _, _ := strings.Cut(name, ".")
		if e.spec != nil {
			svcType = e.spec.ServiceType
		}
		if !match(svcType, name) {
			continue
		}
		sd := api.ServiceDescription{Spec: e.rec.Spec, Events: v.serviceEvents[name]}
		sd.Status.Created = fmtTime(e.rec.Created)
		if e.rec.Deleted != nil {
			sd.Status.Deleted = fmtTime(*e.rec.Deleted)
		}
		if s := e.spec; s != nil {
			pl := s.Placement
			if pl.IsEmpty() {
				pl = spec.DefaultPlacement(s.ServiceType)
			}
			switch s.ServiceType {
			case "osd":
				sd.Status.Size = len(v.byService[name])
			default:
				sd.Status.Size = pl.TargetCount(hosts)
				if in, ok := s.Ingress(); ok && !in.KeepaliveOnly {
					sd.Status.Size *= 2
				}
			}
			sd.Status.Ports = append(append([]int(nil), s.PortStart()...), containerPorts(s)...)
			sd.Status.VirtualIP = s.VirtualIP()
		}
		fillRunning(&sd.Status, v.daemonsOf(name))
		out = append(out, sd)
	}
	// Services with daemons but no spec.
	var orphans []string
	for svc := range v.byService {
		if v.byName[svc] == nil {
			orphans = append(orphans, svc)
		}
	}
	sort.Strings(orphans)
	for _, svc := range orphans {
		ds := v.daemonsOf(svc)
		svcType := serviceTypeOf(ds[0].DaemonType)
		if !match(svcType, svc) {
			continue
		}
		body := spec.NewMap()
		body.Set("service_type", svcType)
		if _, id, ok := strings.Cut(svc, "."); ok {
			body.Set("service_id", id)
		}
		body.Set("service_name", svc)
		body.Set("placement", spec.NewMap())
		body.Set("unmanaged", true)
		raw, err := body.MarshalJSON()
		if err != nil {
			return nil, err
		}
		sd := api.ServiceDescription{Spec: raw, Events: v.serviceEvents[svc]}
		fillRunning(&sd.Status, ds)
		out = append(out, sd)
	}
	sort.SliceStable(out, func(i, j int) bool { return specName(out[i].Spec) < specName(out[j].Spec) })
	return out, nil
}

func serviceTypeOf(daemonType string) string {
	switch daemonType {
	case "haproxy", "keepalived":
		return "ingress"
	}
	return daemonType
}

func specName(raw json.RawMessage) string {
	var s struct {
		Name string `json:"service_name"`
	}
	_ = json.Unmarshal(raw, &s)
	return s.Name
}

// fillRunning sets running, last_refresh (the oldest of the daemons') and
// the image of a service's status from its daemons.
func fillRunning(st *api.ServiceStatus, ds []*daemonRecord) {
	for _, d := range ds {
		if d.Status != nil && *d.Status == api.StatusRunning {
			st.Running++
		}
		if d.LastRefresh != "" && (st.LastRefresh == "" || d.LastRefresh < st.LastRefresh) {
			st.LastRefresh = d.LastRefresh
		}
		if st.ContainerImageName == "" {
			st.ContainerImageName = d.ContainerImageName
			st.ContainerImageID = d.ContainerImageID
		}
	}
}

// RemoveService is `orch rm SERVICE`: the spec is marked deleted, the
// reconciler removes its daemons and then purges it. mon and mgr are
// refused without force (cephadm only ever suggests unmanaging them); an
// OSD spec is forgotten at once and its OSDs stay.
func (r *Reconciler) RemoveService(name string, force bool) (api.ActionMessage, error) {
	var out api.ActionMessage
	rec, err := r.st.GetSpec(name)
	if errors.Is(err, store.ErrNotFound) {
		return out, notFoundf("Invalid service '%s'. Use 'orch ls' to list available services.", name)
	}
	if err != nil {
		return out, err
	}
	svcType, _, _ := strings.Cut(name, ".")
	if s, err := parseStoredSpec(rec.Spec); err == nil {
		svcType = s.ServiceType
	}
	if (svcType == "mon" || svcType == "mgr") && !force {
		return out, invalidf("Unable to remove %s service.\nNote, you might want to mark the %s service as \"unmanaged\"", name, name)
	}
	if svcType == "osd" && !force {
		v, err := r.loadView(viewOptions{})
		if err != nil {
			return out, err
		}
		perHost := map[string][]string{}
		var hosts []string
		for _, d := range v.daemonsOf(name) {
			if d.DaemonType != "osd" {
				continue
			}
			if _, ok := perHost[d.Hostname]; !ok {
				hosts = append(hosts, d.Hostname)
			}
			perHost[d.Hostname] = append(perHost[d.Hostname], "osd."+d.DaemonID)
		}
		if len(hosts) > 0 {
			var b strings.Builder
			for _, h := range hosts {
				fmt.Fprintf(&b, "\thost %s: %s", h, strings.Join(perHost[h], " "))
			}
			return out, invalidf("If %s is removed then the following OSDs will remain, --force to proceed anyway\n%s", name, b.String())
		}
	}
	err = r.st.Update(func(tx *store.Tx) error {
		if svcType == "osd" {
			return tx.PurgeSpec(name)
		}
		if err := tx.MarkSpecDeleted(name, r.now()); err != nil {
			return err
		}
		op, err := createOp(tx, opServiceRm, &opDetail{Services: []opService{{Name: name}}}, "rm "+name)
		out.Operation = op.ID
		return err
	})
	if err != nil {
		return api.ActionMessage{}, err
	}
	r.Wake()
	out.Message = "Removed service " + name
	return out, nil
}

// daemonActions are the scheduled daemon verbs.
var daemonActions = map[string]bool{"start": true, "stop": true, "restart": true, "redeploy": true, "reconfig": true}

// ServiceAction is `orch start|stop|restart|redeploy|reconfig SERVICE`:
// the action is scheduled for every daemon of the service.
func (r *Reconciler) ServiceAction(name, action string) (api.Results, error) {
	var out api.Results
	if !daemonActions[action] {
		if action == "rotate-key" {
			return out, api.NewError(syscall.ENOTSUP, "rotate-key is not supported by orch yet")
		}
		return out, invalidf("Invalid action %q: want start, stop, restart, redeploy or reconfig", action)
	}
	v, err := r.loadView(viewOptions{})
	if err != nil {
		return out, err
	}
	svcType, _, _ := strings.Cut(name, ".")
	if e := v.byName[name]; e != nil && e.spec != nil {
		svcType = e.spec.ServiceType
	} else if svcType != "osd" {
		return out, invalidf("Invalid service name \"%s\". View currently running services using \"orch ls\"", name)
	}
	ds := v.daemonsOf(name)
	if len(ds) == 0 {
		return out, invalidf("No daemons exist under service name \"%s\". View currently running services using \"orch ls\"", name)
	}
	if action == "stop" && (svcType == "mon" || svcType == "mgr" || svcType == "osd") {
		out.Results = []string{fmt.Sprintf("Stopping entire %s service is prohibited.", name)}
		return out, nil
	}
	detail := &opDetail{}
	for _, d := range ds {
		detail.Daemons = append(detail.Daemons, opDaemon{Name: d.name(), Host: d.Hostname, Action: action})
		out.Results = append(out.Results, fmt.Sprintf("Scheduled to %s %s on host '%s'", action, d.name(), d.Hostname))
	}
	op, err := r.createOpWake(opDaemonAction, detail, action+" "+name)
	out.Operation = op
	return out, err
}

func (r *Reconciler) createOpWake(kind string, d *opDetail, msg string) (uint64, error) {
	var id uint64
	err := r.st.Update(func(tx *store.Tx) error {
		op, err := createOp(tx, kind, d, msg)
		id = op.ID
		return err
	})
	if err != nil {
		return 0, err
	}
	r.Wake()
	return id, nil
}

// DaemonAction is `orch daemon start|stop|restart|redeploy|reconfig NAME`:
// scheduled and executed by the loop, as cephadm does.
func (r *Reconciler) DaemonAction(name, action, image string) (api.ActionMessage, error) {
	var out api.ActionMessage
	if !daemonActions[action] {
		if action == "rotate-key" {
			return out, api.NewError(syscall.ENOTSUP, "rotate-key is not supported by orch yet")
		}
		return out, invalidf("Invalid action %q: want start, stop, restart, redeploy or reconfig", action)
	}
	if image != "" && action != "redeploy" {
		return out, invalidf("--image is only valid with redeploy")
	}
	v, err := r.loadView(viewOptions{})
	if err != nil {
		return out, err
	}
	d, err := v.findDaemon(name)
	if err != nil {
		return out, err
	}
	id, err := r.createOpWake(opDaemonAction, &opDetail{Daemons: []opDaemon{{Name: name, Host: d.Hostname, Action: action, Image: image}}},
		action+" "+name)
	if err != nil {
		return out, err
	}
	out.Operation = id
	out.Message = fmt.Sprintf("Scheduled to %s %s on host '%s'", action, name, d.Hostname)
	return out, nil
}

// RemoveDaemons is `orch daemon rm NAME...`: the removals are scheduled.
// The --force rule for daemons with precious data (mon, osd, prometheus)
// is the CLI's, as in cephadm, which lets the ceph-mgr module pass force.
func (r *Reconciler) RemoveDaemons(names []string, force bool) (api.Results, error) {
	var out api.Results
	if len(names) == 0 {
		return out, invalidf("no daemon names given")
	}
	for _, n := range names {
		if !strings.Contains(n, ".") {
			return out, invalidf("%s is not a valid daemon name", n)
		}
	}
	v, err := r.loadView(viewOptions{})
	if err != nil {
		return out, err
	}
	detail := &opDetail{}
	var missing []string
	for _, n := range names {
		d, err := v.findDaemon(n)
		if err != nil {
			missing = append(missing, n)
			continue
		}
		detail.Daemons = append(detail.Daemons, opDaemon{Name: n, Host: d.Hostname, Action: "rm"})
		out.Results = append(out.Results, fmt.Sprintf("Scheduled to remove %s from host '%s'", n, d.Hostname))
	}
	if len(detail.Daemons) == 0 {
		return out, notFoundf("Unable to find daemon(s) %s", pyList(missing))
	}
	id, err := r.createOpWake(opDaemonRm, detail, "rm "+strings.Join(names, " "))
	out.Operation = id
	return out, err
}

// pyList renders names as Python prints a list of str.
func pyList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// SetManaged is `orch set-managed|set-unmanaged SERVICE`.
func (r *Reconciler) SetManaged(name string, managed bool) (string, error) {
	err := r.st.Update(func(tx *store.Tx) error {
		rec, err := tx.GetSpec(name)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundf("No service of name %s found. Check \"orch ls\" for all known services", name)
		}
		if err != nil {
			return err
		}
		s, err := parseStoredSpec(rec.Spec)
		if err != nil {
			return err
		}
		s.Unmanaged = !managed
		if rec.Spec, err = s.ToJSON().MarshalJSON(); err != nil {
			return err
		}
		return tx.PutSpec(rec)
	})
	if err != nil {
		return "", err
	}
	r.Wake()
	val := "True"
	if managed {
		val = "False"
	}
	return fmt.Sprintf("Set unmanaged to %s for service %s", val, name), nil
}

// Pause is `orch pause`: the loop keeps refreshing hosts but changes
// nothing (CEPHADM_PAUSED).
func (r *Reconciler) Pause() (string, error) {
	if _, err := r.st.UpdateCluster(func(c *store.Cluster) error { c.Paused = true; return nil }); err != nil {
		return "", err
	}
	r.lg.Info().Msg("Paused")
	r.Wake()
	return "", nil
}

// Resume is `orch resume`; it always wakes the loop (cephadm uses it as a
// poke).
func (r *Reconciler) Resume() (string, error) {
	if _, err := r.st.UpdateCluster(func(c *store.Cluster) error { c.Paused = false; return nil }); err != nil {
		return "", err
	}
	r.lg.Info().Msg("Resumed")
	r.Wake()
	return "", nil
}

// Host changes wake the reconciler: placement depends on hosts and labels.

// AddHost adds a host (see Controller.AddHost) and wakes the loop.
func (r *Reconciler) AddHost(ctx context.Context, req api.AddHostRequest) (api.AddHostResponse, error) {
	resp, err := r.Controller.AddHost(ctx, req)
	if err == nil {
		r.Wake()
	}
	return resp, err
}

// RemoveHost removes a host and wakes the loop.
func (r *Reconciler) RemoveHost(ctx context.Context, name string, force, offline bool) (string, error) {
	msg, err := r.Controller.RemoveHost(ctx, name, force, offline)
	if err == nil {
		r.forgetAgentPath(name)
		r.Wake()
	}
	return msg, err
}

// AddLabel adds a host label and wakes the loop.
func (r *Reconciler) AddLabel(name, label string) (string, error) {
	msg, err := r.Controller.AddLabel(name, label)
	if err == nil {
		r.Wake()
	}
	return msg, err
}

// RemoveLabel removes a host label and wakes the loop.
func (r *Reconciler) RemoveLabel(name, label string, force bool) (string, error) {
	msg, err := r.Controller.RemoveLabel(name, label, force)
	if err == nil {
		r.Wake()
	}
	return msg, err
}

// SetAddr changes a host's address and wakes the loop.
func (r *Reconciler) SetAddr(ctx context.Context, name, addr string) (string, error) {
	msg, err := r.Controller.SetAddr(ctx, name, addr)
	if err == nil {
		r.forgetAgentPath(name)
		r.Wake()
	}
	return msg, err
}
