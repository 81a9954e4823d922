# images/lib.sh — helpers shared by the image build scripts (sourced, not run).
# shellcheck shell=bash

ORCH_IMAGES_CACHE=${ORCH_IMAGES_CACHE:-/var/cache/orch-images}
PODMAN_BIN=${PODMAN:-podman}
PODMAN_ARGS=()   # filled by set_store
QUIET=${QUIET:-0}

log() { [ "$QUIET" = 1 ] || printf '%s: %s\n' "${SELF:-images}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${SELF:-images}" "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}'; }

# set_store DIR: use DIR as podman graphroot (e.g. a shared read-only image store for the lab
# hosts, listed there as additionalimagestores) instead of the machine's default store.
set_store() {
  local d=$1
  [ -n "$d" ] || return 0
  case $d in /*) ;; *) die "--store must be an absolute path";; esac
  mkdir -p "$d"
  PODMAN_ARGS=(--root "$d" --runroot "$d.run" --storage-driver overlay)
}

pm() { "$PODMAN_BIN" "${PODMAN_ARGS[@]}" "$@"; }

# image_label IMAGE KEY: prints the label's value, empty when the image or label is missing.
image_label() {
  pm image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null | sed 's/^<no value>$//' || true
}

# lock NAME: exclusive lock on $ORCH_IMAGES_CACHE/.NAME.lock for the rest of the script (fd 9),
# so concurrent builds (make e2e and make demo, two engineers) share one build.
lock() {
  mkdir -p "$ORCH_IMAGES_CACHE"
  exec 9>"$ORCH_IMAGES_CACHE/.$1.lock"
  if ! flock -n 9; then
    log "waiting for another build holding $ORCH_IMAGES_CACHE/.$1.lock"
    flock -w 3600 9 || die "timed out waiting for $ORCH_IMAGES_CACHE/.$1.lock"
  fi
}

# save_archive IMAGE KEY NAME FORMAT FILE: writes a `podman save` archive of IMAGE to FILE, reusing
# the cached archive $ORCH_IMAGES_CACHE/archives/NAME-KEY.FORMAT.tar when its key matches.
save_archive() {
  local img=$1 key=$2 name=$3 fmt=$4 file=$5 t0
  local dir=$ORCH_IMAGES_CACHE/archives
  local cached=$dir/$name-${key:0:16}.$fmt.tar
  mkdir -p "$dir"
  if [ ! -s "$cached" ]; then
    t0=$(now)
    rm -f "$dir/$name"-*."$fmt".tar "$cached.tmp"
    pm save --quiet --format "$fmt" -o "$cached.tmp" "$img" >/dev/null
    mv "$cached.tmp" "$cached"
    log "saved $img as $fmt ($(du -h "$cached" | cut -f1)) in $(since "$t0")"
  else
    log "archive cached: $cached"
  fi
  [ -n "$file" ] || return 0
  file=$(realpath -m "$file")
  if [ "$file" != "$cached" ]; then
    mkdir -p "$(dirname "$file")"
    if [ -e "$file" ] && [ "$file" -ef "$cached" ]; then :;
    else rm -f "$file"; ln "$cached" "$file" 2>/dev/null || cp "$cached" "$file"; fi
  fi
  log "archive: $file (load with: podman load -i $file)"
}

# drop_stale_archives NAME KEY FORCE: removes cached archives of NAME built from another key (and,
# after a forced rebuild, those of KEY too: the image was rebuilt)
drop_stale_archives() {
  local f
  for f in "$ORCH_IMAGES_CACHE/archives/$1"-*.tar; do
    [ -e "$f" ] || continue
    case $f in *"-${2:0:16}".*) [ "$3" = 1 ] && rm -f "$f";; *) rm -f "$f";; esac
  done
  return 0
}
