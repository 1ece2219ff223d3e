#!/bin/bash
# munmap, mremap and mprotect in a target while thpd collapses it.
#
# thp-target --mode maps-churn keeps a 1 GiB area and, for 20 s, changes
# random 2 MiB aligned pieces of it (1-4 chunks) as fast as every 4 ms:
# munmap + fresh mmap, mremap out into a scratch reservation (moved and grown
# by a chunk) then back or the hole refilled, mprotect(PROT_READ) undone at
# the next operation; new memory is written in full. thpd collapses it at
# 512 MiB/s meanwhile, so its jobs keep running into ranges that have just
# been unmapped, moved or made read-only.
#
# Checked twice a second during the churn: thpd is alive and answers within
# 2 s, it never pauses globally for ENOMEM (an unmapped range also gives
# ENOMEM: that is the "unmapped" result, not memory pressure), and its
# counters stay consistent (attempts == sum of by_result). After the churn,
# the final layout (the whole 1 GiB area, mapped, writable, written) is
# collapsed to >= 95% within 30 s.
. "$(dirname "$0")/lib.sh"
require_collapse
T0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
CHURN_MS=20000
SIZE_MB=1024

write_config 200ms \
	"  - name: churn" \
	"    match: {comm: [thpt-fault-mc]}"
sed -i 's/max_collapse_rate: .*/max_collapse_rate: 512MiB/' "$CONF"
start_thpd

start_target mc --name thpt-fault-mc --size "${SIZE_MB}M" --mode maps-churn --churn-ms "$CHURN_MS"
R=$READY
pid=$(ready_get "$R" pid)
start=$(ready_get "$R" start)
end=$(ready_get "$R" end)
is_target() { [[ -n $(target_json "$pid") ]]; }
wait_until 5 is_target || fail "the churning process never became a target"

# check_now: one round of the checks; prints the GetStatus latency in ms.
check_now() {
	local t r c ms
	thpd_alive
	t=$((${EPOCHREALTIME//[!0-9]/} * 1000))
	r=$(vcall io.thpd.Manager.GetStatus) || fail "GetStatus failed"
	ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t) / 1000000))
	jq -e .parameters.version >/dev/null <<<"$r" || fail "no GetStatus answer: $r"
	((ms < 2000)) || fail "GetStatus took $ms ms"
	[[ $(jq '[.parameters.pauses[] | select(.reason == "enomem")] | length' <<<"$r") -eq 0 ]] ||
		fail "thpd paused for ENOMEM: $r; counters $(counters)"
	c=$(counters)
	[[ $(jq .enomem_pauses <<<"$c") -eq 0 ]] || fail "an ENOMEM pause was counted: $c"
	[[ $(jq '[.by_result[]] | add' <<<"$c") -eq $(jq .attempts <<<"$c") ]] ||
		fail "attempts != sum of by_result: $c"
	echo "$ms"
}

rounds=0
max_ms=0
attempts0=$(counters | jq .attempts)
while [[ $(ready_get "$R" step) -lt 1 ]]; do
	kill -0 "$pid" 2>/dev/null || fail "thp-target died: $(cat "$WORK/mc.out")"
	ms=$(check_now)
	((ms > max_ms)) && max_ms=$ms
	rounds=$((rounds + 1))
	((rounds < 2 * CHURN_MS / 1000 + 40)) || fail "the churn did not end"
	sleep 0.5
done
c=$(counters)
note "churn: $(ready_get "$R" churn_ops) operations ($(ready_get "$R" churn_munmap) munmap+mmap, $(ready_get "$R" churn_mremap) mremap, $(ready_get "$R" churn_mprotect) mprotect) in $((CHURN_MS / 1000)) s"
note "during the churn: $rounds checks, slowest GetStatus ${max_ms} ms, $(($(jq .attempts <<<"$c") - attempts0)) collapse attempts: $(jq -c .by_result <<<"$c")"
(($(jq .attempts <<<"$c") - attempts0 > 512)) || fail "thpd hardly collapsed during the churn: $c"

# The final layout gets collapsed.
t=$((${EPOCHREALTIME//[!0-9]/} * 1000))
final_kb() { huge_kb "$pid" "$start" "$end"; }
collapsed() { (($(final_kb) * 100 >= SIZE_MB * 1024 * 95)); }
if ! wait_until 30 collapsed; then
	fail "final layout $(($(final_kb) / 1024)) of $SIZE_MB MiB huge after 30 s: $(target_json "$pid" |
		jq -c '{summary: .summary | {chunks, last_errno}, areas: (.areas | length),
			not_huge: ([.chunks[] | select(.state != "huge") | "\(.state) splits=\(.splits) attempts=\(.attempts) \(.last_errno)"]
				| group_by(.) | map({(.[0]): length}) | add)}')"
fi
note "final layout: $(($(final_kb) / 1024)) of $SIZE_MB MiB huge, $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t) / 1000000)) ms after the churn stopped"
check_now >/dev/null
c=$(counters)
note "counters: $(jq -c '{attempts, collapsed_mib: (.collapsed_bytes / 1048576), by_result, splits, scans, enomem_pauses}' <<<"$c")"
note "target: $(target_json "$pid" | jq -c '.summary | {chunks, last_errno}')"
[[ $(jq .by_result.enomem <<<"$c") -eq 0 ]] || note "by_result.enomem = $(jq .by_result.enomem <<<"$c") (real ENOMEM, no pause?)"
thpd_alive
note "runtime $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - T0) / 1000000000)) s"
echo "PASS"
