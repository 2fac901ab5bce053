#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks: bench/*.c against the built kernel's uapi and
# lib/test_hmm_uapi.h of the same tree. The BENCH_* knobs of the
# environment (see guest.sh) travel to the guest in bench.env.
set -euo pipefail
make -s -C "$RIG_ROOT/bench" O="$RIG_OUT/bench" KHDR="$RIG_KHDR" KSRC="$RIG_KSRC"
cp "$RIG_OUT/bench/svm_bench" "$RIG_SUITE_DIR/"
env | grep -E '^BENCH_[A-Z0-9_]+=' | sed "s/=\(.*\)/='\1'/" > "$RIG_SUITE_DIR/bench.env" || true
