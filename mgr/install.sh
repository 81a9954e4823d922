#!/bin/bash
# install.sh -- install orch's ceph-mgr orchestrator module, enable it and make
# it the `ceph orch` backend.  Idempotent: run it again after upgrading orch or
# the ceph-mgr package (it refreshes the module farm and restarts the mgr only
# when something changed).  docs/mgr-module.md describes every step.
#
# usage: install.sh [options]
#   --api-url URL          controller API: unix:///path/orch.sock (default unix:///run/orch/orch.sock)
#                          or https://host:port (then --client-cert/--client-key, usually --ca-cert)
#   --client-cert FILE     --client-key FILE   --ca-cert FILE   --tls-server-name NAME
#   --timeout SECONDS      per-request timeout of the module (default: module default, 60)
#   --farm DIR             mgr_module_path to create (default /usr/local/share/orch/mgr-modules)
#   --stock-dir DIR        Ceph's own module dir (default /usr/share/ceph/mgr)
#   --mgr-id ID            mgr daemon(s) to point at the farm (repeatable; default: every
#                          /var/lib/ceph/mgr/$CLUSTER-ID on this host; "all" = every mgr)
#   --name NAME            module name (default orch)
#   --no-restart           never restart the mgr (new code loads at its next start)
#   --no-wait              do not wait for `ceph orch status` to answer through the module
#   --uninstall            undo all of the above
# env: CEPH_CONF (the ceph CLI's conf), CLUSTER (default ceph), CEPH_BIN (default ceph)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$HERE/orch_mgr
NAME=orch
API_URL=unix:///run/orch/orch.sock
CLIENT_CERT='' CLIENT_KEY='' CA_CERT='' TLS_SERVER_NAME='' TIMEOUT=''
FARM=/usr/local/share/orch/mgr-modules
STOCK=/usr/share/ceph/mgr
MGR_IDS=()
RESTART=1 WAIT=1 UNINSTALL=0
CLUSTER=${CLUSTER:-ceph}
CEPH_BIN=${CEPH_BIN:-ceph}
PY=/usr/bin/python3   # the mgr's python, never a pyenv/venv one

log() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
c() { timeout "${CEPH_CLI_TIMEOUT:-30}" "$CEPH_BIN" --connect-timeout 10 "$@"; }
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --api-url) need_arg "$@"; API_URL=$2; shift 2 ;;
    --client-cert) need_arg "$@"; CLIENT_CERT=$2; shift 2 ;;
    --client-key) need_arg "$@"; CLIENT_KEY=$2; shift 2 ;;
    --ca-cert) need_arg "$@"; CA_CERT=$2; shift 2 ;;
    --tls-server-name) need_arg "$@"; TLS_SERVER_NAME=$2; shift 2 ;;
    --timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
    --farm) need_arg "$@"; FARM=$2; shift 2 ;;
    --stock-dir) need_arg "$@"; STOCK=$2; shift 2 ;;
    --mgr-id) need_arg "$@"; MGR_IDS+=("$2"); shift 2 ;;
    --name) need_arg "$@"; NAME=$2; shift 2 ;;
    --no-restart) RESTART=0; shift ;;
    --no-wait) WAIT=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

[[ $NAME =~ ^[a-z][a-z0-9_]*$ ]] || die "--name must be a Python identifier in lower case"
case "$FARM" in /*) ;; *) die "--farm must be an absolute path" ;; esac
FARM=${FARM%/}

# mgr daemons whose mgr_module_path is set: config sections mgr.<id> (or "mgr")
sections() {
  local ids=("${MGR_IDS[@]}")
  if [ ${#ids[@]} -eq 0 ]; then
    for d in /var/lib/ceph/mgr/"$CLUSTER"-*; do
      [ -d "$d" ] && ids+=("${d##*/"$CLUSTER"-}")
    done
  fi
  [ ${#ids[@]} -gt 0 ] || die "no mgr found under /var/lib/ceph/mgr/$CLUSTER-*: pass --mgr-id ID (or --mgr-id all)"
  for id in "${ids[@]}"; do
    if [ "$id" = all ]; then echo mgr; else echo "mgr.$id"; fi
  done
}

json_get() { # json_get <python expression over d> : reads JSON on stdin
  "$PY" -c 'import json,sys; d=json.load(sys.stdin); v='"$1"'; print("" if v is None else v)'
}

module_state() { # prints enabled|available|missing|broken:<error>
  c mgr module ls -f json | NAME=$NAME "$PY" -c '
import json, os, sys
d = json.load(sys.stdin); n = os.environ["NAME"]
if n in d.get("enabled_modules", []) or n in d.get("always_on_modules", []):
    print("enabled"); sys.exit()
for m in d.get("disabled_modules", []):
    if m.get("name") == n:
        print("available" if m.get("can_run", True) else "broken:" + m.get("error_string", "")); sys.exit()
print("missing")'
}

active_mgr() { c mgr stat -f json | json_get 'd.get("active_name")'; }

restart_active_mgr() {
  local active; active=$(active_mgr)
  [ -n "$active" ] || { log "no active mgr to restart"; return; }
  log "restarting the active mgr ($active) so that it loads the module: ceph mgr fail $active"
  c mgr fail "$active"
}

wait_for_backend() {
  local end=$(( $(date +%s) + ${WAIT_TIMEOUT:-120} )) out state
  log "waiting for \`ceph orch status\` to answer through module $NAME"
  while :; do
    if out=$(c orch status -f json 2>/dev/null) && grep -q "\"backend\": \"$NAME\"" <<<"$out"; then
      break
    fi
    state=$(module_state 2>/dev/null || true)
    case "$state" in broken:*) die "ceph-mgr cannot load module $NAME: ${state#broken:}" ;; esac
    [ "$(date +%s)" -lt "$end" ] || die "timed out waiting for the mgr to use module $NAME (module state: ${state:-unknown}); see the mgr log"
    sleep 1
  done
  c orch status
}

check_key_file() {
  local f=$1 mode
  [ -r "$f" ] || die "cannot read $f"
  mode=$(stat -c %a "$f")
  # the module refuses a key that others can access; say so now
  (( (8#$mode & 8#007) == 0 )) || die "$f is accessible by other users (mode $mode): chmod 0600 (or 0640, group ceph)"
}

files_digest() { # digest of the module's .py files in dir $1 (empty if none)
  [ -d "$1" ] || return 0
  (cd "$1" && find . -maxdepth 1 -name '*.py' -type f | LC_ALL=C sort | xargs -r sha256sum) | sha256sum | cut -d' ' -f1
}

install_files() { # sets CODE_CHANGED
  [ -f "$SRC/__init__.py" ] && [ -f "$SRC/module.py" ] || die "module source not found in $SRC"
  [ -f "$STOCK/mgr_module.py" ] && [ -d "$STOCK/orchestrator" ] || \
    die "$STOCK has no mgr_module.py/orchestrator: install ceph-mgr, or pass --stock-dir"
  [ ! -e "$STOCK/$NAME" ] || die "$STOCK already has a module named $NAME"
  install -d -m 0755 "$FARM"
  local new="$FARM/.$NAME.new.$$" before after
  before=$(files_digest "$FARM/$NAME")
  rm -rf "$new"; install -d -m 0755 "$new"
  install -m 0644 "$SRC"/*.py "$new/"
  after=$(files_digest "$new")
  if [ "$before" = "$after" ] && [ ! -L "$FARM/$NAME" ]; then
    rm -rf "$new"; CODE_CHANGED=0; log "module code in $FARM/$NAME is up to date"
  else
    rm -rf "${FARM:?}/${NAME:?}"; mv "$new" "$FARM/$NAME"; CODE_CHANGED=1; log "installed module code in $FARM/$NAME"
  fi
  # the farm: every stock module (and mgr_module.py, mgr_util.py) by symlink,
  # plus our module; stale links from an older ceph-mgr are dropped
  local e n=0
  for e in "$STOCK"/*; do
    [ "$(readlink "$FARM/${e##*/}" 2>/dev/null)" = "$e" ] || { ln -sfn "$e" "$FARM/${e##*/}"; n=$((n+1)); }
  done
  for e in "$FARM"/*; do
    if [ -L "$e" ] && [ ! -e "$e" ]; then rm -f "$e"; n=$((n+1)); fi
  done
  log "module farm $FARM: $(find "$FARM" -maxdepth 1 -type l | wc -l) stock entries linked ($n changed)"
  [ "$n" = 0 ] || CODE_CHANGED=1
}

set_opt() { # set_opt <who> <key> <value>: only when different (no config churn)
  local cur
  cur=$(c config get "$1" "$2" 2>/dev/null || true)
  if [ "$cur" != "$3" ]; then
    c config set "$1" "$2" "$3" --force >/dev/null
    log "config set $1 $2 $3"
    return 0
  fi
  return 1
}

do_install() {
  command -v "$CEPH_BIN" >/dev/null || die "$CEPH_BIN not found (install ceph-common)"
  c mon stat >/dev/null || die "cannot reach the cluster with \`$CEPH_BIN\` (CEPH_CONF=${CEPH_CONF:-/etc/ceph/ceph.conf})"
  case "$API_URL" in
    unix:///*) ;;
    https://*) [ -n "$CLIENT_CERT" ] && [ -n "$CLIENT_KEY" ] || die "--api-url https://... needs --client-cert and --client-key" ;;
    *) die "--api-url must be unix:///path/to/orch.sock or https://host:port" ;;
  esac
  [ -z "$CLIENT_KEY" ] || check_key_file "$CLIENT_KEY"
  local f
  for f in "$CLIENT_CERT" "$CA_CERT"; do [ -z "$f" ] || [ -r "$f" ] || die "cannot read $f"; done

  CODE_CHANGED=0
  install_files

  # 1. ceph-mgr scans one mgr_module_path at start (16.2.x): point the mgrs at the farm
  local PATH_CHANGED=0 s
  for s in $(sections); do
    if set_opt "$s" mgr_module_path "$FARM"; then PATH_CHANGED=1; fi
  done

  # 2. module options (runtime: read on every call, no restart)
  set_opt mgr "mgr/$NAME/api_url" "$API_URL" || true
  [ -z "$CLIENT_CERT" ] || set_opt mgr "mgr/$NAME/client_cert" "$CLIENT_CERT" || true
  [ -z "$CLIENT_KEY" ] || set_opt mgr "mgr/$NAME/client_key" "$CLIENT_KEY" || true
  [ -z "$CA_CERT" ] || set_opt mgr "mgr/$NAME/ca_cert" "$CA_CERT" || true
  [ -z "$TLS_SERVER_NAME" ] || set_opt mgr "mgr/$NAME/tls_server_name" "$TLS_SERVER_NAME" || true
  [ -z "$TIMEOUT" ] || set_opt mgr "mgr/$NAME/timeout" "$TIMEOUT" || true

  # 3. the stock orchestrator module only accepts cephadm|rook|test_orchestrator
  #    (enum_allowed): `ceph orch set backend orch` is refused by the mon and
  #    still exits 0.  --force skips the enum check.
  set_opt mgr mgr/orchestrator/orchestrator "$NAME" || true

  # 4. enable (this makes the active mgr respawn, which loads the new path and code)
  local state; state=$(module_state)
  case "$state" in
    enabled)
      if [ "$CODE_CHANGED$PATH_CHANGED" != 00 ]; then
        if [ "$RESTART" = 1 ]; then restart_active_mgr; else log "--no-restart: the new code loads at the mgr's next start"; fi
      fi ;;
    *)
      c mgr module enable "$NAME" --force   # --force: no mgr has reported the module yet
      log "enabled module $NAME (the active mgr respawns to load it)" ;;
  esac
  [ "$WAIT" = 0 ] || wait_for_backend
  log "done: \`ceph orch ...\` is served by orch at $API_URL"
}

do_uninstall() {
  command -v "$CEPH_BIN" >/dev/null || die "$CEPH_BIN not found"
  c mon stat >/dev/null || die "cannot reach the cluster"
  if [ "$(c config get mgr mgr/orchestrator/orchestrator 2>/dev/null || true)" = "$NAME" ]; then
    c config rm mgr mgr/orchestrator/orchestrator; log "backend unset"
  fi
  local k s
  for k in api_url client_cert client_key ca_cert tls_server_name timeout strict_decoding; do
    c config rm mgr "mgr/$NAME/$k" >/dev/null 2>&1 || true
  done
  for s in $(sections); do
    if [ "$(c config get "$s" mgr_module_path 2>/dev/null || true)" = "$FARM" ]; then
      c config rm "$s" mgr_module_path; log "config rm $s mgr_module_path"
    fi
  done
  if [ "$(module_state)" = enabled ]; then
    c mgr module disable "$NAME"; log "disabled module $NAME (the active mgr respawns)"
  fi
  if [ -d "$FARM" ]; then
    find "$FARM" -maxdepth 1 -type l -delete
    rm -rf "${FARM:?}/$NAME" "$FARM/.$NAME.new."*
    rmdir "$FARM" 2>/dev/null || log "$FARM not empty, kept"
  fi
  log "uninstalled"
}

if [ "$UNINSTALL" = 1 ]; then do_uninstall; else do_install; fi
