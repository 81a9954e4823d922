package scheduler

import (
	"errors"

	"github.com/orchceph/orch/spec"
)

// Sentinels for the classes of placement failure; every *PlacementError
// also matches spec.ErrInvalidSpec, so callers that only care that the
// input was invalid need not know them.
var (
	ErrInvalidCount   = errors.New("invalid count")
	ErrColocation     = errors.New("colocation not allowed")
	ErrUnknownHosts   = errors.New("unknown hosts")
	ErrNoMatchingHost = errors.New("no matching hosts")
	ErrNoLabelHost    = errors.New("no hosts with label")
	ErrEmptyPlacement = errors.New("empty placement")
	ErrBadNetwork     = errors.New("invalid network")
)

// PlacementError is a placement that cannot be satisfied or is invalid.
// Error returns cephadm's exact message for the same input.
type PlacementError struct {
	// Kind is cephadm's exception class: "SpecValidationError" or
	// "OrchestratorValidationError".
	Kind string
	// Class is one of the sentinels above.
	Class error
	// Hosts are the unknown hosts (ErrUnknownHosts only), sorted.
	Hosts []string
	Msg   string
}

func (e *PlacementError) Error() string { return e.Msg }

// Is matches the error's class and spec.ErrInvalidSpec.
func (e *PlacementError) Is(target error) bool {
	return target == e.Class || target == spec.ErrInvalidSpec
}

func orchErr(class error, msg string) *PlacementError {
	return &PlacementError{Kind: "OrchestratorValidationError", Class: class, Msg: msg}
}
