// Package sshexec runs commands and copies files on cluster hosts over SSH.
// It is orch's only way to reach a host.
//
// A Pool keeps one persistent, keepalive-checked connection per host (hosts
// are known by name through a Target), dials with a deadline that covers the
// TCP connect and the whole SSH handshake, and reconnects with backoff. Run
// executes an argv, quoted once with Quote, bounded by a per-operation
// timeout that is enforced locally and on the remote side (coreutils
// timeout). FanOut runs a function on many hosts with a concurrency limit;
// a failed host is a result, never a failure of the batch.
//
// Invariants: host keys are always verified (a pinned key, a known_hosts
// file, or an explicit trust-on-first-use scan that returns the key for the
// caller to pin); commands are argv, never shell strings built from input;
// a Pool is safe for concurrent use and owns every goroutine it starts
// (Close waits for them). Private keys are never logged.
package sshexec
