package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// decodePsRows decodes a GET /daemons answer into the table's rows with a
// small purpose-built scanner: encoding/json's reflection costs most of
// `orch ps` at 10,000 daemons. It accepts any valid JSON array of objects
// (unknown keys and nested values are skipped; strings with escapes go
// through strconv), and falls back to encoding/json on anything odd.
func decodePsRows(data []byte) ([]psRow, error) {
	d := &psScanner{b: data}
	rows, err := d.rows()
	if err == nil {
		return rows, nil
	}
	var slow []psRow
	if jerr := json.Unmarshal(data, &slow); jerr != nil {
		return nil, jerr
	}
	return slow, nil
}

type psScanner struct {
	b []byte
	i int
}

var errPsSyntax = errors.New("unexpected JSON")

func (d *psScanner) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *psScanner) expect(c byte) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != c {
		return errPsSyntax
	}
	d.i++
	return nil
}

func (d *psScanner) peek() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

func (d *psScanner) rows() ([]psRow, error) {
	if d.peek() == 'n' {
		if err := d.literal("null"); err != nil {
			return nil, err
		}
		return nil, d.end()
	}
	if err := d.expect('['); err != nil {
		return nil, err
	}
	rows := make([]psRow, 0, bytes.Count(d.b, []byte(`"daemon_type"`)))
	if d.peek() == ']' {
		d.i++
		return rows, d.end()
	}
	for {
		var r psRow
		if err := d.row(&r); err != nil {
			return nil, err
		}
		rows = append(rows, r)
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return rows, d.end()
		default:
			return nil, errPsSyntax
		}
	}
}

func (d *psScanner) end() error {
	d.ws()
	if d.i != len(d.b) {
		return errPsSyntax
	}
	return nil
}

func (d *psScanner) literal(s string) error {
	d.ws()
	if !bytes.HasPrefix(d.b[d.i:], []byte(s)) {
		return errPsSyntax
	}
	d.i += len(s)
	return nil
}

// str reads a string; raw strings without escapes are sliced directly.
func (d *psScanner) str() (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	start := d.i
	escaped := false
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '\\':
			escaped = true
			d.i += 2
			continue
		case c < 0x20:
			return "", errPsSyntax
		case c >= 0x80:
			escaped = true // let encoding/json check the UTF-8
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !escaped {
				return string(s), nil
			}
			var out string
			if err := json.Unmarshal(d.b[start-1:d.i], &out); err != nil {
				return "", err
			}
			return out, nil
		}
		d.i++
	}
	return "", errPsSyntax
}

// numberText scans a JSON number (RFC 8259 grammar) and returns its text.
func (d *psScanner) numberText() (string, error) {
	d.ws()
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.b) && d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return "", errPsSyntax
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return "", errPsSyntax
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return "", errPsSyntax
		}
	}
	return string(d.b[start:d.i]), nil
}

// number reads an integer; anything else is left to encoding/json.
func (d *psScanner) number() (int64, error) {
	s, err := d.numberText()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: %w", s, errPsSyntax)
	}
	return n, nil
}

// skip skips any value, checking its syntax.
func (d *psScanner) skip() error {
	return d.skipDepth(0)
}

func (d *psScanner) skipDepth(depth int) error {
	if depth > 1000 {
		return errPsSyntax
	}
	switch d.peek() {
	case '"':
		_, err := d.str()
		return err
	case '{':
		d.i++
		if d.peek() == '}' {
			d.i++
			return nil
		}
		for {
			if _, err := d.str(); err != nil {
				return err
			}
			if err := d.expect(':'); err != nil {
				return err
			}
			if err := d.skipDepth(depth + 1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case '}':
				d.i++
				return nil
			default:
				return errPsSyntax
			}
		}
	case '[':
		d.i++
		if d.peek() == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skipDepth(depth + 1); err != nil {
				return err
			}
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return errPsSyntax
			}
		}
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, err := d.numberText()
	return err
}

func (d *psScanner) isNull() bool {
	if d.peek() == 'n' {
		return d.literal("null") == nil
	}
	return false
}

func (d *psScanner) optString(dst *string) error {
	if d.isNull() {
		return nil
	}
	s, err := d.str()
	*dst = s
	return err
}

func (d *psScanner) optInt(dst **int64) error {
	if d.isNull() {
		*dst = nil
		return nil
	}
	n, err := d.number()
	*dst = &n
	return err
}

func (d *psScanner) row(r *psRow) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		switch key {
		case "daemon_type":
			err = d.optString(&r.DaemonType)
		case "daemon_id":
			err = d.optString(&r.DaemonID)
		case "hostname":
			err = d.optString(&r.Hostname)
		case "status_desc":
			err = d.optString(&r.StatusDesc)
		case "last_refresh":
			err = d.optString(&r.LastRefresh)
		case "created":
			err = d.optString(&r.Created)
		case "started":
			err = d.optString(&r.Started)
		case "version":
			err = d.optString(&r.Version)
		case "container_image_id":
			err = d.optString(&r.ContainerImageID)
		case "container_id":
			err = d.optString(&r.ContainerID)
		case "ip":
			r.IP = nil
			if !d.isNull() {
				var s string
				s, err = d.str()
				r.IP = &s
			}
		case "memory_usage":
			err = d.optInt(&r.MemoryUsage)
		case "memory_request":
			err = d.optInt(&r.MemoryRequest)
		case "status":
			var n *int64
			r.Status = nil
			if err = d.optInt(&n); err == nil && n != nil {
				if int64(int(*n)) != *n {
					return errPsSyntax
				}
				v := int(*n)
				r.Status = &v
			}
		case "ports":
			err = d.ports(r)
		default:
			if psKeys[strings.ToLower(key)] {
				return errPsSyntax // encoding/json matches keys case-insensitively
			}
			err = d.skip()
		}
		if err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return errPsSyntax
		}
	}
}

// psKeys are the keys row reads (lower case).
var psKeys = map[string]bool{"daemon_type": true, "daemon_id": true, "hostname": true, "status_desc": true,
	"last_refresh": true, "created": true, "started": true, "version": true, "container_image_id": true,
	"container_id": true, "ip": true, "memory_usage": true, "memory_request": true, "status": true, "ports": true}

func (d *psScanner) ports(r *psRow) error {
	if d.isNull() {
		r.Ports = nil
		return nil
	}
	if err := d.expect('['); err != nil {
		return err
	}
	r.Ports = []int{}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		n, err := d.number()
		if err != nil {
			return err
		}
		r.Ports = append(r.Ports, int(n))
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return errPsSyntax
		}
	}
}
