#!/bin/bash
# /proc entries that vanish between open and read: for 15 s, bursts of
# short-lived processes that thpd's policy matches (comm thpt-fault-van,
# min_anon 0), each exiting 0-20 ms after it has set its name and written
# its 2 MiB. thpd hears of them through the proc connector (exec, comm) and
# its /proc walks, and mostly finds them gone halfway through reading their
# stat, status, exe, cgroup, maps or smaps; some become targets and exit
# during a scan or a collapse. A long-lived matched process runs alongside
# and must be collapsed all the same.
#
# Checked: thpd survives, answers every 0.5 s within 2 s throughout, logs no
# more than a handful of warnings or errors, and afterwards has no target
# left but the long-lived one, targets_added == targets_removed (+1 for it),
# attempts == sum of by_result, and as many fds as before.
. "$(dirname "$0")/lib.sh"
require_collapse
T0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
SECONDS_STORM=15
BURST=16   # processes started together
SPAWNERS=2 # bursts in parallel

write_config 200ms \
	"  - name: vanish" \
	"    match: {comm: [thpt-fault-van], min_anon: 0}" \
	"  - name: stays" \
	"    match: {comm: [thpt-fault-vst]}"
start_thpd

fds() {
	local i n min=1000000
	for i in $(seq 1 10); do
		n=$(find "/proc/$THPD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		((n < min)) && min=$n
		sleep 0.03
	done
	echo "$min"
}
# forget PID...: reaped, so no longer to be killed at exit (the pid may be
# someone else's by then).
forget() {
	local p q keep=()
	for q in "${CHILD_PIDS[@]}"; do
		for p; do [[ $q == "$p" ]] && continue 2; done
		keep+=("$q")
	done
	CHILD_PIDS=("${keep[@]}")
}
# (An error reply or none is not "no targets": .targets must be an array.)
no_targets() { vcall io.thpd.Manager.ListTargets | jq -e '.parameters.targets | arrays | length == 0' >/dev/null; }

# Warm-up: one burst, so that allocator arenas and tables have grown.
for i in $(seq 1 $BURST); do
	"$THP_TARGET" --name thpt-fault-van --size 2M --exit-after 300 >/dev/null 2>&1 &
	CHILD_PIDS+=($!)
done
warm=("${CHILD_PIDS[@]}")
wait "${warm[@]}"
forget "${warm[@]}"
wait_until 5 no_targets || fail "targets left after the warm-up"
FD0=$(fds)
c0=$(counters)
note "baseline: $FD0 fds; warm-up burst: $(jq .targets_added <<<"$c0") of $BURST became targets"

# spawner N: bursts of BURST processes until the time is up and it has
# started its share of 500 (a slow machine, e.g. an ASan build, takes longer
# rather than making a smaller storm; at most 3x the time); each burst is
# reaped before the next. Writes the count to $WORK/spawner.N. Its children
# exit on their own within 20 ms.
spawner() {
	local n=$1 start count=0 i pids share=$(((500 + SPAWNERS - 1) / SPAWNERS))
	start=$(date +%s)
	while (($(date +%s) < start + SECONDS_STORM || (count < share && $(date +%s) < start + 3 * SECONDS_STORM))); do
		pids=()
		for ((i = 0; i < BURST; i++)); do
			"$THP_TARGET" --name thpt-fault-van --size 2M --exit-after $((RANDOM % 21)) \
				>/dev/null 2>&1 &
			pids+=($!)
		done
		wait "${pids[@]}" 2>/dev/null || true
		count=$((count + BURST))
	done
	echo "$count" >"$WORK/spawner.$n"
}
SPAWNER_PIDS=()
storm_t0=$SECONDS
for n in $(seq 1 $SPAWNERS); do
	spawner "$n" &
	SPAWNER_PIDS+=($!)
done
CHILD_PIDS+=("${SPAWNER_PIDS[@]}")

# A long-lived target next to them.
start_target stays --name thpt-fault-vst --size 256M
S=$READY
spid=$(ready_get "$S" pid)

# Health checks while the spawners run.
checks=0
max_ms=0
while (($(find "$WORK" -maxdepth 1 -name 'spawner.*' | wc -l) < SPAWNERS)); do
	thpd_alive
	t=$((${EPOCHREALTIME//[!0-9]/} * 1000))
	r=$(vcall io.thpd.Manager.GetStatus)
	ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t) / 1000000))
	jq -e .parameters.version >/dev/null <<<"$r" || fail "no GetStatus answer during the storm: $r"
	((ms < 2000)) || fail "GetStatus took $ms ms during the storm"
	((ms > max_ms)) && max_ms=$ms
	checks=$((checks + 1))
	((checks < 6 * SECONDS_STORM + 40)) || fail "the spawners did not finish"
	sleep 0.5
done
wait "${SPAWNER_PIDS[@]}"
forget "${SPAWNER_PIDS[@]}"
spawned=$(cat "$WORK"/spawner.* | awk '{ s += $1 } END { print s }')
c=$(counters)
note "$spawned processes in $((SECONDS - storm_t0)) s ($SPAWNERS spawners, bursts of $BURST); GetStatus: $checks checks, slowest ${max_ms} ms"
note "targets added $(($(jq .targets_added <<<"$c") - $(jq .targets_added <<<"$c0"))), discoveries $(($(jq .discoveries <<<"$c") - $(jq .discoveries <<<"$c0"))), scans $(($(jq .scans <<<"$c") - $(jq .scans <<<"$c0"))), collapse attempts $(($(jq .attempts <<<"$c") - $(jq .attempts <<<"$c0"))): $(jq -c .by_result <<<"$c")"
((spawned >= 500)) || fail "only $spawned processes were started (machine too slow?)"

# The long-lived one is collapsed; nothing else is left.
stays_done() { (($(huge_kb "$spid" "$(ready_get "$S" start)" "$(ready_get "$S" end)") >= 256 * 1024 * 95 / 100)); }
wait_until 10 stays_done || fail "the long-lived target: $(target_json "$spid" | jq -c .summary)"
only_stays() { [[ $(vcall io.thpd.Manager.ListTargets | jq -c '[.parameters.targets[].pid]') == "[$spid]" ]]; }
wait_until 10 only_stays || fail "targets left: $(vcall io.thpd.Manager.ListTargets | jq -c '[.parameters.targets[] | {pid, comm}]')"
c=$(counters)
[[ $(jq .targets_added <<<"$c") -eq $(($(jq .targets_removed <<<"$c") + 1)) ]] ||
	fail "targets_added != targets_removed + 1 (the long-lived one): $c"
[[ $(jq '[.by_result[]] | add' <<<"$c") -eq $(jq .attempts <<<"$c") ]] || fail "attempts != sum of by_result: $c"

# Log: a vanished process is routine, not a warning.
bad=$(grep -cE '^thpd: (warning|error):' "$LOG" || true)
note "thpd log: $(wc -l <"$LOG") lines, $bad at warning or error level"
if ((bad > 5)); then
	grep -E '^thpd: (warning|error):' "$LOG" | sort | uniq -c | sort -rn | head -n 10 >&2
	fail "$bad warnings/errors in thpd's log"
fi

kill -TERM "$spid"
wait "$spid" 2>/dev/null || true
forget "$spid"
wait_until 5 no_targets || fail "the long-lived target was not removed"
fd_back() { (($(fds) <= FD0)); }
wait_until 5 fd_back || fail "thpd has $(fds) fds, $FD0 before: $(ls -l "/proc/$THPD_PID/fd")"
note "fds: $FD0 before, $(fds) after"
vcall io.thpd.Manager.GetStatus | jq -e .parameters.version >/dev/null || fail "thpd does not answer"
thpd_alive
note "runtime $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - T0) / 1000000000)) s"
echo "PASS"
