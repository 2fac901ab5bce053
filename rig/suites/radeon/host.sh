#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# radeon suite, host side: build radeon_userptr (static) against the
# installed kernel headers (radeon_drm.h, and drm.h with the generic
# userptr uapi).
set -euo pipefail
out=$RIG_OUT/radeon
mkdir -p "$out"
src=$RIG_ROOT/rig/suites/radeon/radeon_userptr.c
hdr=$RIG_ROOT/rig/include/drm_render_node.h
if [ ! -x "$out/radeon_userptr" ] || [ "$src" -nt "$out/radeon_userptr" ] ||
   [ "$hdr" -nt "$out/radeon_userptr" ]; then
	gcc -Wall -Wextra -O2 -static -pthread -isystem "$RIG_KHDR/include" \
		-I"$RIG_ROOT/rig/include" \
		-o "$out/radeon_userptr" "$src"
fi
cp "$out/radeon_userptr" "$RIG_SUITE_DIR/"

# The generic-uapi conformance test (igt-tests/core_userptr.c) runs here on
# radeon too, with the IGT runner; the rig adds libigt's ldd closure.
igt=$RIG_OUT/igt
make -s -C "$RIG_ROOT/igt-tests" O="$igt" KHDR="${RIG_KHDR:-}" all
cp "$igt/core_userptr" "$igt/igt_run" "$RIG_SUITE_DIR/"
