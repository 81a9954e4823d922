#!/usr/bin/env bash
# make demo: build orch, start lab hosts, run a controller, add the hosts
# with pinned SSH host keys, and show what orch does. Everything it starts
# keeps running so you can explore; `make demo-down` removes it all.
set -euo pipefail
cd "$(dirname "$0")/.."
ORCH=${ORCH:-$PWD/bin/orch}
STATE=${ORCH_DEMO_STATE:-/var/tmp/orch-demo}
SOCK=$STATE/orch.sock
export ORCH_SOCKET=$SOCK
HOSTS=${ORCH_DEMO_HOSTS:-3}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; STEP_START=$(date +%s.%N); }
took() { printf '   (%.1f s)\n' "$(echo "$(date +%s.%N) - $STEP_START" | bc)"; }
run() { printf '$ orch %s\n' "$*"; "$ORCH" "$@"; }

if [ "$(id -u)" != 0 ]; then echo "demo: run as root (lab hosts use network namespaces)" >&2; exit 1; fi
command -v bc >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq bc >/dev/null

if [ -S "$SOCK" ] || "$ORCH" lab status --prefix orchdemo >/dev/null 2>&1; then
  echo "demo: a previous demo is still up; removing it first"
  "$(dirname "$0")/demo-down.sh"
fi
mkdir -p "$STATE"; chmod 700 "$STATE"

step "Lint cephadm spec files exactly as cephadm reads them"
run spec validate --service-type mon --placement "3"
run spec validate --service-type rgw --service-id myrealm.myzone --placement "2 label:rgw" --format yaml
took

step "Start the controller (orch serve)"
"$ORCH" serve --store "$STATE/orch.db" --socket "$SOCK" --log-level info >"$STATE/serve.log" 2>&1 &
echo $! >"$STATE/serve.pid"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
run status
run ssh generate-key
"$ORCH" ssh get-pub-key >"$STATE/cluster.pub"
took

step "Start $HOSTS lab hosts (real sshd + podman in network namespaces, 2 loop disks each)"
"$ORCH" lab up "$HOSTS" --prefix orchdemo --state "$STATE/lab" --disks 2 --disk-size 10G --authorize-key "$STATE/cluster.pub" | tee "$STATE/hosts.txt"
took

step "Add the hosts: connect, pin each host key (trust on first use), run the agent's host check"
first=1
while read -r name addr; do
  if [ $first = 1 ]; then run host add "$name" "$addr" --labels _admin; first=0
  else run host add "$name" "$addr"; fi
done <"$STATE/hosts.txt"
run host ls
took

step "Placement preview: where would cephadm put 2 mgrs and an rgw on these hosts?"
run export --format json >"$STATE/snapshot.json" 2>/dev/null || true
cat >"$STATE/demo-specs.yaml" <<'YAML'
service_type: mgr
placement:
  count: 2
---
service_type: rgw
service_id: demo
placement:
  count: 2
spec:
  rgw_frontend_port: 8080
YAML
if [ -s "$STATE/snapshot.json" ]; then
  run plan -i "$STATE/demo-specs.yaml" --snapshot "$STATE/snapshot.json"
else
  python3 - "$STATE" <<'PY'
import json, sys
state = sys.argv[1]
hosts = [l.split() for l in open(f"{state}/hosts.txt") if l.strip()]
json.dump({"hosts": [{"hostname": n, "addr": a, "labels": [], "status": ""} for n, a in hosts]},
          open(f"{state}/snapshot.json", "w"))
PY
  run plan -i "$STATE/demo-specs.yaml" --snapshot "$STATE/snapshot.json"
fi
took

printf '\nThe controller and the lab hosts are still running (socket %s).\n' "$SOCK"
printf 'Try: ORCH_SOCKET=%s bin/orch host ls   ...   then: make demo-down\n' "$SOCK"
