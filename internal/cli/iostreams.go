package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// readInputFile reads an -i argument: a file, or standard input for "-",
// at most limit bytes. A missing file is ENOENT; an input over the limit
// is EINVAL. what names the input in messages ("input", "snapshot").
func readInputFile(ios *IOStreams, name, what string, limit int64) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = ios.In
	} else {
		f, err := os.Open(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: cannot open %s file %s", ErrNotFound, what, name)
			}
			return nil, fmt.Errorf("cannot open %s file %s: %w", what, name, err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", what, name, err)
	}
	if int64(len(data)) > limit {
		return nil, usagef("%s %s is too large (limit %d bytes)", what, name, limit)
	}
	return data, nil
}
