#!/bin/bash
# sd_notify protocol: READY, STATUS and WATCHDOG on a datagram NOTIFY_SOCKET,
# RELOADING=1 (with MONOTONIC_USEC) then READY=1 around SIGHUP, STOPPING=1;
# and socket activation: serving on a socket inherited from
# systemd-socket-activate.
. "$(dirname "$0")/lib.sh"
require_collapse
command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate not installed"

write_config 500ms \
	"  - name: n" \
	"    match: {comm: [thpt-notify]}"
NOTIFY="$WORK/notify.sock"
MSGS="$WORK/notify.txt"
# Datagrams are appended as they come (message boundaries are not kept:
# checks count occurrences).
socat -u UNIX-RECV:"$NOTIFY" STDOUT >>"$MSGS" 2>/dev/null &
CHILD_PIDS+=($!)
wait_until 5 test -S "$NOTIFY" || fail "notify socket not created"

NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000 start_thpd
has() { grep -q "$1" "$MSGS"; }
wait_until 5 has READY=1 || fail "no READY=1: $(cat "$MSGS")"
wait_until 5 has STATUS= || fail "no STATUS="
wait_until 5 has WATCHDOG=1 || fail "no WATCHDOG=1 (WATCHDOG_USEC=400000)"
count() { grep -o "$1" "$MSGS" | wc -l; }
wd=$(count WATCHDOG=1)
sleep 1
wd2=$(count WATCHDOG=1)
((wd2 >= wd + 3)) || fail "watchdog pings not periodic: $wd -> $wd2 in 1 s"
note "READY, STATUS and $((wd2 - wd)) WATCHDOG pings per second (interval 400 ms)"

# A target makes STATUS= report it.
start_target n --name thpt-notify --size 16M
wait_until 5 grep -q "STATUS=1 targets" "$MSGS" || fail "STATUS not current: $(grep STATUS "$MSGS" | tail -n 2)"

: >"$MSGS"
kill -HUP "$THPD_PID"
wait_until 5 has "READY=1" || fail "no READY=1 after reload"
grep -q "RELOADING=1" "$MSGS" || fail "no RELOADING=1"
grep -q "MONOTONIC_USEC=[0-9]" "$MSGS" || fail "no MONOTONIC_USEC with RELOADING=1"
order=$(grep -o -E 'RELOADING=1|READY=1' "$MSGS" | tr '\n' ' ')
[[ $order == "RELOADING=1 READY=1 "* ]] || fail "wrong order around SIGHUP: $order"
note "SIGHUP: $(grep -o -E 'RELOADING=1|MONOTONIC_USEC=[0-9]+|READY=1|STATUS=[^A-Z]*' "$MSGS" | tr '\n' ' ')"

kill -TERM "$THPD_PID"
wait "$THPD_PID" || true
THPD_PID=""
grep -q "STOPPING=1" "$MSGS" || fail "no STOPPING=1"

# Socket activation: thpd serves on the inherited socket.
ACT="$WORK/activated.sock"
systemd-socket-activate -l "$ACT" "$THPD" --foreground --config "$CONF" --socket "$WORK/unused.sock" \
	--log-level debug >>"$LOG" 2>&1 &
THPD_PID=$!
wait_until 5 test -S "$ACT" || fail "systemd-socket-activate did not listen"
reply=$(printf '{"method":"io.thpd.Manager.GetStatus"}\0' | socat -t5 - "UNIX-CONNECT:$ACT" | tr -d '\0')
jq -e '.parameters.version' <<<"$reply" >/dev/null || fail "no answer on the inherited socket: $reply"
grep -q "using the socket passed by systemd" "$LOG" || fail "thpd did not take the inherited socket"
[[ ! -e $WORK/unused.sock ]] || fail "thpd also created its own socket"
note "socket activation: GetStatus answered on the inherited socket"
echo "PASS"
