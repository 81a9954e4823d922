package store

import "errors"

// Sentinels callers branch on with errors.Is. Every error the package returns
// that belongs to one of these classes wraps the sentinel with %w and names
// the object involved.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLocked: another process holds the store file's lock.
	ErrLocked = errors.New("store is locked")
	// ErrInvalid: an argument cannot be stored (empty key, unknown kind, bad JSON).
	ErrInvalid = errors.New("invalid argument")
	// ErrSchemaTooNew: the file was written by a newer orch than this binary.
	ErrSchemaTooNew = errors.New("store schema is newer than this binary")
	// ErrCorrupt: a stored value cannot be decoded or the layout is not orch's.
	ErrCorrupt = errors.New("store is corrupt")
)
