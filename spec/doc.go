// Package spec is orch's data model for cephadm-compatible service specs:
// ServiceSpec, PlacementSpec, HostSpec and DriveGroupSpec, with cephadm's
// parsing, validation and canonical output.
//
// Invariant: spec is a leaf package. It performs no I/O, keeps no global
// mutable state and logs nothing; errors carry cephadm's exact messages.
package spec
