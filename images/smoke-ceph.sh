#!/usr/bin/env bash
# smoke-ceph.sh — proves localhost/ceph:<v> can run Ceph: a one-host cluster on 127.0.0.1 made only of
# podman containers of the image, laid out and started the way cephadm does it (one container per
# daemon, --net=host, daemon data dirs bind-mounted, `--setuser ceph --setgroup ceph`, logs to stderr):
#   mon.a (ceph-mon --mkfs from a generated monmap + keyring) -> mgr.x -> osd.0 through
#   `ceph-volume raw prepare` + `ceph-volume activate --no-tmpfs` on a sparse loop device
#   (privileged container; no LVM: this kernel has no device-mapper) -> rados I/O ->
#   mds.a for a CephFS -> rgw (beast, HTTP on loopback) -> rbd-mirror + cephfs-mirror (registered in
#   the service map) -> nfs-ganesha with FSAL_CEPH exporting the CephFS
#   -> `ceph -s`, then tears everything down (containers, loop device, files).
#
# usage: images/smoke-ceph.sh [--image IMG] [--keep]
#   --keep   leave the cluster running; prints how to reach it and how to tear it down
#            (images/smoke-ceph.sh down BASE)
# env: SMOKE_OSD=1 SMOKE_MDS=1 SMOKE_RGW=1 SMOKE_MIRROR=1 SMOKE_NFS=1 (0 skips a step; all but the
#      mon and mgr need the OSD),
#      SMOKE_PORT_BASE (first free of 24000, 25000, ...: mon v2 +300, v1 +789, daemons +800..+899,
#      rgw +80, nfs +49),
#      SMOKE_DISK_SIZE=10G, ORCH_IMAGES_CACHE (for podman-ns.sh's containers.conf)
# Run as root. It re-executes itself under images/podman-ns.sh (hides the cgroup2 "unified"
# mount crun refuses; containers.conf ulimits) when that is needed. Nothing is written outside
# BASE=/var/tmp/orch-ceph-smoke.XXXXXX except the loop device (detached at the end).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SELF=smoke-ceph

if [ "${1:-}" = down ]; then
  B=${2:?usage: smoke-ceph.sh down BASE}
  [ -f "$B/smoke.env" ] || { echo "$SELF: $B is not a smoke-ceph BASE" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$B/smoke.env"
  if [ -z "${SMOKE_IN_NS:-}" ] && mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    SMOKE_IN_NS=1 exec "$HERE/podman-ns.sh" "$0" "$@"
  fi
  for n in $(podman ps -a --format '{{.Names}}' | grep "^$PREFIX-" || true); do podman rm -f -t 10 "$n" >/dev/null || true; done
  if [ -n "${LOOP:-}" ] && [ "$(losetup -n -O BACK-FILE "$LOOP" 2>/dev/null | sed 's/ *$//')" = "$B/osd-disk.img" ]; then
    losetup -d "$LOOP"
  fi
  rm -rf "$B"; echo "$SELF: removed $B"; exit 0
fi

ARGS=("$@")
IMG='' KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --image) IMG=${2:?}; shift 2;;
    --image=*) IMG=${1#*=}; shift;;
    --keep) KEEP=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) echo "$SELF: unknown argument $1" >&2; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "$SELF: run as root" >&2; exit 1; }
if [ -z "${SMOKE_IN_NS:-}" ] && { mountpoint -q /sys/fs/cgroup/unified 2>/dev/null || [ -z "${CONTAINERS_CONF:-}" ]; }; then
  SMOKE_IN_NS=1 exec "$HERE/podman-ns.sh" "$0" "${ARGS[@]}"
fi
IMG=${IMG:-localhost/ceph:$("$HERE/build-ceph-image.sh" --print-version)}
podman image exists "$IMG" || { echo "$SELF: $IMG missing: run images/build-ceph-image.sh" >&2; exit 1; }

# ports: the first base (24000, 25000, ...; below the ephemeral range 32768-60999, where other
# programs' outgoing and test sockets land) whose ports are all free, unless SMOKE_PORT_BASE is set
ports_free() {  # ports_free BASE: none of BASE+{49,80,300,789,800..899} is listening on this machine
  ss -ltnH 2>/dev/null | awk -v b="$1" '{n=split($4,a,":"); p=a[n]+0
    if (p==b+49 || p==b+80 || p==b+300 || p==b+789 || (p>=b+800 && p<=b+899)) bad=1} END{exit bad}'
}
if [ -n "${SMOKE_PORT_BASE:-}" ]; then P=$SMOKE_PORT_BASE
else for P in 24000 25000 26000 27000 28000 29000 30000 31000; do ports_free $P && break; done; fi
ports_free "$P" || { echo "$SELF: ports $P+{49,80,300,789,800-899} are in use" >&2; exit 1; }
MON_V2=$((P+300)) MON_V1=$((P+789)) MS_MIN=$((P+800)) MS_MAX=$((P+899)) RGW_PORT=$((P+80)) NFS_PORT=$((P+49))
BASE=$(mktemp -d /var/tmp/orch-ceph-smoke.XXXXXX)
PREFIX=orch-smoke-$(basename "$BASE" | cut -d. -f2 | tr '[:upper:]' '[:lower:]')
FSID=$(cat /proc/sys/kernel/random/uuid)
CUID=$(podman image inspect --format '{{index .Config.Labels "org.orchceph.ceph-uid"}}' "$IMG" 2>/dev/null || true)
case $CUID in ''|'<no value>') CUID=$(podman run --rm --pull=never --net=none "$IMG" stat -c %u /var/lib/ceph);; esac
LOOP=
echo "PREFIX=$PREFIX" >"$BASE/smoke.env"
T0=$(date +%s.%N)
step() { printf '[%6.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$*"; }
fail() { echo "$SELF: FAILED: $*" >&2; exit 1; }

cleanup() {
  local rc=$?
  if [ "$KEEP" = 1 ] && [ $rc = 0 ]; then return; fi
  if [ $rc != 0 ]; then
    echo "--- logs of the failed run" >&2
    for n in $(podman ps -a --format '{{.Names}}' | grep "^$PREFIX-" || true); do
      echo "--- $n ($(podman inspect --format 'running={{.State.Running}} exit={{.State.ExitCode}} {{.State.Error}}' "$n" 2>&1))" >&2
      podman logs --tail 15 "$n" 2>&1 | sed 's/^/    /' >&2 || true
    done
  fi
  # clients and the osd before the mon (else each waits ~5 s for it), in parallel where possible
  for d in nfs.a rgw.smoke mds.a rbd-mirror.a cephfs-mirror.a; do podman rm -f -t 10 "$PREFIX-$d" >/dev/null 2>&1 & done; wait
  podman rm -f -t 10 "$PREFIX-osd.0" >/dev/null 2>&1 || true
  for d in mgr.x mon.a; do podman rm -f -t 10 "$PREFIX-$d" >/dev/null 2>&1 & done; wait
  for n in $(podman ps -a --format '{{.Names}}' | grep "^$PREFIX-" || true); do podman rm -f -t 5 "$n" >/dev/null 2>&1 || true; done
  [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
  rm -rf "$BASE"
  [ $rc = 0 ] && step "torn down" || echo "$SELF: exit $rc" >&2
}
trap cleanup EXIT

# ---- layout (cephadm: /var/lib/ceph/<fsid>/<type>.<id>/{config,keyring}, run/log/crash dirs) ----
mkdir -p "$BASE"/{run,log,crash/posted,tmp,mon.a,mgr.x,osd.0,mds.a,rgw.smoke,nfs.a,rbd-mirror.a,cephfs-mirror.a,bootstrap-osd}
cat >"$BASE/ceph.conf" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public_network = 127.0.0.0/8
ms_bind_port_min = $MS_MIN
ms_bind_port_max = $MS_MAX
auth_allow_insecure_global_id_reclaim = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 1
osd_memory_target = 939524096
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
EOF
chmod 644 "$BASE/ceph.conf"
for d in mgr.x osd.0 mds.a rgw.smoke nfs.a rbd-mirror.a cephfs-mirror.a; do cp "$BASE/ceph.conf" "$BASE/$d/config"; done
chown -R "$CUID:$CUID" "$BASE"/{run,log,crash,mon.a,mgr.x,osd.0,mds.a,rgw.smoke,nfs.a,rbd-mirror.a,cephfs-mirror.a}

# podman run --rm of the image with the admin keyring and conf (what `cephadm shell` does)
adm() {
  podman run --rm --pull=never --net=host -v "$BASE/ceph.conf:/etc/ceph/ceph.conf:z" \
    -v "$BASE/ceph.client.admin.keyring:/etc/ceph/ceph.client.admin.keyring:z" "$IMG" "$@"
}
ceph() { adm ceph --connect-timeout 20 "$@"; }
# daemon TYPE ID [podman args...] -- [daemon args...]: one detached container per daemon, cephadm style
daemon() {
  local type=$1 id=$2; shift 2
  local pargs=() dir entry
  while [ $# -gt 0 ] && [ "$1" != -- ]; do pargs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  case $type in
    mon) entry=/usr/bin/ceph-mon; dir=/var/lib/ceph/mon/ceph-$id;;
    mgr) entry=/usr/bin/ceph-mgr; dir=/var/lib/ceph/mgr/ceph-$id;;
    osd) entry=/usr/bin/ceph-osd; dir=/var/lib/ceph/osd/ceph-$id;;
    mds) entry=/usr/bin/ceph-mds; dir=/var/lib/ceph/mds/ceph-$id;;
    rgw) entry=/usr/bin/radosgw;  dir=/var/lib/ceph/radosgw/ceph-rgw.$id;;
    rbd-mirror|cephfs-mirror) entry=/usr/bin/$type; dir=/var/lib/ceph/$type/ceph-$id
      set -- --keyring "$dir/keyring" "$@";;
  esac
  local name=$type.$id
  case $type in rgw|rbd-mirror|cephfs-mirror) name=client.$type.$id;; esac
  podman run -d --pull=never --name "$PREFIX-$type.$id" --net=host --init \
    -e CONTAINER_IMAGE="$IMG" -e NODE_NAME="$(hostname)" -e TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=134217728 \
    -v "$BASE/run:/var/run/ceph:z" -v "$BASE/log:/var/log/ceph:z" -v "$BASE/crash:/var/lib/ceph/crash:z" \
    -v "$BASE/$type.$id:$dir:z" -v "$BASE/$type.$id/config:/etc/ceph/ceph.conf:z" \
    "${pargs[@]}" --entrypoint "$entry" "$IMG" \
    -n "$name" -f --setuser ceph --setgroup ceph --default-log-to-file=false \
    --default-log-to-stderr=true --default-log-stderr-prefix="debug " "$@" >/dev/null
}
wait_for() {  # wait_for SECONDS DESCRIPTION 'SHELL CODE' [CONTAINER]: eval the code every 0.5 s until it
  local n=$(( $1 * 2 )) what=$2 c=${4:-}  # succeeds; give up early when CONTAINER has exited
  until eval "$3" >/dev/null 2>&1; do
    n=$((n-1)); [ $n -gt 0 ] || fail "timed out waiting for $what"
    if [ -n "$c" ] && [ "$(podman inspect --format '{{.State.Running}}' "$PREFIX-$c" 2>/dev/null)" != true ]; then
      fail "$c exited while waiting for $what"; fi
    sleep 0.5
  done
}

step "image $IMG (ceph uid $CUID), fsid $FSID, base $BASE"

# ---- mon: keys, monmap, mkfs, start -------------------------------------------------------
podman run --rm --pull=never --net=none -v "$BASE/tmp:/tmp/smoke:z" "$IMG" bash -euc "
  ceph-authtool --create-keyring /tmp/smoke/mon.keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring /tmp/smoke/admin.keyring --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool --create-keyring /tmp/smoke/bootstrap-osd.keyring --gen-key -n client.bootstrap-osd \
    --cap mon 'profile bootstrap-osd' --cap mgr 'allow r' >/dev/null
  ceph-authtool /tmp/smoke/mon.keyring --import-keyring /tmp/smoke/admin.keyring >/dev/null
  ceph-authtool /tmp/smoke/mon.keyring --import-keyring /tmp/smoke/bootstrap-osd.keyring >/dev/null
  monmaptool --create --fsid $FSID --addv a '[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]' /tmp/smoke/monmap >/dev/null
  chown $CUID:$CUID /tmp/smoke/mon.keyring /tmp/smoke/monmap"
install -m 600 "$BASE/tmp/admin.keyring" "$BASE/ceph.client.admin.keyring"
install -m 600 "$BASE/tmp/bootstrap-osd.keyring" "$BASE/bootstrap-osd/ceph.keyring"
podman run --rm --pull=never --net=none -v "$BASE/tmp:/tmp/smoke:z" -v "$BASE/mon.a:/var/lib/ceph/mon/ceph-a:z" \
  -v "$BASE/log:/var/log/ceph:z" --entrypoint /usr/bin/ceph-mon "$IMG" \
  --mkfs -i a --fsid "$FSID" -c /dev/null --monmap /tmp/smoke/monmap --keyring /tmp/smoke/mon.keyring \
  --setuser ceph --setgroup ceph --default-log-to-file=false --default-log-to-stderr=true >"$BASE/log/mon-mkfs.log" 2>&1 \
  || { tail -n 20 "$BASE/log/mon-mkfs.log"; fail "ceph-mon --mkfs"; }
rm -rf "$BASE/tmp"/*
cp "$BASE/ceph.conf" "$BASE/mon.a/config"   # after mkfs: it wants an empty data dir
step "mon.a mkfs done"
daemon mon a -- --default-mon-cluster-log-to-file=false --default-mon-cluster-log-to-stderr=true
wait_for 30 "mon.a leader" 'podman exec $PREFIX-mon.a ceph --admin-daemon /var/run/ceph/ceph-mon.a.asok mon_status | grep -q "\"state\": \"leader\""' mon.a
step "mon.a is leader"
wait_for 30 "ceph mon stat" 'ceph mon stat' mon.a
step "ceph CLI in the image reaches the mon: $(ceph mon stat)"

# ---- mgr ------------------------------------------------------------------------------------
ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' >"$BASE/mgr.x/keyring"
# enabling a module later respawns the mgr (~5-10 s): enable what cephfs-mirror needs up front
[ "${SMOKE_MIRROR:-1}" = 1 ] && ceph mgr module enable mirroring --force >/dev/null 2>&1
chown "$CUID:$CUID" "$BASE/mgr.x/keyring"; chmod 600 "$BASE/mgr.x/keyring"
daemon mgr x
wait_for 60 "mgr available" 'ceph mgr stat -f json | grep -q "\"available\":true"' mgr.x
step "mgr.x available"

# ---- osd.0: ceph-volume raw on a loop device, then activate into the data dir -----------------
if [ "${SMOKE_OSD:-1}" = 1 ]; then
  truncate -s "${SMOKE_DISK_SIZE:-10G}" "$BASE/osd-disk.img"
  LOOP=$(losetup -f --show "$BASE/osd-disk.img"); echo "LOOP=$LOOP" >>"$BASE/smoke.env"
  step "loop device $LOOP (${SMOKE_DISK_SIZE:-10G} sparse)"
  # cephadm also binds /run/udev (udev's device database); this machine runs no udevd, so there may be none
  UDEV=(); [ -d /run/udev ] && UDEV=(-v /run/udev:/run/udev)
  CV=(podman run --rm --pull=never --net=host --privileged -e CEPH_VOLUME_ALLOW_LOOP_DEVICES=1
      -e CEPH_VOLUME_SKIP_RESTORECON=yes -e CEPH_VOLUME_DEBUG=1
      -v /dev:/dev -v /sys:/sys "${UDEV[@]}"
      -v "$BASE/run:/var/run/ceph:z" -v "$BASE/log:/var/log/ceph:z" -v "$BASE/crash:/var/lib/ceph/crash:z"
      -v "$BASE/ceph.conf:/etc/ceph/ceph.conf:z"
      -v "$BASE/bootstrap-osd/ceph.keyring:/var/lib/ceph/bootstrap-osd/ceph.keyring:z"
      --entrypoint /usr/sbin/ceph-volume "$IMG")
  inv=$("${CV[@]}" inventory --format json "$LOOP")
  echo "$inv" | grep -q '"available": true' || fail "ceph-volume inventory: $LOOP not available: $inv"
  step "ceph-volume inventory: $LOOP available"
  # ceph-volume 16.2.15 scans every block device of the machine and can die with
  # "UnboundLocalError: ... 'device_slaves'" (upstream bug; also in 18.x) when it meets a partition
  # whose parent loop device another process is detaching at that moment: retry that error only
  for try in 1 2 3; do
    "${CV[@]}" raw prepare --bluestore --data "$LOOP" >"$BASE/log/cv-prepare.log" 2>&1 && break
    grep -q "device_slaves" "$BASE/log/cv-prepare.log" && [ $try -lt 3 ] && { step "ceph-volume hit the device_slaves bug; retrying"; sleep 1; continue; }
    tail -n 25 "$BASE/log/cv-prepare.log"; fail "ceph-volume raw prepare"
  done
  listing=$("${CV[@]}" raw list --format json)
  OSD_UUID=$(echo "$listing" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print([v["osd_uuid"] for v in d.values() if v["osd_id"]==0][0])')
  step "ceph-volume raw prepare: osd.0 uuid $OSD_UUID"
  # what cephadm's OSD pre-start does: fill the host data dir from the bluestore label
  "${CV[@]::${#CV[@]}-3}" -v "$BASE/osd.0:/var/lib/ceph/osd/ceph-0:z" --entrypoint /usr/sbin/ceph-volume "$IMG" \
    activate --osd-id 0 --osd-uuid "$OSD_UUID" --no-systemd --no-tmpfs >"$BASE/log/cv-activate.log" 2>&1 \
    || { tail -n 25 "$BASE/log/cv-activate.log"; fail "ceph-volume activate"; }
  cp "$BASE/ceph.conf" "$BASE/osd.0/config"
  step "ceph-volume activate: $(ls "$BASE/osd.0" | tr '\n' ' ')"
  daemon osd 0 --privileged -v /dev:/dev "${UDEV[@]}"
  wait_for 60 "osd.0 up" 'ceph osd dump | grep -q "^osd.0 up"' osd.0
  step "osd.0 up"
  ceph osd pool create smoke 8 >/dev/null 2>&1
  ceph osd pool application enable smoke rados >/dev/null 2>&1
  adm bash -c 'echo hello-from-orch >/tmp/o && rados -p smoke put obj1 /tmp/o && rados -p smoke get obj1 - ' | grep -q hello-from-orch \
    || fail "rados put/get"
  step "rados put/get on pool smoke ok"
fi

# ---- mds for a CephFS ------------------------------------------------------------------------
if [ "${SMOKE_OSD:-1}" = 1 ] && [ "${SMOKE_MDS:-1}" = 1 ]; then
  ceph osd pool create cephfs.smokefs.meta 8 >/dev/null 2>&1
  ceph osd pool create cephfs.smokefs.data 8 >/dev/null 2>&1
  ceph fs new smokefs cephfs.smokefs.meta cephfs.smokefs.data >/dev/null 2>&1
  ceph auth get-or-create mds.a mon 'allow profile mds' osd 'allow rw tag cephfs *=*' mds 'allow' mgr 'allow profile mds' >"$BASE/mds.a/keyring"
  chown "$CUID:$CUID" "$BASE/mds.a/keyring"; chmod 600 "$BASE/mds.a/keyring"
  daemon mds a
  wait_for 60 "mds.a active" 'ceph fs status smokefs | grep -q active' mds.a
  step "mds.a active for smokefs"
fi

# ---- rgw ---------------------------------------------------------------------------------------
if [ "${SMOKE_OSD:-1}" = 1 ] && [ "${SMOKE_RGW:-1}" = 1 ]; then
  ceph auth get-or-create client.rgw.smoke mon 'allow *' mgr 'allow rw' osd 'allow rwx tag rgw *=*' >"$BASE/rgw.smoke/keyring"
  chown "$CUID:$CUID" "$BASE/rgw.smoke/keyring"; chmod 600 "$BASE/rgw.smoke/keyring"
  daemon rgw smoke -- --rgw-frontends "beast endpoint=127.0.0.1:$RGW_PORT"
  wait_for 90 "rgw HTTP on 127.0.0.1:$RGW_PORT" 'curl -sf -m 2 "http://127.0.0.1:$RGW_PORT/"' rgw.smoke
  step "rgw answers: $(curl -s -m 2 "http://127.0.0.1:$RGW_PORT/" | head -c 120)..."
fi

# ---- rbd-mirror and cephfs-mirror: start, register in the service map ---------------------------
if [ "${SMOKE_OSD:-1}" = 1 ] && [ "${SMOKE_MIRROR:-1}" = 1 ]; then
  ceph auth get-or-create client.rbd-mirror.a mon 'profile rbd-mirror' osd 'profile rbd' >"$BASE/rbd-mirror.a/keyring"
  ceph auth get-or-create client.cephfs-mirror.a mon 'profile cephfs-mirror' mds 'allow r' \
    osd 'allow rw tag cephfs metadata=*, allow r tag cephfs data=*' mgr 'allow r' >"$BASE/cephfs-mirror.a/keyring"
  for d in rbd-mirror.a cephfs-mirror.a; do chown "$CUID:$CUID" "$BASE/$d/keyring"; chmod 600 "$BASE/$d/keyring"; done
  daemon rbd-mirror a
  daemon cephfs-mirror a
  wait_for 60 "rbd-mirror in the service map" 'ceph service dump -f json | grep -q "\"rbd-mirror\""' rbd-mirror.a
  wait_for 60 "cephfs-mirror in the service map" 'ceph service dump -f json | grep -q "\"cephfs-mirror\""' cephfs-mirror.a
  step "rbd-mirror.a and cephfs-mirror.a registered in the service map"
fi

# ---- nfs-ganesha with the Ceph FSAL, exporting the CephFS --------------------------------------
if [ "${SMOKE_OSD:-1}" = 1 ] && [ "${SMOKE_MDS:-1}" = 1 ] && [ "${SMOKE_NFS:-1}" = 1 ]; then
  if podman run --rm --pull=never --net=none "$IMG" bash -c "ls /usr/lib/*/ganesha/libfsalceph.so" >/dev/null 2>&1; then
    ceph auth get-or-create client.nfs.a mon 'allow r' osd 'allow rw pool=cephfs.smokefs.data' mds 'allow rw path=/' >"$BASE/nfs.a/keyring"
    chown "$CUID:$CUID" "$BASE/nfs.a/keyring"; chmod 600 "$BASE/nfs.a/keyring"
    cat >"$BASE/nfs.a/ganesha.conf" <<EOF
NFS_CORE_PARAM { Enable_NLM = false; Enable_RQUOTA = false; Protocols = 4; NFS_Port = $NFS_PORT; Bind_addr = 127.0.0.1; }
NFSv4 { Delegations = false; RecoveryBackend = "fs"; Minor_Versions = 1, 2; }
EXPORT {
  Export_Id = 1; Path = "/"; Pseudo = "/smokefs"; Access_Type = RW; Squash = None; Protocols = 4; Transports = TCP;
  FSAL { Name = CEPH; User_Id = "nfs.a"; Filesystem = "smokefs"; }
}
CEPH { Ceph_Conf = /etc/ceph/ceph.conf; }
EOF
    printf '\n[client.nfs.a]\nkeyring = /etc/ceph/keyring\n' >>"$BASE/nfs.a/config"
    podman run -d --pull=never --name "$PREFIX-nfs.a" --net=host --init \
      -v "$BASE/nfs.a/config:/etc/ceph/ceph.conf:z" -v "$BASE/nfs.a/keyring:/etc/ceph/keyring:z" \
      -v "$BASE/nfs.a/ganesha.conf:/etc/ganesha/ganesha.conf:z" --entrypoint /usr/bin/ganesha.nfsd "$IMG" \
      -F -L STDERR -N NIV_EVENT -f /etc/ganesha/ganesha.conf >/dev/null
    wait_for 30 "ganesha on 127.0.0.1:$NFS_PORT" '(exec 3<>"/dev/tcp/127.0.0.1/$NFS_PORT")' nfs.a
    # FSAL_CEPH mounts the file system when the export is created: its session shows on the mds
    wait_for 30 "ganesha's CephFS session" 'ceph tell mds.a session ls 2>/dev/null | grep -q "\"entity_id\": \"nfs.a\""' nfs.a
    step "nfs-ganesha listening on 127.0.0.1:$NFS_PORT; its FSAL_CEPH export /smokefs holds a CephFS session as client.nfs.a"
  else
    step "nfs: skipped (no FSAL_CEPH in $IMG)"
  fi
fi

# ---- result ------------------------------------------------------------------------------------
sleep 2
ceph -s | tee "$BASE/ceph-status.txt"
health=$(ceph health)
case $health in HEALTH_ERR*) fail "health: $health";; esac
step "ceph health: $health"
if [ "$KEEP" = 1 ]; then
  cat <<EOF
kept running (containers $PREFIX-*). From a podman-ns.sh session:
  podman run --rm --net=host -v $BASE/ceph.conf:/etc/ceph/ceph.conf -v $BASE/ceph.client.admin.keyring:/etc/ceph/ceph.client.admin.keyring $IMG ceph -s
tear down: $HERE/smoke-ceph.sh down $BASE
EOF
fi
