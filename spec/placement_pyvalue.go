package spec

import (
	"math/big"
	"strings"
	"unicode"
)

// This file holds the small part of Python's value model that cephadm's
// placement and host-spec messages expose: type names, repr()/str(),
// truthiness and int(str). Inputs are values decoded from YAML or JSON:
// nil, bool, string, the integer kinds, float64, []any, []string,
// map[string]any and map[any]any. The helpers carry a "pl" prefix because
// package spec is shared with other files.

// pyAsBigInt returns the value of an integer-kinded v.
func pyAsBigInt(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int:
		return big.NewInt(int64(x)), true
	case int8:
		return big.NewInt(int64(x)), true
	case int16:
		return big.NewInt(int64(x)), true
	case int32:
		return big.NewInt(int64(x)), true
	case int64:
		return big.NewInt(x), true
	case uint:
		return new(big.Int).SetUint64(uint64(x)), true
	case uint8:
		return big.NewInt(int64(x)), true
	case uint16:
		return big.NewInt(int64(x)), true
	case uint32:
		return big.NewInt(int64(x)), true
	case uint64:
		return new(big.Int).SetUint64(x), true
	}
	return nil, false
}

// plIsSpace is Python's str.isspace for one character.
func plIsSpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f
}

// plDigit returns the value of a Unicode decimal digit (category Nd).
// Decimal digits are encoded in contiguous runs of ten starting at zero.
func plDigit(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if !unicode.IsDigit(r) {
		return 0, false
	}
	start := r
	for start > 0 && unicode.IsDigit(start-1) {
		start--
	}
	return int(r-start) % 10, true
}

// plParseInt is Python's int(s) for a str: surrounding whitespace, an
// optional sign, Unicode decimal digits and single underscores between
// digits. ok is false where Python raises ValueError; the value is
// returned as a big.Int because Python ints are unbounded.
func plParseInt(s string) (*big.Int, bool) {
	s = strings.TrimFunc(s, plIsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return nil, false
	}
	var digits strings.Builder
	prevUnderscore := true // a leading underscore is invalid
	for _, r := range s {
		if r == '_' {
			if prevUnderscore {
				return nil, false
			}
			prevUnderscore = true
			continue
		}
		d, ok := plDigit(r)
		if !ok {
			return nil, false
		}
		digits.WriteByte(byte('0' + d))
		prevUnderscore = false
	}
	if prevUnderscore {
		return nil, false
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}

// plRuneSlice is Python's s[from:] on a str, indexing by code point.
func plRuneSlice(s string, from int) string {
	for i := range s {
		if from == 0 {
			return s[i:]
		}
		from--
	}
	return ""
}
