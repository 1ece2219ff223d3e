#!/bin/bash
# shellcheck disable=SC2317 # functions defined inside main() look unreachable
# bench/time-to-huge.sh: time to benefit, from a process's start to 95% of
# its memory huge (part b of bench/run; issue 10, "time to benefit").
#
# A process that never calls madvise (THP mode madvise) touches SIZE (4G):
#   thpd        already running (1 s scans, no rate limit to speak of); from
#               the target's start to 95% huge, smaps polled every 20 ms
#   always      enabled=always for that one touch only (restored at once):
#               huge pages at fault time; from start to touched
#   khugepaged  the process MADV_HUGEPAGEs the area after touching it;
#               default knobs; coverage after KHUGEPAGED_WAIT s (60), run
#               ONCE (4 GiB would take it ~43 min)
# thpd and always alternate REPS (3) times.
#
# Usage (root; builds nothing): BUILD_DIR=build bench/time-to-huge.sh [--smoke]
# Environment: BUILD_DIR, REPS (3), SIZE (4G), SETTLE (3 s), KHUGEPAGED_WAIT
# (60 s); --smoke: 64M, 1 repetition, 0.2 s, 3 s.
# Exit status: 0, 1 failed, 77 not root.
set -euo pipefail
export LC_ALL=C
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
main() {
bench_args "$@"
if ((SMOKE)); then
	REPS=${REPS:-1} SIZE=${SIZE:-64M} SETTLE=${SETTLE:-0.2} KHUGEPAGED_WAIT=${KHUGEPAGED_WAIT:-3}
else
	REPS=${REPS:-3} SIZE=${SIZE:-4G} SETTLE=${SETTLE:-3} KHUGEPAGED_WAIT=${KHUGEPAGED_WAIT:-60}
fi
posint REPS "$REPS"
bench_init time-to-huge
thp_madvise
local SIZE_B KH rep local_pct ready_s
SIZE_B=$(size_bytes "$SIZE")
KH=$THP_SYS/khugepaged

write_policy "$WORK/cov.yaml" "" thpt-bench-cov
log "time to 95% huge of $SIZE never madvised: $REPS x (thpd, always), khugepaged once"
for ((rep = 1; rep <= REPS; rep++)); do
	# thpd already running and idle; t0 = target launch
	check_thp
	start_thpd "$WORK/cov.yaml" wait
	sleep "$SETTLE"
	start_target thpt-bench-cov "$SIZE"
	wait_huge "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B" 95 120 "$TGT_T0" 0.02 ||
		warn "thpd: 95% not reached in 120 s ($WAIT_PCT%)"
	record cov_thpd_s "$WAIT_S"
	record cov_thpd_touch_s "$(awk -v m="$TGT_TOUCH_MS" 'BEGIN { print m / 1000 }')"
	log "  thpd: ${WAIT_S}s from start to 95% (touch ${TGT_TOUCH_MS} ms)"
	stop_pid "$TGT_PID"
	stop_pid "$THPD_PID"
	sleep "$SETTLE"

	# enabled=always for this one touch only
	thp_set enabled always
	start_target thpt-bench-alw "$SIZE"
	thp_restore enabled
	local_pct=$(huge_pct "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B")
	ready_s=$(elapsed_since "$TGT_T0")
	record cov_always_s "$ready_s"
	record cov_always_pct "$local_pct"
	record cov_always_touch_s "$(awk -v m="$TGT_TOUCH_MS" 'BEGIN { print m / 1000 }')"
	log "  always: ${ready_s}s from start to ready, ${local_pct}% huge (touch ${TGT_TOUCH_MS} ms)"
	stop_pid "$TGT_PID"
	sleep "$SETTLE"
done
# khugepaged: once. MADV_HUGEPAGE after touching: 4 KiB pages it may collapse.
local kh_pages0 kh_t0 KH_95 KH_PCT KH_MIB KH_WAITED KH_SYS_MIB KH_KNOBS
KH_KNOBS="pages_to_scan=$(cat $KH/pages_to_scan) scan_sleep_millisecs=$(cat $KH/scan_sleep_millisecs) alloc_sleep_millisecs=$(cat $KH/alloc_sleep_millisecs) max_ptes_none=$(cat $KH/max_ptes_none)"
kh_pages0=$(cat $KH/pages_collapsed)
start_target thpt-bench-khp "$SIZE" --thp late
kh_t0=$EPOCHREALTIME
if wait_huge "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B" 95 "$KHUGEPAGED_WAIT" "$kh_t0" 1; then
	KH_95="after $WAIT_S s"
else
	KH_95="not reached"
fi
KH_PCT=$(huge_pct "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B")
KH_MIB=$(($(huge_kb "$TGT_PID" "$TGT_START" "$TGT_END") / 1024))
KH_WAITED=$(fmt %.1f "$(elapsed_since "$kh_t0")")
KH_SYS_MIB=$((($(cat $KH/pages_collapsed) - kh_pages0) * 2))
log "  khugepaged: ${KH_PCT}% (${KH_MIB} MiB) after ${KH_WAITED}s; 95%: $KH_95; system-wide pages_collapsed +${KH_SYS_MIB} MiB"
stop_pid "$TGT_PID"
record cov_khugepaged_pct "$KH_PCT"

frag "## b. Time to benefit: start to 95% huge" ""
frag "\`bench/time-to-huge.sh\`: a process that never calls madvise touches $SIZE; thpd and \`enabled=always\` alternate $REPS times, khugepaged runs once." ""
row "arm" "median" "range over reps" "note"
row "---" "---" "---" "---"
row "thpd (running, 1 s scans, 64 GiB/s budget)" "$(fmt %.2f "$(med cov_thpd_s)") s" "$(range cov_thpd_s %.2f) s" "includes the touch: $(fmt %.2f "$(med cov_thpd_touch_s)") s on 4 KiB pages"
row "enabled=always at fault time" "$(fmt %.2f "$(med cov_always_s)") s, $(med cov_always_pct)% huge" "$(range cov_always_s %.2f) s" "touch with huge faults: $(fmt %.2f "$(med cov_always_touch_s)") s; thpd/always time $(fmt %.2f "$(ratio "$(med cov_thpd_s)" "$(med cov_always_s)")")x"
row "khugepaged (MADV_HUGEPAGE after touch; ONE run)" "${KH_PCT}% (${KH_MIB} MiB) after ${KH_WAITED} s" "1 run" "95%: $KH_95; knobs: $KH_KNOBS"
frag "" \
	"thpd's and always's times include populating the memory (the touch); the" \
	"always arm pays for its huge pages at fault time instead (zeroing 2 MiB at a" \
	"time), and in a real deployment also bloats every process that touches memory" \
	"sparsely. khugepaged is run once (its pace is fixed by its knobs, not by" \
	"noise); with the default knobs it collapses a few MiB per 10 s wake-up." ""
log "done"
}
main "$@"
exit
