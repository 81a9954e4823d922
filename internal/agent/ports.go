package agent

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrPortInUse means a fresh deploy was refused because a TCP port the
// daemon needs is already bound on the host. Nothing was created.
var ErrPortInUse = errors.New("port in use")

// PortError names the ports a daemon needs and which of them are taken.
type PortError struct {
	DaemonType string
	// Ports are all the daemon's ports, as cephadm lists them.
	Ports []int
	// Busy are the ones found in use.
	Busy []int
}

// Error is cephadm's text: "TCP Port(s) '<ports>' required for <type>
// already in use".
func (e *PortError) Error() string {
	return fmt.Sprintf("TCP Port(s) '%s' required for %s already in use", joinInts(e.Ports, ","), e.DaemonType)
}

func (e *PortError) Unwrap() error { return ErrPortInUse }

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}

// PortChecker reports whether a TCP port can not be bound on ip ("" means
// every address). It is the TCP listen test cephadm does before a fresh
// deploy.
type PortChecker func(ip string, port int) (inUse bool, err error)

// tcpPortInUse tries to listen on the port, for IPv4 and (when no address
// is given) IPv6, and reports EADDRINUSE as "in use". Other failures (no
// IPv6 on the host, an address that is not local) are errors only if no
// family could be tested at all.
func tcpPortInUse(ip string, port int) (bool, error) {
	var addrs []struct{ network, addr string }
	if ip == "" {
		addrs = append(addrs,
			struct{ network, addr string }{"tcp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(port))},
			struct{ network, addr string }{"tcp6", net.JoinHostPort("::", strconv.Itoa(port))})
	} else {
		network := "tcp4"
		if strings.Contains(ip, ":") {
			network = "tcp6"
		}
		addrs = append(addrs, struct{ network, addr string }{network, net.JoinHostPort(ip, strconv.Itoa(port))})
	}
	var firstErr error
	tested := false
	for _, a := range addrs {
		l, err := net.Listen(a.network, a.addr)
		if err == nil {
			tested = true
			_ = l.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return true, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if !tested && firstErr != nil {
		return false, firstErr
	}
	return false, nil
}

// checkPorts returns a *PortError when any of ports is in use. portIPs
// optionally binds a port to one address (cephadm's port_ips).
func checkPorts(check PortChecker, daemonType string, ports []int, portIPs map[string]string) error {
	if len(ports) == 0 {
		return nil
	}
	var busy []int
	for _, p := range ports {
		inUse, err := check(portIPs[strconv.Itoa(p)], p)
		if err != nil {
			return fmt.Errorf("check port %d: %w", p, err)
		}
		if inUse {
			busy = append(busy, p)
		}
	}
	if len(busy) == 0 {
		return nil
	}
	sort.Ints(busy)
	return &PortError{DaemonType: daemonType, Ports: append([]int(nil), ports...), Busy: busy}
}
