package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestDocumentationExamples validates every example of cephadm's
// service-spec documentation kept in testdata/specs, and checks that the
// YAML output validates again to the same JSON. Examples under
// testdata/specs/invalid are ones cephadm itself refuses (each file says
// why); they must fail here too.
func TestDocumentationExamples(t *testing.T) {
	root := filepath.Join("..", "testdata", "specs")
	valid, _ := filepath.Glob(filepath.Join(root, "*.yaml"))
	invalid, _ := filepath.Glob(filepath.Join(root, "invalid", "*.yaml"))
	if len(valid) == 0 {
		t.Fatalf("no examples under %s", root)
	}
	for _, f := range valid {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs, err := LoadDocuments(data)
			if err != nil {
				t.Fatalf("LoadDocuments: %v", err)
			}
			vals := make([]any, len(docs))
			for i, d := range docs {
				vals[i] = d.ToJSON()
			}
			again, err := LoadDocuments([]byte(DumpYAML(vals...)))
			if err != nil {
				t.Fatalf("yaml output does not validate: %v\n%s", err, DumpYAML(vals...))
			}
			if len(again) != len(docs) {
				t.Fatalf("%d documents after the round trip, want %d", len(again), len(docs))
			}
			for i := range docs {
				if a, b := canonical(t, docs[i]), canonical(t, again[i]); !reflect.DeepEqual(a, b) {
					t.Fatalf("document %d changed:\n%v\n%v", i, a, b)
				}
			}
		})
	}
	for _, f := range invalid {
		t.Run("invalid/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := LoadDocuments(data); err == nil {
				t.Fatal("LoadDocuments accepted an example cephadm refuses")
			}
		})
	}
}
