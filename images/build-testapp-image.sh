#!/usr/bin/env bash
# build-testapp-image.sh — builds localhost/orch-testapp:latest, a tiny image for orch's `container`
# (custom container) service tests: one static Go HTTP server (source: images/testapp, its own Go
# module) imported with `podman import` from a tarball, without any registry. Cached: a second run
# with unchanged source is instant.
#
# usage: images/build-testapp-image.sh [--force] [--save FILE] [--save-format F] [--store DIR]
#                                      [--cache DIR] [--quiet]
#   (options as in build-ceph-image.sh)
# stdout: the image reference (localhost/orch-testapp:latest); progress goes to stderr.
# The container: ENTRYPOINT ["/testapp"]; listens on 8080 (--port N / TESTAPP_PORT / PORT);
# GET / answers JSON {"status":"ok","hostname":...}; exits 0 on SIGTERM. See testapp/main.go.
# needs: go (CGO_ENABLED=0 build, no network: the module has no dependencies), podman.
set -euo pipefail
SELF=build-testapp-image
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

RECIPE_REV=1
IMAGE=${ORCH_TESTAPP_IMAGE:-localhost/orch-testapp:latest}
FORCE=0 SAVE='' SAVE_FORMAT=docker-archive STORE=''
while [ $# -gt 0 ]; do
  case $1 in
    --force) FORCE=1; shift;;
    --save) SAVE=${2:?--save needs a file}; shift 2;;
    --save=*) SAVE=${1#*=}; shift;;
    --save-format) SAVE_FORMAT=${2:?}; shift 2;;
    --save-format=*) SAVE_FORMAT=${1#*=}; shift;;
    --store) STORE=${2:?}; shift 2;;
    --store=*) STORE=${1#*=}; shift;;
    --cache) ORCH_IMAGES_CACHE=${2:?}; shift 2;;
    --cache=*) ORCH_IMAGES_CACHE=${1#*=}; shift;;
    --quiet|-q) QUIET=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) die "unknown argument $1 (see --help)";;
  esac
done
case $SAVE_FORMAT in docker-archive|oci-archive) ;; *) die "--save-format: docker-archive or oci-archive";; esac
set_store "$STORE"
GO=${GO:-go}
command -v "$GO" >/dev/null || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; } || die "go not found"
export GOTOOLCHAIN=local GOWORK=off GOFLAGS='' CGO_ENABLED=0

CHANGES=(
  --change 'ENTRYPOINT ["/testapp"]'
  --change 'ENV PATH=/'
  --change 'EXPOSE 8080/tcp'
  --change 'STOPSIGNAL SIGTERM'
  --change 'LABEL org.opencontainers.image.title=orch-testapp'
  --change 'LABEL org.opencontainers.image.description=static Go HTTP server for orch custom container tests'
)
KEY=$( { echo "rev=$RECIPE_REV image=$IMAGE"; "$GO" env GOVERSION GOARCH; printf '%s\n' "${CHANGES[@]}";
         cat "$HERE/testapp/go.mod" "$HERE/testapp/main.go"; } | sha256sum | cut -c1-32)
C=$ORCH_IMAGES_CACHE/testapp
finish() {
  if [ -n "$SAVE" ]; then save_archive "$IMAGE" "$KEY" orch-testapp "$SAVE_FORMAT" "$SAVE"; fi
  echo "$IMAGE"
}
uptodate() { [ "$FORCE" = 0 ] && [ "$(image_label "$IMAGE" org.orchceph.build-key)" = "$KEY" ] \
             && grep -qx "key=$KEY" "$C/stamp" 2>/dev/null; }
if uptodate; then log "$IMAGE is up to date (key $KEY)"; finish; exit 0; fi
lock testapp
if uptodate; then log "$IMAGE was built by a concurrent run"; finish; exit 0; fi

T0=$(now)
mkdir -p "$C"
R=$C/rootfs
rm -rf "$R"; mkdir -p "$R/etc" "$R/tmp" "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/var/tmp"
chmod 1777 "$R/tmp" "$R/var/tmp"
(cd "$HERE/testapp" && "$GO" build -trimpath -ldflags='-s -w' -o "$R/testapp" .)
printf 'root:x:0:0:root:/:/testapp\nnobody:x:65534:65534:nobody:/:/testapp\n' >"$R/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$R/etc/group"
: >"$R/etc/hosts"; : >"$R/etc/resolv.conf"; : >"$R/etc/hostname"
tar --numeric-owner --owner=0 --group=0 -C "$R" -cf "$C/rootfs.tar" .
old_id=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
pm import --quiet "${CHANGES[@]}" --change "LABEL org.orchceph.build-key=$KEY" \
  --message "orch images/build-testapp-image.sh" "$C/rootfs.tar" "$IMAGE" >/dev/null
new_id=$(pm image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then pm rmi "$old_id" >/dev/null 2>&1 || true; fi
rm -rf "$R" "$C/rootfs.tar"
{ echo "key=$KEY"; echo "image=$IMAGE"; } >"$C/stamp"
drop_stale_archives orch-testapp "$KEY" "$FORCE"
log "built $IMAGE ($(pm image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}')) in $(since "$T0")"
finish
