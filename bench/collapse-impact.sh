#!/bin/bash
# bench/collapse-impact.sh: what a live service feels while thpd collapses it.
#
# A redis-server with REDIS_KEYS keys (64-byte values, ~600 MiB for 3 M) on a
# private port; redis-benchmark GETs without pipelining from 20 clients,
# MEASURE_S seconds a measurement, all in one run:
#   idle-a, idle-b  two measurements with nothing else running (the noise:
#                   their p99 ratio is what "no effect" looks like here)
#   before          just before thpd starts
# then thpd starts (the shipped default policy's max_rate, max_collapse_rate
# and max_stall unless RATE / GLOBAL_RATE / STALL say otherwise) and, once
# the collapse is under way, ROUNDS rounds of paused, collapsing,
# collapsing, paused (thpctl pause / resume: paused, thpd scans but does not
# collapse), each round's ratio that of the means, so that the machine's
# drift over minutes (p99 1.6x between two idle measurements a minute apart
# here) weighs on both arms alike. Reported: p50/p99 collapsing/paused,
# medians over the rounds; the first collapsing window against "before";
# idle-b/idle-a. A round counts only if thpd went on collapsing through it
# (0.3% of redis or more, and redis under 90% huge at its end).
#
# Usage (root; builds nothing):
#   BUILD_DIR=build bench/collapse-impact.sh [--smoke]
# Environment: BUILD_DIR (build), ROUNDS (3), REDIS_KEYS (3000000),
#   MEASURE_S (seconds per measurement, 8: at a stall budget of 0.5% thpd
#   makes a few collapses a second, and the window must hold enough of them),
#   REQUESTS (GETs per measurement; default: MEASURE_S worth, measured),
#   RATE / GLOBAL_RATE (collapse rates; default: the shipped policy's),
#   STALL (max_stall; default: the shipped policy's; 0% for none),
#   COLLAPSE_SCHED / COLLAPSE_NICE (the collapse thread's scheduling;
#   default: the shipped policy's),
#   OUT (a file to append the summary to).
# Prints one line per measurement and a summary; the last line is
#   "impact: p99 during/before MEDIAN (N rounds: R1 R2 R3; ...); p50 ...".
# Exit status: 0 done, 1 a step failed, 77 not root or redis missing.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
SRC=$PWD
BUILD_DIR=${BUILD_DIR:-build}
ROUNDS=${ROUNDS:-3}
REDIS_KEYS=${REDIS_KEYS:-3000000}
MEASURE_S=${MEASURE_S:-8}
if [[ ${1:-} == --smoke ]]; then
	ROUNDS=1
	REDIS_KEYS=200000
	MEASURE_S=2
fi
THPD=$SRC/$BUILD_DIR/daemon/thpd
THPCTL=$SRC/$BUILD_DIR/client/thpctl

log() { printf '%s\n' "$*" >&2; }
die() {
	log "collapse-impact: $*"
	exit 1
}
[[ $(id -u) == 0 ]] || {
	log "collapse-impact: needs root (process_madvise on another process); skipped"
	exit 77
}
for c in redis-server redis-benchmark redis-cli jq; do
	command -v $c >/dev/null || {
		log "collapse-impact: $c missing (apt-get install redis-server redis-tools jq); skipped"
		exit 77
	}
done
[[ -x $THPD && -x $THPCTL ]] || die "build first: ninja -C $BUILD_DIR"

# The shipped default policy's rates, unless overridden.
shipped_rate() { # shipped_rate KEY -> value from config/thpd.yaml
	awk -v k="$1:" '$1 == k { print $2; exit }' "$SRC/config/thpd.yaml"
}
RATE=${RATE:-$(shipped_rate max_rate)}
GLOBAL_RATE=${GLOBAL_RATE:-$(shipped_rate max_collapse_rate)}
[[ -n $RATE && -n $GLOBAL_RATE ]] || die "cannot read the rates from config/thpd.yaml"
# The stall budget (max_stall: share of time redis may wait on collapses):
# the shipped policy's unless STALL says otherwise (STALL=0% for none).
STALL=${STALL:-$(shipped_rate max_stall)}
[[ -n $STALL ]] || die "cannot read max_stall from config/thpd.yaml"
# The collapse thread's scheduling: the shipped policy's, unless overridden
# (COLLAPSE_SCHED=other COLLAPSE_NICE=0 measures the daemon without it).
COLLAPSE_SCHED=${COLLAPSE_SCHED:-$(shipped_rate collapse_scheduler)}
COLLAPSE_NICE=${COLLAPSE_NICE:-$(shipped_rate collapse_nice)}
[[ -n $COLLAPSE_SCHED && -n $COLLAPSE_NICE ]] || die "cannot read collapse_scheduler/collapse_nice from config/thpd.yaml"

WORK=$(mktemp -d /tmp/thpd-impact.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
stop_pid() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cat >"$WORK/thpd.yaml" <<EOF
daemon: {scan_interval: 5s, max_collapse_rate: $GLOBAL_RATE, collapse_scheduler: $COLLAPSE_SCHED, collapse_nice: $COLLAPSE_NICE}
policies:
  - name: redis
    match: {comm: [redis-server]}
    hotness: none
    min_present: 90%
    max_rate: $RATE
    max_stall: $STALL
EOF
"$THPD" --check-config -c "$WORK/thpd.yaml" >/dev/null || die "bad generated config"

PORT=17581
anon_huge_pct() { # % of the process's anonymous memory in huge pages
	awk '/^Anonymous:/ { a = $2 } /^AnonHugePages:/ { h = $2 }
		END { printf "%.1f", a ? 100 * h / a : 0 }' "/proc/$1/smaps_rollup"
}
start_redis() {
	local i
	redis-server --bind 127.0.0.1 --port $PORT --dir "$WORK" --save "" --appendonly no \
		--daemonize no --logfile "$WORK/redis.log" --protected-mode yes &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	for ((i = 0; i < 200; i++)); do
		[[ $(redis-cli -p $PORT ping 2>/dev/null) == PONG ]] && break
		sleep 0.05
	done
	# Keys named as redis-benchmark -r names them, so every GET hits.
	awk -v n="$REDIS_KEYS" 'BEGIN {
		v = sprintf("%064d", 7)
		for (i = 0; i < n; i++)
			printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$64\r\n%s\r\n", i, v
	}' | redis-cli -p $PORT --pipe >"$WORK/fill" 2>&1 || die "redis fill failed"
	[[ $(redis-cli -p $PORT dbsize) == "$REDIS_KEYS" ]] || die "redis fill incomplete"
}
# measure NAME: one redis-benchmark run; sets P50 P99 RPS
measure() {
	local csv
	csv=$(redis-benchmark -h 127.0.0.1 -p $PORT -t get -r "$REDIS_KEYS" -n "$REQUESTS" \
		-c 20 --csv 2>/dev/null) || die "redis-benchmark failed"
	read -r RPS P50 P99 < <(awk -F'"' '$2 == "GET" { print $4, $10, $14 }' <<<"$csv")
	[[ -n ${P99:-} ]] || die "no latency figures from redis-benchmark: $csv"
	log "  $1: $RPS GET/s, p50 $P50 ms, p99 $P99 ms, redis $(anon_huge_pct "$REDIS_PID")% huge"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
median() { tr ' ' '\n' <<<"$*" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

P99_RATIOS=() P50_RATIOS=() NOISE=() ABS_RATIOS=()
log "collapse-impact: redis $REDIS_KEYS keys, GET, 20 clients, no pipelining; thpd max_rate $RATE, max_collapse_rate $GLOBAL_RATE, max_stall $STALL, collapse thread $COLLAPSE_SCHED nice $COLLAPSE_NICE; $ROUNDS rounds of ${MEASURE_S} s measurements"
pause_thpd() { "$THPCTL" --socket "$WORK/thpd.sock" --timeout 5 "$1" >/dev/null || die "thpctl $1 failed"; }
mean2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (a + b) / 2 }'; }
start_redis
REQUESTS=${REQUESTS:-}
if [[ -z $REQUESTS ]]; then # about MEASURE_S worth at this machine's speed
	REQUESTS=20000
	measure calibrate
	REQUESTS=$(awk -v r="$RPS" -v s="$MEASURE_S" 'BEGIN { printf "%d", r * s }')
fi
measure idle-a
ia=$P99
measure idle-b
NOISE+=("$(ratio "$P99" "$ia")")
measure before
b99=$P99
"$THPD" -f -c "$WORK/thpd.yaml" -s "$WORK/thpd.sock" -l warning 2>>"$WORK/thpd.log" &
THPD_PID=$!
PIDS+=("$THPD_PID")
# Once the collapse is under way (thpd started, found redis, scanned it and
# collapsed its first chunks), rounds of four measurements A B B A: A with
# thpd paused (thpctl pause: it scans on, collapses nothing), B collapsing,
# so that a drift of the machine weighs on both alike; the ratio is that of
# the means. The first B against "before" (no thpd yet, a minute earlier) is
# kept too.
for ((i = 0; i < 300; i++)); do
	awk -v a="$(anon_huge_pct "$REDIS_PID")" 'BEGIN { exit !(a >= 1) }' && break
	sleep 0.05
done
for ((round = 1; round <= ROUNDS; round++)); do
	pause_thpd pause
	measure paused-1
	p1_50=$P50 p1_99=$P99
	pause_thpd resume
	h0=$(anon_huge_pct "$REDIS_PID")
	measure during-1
	d1_50=$P50 d1_99=$P99
	((round > 1)) || ABS_RATIOS+=("$(ratio "$d1_99" "$b99")")
	measure during-2
	d2_50=$P50 d2_99=$P99
	h1=$(anon_huge_pct "$REDIS_PID")
	pause_thpd pause
	measure paused-2
	p2_50=$P50 p2_99=$P99
	# Counted if thpd kept collapsing through both B measurements: growing
	# by 0.3% (a chunk or two) or more and redis still under 90% huge.
	if awk -v a="$h0" -v b="$h1" 'BEGIN { exit !(b - a >= 0.3 && b < 90) }'; then
		P99_RATIOS+=("$(ratio "$(mean2 "$d1_99" "$d2_99")" "$(mean2 "$p1_99" "$p2_99")")")
		P50_RATIOS+=("$(ratio "$(mean2 "$d1_50" "$d2_50")" "$(mean2 "$p1_50" "$p2_50")")")
		log "  round $round: p99 collapsing/paused ${P99_RATIOS[-1]}, p50 ${P50_RATIOS[-1]} (huge ${h0}% -> ${h1}% while collapsing)"
	else
		log "  round $round: the collapse did not go on through the measurements (huge ${h0}% -> ${h1}%): not counted"
	fi
done
stop_pid "$THPD_PID"
stop_pid "$REDIS_PID"
((${#P99_RATIOS[@]} > 0)) || die "no round overlapped a collapse"
summary="impact: p99 during/before $(median "${P99_RATIOS[@]}") (${#P99_RATIOS[@]} rounds: ${P99_RATIOS[*]}; collapsing against paused, ABBA); p50 $(median "${P50_RATIOS[@]}"); first collapsing window against before thpd started ${ABS_RATIOS[*]}; idle noise p99 ${NOISE[*]}"
[[ -z ${OUT:-} ]] || echo "$summary" >>"$OUT"
echo "$summary"
