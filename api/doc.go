// Package api is orch's REST API: the HTTP server that `orch serve` exposes
// on a unix socket (mode 0600) and optionally on TCP with mutual TLS, and
// the client the CLI and tests use. JSON bodies use cephadm's to_json
// shapes so that the ceph-mgr module can pass them through unchanged.
//
// Errors cross the wire as {"error": "<message>", "errno": N,
// "errno_name": "EXXX"} (the shape ceph-mgr orchestrator modules read)
// with a matching HTTP status; the client turns them back into *Error,
// which carries the errno the CLI exits with.
//
// Invariant: handlers never block on SSH; the backend answers reads from
// the store and records intent for writes.
package api
