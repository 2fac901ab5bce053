#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Mesa suite, guest side: GL_AMD_pinned_memory on r600 through the radeon
# drm-shim, whose userptr objects are vsvm's (mesa-patches/README.md); with
# Mesa 25.0 (libvulkan_radeon.so staged) also GL_AMD_pinned_memory on
# radeonsi and VK_EXT_external_memory_host on radv, through the amdgpu
# drm-shim (AMDGPU_GPU_ID=renoir). Each test runs twice: with the generic
# userptr IOCTL, and with the shim hiding DRM_CAP_USERPTR (the winsys must
# fall back to the driver's own userptr IOCTL). Then vsvm is unloaded with
# the leak checks.
#
# Test-only (failing-first runs, e.g. make vm SUITES=mesa CMD='MESA_CAP_SWAP=1
# sh /rig/suites/mesa/guest.sh'): MESA_CAP_SWAP=1 hides the cap the wrong
# way round (generic without it, fallback with it), so every ioctl check
# must fail.
dir=/mesa
if [ ! -x $dir/mesa_pinned ]; then
	echo "RESULT fail mesa.present $dir/mesa_pinned missing from the initramfs (make mesa)"
	exit 0
fi
. /rig/lib.sh
module_load_begin vsvm || echo "RESULT fail mesa.vsvm.load modprobe vsvm failed"

export LD_LIBRARY_PATH=$dir/lib LIBGL_DRIVERS_PATH=$dir/lib/dri
export EGL_PLATFORM=surfaceless RADEON_GPU_ID=CEDAR AMDGPU_GPU_ID=renoir HOME=/root

# run_test NAME SHIM PROGRAM ARGS... (the mode is the last argument): one
# test program over one shim; NAME is the RESULT prefix (mesa.NAME.MODE.*).
run_test() {
	name=$1 shim=$2
	shift 2
	for mode in generic fallback; do
		log=/tmp/mesa-$name-$mode.log
		rm -f $log /tmp/mesa-$name-$mode.dump
		cap=
		[ $mode = fallback ] && cap=0
		if [ "${MESA_CAP_SWAP:-}" = 1 ]; then
			cap=0
			[ $mode = fallback ] && cap=
		fi
		DRM_SHIM_USERPTR_CAP=$cap DRM_SHIM_VSVM_LOG=$log \
		DRM_SHIM_VSVM_DUMP=/tmp/mesa-$name-$mode.dump \
		LD_PRELOAD=$dir/lib/$shim "$@" $mode > /tmp/mesa-$name-$mode.out 2>&1
		rc=$?
		grep '^RESULT ' /tmp/mesa-$name-$mode.out
		grep -v '^RESULT ' /tmp/mesa-$name-$mode.out | sed 's/^/  | /' | head -40
		[ $rc = 0 ] || echo "mesa: $name $mode exit status $rc"
		grep -q "^RESULT .*mesa.$name.$mode.close" /tmp/mesa-$name-$mode.out ||
			echo "RESULT fail mesa.$name.$mode.complete $1 stopped early (exit $rc)"
		rm -f /tmp/mesa-$name-$mode.dump
	done
}

run_test pinned libradeon_noop_drm_shim.so $dir/mesa_pinned
if [ -e $dir/lib/libvulkan_radeon.so ]; then
	run_test radeonsi libamdgpu_noop_drm_shim.so $dir/mesa_pinned radeonsi
	export RADV_ICD=$dir/lib/libvulkan_radeon.so
	run_test radv libamdgpu_noop_drm_shim.so $dir/mesa_radv_hostptr
fi
module_unload_check vsvm mesa.vsvm
exit 0
