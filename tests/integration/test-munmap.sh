#!/bin/bash
# Acceptance: munmap between scan and collapse does not trigger a global
# ENOMEM pause (the kernel says ENOMEM for unmapped ranges too).
. "$(dirname "$0")/lib.sh"
require_collapse

write_config 1s \
	"  - name: unmapper" \
	"    match: {comm: [thpt-unmap], min_anon: 1000MiB}" \
	"  - name: after" \
	"    match: {comm: [thpt-after]}"
start_thpd
# The target unmaps the upper half of its 1 GiB as soon as it sees the first
# huge page, i.e. while thpd's job over the whole area is running.
start_target um --name thpt-unmap --size 1G --mode munmap-on-huge
ready=$READY
pid=$(ready_get "$ready" pid)
wait_step "$ready" 1
unmapped_seen() { [[ $(counters | jq .by_result.unmapped) -ge 1 ]]; }
wait_until 10 unmapped_seen || fail "no unmapped result recorded: $(counters)"
c=$(counters)
note "counters: unmapped=$(jq .by_result.unmapped <<<"$c") enomem=$(jq .by_result.enomem <<<"$c")"
[[ $(jq .enomem_pauses <<<"$c") -eq 0 ]] || fail "munmap triggered an ENOMEM pause: $c"
[[ $(jq .by_result.enomem <<<"$c") -eq 0 ]] || fail "munmap counted as ENOMEM: $c"
[[ $(vcall io.thpd.Manager.GetStatus | jq '.parameters.pauses | length') -eq 0 ]] ||
	fail "daemon reports a pause"

# Collapsing goes on for everyone: a new target is collapsed at once.
start_target after --name thpt-after --size 64M
r2=$READY
p2=$(ready_get "$r2" pid)
done2() { [[ $(huge_kb "$p2" "$(ready_get "$r2" start)" "$(ready_get "$r2" end)") -eq 65536 ]]; }
wait_until 5 done2 || fail "collapsing stalled after the munmap"
# The lower half of the first target is fully huge.
lower_end=$(ready_get "$ready" end)
[[ $(huge_kb "$pid" "$(ready_get "$ready" start)" "$lower_end") -eq 524288 ]] ||
	fail "lower half not collapsed"
thpd_alive
echo "PASS"
