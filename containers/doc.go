// Package containers renders how a daemon runs on a host: cephadm's names
// (ceph-<fsid>-<type>-<id>), data-dir layout (/var/lib/ceph/<fsid>/<name>),
// the podman run argv with its mounts, environment, host networking,
// --init and extra container/entrypoint arguments, and the systemd unit
// files and unit.run / unit.stop scripts that wrap it.
//
// Invariant: pure. Nothing here touches the filesystem, runs a command or
// reads a clock; the host agent executes what this package renders, and
// golden files pin the output (go test ./containers -update rewrites them).
package containers
