#!/bin/bash
# End to end under a real systemd (PID 1 of a systemd-nspawn container):
# install the build, `systemctl start thpd`, a workload gets collapsed, thpctl
# works as root and as an unprivileged user, a bad `systemctl reload` keeps
# the old policy and says why, kill -9 is followed by a restart, a SIGSTOPped
# daemon is killed and restarted by the watchdog, `systemctl stop` is clean.
#
# The Debian root filesystem is made once with debootstrap and cached in
# $THPD_ROOTFS_CACHE (default /var/cache/thpd-tests); each run boots a copy
# (container.sh).
. "$(dirname "$0")/lib.sh"
require_root
: "${BUILD_ROOT:?}"
for cmd in systemd-nspawn debootstrap nsenter; do
	command -v $cmd >/dev/null || skip "$cmd not installed (packages systemd-container, debootstrap)"
done
if [[ $(ldd "$THPD") =~ lib[at]san ]]; then
	skip "sanitizer build: the container has no sanitizer runtime (the plain build runs this test)"
fi

. "$(dirname "$0")/container.sh"
make_rootfs

ROOT="$WORK/container"
cp -a "$CACHED" "$ROOT"
# The build, installed as a package would install it.
meson install -C "$BUILD_ROOT" --destdir "$ROOT" --no-rebuild >"$WORK/install.log" 2>&1 ||
	fail "meson install: $(tail -n 5 "$WORK/install.log")"
install -m 0755 "$THP_TARGET" "$SMAPS_HUGE" "$ROOT/usr/local/bin/"
SBIN=$(sed -n 's|^ExecStart=\(.*\)/thpd .*|\1|p' "$ROOT/lib/systemd/system/thpd.service")
ETC=$(sed -n 's|^ExecStart=.* --config \(.*\)/thpd/thpd.yaml.*|\1|p' "$ROOT/lib/systemd/system/thpd.service")
POLICY="$ROOT$ETC/thpd/thpd.yaml"
cat >"$POLICY" <<'EOF'
daemon: {scan_interval: 1s, max_collapse_rate: 4GiB}
policies:
  - name: e2e
    match: {comm: [thpt-e2e]}
EOF
# Short watchdog and restart delays so the test does not wait 30 s.
mkdir -p "$ROOT/etc/systemd/system/thpd.service.d"
cat >"$ROOT/etc/systemd/system/thpd.service.d/test.conf" <<'EOF'
[Service]
WatchdogSec=2s
TimeoutAbortSec=2s
RestartSec=500ms
EOF

# Before the container stops (container.sh's stop_container): the workload
# first, reaped by its nsenter: a zombie whose parent is gone would keep the
# container's init from ever exiting.
container_before_stop() {
	if [[ -n ${WL_NSENTER:-} ]]; then
		[[ -n ${wl:-} ]] && nsenter -t "$CPID" -a kill -KILL "$wl" 2>/dev/null
		wait "$WL_NSENTER" 2>/dev/null
	fi
	return 0
}
boot_container "$ROOT" thpd-e2e
note "container booted (PID 1 = host pid $CPID)"

in_ct systemd-sysusers >/dev/null
in_ct systemd-tmpfiles --create >/dev/null 2>&1 || true
in_ct systemctl daemon-reload
in_ct systemctl start thpd.socket thpd.service || fail "systemctl start: $(in_ct systemctl status thpd --no-pager)"
active() { [[ $(in_ct systemctl is-active thpd.service) == active ]]; }
wait_until 10 active || fail "thpd not active: $(in_ct systemctl status thpd --no-pager)"
main_pid() { in_ct systemctl show -p MainPID --value thpd.service; }
[[ $(in_ct ps -o user= -p "$(main_pid)") == thpd ]] || fail "thpd does not run as user thpd"
note "thpd.service active as user thpd, MainPID $(main_pid)"

# A workload inside the container gets collapsed.
in_ct /usr/local/bin/thp-target --name thpt-e2e --size 64M --ready-file /run/e2e.ready \
	>/dev/null 2>&1 &
WL_NSENTER=$!
wait_until 10 in_ct test -f /run/e2e.ready || fail "workload not ready"
wl=$(in_ct awk '$1 == "pid" { print $2 }' /run/e2e.ready)
range=$(in_ct awk '$1 == "start" || $1 == "end" { printf "%s ", $2 }' /run/e2e.ready)
collapsed() {
	# shellcheck disable=SC2086
	[[ $(in_ct /usr/local/bin/smaps-huge "$wl" $range) == "huge_kb=65536 "* ]]
}
wait_until 15 collapsed || fail "workload not collapsed: $(in_ct /usr/local/bin/smaps-huge "$wl" $range)"
note "64 MiB workload collapsed under systemd"
# The unit's system call filter lets the collapse worker lower its own
# priority (SCHED_BATCH, nice 10: daemon.collapse_scheduler/_nice).
wk=$(in_ct sh -c "grep -lx thpd-collapse /proc/$(main_pid)/task/*/comm" | head -n 1)
[[ -n $wk ]] || fail "no thpd-collapse thread in thpd $(main_pid)"
wstat=$(in_ct cat "${wk%/comm}/stat")
read -ra wf <<<"${wstat##*) }"
[[ "${wf[38]} ${wf[16]}" == "3 10" ]] ||
	fail "collapse worker under systemd: policy ${wf[38]}, nice ${wf[16]} (want 3 = SCHED_BATCH, 10): $(in_ct journalctl -u thpd --no-pager | grep -i 'collapse worker' | tail -n 2)"
note "collapse worker under systemd: SCHED_BATCH, nice 10"

# thpctl as root and as an unprivileged user.
in_ct thpctl status >/dev/null || fail "thpctl status as root"
[[ $(in_ct thpctl --json targets | jq '.targets | length') -eq 1 ]] || fail "root does not see the target"
in_ct useradd -M -s /usr/sbin/nologin e2euser
in_ct runuser -u e2euser -- thpctl status >/dev/null || fail "thpctl status as an unprivileged user"
[[ $(in_ct runuser -u e2euser -- thpctl --json targets | jq '.targets | length') -eq 0 ]] ||
	fail "an unprivileged user sees root's target"
set +e
in_ct runuser -u e2euser -- thpctl reload >/dev/null 2>&1
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "unprivileged reload: exit $rc, want 1"
note "thpctl: root sees 1 target; e2euser sees status, 0 targets, may not reload"

# A bad reload keeps the old policy and says why in systemctl status.
cp "$POLICY" "$WORK/good.yaml"
printf 'daemon:\n  scan_intervall: 1s\n' >"$POLICY"
pid_before=$(main_pid)
in_ct systemctl reload thpd.service || true
status_says() { [[ $(in_ct systemctl show -p StatusText --value thpd.service) == *"reload failed"* ]]; }
wait_until 5 status_says || fail "status does not say the reload failed: $(in_ct systemctl status thpd --no-pager)"
note "bad reload: $(in_ct systemctl show -p StatusText --value thpd.service)"
[[ $(main_pid) -eq $pid_before ]] && active || fail "thpd restarted or died on a bad reload"
[[ $(in_ct thpctl --json policy | jq -r '.policy.policies[0].name') == e2e ]] || fail "old policy lost"
cp "$WORK/good.yaml" "$POLICY"

# kill -9: restarted.
in_ct kill -9 "$pid_before"
restarted() { local p; p=$(main_pid); [[ $p -ne 0 && $p -ne $pid_before ]] && active; }
wait_until 15 restarted || fail "not restarted after kill -9: $(in_ct systemctl status thpd --no-pager)"
in_ct thpctl status >/dev/null || fail "thpctl after restart"
note "kill -9: restarted as MainPID $(main_pid)"

# SIGSTOP: the watchdog (2 s here) kills and restarts it.
pid_before=$(main_pid)
in_ct kill -STOP "$pid_before"
wait_until 20 restarted || fail "watchdog did not restart a stopped thpd: $(in_ct systemctl status thpd --no-pager)"
watchdog_logged() { local j; j=$(in_ct journalctl --no-pager -u thpd.service) && grep -qi "watchdog timeout" <<<"$j"; }
wait_until 5 watchdog_logged ||
	fail "no watchdog message in the journal: $(in_ct journalctl --no-pager -u thpd.service | tail -n 15)"
note "SIGSTOP: watchdog restarted it as MainPID $(main_pid)"

# systemctl stop is clean.
in_ct systemctl stop thpd.service
[[ $(in_ct systemctl is-active thpd.service) == inactive ]] || fail "not inactive after stop"
[[ $(in_ct systemctl show -p Result --value thpd.service) == success ]] ||
	fail "stop result: $(in_ct systemctl show -p Result --value thpd.service)"
note "systemctl stop: inactive, result success"
echo "PASS"
