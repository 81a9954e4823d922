package spec

import (
	"fmt"
	"net/netip"
	"strings"
)

// This file mirrors the parts of Python's ipaddress module that
// HostPlacementSpec.parse uses to check the network of "host:network":
// ip_address for plain addresses and ip_network (strict) for CIDRs, with
// their ValueError messages.

// valueError is a Python ValueError raised outside cephadm's own checks.
func valueError(msg string) error { return &ValidationError{Kind: "ValueError", Msg: msg} }

// plIPAddress is ipaddress.ip_address(s): an IPv4 dotted quad or an IPv6
// address (optionally with a %scope).
func plIPAddress(s string) error {
	if plParseIPv4(s) {
		return nil
	}
	if plParseIPv6(s) {
		return nil
	}
	return valueError(fmt.Sprintf("%s does not appear to be an IPv4 or IPv6 address", pyQuote(s)))
}

// plParseIPv4 is IPv4Address's strict parser: four decimal octets of one to
// three ASCII digits, no leading zeros, each at most 255.
func plParseIPv4(s string) bool {
	_, ok := plIPv4Int(s)
	return ok
}

func plIPv4Int(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	var v uint32
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return 0, false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return 0, false
			}
			n = n*10 + int(p[i]-'0')
		}
		if len(p) > 1 && p[0] == '0' {
			return 0, false
		}
		if n > 255 {
			return 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, true
}

// plParseIPv6 is IPv6Address's parser; IPv4 text is not an IPv6 address.
func plParseIPv6(s string) bool {
	_, ok := plIPv6Addr(s)
	return ok
}

func plIPv6Addr(s string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// plIPNetwork is ipaddress.ip_network(s, strict=True). A network whose
// host bits are set fails with "<net> has host bits set"; anything that is
// neither an IPv4 nor an IPv6 network fails with "'<s>' does not appear to
// be an IPv4 or IPv6 network".
func plIPNetwork(s string) error {
	notNetwork := valueError(fmt.Sprintf("%s does not appear to be an IPv4 or IPv6 network", pyQuote(s)))
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return notNetwork
	}
	addr := parts[0]
	mask := ""
	hasMask := len(parts) == 2
	if hasMask {
		mask = parts[1]
	}
	// IPv4Network first.
	if ip, ok := plIPv4Int(addr); ok {
		prefix := 32
		valid := true
		if hasMask {
			prefix, valid = plIPv4Prefix(mask)
		}
		if valid {
			netmask := uint32(0)
			if prefix > 0 {
				netmask = ^uint32(0) << (32 - prefix)
			}
			if ip&netmask != ip {
				return valueError(fmt.Sprintf("%s/%d has host bits set", addr, prefix))
			}
			return nil
		}
	}
	// Then IPv6Network.
	if ip, ok := plIPv6Addr(addr); ok {
		prefix := 128
		valid := true
		if hasMask {
			prefix, valid = plPrefixLen(mask, 128)
		}
		if valid {
			p, err := ip.WithZone("").Prefix(prefix)
			if err == nil && p.Addr() != ip.WithZone("") {
				return valueError(fmt.Sprintf("%s/%d has host bits set", ip.String(), prefix))
			}
			return nil
		}
	}
	return notNetwork
}

// plPrefixLen is _prefix_from_prefix_string: ASCII digits in [0, max].
func plPrefixLen(s string, max int) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// plIPv4Prefix is IPv4's _make_netmask: a prefix length, or a dotted
// netmask (255.255.255.0) or hostmask (0.0.0.255).
func plIPv4Prefix(s string) (int, bool) {
	if n, ok := plPrefixLen(s, 32); ok {
		return n, true
	}
	if len(s) > 0 && allASCIIDigits(s) {
		// Digits out of range are an invalid netmask, not a dotted mask.
		return 0, false
	}
	ip, ok := plIPv4Int(s)
	if !ok {
		return 0, false
	}
	if n, ok := plPrefixFromInt(ip); ok {
		return n, true
	}
	return plPrefixFromInt(^ip)
}

func allASCIIDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plPrefixFromInt is _prefix_from_ip_int: ip must be leading ones followed
// by trailing zeros.
func plPrefixFromInt(ip uint32) (int, bool) {
	zeros := 0
	for zeros < 32 && ip&(1<<zeros) == 0 {
		zeros++
	}
	prefix := 32 - zeros
	var ones uint32
	if prefix > 0 {
		ones = ^uint32(0) >> zeros
	}
	var lead uint32
	if zeros < 32 {
		lead = ip >> zeros
	}
	if lead != ones {
		return 0, false
	}
	return prefix, true
}

// plUnwrapIPv6 is ceph.deployment.utils.unwrap_ipv6: "[addr]" → "addr".
func plUnwrapIPv6(s string) string {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if len(s) == 1 {
			return "" // Python's "["[1:-1]
		}
		return s[1 : len(s)-1]
	}
	return s
}
