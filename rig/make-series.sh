#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Export everything we change in the kernel as one git-am-able series on top
# of the pristine tree (tag "base"): for each component, in COMPONENTS order,
# a commit adding its new files (message: <component>/overlay.commit), then
# its patches. The series is then applied to a second clean checkout with
# git am and the result compared with the first, so what we hand out is
# known to apply.
set -euo pipefail
: "${ROOT:?}" "${W:?}" "${KSRC:?}"

# Commits carry the project's identity (from this repository's git config).
GIT_AUTHOR_NAME=$(git -C "$ROOT" config user.name || echo "drm_svm maintainers")
GIT_AUTHOR_EMAIL=$(git -C "$ROOT" config user.email || echo "drm-svm@invalid")
export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

out=$W/series
wt=$W/series-tree
check=$W/series-check
git -C "$KSRC" worktree remove --force "$wt" >/dev/null 2>&1 || true
git -C "$KSRC" worktree remove --force "$check" >/dev/null 2>&1 || true
git -C "$KSRC" worktree prune
rm -rf "$out" "$wt" "$check"
git -C "$KSRC" worktree add -q --detach "$wt" base

for c in $COMPONENTS; do
	list="$ROOT/$c/overlay.list"
	if [ -f "$list" ]; then
		msg="$ROOT/$c/overlay.commit"
		[ -f "$msg" ] || { echo "rig: $c: overlay.list without overlay.commit" >&2; exit 1; }
		while read -r src dst; do
			case "$src" in ''|'#'*) continue ;; esac
			mkdir -p "$(dirname "$wt/$dst")"
			cp "$ROOT/$c/$src" "$wt/$dst"
			git -C "$wt" add "$dst"
		done < "$list"
		git -C "$wt" commit -q -F "$msg"
	fi
	for p in "$ROOT/$c"/patches/*.patch; do
		[ -e "$p" ] && git -C "$wt" am -q "$p"
	done
done

git -C "$wt" format-patch -q -o "$out" base..HEAD
git -C "$KSRC" worktree add -q --detach "$check" base
git -C "$check" am -q "$out"/*.patch
if [ "$(git -C "$wt" rev-parse 'HEAD^{tree}')" != "$(git -C "$check" rev-parse 'HEAD^{tree}')" ]; then
	echo "rig: series does not reproduce the tree when applied with git am" >&2
	exit 1
fi
git -C "$KSRC" worktree remove --force "$wt"
git -C "$KSRC" worktree remove --force "$check"
echo "series: $(ls "$out" | wc -l) patches in $out (git am on Linux $(make -s -C "$KSRC" kernelversion); verified)"
ls "$out"
