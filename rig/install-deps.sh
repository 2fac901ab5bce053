#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the rig needs (args: pkg or pkg=version).
# Does nothing when every package is already installed at that version.
set -euo pipefail

missing=()
for spec in "$@"; do
	pkg=${spec%%=*}
	want=${spec#*=}
	have=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
	case "$have" in
	"install ok installed "*)
		[ "$want" = "$spec" ] || [ "${have##* }" = "$want" ] || missing+=("$spec")
		;;
	*) missing+=("$spec") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "  DEPS    installing: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "rig: need root to install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait up to 10 min for a dpkg lock another process holds (on a fresh
# machine, apt's daily timers) instead of failing. make check's own
# fetches run beside this install but never take dpkg's lock.
lock=(-o DPkg::Lock::Timeout=600)
apt-get "${lock[@]}" update -qq
apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
