# SPDX-License-Identifier: GPL-2.0
# Shell helpers for the suites' guest.sh (busybox sh): . /rig/lib.sh

# Settle kernel memory so that two snapshots compare: drop page and slab
# caches, and shrink every slab cache. Shrinking also empties KASAN's
# quarantine for that cache (kasan_cache_shrink()); without it, objects
# freed during the tests keep up to 1/32 of RAM in slabs.
mem_settle() {
	sync
	# Pages that earlier suites pushed out to zram come back in at random
	# moments (then sit in both RAM and the swap cache), moving
	# MemAvailable by 10+ MB between two snapshots: bring them all in.
	for dev in $(awk 'NR > 1 && $4 > 0 { print $1 }' /proc/swaps); do
		swapoff "$dev" && swapon "$dev"
	done
	echo 3 > /proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 > "$f" 2>/dev/null
	done
	echo 3 > /proc/sys/vm/drop_caches
}

# pcp_kb: free pages parked on the per-CPU page lists, in kB (the guest is
# x86_64: 4 kB pages). /proc/meminfo's MemFree and MemAvailable leave them
# out, and after a large free (unloading a 20 MB module) the auto-tuned
# lists hold 10 MB and more; /proc/zoneinfo's "count:" lines have them.
pcp_kb() {
	awk '$1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo
}

# mem_kb FIELD: a /proc/meminfo figure in kB.
mem_kb() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# kmemleak_scan: print what kmemleak reports as new leaks (nothing when
# quiet). Objects must be unreferenced for 5 s before they are reported,
# hence two scans.
kmemleak_scan() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak
}

# Module unload check, in two halves around a suite's tests:
#   module_load_begin MOD      load MOD, after one empty load/unload cycle
#                              (what a first load sets up for good, such as
#                              slab caches and sysfs nodes reused later,
#                              then counts as "before"), with the memory
#                              figures taken and kmemleak cleared
#   module_unload_check MOD NAME   unload MOD and print RESULT lines
#                              NAME.unload, NAME.unload-kmemleak and
#                              NAME.unload-memory
# Tolerances (kB), justified in rig/README.md ("Unload check"):
UNLOAD_SLAB_TOL_KB=${UNLOAD_SLAB_TOL_KB:-2048}
UNLOAD_AVAIL_TOL_KB=${UNLOAD_AVAIL_TOL_KB:-8192}

module_load_begin() {
	modprobe "$1" && modprobe -r "$1"
	mem_settle
	mod_slab0=$(mem_kb SUnreclaim)
	mod_avail0=$(( $(mem_kb MemAvailable) + $(pcp_kb) ))
	cp /proc/meminfo /tmp/meminfo.before
	cp /proc/slabinfo /tmp/slabinfo.before 2>/dev/null
	[ -w /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak
	modprobe "$1"
}

# For each module MOD depends on (modules.dep) that is still loaded:
# " dep(holder,...)" if other modules use it, " dep(refcnt N, no holder)"
# if it is referenced but no module uses it (a leaked module reference,
# or a file still open), " dep(unused)" otherwise.
mod_deps_left() {
	grep "/$1\.ko:" "/lib/modules/$(uname -r)/modules.dep" |
	sed 's/^[^:]*://' | tr ' ' '\n' | sed -n 's|.*/\(.*\)\.ko$|\1|p' |
	tr '-' '_' | while read -r dep; do
		[ -d "/sys/module/$dep/holders" ] || continue
		h=$(ls "/sys/module/$dep/holders" | tr '\n' ',' | sed 's/,$//')
		n=$(cat "/sys/module/$dep/refcnt" 2>/dev/null || echo 0)
		if [ -n "$h" ]; then
			printf ' %s(%s)' "$dep" "$h"
		elif [ "$n" -gt 0 ]; then
			printf ' %s(refcnt %s, no holder)' "$dep" "$n"
		else
			printf ' %s(unused)' "$dep"
		fi
	done
}

module_unload_check() {
	mod=$1
	name=$2
	# busybox's "modprobe -r" exits with the status of the last module
	# on MOD's modules.dep line, not MOD's: with radeon loaded (it is
	# never unloaded) that is firmware_class, in use, and the exit is 1
	# though MOD is gone. So MOD's /sys/module entry is the test, and
	# no dependency may be left referenced with no module holding it.
	modprobe -r "$mod" 2>/tmp/modprobe-r.log
	rc=$?
	left=$(mod_deps_left "$mod")
	if [ -e "/sys/module/$mod" ]; then
		echo "RESULT fail $name.unload $mod is still loaded (modprobe -r exit $rc: $(head -c 200 /tmp/modprobe-r.log))"
	elif echo "$left" | grep -q "no holder"; then
		echo "RESULT fail $name.unload dependencies left loaded with no holder:$left"
	elif [ -n "$left" ]; then
		echo "RESULT pass $name.unload (modprobe -r exit $rc; dependencies left loaded:$left)"
	else
		echo "RESULT pass $name.unload"
	fi
	leaks=$(kmemleak_scan)
	if [ -z "$leaks" ]; then
		echo "RESULT pass $name.unload-kmemleak"
	else
		echo "RESULT fail $name.unload-kmemleak $(echo "$leaks" | grep -c unreferenced) object(s)"
		echo "$leaks"
	fi
	mem_settle
	slab1=$(mem_kb SUnreclaim)
	avail1=$(( $(mem_kb MemAvailable) + $(pcp_kb) ))
	# Growth of unreclaimable slab, loss of available memory (kB; a
	# negative figure is a gain).
	dslab=$((slab1 - mod_slab0))
	davail=$((mod_avail0 - avail1))
	fig="SUnreclaim $mod_slab0 -> $slab1 kB, MemAvailable+per-CPU lists $mod_avail0 -> $avail1 kB"
	if [ $dslab -le $UNLOAD_SLAB_TOL_KB ] && [ $davail -le $UNLOAD_AVAIL_TOL_KB ]; then
		echo "RESULT pass $name.unload-memory $fig"
	else
		echo "RESULT fail $name.unload-memory $fig (tolerance: slab +$UNLOAD_SLAB_TOL_KB kB, available -$UNLOAD_AVAIL_TOL_KB kB)"
		# Where it went: the /proc/meminfo fields that moved by 1 MB+.
		awk 'NR == FNR { b[$1] = $2; next }
		     ($1 in b) && ($2 - b[$1] >= 1024 || b[$1] - $2 >= 1024) {
			printf "%s %d -> %d kB\n", $1, b[$1], $2 }' \
			/tmp/meminfo.before /proc/meminfo
		# And the slab caches that grew by 256 kB+ (objects x size).
		[ -r /tmp/slabinfo.before ] &&
		awk 'FNR <= 2 { next }
		     NR == FNR { b[$1] = $3 * $4; next }
		     { d = ($3 * $4 - b[$1]) / 1024
		       if (d >= 256) printf "slab %s +%d kB (%d objects of %d bytes)\n", $1, d, $3, $4 }' \
			/tmp/slabinfo.before /proc/slabinfo
	fi
}
