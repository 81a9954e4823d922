package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/orchceph/orch/spec"
)

// sharedDir is the shared reference tree holding the conformance cases.
func sharedDir() string {
	if d := os.Getenv("ORCH_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared")
}

// driveCase is one entry of drive_selection.json. Fields whose type varies
// between kinds stay raw.
type driveCase struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`

	// select
	Spec                 map[string]any  `json:"spec"`
	Inventory            []Device        `json:"inventory"`
	InventoryIsSpecPaths bool            `json:"inventory_is_spec_paths"`
	ExistingDaemons      int             `json:"existing_daemons"`
	Expect               json.RawMessage `json:"expect"`
	Error                json.RawMessage `json:"error"`
	ErrorMatch           *errorMatch     `json:"error_match"`

	// matcher, matcher_get_key
	Matcher     string          `json:"matcher"`
	Key         string          `json:"key"`
	FallbackKey string          `json:"fallback_key"`
	Value       any             `json:"value"`
	Device      json.RawMessage `json:"device"`

	// size helpers
	Filter                string          `json:"filter"`
	Input                 json.RawMessage `json:"input"`
	FilterUsedToConstruct string          `json:"filter_used_to_construct"`
}

type errorMatch struct {
	PythonRegex      string `json:"python_regex"`
	LiteralSubstring string `json:"literal_substring"`
	LiteralPrefix    string `json:"literal_prefix"`
}

// caseError is the "error" member: true, or {type, message, message_regex}.
type caseError struct {
	Type         string `json:"type"`
	Message      string `json:"message"`
	MessageRegex string `json:"message_regex"`
}

func (c *driveCase) wantError() (*caseError, bool) {
	raw := bytes.TrimSpace(c.Error)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "false" {
		if c.ErrorMatch != nil {
			return &caseError{}, true
		}
		return nil, false
	}
	if string(raw) == "true" {
		return &caseError{}, true
	}
	var e caseError
	if err := json.Unmarshal(raw, &e); err != nil {
		return &caseError{}, true
	}
	return &e, true
}

// checkMessage verifies err's text against every form the case gives.
func (c *driveCase) checkMessage(t *testing.T, want *caseError, err error) {
	t.Helper()
	msg := err.Error()
	if want.Message != "" && msg != want.Message {
		t.Errorf("error = %q, want %q", msg, want.Message)
	}
	if want.MessageRegex != "" && !regexp.MustCompile(want.MessageRegex).MatchString(msg) {
		t.Errorf("error = %q, want match for %q", msg, want.MessageRegex)
	}
	if m := c.ErrorMatch; m != nil {
		if m.LiteralSubstring != "" && !strings.Contains(msg, m.LiteralSubstring) {
			t.Errorf("error = %q, want substring %q", msg, m.LiteralSubstring)
		}
		if m.LiteralPrefix != "" && !strings.HasPrefix(msg, m.LiteralPrefix) {
			t.Errorf("error = %q, want prefix %q", msg, m.LiteralPrefix)
		}
	}
	if want.Type == "DriveGroupValidationError" {
		var ve *spec.ValidationError
		if !errors.As(err, &ve) || ve.Kind != "DriveGroupValidationError" {
			t.Errorf("error %T %v is not a DriveGroupValidationError", err, err)
		}
	}
	if want.Type == "_MatchInvalid" {
		var mi *MatchInvalid
		if !errors.As(err, &mi) {
			t.Errorf("error %T %v is not a *MatchInvalid", err, err)
		}
	}
}

func loadDriveCases(t *testing.T) []driveCase {
	t.Helper()
	path := filepath.Join(sharedDir(), "conformance", "cases", "drive_selection.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("conformance cases not available (set ORCH_SHARED): %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var cases []driveCase
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s holds no cases", path)
	}
	return cases
}

func TestConformanceDriveSelection(t *testing.T) {
	for _, c := range loadDriveCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			switch c.Kind {
			case "select":
				runSelectCase(t, &c)
			case "matcher":
				runMatcherCase(t, &c)
			case "matcher_get_key":
				runGetKeyCase(t, &c)
			case "size_parse":
				runSizeParseCase(t, &c)
			case "size_to_byte":
				runToByteCase(t, &c)
			case "size_get_k_v":
				runGetKVCase(t, &c)
			case "size_parse_suffix":
				runStringHelperCase(t, &c, ParseSuffix)
			case "size_normalize_suffix":
				runStringHelperCase(t, &c, NormalizeSuffix)
			default:
				t.Fatalf("unknown case kind %q", c.Kind)
			}
		})
	}
}

func runSelectCase(t *testing.T, c *driveCase) {
	dg, err := driveGroupFromCase(c.Spec)
	if err != nil {
		t.Fatalf("convert spec: %v", err)
	}
	inv := c.Inventory
	if c.InventoryIsSpecPaths {
		inv = nil
		for _, ds := range []*spec.DeviceSelection{dg.DataDevices, dg.DBDevices, dg.WALDevices, dg.JournalDevices} {
			if ds == nil {
				continue
			}
			for _, p := range ds.Paths {
				inv = append(inv, Device{Path: p.Path, Available: true})
			}
		}
	}
	sel, err := SelectDrives(dg, inv, c.ExistingDaemons)
	if want, isErr := c.wantError(); isErr {
		if err == nil {
			t.Fatalf("SelectDrives succeeded with %v, want an error", sel)
		}
		c.checkMessage(t, want, err)
		return
	}
	if err != nil {
		t.Fatalf("SelectDrives: %v", err)
	}
	var want map[string][]string
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatalf("decode expect: %v", err)
	}
	got := map[string][]string{
		"data": sel.DataPaths(), "db": sel.DBPaths(), "wal": sel.WALPaths(), "journal": sel.JournalPaths(),
	}
	for role, paths := range want {
		g, ok := got[role]
		if !ok {
			t.Fatalf("unknown role %q in expect", role)
		}
		if fmt.Sprint(g) != fmt.Sprint(paths) || len(g) != len(paths) {
			t.Errorf("%s = %q, want %q", role, g, paths)
		}
	}
}

func decodeCaseDevice(t *testing.T, raw json.RawMessage) Device {
	t.Helper()
	var d Device
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("decode device: %v", err)
	}
	return d
}

func runMatcherCase(t *testing.T, c *driveCase) {
	d := decodeCaseDevice(t, c.Device)
	var ok bool
	var err error
	switch c.Matcher {
	case "size":
		var m *SizeMatcher
		if m, err = NewSizeMatcher(pyStr(c.Value)); err == nil {
			ok, err = m.Compare(&d)
		}
	case "substring":
		ok, err = (&SubstringMatcher{Key: c.Key, Value: pyStr(c.Value)}).Compare(&d)
	case "equality":
		ok, err = (&EqualityMatcher{Key: c.Key, Value: c.Value}).Compare(&d)
	case "all":
		ok, err = (&AllMatcher{Value: pyStr(c.Value)}).Compare(&d)
	default:
		t.Fatalf("unknown matcher %q", c.Matcher)
	}
	if want, isErr := c.wantError(); isErr {
		if err == nil {
			t.Fatalf("Compare = %t, want an error", ok)
		}
		c.checkMessage(t, want, err)
		return
	}
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	var want bool
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatalf("decode expect: %v", err)
	}
	if ok != want {
		t.Errorf("Compare = %t, want %t", ok, want)
	}
}

func runGetKeyCase(t *testing.T, c *driveCase) {
	d := decodeCaseDevice(t, c.Device)
	got, err := diskKey(&d, c.Key, c.FallbackKey, c.FallbackKey)
	if _, isErr := c.wantError(); isErr {
		if err == nil {
			t.Fatalf("lookup of %q = %v, want an error", c.Key, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("lookup of %q: %v", c.Key, err)
	}
	want := decodeAny(t, c.Expect)
	if !pyEqual(got, want) {
		t.Errorf("lookup of %q = %#v, want %#v", c.Key, got, want)
	}
}

func runSizeParseCase(t *testing.T, c *driveCase) {
	f, err := ParseSizeFilter(c.Filter)
	if _, isErr := c.wantError(); isErr {
		if err == nil {
			t.Fatalf("ParseSizeFilter(%q) = %+v, want an error", c.Filter, f)
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseSizeFilter(%q): %v", c.Filter, err)
	}
	var want map[string][2]string
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatalf("decode expect: %v", err)
	}
	bounds := map[string]SizeBound{"low": f.Low, "high": f.High, "exact": f.Exact}
	for name, b := range bounds {
		w, set := want[name]
		if !set {
			if b.IsSet() {
				t.Errorf("%s = %+v, want unset", name, b)
			}
			continue
		}
		if b.Value != w[0] || b.Unit != w[1] {
			t.Errorf("%s = %+v, want %q", name, b, w)
		}
	}
}

func runToByteCase(t *testing.T, c *driveCase) {
	if _, isErr := c.wantError(); isErr {
		if c.FilterUsedToConstruct == "" {
			t.Fatalf("error case without filter_used_to_construct")
		}
		if _, err := ParseSizeFilter(c.FilterUsedToConstruct); err == nil {
			t.Fatalf("ParseSizeFilter(%q) succeeded, want an error", c.FilterUsedToConstruct)
		}
		return
	}
	var in [2]string
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatalf("decode input: %v", err)
	}
	var want float64
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatalf("decode expect: %v", err)
	}
	if got := ToByte(SizeBound{Value: in[0], Unit: in[1]}); got != want {
		t.Errorf("ToByte(%q) = %v, want %v", in, got, want)
	}
}

func runGetKVCase(t *testing.T, c *driveCase) {
	var in string
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatalf("decode input: %v", err)
	}
	got, err := GetKV(in)
	if _, isErr := c.wantError(); isErr {
		if err == nil {
			t.Fatalf("GetKV(%q) = %+v, want an error", in, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("GetKV(%q): %v", in, err)
	}
	var want [2]string
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatalf("decode expect: %v", err)
	}
	if got.Value != want[0] || got.Unit != want[1] {
		t.Errorf("GetKV(%q) = %+v, want %q", in, got, want)
	}
}

func runStringHelperCase(t *testing.T, c *driveCase, fn func(string) (string, error)) {
	var in string
	if err := json.Unmarshal(c.Input, &in); err != nil {
		t.Fatalf("decode input: %v", err)
	}
	got, err := fn(in)
	if want, isErr := c.wantError(); isErr {
		if err == nil {
			t.Fatalf("(%q) = %q, want an error", in, got)
		}
		c.checkMessage(t, want, err)
		return
	}
	if err != nil {
		t.Fatalf("(%q): %v", in, err)
	}
	var want string
	if err := json.Unmarshal(c.Expect, &want); err != nil {
		t.Fatalf("decode expect: %v", err)
	}
	if got != want {
		t.Errorf("(%q) = %q, want %q", in, got, want)
	}
}

func decodeAny(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// pyStr is Python's str() for the JSON scalars the cases use.
func pyStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		if t {
			return "True"
		}
		return "False"
	case nil:
		return "None"
	}
	return fmt.Sprint(v)
}

// driveGroupFromCase converts a case's spec JSON (YAML field names, with
// or without the `spec:` wrapper) into a DriveGroupSpec. It is a test-only
// stand-in for the spec package's loader.
func driveGroupFromCase(doc map[string]any) (*spec.DriveGroupSpec, error) {
	fields := map[string]any{}
	for k, v := range doc {
		fields[k] = v
	}
	if inner, ok := doc["spec"].(map[string]any); ok {
		for k, v := range inner {
			fields[k] = v
		}
	}
	dg := &spec.DriveGroupSpec{FilterLogic: "AND"}
	if id, ok := fields["service_id"].(string); ok {
		dg.ServiceID = id
	}
	if fl, ok := fields["filter_logic"].(string); ok {
		dg.FilterLogic = strings.ToUpper(fl)
	}
	for key, dst := range map[string]**spec.DeviceSelection{
		"data_devices": &dg.DataDevices, "db_devices": &dg.DBDevices,
		"wal_devices": &dg.WALDevices, "journal_devices": &dg.JournalDevices,
	} {
		raw, ok := fields[key]
		if !ok || raw == nil {
			continue
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: not a mapping", key)
		}
		ds, err := deviceSelectionFromCase(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		*dst = ds
	}
	return dg, nil
}

func deviceSelectionFromCase(m map[string]any) (*spec.DeviceSelection, error) {
	ds := &spec.DeviceSelection{}
	for k, v := range m {
		switch k {
		case "model":
			ds.Model = pyStr(v)
		case "vendor":
			ds.Vendor = pyStr(v)
		case "size":
			ds.Size = pyStr(v)
		case "all":
			ds.All = pyTruth(v)
		case "rotational":
			if v != nil {
				r := pyTruth(v)
				ds.Rotational = &r
			}
		case "limit":
			if v != nil {
				n, err := v.(json.Number).Int64()
				if err != nil {
					return nil, fmt.Errorf("limit: %w", err)
				}
				ds.Limit = int(n)
			}
		case "actuators":
			if v != nil {
				n, err := v.(json.Number).Int64()
				if err != nil {
					return nil, fmt.Errorf("actuators: %w", err)
				}
				a := int(n)
				ds.Actuators = &a
			}
		case "paths":
			list, _ := v.([]any)
			for _, p := range list {
				switch pt := p.(type) {
				case string:
					ds.Paths = append(ds.Paths, spec.DevicePath{Path: pt})
				case map[string]any:
					dp := spec.DevicePath{}
					dp.Path, _ = pt["path"].(string)
					dp.CrushDeviceClass, _ = pt["crush_device_class"].(string)
					ds.Paths = append(ds.Paths, dp)
				default:
					return nil, fmt.Errorf("paths: unexpected %T", p)
				}
			}
		default:
			return nil, fmt.Errorf("unsupported filter %q", k)
		}
	}
	return ds, nil
}
