package sshexec

import (
	"bytes"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"abc", "abc"},
		{"/usr/bin/ls", "/usr/bin/ls"},
		{"--kill-after=5", "'--kill-after=5'"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(reboot)", "'$(reboot)'"},
		{"~root", "'~root'"},
		{"if", "'if'"},
		{"#x", "'#x'"},
		{"a\nb", "'a\nb'"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.want {
				t.Fatalf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQuoteArgvRefuses(t *testing.T) {
	for _, argv := range [][]string{nil, {}, {""}, {"echo", "a\x00b"}} {
		if _, err := QuoteArgv(argv); !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("QuoteArgv(%q) error = %v, want ErrInvalidTarget", argv, err)
		}
	}
}

// shSplit asks the real /bin/sh to word-split cmd: printf prints each word
// NUL-terminated.
func shSplit(t testing.TB, quoted string) []string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", `printf '%s\0' `+quoted).Output()
	if err != nil {
		t.Fatalf("sh -c printf %s: %v", quoted, err)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1]
}

func TestQuoteArgvShellRoundTrip(t *testing.T) {
	argv := []string{"echo", "", " ", "a'b", `a"b`, `\`, "$HOME", "`id`", "*", "?", "[a]",
		"a;b", "a|b", "a&b", "<x", ">y", "(", ")", "{", "}", "!", "~", "#", "\t\n", "é", "\xff", "x=y", "if", "--"}
	q, err := QuoteArgv(argv)
	if err != nil {
		t.Fatal(err)
	}
	if got := shSplit(t, q); !slices.Equal(got, argv) {
		t.Fatalf("round trip through sh:\n got %q\nwant %q", got, argv)
	}
}

// FuzzQuoteArgv checks the quoting contract against the real /bin/sh:
// quoting argv and word-splitting the result gives argv back exactly.
func FuzzQuoteArgv(f *testing.F) {
	for _, s := range []string{"", "a", "it's", "$(id)", "a b\tc\nd", "'\"\\", "\xff\xfe", "~", "if"} {
		f.Add(s, s+"x", "-n")
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		argv := []string{a, b, c}
		q, err := QuoteArgv(argv)
		if slices.ContainsFunc(argv, func(s string) bool { return strings.IndexByte(s, 0) >= 0 }) || a == "" {
			if err == nil {
				t.Fatalf("QuoteArgv(%q) accepted a NUL or an empty command", argv)
			}
			return
		}
		if err != nil {
			t.Fatalf("QuoteArgv(%q): %v", argv, err)
		}
		if got := shSplit(t, q); !slices.Equal(got, argv) {
			t.Fatalf("round trip through sh of %q:\n got %q\nwant %q", q, got, argv)
		}
		if bytes.Contains([]byte(q), []byte{0}) {
			t.Fatalf("quoted form contains NUL")
		}
	})
}
