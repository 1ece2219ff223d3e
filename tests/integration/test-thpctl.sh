#!/bin/bash
# thpctl against a real thpd with real targets: every verb in text and in
# --json (checked with jq), the error messages and the exit codes
# (0 ok, 1 call failed, 2 usage, 3 not running).
#
# Policy "ctl-cap" caps each target at 4 MiB of huge pages: of the 16 chunks
# of its 32 MiB target, 2 are collapsed and 14 stay candidates, so collapse
# counts are known. "ctl-free" has no cap.
# shellcheck disable=SC2016 # $names in single quotes are jq variables
. "$(dirname "$0")/lib.sh"
: "${THPCTL:?THPCTL must point at the thpctl binary}"
require_collapse

MiB=$((1024 * 1024))
write_config 500ms \
	"  - name: ctl-cap" \
	"    match: {comm: [thpt-ctl-cap]}" \
	"    max_huge: 4MiB" \
	"  - name: ctl-free" \
	"    match: {comm: [thpt-ctl-free]}"
cp "$CONF" "$WORK/good.yaml"
start_thpd

# expect RC ARGS...: run thpctl on the private socket; the exit code must be
# RC. Sets OUT and ERR.
OUT="" ERR=""
expect() {
	local want=$1 rc=0
	shift
	"$THPCTL" --socket "$SOCK" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
	[[ $rc -eq $want ]] ||
		fail "thpctl $*: exit $rc, want $want
stdout: $OUT
stderr: $ERR"
}
# jcheck FILTER: FILTER (jq -e) holds for OUT.
jcheck() {
	jq -e "$@" <<<"$OUT" >/dev/null || fail "jq $* does not hold for: $OUT"
}
# has TEXT: OUT contains TEXT. err_has TEXT: ERR does.
has() { [[ $OUT == *"$1"* ]] || fail "no '$1' in stdout: $OUT"; }
err_has() { [[ $ERR == *"$1"* ]] || fail "no '$1' in stderr: $ERR"; }

# ---- monitor, started first so that it sees everything ----
MON="$WORK/monitor.jsonl" MON_TXT="$WORK/monitor.txt"
: >"$MON"
: >"$MON_TXT"
"$THPCTL" --socket "$SOCK" --json monitor >"$MON" 2>"$WORK/monitor.err" &
mon_pid=$!
CHILD_PIDS+=("$mon_pid")
"$THPCTL" --socket "$SOCK" monitor >"$MON_TXT" 2>"$WORK/monitor-txt.err" &
mon_txt_pid=$!
CHILD_PIDS+=("$mon_txt_pid")
wait_until 5 grep -qx '{"type":"subscribed"}' "$MON" || fail "monitor not subscribed: $(cat "$MON" "$WORK/monitor.err")"
wait_until 5 grep -q '^TIME  *TYPE  *PID  *COMM  *DETAILS$' "$MON_TXT" ||
	fail "text monitor printed no header: $(cat "$MON_TXT" "$WORK/monitor-txt.err")"

# ---- help ----
expect 0 help
for v in status targets show why counters reload policy collapse pause resume monitor help; do
	grep -q "^  $v\b" <<<"$OUT" || fail "help does not list $v: $OUT"
done
expect 0 help collapse
has "collapse PID [--range START-END]"
expect 0 collapse --help
has "--range START-END"
expect 0 help monitor
has "JSON Lines"
expect 2 help no-such-verb

# ---- targets come up ----
start_target cap --name thpt-ctl-cap --size 32M
cap_ready=$READY
cap=$(ready_get "$cap_ready" pid)
cap_start=$(ready_get "$cap_ready" start)
cap_end=$(ready_get "$cap_ready" end)
start_target free --name thpt-ctl-free --size 16M
free=$(ready_get "$READY" pid)

# Scanned after the target touched all its memory (a first scan may come
# earlier), and collapsed up to the cap.
settled() {
	"$THPCTL" --socket "$SOCK" --json targets | jq -e --argjson c "$cap" --argjson f "$free" \
		--argjson m "$MiB" '
		([.targets[] | select(.pid == $c and .huge_bytes == 4 * $m and .policy == "ctl-cap" and
			.chunks.huge == 2 and .chunks.candidate == 14)] | length == 1) and
		([.targets[] | select(.pid == $f and .huge_bytes > 0 and .policy == "ctl-free")] | length == 1)' \
		>/dev/null
}
wait_until 15 settled || fail "targets not collapsed as expected: $("$THPCTL" --socket "$SOCK" --json targets)"
note "targets $cap (capped at 4 MiB) and $free collapsed"

# ---- status ----
expect 0 status
has "Version:"
grep -q '^ *Policies: 2 (config generation 1)$' <<<"$OUT" || fail "status: $OUT"
grep -q '^ *Targets: 2$' <<<"$OUT" || fail "status: $OUT"
grep -q '^ *Pauses: none$' <<<"$OUT" || fail "status: $OUT"
expect 0 # no verb: status
has "Version:"
expect 0 --json status
jcheck '.policies == 2 and .targets == 2 and .pauses == [] and (.version | type == "string") and .budget.rate == 8 * 1024 * 1024 * 1024'

# ---- targets ----
expect 0 targets
grep -Eq "^ *$cap +thpt-ctl-cap +ctl-cap +active " <<<"$OUT" || fail "targets: $OUT"
grep -Eq "^ *$free +thpt-ctl-free +ctl-free +active " <<<"$OUT" || fail "targets: $OUT"
has "2 targets listed"
expect 0 --no-legend targets
[[ $(wc -l <<<"$OUT") -eq 2 && $OUT != *PID* ]] || fail "targets --no-legend: $OUT"
expect 0 targets --json # options after the verb
jcheck --argjson c "$cap" '(.targets | length) == 2 and ([.targets[] | select(.pid == $c)][0] | .comm == "thpt-ctl-cap" and .state == "active" and .chunks.huge == 2 and .chunks.candidate == 14)'

# ---- show ----
expect 0 show "$cap"
grep -q '^ *Policy: ctl-cap$' <<<"$OUT" || fail "show: $OUT"
grep -q '^ *Command: thpt-ctl-cap$' <<<"$OUT" || fail "show: $OUT"
has "Chunks:"
# (Its one area; a sanitizer build's runtime maps more of its own.)
grep -Eq '^[0-9]+ areas?[.,]' <<<"$OUT" || fail "show has no areas footer: $OUT"
# Bounded whatever the size: header fields, at most 10 areas, no chunks.
(($(wc -l <<<"$OUT") <= 40)) || fail "show is $(wc -l <<<"$OUT") lines: $OUT"
[[ $OUT != *"16 chunks."* ]] || fail "show lists chunks without --chunks: $OUT"
expect 0 show "$cap" --chunks
has "16 chunks."
expect 0 show "$cap" --chunks --state huge
has "2 of 16 chunks."
expect 2 show "$cap" --state huge
err_has "add --chunks"
expect 2 show "$cap" --chunks --state bogus
err_has "unknown chunk state 'bogus'"
expect 0 --json show "$cap"
jcheck --argjson c "$cap" '.target.summary.pid == $c and (.target | has("chunks") | not) and any(.target.areas[]; .start <= '"$((cap_start))"' and .end >= '"$((cap_end))"') and .target.chunks_total == 16'
expect 0 --json show "$cap" --chunks
jcheck --argjson c "$cap" '.target.summary.pid == $c and (.target.chunks | length) == 16 and ([.target.chunks[] | select(.state == "huge")] | length) == 2'
SHOW_CAP=$OUT
expect 1 show "$$"
err_has "no target with pid $$"

# ---- counters ----
expect 0 counters
grep -Eq '^ *Attempts: [0-9]+$' <<<"$OUT" || fail "counters: $OUT"
has "Attempts by result:"
expect 0 --json counters
jcheck '.counters.attempts >= 3 and .counters.by_result.ok >= 3 and .counters.collapsed_bytes >= 6 * 1024 * 1024 and .counters.targets_added == 2'

# ---- policy ----
expect 0 policy
has "Daemon:"
has "Retry:"
grep -q '^ *Scan interval: 500 ms$' <<<"$OUT" || fail "policy: $OUT"
grep -q '^ *Max collapse rate: 8.0 GiB/s$' <<<"$OUT" || fail "policy: $OUT"
has "Policy ctl-cap:"
has "Policy ctl-free:"
grep -q '^ *Comm: thpt-ctl-cap$' <<<"$OUT" || fail "policy: $OUT"
grep -q '^ *Max huge: 4.0 MiB$' <<<"$OUT" || fail "policy: $OUT"
grep -q '^ *Max huge: unlimited$' <<<"$OUT" || fail "policy: $OUT"
grep -q '^ *Max rate: unlimited$' <<<"$OUT" || fail "policy: $OUT"
grep -q "^ *Defined in: $CONF:[0-9]*$" <<<"$OUT" || fail "policy: $OUT"
expect 0 --json policy
jcheck '.config_generation == 1 and .policy.daemon.scan_interval_sec == 0.5 and
	(.policy.policies | map(.name)) == ["ctl-cap", "ctl-free"] and
	.policy.policies[0].max_huge == 4 * 1024 * 1024 and .policy.policies[0].match.comm == ["thpt-ctl-cap"]'

# ---- collapse ----
# Chunks that are not huge among those overlapping [lo, hi): the expected count.
due_in() {
	jq --argjson lo "$1" --argjson hi "$2" --argjson c $((2 * MiB)) \
		'[.target.chunks[] | select(.state != "huge" and .addr + $c > $lo and .addr < $hi)] | length' <<<"$SHOW_CAP"
}
expect 0 collapse "$cap"
[[ $OUT == "14 chunks of pid $cap made due for collapse." ]] || fail "collapse: $OUT"
expect 0 --json collapse "$cap"
jcheck '.chunks == 14'
# The last 4 chunks, hex; the first 2 (huge ones come first), decimal.
lo=$((cap_end - 8 * MiB)) hi=$((cap_end))
want=$(due_in "$lo" "$hi")
expect 0 --json collapse "$cap" --range "$(printf '0x%x-0x%x' "$lo" "$hi")"
jcheck --argjson n "$want" '.chunks == $n'
expect 0 collapse --range "$(printf '0x%X-0x%X' "$lo" "$hi")" "$cap"
has "$want chunks of pid $cap in $(printf '0x%x-0x%x' "$lo" "$hi") made due for collapse."
lo=$((cap_start)) hi=$((cap_start + 4 * MiB))
want=$(due_in "$lo" "$hi")
expect 0 --json collapse "$cap" --range "$lo-$hi"
jcheck --argjson n "$want" '.chunks == $n'
# One byte inside a chunk selects that chunk.
lo=$((cap_end - 2 * MiB + 4096))
expect 0 --json collapse "$cap" --range "$lo-$((lo + 1))"
jcheck --argjson n "$(due_in "$lo" $((lo + 1)))" '.chunks == $n'
note "collapse: 14 chunks made due, ranges gave the expected counts"
expect 2 collapse "$cap" --range "$((cap_end))-$((cap_start))"
err_has "START must be below END"
expect 2 collapse "$cap" --range 0x1000
expect 2 collapse "$cap" --range 0xzz-0x2000
expect 2 collapse "$cap" --range
expect 2 --range 1-2 collapse "$cap"
err_has "option '--range' goes after the verb show or collapse"
expect 2 status --range 1-2
expect 1 collapse "$$"
err_has "no target with pid $$"

# ---- pause and resume of one target ----
target_state() {
	"$THPCTL" --socket "$SOCK" --json targets | jq -r --argjson p "$1" '.targets[] | select(.pid == $p) | .state'
}
expect 0 pause "$cap"
[[ $OUT == "Paused collapsing of pid $cap." ]] || fail "pause: $OUT"
[[ $(target_state "$cap") == paused ]] || fail "target not paused: $(target_state "$cap")"
[[ $(target_state "$free") == active ]] || fail "other target paused too"
expect 0 targets
grep -Eq "^ *$cap +thpt-ctl-cap +ctl-cap +paused " <<<"$OUT" || fail "targets: $OUT"
expect 1 collapse "$cap"
[[ $ERR == "thpctl: target $cap is not active (paused)" ]] || fail "collapse of a paused target: $ERR"
expect 0 --json resume "$cap"
jcheck '. == {}'
[[ $(target_state "$cap") == active ]] || fail "target not resumed: $(target_state "$cap")"
expect 0 --json pause "$free"
jcheck '. == {}'
[[ $(target_state "$free") == paused ]] || fail "target not paused"
expect 0 resume "$free"
[[ $OUT == "Resumed collapsing of pid $free." ]] || fail "resume: $OUT"
[[ $(target_state "$free") == active ]] || fail "target not resumed"
expect 1 pause "$$"
err_has "no target with pid $$"
expect 2 pause 0
expect 2 resume x

# ---- pause and resume of the daemon ----
expect 0 pause
has "Paused all collapsing"
expect 0 --json status
jcheck '(.pauses | length) == 1 and .pauses[0].reason == "operator" and .pauses[0].remaining_sec == null'
expect 0 status
grep -q '^ *Pauses: 1 active$' <<<"$OUT" || fail "status: $OUT"
grep -Eq '^operator +- +on resume +-$' <<<"$OUT" || fail "status: $OUT"
expect 1 collapse "$cap"
[[ $ERR == "thpctl: target $cap is not active (daemon-paused)" ]] || fail "collapse while paused: $ERR"
expect 0 --json resume
jcheck '. == {}'
expect 0 --json status
jcheck '.pauses == []'
expect 0 --json pause
jcheck '. == {}'
expect 0 resume
[[ $OUT == "Resumed collapsing." ]] || fail "resume: $OUT"
expect 0 --json status
jcheck '.pauses == []'

# Pausing the daemon needs root or group thpd; others get a clear message.
chmod o+x "$WORK"
if command -v setpriv >/dev/null && ! getent group thpd >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$THPCTL" --version >/dev/null 2>&1; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$THPCTL" --socket "$SOCK" pause \
		>/dev/null 2>"$WORK/err" || rc=$?
	[[ $rc -eq 1 ]] || fail "unprivileged pause: exit $rc: $(cat "$WORK/err")"
	denied=$(cat "$WORK/err")
	[[ $denied == "thpctl: permission denied: pausing the whole daemon needs root or group thpd" ]] ||
		fail "unprivileged pause: $denied"
	expect 0 --json status
	jcheck '.pauses == []'
	note "unprivileged pause refused: $denied"
else
	note "unprivileged pause not checked (no setpriv, or nobody cannot run $THPCTL)"
fi
chmod o-x "$WORK"

# ---- reload ----
printf '  - name: ctl-extra\n    match: {comm: [thpt-ctl-none]}\n' >>"$CONF"
expect 0 reload
[[ $OUT == "Reloaded: 3 policies, config generation 2." ]] || fail "reload: $OUT"
expect 0 --json reload
jcheck '.policies == 3 and .config_generation == 3'
printf 'daemon:\n  scan_intervall: 1s\npolicies: []\n' >"$CONF"
expect 1 reload
err_has "reload failed, the running policy is unchanged"
grep -q "^$CONF:2:3: " <<<"$ERR" || fail "bad reload: no $CONF:2:3 in: $ERR"
expect 1 --json reload
[[ -z $OUT ]] || fail "failed reload printed on stdout: $OUT"
grep -q "^$CONF:2:3: " <<<"$ERR" || fail "bad reload (--json): $ERR"
expect 0 --json status
jcheck '.policies == 3 and .config_generation == 3'
cp "$WORK/good.yaml" "$CONF"
expect 0 reload
has "2 policies"

# ---- the events the monitors saw ----
sleep 0.3
while IFS= read -r line; do
	jq -e 'type == "object" and (.type | type == "string")' <<<"$line" >/dev/null ||
		fail "monitor line is not a JSON object: $line"
done <"$MON"
mon_has() {
	jq -e -s "$@" "$MON" >/dev/null || fail "monitor saw no event for $*: $(cat "$MON")"
}
mon_has --argjson c "$cap" 'any(.[]; .type == "target-added" and .pid == $c and .comm == "thpt-ctl-cap" and .policy == "ctl-cap")'
mon_has --argjson f "$free" 'any(.[]; .type == "target-added" and .pid == $f)'
mon_has --argjson c "$cap" 'any(.[]; .type == "collapse-done" and .pid == $c and .chunks_ok >= 1 and .bytes == .chunks_ok * 2 * 1024 * 1024 and (.chunks_failed | type == "number") and .duration_sec > 0)'
mon_has --argjson c "$cap" '[.[] | select(.type == "collapse-done" and .pid == $c) | .chunks_ok] | add == 2'
mon_has --argjson c "$cap" 'any(.[]; .type == "pause" and .pid == $c and .reason == "operator")'
mon_has --argjson c "$cap" 'any(.[]; .type == "resume" and .pid == $c and .reason == "operator")'
mon_has 'any(.[]; .type == "pause" and .reason == "operator" and (has("pid") | not))'
mon_has 'any(.[]; .type == "resume" and .reason == "operator" and (has("pid") | not))'
mon_has '[.[] | select(.type == "reload")] | length >= 3'
mon_has '.[0] == {"type": "subscribed"} and ([.[] | select(.type == "subscribed")] | length) == 1'
note "JSON monitor: $(wc -l <"$MON") lines, types $(jq -r .type "$MON" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')"
grep -Eq "^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} +target-added +$cap +thpt-ctl-cap +policy ctl-cap$" "$MON_TXT" ||
	fail "text monitor: no target-added line: $(cat "$MON_TXT")"
grep -Eq " collapse-done +$cap +thpt-ctl-cap +policy ctl-cap, [0-9.]+ MiB, [0-9]+ chunks? ok, [0-9]+ failed, in [0-9.]+ (us|ms|s)$" "$MON_TXT" ||
	fail "text monitor: no collapse-done line: $(cat "$MON_TXT")"
grep -Eq " pause +- +- +reason operator$" "$MON_TXT" || fail "text monitor: no pause line: $(cat "$MON_TXT")"
grep -Eq " reload +- +- +-$" "$MON_TXT" || fail "text monitor: no reload line: $(cat "$MON_TXT")"

# A target leaving shows up too.
kill -TERM "$free"
removed() { jq -e -s --argjson f "$free" 'any(.[]; .type == "target-removed" and .pid == $f)' "$MON" >/dev/null; }
wait_until 5 removed || fail "no target-removed event: $(cat "$MON")"

# The monitor through a pipe: jq gets every line as it comes, not at exit.
"$THPCTL" --socket "$SOCK" --json monitor 2>/dev/null \
	> >(jq --unbuffered -c 'select(.type == "subscribed" or .type == "pause")' >"$WORK/piped") &
piped_pid=$!
CHILD_PIDS+=("$piped_pid")
wait_until 5 grep -q subscribed "$WORK/piped" || fail "piped monitor not subscribed"
expect 0 pause "$cap"
wait_until 5 grep -q '"pause"' "$WORK/piped" || fail "piped monitor got no pause event"
expect 0 resume "$cap"
kill -TERM "$piped_pid"

# SIGTERM and SIGINT end a monitor with exit 0.
kill -TERM "$mon_pid"
rc=0
wait "$mon_pid" || rc=$?
[[ $rc -eq 0 ]] || fail "monitor exited $rc on SIGTERM: $(cat "$WORK/monitor.err")"
kill -INT "$mon_txt_pid"
rc=0
wait "$mon_txt_pid" || rc=$?
[[ $rc -eq 0 ]] || fail "monitor exited $rc on SIGINT: $(cat "$WORK/monitor-txt.err")"
[[ ! -s $WORK/monitor.err ]] || fail "monitor wrote to stderr: $(cat "$WORK/monitor.err")"

# ---- usage errors: exit 2 ----
expect 2 no-such-verb
err_has "unknown verb 'no-such-verb'"
expect 2 show
expect 2 show abc
err_has "invalid PID 'abc'"
expect 2 show 0
expect 2 show -- -5
expect 2 collapse 99999999999
expect 2 status extra
expect 2 --no-such-option status
expect 2 --timeout soon status
expect 2 monitor extra

# ---- a stopping daemon ends the monitor with exit 3 ----
"$THPCTL" --socket "$SOCK" --json monitor >"$WORK/last.jsonl" 2>"$WORK/last.err" &
last_pid=$!
CHILD_PIDS+=("$last_pid")
wait_until 5 grep -q subscribed "$WORK/last.jsonl" || fail "last monitor not subscribed"
stop_thpd
rc=0
wait "$last_pid" || rc=$?
[[ $rc -eq 3 ]] || fail "monitor exited $rc when thpd stopped: $(cat "$WORK/last.err")"
grep -qx "thpctl: thpd stopped" "$WORK/last.err" || fail "monitor: $(cat "$WORK/last.err")"

# ---- no daemon: exit 3 ----
for verb in status targets "show $cap" "why $cap" counters reload policy "collapse $cap" pause resume; do
	# shellcheck disable=SC2086 # verb and its argument
	expect 3 $verb
	err_has "thpd is not running (no socket at $SOCK)"
done
# monitor waits for thpd to come, up to --timeout (test-monitor: it comes).
expect 3 --timeout 1 monitor
err_has "waiting for thpd on $SOCK"
err_has "thpd is not running: nothing answered on $SOCK within 1 s"
expect 3 --socket "$WORK/none.sock" status
err_has "no socket at $WORK/none.sock"
# A socket file nobody listens on (left behind by a killed daemon).
if python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$WORK/stale.sock" 2>/dev/null; then
	expect 3 --socket "$WORK/stale.sock" status
	err_has "nothing listening on $WORK/stale.sock"
	expect 3 --socket "$WORK/stale.sock" monitor
fi
expect 0 help
echo "PASS"
