package cli

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are the process's standard streams, injected so that commands
// can be tested with buffers and told whether they write to a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// IsTerminal reports whether Out is a terminal (progress bars, colour).
	IsTerminal bool
}

// SystemIO returns the process's real standard streams.
func SystemIO() *IOStreams {
	return &IOStreams{
		In:         os.Stdin,
		Out:        os.Stdout,
		ErrOut:     os.Stderr,
		IsTerminal: isatty.IsTerminal(os.Stdout.Fd()),
	}
}

// TestIO returns streams backed by buffers, for tests.
func TestIO(stdin string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: bytes.NewBufferString(stdin), Out: out, ErrOut: errOut}, out, errOut
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
