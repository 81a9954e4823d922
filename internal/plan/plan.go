package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orchceph/orch/inventory"
	"github.com/orchceph/orch/scheduler"
	"github.com/orchceph/orch/spec"
)

// DefaultMaxCountPerHost is cephadm's mgr/cephadm/max_count_per_host.
const DefaultMaxCountPerHost = 10

// Options tune a plan.
type Options struct {
	// MaxCountPerHost bounds count and count_per_host as cephadm's option
	// of the same name does; 0 means DefaultMaxCountPerHost.
	MaxCountPerHost int
	// Explain lists, per service, the hosts that got no daemon and why.
	Explain bool
}

// Result is the plan of every input spec.
type Result struct {
	// Services has one entry per non-OSD spec, in input order.
	Services []ServicePlan
	// OSDs has one entry per (OSD spec, matching host).
	OSDs []OSDPlan
}

// ServicePlan is what applying one non-OSD spec would do.
type ServicePlan struct {
	ServiceName string
	ServiceType string
	// Unmanaged specs are stored but never acted on: no changes.
	Unmanaged bool
	Slots     []scheduler.Slot
	ToAdd     []scheduler.Slot
	ToRemove  []scheduler.Daemon
	// RankMap is the rank map after placement (ranked services only).
	RankMap  scheduler.RankMap
	Rejected []scheduler.Rejection
}

// OSDPlan is the devices one drive group takes on one host, per role.
type OSDPlan struct {
	ServiceName string
	ServiceID   string
	Host        string
	Data        []string
	DB          []string
	WAL         []string
	Journal     []string
}

// Per-service-type facts that cephadm's service classes give
// HostAssignment (CephadmService.allow_colo, ranked, primary_daemon_type,
// per_host_daemon_type).
var allowColo = map[string]bool{"mds": true, "rgw": true, "rbd-mirror": true}

func ranked(serviceType string) bool { return serviceType == "nfs" }

func daemonTypes(s *spec.ServiceSpec) (primary, perHost string) {
	if s.ServiceType != "ingress" {
		return s.ServiceType, ""
	}
	if in, _ := s.Ingress(); in.KeepaliveOnly {
		return "keepalived", ""
	}
	return "haproxy", "keepalived"
}

// planner holds the cluster views shared by every spec of one plan.
type planner struct {
	snap      *Snapshot
	opts      Options
	hosts     []scheduler.Host // every known host, snapshot order
	hostSpecs []spec.HostSpec  // schedulable hosts, for OSD host selection
	sched     *scheduler.Cluster
	all       *scheduler.Cluster // every known host, for apply-time validation
	daemons   map[string][]Daemon
	specs     map[string]*spec.ServiceSpec // applied specs after the input's
}

// Compute plans docs (the input specs, in order) against snap. Host
// documents update or add hosts before any service is placed. The first
// spec that cannot be placed, or whose device selection fails, stops the
// plan with cephadm's error (a *scheduler.PlacementError or a
// *spec.ValidationError, both matching spec.ErrInvalidSpec).
func Compute(docs []spec.Document, snap *Snapshot, opts Options) (*Result, error) {
	if snap == nil {
		snap = &Snapshot{}
	}
	if opts.MaxCountPerHost <= 0 {
		opts.MaxCountPerHost = DefaultMaxCountPerHost
	}
	p := &planner{snap: snap, opts: opts, daemons: map[string][]Daemon{}, specs: map[string]*spec.ServiceSpec{}}
	p.buildHosts(docs)
	for _, d := range snap.Daemons {
		p.daemons[d.ServiceName] = append(p.daemons[d.ServiceName], d)
	}
	for _, d := range snap.Specs {
		if d.Service != nil {
			p.specs[d.Service.ServiceName()] = d.Service
		}
	}
	for _, d := range docs {
		if d.Service != nil {
			p.specs[d.Service.ServiceName()] = d.Service
		}
	}

	res := &Result{Services: []ServicePlan{}, OSDs: []OSDPlan{}}
	for _, d := range docs {
		s := d.Service
		if s == nil {
			continue
		}
		if s.ServiceType == "osd" {
			osds, err := p.planOSDs(s)
			if err != nil {
				return nil, err
			}
			res.OSDs = append(res.OSDs, osds...)
			continue
		}
		sp, err := p.planService(s)
		if err != nil {
			return nil, err
		}
		res.Services = append(res.Services, *sp)
	}
	return res, nil
}

// buildHosts merges the input's host documents into the snapshot's hosts
// and prepares the scheduler's views.
func (p *planner) buildHosts(docs []spec.Document) {
	idx := map[string]int{}
	for _, h := range p.snap.Hosts {
		idx[h.Hostname] = len(p.hosts)
		p.hosts = append(p.hosts, scheduler.Host{Name: h.Hostname, Labels: h.Labels, Status: h.Status})
	}
	for _, d := range docs {
		if d.Host == nil {
			continue
		}
		h := scheduler.Host{Name: d.Host.Hostname, Labels: d.Host.Labels, Status: strings.ToLower(d.Host.Status)}
		if i, ok := idx[h.Name]; ok {
			p.hosts[i] = h
			continue
		}
		idx[h.Name] = len(p.hosts)
		p.hosts = append(p.hosts, h)
	}
	st := scheduler.SplitHosts(p.hosts, p.snap.Networks)
	p.sched = scheduler.NewCluster(st)
	p.all = scheduler.NewCluster(scheduler.ClusterState{Hosts: p.hosts, Unreachable: st.Unreachable,
		Draining: st.Draining, Networks: p.snap.Networks})
	for _, h := range st.Hosts {
		p.hostSpecs = append(p.hostSpecs, spec.HostSpec{Hostname: h.Name, Labels: h.Labels, Status: h.Status})
	}
}

// request builds the scheduler request for s, as cephadm's _apply_service
// builds its HostAssignment.
func (p *planner) request(s *spec.ServiceSpec, placement spec.PlacementSpec) *scheduler.Request {
	svc := s.ServiceName()
	primary, perHost := daemonTypes(s)
	req := &scheduler.Request{
		ServiceName:       svc,
		ServiceType:       s.ServiceType,
		OneLineStr:        s.OneLineStr(),
		Placement:         placement,
		Ports:             s.PortStart(),
		Networks:          s.Networks,
		AllowColo:         allowColo[s.ServiceType],
		PrimaryDaemonType: primary,
		PerHostDaemonType: perHost,
		Ranked:            ranked(s.ServiceType),
		Explain:           p.opts.Explain,
	}
	if req.Ranked {
		req.RankMap = p.snap.RankMaps[svc]
	}
	if s.ServiceType == "mon" {
		req.PublicNetworks = p.snap.MonPublicNetworks()
	}
	if v, ok := s.Field("ip_addrs"); ok {
		req.IPAddrs = stringMap(v)
	}
	for _, d := range p.daemons[svc] {
		req.Daemons = append(req.Daemons, schedDaemon(d))
	}
	req.RelatedHosts = p.relatedHosts(s)
	if in, ok := s.Ingress(); ok {
		if in.VirtualIP != "" {
			req.VirtualIPs = []string{in.VirtualIP}
		} else {
			req.VirtualIPs = in.VirtualIPsList
		}
	}
	return req
}

// relatedHosts are the hosts of the related service's daemons: an
// ingress's backend service, or the ingress services in front of s
// (cephadm's get_related_service_daemons).
func (p *planner) relatedHosts(s *spec.ServiceSpec) []string {
	var related []string
	if in, ok := s.Ingress(); ok {
		related = append(related, in.BackendService)
	} else {
		names := make([]string, 0, len(p.specs))
		for name, o := range p.specs {
			if in, ok := o.Ingress(); ok && in.BackendService == s.ServiceName() {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		related = names
	}
	var hosts []string
	for _, svc := range related {
		for _, d := range p.daemons[svc] {
			if !slices.Contains(hosts, d.Hostname) {
				hosts = append(hosts, d.Hostname)
			}
		}
	}
	return hosts
}

func schedDaemon(d Daemon) scheduler.Daemon {
	return scheduler.Daemon{Type: d.DaemonType, ID: d.DaemonID, Hostname: d.Hostname, Ports: d.Ports,
		IP: d.IP, Rank: d.Rank, RankGeneration: d.RankGeneration, IsActive: d.IsActive}
}

func stringMap(v any) map[string]string {
	out := map[string]string{}
	switch m := v.(type) {
	case map[string]string:
		return m
	case map[string]any:
		for k, x := range m {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
	case *spec.Map:
		m.Each(func(k, x any) {
			ks, ok1 := k.(string)
			xs, ok2 := x.(string)
			if ok1 && ok2 {
				out[ks] = xs
			}
		})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// applyError is an error cephadm's _apply_service_spec raises
// (OrchestratorError, EINVAL).
func applyError(msg string) error {
	return &spec.ValidationError{Kind: "OrchestratorError", Msg: msg}
}

// planService is cephadm's _apply_service_spec checks followed by the
// placement _apply_service would compute.
func (p *planner) planService(s *spec.ServiceSpec) (*ServicePlan, error) {
	placement := s.Placement
	if placement.IsEmpty() {
		placement = spec.DefaultPlacement(s.ServiceType)
	}
	hostCount := len(p.hosts)
	maxCount := p.opts.MaxCountPerHost
	if c := placement.Count; c != nil {
		switch s.ServiceType {
		case "mon", "mgr":
			if *c < 1 {
				return nil, applyError(fmt.Sprintf("cannot scale %s service below 1", s.ServiceType))
			}
			if limit := max(5, hostCount); *c > limit {
				return nil, applyError(fmt.Sprintf("The maximum number of %s daemons allowed with %d hosts is %d.",
					s.ServiceType, hostCount, limit))
			}
		default:
			if *c > maxCount*hostCount {
				return nil, applyError(fmt.Sprintf("The maximum number of %s daemons allowed with %d hosts is %d (%dx%d). "+
					"This limit can be adjusted by changing the mgr/cephadm/max_count_per_host config option",
					s.ServiceType, hostCount, hostCount*maxCount, hostCount, maxCount))
			}
		}
	}
	if c := placement.CountPerHost; c != nil && *c > maxCount {
		return nil, applyError(fmt.Sprintf("The maximum count_per_host allowed is %d. "+
			"This limit can be adjusted by changing the mgr/cephadm/max_count_per_host config option", maxCount))
	}
	req := p.request(s, placement)
	// cephadm validates a spec against every known host when it is applied.
	if err := p.all.Validate(req); err != nil {
		return nil, err
	}
	sp := &ServicePlan{ServiceName: s.ServiceName(), ServiceType: s.ServiceType, Unmanaged: s.Unmanaged}
	if s.Unmanaged {
		for _, d := range req.Daemons {
			if d.Type == req.PrimaryDaemonType || d.Type == req.PerHostDaemonType {
				sp.Slots = append(sp.Slots, scheduler.Slot{DaemonType: d.Type, Hostname: d.Hostname, IP: d.IP,
					Ports: d.Ports, Rank: d.Rank, RankGeneration: d.RankGeneration})
			}
		}
		if req.Ranked {
			sp.RankMap = req.RankMap.Clone()
			if sp.RankMap == nil {
				sp.RankMap = scheduler.RankMap{}
			}
		}
		return sp, nil
	}
	pl, err := p.sched.Place(req)
	if err != nil {
		return nil, err
	}
	sp.Slots, sp.ToAdd, sp.ToRemove, sp.RankMap, sp.Rejected = pl.Slots, pl.ToAdd, pl.ToRemove, pl.RankMap, pl.Rejected
	return sp, nil
}

// planOSDs selects each matching host's devices for the drive group s, as
// cephadm's OSD service prepares a drive group.
func (p *planner) planOSDs(s *spec.ServiceSpec) ([]OSDPlan, error) {
	if s.Unmanaged || s.DriveGroup == nil {
		return nil, nil
	}
	svc := s.ServiceName()
	var out []OSDPlan
	for _, host := range s.Placement.FilterMatchingHostspecs(p.hostSpecs) {
		var devices []inventory.Device
		for i := range p.snap.Inventory {
			if p.snap.Inventory[i].Name == host {
				devices = p.snap.Inventory[i].Devices
				break
			}
		}
		existing := 0
		for _, d := range p.daemons[svc] {
			if d.Hostname == host && d.DaemonType == "osd" {
				existing++
			}
		}
		sel, err := inventory.SelectDrives(s.DriveGroup, devices, existing)
		if err != nil {
			return nil, err
		}
		out = append(out, OSDPlan{ServiceName: svc, ServiceID: s.ServiceID, Host: host,
			Data: nonNil(sel.DataPaths()), DB: nonNil(sel.DBPaths()), WAL: nonNil(sel.WALPaths()),
			Journal: nonNil(sel.JournalPaths())})
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
