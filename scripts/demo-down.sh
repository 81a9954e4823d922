#!/usr/bin/env bash
# Removes what make demo started: the controller and the lab hosts.
set -uo pipefail
cd "$(dirname "$0")/.."
ORCH=${ORCH:-$PWD/bin/orch}
STATE=${ORCH_DEMO_STATE:-/var/tmp/orch-demo}
if [ -f "$STATE/serve.pid" ]; then
  kill "$(cat "$STATE/serve.pid")" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$(cat "$STATE/serve.pid")" 2>/dev/null || break; sleep 0.1; done
fi
[ -d "$STATE/lab" ] && "$ORCH" lab down --prefix orchdemo --state "$STATE/lab"
rm -rf "$STATE"
echo "demo: removed"
