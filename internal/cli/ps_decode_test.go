package cli

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodePsRowsMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[{"ip":"x","ip":null,"ports":[1],"ports":null}]`,
		`[]`, `null`, ` [ ] `,
		`[{"daemon_type":"container","daemon_id":"web.h1","service_name":"container.web","daemon_name":"container.web.h1","hostname":"h1","container_id":"0123456789ab","status":1,"status_desc":"running","is_active":false,"ports":[8080,8081],"ip":"10.0.0.1","memory_usage":52428800,"last_refresh":"2026-11-21T07:02:44.108594Z","events":["2026 daemon:x [INFO] \"Deployed\""],"extra":{"a":[1,{"b":"}"}]}}]`,
		`[{"daemon_type":"mon","daemon_id":"a\u00e9\"b","hostname":"h\\1","ports":[],"ip":null,"status":-1,"memory_request":1.5e3}, {}]`,
	} {
		got, err := decodePsRows([]byte(in))
		var want []psRow
		werr := json.Unmarshal([]byte(in), &want)
		if (err == nil) != (werr == nil) || err == nil && !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("decodePsRows(%s) = %+v, %v; encoding/json = %+v, %v", in, got, err, want, werr)
		}
	}
	if _, err := decodePsRows([]byte(`[{"daemon_type":`)); err == nil {
		t.Error("truncated input accepted")
	}
}

func FuzzDecodePsRows(f *testing.F) {
	f.Add([]byte(`[{"daemon_type":"container","ports":[1],"ip":"x","status":1}]`))
	f.Add([]byte(`[{"ip":"x","ip":null,"ports":[1],"ports":null,"Status":2}]`))
	// Whatever the fast scanner accepts, encoding/json reads the same way.
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := (&psScanner{b: data}).rows()
		if err != nil {
			return // decodePsRows falls back to encoding/json
		}
		var want []psRow
		if werr := json.Unmarshal(data, &want); werr != nil {
			t.Fatalf("%q: scanner accepted what encoding/json refuses: %v", data, werr)
		}
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: scanner %+v vs encoding/json %+v", data, got, want)
		}
	})
}
