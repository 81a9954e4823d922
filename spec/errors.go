package spec

import "errors"

// ErrInvalidSpec classifies every spec, placement or host-spec validation
// failure. Callers branch on it with errors.Is; the CLI maps it to EINVAL.
var ErrInvalidSpec = errors.New("invalid spec")

// ValidationError carries cephadm's exact message for an invalid input.
// Error returns the message unchanged so that it can be shown as
// "Error EINVAL: <message>".
type ValidationError struct {
	// Kind is cephadm's exception class name, e.g. "SpecValidationError",
	// "DriveGroupValidationError" or "OrchestratorValidationError".
	Kind string
	Msg  string
}

func (e *ValidationError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrInvalidSpec) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidSpec }

// Invalid returns a SpecValidationError with msg.
func Invalid(msg string) error { return &ValidationError{Kind: "SpecValidationError", Msg: msg} }
