#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Mesa suite, host side: stage the patched libdrm and Mesa ("make mesa",
# mesa-patches/) into $RIG_STAGE/mesa/, and build the test programs against
# them. The rig adds the ldd closure (expat, zlib, LLVM for 25.0, ...).
#
# MESA_SERIES=22.3: r600 and the radeon drm-shim from
# work/mesa/prefix. MESA_SERIES=25.0 (default): also radeonsi, radv and the amdgpu
# drm-shim, from work/mesa-25.0/prefix; guest.sh runs their tests when it
# finds libvulkan_radeon.so. Nothing is staged when Mesa was not built
# (SUITES without mesa): the guest side then reports that.
set -euo pipefail
: "${RIG_ROOT:?}" "${RIG_STAGE:?}" "${RIG_OUT:?}"
# The read-only case of mesa_pinned needs the 25.0 series' GL frontend
# (mesa-25.0/0010: unwritable memory is pinned read-only).
pinned_flags=()
case ${MESA_SERIES:-25.0} in
22.3) m=${W:-$RIG_ROOT/work}/mesa ;;
25.0) m=${W:-$RIG_ROOT/work}/mesa-25.0 pinned_flags=(-DPINNED_READ_ONLY) ;;
*) echo "mesa: MESA_SERIES=$MESA_SERIES: 22.3 or 25.0" >&2; exit 1 ;;
esac
prefix=$m/prefix
src=$m/src/mesa
[ -e "$prefix/lib/libEGL.so.1" ] || exit 0

dst=$RIG_STAGE/mesa
mkdir -p "$dst/lib/dri"
cp -a "$prefix"/lib/lib*.so* "$dst/lib/"
# (Mesa 25.0 without a DRI platform has no lib/dri: libEGL loads
# libgallium-*.so itself.)
for f in "$prefix"/lib/dri/*_dri.so; do
	[ -e "$f" ] || continue
	strip --strip-unneeded -o "$dst/lib/dri/${f##*/}" "$f"
done
# Test-only (failing-first runs): MESA_MUTANT_LIBS names a directory of
# libraries (e.g. a libgallium built without one of the series' patches)
# staged over the built ones.
if [ -n "${MESA_MUTANT_LIBS:-}" ]; then
	for f in "$MESA_MUTANT_LIBS"/*.so*; do
		[ -f "$f" ] || continue
		cp "$f" "$dst/lib/${f##*/}"
		echo "  MESA    test-only: staged mutant ${f##*/}" >&2
	done
fi
for f in "$dst"/lib/libgallium-*.so "$dst"/lib/libvulkan_radeon.so; do
	[ -f "$f" ] && [ ! -L "$f" ] && strip --strip-unneeded "$f"
done
out=$RIG_OUT/mesa
mkdir -p "$out"
gcc -O2 -Wall -Werror "${pinned_flags[@]}" -o "$out/mesa_pinned" "$RIG_ROOT/rig/suites/mesa/mesa_pinned.c" \
	-I"$src/include" -L"$prefix/lib" -lEGL -Wl,-rpath,/mesa/lib \
	-Wl,-rpath-link,"$prefix/lib"
cp "$out/mesa_pinned" "$dst/"
if [ -e "$prefix/lib/libvulkan_radeon.so" ]; then
	gcc -O2 -Wall -Werror -o "$out/mesa_radv_hostptr" \
		"$RIG_ROOT/rig/suites/mesa/mesa_radv_hostptr.c" -I"$src/include" -ldl
	cp "$out/mesa_radv_hostptr" "$dst/"
fi
