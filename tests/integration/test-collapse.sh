#!/bin/bash
# Acceptance: a process touching 512 MiB of anonymous memory, matched by comm,
# is at least 95% AnonHugePages within three scan intervals; a process that
# matches no policy is left alone.
. "$(dirname "$0")/lib.sh"
require_collapse

INTERVAL_S=2
write_config ${INTERVAL_S}s \
	"  - name: matched" \
	"    match: {comm: [thpt-match]}"
start_thpd

start_target other --name thpt-other --size 128M
other=$READY
t0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
start_target match --name thpt-match --size 512M
ready=$READY
pid=$(ready_get "$ready" pid)
start=$(ready_get "$ready" start)
end=$(ready_get "$ready" end)

covered() {
	local kb
	kb=$(huge_kb "$pid" "$start" "$end")
	((kb * 100 >= 512 * 1024 * 95))
}
wait_until $((3 * INTERVAL_S)) covered ||
	fail "512 MiB target only $(huge_kb "$pid" "$start" "$end") kB huge after $((3 * INTERVAL_S)) s"
elapsed_ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t0) / 1000000))
note "512 MiB collapsed to >= 95% in ${elapsed_ms} ms (limit $((3 * INTERVAL_S * 1000)) ms)"

# The daemon's view agrees with the kernel's.
# The daemon's view agrees with the kernel's once its collapse job is done.
tj=$(target_json "$pid")
[[ $(jq -r .summary.policy <<<"$tj") == matched ]] || fail "target policy: $tj"
daemon_agrees() {
	local huge
	huge=$(target_json "$pid" | jq -r .summary.huge_bytes)
	((huge >= 512 * 1024 * 1024 * 95 / 100))
}
wait_until 5 daemon_agrees || fail "daemon reports $(target_json "$pid" | jq -c .summary)"

# The collapse worker ran as the default daemon.collapse_scheduler and
# collapse_nice ask (batch, 10); the event loop keeps nice 0.
sched_of() { # TID -> "POLICY NICE" from /proc/PID/task/TID/stat (fields 41, 19)
	local rest
	rest=$(<"/proc/$THPD_PID/task/$1/stat")
	rest=${rest##*) }
	read -ra f <<<"$rest"
	echo "${f[38]} ${f[16]}"
}
worker="" loop=""
for t in /proc/"$THPD_PID"/task/*; do
	case $(<"$t/comm") in
	thpd-collapse) worker=${t##*/} ;;
	thpd) loop=${t##*/} ;;
	esac
done
[[ -n $worker && -n $loop ]] || fail "no thpd-collapse or main thread in /proc/$THPD_PID/task"
[[ $(sched_of "$worker") == "3 10" ]] || fail "collapse worker: policy and nice $(sched_of "$worker"), want 3 (SCHED_BATCH) 10"
[[ $(sched_of "$loop") == "0 0" ]] || fail "event loop thread: policy and nice $(sched_of "$loop"), want 0 0"
note "collapse worker: SCHED_BATCH, nice 10; event loop: SCHED_OTHER, nice 0"

# The unmatched process: never a target, never collapsed.
sleep $INTERVAL_S
opid=$(ready_get "$other" pid)
[[ -z $(target_json "$opid") ]] || fail "unmatched process $opid became a target"
okb=$(huge_kb "$opid" "$(ready_get "$other" start)" "$(ready_get "$other" end)")
[[ $okb -eq 0 ]] || fail "unmatched process has $okb kB huge"
n=$(vcall io.thpd.Manager.ListTargets | jq '.parameters.targets | length')
[[ $n -eq 1 ]] || fail "expected 1 target, got $n"
thpd_alive
echo "PASS"
