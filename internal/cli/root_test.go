package cli

import (
	"context"
	"strings"
	"testing"
)

func TestUsageErrorsAreOneEINVALLine(t *testing.T) {
	for _, args := range [][]string{
		{"plna"},
		{"host", "ls", "--no-such-flag"},
		{"host", "add"},
		{"version", "extra"},
	} {
		ios, out, errOut := TestIO("")
		code := Main(context.Background(), args, ios)
		if code != 22 || out.Len() != 0 || !strings.HasPrefix(errOut.String(), "Error EINVAL: ") || strings.Count(errOut.String(), "\n") != 1 {
			t.Errorf("%v = %d %q %q, want exit 22 and one Error EINVAL line", args, code, out, errOut)
		}
	}
}

func TestVersionAndCompletion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"completion", "bash"}, {"completion", "zsh"}, {"completion", "fish"}} {
		ios, out, errOut := TestIO("")
		if code := Main(context.Background(), args, ios); code != 0 || out.Len() == 0 {
			t.Errorf("%v = %d, stdout %d bytes, stderr %q", args, code, out.Len(), errOut)
		}
	}
}
