#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
cd /rig/suites/demo || exit 1
if ! modprobe vsvm; then
	echo "RESULT fail demo.load modprobe vsvm failed"
	exit 0
fi
./vsvm_demo
rc=$?
echo "vsvm_demo exit status: $rc"
if [ $rc = 0 ]; then
	echo "RESULT pass demo.vsvm_demo"
else
	echo "RESULT fail demo.vsvm_demo exit status $rc"
fi
