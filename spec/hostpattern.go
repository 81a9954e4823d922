package spec

import (
	"regexp"
	"strings"
)

// Match reports whether hostname matches the pattern with cephadm's
// semantics: fnmatch is Python's fnmatch.fnmatchcase (case-sensitive, the
// whole name, * ? [seq] [!seq]); regex is Python's re.match, anchored at
// the start only, so "host1|host3" also matches "host10". A regex that does
// not compile matches nothing.
func (h HostPattern) Match(hostname string) bool {
	re, err := h.Compile()
	if err != nil {
		return false
	}
	return re.MatchString(hostname)
}

// Compile returns the pattern as a Go regular expression, so that callers
// matching many hosts compile it once.
func (h HostPattern) Compile() (*regexp.Regexp, error) {
	if h.Type == PatternRegex {
		return regexp.Compile(`^(?:` + h.Pattern + `)`)
	}
	return regexp.Compile(`^` + TranslateFnmatch(h.Pattern) + `\z`)
}

// TranslateFnmatch converts a shell pattern into RE2 syntax the way
// Python's fnmatch.translate does (without the anchors).
func TranslateFnmatch(pat string) string {
	var b strings.Builder
	rs := []rune(pat)
	n := len(rs)
	for i := 0; i < n; {
		c := rs[i]
		i++
		switch c {
		case '*':
			// Collapse runs of '*' as Python does.
			for i < n && rs[i] == '*' {
				i++
			}
			b.WriteString(`(?s:.*)`)
		case '?':
			b.WriteString(`(?s:.)`)
		case '[':
			j := i
			if j < n && rs[j] == '!' {
				j++
			}
			if j < n && rs[j] == ']' {
				j++
			}
			for j < n && rs[j] != ']' {
				j++
			}
			if j >= n {
				b.WriteString(`\[`)
				continue
			}
			stuff := rs[i:j]
			i = j + 1
			var set strings.Builder
			negate := false
			if len(stuff) > 0 && stuff[0] == '!' {
				negate = true
				stuff = stuff[1:]
			}
			if len(stuff) == 0 {
				// "[]" cannot occur here; "[!]" matches any character.
				if negate {
					b.WriteString(`(?s:.)`)
				} else {
					b.WriteString(`[^\x00-\x{10FFFF}]`)
				}
				continue
			}
			for k := 0; k < len(stuff); k++ {
				r := stuff[k]
				if k+2 < len(stuff) && stuff[k+1] == '-' {
					lo, hi := r, stuff[k+2]
					k += 2
					if lo > hi {
						// Python drops empty ranges.
						continue
					}
					set.WriteString(escapeClassRune(lo))
					set.WriteByte('-')
					set.WriteString(escapeClassRune(hi))
					continue
				}
				set.WriteString(escapeClassRune(r))
			}
			if set.Len() == 0 {
				if negate {
					b.WriteString(`(?s:.)`)
				} else {
					b.WriteString(`[^\x00-\x{10FFFF}]`)
				}
				continue
			}
			if negate {
				b.WriteString(`[^` + set.String() + `]`)
			} else {
				b.WriteString(`[` + set.String() + `]`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

func escapeClassRune(r rune) string {
	switch r {
	case '\\', ']', '[', '^', '-':
		return `\` + string(r)
	}
	return string(r)
}
