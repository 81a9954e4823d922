package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
)

// Object is a JSON object that keeps its members in document order.
//
// ceph-volume's nested dictionaries (sys_api, lsm_data, each LV) are held as
// Objects rather than Go maps for two reasons: keys this package does not
// know survive a decode/encode round trip unchanged, and cephadm's recursive
// key lookup (see FindKey) walks dictionaries in insertion order, so the
// first match depends on that order.
//
// Member values are nil, bool, string, json.Number, []any or Object when
// decoded from JSON. Values set from Go may also be any integer or float
// type, []string or map[string]any; the lookup and comparison helpers
// accept those too.
type Object []Member

// Member is one key/value pair of an Object.
type Member struct {
	Key   string
	Value any
}

// Get returns the value stored under key and whether the key is present.
func (o Object) Get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// String returns the value under key when it is a string, else "".
func (o Object) String(key string) string {
	v, _ := o.Get(key)
	s, _ := v.(string)
	return s
}

// Int returns the value under key as an integer when it is a whole number
// (or a string holding one), and whether that succeeded.
func (o Object) Int(key string) (int64, bool) {
	v, ok := o.Get(key)
	if !ok {
		return 0, false
	}
	if s, isStr := v.(string); isStr {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	f, isNum := pyNumber(v)
	if !isNum || f != math.Trunc(f) {
		return 0, false
	}
	if n, isJSON := v.(json.Number); isJSON {
		if i, err := n.Int64(); err == nil {
			return i, true
		}
	}
	return int64(f), true
}

// Set stores value under key, replacing an existing member in place or
// appending a new one.
func (o *Object) Set(key string, value any) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Value = value
			return
		}
	}
	*o = append(*o, Member{Key: key, Value: value})
}

// Keys returns the member keys in document order.
func (o Object) Keys() []string {
	keys := make([]string, len(o))
	for i, m := range o {
		keys[i] = m.Key
	}
	return keys
}

// MarshalJSON writes the members in order. A nil Object is written as {}
// because ceph-volume always emits the dictionary.
func (o Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := json.Marshal(m.Key)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, fmt.Errorf("marshal %q: %w", m.Key, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a JSON object keeping member order. A repeated key
// keeps its first position and its last value, as Python's json module
// does. JSON null decodes to a nil Object.
func (o *Object) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return err
	}
	switch t := v.(type) {
	case nil:
		*o = nil
	case Object:
		*o = t
	default:
		return &json.UnmarshalTypeError{Value: fmt.Sprintf("%T", v), Type: objectType}
	}
	return nil
}

var objectType = reflect.TypeOf(Object{})

// decodeValue reads one JSON value from dec, producing Objects for JSON
// objects so that nested order is kept too.
func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %T, not a string", kt)
				}
				val, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				obj.Set(key, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			list := []any{}
			for dec.More() {
				val, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, val)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return list, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %q", t)
	default:
		// string, bool, json.Number or nil
		return t, nil
	}
}

// pyTruth reports Python truthiness of a JSON-like value.
func pyTruth(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case []string:
		return len(t) > 0
	case Object:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	if f, ok := pyNumber(v); ok {
		return f != 0
	}
	return true
}

// pyNumber converts a numeric JSON-like value to float64. Python treats
// bool as an int, so true and false are 1 and 0.
func pyNumber(v any) (float64, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case float64:
		return t, true
	case float32:
		return float64(t), true
	case int:
		return float64(t), true
	case int8:
		return float64(t), true
	case int16:
		return float64(t), true
	case int32:
		return float64(t), true
	case int64:
		return float64(t), true
	case uint:
		return float64(t), true
	case uint8:
		return float64(t), true
	case uint16:
		return float64(t), true
	case uint32:
		return float64(t), true
	case uint64:
		return float64(t), true
	}
	return 0, false
}

// pyEqual is Python's == for JSON-like values: numbers compare by value
// (1 == 1.0 == True), strings only with strings, lists element-wise and
// dictionaries regardless of key order.
func pyEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if as, ok := a.(string); ok {
		bs, ok := b.(string)
		return ok && as == bs
	}
	if _, ok := b.(string); ok {
		return false
	}
	if al, ok := asList(a); ok {
		bl, ok := asList(b)
		if !ok || len(al) != len(bl) {
			return false
		}
		for i := range al {
			if !pyEqual(al[i], bl[i]) {
				return false
			}
		}
		return true
	}
	if ao, ok := asObject(a); ok {
		bo, ok := asObject(b)
		return ok && objectEqual(ao, bo)
	}
	if ai, ok := exactInt(a); ok {
		if bi, ok := exactInt(b); ok {
			return ai == bi
		}
	}
	af, aok := pyNumber(a)
	bf, bok := pyNumber(b)
	return aok && bok && af == bf
}

// exactInt returns v as an int64 when it is an integer literal, so that
// integers above 2^53 are compared exactly, as Python does.
func exactInt(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(t), 10, 64)
		return i, err == nil
	case int:
		return int64(t), true
	case int64:
		return t, true
	case int32:
		return int64(t), true
	}
	return 0, false
}

func asList(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// asObject normalises both object representations. A map is ordered by
// key so that every walk over it is deterministic.
func asObject(v any) (Object, bool) {
	switch t := v.(type) {
	case Object:
		return t, true
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(Object, len(keys))
		for i, k := range keys {
			out[i] = Member{Key: k, Value: t[k]}
		}
		return out, true
	}
	return nil, false
}

// objectEqual compares dictionaries as Python does: same key set, equal
// values, order ignored.
func objectEqual(a, b Object) bool {
	if len(a) != len(b) {
		return false
	}
	for _, m := range a {
		v, ok := b.Get(m.Key)
		if !ok || !pyEqual(m.Value, v) {
			return false
		}
	}
	return true
}
