#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Upstream reference suite: tools/testing/selftests/mm/hmm-tests.c, built
# from the same tree, run against lib/test_hmm.ko.
set -euo pipefail
src=$RIG_KSRC/tools/testing/selftests/mm
out=$RIG_OUT/hmm
mkdir -p "$out"
# Since 6.15 hmm-tests uses vm_util.c and hugepage_settings.c (7.3).
extra=()
[ -f "$src/hugepage_settings.c" ] && extra=("$src/vm_util.c" "$src/hugepage_settings.c")
# hmm-tests-slow: the same tests with the harness's per-test limit raised
# from 30 s to 180 s, for the guest's one retry of a test that timed out.
# The copies sit in a tree of their own (harness/, harness/mm/) so that
# hmm-tests.c's quoted include finds the copy of the harness, whether it
# says "kselftest_harness.h" (7.3) or "../kselftest_harness.h" (6.12).
mkdir -p "$out/harness/mm"
sed 's/^#define TEST_TIMEOUT_DEFAULT 30$/#define TEST_TIMEOUT_DEFAULT 180/' \
	"$RIG_KSRC/tools/testing/selftests/kselftest_harness.h" > "$out/harness/kselftest_harness.h"
grep -q 'TEST_TIMEOUT_DEFAULT 180' "$out/harness/kselftest_harness.h"
cp "$src/hmm-tests.c" "$out/harness/mm/hmm-tests.c"
for v in hmm-tests hmm-tests-slow; do
	c=$src/hmm-tests.c inc=()
	[ $v = hmm-tests-slow ] && c=$out/harness/mm/hmm-tests.c inc=(-I "$out/harness" -I "$src")
	if [ ! -x "$out/$v" ] || [ "$src/hmm-tests.c" -nt "$out/$v" ]; then
		gcc -Wall -O2 -static -U_FORTIFY_SOURCE "${inc[@]}" -I "$RIG_KSRC" \
			-isystem "$RIG_KHDR/include" \
			-I "$RIG_KSRC/tools/testing/selftests" -o "$out/$v" \
			"$c" "${extra[@]}" -lpthread -lrt -lm
	fi
	cp "$out/$v" "$RIG_SUITE_DIR/"
done
