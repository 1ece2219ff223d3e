#!/bin/bash
# Acceptance: an area that became MADV_NOHUGEPAGE fails with EINVAL, is
# quarantined and not retried while unchanged; once the process clears the
# flag, it is collapsed.
#
# thpd re-reads smaps (where VmFlags show "nh") only every smaps_refresh
# scans or when the layout changes; in between it relies on the kernel's
# EINVAL. The test flips the flag right after a full read, so the next scans
# are cheap ones that try the area and get EINVAL.
. "$(dirname "$0")/lib.sh"
require_collapse

REFRESH=5
SMAPS_REFRESH=$REFRESH write_config 400ms \
	"  - name: flags" \
	"    match: {comm: [thpt-nohuge]}"
start_thpd
# Sparse at first (1 page per chunk): a target, but nothing to collapse.
start_target nh --name thpt-nohuge --size 32M --mode nohuge-later
ready=$READY
pid=$(ready_get "$ready" pid)
start=$(ready_get "$ready" start)
end=$(ready_get "$ready" end)

scans() { target_json "$pid" | jq -r '.scans // 0'; }
after_full_scan() {
	local s
	s=$(scans)
	((s >= 1 && s % REFRESH == 1))
}
wait_until 10 after_full_scan || fail "no full scan observed (scans=$(scans))"
kill -USR1 "$pid" # MADV_NOHUGEPAGE, then touch every page
wait_step "$ready" 1

quarantined() {
	[[ $(target_json "$pid" | jq '[.chunks[] | select(.state == "quarantined")] | length') -eq 16 ]]
}
wait_until 3 quarantined || fail "chunks not quarantined: $(target_json "$pid" | jq -c .summary)"
einval=$(target_json "$pid" | jq .by_result.einval)
note "16 chunks quarantined after EINVAL (einval attempts: $einval)"
[[ $(target_json "$pid" | jq -r '.chunks[0].last_errno') == EINVAL ]] || fail "last errno not EINVAL"

# Unchanged area: no retries through several scans, including full ones.
sleep 3
einval2=$(target_json "$pid" | jq .by_result.einval)
[[ $einval2 -eq $einval ]] || fail "quarantined chunks retried: einval $einval -> $einval2"
[[ $(huge_kb "$pid" "$start" "$end") -eq 0 ]] || fail "nohugepage area got huge pages"

kill -USR1 "$pid" # MADV_HUGEPAGE clears the nohugepage flag
wait_step "$ready" 2
collapsed() { [[ $(huge_kb "$pid" "$start" "$end") -eq 32768 ]]; }
wait_until 10 collapsed || fail "area not collapsed after the flag was cleared"
note "collapsed after the flag was cleared (einval attempts stayed at $einval2)"
thpd_alive
echo "PASS"
