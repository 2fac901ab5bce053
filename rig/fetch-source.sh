#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fetch-source.sh PKG VERSION DIR: download Debian's source package
# PKG=VERSION (the .dsc and its files) into DIR with `apt-get source`,
# unless DIR already has the .dsc. The deb-src entries (bookworm,
# bookworm-updates, bookworm-backports, trixie) live in a private list
# under $DRM_SVM_CACHE/apt-src (rig/apt-private.sh); the host's apt
# sources are left alone. Used for libdrm, Mesa and sparse.
set -euo pipefail
pkg=$1 ver=$2 dir=$3
dsc=$dir/${pkg}_${ver#*:}.dsc

[ -e "$dsc" ] && exit 0
. "$(dirname "$0")/apt-private.sh"
apt_private src "deb-src $DEBIAN_ARCHIVE bookworm main" \
	"deb-src $DEBIAN_ARCHIVE bookworm-updates main" \
	"deb-src $DEBIAN_ARCHIVE bookworm-backports main" \
	"deb-src $DEBIAN_ARCHIVE trixie main"
mkdir -p "$dir"
echo "  FETCH   $pkg $ver (source)" >&2
# A stale package list gets one apt-get update and a second try.
(cd "$dir" && apt-get "${apt_opts[@]}" source -qq --download-only "$pkg=$ver" >/dev/null 2>&1) ||
	(apt-get "${apt_opts[@]}" -qq update && cd "$dir" &&
	 apt-get "${apt_opts[@]}" source -qq --download-only "$pkg=$ver" >/dev/null)
[ -e "$dsc" ] || { echo "fetch-source: $pkg $ver: no $dsc after the download" >&2; exit 1; }
