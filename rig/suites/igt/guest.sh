#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# IGT suite, guest side (busybox sh, cwd /): run every staged IGT binary with
# igt_run (one process per subtest, --list-subtests / --run-subtest, exit
# codes 0 pass / 77 skip / 98 fail, per-subtest timeout) and print its
# "RESULT pass|fail|skip igt.<binary>.<subtest>[.<dynamic>] [reason]" lines.
#
# Knobs (environment): IGT_TIMEOUT per-subtest seconds (default 180, TCG is
# slow), IGT_FILTER substring of igt.<bin>.<subtest> to run, IGT_VERBOSE=1
# to show every subtest's output; host.sh stages the host's in igt.env.
dir=${IGT_DIR:-/igt}
[ -f $dir/igt.env ] && . $dir/igt.env
if [ ! -x $dir/igt_run ]; then
	echo "RESULT fail igt.present $dir/igt_run missing from the initramfs"
	exit 0
fi

# What libigt needs: a writable HOME and /tmp, /dev/dri, /proc, debugfs.
export HOME=${HOME:-/root} TMPDIR=/tmp
export IGT_LOG_LEVEL=${IGT_LOG_LEVEL:-info}
mkdir -p "$HOME" /tmp/igt-logs
[ -d /sys/kernel/debug/dri ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

. /rig/lib.sh

# vsvm is a module: the suite loads it, and unloads it at the end to check
# that nothing leaked (rig/guest/lib.sh).
module_load_begin vsvm || echo "RESULT fail igt.vsvm.load modprobe vsvm failed"
echo "igt: DRM devices:"
for n in /dev/dri/*; do
	[ -e "$n" ] || { echo "  (none)"; break; }
	echo "  $n"
done

# 1. The runner and libigt work in this guest: the self-test binary must
#    give exactly its expected pass/skip/fail lines.
if (cd $dir && sh ./run-selftest.sh ./igt_run ./igt_runner_selftest) \
	> /tmp/igt-selftest.log 2>&1; then
	echo "RESULT pass igt.runner.selftest"
else
	echo "RESULT fail igt.runner.selftest igt_run/libigt protocol mismatch in the guest"
	sed 's/^/  | /' /tmp/igt-selftest.log
fi

# 2. The tests.
set --
for t in $(cat $dir/tests.list); do
	set -- "$@" "$dir/$t"
done
opts="-t ${IGT_TIMEOUT:-180} -o /tmp/igt-logs"
[ -n "$IGT_FILTER" ] && opts="$opts -f $IGT_FILTER"
[ -n "$IGT_VERBOSE" ] && opts="$opts -v"
$dir/igt_run $opts "$@"
echo "igt: igt_run exit status $?"

# 3. vsvm as on stock drm_gpusvm (helper_pfns=0: its engine walks the pages
#    again after drm_gpusvm_get_pages(), the path make bench's P7 measures
#    as "stock"): the tests that fault and validate, their results suffixed
#    .helper_pfns0.
p=/sys/module/vsvm/parameters/helper_pfns
if [ -w $p ]; then
	echo 0 > $p
	set --
	for t in vsvm_svm vsvm_userptr vsvm_integrity; do
		set -- "$@" "$dir/$t"
	done
	$dir/igt_run $opts "$@" |
		sed 's/^\(RESULT [a-z]* igt\.[^ ]*\)/\1.helper_pfns0/'
	echo 1 > $p
else
	echo "RESULT fail igt.vsvm.helper_pfns $p missing"
fi

# 4. Unload: the module goes away, kmemleak stays quiet, and unreclaimable
#    slab and MemAvailable are back to their pre-load figures.
rm -rf /tmp/igt-logs
module_unload_check vsvm igt.vsvm
exit 0
