#!/usr/bin/env bash
# Installs the Debian packages orch's tests and demo need, only when
# missing. Lab hosts need OpenSSH, podman and its helpers; the agent's
# tests compare against Debian's ceph-volume (ceph-osd) on loop disks.
set -euo pipefail
pkgs=(
  python3-yaml
  openssh-server openssh-client sudo
  podman crun conmon netavark iptables uidmap catatonit busybox-static
  iproute2 util-linux fdisk e2fsprogs udev
  ceph-osd ledmon
  ceph-mon ceph-mgr ceph-common
  systemd-container debootstrap
)
need=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "deps: need root to install: ${need[*]}" >&2; exit 1; fi
echo "deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
