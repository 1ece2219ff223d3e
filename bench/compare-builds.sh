#!/bin/bash
# bench/compare-builds.sh: did a change move the benchmark ratios? Two
# builds of thpd (say, before and after a restructuring) measured by the
# same benchmark scripts in one run, paired.
#
# Each round runs, for each build, bench/tput.sh (collapse throughput:
# thpd against a bare loop of the same process_madvise calls, in the same
# invocation) and bench/ab-random-read.sh (dependent random reads: the gain
# of a thpd-treated process over a 4 KiB control, and its distance from THP
# at fault), one repetition each, with the builds in the order OLD NEW NEW
# OLD (NEW OLD OLD NEW in even rounds), so a drift of the machine weighs on
# both alike. Every figure compared is already a ratio against a baseline
# measured in the same invocation (the bare loop, the control), so the
# builds are compared on ratios, not on seconds.
#
# Per metric: the median and range of each build's values, new/old of the
# medians, and "within noise" when the two ranges overlap, else "CHANGED".
# Last line: "compare-builds: N metrics, N within noise, N changed".
#
# Usage (root; builds nothing):
#   bench/compare-builds.sh OLD_BUILD_DIR NEW_BUILD_DIR [--smoke]
# e.g. git worktree add /tmp/thpd-old COMMIT && meson setup /tmp/thpd-old/build
#      && ninja -C /tmp/thpd-old/build && bench/compare-builds.sh /tmp/thpd-old/build build
# Environment: ROUNDS (2: each build measured 4 times), SIZE (2G, tput.sh's
# target), RR_SIZE (1G), READS (3000000); --smoke: 1 round, 64M, 200000 reads.
# Exit status: 0 compared, 1 a step failed, 2 usage, 77 not root.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
	exit "${1:-0}"
}
[[ ${1:-} == -h || ${1:-} == --help ]] && usage 0
(($# >= 2)) || usage 2 >&2
OLD=$(cd "$1" && pwd) NEW=$(cd "$2" && pwd)
SMOKE=0
[[ ${3:-} == --smoke ]] && SMOKE=1
[[ $(id -u) == 0 ]] || {
	echo "compare-builds: needs root (the benchmarks collapse other processes); skipped"
	exit 77
}
for b in "$OLD" "$NEW"; do
	for f in daemon/thpd client/thpctl bench/raw-collapse bench/random-read; do
		[[ -x $b/$f ]] || { echo "compare-builds: $b/$f missing (build it first)" >&2; exit 1; }
	done
done
if ((SMOKE)); then
	ROUNDS=${ROUNDS:-1} SIZE=${SIZE:-64M} RR_SIZE=${RR_SIZE:-64M} READS=${READS:-200000}
else
	ROUNDS=${ROUNDS:-2} SIZE=${SIZE:-2G} RR_SIZE=${RR_SIZE:-1G} READS=${READS:-3000000}
fi
WORK=$(mktemp -d /tmp/thpd-compare.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# The metrics compared: "name in the results files | what it is"
METRICS=(
	"tput_ratio_fast|collapse throughput thpd / bare loop, unpolled"
	"tput_ratio_poll|collapse throughput thpd / bare loop, smaps polled"
	"rr_gain_dep|random reads, gain treated over 4 KiB control"
	"rr_ceil_dep|random reads, treated / THP at fault"
)

# measure BUILD TAG: one invocation of each script on BUILD; results in WORK/TAG.*
measure() {
	local b=$1 tag=$2
	echo "compare-builds: $tag: tput.sh and ab-random-read.sh on $b" >&2
	BENCH_RESULTS=$WORK/$tag.tput BUILD_DIR=$b REPS=1 SIZE=$SIZE bash bench/tput.sh \
		$( ((SMOKE)) && echo --smoke) >"$WORK/$tag.tput.log" 2>&1 ||
		{ tail -20 "$WORK/$tag.tput.log" >&2; exit 1; }
	BENCH_RESULTS=$WORK/$tag.rr BUILD_DIR=$b REPS=1 PRE=0 RR_SIZE=$RR_SIZE READS=$READS \
		bash bench/ab-random-read.sh $( ((SMOKE)) && echo --smoke) >"$WORK/$tag.rr.log" 2>&1 ||
		{ tail -20 "$WORK/$tag.rr.log" >&2; exit 1; }
}
n=0
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order=(old new new old); else order=(new old old new); fi
	for x in "${order[@]}"; do
		n=$((n + 1))
		if [[ $x == old ]]; then measure "$OLD" "old.$n"; else measure "$NEW" "new.$n"; fi
	done
done

# values BUILD METRIC -> one value a line
values() { cat "$WORK/$1".* 2>/dev/null | awk -v m="$2" '$1 == m && $2 != "-" { print $2 }'; }
# summary VALUES... -> "median min max"
summary() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
}
printf '%-55s %-24s %-24s %-8s %s\n' metric "old: median (range)" "new: median (range)" new/old verdict
same=0 changed=0
for m in "${METRICS[@]}"; do
	key=${m%%|*} what=${m#*|}
	mapfile -t ov < <(values old "$key")
	mapfile -t nv < <(values new "$key")
	((${#ov[@]} && ${#nv[@]})) || { echo "compare-builds: no $key figures (see $WORK)" >&2; exit 1; }
	read -r om olo ohi < <(summary "${ov[@]}")
	read -r nm nlo nhi < <(summary "${nv[@]}")
	verdict=$(awk -v a="$olo" -v b="$ohi" -v c="$nlo" -v d="$nhi" \
		'BEGIN { print (c <= b && a <= d) ? "within noise" : "CHANGED" }')
	if [[ $verdict == CHANGED ]]; then changed=$((changed + 1)); else same=$((same + 1)); fi
	printf '%-55s %-24s %-24s %-8s %s\n' "$what" "$(printf '%.3f (%.3f-%.3f)' "$om" "$olo" "$ohi")" \
		"$(printf '%.3f (%.3f-%.3f)' "$nm" "$nlo" "$nhi")" "$(awk -v a="$nm" -v b="$om" 'BEGIN { printf "%.3f", a / b }')" "$verdict"
done
echo "compare-builds: $((same + changed)) metrics, $same within noise, $changed changed"
