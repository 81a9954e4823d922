package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func fixedClock() time.Time { return testTime }

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	s, err := Open(filepath.Join(t.TempDir(), "orch.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenFileModes(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"new file in new directories", func(*testing.T, string) {}},
		{"existing world-readable file is tightened", func(t *testing.T, path string) {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "var", "lib", "orch")
			path := filepath.Join(dir, "orch.db")
			tt.prepare(t, path)
			var logs bytes.Buffer
			s, err := Open(path, Options{Logger: zerolog.New(&logs)})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			for _, c := range []struct {
				path string
				want os.FileMode
			}{{path, 0o600}, {dir, 0o700}, {filepath.Dir(dir), 0o700}} {
				fi, err := os.Stat(c.path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != c.want {
					t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
				}
			}
			if s.Path() != path {
				t.Errorf("Path() = %q, want %q", s.Path(), path)
			}
		})
	}
}

func TestOpenInvalid(t *testing.T) {
	if _, err := Open("", Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

func TestSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // writes a file before Open
		wantErr error
		wantVer int
	}{
		{name: "new file", prepare: func(*testing.T, string) {}, wantVer: SchemaVersion},
		{name: "current file reopened", prepare: func(t *testing.T, path string) {
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}, wantVer: SchemaVersion},
		{name: "newer schema refused", prepare: func(t *testing.T, path string) {
			rawDB(t, path, func(btx *bolt.Tx) error {
				b, err := btx.CreateBucketIfNotExists(bucketMeta)
				if err != nil {
					return err
				}
				return b.Put(keySchemaVersion, []byte(fmt.Sprint(SchemaVersion+1)))
			})
		}, wantErr: ErrSchemaTooNew},
		{name: "foreign bbolt file refused", prepare: func(t *testing.T, path string) {
			rawDB(t, path, func(btx *bolt.Tx) error {
				_, err := btx.CreateBucket([]byte("someone-else"))
				return err
			})
		}, wantErr: ErrCorrupt},
		{name: "garbage version refused", prepare: func(t *testing.T, path string) {
			rawDB(t, path, func(btx *bolt.Tx) error {
				b, err := btx.CreateBucketIfNotExists(bucketMeta)
				if err != nil {
					return err
				}
				return b.Put(keySchemaVersion, []byte("two"))
			})
		}, wantErr: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "orch.db")
			tt.prepare(t, path)
			before, _ := os.ReadFile(path)
			s, err := Open(path, Options{})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				after, _ := os.ReadFile(path)
				if !bytes.Equal(before, after) {
					t.Errorf("refused file was modified")
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			v, err := s.SchemaVersion()
			if err != nil || v != tt.wantVer {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, tt.wantVer)
			}
		})
	}
}

func TestSchemaTooNewMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orch.db")
	rawDB(t, path, func(btx *bolt.Tx) error {
		b, err := btx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchemaVersion, []byte("99"))
	})
	_, err := Open(path, Options{})
	want := fmt.Sprintf("file has schema version 99, this binary understands up to %d; upgrade orch", SchemaVersion)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open = %v, want message containing %q", err, want)
	}
}

// rawDB writes a bbolt file directly, as an older or foreign binary would.
func rawDB(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMigration runs a schema-2 migration over a schema-1 file with data: it
// renames every host's "status" from "" to "online" and adds a bucket. A
// failing migration must leave the file exactly as it was.
func TestMigration(t *testing.T) {
	addLabel := migration{from: 1, name: "label every host", apply: func(btx *bolt.Tx) error {
		if _, err := btx.CreateBucket([]byte("v2_bucket")); err != nil {
			return err
		}
		b := btx.Bucket(bucketHosts)
		type kv struct{ k, v []byte }
		var rewrites []kv
		err := b.ForEach(func(k, v []byte) error {
			var h Host
			if _, err := getJSON(b, k, &h); err != nil {
				return err
			}
			h.Labels = append(h.Labels, "migrated")
			raw, err := jsonMarshal(h)
			rewrites = append(rewrites, kv{bytes.Clone(k), raw})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rewrites {
			if err := b.Put(r.k, r.v); err != nil {
				return err
			}
		}
		return nil
	}}
	failing := migration{from: 2, name: "explodes", apply: func(btx *bolt.Tx) error {
		return errors.New("boom")
	}}

	tests := []struct {
		name       string
		migs       []migration
		wantErr    bool
		wantVer    int
		wantLabels []string
		wantBucket bool
	}{
		{"no pending migration", migrations, false, 1, []string{"mon"}, false},
		{"1 to 2", append(append([]migration{}, migrations...), addLabel), false, 2, []string{"mon", "migrated"}, true},
		{"1 to 3 fails at 2 to 3: all rolled back", append(append([]migration{}, migrations...), addLabel, failing), true, 1, []string{"mon"}, false},
		{"gap in registry", append(append([]migration{}, migrations...), migration{from: 2, name: "orphan", apply: failing.apply}), true, 1, []string{"mon"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "orch.db")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutHost(Host{Name: "h1", Labels: []string{"mon"}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s, err = openWith(path, Options{}, tt.migs)
			if tt.wantErr {
				if err == nil {
					s.Close()
					t.Fatal("openWith succeeded, want error")
				}
				if !strings.Contains(err.Error(), "migrat") && !errors.Is(err, ErrCorrupt) {
					t.Errorf("error %q does not say which migration failed", err)
				}
				s, err = Open(path, Options{})
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			v, _ := s.SchemaVersion()
			if v != tt.wantVer {
				t.Errorf("schema version %d, want %d", v, tt.wantVer)
			}
			h, err := s.GetHost("h1")
			if err != nil {
				t.Fatal(err)
			}
			if !slicesEqual(h.Labels, tt.wantLabels) {
				t.Errorf("labels %v, want %v", h.Labels, tt.wantLabels)
			}
			var has bool
			_ = s.db.View(func(btx *bolt.Tx) error { has = btx.Bucket([]byte("v2_bucket")) != nil; return nil })
			if has != tt.wantBucket {
				t.Errorf("v2 bucket present = %v, want %v", has, tt.wantBucket)
			}
		})
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLockSameProcess: flock is per open file, so a second Open in the same
// process is refused too.
func TestLockSameProcess(t *testing.T) {
	s := openTest(t, Options{})
	start := time.Now()
	_, err := Open(s.Path(), Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v, want about the 100ms timeout", d)
	}
}

// TestLockOtherProcess holds the store in a child process and checks that
// Open here fails within its timeout with a message naming the file and the
// reason, then succeeds once the child has exited.
func TestLockOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "orch.db")
	cmd, stdin, lines := startHelper(t, "hold", path)
	if l := <-lines; l != "locked" {
		t.Fatalf("helper said %q, want locked", l)
	}

	const timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := Open(path, Options{Timeout: timeout})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while held = %v, want ErrLocked", err)
	}
	for _, want := range []string{path, "another orch process holds the lock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if elapsed > timeout+time.Second {
		t.Errorf("Open gave up after %v, want about %v", elapsed, timeout)
	}

	stdin.Close() // the helper exits on EOF, releasing the lock
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	s, err := Open(path, Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("Open after helper exit: %v", err)
	}
	if _, err := s.GetSetting("held-by-child"); err != nil {
		t.Errorf("child's write not visible: %v", err)
	}
	s.Close()
}

const helperEnv = "ORCH_STORE_TEST_HELPER"

// startHelper re-executes this test binary as a helper process running
// TestHelperProcess in the given mode. Lines the helper prints with the
// "ORCH " prefix arrive on the returned channel (closed at EOF).
func startHelper(t *testing.T, mode, path string) (*exec.Cmd, io.WriteCloser, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "ORCH_STORE_TEST_PATH="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "ORCH "); ok {
				lines <- l
			}
		}
	}()
	return cmd, stdin, lines
}

// TestHelperProcess is not a test: it is the body of the child processes
// started by startHelper.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	path := os.Getenv("ORCH_STORE_TEST_PATH")
	var err error
	switch mode {
	case "hold":
		err = helperHold(path)
	case "writer":
		err = crashWriter(path)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

func helperHold(path string) error {
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	if err := s.SetSetting("held-by-child", "yes"); err != nil {
		return err
	}
	fmt.Println("ORCH locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return s.Close()
}
