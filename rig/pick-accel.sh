#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the QEMU accelerator to use. Guests have been seen hanging under KVM
# on the CI machines, so KVM is only used after a short probe boot reaches
# userspace; the answer is cached in work/.accel. ACCEL=tcg|kvm overrides.
set -euo pipefail
if [ -n "${ACCEL:-}" ]; then echo "$ACCEL"; exit 0; fi
cache=$W/.accel
if [ -s "$cache" ]; then cat "$cache"; exit 0; fi
accel=tcg
if [ -w /dev/kvm ]; then
	d=$(mktemp -d)
	mkdir -p "$d/root/bin"
	cp /bin/busybox "$d/root/bin/"
	printf '#!/bin/busybox sh\n/bin/busybox echo RIG-PROBE-OK\n/bin/busybox reboot -f\n' > "$d/root/init"
	chmod +x "$d/root/init"
	(cd "$d/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$d/probe.gz"
	# In the background and waited for with stderr silenced, so that a
	# QEMU dying under KVM (SIGABRT has been seen here) stays quiet.
	timeout -k 2 20 qemu-system-x86_64 -accel kvm -cpu host -m 512M -no-reboot \
		-display none -monitor none -serial "file:$d/console" \
		-kernel "$KBUILD/arch/x86/boot/bzImage" -initrd "$d/probe.gz" \
		-append "console=ttyS0 panic=-1 kunit.enable=0" >/dev/null 2>&1 &
	wait $! 2>/dev/null || true
	grep -q RIG-PROBE-OK "$d/console" 2>/dev/null && accel=kvm
	rm -rf "$d"
fi
echo "$accel" > "$cache"
echo "$accel"
