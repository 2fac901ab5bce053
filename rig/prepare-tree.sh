#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prepare the kernel tree in $KSRC:
#  1. unpack the pinned Debian linux-source tarball (checksum verified) into a
#     git repository whose tag "base" is the pristine tree;
#  2. when the patch series changed, reset to base and "git am" every
#     component's patches/ in $COMPONENTS order;
#  3. copy each component's new files in, per its overlay.list. Files that did
#     not change keep their timestamps, so kbuild stays incremental.
set -euo pipefail
: "${ROOT:?}" "${W:?}" "${KSRC:?}"
ver=${KERNEL:?}
tmpd=$KSRC.tmp

mkdir -p "$W"
if [ ! -e "$KSRC/.git/refs/tags/base" ]; then
	echo "  VERIFY  $LINUX_TARBALL"
	echo "$LINUX_TARBALL_SHA256  $LINUX_TARBALL" | sha256sum -c --quiet -
	echo "  UNPACK  linux $LINUX_DEB_VERSION"
	rm -rf "$KSRC" "$tmpd"
	mkdir -p "$tmpd"
	tar -C "$tmpd" -xf "$LINUX_TARBALL" --strip-components=1
	(
		cd "$tmpd"
		git init -q
		git config user.name "drm_svm rig"
		git config user.email "rig@drm-svm.invalid"
		git config gc.auto 0
		git add -f -A
		git commit -q -m "Linux $(make -s kernelversion) (Debian linux-source-$ver $LINUX_DEB_VERSION)"
		# Debian's .gitignore ignores the whole top level; drop that stanza.
		sed -i '/^# Debian packaging: ignore everything/,$d' .gitignore
		sed -i '$d' .gitignore
		git commit -q -a -m "rig: do not ignore the whole tree (Debian packaging stanza)"
		git tag base
	)
	mv "$tmpd" "$KSRC"
fi

# No automatic gc in the work tree: "git gc --auto" (run by git am and
# commit) daemonises a "git repack" that inherits the descriptor of our
# flock on kbuild.lock, and every later locked step then waits for it.
git -C "$KSRC" config gc.auto 0
git -C "$KSRC" config maintenance.auto false

# Collect the series in order.
patches=()
for c in $COMPONENTS; do
	[ -d "$ROOT/$c/patches" ] || continue
	for p in "$ROOT/$c/patches"/*.patch; do
		[ -e "$p" ] && patches+=("$p")
	done
done
# Test-only patches (<component>/test-patches/, e.g. radeon's GART switch)
# come last; the rig applies them, "make series" does not export them.
for c in $COMPONENTS; do
	for p in "$ROOT/$c"/test-patches/*.patch; do
		[ -e "$p" ] && patches+=("$p")
	done
done
sum=$(cat /dev/null "${patches[@]}" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$W/.series-applied-$ver" 2>/dev/null)" != "$sum" ] ||
   [ -n "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ]; then
	echo "  PATCH   ${#patches[@]} patch(es) onto base"
	git -C "$KSRC" am --abort >/dev/null 2>&1 || true
	# Overlay files are untracked; take them out so "git am" never
	# trips over them (they are copied back below).
	for c in $COMPONENTS; do
		[ -f "$ROOT/$c/overlay.list" ] || continue
		while read -r src dst; do
			case "$src" in ''|'#'*) continue ;; esac
			git -C "$KSRC" ls-files --error-unmatch "$dst" >/dev/null 2>&1 ||
				rm -f "$KSRC/$dst"
		done < "$ROOT/$c/overlay.list"
	done
	git -C "$KSRC" checkout -q -f -B rig base
	if [ ${#patches[@]} -gt 0 ]; then
		git -C "$KSRC" am -q --committer-date-is-author-date "${patches[@]}"
	fi
	echo "$sum" > "$W/.series-applied-$ver"
fi

# Overlay new files.
for c in $COMPONENTS; do
	list="$ROOT/$c/overlay.list"
	[ -f "$list" ] || continue
	while read -r src dst; do
		case "$src" in ''|'#'*) continue ;; esac
		if [ ! -f "$ROOT/$c/$src" ]; then
			echo "rig: $c/overlay.list: missing $src" >&2
			exit 1
		fi
		mkdir -p "$(dirname "$KSRC/$dst")"
		cmp -s "$ROOT/$c/$src" "$KSRC/$dst" || cp "$ROOT/$c/$src" "$KSRC/$dst"
	done < "$list"
done
