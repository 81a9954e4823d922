package agent

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
)

// Networks is the JSON answer of `orch agent list-networks`:
// subnet (CIDR) → interface → addresses of the host in that subnet.
type Networks map[string]map[string][]string

var (
	// An IPv4 route that the host reaches directly, with its source address:
	// "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2".
	ipv4RouteRE = regexp.MustCompile(`^(\S+) (?:via \S+)? ?dev (\S+) (.*)scope link (.*)src (\S+)`)
	// An IPv6 route: "fd00::/64 dev eth0 proto kernel metric 256 pref medium".
	ipv6RouteRE = regexp.MustCompile(`^(\S+) dev (\S+) proto (\S+) metric (\S+) .*pref (\S+)$`)
	// An address line of `ip -6 addr ls`: "    inet6 fd00::2/64 scope global".
	ipv6AddrRE = regexp.MustCompile(`^\s+inet6 (\S+)/(.*)scope (.*)$`)
	// An interface line of `ip -6 addr ls`: "4: eth0: <BROADCAST,...>".
	ifaceLineRE = regexp.MustCompile(`^(\d+): (\S+): (.*)$`)
)

// ListNetworks reports the networks the host is directly attached to, with
// cephadm's semantics: IPv4 subnets come from `ip route ls` lines with
// "scope link ... src" (a bare address becomes /32); IPv6 subnets from
// `ip -6 route ls` (bare addresses /128; loopback and default routes
// skipped), populated with the addresses of `ip -6 addr ls` that fall in
// them on the same interface.
func (h *Host) ListNetworks(ctx context.Context) (Networks, error) {
	v4, err := h.run(ctx, "ip", "route", "ls")
	if err != nil {
		return nil, fmt.Errorf("list-networks: ip route ls: %w", err)
	}
	v6routes, err := h.run(ctx, "ip", "-6", "route", "ls")
	if err != nil {
		return nil, fmt.Errorf("list-networks: ip -6 route ls: %w", err)
	}
	v6addrs, err := h.run(ctx, "ip", "-6", "addr", "ls")
	if err != nil {
		return nil, fmt.Errorf("list-networks: ip -6 addr ls: %w", err)
	}
	nets := ParseIPv4Routes(string(v4))
	for k, v := range ParseIPv6Routes(string(v6routes), string(v6addrs)) {
		nets[k] = v
	}
	return nets, nil
}

func (n Networks) add(subnet, iface, ip string) {
	if n[subnet] == nil {
		n[subnet] = map[string][]string{}
	}
	ips := n[subnet][iface]
	if ip != "" {
		i := sort.SearchStrings(ips, ip)
		if i < len(ips) && ips[i] == ip {
			return
		}
		ips = append(ips, "")
		copy(ips[i+1:], ips[i:])
		ips[i] = ip
	}
	if ips == nil {
		ips = []string{}
	}
	n[subnet][iface] = ips
}

// ParseIPv4Routes parses `ip route ls` output.
func ParseIPv4Routes(out string) Networks {
	nets := Networks{}
	for _, line := range strings.Split(out, "\n") {
		m := ipv4RouteRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		subnet := m[1]
		if !strings.Contains(subnet, "/") {
			subnet += "/32"
		}
		nets.add(subnet, m[2], m[5])
	}
	return nets
}

// ParseIPv6Routes parses `ip -6 route ls` and `ip -6 addr ls` output.
func ParseIPv6Routes(routes, addrs string) Networks {
	nets := Networks{}
	type route struct {
		prefix netip.Prefix
		subnet string
	}
	var order []route
	for _, line := range strings.Split(routes, "\n") {
		m := ipv6RouteRE.FindStringSubmatch(line)
		if m == nil || strings.EqualFold(m[1], "default") || m[2] == "lo" {
			continue
		}
		subnet := m[1]
		if !strings.Contains(subnet, "/") {
			subnet += "/128"
		}
		p, err := netip.ParsePrefix(subnet)
		if err != nil {
			continue
		}
		if _, seen := nets[subnet]; !seen {
			order = append(order, route{p.Masked(), subnet})
		}
		nets.add(subnet, m[2], "")
	}
	iface := ""
	for _, line := range strings.Split(addrs, "\n") {
		m := ipv6AddrRE.FindStringSubmatch(line)
		if m == nil {
			if m := ifaceLineRE.FindStringSubmatch(line); m != nil {
				iface, _, _ = strings.Cut(m[2], "@")
			}
			continue
		}
		ip, err := netip.ParseAddr(m[1])
		if err != nil {
			continue
		}
		// The first route (in route order) containing the address decides,
		// as in cephadm; the address is recorded only on that route's
		// interface.
		for _, r := range order {
			if r.prefix.Contains(ip) {
				if _, ok := nets[r.subnet][iface]; ok {
					nets.add(r.subnet, iface, ip.String())
				}
				break
			}
		}
	}
	return nets
}
