#!/bin/bash
# Acceptance: a chunk pinned by vmsplice fails with EAGAIN and is retried with
# backoff; after the pin is released it is collapsed; counters show it.
. "$(dirname "$0")/lib.sh"
require_collapse

# Backoff 200 ms doubling to 4 s; 100 attempts before parking, so that a slow
# observer (an emulated guest takes a second per query) still finds it in
# backoff.
EAGAIN_INITIAL=200ms EAGAIN_MAX=4s EAGAIN_ATTEMPTS=100 write_config 1s \
	"  - name: pinned" \
	"    match: {comm: [thpt-pin]}"
# The pin is set after the memory is touched: let thpd see the target only then.
start_target pin --name thpt-pin --size 16M --mode pin
ready=$READY
start_thpd
pid=$(ready_get "$ready" pid)
start=$(ready_get "$ready" start)
addr=$((start))

chunk() {
	target_json "$pid" | jq -c --argjson a "$addr" '.chunks[] | select(.addr == $a)'
}
pinned_chunk_in_backoff() {
	local c
	c=$(chunk)
	[[ -n $c && $(jq -r .state <<<"$c") == backoff && $(jq -r .last_errno <<<"$c") == EAGAIN ]]
}
wait_until 10 pinned_chunk_in_backoff || fail "pinned chunk never went to backoff: $(chunk)"
c=$(chunk)
note "after first EAGAIN: $c"
[[ $(jq -r .state <<<"$c") != backoff || $(jq '.retry_in_sec != null' <<<"$c") == true ]] ||
	fail "no retry time shown: $c"

# The other 7 chunks collapse normally.
others_huge() {
	[[ $(target_json "$pid" | jq '[.chunks[] | select(.state == "huge")] | length') -eq 7 ]]
}
wait_until 10 others_huge || fail "unpinned chunks not collapsed"

# Retried, with backoff: more attempts come, but not a storm. From the 6th
# attempt on, the delay is at its 4 s cap, less jitter: between 2 and 4 s
# (0.2 s doubling: 3.2 s before the 6th). So a window of W seconds holds at
# most W/2 + 1 attempts, + 1 for one that came while a0 was being read
# (a query takes a second in an emulated guest); without backoff there would
# be one per 1 s scan. W is measured, not assumed.
at_cap() { (($(jnum .attempts "$(chunk)") >= 6)); }
wait_until 15 at_cap || fail "pinned chunk not retried up to the backoff cap: $(chunk)"
a0=$(jnum .attempts "$(chunk)")
t0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
sleep 9
a=$(jnum .attempts "$(chunk)")
w_ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t0) / 1000000))
allowed=$((w_ms / 2000 + 2))
note "EAGAIN attempts: $a0 at the cap, $a after $w_ms ms more (at most $allowed more allowed)"
((a - a0 <= allowed)) || fail "$((a - a0)) EAGAIN attempts in $w_ms ms at a 2-4 s backoff: backoff not applied"
((a > a0)) || fail "no retry in $w_ms ms at a 2-4 s backoff: $(chunk)"
eagain=$(counters | jq .by_result.eagain)
((eagain >= 2)) || fail "counters show eagain=$eagain"
note "EAGAIN attempts before release: $a; counter eagain=$eagain"

kill -USR1 "$pid"
wait_step "$ready" 1
collapsed() {
	[[ $(huge_kb "$pid" "$start" "$(ready_get "$ready" end)") -eq 16384 ]]
}
wait_until 10 collapsed || fail "pinned chunk not collapsed after release: $(chunk)"
ok=$(counters | jq .by_result.ok)
((ok >= 8)) || fail "counters show ok=$ok"
note "after release: $(chunk); counters ok=$ok eagain=$(counters | jq .by_result.eagain)"
thpd_alive
echo "PASS"
