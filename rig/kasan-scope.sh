#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The debug kernel has KASAN only in $KASAN_ONLY_DIRS (the Makefile;
# rig/test-patches/0001). Check on the built objects that the code under
# test carries KASAN's checks and that a file outside those directories
# does not, so the scope is what README.md says. Prints one RESULT line.
set -uo pipefail
: "${KBUILD:?}"
name=rig.kasan-scope
if ! grep -q '^CONFIG_KASAN=y' "$KBUILD/.config" 2>/dev/null; then
	echo "RESULT skip $name this kernel has no KASAN (FLAVOR=${FLAVOR:-debug})"
	exit 0
fi
# Objects under test, and the helpers and mm code they run through.
inside="drivers/gpu/drm/drm_gpusvm.o drivers/gpu/drm/vsvm/vsvm.ko
	drivers/gpu/drm/radeon/radeon.ko mm/hmm.o mm/mmu_notifier.o
	lib/test_hmm.ko drivers/dma-buf/dma-fence.o"
# Outside every listed directory (unless KASAN_ONLY_DIRS is empty).
outside="fs/namei.o"

# instrumented OBJ: OBJ calls into KASAN's runtime.
instrumented() {
	# grep reads it all: -q would SIGPIPE nm under pipefail.
	nm -u "$KBUILD/$1" 2>/dev/null | grep ' __asan_' >/dev/null
}

bad=()
for o in $inside; do
	if [ ! -e "$KBUILD/$o" ]; then
		bad+=("$o missing")
	elif ! instrumented "$o"; then
		bad+=("$o has no KASAN")
	fi
done
for o in $outside; do
	if [ -n "${KASAN_ONLY_DIRS:-}" ] && instrumented "$o"; then
		bad+=("$o has KASAN although KASAN_ONLY_DIRS leaves it out")
	fi
done
if [ ${#bad[@]} -gt 0 ]; then
	echo "RESULT fail $name $(IFS=';'; echo "${bad[*]}")"
	exit 1
fi
echo "RESULT pass $name KASAN in ${KASAN_ONLY_DIRS:-every directory}: $(echo $inside | wc -w) objects under test instrumented${KASAN_ONLY_DIRS:+, $outside not}"
