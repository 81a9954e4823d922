package agent

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeStub is one expected command and its canned answer.
type fakeStub struct {
	argv  []string // argv[0] is matched by base name
	out   string
	err   error
	calls int
}

// fakeRunner answers commands from stubs and fails the test on unexpected
// commands and, at cleanup, on stubs nobody ran.
type fakeRunner struct {
	t *testing.T
	// mu guards stubs.
	mu    sync.Mutex
	stubs []*fakeStub
}

var _ Runner = (*fakeRunner)(nil)

func newFakeRunner(t *testing.T) *fakeRunner {
	f := &fakeRunner{t: t}
	t.Cleanup(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, s := range f.stubs {
			if s.calls == 0 {
				t.Errorf("stub never run: %q", s.argv)
			}
		}
	})
	return f
}

// on registers a stub; err is typically an *ExitError.
func (f *fakeRunner) on(out string, err error, argv ...string) *fakeRunner {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stubs = append(f.stubs, &fakeStub{argv: argv, out: out, err: err})
	return f
}

func (f *fakeRunner) Run(_ context.Context, argv []string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := append([]string{filepath.Base(argv[0])}, argv[1:]...)
	for _, s := range f.stubs {
		if slices.Equal(s.argv, got) {
			s.calls++
			return []byte(s.out), s.err
		}
	}
	f.t.Errorf("unexpected command %q", got)
	return nil, &ExitError{Cmd: argv, Code: 127, Stderr: "unexpected command in test"}
}

// binDir makes a directory of executable placeholders named after the
// programs the test host "has" (the fake runner answers for them).
func binDir(t *testing.T, names ...string) []string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/false\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return []string{dir}
}

var fixedNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fixtureHost is testdata/host1 with the given programs installed.
func fixtureHost(t *testing.T, r *fakeRunner, programs ...string) *Host {
	t.Helper()
	return &Host{
		Root:   "testdata/host1",
		Path:   binDir(t, programs...),
		Runner: r,
		Uname: func() (Uname, error) {
			return Uname{Machine: "x86_64", Release: "6.1.0-18-amd64", Nodename: "node1"}, nil
		},
		IPv4Addrs: func(iface string) ([]string, error) {
			return map[string][]string{"eth0": {"10.0.0.2/24", "10.0.0.3/24"}, "bond0": {"192.168.5.10/16"}}[iface], nil
		},
		Now: func() time.Time { return fixedNow },
	}
}

func exitErr(code int, stderr string, argv ...string) error {
	return &ExitError{Cmd: argv, Code: code, Stderr: stderr}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
