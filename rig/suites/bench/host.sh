#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmarks: bench/svm_munmap_bench.c against the built kernel's uapi and
# lib/test_hmm_uapi.h of the same tree.
set -euo pipefail
make -s -C "$RIG_ROOT/bench" O="$RIG_OUT/bench" KHDR="$RIG_KHDR" KSRC="$RIG_KSRC"
cp "$RIG_OUT/bench/svm_munmap_bench" "$RIG_SUITE_DIR/"
