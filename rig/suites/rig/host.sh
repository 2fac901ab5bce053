#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The rig's own checks: build rigcheck (static) against the kernel headers.
set -euo pipefail
out=$RIG_OUT/rig
mkdir -p "$out"
src=$RIG_ROOT/rig/suites/rig/rigcheck.c
if [ ! -x "$out/rigcheck" ] || [ "$src" -nt "$out/rigcheck" ]; then
	gcc -Wall -Wextra -O2 -static -isystem "$RIG_KHDR/include" \
		-o "$out/rigcheck" "$src" -lpthread
fi
cp "$out/rigcheck" "$RIG_SUITE_DIR/"
