#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The "make run" demo. Until the vsvm demo program exists, the upstream
# hmm-tests smoke (a few mirror/migrate cases against test_hmm) stands in.
set -euo pipefail
if [ -f "$RIG_ROOT/demo/Makefile" ]; then
	make -s -C "$RIG_ROOT/demo" O="$RIG_OUT/demo" KHDR="$RIG_KHDR"
	cp "$RIG_OUT/demo/vsvm_demo" "$RIG_SUITE_DIR/"
else
	RIG_SUITE_DIR=$RIG_SUITE_DIR "$RIG_ROOT/rig/suites/hmm/host.sh"
fi
