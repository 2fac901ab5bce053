#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# IGT suite, host side: build igt-tests/ (tests against Debian's libigt.so.0,
# our IGT-protocol runner, the runner self-test) and stage them in
# $RIG_STAGE/igt/. The rig adds the ldd closure (libigt.so.0 and its
# dependencies) of everything staged.
#
# Env: RIG_ROOT, RIG_STAGE, RIG_OUT, RIG_KHDR (headers_install dir, may be
# empty: then drm.h comes from libdrm-dev and the tests use igt_vsvm.h's
# copy of the userptr uapi).
set -euo pipefail
: "${RIG_ROOT:?}" "${RIG_STAGE:?}" "${RIG_OUT:?}"
out=$RIG_OUT/igt
make -s -C "$RIG_ROOT/igt-tests" O="$out" KHDR="${RIG_KHDR:-}" all

dst=$RIG_STAGE/igt
mkdir -p "$dst"
tests=$(make -s --no-print-directory -C "$RIG_ROOT/igt-tests" O="$out" list)
for t in $tests; do
	cp "$out/$t" "$dst/"
done
cp "$out/igt_run" "$dst/"
cp "$out/selftest/igt_runner_selftest" "$dst/"
cp "$RIG_ROOT/igt-tests/runner/selftest/run-selftest.sh" \
	"$RIG_ROOT/igt-tests/runner/selftest/expected.txt" "$dst/"
# vsvm_fault_inject is staged here but run by the fault suite
# (rig/suites/fault), not in this one.
echo "$tests" | tr ' ' '\n' | grep -vx vsvm_fault_inject > "$dst/tests.list"
# The IGT_* knobs of the guest side (guest.sh), from the host's environment:
# make check SUITES=igt IGT_FILTER=vsvm_svm
env | grep -E '^IGT_(TIMEOUT|FILTER|VERBOSE)=' | sed "s/=\(.*\)/='\1'/" > "$dst/igt.env" || true
