package inventory

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidDevice classifies device reports the selector cannot read: a
// device without a path, a size that is not a string with a decimal
// number, a model that is not text. cephadm fails on these with a bare
// Python exception rather than a validation error.
var ErrInvalidDevice = errors.New("invalid device report")

// DeviceError reports device data a matcher cannot interpret.
type DeviceError struct {
	Path string
	// Key is the looked-up key, empty for a missing path.
	Key    string
	Reason string
}

func (e *DeviceError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("device %q: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("device %q: %s: %s", e.Path, e.Key, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidDevice) true.
func (e *DeviceError) Is(target error) bool { return target == ErrInvalidDevice }

// Matcher decides whether a device passes one filter of a device
// selection. Compare returns *MatchInvalid when the filter cannot be
// applied (the device lacks the key, the filter has no bounds) and
// *DeviceError when the device's value has the wrong shape.
type Matcher interface {
	Compare(d *Device) (bool, error)
}

var (
	_ Matcher = (*SubstringMatcher)(nil)
	_ Matcher = (*EqualityMatcher)(nil)
	_ Matcher = (*AllMatcher)(nil)
	_ Matcher = (*SizeMatcher)(nil)
)

// FindKey looks key up in the device's report the way cephadm's matchers
// do: depth first through Device.to_json(), checking a dictionary's own
// keys before descending into its values in order, and through lists
// element by element. It returns the first value found.
func FindKey(d *Device, key string) (any, bool) {
	return findKey(d.report(), key)
}

func findKey(node any, key string) (any, bool) {
	if list, ok := asList(node); ok {
		for _, v := range list {
			if found, ok := findKey(v, key); ok {
				return found, true
			}
		}
		return nil, false
	}
	obj, ok := asObject(node)
	if !ok {
		return nil, false
	}
	if v, ok := obj.Get(key); ok {
		return v, true
	}
	for _, m := range obj {
		if found, ok := findKey(m.Value, key); ok {
			return found, true
		}
	}
	return nil, false
}

// diskKey is Matcher._get_disk_key: key, then fallback when key is absent
// everywhere. fallbackShown is how cephadm prints the fallback in its
// error ("None" for SubstringMatcher, "" for EqualityMatcher).
func diskKey(d *Device, key, fallback, fallbackShown string) (any, error) {
	if v, ok := FindKey(d, key); ok {
		return v, nil
	}
	if fallback != "" {
		if v, ok := FindKey(d, fallback); ok {
			return v, nil
		}
	}
	return nil, &MatchInvalid{Msg: fmt.Sprintf("No value found for %s or %s", key, fallbackShown)}
}

// SubstringMatcher matches when Value occurs in the device's Key
// (case-sensitive). It backs the model and vendor filters.
type SubstringMatcher struct {
	Key, Value string
}

// Compare follows Python's `value in disk_value`: a substring test for
// text, membership for a list, key membership for a dictionary.
func (m *SubstringMatcher) Compare(d *Device) (bool, error) {
	v, err := diskKey(d, m.Key, "", "None")
	if err != nil {
		return false, err
	}
	return pyContains(v, m.Value, d.Path, m.Key)
}

func pyContains(container any, s, path, key string) (bool, error) {
	switch t := container.(type) {
	case string:
		return strings.Contains(t, s), nil
	case []any, []string:
		list, _ := asList(t)
		for _, e := range list {
			if pyEqual(e, s) {
				return true, nil
			}
		}
		return false, nil
	case Object, map[string]any:
		obj, _ := asObject(t)
		_, ok := obj.Get(s)
		return ok, nil
	}
	return false, &DeviceError{Path: path, Key: key, Reason: fmt.Sprintf("value %v (%T) is not text", container, container)}
}

// EqualityMatcher matches when the device's Key equals Value under
// Python's ==. The rotational filter uses it with "1" or "0".
type EqualityMatcher struct {
	Key   string
	Value any
}

// Compare implements Matcher.
func (m *EqualityMatcher) Compare(d *Device) (bool, error) {
	v, err := diskKey(d, m.Key, "", "")
	if err != nil {
		return false, err
	}
	return pyEqual(v, m.Value), nil
}

// AllMatcher matches every device, whatever its value (cephadm passes
// str(all), and even "False" matches).
type AllMatcher struct {
	Value string
}

// Compare implements Matcher.
func (m *AllMatcher) Compare(*Device) (bool, error) { return true, nil }

// SizeMatcher compares a device's size with a size filter. It reads
// human_readable_size, falling back to size, and needs a string with a
// decimal number and a unit ("394.27 GB").
type SizeMatcher struct {
	Filter SizeFilter
}

// NewSizeMatcher parses filter; see ParseSizeFilter.
func NewSizeMatcher(filter string) (*SizeMatcher, error) {
	f, err := ParseSizeFilter(filter)
	if err != nil {
		return nil, err
	}
	return &SizeMatcher{Filter: f}, nil
}

// Compare implements Matcher.
func (m *SizeMatcher) Compare(d *Device) (bool, error) {
	v, err := diskKey(d, "human_readable_size", "size", "size")
	if err != nil {
		return false, err
	}
	if !pyTruth(v) {
		return false, nil
	}
	s, ok := v.(string)
	if !ok {
		return false, &DeviceError{Path: d.Path, Key: "size", Reason: fmt.Sprintf("value %v (%T) is not text", v, v)}
	}
	n, err := diskBytes(s)
	if err != nil {
		var syn *SizeSyntaxError
		if errors.As(err, &syn) {
			return false, &DeviceError{Path: d.Path, Key: "size", Reason: syn.Error()}
		}
		return false, err
	}
	return m.Filter.MatchBytes(n)
}

// diskBytes reads a device size such as "394.27 GB": the first decimal
// number with a fractional part, and the first run of letters as the unit.
func diskBytes(s string) (float64, error) {
	num := reDiskNumber.FindString(s)
	if num == "" {
		return 0, &SizeSyntaxError{Input: s, Missing: "decimal number"}
	}
	unit, err := ParseSuffix(s)
	if err != nil {
		return 0, err
	}
	return ToByte(SizeBound{Value: num, Unit: unit}), nil
}

// filterMatchers yields a selection's matchers lazily, in cephadm's
// FilterGenerator order: size, model, vendor, rotational, all. Building
// the size matcher can fail (unsupported unit), and because cephadm
// builds it only when a device reaches the filters, so does this.
type filterMatchers struct {
	size       string
	model      string
	vendor     string
	rotational *bool
	all        bool
}

// each calls fn with each matcher until fn returns false or an error
// occurs.
func (g filterMatchers) each(fn func(Matcher) (bool, error)) error {
	var ms []func() (Matcher, error)
	if g.size != "" {
		ms = append(ms, func() (Matcher, error) { return NewSizeMatcher(g.size) })
	}
	if g.model != "" {
		ms = append(ms, func() (Matcher, error) { return &SubstringMatcher{Key: "model", Value: g.model}, nil })
	}
	if g.vendor != "" {
		ms = append(ms, func() (Matcher, error) { return &SubstringMatcher{Key: "vendor", Value: g.vendor}, nil })
	}
	if g.rotational != nil {
		val := "0"
		if *g.rotational {
			val = "1"
		}
		ms = append(ms, func() (Matcher, error) { return &EqualityMatcher{Key: "rotational", Value: val}, nil })
	}
	if g.all {
		ms = append(ms, func() (Matcher, error) { return &AllMatcher{Value: "True"}, nil })
	}
	for _, mk := range ms {
		m, err := mk()
		if err != nil {
			return err
		}
		more, err := fn(m)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// matchAll is Python's all(m.compare(disk) for m in filters).
func (g filterMatchers) matchAll(d *Device) (bool, error) {
	result := true
	err := g.each(func(m Matcher) (bool, error) {
		ok, err := m.Compare(d)
		if err != nil {
			return false, err
		}
		if !ok {
			result = false
			return false, nil
		}
		return true, nil
	})
	return result && err == nil, err
}

// matchAny is Python's any(m.compare(disk) for m in filters).
func (g filterMatchers) matchAny(d *Device) (bool, error) {
	result := false
	err := g.each(func(m Matcher) (bool, error) {
		ok, err := m.Compare(d)
		if err != nil {
			return false, err
		}
		if ok {
			result = true
			return false, nil
		}
		return true, nil
	})
	return result && err == nil, err
}
