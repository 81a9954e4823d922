// Package inventory models host inventories — ceph-volume's per-device
// reports and `orch device ls` host entries — and implements cephadm's
// drive-group device selection: which devices of a host an OSD spec takes
// as data, WAL, DB and journal devices.
//
// The selection reproduces python-common's DriveSelection, FilterGenerator
// and matchers (ceph/deployment/drive_selection) including their quirks:
// substring model/vendor filters, the size filter grammar and its decimal
// units, the limit checked before matching, roles assigned data → wal →
// db → journal, the recursive key lookup, and errors that surface only
// when a filter is first applied. README.md in this directory lists them.
//
// Invariant: the package is pure. It performs no I/O, keeps no mutable
// package state, never logs, and gives the same answer for the same input;
// every walk over a map is in sorted key order and every JSON object keeps
// its document order.
package inventory
