#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# radeon suite, guest side: bind radeon.ko to QEMU's ati-vga (rv100, R100)
# and run radeon_userptr, which prints RESULT lines.
#
# QEMU emulates no CP, so radeon runs with acceleration disabled. The rig
# applies drivers/radeon/test-patches/ (not part of the exported series),
# whose radeon.test_keep_gart=1 keeps the PCI GART alive anyway, so that
# userptr validation, GART bind and invalidation of a bound BO run too.
#
# radeon is never unloaded: "modprobe -r radeon" splats on stock 6.12.117
# (drm_encoder_cleanup() WARNING, connector debugfs use-after-free). This
# suite runs last, so the suites before it see vsvm as the only DRM device.
cd /rig/suites/radeon || exit 1
. /rig/lib.sh
[ -d /sys/kernel/debug/dri ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if ! grep -q 10025159 /proc/bus/pci/devices 2>/dev/null; then
	echo "RESULT fail radeon.device no ati-vga rv100 (1002:5159) on the PCI bus"
	exit 0
fi
if modprobe radeon test_keep_gart=1 2>/tmp/radeon-modprobe.log ||
   modprobe radeon 2>>/tmp/radeon-modprobe.log; then
	echo "RESULT pass radeon.load"
else
	echo "RESULT fail radeon.load $(head -c 200 /tmp/radeon-modprobe.log)"
	exit 0
fi
dmesg | grep -i radeon | tail -n 25
# radeon stays loaded, so no unload check: kmemleak must find nothing that
# the userptr tests allocated and lost (probe-time objects are cleared).
[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
./radeon_userptr
echo "radeon_userptr exit: $?"
# The generic userptr uapi's conformance suite, on the radeon render node
# (vsvm, its other driver, is unloaded by now): RESULT lines
# igt.core_userptr.<subtest>.radeon.
export HOME=${HOME:-/root} TMPDIR=/tmp IGT_LOG_LEVEL=${IGT_LOG_LEVEL:-info}
mkdir -p "$HOME" /tmp/radeon-igt-logs
./igt_run -t "${IGT_TIMEOUT:-180}" -o /tmp/radeon-igt-logs ./core_userptr |
	grep -v '^RESULT [a-z]* igt.core_userptr.getcap-vsvm'
rm -rf /tmp/radeon-igt-logs
if [ -w /sys/kernel/debug/kmemleak ]; then
	leaks=$(kmemleak_scan)
	if [ -z "$leaks" ]; then
		echo "RESULT pass radeon.kmemleak"
	else
		echo "$leaks" | head -n 60
		echo "RESULT fail radeon.kmemleak $(echo "$leaks" | grep -c unreferenced) object(s)"
	fi
else
	echo "RESULT skip radeon.kmemleak no /sys/kernel/debug/kmemleak"
fi
