package sshexec

import (
	"fmt"
	"strings"
)

// Quote returns s as one POSIX shell word: unchanged when it consists only
// of characters no shell treats specially, otherwise in single quotes with
// each embedded single quote written as
//
//	'\''
//
// The result, word-split by /bin/sh, is exactly s. s must not contain NUL,
// which no argv can carry (QuoteArgv checks).
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isSafeWord(s) && !shellReserved[s] {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isSafeWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '@', c == '%', c == '+', c == ':', c == ',', c == '.', c == '/', c == '-':
		default:
			// '=' is excluded so that no word can be read as an
			// assignment; '~', '#', '!', '[' and friends are special.
			return false
		}
	}
	return true
}

// shellReserved words are quoted so that they are never parsed as syntax,
// whatever their position.
var shellReserved = map[string]bool{
	"case": true, "do": true, "done": true, "elif": true, "else": true,
	"esac": true, "fi": true, "for": true, "if": true, "in": true,
	"then": true, "until": true, "while": true, "function": true,
	"select": true, "time": true, "coproc": true,
}

// QuoteArgv quotes each element of argv with Quote and joins them with
// spaces, producing the one command string an SSH exec request carries.
// It refuses an empty argv, an empty argv[0] and any NUL byte.
func QuoteArgv(argv []string) (string, error) {
	if len(argv) == 0 || argv[0] == "" {
		return "", fmt.Errorf("quote argv: empty command: %w", ErrInvalidTarget)
	}
	var b strings.Builder
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return "", fmt.Errorf("quote argv: argument %d contains a NUL byte: %w", i, ErrInvalidTarget)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Quote(a))
	}
	return b.String(), nil
}

// quoteForMsg renders argv for messages and errors, never failing.
func quoteForMsg(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = Quote(strings.ReplaceAll(a, "\x00", `\0`))
	}
	return strings.Join(parts, " ")
}
