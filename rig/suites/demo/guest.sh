#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
cd /rig/suites/demo || exit 1
if [ -x ./vsvm_demo ]; then
	./vsvm_demo
	echo "vsvm_demo exit status: $?"
else
	echo "== hmm-tests smoke: the kernel's HMM mirror (test_hmm) in this guest =="
	modprobe test_hmm && ./hmm-tests -t open_close -t anon_read -t anon_write \
		-t anon_write_huge -t migrate -t mixedmap
	echo "hmm-tests smoke exit status: $?"
	rmmod test_hmm
fi
