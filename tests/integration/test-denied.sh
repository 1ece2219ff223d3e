#!/bin/bash
# Without CAP_SYS_NICE, process_madvise fails with EPERM: thpd says once which
# capability is missing and stops trying that target. A process with
# PR_SET_THP_DISABLE is left alone.
. "$(dirname "$0")/lib.sh"
require_collapse
command -v setpriv >/dev/null || skip "setpriv not installed"

write_config 300ms \
	"  - name: any" \
	"    match: {comm: [thpt-denied, thpt-nothp]}"
"$THPD" --foreground --config "$CONF" --socket "$SOCK" --log-level debug >/dev/null 2>&1 &
# Start thpd without CAP_SYS_NICE in every capability set.
kill -KILL $! 2>/dev/null || true
setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice \
	"$THPD" --foreground --config "$CONF" --socket "$SOCK" --log-level debug >>"$LOG" 2>&1 &
THPD_PID=$!
wait_until 5 test -S "$SOCK" || fail "thpd did not start"
start_target d --name thpt-denied --size 16M
ready=$READY
pid=$(ready_get "$ready" pid)
denied() { [[ $(target_json "$pid" | jq -r .summary.state) == denied ]]; }
wait_until 5 denied || fail "target not marked denied: $(target_json "$pid" | jq -c .summary)"
grep -q "lacks CAP_SYS_NICE" "$LOG" || fail "missing capability not named"
sleep 1.5
a=$(target_json "$pid" | jq .attempts)
[[ $a -eq 1 ]] || fail "kept trying a denied target: $a attempts"
[[ $(grep -c "lacks CAP_SYS_NICE" "$LOG") -eq 1 ]] || fail "logged more than once"

start_target n --name thpt-nothp --size 16M --mode thp-disable
r2=$READY
p2=$(ready_get "$r2" pid)
nothp() { [[ $(target_json "$p2" | jq -r .summary.state) == thp-disabled ]]; }
wait_until 5 nothp || fail "THP-disabled process not recognised: $(target_json "$p2" | jq -c .summary)"
[[ $(target_json "$p2" | jq .attempts) -eq 0 ]] || fail "attempted a THP-disabled process"
note "EPERM: one attempt, one log line naming CAP_SYS_NICE; PR_SET_THP_DISABLE: no attempts"
echo "PASS"
