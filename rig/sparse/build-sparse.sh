#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build Debian's sparse with our patches (rig/sparse/*.patch: typeof_unqual,
# constant __builtin_strlen) for the W=1 C=1 gate on kernels that need it
# (rig/README.md, "sparse").
#
# The source package comes with `apt-get source` (rig/fetch-source.sh: a
# private deb-src list under the cache; the host's sources are left alone),
# is unpacked with Debian's own patches, then ours are applied and
# plain `make` builds sparse (no llvm, gtk, libxml or sqlite parts). Its own
# tests of our patches run (SPARSE_SELFTEST=1: sparse's whole `make check`).
# Installs to $DRM_SVM_CACHE/sparse-<version>+typeof-unqual/ (outside the
# clone, like ccache; the name stays for any patch set) and prints the
# binary's path on stdout. Idempotent: nothing is fetched or built while
# the install matches the version and the patches.
set -euo pipefail

# The Makefile passes its pin; the default is the same (bookworm).
ver=${SPARSE_DEB_VERSION:-0.6.4-3}
cache=${DRM_SVM_CACHE:-/var/cache/drm-svm}
here=$(cd "$(dirname "$0")" && pwd)
dest=$cache/sparse-$ver+typeof-unqual
src=$cache/sparse-src
mapfile -t patches < <(find "$here" -maxdepth 1 -name '*.patch' | sort)
stamp="$ver $(cat "${patches[@]}" | sha256sum | cut -c1-16)"

if [ -x "$dest/bin/sparse" ] && [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$dest/bin/sparse"
	exit 0
fi

# --- source -----------------------------------------------------------------
dsc=$src/sparse_${ver#*:}.dsc
if [ ! -e "$dsc" ]; then
	command -v dpkg-source >/dev/null || {
		echo "build-sparse: needs dpkg-dev (make deps)" >&2
		exit 1
	}
	"$(dirname "$0")/../fetch-source.sh" sparse "$ver" "$src"
fi

# --- unpack, patch, build, test ----------------------------------------------
echo "  BUILD   sparse $ver + ${#patches[@]} patch(es) -> $dest" >&2
work=$(mktemp -d "$src/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-source --no-check -x "$dsc" "$work/sparse" >/dev/null 2>&1
cd "$work/sparse"
for p in "${patches[@]}"; do
	patch -s -p1 --no-backup-if-mismatch < "$p" || {
		echo "build-sparse: $(basename "$p") does not apply to sparse $ver" >&2
		exit 1
	}
done
# Debian's use-gcc-12.patch builds with gcc-12 (bookworm's gcc); any gcc
# does for the kernel, which sparse checks with -nostdinc.
cc=gcc-12
command -v "$cc" >/dev/null || cc=gcc
# Off: the optional programs sparse builds when their libraries are found.
opts=(CC="$cc" HAVE_LIBXML=no HAVE_SQLITE=no HAVE_GTK=no HAVE_LLVM=no
      SPARSE_VERSION="$ver+typeof-unqual" PREFIX="$dest.new")
make -s -j"${JOBS:-$(nproc)}" "${opts[@]}" > build.log 2>&1 || {
	cat build.log >&2
	echo "build-sparse: build failed" >&2
	exit 1
}
if [ -n "${SPARSE_SELFTEST:-}" ]; then
	tests=(check)
else
	# The validation tests our patches add.
	mapfile -t tests < <(sed -n 's,^+++ b/\(validation/.*\.c\)$,\1,p' "${patches[@]}")
fi
make -s "${opts[@]}" "${tests[@]}" > check.log 2>&1 || {
	cat check.log >&2
	echo "build-sparse: sparse's tests failed" >&2
	exit 1
}
rm -rf "$dest.new"
make -s "${opts[@]}" install-bin > /dev/null 2>&1
echo "$stamp" > "$dest.new/.stamp"
rm -rf "$dest"
mv "$dest.new" "$dest"
echo "$dest/bin/sparse"
