#!/bin/bash
# Acceptance: an area that became MADV_NOHUGEPAGE fails with EINVAL, is
# quarantined and not retried while unchanged; once the process clears the
# flag, it is collapsed.
#
# Once the area is MADV_NOHUGEPAGE and dense, cheap scans (pagemap only)
# find its chunks collapsible and the kernel refuses each: EINVAL, and the
# chunk is quarantined until its area changes. The next smaps read (thpd
# asks for one soon after an EINVAL) shows VmFlags "nh" and the area leaves
# the table. So the quarantined state itself may last a fraction of a second:
# the test checks what must hold whatever it sees in between: every chunk
# refused once, none retried while the area stays as it is, through cheap and
# full scans (thpd's own count of smaps reads, full_scans, says when one came;
# the observer may be slow, e.g. an emulated guest).
. "$(dirname "$0")/lib.sh"
require_collapse

SMAPS_REFRESH=10 write_config 150ms \
	"  - name: flags" \
	"    match: {comm: [thpt-nohuge]}"
start_thpd
# Sparse at first (1 page per chunk): a target, but nothing to collapse.
start_target nh --name thpt-nohuge --size 32M --mode nohuge-later
ready=$READY
pid=$(ready_get "$ready" pid)
start=$(ready_get "$ready" start)
end=$(ready_get "$ready" end)

tj() { target_json "$pid"; }
full_scans() { jnum .full_scans "$(tj)"; }
first_full_scan() { (($(full_scans) >= 1)); }
wait_until 10 first_full_scan || fail "no full scan of the target: $(tj | jq -c '{scans, full_scans}')"
f0=$(full_scans)
kill -USR1 "$pid" # MADV_NOHUGEPAGE, then touch every page
wait_step "$ready" 1

# Every chunk tried and refused, or (a slow machine, where a full scan comes
# before the cheap ones have tried them all) the area dropped by a full scan
# after at least one refusal. In an emulated guest (time scaled) nearly every
# scan can be a full one, and thpd may see "nh" in smaps before it tries the
# area at all: there no refusal is needed, the area just must be dropped.
# (A chunk retried while the touch still added pages to its area counts
# again: its area changed.)
quarantined_seen=0
min_refusals=1
((THPD_TEST_TIME_SCALE > 1)) && min_refusals=0
settled() {
	local t e
	t=$(tj)
	(($(jq '[.chunks[] | select(.state == "quarantined")] | length' <<<"$t") == 16)) && quarantined_seen=1
	e=$(jnum .by_result.einval "$t")
	# (Two full scans since the flip: the second read smaps after it.)
	((e >= 16)) || ((e >= min_refusals && $(jnum '.full_scans' "$t") >= f0 + 2 && $(jq '.chunks | length' <<<"$t") == 0))
}
wait_until 10 settled || fail "chunks neither refused with EINVAL nor dropped: $(tj | jq -c '{scans, full_scans, by_result, summary}')"
t=$(tj)
# (No errno at all when thpd saw "nh" in smaps before it tried the area.)
if (($(jnum .by_result.einval "$t") > 0)); then
	[[ $(jq -r .summary.last_errno <<<"$t") == EINVAL ]] || fail "last errno not EINVAL: $(jq -c .summary <<<"$t")"
fi
# (A retry in flight shows its chunk as a candidate for a moment.)
none_left() { (($(jnum '[.chunks[] | select(.state != "quarantined")] | length' "$(tj)") == 0)); }
wait_until 5 none_left ||
	fail "chunks of the refused area neither quarantined nor dropped: $(tj | jq -c '[.chunks[] | {addr, state, last_errno}]')"

# Unchanged area: no retries through the scans that follow, two full ones
# among them (the first may still see the touch's last pages).
f1=$(full_scans)
full_after() { (($(full_scans) > $1)); }
wait_until 30 full_after "$f1" || fail "no full scan after the EINVALs: $(tj | jq -c '{scans, full_scans}')"
einval=$(jnum .by_result.einval "$(tj)")
f2=$(full_scans)
wait_until 30 full_after "$f2" || fail "no second full scan after the EINVALs: $(tj | jq -c '{scans, full_scans}')"
t=$(tj)
einval2=$(jnum .by_result.einval "$t")
((einval2 == einval)) || fail "refused chunks retried while the area stayed unchanged: einval $einval -> $einval2"
note "EINVAL: $einval attempts on 16 chunks, none more through $(($(jnum .full_scans "$t") - f2)) full and $(jnum .scans "$t") scans in all; quarantined state $( ((quarantined_seen)) && echo seen || echo 'not caught (the next smaps read dropped the area first)')"
kb=$(huge_kb_num "$pid" "$start" "$end")
((kb == 0)) || fail "nohugepage area got huge pages ($kb kB)"

kill -USR1 "$pid" # MADV_HUGEPAGE clears the nohugepage flag
wait_step "$ready" 2
collapsed() { [[ $(huge_kb "$pid" "$start" "$end") -eq 32768 ]]; }
# The next full scan (within 12 s: nothing to do until then) sees the flag
# gone.
wait_until 30 collapsed || fail "area not collapsed after the flag was cleared"
note "collapsed after the flag was cleared"
thpd_alive
echo "PASS"
