package spec

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzLoadDocuments feeds arbitrary input to the loader: it must never
// panic or hang, errors must be ErrInvalidSpec, and whatever loads must
// print (JSON and YAML) and load again to the same JSON.
func FuzzLoadDocuments(f *testing.F) {
	f.Add([]byte("service_type: mgr\nplacement:\n  count: 2\n"))
	f.Add([]byte(`[{"service_type": "rgw", "service_id": "a", "spec": {"rgw_frontend_port": 8080}}]`))
	f.Add([]byte("service_type: host\nhostname: node1\nlabels: [mon, _admin]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		docs, err := LoadDocuments(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("error %v is not ErrInvalidSpec", err)
			}
			return
		}
		vals := make([]any, len(docs))
		var first bytes.Buffer
		for i, d := range docs {
			vals[i] = d.ToJSON()
			b, err := d.ToJSON().MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			first.Write(b)
			first.WriteByte('\n')
		}
		for _, out := range [][]byte{[]byte(DumpYAML(vals...)), jsonArray(t, docs)} {
			again, err := LoadDocuments(out)
			if err != nil {
				t.Fatalf("output does not load again: %v\ninput: %q\noutput:\n%s", err, data, out)
			}
			var second bytes.Buffer
			for _, d := range again {
				b, _ := d.ToJSON().MarshalJSON()
				second.Write(b)
				second.WriteByte('\n')
			}
			if first.String() != second.String() {
				t.Fatalf("round trip changed the specs\ninput: %q\nfirst:\n%s\nsecond:\n%s", data, first.String(), second.String())
			}
		}
	})
}

func jsonArray(t *testing.T, docs []Document) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(',')
		}
		j, err := d.ToJSON().MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
	}
	b.WriteByte(']')
	return b.Bytes()
}
