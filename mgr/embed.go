// Package mgr embeds orch's ceph-mgr orchestrator module (orch_mgr/, in
// Python) and its installer, so that `orch mgr-module install` can put the
// module where ceph-mgr loads it from the orch binary alone.
//
// Invariant: data only; the Python module is the source of truth.
package mgr

import "embed"

// Files holds install.sh and orch_mgr/*.py.
//
//go:embed install.sh orch_mgr/*.py
var Files embed.FS
