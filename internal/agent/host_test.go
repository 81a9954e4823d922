package agent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLookPathDefault(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "podman"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	h := &Host{}
	if p, err := h.LookPath("podman"); err != nil || p != filepath.Join(dir, "podman") {
		t.Errorf("LookPath(podman) = %q, %v", p, err)
	}
	if _, err := h.LookPath("notexec"); !errors.Is(err, ErrToolMissing) {
		t.Errorf("a non-executable file was found: %v", err)
	}
	// Only sbin directories are added to PATH, so PATH can hide /usr/bin.
	t.Setenv("PATH", t.TempDir())
	if p, err := h.LookPath("sh"); err == nil {
		t.Errorf("sh found outside PATH at %s", p)
	}
}

func TestExitErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		err  *ExitError
		want string
	}{
		{&ExitError{Cmd: []string{"ledctl", "locate=/dev/sda"}, Code: 33, Stderr: "ledctl: /dev/sda: device not supported\nmore\n"},
			"ledctl locate=/dev/sda exited with status 33: ledctl: /dev/sda: device not supported"},
		{&ExitError{Cmd: []string{"false"}, Code: 1}, "false exited with status 1"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
