# hl_diskview DISK... (loop device names, e.g. loop7): make this mount
# namespace's /dev, /sys/block, /sys/dev/block and /proc/partitions show only
# these loop devices and their partitions. Loop devices are global; without
# this every host lists every loop device on the machine. Idempotent.
hl_diskview() {
  for m in /proc/partitions /sys/dev/block /sys/block; do
    while mountpoint -q "$m"; do umount "$m"; done
  done
  for n in /dev/loop*; do if [ -b "$n" ]; then rm -f "$n"; fi; done
  v=/run/hostlab-disks
  rm -rf "$v"
  mkdir -p "$v/block" "$v/devblock"
  head -2 /proc/partitions > "$v/partitions"
  for spec in "$@"; do
    d=${spec%%:*}
    s=/sys/devices/virtual/block/$d
    [ -d "$s" ] || { echo "hostlab: no such loop device $d" >&2; return 1; }
    ln -s "../devices/virtual/block/$d" "$v/block/$d"
    for x in "$s" "$s/$d"p*; do
      [ -e "$x/dev" ] || continue
      mm=$(cat "$x/dev"); p=${x##*/}
      ln -s "../../devices/virtual/block/$d${x#"$s"}" "$v/devblock/$mm"
      mknod -m 660 "/dev/$p" b "${mm%%:*}" "${mm##*:}"
      chgrp disk "/dev/$p"
    done
    awk -v d="$d" '$4==d || index($4, d "p")==1' /proc/partitions >> "$v/partitions"
  done
  mount --bind "$v/block" /sys/block
  mount --bind "$v/devblock" /sys/dev/block
  mount --bind "$v/partitions" /proc/partitions
}
