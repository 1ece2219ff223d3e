#!/bin/bash
# Pid reuse: over 1000 matched processes start and exit while thpd runs, and
# almost all of them get the pid of a process that has just exited (forced
# with /proc/sys/kernel/ns_last_pid: write N-1, fork, check the child got N).
#
# Waves of 80 processes; wave k+1 takes the pids of wave k as soon as those
# are reaped (every other time while thpd is stopped), each pid cycling
# through five kinds of process so that the next process at a pid always
# differs from the last one:
#   ra-dense  comm thpt-fault-ra (policy pa), 8 MiB written: collapsed fully
#   ra-nohuge comm thpt-fault-ra (policy pa), 8 MiB written but
#             MADV_NOHUGEPAGE: nothing to collapse, never huge (same comm and
#             policy as the process before it: the old one's chunks and
#             counters must not show up here; MADV_NOHUGEPAGE rather than
#             sparse memory, so that another test switching THP to "always"
#             for a moment cannot make it huge)
#   rb-dense  comm thpt-fault-rb (policy pb), 4 MiB written: collapsed fully
#   rn        comm thpt-fault-rn, no policy: must not be a target
#   rb-nohuge comm thpt-fault-rb (policy pb), 4 MiB, MADV_NOHUGEPAGE
# After each wave thpd's ListTargets must show exactly the wave's matched
# processes, each with its own comm, policy, huge/collapsed bytes and chunk
# counts (every third wave: still so 0.6 s later), and GetTarget of one
# process of each kind its own per-target counters. A Monitor subscriber records
# every target-added/-removed event: per pid, they must alternate and name
# the processes that had that pid, in order. At the end no target is left,
# targets_added == targets_removed == the number of matched processes, thpd's
# fd count is back at its baseline, and it still answers.
. "$(dirname "$0")/lib.sh"
require_collapse

NS_LAST_PID=/proc/sys/kernel/ns_last_pid
[[ -e $NS_LAST_PID ]] || skip "$NS_LAST_PID missing (kernel without CONFIG_CHECKPOINT_RESTORE)"
last=$(cat "$NS_LAST_PID")
echo "$last" 2>/dev/null >"$NS_LAST_PID" || skip "cannot write $NS_LAST_PID (needs CAP_CHECKPOINT_RESTORE in the pid namespace)"
T0=$((${EPOCHREALTIME//[!0-9]/} * 1000))

WAVE=80         # processes per wave
WANT_MATCHED=1000 # matched processes to reach
KINDS=(ra-dense ra-nohuge rb-dense rn rb-nohuge)
declare -A COMM=([ra-dense]=thpt-fault-ra [ra-nohuge]=thpt-fault-ra [rb-dense]=thpt-fault-rb
	[rn]=thpt-fault-rn [rb-nohuge]=thpt-fault-rb)
declare -A ARGS=([ra-dense]="--size 8M" [ra-nohuge]="--size 8M --mode nohuge"
	[rb-dense]="--size 4M" [rn]="--size 4M" [rb-nohuge]="--size 4M --mode nohuge")

write_config 200ms \
	"  - name: pa" \
	"    match: {comm: [thpt-fault-ra]}" \
	"  - name: pb" \
	"    match: {comm: [thpt-fault-rb]}"
start_thpd

# Every process this test starts, by pid, until it is reaped: only those are
# ever killed (a reaped pid may belong to anyone a moment later).
declare -A LIVE=()
kill_live() {
	local p
	for p in "${!LIVE[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
on_exit kill_live

# A Monitor subscriber for the whole test (socat keeps reading; shut-none: it
# does not half-close after sending the call).
printf '%s\0' '{"method":"io.thpd.Manager.Monitor","more":true}' |
	socat -t 100000 - "UNIX-CONNECT:$SOCK,shut-none" >"$WORK/monitor.raw" 2>/dev/null &
MONPID=$!
CHILD_PIDS+=("$MONPID")
subscribed() { grep -q subscribed "$WORK/monitor.raw" 2>/dev/null; }
wait_until 5 subscribed || fail "Monitor did not subscribe"

# spawn_at PID KIND: start a process of KIND at exactly PID (0: anywhere).
# Sets SPAWNED (0 if PID could not be had after a few tries: another process
# took it or forked in between); a child that got another pid exits before
# it execs, so it never shows up in thpd.
SPAWNED=0
REUSED=0
MISSES=0
spawn_at() {
	local want=$1 kind=$2 p
	# shellcheck disable=SC2086 # ARGS holds several words
	for _ in 1 2 3 4 5; do
		if ((want > 0)); then
			echo $((want - 1)) >"$NS_LAST_PID" || fail "cannot write $NS_LAST_PID"
		fi
		# (An ASan build of thp-target: no leak check at exit, its tracer
		# would be one more process with this comm, at a pid of ours.)
		(
			((want == 0 || BASHPID == want)) || exit 99
			ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
				exec "$THP_TARGET" --name "${COMM[$kind]}" ${ARGS[$kind]} >/dev/null 2>&1
		) &
		p=$!
		LIVE[$p]=1
		if ((want == 0 || p == want)); then
			SPAWNED=$p
			((want > 0)) && REUSED=$((REUSED + 1))
			return 0
		fi
		wait "$p" 2>/dev/null || true
		unset "LIVE[$p]"
		MISSES=$((MISSES + 1))
	done
	SPAWNED=0
	return 0
}

# One wave: slot i gets kind (i + wave) % 5 at the pid of slot i of the last
# wave. EXPECT lists {"pid","kind"} of the wave as JSON.
declare -a SLOT_PID=()
EXPECT=""
N_PROCS=0
N_MATCHED=0
: >"$WORK/spawned"
spawn_wave() {
	local w=$1 i kind pid
	EXPECT=""
	# From the highest pid down: rewinding ns_last_pid sends every fork on
	# the machine into our range too; going down, they land above the pids
	# still wanted.
	local order=()
	mapfile -t order < <(for ((i = 0; i < WAVE; i++)); do echo "${SLOT_PID[$i]:-0} $i"; done |
		sort -k1,1nr | awk '{ print $2 }')
	for i in "${order[@]}"; do
		kind=${KINDS[$(((i + w) % ${#KINDS[@]}))]}
		spawn_at "${SLOT_PID[$i]:-0}" "$kind"
		if ((SPAWNED == 0)); then # the pid is taken: anywhere else
			spawn_at 0 "$kind"
		fi
		pid=$SPAWNED
		SLOT_PID[i]=$pid
		EXPECT+="{\"pid\":$pid,\"kind\":\"$kind\"},"
		N_PROCS=$((N_PROCS + 1))
		[[ $kind == rn ]] || N_MATCHED=$((N_MATCHED + 1))
		echo "$pid $kind ${COMM[$kind]}" >>"$WORK/spawned"
	done
	EXPECT="[${EXPECT%,}]"
}

kill_wave() {
	local i p sig=TERM
	for ((i = 0; i < WAVE; i++)); do
		p=${SLOT_PID[$i]}
		# half by SIGKILL: no exit handler, the pid comes free at once
		((i % 2)) && sig=KILL || sig=TERM
		kill -"$sig" "$p" 2>/dev/null || true
	done
	for ((i = 0; i < WAVE; i++)); do
		p=${SLOT_PID[$i]}
		wait "$p" 2>/dev/null || true
		unset "LIVE[$p]"
	done
}

# wave_problems: what in thpd's ListTargets differs from EXPECT (one line
# each; nothing when all is right).
wave_problems() {
	local lt
	lt=$(vcall io.thpd.Manager.ListTargets) || {
		echo "ListTargets failed"
		return 0
	}
	jq -r --argjson exp "$EXPECT" '
	def want($k):
		{ "ra-dense":  {comm: "thpt-fault-ra", policy: "pa", huge: 8, dense: true},
		  "ra-nohuge": {comm: "thpt-fault-ra", policy: "pa", huge: 0, dense: false},
		  "rb-dense":  {comm: "thpt-fault-rb", policy: "pb", huge: 4, dense: true},
		  "rb-nohuge": {comm: "thpt-fault-rb", policy: "pb", huge: 0, dense: false} } | .[$k];
	(.parameters.targets // error("no targets in reply: \(.)")) as $ts
	| ($ts | map({key: (.pid | tostring), value: .}) | from_entries) as $got
	| ($exp | map(.pid | tostring)) as $pids
	| ( $exp[] | . as $e | $got[$e.pid | tostring] as $g
	    | if $e.kind == "rn" then
	        (if $g then "\($e.pid) (rn, no policy) is a target: \($g | tojson)" else empty end)
	      elif $g == null then "\($e.pid) (\($e.kind)) is not a target"
	      else want($e.kind) as $w
	        | ($g.chunks | add) as $nchunks
	        | if $g.comm != $w.comm or $g.policy != $w.policy then
	            "\($e.pid) (\($e.kind)): comm \($g.comm), policy \($g.policy)"
	          elif $g.state != "active" then "\($e.pid) (\($e.kind)): state \($g.state)"
	          elif $w.dense and ($g.huge_bytes != $w.huge * 1048576 or $g.chunks.huge != $w.huge / 2
	                             or $nchunks != $w.huge / 2 or $g.collapsed_bytes > $w.huge * 1048576) then
	            "\($e.pid) (\($e.kind)): huge \($g.huge_bytes) collapsed \($g.collapsed_bytes) chunks \($g.chunks | tojson)"
	          elif ($w.dense | not) and ($g.huge_bytes != 0 or $g.collapsed_bytes != 0 or $nchunks != 0) then
	            "\($e.pid) (\($e.kind)): state carried over: huge \($g.huge_bytes) collapsed \($g.collapsed_bytes) chunks \($g.chunks | tojson) last_errno \($g.last_errno)"
	          else empty end
	      end ),
	  ( $ts[] | select((.pid | tostring) as $p | $pids | index($p) | not)
	    | "\(.pid) is a target but not of this wave: \(tojson)" )' <<<"$lt"
}
wave_ok() { [[ -z $(wave_problems) ]]; }

# detail_problems: GetTarget of the first process of each matched kind in
# the wave: its own per-target counters only (a nohuge one has never been
# tried), and no chunk of the process that had the pid before.
detail_problems() {
	local kind pid tj
	for kind in ra-nohuge rb-nohuge ra-dense rb-dense; do
		pid=$(jq --arg k "$kind" 'first(.[] | select(.kind == $k) | .pid) // empty' <<<"$EXPECT")
		[[ -n $pid ]] || continue
		tj=$(target_json "$pid")
		if [[ -z $tj ]]; then
			echo "GetTarget $pid ($kind): no such target"
			continue
		fi
		jq -r --arg k "$kind" --argjson pid "$pid" '
		  if .summary.pid != $pid then "GetTarget \($pid): pid \(.summary.pid)"
		  elif .attempts != ([.by_result[]] | add) then "GetTarget \($pid): attempts \(.attempts) != by_result \(.by_result)"
		  elif ($k | endswith("nohuge")) and (.attempts != 0 or (.chunks | length) != 0) then
		    "GetTarget \($pid) (\($k)): state of another process: attempts \(.attempts), chunks \(.chunks | tojson)"
		  elif ($k | endswith("dense")) and ((.chunks | length) != .summary.chunks.huge or .by_result.ok > (.chunks | length)) then
		    "GetTarget \($pid) (\($k)): chunks \(.chunks | map(.state)) ok \(.by_result.ok)"
		  else empty end' <<<"$tj"
	done
}

# fds: the fewest open fds of thpd over 10 samples (the scan worker opens
# /proc files briefly).
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
no_targets() { [[ $(vcall io.thpd.Manager.ListTargets | jq '.parameters.targets | length') -eq 0 ]]; }

# A first wave that may go anywhere (warm-up: allocator arenas, tables).
spawn_wave 0
wait_until 15 wave_ok || fail "first wave: $(wave_problems | head -n 20)"
kill_wave
wait_until 5 no_targets || fail "targets left after the warm-up wave"
FD0=$(fds)
ADDED0=$(counters | jq .targets_added)
MATCHED0=$N_MATCHED
note "fds with the Monitor connected and no target: $FD0"

# The waves proper: each on the pids of the last one. Every other wave is
# killed and replaced while thpd is stopped (SIGSTOP): when it goes on, the
# old processes' exits and the new processes at their pids are all there at
# once (pidfds readable, connector events queued, a /proc walk or a scan
# maybe half done).
w=1
slowest=0
frozen=0
# shellcheck disable=SC2016 # expanded at exit
on_exit 'kill -CONT "$THPD_PID" 2>/dev/null'
while ((N_MATCHED - MATCHED0 < WANT_MATCHED)); do
	spawn_wave "$w"
	if ((frozen)); then
		kill -CONT "$THPD_PID"
		frozen=0
	fi
	t=$((${EPOCHREALTIME//[!0-9]/} * 1000))
	wait_until 15 wave_ok || fail "wave $w: $(wave_problems | head -n 20)"
	ms=$((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t) / 1000000))
	p=$(detail_problems)
	[[ -z $p ]] || fail "wave $w: $p"
	((ms > slowest)) && slowest=$ms
	# Every third wave: still right after a few more scans.
	if ((w % 3 == 0)); then
		sleep 0.6
		p=$(wave_problems)
		[[ -z $p ]] || fail "wave $w changed after it was right: $(head -n 20 <<<"$p")"
	fi
	thpd_alive
	if ((w % 2)); then
		kill -STOP "$THPD_PID"
		frozen=1
	fi
	kill_wave
	w=$((w + 1))
done
((frozen == 0)) || kill -CONT "$THPD_PID"
note "$((w - 1)) waves: $((N_PROCS - WAVE)) processes ($((N_MATCHED - MATCHED0)) matched), $REUSED on the pid of the process before them, $MISSES tries lost the pid to another fork; slowest wave settled in ${slowest} ms"
((REUSED >= (N_PROCS - WAVE) * 9 / 10)) || fail "only $REUSED of $((N_PROCS - WAVE)) processes reused a pid"

wait_until 10 no_targets || fail "targets left: $(vcall io.thpd.Manager.ListTargets | jq -c '[.parameters.targets[] | {pid, comm}]')"
c=$(counters)
added=$(($(jq .targets_added <<<"$c") - ADDED0))
note "counters: $(jq -c '{targets_added, targets_removed, discoveries, attempts, by_result}' <<<"$c")"
[[ $(jq .targets_added <<<"$c") -eq $(jq .targets_removed <<<"$c") ]] || fail "targets_added != targets_removed: $c"
((added == N_MATCHED - MATCHED0)) ||
	fail "$added targets added for $((N_MATCHED - MATCHED0)) matched processes (each must be added exactly once)"
[[ $(jq '[.by_result[]] | add' <<<"$c") -eq $(jq .attempts <<<"$c") ]] || fail "attempts != sum of by_result: $c"

# The Monitor's story, per pid: added/removed alternate and name, in order,
# the matched processes that had that pid.
sleep 0.3
kill -TERM "$MONPID" 2>/dev/null || true
wait "$MONPID" 2>/dev/null || true
forget "$MONPID"
tr '\0' '\n' <"$WORK/monitor.raw" | grep -v '^$' >"$WORK/monitor.log" || true
jq -r 'select(.parameters.type == "target-added" or .parameters.type == "target-removed")
	| .parameters | "\(.pid) \(.type) \(.comm)"' "$WORK/monitor.log" >"$WORK/events" ||
	fail "Monitor output is not JSON: $(head -c 300 "$WORK/monitor.raw")"
problems=$(awk '
	FNR == NR { if ($2 != "rn") { want[$1] = want[$1] " " $3 } ; next }
	{
		pid = $1
		if ($2 == "target-added") {
			if (open[pid]) print pid ": added twice without a removal (" $3 ")"
			open[pid] = 1; got[pid] = got[pid] " " $3
		} else {
			if (!open[pid]) print pid ": removed while not a target"
			else if ($3 != last[pid]) print pid ": removed as " $3 ", added as " last[pid]
			open[pid] = 0
		}
		last[pid] = $3
	}
	END {
		for (p in want) if (want[p] != got[p]) print p ": expected added" want[p] ", got" got[p]
		for (p in got) if (!(p in want)) print p ": events for a pid of no matched process"
		for (p in open) if (open[p]) print p ": never removed"
	}' "$WORK/spawned" "$WORK/events")
[[ -z $problems ]] || fail "Monitor events do not match the processes: $(head -n 20 <<<"$problems")"
note "Monitor: $(grep -c target-added "$WORK/events") target-added / $(grep -c target-removed "$WORK/events") target-removed events, per pid in the order of the processes"

# The Monitor connection is closed now: back to the fds before it.
fd_back() { (($(fds) <= FD0 - 1)); }
wait_until 5 fd_back || fail "thpd has $(fds) fds, $((FD0 - 1)) expected (baseline $FD0 with the Monitor): $(ls -l "/proc/$THPD_PID/fd")"
note "fds at the end: $(fds) (baseline $FD0 with the Monitor connected)"
vcall io.thpd.Manager.GetStatus | jq -e .parameters.version >/dev/null || fail "thpd does not answer"
bad=$(grep -E '^thpd: (warning|error):' "$LOG" || true)
[[ -z $bad ]] || fail "thpd logged warnings or errors: $(head -n 10 <<<"$bad")"
thpd_alive
note "runtime $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - T0) / 1000000000)) s"
echo "PASS"
