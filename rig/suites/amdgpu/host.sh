#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# amdgpu suite, host side: build kfd_open (static) against the installed
# kernel headers (linux/kfd_ioctl.h).
set -euo pipefail
out=$RIG_OUT/amdgpu
mkdir -p "$out"
src=$RIG_ROOT/rig/suites/amdgpu/kfd_open.c
if [ ! -x "$out/kfd_open" ] || [ "$src" -nt "$out/kfd_open" ]; then
	gcc -Wall -Wextra -O2 -static -isystem "$RIG_KHDR/include" \
		-o "$out/kfd_open" "$src"
fi
cp "$out/kfd_open" "$RIG_SUITE_DIR/"
