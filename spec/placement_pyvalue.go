package spec

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the small part of Python's value model that cephadm's
// placement and host-spec messages expose: type names, repr()/str(),
// truthiness and int(str). Inputs are values decoded from YAML or JSON:
// nil, bool, string, the integer kinds, float64, []any, []string,
// map[string]any and map[any]any. The helpers carry a "pl" prefix because
// package spec is shared with other files.

// plTypeName is Python's type(v).__name__ for a decoded value.
func plTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "int"
	case float32, float64:
		return "float"
	case []any, []string:
		return "list"
	case map[string]any, map[any]any, map[string]string:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// plTruthy is Python's bool(v).
func plTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float32:
		return x != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case []string:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	case map[any]any:
		return len(x) > 0
	case map[string]string:
		return len(x) > 0
	}
	if i, ok := plAsInt(v); ok {
		return i.Sign() != 0
	}
	return true
}

// plAsInt returns the value of an integer-kinded v.
func plAsInt(v any) (*big.Int, bool) {
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

// plStr is Python's str(v): strings unchanged, everything else as repr.
func plStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return plRepr(v)
}

// plRepr is Python's repr(v). Mappings lose their YAML order when decoded
// into Go maps, so their keys are shown sorted, which is deterministic.
func plRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return plReprStr(x)
	case float32:
		return plReprFloat(float64(x))
	case float64:
		return plReprFloat(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = plRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = plReprStr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = plReprStr(k) + ": " + plRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = plReprStr(k) + ": " + plReprStr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			parts = append(parts, plRepr(k)+": "+plRepr(e))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if i, ok := plAsInt(v); ok {
		return i.String()
	}
	return fmt.Sprint(v)
}

// plReprStr is Python's repr of a str: single quotes unless the text holds
// a single quote and no double quote; non-printable characters escaped.
func plReprStr(s string) string {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f || unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// plReprFloat is Python's repr of a float: the shortest round-tripping
// digits, positional for exponents in [-4, 16), scientific otherwise.
func plReprFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, err := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if err == nil && exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	return sci
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
