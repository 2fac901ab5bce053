#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fault-injection suite: the userptr and SVM basics on vsvm with allocation
# failures injected into the vsvm/drm_gpusvm paths (igt-tests/vsvm/
# vsvm_fault_inject.c, staged in /igt by the igt suite's host.sh). Every
# failure must reach userspace as a documented errno; then vsvm is
# unloaded and nothing may have leaked. Any splat fails the run.
dir=${IGT_DIR:-/igt}
. /rig/lib.sh
export HOME=${HOME:-/root} TMPDIR=/tmp
mkdir -p "$HOME" /tmp/fault-logs

module_load_begin vsvm || echo "RESULT fail fault.vsvm.load modprobe vsvm failed"
$dir/igt_run -v -t ${IGT_TIMEOUT:-600} -o /tmp/fault-logs $dir/vsvm_fault_inject
echo "fault: igt_run exit status $?"
rm -rf /tmp/fault-logs
module_unload_check vsvm fault.vsvm
exit 0
