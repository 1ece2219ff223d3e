#!/bin/bash
# Acceptance: a chunk pinned by vmsplice fails with EAGAIN and is retried with
# backoff; after the pin is released it is collapsed; counters show it.
. "$(dirname "$0")/lib.sh"
require_collapse

EAGAIN_INITIAL=200ms EAGAIN_MAX=2s EAGAIN_ATTEMPTS=8 write_config 1s \
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
note "after first EAGAIN: $(chunk)"
[[ $(jq '.retry_in_sec != null' <<<"$(chunk)") == true ]] || fail "no retry time shown"

# The other 7 chunks collapse normally.
others_huge() {
	[[ $(target_json "$pid" | jq '[.chunks[] | select(.state == "huge")] | length') -eq 7 ]]
}
wait_until 10 others_huge || fail "unpinned chunks not collapsed"

# Retried, with backoff: a second attempt comes, but not a storm.
retried() { [[ $(jq .attempts <<<"$(chunk)") -ge 2 ]]; }
wait_until 5 retried || fail "pinned chunk not retried: $(chunk)"
sleep 1
a=$(jq .attempts <<<"$(chunk)")
((a <= 6)) || fail "$a EAGAIN attempts in ~2 s: backoff not applied"
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
