#!/bin/bash
# A process that switched THP off for itself (prctl(PR_SET_THP_DISABLE, 1):
# THP_enabled: 0 in /proc/PID/status), matched by a policy, with 64 MiB of
# written memory: thpd shows it as state "thp-disabled" in GetTarget,
# ListTargets, thpctl targets and thpctl show, never tries to collapse it
# (per-target attempts 0, the global attempts counter unchanged over several
# of its scans, no candidate chunks), refuses an explicit Collapse of it with
# TargetNotActive (thpctl: exit 1, "not active (thp-disabled)"), and its
# AnonHugePages stay 0. A second process of the same policy without the
# prctl is collapsed to 100% meanwhile: the policy does match, and every
# attempt thpd made was for that one.
# shellcheck disable=SC2016 # $names in single quotes are jq variables
. "$(dirname "$0")/lib.sh"
: "${THPCTL:?THPCTL must point at the thpctl binary}"
require_collapse

INTERVAL_S=1
write_config ${INTERVAL_S}s \
	"  - name: thpoff" \
	"    match: {comm: [thpt-thpoff, thpt-thpon]}"
start_thpd

c0=$(counters)
att0=$(jnum .attempts "$c0")

start_target off --name thpt-thpoff --size 64M --mode thp-disable
off=$READY
opid=$(ready_get "$off" pid)
os=$(ready_get "$off" start)
oe=$(ready_get "$off" end)
[[ $(awk '$1 == "THP_enabled:" {print $2}' "/proc/$opid/status") == 0 ]] ||
	fail "the fixture's prctl did not take: $(grep THP_enabled "/proc/$opid/status")"

shown_disabled() {
	"$THPCTL" --socket "$SOCK" --json targets |
		jq -e --argjson p "$opid" '[.targets[] | select(.pid == $p and .state == "thp-disabled" and .policy == "thpoff")] | length == 1' >/dev/null
}
wait_until $((3 * INTERVAL_S)) shown_disabled ||
	fail "thpctl targets does not show $opid as thp-disabled: $("$THPCTL" --socket "$SOCK" --json targets)"

# Several scans of it while it is disabled.
scans0=$(jnum .scans "$(target_json "$opid")")
scanned() {
	local s
	s=$(target_json "$opid" | jq -e '.scans | numbers') || return 1
	((s >= scans0 + 3))
}
wait_until $((6 * INTERVAL_S)) scanned ||
	fail "thpd did not scan the thp-disabled target 3 more times: $(target_json "$opid" | jq -c '{scans, summary}')"

check_untouched() {
	local tj kb att
	tj=$(target_json "$opid")
	jq -e '.summary.state == "thp-disabled" and .attempts == 0 and ([.by_result[]] | add) == 0 and
		.summary.collapsed_bytes == 0 and .summary.huge_bytes == 0 and .summary.chunks.candidate == 0 and
		all(.chunks[]; .attempts == 0 and .state != "candidate")' <<<"$tj" >/dev/null ||
		fail "thp-disabled target $1: $(jq -c '{summary, attempts, by_result, chunks: (.chunks | length)}' <<<"$tj")"
	kb=$(huge_kb_num "$opid" "$os" "$oe")
	((kb == 0)) || fail "thp-disabled target has $kb kB huge $1"
}
check_untouched "after $((scans0 + 3)) scans"
att=$(jnum .attempts "$(counters)")
((att == att0)) || fail "global attempts $att0 -> $att with only the thp-disabled target"
note "thp-disabled target: state thp-disabled, $(jnum .scans "$(target_json "$opid")") scans, 0 attempts, 0 kB huge; global attempts $att0 -> $att"

# The other ways to see it.
out=$("$THPCTL" --socket "$SOCK" targets) || fail "thpctl targets failed"
grep -Eq "^ *$opid +thpt-thpoff +thpoff +thp-disabled " <<<"$out" || fail "thpctl targets: $out"
out=$("$THPCTL" --socket "$SOCK" show "$opid") || fail "thpctl show failed"
grep -q '^ *State: thp-disabled$' <<<"$out" || fail "thpctl show: $out"
vcall io.thpd.Manager.ListTargets | jq -e --argjson p "$opid" \
	'[.parameters.targets[] | select(.pid == $p)] | length == 1 and .[0].state == "thp-disabled"' >/dev/null ||
	fail "ListTargets: $(vcall io.thpd.Manager.ListTargets)"

# An explicit collapse is refused.
rc=0
"$THPCTL" --socket "$SOCK" collapse "$opid" >"$WORK/out" 2>"$WORK/err" || rc=$?
((rc == 1)) || fail "thpctl collapse of a thp-disabled target: exit $rc: $(cat "$WORK/out" "$WORK/err")"
[[ $(cat "$WORK/err") == "thpctl: target $opid is not active (thp-disabled)" ]] ||
	fail "thpctl collapse: $(cat "$WORK/err")"
vcall io.thpd.Manager.Collapse "{\"pid\": $opid}" | jq -e --argjson p "$opid" \
	'.error == "io.thpd.Manager.TargetNotActive" and .parameters.pid == $p and .parameters.state == "thp-disabled"' \
	>/dev/null || fail "Collapse: $(vcall io.thpd.Manager.Collapse "{\"pid\": $opid}")"
sleep "$INTERVAL_S"
check_untouched "after an explicit Collapse"

# ---- the same policy collapses a process without the prctl ----
start_target on --name thpt-thpon --size 64M
on=$READY
npid=$(ready_get "$on" pid)
on_done() {
	local kb
	kb=$(huge_kb_num "$npid" "$(ready_get "$on" start)" "$(ready_get "$on" end)")
	((kb == 64 * 1024))
}
wait_until $((5 * INTERVAL_S)) on_done ||
	fail "the target without the prctl was not collapsed: $(target_json "$npid" | jq -c .summary)"
on_counted() {
	target_json "$npid" | jq -e '.summary.state == "active" and .summary.chunks.huge == 32' >/dev/null
}
wait_until $((3 * INTERVAL_S)) on_counted || fail "thpd's view of the other target: $(target_json "$npid" | jq -c .summary)"
sleep "$INTERVAL_S"
check_untouched "after the other target was collapsed"
on_att=$(jnum .attempts "$(target_json "$npid")")
att=$(jnum .attempts "$(counters)")
((att - att0 == on_att)) || fail "global attempts grew by $((att - att0)), the other target had $on_att"
note "target without the prctl: 64 MiB huge in $on_att attempts; global attempts $att0 -> $att, all of them its own"
thpd_alive
echo "PASS"
