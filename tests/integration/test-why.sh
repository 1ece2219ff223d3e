#!/bin/bash
# Acceptance (issue 13): thpctl why names the right reason for a huge chunk,
# a sparse chunk, a quarantined EINVAL chunk, an EAGAIN chunk waiting, a
# process with THP disabled by prctl, and a process no policy matches; and
# another user's process reads as no process.
#
# One thpd, six real processes. smaps is re-read only every 1000 scan
# intervals, so the EINVAL chunks stay quarantined (a full scan would see
# VmFlags nh and drop their area); the first EAGAIN backs off for 30 s.
. "$(dirname "$0")/lib.sh"
require_collapse

SMAPS_REFRESH=1000 EAGAIN_INITIAL=30s EAGAIN_MAX=60s write_config 200ms \
	"  - name: why" \
	"    match: {comm: [thpt-why*]}"
# (The targets first: thpd started before could collapse the pin target's
# first chunk between its write and its vmsplice.)
start_target huge --name thpt-whyhuge --size 8M
huge=$READY
start_target sparse --name thpt-whysparse --size 8M --touch-pages 8
sparse=$READY
start_target nh --name thpt-whynh --size 8M --mode nohuge-later
nh=$READY
start_target pin --name thpt-whypin --size 8M --mode pin
pin=$READY
start_target off --name thpt-whyoff --size 8M --mode thp-disable
off=$READY
start_target other --name thpt-other --size 8M
other=$READY
start_thpd

pid_of() { ready_get "$1" pid; }
start_of() { ready_get "$1" start; }

# why PID [ADDR]: thpctl's JSON answer (the command's own exit status kept).
why() { "$THPCTL" --socket "$SOCK" --json why "$@"; }
# first_code PID [ADDR]: the decisive reason's code.
first_code() { why "$@" | jq -r '.reasons[0].code'; }
# says PID ADDR CODE: the answer for ADDR has a reason CODE.
says() {
	local w
	w=$(why "$1" "$2") || return 1
	jq -e --arg c "$3" 'any(.reasons[]; .code == $c)' <<<"$w" >/dev/null
}

# The nohuge-later target: its first full scan (one page per chunk: sparse),
# then MADV_NOHUGEPAGE and every page written: dense, and every collapse EINVAL.
npid=$(pid_of "$nh")
nscanned() { (($(jnum .full_scans "$(target_json "$npid")") >= 1)); }
wait_until 10 nscanned || fail "no full scan of the nohuge-later target"
kill -USR1 "$npid"
wait_step "$nh" 1

# 1. A huge chunk.
hpid=$(pid_of "$huge") hstart=$(start_of "$huge")
all_huge() { [[ $(target_json "$hpid" | jq '[.chunks[] | select(.state == "huge")] | length') -eq 4 ]]; }
wait_until 15 all_huge || fail "thpt-whyhuge not collapsed: $(target_json "$hpid" | jq -c .summary)"
[[ $(first_code "$hpid" "$hstart") == huge ]] || fail "huge chunk: $(why "$hpid" "$hstart")"
w=$(why "$hpid")
jq -e '.target == true and .policy == "why" and .reasons[0].code == "coverage"' <<<"$w" >/dev/null ||
	fail "why of a collapsed target: $w"
note "huge: $(why "$hpid" "$hstart" | jq -r '.reasons[0].text')"

# 2. A sparse chunk: 8 of 512 pages present, below min_present (the counts said).
spid=$(pid_of "$sparse") sstart=$(start_of "$sparse")
sparse_seen() { [[ $(first_code "$spid" "$sstart") == sparse ]]; }
wait_until 10 sparse_seen || fail "sparse chunk: $(why "$spid" "$sstart")"
w=$(why "$spid" "$sstart")
jq -e '.reasons[0].text | test("^sparse: 8 of 512 pages present; the policy.s min_present [0-9.]+% needs [0-9]+")' \
	<<<"$w" >/dev/null || fail "sparse chunk without its counts: $w"
# (at least its 4: a sanitizer build's runtime has sparse chunks of its own)
[[ $("$THPCTL" --socket "$SOCK" --json show "$spid" | jq '.target.sparse_chunks') -ge 4 ]] ||
	fail "show does not count 4 sparse chunks: $("$THPCTL" --socket "$SOCK" show "$spid")"
for i in 1 2 3; do
	[[ $(first_code "$spid" $((sstart + i * 2 * 1024 * 1024))) == sparse ]] ||
		fail "sparse chunk $i: $(why "$spid" $((sstart + i * 2 * 1024 * 1024)))"
done
note "sparse: $(jq -r '.reasons[0].text' <<<"$w")"

# 3. A quarantined EINVAL chunk.
nstart=$(start_of "$nh")
quarantined() { [[ $(first_code "$npid" "$nstart") == quarantined ]]; }
wait_until 15 quarantined ||
	fail "no quarantined chunk: $(why "$npid" "$nstart"); $(target_json "$npid" | jq -c '{full_scans, by_result}')"
w=$(why "$npid" "$nstart")
jq -e '.reasons[0].text | test("after EINVAL \\(not collapsible")' <<<"$w" >/dev/null ||
	fail "quarantine without its errno and meaning: $w"
note "quarantined: $(jq -r '.reasons[0].text' <<<"$w")"

# 4. An EAGAIN chunk waiting: the first chunk of the pin target (its first
# page held by vmsplice).
ppid=$(pid_of "$pin") pstart=$(start_of "$pin")
backing_off() { [[ $(first_code "$ppid" "$pstart") == backoff ]]; }
wait_until 15 backing_off || fail "pinned chunk not backing off: $(why "$ppid" "$pstart")"
w=$(why "$ppid" "$pstart")
jq -e '.reasons[0].text | test("backing off after EAGAIN \\(.*\\): attempt 1, next retry in [0-9.]+ s")' \
	<<<"$w" >/dev/null || fail "backoff without errno, attempt and next retry: $w"
note "backoff: $(jq -r '.reasons[0].text' <<<"$w")"
# Its neighbour, unpinned, is huge.
[[ $(first_code "$ppid" $((pstart + 2 * 1024 * 1024))) == huge ]] ||
	fail "the chunk after the pinned one: $(why "$ppid" $((pstart + 2 * 1024 * 1024)))"

# 5. A process with THP disabled by prctl.
opid=$(pid_of "$off")
thp_off() { [[ $(first_code "$opid") == thp-disabled ]]; }
wait_until 10 thp_off || fail "THP-disabled process: $(why "$opid")"
jq -e '.reasons[0].text | test("PR_SET_THP_DISABLE")' <<<"$(why "$opid")" >/dev/null ||
	fail "thp-disabled without the prctl named: $(why "$opid")"

# 6. A process no policy matches: the policy and the condition that fails.
xpid=$(pid_of "$other")
w=$(why "$xpid")
jq -e '.target == false and .comm == "thpt-other" and .reasons[0].code == "no-policy" and
	any(.reasons[]; .code == "policy-mismatch" and (.text | test("^policy .why.: comm .thpt-other. matches none of thpt-why\\*")))' \
	<<<"$w" >/dev/null || fail "unmatched process: $w"

# Text form: who, then a table of reasons, the decisive one first.
t=$("$THPCTL" --socket "$SOCK" why "$spid" "$sstart")
[[ $(sed -n 1p <<<"$t") == "$spid (thpt-whysparse): a target of policy 'why'" &&
	$(grep -m1 -A1 '^REASON' <<<"$t" | tail -n 1) =~ ^sparse\ +sparse:\ 8\ of\ 512 ]] ||
	fail "text form: $t"

# Bad input: a clear usage error, exit 2.
rc=0
"$THPCTL" --socket "$SOCK" why "$spid" nonsense 2>"$WORK/err" || rc=$?
((rc == 2)) && [[ $(cat "$WORK/err") == *"invalid address 'nonsense'"* ]] ||
	fail "bad address: rc $rc, $(cat "$WORK/err")"
r=$(vcall io.thpd.Manager.Why '{"pid": 1, "addr": -5}')
[[ $(jq -r '.error + " " + .parameters.parameter' <<<"$r") == "org.varlink.service.InvalidParameter addr" ]] ||
	fail "negative addr: $r"
# A pid that does not exist.
[[ $(first_code 999999999) == no-process ]] || fail "missing pid: $(why 999999999)"

# Another user's process reads as no process (the unprivileged caller may not
# learn that it exists, let alone why).
if command -v setpriv >/dev/null && getent passwd nobody >/dev/null; then
	nob=$(id -u nobody)
	r=$(setpriv --reuid="$nob" --regid="$(id -g nobody)" --clear-groups \
		"$THPCTL" --socket "$SOCK" --json why "$hpid" 2>&1) || true
	if [[ $r == *"Permission denied"* || $r == *"cannot connect"* ]]; then
		note "socket closed to nobody here; the unprivileged case is not checked"
	else
		jq -e '.reasons[0].code == "no-process" and .comm == null' <<<"$r" >/dev/null ||
			fail "nobody sees root's target: $r"
	fi
fi
thpd_alive || fail "thpd died"
echo "PASS"
