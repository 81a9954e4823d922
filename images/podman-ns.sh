#!/usr/bin/env bash
# podman-ns.sh CMD [ARGS...] — runs CMD (usually podman, or a script that calls podman) the way
# podman works on the test machine (shared/reference/test-hosts.md §2):
#   * in a private mount namespace without /sys/fs/cgroup/unified (crun refuses the cgroup v1/v2
#     hybrid mode: "cgroups in hybrid mode not supported, drop all controllers from cgroupv2");
#   * with CONTAINERS_CONF pointing at a containers.conf with default_ulimits nofile=20000:20000
#     nproc=32768:32768 (no CAP_SYS_RESOURCE), cgroup_manager=cgroupfs, events_logger=file —
#     unless CONTAINERS_CONF is already set or /etc/containers/containers.conf sets default_ulimits.
# Containers started with -d keep the namespace alive; stop and remove them from a podman-ns.sh
# session too (a session in another mount namespace does not see their rootfs mounts).
# Inside netns-hosts.sh/hostlab test hosts none of this is needed: they have their own cgroup view.
set -euo pipefail
[ $# -gt 0 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
CACHE=${ORCH_IMAGES_CACHE:-/var/cache/orch-images}
if [ -z "${CONTAINERS_CONF:-}" ] && ! grep -qs '^[[:space:]]*default_ulimits' /etc/containers/containers.conf; then
  mkdir -p "$CACHE"
  conf=$CACHE/containers.conf
  want='[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"'
  if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then printf '%s\n' "$want" >"$conf.$$"; mv "$conf.$$" "$conf"; fi
  export CONTAINERS_CONF=$conf
fi
if ! mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then exec "$@"; fi
exec unshare -m --propagation private -- sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' podman-ns "$@"
