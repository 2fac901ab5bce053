#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Mesa suite, host side: stage the patched libdrm and Mesa (r600, EGL, the
# radeon drm-shim) from work/mesa/prefix ("make mesa", mesa-patches/) into
# $RIG_STAGE/mesa/, and build mesa_pinned against them. The rig adds the
# ldd closure (expat, zlib, ...). Nothing is staged when Mesa was not built
# (SUITES without mesa): the guest side then reports that.
set -euo pipefail
: "${RIG_ROOT:?}" "${RIG_STAGE:?}" "${RIG_OUT:?}"
prefix=${W:-$RIG_ROOT/work}/mesa/prefix
src=${W:-$RIG_ROOT/work}/mesa/src/mesa
[ -e "$prefix/lib/libEGL.so.1" ] || exit 0

dst=$RIG_STAGE/mesa
mkdir -p "$dst/lib/dri"
cp -a "$prefix"/lib/lib*.so* "$dst/lib/"
strip --strip-unneeded -o "$dst/lib/dri/r600_dri.so" "$prefix/lib/dri/r600_dri.so"
out=$RIG_OUT/mesa
mkdir -p "$out"
gcc -O2 -Wall -Werror -o "$out/mesa_pinned" "$RIG_ROOT/rig/suites/mesa/mesa_pinned.c" \
	-I"$src/include" -L"$prefix/lib" -lEGL -Wl,-rpath,/mesa/lib
cp "$out/mesa_pinned" "$dst/"
