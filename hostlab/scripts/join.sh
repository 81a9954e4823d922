# hostlab-join N CGROUPDIR... -- ARGV...: move this process into N cgroup
# directories (one per v1 hierarchy), then exec ARGV. Go cannot join v1
# cgroups between fork and exec, so this tiny constant script does it.
n=$1; shift
while [ "$n" -gt 0 ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; n=$((n-1)); done
[ "$1" = "--" ] && shift
exec "$@"
