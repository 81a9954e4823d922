package spec

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// pyIPNetwork checks s the way Python's ipaddress.ip_network(s) (strict)
// does and returns its ValueError text, or "" when s is a valid network.
func pyIPNetwork(s string) string {
	notNet := fmt.Sprintf("%s does not appear to be an IPv4 or IPv6 network", pyQuote(s))
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return notNet
	}
	addr, err := netip.ParseAddr(parts[0])
	if err != nil || addr.Zone() != "" {
		return notNet
	}
	max := addr.BitLen()
	prefix := max
	if len(parts) == 2 {
		p, ok := parsePrefixLen(parts[1], addr.Is4(), max)
		if !ok {
			return notNet
		}
		prefix = p
	}
	pfx := netip.PrefixFrom(addr, prefix)
	if pfx.Masked().Addr() != addr {
		return fmt.Sprintf("%s/%d has host bits set", addr, prefix)
	}
	return ""
}

// parsePrefixLen accepts a decimal prefix length, and for IPv4 also a
// dotted netmask or hostmask, as Python's ipaddress does.
func parsePrefixLen(s string, v4 bool, max int) (int, bool) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > max {
			return 0, false
		}
		return n, true
	}
	if !v4 {
		return 0, false
	}
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() {
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if ones := bits.LeadingZeros32(^v); v<<uint(ones) == 0 || ones == 32 {
		return ones, true
	}
	// Hostmask: leading zeros then ones.
	if zeros := bits.LeadingZeros32(v); zeros == 32 || (^v)<<uint(zeros) == 0 {
		return zeros, true
	}
	return 0, false
}

// pyIPAddress reports whether s is a valid Python ipaddress.ip_address and
// returns its version (4 or 6).
func pyIPAddress(s string) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, false
	}
	if a.Is4() {
		return 4, true
	}
	return 6, true
}

// validAddr is cephadm's utils.valid_addr without the DNS lookup: a name
// that is well formed is accepted as "Name[:Port]" (spec stays free of
// I/O; the controller resolves names when it deploys).
func validAddr(addr string) (bool, string) {
	dots := strings.Count(addr, ".")
	colons := strings.Count(addr, ":")
	if strings.HasPrefix(addr, "[") && dots > 0 {
		return false, "IPv4 address wrapped in brackets is invalid"
	}
	host := addr
	port := ""
	if strings.HasPrefix(addr, "[") {
		end := strings.Index(addr, "]")
		if end < 0 {
			return false, "Address has incorrect/incomplete use of enclosing brackets"
		}
		host = addr[:end+1]
		rest := addr[end+1:]
		if strings.HasPrefix(rest, ":") {
			port = rest[1:]
		}
	} else if strings.Contains(addr, "]") {
		return false, "Address has incorrect/incomplete use of enclosing brackets"
	} else if colons == 1 {
		i := strings.LastIndex(addr, ":")
		host, port = addr[:i], addr[i+1:]
	}
	hasPort := false
	if port != "" || (colons == 1 && !strings.HasPrefix(addr, "[")) {
		p, err := strconv.Atoi(port)
		if err != nil || port == "" || strings.Trim(port, "0123456789") != "" || p > 65535 {
			return false, "Port must be numeric"
		}
		hasPort = p != 0
		if !hasPort {
			host = addr
		}
	}
	if host == "" {
		return false, "Invalid IP v4 or v6 address format"
	}
	if dots > 0 && host[0] >= '0' && host[0] <= '9' && dots != 3 {
		return false, "Invalid partial IPv4 address"
	}
	suffix := ""
	if hasPort {
		suffix = ":Port"
	}
	c := host[0]
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) && strings.Contains(host, ".") {
		return true, "Name" + suffix
	}
	unwrapped := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	v, ok := pyIPAddress(unwrapped)
	if !ok {
		return false, "Invalid IP v4 or v6 address format"
	}
	return true, fmt.Sprintf("IPv%d%s", v, suffix)
}
