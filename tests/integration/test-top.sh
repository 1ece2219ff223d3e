#!/bin/bash
# thpctl top under tmux (a detached 160x40 session of a private tmux server),
# against a real thpd:
# - a 256 MiB target's row shows its huge memory and coverage rising while
#   thpd collapses it (policy max_rate 32MiB: about 8 s), to the figures the
#   daemon and the kernel give at the end, with a collapse rate above 0 and
#   never above twice the policy's rate;
# - keys: s cycles to the pid order, g/j select, p/r pause and resume the
#   selected target, P/R the daemon (checked with thpctl --json);
# - a pause thpd refuses (the target exited) shows thpd's error;
# - a stopped thpd shows as "disconnected, retrying" and its restart as rows;
# - q, Ctrl-C and SIGTERM end top with 0 and leave the terminal as it was
#   (main screen, cursor shown, the shell's stty modes);
# - --batch prints frames without a terminal; without one and without
#   --batch, top says so and exits 2.
# shellcheck disable=SC2016 # $names in single quotes are jq and awk variables
. "$(dirname "$0")/lib.sh"
: "${THPCTL:?THPCTL must point at the thpctl binary}"
require_collapse
command -v tmux >/dev/null || skip "tmux not installed"

RATE_MIB=32
write_config 500ms \
	"  - name: top-slow" \
	"    match: {comm: [thpt-top-slow]}" \
	"    max_rate: ${RATE_MIB}MiB" \
	"  - name: top-fast" \
	"    match: {comm: [thpt-top-fast]}"
start_thpd

# ---- a shell in a tmux pane of fixed size ----
# A private tmux server: its socket in the test's directory (removed with it).
TM_SOCK="$WORK/tmux.sock"
tm() {
	tmux -S "$TM_SOCK" "$@"
}
on_exit "tmux -S $TM_SOCK kill-server 2>/dev/null"
tm -f /dev/null new-session -d -x 160 -y 40 -s top \
	"env PS1='$ ' TERM=xterm-256color bash --norc --noprofile -i" {NAP_FD}<&-
PANE=""
pane() { # PANE: the pane's text now
	PANE=$(tm capture-pane -p -t top)
}
pane_has() { # TEXT: the pane shows TEXT
	pane
	[[ $PANE == *"$1"* ]]
}
flag() { # FORMAT: a tmux format of the pane (alternate_on, cursor_flag)
	tm display -p -t top "#{$1}"
}
shell_line() { # COMMAND: type COMMAND and Enter in the pane's shell
	tm send-keys -t top -l "$1"
	tm send-keys -t top Enter
}
# The terminal modes top changes, as the shell has them, one line with a marker.
MODES_CMD="echo modes-\$((++n)): \$(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig|icrnl|ixon|iexten)' | sort | tr '\\n' ' ')"
N_MODES=0 MODES_NOW=""
modes() { # MODES_NOW: the shell's modes line, typed and read back
	local m
	N_MODES=$((N_MODES + 1))
	shell_line "$MODES_CMD"
	wait_until 5 pane_has "modes-$N_MODES: " || fail "no stty output in the pane: $PANE"
	m=$(grep -E "^modes-$N_MODES: " <<<"$PANE") || fail "no modes-$N_MODES line: $PANE"
	MODES_NOW=${m#*: }
}
modes
MODES=$MODES_NOW
[[ $MODES == *icanon* && $MODES != *-icanon* ]] || fail "the pane's shell is not in cooked mode: $MODES"
note "pane modes before top: $MODES"

# top_run ARGS: start thpctl top in the pane's shell; "top-exit-N=STATUS"
# follows its end (the command line says "top""-exit-N", so it does not match).
N_TOP=0
top_run() {
	N_TOP=$((N_TOP + 1))
	shell_line "$(printf '%q ' "$THPCTL" --socket "$SOCK" top "$@")"'; echo "top""-exit-'"$N_TOP"'=$?"'
	wait_until 5 pane_has ", sort: " || fail "top did not draw: $PANE"
	[[ $(flag alternate_on) == 1 ]] || fail "top is not on the alternate screen"
	[[ $(flag cursor_flag) == 0 ]] || fail "top did not hide the cursor"
}
# top_ended HOW: top exited with 0 and the terminal is as it was before.
top_ended() {
	local line
	wait_until 5 pane_has "top-exit-$N_TOP=" || fail "top did not exit after $1: $PANE"
	line=$(grep -oE "top-exit-$N_TOP=[0-9]+" <<<"$PANE") || fail "no exit status of top after $1: $PANE"
	[[ $line == "top-exit-$N_TOP=0" ]] || fail "top after $1: $line"
	[[ $(flag alternate_on) == 0 ]] || fail "top left the alternate screen on after $1"
	[[ $(flag cursor_flag) == 1 ]] || fail "top left the cursor hidden after $1"
	modes
	[[ $MODES_NOW == "$MODES" ]] || fail "terminal modes after $1: '$MODES_NOW', before top: '$MODES'"
	note "after $1: exit 0, main screen, cursor shown, modes as before"
}

# row PID: from the pane's row of PID, "COVERAGE_TENTHS HUGE_KIB RATE_KIB STATE"
# (RATE_KIB -1 for "-"); nothing if there is no such row. Columns at 160:
# PID COMM POLICY STATE ANON(2 words) HUGE(2 words) [bar] NN.N% RATE(2 words) ERRNO.
row() {
	awk -v pid="$1" '
		function kib(v, u) {
			if (u == "B") return v / 1024
			if (u == "KiB") return v
			if (u == "MiB") return v * 1024
			if (u == "GiB") return v * 1024 * 1024
			return -2
		}
		$1 == pid {
			for (i = 9; i <= NF; i++)
				if ($i ~ /^[0-9]+\.[0-9]%$/)
					break
			if (i > NF)
				next
			pct = $i
			sub(/%/, "", pct)
			if ($(i + 1) == "-") {
				rate = -1
			} else {
				u = $(i + 2)
				sub(/\/s$/, "", u)
				rate = kib($(i + 1), u)
			}
			printf "%d %d %d %s\n", pct * 10 + 0.5, kib($7, $8), rate, $4
		}' <<<"$PANE"
}

top_run --interval 0.5
[[ $PANE == *"Targets: 0"* ]] || fail "top with no targets: $PANE"

# ---- coverage rising while thpd collapses ----
start_target slow --name thpt-top-slow --size 256M
slow=$(ready_get "$READY" pid)
slow_start=$(ready_get "$READY" start)
slow_end=$(ready_get "$READY" end)
# Every 0.25 s: the row's coverage, huge memory and rate, until the daemon
# says the whole area is huge and the row shows the daemon's final figures.
declare -a covs=() huges=() rates=()
final_cov=""
done_yet() {
	local r cov huge rate daemon want
	pane
	r=$(row "$slow")
	if [[ -n $r ]]; then
		read -r cov huge rate _ <<<"$r"
		covs+=("$cov")
		huges+=("$huge")
		rates+=("$rate")
	fi
	daemon=$("$THPCTL" --socket "$SOCK" --json targets)
	want=$(jq -r --argjson p "$slow" '.targets[] | select(.pid == $p and .huge_bytes >= 256 * 1048576)
		| (.huge_bytes * 1000 / .anon_bytes + 0.5) | floor' <<<"$daemon")
	[[ -n $want && -n $r && $cov == "$want" ]] || return 1
	final_cov=$want
}
wait_until 60 done_yet || fail "the row of $slow never showed the daemon's final figures; last pane: $PANE
covs: ${covs[*]}"
n=${#covs[@]}
((n >= 4)) || fail "only $n frames with the target's row: ${covs[*]}"
note "coverage (tenths of %) in the pane, every 0.25 s: ${covs[*]}"
note "huge KiB: ${huges[*]}"
note "rate KiB/s: ${rates[*]}"
# Rising: huge memory never went down, and went from below half the area to all of it.
for ((i = 1; i < n; i++)); do
	((huges[i] >= huges[i - 1])) || fail "HUGE went down in frame $i: ${huges[*]}"
done
((huges[0] < 192 * 1024)) || fail "the first frame showed ${huges[0]} KiB huge already: too late to see it rise"
((huges[n - 1] >= 256 * 1024)) || fail "the last frame shows ${huges[n - 1]} KiB huge, want at least 262144"
# Coverage is huge over all anonymous memory, which can still grow in the
# first frames (a frame is up to 0.5 s old): it rose from frame to frame at
# least 3 times, from well below its end to its end.
ups=0 lowest=${covs[0]}
for ((i = 1; i < n; i++)); do
	((covs[i] > covs[i - 1])) && ups=$((ups + 1))
	((covs[i] < lowest)) && lowest=${covs[i]}
done
((ups >= 3)) || fail "coverage rose only $ups times from frame to frame: ${covs[*]}"
((lowest + 200 <= final_cov)) || fail "coverage was never 20 points below its end ($final_cov): ${covs[*]}"
((covs[n - 1] == final_cov)) || fail "the last frame's coverage ${covs[n - 1]} is not the daemon's $final_cov"
# The kernel agrees that the area is huge.
kb=$(huge_kb_num "$slow" "$slow_start" "$slow_end")
((kb == 256 * 1024)) || fail "smaps: $kb kB huge of the 256 MiB area"
# Rates: thpd collapsed at up to max_rate; a frame's rate is a difference of
# two samples 0.5 s apart, so one job's worth (3.2 MiB) may fall into one.
max_rate=0
for r in "${rates[@]}"; do
	((r > max_rate)) && max_rate=$r
done
((max_rate > 0)) || fail "no frame showed a collapse rate above 0: ${rates[*]}"
((max_rate <= 2 * RATE_MIB * 1024)) || fail "a frame showed $max_rate KiB/s, over twice max_rate ${RATE_MIB}MiB"
note "coverage rose to $((final_cov / 10)).$((final_cov % 10))% (the daemon's huge/anon), fastest frame $((max_rate / 1024)) MiB/s"

# ---- keys: sort, select, pause, resume ----
start_target fast --name thpt-top-fast --size 16M
fast=$(ready_get "$READY" pid)
wait_until 10 eval 'pane; [[ -n $(row "$fast") ]]' || fail "the second target's row did not show: $PANE"
tm send-keys -t top s s s
wait_until 5 pane_has "sort: pid" || fail "s s s did not sort by pid: $PANE"
lo=$((slow < fast ? slow : fast)) hi=$((slow < fast ? fast : slow))
order=$(awk -v a="$lo" -v b="$hi" '$1 == a || $1 == b { printf "%s ", $1 }' <<<"$PANE")
[[ $order == "$lo $hi " ]] || fail "rows in pid order: '$order', want '$lo $hi '"
# g: the first row; j: the next one, the higher pid.
tm send-keys -t top g j p
wait_until 5 pane_has "Paused collapsing of pid $hi." || fail "p on the second row: $PANE"
state_is() { # PID STATE: thpctl --json targets says so
	local j
	j=$("$THPCTL" --socket "$SOCK" --json targets)
	jq -e --argjson p "$1" --arg s "$2" '.targets[] | select(.pid == $p) | .state == $s' <<<"$j" >/dev/null
}
state_is "$hi" paused || fail "pid $hi not paused after p"
state_is "$lo" active || fail "pid $lo paused too"
wait_until 5 eval '[[ $(pane; row "$hi") == *" paused" ]]' || fail "the row of $hi does not say paused: $PANE"
tm send-keys -t top r
wait_until 5 pane_has "Resumed collapsing of pid $hi." || fail "r: $PANE"
state_is "$hi" active || fail "pid $hi not resumed after r"
daemon_paused() {
	local j
	j=$("$THPCTL" --socket "$SOCK" --json status)
	jq -e '.pauses | any(.reason == "operator")' <<<"$j" >/dev/null
}
tm send-keys -t top P
wait_until 5 pane_has "Collapsing: PAUSED (operator)" || fail "P: $PANE"
daemon_paused || fail "thpd not paused after P"
tm send-keys -t top R
wait_until 5 pane_has "Resumed collapsing." || fail "R: $PANE"
! daemon_paused || fail "thpd still paused after R"
wait_until 5 pane_has "Collapsing: on" || fail "the header still says paused: $PANE"
note "keys: s s s sorted by pid, g j p paused $hi only, r, P and R worked"

# ---- thpd goes away and comes back ----
stop_thpd
wait_until 5 pane_has "disconnected, retrying every 500 ms: thpd is not running (no socket at $SOCK)" ||
	fail "a stopped thpd does not show as disconnected: $PANE"
[[ -z $(row "$slow") ]] || fail "rows still shown while disconnected: $PANE"
start_thpd
wait_until 10 eval 'pane; [[ -n $(row "$slow") && -n $(row "$fast") ]]' ||
	fail "rows not back after thpd restarted: $PANE"
[[ $PANE != *disconnected* ]] || fail "still says disconnected: $PANE"
note "stopped thpd: 'disconnected, retrying'; restarted: rows back"

tm send-keys -t top q
top_ended q

# ---- a pause thpd refuses: the target exited since the last refresh ----
top_run --interval 60 --sort pid
wait_until 5 eval 'pane; [[ -n $(row "$fast") ]]' || fail "no row of $fast: $PANE"
# Select the fast target's row (pid order: lo first).
if ((fast == lo)); then tm send-keys -t top g; else tm send-keys -t top G; fi
kill -KILL "$fast"
{ wait "$fast"; } 2>/dev/null || true # (bash would say "Killed")
gone() {
	local j
	j=$("$THPCTL" --socket "$SOCK" --json targets)
	jq -e --argjson p "$fast" 'all(.targets[]; .pid != $p)' <<<"$j" >/dev/null
}
wait_until 5 gone || fail "thpd still lists the killed target $fast"
pane
[[ -n $(row "$fast") ]] || fail "top refreshed before its 60 s interval: $PANE"
tm send-keys -t top p
wait_until 5 pane_has "no target with pid $fast" || fail "the refused pause shows no error: $PANE"
wait_until 5 eval 'pane; [[ -z $(row "$fast") ]]' || fail "the gone target's row stays after the refresh: $PANE"
note "refused pause: 'no target with pid $fast' in the last line"
tm send-keys -t top C-c
top_ended Ctrl-C

# ---- SIGTERM ----
top_run --interval 0.5
shell_pid=$(tm display -p -t top '#{pane_pid}')
top_pid=$(ps -o pid= --ppid "$shell_pid" | tr -d ' ')
is_num "$top_pid" || fail "no top process under the pane's shell $shell_pid: '$top_pid'"
[[ $(cat "/proc/$top_pid/comm") == thpctl ]] || fail "pid $top_pid is $(cat "/proc/$top_pid/comm"), not thpctl"
kill -TERM "$top_pid"
top_ended SIGTERM

# ---- without a terminal ----
rc=0
"$THPCTL" --socket "$SOCK" top --batch --iterations 2 --interval 0.5 >"$WORK/batch" 2>"$WORK/batch.err" || rc=$?
((rc == 0)) || fail "top --batch: exit $rc: $(cat "$WORK/batch.err")"
batch=$(cat "$WORK/batch")
[[ $batch != *$'\033'* ]] || fail "--batch into a file wrote escape sequences"
frames=$(grep -c '^thpd .*; every 500 ms, sort: activity' <<<"$batch") || true
[[ $frames == 2 ]] || fail "--batch --iterations 2 printed $frames frames: $batch"
PANE=$batch
r=$(row "$slow" | tail -n 1)
[[ -n $r ]] || fail "--batch frame without the target's row: $batch"
read -r cov huge rate _ <<<"$r"
((huge >= 256 * 1024 && rate == 0)) || fail "--batch's second frame: row '$r', want 256 MiB huge or more at 0 B/s"
rc=0
"$THPCTL" --socket "$SOCK" top </dev/null >"$WORK/notty" 2>&1 || rc=$?
((rc == 2)) || fail "top without a terminal: exit $rc, want 2"
grep -q "top needs a terminal" "$WORK/notty" || fail "top without a terminal says: $(cat "$WORK/notty")"
note "--batch: 2 plain frames; no terminal: exit 2"

thpd_alive
echo "PASS"
