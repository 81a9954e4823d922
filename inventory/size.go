package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// The size filter grammar is cephadm's SizeMatcher._parse_filter, which
// matches four regular expressions with Python's re.match (anchored at the
// start only):
//
//	LOW:HIGH  \d+[A-Z]{1,2}:\d+[A-Z]{1,2}    (trailing text ignored)
//	LOW:      \d+[A-Z]{1,2}:$
//	:HIGH     ^:\d+[A-Z]{1,2}                (trailing text ignored)
//	EXACT     ^\d+\.?\d*[A-Z]{1,2}$
//
// Python's \d matches any Unicode decimal digit (\p{Nd} here) and its $
// also matches before a final newline (\n?\z here). Units must be upper
// case in the filter; only EXACT allows a decimal point. A string that
// matches none of them is accepted and yields a filter with no bounds,
// which fails only when it is used ("No filters applied").
var (
	reLowHigh = regexp.MustCompile(`^\p{Nd}+[A-Z]{1,2}:\p{Nd}+[A-Z]{1,2}`)
	reLow     = regexp.MustCompile(`^\p{Nd}+[A-Z]{1,2}:\n?\z`)
	reHigh    = regexp.MustCompile(`^:\p{Nd}+[A-Z]{1,2}`)
	reExact   = regexp.MustCompile(`^\p{Nd}+\.?\p{Nd}*[A-Z]{1,2}\n?\z`)

	// reNumber is _get_k_v's number, reDiskNumber the one SizeMatcher
	// reads from a device's size string, reLetters _parse_suffix's unit.
	reNumber     = regexp.MustCompile(`\p{Nd}+\.?\p{Nd}*`)
	reDiskNumber = regexp.MustCompile(`\p{Nd}+\.\p{Nd}+`)
	reLetters    = regexp.MustCompile(`[a-zA-Z]+`)
)

// Size units cephadm accepts, their long forms and decimal multipliers.
var (
	shortUnits = map[string]string{"K": "KB", "M": "MB", "G": "GB", "T": "TB"}
	unitBytes  = map[string]float64{"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}
)

// MatchInvalid is cephadm's _MatchInvalid: a filter that cannot be applied
// or a device that lacks the filtered key. SelectDrives reports it as a
// DriveGroupValidationError naming the spec and role.
type MatchInvalid struct {
	Msg string
}

func (e *MatchInvalid) Error() string { return e.Msg }

// SizeSyntaxError reports a string without the number or unit a size needs
// (cephadm fails with a bare IndexError there).
type SizeSyntaxError struct {
	Input string
	// Missing is what was not found: "number", "decimal number" or "unit".
	Missing string
}

func (e *SizeSyntaxError) Error() string {
	return fmt.Sprintf("size %q: no %s found", e.Input, e.Missing)
}

// SizeBound is one bound of a size filter as cephadm keeps it: the number
// as written and the normalised unit ("KB", "MB", "GB" or "TB").
type SizeBound struct {
	Value string
	Unit  string
}

// IsSet reports whether both parts are present (Python's all((v, unit))).
func (b SizeBound) IsSet() bool { return b.Value != "" && b.Unit != "" }

// Bytes converts the bound to bytes; see ToByte.
func (b SizeBound) Bytes() float64 { return ToByte(b) }

// SizeFilter is a parsed `size:` filter of a device selection.
type SizeFilter struct {
	// Raw is the filter as written.
	Raw string
	// Low and High are the inclusive bounds of LOW:HIGH, LOW: and :HIGH.
	Low, High SizeBound
	// Exact is the size of the EXACT form.
	Exact SizeBound
}

// ParseSizeFilter parses a size filter. It fails only on an unsupported
// unit ("Unit 'P' not supported", a *MatchInvalid); a string of no known
// form gives a SizeFilter without bounds, exactly as cephadm accepts it.
func ParseSizeFilter(s string) (SizeFilter, error) {
	f := SizeFilter{Raw: s}
	var err error
	if m := reLowHigh.FindString(s); m != "" {
		low, high, _ := strings.Cut(m, ":")
		if f.Low, err = GetKV(low); err != nil {
			return SizeFilter{}, err
		}
		if f.High, err = GetKV(high); err != nil {
			return SizeFilter{}, err
		}
	}
	if m := reLow.FindString(s); m != "" {
		if f.Low, err = GetKV(m); err != nil {
			return SizeFilter{}, err
		}
	}
	if m := reHigh.FindString(s); m != "" {
		if f.High, err = GetKV(m); err != nil {
			return SizeFilter{}, err
		}
	}
	if m := reExact.FindString(s); m != "" {
		if f.Exact, err = GetKV(m); err != nil {
			return SizeFilter{}, err
		}
	}
	return f, nil
}

// MatchBytes applies the filter to a size in bytes. Bounds are inclusive
// and EXACT is float equality. A filter without bounds fails with
// *MatchInvalid "No filters applied".
func (f SizeFilter) MatchBytes(n float64) (bool, error) {
	low, high := f.Low.IsSet(), f.High.IsSet()
	switch {
	case low && high:
		return n <= ToByte(f.High) && n >= ToByte(f.Low), nil
	case low:
		return n >= ToByte(f.Low), nil
	case high:
		return n <= ToByte(f.High), nil
	case f.Exact.IsSet():
		return n == ToByte(f.Exact), nil
	}
	return false, &MatchInvalid{Msg: "No filters applied"}
}

// NormalizeSuffix upper-cases a unit and maps K/M/G/T to KB/MB/GB/TB.
// Any other unit fails with *MatchInvalid "Unit 'X' not supported".
func NormalizeSuffix(suffix string) (string, error) {
	u := strings.ToUpper(suffix)
	if long, ok := shortUnits[u]; ok {
		return long, nil
	}
	if _, ok := unitBytes[u]; ok {
		return u, nil
	}
	return "", &MatchInvalid{Msg: fmt.Sprintf("Unit '%s' not supported", u)}
}

// ParseSuffix finds the first run of ASCII letters in s and normalises it
// as a unit: "20gb" → "GB", "9.10 TB" → "TB".
func ParseSuffix(s string) (string, error) {
	letters := reLetters.FindString(s)
	if letters == "" {
		return "", &SizeSyntaxError{Input: s, Missing: "unit"}
	}
	return NormalizeSuffix(letters)
}

// GetKV splits a size such as "10G" or "20.5gb" into its first number, as
// written, and its normalised unit: ("10", "GB").
func GetKV(s string) (SizeBound, error) {
	num := reNumber.FindString(s)
	if num == "" {
		return SizeBound{}, &SizeSyntaxError{Input: s, Missing: "number"}
	}
	unit, err := ParseSuffix(s)
	if err != nil {
		return SizeBound{}, err
	}
	return SizeBound{Value: num, Unit: unit}, nil
}

// ToByte converts a bound to bytes with decimal multipliers (KB = 1e3 ...
// TB = 1e12). An unknown unit counts as 0 and an empty number as 0.0, as
// in cephadm; the result is a float64 like Python's.
func ToByte(b SizeBound) float64 {
	value := 0.0
	if b.Value != "" {
		value = parseDecimal(b.Value)
	}
	return unitBytes[b.Unit] * value
}

// StrToByte converts a size string such as "10G" to bytes.
func StrToByte(s string) (float64, error) {
	b, err := GetKV(s)
	if err != nil {
		return 0, err
	}
	return ToByte(b), nil
}

// parseDecimal is Python's float() for the digit strings the size regexes
// produce: any Unicode decimal digits, at most one '.', overflow to +Inf.
func parseDecimal(s string) float64 {
	f, err := strconv.ParseFloat(asciiDigits(s), 64)
	if err != nil {
		// ErrRange still returns ±Inf, which is what Python gives.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f
		}
		return 0
	}
	return f
}

// asciiDigits rewrites every Unicode decimal digit of s as its ASCII digit.
func asciiDigits(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 0x80 && unicode.Is(unicode.Nd, r) {
			b.WriteByte(byte('0' + digitValue(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digitValue returns the value of a decimal digit rune. Unicode assigns
// decimal digits (category Nd) in contiguous runs from 0 to 9, so the
// value is the distance from the start of the run, modulo 10.
func digitValue(r rune) int {
	start := r
	for unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}
