package cli

import (
	"io"
	"strings"
	"unicode/utf8"
)

// table prints rows the way ceph orch's plain output does (PrettyTable
// with no borders, left-aligned, two spaces of right padding per column).
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i := range widths {
			if i < len(r) {
				if n := utf8.RuneCountInString(r[i]); n > widths[i] {
					widths[i] = n
				}
			}
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i := range widths {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		s := strings.TrimRight(b.String(), " ")
		b.Reset()
		b.WriteString(s)
		b.WriteByte('\n')
		_, _ = io.WriteString(w, b.String())
		b.Reset()
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
	return nil
}
