package cli

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/orchceph/orch/spec"
)

// This file is the one place where errors become exit codes and the
// "Error E<NAME>: <message>" text that ceph orch users know.

// errnoCarrier is implemented by errors that know their errno (API errors
// decoded from the controller, for example).
type errnoCarrier interface{ Errno() syscall.Errno }

// UsageError is a bad flag or argument; it maps to EINVAL.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// usagef builds a UsageError.
func usagef(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// ErrNotFound is returned by commands when something named does not exist.
var ErrNotFound = errors.New("not found")

// sentinels maps error classes to errnos; the first match wins.
var sentinels = []struct {
	err   error
	errno syscall.Errno
}{
	{spec.ErrInvalidSpec, syscall.EINVAL},
	{ErrNotFound, syscall.ENOENT},
}

// errnoOf returns the errno that err maps to (EIO for unclassified errors,
// exit code 1 in that case).
func errnoOf(err error) syscall.Errno {
	var ec errnoCarrier
	if errors.As(err, &ec) {
		return ec.Errno()
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return syscall.EINVAL
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.errno
		}
	}
	return 0
}

// errnoNames are the names cephadm users see in "Error EXXX:".
var errnoNames = map[syscall.Errno]string{
	syscall.EPERM:        "EPERM",
	syscall.ENOENT:       "ENOENT",
	syscall.EIO:          "EIO",
	syscall.EAGAIN:       "EAGAIN",
	syscall.EACCES:       "EACCES",
	syscall.EBUSY:        "EBUSY",
	syscall.EEXIST:       "EEXIST",
	syscall.EINVAL:       "EINVAL",
	syscall.ENOTSUP:      "ENOTSUP",
	syscall.ETIMEDOUT:    "ETIMEDOUT",
	syscall.ECONNREFUSED: "ECONNREFUSED",
	syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.ENOTCONN:     "ENOTCONN",
	syscall.ECANCELED:    "ECANCELED",
	syscall.EADDRINUSE:   "EADDRINUSE",
	syscall.EPROTO:       "EPROTO",
}

// ExitCodeAndMessage renders err as cephadm does: the exit code is the
// errno (1 for unclassified errors) and the line is "Error E<NAME>: msg".
func ExitCodeAndMessage(err error) (int, string) {
	errno := errnoOf(err)
	if errno == 0 {
		return 1, "Error EIO: " + err.Error()
	}
	name, ok := errnoNames[errno]
	if !ok {
		name = fmt.Sprintf("E%d", int(errno))
	}
	return int(errno), "Error " + name + ": " + err.Error()
}
