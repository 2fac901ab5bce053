#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fetch-source.sh PKG VERSION DIR: download Debian's source package
# PKG=VERSION (the .dsc and its files) into DIR with `apt-get source`,
# unless DIR already has the .dsc. The deb-src entry it needs
# (bookworm, bookworm-updates) is added once as
# /etc/apt/sources.list.d/drm-svm-src.sources; the host's other apt
# sources are left alone. Used for libdrm, Mesa and sparse.
set -euo pipefail
pkg=$1 ver=$2 dir=$3

[ -e "$dir/${pkg}_${ver#*:}.dsc" ] && exit 0
if [ ! -e /etc/apt/sources.list.d/drm-svm-src.sources ]; then
	cat > /etc/apt/sources.list.d/drm-svm-src.sources <<-EOS
	Types: deb-src
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOS
	apt-get update -qq
fi
mkdir -p "$dir"
echo "  FETCH   $pkg $ver (source)" >&2
# A stale package list gets one apt-get update and a second try.
(cd "$dir" && apt-get source -qq --download-only "$pkg=$ver" >/dev/null 2>&1) ||
	(apt-get update -qq && cd "$dir" &&
	 apt-get source -qq --download-only "$pkg=$ver" >/dev/null)
