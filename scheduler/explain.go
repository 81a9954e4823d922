package scheduler

import "slices"

// explain lists every schedulable or draining host without a slot in plan,
// with the first placement rule, in the order Place applies them, that
// kept it out.
func (p *placer) explain(plan *Plan) []Rejection {
	req := p.req
	pl := &req.Placement
	placed := make(map[string]struct{}, len(plan.Slots))
	for i := range plan.Slots {
		placed[plan.Slots[i].Hostname] = struct{}{}
	}
	var listed map[string]bool // host → listed and not draining
	if len(pl.Hosts) > 0 {
		listed = make(map[string]bool, len(pl.Hosts))
		for _, h := range pl.Hosts {
			listed[h.Hostname] = true
		}
	}
	var inRule []bool
	if len(pl.Hosts) == 0 && (pl.Label != "" || pl.HostPattern != nil) {
		inRule = make([]bool, len(p.c.hosts))
		for _, i := range p.matchingHosts() {
			inRule[i] = true
		}
	}
	inBase := make([]bool, len(p.c.hosts))
	for _, cd := range p.base {
		if cd.host >= 0 {
			inBase[cd.host] = true
		}
	}
	blocking := p.hostFlags(req.BlockingHosts)
	reschedule := slices.Contains(rescheduleFromOffline[:], p.primary)

	var out []Rejection
	for _, name := range p.c.drainNames {
		if _, ok := placed[name]; !ok {
			out = append(out, Rejection{Host: name, Reason: ReasonDraining})
		}
	}
	for i, name := range p.c.names {
		if _, ok := placed[name]; ok {
			continue
		}
		if _, ok := p.c.draining[name]; ok {
			continue // already listed
		}
		var r Reason
		switch {
		case listed != nil && !listed[name]:
			r = ReasonNotListed
		case inRule != nil && !inRule[i] && pl.Label != "" && !slices.Contains(p.c.hosts[i].Labels, pl.Label):
			r = ReasonLabelMissing
		case inRule != nil && !inRule[i]:
			r = ReasonPatternMismatch
		case !inBase[i]:
			r = p.droppedReason(name, reschedule, i)
		case p.c.unreachable[i]:
			r = ReasonUnreachable
		case blocking != nil && blocking[i]:
			r = ReasonBlocking
		default:
			r = ReasonCountSatisfied
		}
		out = append(out, Rejection{Host: name, Reason: r})
	}
	return out
}

// droppedReason says why a host that passed the host rule is not among the
// final candidates: no address on the networks, a service host filter, or
// the offline rescheduling of nfs/haproxy.
func (p *placer) droppedReason(name string, reschedule bool, i int) Reason {
	if len(p.req.Networks) > 0 || len(p.req.IPAddrs) > 0 {
		ip := ""
		if want, ok := p.req.IPAddrs[name]; ok && p.hostHasIP(name, want) {
			ip = want
		}
		if ip == "" && len(p.nets) > 0 {
			ip = p.findIPOnHost(name)
		}
		if ip == "" {
			return ReasonNoNetworkIP
		}
	}
	if len(p.pubNets) > 0 || len(p.vips) > 0 {
		if r := p.filterNewHost(name); r != "" {
			return r
		}
	}
	if reschedule && p.c.unreachable[i] && !p.c.maintenance[i] {
		return ReasonOfflineReschedule
	}
	return ReasonCountSatisfied
}
