#!/bin/bash
# Authorization by peer credentials, with two real unprivileged users (A and
# B, created here) each running a target next to root's own. User A sees only
# its own target (another user's target is a NoSuchTarget, like a pid that is
# no target at all), may not steer B's, may not pause the daemon, reload or
# read the counters, gets Monitor events only of its own processes (and the
# global ones), and may collapse, pause and resume its own target. A user in
# group "thpd" (supplementary, primary, or through /etc/group) sees and
# steers everything.
. "$(dirname "$0")/lib.sh"
require_collapse
# A tag of this run in the comm names: two runs at once (of this test too)
# do not adopt each other's targets.
TAG=$(printf '%03x' $(($$ % 4096)))
for c in useradd userdel groupadd groupdel usermod setpriv; do
	command -v "$c" >/dev/null || skip "$c not installed"
done
# jqe ARGS...: jq -e on stdin, false on empty input (jq -e says true then).
jqe() {
	local in
	in=$(cat)
	[[ -n $in ]] && jq -e "$@" <<<"$in" >/dev/null
}

UA="thpdta$$"
UB="thpdtb$$"
declare -a USER_PIDS=()
GROUP_CREATED=0
# Processes of the test users go first (userdel refuses while they run).
users_cleanup() {
	local pid u
	exec 3>&- 4>&- 2>/dev/null || true
	for pid in "${USER_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for _ in $(seq 1 40); do
		local alive=0
		for pid in "${USER_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.05
	done
	for pid in "${USER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	sleep 0.1
	for u in "$UA" "$UB"; do
		if getent passwd "$u" >/dev/null; then
			userdel "$u" || echo "cannot delete user $u" >&2
		fi
	done
	if ((GROUP_CREATED)) && getent group thpd >/dev/null; then
		groupdel thpd || echo "cannot delete group thpd" >&2
	fi
}
on_exit users_cleanup

# Group thpd before thpd starts: the daemon looks it up once.
if ! getent group thpd >/dev/null; then
	if groupadd --system thpd 2>/dev/null; then
		GROUP_CREATED=1
	else
		getent group thpd >/dev/null || fail "cannot create group thpd"
	fi
fi
useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "$UA" ||
	fail "cannot create user $UA"
useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "$UB" ||
	fail "cannot create user $UB"
# By number from here on: a concurrent run may delete the name.
THPD_GID=$(getent group thpd | cut -d: -f3)
uid_a=$(id -u "$UA")
uid_b=$(id -u "$UB")
note "users $UA ($uid_a), $UB ($uid_b); group thpd $THPD_GID$( ((GROUP_CREATED)) && echo ' (created)')"
chmod 755 "$WORK"
for u in "$UA" "$UB"; do
	mkdir "$WORK/home-$u"
	chown "$u:" "$WORK/home-$u"
done

# Rate-limited: targets keep chunks to collapse for a while.
write_config 1s \
	"  - name: users" \
	"    match: {comm: [\"thpt-user-$TAG*\"]}" \
	"    max_rate: 8MiB"
start_thpd

# run_as USER GROUPS CMD...: run CMD as USER; GROUPS is a setpriv option for the
# supplementary groups (--clear-groups, --init-groups, --groups=thpd).
run_as() {
	local user=$1 groups=$2
	shift 2
	setpriv --reuid="$user" --regid="$user" "$groups" "$@"
}
# vas USER GROUPS METHOD [PARAMS]: one Varlink call as USER (socat, raw JSON).
vas() {
	local user=$1 groups=$2 method=$3 params=${4:-"{}"}
	jq -cn --arg m "$method" --argjson p "$params" '{method: $m, parameters: $p}' | tr '\n' '\0' |
		run_as "$user" "$groups" socat -t5 -T5 - "UNIX-CONNECT:$SOCK" | tr -d '\0'
}
va() { vas "$UA" --clear-groups "$@"; }
# expect_error REPLY ERROR
expect_error() {
	[[ $(jq -r '.error // empty' <<<"$1") == "$2" ]] || fail "expected $2, got: '$1'"
}
expect_ok() {
	jqe 'has("parameters") and (has("error") | not)' <<<"$1" || fail "expected success, got: '$1'"
}
# start_target_as USER NAME ARGS...: thp-target (TARGET_BIN if set) as USER;
# sets READY.
start_target_as() {
	local user=$1 name=$2
	shift 2
	local ready="$WORK/home-$user/$name.ready" pid
	# setpriv itself (not a function: a subshell) so that $! is the target.
	setpriv --reuid="$user" --regid="$user" --clear-groups "${TARGET_BIN:-$THP_TARGET}" --ready-file "$ready" "$@" \
		>"$WORK/$name.out" 2>&1 &
	pid=$!
	CHILD_PIDS+=("$pid")
	USER_PIDS+=("$pid")
	wait_until 10 test -f "$ready" || fail "thp-target $name (as $user) not ready: $(cat "$WORK/$name.out")"
	[[ $(ready_get "$ready" pid) == "$pid" ]] || fail "thp-target $name: pid $pid, ready file says $(cat "$ready")"
	READY=$ready
}
is_target() { [[ -n $(target_json "$1") ]]; }
state() { target_json "$1" | jq -r .summary.state; }
M=io.thpd.Manager

start_target_as "$UA" a --name "thpt-user-${TAG}a" --size 64M
apid=$(ready_get "$READY" pid)
start_target_as "$UB" b --name "thpt-user-${TAG}b" --size 64M
bpid=$(ready_get "$READY" pid)
start_target r --name "thpt-user-${TAG}r" --size 64M
rpid=$(ready_get "$READY" pid)
for p in "$apid" "$bpid" "$rpid"; do
	wait_until 10 is_target "$p" || fail "process $p never became a target"
done
[[ $(target_json "$apid" | jq .summary.uid) == "$uid_a" ]] || fail "A's target uid: $(target_json "$apid" | jq -c .summary)"
[[ $(target_json "$bpid" | jq .summary.uid) == "$uid_b" ]] || fail "B's target uid"
note "targets: A $apid, B $bpid, root $rpid"

# ---- what user A sees ---------------------------------------------------------
r=$(va $M.ListTargets)
[[ $(jq -c '[.parameters.targets[].pid]' <<<"$r") == "[$apid]" ]] || fail "A's ListTargets: $r"
jqe --arg u "$uid_a" --arg c "thpt-user-${TAG}a" '.parameters.targets[0] | .uid == ($u | tonumber) and .comm == $c' <<<"$r" ||
	fail "A's ListTargets entry: $r"
r=$(va $M.GetTarget "{\"pid\": $apid}")
jqe ".parameters.target.summary.pid == $apid" <<<"$r" || fail "A's GetTarget of its own target: $r"
# Another user's target and root's look exactly like a pid that is no target.
nontarget=$(va $M.GetTarget "{\"pid\": $$}")
expect_error "$nontarget" $M.NoSuchTarget
for p in "$bpid" "$rpid"; do
	r=$(va $M.GetTarget "{\"pid\": $p}")
	expect_error "$r" $M.NoSuchTarget
	[[ $(jq -c '.parameters.pid = 0' <<<"$r") == "$(jq -c '.parameters.pid = 0' <<<"$nontarget")" ]] ||
		fail "GetTarget($p) as A differs from a non-target: '$r' vs '$nontarget'"
	[[ $(jq .parameters.pid <<<"$r") == "$p" ]] || fail "NoSuchTarget pid: $r"
done
# thpctl as A agrees.
out=$(run_as "$UA" --clear-groups "$THPCTL" --socket "$SOCK" --json targets) || fail "thpctl targets as A: $out"
[[ $(jq -c '[.targets[].pid]' <<<"$out") == "[$apid]" ]] || fail "thpctl --json targets as A: $out"
if run_as "$UA" --clear-groups "$THPCTL" --socket "$SOCK" show "$bpid" >"$WORK/show.out" 2>&1; then
	fail "thpctl show of B's target as A succeeded: $(cat "$WORK/show.out")"
fi
grep -q "no target with pid $bpid" "$WORK/show.out" || fail "thpctl show of B's target as A: $(cat "$WORK/show.out")"
if run_as "$UA" --clear-groups "$THPCTL" --socket "$SOCK" counters >"$WORK/counters.out" 2>&1; then
	fail "thpctl counters as A succeeded: $(cat "$WORK/counters.out")"
fi
grep -q "permission denied" "$WORK/counters.out" || fail "thpctl counters as A: $(cat "$WORK/counters.out")"

# ---- what user A may not do ----------------------------------------------------
for m in Collapse Pause Resume; do
	for p in "$bpid" "$rpid"; do
		r=$(va $M.$m "{\"pid\": $p}")
		expect_error "$r" $M.NoSuchTarget
	done
done
[[ $(state "$bpid") == active && $(state "$rpid") == active ]] ||
	fail "A's calls changed other targets: B $(state "$bpid"), root $(state "$rpid")"
for c in "Pause {}" "Resume {}" "Pause {\"pid\":null}" "Resume {\"pid\":null}" "Reload {}" "GetCounters {}"; do
	read -r m params <<<"$c"
	r=$(va "$M.$m" "$params")
	expect_error "$r" org.varlink.service.PermissionDenied
done
n=$(jnum '.parameters.pauses | arrays | length' "$(vcall $M.GetStatus)")
((n == 0)) || fail "A's denied Pause paused the daemon"
n=$(jnum .parameters.config_generation "$(vcall $M.GetStatus)")
((n == 1)) || fail "A's denied Reload reloaded"
r=$(va $M.GetStatus)
expect_ok "$r"
# A counts only its own target (root's and B's are not A's business).
jqe '.parameters | has("version") and has("pauses") and (.targets == 1)' <<<"$r" || fail "A's GetStatus: $r"
expect_ok "$(va org.varlink.service.GetInfo)"
expect_ok "$(va $M.GetPolicy)"

# ---- Monitors: A (unprivileged) and B (in group thpd) --------------------------
mkfifo "$WORK/mon-a.in" "$WORK/mon-b.in"
setpriv --reuid="$UA" --regid="$UA" --clear-groups socat -T120 - "UNIX-CONNECT:$SOCK" <"$WORK/mon-a.in" >"$WORK/mon-a.raw" 2>&1 &
USER_PIDS+=("$!")
CHILD_PIDS+=("$!")
exec 3>"$WORK/mon-a.in"
setpriv --reuid="$UB" --regid="$UB" --groups="$THPD_GID" socat -T120 - "UNIX-CONNECT:$SOCK" <"$WORK/mon-b.in" >"$WORK/mon-b.raw" 2>&1 &
USER_PIDS+=("$!")
CHILD_PIDS+=("$!")
exec 4>"$WORK/mon-b.in"
printf '%s\0' "{\"method\":\"$M.Monitor\",\"more\":true}" >&3
printf '%s\0' "{\"method\":\"$M.Monitor\",\"more\":true}" >&4
events() { tr '\0' '\n' <"$WORK/mon-$1.raw"; }
has_event() { events "$1" | jqe -s "any(.[]; $2)"; }
wait_until 5 has_event a '.parameters.type == "subscribed"' || fail "A's Monitor: $(events a)"
wait_until 5 has_event b '.parameters.type == "subscribed"' || fail "B's Monitor: $(events b)"

# Targets come and go, of B and of A; root pauses B's, A's and the daemon.
start_target_as "$UB" b2 --name "thpt-user-${TAG}b2" --size 8M
b2pid=$(ready_get "$READY" pid)
start_target_as "$UA" a2 --name "thpt-user-${TAG}a2" --size 8M
a2pid=$(ready_get "$READY" pid)
wait_until 10 is_target "$b2pid" || fail "B's second target never became a target"
wait_until 10 is_target "$a2pid" || fail "A's second target never became a target"
r=$(va $M.ListTargets)
[[ $(jq -c '[.parameters.targets[].pid] | sort' <<<"$r") == "$(jq -cn "[$apid, $a2pid] | sort")" ]] ||
	fail "A's ListTargets with two targets: $r"
vcall $M.Pause "{\"pid\": $bpid}" >/dev/null
vcall $M.Resume "{\"pid\": $bpid}" >/dev/null
vcall $M.Pause "{\"pid\": $a2pid}" >/dev/null
vcall $M.Pause >/dev/null
vcall $M.Resume >/dev/null
kill -TERM "$b2pid" "$a2pid"
wait_until 10 has_event a ".parameters.type == \"target-removed\" and .parameters.pid == $a2pid" ||
	fail "A's Monitor: no target-removed for its $a2pid: $(events a)"
wait_until 10 has_event b ".parameters.type == \"target-removed\" and .parameters.pid == $b2pid" ||
	fail "B's Monitor: no target-removed for $b2pid: $(events b)"
sleep 1
# A saw its own events and the global ones, nothing of B or root.
has_event a ".parameters.type == \"target-added\" and .parameters.pid == $a2pid" || fail "A's Monitor: no target-added for $a2pid"
has_event a ".parameters.type == \"pause\" and .parameters.pid == $a2pid" || fail "A's Monitor: no pause of $a2pid"
has_event a '.parameters.type == "pause" and (.parameters | has("pid") | not)' || fail "A's Monitor: no global pause"
has_event a '.parameters.type == "resume" and (.parameters | has("pid") | not)' || fail "A's Monitor: no global resume"
# Foreign by comm, not pid: a process of A's may have another pid with A's
# comm (an ASan-built thp-target's leak checker clones a tracer task at exit).
foreign=$(events a | jq -c --argjson own "[\"thpt-user-${TAG}a\", \"thpt-user-${TAG}a2\"]" 'select(.parameters | has("pid")) | select(.parameters.comm as $c | $own | index($c) | not)')
[[ -z $foreign ]] || fail "A's Monitor got events of other users' processes: $foreign"
events a | jqe -s 'all(.[]; .continues == true and (has("error") | not))' || fail "A's Monitor: $(events a)"
# B (group thpd) saw everyone's.
for p in "$a2pid" "$b2pid"; do
	has_event b ".parameters.type == \"target-added\" and .parameters.pid == $p" || fail "B's Monitor: no target-added for $p"
done
has_event b ".parameters.type == \"pause\" and .parameters.pid == $bpid" || fail "B's Monitor: no pause of $bpid"
note "A's Monitor: $(events a | jq -r '.parameters | "\(.type)\(if .pid then "(\(.pid))" else "" end)"' | sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}')"
note "B's Monitor (group thpd): $(events b | grep -c .) events, pids $(events b | jq -s -c '[.[].parameters.pid // empty] | unique')"

# ---- A steers its own target ---------------------------------------------------
r=$(va $M.Collapse "{\"pid\": $apid}")
expect_ok "$r"
n=$(jq .parameters.chunks <<<"$r")
note "A's Collapse of its own target: $n chunks due"
r=$(va $M.Pause "{\"pid\": $apid}")
expect_ok "$r"
[[ $(state "$apid") == paused ]] || fail "A paused its target: state $(state "$apid")"
[[ $(va $M.GetTarget "{\"pid\": $apid}" | jq -r .parameters.target.summary.state) == paused ]] ||
	fail "A's view of its paused target"
r=$(va $M.Collapse "{\"pid\": $apid}")
expect_error "$r" $M.TargetNotActive
[[ $(jq -r .parameters.state <<<"$r") == paused ]] || fail "A's Collapse while paused: $r"
r=$(va $M.Resume "{\"pid\": $apid}")
expect_ok "$r"
[[ $(state "$apid") == active ]] || fail "A resumed its target: state $(state "$apid")"
a_huge() { (($(target_json "$apid" | jq .summary.huge_bytes) > 0)); }
wait_until 15 a_huge || fail "A's target never got a huge page: $(target_json "$apid" | jq -c .summary)"
[[ $(state "$bpid") == active ]] || fail "B's target: $(state "$bpid")"

# ---- B without group thpd: only its own -------------------------------------------
r=$(vas "$UB" --clear-groups $M.ListTargets)
[[ $(jq -c '[.parameters.targets[].pid]' <<<"$r") == "[$bpid]" ]] || fail "B's ListTargets: $r"
expect_error "$(vas "$UB" --clear-groups $M.Pause "{\"pid\": $apid}")" $M.NoSuchTarget

# ---- group thpd: supplementary (explicit or from /etc/group) or primary ----------
usermod -aG thpd "$UB" || fail "usermod -aG thpd $UB"
all="$(jq -cn "[$apid, $bpid, $rpid] | sort")"
for g in "--groups=$THPD_GID" --init-groups; do
	r=$(vas "$UB" "$g" $M.ListTargets)
	[[ $(jq -c '[.parameters.targets[].pid] | sort' <<<"$r") == "$all" ]] ||
		fail "B with $g: ListTargets: $r"
	expect_ok "$(vas "$UB" "$g" $M.GetCounters)"
	r=$(vas "$UB" "$g" $M.GetTarget "{\"pid\": $apid}")
	jqe ".parameters.target.summary.pid == $apid" <<<"$r" || fail "B with $g: GetTarget of A's: $r"
done
r=$(jq -cn '{method: "io.thpd.Manager.ListTargets"}' | tr '\n' '\0' |
	setpriv --reuid="$UB" --regid="$THPD_GID" --clear-groups socat -t5 -T5 - "UNIX-CONNECT:$SOCK" | tr -d '\0')
[[ $(jq -c '[.parameters.targets[].pid] | sort' <<<"$r") == "$all" ]] || fail "B with primary group thpd: $r"
g="--groups=$THPD_GID"
r=$(vas "$UB" "$g" $M.Pause "{\"pid\": $apid}")
expect_ok "$r"
[[ $(state "$apid") == paused ]] || fail "B (group thpd) paused A's target: $(state "$apid")"
expect_ok "$(vas "$UB" "$g" $M.Resume "{\"pid\": $apid}")"
[[ $(state "$apid") == active ]] || fail "B (group thpd) resumed A's target: $(state "$apid")"
expect_ok "$(vas "$UB" "$g" $M.Pause)"
[[ $(vcall $M.GetStatus | jq '.parameters.pauses | length') -eq 1 ]] || fail "B (group thpd) paused the daemon"
expect_ok "$(vas "$UB" "$g" $M.Resume)"
r=$(vas "$UB" "$g" $M.Reload)
jqe '.parameters.config_generation == 2' <<<"$r" || fail "B (group thpd) Reload: $r"
expect_ok "$(vas "$UB" "$g" $M.Collapse "{\"pid\": $rpid}")"
# ---- what A started but does not own, and a pause A did not set --------------
# ptrace(2)'s rule: a process whose uids or gids differ (set-uid) or that is
# not dumpable is not its real user's to see or steer.
# hidden_from_a PID WHAT: a target (root sees it) that A reaches through no
# method: every call naming it answers as for no process, the lists and
# counts leave it out, and A's Monitor never named it.
hidden_from_a() {
	local pid=$1 what=$2 m
	jqe --argjson p "$pid" 'any(.parameters.targets[]; .pid == $p)' <<<"$(vcall $M.ListTargets)" ||
		fail "$what $pid is not a target (root's ListTargets)"
	for m in GetTarget Collapse Pause Resume; do
		expect_error "$(va $M.$m "{\"pid\": $pid}")" $M.NoSuchTarget
	done
	jqe '.parameters.target == false and .parameters.comm == null and
		[.parameters.reasons[].code] == ["no-process"]' <<<"$(va $M.Why "{\"pid\": $pid}")" ||
		fail "A's Why of its $what $pid: $(va $M.Why "{\"pid\": $pid}")"
	[[ $(va $M.ListTargets | jq -c '[.parameters.targets[].pid]') == "[$apid]" ]] ||
		fail "A's ListTargets shows its $what $pid: $(va $M.ListTargets)"
	jqe '.parameters.targets == 1' <<<"$(va $M.GetStatus)" ||
		fail "A's GetStatus counts its $what $pid: $(va $M.GetStatus | jq -c '.parameters | {targets}')"
	if has_event a ".parameters.pid == $pid"; then
		fail "A's Monitor named its $what $pid: $(events a | grep -F "$pid" | head -n 3)"
	fi
}
start_target_as "$UA" nd --name "thpt-user-${TAG}n" --size 8M --not-dumpable
ndpid=$(ready_get "$READY" pid)
wait_until 10 is_target "$ndpid" || fail "A's non-dumpable process never became a target"
hidden_from_a "$ndpid" "non-dumpable process"
kill -TERM "$ndpid"
# A set-uid-root copy of thp-target, started by A: real uid A, effective 0.
SUID_DIR=$(mktemp -d /var/tmp/thpd-test-suid.XXXXXX)
on_exit "rm -rf '$SUID_DIR'"
chmod 755 "$SUID_DIR"
cp "$THP_TARGET" "$SUID_DIR/thp-target"
chown root:root "$SUID_DIR/thp-target"
chmod 4755 "$SUID_DIR/thp-target"
TARGET_BIN="$SUID_DIR/thp-target" start_target_as "$UA" su --name "thpt-user-${TAG}s" --size 8M
supid=$(ready_get "$READY" pid)
if [[ $(awk '$1 == "Uid:" {print $3}' "/proc/$supid/status") == 0 ]]; then
	wait_until 10 is_target "$supid" || fail "A's set-uid process never became a target"
	hidden_from_a "$supid" "set-uid-root process"
	note "A's set-uid-root and non-dumpable processes: targets, hidden from A"
else
	note "A's non-dumpable process: a target, hidden from A; set-uid not tried ($(findmnt -no OPTIONS -T "$SUID_DIR") ignores set-uid)"
fi
kill -TERM "$supid"
# Root pauses A's target: A may not resume it (A may pause and resume its own:
# above).
vcall $M.Pause "{\"pid\": $apid}" >/dev/null
r=$(va $M.Resume "{\"pid\": $apid}")
expect_error "$r" org.varlink.service.PermissionDenied
[[ $(state "$apid") == paused ]] || fail "A resumed the pause root set: $(state "$apid")"
out=$(run_as "$UA" --clear-groups "$THPCTL" --socket "$SOCK" resume "$apid" 2>&1) && fail "thpctl resume as A succeeded: $out"
grep -q "paused by root or group thpd" <<<"$out" || fail "thpctl resume as A: $out"
vcall $M.Resume "{\"pid\": $apid}" >/dev/null
[[ $(state "$apid") == active ]] || fail "root's resume: $(state "$apid")"

# A's Collapse calls are limited per user (20 back to back, then 60 a
# minute); root's are not. 30 calls on one connection, sent at once (so
# that no refill between slow calls hides the limit): the first ones are
# served, the rest refused with TooManyCalls, saying when to come back;
# thpctl says so.
for ((i = 0; i < 30; i++)); do
	printf '{"method":"%s.Collapse","parameters":{"pid":%d}}\0' "$M" "$apid"
done | run_as "$UA" --clear-groups socat -t2 -T5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n' >"$WORK/burst.out"
served=$(jq -s '[.[] | select(has("parameters") and (has("error") | not))] | length' "$WORK/burst.out")
refused=$(jq -sc '[.[] | select(.error == "io.thpd.Manager.TooManyCalls")] | first // empty' "$WORK/burst.out")
n_refused=$(jq -s '[.[] | select(.error == "io.thpd.Manager.TooManyCalls")] | length' "$WORK/burst.out")
[[ $((served + n_refused)) == 30 ]] || fail "30 Collapse calls on one connection: $served served, $n_refused refused: $(head -c 600 "$WORK/burst.out")"
((n_refused > 0 && served >= 10 && served <= 21)) ||
	fail "A's 30 Collapse calls at once: $served served, $n_refused refused (want 10-21 served, the rest refused)"
jqe --argjson u "$(id -u "$UA")" '.parameters | .method == "io.thpd.Manager.Collapse" and
	.uid == $u and .retry_in_sec > 0 and .retry_in_sec <= 1.0 and .per_minute == 60 and
	.burst == 20' <<<"$refused" || fail "TooManyCalls reply: $refused"
calls=$served
# (The bucket refilled a little while socat waited: a few more calls.)
thpctl_refused=0
for ((i = 0; i < 10; i++)); do
	if ! out=$(run_as "$UA" --clear-groups "$THPCTL" --socket "$SOCK" collapse "$apid" 2>&1); then
		thpctl_refused=1
		break
	fi
done
((thpctl_refused)) || fail "thpctl collapse as A: 10 calls past the limit, all served: $out"
grep -q "too many collapse calls from uid $(id -u "$UA")" <<<"$out" || fail "thpctl collapse as A past the limit: $out"
for ((i = 0; i < 25; i++)); do
	expect_ok "$(vcall $M.Collapse "{\"pid\": $apid}")"
done
note "A's 30 Collapse calls at once: $calls served, $n_refused refused: $(jq -c .parameters <<<"$refused"); root's 25 calls all served"

# A still may not, after all of that.
expect_error "$(va $M.GetCounters)" org.varlink.service.PermissionDenied
[[ $(va $M.ListTargets | jq -c '[.parameters.targets[].pid]') == "[$apid]" ]] || fail "A's ListTargets at the end"

thpd_alive
echo "PASS"
