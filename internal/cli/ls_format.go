package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/orchceph/orch/spec"
)

// Helpers shared by `orch ls`, `orch ps` and the other service commands:
// cephadm's time and size renderings, and JSON → ordered YAML.

// parseAPITime reads the controller's times (cephadm's datetime_to_str).
func parseAPITime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02T15:04:05.000000Z", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// niceDelta is cephadm's nice_delta: "-" when the time is unknown
// (prettyDelta, device.go, is to_pretty_timedelta).
func niceDelta(now time.Time, at string, suffix string) string {
	t, ok := parseAPITime(at)
	if !ok {
		return "-"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	return prettyDelta(d) + suffix
}

// formatUnits is ceph's mgr_util.format_units: n in at most width
// characters with a unit suffix (base 1024 for bytes).
func formatUnits(n int64, width int, decimal bool) string {
	factor := int64(1024)
	if decimal {
		factor = 1000
	}
	units := []string{" ", "k", "M", "G", "T", "P", "E"}
	unit := 0
	pow := func(u int) int64 {
		p := int64(1)
		for i := 0; i < u; i++ {
			p *= factor
		}
		return p
	}
	for unit < len(units)-1 && len(strconv.FormatInt(n/pow(unit), 10)) > width-1 {
		unit++
	}
	var num string
	if unit > 0 {
		f := strconv.FormatFloat(float64(n)/float64(pow(unit)), 'f', 6, 64)
		if len(f) > width-1 {
			f = f[:width-1]
		}
		if strings.HasSuffix(f, ".") {
			f = " " + f[:len(f)-1]
		}
		num = f
	} else {
		num = fmt.Sprintf("%*d", width-1, n)
	}
	return num + units[unit]
}

// niceBytes is cephadm's nice_bytes: "-" for unknown or zero.
func niceBytes(n *int64) string {
	if n == nil || *n == 0 {
		return "-"
	}
	return formatUnits(*n, 5, false)
}

// orderedJSON decodes JSON keeping object key order (*spec.Map), integers
// as int64, so that spec.DumpYAML renders it as PyYAML would.
func orderedJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := orderedValue(dec)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func orderedValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := spec.NewMap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := orderedValue(dec)
				if err != nil {
					return nil, err
				}
				m.Set(k, v)
			}
			_, err := dec.Token()
			return m, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := orderedValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		return f, err
	}
	return tok, nil
}

// writeOrderedYAML writes JSON documents as a YAML stream in their key
// order (cephadm's yaml output of to_json()).
func writeOrderedYAML(w io.Writer, docs []json.RawMessage) error {
	vals := make([]any, 0, len(docs))
	for _, d := range docs {
		v, err := orderedJSON(d)
		if err != nil {
			return err
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	_, err := io.WriteString(w, spec.DumpYAML(vals...))
	return err
}

// writeSortedJSON writes v as ceph's json formats do (keys sorted).
func writeSortedJSON(w io.Writer, format string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return err
	}
	return writeStructured(w, format, generic)
}
