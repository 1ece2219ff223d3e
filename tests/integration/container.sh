# shellcheck shell=bash
# A Debian 12 container under a real systemd for the integration tests that
# need one (test-systemd-e2e.sh, test-deb.sh); sourced after lib.sh.
#
# The root filesystem is made once with debootstrap and cached in
# $THPD_ROOTFS_CACHE (default /var/cache/thpd-tests); each run boots a copy.

CACHE=${THPD_ROOTFS_CACHE:-/var/cache/thpd-tests}
CACHED="$CACHE/rootfs-bookworm"
# thpd's run-time libraries (the .deb's Depends), systemd, and the tools the
# tests use inside.
PACKAGES=systemd,systemd-sysv,dbus,libevent-2.1-7,libjansson4,libyaml-0-2,socat,jq,procps,util-linux,passwd

# make_rootfs: the cached root filesystem, made if it is missing. Skips when
# the Debian archive cannot be reached.
make_rootfs() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock -w 600 9 || skip "the root filesystem cache is locked by another run for 10 minutes"
	if [[ ! -f $CACHED/.thpd-complete ]]; then
		local mirror
		mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
		mirror=${mirror:-$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null)}
		[[ -n $mirror ]] || skip "no Debian mirror configured in apt sources"
		rm -rf "$CACHED.tmp"
		note "debootstrap bookworm from $mirror (cached in $CACHED afterwards)"
		if ! debootstrap --variant=minbase --include="$PACKAGES" bookworm "$CACHED.tmp" "$mirror" \
			>"$WORK/debootstrap.log" 2>&1; then
			if grep -qiE 'Failed getting release file|Temporary failure|Could not resolve|unable to fetch' \
				"$WORK/debootstrap.log"; then
				skip "the Debian archive cannot be reached: $(tail -n 2 "$WORK/debootstrap.log")"
			fi
			fail "debootstrap failed: $(tail -n 5 "$WORK/debootstrap.log")"
		fi
		touch "$CACHED.tmp/.thpd-complete"
		rm -rf "$CACHED"
		mv "$CACHED.tmp" "$CACHED"
	fi
	exec 9>&- # the lock must not be inherited by the container
}

# boot_container ROOT NAME: boot a copy of the root filesystem at ROOT with
# systemd as its PID 1 (stopped at exit) and wait until it is up; sets
# CPID (the container's init, as the host sees it) for in_ct.
boot_container() {
	local root=$1 name=$2
	# process_madvise is not in nspawn's default syscall allow list.
	systemd-nspawn -D "$root" --machine="$name-$$" -b --register=no --keep-unit --console=pipe \
		--system-call-filter=process_madvise >"$WORK/nspawn.log" 2>&1 {NAP_FD}<&- &
	NSPAWN=$!
	on_exit stop_container
	wait_until 20 has_container || fail "container did not start: $(tail "$WORK/nspawn.log")"
	CPID=$(container_pid)
	wait_until 30 booted || fail "container did not boot: $(in_ct systemctl is-system-running 2>&1)"
}
container_pid() { pgrep -P "$NSPAWN" | head -n 1; }
has_container() { [[ -n $(container_pid) ]]; }
# in_ct CMD...: run CMD inside the container.
in_ct() { nsenter -t "$CPID" -a "$@"; }
booted() { [[ $(in_ct systemctl is-system-running 2>/dev/null) =~ running|degraded ]]; }
stop_container() {
	# A test's own step first (container_before_stop, if it defines one).
	[[ $(type -t container_before_stop) == function ]] && container_before_stop
	[[ -n ${CPID:-} ]] && in_ct systemctl poweroff 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$NSPAWN" 2>/dev/null || return 0
		sleep 0.1
	done
	# Killing the container's init ends its whole pid namespace; killing
	# only nspawn would leave the container running.
	[[ -n ${CPID:-} ]] && kill -KILL "$CPID" 2>/dev/null
	sleep 0.5
	kill -KILL "$NSPAWN" 2>/dev/null || true
}
