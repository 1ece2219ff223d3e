#!/bin/bash
# thpctl monitor as an operator runs it: started before thpd it waits for it
# (instead of exiting 3); every event carries the time it happened; a failed
# reload is an event (reload-failed, naming the file and line), seen by root
# and not by other users; pauses and reloads rewrite the state file.
. "$(dirname "$0")/lib.sh"
require_root
command -v socat >/dev/null || skip "socat not installed"
command -v jq >/dev/null || skip "jq not installed"

STATE="$WORK/state"
mkdir -p "$STATE"
write_config 200ms \
	"  - name: mon" \
	"    match: {comm: [thpt-mon]}"

# Before thpd: monitor waits (a message on stderr), up to --timeout.
MON="$WORK/monitor.jsonl"
"$THPCTL" --socket "$SOCK" --timeout 30 --json monitor >"$MON" 2>"$WORK/monitor.err" &
mon_pid=$!
CHILD_PIDS+=("$mon_pid")
nap 1
kill -0 "$mon_pid" 2>/dev/null || fail "monitor did not wait for thpd: exit, $(cat "$WORK/monitor.err")"
[[ $(cat "$WORK/monitor.err") == *"waiting for thpd on $SOCK"* ]] ||
	fail "monitor says nothing while it waits: $(cat "$WORK/monitor.err")"
start_thpd --state-dir "$STATE"
subscribed() { [[ $(head -n 1 "$MON") == '{"type":"subscribed"}' ]]; }
wait_until 10 subscribed || fail "monitor did not subscribe once thpd came: $(cat "$MON" "$WORK/monitor.err")"

# Not waiting for ever: a socket nobody serves, --timeout 1.
rc=0
t0=$EPOCHREALTIME
"$THPCTL" --socket "$WORK/nobody.sock" --timeout 1 monitor 2>"$WORK/err" || rc=$?
((rc == 3)) && [[ $(cat "$WORK/err") == *"thpd is not running: nothing answered on $WORK/nobody.sock within 1 s"* ]] ||
	fail "monitor of a socket nobody serves: rc $rc, $(cat "$WORK/err")"
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a >= 0.9 && b - a < 10) }' ||
	fail "monitor --timeout 1 took $t0..$EPOCHREALTIME"

# Events carry their time.
start_target t --name thpt-mon --size 8M
pid=$(ready_get "$READY" pid)
# has FILTER: some line of the monitor's output matches (jq -e alone
# answers for the last line only).
has() { jq -se "any(.[]; $1)" "$MON" >/dev/null; }
added() { has ".type == \"target-added\" and .pid == $pid"; }
wait_until 10 added || fail "no target-added event: $(cat "$MON")"
now=$EPOCHREALTIME
ev=$(jq -c --argjson p "$pid" 'select(.type == "target-added" and .pid == $p)' "$MON" | head -n 1)
jq -e --argjson now "$now" '(.time | type) == "number" and .time <= $now + 1 and .time > $now - 30' \
	<<<"$ev" >/dev/null || fail "target-added without its time (now $now): $ev"

# State file: a pause rewrites it (its counters, saved "when something
# changes"), so does a reload.
saved_at() { stat -c %y "$STATE/state.json" 2>/dev/null || echo none; }
wait_until 10 test -f "$STATE/state.json" || fail "no state file"
s0=$(saved_at)
nap 1.1
"$THPCTL" --socket "$SOCK" pause "$pid" >/dev/null
rewritten() { [[ $(saved_at) != "$s0" ]]; }
wait_until 5 rewritten || fail "state.json not rewritten after a pause ($s0)"
"$THPCTL" --socket "$SOCK" resume "$pid" >/dev/null

# A failed reload: an event naming the file and line, for root only.
UMON="$WORK/user-monitor.jsonl"
if getent passwd nobody >/dev/null && command -v setpriv >/dev/null; then
	chmod 755 "$WORK" # the socket is in it
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
		"$THPCTL" --socket "$SOCK" --json monitor >"$UMON" 2>"$WORK/user-monitor.err" &
	CHILD_PIDS+=("$!")
	user_subscribed() { [[ $(head -n 1 "$UMON" 2>/dev/null) == '{"type":"subscribed"}' ]]; }
	wait_until 10 user_subscribed || fail "nobody's monitor did not subscribe: $(cat "$WORK/user-monitor.err")"
fi
cp "$CONF" "$WORK/good.yaml"
printf 'daemon:\n  scan_interval: 200ms\npolicies:\n  - name: mon\n    match: {comm: [thpt-mon]}\n    max_huge: lots\n' >"$CONF"
s1=$(saved_at)
r=$(vcall io.thpd.Manager.Reload)
[[ $(jq -r .error <<<"$r") == io.thpd.Manager.ReloadFailed ]] || fail "bad reload accepted: $r"
failed_event() { has '.type == "reload-failed"'; }
wait_until 5 failed_event || fail "no reload-failed event: $(cat "$MON")"
ev=$(jq -c 'select(.type == "reload-failed")' "$MON" | head -n 1)
jq -e --arg f "$CONF" '(.reason | startswith($f + ":6:")) and (.reason | test("max_huge")) and (.time | type) == "number"' \
	<<<"$ev" >/dev/null || fail "reload-failed event does not name the file, line and field: $ev"
note "reload-failed event: $(jq -r .reason <<<"$ev")"
rewritten_since_s1() { [[ $(saved_at) != "$s1" ]]; }
wait_until 5 rewritten_since_s1 || fail "state.json not rewritten after a failed reload"
cp "$WORK/good.yaml" "$CONF"
r=$(vcall io.thpd.Manager.Reload)
[[ $(jq -r '.parameters.policies' <<<"$r") == 1 ]] || fail "good reload: $r"
reload_event() { has '.type == "reload"'; }
wait_until 5 reload_event || fail "no reload event: $(cat "$MON")"
if [[ -s $UMON ]]; then
	# The user saw the reload, not the failure before it.
	wait_until 5 grep -q '"type":"reload"' "$UMON" || fail "the user's monitor missed the reload: $(cat "$UMON")"
	! grep -q reload-failed "$UMON" || fail "a user saw reload-failed: $(cat "$UMON")"
fi

# Text form: the event's own time, reload-failed among the types.
printf 'policies: [\n' >"$CONF"
TXT="$WORK/monitor.txt"
"$THPCTL" --socket "$SOCK" monitor >"$TXT" 2>&1 &
CHILD_PIDS+=("$!")
wait_until 5 grep -q '^TIME' "$TXT" || fail "text monitor printed no header: $(cat "$TXT")"
vcall io.thpd.Manager.Reload >/dev/null
wait_until 5 grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} +reload-failed +- +- +reason ' "$TXT" ||
	fail "text monitor: $(cat "$TXT")"
cp "$WORK/good.yaml" "$CONF"
thpd_alive || fail "thpd died"
echo "PASS"
