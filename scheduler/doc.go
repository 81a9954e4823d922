// Package scheduler decides where the daemons of a service run, with the
// semantics of cephadm's HostAssignment (src/pybind/mgr/cephadm/schedule.py).
//
// Given the hosts of a cluster (with labels and status), the unreachable and
// draining hosts, the host networks, and one service's placement request
// (placement spec, ports, networks, colocation rules, existing daemons and
// stored rank map), Place returns a Plan: every slot the service should
// have, the slots to add, the daemons to remove, the updated rank map and,
// on request, the reason each host was not used.
//
// Invariant: the package is pure. It performs no I/O, reads no clock, logs
// nothing and uses no global randomness; the only randomness is cephadm's
// shuffle seeded from the service name, reproduced bit for bit (see
// README.md). Identical inputs give identical plans. A Cluster is immutable
// once built and safe for concurrent use by many Place calls.
package scheduler
