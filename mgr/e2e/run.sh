#!/bin/bash
# mgr/e2e/run.sh -- end-to-end test of orch's ceph-mgr module (`make e2e-mgr`).
#
# Starts a real ceph-mon + ceph-mgr (Debian's 16.2.x packages, installed when
# missing) on 127.0.0.1 without systemd, `orch serve` built from this repo on
# a private socket and store (plus a TCP mTLS listener), installs the module
# with mgr/install.sh, and checks real `ceph orch ...` commands, plain and
# --format json, including the error paths.  With a lab host (`orch lab up`)
# it adds, relabels, re-addresses and removes a real sshd host.
#
# Checks whose controller route does not exist yet ("This Orchestrator does
# not support ...") count as PENDING, not failed.  Exit status: 0 when no
# check failed.  Last line: `e2e-mgr: N passed, M failed`.
#
# env: BASE=/var/tmp/orch-e2e-mgr  KEEP=1 (keep BASE and the lab afterwards)
#      ORCH_BIN=<prebuilt orch>  WITH_LAB=1|0  LAB_PREFIX=orchmgre2e
#      MON_V2_PORT=41300 MON_V1_PORT=41789 PORT_MIN=41800 PORT_MAX=41899 TLS_PORT=41990
#      SKIP_APT=1 (fail instead of installing packages)  VERBOSE=1 (print every output)
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BASE=${BASE:-/var/tmp/orch-e2e-mgr}
KEEP=${KEEP:-0}
WITH_LAB=${WITH_LAB:-1}
LAB_PREFIX=${LAB_PREFIX:-orchmgre2e}
MON_V2_PORT=${MON_V2_PORT:-41300}
MON_V1_PORT=${MON_V1_PORT:-41789}
PORT_MIN=${PORT_MIN:-41800}
PORT_MAX=${PORT_MAX:-41899}
TLS_PORT=${TLS_PORT:-41990}
VERBOSE=${VERBOSE:-0}
PY=/usr/bin/python3            # the mgr embeds the system python3; never a pyenv shim
SOCK=$BASE/run/orch.sock
export CEPH_CONF=$BASE/ceph.conf
T0=$(date +%s%N)

ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
log() { printf '[%7.1fs] %s\n' "$(( $(date +%s%N) - T0 ))e-9" "$*"; }
die() { log "FATAL: $*"; exit 1; }
c() { timeout 60 ceph --connect-timeout 10 "$@"; }
orch() { "$ORCH" --socket "$SOCK" "$@"; }

PASS=0 FAIL=0 PEND=0
FAILED=() PENDING=()

# ------------------------------------------------------------------ processes

alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

start_bg() { # start_bg NAME CMD...: own session, pid in $BASE/pids/NAME.pid
  local name=$1; shift
  setsid "$@" >"$BASE/log/$name.out" 2>&1 </dev/null &
  echo $! >"$BASE/pids/$name.pid"
}

stop_one() { # stop_one NAME: TERM, then KILL after 10 s; only if its cmdline names BASE
  local f=$BASE/pids/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if [ -d "/proc/$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$BASE"; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

cleanup() {
  local rc=$?
  set +e
  if [ -d "$BASE/pids" ]; then
    for n in orch-serve mgr.x mon.a; do stop_one "$n"; done
  fi
  if [ "$KEEP" != 1 ]; then
    [ -n "${LAB_UP:-}" ] && "$ORCH" lab down --prefix "$LAB_PREFIX" >/dev/null 2>&1
    rm -rf "$BASE"
  else
    log "KEEP=1: kept $BASE${LAB_UP:+ and lab $LAB_PREFIX} (processes stopped)"
  fi
  exit $rc
}

# ------------------------------------------------------------------ checks

# run ARGS...: runs `ceph ARGS`, sets OUT, ERR, RC
run() {
  OUT=$(c "$@" 2>"$BASE/stderr"); RC=$?; ERR=$(cat "$BASE/stderr")
  CMD="ceph $*"
}

show() { # the command behind the last check, once
  [ -n "${CMD:-}" ] || return 0
  printf '    $ %s  -> rc=%s\n' "$CMD" "$RC"
  [ -z "$OUT" ] || printf '%s\n' "$OUT" | head -"${LINES_SHOWN:-12}" | cut -c1-300 | sed 's/^/      /'
  [ -z "$ERR" ] || printf '%s\n' "$ERR" | head -5 | cut -c1-300 | sed 's/^/      stderr: /'
  CMD=
}

ok() { PASS=$((PASS+1)); echo "PASS  $1"; [ "$VERBOSE" != 1 ] || show; CMD=; return 0; }
bad() { FAIL=$((FAIL+1)); FAILED+=("$1"); echo "FAIL  $1: $2"; show; return 1; }
pending() { PEND=$((PEND+1)); PENDING+=("$1"); echo "PEND  $1: $2"; CMD=; return 0; }

# not_supported: the controller (or module) lacks the route: the CLI says so cleanly
not_supported() { [ "$RC" = 2 ] && grep -q 'This Orchestrator does not support' <<<"$ERR"; }

# check NAME RC [grep-pattern-on-stdout] [python-assertion-on-json-stdout]
# also fails on any Python traceback in the CLI's output
check() {
  local name=$1 rc=$2 pat=${3:-} pyexpr=${4:-}
  if grep -q 'Traceback' <<<"$OUT$ERR"; then bad "$name" "Python traceback in the output"; return 1; fi
  if not_supported; then pending "$name" "controller route missing (${ERR#Error ENOENT: })"; return 0; fi
  [ "$RC" = "$rc" ] || { bad "$name" "exit status $RC, want $rc"; return 1; }
  if [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$OUT"; then bad "$name" "stdout does not match /$pat/"; return 1; fi
  if [ -n "$pyexpr" ]; then
    local why
    if ! why=$(J="$OUT" "$PY" -c '
import json, os, sys
d = json.loads(os.environ["J"])
ok = eval(sys.argv[1])
sys.exit(0 if ok else 1)' "$pyexpr" 2>&1); then bad "$name" "JSON check failed: $pyexpr ${why:+($why)}"; return 1; fi
  fi
  ok "$name"
}

# check_err NAME RC "exact stderr"
check_err() {
  local name=$1 rc=$2 want=$3
  if grep -q 'Traceback' <<<"$OUT$ERR"; then bad "$name" "Python traceback in the output"; return 1; fi
  [ "$RC" = "$rc" ] || { bad "$name" "exit status $RC, want $rc"; return 1; }
  [ -z "$OUT" ] || { bad "$name" "stdout should be empty"; return 1; }
  [ "$ERR" = "$want" ] || { bad "$name" "stderr is '$ERR', want '$want'"; return 1; }
  ok "$name"
}

# same_error NAME RC ORCH-ARGS... -- the module must report exactly what orch's own CLI does
same_error() {
  local name=$1 rc=$2; shift 2
  local want orc
  want=$(orch "$@" 2>&1 >/dev/null); orc=$?
  [ "$orc" = "$rc" ] || { bad "$name" "orch CLI itself exited $orc, want $rc ($want)"; return 1; }
  check_err "$name" "$rc" "$want"
}

wait_for() { # wait_for SECONDS WHAT CMD...
  local to=$1 what=$2; shift 2
  local end=$(( $(date +%s) + to ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timeout (${to}s) waiting for: $what"
    sleep 0.2
  done
  log "ready: $what"
}

# ------------------------------------------------------------------ setup

setup_packages() {
  local missing="" p
  for p in ceph-mon ceph-mgr ceph-common; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && { log "packages present: ceph-mon ceph-mgr ceph-common $(dpkg-query -W -f='${Version}' ceph-mgr)"; return; }
  [ "${SKIP_APT:-0}" = 1 ] && die "missing packages:$missing (SKIP_APT=1)"
  log "apt-get install$missing"
  apt-get -o DPkg::Lock::Timeout=600 update -qq >"$BASE/log/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    $missing >>"$BASE/log/apt.log" 2>&1 || { tail -20 "$BASE/log/apt.log"; die "apt-get install failed"; }
  log "packages installed"
}

setup_orch() {
  if [ -n "${ORCH_BIN:-}" ]; then ORCH=$ORCH_BIN; log "orch binary: $ORCH"; return; fi
  ORCH=$BASE/bin/orch
  (cd "$REPO" && CGO_ENABLED=0 go build -o "$ORCH" ./cmd/orch) >"$BASE/log/build.log" 2>&1 || {
    cat "$BASE/log/build.log"; die "go build ./cmd/orch failed (the tree may be mid-change; retry, or set ORCH_BIN)"; }
  log "built $ORCH"
}

setup_tls() { # CA, controller certificate (127.0.0.1) and the mgr's client certificate
  local d=$BASE/tls
  mkdir -p "$d"; chmod 0700 "$d"
  (
    cd "$d" || exit 1
    umask 077
    gen() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1"; }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=e2e-ca
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=other-ca
    gen server; printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext
    gen mgr; printf 'extendedKeyUsage=clientAuth\n' >mgr.ext
    openssl x509 -req -in mgr.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out mgr.crt -days 2 -extfile mgr.ext
  ) >"$BASE/log/tls.log" 2>&1 || { cat "$BASE/log/tls.log"; die "openssl failed"; }
}

write_conf() {
  FSID=$("$PY" -c 'import uuid; print(uuid.uuid4())')
  cat >"$BASE/ceph.conf" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]
public_network = 127.0.0.0/8
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
run_dir = $BASE/run
admin_socket = $BASE/run/\$cluster-\$name.asok
log_file = $BASE/log/\$cluster-\$name.log
pid_file = $BASE/run/\$cluster-\$name.pid
crash_dir = $BASE/crash
mon_cluster_log_file = $BASE/log/\$cluster.cluster-and-audit.log
ms_bind_port_min = $PORT_MIN
ms_bind_port_max = $PORT_MAX
mon_data_avail_warn = 1
[client]
keyring = $BASE/\$cluster.\$name.keyring
[mon]
mon_data = $BASE/mon/\$cluster-\$id
[mgr]
mgr_data = $BASE/mgr/\$cluster-\$id
EOF
}

start_cluster() {
  write_conf
  ceph-authtool --create-keyring "$BASE/ceph.mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$BASE/ceph.client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$BASE/ceph.mon.keyring" --import-keyring "$BASE/ceph.client.admin.keyring" >/dev/null
  monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]" \
    "$BASE/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$BASE/monmap" --keyring "$BASE/ceph.mon.keyring" -c "$BASE/ceph.conf" \
    || die "ceph-mon --mkfs"
  start_bg mon.a ceph-mon -f -c "$BASE/ceph.conf" -i a
  wait_for 60 "mon leader" sh -c "ceph --admin-daemon '$BASE/run/ceph-mon.a.asok' mon_status 2>/dev/null | grep -q '\"state\": \"leader\"'"
  wait_for 60 "mon answers" c mon stat
  mkdir -p "$BASE/mgr/ceph-x"
  c auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' >"$BASE/mgr/ceph-x/keyring"
  start_bg mgr.x ceph-mgr -f -c "$BASE/ceph.conf" -i x
  wait_for 120 "mgr available" sh -c "ceph mgr stat -f json | grep -q '\"available\":true'"
  wait_for 60 "orchestrator CLI loaded" sh -c "ceph orch status 2>&1 | grep -q 'No orchestrator configured'"
}

start_controller() {
  start_bg orch-serve "$ORCH" serve --socket "$SOCK" --store "$BASE/orch.db" \
    --listen "127.0.0.1:$TLS_PORT" --tls-cert "$BASE/tls/server.crt" --tls-key "$BASE/tls/server.key" \
    --tls-client-ca "$BASE/tls/ca.crt" --log-level info
  wait_for 30 "orch serve" orch status
}

# ------------------------------------------------------------------ test groups

t_status() {
  run orch status
  check "orch status (no SSH key): Available: No" 0 '^Available: No \(SSH keys not set'
  run orch status --format json
  check "orch status --format json (no SSH key)" 0 '' \
    'd["available"] is False and d["backend"] == "orch" and d["reason"].startswith("SSH keys not set")'
  orch ssh generate-key >/dev/null || bad "orch ssh generate-key" "failed"
  run orch status
  check "orch status: Available: Yes" 0 '^Backend: orch$'
  grep -qx 'Available: Yes' <<<"$OUT" && grep -qx 'Paused: No' <<<"$OUT" || bad "orch status lines" "want Available: Yes / Paused: No"
  run orch status --detail
  check "orch status --detail: Host Parallelism" 0 '^Host Parallelism: [0-9]+$'
  run orch status --format json
  check "orch status --format json" 0 '' \
    'd["available"] is True and d["backend"] == "orch" and d["paused"] is False and "reason" not in d'
}

t_hosts_empty() {
  run orch host ls
  check "host ls (no hosts)" 0 '^0 hosts in cluster$'
  run orch host ls --format json
  check "host ls --format json (no hosts)" 0 '' 'd == []'
}

t_host_errors() {
  run orch host add bad_host 10.0.0.1
  same_error "host add bad_host: EINVAL with the controller's message" 22 host add bad_host 10.0.0.1
  run orch host add node-x 10.0.0.1 --labels='bad label'
  check_err "host add with an invalid label: EINVAL" 22 "$(orch host add node-x 10.0.0.1 --labels 'bad label' 2>&1 >/dev/null)"
  run orch host rm nosuch
  same_error "host rm nosuch: ENOENT" 2 host rm nosuch
  run orch host label rm nosuch foo
  same_error "host label rm on an unknown host: ENOENT" 2 host label rm nosuch foo
  run orch host label add nosuch foo
  same_error "host label add on an unknown host: ENOENT" 2 host label add nosuch foo
  run orch host set-addr nosuch 10.0.0.7
  same_error "host set-addr on an unknown host: ENOENT" 2 host set-addr nosuch 10.0.0.7
  run orch upgrade status
  check_err "unimplemented verb: ENOENT does not support" 2 'Error ENOENT: This Orchestrator does not support `orch upgrade status`'
  run orch host maintenance enter nosuch
  check_err "host maintenance: ENOENT does not support" 2 'Error ENOENT: This Orchestrator does not support `orch host maintenance enter`'
}

t_invalid_spec() {
  printf 'service_type: rgw\nplacement:\n  count: 1\n' >"$BASE/bad-rgw.yaml"
  run orch apply -i "$BASE/bad-rgw.yaml"
  check_err "apply -i invalid spec: EINVAL with cephadm's message" 22 'Error EINVAL: Cannot add Service: id required'
  printf 'service_type: mon\nservice_id: x\n' >"$BASE/bad-mon.yaml"
  # ceph's own loader (python-common) silently drops a service_id on a
  # type that takes none, as cephadm does: the apply succeeds as plain mon.
  run orch apply -i "$BASE/bad-mon.yaml"
  check "apply -i mon with a service_id: the id is dropped (cephadm)" 0 'Scheduled mon update'
  run orch ls mon --export --format json
  check "the stored mon spec has no service_id" 0 '' "d and all('service_id' not in s for s in d)"
}

lab_up() {
  [ "$WITH_LAB" = 1 ] || { pending "lab host tests" "WITH_LAB=0"; return 1; }
  orch ssh get-pub-key >"$BASE/cluster.pub" || { bad "orch ssh get-pub-key" "failed"; return 1; }
  "$ORCH" lab down --prefix "$LAB_PREFIX" >/dev/null 2>&1
  local t out
  t=$(ms)
  if ! out=$("$ORCH" lab up 1 --prefix "$LAB_PREFIX" --disks 1 --disk-size 6G \
        --authorize-key "$BASE/cluster.pub" 2>"$BASE/log/lab.err"); then
    pending "lab host tests" "orch lab up failed: $(tail -3 "$BASE/log/lab.err" | tr '\n' ' ')"
    return 1
  fi
  LAB_UP=1
  read -r H1 A1 <<<"$(head -1 <<<"$out")"
  log "lab host $H1 $A1 up in $(( $(ms) - t )) ms"
}

t_lab_hosts() {
  run orch host add "$H1"
  check_err "host add without an address (lab names do not resolve): EINVAL" 22 \
    "$(orch host add "$H1" 2>&1 >/dev/null)"
  run orch host add "$H1" "$A1" --labels=e2e,foo
  check "host add $H1 $A1 --labels=e2e,foo" 0 "^Added host '$H1' with addr '$A1'$"
  grep -qE "^Pinned host key of $H1 on first use: SHA256:" <<<"$OUT" || bad "host add prints the pinned key" "missing"
  run orch host ls
  check "host ls shows $H1" 0 "^$H1 +$A1 +e2e foo"
  grep -qx '1 hosts in cluster' <<<"$OUT" || bad "host ls count line" "want '1 hosts in cluster'"
  run orch host ls --format json
  check "host ls --format json" 0 '' \
    "d == [{'hostname': '$H1', 'addr': '$A1', 'labels': ['e2e', 'foo'], 'status': ''}]"
  run orch host ls --format yaml
  check "host ls --format yaml" 0 "^hostname: $H1$"
  run orch host ls --label foo
  check "host ls --label foo (CLI-side filter)" 0 '^1 hosts in cluster who had label foo$'
  run orch host ls --label nope
  check "host ls --label nope" 0 '^0 hosts in cluster who had label nope$'
  run orch host label add "$H1" bar
  check "host label add" 0 "^Added label bar to host $H1$"
  run orch host label rm "$H1" foo
  check "host label rm" 0 "^Removed label foo from host $H1$"
  run orch host label rm "$H1" foo
  check_err "host label rm of a missing label: ENOENT" 2 "$(orch host label rm "$H1" foo 2>&1 >/dev/null)"
  run orch host label add "$H1" 'bad;label'
  check_err "host label add with an invalid label: EINVAL" 22 "$(orch host label add "$H1" 'bad;label' 2>&1 >/dev/null)"
  run orch host ls --format json
  check "labels after add/rm (json)" 0 '' "d[0]['labels'] == ['e2e', 'bar']"
  run orch host set-addr "$H1" "$A1"
  check "host set-addr (checked over SSH)" 0 "^Updated host '$H1' addr to '$A1'$"
  run orch host set-addr "$H1" 'not an addr'
  check_err "host set-addr with an invalid address: EINVAL" 22 "$(orch host set-addr "$H1" 'not an addr' 2>&1 >/dev/null)"
  run orch host add "$H1" "$A1" --labels=e2e,bar
  check "host add again (idempotent)" 0 "^Added host '$H1' with addr '$A1'$"
  local mine
  mine=$(orch host ls --format json 2>/dev/null)
  run orch host ls --format json
  [ "$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]) == json.loads(sys.argv[2]))' "$OUT" "$mine")" = True ] \
    && ok "ceph orch host ls == orch host ls (json)" || bad "ceph orch host ls == orch host ls (json)" "differ: $mine"
}

# Services, daemons, devices: they need the controller's service routes.
t_services() {
  local host=${H1:-}
  cat >"$BASE/specs.yaml" <<EOF
service_type: container
service_id: e2e
placement:
  hosts: [${host:-none}]
spec:
  image: localhost/bbox:latest
  entrypoint: /bin/sleep
extra_entrypoint_args: ["3600"]
---
service_type: crash
unmanaged: true
placement:
  host_pattern: '*'
EOF
  run orch apply -i "$BASE/specs.yaml" --dry-run
  check "apply -i (2 docs) --dry-run: SERVICESPEC PREVIEWS" 0 'SERVICESPEC PREVIEWS'
  run orch apply -i "$BASE/specs.yaml" --dry-run --format json
  check "apply -i --dry-run --format json" 0 '' \
    "sorted(i['service_name'] for i in d if 'service_name' in i) == ['container.e2e', 'crash']"
  run orch apply mon --placement="${host:-none}" --dry-run
  check "apply mon --dry-run" 0 'mon'
  run orch apply mgr --unmanaged
  check "apply mgr --unmanaged" 0 'mgr'
  run orch apply -i "$BASE/specs.yaml"
  check "apply -i (2 docs)" 0 'container.e2e'
  run orch ls
  check "orch ls" 0 '^NAME +PORTS +RUNNING +REFRESHED +AGE +PLACEMENT'
  run orch ls --format json
  check "orch ls --format json" 0 '' \
    "{'container.e2e', 'crash', 'mgr'} <= {s['service_name'] for s in d} and all('status' in s for s in d)"
  run orch ls container --format json
  check "orch ls TYPE filter" 0 '' "[s['service_name'] for s in d] == ['container.e2e']"
  run orch ls --service_name crash --format json
  check "orch ls --service_name crash" 0 '' "[s['service_name'] for s in d] == ['crash']"
  run orch ls --export
  check "orch ls --export (YAML that apply -i accepts)" 0 '^service_type: '
  run orch ls mgr --format json
  check "orch ls: mgr is unmanaged" 0 '' "d[0].get('unmanaged') is True"
  run orch apply osd --all-available-devices --dry-run
  check "apply osd --all-available-devices --dry-run" 0 'OSDSPEC PREVIEWS'

  # daemons of container.e2e: wait for the controller to deploy one
  local end=$(( $(date +%s) + 120 )) name=''
  while [ "$(date +%s)" -lt "$end" ]; do
    run orch ps --service_name container.e2e --format json
    if not_supported; then break; fi
    name=$(J="$OUT" "$PY" -c 'import json,os
d=json.loads(os.environ["J"] or "[]")
print(next((x.get("daemon_name") or x["daemon_type"]+"."+x["daemon_id"] for x in d if x.get("status")==1), ""))' 2>/dev/null)
    [ -n "$name" ] && break
    sleep 2
  done
  run orch ps
  check "orch ps" 0 '^NAME +HOST +PORTS +STATUS'
  run orch ps --format json
  check "orch ps --format json" 0 '' "isinstance(d, list)"
  if [ -z "$name" ] && ! not_supported; then
    bad "container.e2e daemon running" "none after 120 s"
  elif [ -n "$name" ]; then
    local dtype=${name%%.*} did=${name#*.}
    run orch ps "$host" --format json
    check "orch ps HOST filter" 0 '' "d and all(x['hostname'] == '$host' for x in d)"
    run orch ps --daemon_type "$dtype" --format json
    check "orch ps --daemon_type" 0 '' "d and all(x['daemon_type'] == '$dtype' for x in d)"
    run orch ps --daemon_type "$dtype" --daemon_id "$did" --format json
    check "orch ps --daemon_id" 0 '' "len(d) == 1 and d[0]['daemon_id'] == '$did'"
    run orch ps --service_name container.e2e --format json
    check "orch ps --service_name" 0 '' "d and all(x.get('service_name', 'container.e2e') == 'container.e2e' for x in d)"
    run orch daemon restart "$name"
    check "orch daemon restart $name" 0 "$name"
    run orch restart container.e2e
    check "orch restart SERVICE" 0 ''
  fi
  run orch daemon restart nosuch.daemon
  check "orch daemon restart unknown: ENOENT" 2
  run orch device ls
  check "orch device ls" 0 '^HOST +PATH +TYPE'
  run orch device ls "${host:-none}" --format json
  check "orch device ls HOST --format json" 0 '' "all(h['name'] == '${host:-none}' for h in d)"
  run orch device ls --wide
  check "orch device ls --wide" 0 '^HOST +PATH +TYPE +TRANSPORT'
  run orch osd rm status
  check "orch osd rm status" 0 ''
  run orch rm container.e2e
  check "orch rm container.e2e" 0 ''
  run orch rm nosuch.service
  check "orch rm unknown service: ENOENT" 2
}

t_tls() {
  c config set mgr mgr/orch/client_cert "$BASE/tls/mgr.crt"
  c config set mgr mgr/orch/client_key "$BASE/tls/mgr.key"
  c config set mgr mgr/orch/ca_cert "$BASE/tls/ca.crt"
  c config set mgr mgr/orch/api_url "https://127.0.0.1:$TLS_PORT"
  run orch status --format json
  check "TCP + mutual TLS: orch status" 0 '' 'd["available"] is True'
  run orch host ls --format json
  check "TCP + mutual TLS: host ls --format json" 0 '' 'isinstance(d, list)'
  c config set mgr mgr/orch/ca_cert "$BASE/tls/other.crt"
  run orch status
  check "TLS with an untrusted controller certificate: Available: No" 0 '^Available: No \(TLS with the orch controller at https://127.0.0.1:[0-9]+ failed: .*certificate verify failed'
  run orch host ls
  check "TLS with an untrusted controller certificate: host ls EHOSTUNREACH" 113
  c config set mgr mgr/orch/api_url "unix://$SOCK"
  c config rm mgr mgr/orch/ca_cert
  run orch status --format json
  check "back on the unix socket" 0 '' 'd["available"] is True'
}

t_controller_down() {
  stop_one orch-serve
  run orch status
  check "controller stopped: orch status says Available: No" 0 \
    "^Available: No \\(orch controller unreachable at unix://$SOCK: (No such file or directory|Connection refused)\\)$"
  run orch status --format json
  check "controller stopped: orch status --format json" 0 '' \
    "d['available'] is False and d['reason'].startswith('orch controller unreachable')"
  run orch host ls
  check_err "controller stopped: host ls EHOSTUNREACH" 113 \
    "Error EHOSTUNREACH: orch controller unreachable at unix://$SOCK: $(grep -oE '(No such file or directory|Connection refused)' <<<"$ERR" || echo '?')"
  run orch host add somehost 10.0.0.5
  check "controller stopped: host add EHOSTUNREACH" 113
  run orch ls
  check "controller stopped: orch ls EHOSTUNREACH" 113
  start_controller
  run orch host ls --format json
  if [ -n "${H1:-}" ]; then
    check "controller restarted: hosts persisted" 0 '' "[h['hostname'] for h in d] == ['$H1']"
  else
    check "controller restarted: host ls" 0 '' 'd == []'
  fi
}

t_lab_rm() {
  run orch host rm "$H1"
  check "host rm $H1" 0 "^Removed host '$H1'$"
  run orch host ls --format json
  check "host ls after rm" 0 '' 'd == []'
}

t_install_lifecycle() {
  local inst=("$REPO/mgr/install.sh" --farm "$BASE/mgr-modules" --mgr-id x --api-url "unix://$SOCK") t rc
  # changed code (an upgrade of orch) -> reinstalled, the active mgr restarted
  echo '# local edit' >>"$BASE/mgr-modules/orch/module.py"
  t=$(ms)
  "${inst[@]}" >"$BASE/log/install3.log" 2>&1; rc=$?
  OUT=$(cat "$BASE/log/install3.log") ERR='' RC=$rc CMD="mgr/install.sh (changed code)"
  check "install.sh after a code change: reinstalls and restarts the mgr ($(( $(ms) - t )) ms)" 0 \
    'restarting the active mgr \(x\)'
  grep -q '# local edit' "$BASE/mgr-modules/orch/module.py" && bad "installed code replaced" "the local edit is still there"
  run orch status
  check "after the restart: Available: Yes" 0 '^Available: Yes$'
  # uninstall -> the stock module path, no backend
  t=$(ms)
  "${inst[@]}" --uninstall >"$BASE/log/uninstall.log" 2>&1; rc=$?
  OUT=$(cat "$BASE/log/uninstall.log") ERR='' RC=$rc CMD="mgr/install.sh --uninstall"
  check "install.sh --uninstall" 0 'uninstalled'
  wait_for 60 "mgr back without the module" sh -c "ceph orch status 2>&1 | grep -q 'No orchestrator configured'"
  log "uninstall + mgr respawn: $(( $(ms) - t )) ms"
  run orch status
  check_err "after uninstall: no orchestrator configured" 2 'Error ENOENT: No orchestrator configured (try `ceph orch set backend`)'
  run config get mgr.x mgr_module_path
  check "after uninstall: mgr_module_path is the default again" 0 '^/usr/share/ceph/mgr$'
  [ ! -e "$BASE/mgr-modules" ] && ok "after uninstall: module farm removed" || bad "module farm removed" "$BASE/mgr-modules remains"
}

# ------------------------------------------------------------------ main

main() {
  if [ -d "$BASE" ]; then  # a previous run left state: stop its processes first
    log "cleaning up a previous run in $BASE"
    for n in orch-serve mgr.x mon.a; do stop_one "$n"; done
    rm -rf "$BASE"
  fi
  mkdir -p "$BASE"/{run,log,mon,mgr,pids,crash,bin}
  ORCH=${ORCH_BIN:-$BASE/bin/orch}
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  log "BASE=$BASE"
  local t t_pkgs t_build t_cluster t_install t_checks0 t_end irc
  setup_packages; t_pkgs=$(ms)
  setup_orch; t_build=$(ms)
  setup_tls
  start_cluster; t_cluster=$(ms)
  log "ceph $(ceph --version | awk '{print $3}'): mon + mgr up"

  start_controller
  run orch status
  check_err "before install: no orchestrator configured" 2 'Error ENOENT: No orchestrator configured (try `ceph orch set backend`)'

  t=$(ms)
  # The first install goes through the orch binary (embedded module and
  # installer); the re-installs below use the script from the tree.
  "$ORCH" mgr-module install --farm "$BASE/mgr-modules" --mgr-id x --api-url "unix://$SOCK" >"$BASE/log/install.log" 2>&1
  irc=$?; t_install=$(( $(ms) - t ))
  sed 's/^/    /' "$BASE/log/install.log"
  [ $irc = 0 ] || die "orch mgr-module install failed (rc $irc)"
  log "orch mgr-module install (module farm, enable, select backend, mgr respawn, ready): ${t_install} ms"
  t=$(ms)
  "$REPO/mgr/install.sh" --farm "$BASE/mgr-modules" --mgr-id x --api-url "unix://$SOCK" >"$BASE/log/install2.log" 2>&1
  irc=$?
  if [ $irc = 0 ] && grep -q 'up to date' "$BASE/log/install2.log" && ! grep -q 'restarting' "$BASE/log/install2.log"; then
    PASS=$((PASS+1)); echo "PASS  install.sh again: nothing changed, no restart ($(( $(ms) - t )) ms)"
  else
    FAIL=$((FAIL+1)); FAILED+=("install.sh idempotent"); echo "FAIL  install.sh again"; cat "$BASE/log/install2.log"
  fi
  run mgr module ls -f json
  check "module enabled, can_run" 0 '' "'orch' in d['enabled_modules']"

  t_checks0=$(ms)
  t_status
  t_hosts_empty
  t_host_errors
  t_invalid_spec
  if lab_up; then
    t_lab_hosts
    t_services
  else
    t_services
  fi
  t_tls
  t_controller_down
  [ -n "${LAB_UP:-}" ] && t_lab_rm
  t_install_lifecycle

  t_end=$(ms)
  echo
  log "timings: packages $((t_pkgs))ms, build $((t_build - t_pkgs))ms, mon+mgr $((t_cluster - t_build))ms, install.sh ${t_install}ms, checks $((t_end - t_checks0))ms, total ${t_end}ms"
  if [ $PEND -gt 0 ]; then
    echo "$PEND pending (controller routes not there yet, or no lab):"
    printf '  - %s\n' "${PENDING[@]}"
  fi
  if [ $FAIL -gt 0 ]; then
    echo "failed:"
    printf '  - %s\n' "${FAILED[@]}"
  fi
  echo "e2e-mgr: $PASS passed, $FAIL failed"
  [ $FAIL = 0 ]
}

main "$@"
