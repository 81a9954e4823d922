package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// looksLikeJSON reports whether data starts like a JSON object or array.
func looksLikeJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// parseJSON decodes one JSON value into Python values, keeping key order.
// ok is false when data is not valid JSON (the caller then tries YAML, as
// a flow-style YAML document may also start with '{').
func parseJSON(data []byte) (v any, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	b := &jsonBuilder{dec: dec}
	v, err = b.value(0)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, true, err
		}
		return nil, false, nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false, nil
	}
	return v, true, nil
}

type jsonBuilder struct {
	dec   *json.Decoder
	nodes int
}

func (b *jsonBuilder) value(depth int) (any, error) {
	b.nodes++
	if b.nodes > maxNodes {
		return nil, errLoad("Invalid JSON: document is too large")
	}
	if depth > maxDepth {
		return nil, errLoad("Invalid JSON: nesting deeper than %d levels", maxDepth)
	}
	tok, err := b.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := NewMap()
			for b.dec.More() {
				kt, err := b.dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := b.value(depth + 1)
				if err != nil {
					return nil, err
				}
				m.Set(k, v)
			}
			if _, err := b.dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			l := []any{}
			for b.dec.More() {
				v, err := b.value(depth + 1)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := b.dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, errors.New("unexpected delimiter")
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
			return nil, errLoad("Invalid JSON: integer %s is out of range", s)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, errLoad("Invalid JSON: number %s is out of range", s)
		}
		return f, nil
	case string, bool, nil:
		return t, nil
	}
	return nil, errors.New("unexpected token")
}
