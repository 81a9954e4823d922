package orchestrator

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/orchceph/orch/scheduler"
)

// monAddr picks the address a new monitor on a host binds to, honouring
// the mon public_network as cephadm and ceph-mon do: the host's address
// when it lies in a public network (or when no public network is known),
// else the host's first address (by subnet, interface, address order) in
// one, from its gathered networks. "" when none is an IP address.
func monAddr(hostAddr string, nets scheduler.HostNetworks, publicNetwork string) string {
	var pubs []netip.Prefix
	for _, n := range strings.Split(publicNetwork, ",") {
		if p, err := netip.ParsePrefix(strings.TrimSpace(n)); err == nil {
			pubs = append(pubs, p.Masked())
		}
	}
	inPublic := func(a netip.Addr) bool {
		for _, p := range pubs {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	host, hostErr := netip.ParseAddr(hostAddr)
	if len(pubs) == 0 || (hostErr == nil && inPublic(host)) {
		if hostErr != nil {
			return ""
		}
		return hostAddr
	}
	subnets := make([]string, 0, len(nets))
	for s := range nets {
		subnets = append(subnets, s)
	}
	sort.Strings(subnets)
	for _, s := range subnets {
		ifaces := make([]string, 0, len(nets[s]))
		for i := range nets[s] {
			ifaces = append(ifaces, i)
		}
		sort.Strings(ifaces)
		for _, i := range ifaces {
			for _, a := range nets[s][i] {
				if ip, err := netip.ParseAddr(a); err == nil && !ip.IsLoopback() && inPublic(ip) {
					return ip.String()
				}
			}
		}
	}
	if hostErr != nil {
		return ""
	}
	return hostAddr
}
