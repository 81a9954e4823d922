package scheduler

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// cand is one candidate before expansion: a host (index into the cluster,
// -1 for a listed host the cluster does not know), the explicit host entry
// it comes from (-1 for label/pattern/count rules) and its address (an
// index into placer.ips, -1 for none). It holds no pointers, so that
// shuffling thousands of them costs no GC write barriers.
type cand struct {
	host int32
	hps  int32
	ip   int32
}

// ipOf returns the candidate's address, "" for none.
func (p *placer) ipOf(cd *cand) string {
	if cd.ip < 0 {
		return ""
	}
	return p.ips[cd.ip]
}

// hostName returns the candidate's host name.
func (p *placer) hostName(cd *cand) string {
	if cd.hps >= 0 {
		return p.req.Placement.Hosts[cd.hps].Hostname
	}
	return p.c.names[cd.host]
}

// matchingHosts returns cephadm's placement.filter_matching_hostspecs over
// the schedulable hosts for label and pattern rules (label and pattern
// together intersect), in name order. It is computed once per call.
func (p *placer) matchingHosts() []int32 {
	if p.matchedDone {
		return p.matched
	}
	p.matchedDone = true
	pl := &p.req.Placement
	var src []int32
	all := false
	if pl.Label != "" {
		src = p.c.labels[pl.Label]
	} else {
		all = true
	}
	if pl.HostPattern == nil {
		if all {
			p.matched = p.allHosts()
		} else {
			p.matched = src
		}
		return p.matched
	}
	m := newHostMatcher(*pl.HostPattern)
	if m.all {
		if all {
			p.matched = p.allHosts()
		} else {
			p.matched = src
		}
		return p.matched
	}
	if all {
		lo, hi := m.candidateRange(p.c.names)
		out := p.sc.matched[:0]
		for i := lo; i < hi; i++ {
			if m.match(p.c.names[i]) {
				out = append(out, int32(i))
			}
		}
		p.matched, p.sc.matched = out, out
		return out
	}
	out := p.sc.matched[:0]
	for _, i := range src {
		if m.match(p.c.names[i]) {
			out = append(out, i)
		}
	}
	p.matched, p.sc.matched = out, out
	return out
}

// everyHost reports whether the label/pattern/count rule selects every
// schedulable host, so that callers can skip building an index list.
func (p *placer) everyHost() bool {
	pl := &p.req.Placement
	if pl.Label != "" {
		return false
	}
	if pl.HostPattern == nil {
		return true
	}
	m := newHostMatcher(*pl.HostPattern)
	return m.all
}

// allHosts returns the indices of every schedulable host.
func (p *placer) allHosts() []int32 {
	out := make([]int32, len(p.c.hosts))
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// baseCandidates is the first half of cephadm's get_candidates: the host
// rule, then address selection and host filters, in sorted order.
func (p *placer) baseCandidates() ([]cand, error) {
	pl := &p.req.Placement
	var ls []cand
	switch {
	case len(pl.Hosts) > 0:
		ls = p.sc.cands[:0]
		for i, h := range pl.Hosts {
			if _, drain := p.c.draining[h.Hostname]; drain {
				continue
			}
			idx, ok := p.c.byName[h.Hostname]
			if !ok {
				idx = -1
			}
			ls = append(ls, cand{host: idx, hps: int32(i), ip: -1})
		}
		// Candidates sort as cephadm's DaemonPlacement tuples; only the
		// host entry's (hostname, network, name) can differ here.
		slices.SortStableFunc(ls, func(a, b cand) int {
			ha, hb := &pl.Hosts[a.hps], &pl.Hosts[b.hps]
			if c := strings.Compare(ha.Hostname, hb.Hostname); c != 0 {
				return c
			}
			if c := strings.Compare(ha.Network, hb.Network); c != 0 {
				return c
			}
			return strings.Compare(ha.Name, hb.Name)
		})
	case pl.Label != "" || pl.HostPattern != nil || pl.Count != nil || pl.CountPerHost != nil:
		// Host indices are in name order, which is the sort order.
		if p.everyHost() {
			ls = append(p.sc.cands[:0], p.c.allCands...)
			break
		}
		idxs := p.matchingHosts()
		ls = p.sc.cands[:0]
		for _, h := range idxs {
			ls = append(ls, cand{host: h, hps: -1, ip: -1})
		}
	default:
		return nil, orchErr(ErrEmptyPlacement, "placement spec is empty: no hosts, no label, no pattern, no count")
	}

	if len(p.req.Networks) > 0 || len(p.req.IPAddrs) > 0 {
		out := ls[:0]
		for _, cd := range ls {
			name := p.hostName(&cd)
			ip := ""
			if len(p.req.IPAddrs) > 0 {
				if want, ok := p.req.IPAddrs[name]; ok && p.hostHasIP(name, want) {
					ip = want
				}
			}
			if ip == "" && len(p.nets) > 0 {
				ip = p.findIPOnHost(name)
			}
			if ip == "" {
				continue
			}
			cd.ip = int32(len(p.ips))
			p.ips = append(p.ips, ip)
			out = append(out, cd)
		}
		ls = out
	}

	if len(p.pubNets) > 0 || len(p.vips) > 0 {
		out := ls[:0]
		for _, cd := range ls {
			if p.filterNewHost(p.hostName(&cd)) == "" {
				out = append(out, cd)
			}
		}
		ls = out
	}
	p.sc.cands = ls
	return ls, nil
}

// hostHasIP reports whether ip is configured on any interface of host.
func (p *placer) hostHasIP(host, ip string) bool {
	for _, ifaces := range p.c.networks[host] {
		for _, ips := range ifaces {
			if slices.Contains(ips, ip) {
				return true
			}
		}
	}
	return false
}

// findIPOnHost is cephadm's find_ip_on_host: for the first of the spec's
// networks the host is on, its lowest address (as a string); loopback
// networks always offer 127.0.0.1 or ::1.
func (p *placer) findIPOnHost(host string) string {
	hn := p.c.networks[host]
	for _, n := range p.nets {
		best := ""
		if n.loopback != "" {
			best = n.loopback
		}
		for _, ips := range hn[n.str] {
			for _, ip := range ips {
				if best == "" || ip < best {
					best = ip
				}
			}
		}
		if best != "" {
			return best
		}
	}
	return ""
}

// filterNewHost applies cephadm's per-service host filters (mon public
// networks, ingress virtual IPs) and returns the rejection reason, or "".
func (p *placer) filterNewHost(host string) Reason {
	hn := p.c.networks[host]
	if len(p.pubNets) > 0 {
		ok := false
	pub:
		for _, pn := range p.pubNets {
			for subnet := range hn {
				hp, err := parseNetwork(subnet)
				if err == nil && hp.Overlaps(pn) {
					ok = true
					break pub
				}
			}
		}
		if !ok {
			return ReasonNotPublicNetwork
		}
	}
	for _, vip := range p.vips {
		found := false
		for subnet, ifaces := range hn {
			if len(ifaces) == 0 {
				continue
			}
			sp, err := parseNetwork(subnet)
			if err == nil && sp.Contains(vip) {
				found = true
				break
			}
		}
		if !found {
			return ReasonNoVIPInterface
		}
	}
	return ""
}

// specNet is one of the spec's networks, normalised as Python's
// str(ipaddress.ip_network(n)).
type specNet struct {
	str      string
	loopback string
}

// parseNetwork parses a network the way Python's ipaddress.ip_network does
// with strict=True: a bare address is a host network, host bits must be
// clear.
func parseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("'%s' does not appear to be an IPv4 or IPv6 network", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	pf, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("'%s' does not appear to be an IPv4 or IPv6 network", s)
	}
	if pf.Masked() != pf {
		return netip.Prefix{}, fmt.Errorf("%s has host bits set", s)
	}
	return pf, nil
}

// prepareNetworks parses the request's networks, public networks and
// virtual IPs once per call.
func (p *placer) prepareNetworks() error {
	for _, n := range p.req.Networks {
		pf, err := parseNetwork(n)
		if err != nil {
			return &PlacementError{Kind: "SpecValidationError", Class: ErrBadNetwork,
				Msg: fmt.Sprintf("Cannot parse network %s: %v", n, err)}
		}
		sn := specNet{str: pf.String()}
		if pf.Addr().IsLoopback() && lastAddr(pf).IsLoopback() {
			if pf.Addr().Is4() {
				sn.loopback = "127.0.0.1"
			} else {
				sn.loopback = "::1"
			}
		}
		p.nets = append(p.nets, sn)
	}
	for _, n := range p.req.PublicNetworks {
		pf, err := parseNetwork(strings.TrimSpace(n))
		if err != nil {
			return &PlacementError{Kind: "OrchestratorValidationError", Class: ErrBadNetwork,
				Msg: fmt.Sprintf("Cannot parse public network %s: %v", n, err)}
		}
		p.pubNets = append(p.pubNets, pf)
	}
	for _, v := range p.req.VirtualIPs {
		bare, _, _ := strings.Cut(v, "/")
		a, err := netip.ParseAddr(bare)
		if err != nil {
			return &PlacementError{Kind: "OrchestratorValidationError", Class: ErrBadNetwork,
				Msg: fmt.Sprintf("Cannot parse virtual IP %s: '%s' does not appear to be an IPv4 or IPv6 address", v, bare)}
		}
		p.vips = append(p.vips, a)
	}
	return nil
}

// lastAddr returns the highest address of pf (its broadcast address).
func lastAddr(pf netip.Prefix) netip.Addr {
	b := pf.Addr().AsSlice()
	bitsLeft := pf.Addr().BitLen() - pf.Bits()
	for i := len(b) - 1; i >= 0 && bitsLeft > 0; i-- {
		if bitsLeft >= 8 {
			b[i] = 0xff
			bitsLeft -= 8
		} else {
			b[i] |= byte(1<<bitsLeft) - 1
			bitsLeft = 0
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
