#!/usr/bin/env bash
# verify.sh — builds both images (cached), times a second build, and checks that they work:
#   localhost/ceph:<v>: ceph/ceph-mon/ceph-mgr/ceph-osd/ceph-mds/radosgw/rbd-mirror/cephfs-mirror
#   --version print <v>, ceph-volume --help and inventory run, ganesha.nfsd runs, ceph uid is the
#   label's; localhost/orch-testapp: `podman run -d -p 127.0.0.1:PORT:8080` answers GET / with JSON
#   (in a private network namespace, so netavark's bridge and firewall rules never touch the
#   machine's own network), and `podman stop` ends it with exit code 0 on SIGTERM.
# usage: images/verify.sh [--smoke]     --smoke also runs images/smoke-ceph.sh (about 50 s)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${VERIFY_IN_NS:-}" ]; then VERIFY_IN_NS=1 exec "$HERE/podman-ns.sh" "$0" "$@"; fi
fails=0
ok() { printf 'ok    %s\n' "$*"; }
bad() { printf 'FAIL  %s\n' "$*"; fails=$((fails+1)); }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

t=$(date +%s%N); CEPH=$("$HERE/build-ceph-image.sh" -q); ok "build-ceph-image.sh -> $CEPH ($(ms "$t") ms)"
t=$(date +%s%N); "$HERE/build-ceph-image.sh" -q >/dev/null; ok "second build-ceph-image.sh: $(ms "$t") ms"
t=$(date +%s%N); APP=$("$HERE/build-testapp-image.sh" -q); ok "build-testapp-image.sh -> $APP ($(ms "$t") ms)"
t=$(date +%s%N); "$HERE/build-testapp-image.sh" -q >/dev/null; ok "second build-testapp-image.sh: $(ms "$t") ms"
V=${CEPH##*:}

run() { podman run --rm --pull=never --net=none "$CEPH" "$@" 2>&1; }
for b in ceph ceph-mon ceph-mgr ceph-osd ceph-mds radosgw rbd-mirror cephfs-mirror; do
  out=$(run "$b" --version | head -1)
  case $out in "ceph version $V "*) ok "$b --version: $out";; *) bad "$b --version: $out";; esac
done
out=$(run ceph-volume --help | head -1); case $out in usage:*) ok "ceph-volume --help";; *) bad "ceph-volume --help: $out";; esac
out=$(run ceph-volume inventory --format json | tail -1); case $out in '['*) ok "ceph-volume inventory --format json: $out";; *) bad "ceph-volume inventory: $out";; esac
out=$(run ganesha.nfsd -v | head -1); case $out in *Release*) ok "ganesha.nfsd -v: $out";; *) bad "ganesha.nfsd -v: $out";; esac
run bash -c "ls /usr/lib/*/ganesha/libfsalceph.so" >/dev/null && ok "FSAL_CEPH present" || bad "FSAL_CEPH missing"
uid=$(run stat -c %u:%g /var/lib/ceph); want=$(podman image inspect --format '{{index .Config.Labels "org.orchceph.ceph-uid"}}' "$CEPH")
[ "$uid" = "$want:$want" ] && ok "/var/lib/ceph owned by $uid" || bad "/var/lib/ceph owned by $uid, label says $want"
lbl=$(podman image inspect --format '{{index .Config.Labels "io.ceph.version"}} {{index .Config.Labels "ceph"}}' "$CEPH")
[ "$lbl" = "$V True" ] && ok "labels io.ceph.version=$V ceph=True" || bad "labels: $lbl"

# testapp: publish a port through netavark's bridge, inside a throwaway network namespace
out=$(unshare -n bash -c '
  ip link set lo up
  podman run -d --pull=never --name orch-testapp-verify-$$ -p 127.0.0.1:18080:8080 -e TESTAPP_NAME=verify "$0" >/dev/null
  for i in $(seq 50); do curl -sf -m 2 http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.1; done
  curl -sS -m 5 http://127.0.0.1:18080/ | tr -d "\n "
  echo
  t=$(date +%s%N); podman stop -t 10 orch-testapp-verify-$$ >/dev/null; echo "stop_ms=$(( ($(date +%s%N)-t)/1000000 ))"
  podman inspect --format "exit={{.State.ExitCode}}" orch-testapp-verify-$$
  podman rm orch-testapp-verify-$$ >/dev/null' "$APP" 2>&1)
case $out in *'"status":"ok"'*'"name":"verify"'*) ok "testapp answers: $(echo "$out" | head -1 | cut -c1-100)...";; *) bad "testapp: $out";; esac
case $out in *exit=0*) ok "testapp: podman stop -> $(echo "$out" | grep -o 'stop_ms=[0-9]*'), exit code 0";; *) bad "testapp stop: $out";; esac

if [ "${1:-}" = --smoke ]; then
  "$HERE/smoke-ceph.sh" && ok "smoke-ceph.sh" || bad "smoke-ceph.sh"
fi
echo "verify: $fails failed"
[ "$fails" = 0 ]
