#!/bin/bash
# Acceptance: targets in a memory cgroup at its limit get EBUSY; that
# cgroup's targets pause, attempts stay bounded, and after the limit is
# raised the memory is collapsed.
. "$(dirname "$0")/lib.sh"
require_collapse

CG_NAME="thpd-test-ebusy-$$"
if [[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then
	CG=/sys/fs/cgroup/memory/$CG_NAME
	LIMIT_FILE=memory.limit_in_bytes USAGE_FILE=memory.usage_in_bytes UNLIMITED=-1
elif grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/unified/$CG_NAME
	LIMIT_FILE=memory.max USAGE_FILE=memory.current UNLIMITED=max
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/$CG_NAME
	LIMIT_FILE=memory.max USAGE_FILE=memory.current UNLIMITED=max
else
	skip "no memory cgroup controller available"
fi
mkdir "$CG" || skip "cannot create $CG"
on_exit "rmdir '$CG' 2>/dev/null"

EBUSY_PAUSE=2s write_config 500ms \
	"  - name: limited" \
	"    match: {comm: [thpt-cg]}"

# Join the cgroup before touching memory so the pages are charged to it.
ready="$WORK/cg.ready"
sh -c "echo \$\$ > '$CG/cgroup.procs' && exec '$THP_TARGET' --name thpt-cg --size 32M --ready-file '$ready'" \
	>"$WORK/cg.out" 2>&1 &
pid=$!
CHILD_PIDS+=("$pid")
on_exit "kill -KILL $pid; sleep 0.2"
wait_until 5 test -f "$ready" || fail "target not ready: $(cat "$WORK/cg.out")"
# Limit just above usage: a 2 MiB huge page cannot be charged before the
# small pages it replaces are freed.
usage=$(cat "$CG/$USAGE_FILE")
echo $((usage + 512 * 1024)) >"$CG/$LIMIT_FILE"
start=$(ready_get "$ready" start)
end=$(ready_get "$ready" end)
# Only now may thpd see the target.
start_thpd

paused() {
	vcall io.thpd.Manager.GetStatus | jq -e --arg cg "/$CG_NAME" \
		'.parameters.pauses[] | select(.reason == "ebusy" and .cgroup == $cg)' >/dev/null
}
wait_until 10 paused || fail "no ebusy pause for /$CG_NAME: $(vcall io.thpd.Manager.GetStatus)"
note "paused: $(vcall io.thpd.Manager.GetStatus | jq -c .parameters.pauses)"
# Bounded: one failing attempt per pause (2 s), not one per chunk per scan
# (16 chunks every 0.5 s). The window is measured, not assumed: an emulated
# guest's queries take seconds.
e0=$(jnum .by_result.ebusy "$(target_json "$pid")")
t0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
sleep 6
ebusy=$(jnum .by_result.ebusy "$(target_json "$pid")")
w_ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t0) / 1000000))
allowed=$((w_ms / 2000 + 1))
((ebusy >= 1 && ebusy - e0 <= allowed)) ||
	fail "EBUSY attempts not bounded: $((ebusy - e0)) in $w_ms ms with a 2 s pause (at most $allowed)"
kb=$(huge_kb_num "$pid" "$start" "$end")
((kb < 32768)) || fail "collapsed despite the limit"
note "EBUSY attempts at the limit: $e0 before, $((ebusy - e0)) more in $w_ms ms (at most $allowed allowed)"

echo "$UNLIMITED" >"$CG/$LIMIT_FILE"
collapsed() { [[ $(huge_kb "$pid" "$start" "$end") -eq 32768 ]]; }
wait_until 10 collapsed || fail "not collapsed after raising the limit"
note "collapsed after the limit was raised; ebusy_pauses=$(counters | jq .ebusy_pauses)"
thpd_alive
echo "PASS"
