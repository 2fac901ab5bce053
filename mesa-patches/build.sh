#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetch Debian's libdrm and Mesa sources, apply mesa-patches/, build libdrm
# (and run its meson tests) and Mesa into work/mesa*/prefix.
#
#   $1 = sources | tools | libdrm | mesa | all (default all)
#
# MESA_SERIES picks the pinned sources and the patch series:
#   22.3            bookworm's libdrm 2.4.114-1 and Mesa 22.3.6-1+deb12u2,
#                   mesa-patches/libdrm and mesa-patches/mesa; a minimal Mesa
#                   (r600, EGL surfaceless, the radeon drm-shim) in work/mesa
#   25.0 (default)  trixie's libdrm 2.4.124-2 and Mesa 25.0.7-2+deb13u1,
#                   mesa-patches/libdrm-2.4.124 and mesa-patches/mesa-25.0;
#                   r600, radeonsi, radv and both AMD drm-shims (with
#                   LLVM 15 when MESA_LLVM=enabled), in work/mesa-25.0 (meson 1.7.0 from bookworm-backports,
#                   unpacked privately: see tools())
#
# Sources are downloaded once into $DRM_SVM_CACHE/src (outside the clone)
# with a private deb-src list ($DRM_SVM_CACHE/apt-mesa-src; the host's apt
# sources are left alone); compiles go through ccache with its cache in
# $DRM_SVM_CACHE/ccache, so a fresh clone rebuilds from the cache. meson
# always runs with Debian's python3 (python3-mako), whatever python3 comes
# first on PATH.
set -euo pipefail
: "${ROOT:?}" "${W:?}"

MESA_SERIES=${MESA_SERIES:-25.0}
CACHE=${DRM_SVM_CACHE:-/var/cache/drm-svm}
case $MESA_SERIES in
22.3)
	LIBDRM_VERSION=${LIBDRM_VERSION:-2.4.114-1}
	MESA_VERSION=${MESA_VERSION:-22.3.6-1+deb12u2}
	LIBDRM_PATCHES=$ROOT/mesa-patches/libdrm
	MESA_PATCHES=$ROOT/mesa-patches/mesa
	M=$W/mesa
	MESON=(/usr/bin/python3 /usr/bin/meson)
	;;
25.0)
	# Mesa 25.0.7-2~bpo12+1 (bookworm-backports) is listed but its .dsc is
	# gone from the archive; trixie's 25.0.7-2+deb13u1 is the same
	# upstream tarball and Debian patches plus one CVE fix (SPIR-V).
	LIBDRM_VERSION=${LIBDRM_VERSION:-2.4.124-2}
	MESA_VERSION=${MESA_VERSION:-25.0.7-2+deb13u1}
	LIBDRM_PATCHES=$ROOT/mesa-patches/libdrm-2.4.124
	MESA_PATCHES=$ROOT/mesa-patches/mesa-25.0
	M=$W/mesa-25.0
	# Mesa 25.0 needs meson >= 1.1 (Debian built it with >= 1.4); bookworm
	# has 1.0.1, so bookworm-backports' meson is unpacked under the cache.
	MESON_BPO=${MESON_BPO:-1.7.0-1~bpo12+1}
	MESON_DIR=$CACHE/tools/meson-$MESON_BPO
	MESON=(/usr/bin/python3 "$MESON_DIR/meson")
	# From bookworm (main): what Mesa 25.0 needs beyond the rig's DEB_PKGS
	# for radeonsi and radv.
	MESA_DEB_PKGS=(glslang-tools python3-yaml python3-packaging libelf-dev)
	# MESA_LLVM=disabled (the default) builds radeonsi and radv with ACO
	# alone and r600 with its own (SFN) backend, as the 22.3 series does:
	# no llvm-15-dev on the host and no LLVM (with its ICU and Z3) in the
	# guest, whose initramfs stays near 22.3's size. MESA_LLVM=enabled
	# builds them as Debian does.
	MESA_LLVM=${MESA_LLVM:-disabled}
	case $MESA_LLVM in
	enabled) MESA_DEB_PKGS+=(llvm-15-dev) ;;
	disabled) ;;
	*) echo "MESA_LLVM=$MESA_LLVM: enabled or disabled" >&2; exit 2 ;;
	esac
	;;
*) echo "MESA_SERIES=$MESA_SERIES: 22.3 or 25.0" >&2; exit 2 ;;
esac
PREFIX=$M/prefix
JOBS=${JOBS:-$(nproc)}
what=${1:-all}

# MESA_CCACHE_DIR: another ccache directory (e.g. an empty one, to time a
# cold build without touching the shared cache).
export CCACHE_DIR=${MESA_CCACHE_DIR:-$CACHE/ccache} CCACHE_BASEDIR=$W CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-2G}
export CC="ccache gcc" CXX="ccache g++"
export PATH=/usr/bin:/bin:$PATH

# --- sources -------------------------------------------------------------
# Sources through rig/fetch-source.sh, tools through rig/apt-private.sh:
# private apt lists under $CACHE, the host's apt sources are left alone.
. "$ROOT/rig/apt-private.sh"

fetch() {
	"$ROOT/rig/fetch-source.sh" "$1" "$2" "$CACHE/src"
}

# Unpack (Debian's patches applied), then apply ours with git am. Redone
# whenever the patch series changes.
unpack() {
	local pkg=$1 ver=$2 patches=$3 dir=$M/src/$1 stamp sum
	sum=$(find "$patches" -name '*.patch' | sort | xargs -r cat | sha256sum | cut -c1-16)
	stamp="$ver $sum"
	[ -f "$dir.stamp" ] && [ "$(cat "$dir.stamp")" = "$stamp" ] && return 0
	echo "  UNPACK  $pkg $ver + ${patches#"$ROOT"/} ($(find "$patches" -name '*.patch' | wc -l) patches)"
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
		for p in "$patches"/*.patch; do
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
	unpack libdrm "$LIBDRM_VERSION" "$LIBDRM_PATCHES"
	unpack mesa "$MESA_VERSION" "$MESA_PATCHES"
}

# --- build tools (25.0) ------------------------------------------------------
# bookworm's packages through the rig's installer; meson from
# bookworm-backports downloaded with a private list and unpacked under the
# cache (not installed: the host's meson 1.0.1 stays for the 22.3 series).
tools() {
	[ "$MESA_SERIES" = 25.0 ] || return 0
	"$ROOT/rig/install-deps.sh" "${MESA_DEB_PKGS[@]}"
	[ -x "$MESON_DIR/meson" ] && return 0
	apt_private bookworm-backports "deb $DEBIAN_ARCHIVE bookworm-backports main"
	local dl
	dl=$(mktemp -d "$CACHE/meson.XXXXXX")
	echo "  FETCH   meson $MESON_BPO (bookworm-backports)"
	if ! (cd "$dl" && apt-get "${apt_opts[@]}" -qq download "meson=$MESON_BPO") >/dev/null 2>&1; then
		echo "mesa-patches: meson $MESON_BPO is not in bookworm-backports any more; on offer:" \
			"$(apt-cache "${apt_opts[@]}" madison meson | awk '{print $3}' | paste -sd' ')" \
			"(set MESON_BPO)" >&2
		rm -rf "$dl"
		exit 1
	fi
	dpkg-deb -x "$dl"/meson_*.deb "$dl/x"
	rm -rf "$MESON_DIR"
	mkdir -p "$(dirname "$MESON_DIR")"
	# The script finds mesonbuild/ beside itself when run uninstalled.
	mv "$dl/x/usr/lib/python3/dist-packages" "$MESON_DIR"
	cp "$dl/x/usr/bin/meson" "$MESON_DIR/meson"
	rm -rf "$dl"
	"${MESON[@]}" --version >/dev/null
}

# --- libdrm --------------------------------------------------------------
libdrm() {
	local b=$M/build-libdrm
	if [ ! -f "$b/build.ninja" ]; then
		local vc4=(-Dvc4=disabled)
		[ "$MESA_SERIES" = 22.3 ] || vc4=() # gone in 2.4.124
		"${MESON[@]}" setup "$b" "$M/src/libdrm" --prefix="$PREFIX" \
			--libdir=lib -Dbuildtype=debugoptimized \
			-Dradeon=enabled -Damdgpu=enabled -Dintel=disabled \
			-Dnouveau=disabled -Dvmwgfx=disabled -Domap=disabled \
			-Dexynos=disabled -Dfreedreno=disabled -Dtegra=disabled \
			"${vc4[@]}" -Detnaviv=disabled -Dcairo-tests=disabled \
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
# Mesa is built at -O1 rather than a release build's -O3: the tests check
# what Mesa does, not how fast, and a from-nothing make check pays for
# every compile (mesa-patches/README.md has the times). MESA_OPT overrides
# the level (e.g. 3 to keep a release build's directory).
MESA_OPT=${MESA_OPT:-1}

# The options a build directory was set up with (DIR/rig-options):
# mesa_stale_dir DIR removes DIR when they were others.
mesa_options() {
	echo "optimization=$MESA_OPT"
	if [ "$MESA_SERIES" = 25.0 ] && [ "$MESA_LLVM" != enabled ]; then
		echo "llvm=$MESA_LLVM"
	fi
}
mesa_stale_dir() {
	if [ -f "$1/build.ninja" ] && [ "$(cat "$1/rig-options" 2>/dev/null)" != "$(mesa_options)" ]; then
		rm -rf "$1"
	fi
}

mesa() {
	[ "$MESA_SERIES" = 22.3 ] || { mesa25; return; }
	local b=$M/build-mesa opt=$MESA_OPT
	mesa_stale_dir "$b"
	if [ ! -f "$b/build.ninja" ]; then
		PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig \
		"${MESON[@]}" setup "$b" "$M/src/mesa" --prefix="$PREFIX" \
			--libdir=lib -Doptimization=$opt -Ddebug=false -Db_ndebug=false \
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
		mesa_options > "$b/rig-options"
	fi
	echo "  BUILD   mesa (r600, EGL surfaceless, radeon drm-shim)"
	ninja -C "$b" -j"$JOBS" >"$M/mesa-build.log" 2>&1 || { grep -B5 -A20 'error' "$M/mesa-build.log" | head -80; exit 1; }
	ninja -C "$b" install >/dev/null
}

# Mesa 25.0: r600, radeonsi and radv (LLVM 15) with both AMD drm-shims and
# EGL surfaceless; Mesa's unit tests are built, and those of the parts the
# series touches run after the build: amd (ac_surface, radv's symbols),
# gallium (aux), r600, mesa:mesa and st_mesa (GL frontend), egl (symbols):
# 16 tests. ("mesa" alone names the whole project.) The drm-shim and the
# winsys have no meson tests of their own.
MESA25_TEST_SUITES=${MESA25_TEST_SUITES:-amd gallium r600 mesa:mesa st_mesa egl}

# What is built: what "meson install" installs and what those tests run,
# not every target -Dbuild-tests=true configures (nir's, glsl's and util's
# unit tests, gtest for them, the pipe-loader test targets...): that is a
# quarter of Mesa 25.0's compile time the rig has no use for. One ninja
# target a line, relative to the build directory.
mesa25_targets() {
	local b=$1
	ninja -C "$b" -t targets all | sed 's/: [^:]*$//' >"$b/rig-ninja-targets"
	{
		"${MESON[@]}" introspect --installed "$b"
		echo
		"${MESON[@]}" introspect --tests "$b"
	} | MESA25_TEST_SUITES=$MESA25_TEST_SUITES python3 -c '
import json, os, sys
b = os.path.realpath(sys.argv[1])
known = set(open(sys.argv[2]).read().split("\n"))
installed, tests = sys.stdin.read().split("\n", 1)
want = os.environ["MESA25_TEST_SUITES"].split()
def picked(suites):
    return any(t == w or (":" not in w and t.endswith(":" + w)) for t in suites for w in want)
paths = list(json.loads(installed))
for t in json.loads(tests):
    if picked(t["suite"]):
        paths += t["cmd"]
out = set()
for p in paths:
    r = os.path.relpath(os.path.realpath(p) if os.path.isabs(p) else p, b)
    if r in known:
        out.add(r)
if not out:
    sys.exit("mesa25_targets: no ninja target found")
print("\n".join(sorted(out)))
' "$b" "$b/rig-ninja-targets"
}
mesa25() {
	local b=$M/build-mesa opt=$MESA_OPT
	mesa_stale_dir "$b"
	if [ ! -f "$b/build.ninja" ]; then
		PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig \
		"${MESON[@]}" setup "$b" "$M/src/mesa" --prefix="$PREFIX" \
			--libdir=lib -Doptimization=$opt -Ddebug=false -Db_ndebug=false \
			-Dplatforms= -Degl=enabled -Dglx=disabled -Dgbm=disabled \
			-Dopengl=true -Dgles1=disabled -Dgles2=disabled \
			-Dshared-glapi=enabled -Dglvnd=disabled \
			-Dllvm="$MESA_LLVM" -Dshared-llvm=enabled -Ddraw-use-llvm=false \
			-Dgallium-drivers=r600,radeonsi -Dvulkan-drivers=amd \
			-Dvulkan-layers= -Dtools=drm-shim \
			-Dgallium-vdpau=disabled -Dgallium-va=disabled \
			-Dgallium-xa=disabled -Dgallium-nine=false \
			-Dgallium-rusticl=false \
			-Dvalgrind=disabled -Dlibunwind=disabled -Dlmsensors=disabled \
			-Dzstd=disabled -Dshader-cache=disabled \
			-Dbuild-tests=true -Dbuild-aco-tests=false \
			-Dosmesa=false -Dvideo-codecs= \
			-Dmicrosoft-clc=disabled -Dxmlconfig=disabled \
			-Dperfetto=false -Damdgpu-virtio=false -Dteflon=false \
			>"$M/mesa-setup.log" 2>&1 || { cat "$M/mesa-setup.log"; exit 1; }
		mesa_options > "$b/rig-options"
	fi
	echo "  BUILD   mesa $MESA_VERSION (r600, radeonsi, radv, AMD drm-shims)"
	local targets
	targets=$(mesa25_targets "$b") || exit 1
	# shellcheck disable=SC2086 # one target a word
	ninja -C "$b" -j"$JOBS" $targets >"$M/mesa-build.log" 2>&1 ||
		{ grep -B5 -A20 'error' "$M/mesa-build.log" | head -80; exit 1; }
	# (grep -c fails when it counts none)
	echo "  BUILD   mesa compiler warnings: $(grep -c 'warning:' "$M/mesa-build.log" || true)"
	"${MESON[@]}" install -C "$b" --no-rebuild --quiet >/dev/null
	local suites=()
	for s in $MESA25_TEST_SUITES; do suites+=(--suite "$s"); done
	"${MESON[@]}" test -C "$b" --no-rebuild --print-errorlogs "${suites[@]}" \
		>"$M/mesa-test.log" 2>&1 || { tail -60 "$M/mesa-test.log"; exit 1; }
	grep -E '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout):' "$M/mesa-test.log" |
		tr -s ' ' | paste -sd' ' | sed "s/^/  TEST    mesa meson test ($MESA25_TEST_SUITES): /"
}

start=$(date +%s)
case $what in
sources) sources ;;
tools) tools ;;
libdrm) tools; sources; libdrm ;;
mesa|all) tools; sources; libdrm; mesa ;;
*) echo "usage: $0 sources|tools|libdrm|mesa|all" >&2; exit 2 ;;
esac
echo "  MESA    $what done in $(( $(date +%s) - start ))s (ccache: $(ccache -s 2>/dev/null | grep -Ei '^ *(hits|cache hit \(rate\))' | head -1 | tr -s ' '))"
