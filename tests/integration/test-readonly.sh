#!/bin/bash
# Memory that was only read is not collapsed.
#
# One process (thp-target --mode readonly): 128 MiB of private anonymous
# memory that it only reads, one load per page, never a store, and 64 MiB
# that it writes in full. A read fault on such memory maps the shared zero
# page (or, in THP "always" mode, the huge zero page): present in the page
# tables, but no memory of its own. Collapsing it would at best turn nothing
# into real zero-filled huge pages (128 MiB of memory out of nothing), at
# worst fail (6.1 answers EINVAL for a PMD of zero pages only) again and
# again: thpd must not count zero-page mappings as present memory, with
# PAGEMAP_SCAN (PFNZERO) or without (6.1: /proc/PID/pagemap).
#
# Policy with the default min_present, scan_interval 1s. Checked: the written
# region becomes 100% huge (within 20 s, scaled: ~1 s here, but a TCG guest
# that ran test-maxhuge just before took over 50 s for it); the read region's AnonHugePages and Rss stay 0
# for 6 scan intervals after that (sampled every 0.5 s); thpd lists no chunk
# in it, its area (if listed) has 0 resident and 0 huge bytes, no attempt
# failed with EINVAL, thpd collapsed exactly the 64 MiB written, and the
# process's RssAnon stays below 80 MiB.
#
# Kernels booted without the zero page (this project's development VM has
# pvm_no_zero_page=1 on its command line: a read fault allocates a real,
# zeroed page) cannot show the case: there the read region holds 128 MiB of
# real memory. The test then checks what still makes sense (the written
# region is collapsed, thpd's residency of the read region matches smaps)
# and exits 77 (skip). The kernel matrix (6.1, 6.12 guests) runs it for real.
# shellcheck disable=SC2016 # $names in single quotes are jq variables
. "$(dirname "$0")/lib.sh"
require_collapse

INTERVAL_S=1
HOLD_S=$((6 * INTERVAL_S))
MiB=$((1024 * 1024))

write_config ${INTERVAL_S}s \
	"  - name: ro" \
	"    match: {comm: [thpt-ro]}"
start_thpd

start_target ro --name thpt-ro --mode readonly --size 128M --written-size 64M
ready=$READY
pid=$(ready_get "$ready" pid)
rs=$(ready_get "$ready" start)
re=$(ready_get "$ready" end)
ws=$(ready_get "$ready" written_start)
we=$(ready_get "$ready" written_end)
[[ -n $ws && -n $we ]] || fail "no written area in the ready file: $(cat "$ready")"

# read_figures: sets RO_HUGE and RO_RSS (kB) of the read region.
read_figures() {
	RO_HUGE=$(range_kb "$pid" "$rs" "$re" AnonHugePages) || true
	RO_RSS=$(range_kb "$pid" "$rs" "$re" Rss) || true
	if ! is_num "$RO_HUGE" || ! is_num "$RO_RSS"; then
		fail "no smaps figures for the read region of $pid: huge '$RO_HUGE', Rss '$RO_RSS'"
	fi
}
rss_anon_kb() {
	local kb
	kb=$(awk '$1 == "RssAnon:" {print $2}' "/proc/$pid/status")
	is_num "$kb" || fail "no RssAnon for $pid"
	echo "$kb"
}
RO_HUGE="" RO_RSS=""
read_figures
if ((RO_RSS == 0)); then
	ZERO_PAGE=1
	note "read region: 128 MiB read, Rss 0 kB: the read faults mapped the zero page"
	((RO_HUGE == 0)) || fail "read region has $RO_HUGE kB huge with Rss 0 (THP mode $(thp_enabled))"
elif ((RO_RSS >= 128 * 1024 - 2048)); then
	ZERO_PAGE=0
	note "read region: 128 MiB read, Rss $RO_RSS kB: this kernel maps no zero page on read faults$(grep -qw pvm_no_zero_page=1 /proc/cmdline && echo ' (pvm_no_zero_page=1)')"
else
	fail "read region: Rss $RO_RSS kB after reading 128 MiB: neither zero page nor real memory"
fi
anon0=$(rss_anon_kb)

# ---- the written region becomes huge ----
written_done() {
	local kb
	kb=$(huge_kb_num "$pid" "$ws" "$we")
	((kb == 64 * 1024))
}
# thpd's chunks in both regions and its results, for a failure message.
ro_view() {
	target_json "$pid" | jq -c --argjson rs "$((rs))" --argjson re "$((re))" \
		--argjson ws "$((ws))" --argjson we "$((we))" '
		def states(lo; hi): [.chunks[] | select(.addr >= lo and .addr < hi) | .state] |
			group_by(.) | map({(.[0]): length}) | add;
		{read_region_chunks: states($rs; $re), written_region_chunks: states($ws; $we),
		 scans, attempts, by_result, collapsed: .summary.collapsed_bytes}'
}
wait_until $((20 * INTERVAL_S)) written_done ||
	fail "written region: $(range_huge_kb "$pid" "$ws" "$we") kB huge, want 65536 within $(scaled $((20 * INTERVAL_S))) s; thpd: $(ro_view)"
note "written region (64 MiB) 100% huge"

# thpd's residency of the read region: what smaps says.
tj=$(target_json "$pid")
[[ -n $tj ]] || fail "pid $pid is no target"
ro_resident=$(jnum '[.areas[] | select(.start < $re and .end > $rs) | .resident_bytes] | add // 0' "$tj" \
	--argjson rs "$((rs))" --argjson re "$((re))")

if ((ZERO_PAGE == 0)); then
	read_figures
	note "read region, real memory here: thpd resident $((ro_resident / 1024)) kB, smaps Rss $RO_RSS kB"
	((ro_resident / 1024 - RO_RSS <= 2048 && RO_RSS - ro_resident / 1024 <= 2048)) ||
		fail "thpd's residency of the read region ($ro_resident bytes) differs from smaps ($RO_RSS kB)"
	thpd_alive
	skip "this kernel maps no zero page on read faults (read region Rss $RO_RSS kB): the zero-page checks did not run"
fi

# ---- hold: the read region stays without memory and without huge pages ----
# The read region was read before the written one was written: every scan
# that found the written chunks saw it too. Once the written region is done
# the target is idle, and thpd may rescan it rarely (its memory does not
# change): the count of scans is a figure, not a requirement.
scans0=$(jnum .scans "$(target_json "$pid")")
# Not scaled: the hold is six of thpd's scan intervals, and thpd's ticks are
# wall-clock seconds in a slow guest too.
hold_end=$(($((${EPOCHREALTIME//[!0-9]/} * 1000)) + HOLD_S * 1000000000))
samples=0 max_anon=$anon0
while (($((${EPOCHREALTIME//[!0-9]/} * 1000)) < hold_end)); do
	read_figures
	((RO_HUGE == 0 && RO_RSS == 0)) ||
		fail "read region now has $RO_HUGE kB huge, Rss $RO_RSS kB (thpd collapsed zero-page memory): $(ro_view)"
	a=$(rss_anon_kb)
	((a > max_anon)) && max_anon=$a
	samples=$((samples + 1))
	sleep 0.5
done
tj=$(target_json "$pid")
scans1=$(jnum .scans "$tj")
note "hold $HOLD_S s: $samples samples, read region 0 kB huge, Rss 0 kB; thpd scanned the target $((scans1 - scans0)) times; RssAnon $anon0 -> max $max_anon kB"
((max_anon < 80 * 1024)) || fail "process RssAnon reached $max_anon kB: the read region got memory"

# ---- thpd's view: nothing of the read region is resident or a candidate ----
in_ro=$(jq -c --argjson rs "$((rs))" --argjson re "$((re))" \
	'[.chunks[] | select(.addr >= $rs and .addr < $re)]' <<<"$tj")
jq -e 'length == 0' <<<"$in_ro" >/dev/null ||
	fail "thpd lists $(jq length <<<"$in_ro") chunks of the read region, e.g. $(jq -c '.[0]' <<<"$in_ro")"
jq -e --argjson rs "$((rs))" --argjson re "$((re))" \
	'all(.areas[] | select(.start < $re and .end > $rs); .resident_bytes == 0 and .huge_bytes == 0)' \
	<<<"$tj" >/dev/null ||
	fail "thpd counts memory in the read region: $(jq -c --argjson rs "$((rs))" --argjson re "$((re))" '[.areas[] | select(.start < $re and .end > $rs)]' <<<"$tj")"
jq -e --argjson ws "$((ws))" --argjson we "$((we))" --argjson m "$MiB" \
	'[.chunks[] | select(.addr >= $ws and .addr < $we and .state == "huge")] | length == 32' <<<"$tj" >/dev/null ||
	fail "written region: not 32 huge chunks in thpd's view: $(jq -c .summary.chunks <<<"$tj")"
jq -e --argjson m "$MiB" '.by_result.einval == 0 and .summary.collapsed_bytes == 64 * $m and
	.by_result.ok == 32 and .attempts == .by_result.ok + .by_result.eagain' <<<"$tj" >/dev/null ||
	fail "attempts beyond the written region: $(jq -c '{attempts, by_result, collapsed: .summary.collapsed_bytes}' <<<"$tj")"
note "thpd: $(jq -r '.attempts' <<<"$tj") attempts ($(jq -c .by_result <<<"$tj")), collapsed $(($(jnum .summary.collapsed_bytes "$tj") / MiB)) MiB, no chunk in the read region"
thpd_alive
echo "PASS"
