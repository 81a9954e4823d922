package spec

import (
	"strings"
	"testing"
)

func TestValidateHostname(t *testing.T) {
	long := strings.Repeat("a.", 125) + "a" // 251 characters
	tests := []struct {
		name string
		msg  string // "" means valid
	}{
		{"a", ""},
		{"node-1.example.com", ""},
		{strings.Repeat("a", 63), ""},
		{"a\n", ""}, // Python's $ also matches before a final newline
		{"", `.-delimited name component must not be empty. Got ""`},
		{"a.", `.-delimited name component must not be empty. Got "a."`},
		{"a..b", `.-delimited name component must not be empty. Got "a..b"`},
		{strings.Repeat("a", 64), `.-delimited name component must not be more than 63 chars. Got "` + strings.Repeat("a", 64) + `"`},
		{long, `name is too long (max 250 chars). Got "` + long + `"`},
		{"a_b", `name component must include only a-z, 0-9, and -. Got "a_b"`},
		{"a b", `name component must include only a-z, 0-9, and -. Got "a b"`},
		{"a\nb", `name component must include only a-z, 0-9, and -. Got "a` + "\n" + `b"`},
		// Lengths count characters, not bytes.
		{strings.Repeat("é", 100), `.-delimited name component must not be more than 63 chars. Got "` + strings.Repeat("é", 100) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateHostname(tt.name)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("ValidateHostname(%q): %v", tt.name, err)
				}
				return
			}
			checkPlacementError(t, err, "SpecValidationError", tt.msg)
		})
	}
}
