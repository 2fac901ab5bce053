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
if [ ! -x "$out/hmm-tests" ] || [ "$src/hmm-tests.c" -nt "$out/hmm-tests" ]; then
	gcc -Wall -O2 -static -U_FORTIFY_SOURCE -I "$RIG_KSRC" -isystem "$RIG_KHDR/include" \
		-I "$RIG_KSRC/tools/testing/selftests" -o "$out/hmm-tests" \
		"$src/hmm-tests.c" "${extra[@]}" -lpthread -lrt -lm
fi
cp "$out/hmm-tests" "$RIG_SUITE_DIR/"
