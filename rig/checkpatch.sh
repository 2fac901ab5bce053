#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Style gate for everything we add to the kernel: checkpatch --strict on every
# overlay file and every patch, kernel-doc -none on overlay C files/headers.
# Exits non-zero on any error, warning or check.
set -uo pipefail
: "${ROOT:?}" "${KSRC:?}"
# spdxcheck.py wants Debian's python3 (python3-ply, python3-git).
export PATH="/usr/bin:/bin:$PATH"
cd "$KSRC" || exit 1
fail=0
# UNKNOWN_COMMIT_ID: the pristine tree has no upstream history, so a
# correct Fixes: tag cannot be looked up here.
cp_opts=(--strict --quiet --no-summary --show-types --ignore FILE_PATH_CHANGES,UNKNOWN_COMMIT_ID)
for c in $COMPONENTS; do
	if [ -f "$ROOT/$c/overlay.list" ]; then
		while read -r src dst; do
			case "$src" in ''|'#'*) continue ;; esac
			case "$dst" in *.c|*.h) ;; *) continue ;; esac
			# Check the in-tree copy: checkpatch's rules depend on the
			# path (e.g. include/uapi/ may not use BIT()).
			cmp -s "$ROOT/$c/$src" "$dst" ||
				{ echo "$dst: out of date, run make tree"; fail=1; }
			out=$(scripts/checkpatch.pl "${cp_opts[@]}" -f "$dst" 2>&1)
			[ -n "$out" ] && { echo "$out"; fail=1; }
			out=$(scripts/kernel-doc -none "$ROOT/$c/$src" 2>&1)
			[ -n "$out" ] && { echo "$out"; fail=1; }
		done < "$ROOT/$c/overlay.list"
	fi
	for p in "$ROOT/$c"/patches/*.patch; do
		[ -e "$p" ] || continue
		# FILE_PATH_CHANGES: MAINTAINERS covers whole driver directories.
		out=$(scripts/checkpatch.pl "${cp_opts[@]}" "$p" 2>&1)
		[ -n "$out" ] && { echo "$p:"; echo "$out"; fail=1; }
	done
done
if [ $fail = 0 ]; then echo "checkpatch --strict, kernel-doc: clean"; fi
exit $fail
