#!/bin/sh
# SPDX-License-Identifier: MIT
# Runner self-test (host): run igt_run on a tiny IGT-format binary linked
# against the real libigt.so.0 and check it reports exactly the expected
# pass/skip/fail lines (expected.txt), including dynamic subtests, a
# timeout and a crash. Exits non-zero on any mismatch.
#
#   sh run-selftest.sh [IGT_RUN] [SELFTEST_BINARY]
#   (or: make -C igt-tests selftest [O=...])
set -u
here=$(cd "$(dirname "$0")" && pwd)
run=${1:-$here/../../build/igt_run}
bin=${2:-$here/../../build/selftest/igt_runner_selftest}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$run" -t 10 -o "$tmp/logs" "$bin" > "$tmp/out" 2>&1
rc=$?
grep '^RESULT ' "$tmp/out" > "$tmp/got"
status=0
if ! diff -u "$here/expected.txt" "$tmp/got"; then
	echo "igt runner selftest: RESULT lines differ from expected.txt" >&2
	status=1
fi
# igt_run exits 1 when anything failed (this binary has failures).
if [ "$rc" != 1 ]; then
	echo "igt runner selftest: igt_run exit status $rc, want 1" >&2
	status=1
fi
# The per-subtest logs must exist.
if [ ! -s "$tmp/logs/igt.igt_runner_selftest.fail.log" ]; then
	echo "igt runner selftest: no per-subtest log written" >&2
	status=1
fi
# An unknown binary is reported as a failure, not silently dropped.
"$run" "$tmp/does-not-exist" > "$tmp/missing" 2>&1
if ! grep -q '^RESULT fail igt.does-not-exist binary missing' "$tmp/missing"; then
	echo "igt runner selftest: missing binary not reported" >&2
	status=1
fi
if [ $status = 0 ]; then
	echo "igt runner selftest: OK ($(wc -l < "$tmp/got") results as expected)"
else
	echo "--- full igt_run output:" >&2
	cat "$tmp/out" >&2
fi
exit $status
