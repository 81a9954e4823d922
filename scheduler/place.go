package scheduler

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// rescheduleFromOffline are the daemon types whose candidates on offline
// (not maintenance) hosts are dropped so that their daemons move
// (cephadm's RESCHEDULE_FROM_OFFLINE_HOSTS_TYPES).
var rescheduleFromOffline = [...]string{"haproxy", "nfs"}

// placer holds the state of one Place call.
type placer struct {
	c   *Cluster
	req *Request

	primary string
	nets    []specNet
	pubNets []netip.Prefix
	vips    []netip.Addr

	matched     []int32
	matchedDone bool
	ips         []string // candidate addresses, see cand.ip
	sc          *scratch

	// Expanded candidates: position q is base[q % len(base)] in round
	// q / len(base), whose ports are Request.Ports renumbered by the round.
	base       []cand
	nExp       int
	roundPorts [][]int
}

// Place plans one service on the cluster; see the package documentation.
// An invalid or unsatisfiable placement is a *PlacementError with cephadm's
// message.
func (c *Cluster) Place(req *Request) (*Plan, error) {
	sc := c.getScratch()
	defer c.putScratch(sc)
	p := &placer{c: c, req: req, primary: req.PrimaryDaemonType, sc: sc}
	if p.primary == "" {
		p.primary = req.ServiceType
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	base, err := p.baseCandidates()
	if err != nil {
		return nil, err
	}
	shuffle(base, seedSHA1(req.ServiceName))
	if slices.Contains(rescheduleFromOffline[:], p.primary) {
		out := base[:0]
		for _, cd := range base {
			if cd.host >= 0 && c.unreachable[cd.host] && !c.maintenance[cd.host] {
				continue
			}
			if cd.host < 0 && c.isUnreachable(p.hostName(&cd)) {
				continue
			}
			out = append(out, cd)
		}
		base = out
	}
	p.base = base
	return p.place(), nil
}

// Place builds a Cluster from st and places req on it. Callers placing
// many services should build the Cluster once with NewCluster.
func Place(st ClusterState, req *Request) (*Plan, error) {
	return NewCluster(st).Place(req)
}

// Candidates returns cephadm's get_candidates() for req: the candidate
// slots in shuffled order, without validating the placement first.
func (c *Cluster) Candidates(req *Request) ([]Slot, error) {
	p := &placer{c: c, req: req, primary: req.PrimaryDaemonType, sc: &scratch{}}
	if p.primary == "" {
		p.primary = req.ServiceType
	}
	if err := p.prepareNetworks(); err != nil {
		return nil, err
	}
	base, err := p.baseCandidates()
	if err != nil {
		return nil, err
	}
	shuffle(base, seedSHA1(req.ServiceName))
	p.base = base
	p.expand(1)
	out := make([]Slot, len(base))
	for i := range base {
		out[i] = p.slotAt(int32(i))
	}
	return out, nil
}

func (p *placer) oneLine() string {
	if p.req.OneLineStr != "" {
		return p.req.OneLineStr
	}
	return "<ServiceSpec for service_name=" + p.req.ServiceName + ">"
}

// validate is cephadm's HostAssignment.validate(), preceded by the count
// checks of PlacementSpec.validate() that placement depends on.
func (p *placer) validate() error {
	pl := &p.req.Placement
	if pl.Count != nil && *pl.Count < 1 {
		return &PlacementError{Kind: "SpecValidationError", Class: ErrInvalidCount, Msg: "num/count must be >= 1"}
	}
	if pl.CountPerHost != nil && *pl.CountPerHost < 1 {
		return &PlacementError{Kind: "SpecValidationError", Class: ErrInvalidCount, Msg: "count-per-host must be >= 1"}
	}
	if err := p.prepareNetworks(); err != nil {
		return err
	}
	if pl.CountPerHost != nil && *pl.CountPerHost > 1 && !p.req.AllowColo {
		return orchErr(ErrColocation, "Cannot place more than one "+p.req.ServiceType+" per host")
	}
	if len(pl.Hosts) > 0 {
		var unknown []string
		for _, h := range pl.Hosts {
			if _, ok := p.c.byName[h.Hostname]; ok {
				continue
			}
			if _, ok := p.c.draining[h.Hostname]; ok {
				continue
			}
			if !slices.Contains(unknown, h.Hostname) {
				unknown = append(unknown, h.Hostname)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			e := orchErr(ErrUnknownHosts, fmt.Sprintf("Cannot place %s on %s: Unknown hosts", p.oneLine(), strings.Join(unknown, ", ")))
			e.Hosts = unknown
			return e
		}
	}
	if pl.HostPattern != nil {
		var any bool
		if len(pl.Hosts) > 0 {
			for _, h := range pl.Hosts {
				if _, ok := p.c.byName[h.Hostname]; ok {
					any = true
					break
				}
			}
		} else {
			any = len(p.matchingHosts()) > 0
		}
		if !any {
			return orchErr(ErrNoMatchingHost, "Cannot place "+p.oneLine()+": No matching hosts")
		}
	}
	if pl.Label != "" && len(p.c.labels[pl.Label]) == 0 {
		return orchErr(ErrNoLabelHost, "Cannot place "+p.oneLine()+": No matching hosts for label "+pl.Label)
	}
	return nil
}

// expand sets up perHost rounds of the base candidates.
func (p *placer) expand(perHost int) {
	p.nExp = len(p.base) * perHost
	p.roundPorts = make([][]int, perHost)
	for r := range p.roundPorts {
		if len(p.req.Ports) == 0 {
			continue
		}
		if r == 0 {
			p.roundPorts[r] = slices.Clone(p.req.Ports)
			continue
		}
		ports := make([]int, len(p.req.Ports))
		for i, port := range p.req.Ports {
			ports[i] = port + r
		}
		p.roundPorts[r] = ports
	}
}

// at returns the base candidate and round of expanded position q.
func (p *placer) at(q int32) (*cand, int) {
	nb := int32(len(p.base))
	return &p.base[q%nb], int(q / nb)
}

// slotAt materialises expanded position q as a Slot.
func (p *placer) slotAt(q int32) Slot {
	var s Slot
	p.fillSlot(&s, q)
	return s
}

// fillSlot writes expanded position q into the zero Slot dst field by field:
// empty fields are not written at all, which matters when ten thousand
// slots are materialised while the garbage collector is running.
func (p *placer) fillSlot(dst *Slot, q int32) {
	cd, round := p.at(q)
	dst.DaemonType = p.primary
	if cd.ip >= 0 {
		dst.IP = p.ips[cd.ip]
	}
	if ports := p.roundPorts[round]; ports != nil {
		dst.Ports = ports
	}
	if cd.hps < 0 {
		dst.Hostname = p.c.names[cd.host]
		return
	}
	h := &p.req.Placement.Hosts[cd.hps]
	dst.Hostname = h.Hostname
	if h.Network != "" {
		dst.Network = h.Network
	}
	if h.Name != "" {
		dst.Name = h.Name
	}
}

// matches is Slot.MatchesDaemon for expanded position q, without
// materialising the slot.
func (p *placer) matches(q int32, d *Daemon) bool {
	cd, round := p.at(q)
	if cd.hps >= 0 {
		if name := p.req.Placement.Hosts[cd.hps].Name; name != "" && name != d.ID {
			return false
		}
	}
	if p.req.UpgradeInProgress || len(p.req.Ports) == 0 {
		return true
	}
	if len(d.Ports) > 0 {
		if len(d.Ports) != len(p.req.Ports) {
			return false
		}
		for i, port := range p.req.Ports {
			if d.Ports[i] != port+round {
				return false
			}
		}
	}
	if d.IP != "" && d.IP != p.ipOf(cd) {
		return false
	}
	return true
}

// daemonOrder returns the indices of the primary-type daemons in cephadm's
// keep order: active first, then unranked before ranked, lower rank, newer
// generation; ties keep the input order.
func (p *placer) daemonOrder() []int {
	ds := p.req.Daemons
	order := p.sc.order[:0]
	ranked := false
	for i := range ds {
		if ds[i].Type == p.primary {
			order = append(order, i)
			if ds[i].Rank != nil {
				ranked = true
			}
		}
	}
	p.sc.order = order
	if !ranked {
		// Only activity matters: a stable partition, active first.
		out := p.sc.parted[:0]
		for _, i := range order {
			if ds[i].IsActive {
				out = append(out, i)
			}
		}
		for _, i := range order {
			if !ds[i].IsActive {
				out = append(out, i)
			}
		}
		p.sc.parted = out
		return out
	}
	slices.SortStableFunc(order, func(a, b int) int {
		da, db := &ds[a], &ds[b]
		if da.IsActive != db.IsActive {
			if da.IsActive {
				return -1
			}
			return 1
		}
		if (da.Rank != nil) != (db.Rank != nil) {
			if da.Rank == nil {
				return -1
			}
			return 1
		}
		if da.Rank == nil {
			return 0
		}
		if *da.Rank != *db.Rank {
			if *da.Rank < *db.Rank {
				return -1
			}
			return 1
		}
		ga, gb := 0, 0
		if da.RankGeneration != nil {
			ga = *da.RankGeneration
		}
		if db.RankGeneration != nil {
			gb = *db.RankGeneration
		}
		switch {
		case ga > gb:
			return -1
		case ga < gb:
			return 1
		}
		return 0
	})
	return order
}

// rankMatches is cephadm's matches_rank_map: an unranked service keeps only
// unranked daemons; a ranked one keeps a daemon whose rank is still free and
// whose generation is the newest recorded for that rank under its own id.
func (p *placer) rankMatches(d *Daemon, rankTaken []bool) bool {
	if !p.req.Ranked {
		return d.Rank == nil
	}
	if d.Rank == nil {
		return false
	}
	r := *d.Rank
	gens, ok := p.req.RankMap[r]
	if !ok {
		return false
	}
	if r < 0 || r >= len(rankTaken) || rankTaken[r] {
		return false
	}
	newest, ok := p.req.RankMap.maxGen(r)
	if !ok || d.RankGeneration == nil || *d.RankGeneration != newest {
		return false
	}
	id, ok := gens[newest]
	return ok && id != "" && id == d.ID
}

// keptDaemon is an existing daemon that keeps its slot; pointer-free so
// that thousands of them cost the garbage collector nothing.
type keptDaemon struct {
	d      int32 // index into Request.Daemons
	q      int32 // expanded position of its slot
	rank   int32
	gen    int32
	ranked bool
}

// hostFlags returns a per-host-index flag slice for the named hosts, or nil
// when names is empty.
func (p *placer) hostFlags(names []string) []bool {
	if len(names) == 0 {
		return nil
	}
	flags := make([]bool, len(p.c.hosts))
	for _, n := range names {
		if i, ok := p.c.byName[n]; ok {
			flags[i] = true
		}
	}
	return flags
}

// place is the body of cephadm's HostAssignment.place() after validation
// and candidate generation.
func (p *placer) place() *Plan {
	req := p.req
	c := p.c
	count := req.Placement.Count
	perHost := 1
	if count == nil {
		if req.Placement.CountPerHost != nil {
			perHost = *req.Placement.CountPerHost
		}
	} else if req.AllowColo && len(p.base) > 0 {
		perHost = 1 + (*count-1)/len(p.base)
	}
	p.expand(perHost)
	nExp := int32(p.nExp)

	sc := p.sc
	sc.taken = zeroed(sc.taken, int(nExp))
	taken := sc.taken
	var rankTaken []bool
	if req.Ranked {
		sc.rankTaken = zeroed(sc.rankTaken, int(nExp))
		rankTaken = sc.rankTaken
	}

	// Existing daemons claim, in keep order, the first free matching slot
	// on their host. Positions on one host are chained in candidate order.
	order := p.daemonOrder()
	var head, next []int32
	if len(order) > 0 && nExp > 0 {
		sc.head = zeroed(sc.head, len(c.hosts))
		head = sc.head
		for i := range head {
			head[i] = -1
		}
		sc.next = zeroed(sc.next, int(nExp))
		next = sc.next
		for q := nExp - 1; q >= 0; q-- {
			h := p.base[q%int32(len(p.base))].host
			if h < 0 {
				next[q] = -1
				continue
			}
			next[q] = head[h]
			head[h] = q
		}
	}
	existing := sc.existing[:0]
	toRemove := sc.toRemove[:0]
	defer func() { sc.existing, sc.toRemove = existing[:0], toRemove[:0] }()
	for _, di := range order {
		d := &req.Daemons[di]
		found := false
		if h, ok := c.byName[d.Hostname]; ok && head != nil && p.rankMatches(d, rankTaken) {
			for q := head[h]; q >= 0; q = next[q] {
				if taken[q] || !p.matches(q, d) {
					continue
				}
				taken[q] = true
				k := keptDaemon{d: int32(di), q: q}
				if d.Rank != nil {
					k.rank, k.gen, k.ranked = int32(*d.Rank), int32(*d.RankGeneration), true
					rankTaken[*d.Rank] = true
				}
				existing = append(existing, k)
				found = true
				break
			}
		}
		if !found {
			toRemove = append(toRemove, di)
		}
	}
	// cephadm keeps two aligned lists, the kept daemons and their slots,
	// but filters only the former for blocking hosts; both are kept here
	// so that the truncation below matches.
	existingSlots := existing
	blocking := p.hostFlags(req.BlockingHosts)
	usable := func(cd *cand) bool {
		if cd.host < 0 {
			return !c.isUnreachable(p.hostName(cd)) && !slices.Contains(req.BlockingHosts, p.hostName(cd))
		}
		return !c.unreachable[cd.host] && (blocking == nil || !blocking[cd.host])
	}

	var toAdd []int32
	if count == nil {
		toAdd = sc.toAdd[:0]
		defer func() { sc.toAdd = toAdd[:0] }()
		for q := int32(0); q < nExp; q++ {
			if !taken[q] && usable(&p.base[q%int32(len(p.base))]) {
				toAdd = append(toAdd, q)
			}
		}
	} else {
		if blocking != nil {
			keep := make([]keptDaemon, 0, len(existing))
			for _, k := range existing {
				if h, ok := c.byName[req.Daemons[k.d].Hostname]; ok && blocking[h] {
					toRemove = append(toRemove, int(k.d))
				} else {
					keep = append(keep, k)
				}
			}
			existing = keep
		}
		need := *count - len(existing)
		if need <= 0 {
			for _, k := range existing[*count:] {
				toRemove = append(toRemove, int(k.d))
			}
			if len(existingSlots) > *count {
				existingSlots = existingSlots[:*count]
			}
			return p.finish(existingSlots, nil, toRemove)
		}
		related := p.hostFlags(req.RelatedHosts)
		isRelated := func(cd *cand) bool { return related != nil && cd.host >= 0 && related[cd.host] }
		if related != nil {
			// Prefer hosts that run the related service's daemons.
			for q := int32(0); q < nExp && need > 0; q++ {
				cd := &p.base[q%int32(len(p.base))]
				if taken[q] || !isRelated(cd) || c.unreachable[cd.host] {
					continue
				}
				toAdd = append(toAdd, q)
				taken[q] = true
				need--
			}
		}
		for q := int32(0); q < nExp && need > 0; q++ {
			cd := &p.base[q%int32(len(p.base))]
			if taken[q] || isRelated(cd) || !usable(cd) {
				continue
			}
			toAdd = append(toAdd, q)
			need--
		}
	}

	plan := p.finish(existingSlots, toAdd, toRemove)
	if req.Ranked {
		// The free ranks, lowest first, go to the new slots; each gets the
		// next generation of its rank, reserved in the rank map.
		nk := len(existingSlots)
		r := 0
		for i := range toAdd {
			for rankTaken[r] {
				r++
			}
			gen := 0
			if g, ok := plan.RankMap.maxGen(r); ok {
				gen = g + 1
			}
			if plan.RankMap[r] == nil {
				plan.RankMap[r] = map[int]string{}
			}
			plan.RankMap[r][gen] = ""
			rk, gn := r, gen
			plan.Slots[nk+i].Rank, plan.Slots[nk+i].RankGeneration = &rk, &gn
			plan.ToAdd[i].Rank, plan.ToAdd[i].RankGeneration = &rk, &gn
			r++
		}
	}
	return plan
}

// finish materialises the plan and is cephadm's place_per_host_daemons:
// per-host daemons on every host with a slot, and no removals on
// unreachable hosts.
func (p *placer) finish(existing []keptDaemon, toAdd []int32, toRemove []int) *Plan {
	req := p.req
	nSlots := len(existing) + len(toAdd)
	plan := &Plan{}
	if req.Ranked {
		plan.RankMap = req.RankMap.Clone()
		if plan.RankMap == nil {
			plan.RankMap = RankMap{}
		}
	}
	var hostSlots []Slot
	if req.PerHostDaemonType != "" {
		hostSlots = make([]Slot, 0, nSlots)
	}
	plan.Slots = make([]Slot, nSlots, nSlots+cap(hostSlots))
	for i, k := range existing {
		p.fillSlot(&plan.Slots[i], k.q)
		if k.ranked {
			r, g := int(k.rank), int(k.gen)
			plan.Slots[i].Rank, plan.Slots[i].RankGeneration = &r, &g
		}
	}
	plan.ToAdd = make([]Slot, len(toAdd), len(toAdd)+cap(hostSlots))
	for i, q := range toAdd {
		p.fillSlot(&plan.Slots[len(existing)+i], q)
		p.fillSlot(&plan.ToAdd[i], q)
	}

	removeDaemon := func(d *Daemon) {
		if !p.c.isUnreachable(d.Hostname) {
			plan.ToRemove = append(plan.ToRemove, *d)
		}
	}
	for _, di := range toRemove {
		removeDaemon(&req.Daemons[di])
	}

	if req.PerHostDaemonType != "" {
		// One per-host slot for every distinct host, in slot order (cephadm
		// builds them from a set, whose order is arbitrary).
		idx := make(map[string]int, nSlots)
		for i := range plan.Slots {
			h := plan.Slots[i].Hostname
			if _, ok := idx[h]; ok {
				continue
			}
			idx[h] = len(hostSlots)
			hostSlots = append(hostSlots, Slot{DaemonType: req.PerHostDaemonType, Hostname: h})
		}
		used := make([]bool, len(hostSlots))
		for i := range req.Daemons {
			d := &req.Daemons[i]
			if d.Type != req.PerHostDaemonType {
				continue
			}
			j, ok := idx[d.Hostname]
			if ok && !used[j] && hostSlots[j].MatchesDaemon(d, req.UpgradeInProgress) {
				used[j] = true
				continue
			}
			removeDaemon(d)
		}
		plan.Slots = append(plan.Slots, hostSlots...)
		for j, s := range hostSlots {
			if !used[j] {
				plan.ToAdd = append(plan.ToAdd, s)
			}
		}
	}
	if req.Explain {
		plan.Rejected = p.explain(plan)
	}
	return plan
}

// Validate runs only the checks Place makes before placing (cephadm's
// HostAssignment.validate()): `orch apply` runs them against every known
// host, draining ones included, before it stores a spec.
func (c *Cluster) Validate(req *Request) error {
	p := &placer{c: c, req: req, primary: req.PrimaryDaemonType, sc: &scratch{}}
	if p.primary == "" {
		p.primary = req.ServiceType
	}
	return p.validate()
}
