#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetch Debian bookworm's libdrm and Mesa sources, apply mesa-patches/, build
# libdrm (and run its meson tests) and a minimal Mesa (r600, EGL surfaceless,
# the radeon drm-shim) into work/mesa/prefix.
#
#   $1 = sources | libdrm | mesa | all (default all)
#
# Sources are downloaded once into $DRM_SVM_CACHE/src (outside the clone) from
# a deb-src entry this script adds; compiles go through ccache with its cache
# in $DRM_SVM_CACHE/ccache, so a fresh clone rebuilds from the cache.
# meson always runs with Debian's python3 (python3-mako), whatever python3
# comes first on PATH.
set -euo pipefail
: "${ROOT:?}" "${W:?}"

LIBDRM_VERSION=${LIBDRM_VERSION:-2.4.114-1}
MESA_VERSION=${MESA_VERSION:-22.3.6-1+deb12u2}
CACHE=${DRM_SVM_CACHE:-/var/cache/drm-svm}
M=$W/mesa
PREFIX=$M/prefix
MESON=(/usr/bin/python3 /usr/bin/meson)
JOBS=${JOBS:-$(nproc)}
what=${1:-all}

export CCACHE_DIR=$CACHE/ccache CCACHE_BASEDIR=$W CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
export CC="ccache gcc" CXX="ccache g++"
export PATH=/usr/bin:/bin:$PATH

# --- sources -------------------------------------------------------------
fetch() {
	"$ROOT/rig/fetch-source.sh" "$1" "$2" "$CACHE/src"
}

# Unpack (Debian's patches applied), then apply ours with git am. Redone
# whenever the patch series changes.
unpack() {
	local pkg=$1 ver=$2 dir=$M/src/$1 stamp sum
	sum=$(find "$ROOT/mesa-patches/$pkg" -name '*.patch' | sort | xargs -r cat | sha256sum | cut -c1-16)
	stamp="$ver $sum"
	[ -f "$dir.stamp" ] && [ "$(cat "$dir.stamp")" = "$stamp" ] && return 0
	echo "  UNPACK  $pkg $ver + mesa-patches/$pkg ($(find "$ROOT/mesa-patches/$pkg" -name '*.patch' | wc -l) patches)"
	rm -rf "$dir" "$dir.stamp"
	mkdir -p "$M/src"
	dpkg-source --no-check -x "$CACHE/src/${pkg}_${ver#*:}.dsc" "$dir" >/dev/null
	(
		cd "$dir"
		git init -q -b debian
		git -c user.name=drm-svm -c user.email=drm-svm@localhost add -A -f
		git -c user.name=drm-svm -c user.email=drm-svm@localhost \
			commit -q -m "$pkg $ver (Debian source package)"
		git tag debian-base
		for p in "$ROOT"/mesa-patches/"$pkg"/*.patch; do
			[ -e "$p" ] || continue
			git -c user.name=drm-svm -c user.email=drm-svm@localhost \
				am -q --whitespace=nowarn "$p" || {
				echo "mesa-patches: $(basename "$p") does not apply to $pkg $ver" >&2
				git am --abort
				exit 1
			}
		done
	)
	echo "$stamp" > "$dir.stamp"
}

sources() {
	fetch libdrm "$LIBDRM_VERSION"
	fetch mesa "$MESA_VERSION"
	unpack libdrm "$LIBDRM_VERSION"
	unpack mesa "$MESA_VERSION"
}

# --- libdrm --------------------------------------------------------------
libdrm() {
	local b=$M/build-libdrm
	if [ ! -f "$b/build.ninja" ]; then
		"${MESON[@]}" setup "$b" "$M/src/libdrm" --prefix="$PREFIX" \
			--libdir=lib -Dbuildtype=debugoptimized \
			-Dradeon=enabled -Damdgpu=enabled -Dintel=disabled \
			-Dnouveau=disabled -Dvmwgfx=disabled -Domap=disabled \
			-Dexynos=disabled -Dfreedreno=disabled -Dtegra=disabled \
			-Dvc4=disabled -Detnaviv=disabled -Dcairo-tests=disabled \
			-Dman-pages=disabled -Dvalgrind=disabled -Dudev=false \
			-Dtests=true -Dinstall-test-programs=false >"$M/libdrm-setup.log" 2>&1 ||
			{ cat "$M/libdrm-setup.log"; exit 1; }
	fi
	echo "  BUILD   libdrm"
	ninja -C "$b" -j"$JOBS" >"$M/libdrm-build.log" 2>&1 || { tail -40 "$M/libdrm-build.log"; exit 1; }
	ninja -C "$b" install >/dev/null
	"${MESON[@]}" test -C "$b" --print-errorlogs >"$M/libdrm-test.log" 2>&1 ||
		{ cat "$M/libdrm-test.log"; exit 1; }
	grep -E '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout):' "$M/libdrm-test.log" |
		tr -s ' ' | paste -sd' ' | sed 's/^/  TEST    libdrm meson test: /'
}

# --- Mesa ----------------------------------------------------------------
mesa() {
	local b=$M/build-mesa
	if [ ! -f "$b/build.ninja" ]; then
		PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig \
		"${MESON[@]}" setup "$b" "$M/src/mesa" --prefix="$PREFIX" \
			--libdir=lib -Dbuildtype=release -Db_ndebug=false \
			-Dplatforms= -Degl=enabled -Dglx=disabled -Dgbm=disabled \
			-Dopengl=true -Dgles1=disabled -Dgles2=disabled \
			-Dshared-glapi=enabled -Dglvnd=false -Dllvm=disabled \
			-Dgallium-drivers=r600 -Dvulkan-drivers= -Ddri3=disabled \
			-Dgallium-vdpau=disabled -Dgallium-va=disabled \
			-Dgallium-xa=disabled -Dgallium-omx=disabled \
			-Dgallium-nine=false -Dgallium-opencl=disabled \
			-Dvalgrind=disabled -Dlibunwind=disabled -Dlmsensors=disabled \
			-Dzstd=disabled -Dshader-cache=disabled -Dbuild-tests=false \
			-Dselinux=false -Dosmesa=false -Dvideo-codecs= \
			-Dmicrosoft-clc=disabled -Dtools=drm-shim \
			>"$M/mesa-setup.log" 2>&1 || { cat "$M/mesa-setup.log"; exit 1; }
	fi
	echo "  BUILD   mesa (r600, EGL surfaceless, radeon drm-shim)"
	ninja -C "$b" -j"$JOBS" >"$M/mesa-build.log" 2>&1 || { grep -B5 -A20 'error' "$M/mesa-build.log" | head -80; exit 1; }
	ninja -C "$b" install >/dev/null
}

start=$(date +%s)
case $what in
sources) sources ;;
libdrm) sources; libdrm ;;
mesa|all) sources; libdrm; mesa ;;
*) echo "usage: $0 sources|libdrm|mesa|all" >&2; exit 2 ;;
esac
echo "  MESA    $what done in $(( $(date +%s) - start ))s (ccache: $(ccache -s 2>/dev/null | grep -Ei '^ *(hits|cache hit \(rate\))' | head -1 | tr -s ' '))"
