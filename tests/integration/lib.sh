# shellcheck shell=bash
# Shared helpers for thpd integration tests: a private temp dir, a real thpd
# on a private socket, real target processes, Varlink calls with socat.
# Every process started here is killed by pid at exit.

set -euo pipefail

: "${THPD:?THPD must point at the thpd binary}"
: "${THP_TARGET:?THP_TARGET must point at the thp-target fixture}"
: "${SMAPS_HUGE:?SMAPS_HUGE must point at tests/fixtures/smaps-huge}"

TEST_NAME=$(basename "$0" .sh)
# Deadlines stretch by TIME_SCALE, a positive integer: THPD_TEST_TIME_SCALE
# (default 1; qemu guests under software emulation run everything about 5-10x
# slower and set 5 or 10), times 10 when THPD_VALGRIND=1 runs thpd under
# valgrind memcheck (CI does it for the whole suite). TIME_SCALE itself, if
# set, overrides both. Use scaled SECONDS for a deadline of your own;
# wait_until scales by itself.
THPD_TEST_TIME_SCALE=${THPD_TEST_TIME_SCALE:-1}
if [[ ! $THPD_TEST_TIME_SCALE =~ ^[1-9][0-9]{0,3}$ ]]; then
	echo "FAIL: THPD_TEST_TIME_SCALE must be an integer 1..9999, not '$THPD_TEST_TIME_SCALE'" >&2
	exit 1
fi
if [[ ${THPD_VALGRIND:-0} == 1 ]]; then
	TIME_SCALE=${TIME_SCALE:-$((10 * THPD_TEST_TIME_SCALE))}
else
	TIME_SCALE=${TIME_SCALE:-$THPD_TEST_TIME_SCALE}
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
	thpd_threads >&2
	exit 1
}

# thpd_threads: where each of thpd's threads is (state, kernel wait channel,
# kernel stack): a collapse stuck in the kernel shows here.
thpd_threads() {
	local t st
	[[ -n $THPD_PID && -d /proc/$THPD_PID ]] || return 0
	echo "---- thpd threads ----"
	for t in /proc/"$THPD_PID"/task/*; do
		st=$(awk '$1 == "State:" {print $2}' "$t/status" 2>/dev/null) || continue
		echo "$(cat "$t/comm" 2>/dev/null) ${t##*/} state $st wchan $(cat "$t/wchan" 2>/dev/null)"
		head -n 12 "$t/stack" 2>/dev/null | sed 's/^/    /' || true
	done
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
# A command that fails outside a check ends the test (set -e): say which.
trap 'echo "FAIL: $TEST_NAME line $LINENO: exit status $? from: $BASH_COMMAND" >&2' ERR

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
# shellcheck disable=SC2120 # most callers pass no extra arguments
start_thpd() {
	local wrapper=()
	if [[ ${THPD_VALGRIND:-0} == 1 ]]; then
		# Only leaks thpd made: "definite" and "indirect"; libraries' one-time
		# allocations still reachable at exit are not leaks.
		# shellcheck disable=SC2054 # the commas are in valgrind's option values
		wrapper=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
			--errors-for-leak-kinds=definite,indirect --track-fds=no
			"--log-file=$WORK/valgrind.%p.log")
	fi
	"${wrapper[@]}" "$THPD" --foreground --config "$CONF" --socket "$SOCK" --log-level debug "$@" \
		>>"$LOG" 2>&1 {NAP_FD}<&- &
	THPD_PID=$!
	for _ in $(seq 1 $((100 * TIME_SCALE))); do
		if [[ -S $SOCK ]] && vcall io.thpd.Manager.GetStatus >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$THPD_PID" 2>/dev/null || fail "thpd exited during start-up"
		sleep 0.05
	done
	fail "thpd did not answer on $SOCK within $((5 * TIME_SCALE)) s"
}

stop_thpd() {
	[[ -n $THPD_PID ]] || return 0
	kill -TERM "$THPD_PID" 2>/dev/null || true
	wait "$THPD_PID" 2>/dev/null || true
	THPD_PID=""
}

# vcall METHOD [PARAMS_JSON]: one Varlink call; prints the reply object.
# The request is made before socat starts: in a slow (emulated) guest, jq
# can take longer to start than socat's -T inactivity timeout, and socat
# then quits and the pipeline dies of SIGPIPE.
vcall() {
	local method=$1 params=${2:-"{}"} req t=$((5 * TIME_SCALE))
	req=$(jq -cn --arg m "$method" --argjson p "$params" '{method: $m, parameters: $p}') || return
	printf '%s\0' "$req" | socat -t"$t" -T"$t" - "UNIX-CONNECT:$SOCK" | tr -d '\0'
}

# target_json PID: GetTarget's target with all its areas and chunks, every
# page fetched (chunks: true, next_chunk_offset); empty if absent.
target_json() {
	local off=0 page all='' next
	while :; do
		page=$(vcall io.thpd.Manager.GetTarget \
			"{\"pid\": $1, \"chunks\": true, \"chunk_offset\": $off}") || return
		jq -e '.parameters.target' <<<"$page" >/dev/null 2>&1 || return 0
		if [[ -z $all ]]; then
			all=$(jq -c '.parameters.target' <<<"$page")
		else
			all=$(jq -c --argjson p "$(jq -c '.parameters.target' <<<"$page")" \
				'.areas += $p.areas | .chunks += $p.chunks' <<<"$all")
		fi
		next=$(jq -r '.parameters.next_chunk_offset // empty' <<<"$page")
		[[ -n $next ]] && ((next > off)) || break
		off=$next
	done
	printf '%s\n' "$all"
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
	"$THP_TARGET" --ready-file "$ready" "$@" >"$WORK/$name.out" 2>&1 {NAP_FD}<&- &
	local pid=$!
	CHILD_PIDS+=("$pid")
	# Touching memory is setup, not a measurement: on a VM whose host takes
	# freed memory back, faulting in 2 GiB took 12 s (2026-11-29).
	for _ in $(seq 1 $((1200 * TIME_SCALE))); do
		[[ -f $ready ]] && break
		kill -0 "$pid" 2>/dev/null || fail "thp-target $name exited: $(cat "$WORK/$name.out")"
		sleep 0.05
	done
	[[ -f $ready ]] || fail "thp-target $name not ready after $((60 * TIME_SCALE)) s"
	# shellcheck disable=SC2034 # for the caller
	READY=$ready
}

# ready_get FILE KEY: a value from a ready file.
ready_get() {
	awk -v k="$2" '$1 == k { print $2 }' "$1" | tail -n 1
}

# wait_step FILE N: wait until the target reports step >= N.
wait_step() {
	local s
	for _ in $(seq 1 $((200 * TIME_SCALE))); do
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

# wait_until SECONDS CMD...: poll CMD every 0.1 s (times THPD_TEST_TIME_SCALE,
# at most 1 s: in an emulated guest every poll costs as much); 0 once it
# succeeds.
# SECONDS stretch by TIME_SCALE (slow runs under valgrind or emulation).
# Polls without a fork or exec of its own (under emulation in a qemu guest
# every exec costs 0.3-0.5 s): the clock is bash's EPOCHREALTIME (digits
# only: its decimal point follows the locale), the pause a read that times
# out on a pipe nobody writes to (thpd and targets do not inherit it).
exec {NAP_FD}<> <(:)
nap() {
	read -rt "$1" -u "$NAP_FD" || true
}
wait_until() {
	local deadline=$((${EPOCHREALTIME//[!0-9]/} + $1 * TIME_SCALE * 1000000)) pause=0.$THPD_TEST_TIME_SCALE
	((THPD_TEST_TIME_SCALE < 10)) || pause=1
	shift
	while ((${EPOCHREALTIME//[!0-9]/} < deadline)); do
		if "$@"; then
			return 0
		fi
		nap "$pause"
	done
	return 1
}

thpd_alive() {
	kill -0 "$THPD_PID" 2>/dev/null || fail "thpd died"
}

# scaled SECONDS: SECONDS stretched by TIME_SCALE (integers).
scaled() {
	echo $(($1 * TIME_SCALE))
}

# is_num VALUE: VALUE is a decimal integer. In bash, [[ "" -eq 0 ]] and
# [[ null -eq 0 ]] are true: check with this before comparing numbers that
# came from a command (huge_kb of a vanished process, jq of an error reply).
is_num() {
	[[ $1 =~ ^-?[0-9]+$ ]]
}

# jnum FILTER JSON [JQ ARGS...]: the integer that jq FILTER selects from JSON;
# fails the test when it is anything else (null, missing, an error reply).
# Use as v=$(jnum ...), never with local: set -e then ends the test.
jnum() {
	local filter=$1 json=$2 v
	shift 2
	if ! v=$(jq -e "$@" "($filter) | numbers" <<<"$json" 2>/dev/null) || ! is_num "$v"; then
		fail "jq '$filter' is not an integer in: ${json:0:600}"
	fi
	echo "$v"
}

# range_kb PID START END FIELD: the kB of smaps FIELD (AnonHugePages, Rss,
# ...) summed over the VMAs of PID that lie within [START, END), like
# smaps-huge, but one awk instead of a bash loop: cheap enough to poll every
# half second inside a slow (emulated) guest. Prints nothing (status 1) if
# smaps cannot be read.
range_kb() {
	[[ -r /proc/$1/smaps ]] || return 1
	# shellcheck disable=SC2016 # an awk program
	awk -v s="$2" -v e="$3" -v f="$4:" '
		function hex(h, i, v) {
			h = tolower(h)
			sub(/^0x/, "", h)
			v = 0
			for (i = 1; i <= length(h); i++)
				v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
			return v
		}
		BEGIN { lo = hex(s); hi = hex(e); kb = 0 }
		$1 ~ /^[0-9a-f]+-[0-9a-f]+$/ {
			split($1, r, "-")
			inside = hex(r[1]) >= lo && hex(r[2]) <= hi
			next
		}
		inside && $1 == f { kb += $2 }
		END { printf "%d\n", kb }' "/proc/$1/smaps" 2>/dev/null
}

# range_huge_kb PID START END: AnonHugePages (kB) within [START, END).
range_huge_kb() {
	range_kb "$1" "$2" "$3" AnonHugePages
}

# huge_kb_num PID START END: huge_kb (by range_huge_kb), failing the test
# unless it is a number.
huge_kb_num() {
	local kb
	kb=$(range_huge_kb "$1" "$2" "$3") || true
	is_num "$kb" || fail "no AnonHugePages figure for pid $1 [$2, $3): '$kb'"
	echo "$kb"
}

# smaps_vmas PID: one line per VMA of PID: START END RSS_KB ANON_HUGE_KB
# (addresses in decimal). Fails (status 1) if smaps cannot be read.
smaps_vmas() {
	local smaps key val have=0 s=0 e=0 rss=0 huge=0
	smaps=$(cat "/proc/$1/smaps" 2>/dev/null) || return 1
	while read -r key val _; do
		if [[ $key =~ ^([0-9a-f]+)-([0-9a-f]+)$ ]]; then
			((have)) && echo "$s $e $rss $huge"
			s=$((16#${BASH_REMATCH[1]})) e=$((16#${BASH_REMATCH[2]})) rss=0 huge=0 have=1
		elif [[ $key == Rss: ]]; then
			rss=$val
		elif [[ $key == AnonHugePages: ]]; then
			huge=$val
		fi
	done <<<"$smaps"
	((have)) && echo "$s $e $rss $huge"
	return 0
}

# thp_enabled: the THP mode in force (always, madvise or never).
thp_enabled() {
	sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled
}

# require_num WHAT VALUE: fails the test, naming WHAT, unless VALUE is a
# decimal integer. Put it before each comparison of a number that came from
# a command (jq, awk, huge_kb): [[ "" -eq 0 ]] and [[ null -eq 0 ]] are true,
# so without it a check passes on a missing answer. It calls fail in the
# current shell, so it works inside wait_until predicates (where set -e does
# not); inside $(...) it would end only the subshell.
require_num() {
	local got="'$2'"
	[[ -n $2 ]] || got=nothing
	is_num "$2" || fail "$1: expected an integer, got $got"
}
