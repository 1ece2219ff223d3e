#!/bin/bash
# ENOMEM (memory really short, range still mapped) pauses all collapsing,
# and the pause ends early when /proc/buddyinfo shows free order-9 blocks.
# A real allocation failure is hard to get on a large machine, so this test
# uses the collapse seam THPD_TEST_INJECT_ERRNO (ARCHITECTURE.md section 5).
. "$(dirname "$0")/lib.sh"
require_collapse

blocks=$(awk '{ for (i = 14; i <= NF; i++) s += $i } END { print s + 0 }' /proc/buddyinfo)
((blocks >= 8)) || skip "too few free order-9 blocks ($blocks) for the early resume"

ENOMEM_PAUSE=60s write_config 500ms \
	"  - name: short" \
	"    match: {comm: [thpt-nomem]}"
THPD_TEST_INJECT_ERRNO=12:1 start_thpd
start_target nm --name thpt-nomem --size 16M
ready=$READY
pid=$(ready_get "$ready" pid)
paused_once() { [[ $(counters | jq .enomem_pauses) -eq 1 ]]; }
wait_until 5 paused_once || fail "no ENOMEM pause: $(counters)"
grep -q "pausing all collapses" "$LOG" || fail "pause not logged"
collapsed() {
	[[ $(huge_kb "$pid" "$(ready_get "$ready" start)" "$(ready_get "$ready" end)") -eq 16384 ]]
}
wait_until 10 collapsed || fail "pause did not end early (buddyinfo has free blocks)"
grep -q "ending the ENOMEM pause early" "$LOG" || fail "early resume not logged"
c=$(counters)
[[ $(jq .by_result.enomem <<<"$c") -eq 1 ]] || fail "enomem count: $c"
note "one ENOMEM, pause of 60 s ended early by buddyinfo; counters: $(jq -c .by_result <<<"$c")"
echo "PASS"
