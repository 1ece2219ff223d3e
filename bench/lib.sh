# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by the scripts
# bench/lib.sh: what the benchmark scripts share. Sourced (never run) by
# bench/run and by every part script (bench/tput.sh, bench/time-to-huge.sh,
# bench/ab-*.sh); each of those also runs on its own.
#
#   bench_init NAME     root check (exit 77), paths of the built programs,
#                       a private temp dir WORK, the EXIT trap (below)
#   log / warn / die    "[  12.3s] NAME: text" on stderr, times from BENCH_T0
#   track PID [SIG]     remember a process we started; cleanup stops it with
#                       SIG (default TERM) and waits for it
#   stop_pid PID [SIG]  stop one now: SIG, up to 20 s, then KILL; wait
#   on_exit 'CMD'       run CMD at exit (after the tracked processes stopped)
#   thp_set KNOB VALUE  write /sys/kernel/mm/transparent_hugepage/KNOB; the
#                       first value seen is restored by thp_restore or at exit
#   write_policy FILE EXTRA COMM...  a thpd config: one policy per comm
#   start_thpd CONF     thpd on a private socket in WORK (THPD_PID, THPD_SOCK)
#   huge_kb / huge_pct  AnonHugePages inside an address range (smaps)
#   anon_huge_pct PID   AnonHugePages / Anonymous of the process (smaps_rollup)
#   shmem_pmd_pct PID   ShmemPmdMapped / RssShmem of the process
#   record M V          append "M V" to the results file RESULTS
#   vals/med/range/count/mean M   read them back; ratio_cell M: a ratio's
#                       median, min-max and count, harm (< 1) spelt out
#   frag TEXT...        append to the part's Markdown fragment FRAG
#
# The results file (BENCH_RESULTS, default WORK/results) holds one
# "metric value" line per measurement; the fragment (BENCH_FRAG, default
# WORK/fragment.md) is the part's section of BENCHMARKS.md. bench/run passes
# both and assembles them; a part run on its own prints its fragment at the
# end. Everything here assumes `set -euo pipefail` and LC_ALL=C.

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
THP_SYS=/sys/kernel/mm/transparent_hugepage
PIDS=()
declare -A PID_SIG=()
declare -A THP_ORIG=()
EXIT_HOOKS=()

# ---- setup and cleanup -------------------------------------------------------
# bench_init NAME: call once, first thing after parsing arguments.
bench_init() {
	BENCH_NAME=$1
	BENCH_T0=${BENCH_T0:-$EPOCHREALTIME}
	export BENCH_T0
	if [[ $EUID -ne 0 ]]; then
		echo "SKIP: $BENCH_NAME needs root (process_madvise on other processes, sysfs THP knobs)"
		exit 77
	fi
	BUILD_DIR=${BUILD_DIR:-build}
	[[ $BUILD_DIR == /* ]] || BUILD_DIR=$BENCH_SRC/$BUILD_DIR
	THPD=$BUILD_DIR/daemon/thpd
	THPCTL=$BUILD_DIR/client/thpctl
	RAW=$BUILD_DIR/bench/raw-collapse
	RR=$BUILD_DIR/bench/random-read
	SMAPS_HUGE=$BENCH_SRC/tests/fixtures/smaps-huge
	local f
	for f in "$THPD" "$THPCTL" "$RAW" "$RR"; do
		[[ -x $f ]] || die "$f missing: build first (meson setup $BUILD_DIR && ninja -C $BUILD_DIR)"
	done
	command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
	WORK=$(mktemp -d "/tmp/thpd-bench-$BENCH_NAME.XXXXXX")
	RESULTS=${BENCH_RESULTS:-$WORK/results}
	FRAG=${BENCH_FRAG:-$WORK/fragment.md}
	touch "$RESULTS" "$FRAG"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

bench_cleanup() {
	local rc=$? p i k
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill "-${PID_SIG[$p]:-TERM}" "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do stop_pid "$p" "${PID_SIG[$p]:-TERM}"; done
	for ((i = ${#EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
		eval "${EXIT_HOOKS[i]}" || true
	done
	for k in "${!THP_ORIG[@]}"; do thp_restore "$k"; done
	# a part run on its own shows what it measured
	if [[ -z ${BENCH_FRAG:-} && -s ${FRAG:-} && $rc == 0 ]]; then
		echo
		cat "$FRAG"
	fi
	[[ -z ${WORK:-} ]] || rm -rf "$WORK"
	exit "$rc"
}
on_exit() { EXIT_HOOKS+=("$1"); }

log() { printf '[%6.1fs] %s: %s\n' "$(elapsed_since "$BENCH_T0")" "$BENCH_NAME" "$*" >&2; }
warn() { log "WARNING: $*"; }
die() {
	log "FAILED: $*"
	exit 1
}
# elapsed_since T0 -> seconds (float) from EPOCHREALTIME T0 to now
elapsed_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# ---- processes -----------------------------------------------------------------
track() { # track PID [SIGNAL]: stopped with SIGNAL (TERM) by cleanup
	PIDS+=("$1")
	PID_SIG[$1]=${2:-TERM}
}
forget_pid() { # forget_pid PID: it has been waited for
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
	unset "PID_SIG[$1]"
}
gone() { # gone PID: true when the process ended (exited or zombie)
	local _p _c st=Z
	read -r _p _c st _ 2>/dev/null <"/proc/$1/stat" || return 0
	[[ $st == Z ]]
}
stop_pid() { # stop_pid PID [SIGNAL]: SIGNAL, up to 20 s, then SIGKILL; wait
	local pid=$1 i
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	for ((i = 0; i < 400; i++)); do
		gone "$pid" && break
		sleep 0.05
	done
	if ! gone "$pid"; then
		warn "pid $pid did not end within 20 s of SIG${2:-TERM}: killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	forget_pid "$pid"
}
# wait_file FILE PID TIMEOUT_S WHAT: until FILE exists; dies if PID ended
wait_file() {
	local i n
	n=$(awk -v t="$3" 'BEGIN { printf "%d", t * 20 }')
	for ((i = 0; i < n; i++)); do
		[[ -e $1 ]] && return 0
		gone "$2" && die "$4 ended before it was ready"
		sleep 0.05
	done
	die "$4 not ready after $3 s"
}

# ---- THP knobs -------------------------------------------------------------
thp_mode() { sed 's/.*\[\(.*\)\].*/\1/' "$THP_SYS/$1"; }
thp_set() { # thp_set KNOB VALUE (KNOB relative to THP_SYS, e.g. enabled)
	[[ -n ${THP_ORIG[$1]+set} ]] || THP_ORIG[$1]=$(thp_mode "$1")
	echo "$2" >"$THP_SYS/$1"
}
thp_restore() { # thp_restore KNOB: back to the value before the first thp_set
	[[ -n ${THP_ORIG[$1]+set} ]] || return 0
	if [[ $(thp_mode "$1") != "${THP_ORIG[$1]}" ]]; then
		echo "${THP_ORIG[$1]}" >"$THP_SYS/$1" ||
			echo "$BENCH_NAME: could not restore $THP_SYS/$1 to ${THP_ORIG[$1]}" >&2
	fi
	unset "THP_ORIG[$1]"
}
# thp_madvise: the benchmarks compare against 4 KiB pages, so THP runs in
# madvise mode (restored at exit; bench/run switches once for all parts)
thp_madvise() {
	local m
	m=$(thp_mode enabled)
	[[ $m == madvise ]] && return 0
	log "THP enabled=$m: switching to madvise (restored at exit)"
	thp_set enabled madvise
}
check_thp() { # somebody else may switch the THP mode while we run
	local m
	m=$(thp_mode enabled)
	if [[ $m != madvise ]]; then
		record thp_switched 1
		warn "THP enabled=$m (changed by someone else?): this measurement may not be comparable"
	fi
}

# ---- packages ----------------------------------------------------------------
# apt_install PACKAGES: apt-get install (update first if that fails);
# in smoke mode (SMOKE=1) nothing is installed and it returns 1
apt_install() {
	if ((${SMOKE:-0})); then
		log "smoke: $1 not installed: skipped"
		return 1
	fi
	log "installing $1"
	# shellcheck disable=SC2086 # a list of package names
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $1 >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $1 >/dev/null; } ||
		{
			warn "apt-get install $1 failed"
			return 1
		}
}
# need_cmds "PACKAGES" CMD...: true when every CMD is there, installing the
# Debian PACKAGES first if one is missing
need_cmds() {
	local pkgs=$1 c
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null && continue
		apt_install "$pkgs" || return 1
		break
	done
	for c in "$@"; do command -v "$c" >/dev/null || return 1; done
}

# ---- thpd ----------------------------------------------------------------------
# write_policy FILE EXTRA COMM...: one policy per comm (hotness none,
# min_present 90%, no per-policy limits) plus EXTRA (YAML "key: value" lines
# joined by ";", e.g. "shmem: true"); scans every 1 s, global budget
# DAEMON_RATE (64GiB, i.e. no limit to speak of).
write_policy() {
	local f=$1 extra=$2 c kv
	shift 2
	{
		echo "daemon: {scan_interval: ${SCAN_INTERVAL:-1s}, max_collapse_rate: ${DAEMON_RATE:-64GiB}}"
		echo "policies:"
		for c in "$@"; do
			echo "  - name: bench-${c//[^a-z0-9]/-}"
			echo "    match: {comm: [\"$c\"]}"
			echo "    hotness: none"
			echo "    min_present: 90%"
			echo "    max_huge: 0"
			if [[ -n $extra ]]; then
				IFS=';' read -ra kv <<<"$extra"
				printf '    %s\n' "${kv[@]}"
			fi
		done
	} >"$f"
	"$THPD" --check-config -c "$f" >/dev/null || die "bad generated config $f: $(cat "$f")"
}
THPD_N=0
# start_thpd CONF [wait]: sets THPD_PID, THPD_SOCK; "wait": until the socket
start_thpd() {
	THPD_N=$((THPD_N + 1))
	THPD_SOCK=$WORK/thpd.$THPD_N.sock
	"$THPD" -f -c "$1" -s "$THPD_SOCK" -l warning 2>>"$WORK/thpd.log" &
	THPD_PID=$!
	track "$THPD_PID"
	if [[ ${2:-} == wait ]]; then
		local i
		for ((i = 0; i < 200; i++)); do
			[[ -S $THPD_SOCK ]] && return 0
			gone "$THPD_PID" && die "thpd exited: $(tail -3 "$WORK/thpd.log")"
			sleep 0.05
		done
		die "thpd socket $THPD_SOCK did not appear"
	fi
}
thpd_counter() { # thpd_counter NAME -> value from `thpctl counters --json`
	"$THPCTL" --socket "$THPD_SOCK" --timeout 5 counters --json 2>/dev/null |
		jq -r ".counters.$1 // \"-\"" 2>/dev/null || echo -
}
# thpd_attempts -> "ok=N einval=N ..." (the non-zero results)
thpd_attempts() {
	"$THPCTL" --socket "$THPD_SOCK" --timeout 5 counters --json 2>/dev/null |
		jq -r '.counters.by_result | to_entries | map(select(.value > 0)) |
			map("\(.key)=\(.value)") | join(" ")' 2>/dev/null || echo -
}

# ---- memory ------------------------------------------------------------------
size_bytes() { # 64M, 4G -> bytes
	local n=${1%[MG]}
	case $1 in
	*M) echo $((n << 20)) ;;
	*G) echo $((n << 30)) ;;
	*) die "bad size $1 (want e.g. 64M or 4G)" ;;
	esac
}
huge_kb() { # huge_kb PID START END -> AnonHugePages kB inside the range
	local out
	out=$("$SMAPS_HUGE" "$1" "$2" "$3" 2>/dev/null) || {
		echo 0
		return
	}
	out=${out#huge_kb=}
	echo "${out%% *}"
}
huge_pct() { # huge_pct PID START END BYTES -> percent of BYTES (1 decimal)
	awk -v h="$(huge_kb "$1" "$2" "$3")" -v b="$4" 'BEGIN { printf "%.1f", h * 1024 * 100 / b }'
}
anon_huge_pct() { # AnonHugePages / Anonymous of the whole process, percent
	awk '/^AnonHugePages:/ {h = $2} /^Anonymous:/ {a = $2}
		END { if (a > 0) printf "%.1f", h * 100 / a; else print 0 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0
}
shmem_pmd_pct() { # ShmemPmdMapped / RssShmem of the process, percent
	local pmd rss
	pmd=$(awk '/^ShmemPmdMapped:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null) || pmd=0
	rss=$(awk '/^RssShmem:/ {print $2}' "/proc/$1/status" 2>/dev/null) || rss=0
	awk -v h="${pmd:-0}" -v a="${rss:-0}" 'BEGIN { if (a > 0) printf "%.1f", h * 100 / a; else print 0 }'
}
# wait_stable CMD TIMEOUT_S: runs CMD (prints a percentage) every 0.25 s
# until it has not changed for 1.5 s; sets STABLE_PCT and STABLE_S.
wait_stable() {
	local cmd=$1 timeout=$2 pct last=-1 stable=0 t0=$EPOCHREALTIME i n
	n=$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 4 }')
	for ((i = 0; i < n && stable < 6; i++)); do
		sleep 0.25
		pct=$(eval "$cmd")
		if [[ $pct == "$last" ]]; then stable=$((stable + 1)); else stable=0; fi
		last=$pct
	done
	STABLE_PCT=$pct
	STABLE_S=$(elapsed_since "$t0")
}

# ---- results -------------------------------------------------------------------
# record appends to RESULTS; the readers below work from a summary of the
# whole file (count, median, min, max per metric) made by one awk pass and
# kept in arrays until the next record, so a report of many cells costs a
# few processes, not hundreds (forks are slow on a loaded machine).
declare -A ST_N=() ST_MED=() ST_MIN=() ST_MAX=()
STATS_DIRTY=1
record() {
	echo "$1 $2" >>"$RESULTS"
	STATS_DIRTY=1
}
stats_load() {
	((STATS_DIRTY)) || return 0
	ST_N=() ST_MED=() ST_MIN=() ST_MAX=()
	local m n md lo hi
	while read -r m n md lo hi; do
		ST_N[$m]=$n ST_MED[$m]=$md ST_MIN[$m]=$lo ST_MAX[$m]=$hi
	done < <(awk '$2 != "-" && $2 != "" { v[$1, ++n[$1]] = $2 + 0 }
		END {
			for (m in n) {
				k = n[m]
				for (i = 1; i <= k; i++) a[i] = v[m, i]
				for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
				md = k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
				printf "%s %d %.6g %.6g %.6g\n", m, k, md, a[1], a[k]
			}
		}' "$RESULTS")
	STATS_DIRTY=0
}
vals() { awk -v m="$1" '$1 == m && $2 != "-" && $2 != "" {print $2}' "$RESULTS"; }
count() {
	stats_load
	echo "${ST_N[$1]:-0}"
}
med() { # med METRIC -> median, "-" if never recorded
	stats_load
	echo "${ST_MED[$1]:--}"
}
# stats METRIC -> "N MEDIAN MIN MAX" ("0 - - -" if none)
stats() {
	stats_load
	echo "${ST_N[$1]:-0} ${ST_MED[$1]:--} ${ST_MIN[$1]:--} ${ST_MAX[$1]:--}"
}
# shellcheck disable=SC2059 # the format is the caller's
range() { # range METRIC [FORMAT] -> "min-max"
	stats_load
	if [[ -z ${ST_N[$1]:-} ]]; then
		echo -
	else
		printf "${2:-%.4g}-${2:-%.4g}\n" "${ST_MIN[$1]}" "${ST_MAX[$1]}"
	fi
}
mean_of() { printf '%s\n' "$@" | awk '{s += $1} END { printf "%.6g\n", s / NR }'; }
ratio() { # ratio A B -> A/B (4 decimals), "-" if either is missing
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b == 0) print "-"; else printf "%.4f", a / b }'
}
# shellcheck disable=SC2059 # the format is the caller's
fmt() { # fmt FORMAT VALUE -> printf unless VALUE is "-"
	if [[ $2 == - || -z $2 ]]; then echo -; else printf "$1" "$2"; fi
}
# shellcheck disable=SC2059 # the format is the caller's
# value_cell METRIC FORMAT UNIT -> "median UNIT (min-max)"
value_cell() {
	local n md lo hi
	read -r n md lo hi < <(stats "$1")
	((n > 0)) || {
		echo -
		return
	}
	printf "$2%s ($2-$2)\n" "$md" "${3:+ $3}" "$lo" "$hi"
}
# ratio_cell METRIC [GOAL-AWK-EXPR GOAL-TEXT]: a gain ratio (> 1 = thpd
# better): "**1.25x** (1.12-1.31, 3 rounds)"; below 1 it says so; with a
# goal (an awk expression on x, the median): "goal TEXT: MET/MISSED"
ratio_cell() {
	local n md lo hi s
	read -r n md lo hi < <(stats "$1")
	((n > 0)) || {
		echo "n/a"
		return
	}
	printf -v s '**%.2fx** (%.2f-%.2f, %d round%s)' "$md" "$lo" "$hi" "$n" "$( ((n == 1)) || echo s)"
	awk -v x="$md" 'BEGIN { exit !(x < 0.995) }' && s+=", **below 1: treated slower**"
	if [[ -n ${2:-} ]]; then
		s+="; goal $3: **$(awk -v x="$md" "BEGIN { print ($2) ? \"MET\" : \"MISSED\" }")**"
	fi
	echo "$s"
}
frag() { printf '%s\n' "$@" >>"$FRAG"; }
row() { # row CELL...: one Markdown table row
	local out="|" c
	for c in "$@"; do out+=" $c |"; done
	frag "$out"
}
kv() { # kv KEY LINE -> value of KEY=value in LINE
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}
# abba ROUND -> "A B B A" in odd rounds, "B A A B" in even ones
abba() { if (($1 % 2)); then echo "A B B A"; else echo "B A A B"; fi; }

free_port() { # free_port FIRST -> the first 127.0.0.1 TCP port from FIRST nobody listens on
	local p
	for ((p = $1; p < $1 + 200; p++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
	die "no free port in $1-$(($1 + 199))"
}

# bench_args "$@": --smoke sets SMOKE=1, --help prints the script's header
bench_args() {
	SMOKE=${SMOKE:-0}
	local arg
	for arg in "$@"; do
		case $arg in
		--smoke) SMOKE=1 ;;
		-h | --help)
			awk 'NR > 1 && !/^#/ {exit} /^# shellcheck/ {next} NR > 1 {sub(/^# ?/, ""); print}' "$0"
			exit 0
			;;
		*)
			echo "$(basename "$0"): unknown argument '$arg' (try --help)" >&2
			exit 2
			;;
		esac
	done
}
# zero_one NAME VALUE: 0 or 1, or exit 2
zero_one() {
	[[ $2 == [01] ]] || {
		echo "$(basename "$0"): $1 must be 0 or 1 (got '$2')" >&2
		exit 2
	}
}
# posint NAME VALUE: a positive integer or exit 2
posint() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || {
		echo "$(basename "$0"): $1 must be a positive integer (got '$2')" >&2
		exit 2
	}
}

# ---- a random-read that holds memory -------------------------------------------
# start_target NAME SIZE ARGS...: a random-read that touches SIZE and holds it
# (more ARGS go to random-read); sets TGT_PID TGT_START TGT_END TGT_TOUCH_MS
# TGT_T0 (EPOCHREALTIME at launch)
start_target() {
	local name=$1 size=$2 ready=$WORK/ready.$1
	shift 2
	rm -f "$ready"
	TGT_T0=$EPOCHREALTIME
	"$RR" --size "$size" --name "$name" --reads 0 --hold --ready-file "$ready" "$@" &
	TGT_PID=$!
	track "$TGT_PID"
	wait_file "$ready" "$TGT_PID" 120 "target $name"
	TGT_START=$(awk '$1 == "start" {print $2}' "$ready")
	TGT_END=$(awk '$1 == "end" {print $2}' "$ready")
	TGT_TOUCH_MS=$(awk '$1 == "touch_ms" {print $2}' "$ready")
}
# wait_huge PID START END BYTES PCT TIMEOUT_S T0 INTERVAL [COLLAPSER]: polls
# smaps-huge until AnonHugePages >= PCT% of BYTES; sets WAIT_S (seconds since
# T0, "-" on timeout) and WAIT_PCT (coverage last seen). Returns 1 on
# timeout, 2 when process COLLAPSER ended short of PCT.
wait_huge() {
	local pid=$1 s=$2 e=$3 bytes=$4 pct=$5 timeout=$6 t0=$7 interval=$8 collapser=${9:-} kb need last=0 now
	need=$((bytes * pct / 100 / 1024))
	while :; do
		kb=$(huge_kb "$pid" "$s" "$e")
		now=$EPOCHREALTIME
		WAIT_PCT=$(awk -v h="$kb" -v b="$bytes" 'BEGIN { printf "%.1f", h * 1024 * 100 / b }')
		if ((kb >= need)); then
			WAIT_S=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.3f", b - a }')
			return 0
		fi
		if awk -v a="$t0" -v b="$now" -v t="$timeout" 'BEGIN { exit !(b - a > t) }'; then
			WAIT_S=-
			return 1
		fi
		if ((last)); then
			WAIT_S=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.3f", b - a }')
			return 2
		fi
		[[ -n $collapser ]] && gone "$collapser" && last=1 # one more poll, then give up
		gone "$pid" && die "process $pid exited while waiting for huge pages"
		sleep "$interval"
	done
}
