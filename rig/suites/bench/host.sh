#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks: bench/*.c against the built kernel's uapi and
# lib/test_hmm_uapi.h of the same tree. The BENCH_* knobs of the
# environment (see guest.sh) travel to the guest in bench.env.
set -euo pipefail
make -s -C "$RIG_ROOT/bench" O="$RIG_OUT/bench" KHDR="$RIG_KHDR" KSRC="$RIG_KSRC"
cp "$RIG_OUT/bench/svm_bench" "$RIG_SUITE_DIR/"
env | grep -E '^BENCH_[A-Z0-9_]+=' | sed "s/=\(.*\)/='\1'/" > "$RIG_SUITE_DIR/bench.env" || true
# BENCH_PROFILE: profile the figures with perf (Debian's linux-perf, whose
# perf 6.1 reads the 6.12 guest's software events and kallsyms fine).
if [ -n "${BENCH_PROFILE:-}" ]; then
	"$RIG_ROOT/rig/install-deps.sh" linux-perf
	cp "$(command -v perf)" "$RIG_SUITE_DIR/perf"
	cp "$RIG_ROOT/rig/suites/bench/profile.awk" "$RIG_SUITE_DIR/"
fi
