#!/bin/bash
# max_huge and the steady state afterwards.
#
# Policy "capped" (max_huge: 64MiB) matches a 256 MiB target that reads all
# of its memory again and again (thp-target --mode hot-read), scan_interval
# 1s. Checked: its AnonHugePages (smaps, over its area) reaches 64 MiB and
# then, for THPD_MAXHUGE_HOLD_S seconds (default 60; shorten it only for a
# quick run), never exceeds 64 MiB + 2 MiB, with no collapse attempt on it
# meanwhile.
#
# Then a second target (64 MiB, policy "full", no cap) is collapsed to 100%.
# Once thpd agrees, for 10 s of steady state: the global attempts counter and
# both targets' attempts stay put, splits stay 0 (global and per chunk), and
# for every area GetTarget lists, its huge_bytes is within 2 MiB of the
# AnonHugePages that /proc/PID/smaps shows for that VMA. Nothing here depends
# on PAGEMAP_SCAN: on a kernel without it (6.1) thpd must tell huge memory
# from smaps or pagemap all the same.
. "$(dirname "$0")/lib.sh"
require_collapse
[[ $(thp_enabled) == always ]] &&
	skip "THP enabled=always: memory is huge at fault time, a cap on collapsing cannot be seen"

HOLD_S=${THPD_MAXHUGE_HOLD_S:-60}
[[ $HOLD_S =~ ^[1-9][0-9]*$ ]] || fail "THPD_MAXHUGE_HOLD_S must be a positive integer: '$HOLD_S'"
STEADY_S=10
INTERVAL_S=1
MiB=$((1024 * 1024))
CAP_KB=$((64 * 1024))
SLACK_KB=$((2 * 1024))

write_config ${INTERVAL_S}s \
	"  - name: capped" \
	"    match: {comm: [thpt-mh-cap]}" \
	"    max_huge: 64MiB" \
	"  - name: full" \
	"    match: {comm: [thpt-mh-full]}"
start_thpd

t0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
start_target cap --name thpt-mh-cap --size 256M --mode hot-read
cap_ready=$READY
cpid=$(ready_get "$cap_ready" pid)
cs=$(ready_get "$cap_ready" start)
ce=$(ready_get "$cap_ready" end)

# ---- the cap is reached ----
cap_kb() { huge_kb_num "$cpid" "$cs" "$ce"; }
reached() {
	local kb
	kb=$(cap_kb)
	((kb >= CAP_KB))
}
wait_until $((5 * INTERVAL_S)) reached ||
	fail "capped target has $(cap_kb) kB huge, want $CAP_KB kB within $(scaled $((5 * INTERVAL_S))) s"
reach_ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t0) / 1000000))
kb=$(cap_kb)
note "capped target (256 MiB, hot-read) reached $kb kB huge in ${reach_ms} ms (smaps-huge: $(huge_kb "$cpid" "$cs" "$ce") kB)"
((kb <= CAP_KB + SLACK_KB)) || fail "capped target went to $kb kB huge, cap $CAP_KB kB (+$SLACK_KB)"

# thpd's own view agrees: 64 MiB huge, 32 huge chunks, the other 96 candidates
# (128 chunks: the area is 2 MiB aligned and fully written).
cap_agrees() {
	target_json "$cpid" | jq -e --argjson m "$MiB" \
		'.summary.policy == "capped" and .summary.state == "active" and
		 .summary.huge_bytes == 64 * $m and .summary.chunks.huge == 32 and
		 .summary.chunks.candidate == 96' >/dev/null
}
wait_until $((3 * INTERVAL_S)) cap_agrees ||
	fail "thpd's view of the capped target: $(target_json "$cpid" | jq -c .summary)"
cap_attempts0=$(jnum .attempts "$(target_json "$cpid")")

# ---- hold: never above the cap ----
utime() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu0=$(utime "$cpid")
scans0=$(jnum .scans "$(target_json "$cpid")")
max_kb=0 min_kb=$((256 * 1024)) samples=0
hold_start=$((${EPOCHREALTIME//[!0-9]/} * 1000))
hold_end=$((hold_start + HOLD_S * 1000000000))
while (($((${EPOCHREALTIME//[!0-9]/} * 1000)) < hold_end)); do
	kill -0 "$cpid" 2>/dev/null || fail "capped target died: $(cat "$WORK/cap.out")"
	kb=$(cap_kb)
	((kb > max_kb)) && max_kb=$kb
	((kb < min_kb)) && min_kb=$kb
	samples=$((samples + 1))
	((kb <= CAP_KB + SLACK_KB)) ||
		fail "capped target has $kb kB huge $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - hold_start) / 1000000)) ms into the hold, cap $CAP_KB kB (+$SLACK_KB)"
	sleep 0.5
done
thpd_alive
cpu1=$(utime "$cpid")
tj=$(target_json "$cpid")
cap_attempts1=$(jnum .attempts "$tj")
scans1=$(jnum .scans "$tj")
note "hold ${HOLD_S} s: $samples samples, AnonHugePages min $min_kb kB, max $max_kb kB (cap $CAP_KB kB + $SLACK_KB)"
note "during the hold: thpd scanned the capped target $((scans1 - scans0)) times, attempts $cap_attempts0 -> $cap_attempts1; the target used $((cpu1 - cpu0)) ticks of CPU reading"
((cap_attempts1 == cap_attempts0)) ||
	fail "thpd made $((cap_attempts1 - cap_attempts0)) collapse attempts on a target at its max_huge: $(jq -c .by_result <<<"$tj")"
((cpu1 > cpu0)) || fail "the hot-read target did not run during the hold"
((scans1 > scans0)) || fail "thpd did not scan the capped target during the hold"

# ---- a second target, no cap: collapsed to 100% ----
t1=$((${EPOCHREALTIME//[!0-9]/} * 1000))
start_target full --name thpt-mh-full --size 64M
full_ready=$READY
fpid=$(ready_get "$full_ready" pid)
fs=$(ready_get "$full_ready" start)
fe=$(ready_get "$full_ready" end)
full_done() {
	local kb
	kb=$(huge_kb_num "$fpid" "$fs" "$fe")
	((kb == 64 * 1024))
}
wait_until $((5 * INTERVAL_S)) full_done ||
	fail "uncapped target: $(huge_kb "$fpid" "$fs" "$fe") kB huge, want 65536 within $(scaled $((5 * INTERVAL_S))) s"
note "uncapped 64 MiB target 100% huge in $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t1) / 1000000)) ms"
full_agrees() {
	target_json "$fpid" | jq -e --argjson m "$MiB" \
		'.summary.policy == "full" and .summary.huge_bytes == 64 * $m and
		 .summary.chunks.huge == 32 and .summary.chunks.candidate == 0' >/dev/null
}
wait_until $((3 * INTERVAL_S)) full_agrees ||
	fail "thpd's view of the uncapped target: $(target_json "$fpid" | jq -c .summary)"
wait_until $((3 * INTERVAL_S)) cap_agrees ||
	fail "thpd's view of the capped target: $(target_json "$cpid" | jq -c .summary)"

# ---- steady state: no attempts, no splits ----
c0=$(counters)
att0=$(jnum .attempts "$c0")
ca0=$(jnum .attempts "$(target_json "$cpid")")
fa0=$(jnum .attempts "$(target_json "$fpid")")
sleep "$STEADY_S"
thpd_alive
c1=$(counters)
att1=$(jnum .attempts "$c1")
ctj=$(target_json "$cpid")
ftj=$(target_json "$fpid")
ca1=$(jnum .attempts "$ctj")
fa1=$(jnum .attempts "$ftj")
note "steady state ${STEADY_S} s: global attempts $att0 -> $att1; capped target $ca0 -> $ca1; uncapped $fa0 -> $fa1"
note "counters: $(jq -c '{attempts, by_result, splits, scans, collapsed_bytes, targets_added}' <<<"$c1")"
((att1 == att0)) || fail "global attempts grew by $((att1 - att0)) in ${STEADY_S} s of steady state: $c1"
((ca1 == ca0 && fa1 == fa0)) || fail "per-target attempts grew: capped $ca0 -> $ca1, uncapped $fa0 -> $fa1"
jq -e '.splits == 0' <<<"$c1" >/dev/null || fail "splits counted: $c1"
jq -e '.by_result.einval == 0 and .by_result.enomem == 0 and .enomem_pauses == 0' <<<"$c1" >/dev/null ||
	fail "unexpected failures: $c1"
for tj in "$ctj" "$ftj"; do
	jq -e '(.chunks | length) > 0 and all(.chunks[]; .splits == 0)' <<<"$tj" >/dev/null ||
		fail "chunks with splits (or no chunks): $(jq -c '[.chunks[] | select(.splits != 0)]' <<<"$tj")"
done
# The kernel still agrees with the cap and the 100%.
kb=$(cap_kb)
((kb >= CAP_KB && kb <= CAP_KB + SLACK_KB)) || fail "capped target now $kb kB huge"
full_done || fail "uncapped target now $(huge_kb "$fpid" "$fs" "$fe") kB huge"

# ---- every area thpd lists matches smaps' AnonHugePages for that VMA ----
# compare_areas NAME PID TARGET_JSON
compare_areas() {
	local name=$1 pid=$2 tj=$3 vmas areas n=0 start end hb vma_kb found s e huge
	vmas=$(smaps_vmas "$pid") || fail "cannot read /proc/$pid/smaps"
	areas=$(jq -r '.areas[] | "\(.start) \(.end) \(.huge_bytes)"' <<<"$tj")
	[[ -n $areas ]] || fail "$name: GetTarget lists no areas: $tj"
	while read -r start end hb; do
		if ! is_num "$start" || ! is_num "$end" || ! is_num "$hb"; then
			fail "$name: bad area '$start $end $hb'"
		fi
		found=""
		while read -r s e _ huge; do
			if ((s == start && e == end)); then
				found=$huge
				break
			fi
		done <<<"$vmas"
		is_num "$found" || fail "$name: area $(printf '0x%x-0x%x' "$start" "$end") is no VMA in smaps"
		vma_kb=$((hb / 1024))
		note "$name: area $(printf '0x%x-0x%x' "$start" "$end") ($(((end - start) / MiB)) MiB): thpd huge $vma_kb kB, smaps AnonHugePages $found kB"
		((vma_kb - found <= SLACK_KB && found - vma_kb <= SLACK_KB)) ||
			fail "$name: area $(printf '0x%x-0x%x' "$start" "$end"): thpd says $vma_kb kB huge, smaps $found kB"
		n=$((n + 1))
	done <<<"$areas"
	note "$name: $n areas agree with smaps within $SLACK_KB kB"
}
compare_areas capped "$cpid" "$ctj"
compare_areas uncapped "$fpid" "$ftj"
thpd_alive
echo "PASS"
