#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# amdgpu suite, guest side. No QEMU device is driven by amdgpu (QEMU's
# ati-vga is an R100, which amdgpu leaves to radeon), so this proves what
# can be proven without one: amdgpu.ko (userptr on drm_svm, KFD built in)
# and amdxcp.ko load, /dev/kfd opens, answers GET_VERSION and closes, the
# module unloads, kmemleak stays quiet and the memory comes back. The
# harness fails the run on any splat these steps print.
cd /rig/suites/amdgpu || exit 1
. /rig/lib.sh
[ -d /sys/kernel/debug/dri ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# uptime in centiseconds
cs() {
	awk '{ split($1, a, "."); print a[1] * 100 + a[2] }' /proc/uptime
}

t0=$(cs)
if ! modprobe amdgpu 2>/tmp/amdgpu-modprobe.log; then
	echo "RESULT fail amdgpu.load $(head -c 200 /tmp/amdgpu-modprobe.log)"
	exit 0
fi
t1=$(cs)
if [ -d /sys/module/amdxcp ] && [ -c /dev/kfd ]; then
	echo "RESULT pass amdgpu.load $(((t1 - t0) / 100)).$(printf %02d $(((t1 - t0) % 100))) s, amdxcp loaded, /dev/kfd present"
else
	echo "RESULT fail amdgpu.load amdxcp: $(ls -d /sys/module/amdxcp 2>&1), kfd: $(ls -l /dev/kfd 2>&1)"
fi
modprobe -r amdgpu

# Second cycle with the unload check: kmemleak cleared, memory figures
# taken, then /dev/kfd opened and closed by a process that exits.
module_load_begin amdgpu
# Linux 7.x refuses a KFD process while no GPU node exists (open: EINVAL).
case $(uname -r) in
[1-6].*) ./kfd_open ;;
*) ./kfd_open no-gpu-node ;;
esac
echo "kfd_open exit: $?"
module_unload_check amdgpu amdgpu
if [ -d /sys/module/amdxcp ]; then
	echo "RESULT fail amdgpu.amdxcp-unload amdxcp still loaded"
else
	echo "RESULT pass amdgpu.amdxcp-unload"
fi
exit 0
