// Package orchestrator is orch's controller logic: host management with
// pinned SSH host keys, the cluster SSH identity, and (as it grows) the
// reconciler that turns specs into daemons. It is the one package that
// wires the store, the scheduler and the SSH executor together.
//
// Invariant: safe for concurrent use by API handlers; desired state lives
// in the store, never only in memory; secrets never reach a log.
package orchestrator
