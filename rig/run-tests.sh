#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel in QEMU with the staged initramfs plus a small job
# archive, then hand the logs to harness.py.
#   $1 = check | run | vm     SUITES = comma/space separated suite list
set -euo pipefail
: "${ROOT:?}" "${W:?}" "${KBUILD:?}"
mode=$1
suites=$(echo "$SUITES" | tr ' ,' '\n\n' | sed '/^$/d' | paste -sd, -)

stamp=$(date -u +%Y%m%d-%H%M%S)
out=$W/results/$stamp-$mode
mkdir -p "$out"
ln -sfn "$out" "$W/results/latest"

# The job travels as a second cpio archive appended to the initramfs.
job=$out/job
mkdir -p "$job/rig/suites/cmd"
echo "$suites" > "$job/rig/job"
if [ "$mode" = vm ]; then
	printf '%s\necho "command exit status: $?"\n' "$RIG_CMD" > "$job/rig/suites/cmd/guest.sh"
fi
(cd "$job" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/job.cpio.gz"
cat "$W/initramfs${KTAG:-}.cpio.gz" "$out/job.cpio.gz" > "$out/initrd.gz"

kunit=0
case ",$suites," in *,kunit,*) kunit=1 ;; esac
# Two sockets of one core each: the guest has no ACPI and brings up CPUs
# from the MP table, where QEMU 7.2 describes "-smp 2" (one socket, two
# cores) so that the kernel only starts CPU 0. rig.cpus tells the guest how
# many CPUs it must see online (rig.smp fails otherwise).
# VM_SMP overrides the whole -smp argument (e.g. VM_SMP=2 shows the
# one-CPU guest that rig.smp catches).
cpus=${VM_CPUS:-2}
smp=${VM_SMP:-$cpus,sockets=$cpus,cores=1,threads=1}
append="console=ttyS0 panic=-1 nokaslr transparent_hugepage=madvise hugepages=16"
append+=" numa=fake=2 rig.cpus=$cpus"
append+=" rig.kver=$(make -s -C "$KSRC" kernelversion) rig.flavor=${FLAVOR:-debug}"
append+=" kunit.enable=$kunit kunit.filter_glob=$KUNIT_FILTER"
# VM_APPEND: extra kernel parameters, e.g. slub_debug=FZ.
append+="${VM_APPEND:+ $VM_APPEND}"

# VM_IOMMU=off|on (make bench): a q35 machine with QEMU's "edu" PCI device,
# which vsvm binds and DMA-maps through (drivers/vsvm/vsvm_drv.c); "on"
# puts an Intel IOMMU (VT-d, found through ACPI's DMAR table) in front of
# it, in DMA-translated mode (x86's default lazy flushing), so drm_gpusvm
# maps through IOVA as on most machines. Unset: the i440fx machine with
# radeon's rv100 and the edu device, no IOMMU (VM_EDU=0 leaves edu out:
# vsvm then DMA-maps a platform device of its own).
machine=(-device ati-vga,model=rv100)
[ "${VM_EDU:-1}" = 0 ] || machine+=(-device edu)
case ${VM_IOMMU:-} in
'') ;;
off) machine=(-M q35 -device edu) ;;
on)
	machine=(-M q35 -device intel-iommu,intremap=off -device edu)
	append+=" intel_iommu=on iommu.passthrough=0"
	;;
*) echo "run-tests: VM_IOMMU=$VM_IOMMU: off or on" >&2; exit 2 ;;
esac

# Host-side checks fold into the same summary.
if [ "$mode" = check ]; then
	if "$ROOT/rig/checkpatch.sh" > "$out/checkpatch.log" 2>&1; then
		echo "RESULT pass style.checkpatch-kernel-doc" >> "$out/host-results.log"
	else
		echo "RESULT fail style.checkpatch-kernel-doc see $out/checkpatch.log" >> "$out/host-results.log"
	fi
	# W=1 + sparse on every kernel file we add or change (rig/wcheck.sh).
	if "$ROOT/rig/wcheck.sh" > "$out/wcheck.log" 2>&1; then
		echo "RESULT pass style.w1-sparse $(tail -n 1 "$out/wcheck.log" | sed 's/^wcheck: //')" >> "$out/host-results.log"
	else
		echo "RESULT fail style.w1-sparse see $out/wcheck.log" >> "$out/host-results.log"
	fi
	# Since 6.19 kbuild drops C=1 when sparse cannot parse the kernel's
	# own headers (scripts/checker-valid.sh); wcheck.sh tests the sparse
	# it used and says so on its first line.
	if head -n 1 "$out/wcheck.log" | grep -q 'cannot parse this kernel'; then
		echo "RESULT skip style.sparse $(head -n 1 "$out/wcheck.log" | sed 's/^wcheck: [^,]*, //')" >> "$out/host-results.log"
	fi
	if make -s -C "$ROOT/igt-tests" selftest O="$W/out${KTAG:-}/igt" KHDR="$KHDR" \
		> "$out/igt-selftest-host.log" 2>&1; then
		echo "RESULT pass igt.runner.host-selftest" >> "$out/host-results.log"
	else
		echo "RESULT fail igt.runner.host-selftest see $out/igt-selftest-host.log" >> "$out/host-results.log"
	fi
fi

accel=$("$ROOT/rig/pick-accel.sh")
echo "  VM      $mode: suites=$suites accel=$accel timeout=${VM_TIMEOUT}s"
echo "          console: $out/console.log  results: $out/results.log"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp "$smp" -m 2G -no-reboot \
	-display none -monitor none \
	"${machine[@]}" \
	-serial "file:$out/console.log" -serial "file:$out/results.log" \
	-kernel "$KBUILD/arch/x86/boot/bzImage" -initrd "$out/initrd.gz" \
	-append "$append" &
qpid=$!
if [ "$mode" != check ] || [ -n "${VERBOSE:-}" ]; then
	tail -n +1 --pid=$qpid -F "$out/results.log" 2>/dev/null |
		grep --line-buffered -Ev '^(RIG-|RESULT )' &
fi
wait $qpid
qrc=$?
set -e
sleep 0.2
echo "  VM      exited ($qrc) after $(( $(date +%s) - start ))s"
[ $qrc = 124 ] && echo "TIMEOUT after ${VM_TIMEOUT}s" >> "$out/results.log"

exec python3 "$ROOT/rig/harness.py" --mode "$mode" --suites "$suites" \
	--kunit "$kunit" "$out"
