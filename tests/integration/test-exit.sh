#!/bin/bash
# Targets that exit while they are being collapsed: one exits normally
# (exit(0) from main, thp-target --mode exit-on-huge: the moment its own
# smaps shows the first huge page), one is killed with SIGKILL as soon as the
# test sees its first huge page. Their policy has max_rate: 32MiB, so their
# 256 MiB take about 8 s to collapse and the exit lands mid-collapse (the
# test notes how much was huge, and what thpd says it collapsed).
#
# Checked for each: thpd drops it (gone from thpctl targets --json within 4
# scan intervals; GetTarget answers NoSuchTarget), logs "removed: exited",
# and stays alive. Afterwards: targets_added and targets_removed grew by 2,
# attempts == sum of by_result, no ENOMEM (an exit must not look like "no
# huge pages left") and no pause, nothing at warning or error level in the
# log and no line about either process after its removal; a new target
# (another policy) is then collapsed to 100% as usual.
# shellcheck disable=SC2016 # $names in single quotes are jq variables
. "$(dirname "$0")/lib.sh"
: "${THPCTL:?THPCTL must point at the thpctl binary}"
require_collapse

GONE_S=2 # 4 scan intervals of 500 ms
write_config 500ms \
	"  - name: leaving" \
	"    match: {comm: [thpt-exit-norm, thpt-exit-kill]}" \
	"    max_rate: 32MiB" \
	"  - name: after" \
	"    match: {comm: [thpt-exit-after]}"
start_thpd
c0=$(counters)
added0=$(jnum .targets_added "$c0")
removed0=$(jnum .targets_removed "$c0")

# exited PID: the process has exited (a zombie not yet reaped counts).
exited() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[[ -z $st || $st == Z ]]
}
listed() {
	"$THPCTL" --socket "$SOCK" --json targets |
		jq -e --argjson p "$1" '(.targets | type == "array") and any(.targets[]; .pid == $p)' >/dev/null
}
# gone PID: not in thpctl targets --json (which must answer).
gone() {
	"$THPCTL" --socket "$SOCK" --json targets |
		jq -e --argjson p "$1" '(.targets | type == "array") and all(.targets[]; .pid != $p)' >/dev/null
}
# check_dropped PID NAME T_EXIT_NS: gone within 4 scan intervals of its exit.
check_dropped() {
	local pid=$1 name=$2 t_exit=$3 ms
	wait_until "$GONE_S" gone "$pid" ||
		fail "$name target $pid still listed $(scaled "$GONE_S") s after it exited: $("$THPCTL" --socket "$SOCK" --json targets)"
	ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t_exit) / 1000000))
	thpd_alive
	vcall io.thpd.Manager.GetTarget "{\"pid\": $pid}" |
		jq -e --argjson p "$pid" '.error == "io.thpd.Manager.NoSuchTarget" and .parameters.pid == $p' >/dev/null ||
		fail "GetTarget $pid after its exit: $(vcall io.thpd.Manager.GetTarget "{\"pid\": $pid}")"
	wait_until 2 grep -q "target $pid (thpt-exit-$name) removed: exited" "$LOG" ||
		fail "no 'target $pid (thpt-exit-$name) removed: exited' in the log"
	note "$name: gone from thpctl targets ${ms} ms after its exit; thpd: $(grep -o "target $pid (thpt-exit-$name) removed: .*" "$LOG" | tail -n 1)"
}

# ---- 1: exit(0) in the middle of its collapse ----
start_target norm --name thpt-exit-norm --size 256M --mode exit-on-huge
norm=$READY
npid=$(ready_get "$norm" pid)
# It has set its name and written its memory: thpd should have adopted it.
wait_until 2 listed "$npid" || exited "$npid" ||
	fail "normal-exit target $npid (ready: $(tr '\n' ' ' <"$norm")) not listed after $(scaled 2) s: $("$THPCTL" --socket "$SOCK" --json targets | jq -c '[.targets[] | {pid, comm, state}]'); log: $(grep -E "\b$npid\b" "$LOG" | grep -v discovery | head -n 5)"
wait_until 10 exited "$npid" ||
	fail "normal-exit target saw no huge page in $(scaled 10) s: $(target_json "$npid" | jq -c .summary)"
t_exit=$((${EPOCHREALTIME//[!0-9]/} * 1000))
rc=0
wait "$npid" || rc=$?
((rc == 0)) || fail "normal-exit target exited with $rc: $(cat "$WORK/norm.out")"
exit_kb=$(ready_get "$norm" exit_huge_kb)
if ! is_num "$exit_kb" || ((exit_kb == 0)); then
	fail "the target exited without seeing a huge page: $(cat "$norm")"
fi
note "normal exit: the target exited with $exit_kb of 262144 kB huge$( ((exit_kb < 262144)) && echo ' (mid-collapse)')"
check_dropped "$npid" norm "$t_exit"

# ---- 2: SIGKILL in the middle of its collapse ----
start_target kill --name thpt-exit-kill --size 256M
kill_ready=$READY
kpid=$(ready_get "$kill_ready" pid)
ks=$(ready_get "$kill_ready" start)
ke=$(ready_get "$kill_ready" end)
KILL_KB=""
some_huge() {
	KILL_KB=$(range_huge_kb "$kpid" "$ks" "$ke")
	is_num "$KILL_KB" && ((KILL_KB > 0))
}
wait_until 10 some_huge || fail "SIGKILL target not collapsed within $(scaled 10) s: $(target_json "$kpid" | jq -c .summary)"
kill -KILL "$kpid"
t_exit=$((${EPOCHREALTIME//[!0-9]/} * 1000))
rc=0
{ wait "$kpid"; } 2>/dev/null || rc=$?
((rc == 128 + 9)) || fail "SIGKILL target: wait status $rc"
note "SIGKILL: sent when the test saw $KILL_KB of 262144 kB huge$( ((KILL_KB < 262144)) && echo ' (mid-collapse)')"
check_dropped "$kpid" kill "$t_exit"

# ---- thpd afterwards ----
thpd_alive
# An exited process must not be adopted again (its /proc entry lingers until
# it is reaped, and a discovery may have read it just before the exit).
for p in "$npid" "$kpid"; do
	again=$(sed -n "/target $p (.*) removed:/,\$p" "$LOG" | grep -c "target $p (.*) added" || true)
	((again == 0)) || fail "thpd adopted pid $p again after it exited: $(grep -E "target $p \(" "$LOG")"
done
# No pause for ENOMEM or EBUSY (a "pressure" pause would be the machine's
# memory pressure, not the exits).
vcall io.thpd.Manager.GetStatus |
	jq -e '(.parameters.pauses | type == "array") and all(.parameters.pauses[]; .reason != "enomem" and .reason != "ebusy")' >/dev/null ||
	fail "thpd paused: $(vcall io.thpd.Manager.GetStatus | jq -c .parameters.pauses)"
c1=$(counters)
jq -e --argjson a "$added0" --argjson r "$removed0" '
	.targets_added == $a + 2 and .targets_removed == $r + 2 and
	.enomem_pauses == 0 and .ebusy_pauses == 0 and .by_result.enomem == 0 and
	.attempts == ([.by_result[]] | add) and .by_result.ok >= 2' <<<"$c1" >/dev/null ||
	fail "counters after the exits: $c1"
note "counters: $(jq -c '{attempts, by_result, targets_added, targets_removed, enomem_pauses}' <<<"$c1")"

# A new target is collapsed as usual: no pause, no backoff left behind.
start_target after --name thpt-exit-after --size 64M
after=$READY
apid=$(ready_get "$after" pid)
after_done() {
	local kb
	kb=$(huge_kb_num "$apid" "$(ready_get "$after" start)" "$(ready_get "$after" end)")
	((kb == 64 * 1024))
}
wait_until 5 after_done || fail "a target started after the exits was not collapsed: $(target_json "$apid" | jq -c .summary)"
"$THPCTL" --socket "$SOCK" --json targets | jq -e --argjson p "$apid" '[.targets[].pid] == [$p]' >/dev/null ||
	fail "targets left: $("$THPCTL" --socket "$SOCK" --json targets)"

# The log: no warnings or errors (but the one a test seam such as
# THPD_TEST_NO_PAGEMAP_SCAN announces), nothing about a process after its
# removal.
bad=$(grep -E '^thpd: (warning|error):' "$LOG" | grep -vc 'test seam active' || true)
if ((bad > 0)); then
	grep -E '^thpd: (warning|error):' "$LOG" | grep -v 'test seam active' | sort | uniq -c | sort -rn | head -n 10 >&2
	fail "$bad warnings/errors in thpd's log"
fi
for p in "$npid" "$kpid"; do
	late=$(sed -n "/target $p (.*) removed:/,\$p" "$LOG" | tail -n +2 | grep -cE "(target|pid|of) $p\b" || true)
	((late == 0)) || fail "$late log lines about $p after its removal: $(sed -n "/target $p (.*) removed:/,\$p" "$LOG" | grep -E "(target|pid|of) $p\b" | head -n 5)"
	note "log lines about $p: $(grep -cE "\b$p\b" "$LOG" || true) ($(grep -E "\b$p\b" "$LOG" | sed -E 's/^thpd: ([a-z]+):.*/\1/' | sort | uniq -c | awk '{printf "%s %s ", $2, $1}'))"
done
note "thpd log: $(wc -l <"$LOG") lines, $bad at warning or error level"
thpd_alive
echo "PASS"
