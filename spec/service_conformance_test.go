package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The shared conformance facts (cephadm's own unit tests as JSON) drive
// these tests. ORCH_SHARED points at the shared tree (default ../../shared
// relative to this package, i.e. /work/shared next to the repository).

type specCase struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	YAML       string          `json:"yaml"`
	ExpectDump string          `json:"expect_dump"`
	JSON       json.RawMessage `json:"json"`
	Expect     json.RawMessage `json:"expect"`
	ErrorType  string          `json:"error_type"`
	ErrorMatch *struct {
		PythonRegex string `json:"python_regex"`
	} `json:"error_match"`
	Construct       map[string]any `json:"construct"`
	A               map[string]any `json:"a"`
	B               map[string]any `json:"b"`
	ExpectEqual     bool           `json:"expect_equal"`
	DeviceSelection map[string]any `json:"device_selection"`
	EnvDependent    string         `json:"environment_dependent"`
	Comment         string         `json:"comment"`
}

func svcSharedDir() string {
	if d := os.Getenv("ORCH_SHARED"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared")
}

func loadSpecCases(t *testing.T) []specCase {
	t.Helper()
	path := filepath.Join(svcSharedDir(), "conformance", "cases", "service_spec.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("conformance cases not available: %v", err)
	}
	var cases []specCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return cases
}

var topLevelKeys = map[string]bool{
	"service_type": true, "service_id": true, "service_name": true, "placement": true, "unmanaged": true,
	"networks": true, "extra_container_args": true, "extra_entrypoint_args": true, "custom_configs": true, "config": true,
}

// newStyle moves type fields under spec:, as the conformance runner does.
func newStyle(d map[string]any) []byte {
	doc := map[string]any{}
	rest := map[string]any{}
	for k, v := range d {
		switch {
		case strings.HasPrefix(k, "_"):
		case topLevelKeys[k]:
			doc[k] = v
		default:
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		doc["spec"] = rest
	}
	b, _ := json.Marshal(doc)
	return b
}

// canonical is the JSON output of one loaded document, re-decoded into
// plain Go values with nulls dropped.
func canonical(t *testing.T, d Document) any {
	t.Helper()
	b, err := d.ToJSON().MarshalJSON()
	if err != nil {
		t.Fatalf("MarshalJSON: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	return dropNulls(v)
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e != nil {
				out[k] = dropNulls(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropNulls(e)
		}
		return out
	}
	return v
}

func loadOne(t *testing.T, input []byte) Document {
	t.Helper()
	docs, err := LoadDocuments(input)
	if err != nil {
		t.Fatalf("LoadDocuments: %v\ninput:\n%s", err, input)
	}
	if len(docs) != 1 {
		t.Fatalf("got %d documents, want 1", len(docs))
	}
	return docs[0]
}

func wantError(t *testing.T, input []byte, c specCase) {
	t.Helper()
	_, err := LoadDocuments(input)
	if err == nil {
		t.Fatalf("LoadDocuments succeeded, want an error\ninput:\n%s", input)
	}
	var ve *ValidationError
	if !asValidationError(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if c.ErrorMatch != nil && c.ErrorMatch.PythonRegex != "" {
		re := regexp.MustCompile(c.ErrorMatch.PythonRegex)
		if !re.MatchString(err.Error()) {
			t.Fatalf("error %q does not match %q", err, c.ErrorMatch.PythonRegex)
		}
	}
}

func field(doc map[string]any, key string) (any, bool) {
	if v, ok := doc[key]; ok {
		return v, true
	}
	if s, ok := doc["spec"].(map[string]any); ok {
		v, ok := s[key]
		return v, ok
	}
	return nil, false
}

// falsyEqual mirrors the runner: cephadm omits falsy values.
func falsyEqual(want any, present bool, got any) bool {
	if !pyTruthy(fromGo(want)) && !present {
		return true
	}
	if wm, ok := want.(map[string]any); ok {
		gm, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k := range gm {
			if _, ok := wm[k]; !ok {
				return false
			}
		}
		for k, v := range wm {
			gv, ok := gm[k]
			if !falsyEqual(v, ok, gv) {
				return false
			}
		}
		return true
	}
	return present && reflect.DeepEqual(want, got)
}

func TestServiceSpecConformance(t *testing.T) {
	for _, c := range loadSpecCases(t) {
		t.Run(c.ID, func(t *testing.T) {
			var expect map[string]any
			if len(c.Expect) > 0 {
				_ = json.Unmarshal(c.Expect, &expect)
			}
			switch c.Kind {
			case "yaml_roundtrip":
				d := loadOne(t, []byte(c.YAML))
				if got := DumpYAML(d.ToJSON()); got != c.ExpectDump {
					t.Fatalf("yaml dump mismatch\n got:\n%s\nwant:\n%s", got, c.ExpectDump)
				}
				again := loadOne(t, []byte(DumpYAML(d.ToJSON())))
				if !reflect.DeepEqual(canonical(t, d), canonical(t, again)) {
					t.Fatalf("parse → print → parse is not stable")
				}
			case "yaml_error", "drivegroup_yaml_error":
				if c.EnvDependent != "" || strings.TrimSpace(c.YAML) == "" {
					t.Skip("not expressible through LoadDocuments")
				}
				input := c.YAML
				if c.Kind == "drivegroup_yaml_error" && !strings.Contains(input, "service_type") {
					input = "service_type: osd\n" + input
				}
				wantError(t, []byte(input), c)
			case "yaml_extra_args":
				doc := canonical(t, loadOne(t, []byte(c.YAML))).(map[string]any)
				for _, k := range []string{"extra_container_args", "extra_entrypoint_args"} {
					want := expect[k+"_json"]
					if !reflect.DeepEqual(doc[k], want) {
						t.Errorf("%s = %v, want %v", k, doc[k], want)
					}
				}
			case "dict_spec":
				if expect == nil {
					wantError(t, c.JSON, c)
					return
				}
				d := loadOne(t, c.JSON)
				doc := canonical(t, d).(map[string]any)
				if want, ok := expect["service_name"]; ok && doc["service_name"] != want {
					t.Errorf("service_name = %v, want %v", doc["service_name"], want)
				}
				if want, ok := expect["unmanaged"]; ok && (doc["unmanaged"] == true) != want {
					t.Errorf("unmanaged = %v, want %v", doc["unmanaged"], want)
				}
				if h, ok := expect["placement_hosts_0"].(map[string]any); ok {
					want := HostPlacementSpec{Hostname: h["hostname"].(string), Network: h["network"].(string), Name: h["name"].(string)}
					if got := d.Service.Placement.Hosts[0]; got != want {
						t.Errorf("placement.hosts[0] = %+v, want %+v", got, want)
					}
				}
				if expect["to_json_from_json_ok"] == true {
					b, _ := d.ToJSON().MarshalJSON()
					if !reflect.DeepEqual(canonical(t, loadOne(t, b)), doc) {
						t.Errorf("to_json → from_json changed the spec")
					}
				}
			case "yaml_fields":
				doc := canonical(t, loadOne(t, []byte(c.YAML))).(map[string]any)
				for k, want := range expect {
					if got, _ := field(doc, k); !reflect.DeepEqual(got, want) {
						t.Errorf("%s = %v, want %v", k, got, want)
					}
				}
			case "construct_validate":
				input := newStyle(c.Construct)
				if expect["validate_ok"] == true {
					loadOne(t, input)
				} else {
					wantError(t, input, c)
				}
			case "construct_equality":
				side := func(m map[string]any) any {
					d := map[string]any{}
					for k, v := range m {
						d[k] = v
					}
					if d["service_type"] == "osd" {
						d["placement"] = map[string]any{"host_pattern": "*"}
						d["data_devices"] = map[string]any{"all": true}
					}
					return canonical(t, loadOne(t, newStyle(d)))
				}
				if eq := reflect.DeepEqual(side(c.A), side(c.B)); eq != c.ExpectEqual {
					t.Errorf("equal = %v, want %v", eq, c.ExpectEqual)
				}
			case "construct_fields":
				if _, ok := expect["config_json_lacks_keys"]; ok {
					t.Skip("config_json is deploy-time data")
				}
				d := loadOne(t, newStyle(c.Construct))
				doc := canonical(t, d).(map[string]any)
				for k, want := range expect {
					switch k {
					case "port_start":
						var ports []int
						for _, p := range want.([]any) {
							ports = append(ports, int(p.(float64)))
						}
						if got := d.Service.PortStart(); !reflect.DeepEqual(got, ports) {
							t.Errorf("PortStart = %v, want %v", got, ports)
						}
					case "user_data_has_key":
						ud, _ := field(doc, "user_data")
						if m, ok := ud.(map[string]any); !ok || m[want.(string)] == nil {
							t.Errorf("user_data %v lacks key %v", ud, want)
						}
					default:
						got, present := field(doc, k)
						if !falsyEqual(want, present, got) {
							t.Errorf("%s = %v (present %v), want %v", k, got, present, want)
						}
					}
				}
			case "drivegroup_yaml":
				doc := canonical(t, loadOne(t, []byte(c.YAML))).(map[string]any)
				if doc["service_id"] != expect["service_id"] {
					t.Errorf("service_id = %v, want %v", doc["service_id"], expect["service_id"])
				}
				dd, _ := field(doc, "data_devices")
				if got := dd.(map[string]any)["paths"]; !reflect.DeepEqual(got, expect["data_devices_paths"]) {
					t.Errorf("paths = %v, want %v", got, expect["data_devices_paths"])
				}
			case "drivegroup_dict_fields":
				doc := canonical(t, loadOne(t, c.JSON)).(map[string]any)
				for k, want := range expect {
					got, present := field(doc, k)
					if !falsyEqual(want, present, got) {
						t.Errorf("%s = %v (present %v), want %v", k, got, present, want)
					}
				}
			case "device_selection":
				in, _ := json.Marshal(map[string]any{
					"service_type": "osd", "service_id": "sel", "placement": map[string]any{"host_pattern": "*"},
					"spec": map[string]any{"data_devices": c.DeviceSelection},
				})
				if expect == nil {
					wantError(t, in, c)
					return
				}
				doc := canonical(t, loadOne(t, in)).(map[string]any)
				dd, _ := field(doc, "data_devices")
				if got := dd.(map[string]any)["paths"]; !reflect.DeepEqual(got, expect["paths"]) {
					t.Errorf("paths = %v, want %v", got, expect["paths"])
				}
			case "hostspec_json":
				if len(c.JSON) == 0 {
					t.Skip("input not representable")
				}
				var m map[string]any
				_ = json.Unmarshal(c.JSON, &m)
				m["service_type"] = "host"
				in, _ := json.Marshal(m)
				if expect == nil {
					wantError(t, in, c)
					return
				}
				d := loadOne(t, in)
				if d.Host == nil || d.Host.Hostname != expect["hostname"] {
					t.Fatalf("host = %+v, want hostname %v", d.Host, expect["hostname"])
				}
			default:
				t.Skipf("kind %s needs `orch plan`", c.Kind)
			}
		})
	}
}

func asValidationError(err error, target **ValidationError) bool {
	return errors.As(err, target)
}
