#!/bin/bash
# Acceptance: hotness refs: of two areas in one process, the one read
# continuously is collapsed and the one touched once and left idle is not.
# Then, with max_huge reached (64 MiB, the hot area), thpd stops clearing the
# target's referenced bits (nothing is left to decide): the idle area, read
# once more, keeps its Referenced in smaps over several scan windows.
. "$(dirname "$0")/lib.sh"
require_collapse

write_config 1s \
	"  - name: hot-only" \
	"    match: {comm: [thpt-hotcold]}" \
	"    hotness: refs" \
	"    min_hot: 50%" \
	"    max_huge: 64MiB"
start_thpd
start_target hc --name thpt-hotcold --size 64M --mode hotcold
ready=$READY
pid=$(ready_get "$ready" pid)
hs=$(ready_get "$ready" start)
he=$(ready_get "$ready" end)
cs=$(ready_get "$ready" cold_start)
ce=$(ready_get "$ready" cold_end)

hot_done() { [[ $(huge_kb "$pid" "$hs" "$he") -ge $((64 * 1024 * 95 / 100)) ]]; }
wait_until 10 hot_done || fail "hot area not collapsed: $(huge_kb "$pid" "$hs" "$he") kB huge"
# Several more windows: the idle area stays small pages.
sleep 3
cold=$(huge_kb "$pid" "$cs" "$ce")
[[ $cold -eq 0 ]] || fail "idle area collapsed: $cold kB huge"
areas=$(target_json "$pid" | jq -c '[.areas[] | {start, hot_percent}]')
note "areas (start, hot%): $areas"
hot_pct=$(target_json "$pid" | jq --argjson s $((hs)) '.areas[] | select(.start == $s) | .hot_percent')
cold_pct=$(target_json "$pid" | jq --argjson s $((cs)) '.areas[] | select(.start == $s) | .hot_percent')
jq -e -n "$hot_pct >= 50 and $cold_pct < 50" >/dev/null || fail "hotness: hot=$hot_pct cold=$cold_pct"

# ---- max_huge reached: no more clear_refs ----
kill -USR1 "$pid"
wait_step "$ready" 1
sleep 3
ref=$(range_kb "$pid" "$cs" "$ce" Referenced) && is_num "$ref" || fail "no Referenced figure for the idle area"
rss=$(range_kb "$pid" "$cs" "$ce" Rss) && is_num "$rss" || fail "no Rss figure for the idle area"
note "idle area read once after max_huge was reached: Referenced $ref kB of Rss $rss kB, 3 s later"
((rss > 0 && ref * 10 >= rss * 9)) ||
	fail "thpd cleared the referenced bits with nothing left to decide: Referenced $ref kB of Rss $rss kB"
thpd_alive
echo "PASS"
