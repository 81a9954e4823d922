// Package plan computes what applying service specs would do to a cluster,
// without touching it: `orch plan` and `orch apply --dry-run`.
//
// It reads a cluster snapshot (hosts, daemons, device inventory, host
// networks, rank maps and applied specs, in the JSON shapes of `orch host
// ls`, `orch ps` and `orch device ls`), turns each spec into a scheduler
// request with the per-service-type facts cephadm's service classes supply
// (ports, colocation, ranked nfs, ingress's haproxy + keepalived), places
// it with package scheduler, selects OSD devices with package inventory,
// and renders the result as JSON or as cephadm's preview tables.
//
// Invariant: the package is pure. It reads bytes it is given, writes to
// the io.Writer it is given, and keeps no state; identical inputs give
// identical output.
package plan
