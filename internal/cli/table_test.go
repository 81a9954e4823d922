package cli

import (
	"bytes"
	"testing"
)

func TestTable(t *testing.T) {
	tb := newTable("HOST", "ADDR", "LABELS", "STATUS")
	tb.add("node1", "10.0.0.1", "_admin,mon", "")
	tb.add("node10", "10.0.0.10", "", "Offline")
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	want := "HOST    ADDR       LABELS      STATUS\n" +
		"node1   10.0.0.1   _admin,mon\n" +
		"node10  10.0.0.10              Offline\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
