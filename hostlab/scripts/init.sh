# hostlab host init: runs as PID 1 of a new PID namespace, inside the host's
# network, UTS, mount (private propagation) and cgroup namespaces. It builds
# the host's view of the machine, starts sshd and becomes catatonit, which
# reaps orphans. Constant text: every input arrives in HL_* variables set by
# the Go side (validated there) or as "$@" (the host's disks, NAME:MAJ:MIN).
set -eu
H=$HL_DIR
hostname "$HL_NAME"

# The copy of the machine's /run/netns holds nsfs mounts of every namespace
# that existed when this one was made; keeping them would pin other labs'
# namespaces (and their veths and routes) after those labs delete them.
if mountpoint -q /run; then umount -R -l /run; elif mountpoint -q /run/netns; then umount -R -l /run/netns; fi

# cgroup v1 controllers mounted inside the cgroup namespace, and no cgroup2
# "unified" mount: crun refuses the hybrid layout.
mkdir -p "$H/.cg"
mount -t tmpfs -o mode=755 cgroup "$H/.cg"
for c in $HL_CGROUPS; do
  mkdir -p "$H/.cg/$c"
  if [ "$c" = systemd ]; then mount -t cgroup -o none,name=systemd cgroup "$H/.cg/$c"
  else mount -t cgroup -o "$c" cgroup "$H/.cg/$c"; fi
done
mount -t sysfs sysfs /sys
mount --move "$H/.cg" /sys/fs/cgroup

mount -t overlay overlay -o "lowerdir=/etc,upperdir=$H/etc.upper,workdir=$H/etc.work" /etc
mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$H/varlib.upper,workdir=$H/varlib.work" /var/lib
mkdir -p /var/lib/containers
mount --bind "$H/containers" /var/lib/containers
mount --bind "$H/root" /root
mount --bind "$H/home" /home
mount --bind "$H/log" /var/log
if [ -n "$HL_IMGSTORE" ]; then
  mkdir -p /var/lib/shared-images
  mount --bind "$HL_IMGSTORE" /var/lib/shared-images
  mount -o remount,bind,ro /var/lib/shared-images
fi

# A private /dev: the standard nodes plus this host's own disks only.
tun=0; [ -c /dev/net/tun ] && tun=1
fuse=0; [ -c /dev/fuse ] && fuse=1
mount -t tmpfs -o mode=755,nosuid dev /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
if [ $tun = 1 ]; then mkdir -p /dev/net; mknod -m 666 /dev/net/tun c 10 200; fi
if [ $fuse = 1 ]; then mknod -m 666 /dev/fuse c 10 229; fi
mkdir -m 755 /dev/pts
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mkdir -m 1777 /dev/shm
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

if [ -n "$HL_USER" ]; then
  useradd -m -p '*' -s /bin/bash -U "$HL_USER"
  install -d -m 700 -o "$HL_USER" -g "$HL_USER" "/home/$HL_USER/.ssh"
  install -m 600 -o "$HL_USER" -g "$HL_USER" /root/.ssh/authorized_keys "/home/$HL_USER/.ssh/authorized_keys"
fi

# Mounts over /run, /tmp and /var/tmp come last: the state directory may live
# below one of them.
mount -t tmpfs -o mode=755,nosuid,nodev run /run
mkdir -p /run/sshd /run/lock
chmod 755 /run/sshd
hl_diskview "$@"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp /tmp
mount --bind "$H/vartmp" /var/tmp

unset HL_DIR HL_NAME HL_CGROUPS HL_IMGSTORE HL_USER
/usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log
exec /usr/bin/catatonit -P
