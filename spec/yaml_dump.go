package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DumpYAML renders documents the way PyYAML's yaml.dump_all(docs,
// default_flow_style=False) does for cephadm's specs: block style, 2-space
// indent, 80-column folding, ASCII output, "---" between documents. The
// top-level mapping of each document keeps its order (cephadm passes an
// ordered item list); every nested mapping is sorted by key (PyYAML's
// sort_keys=True). Documents are Python values (*Map, []any, scalars), such
// as the values ServiceSpec.ToJSON and HostSpec documents produce.
func DumpYAML(docs ...any) string {
	e := &emitter{}
	for i, d := range docs {
		e.document(d, i == 0)
	}
	return e.b.String()
}

type emitter struct {
	b          strings.Builder
	column     int
	whitespace bool
	indention  bool
	indent     int // -1 means None
	indents    []int
}

const (
	bestIndent = 2
	bestWidth  = 80
)

func (e *emitter) document(v any, first bool) {
	e.whitespace, e.indention = true, true
	e.indent, e.indents = -1, nil
	if !first {
		e.writeIndent()
		e.writeIndicator("---", true, false, false)
	}
	e.node(v, true, false, false, false)
	e.writeIndent()
}

func (e *emitter) increaseIndent(flow, indentless bool) {
	e.indents = append(e.indents, e.indent)
	if e.indent < 0 {
		if flow {
			e.indent = bestIndent
		} else {
			e.indent = 0
		}
	} else if !indentless {
		e.indent += bestIndent
	}
}

func (e *emitter) popIndent() {
	e.indent = e.indents[len(e.indents)-1]
	e.indents = e.indents[:len(e.indents)-1]
}

// node emits v; root/sequence/mapping/simpleKey describe the context as
// PyYAML's expect_node flags do.
func (e *emitter) node(v any, root, sequence, mapping, simpleKey bool) {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			e.emptyFlow("[", "]")
			return
		}
		indentless := mapping && !e.indention
		e.increaseIndent(false, indentless)
		for _, item := range x {
			e.writeIndent()
			e.writeIndicator("-", true, false, true)
			e.node(item, false, true, false, false)
		}
		e.popIndent()
	case []string:
		l := make([]any, len(x))
		for i, s := range x {
			l[i] = s
		}
		e.node(l, root, sequence, mapping, simpleKey)
	case *Map:
		if x.Len() == 0 {
			e.emptyFlow("{", "}")
			return
		}
		keys := x.Keys()
		if !root {
			keys = sortedKeys(keys)
		}
		e.increaseIndent(false, false)
		for _, k := range keys {
			val, _ := x.Get(k)
			e.writeIndent()
			if e.isSimpleKey(k) {
				e.node(k, false, false, true, true)
				e.writeIndicator(":", false, false, false)
				e.node(val, false, false, true, false)
			} else {
				e.writeIndicator("?", true, false, true)
				e.node(k, false, false, true, false)
				e.writeIndent()
				e.writeIndicator(":", true, false, true)
				e.node(val, false, false, true, false)
			}
		}
		e.popIndent()
	case map[string]any:
		e.node(mapFromGo(x), root, sequence, mapping, simpleKey)
	default:
		e.increaseIndent(true, false)
		e.scalar(v, simpleKey)
		e.popIndent()
	}
}

func (e *emitter) emptyFlow(open, close string) {
	e.writeIndicator(open, true, true, false)
	e.increaseIndent(true, false)
	e.popIndent()
	e.writeIndicator(close, false, false, false)
}

// sortedKeys orders keys as Python's sorted() would; mixed key types
// cannot be compared in Python, and PyYAML then keeps the given order.
func sortedKeys(keys []any) []any {
	out := append([]any(nil), keys...)
	allStr, allNum := true, true
	for _, k := range out {
		switch k.(type) {
		case string:
			allNum = false
		case int64, float64, bool:
			allStr = false
		default:
			allStr, allNum = false, false
		}
	}
	switch {
	case allStr:
		sort.SliceStable(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
	case allNum:
		sort.SliceStable(out, func(i, j int) bool { return numVal(out[i]) < numVal(out[j]) })
	}
	return out
}

func numVal(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

// scalarText returns the text and tag PyYAML's SafeRepresenter gives v.
func scalarText(v any) (text, tag string) {
	switch x := v.(type) {
	case nil:
		return "null", "!!null"
	case bool:
		if x {
			return "true", "!!bool"
		}
		return "false", "!!bool"
	case int64:
		return strconv.FormatInt(x, 10), "!!int"
	case int:
		return strconv.Itoa(x), "!!int"
	case float64:
		s := pyFloatRepr(x)
		switch s {
		case "nan":
			return ".nan", "!!float"
		case "inf":
			return ".inf", "!!float"
		case "-inf":
			return "-.inf", "!!float"
		}
		s = strings.ToLower(s)
		if !strings.Contains(s, ".") && strings.Contains(s, "e") {
			s = strings.Replace(s, "e", ".0e", 1)
		}
		return s, "!!float"
	case string:
		return x, "!!str"
	}
	return fmt.Sprint(v), "!!str"
}

func (e *emitter) isSimpleKey(k any) bool {
	text, tag := scalarText(k)
	a := analyzeScalar(text)
	return len(tag)+len([]rune(text)) < 128 && !a.empty && !a.multiline
}

func (e *emitter) scalar(v any, simpleKey bool) {
	text, tag := scalarText(v)
	a := analyzeScalar(text)
	implicit := true
	if tag == "!!str" {
		implicit = yamlImplicitTag(text) == "str"
	}
	style := byte('"')
	switch {
	case implicit && !(simpleKey && (a.empty || a.multiline)) && a.allowBlockPlain:
		style = 0
	case a.allowSingleQuoted && !(simpleKey && a.multiline):
		style = '\''
	}
	split := !simpleKey
	switch style {
	case 0:
		e.writePlain(text, split)
	case '\'':
		e.writeSingleQuoted(text, split)
	default:
		e.writeDoubleQuoted(text, split)
	}
}

type scalarAnalysis struct {
	empty, multiline                                   bool
	allowFlowPlain, allowBlockPlain, allowSingleQuoted bool
	allowBlock                                         bool
}

func isBreakRune(r rune) bool { return r == '\n' || r == '\u0085' || r == '\u2028' || r == '\u2029' }

func isSpaceOrBreak(r rune) bool {
	return r == 0 || r == ' ' || r == '\t' || r == '\r' || isBreakRune(r)
}

// analyzeScalar is PyYAML's Emitter.analyze_scalar with allow_unicode off.
func analyzeScalar(s string) scalarAnalysis {
	rs := []rune(s)
	if len(rs) == 0 {
		return scalarAnalysis{empty: true, allowBlockPlain: true, allowSingleQuoted: true}
	}
	var blockInd, flowInd, lineBreaks, special bool
	var leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockInd, flowInd = true, true
	}
	preceded := true
	followed := len(rs) == 1 || isSpaceOrBreak(rs[1])
	prevSpace, prevBreak := false, false
	for i, ch := range rs {
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", ch) {
				flowInd, blockInd = true, true
			}
			if ch == '?' || ch == ':' {
				flowInd = true
				if followed {
					blockInd = true
				}
			}
			if ch == '-' && followed {
				flowInd, blockInd = true, true
			}
		} else {
			if strings.ContainsRune(",?[]{}", ch) {
				flowInd = true
			}
			if ch == ':' {
				flowInd = true
				if followed {
					blockInd = true
				}
			}
			if ch == '#' && preceded {
				flowInd, blockInd = true, true
			}
		}
		if isBreakRune(ch) {
			lineBreaks = true
		}
		if !(ch == '\n' || (ch >= 0x20 && ch <= 0x7e)) {
			// Printable non-ASCII is "special" too without allow_unicode.
			special = true
		}
		switch {
		case ch == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i == len(rs)-1 {
				trailingSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case isBreakRune(ch):
			if i == 0 {
				leadingBreak = true
			}
			if i == len(rs)-1 {
				trailingBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		preceded = isSpaceOrBreak(ch)
		followed = i+2 >= len(rs) || isSpaceOrBreak(rs[i+2])
	}
	a := scalarAnalysis{multiline: lineBreaks, allowFlowPlain: true, allowBlockPlain: true, allowSingleQuoted: true, allowBlock: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.allowFlowPlain, a.allowBlockPlain = false, false
	}
	if trailingSpace {
		a.allowBlock = false
	}
	if breakSpace {
		a.allowFlowPlain, a.allowBlockPlain, a.allowSingleQuoted = false, false, false
	}
	if spaceBreak || special {
		a.allowFlowPlain, a.allowBlockPlain, a.allowSingleQuoted, a.allowBlock = false, false, false, false
	}
	if lineBreaks {
		a.allowFlowPlain, a.allowBlockPlain = false, false
	}
	if flowInd {
		a.allowFlowPlain = false
	}
	if blockInd {
		a.allowBlockPlain = false
	}
	return a
}

func (e *emitter) write(s string) {
	e.b.WriteString(s)
	e.column += len([]rune(s))
}

func (e *emitter) writeIndicator(ind string, needWhitespace, whitespace, indention bool) {
	data := ind
	if !e.whitespace && needWhitespace {
		data = " " + ind
	}
	e.whitespace = whitespace
	e.indention = e.indention && indention
	e.write(data)
}

func (e *emitter) writeIndent() {
	indent := e.indent
	if indent < 0 {
		indent = 0
	}
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.writeLineBreak("")
	}
	if e.column < indent {
		e.whitespace = true
		e.b.WriteString(strings.Repeat(" ", indent-e.column))
		e.column = indent
	}
}

func (e *emitter) writeLineBreak(data string) {
	if data == "" {
		data = "\n"
	}
	e.whitespace, e.indention = true, true
	e.column = 0
	e.b.WriteString(data)
}

func (e *emitter) writeBreaks(rs []rune) {
	if rs[0] == '\n' {
		e.writeLineBreak("")
	}
	for _, br := range rs {
		if br == '\n' {
			e.writeLineBreak("")
		} else {
			e.writeLineBreak(string(br))
		}
	}
	e.writeIndent()
}

func (e *emitter) writePlain(text string, split bool) {
	if text == "" {
		return
	}
	if !e.whitespace {
		e.write(" ")
	}
	e.whitespace, e.indention = false, false
	rs := []rune(text)
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(rs); end++ {
		var ch rune = -1
		if end < len(rs) {
			ch = rs[end]
		}
		switch {
		case spaces:
			if ch != ' ' {
				if start+1 == end && e.column > bestWidth && split {
					e.writeIndent()
					e.whitespace, e.indention = false, false
				} else {
					e.write(string(rs[start:end]))
				}
				start = end
			}
		case breaks:
			if ch == -1 || !isBreakRune(ch) {
				e.writeBreaks(rs[start:end])
				e.whitespace, e.indention = false, false
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isBreakRune(ch) {
				e.write(string(rs[start:end]))
				start = end
			}
		}
		if ch != -1 {
			spaces = ch == ' '
			breaks = isBreakRune(ch)
		}
	}
}

func (e *emitter) writeSingleQuoted(text string, split bool) {
	e.writeIndicator("'", true, false, false)
	rs := []rune(text)
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(rs); end++ {
		var ch rune = -1
		if end < len(rs) {
			ch = rs[end]
		}
		switch {
		case spaces:
			if ch == -1 || ch != ' ' {
				if start+1 == end && e.column > bestWidth && split && start != 0 && end != len(rs) {
					e.writeIndent()
				} else {
					e.write(string(rs[start:end]))
				}
				start = end
			}
		case breaks:
			if ch == -1 || !isBreakRune(ch) {
				e.writeBreaks(rs[start:end])
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isBreakRune(ch) || ch == '\'' {
				if start < end {
					e.write(string(rs[start:end]))
					start = end
				}
			}
		}
		if ch == '\'' {
			e.write("''")
			start = end + 1
		}
		if ch != -1 {
			spaces = ch == ' '
			breaks = isBreakRune(ch)
		}
	}
	e.writeIndicator("'", false, false, false)
}

var escapeReplacements = map[rune]string{
	0: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0a: "n", 0x0b: "v", 0x0c: "f",
	0x0d: "r", 0x1b: "e", '"': "\"", '\\': "\\", 0x85: "N", 0xa0: "_",
	0x2028: "L", 0x2029: "P",
}

func (e *emitter) writeDoubleQuoted(text string, split bool) {
	e.writeIndicator("\"", true, false, false)
	rs := []rune(text)
	start := 0
	for end := 0; end <= len(rs); end++ {
		var ch rune = -1
		if end < len(rs) {
			ch = rs[end]
		}
		if ch == -1 || ch == '"' || ch == '\\' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 || ch == 0xfeff || !(ch >= 0x20 && ch <= 0x7e) {
			if start < end {
				e.write(string(rs[start:end]))
				start = end
			}
			if ch != -1 {
				var data string
				if r, ok := escapeReplacements[ch]; ok {
					data = `\` + r
				} else if ch <= 0xff {
					data = fmt.Sprintf(`\x%02X`, ch)
				} else if ch <= 0xffff {
					data = fmt.Sprintf(`\u%04X`, ch)
				} else {
					data = fmt.Sprintf(`\U%08X`, ch)
				}
				e.write(data)
				start = end + 1
			}
		}
		if end > 0 && end < len(rs)-1 && (ch == ' ' || start >= end) && e.column+(end-start) > bestWidth && split {
			data := string(rs[start:end]) + `\`
			if start < end {
				start = end
			}
			e.write(data)
			e.writeIndent()
			e.whitespace, e.indention = false, false
			if rs[start] == ' ' {
				e.write(`\`)
			}
		}
	}
	e.writeIndicator("\"", false, false, false)
}
