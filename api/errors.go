package api

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
)

// Error is an API error with the errno ceph orch would report.
type Error struct {
	Code    syscall.Errno `json:"errno"`
	Name    string        `json:"errno_name"`
	Message string        `json:"error"`
}

func (e *Error) Error() string { return e.Message }

// Errno lets the CLI map the error to its exit code.
func (e *Error) Errno() syscall.Errno { return e.Code }

// Sentinel error classes a backend returns (wrapped); errorFor maps them.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid argument")
	ErrExists       = errors.New("already exists")
	ErrBusy         = errors.New("busy")
	ErrNotSupported = errors.New("not supported")
	ErrUnavailable  = errors.New("unavailable")
)

// ErrnoCarrier is implemented by errors that know their errno.
type ErrnoCarrier interface{ Errno() syscall.Errno }

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.EIO: "EIO", syscall.EAGAIN: "EAGAIN",
	syscall.EACCES: "EACCES", syscall.EBUSY: "EBUSY", syscall.EEXIST: "EEXIST", syscall.EINVAL: "EINVAL",
	syscall.ENOTSUP: "ENOTSUP", syscall.ETIMEDOUT: "ETIMEDOUT", syscall.EHOSTUNREACH: "EHOSTUNREACH",
	syscall.ECONNREFUSED: "ECONNREFUSED", syscall.ENOTCONN: "ENOTCONN",
	syscall.EADDRINUSE: "EADDRINUSE", syscall.EPROTO: "EPROTO", syscall.ECANCELED: "ECANCELED",
	syscall.ENOSPC: "ENOSPC", syscall.EROFS: "EROFS", syscall.ENODEV: "ENODEV", syscall.ENXIO: "ENXIO",
}

// ErrnoName returns "EINVAL" for EINVAL and so on.
func ErrnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("E%d", int(e))
}

// NewError builds an *Error.
func NewError(errno syscall.Errno, format string, a ...any) *Error {
	return &Error{Code: errno, Name: ErrnoName(errno), Message: fmt.Sprintf(format, a...)}
}

// classify maps any backend error to an *Error: errors that carry an
// errno keep it; sentinels map to their errno; anything else is EIO.
func classify(err error, classes []ErrorClass, invalid ...error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ec ErrnoCarrier
	if errors.As(err, &ec) {
		return NewError(ec.Errno(), "%s", err.Error())
	}
	for _, s := range invalid {
		if errors.Is(err, s) {
			return NewError(syscall.EINVAL, "%s", err.Error())
		}
	}
	for _, c := range classes {
		if errors.Is(err, c.Err) {
			return NewError(c.Errno, "%s", err.Error())
		}
	}
	for _, m := range []struct {
		err   error
		errno syscall.Errno
	}{
		{ErrNotFound, syscall.ENOENT}, {ErrInvalid, syscall.EINVAL}, {ErrExists, syscall.EEXIST},
		{ErrBusy, syscall.EBUSY}, {ErrNotSupported, syscall.ENOTSUP}, {ErrUnavailable, syscall.EHOSTUNREACH},
	} {
		if errors.Is(err, m.err) {
			return NewError(m.errno, "%s", err.Error())
		}
	}
	return NewError(syscall.EIO, "%s", err.Error())
}

// httpStatus is the HTTP status used for an errno.
func httpStatus(errno syscall.Errno) int {
	switch errno {
	case syscall.EINVAL:
		return http.StatusBadRequest
	case syscall.ENOENT:
		return http.StatusNotFound
	case syscall.EEXIST, syscall.EBUSY:
		return http.StatusConflict
	case syscall.EACCES, syscall.EPERM:
		return http.StatusForbidden
	case syscall.ENOTSUP:
		return http.StatusNotImplemented
	case syscall.EHOSTUNREACH, syscall.ETIMEDOUT, syscall.ECONNREFUSED:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// Is lets errors.Is match an *Error against the sentinel of its errno, so
// that callers branch the same way on local and decoded errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == syscall.ENOENT
	case ErrInvalid:
		return e.Code == syscall.EINVAL
	case ErrExists:
		return e.Code == syscall.EEXIST
	case ErrBusy:
		return e.Code == syscall.EBUSY
	case ErrNotSupported:
		return e.Code == syscall.ENOTSUP
	case ErrUnavailable:
		return e.Code == syscall.EHOSTUNREACH
	}
	return false
}

// ErrorClass maps an error class of another package (an SSH host that
// cannot be reached, a host key mismatch) to the errno users see.
type ErrorClass struct {
	Err   error
	Errno syscall.Errno
}
