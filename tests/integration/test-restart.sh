#!/bin/bash
# SIGKILL of thpd in the middle of a collapse, then a restart with the same
# --state-dir: it picks up where it was. A parked chunk (EAGAIN attempts used
# up) stays parked instead of being retried from scratch, counters go on from
# what was saved, and the interrupted collapse is finished.
#
# The policy's max_rate (64 MiB/s) makes the 512 MiB collapse take ~8 s, so
# the SIGKILL, sent once the first huge page shows, always lands mid-collapse
# however fast the machine copies (without it a fast host finished 2 GiB
# first and the test could only skip).
. "$(dirname "$0")/lib.sh"
require_collapse

STATE="$WORK/state"
mkdir -p "$STATE"
EAGAIN_ATTEMPTS=2 EAGAIN_INITIAL=100ms write_config 500ms \
	"  - name: restart" \
	"    match: {comm: [thpt-rs-pin, thpt-rs-big]}" \
	"    max_rate: 64MiB"
start_target pin --name thpt-rs-pin --size 8M --mode pin
pin=$READY
start_thpd --state-dir "$STATE"
ppid=$(ready_get "$pin" pid)
addr=$(($(ready_get "$pin" start)))
chunk_state() {
	target_json "$ppid" | jq -r --argjson a "$addr" '.chunks[] | select(.addr == $a) | .state'
}
parked() { [[ $(chunk_state) == parked ]]; }
wait_until 10 parked || fail "pinned chunk not parked: $(chunk_state)"
# enum chunk_state: 2 = parked
saved() {
	jq -e --argjson p "$ppid" --argjson a "$addr" \
		'.targets[] | select(.pid == $p) | .chunks[] | select(.addr == $a and .state == 2)' \
		"$STATE/state.json" >/dev/null 2>&1
}
wait_until 5 saved || fail "parked chunk not in the state file: $(cat "$STATE/state.json" 2>&1)"
eagain_before=$(jnum .by_result.eagain "$(counters)")

# A big target: kill thpd while its collapse is in flight.
start_target big --name thpt-rs-big --size 512M
big=$READY
bpid=$(ready_get "$big" pid)
bs=$(ready_get "$big" start)
be=$(ready_get "$big" end)
started() { (($(huge_kb "$bpid" "$bs" "$be") > 0)); }
wait_until 10 started || fail "big collapse did not start"
kill -KILL "$THPD_PID"
wait "$THPD_PID" 2>/dev/null || true
THPD_PID=""
done_kb=$(huge_kb_num "$bpid" "$bs" "$be")
((done_kb < 512 * 1024)) || fail "the collapse of 512 MiB at max_rate 64MiB finished before SIGKILL arrived"
note "SIGKILL with $((done_kb / 1024)) of 512 MiB collapsed"
rm -f "$SOCK"

start_thpd --state-dir "$STATE"
grep -q "restored state from $STATE/state.json" "$LOG" || fail "state not restored"
finished() { (($(huge_kb_num "$bpid" "$bs" "$be") == 512 * 1024)); }
wait_until 20 finished || fail "interrupted collapse not finished after restart"
sleep 1.5 # several scans: the parked chunk must not be retried
[[ $(chunk_state) == parked ]] || fail "parked chunk lost its state across the restart: $(chunk_state)"
retried=$(jnum .by_result.eagain "$(target_json "$ppid")")
((retried == 0)) || fail "parked chunk retried after restart ($retried EAGAIN results)"
eagain_after=$(jnum .by_result.eagain "$(counters)")
((eagain_after >= eagain_before)) || fail "counters went back: eagain $eagain_before -> $eagain_after"
note "after restart: big target finished, pinned chunk still parked, eagain counter $eagain_before -> $eagain_after"

# A clean stop saves too.
stop_thpd
jq -e '.format == "thpd-state"' "$STATE/state.json" >/dev/null || fail "no state saved at stop"
echo "PASS"
