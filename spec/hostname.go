package spec

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Hostname limits enforced by cephadm's assert_valid_host.
const (
	// MaxHostnameLen is the longest accepted host name, in characters.
	MaxHostnameLen = 250
	// MaxHostnameComponentLen is the longest accepted dot-separated component.
	MaxHostnameComponentLen = 63
)

// ValidateHostname reports whether name is a bare host name cephadm accepts
// (assert_valid_host): at most 250 characters, and every dot-separated
// component 1–63 characters of [a-zA-Z0-9-]. The error is a
// SpecValidationError carrying cephadm's exact message, e.g.
// `name component must include only a-z, 0-9, and -. Got "a_b"`.
//
// Lengths count characters (code points), as Python's len does, and a
// component may end in a single newline because Python's `$` also matches
// before a trailing newline.
func ValidateHostname(name string) error {
	fail := func(why string) error {
		return Invalid(fmt.Sprintf("%s. Got \"%s\"", why, name))
	}
	if utf8.RuneCountInString(name) > MaxHostnameLen {
		return fail("name is too long (max 250 chars)")
	}
	for _, part := range strings.Split(name, ".") {
		n := utf8.RuneCountInString(part)
		if n == 0 {
			return fail(".-delimited name component must not be empty")
		}
		if n > MaxHostnameComponentLen {
			return fail(".-delimited name component must not be more than 63 chars")
		}
		if !hostnameComponentChars(part) {
			return fail("name component must include only a-z, 0-9, and -")
		}
	}
	return nil
}

// hostnameComponentChars mirrors re.match('^[a-zA-Z0-9-]+$', part): one or
// more allowed characters, optionally followed by one final newline.
func hostnameComponentChars(part string) bool {
	body := strings.TrimSuffix(part, "\n")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
