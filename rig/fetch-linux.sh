#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch the pinned linux-source binary package ($LINUX_PIN: "package version
# sha256-of-the-tarball") from trixie-backports without touching the host's
# apt sources: apt-get download with a private sources list and private
# list/cache directories under $DRM_SVM_CACHE/apt-<suite> (rig/apt-private.sh). The tarball is
# unpacked from the .deb to $LINUX_TARBALL and its sha256 verified.
#
# The archive drops superseded versions. When the pinned one is gone, this
# fails and prints the newest version on offer and the exact LINUX_PIN line
# to put in the Makefile instead.
set -euo pipefail
: "${LINUX_PIN:?}" "${LINUX_TARBALL:?}" "${DRM_SVM_CACHE:?}"
read -r pkg ver sha <<< "$LINUX_PIN"
suite=${LINUX_SUITE:-trixie-backports}

if [ -f "$LINUX_TARBALL" ] &&
   echo "$sha  $LINUX_TARBALL" | sha256sum -c --quiet - 2>/dev/null; then
	exit 0
fi

. "$(dirname "$0")/apt-private.sh"
echo "  FETCH   $pkg $ver ($suite)"
apt_private "$suite" "deb $DEBIAN_ARCHIVE $suite main"
newest() {
	apt-cache "${apt_opts[@]}" madison "$pkg" 2>/dev/null |
		awk -v s="$suite" '$0 ~ s { print $3 }' | sort -V | tail -n 1
}

# tarball_of DEB OUT: the linux-source tarball inside the .deb, to OUT.
tarball_of() {
	dpkg-deb --fsys-tarfile "$1" | tar -xO "./usr/src/$pkg.tar.xz" > "$2"
}

dl=$(mktemp -d "$DRM_SVM_CACHE/fetch.XXXXXX")
trap 'rm -rf "$dl"' EXIT
# A stale package list gets one apt-get update and a second try.
if ! (cd "$dl" && apt-get "${apt_opts[@]}" -qq download "$pkg=$ver") >/dev/null 2>&1 &&
   ! (apt-get "${apt_opts[@]}" -qq update && cd "$dl" &&
      apt-get "${apt_opts[@]}" -qq download "$pkg=$ver") >/dev/null 2>&1; then
	cand=$(newest)
	echo "rig: $pkg $ver is no longer in Debian's $suite archive." >&2
	if [ -n "$cand" ]; then
		(cd "$dl" && apt-get "${apt_opts[@]}" -qq download "$pkg=$cand") >/dev/null 2>&1
		tarball_of "$dl"/*.deb "$dl/t.tar.xz"
		nsha=$(sha256sum "$dl/t.tar.xz" | cut -d' ' -f1)
		echo "rig: the newest on offer is $cand. To bump, change one line in the Makefile to:" >&2
		echo "LINUX_PIN := $pkg $cand $nsha" >&2
		echo "rig: then 'make distclean' (the tree is unpacked anew) and run make check." >&2
	else
		echo "rig: no $pkg is on offer in $suite any more; see README.md (Bumping the kernel)." >&2
	fi
	exit 1
fi

mkdir -p "$(dirname "$LINUX_TARBALL")"
tarball_of "$dl"/*.deb "$LINUX_TARBALL.tmp"
if ! echo "$sha  $LINUX_TARBALL.tmp" | sha256sum -c --quiet -; then
	echo "rig: $pkg $ver: the tarball's sha256 is $(sha256sum "$LINUX_TARBALL.tmp" | cut -d' ' -f1), the pin says $sha" >&2
	rm -f "$LINUX_TARBALL.tmp"
	exit 1
fi
mv "$LINUX_TARBALL.tmp" "$LINUX_TARBALL"
echo "  FETCH   $LINUX_TARBALL (sha256 verified)"
