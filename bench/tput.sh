#!/bin/bash
# shellcheck disable=SC2317 # functions defined inside main() look unreachable
# bench/tput.sh: collapse throughput, thpd against a bare loop of the same
# calls (part a of bench/run).
#
# SIZE (4G) of resident 4 KiB-page anonymous memory in a fresh target per
# arm (bench/random-read --hold, touched, then SETTLE s idle). Five arms,
# their order rotated every repetition, REPS (3) times:
#   thpd_poll   from starting thpd (it finds the target in its first /proc
#               walk) to 100% AnonHugePages, polled with smaps-huge every 20 ms
#   raw2m_poll  bench/raw-collapse, 2 MiB per process_madvise call, timed
#               the same way
#   thpd_fast   thpd, unpolled: fork-free /proc/meminfo reads until the
#               system's AnonHugePages grew by SIZE, then one smaps check
#   raw2m_fast  raw-collapse 2 MiB calls, launch to exit
#   raw1g_fast  raw-collapse 1 GiB calls (--big), launch to exit
# Goal (issue 3): thpd >= 0.9x the raw loop's throughput.
#
# Usage (root; builds nothing): BUILD_DIR=build bench/tput.sh [--smoke]
# Environment: BUILD_DIR (build), REPS (3), SIZE (4G), SETTLE (3 s);
# --smoke: 64M, 1 repetition, 0.2 s. A target something else collapsed
# before its measurement (another thpd on a shared machine) is replaced, up
# to 3 times, and so is a thpd arm whose memory thpd collapsed only in part;
# both are counted ("contaminated"). Exit status: 0, 1 failed, 77 not root.
set -euo pipefail
export LC_ALL=C
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
main() {
bench_args "$@"
if ((SMOKE)); then
	REPS=${REPS:-1} SIZE=${SIZE:-64M} SETTLE=${SETTLE:-0.2}
else
	REPS=${REPS:-3} SIZE=${SIZE:-4G} SETTLE=${SETTLE:-3}
fi
posint REPS "$REPS"
bench_init tput
thp_madvise
SIZE_B=$(size_bytes "$SIZE")
SIZE_GIB=$(awk -v b="$SIZE_B" 'BEGIN { printf "%.4f", b / 1073741824 }')

write_policy "$WORK/tput.yaml" "" thpt-bench-tput
# tput_target: fresh target, SETTLE s of quiet, then checks it is all 4 KiB
tput_target() {
	local pre try
	for ((try = 1; ; try++)); do
		check_thp
		start_target thpt-bench-tput "$SIZE"
		sleep "$SETTLE"
		pre=$(huge_kb "$TGT_PID" "$TGT_START" "$TGT_END")
		((pre == 0)) && return 0
		record contaminated 1
		((try < 3)) || die "3 targets in a row were collapsed by something else before their measurement"
		warn "target already ${pre} kB huge before the measurement (another collapser?): replacing it"
		stop_pid "$TGT_PID"
		sleep "$SETTLE"
	done
}
# Fork-free waiting for the unpolled arms: no page walk, no new process
# (each fork would also wake thpd's process-event discovery).
exec {SLEEP_FD}<> <(:)
nap() { read -r -t "$1" -u "$SLEEP_FD" _ || true; }
meminfo_huge_kb() { # sets AHK: system-wide AnonHugePages, kB
	local k v _
	AHK=0
	while read -r k v _; do
		if [[ $k == AnonHugePages: ]]; then
			AHK=$v
			return
		fi
	done </proc/meminfo
}
usec() { USEC=${EPOCHREALTIME/./}; }
# wait_meminfo BASE_KB T0_USEC: until AnonHugePages grew by SIZE (20 ms
# naps); sets WAIT_S. Other processes' huge pages come and go on a shared
# machine, so once a second the target itself is checked with smaps-huge too.
# Returns 1 after 300 s.
wait_meminfo() {
	local need=$(($1 + SIZE_B / 1024)) n=0
	while :; do
		meminfo_huge_kb
		usec
		n=$((n + 1))
		if ((n % 50 == 0)) && (($(huge_kb "$TGT_PID" "$TGT_START" "$TGT_END") >= SIZE_B / 1024)); then
			AHK=$need
		fi
		if ((AHK >= need)); then
			WAIT_S=$(awk -v a="$2" -v b="$USEC" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
			return 0
		fi
		((USEC - $2 < 300000000)) || return 1
		nap 0.02
	done
}
# collapse_thread_sched PID -> "CPU_S RUNQ_S" of thread thpd-collapse
collapse_thread_sched() {
	local t
	for t in /proc/"$1"/task/*; do
		if [[ $(cat "$t/comm" 2>/dev/null) == thpd-collapse ]]; then
			awk '{ printf "%.3f %.3f", $1 / 1e9, $2 / 1e9 }' "$t/schedstat"
			return
		fi
	done
	echo "- -"
}
# retry_arm ARM...: runs an arm again (up to 3 times) when it set CONTAM=1:
# something else (another thpd on a shared machine) collapsed its memory.
retry_arm() {
	local try
	for ((try = 1; try <= 3; try++)); do
		CONTAM=0
		"$@"
		((CONTAM)) || return 0
		record contaminated 1
		warn "$*: memory collapsed by something else during the arm: running it again"
	done
	die "$*: contaminated 3 times in a row"
}
# arm_raw NAME POLL RAW-ARGS...: POLL=poll times to 100% by smaps polling,
# POLL=none times raw-collapse from launch to exit (nothing else running)
arm_raw() {
	local m=$1 poll=$2
	shift 2
	tput_target
	local t0=$EPOCHREALTIME
	"$RAW" "$@" "$TGT_PID" "$TGT_START" "$TGT_END" >"$WORK/raw.out" 2>&1 &
	local rp=$!
	track "$rp"
	if [[ $poll == poll ]] && ! wait_huge "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B" 100 300 "$t0" 0.02 "$rp"; then
		[[ $WAIT_S != - ]] || die "$m: not 100% huge after 300 s ($WAIT_PCT%)"
		warn "$m: raw-collapse ended with $WAIT_PCT% huge (chunks it could not collapse)"
	fi
	wait "$rp" || warn "raw-collapse $*: $(cat "$WORK/raw.out")"
	[[ $poll == poll ]] || WAIT_S=$(elapsed_since "$t0")
	forget_pid "$rp"
	local out
	out=$(cat "$WORK/raw.out")
	[[ $(huge_pct "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B") == 100.0 ]] || warn "$m: not all huge: $out"
	record "${m}_s" "$WAIT_S"
	record "${m}_cpu_s" "$(kv cpu_s "$out")"
	record "${m}_runq_s" "$(kv runq_s "$out")"
	log "  $m: ${WAIT_S}s to 100% (touch ${TGT_TOUCH_MS} ms); $out"
	stop_pid "$TGT_PID"
}
# arm_thpd NAME POLL: from starting thpd to 100%; POLL=poll: smaps-huge every
# 20 ms; POLL=none: fork-free /proc/meminfo reads, then one smaps check
arm_thpd() {
	local m=$1 poll=$2
	tput_target
	meminfo_huge_kb
	local base=$AHK t0=$EPOCHREALTIME
	usec
	local t0us=$USEC
	start_thpd "$WORK/tput.yaml"
	if [[ $poll == poll ]] || ! wait_meminfo "$base" "$t0us" ||
		[[ $(huge_pct "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B") != 100.0 ]]; then
		[[ $poll == poll ]] || log "  ($m: /proc/meminfo misled by other processes' huge pages: polling smaps)"
		wait_huge "$TGT_PID" "$TGT_START" "$TGT_END" "$SIZE_B" 100 300 "$t0" 0.02 ||
			die "$m: not 100% huge after 300 s ($WAIT_PCT%)"
	fi
	local sched coll scan disc bytes
	bytes=$(thpd_counter collapsed_bytes)
	if [[ $bytes =~ ^[0-9]+$ ]] && ((bytes < SIZE_B)); then
		CONTAM=1 # thpd collapsed less than SIZE: someone else did the rest
		stop_pid "$THPD_PID"
		stop_pid "$TGT_PID"
		return 0
	fi
	sched=$(collapse_thread_sched "$THPD_PID")
	coll=$(thpd_counter collapse_sec)
	scan=$(thpd_counter scan_sec)
	disc=$(thpd_counter discoveries)
	record "${m}_s" "$WAIT_S"
	record "${m}_collapse_s" "$coll"
	record "${m}_scan_s" "$scan"
	record "${m}_disc" "$disc"
	record "${m}_cpu_s" "${sched% *}"
	record "${m}_runq_s" "${sched#* }"
	log "  $m: ${WAIT_S}s to 100% (touch ${TGT_TOUCH_MS} ms); collapse_sec=$coll scan_sec=$scan discoveries=$disc worker cpu/runq=$sched"
	stop_pid "$THPD_PID"
	stop_pid "$TGT_PID"
}
run_arm() {
	case $1 in
	thpd_poll) retry_arm arm_thpd thpd_poll poll ;;
	raw2m_poll) arm_raw raw2m_poll poll ;;
	thpd_fast) retry_arm arm_thpd thpd_fast none ;;
	raw2m_fast) arm_raw raw2m_fast none ;;
	raw1g_fast) arm_raw raw1g_fast none --big ;;
	esac
}
ARMS=(thpd_poll raw2m_poll thpd_fast raw2m_fast raw1g_fast)
log "collapse throughput, $SIZE, $REPS x (${ARMS[*]}), order rotated each repetition"
local rep k
for ((rep = 0; rep < REPS; rep++)); do
	for ((k = 0; k < ${#ARMS[@]}; k++)); do
		run_arm "${ARMS[(k + rep) % ${#ARMS[@]}]}"
	done
done

# ---- the section -------------------------------------------------------------
gibs() { # gibs SECONDS -> SIZE/SECONDS in GiB/s
	if [[ $1 == - ]]; then echo -; else awk -v s="$1" -v g="$SIZE_GIB" 'BEGIN { printf "%.2f", g / s }'; fi
}
verdict() { # verdict OK-EXPRESSION(awk, on x) VALUE
	if [[ $2 == - ]]; then echo "n/a"; else awk -v x="$2" "BEGIN { print ($1) ? \"MET\" : \"MISSED\" }"; fi
}
# throughput ratios are inverse time ratios (raw time / thpd time)
local TP_t TP_r R_poll TF_t TF_r R_fast T_big
TP_t=$(med thpd_poll_s) TP_r=$(med raw2m_poll_s)
TF_t=$(med thpd_fast_s) TF_r=$(med raw2m_fast_s) T_big=$(med raw1g_fast_s)
R_poll=$(fmt %.2f "$(ratio "$TP_r" "$TP_t")") R_fast=$(fmt %.2f "$(ratio "$TF_r" "$TF_t")")
record tput_ratio_fast "$(ratio "$TF_r" "$TF_t")"
record tput_ratio_poll "$(ratio "$TP_r" "$TP_t")"
frag "## a. Collapse throughput: thpd against a bare loop" ""
frag "\`bench/tput.sh\`: $SIZE of resident 4 KiB pages collapsed from 0% to 100% huge, five arms, repeated $REPS times (REPS)." ""
row "measurement" "median" "range over reps" "ratio / note"
row "---" "---" "---" "---"
row "thpd: started to 100% huge, smaps polled every 20 ms" "$(fmt %.2f "$TP_t") s = $(gibs "$TP_t") GiB/s" "$(range thpd_poll_s %.2f) s" "thpd/raw throughput **${R_poll}x** (goal >= 0.9x: **$(verdict 'x >= 0.9' "$R_poll")**)"
row "raw-collapse, 2 MiB per call: launched to 100%, smaps polled every 20 ms" "$(fmt %.2f "$TP_r") s = $(gibs "$TP_r") GiB/s" "$(range raw2m_poll_s %.2f) s" ""
row "thpd: started to 100%, unpolled (fork-free /proc/meminfo reads)" "$(fmt %.2f "$TF_t") s = $(gibs "$TF_t") GiB/s" "$(range thpd_fast_s %.2f) s" "thpd/raw throughput **${R_fast}x** (goal >= 0.9x: **$(verdict 'x >= 0.9' "$R_fast")**)"
row "raw-collapse, 2 MiB per call: launch to exit, unpolled" "$(fmt %.2f "$TF_r") s = $(gibs "$TF_r") GiB/s" "$(range raw2m_fast_s %.2f) s" "polling slows raw by $(fmt %.2f "$(ratio "$TP_r" "$TF_r")")x, thpd by $(fmt %.2f "$(ratio "$TP_t" "$TF_t")")x"
row "raw-collapse, 1 GiB per call: launch to exit, unpolled" "$(fmt %.2f "$T_big") s = $(gibs "$T_big") GiB/s" "$(range raw1g_fast_s %.2f) s" "1G/2M calls throughput $(fmt %.2f "$(ratio "$TF_r" "$T_big")")x"
row "thpd inside process_madvise (collapse_sec): polled / unpolled" "$(fmt %.2f "$(med thpd_poll_collapse_s)") / $(fmt %.2f "$(med thpd_fast_collapse_s)") s" "" "the rest of thpd's time: start, first /proc walk, scan ($(fmt %.3f "$(med thpd_fast_scan_s)") s), detection lag"
row "collapse loop on CPU / waiting for a CPU, polled: thpd / raw" "$(fmt %.2f "$(med thpd_poll_cpu_s)") / $(fmt %.2f "$(med thpd_poll_runq_s)") s; $(fmt %.2f "$(med raw2m_poll_cpu_s)") / $(fmt %.2f "$(med raw2m_poll_runq_s)") s" "" "rest of the loop: blocked (mmap lock, ...); thpd discoveries (/proc walks): $(med thpd_poll_disc) polled, $(med thpd_fast_disc) unpolled"
row "collapse loop on CPU / waiting for a CPU, unpolled: thpd / raw" "$(fmt %.2f "$(med thpd_fast_cpu_s)") / $(fmt %.2f "$(med thpd_fast_runq_s)") s; $(fmt %.2f "$(med raw2m_fast_cpu_s)") / $(fmt %.2f "$(med raw2m_fast_runq_s)") s" "" ""
frag "" \
	"Each arm gets a fresh target touched the same way, then $SETTLE s of quiet, so all" \
	"collapse into memory the host has taken back (cold); the order of the five arms" \
	"rotates every repetition. \"Polled\": time from launching thpd (or raw-collapse)" \
	"to the first smaps-huge poll (every 20 ms) that shows 100% AnonHugePages. Each" \
	"such poll walks the target's page tables (tens of ms for 4 GiB of 4 KiB pages," \
	"under the mmap lock that every collapse must take for writing) and forks two" \
	"processes (each fork and exec wakes thpd's process-event discovery), so it slows" \
	"the collapse it measures. \"Unpolled\": raw-collapse from launch to exit; thpd" \
	"from launch until /proc/meminfo's AnonHugePages grew by $SIZE (read by the shell" \
	"without forking, 20 ms naps), then checked once with smaps-huge. thpd's time" \
	"includes its start, its first /proc walk and its scan; its policy here has no" \
	"rate limit to speak of (64 GiB/s). The throughput ratio is raw time / thpd time" \
	"(1.0 = as fast as a bare loop of the same calls)." ""
log "done"
}
main "$@"
exit
