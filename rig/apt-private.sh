# SPDX-License-Identifier: GPL-2.0
# Sourced by the rig's fetch scripts: apt with private lists, so that
# packages from other suites (trixie, bookworm-backports) and deb-src
# entries never touch the host's apt sources or lists.
#
# apt_private NAME LINE...: the sources.list LINEs go to
# $DRM_SVM_CACHE/apt-NAME/; sets the array apt_opts for apt-get and
# apt-cache, and runs apt-get update when the list changed or was never
# fetched.
DEBIAN_ARCHIVE="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian"

apt_private() {
	local dir=${DRM_SVM_CACHE:-/var/cache/drm-svm}/apt-$1
	shift
	apt_opts=(-o "Dir::Etc::SourceList=$dir/sources.list"
		  -o "Dir::Etc::SourceParts=/dev/null"
		  -o "Dir::State::Lists=$dir/lists"
		  -o "Dir::Cache=$dir/cache"
		  -o "APT::Sandbox::User=root")
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	# One apt at a time on these lists (make check fetches side by side);
	# held until the calling script exits.
	exec {apt_lock_fd}> "$dir/rig.lock"
	flock "$apt_lock_fd"
	printf '%s\n' "$@" > "$dir/sources.list.new"
	if ! cmp -s "$dir/sources.list.new" "$dir/sources.list" ||
	   [ ! -e "$dir/updated" ]; then
		mv "$dir/sources.list.new" "$dir/sources.list"
		apt-get "${apt_opts[@]}" -qq update
		touch "$dir/updated"
	fi
	rm -f "$dir/sources.list.new"
}
