// Package agent is the host side of orch: the logic behind the hidden
// `orch agent ...` subcommands that the controller runs over SSH on every
// managed host, reading their JSON from stdout as cephadm reads its host
// binary's output.
//
// It answers five questions about the host it runs on: is it fit to be a
// Ceph host (CheckHost), what is it (GatherFacts), which networks can it
// reach (ListNetworks), which disks does it have and which of them could
// become OSDs (Inventory), and it acts on disks (Light, DiskRescan).
//
// Every read of the environment goes through a Host: file-system reads are
// resolved under Host.Root (so unit tests point it at a fixture tree under
// testdata/), commands run through the Runner interface as argv (never a
// shell string), and programs are looked up along Host.Path. The zero
// value of every field means "the real machine". The package is safe for
// concurrent use as long as the injected functions are.
//
// Output shapes follow cephadm (gather-facts, list-networks, check-host)
// and ceph-volume (inventory --format json) so that the controller and the
// ceph-mgr module can treat orch's answers and Ceph's interchangeably.
package agent
