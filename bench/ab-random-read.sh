#!/bin/bash
# shellcheck disable=SC2317 # functions defined inside main() look unreachable
# bench/ab-random-read.sh: random reads on 4 KiB pages, after thpd, and with
# THP at fault, as a paired measurement in one run (part c1 of bench/run).
#
# Every round starts three bench/random-read --serve processes, each with
# RR_SIZE (2G) of its own anonymous memory touched the same way (in an order
# that rotates with the round):
#   control   thpt-ab-rr-ctl, never madvised: stays on 4 KiB pages
#   treated   thpt-ab-rr-trt, never madvised: thpd's policy matches only
#             this name, so thpd collapses it (>= 99% huge before measuring)
#   fault     thpt-ab-rr-flt, MADV_HUGEPAGE before touching: huge pages at
#             fault time (the ceiling)
# Each SIGUSR1 makes one of them do READS (5 M) timed dependent random
# 8-byte reads (each address depends on the previous value: the TLB-bound
# case) and READS independent ones, the same addresses in every process and
# every measurement; ns/read is from the reading thread's CPU time.
# A round: control and treated A B B A (B A A B in even rounds) while both
# are still on 4 KiB pages (how far apart two identical arms are: on this VM
# the speed of a process's memory depends on where the host placed it);
# then thpd starts and collapses the treated one; then the three in a
# palindromic order (ctl trt flt flt trt ctl, rotated by one arm each round)
# so that a drift of the machine within the round cancels; then all three
# end. Fresh processes every round spread the placement over the rounds.
# Per round: the gain control/treated (ns ratio, > 1 = thpd faster) and the
# distance from the ceiling treated/fault (goal: <= 1.05). REPS (3) rounds.
#
# Usage (root; builds nothing): BUILD_DIR=build bench/ab-random-read.sh [--smoke]
# Environment: BUILD_DIR, REPS (3), RR_SIZE (2G), READS (5000000), PRE (1:
# measure control and treated before thpd; 0: not); --smoke: 64M, 200000
# reads, 1 round, PRE=0.
# Exit status: 0, 1 failed, 77 not root.
set -euo pipefail
export LC_ALL=C
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
main() {
bench_args "$@"
if ((SMOKE)); then
	REPS=${REPS:-1} PRE=${PRE:-0} RR_SIZE=${RR_SIZE:-64M} READS=${READS:-200000}
else
	REPS=${REPS:-3} PRE=${PRE:-1} RR_SIZE=${RR_SIZE:-2G} READS=${READS:-5000000}
fi
posint REPS "$REPS"
zero_one PRE "$PRE"
bench_init ab-random-read
thp_madvise
local SIZE_B
SIZE_B=$(size_bytes "$RR_SIZE")
declare -A COMM=([ctl]=thpt-ab-rr-ctl [trt]=thpt-ab-rr-trt [flt]=thpt-ab-rr-flt)
declare -A THP=([ctl]=none [trt]=none [flt]=fault)
declare -A PID START END SERVED

# start_arms ARM...: fresh processes, touched in the given order
start_arms() {
	local arm
	for arm in "$@"; do
		"$RR" --size "$RR_SIZE" --reads "$READS" --access both --serve --name "${COMM[$arm]}" \
			--thp "${THP[$arm]}" --ready-file "$WORK/ready.$arm" >"$WORK/rr.$arm.out" &
		PID[$arm]=$!
		track "${PID[$arm]}"
		wait_file "$WORK/ready.$arm" "${PID[$arm]}" 300 "random-read $arm"
		START[$arm]=$(awk '$1 == "start" {print $2}' "$WORK/ready.$arm")
		END[$arm]=$(awk '$1 == "end" {print $2}' "$WORK/ready.$arm")
		SERVED[$arm]=0
		log "    $arm (${COMM[$arm]}, --thp ${THP[$arm]}): $RR_SIZE touched in $(awk '$1 == "touch_ms" {print $2}' "$WORK/ready.$arm") ms"
	done
}
stop_arms() {
	local arm
	for arm in ctl trt flt; do
		stop_pid "${PID[$arm]}"
		rm -f "$WORK/ready.$arm"
	done
}

# measure ARM TAG: one measurement; records rr_TAG_ARM_dep/_ind/_huge and
# sets DEP IND HUGE (ns per read, ns per read, % huge)
measure() {
	local arm=$1 tag=$2 n i out dep ind
	n=$((SERVED[$arm] + 1))
	kill -USR1 "${PID[$arm]}"
	for ((i = 0; ; i++)); do
		grep -qx "served $n" "$WORK/rr.$arm.out" && break
		gone "${PID[$arm]}" && die "random-read $arm ended: $(tail -3 "$WORK/rr.$arm.out")"
		((i < 12000)) || die "random-read $arm: no result after 600 s"
		sleep 0.05
	done
	SERVED[$arm]=$n
	out=$(awk -v n="$n" '$0 == "served " n - 1 {on = 1; next} n == 1 || on' "$WORK/rr.$arm.out" | head -2)
	dep=$(grep '^access=dependent' <<<"$out")
	ind=$(grep '^access=independent' <<<"$out")
	DEP=$(kv ns_per_read "$dep") IND=$(kv ns_per_read "$ind") HUGE=$(kv huge_pct "$dep")
	[[ -n $DEP && -n $IND ]] || die "random-read $arm: no figures in: $out"
	record "rr_${tag}_${arm}_dep" "$DEP"
	record "rr_${tag}_${arm}_ind" "$IND"
	record "rr_${tag}_${arm}_huge" "$HUGE"
	if [[ $arm == ctl ]] && awk -v p="$HUGE" 'BEGIN { exit !(p > 1) }'; then
		record contaminated 1
		record rr_ctl_contaminated 1
		warn "the control was $HUGE% huge (another collapser on this machine?): its figures are not 4 KiB ones"
	fi
	log "    $tag $arm: dependent $DEP ns, independent $IND ns, $HUGE% huge"
}
# round TAG ARMS...: measures the arms in the given order and then in
# reverse (a palindrome); sets the per-arm means of the round in MD/MI
declare -A MD MI
round() {
	local tag=$1 a
	shift
	local order=("$@") k
	for ((k = ${#order[@]} - 1; k >= 0; k--)); do order+=("${order[k]}"); done
	declare -A sd=() si=()
	for a in "$@"; do sd[$a]=0 si[$a]=0; done
	for a in "${order[@]}"; do
		measure "$a" "$tag"
		sd[$a]=$(awk -v s="${sd[$a]}" -v v="$DEP" 'BEGIN { print s + v / 2 }')
		si[$a]=$(awk -v s="${si[$a]}" -v v="$IND" 'BEGIN { print s + v / 2 }')
	done
	for a in "$@"; do MD[$a]=${sd[$a]} MI[$a]=${si[$a]}; done
}

write_policy "$WORK/rr.yaml" "" "${COMM[trt]}"
local arms=(ctl trt flt) rot r t0
for ((r = 1; r <= REPS; r++)); do
	rot=("${arms[@]:$(((r - 1) % 3))}" "${arms[@]:0:$(((r - 1) % 3))}")
	log "  round $r/$REPS: fresh processes (${rot[*]})"
	start_arms "${rot[@]}"
	if ((PRE)); then
		if ((r % 2)); then round pre ctl trt; else round pre trt ctl; fi
		record rr_pre_gain_dep "$(ratio "${MD[ctl]}" "${MD[trt]}")"
		record rr_pre_gain_ind "$(ratio "${MI[ctl]}" "${MI[trt]}")"
	fi
	t0=$EPOCHREALTIME
	start_thpd "$WORK/rr.yaml" wait
	wait_huge "${PID[trt]}" "${START[trt]}" "${END[trt]}" "$SIZE_B" 99 300 "$t0" 0.1 ||
		die "thpd did not collapse 99% of the treated process in 300 s ($WAIT_PCT%)"
	record rr_collapse_s "$WAIT_S"
	log "    thpd collapsed the treated process to ${WAIT_PCT}% in ${WAIT_S}s (control $(huge_pct "${PID[ctl]}" "${START[ctl]}" "${END[ctl]}" "$SIZE_B")% huge)"
	round ab "${rot[@]}"
	record rr_gain_dep "$(ratio "${MD[ctl]}" "${MD[trt]}")"
	record rr_gain_ind "$(ratio "${MI[ctl]}" "${MI[trt]}")"
	record rr_ceil_dep "$(ratio "${MD[trt]}" "${MD[flt]}")"
	record rr_ceil_ind "$(ratio "${MI[trt]}" "${MI[flt]}")"
	record rr_4k_vs_fault_dep "$(ratio "${MD[ctl]}" "${MD[flt]}")"
	log "  round $r: gain control/treated $(fmt %.3f "$(ratio "${MD[ctl]}" "${MD[trt]}")") (dependent), treated/fault $(fmt %.3f "$(ratio "${MD[trt]}" "${MD[flt]}")")"
	stop_pid "$THPD_PID"
	stop_arms
done

stop_pid "$THPD_PID"

# ---- the section -------------------------------------------------------------
ceil_cell() { # ceil_cell METRIC NOTE: a time ratio against the ceiling
	local n md lo hi
	read -r n md lo hi < <(stats "$1")
	((n > 0)) || {
		echo n/a
		return
	}
	awk -v x="$md" -v l="$lo" -v h="$hi" -v n="$n" -v t="$2" 'BEGIN {
		printf "**%.3fx** (%.3f-%.3f, %d round%s)%s\n", x, l, h, n, n == 1 ? "" : "s", t }'
}
local goal
goal="; goal <= 1.05: **$(awk -v x="$(med rr_ceil_dep)" 'BEGIN { print (x != "-" && x <= 1.05) ? "MET" : "MISSED" }')**"
frag "### c1. Random reads: 4 KiB pages, after thpd, THP at fault" ""
frag "\`bench/ab-random-read.sh\`: three fresh processes with $RR_SIZE each in every round, $READS reads per measurement, $REPS rounds." ""
row "ns per read (lower is better)" "control: 4 KiB" "treated: after thpd" "THP at fault (ceiling)" "gain control/treated" "treated/fault"
row "---" "---" "---" "---" "---" "---"
row "dependent loads" "$(value_cell rr_ab_ctl_dep %.1f ns)" "$(value_cell rr_ab_trt_dep %.1f ns)" "$(value_cell rr_ab_flt_dep %.1f ns)" "$(ratio_cell rr_gain_dep)" "$(ceil_cell rr_ceil_dep "$goal")"
row "independent loads" "$(value_cell rr_ab_ctl_ind %.1f ns)" "$(value_cell rr_ab_trt_ind %.1f ns)" "$(value_cell rr_ab_flt_ind %.1f ns)" "$(ratio_cell rr_gain_ind)" "$(ceil_cell rr_ceil_ind "")"
row "huge pages, % of the area" "$(med rr_ab_ctl_huge)" "$(med rr_ab_trt_huge)" "$(med rr_ab_flt_huge)" "" ""
if ((PRE)); then
	row "before thpd (control and treated both 4 KiB)" "$(value_cell rr_pre_ctl_dep %.1f ns)" "$(value_cell rr_pre_trt_dep %.1f ns)" "" "$(ratio_cell rr_pre_gain_dep) dependent; $(ratio_cell rr_pre_gain_ind) independent" ""
fi
frag "" \
	"Ratios are per round (the mean of an arm's two measurements in the round)," \
	"then the median and range over the rounds. thpd's policy matches only the" \
	"treated process's name; it collapsed it to 99% in $(fmt %.1f "$(med rr_collapse_s)") s (median) and stayed" \
	"running during the measurements. Control and treated are the same program" \
	"with the same amount of memory touched the same way; the row \"before thpd\"" \
	"compares them while both are still on 4 KiB pages: on this VM the speed of" \
	"a process's memory also depends on where the host placed it, so that row is" \
	"the noise floor of the gain (1.00 = identical). Fresh processes in every round" \
	"(touched in a rotating order) spread the placement over the rounds." ""
log "done"
}
main "$@"
exit
