#!/bin/bash
# shellcheck disable=SC2317 # functions defined inside main() look unreachable
# bench/ab-redis.sh: Redis GET throughput, control against treated, as a
# paired measurement in one run (part c2 of bench/run).
#
# Two redis-server processes (Debian's redis-server 7), each on a private
# 127.0.0.1 port without persistence, filled with the same REDIS_KEYS (3 M)
# keys (key:%012d, 64-byte values, the names redis-benchmark -r uses, so
# every GET hits), both alive for the whole run:
#   control   started as rds-control (a symlink to redis-server, so its
#             process name differs): 4 KiB pages throughout
#   treated   started as rds-treated: thpd's policy matches only this name;
#             measured once thpd's coverage of it stopped growing (1.5 s)
# In madvise mode redis does not disable THP for itself (it does only when
# enabled=always), and it never madvises its heap: without thpd both stay
# on 4 KiB pages. redis-benchmark random GETs in two modes: pipelined (-P 16,
# 50 clients) and not (-P 1, 20 clients), each measurement REDIS_SECONDS
# (3) long (the request count is calibrated once on the control). Every
# round measures control and treated alternately, A B B A (B A A B in even
# rounds), in each mode: REPS (3) rounds after thpd's collapse, one (PRE=1)
# before thpd starts (both on 4 KiB pages: how far apart two identical
# arms are). Per round: treated/control of the mean GETs/s of the two
# measurements of each arm (> 1 = thpd faster), and control/treated of the
# p50 and p99 latency without pipelining (> 1 = thpd faster).
# A third instance, rds-fault, is the ceiling: started and filled while
# THP is enabled=always (then back to madvise), so its heap got huge pages
# at fault time, with --disable-thp no so that redis leaves THP on for
# itself; it shows what huge pages can give redis on this machine at all.
# After thpd, each round measures the three in a palindromic order (ctl trt
# flt flt trt ctl, rotated by one arm each round).
# Issue 10's goal: a GET gain >= 1.10 (median over the rounds).
#
# Usage (root; builds nothing): BUILD_DIR=build bench/ab-redis.sh [--smoke]
# Environment: BUILD_DIR, REPS (3), PRE (1), REDIS_KEYS (3000000),
# REDIS_SECONDS (3); --smoke: 100000 keys, 0.5 s, 1 round, no pre-round.
# Installs redis-server and redis-tools with apt-get if missing (--smoke
# skips instead). Exit status: 0, 1 failed, 77 not root or redis missing.
set -euo pipefail
export LC_ALL=C
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
main() {
bench_args "$@"
if ((SMOKE)); then
	REPS=${REPS:-1} PRE=${PRE:-0} REDIS_KEYS=${REDIS_KEYS:-100000} REDIS_SECONDS=${REDIS_SECONDS:-0.5}
else
	REPS=${REPS:-3} PRE=${PRE:-1} REDIS_KEYS=${REDIS_KEYS:-3000000} REDIS_SECONDS=${REDIS_SECONDS:-3}
fi
posint REPS "$REPS"
posint REDIS_KEYS "$REDIS_KEYS"
zero_one PRE "$PRE"
bench_init ab-redis
need_cmds "redis-server redis-tools" redis-server redis-benchmark redis-cli || exit 77
thp_madvise

local server
server=$(readlink -f "$(command -v redis-server)")
mkdir "$WORK/bin"
declare -A COMM=([ctl]=rds-control [trt]=rds-treated [flt]=rds-fault) PORT PID
declare -A CLIENTS=([p16]=50 [p1]=20) PIPE=([p16]=16 [p1]=1) REQS
local arm p
# start_redis ARM...: start and fill them (at once: same keys, same order,
# same values)
start_redis() {
	local arm p fills=()
	for arm in "$@"; do
		ln -s "$server" "$WORK/bin/${COMM[$arm]}"
		PORT[$arm]=$(free_port 17390)
		mkdir "$WORK/$arm"
		"$WORK/bin/${COMM[$arm]}" --bind 127.0.0.1 --port "${PORT[$arm]}" --dir "$WORK/$arm" --save "" \
			--appendonly no --daemonize no --logfile "$WORK/$arm/log" --protected-mode yes \
			--disable-thp no &
		PID[$arm]=$!
		track "${PID[$arm]}"
		for ((p = 0; p < 200; p++)); do
			[[ $(redis-cli -p "${PORT[$arm]}" ping 2>/dev/null) == PONG ]] && break
			gone "${PID[$arm]}" && die "redis-server ($arm) exited: $(tail -3 "$WORK/$arm/log")"
			sleep 0.05
		done
		[[ $(cat "/proc/${PID[$arm]}/comm") == "${COMM[$arm]}" ]] ||
			die "redis-server ($arm) runs as '$(cat "/proc/${PID[$arm]}/comm")', not ${COMM[$arm]}"
	done
	for arm in "$@"; do
		awk -v n="$REDIS_KEYS" 'BEGIN {
			v = sprintf("%064d", 7)
			for (i = 0; i < n; i++)
				printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$64\r\n%s\r\n", i, v
		}' | redis-cli -p "${PORT[$arm]}" --pipe >"$WORK/$arm/fill" 2>&1 &
		fills+=($!)
	done
	for p in "${fills[@]}"; do wait "$p" || die "redis fill failed: $(cat "$WORK"/*/fill)"; done
}
start_redis ctl trt
# The ceiling: huge pages at fault time. The window with enabled=always is
# kept to this one start and fill (khugepaged scans every process while it
# lasts; the control is checked for huge pages at every measurement).
thp_set enabled always
start_redis flt
thp_set enabled madvise
for arm in ctl trt flt; do
	[[ $(redis-cli -p "${PORT[$arm]}" dbsize) == "$REDIS_KEYS" ]] || die "redis ($arm) has not $REDIS_KEYS keys"
	log "  $arm (${COMM[$arm]}, port ${PORT[$arm]}): $REDIS_KEYS keys, $(redis-cli -p "${PORT[$arm]}" info memory |
		sed -n 's/^used_memory_human:\(.*\)\r$/\1/p') used, $(anon_huge_pct "${PID[$arm]}")% of anon huge"
done

# bench ARM MODE N -> "rps p50 p99" of one redis-benchmark run
bench() {
	local csv
	csv=$(redis-benchmark -h 127.0.0.1 -p "${PORT[$1]}" -t get -r "$REDIS_KEYS" -n "$3" \
		-P "${PIPE[$2]}" -c "${CLIENTS[$2]}" --csv 2>/dev/null) || die "redis-benchmark ($1 $2) failed"
	awk -F'"' '$2 == "GET" { print $4, $10, $14 }' <<<"$csv"
}
# Requests per measurement: about REDIS_SECONDS worth, measured on the control.
local mode rps p99
for mode in p16 p1; do
	if [[ $mode == p16 ]]; then p=200000; else p=20000; fi
	read -r rps _ p99 < <(bench ctl "$mode" "$p")
	[[ -n ${p99:-} ]] || die "no GET figures from redis-benchmark"
	REQS[$mode]=$(awk -v r="$rps" -v s="$REDIS_SECONDS" 'BEGIN { n = int(r * s); print n < 1000 ? 1000 : n }')
	log "  calibration $mode: $rps GET/s: ${REQS[$mode]} requests per measurement"
done

# measure ARM MODE TAG: one measurement, recorded as redis_TAG_MODE_ARM_*;
# sets RPS P50 P99
measure() {
	local arm=$1 mode=$2 tag=$3 h0 h1
	h0=$(anon_huge_pct "${PID[$arm]}")
	read -r RPS P50 P99 < <(bench "$arm" "$mode" "${REQS[$mode]}")
	[[ -n ${P99:-} ]] || die "no GET figures from redis-benchmark ($arm $mode)"
	h1=$(anon_huge_pct "${PID[$arm]}")
	record "redis_${tag}_${mode}_${arm}_rps" "$RPS"
	record "redis_${tag}_${mode}_${arm}_p50" "$P50"
	record "redis_${tag}_${mode}_${arm}_p99" "$P99"
	record "redis_${tag}_${arm}_huge" "$h1"
	if [[ $arm == ctl || $tag == pre ]] && awk -v a="$h0" -v b="$h1" 'BEGIN { exit !(a > 1 || b > 1) }'; then
		record contaminated 1
		record redis_ctl_contaminated 1
		warn "$arm was $h1% huge before thpd treated it (another collapser on this machine?)"
	fi
	log "    $tag $mode $arm: $RPS GET/s, p50 $P50 ms, p99 $P99 ms, ${h0}% -> ${h1}% of anon huge"
}
# round TAG ARMS...: both modes, each measuring the arms in the given order
# and then in reverse (A B B A; ctl trt flt flt trt ctl); records the ratios
round() {
	local tag=$1 arm k
	shift
	local order=("$@")
	for ((k = ${#order[@]} - 1; k >= 0; k--)); do order+=("${order[k]}"); done
	for mode in p16 p1; do
		declare -A rp=() l50=() l99=()
		for arm in "${order[@]}"; do
			measure "$arm" "$mode" "$tag"
			rp[$arm]+=" $RPS" l50[$arm]+=" $P50" l99[$arm]+=" $P99"
		done
		# shellcheck disable=SC2086 # two values each
		record "redis_${tag}_${mode}_gain" "$(ratio "$(mean_of ${rp[trt]})" "$(mean_of ${rp[ctl]})")"
		# shellcheck disable=SC2086
		record "redis_${tag}_${mode}_p50_gain" "$(ratio "$(mean_of ${l50[ctl]})" "$(mean_of ${l50[trt]})")"
		# shellcheck disable=SC2086
		record "redis_${tag}_${mode}_p99_gain" "$(ratio "$(mean_of ${l99[ctl]})" "$(mean_of ${l99[trt]})")"
		if [[ -n ${rp[flt]:-} ]]; then
			# shellcheck disable=SC2086
			record "redis_${tag}_${mode}_ceiling" "$(ratio "$(mean_of ${rp[flt]})" "$(mean_of ${rp[ctl]})")"
			# shellcheck disable=SC2086
			record "redis_${tag}_${mode}_trt_vs_flt" "$(ratio "$(mean_of ${rp[trt]})" "$(mean_of ${rp[flt]})")"
		fi
		log "  $tag $mode: treated/control $(fmt %.3f "$(vals "redis_${tag}_${mode}_gain" | tail -1)")${rp[flt]:+, fault/control $(fmt %.3f "$(vals "redis_${tag}_${mode}_ceiling" | tail -1)")}"
	done
}

local r
for ((r = 1; r <= PRE; r++)); do
	log "  before thpd, round $r: control and treated both on 4 KiB pages"
	if ((r % 2)); then round pre ctl trt; else round pre trt ctl; fi
done

write_policy "$WORK/redis.yaml" "" "${COMM[trt]}"
start_thpd "$WORK/redis.yaml" wait
wait_stable "anon_huge_pct ${PID[trt]}" 120
record redis_collapse_s "$STABLE_S"
record redis_collapse_pct "$STABLE_PCT"
log "  thpd: treated ${STABLE_PCT}% of anon huge after ${STABLE_S}s (control $(anon_huge_pct "${PID[ctl]}")%); attempts: $(thpd_attempts)"
awk -v p="$STABLE_PCT" 'BEGIN { exit !(p < 50) }' &&
	warn "thpd collapsed only ${STABLE_PCT}% of the treated redis: the gain below is that of a partial treatment"

local arms=(ctl trt flt) rot
for ((r = 1; r <= REPS; r++)); do
	rot=("${arms[@]:$(((r - 1) % 3))}" "${arms[@]:0:$(((r - 1) % 3))}")
	log "  round $r/$REPS after thpd: ${rot[*]} and back, per mode"
	round ab "${rot[@]}"
done
record redis_thpd_splits "$(thpd_counter splits)"
stop_pid "$THPD_PID"

# ---- the section -------------------------------------------------------------
local goal="x >= 1.10"
frag "### c2. Redis: GET throughput, control and treated" ""
frag "\`bench/ab-redis.sh\`: three redis-server processes (control, treated, THP at fault) with $REDIS_KEYS keys each; $REPS rounds after thpd collapsed the treated one, $PRE before; about $REDIS_SECONDS s per measurement (${REQS[p16]} GETs pipelined, ${REQS[p1]} not)." ""
row "redis-benchmark random GETs" "control: 4 KiB" "treated: after thpd" "THP at fault (ceiling)" "gain (per round, treated vs control)" "ceiling: fault vs control" "before thpd (both 4 KiB)"
row "---" "---" "---" "---" "---" "---" "---"
row "GETs/s, -P 16, 50 clients (higher is better)" "$(value_cell redis_ab_p16_ctl_rps %.0f "")" "$(value_cell redis_ab_p16_trt_rps %.0f "")" "$(value_cell redis_ab_p16_flt_rps %.0f "")" "$(ratio_cell redis_ab_p16_gain "$goal" ">= 1.10")" "$(ratio_cell redis_ab_p16_ceiling)" "$(ratio_cell redis_pre_p16_gain)"
row "GETs/s, -P 1, 20 clients" "$(value_cell redis_ab_p1_ctl_rps %.0f "")" "$(value_cell redis_ab_p1_trt_rps %.0f "")" "$(value_cell redis_ab_p1_flt_rps %.0f "")" "$(ratio_cell redis_ab_p1_gain "$goal" ">= 1.10")" "$(ratio_cell redis_ab_p1_ceiling)" "$(ratio_cell redis_pre_p1_gain)"
row "p50 latency, -P 1 (lower is better; gain = control/treated)" "$(value_cell redis_ab_p1_ctl_p50 %.3f ms)" "$(value_cell redis_ab_p1_trt_p50 %.3f ms)" "$(value_cell redis_ab_p1_flt_p50 %.3f ms)" "$(ratio_cell redis_ab_p1_p50_gain)" "" "$(ratio_cell redis_pre_p1_p50_gain)"
row "p99 latency, -P 1" "$(value_cell redis_ab_p1_ctl_p99 %.3f ms)" "$(value_cell redis_ab_p1_trt_p99 %.3f ms)" "$(value_cell redis_ab_p1_flt_p99 %.3f ms)" "$(ratio_cell redis_ab_p1_p99_gain)" "" "$(ratio_cell redis_pre_p1_p99_gain)"
row "anonymous memory in huge pages, %" "$(value_cell redis_ab_ctl_huge %.1f "")" "$(value_cell redis_ab_trt_huge %.1f "")" "$(value_cell redis_ab_flt_huge %.1f "")" "thpd reached $(fmt %.1f "$(med redis_collapse_pct)")% in $(fmt %.1f "$(med redis_collapse_s)") s" "" ""
frag "" \
	"The servers are the same binary with the same keys (control and treated" \
	"filled at the same time); only their process names differ, and thpd's" \
	"policy matches the treated one's." \
	"thpd collapsed it at full speed (no rate limit) before the rounds and kept" \
	"running during them (its splits counter: $(med redis_thpd_splits); redis's allocator" \
	"splits a few huge pages when it frees parts of them). The round before thpd" \
	"measures each mode A B B A (A = control), so a drift of the machine" \
	"within the round weighs on both arms alike; the ratio is that of the two" \
	"measurements' means, and the table gives its median and range over the rounds." \
	"The ceiling is a third server with the same keys, started and filled while" \
	"THP was enabled=always (huge pages at fault time, then madvise again): the" \
	"most huge pages can give redis here. After thpd the three are measured in a" \
	"palindromic order (ctl trt flt flt trt ctl, rotated by one arm each round)." ""
log "done"
}
main "$@"
exit
