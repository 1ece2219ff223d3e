#!/bin/bash
# thpd under valgrind memcheck: zero errors and zero leaks through start-up,
# every Varlink method, malformed messages, a monitor stream, good and bad
# reloads (method and SIGHUP), pause/resume and a SIGTERM stop.
# valgrind 3.19 (Debian 12) lacks pidfd_open and process_madvise, so the
# policy matches no process here; target paths are covered by ASan+LSan.
THPD_VALGRIND=1
. "$(dirname "$0")/lib.sh"
require_root
command -v valgrind >/dev/null || skip "valgrind not installed"
[[ $(ldd "$THPD") =~ lib[at]san ]] &&
	skip "sanitizer build: valgrind cannot run an ASan/TSan binary (the plain build runs this test)"
command -v socat >/dev/null || skip "socat not installed"
command -v jq >/dev/null || skip "jq not installed"

write_config 200ms \
	"  - name: nothing" \
	"    match: {comm: [thpt-vg-none]}"
start_thpd
call() { vcall "$@" | jq -c .; }
# raw FORMAT: printf expands the \0 terminators (bash strings cannot hold NUL).
raw() { printf "$1" | socat -t5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n'; }

# Monitor stream in the background for the whole run.
# (The feeder's sleep keeps the connection open; it is killed by pid at the end.)
(
	printf '{"method":"io.thpd.Manager.Monitor","more":true}\0'
	sleep 60 &
	echo $! >"$WORK/feeder.pid"
	wait
) | socat -t65 - "UNIX-CONNECT:$SOCK" >"$WORK/monitor.txt" &
MON=$!
CHILD_PIDS+=($MON)
wait_until 5 test -s "$WORK/feeder.pid" || fail "monitor feeder did not start"
CHILD_PIDS+=("$(cat "$WORK/feeder.pid")")
wait_until 10 grep -aq subscribed "$WORK/monitor.txt" || fail "monitor did not subscribe"

for m in org.varlink.service.GetInfo io.thpd.Manager.GetStatus io.thpd.Manager.ListTargets \
	io.thpd.Manager.GetCounters io.thpd.Manager.GetPolicy io.thpd.Manager.Pause \
	io.thpd.Manager.Resume io.thpd.Manager.Reload; do
	r=$(call "$m")
	[[ $(jq -r 'has("parameters")' <<<"$r") == true && $(jq -r 'has("error")' <<<"$r") == false ]] ||
		fail "$m: $r"
done
[[ $(call org.varlink.service.GetInterfaceDescription '{"interface":"io.thpd.Manager"}' |
	jq -r '.parameters.description | startswith("#")') == true ]] || fail "GetInterfaceDescription"
[[ $(call io.thpd.Manager.GetTarget '{"pid":1}' | jq -r .error) == io.thpd.Manager.NoSuchTarget ]] ||
	fail "GetTarget of a non-target"
[[ $(call io.thpd.Manager.Collapse '{"pid":1,"start":0,"end":4096}' | jq -r .error) == io.thpd.Manager.NoSuchTarget ]] ||
	fail "Collapse of a non-target"
[[ $(call io.thpd.Manager.GetStatus '{"bogus":1}' | jq -r .parameters.parameter) == bogus ]] ||
	fail "unknown field"
[[ $(call io.thpd.Manager.Nope | jq -r .error) == org.varlink.service.MethodNotFound ]] ||
	fail "unknown method"
[[ $(raw '{"method": 12}\0') == *InvalidParameter* ]] || fail "wrong type"
raw 'not json at all\0' >/dev/null || true
raw '[1,2,3]\0' >/dev/null || true
head -c 1048576 /dev/zero | tr '\0' 'x' | socat -t5 - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 || true
raw '{"method":"io.thpd.Manager.GetStatus","oneway":true}\0{"method":"io.thpd.Manager.GetStatus"}\0' |
	grep -q version || fail "oneway + pipelined"

# Reloads: good and bad, by method and by signal.
cp "$CONF" "$WORK/good.yaml"
printf 'daemon:\n  scan_interval: fast\n' >"$CONF"
[[ $(call io.thpd.Manager.Reload | jq -r .error) == io.thpd.Manager.ReloadFailed ]] || fail "bad reload"
kill -HUP "$THPD_PID"
cp "$WORK/good.yaml" "$CONF.new" && mv "$CONF.new" "$CONF" # atomic: never half a file
kill -HUP "$THPD_PID"
wait_until 5 test "$(counters | jq '.reloads + .reload_failures')" -ge 3 || fail "reloads not counted"
sleep 1 # a few ticks: discovery walks /proc under valgrind too

stop_thpd
kill "$MON" "$(cat "$WORK/feeder.pid")" 2>/dev/null || true
grep -aq '"type":"pause"' "$WORK/monitor.txt" || fail "monitor saw no pause event"
grep -aq '"type":"reload"' "$WORK/monitor.txt" || fail "monitor saw no reload event"
ls "$WORK"/valgrind.*.log >/dev/null 2>&1 || fail "valgrind did not run"
for vg in "$WORK"/valgrind.*.log; do
	[[ -s $vg ]] && fail "valgrind findings: $(head -50 "$vg")"
done
note "valgrind memcheck: no errors, no definite or indirect leaks"
echo "PASS"
