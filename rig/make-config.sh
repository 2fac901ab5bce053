#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Generate $KBUILD/.config: tinyconfig + rig/kconfig/*.config + the
# kernel.config of each component in $CONFIG_COMPONENTS (default: every
# one in $COMPONENTS; the Makefile leaves amdgpu and nouveau out unless
# DRIVERS names them), then verify every requested option took effect
# (a silently dropped option, e.g. a missing dependency, is an error).
# .config is only replaced when its content changes, to keep builds incremental.
set -euo pipefail
: "${ROOT:?}" "${KSRC:?}" "${KBUILD:?}"

# FLAVOR=release leaves out debug.config (KASAN, kmemleak, lockdep,
# DEBUG_VM ...): the kernel users run, for benchmarks.
frags=("$ROOT"/rig/kconfig/base.config)
[ "${FLAVOR:-debug}" = release ] || frags+=("$ROOT"/rig/kconfig/debug.config)
for c in ${CONFIG_COMPONENTS:-$COMPONENTS}; do
	f=$ROOT/$c/kernel.config
	[ -f "$f" ] && frags+=("$f")
done

tmp=$KBUILD/.config-gen
mkdir -p "$tmp"
make -s -C "$KSRC" O="$tmp" tinyconfig >/dev/null
"$KSRC"/scripts/kconfig/merge_config.sh -m -O "$tmp" "$tmp/.config" "${frags[@]}" >/dev/null
make -s -C "$KSRC" O="$tmp" olddefconfig >/dev/null

bad=0
while IFS= read -r line; do
	key=${line%%=*}
	val=${line#*=}
	if [ "$val" = n ]; then
		grep -q "^$key=" "$tmp/.config" || continue
	else
		grep -qxF "$line" "$tmp/.config" && continue
	fi
	echo "rig: config: wanted $line, got: $(grep "^$key=" "$tmp/.config" || echo 'not set')" >&2
	bad=1
done < <(grep -h '^CONFIG_' "${frags[@]}")
[ $bad = 0 ] || exit 1

if ! cmp -s "$tmp/.config" "$KBUILD/.config"; then
	echo "  CONFIG  $KBUILD/.config"
	cp "$tmp/.config" "$KBUILD/.config"
fi
rm -rf "$tmp"
