#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Benchmarks, in the guest: print tables; never pass/fail on timings. A
# benchmark "passes" when it ran to completion (every row could be set up).
# Knobs: BENCH_ITERS (default 2000), BENCH_N (default "0 1 1000 100000").
cd /rig/suites/bench || exit 1
modprobe vsvm || echo "RESULT fail bench.load modprobe vsvm failed"
if ! modprobe test_hmm; then
	echo "bench: test_hmm did not load, its rows will fail"
fi
echo "bench: svm-munmap: invalidation cost vs number of live mirror ranges"
./svm_munmap_bench -i "${BENCH_ITERS:-2000}" ${BENCH_N:-0 1 1000 100000}
rc=$?
if [ $rc = 0 ]; then
	echo "RESULT pass bench.svm-munmap"
else
	echo "RESULT fail bench.svm-munmap a row could not be set up (exit $rc)"
fi
rmmod test_hmm 2>/dev/null
exit 0
