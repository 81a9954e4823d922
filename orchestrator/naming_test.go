package orchestrator

import (
	"strings"
	"testing"
)

func TestUniqueName(t *testing.T) {
	fixed := func(s ...string) suffixLetters {
		i := 0
		return func(n int) string { v := s[i%len(s)]; i++; return v }
	}
	none := func(string) bool { return false }
	r0, g1 := 0, 1
	for _, tc := range []struct {
		name    string
		req     nameRequest
		taken   func(string) bool
		letters suffixLetters
		want    string
		wantErr string
	}{
		{"mon has no suffix", nameRequest{DaemonType: "mon", Host: "node1.example.com"}, none, fixed("xxxxxx"), "node1", ""},
		{"container keeps the id prefix", nameRequest{DaemonType: "container", Host: "h1", Prefix: "web"}, none, fixed("xxxxxx"), "web.h1", ""},
		{"mgr gets a suffix", nameRequest{DaemonType: "mgr", Host: "h1"}, none, fixed("abcdef"), "h1.abcdef", ""},
		{"rgw prefix and suffix", nameRequest{DaemonType: "rgw", Host: "h1.lan", Prefix: "r.z"}, none, fixed("qwerty"), "r.z.h1.qwerty", ""},
		{"ranked nfs", nameRequest{DaemonType: "nfs", Host: "h1", Prefix: "foo", Rank: &r0, RankGeneration: &g1}, none, fixed("zzzzzz"), "foo.0.1.h1.zzzzzz", ""},
		{"suffix collision draws again", nameRequest{DaemonType: "mgr", Host: "h1"},
			func(id string) bool { return id == "h1.aaaaaa" }, fixed("aaaaaa", "bbbbbb"), "h1.bbbbbb", ""},
		{"no-suffix collision is an error", nameRequest{DaemonType: "crash", Host: "h1"},
			func(id string) bool { return id == "h1" }, fixed("x"), "", "name crash.h1 already in use"},
		{"forced name", nameRequest{DaemonType: "mgr", Host: "h1", ForceName: "x"}, none, fixed("x"), "x", ""},
		{"forced name taken", nameRequest{DaemonType: "mgr", Host: "h1", ForceName: "x"},
			func(id string) bool { return id == "x" }, fixed("x"), "", "name mgr.x already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := uniqueName(tc.req, tc.taken, tc.letters)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("uniqueName = %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestLettersAreLowercaseAndSeeded(t *testing.T) {
	a := NewReconciler(newEnv(t, nil).ctl, ReconcilerOptions{Seed: 9}).letters(6)
	b := NewReconciler(newEnv(t, nil).ctl, ReconcilerOptions{Seed: 9}).letters(6)
	if a != b || len(a) != 6 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz") != "" {
		t.Fatalf("letters = %q, %q", a, b)
	}
}
