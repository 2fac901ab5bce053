#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest has what the userptr/SVM tests rely on, working, not just
# configured: full preemption, swap, memcg, userfaultfd, sw_sync, KSM, page
# migration between NUMA nodes, compaction and Unix sockets. (rig.smp runs
# in init, for every job.)
cd /rig/suites/rig || exit 1

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
