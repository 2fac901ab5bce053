#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The "make run" demo: demo/vsvm_demo.c against the built kernel's uapi.
set -euo pipefail
make -s -C "$RIG_ROOT/demo" O="$RIG_OUT/demo" KHDR="$RIG_KHDR"
cp "$RIG_OUT/demo/vsvm_demo" "$RIG_SUITE_DIR/"
