#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Mesa suite, guest side: GL_AMD_pinned_memory on r600 through the radeon
# drm-shim, whose userptr objects are vsvm's (mesa-patches/README.md).
# mesa_pinned runs twice: with the generic userptr IOCTL, and with the shim
# hiding DRM_CAP_USERPTR (the winsys must fall back to
# DRM_RADEON_GEM_USERPTR). Then vsvm is unloaded with the leak checks.
dir=/mesa
if [ ! -x $dir/mesa_pinned ]; then
	echo "RESULT fail mesa.present $dir/mesa_pinned missing from the initramfs (make mesa)"
	exit 0
fi
. /rig/lib.sh
module_load_begin vsvm || echo "RESULT fail mesa.vsvm.load modprobe vsvm failed"

export LD_LIBRARY_PATH=$dir/lib LIBGL_DRIVERS_PATH=$dir/lib/dri
export EGL_PLATFORM=surfaceless RADEON_GPU_ID=CEDAR HOME=/root
for mode in generic fallback; do
	log=/tmp/mesa-$mode.log
	rm -f $log /tmp/mesa-$mode.dump
	cap=
	[ $mode = fallback ] && cap=0
	DRM_SHIM_USERPTR_CAP=$cap DRM_SHIM_VSVM_LOG=$log \
	DRM_SHIM_VSVM_DUMP=/tmp/mesa-$mode.dump \
	LD_PRELOAD=$dir/lib/libradeon_noop_drm_shim.so \
		$dir/mesa_pinned $mode > /tmp/mesa-$mode.out 2>&1
	rc=$?
	grep '^RESULT ' /tmp/mesa-$mode.out
	grep -v '^RESULT ' /tmp/mesa-$mode.out | sed 's/^/  | /' | head -40
	[ $rc = 0 ] || echo "mesa: mesa_pinned $mode exit status $rc"
	grep -q "^RESULT .*mesa.pinned.$mode.close" /tmp/mesa-$mode.out ||
		echo "RESULT fail mesa.pinned.$mode.complete mesa_pinned stopped early (exit $rc)"
	rm -f /tmp/mesa-$mode.dump
done
module_unload_check vsvm mesa.vsvm
exit 0
