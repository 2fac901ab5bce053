#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nouveau suite, guest side: QEMU emulates no NVIDIA GPU, so nouveau.ko
# (with DRM_NOUVEAU_SVM, drivers/nouveau/) only registers its PCI driver.
# Load it, check that it came up without a splat and with its SVM code,
# unload it and check that nothing leaked (rig/guest/lib.sh). The harness
# also fails the run on any splat on the console.
. /rig/lib.sh
[ -d /sys/kernel/debug/kmemleak ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

splats='WARNING:|BUG:|Oops|possible circular|possible recursive|inconsistent lock|KASAN|UBSAN|kmemleak:.*new suspected|sleeping function called'

uptime_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

if [ ! -e "/lib/modules/$(uname -r)/kernel/drivers/gpu/drm/nouveau/nouveau.ko" ]; then
	echo "RESULT fail nouveau.load nouveau.ko not in the initramfs"
	exit 0
fi

dmesg -c > /dev/null
t0=$(uptime_ms)
if ! module_load_begin nouveau 2>/tmp/nouveau-modprobe.log; then
	echo "RESULT fail nouveau.load $(head -c 200 /tmp/nouveau-modprobe.log)"
	exit 0
fi
t1=$(uptime_ms)
if [ -e /sys/module/nouveau ] && [ -d /sys/bus/pci/drivers/nouveau ]; then
	echo "RESULT pass nouveau.load PCI driver registered (load, unload, load: $((t1 - t0)) ms with the memory settling)"
else
	echo "RESULT fail nouveau.load no /sys/bus/pci/drivers/nouveau"
fi

# DRM_NOUVEAU_SVM took effect: the SVM entry points are in the module.
if grep -q ' nouveau_svmm_init	\[nouveau\]' /proc/kallsyms; then
	echo "RESULT pass nouveau.svm nouveau_svmm_init is in nouveau.ko"
else
	echo "RESULT fail nouveau.svm nouveau_svmm_init not in nouveau.ko (DRM_NOUVEAU_SVM off?)"
fi

# A load on its own, timed without the settling of module_load_begin.
modprobe -r nouveau
t0=$(uptime_ms)
modprobe nouveau
t1=$(uptime_ms)
echo "nouveau: modprobe took $((t1 - t0)) ms"

log=$(dmesg | grep -E "$splats")
if [ -z "$log" ]; then
	echo "RESULT pass nouveau.no-splat"
else
	echo "$log" | head -n 40
	echo "RESULT fail nouveau.no-splat $(echo "$log" | head -n 1 | head -c 150)"
fi

module_unload_check nouveau nouveau
log=$(dmesg | grep -E "$splats")
if [ -z "$log" ]; then
	echo "RESULT pass nouveau.unload-no-splat"
else
	echo "$log" | head -n 40
	echo "RESULT fail nouveau.unload-no-splat $(echo "$log" | head -n 1 | head -c 150)"
fi
exit 0
