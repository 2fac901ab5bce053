#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Stage the guest root and pack it as work/initramfs.cpio.gz:
#   busybox-static, rig/guest/init, the kernel's modules, and every suite's
#   payload (rig/suites/*/host.sh copies files into $RIG_STAGE). The ldd
#   closure of every dynamically linked ELF in the stage is added.
set -euo pipefail
: "${ROOT:?}" "${W:?}" "${KSRC:?}" "${KBUILD:?}" "${KHDR:?}"

export RIG_ROOT=$ROOT RIG_KHDR=$KHDR RIG_KSRC=$KSRC RIG_KBUILD=$KBUILD
export RIG_STAGE=$W/initramfs${KTAG:-}.stage RIG_OUT=$W/out${KTAG:-}
rm -rf "$RIG_STAGE"
mkdir -p "$RIG_STAGE"/{bin,sbin,dev,proc,sys,tmp,etc,root,rig/suites} "$RIG_OUT"
cd "$RIG_STAGE"

cp /bin/busybox bin/busybox
cp "$ROOT/rig/guest/init" init
chmod +x init
cp "$ROOT/rig/guest/lib.sh" rig/lib.sh
echo "root:x:0:0:root:/root:/bin/sh" > etc/passwd
echo "root:x:0:" > etc/group

make -s -C "$KSRC" O="$KBUILD" INSTALL_MOD_PATH="$RIG_STAGE" \
	INSTALL_MOD_STRIP=1 modules_install >/dev/null

# Stage the suites of this run ($SUITES), and the ones they name in their
# "needs" file (fault runs a test that the igt suite builds and stages).
want=" $(echo "${SUITES:-}" | tr ',' ' ') "
for s in $want; do
	[ -f "$ROOT/rig/suites/$s/needs" ] && want+="$(tr '\n' ' ' < "$ROOT/rig/suites/$s/needs") "
done
for dir in "$ROOT"/rig/suites/*/; do
	s=$(basename "$dir")
	case "$want" in *" $s "*) ;; *) continue ;; esac
	mkdir -p "rig/suites/$s"
	cp "$dir"/guest.sh "rig/suites/$s/" 2>/dev/null || true
	if [ -x "$dir/host.sh" ]; then
		if ! RIG_SUITE_DIR="$RIG_STAGE/rig/suites/$s" "$dir/host.sh"; then
			echo "rig: suite $s: host.sh failed" >&2
			exit 1
		fi
	fi
done

# ldd closure of every dynamic ELF in the stage.
find . -type f -perm -u+x | while read -r f; do
	[ "$(head -c4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
	ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true
done | sort -u | while read -r lib; do
	[ -e "$lib" ] || continue
	mkdir -p ".$(dirname "$lib")"
	[ -e ".$lib" ] || cp -L "$lib" ".$lib"
done

find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$W/initramfs${KTAG:-}.cpio.gz.tmp"
mv "$W/initramfs${KTAG:-}.cpio.gz.tmp" "$W/initramfs${KTAG:-}.cpio.gz"
echo "  INITRD  $W/initramfs${KTAG:-}.cpio.gz ($(du -h "$W/initramfs${KTAG:-}.cpio.gz" | cut -f1))"
