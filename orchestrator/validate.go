package orchestrator

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/orchceph/orch/spec"
)

var (
	labelRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$`)
	userRE  = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	// locationRE is a CRUSH bucket type or name.
	locationRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	dnsRE      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

// invalidf returns an EINVAL-class error with cephadm-style wording.
func invalidf(format string, a ...any) error {
	return &spec.ValidationError{Kind: "OrchestratorValidationError", Msg: fmt.Sprintf(format, a...)}
}

// validateLabel refuses labels that could be mistaken for anything but a
// plain word (shell metacharacters, spaces, control characters).
func validateLabel(l string) error {
	if !labelRE.MatchString(l) {
		return invalidf("Invalid label %q: labels are 1-64 characters of [A-Za-z0-9_.:-] and may not start with '.', ':' or '-'", l)
	}
	return nil
}

// validateUser checks an SSH user name.
func validateUser(u string) error {
	if !userRE.MatchString(u) {
		return invalidf("Invalid SSH user %q: want a POSIX user name ([a-z_][a-z0-9_-]*)", u)
	}
	return nil
}

// validateAddr accepts an IPv4/IPv6 address or a DNS name.
func validateAddr(a string) error {
	if a == "" {
		return invalidf("Invalid address: empty")
	}
	if _, err := netip.ParseAddr(strings.Trim(a, "[]")); err == nil {
		return nil
	}
	if len(a) <= 253 && dnsRE.MatchString(a) {
		return nil
	}
	return invalidf("Invalid address %q: want an IP address or a DNS name", a)
}
