#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest has what the userptr/SVM tests rely on, working, not just
# configured: full preemption, swap, memcg, userfaultfd, sw_sync, KSM, page
# migration between NUMA nodes, compaction and Unix sockets. (rig.smp runs
# in init, for every job.)
cd /rig/suites/rig || exit 1

# The kernel the host built: its version (rig.kver) and flavor (rig.flavor,
# debug or release) come on the command line.
kver=$(sed -n 's/.*rig\.kver=\([^ ]*\).*/\1/p' /proc/cmdline)
flavor=$(sed -n 's/.*rig\.flavor=\([^ ]*\).*/\1/p' /proc/cmdline)
dbg=""
[ -e /proc/lockdep ] && dbg="$dbg lockdep"
[ -e /sys/kernel/debug/kmemleak ] && dbg="$dbg kmemleak"
grep -q " __asan_load8$" /proc/kallsyms && dbg="$dbg KASAN"
case "$(uname -r)" in
"$kver"|"$kver"+|"$kver"-*) ;;
*) echo "RESULT fail rig.kernel uname -r is $(uname -r), the host built $kver" ;;
esac
case "$flavor:$dbg" in
"debug: lockdep kmemleak KASAN"|"release:")
	echo "RESULT pass rig.kernel $(uname -r) $flavor (debug options:${dbg:- none})" ;;
*)	echo "RESULT fail rig.kernel $flavor kernel with debug options:${dbg:- none}" ;;
esac

mode=$(cat /sys/kernel/debug/sched/preempt 2>/dev/null)
case "$(uname -v) [$mode]" in
*PREEMPT_DYNAMIC*"(full)"*|*" PREEMPT "*"[]")
	echo "RESULT pass rig.preempt $(uname -v | cut -d' ' -f2-3) $mode" ;;
*)	echo "RESULT fail rig.preempt not fully preemptible: $(uname -v) [$mode]" ;;
esac

for c in $(./rigcheck --list); do
	if out=$(./rigcheck "$c" 2>&1); then
		echo "RESULT pass rig.$c"
	else
		echo "RESULT fail rig.$c $out"
	fi
done
