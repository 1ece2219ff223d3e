#!/bin/bash
# The state file is never trusted blindly and its directory may fail: a
# corrupt, foreign or other-boot file is reported and ignored; a read-only or
# full state directory is reported and thpd runs on.
. "$(dirname "$0")/lib.sh"
require_collapse

write_config 300ms \
	"  - name: sf" \
	"    match: {comm: [thpt-sf]}"
STATE="$WORK/state"
mkdir -p "$STATE"
start_target t --name thpt-sf --size 16M
tpid=$(ready_get "$READY" pid)
ts=$(ready_get "$READY" start)
te=$(ready_get "$READY" end)

run_with_state() { # EXPECTED_LOG_TEXT
	: >"$LOG"
	start_thpd --state-dir "$STATE"
	grep -qF "$1" "$LOG" || fail "expected \"$1\" in the log: $(cat "$LOG")"
	vcall io.thpd.Manager.GetStatus | jq -e .parameters.version >/dev/null || fail "not answering"
	stop_thpd
}

printf '\x00\x01garbage{{{' >"$STATE/state.json"
run_with_state "ignored: not valid JSON"
echo '{"format": "something-else", "version": 1, "boot_id": "x"}' >"$STATE/state.json"
run_with_state "ignored: not a thpd state file"
echo '{"format": "thpd-state", "version": 99, "boot_id": "x"}' >"$STATE/state.json"
run_with_state "ignored: unknown state file version"
# Well-formed but lying: a chunk address that is not 2 MiB aligned.
jq -n '{format: "thpd-state", version: 1, boot_id: "b", counters: {attempts: 1,
  collapsed_bytes: 0, by_class: [0,0,0,0,0,0,0,0,0], collapse_usec: 0, scans: 0, scan_usec: 0,
  discoveries: 0, targets_added: 0, targets_removed: 0, enomem_pauses: 0, ebusy_pauses: 0,
  splits: 0, reloads: 0, reload_failures: 0}, pauses: [],
  targets: [{pid: 1, starttime: 1, chunks: [{addr: 4097, state: 3, attempts: 0, next_usec: 0,
  last_errno: 22, splits: 0, sig: {start: 0, end: 0, flags: 0, resident: 0}}]}]}' >"$STATE/state.json"
run_with_state "ignored: malformed target entry"
# Another boot: counters are kept, per-process state dropped.
jq '.targets = [] | .counters.attempts = 4242 | .boot_id = "00000000-0000-0000-0000-000000000000"' \
	"$STATE/state.json" >"$STATE/x" && mv "$STATE/x" "$STATE/state.json"
: >"$LOG"
start_thpd --state-dir "$STATE"
grep -q "is from another boot" "$LOG" || fail "other boot not reported"
((
$(counters | jq .attempts) >= 4242)) || fail "counters from another boot not kept"
stop_thpd
note "corrupt, foreign, unknown-version, lying and other-boot state files: reported, ignored"

# Read-only and full state directories.
if mount -t tmpfs -o size=64k tmpfs "$STATE" 2>/dev/null; then
	on_exit "umount '$STATE' 2>/dev/null"
	mount -o remount,ro "$STATE"
	: >"$LOG"
	start_thpd --state-dir "$STATE"
	wait_until 5 grep -q "cannot save state to $STATE/state.json: Read-only file system" "$LOG" ||
		fail "read-only state dir not reported: $(cat "$LOG")"
	collapsed() { [[ $(huge_kb "$tpid" "$ts" "$te") -eq 16384 ]]; }
	wait_until 5 collapsed || fail "not collapsing with a read-only state dir"
	stop_thpd
	mount -o remount,rw "$STATE"
	dd if=/dev/zero of="$STATE/filler" bs=4k count=100 2>/dev/null || true
	: >"$LOG"
	start_thpd --state-dir "$STATE"
	start_target t2 --name thpt-sf --size 8M # something to change, so a save is due
	wait_until 5 grep -q "cannot save state to $STATE/state.json: No space left on device" "$LOG" ||
		fail "full state dir not reported: $(cat "$LOG")"
	vcall io.thpd.Manager.GetStatus | jq -e .parameters.version >/dev/null || fail "not answering"
	[[ ! -e $STATE/.state.json.tmp ]] || fail "temp file left behind"
	stop_thpd
	note "read-only (EROFS) and full (ENOSPC) state dirs: reported, thpd runs on"
else
	note "cannot mount a tmpfs here: read-only/full directory cases not run"
fi
echo "PASS"
