#!/bin/bash
# SIGHUP reloads atomically (a bad policy is reported and the old one stays);
# SIGTERM stops within a second, in-flight collapses included.
. "$(dirname "$0")/lib.sh"
require_collapse

write_config 1s \
	"  - name: first" \
	"    match: {comm: [thpt-sig]}"
start_thpd
gen() { vcall io.thpd.Manager.GetStatus | jq .parameters.config_generation; }
g0=$(gen)

# Bad policy: reported with file:line:column, old one kept.
cp "$CONF" "$WORK/good.yaml"
printf 'daemon:\n  scan_intervall: 1s\npolicies: []\n' >"$CONF"
kill -HUP "$THPD_PID"
wait_until 5 grep -q "$CONF:2:3: " "$LOG" || fail "bad reload not reported with position"
[[ $(gen) -eq $g0 ]] || fail "generation changed on a failed reload"
[[ $(vcall io.thpd.Manager.GetStatus | jq .parameters.policies) -eq 1 ]] || fail "policy lost"
rf=$(counters | jq .reload_failures)
[[ $rf -eq 1 ]] || fail "reload_failures=$rf"

# Good policy: applied.
cp "$WORK/good.yaml" "$CONF"
printf '  - name: second\n    match: {comm: [other]}\n' >>"$CONF"
kill -HUP "$THPD_PID"
wait_until 5 test "$(vcall io.thpd.Manager.GetStatus | jq .parameters.policies)" -eq 2 ||
	fail "good reload not applied"
note "reload: bad one kept generation $g0, good one gave $(gen)"

# SIGTERM while a large collapse runs.
start_target big --name thpt-sig --size 3G
ready=$READY
pid=$(ready_get "$ready" pid)
start=$(ready_get "$ready" start)
end=$(ready_get "$ready" end)
in_flight() {
	local kb
	kb=$(huge_kb "$pid" "$start" "$end")
	((kb > 0))
}
wait_until 10 in_flight || fail "collapse did not start"
t0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
kill -TERM "$THPD_PID"
wait "$THPD_PID" || fail "thpd exited non-zero after SIGTERM"
ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t0) / 1000000))
THPD_PID=""
kb=$(huge_kb "$pid" "$start" "$end")
note "SIGTERM with a collapse in flight ($kb of $((3 * 1024 * 1024)) kB done): exited in $ms ms"
((ms < 1000)) || fail "stop took $ms ms"
[[ ! -e $SOCK ]] || fail "socket not removed at exit"
echo "PASS"
