#!/bin/bash
# Hot regions: precision, recall, time to settle, the move of the hot part,
# and the CPU each hotness source costs (thpd's and DAMON's kdamond), as the
# integration test tests/integration/test-hotness.sh measures them: one
# 512 MiB mapping, 128 MiB of it read at random, max_huge 128 MiB, hotness
# auto (damon where the kernel has DAMON vaddr, else refs) and, beside it,
# hotness none at the same budget. It runs on this machine and in the Debian
# 6.12 guest (tests/vm/run: the only kernel here with DAMON vaddr), and
# writes the section "## Hot regions" of BENCHMARKS.md (replacing it).
#
#   bench/hotness.sh [BUILD_DIR]      (default build/; about 4 minutes)
#
# The guest runs under qemu TCG: its CPU figures are those of an emulated
# CPU, several times slower than this one, so they bound the real cost from
# above; the host's are real.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=BENCHMARKS.md
RES=$(mktemp -d /tmp/thpd-hotness.XXXX)

bash tests/vm/run --build-dir "$BUILD" --kernels host,6.12 --scenarios hotness \
	--results "$RES/vm" >"$RES/run.out" 2>&1 || true
grep -E '^hotness ' "$RES/run.out" >/dev/null ||
	{ cat "$RES/run.out" >&2; echo "hotness.sh: no result table" >&2; exit 1; }

# note KERNEL PATTERN: the first "# ..." note of that run matching PATTERN.
note() {
	local f=$RES/vm/$1/hotness.log
	[[ -f $f ]] || return 0
	sed -n "s/^# \(.*$2.*\)/\1/p" "$f" | head -n 1
}
# cell KERNEL: its cell of the table (fixed columns: 16, then 11 each).
cell() {
	local hdr row i=0 k
	hdr=$(grep -E '^scenario ' "$RES/run.out" | head -n 1)
	row=$(grep -E '^hotness ' "$RES/run.out" | head -n 1)
	for k in ${hdr#scenario}; do
		[[ $k == "$1" ]] && { echo "${row:$((17 + 11 * i)):10}" | sed 's/ *$//'; return; }
		i=$((i + 1))
	done
}
row() {
	local k=$1 kernel src prec moved cpu none
	kernel=$(sed -n "s/^$k: \([^ ]*\).*/\1/p" "$RES/run.out" | head -n 1)
	[[ $k == host ]] && kernel=$(uname -r)
	src=$(note "$k" 'hotness auto chose' | sed 's/^hotness auto chose: \([a-z]*\).*/\1/')
	prec=$(note "$k" 'max_huge 128 MiB, source' | sed 's/.*: \([0-9]* chunks huge.*\)/\1/')
	moved=$(note "$k" 'hot part moved' | sed 's/^hot part moved: //')
	cpu=$(note "$k" "overhead at steady state, source $src:" | sed 's/.*source [a-z]*: //')
	# (a kdamond counts for damon only: on this machine DAMON may run for
	# someone else, and thpd then leaves it alone)
	[[ $src == damon ]] || cpu=${cpu%% kdamond*}
	none=$(note "$k" 'overhead at steady state, source none' | sed 's/.*source none: //; s/ kdamond.*//')
	nprec=$(note "$k" 'beside it, hotness none' | sed 's/.*: \([0-9]* chunks huge.*\)/\1/')
	printf '| %s (%s) | %s | %s | %s | %s | %s | %s | %s |\n' "$k" "${kernel:-?}" "$(cell "$k")" \
		"${src:--}" "${prec:--}" "${moved:--}" "${cpu:--}" "${nprec:--}" "${none:--}"
}

section=$(
	cat <<EOF
## Hot regions (bench/hotness.sh)

Command: \`bench/hotness.sh $BUILD\` ($(date -u '+%Y-%m-%d %H:%M UTC'), load average
$(cut -d' ' -f1-3 /proc/loadavg)). One process, one 512 MiB mapping written
once, 128 MiB of it (from its middle) read at random pages again and again;
\`max_huge: 128MiB\`, \`min_hot: 10%\`, policy \`hotness: auto\`. Precision:
the hot share of what became huge; recall: the share of the hot part that
became huge (thp-target's hot range against the kernel's PFN-level answer,
tests/fixtures/huge-chunks). Then the hot part moves (SIGUSR1) and the budget
is raised to 256 MiB: how many of the newly hot chunks are huge after how many
monitoring windows. Last, a second process with \`hotness: none\` at the same
budget. CPU: utime+stime of thpd and of its kdamond over 5 scan intervals of
steady state, in % of one CPU. The 6.12 guest is emulated (qemu TCG), so its
CPU figures are upper bounds.

| kernel | cell | source chosen | precision and recall | hot part moved | CPU, that source | hotness none: precision and recall | CPU, hotness none |
|---|---|---|---|---|---|---|---|
$(row host)
$(row 6.12)

Where the kernel has no per-region source (this machine: no DAMON vaddr, no
idle page tracking; Debian's 6.1: no CONFIG_DAMON), \`auto\` falls back to
\`refs\`, which ranks whole areas: within one mapping it cannot tell the hot
part from the cold one, so the cell skips with its figures rather than pass.
EOF
)

others=""
# Every other section stays (bench/run keeps the ones it does not own too).
[[ -f $OUT ]] && others=$(awk '/^## / { skip = /^## Hot regions/ } !skip' "$OUT")
tmp=$(mktemp)
{
	printf '%s\n\n' "$others"
	printf '%s\n' "$section"
} >"$tmp"
mv "$tmp" "$OUT"
echo "$section"
echo "(logs in $RES)"
