#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Benchmarks, in the guest: P1-P7 and RT (bench/svm_bench.c), one line per figure
# starting with its id; never pass/fail on timings. A benchmark "passes"
# when it ran to completion (every row could be set up).
# Knobs (`make bench BENCH_REPS=3 ...`; host.sh stages them into bench.env):
#   BENCH_REPS (5)  BENCH_ITERS (2000, P2 munmaps per process)
#   BENCH_P1_MB ("64 256")  BENCH_N ("1 1000 10000 100000")
#   BENCH_P3_MB (512)  BENCH_P4_JOBS (200)  BENCH_P4_HZ (240)
#   BENCH_P5_MB (256, P5/RT and P7)  BENCH_KINDS (3: P5/P7 rows, 1 = 4K, 2 = THP)
#   BENCH_P7_MASK (15: the optimisations P7's stock column turns off, -m)
#   BENCH_ONLY ("p7 p5 p26 p4 p3 p1": which, in order)
#   BENCH_PROFILE (unset): 1 = run each figure under `perf record -a -g`
#     and print, as "PROF" lines, where the time under the helper's fault
#     paths and the references goes (profile.awk). Sampling slows the
#     guest down: the figures of such a run are not the ones to quote.
cd /rig/suites/bench || exit 1
[ -f bench.env ] && . ./bench.env
modprobe vsvm || echo "RESULT fail bench.load modprobe vsvm failed"
if ! modprobe test_hmm; then
	echo "bench: test_hmm did not load, its rows will fail"
fi
# iommu=on|off on each line says how vsvm's DMA device really maps: the
# "edu" PCI device vsvm binds when the VM has one (rig/run-tests.sh
# VM_IOMMU), in an IOMMU group with a translating domain (DMA, DMA-FQ) or
# not; a run that asked for one and got the other fails.
iommu=off dmadev=platform domain=none
for d in /sys/bus/pci/drivers/vsvm/0000:*; do
	[ -e "$d" ] || continue
	dmadev="pci ${d##*/}"
	if [ -e "$d/iommu_group/type" ]; then
		domain=$(cat "$d/iommu_group/type")
		case $domain in DMA|DMA-FQ) iommu=on ;; esac
	fi
done
echo "bench: vsvm DMA device: $dmadev, IOMMU domain: $domain (iommu=$iommu)"
if [ -n "${BENCH_IOMMU:-}" ] && [ "$BENCH_IOMMU" != "$iommu" ]; then
	echo "RESULT fail bench.iommu asked for iommu=$BENCH_IOMMU, vsvm maps with iommu=$iommu ($dmadev, domain $domain)"
fi
# The clock: see bench/bench_util.h. The guest's clocksource is
# refined-jiffies under TCG; the benchmarks time with the TSC at the
# frequency the kernel calibrated against the PIT.
mhz=$(dmesg | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$mhz" ] || mhz=$(dmesg | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -1)
echo "bench: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null), timing with the TSC at ${mhz:-?} MHz"
args="-f ${mhz:-1000} -r ${BENCH_REPS:-5} -k ${BENCH_KINDS:-3} -m ${BENCH_P7_MASK:-15}"
for fig in ${BENCH_ONLY:-p7 p5 p26 p4 p3 p1}; do
	case $fig in
	p1) set -- ${BENCH_P1_MB:-64 256} ;;
	p26) set -- -i "${BENCH_ITERS:-2000}" p26 ${BENCH_N:-1 1000 10000 100000} ;;
	p3) set -- ${BENCH_P3_MB:-512} ;;
	p4) set -- -j "${BENCH_P4_JOBS:-200}" -s "${BENCH_P4_HZ:-240}" p4 ;;
	p5|p7) set -- ${BENCH_P5_MB:-256} ;;
	esac
	case $fig in
	p26|p4) ;;
	*) set -- $fig "$@" ;;
	esac
	if [ -n "${BENCH_PROFILE:-}" ] && [ -x ./perf ]; then
		./perf record -a -g -q -e cpu-clock -F 4000 -o /tmp/perf.data \
			./svm_bench $args "$@"
		rc=$?
		./perf script -i /tmp/perf.data -F comm,ip,sym 2>/dev/null > /tmp/perf.txt
		# perf 6.1 maps a module as one block from its /proc/modules
		# address and size; since 6.4 a module's text and data are
		# separate allocations, so one module's block covers another's
		# text (vsvm's functions came out as gpu-sched's [unknown]).
		# profile.awk names kernel addresses from kallsyms instead.
		awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' /proc/kallsyms | sort > /tmp/ksyms
		# SVM faults, userptr validation, test_hmm's mirror; the
		# helper is drm_svm on 6.12, drm_gpusvm from 7.3 on
		roots="drm_svm_mirror_fault_batch drm_svm_range_get_pages"
		[ "$(uname -r | cut -d. -f1)" -ge 7 ] &&
			roots="drm_gpusvm_range_find_or_insert drm_gpusvm_get_pages"
		for root in ${BENCH_PROFILE_ROOTS:-$roots dmirror_fops_unlocked_ioctl}; do
			awk -v fig=$fig -v root=$root -f profile.awk /tmp/ksyms /tmp/perf.txt
		done
		rm -f /tmp/perf.data /tmp/perf.txt /tmp/ksyms
	else
		# Each figure line says which kernel and whether DMA goes
		# through an IOMMU: "P5 kernel=release iommu=off ...".
		{ ./svm_bench $args "$@"; echo "rc=$?" > /tmp/bench.rc; } |
			sed -E "s/^(P[0-9]+|RT) /\\1 kernel=${BENCH_KERNEL:-debug} iommu=$iommu /"
		rc=$(sed -n 's/^rc=//p' /tmp/bench.rc)
	fi
	if [ $rc = 0 ]; then
		echo "RESULT pass bench.$fig"
	else
		echo "RESULT fail bench.$fig something could not be set up (exit $rc)"
	fi
done
rmmod test_hmm 2>/dev/null
# vsvm goes as it came: from the edu device through its PCI remove path.
if rmmod vsvm && [ ! -e /sys/module/vsvm ]; then
	echo "RESULT pass bench.unload vsvm unloaded ($dmadev)"
else
	echo "RESULT fail bench.unload vsvm still loaded ($dmadev)"
fi
exit 0
