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

# start_controller [serve flags...]: orch serve in the background.
start_controller() {
  "$ORCH" serve --store "$STATE/orch.db" --socket "$SOCK" --log-level info "$@" >>"$STATE/serve.log" 2>&1 &
  echo $! >"$STATE/serve.pid"
  for _ in $(seq 100); do "$ORCH" status >/dev/null 2>&1 && return; sleep 0.1; done
  echo "demo: orch serve did not start; see $STATE/serve.log" >&2; exit 1
}
stop_controller() {
  kill "$(cat "$STATE/serve.pid")"
  for _ in $(seq 100); do kill -0 "$(cat "$STATE/serve.pid")" 2>/dev/null || return 0; sleep 0.1; done
}

step "Start the controller (orch serve)"
start_controller
run status
run ssh generate-key
"$ORCH" ssh get-pub-key >"$STATE/cluster.pub"
took

step "Start $HOSTS lab hosts (real sshd + podman in network namespaces, 2 loop disks each)"
"$ORCH" lab up "$HOSTS" --prefix orchdemo --state "$STATE/lab" --disks 2 --disk-size 10G --authorize-key "$STATE/cluster.pub" | tee "$STATE/hosts.txt"
took

CTL_ADDR=$("$ORCH" lab status --prefix orchdemo --state "$STATE/lab" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["controller_addr"])')
API="$CTL_ADDR:${ORCH_DEMO_API_PORT:-7150}"
step "Restart the controller with its TCP API on $API (mutual TLS, its own CA) so that ceph-mgr on the cluster can reach it"
stop_controller
start_controller --listen "$API" --tls-auto
run status
took

step "Build the Ceph image from Debian's packages without a registry (cached after the first build) and load it on every host"
CEPH_IMAGE=$(images/build-ceph-image.sh -q --save "$STATE/ceph.tar")
while read -r name _; do
  "$ORCH" lab exec --prefix orchdemo --state "$STATE/lab" "$name" -- podman load -q <"$STATE/ceph.tar" >/dev/null
done <"$STATE/hosts.txt"
echo "$CEPH_IMAGE loaded on $(wc -l <"$STATE/hosts.txt") hosts"
took

read -r BOOT_HOST BOOT_ADDR <"$STATE/hosts.txt"
step "Bootstrap a real Ceph cluster on $BOOT_HOST: first mon, mgr (with orch as its orchestrator) and crash, /etc/ceph with the admin keyring"
run bootstrap --mon-ip "$BOOT_ADDR" --host "$BOOT_HOST" --image "$CEPH_IMAGE" --single-host-defaults --mgr-module
took

step "Add the other hosts: connect, pin each host key (trust on first use), run the agent's host check"
tail -n +2 "$STATE/hosts.txt" | while read -r name addr; do
  run host add "$name" "$addr"
done
run host ls
took

step "Ceph services through the reconciler: 3 mons, 2 mgrs, crash everywhere, an OSD on every lab disk"
run apply mon 3
run apply mgr 2
run apply crash '*'
run apply osd --all-available-devices
want=$(( $(wc -l <"$STATE/hosts.txt") * 2 ))
for _ in $(seq 150); do
  up=$("$ORCH" ps --daemon-type osd --format json | python3 -c 'import json,sys; print(sum(1 for d in json.load(sys.stdin) if d.get("status") == 1))')
  [ "$up" -ge "$want" ] && break
  sleep 2
done
run ps --daemon-type mon
run ps --daemon-type osd
took

# ceph ARGS...: the cluster's ceph CLI, in the cluster image on the _admin host.
ceph() {
  printf '$ ceph %s\n' "$*"
  "$ORCH" lab exec --prefix orchdemo --state "$STATE/lab" "$BOOT_HOST" -- \
    podman run --rm --init --net=host -v /etc/ceph:/etc/ceph:ro "$CEPH_IMAGE" ceph "$@"
}

step "ceph orch on the cluster itself: ceph-mgr's orchestrator is orch (CephFS with its mds, an rgw)"
ceph orch status
ceph fs volume create cephfs
ceph orch apply rgw demo --placement="1 $(sed -n 2p "$STATE/hosts.txt" | cut -d' ' -f1)" --port 8000
for _ in $(seq 120); do
  n=$("$ORCH" ps --format json | python3 -c 'import json,sys; print(sum(1 for d in json.load(sys.stdin) if d["daemon_type"] in ("mds","rgw") and d.get("status") == 1))')
  [ "$n" -ge 3 ] && break
  sleep 2
done
ceph orch ls
ceph orch ps --daemon-type mds
rgw_addr=$(sed -n 2p "$STATE/hosts.txt" | cut -d' ' -f2)
for _ in $(seq 30); do curl -s --max-time 2 -o /dev/null "http://$rgw_addr:8000/" && break; sleep 1; done
printf '$ curl http://%s:8000/\n' "$rgw_addr"
curl -s --max-time 5 "http://$rgw_addr:8000/"; echo
took

step "Build a small service image without a registry and load it on every host"
images/build-testapp-image.sh -q --save "$STATE/testapp.tar" >/dev/null
while read -r name _; do
  "$ORCH" lab exec --prefix orchdemo --state "$STATE/lab" "$name" -- podman load -q <"$STATE/testapp.tar" >/dev/null
done <"$STATE/hosts.txt"
echo "localhost/orch-testapp:latest loaded on $(wc -l <"$STATE/hosts.txt") hosts"
took

cat >"$STATE/web.yaml" <<'YAML'
service_type: container
service_id: web
placement:
  count: 2
spec:
  image: localhost/orch-testapp:latest
  entrypoint: /testapp
  envs:
  - TESTAPP_PORT=8080
  ports:
  - 8080
YAML

step "Preview, then apply a cephadm 'container' service spec (2 daemons) and wait for convergence"
run apply -i "$STATE/web.yaml" --dry-run
run apply -i "$STATE/web.yaml" --wait --wait-timeout 5m
took

step "What runs where"
run ls
run ps
first=$("$ORCH" ps --service-name container.web --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["hostname"])')
addr=$(awk -v h="$first" '$1==h {print $2}' "$STATE/hosts.txt")
printf '$ curl http://%s:8080/\n' "$addr"
curl -s --max-time 5 "http://$addr:8080/"; echo
took

step "Scale to 3: the third host gets one; the existing two are kept"
sed -i 's/count: 2/count: 3/' "$STATE/web.yaml"
run apply -i "$STATE/web.yaml" --wait --wait-timeout 5m
run ps --service-name container.web
took

step "The Ceph cluster, as Ceph sees it (ceph -s through the cluster image on $BOOT_HOST)"
ceph -s
run ps
took

printf '\nThe controller and the lab hosts are still running (socket %s).\n' "$SOCK"
printf 'Try: ORCH_SOCKET=%s bin/orch host ls   ...   then: make demo-down\n' "$SOCK"
