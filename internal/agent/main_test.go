package agent

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain recreates the fixture trees' empty directories (sysfs holders/,
// slaves/, ...), which git cannot track, from testdata/emptydirs.txt.
func TestMain(m *testing.M) {
	f, err := os.Open(filepath.Join("testdata", "emptydirs.txt"))
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		d := strings.TrimSpace(sc.Text())
		if d == "" || strings.Contains(d, "..") {
			continue
		}
		if err := os.MkdirAll(filepath.Join("testdata", d), 0o755); err != nil {
			panic(err)
		}
	}
	f.Close()
	os.Exit(m.Run())
}
