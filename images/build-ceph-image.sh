#!/usr/bin/env bash
# build-ceph-image.sh — builds localhost/ceph:<version> from Debian bookworm's Ceph packages, without
# any container registry: debootstrap --variant=minbase bookworm + apt-get install in a chroot,
# then `podman import` of the tree. Cached: a second run with nothing changed is instant.
#
# usage: images/build-ceph-image.sh [--version V] [--force] [--save FILE] [--save-format F]
#                                   [--store DIR] [--cache DIR] [--print-version] [--quiet]
#   --version V       refuse to build anything but ceph V (Debian has exactly one version per suite;
#                     default: the candidate of `apt-cache policy ceph-common`, e.g. 16.2.15)
#   --force           rebuild everything from the mirror (debootstrap included) and re-import, even
#                     when the cache says it is up to date
#   --save FILE       also write a `podman save` archive to FILE (kept cached under CACHE/archives and
#                     hard-linked/copied to FILE) so other podman stores can `podman load -i FILE`
#   --save-format F   docker-archive (default: keeps the name localhost/ceph:V on load) or oci-archive
#   --store DIR       import into the podman graphroot DIR (e.g. a shared read-only image store that
#                     lab hosts list as additionalimagestores) instead of the machine's default store
#   --cache DIR       cache directory (default $ORCH_IMAGES_CACHE or /var/cache/orch-images)
#   --print-version   print the ceph version that would be built and exit
# stdout: the image reference (one line), e.g. localhost/ceph:16.2.15; progress goes to stderr.
# env: ORCH_DEBIAN_MIRROR / ORCH_DEBIAN_SECURITY_MIRROR (default: read from /etc/apt/sources.list*),
#      ORCH_CEPH_EXTRA_PACKAGES (e.g. "ceph-mgr-dashboard"), ORCH_CEPH_UID (167, as in the upstream
#      quay.io/ceph images; Debian's own default is 64045), ORCH_CEPH_IMAGE (localhost/ceph), PODMAN.
# needs: root, debootstrap (installed with apt-get when missing), podman, the Debian mirror.
set -euo pipefail
SELF=build-ceph-image
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# Bump when the recipe changes in a way the package list and settings below do not capture.
RECIPE_REV=4
SUITE=bookworm
REPO=${ORCH_CEPH_IMAGE:-localhost/ceph}
CEPH_UID=${ORCH_CEPH_UID:-167}
CEPH_PACKAGES="ceph-common ceph-base ceph-mon ceph-mgr ceph-mgr-modules-core ceph-osd ceph-mds radosgw
  rbd-mirror cephfs-mirror ceph-fuse"
# ceph-volume (shipped in ceph-osd) needs udev, lvm2, util-linux, e2fsprogs, cryptsetup for dmcrypt;
# the OSD runs smartctl/nvme for device health; the rest is for debugging inside the container.
TOOL_PACKAGES="udev lvm2 util-linux e2fsprogs xfsprogs cryptsetup-bin kmod smartmontools nvme-cli
  procps iproute2 iputils-ping hostname ca-certificates curl less"
NFS_PACKAGES="nfs-ganesha nfs-ganesha-ceph nfs-ganesha-rgw nfs-ganesha-rados-grace dbus"
EXTRA_PACKAGES=${ORCH_CEPH_EXTRA_PACKAGES:-}

VERSION='' FORCE=0 SAVE='' SAVE_FORMAT=docker-archive STORE='' PRINT_VERSION=0
while [ $# -gt 0 ]; do
  case $1 in
    --version) VERSION=${2:?--version needs a value}; shift 2;;
    --version=*) VERSION=${1#*=}; shift;;
    --force) FORCE=1; shift;;
    --save) SAVE=${2:?--save needs a file}; shift 2;;
    --save=*) SAVE=${1#*=}; shift;;
    --save-format) SAVE_FORMAT=${2:?}; shift 2;;
    --save-format=*) SAVE_FORMAT=${1#*=}; shift;;
    --store) STORE=${2:?}; shift 2;;
    --store=*) STORE=${1#*=}; shift;;
    --cache) ORCH_IMAGES_CACHE=${2:?}; shift 2;;
    --cache=*) ORCH_IMAGES_CACHE=${1#*=}; shift;;
    --print-version) PRINT_VERSION=1; shift;;
    --quiet|-q) QUIET=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) die "unknown argument $1 (see --help)";;
  esac
done
case $SAVE_FORMAT in docker-archive|oci-archive) ;; *) die "--save-format: docker-archive or oci-archive";; esac
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"

# --- which ceph: the candidate Debian offers for this machine's apt sources -------------------
# one apt-cache call for both (each call costs about 0.5 s)
POLICY=$(LC_ALL=C apt-cache policy ceph-common nfs-ganesha-ceph 2>/dev/null || true)
candidate() { awk -v p="$1:" '/^[^ ]/{cur=$1} cur==p && /Candidate:/{print $2; exit}' <<<"$POLICY"; }
DEB_VERSION=$(candidate ceph-common)
if [ -z "$DEB_VERSION" ] || [ "$DEB_VERSION" = "(none)" ]; then
  die "apt-cache policy ceph-common has no candidate: run apt-get update (and check that the Debian $SUITE sources are configured)"
fi
UPSTREAM=${DEB_VERSION#*:}; UPSTREAM=${UPSTREAM%%[+~-]*}   # 16.2.15+ds-0+deb12u2 -> 16.2.15
if [ -n "$VERSION" ] && [ "${VERSION#v}" != "$UPSTREAM" ]; then
  die "Debian $SUITE provides ceph $UPSTREAM ($DEB_VERSION), not $VERSION"
fi
VERSION=$UPSTREAM
if [ "$PRINT_VERSION" = 1 ]; then echo "$VERSION"; exit 0; fi
IMAGE=$REPO:$VERSION
GANESHA_VERSION=$(candidate nfs-ganesha-ceph); [ "$GANESHA_VERSION" = "(none)" ] && GANESHA_VERSION=
[ -n "$GANESHA_VERSION" ] || NFS_PACKAGES=

# --- Debian mirrors: the ones this machine's apt uses ----------------------------------------
# prints "URI" of the first enabled deb source (one-line or deb822) serving suite $1
mirror_for() {
  local suite=$1 f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                       if ($(i+1)==s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" 'function flush() { if (deb && en && uri != "" && (" " suites " ") ~ (" " s " ")) { print uri; found=1 }
                         deb=0; en=1; uri=""; suites="" }
      BEGIN { en=1 }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      tolower($1)=="types:" { for (i=2;i<=NF;i++) if ($i=="deb") deb=1 }
      tolower($1)=="uris:" { uri=$2 }
      tolower($1)=="suites:" { suites=""; for (i=2;i<=NF;i++) suites=suites " " $i }
      tolower($1)=="enabled:" { en=(tolower($2)=="yes") }
      END { if (!found) flush() }' "$f"
  done | head -n1
}
MIRROR=${ORCH_DEBIAN_MIRROR:-$(mirror_for "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${ORCH_DEBIAN_SECURITY_MIRROR:-$(mirror_for "$SUITE-security")}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# --- cache key: everything that decides the image's content ------------------------------------
PACKAGES=$(echo "$CEPH_PACKAGES $TOOL_PACKAGES $NFS_PACKAGES $EXTRA_PACKAGES" | tr -s ' \n' '\n\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
RECIPE="rev=$RECIPE_REV suite=$SUITE ceph=$DEB_VERSION ganesha=$GANESHA_VERSION uid=$CEPH_UID packages=$PACKAGES"
ROOTFS_KEY=$(printf '%s' "$RECIPE" | sha256sum | cut -c1-32)   # names the cached root filesystem
case ${VERSION%%.*} in 15) RELEASE=octopus;; 16) RELEASE=pacific;; 17) RELEASE=quincy;; 18) RELEASE=reef;;
  19) RELEASE=squid;; 20) RELEASE=tentacle;; *) RELEASE=unknown;; esac
# podman import settings: like the upstream images (entrypoint none, CMD bash, labels ceph=True,
# CEPH_POINT_RELEASE, io.ceph.version — the label cephadm reads for a daemon's version)
CHANGES=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV LANG=C.UTF-8'
  --change 'ENV I_AM_IN_A_CONTAINER=1'
  --change "ENV CEPH_VERSION=$VERSION"
  --change "ENV CEPH_POINT_RELEASE=-$VERSION"
  --change 'CMD ["/bin/bash"]'
  --change 'LABEL ceph=True'
  --change "LABEL io.ceph.version=$VERSION"
  --change "LABEL CEPH_POINT_RELEASE=-$VERSION"
  --change "LABEL RELEASE=$RELEASE"
  --change "LABEL org.orchceph.debian-version=$DEB_VERSION"
  --change "LABEL org.orchceph.ceph-uid=$CEPH_UID"
  --change "LABEL org.opencontainers.image.title=ceph"
  --change "LABEL org.opencontainers.image.version=$VERSION"
  --change "LABEL org.opencontainers.image.description=Ceph $DEB_VERSION from Debian $SUITE packages (orch images/build-ceph-image.sh)"
)
# the image's key: the root filesystem's plus the import settings
KEY=$(printf '%s\n' "$ROOTFS_KEY" "${CHANGES[@]}" | sha256sum | cut -c1-32)
C=$ORCH_IMAGES_CACHE/ceph
STAMP=$C/ceph-$VERSION.stamp
TARBALL=$C/ceph-$VERSION-${ROOTFS_KEY:0:16}.rootfs.tar
set_store "$STORE"

finish() {  # $1 = image ref
  if [ -n "$SAVE" ]; then save_archive "$1" "$KEY" "ceph-$VERSION" "$SAVE_FORMAT" "$SAVE"; fi
  echo "$1"
}

# 1. instant path: the image exists with our key and the stamp agrees
if [ "$FORCE" = 0 ] && [ "$(image_label "$IMAGE" org.orchceph.build-key)" = "$KEY" ] \
   && grep -qx "key=$KEY" "$STAMP" 2>/dev/null; then
  log "$IMAGE is up to date (key $KEY)"
  finish "$IMAGE"; exit 0
fi

lock ceph
T0=$(now)
mkdir -p "$C"
if [ "$FORCE" = 0 ] && [ "$(image_label "$IMAGE" org.orchceph.build-key)" = "$KEY" ] \
   && grep -qx "key=$KEY" "$STAMP" 2>/dev/null; then
  log "$IMAGE was built by a concurrent run"; finish "$IMAGE"; exit 0
fi

# 2. the root filesystem tarball (cached by key; --force rebuilds it)
if [ "$FORCE" = 1 ] || [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  # 2a. pristine minbase tree, cached per mirror (about 25 s from the Debian mirror)
  BASE=$C/base-$SUITE-minbase-$(printf '%s' "$MIRROR" | sha256sum | cut -c1-8)
  if [ "$FORCE" = 1 ] || [ ! -e "$BASE/.complete" ]; then
    t=$(now); rm -rf "$BASE"
    log "debootstrap --variant=minbase $SUITE from $MIRROR"
    debootstrap --variant=minbase "$SUITE" "$BASE" "$MIRROR" >"$C/debootstrap.log" 2>&1 \
      || { tail -n 20 "$C/debootstrap.log" >&2; die "debootstrap failed (log: $C/debootstrap.log)"; }
    touch "$BASE/.complete"
    log "debootstrap took $(since "$t")"
  fi
  # 2b. copy it and install the packages in a chroot inside a private mount namespace (the bind
  #     mounts of /proc, /sys and /dev vanish with the namespace, so nothing leaks and rm -rf is safe)
  R=$C/rootfs.work
  rm -rf "$R"; cp -a "$BASE" "$R"; rm -f "$R/.complete"
  cat >"$R/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
  cat >"$R/etc/apt/apt.conf.d/90orch-image" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dpkg::Options { "--force-confold"; "--force-confdef"; };
EOF
  # no docs, man pages or translations in the image (keeps copyright files)
  cat >"$R/etc/dpkg/dpkg.cfg.d/90orch-image-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
  # apt proxies configured on this machine apply in the chroot too
  apt-config dump 2>/dev/null | grep -i '^Acquire::.*::proxy' >"$R/etc/apt/apt.conf.d/80orch-proxy" || rm -f "$R/etc/apt/apt.conf.d/80orch-proxy"
  log "installing $(echo "$PACKAGES" | wc -w) packages (ceph $DEB_VERSION${GANESHA_VERSION:+, nfs-ganesha $GANESHA_VERSION}) in the chroot"
  t=$(now)
  pins=""
  for p in $CEPH_PACKAGES; do pins="$pins $p=$DEB_VERSION"; done
  others=""
  for p in $PACKAGES; do case " $CEPH_PACKAGES " in *" $p "*) ;; *) others="$others $p";; esac; done
  unshare -m --propagation private env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive R="$R" CEPH_UID="$CEPH_UID" PINS="$pins" OTHERS="$others" \
      bash -euo pipefail -c '
    mount -t proc proc "$R/proc"; mount -t sysfs sysfs "$R/sys"; mount --rbind /dev "$R/dev"
    chroot "$R" /bin/bash -euo pipefail -c "
      # the upstream images run ceph as uid/gid 167; Debian packaging keeps an existing ceph user
      groupadd -r -g $CEPH_UID ceph
      useradd -r -u $CEPH_UID -g ceph -d /var/lib/ceph -s /usr/sbin/nologin -c \"Ceph storage service\" ceph
      apt-get update -qq
      apt-get install -y -qq $PINS $OTHERS >/var/tmp/apt-install.log 2>&1 || { tail -n 30 /var/tmp/apt-install.log; exit 1; }
      rm -f /var/tmp/apt-install.log
      # no systemd-tmpfiles in a container: create the directories the packages declare there
      # (/run/ceph, /run/lvm, /run/dbus, ...) plus what ganesha.nfsd expects (pid file, recovery dir)
      cat /usr/lib/tmpfiles.d/*.conf 2>/dev/null | while read -r t p m u g _; do
        case \$t in d|D) ;; *) continue;; esac
        case \$p in /run/*|/var/run/*|/var/lib/*|/var/log/*) ;; *) continue;; esac
        p=\${p#/var}; case \$p in /run/*) ;; *) p=/var\$p;; esac
        mkdir -p \"\$p\"; [ \"\$m\" = - ] || chmod \"\$m\" \"\$p\"
        [ \"\$u\" = - ] || chown \"\$u\" \"\$p\" || true; [ \"\$g\" = - ] || chgrp \"\$g\" \"\$p\" || true
      done
      mkdir -p /run/ganesha /var/lib/nfs/ganesha /run/lock/lvm
      rm -f /run/adduser
      dpkg-query -W -f \"\\\${Package}=\\\${Version}\\n\" >/var/tmp/packages.txt
    "' >"$C/apt.log" 2>&1 || { cat "$C/apt.log" >&2; die "apt-get install in the chroot failed (log: $C/apt.log)"; }
  log "apt-get install took $(since "$t")"; rm -f "$C/apt.log"
  # 2c. clean up and identify the tree
  mv "$R/var/tmp/packages.txt" "$C/packages.work"
  rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb \
         "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R"/var/log/apt "$R"/var/log/*.log \
         "$R"/usr/share/doc/*/changelog* "$R"/tmp/* "$R"/var/tmp/* "$R/usr/sbin/policy-rc.d" \
         "$R/etc/apt/apt.conf.d/80orch-proxy"
  find "$R/usr/share/man" "$R/usr/share/info" -mindepth 1 -delete 2>/dev/null || true
  : >"$R/etc/resolv.conf"; : >"$R/etc/machine-id" 2>/dev/null || true; : >"$R/etc/hostname"
  # careful: $R/var/run is a symlink to the absolute /run, i.e. the machine's; use $R/run
  mkdir -p "$R/run/ceph" "$R/var/log/ceph" "$R/var/lib/ceph/crash/posted" "$R/etc/ceph"
  chown -R "$CEPH_UID:$CEPH_UID" "$R/var/lib/ceph" "$R/var/log/ceph" "$R/run/ceph"
  actual=$(awk -F= '$1=="ceph-common"{print $2}' "$C/packages.work")
  [ "$actual" = "$DEB_VERSION" ] || die "chroot installed ceph-common $actual, expected $DEB_VERSION"
  ganesha_actual=$(awk -F= '$1=="nfs-ganesha-ceph"{print $2}' "$C/packages.work")
  mkdir -p "$R/usr/share/orch-image"
  { echo "image=$IMAGE"; echo "rootfs-key=$ROOTFS_KEY"; echo "ceph=$DEB_VERSION"; echo "nfs-ganesha-ceph=${ganesha_actual:-none}";
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; } >"$R/usr/share/orch-image/release"
  cp "$C/packages.work" "$R/usr/share/orch-image/packages.txt"
  # 2d. tar it (numeric owners; /dev, /proc and /sys stay empty: podman provides them)
  t=$(now)
  rm -f "$C"/ceph-*.rootfs.tar "$TARBALL.tmp"
  tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$R" \
      --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
      -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  mv "$C/packages.work" "$C/ceph-$VERSION.packages"
  du -sh "$R" | awk '{print $1}' >"$C/ceph-$VERSION.treesize"
  rm -rf "$R"
  log "rootfs tarball $(du -h "$TARBALL" | cut -f1) in $(since "$t")"
else
  log "reusing cached rootfs $TARBALL"
fi
[ -s "$C/ceph-$VERSION.packages" ] || die "missing $C/ceph-$VERSION.packages (run with --force)"
GANESHA_ACTUAL=$(awk -F= '$1=="nfs-ganesha-ceph"{print $2}' "$C/ceph-$VERSION.packages")

# 3. import
t=$(now)
old_id=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
pm import --quiet "${CHANGES[@]}" \
  --change "LABEL org.orchceph.nfs-ganesha=${GANESHA_ACTUAL:-none}" \
  --change "LABEL org.orchceph.build-key=$KEY" \
  --message "orch images/build-ceph-image.sh: ceph $DEB_VERSION" \
  "$TARBALL" "$IMAGE" >/dev/null
new_id=$(pm image inspect --format '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then pm rmi "$old_id" >/dev/null 2>&1 || true; fi
log "imported $IMAGE ($(pm image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')) in $(since "$t")"
{ echo "key=$KEY"; echo "image=$IMAGE"; echo "recipe=$RECIPE"; } >"$STAMP"
drop_stale_archives "ceph-$VERSION" "$KEY" "$FORCE"
log "done in $(since "$T0")"
finish "$IMAGE"
