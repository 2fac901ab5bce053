#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# W=1 + sparse gate for every kernel C file we add or change: the .c files
# of each component's overlay.list and the .c/.h files its patches touch.
#
# The object of each of those C files is compiled with W=1 C=1 in a build
# directory of its own ($W/build-w1-$KERNEL), so the test kernel keeps its
# flags and stays incremental. Its .config is the debug test kernel's with
# every component's kernel.config, amdgpu's and nouveau's included even
# when the test kernel leaves those modules out (DRIVERS in the Makefile):
# every file we touch is compiled here, and one that does not build fails
# the gate. The same objects are compiled from the pristine tree too (a
# git worktree of $KSRC at tag "base", $W/build-w1-base-$KERNEL), and only
# warnings the pristine files do not have count: "without new warnings".
# Objects are deleted first, so every run compiles and checks again (gcc
# through ccache, which replays the warnings; sparse runs each time).
#
# sparse is $SPARSE (the Makefile's: ours, from rig/sparse/; SPARSE=sparse
# for Debian's), for both builds, so the comparison stays fair.
#
# A warning is "path: message" without line numbers, counted per path.
# Prints the new warnings and a summary; exits non-zero on any new one.
set -uo pipefail
: "${ROOT:?}" "${W:?}" "${KSRC:?}"
out=$W/build-w1-${KERNEL:?}
base_src=$W/base-tree-$KERNEL
base_out=$W/build-w1-base-$KERNEL

files=()
for c in $COMPONENTS; do
	if [ -f "$ROOT/$c/overlay.list" ]; then
		while read -r src dst; do
			case "$src" in ''|'#'*) continue ;; esac
			case "$dst" in *.c|*.h) files+=("$dst") ;; esac
		done < "$ROOT/$c/overlay.list"
	fi
	for p in "$ROOT/$c"/patches/*.patch; do
		[ -e "$p" ] || continue
		while read -r f; do
			files+=("$f")
		done < <(sed -n 's,^+++ b/\(.*\.[ch]\)$,\1,p' "$p")
	done
done
if [ ${#files[@]} = 0 ]; then
	echo "wcheck: no kernel C file is added or patched for this kernel"
	exit 0
fi
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)

# amdkfd has no kbuild directory of its own: amdgpu's Makefile builds its
# files as ../amdkfd/*.o, with amdgpu's include paths, so that is the
# target name that compiles them (and the path gcc prints).
kfd_dir=drivers/gpu/drm/amd/amdkfd/
kfd_via=drivers/gpu/drm/amd/amdgpu/../amdkfd/
objs=()
for f in "${files[@]}"; do
	case "$f" in
	"$kfd_dir"*.c) o=${f%.c}.o; objs+=("$kfd_via${o#"$kfd_dir"}") ;;
	*.c) objs+=("${f%.c}.o") ;;
	esac
done

kcc=gcc
command -v ccache >/dev/null && kcc="ccache gcc"
check=${SPARSE:-sparse}

# build SRC OUT LOG OBJ...: compile OBJs with W=1 C=1, log to LOG.
build() {
	local src=$1 bout=$2 log=$3 o
	shift 3
	mkdir -p "$bout"
	cmp -s "$out/.config" "$bout/.config" || cp "$out/.config" "$bout/.config"
	for o in "$@"; do
		rm -f "$bout/$o"
	done
	CCACHE_DIR=${DRM_SVM_CACHE:-/var/cache/drm-svm}/ccache \
		CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1 \
		make -s -C "$src" O="$bout" -j"${JOBS:-2}" CC="$kcc" W=1 C=1 \
		CHECK="$check" "$@" > "$log" 2>&1
}

# warnings SRC LOG: "path: message" for our files, one per line.
warnings() {
	local src=$1 log=$2 line path
	grep -E '^[^ :]+:[0-9]+:([0-9]+:)? (warning|error):' "$log" |
	while IFS= read -r line; do
		path=${line%%:*}
		# sparse prints absolute paths, gcc paths relative to O=.
		path=${path#"$src"/}
		path=${path#../"${src##*/}"/}
		path=${path/"$kfd_via"/"$kfd_dir"}
		printf '%s\n' "${files[@]}" | grep -qxF "$path" || continue
		printf '%s: %s\n' "$path" \
			"$(sed -E 's/^[^:]+:[0-9]+:([0-9]+:)? *//' <<< "$line")"
	done | sort
}

# Since 6.19 kbuild silently drops C=1 when the checker cannot parse the
# kernel's headers (scripts/checker-valid.sh); say so.
sparse_note="sparse $("$check" --version 2>/dev/null)"
if [ -x "$KSRC/scripts/checker-valid.sh" ] &&
   ! [ "$("$KSRC/scripts/checker-valid.sh" "$check" 2>/dev/null)" = 1 ]; then
	sparse_note="$check cannot parse this kernel (scripts/checker-valid.sh): kbuild drops C=1, W=1 only"
fi

exec 9> "${KBUILD_LOCK:-$W/kbuild.lock}"
flock 9
mkdir -p "$out"
KBUILD=$out FLAVOR=debug CONFIG_COMPONENTS=$COMPONENTS \
	"$ROOT/rig/make-config.sh" > /dev/null || exit 1
echo "wcheck: W=1 C=1 on ${#objs[@]} objects (${#files[@]} files), $sparse_note"
if ! build "$KSRC" "$out" "$out/wcheck.log" "${objs[@]}"; then
	cat "$out/wcheck.log"
	echo "wcheck: build failed"
	exit 1
fi

# The pristine tree, for the objects whose source exists there.
if [ ! -e "$base_src/Makefile" ]; then
	git -C "$KSRC" worktree prune
	rm -rf "$base_src"
	git -C "$KSRC" worktree add -q --detach "$base_src" base || exit 1
fi
bobjs=()
for o in "${objs[@]}"; do
	[ -e "$base_src/${o%.o}.c" ] && bobjs+=("$o")
done
: > "$base_out.log"
if [ ${#bobjs[@]} -gt 0 ] &&
   ! build "$base_src" "$base_out" "$base_out.log" "${bobjs[@]}"; then
	# A pristine object may not build against the pristine headers with
	# our config (e.g. a file we add a dependency to); keep what it gave.
	echo "wcheck: note: the pristine build stopped early, see $base_out.log"
fi

warnings "$KSRC" "$out/wcheck.log" > "$out/warnings.now"
warnings "$base_src" "$base_out.log" > "$out/warnings.base"
# Multiset difference: a message counts as new beyond its pristine count.
new=$(awk 'NR == FNR { base[$0]++; next }
	   base[$0] > 0 { base[$0]--; next } { print }' \
	  "$out/warnings.base" "$out/warnings.now")
known=$(( $(wc -l < "$out/warnings.now") - $(grep -c . <<< "$new") ))
[ -n "$new" ] && printf '%s\n' "$new" "(with line numbers: $out/wcheck.log)"
echo "wcheck: ${#objs[@]} objects, $(grep -c . <<< "$new") new warning(s), $known also in the pristine files"
[ -z "$new" ]
