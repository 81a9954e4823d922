package scheduler

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/orchceph/orch/spec"
)

// hostMatcher matches host names against a spec.HostPattern. Placement
// over thousands of hosts calls it once per host, so fnmatch patterns are
// compiled into a small token program instead of a regular expression; the
// semantics are those of spec.TranslateFnmatch (Python's fnmatch), which a
// fuzz test checks. Regex patterns use Go's regexp anchored at the start,
// as spec.HostPattern.Compile does.
type hostMatcher struct {
	all  bool // "*": every name matches
	toks []globTok
	// prefix is the pattern's literal prefix: only names starting with it
	// can match, which a sorted name list finds by binary search.
	prefix string
	re     *regexp.Regexp
	bad    bool // a regex that does not compile matches nothing
}

type globKind uint8

const (
	globLit globKind = iota
	globAny
	globStar
	globClass
	globNone // a class that can match nothing
)

type globTok struct {
	kind   globKind
	r      rune
	negate bool
	ranges []runeRange
}

type runeRange struct{ lo, hi rune }

func newHostMatcher(p spec.HostPattern) hostMatcher {
	if p.Type == spec.PatternRegex {
		re, err := p.Compile()
		if err != nil {
			return hostMatcher{bad: true}
		}
		return hostMatcher{re: re}
	}
	toks := compileGlob(p.Pattern)
	if len(toks) == 1 && toks[0].kind == globStar {
		return hostMatcher{all: true}
	}
	var prefix []rune
	for _, t := range toks {
		if t.kind != globLit {
			break
		}
		prefix = append(prefix, t.r)
	}
	return hostMatcher{toks: toks, prefix: string(prefix)}
}

// candidateRange returns the part [lo, hi) of the sorted names that can
// match: those starting with the literal prefix.
func (m *hostMatcher) candidateRange(names []string) (lo, hi int) {
	if m.prefix == "" || m.re != nil || m.bad {
		return 0, len(names)
	}
	lo, _ = slices.BinarySearch(names, m.prefix)
	hi = lo
	for hi < len(names) && strings.HasPrefix(names[hi], m.prefix) {
		hi++
	}
	return lo, hi
}

func (m *hostMatcher) match(name string) bool {
	switch {
	case m.all:
		return true
	case m.bad:
		return false
	case m.re != nil:
		return m.re.MatchString(name)
	}
	return globMatch(m.toks, name)
}

// compileGlob parses pat with the rules of spec.TranslateFnmatch.
func compileGlob(pat string) []globTok {
	rs := []rune(pat)
	n := len(rs)
	var toks []globTok
	for i := 0; i < n; {
		c := rs[i]
		i++
		switch c {
		case '*':
			for i < n && rs[i] == '*' {
				i++
			}
			toks = append(toks, globTok{kind: globStar})
		case '?':
			toks = append(toks, globTok{kind: globAny})
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
				toks = append(toks, globTok{kind: globLit, r: '['})
				continue
			}
			stuff := rs[i:j]
			i = j + 1
			negate := false
			if len(stuff) > 0 && stuff[0] == '!' {
				negate = true
				stuff = stuff[1:]
			}
			var ranges []runeRange
			for k := 0; k < len(stuff); k++ {
				if k+2 < len(stuff) && stuff[k+1] == '-' {
					lo, hi := stuff[k], stuff[k+2]
					k += 2
					if lo > hi {
						continue // Python drops empty ranges
					}
					ranges = append(ranges, runeRange{lo, hi})
					continue
				}
				ranges = append(ranges, runeRange{stuff[k], stuff[k]})
			}
			switch {
			case len(ranges) == 0 && negate:
				toks = append(toks, globTok{kind: globAny})
			case len(ranges) == 0:
				toks = append(toks, globTok{kind: globNone})
			default:
				toks = append(toks, globTok{kind: globClass, negate: negate, ranges: ranges})
			}
		default:
			toks = append(toks, globTok{kind: globLit, r: c})
		}
	}
	return toks
}

func (t *globTok) matchRune(r rune) bool {
	switch t.kind {
	case globLit:
		return t.r == r
	case globAny:
		return true
	case globClass:
		in := false
		for _, rr := range t.ranges {
			if r >= rr.lo && r <= rr.hi {
				in = true
				break
			}
		}
		return in != t.negate
	}
	return false
}

// globMatch is the classic linear-backtracking wildcard match: every token
// but '*' consumes exactly one rune, so remembering only the last star is
// enough.
func globMatch(toks []globTok, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(toks) && toks[pi].kind == globStar {
			starP, starS = pi, si
			pi++
			continue
		}
		r, w := rune(s[si]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[si:])
		}
		if pi < len(toks) && toks[pi].matchRune(r) {
			pi++
			si += w
			continue
		}
		if starP < 0 {
			return false
		}
		pi = starP + 1
		_, sw := utf8.DecodeRuneInString(s[starS:])
		starS += sw
		si = starS
	}
	for pi < len(toks) && toks[pi].kind == globStar {
		pi++
	}
	return pi == len(toks)
}
