package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The loader turns YAML and JSON into "Python values", the shapes that
// PyYAML's safe_load produces and that cephadm's spec classes consume:
//
//	nil, bool, int64, float64, string, []any, *Map
//
// Keeping that model (instead of decoding straight into Go structs) is what
// lets orch reproduce cephadm's behaviour for loosely typed input: a count of
// "4" is a string, not an int; `yes` is a boolean; key order is the order the
// user wrote.

// Map is an insertion-ordered mapping with Python dict semantics: setting an
// existing key keeps its position. Keys are Python scalar values (string,
// int64, float64, bool or nil). The zero value is not usable; use NewMap.
type Map struct {
	keys []any
	vals []any
	idx  map[any]int
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{idx: map[any]int{}} }

// Len returns the number of entries.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Keys returns the keys in insertion order.
func (m *Map) Keys() []any {
	if m == nil {
		return nil
	}
	return append([]any(nil), m.keys...)
}

// Get returns the value stored under k.
func (m *Map) Get(k any) (any, bool) {
	if m == nil {
		return nil, false
	}
	i, ok := m.idx[k]
	if !ok {
		return nil, false
	}
	return m.vals[i], true
}

// Has reports whether k is present.
func (m *Map) Has(k any) bool {
	_, ok := m.Get(k)
	return ok
}

// Set stores v under k, keeping the position of an existing key.
func (m *Map) Set(k, v any) {
	if i, ok := m.idx[k]; ok {
		m.vals[i] = v
		return
	}
	m.idx[k] = len(m.keys)
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
}

// Delete removes k.
func (m *Map) Delete(k any) {
	i, ok := m.idx[k]
	if !ok {
		return
	}
	m.keys = append(m.keys[:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i], m.vals[i+1:]...)
	delete(m.idx, k)
	for j := i; j < len(m.keys); j++ {
		m.idx[m.keys[j]] = j
	}
}

// Copy returns a shallow copy.
func (m *Map) Copy() *Map {
	c := NewMap()
	for i, k := range m.keys {
		c.Set(k, m.vals[i])
	}
	return c
}

// Each calls fn for every entry in order.
func (m *Map) Each(fn func(k, v any)) {
	if m == nil {
		return
	}
	for i, k := range m.keys {
		fn(k, m.vals[i])
	}
}

// MarshalJSON writes the entries in order, with Python's json.dumps
// conventions for keys and floats.
func (m *Map) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeJSON encodes a Python value.
func writeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("cannot encode %v as JSON", x)
		}
		b.WriteString(pyFloatRepr(x))
	case string:
		enc, _ := jsonString(x)
		b.Write(enc)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			enc, _ := jsonString(e)
			b.Write(enc)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			enc, _ := jsonString(pyJSONKey(k))
			b.Write(enc)
			b.WriteString(": ")
			if err := writeJSON(b, x.vals[i]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case map[string]any:
		return writeJSON(b, mapFromGo(x))
	default:
		enc, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(enc)
	}
	return nil
}

func jsonString(s string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// pyJSONKey is how json.dumps turns a dict key into a string.
func pyJSONKey(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	default:
		return pyStr(k)
	}
}

// mapFromGo converts a Go map (as returned by PlacementSpec.ToJSON) into a
// Map with sorted keys, recursively.
func mapFromGo(in map[string]any) *Map {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := NewMap()
	for _, k := range keys {
		m.Set(k, fromGo(in[k]))
	}
	return m
}

// fromGo converts plain Go values into Python values.
func fromGo(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return mapFromGo(x)
	case map[string]string:
		g := make(map[string]any, len(x))
		for k, v := range x {
			g[k] = v
		}
		return mapFromGo(g)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromGo(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case uint:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// pyTruthy is Python's bool(v).
func pyTruthy(v any) bool {
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
	case *Map:
		return x.Len() > 0
	case map[string]any:
		return len(x) > 0
	case map[any]any:
		return len(x) > 0
	case map[string]string:
		return len(x) > 0
	case interface{ truthy() bool }:
		return x.truthy()
	}
	if i, ok := pyAsBigInt(v); ok {
		return i.Sign() != 0
	}
	return true
}

// pyTypeName is type(v).__name__ for a decoded value.
func pyTypeName(v any) string {
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
	case *Map, map[string]any, map[any]any, map[string]string:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyFloatRepr is Python's repr(float).
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e16 || abs < 1e-4 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+20 / e-05 like Python; only the mantissa needs care.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyStr is Python's str(v) for the values the loader produces.
func pyStr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return pyFloatRepr(x)
	case string:
		return x
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v). Go maps have lost their YAML order, so their
// keys are shown sorted, which is deterministic; *Map keeps its order.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil, bool, int64, int, float64:
		return pyStr(v)
	case string:
		return pyQuote(x)
	case float32:
		return pyFloatRepr(float64(x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyQuote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *Map:
		parts := make([]string, 0, x.Len())
		x.Each(func(k, v any) { parts = append(parts, pyRepr(k)+": "+pyRepr(v)) })
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyQuote(k) + ": " + pyRepr(x[k])
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
			parts[i] = pyQuote(k) + ": " + pyQuote(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[any]any:
		parts := make([]string, 0, len(x))
		for k, e := range x {
			parts = append(parts, pyRepr(k)+": "+pyRepr(e))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case interface{ pyRepr() string }:
		return x.pyRepr()
	}
	if i, ok := pyAsBigInt(v); ok {
		return i.String()
	}
	return fmt.Sprint(v)
}

// pyQuote is Python's repr of a str: single quotes unless the text holds a
// single quote and no double quote; non-printable characters and invalid
// UTF-8 bytes escaped as Python escapes them.
func pyQuote(s string) string {
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

// asInt returns v as an int when it is a Python int (not a bool).
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return 0, false
		}
		return int(x), true
	case int:
		return x, true
	}
	return 0, false
}

// stringList converts a list of str into []string; ok is false otherwise.
func stringList(v any) ([]string, bool) {
	l, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}
