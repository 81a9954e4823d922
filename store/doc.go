// Package store is orch's persistent state: one bbolt file holding cluster
// settings and secrets, the host inventory, service specs, per-host cached
// state, events, asynchronous operations, the OSD removal queue and the
// upgrade state.
//
// The package owns every bucket name, key layout, encoding and the schema
// version; no other package touches bbolt. Values are decoded inside the
// transaction that read them (bbolt's bytes are only valid there), so every
// returned value is the caller's to keep.
//
// Invariants: a *Store is safe for concurrent use by many goroutines; a file
// is held by at most one process at a time (Open fails with ErrLocked
// otherwise); every Update is all-or-nothing, including across a crash; the
// package holds no business logic — it stores what it is given, fills in
// timestamps and identifiers, and keeps the referential rules stated on each
// method (for example, a host's cache exists only while the host does).
// List results are sorted by key. Secrets are stored in the 0600 file and
// never logged.
package store
