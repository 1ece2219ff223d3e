# shellcheck shell=bash
# Shared helpers for thpd integration tests: a private temp dir, a real thpd
# on a private socket, real target processes, Varlink calls with socat.
# Every process started here is killed by pid at exit.

set -euo pipefail

: "${THPD:?THPD must point at the thpd binary}"
: "${THP_TARGET:?THP_TARGET must point at the thp-target fixture}"
: "${SMAPS_HUGE:?SMAPS_HUGE must point at tests/fixtures/smaps-huge}"

TEST_NAME=$(basename "$0" .sh)
# THPD_VALGRIND=1 runs thpd under valgrind memcheck (CI does it for the whole
# suite); deadlines stretch by TIME_SCALE (default 1, 10 under valgrind).
if [[ ${THPD_VALGRIND:-0} == 1 ]]; then
	TIME_SCALE=${TIME_SCALE:-10}
else
	TIME_SCALE=${TIME_SCALE:-1}
fi
WORK=$(mktemp -d "/tmp/thpd-${TEST_NAME}.XXXXXX")
SOCK="$WORK/control.sock"
CONF="$WORK/thpd.yaml"
LOG="$WORK/thpd.log"
THPD_PID=""
declare -a CHILD_PIDS=()
declare -a CLEANUPS=()

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	if [[ -f $LOG ]]; then
		echo "---- thpd log (last 40 lines) ----" >&2
		tail -n 40 "$LOG" >&2
	fi
	exit 1
}

note() {
	echo "# $*"
}

cleanup() {
	local rc=$?
	local c pid
	for c in "${CLEANUPS[@]}"; do
		eval "$c" || true
	done
	# Only processes that are still our children: a reaped pid may belong
	# to somebody else by now.
	local ours=()
	for pid in "${CHILD_PIDS[@]}"; do
		[[ $(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) == "$$" ]] && ours+=("$pid")
	done
	if ((${#ours[@]})); then
		kill -TERM "${ours[@]}" 2>/dev/null || true
		sleep 0.1
		kill -KILL "${ours[@]}" 2>/dev/null || true
	fi
	if [[ -n $THPD_PID ]]; then
		kill -TERM "$THPD_PID" 2>/dev/null || true
		for _ in $(seq 1 $((40 * TIME_SCALE))); do
			kill -0 "$THPD_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$THPD_PID" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	# Sanitizer builds: any report in thpd's output fails the test
	# (LeakSanitizer reports at exit, after the test's own checks).
	if [[ -f $LOG ]] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LOG"; then
		echo "FAIL: sanitizer report in thpd's output:" >&2
		grep -A30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$LOG" | head -60 >&2
		rc=1
	fi
	# valgrind --quiet writes only errors and leak reports: any text is a finding.
	local vg
	for vg in "$WORK"/valgrind.*.log; do
		[[ -s $vg ]] || continue
		echo "FAIL: valgrind memcheck report ($vg):" >&2
		head -80 "$vg" >&2
		rc=1
	done
	if [[ $rc -eq 0 || $rc -eq 77 ]]; then
		rm -rf "$WORK"
	else
		echo "(kept $WORK for inspection)" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT

on_exit() {
	CLEANUPS+=("$1")
}

require_root() {
	[[ $(id -u) -eq 0 ]] || skip "needs root (CAP_SYS_PTRACE and CAP_SYS_NICE for process_madvise)"
}

require_collapse() {
	require_root
	[[ ${THPD_VALGRIND:-0} == 1 ]] &&
		skip "valgrind 3.19 (Debian 12) does not implement pidfd_open/process_madvise: target paths are checked by the ASan+LSan run"
	[[ -r /sys/kernel/mm/transparent_hugepage/enabled ]] || skip "kernel without THP"
	grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled &&
		skip "THP is disabled (enabled=never): MADV_COLLAPSE refuses"
	command -v socat >/dev/null || skip "socat not installed"
	command -v jq >/dev/null || skip "jq not installed"
}

# write_config SCAN_INTERVAL POLICY_YAML...: a config with a fast scan.
write_config() {
	local interval=$1
	shift
	{
		echo "daemon:"
		echo "  scan_interval: $interval"
		echo "  max_collapse_rate: 8GiB"
		echo "  smaps_refresh: ${SMAPS_REFRESH:-3}"
		echo "retry:"
		echo "  eagain: {initial: ${EAGAIN_INITIAL:-100ms}, max: ${EAGAIN_MAX:-1s}, attempts: ${EAGAIN_ATTEMPTS:-8}}"
		echo "  enomem: {pause: ${ENOMEM_PAUSE:-30s}}"
		echo "  ebusy: {pause: ${EBUSY_PAUSE:-60s}}"
		echo "policies:"
		printf '%s\n' "$@"
	} >"$CONF"
}

# start_thpd [EXTRA ARGS]: start thpd in the foreground on the private socket
# and wait until it answers.
start_thpd() {
	local wrapper=()
	if [[ ${THPD_VALGRIND:-0} == 1 ]]; then
		# Only leaks thpd made: "definite" and "indirect"; libraries' one-time
		# allocations still reachable at exit are not leaks.
		wrapper=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
			--errors-for-leak-kinds=definite,indirect --track-fds=no
			"--log-file=$WORK/valgrind.%p.log")
	fi
	"${wrapper[@]}" "$THPD" --foreground --config "$CONF" --socket "$SOCK" --log-level debug "$@" \
		>>"$LOG" 2>&1 &
	THPD_PID=$!
	local i
		for i in $(seq 1 $((100 * TIME_SCALE))); do
		if [[ -S $SOCK ]] && vcall io.thpd.Manager.GetStatus >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$THPD_PID" 2>/dev/null || fail "thpd exited during start-up"
		sleep 0.05
	done
	fail "thpd did not answer on $SOCK within 5 s"
}

stop_thpd() {
	[[ -n $THPD_PID ]] || return 0
	kill -TERM "$THPD_PID" 2>/dev/null || true
	wait "$THPD_PID" 2>/dev/null || true
	THPD_PID=""
}

# vcall METHOD [PARAMS_JSON]: one Varlink call; prints the reply object.
vcall() {
	local method=$1 params=${2:-"{}"}
	jq -cn --arg m "$method" --argjson p "$params" '{method: $m, parameters: $p}' |
		tr '\n' '\0' | socat -t5 -T5 - "UNIX-CONNECT:$SOCK" | tr -d '\0'
}

# target_json PID: the GetTarget reply parameters (empty if absent).
target_json() {
	vcall io.thpd.Manager.GetTarget "{\"pid\": $1}" | jq -c '.parameters.target // empty'
}

counters() {
	vcall io.thpd.Manager.GetCounters | jq -c '.parameters.counters'
}

# start_target NAME ARGS...: run thp-target, wait for its ready file; sets
# READY to that file's path. (Not for $(...): the pid must reach CHILD_PIDS.)
start_target() {
	local name=$1
	shift
	local ready="$WORK/$name.ready"
	"$THP_TARGET" --ready-file "$ready" "$@" >"$WORK/$name.out" 2>&1 &
	local pid=$!
	CHILD_PIDS+=("$pid")
	local i
	for i in $(seq 1 200); do
		[[ -f $ready ]] && break
		kill -0 "$pid" 2>/dev/null || fail "thp-target $name exited: $(cat "$WORK/$name.out")"
		sleep 0.05
	done
	[[ -f $ready ]] || fail "thp-target $name not ready"
	READY=$ready
}

# ready_get FILE KEY: a value from a ready file.
ready_get() {
	awk -v k="$2" '$1 == k { print $2 }' "$1" | tail -n 1
}

# wait_step FILE N: wait until the target reports step >= N.
wait_step() {
	local i s
	for i in $(seq 1 200); do
		s=$(ready_get "$1" step)
		[[ -n $s && $s -ge $2 ]] && return 0
		sleep 0.05
	done
	fail "target did not reach step $2 (ready file: $(cat "$1"))"
}

# huge_kb PID START END
huge_kb() {
	"$SMAPS_HUGE" "$1" "$2" "$3" | sed -n 's/.*huge_kb=\([0-9]*\).*/\1/p'
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s; 0 once it succeeds.
# SECONDS stretch by TIME_SCALE (slow runs under valgrind).
wait_until() {
	local deadline=$(($(date +%s%N) + $1 * TIME_SCALE * 1000000000))
	shift
	while (($(date +%s%N) < deadline)); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

thpd_alive() {
	kill -0 "$THPD_PID" 2>/dev/null || fail "thpd died"
}
