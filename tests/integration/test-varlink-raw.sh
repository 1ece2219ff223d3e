#!/bin/bash
# The Varlink protocol by hand: a raw client (socat and hand-written JSON, no
# thpctl) calls every method of org.varlink.service and io.thpd.Manager and
# checks the replies against the IDL: GetInterfaceDescription returns the
# shipped io.thpd.Manager.varlink byte for byte, unknown interfaces and
# methods get the standard errors, Monitor streams ("continues": true) and
# needs "more", oneway calls get no reply but take effect, calls pipelined in
# one write are answered in order, a call split over two writes is one call,
# and null stands for an absent optional parameter.
. "$(dirname "$0")/lib.sh"
require_collapse
# A tag of this run in the comm names: two runs at once (of this test too)
# do not adopt each other's targets.
TAG=$(printf '%03x' $(($$ % 4096)))
# jqe ARGS...: jq -e on stdin, false on empty input (jq -e says true then).
jqe() {
	local in
	in=$(cat)
	[[ -n $in ]] && jq -e "$@" <<<"$in" >/dev/null
}
: "${SRCDIR:?SRCDIR must point at the source tree}"
IDL="$SRCDIR/daemon/io.thpd.Manager.varlink"
[[ -r $IDL ]] || fail "cannot read $IDL"

# The policy collapses at 4 MiB/s (two chunks a second): a 64 MiB target
# stays partly collapsible for the whole test, so Collapse has work to do.
write_config 1s \
	"  - name: raw" \
	"    match: {comm: [\"thpt-raw-$TAG*\"]}" \
	"    max_rate: 4MiB"
start_thpd

# raw MSG...: send the messages, each NUL-terminated, in one write on one
# connection; print the replies one per line (compact JSON has no newline).
raw() {
	printf '%s\0' "$@" | socat -t3 -T5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n'
}
# expect_error REPLY ERROR: REPLY is that Varlink error.
expect_error() {
	[[ $(jq -r '.error // empty' <<<"$1") == "$2" ]] || fail "expected $2, got: $1"
}
# expect_ok REPLY: REPLY is a success (parameters, no error).
expect_ok() {
	jqe 'has("parameters") and (has("error") | not)' <<<"$1" >/dev/null ||
		fail "expected a reply without error, got: $1"
}
M=io.thpd.Manager

# ---- org.varlink.service ---------------------------------------------------
r=$(raw '{"method":"org.varlink.service.GetInfo"}')
expect_ok "$r"
jqe '.parameters | (.vendor | type == "string") and (.product | type == "string")
	and (.version | length > 0) and (.url | type == "string")
	and (.interfaces | index("org.varlink.service") != null and index("io.thpd.Manager") != null)' \
	<<<"$r" >/dev/null || fail "GetInfo: $r"
note "GetInfo: $(jq -c .parameters <<<"$r")"
[[ $("$THPD" --version) == *"$(jq -r .parameters.version <<<"$r")"* ]] ||
	fail "GetInfo version $(jq -r .parameters.version <<<"$r"), thpd --version: $("$THPD" --version)"

r=$(raw '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.thpd.Manager"}}')
expect_ok "$r"
jq -j '.parameters.description' <<<"$r" >"$WORK/idl.got"
cmp "$WORK/idl.got" "$IDL" ||
	fail "io.thpd.Manager description differs from $IDL: $(diff "$IDL" "$WORK/idl.got" | head -20)"
note "io.thpd.Manager description equals $IDL ($(wc -c <"$IDL") bytes)"

r=$(raw '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.varlink.service"}}')
expect_ok "$r"
desc=$(jq -r '.parameters.description' <<<"$r")
grep -qx 'interface org.varlink.service' <<<"$desc" || fail "org.varlink.service description: $r"
for e in InterfaceNotFound MethodNotFound MethodNotImplemented InvalidParameter PermissionDenied ExpectedMore; do
	grep -q "^error $e " <<<"$desc" || fail "org.varlink.service description lacks error $e"
done

r=$(raw '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"com.example.Nope"}}')
expect_error "$r" org.varlink.service.InterfaceNotFound
[[ $(jq -r .parameters.interface <<<"$r") == com.example.Nope ]] || fail "InterfaceNotFound: $r"
r=$(raw '{"method":"org.varlink.service.GetInterfaceDescription","parameters":{}}')
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == interface ]] || fail "missing interface: $r"
r=$(raw '{"method":"io.thpd.Manager.NoSuchMethod"}')
expect_error "$r" org.varlink.service.MethodNotFound
[[ $(jq -r .parameters.method <<<"$r") == io.thpd.Manager.NoSuchMethod ]] || fail "MethodNotFound: $r"

# ---- Monitor: needs "more"; stream on a connection held open by a fifo ----
r=$(raw "{\"method\":\"$M.Monitor\"}")
expect_error "$r" org.varlink.service.ExpectedMore
mkfifo "$WORK/mon.in"
socat -T60 - "UNIX-CONNECT:$SOCK" <"$WORK/mon.in" >"$WORK/mon.raw" 2>"$WORK/mon.err" &
CHILD_PIDS+=("$!")
exec 3>"$WORK/mon.in"
on_exit 'exec 3>&-'
printf '%s\0' "{\"method\":\"$M.Monitor\",\"more\":true}" >&3
# mon_events: the Monitor replies so far, one per line.
mon_events() { tr '\0' '\n' <"$WORK/mon.raw"; }
# mon_has JQ_FILTER: some Monitor reply matches.
mon_has() { mon_events | jqe -s "any(.[]; $1)" >/dev/null; }
wait_until 5 mon_has '.parameters.type == "subscribed"' || fail "no subscribed reply: $(mon_events)"
first=$(mon_events | sed -n 1p)
jqe '.parameters.type == "subscribed" and .continues == true and (has("error") | not)' \
	<<<"$first" >/dev/null || fail "first Monitor reply: $first"

# ---- a target --------------------------------------------------------------
start_target a --name "thpt-raw-${TAG}a" --size 64M
A=$READY
apid=$(ready_get "$A" pid)
astart=$(ready_get "$A" start)
is_target() { [[ -n $(target_json "$1") ]]; }
wait_until 10 is_target "$apid" || fail "thpt-raw-${TAG}a ($apid) never became a target"
scanned() { [[ $(target_json "$apid" | jq '.chunks | length') -ge 32 ]]; }
wait_until 10 scanned || fail "thpt-raw-${TAG}a never scanned: $(target_json "$apid")"
wait_until 5 mon_has ".parameters.type == \"target-added\" and .parameters.pid == $apid" ||
	fail "Monitor: no target-added for $apid: $(mon_events)"
mon_has ".parameters.type == \"target-added\" and .parameters.pid == $apid and .continues == true
	and .parameters.comm == \"thpt-raw-${TAG}a\" and .parameters.policy == \"raw\"" ||
	fail "target-added event: $(mon_events)"

# ---- GetStatus, ListTargets, GetTarget, GetCounters, GetPolicy -------------
r=$(raw "{\"method\":\"$M.GetStatus\"}")
expect_ok "$r"
jqe --arg k "$(uname -r)" '.parameters | (.version | type == "string") and (.uptime_sec > 0)
	and .kernel == $k and (.thp_mode | type == "string") and .config_generation == 1
	and .policies == 1 and .targets >= 1 and (.collapsed_bytes | type == "number")
	and (.budget.rate | type == "number") and (.budget.available | type == "number")
	and .pauses == []' <<<"$r" >/dev/null || fail "GetStatus: $r"
r=$(raw "{\"method\":\"$M.GetStatus\",\"parameters\":{\"verbose\":true}}")
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == verbose ]] || fail "GetStatus unknown field: $r"

r=$(raw "{\"method\":\"$M.ListTargets\"}")
expect_ok "$r"
jqe --arg p "$apid" --arg c "thpt-raw-${TAG}a" '.parameters.targets | map(select(.pid == ($p | tonumber))) | length == 1 and
	(.[0] | .comm == $c and .uid == 0 and .policy == "raw" and .state == "active"
	 and (.anon_bytes >= 64 * 1048576) and (.chunks | keys | sort) ==
	 ["backoff", "candidate", "huge", "parked", "quarantined"]
	 and has("huge_bytes") and has("resident_bytes") and has("collapsed_bytes")
	 and has("last_errno"))' <<<"$r" >/dev/null || fail "ListTargets: $r"

r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$apid}}")
expect_ok "$r"
# By default a bounded summary: totals, no areas or chunks.
jqe '(.parameters.target | has("chunks") or has("areas") | not)
	and .parameters.chunks_total == .parameters.target.chunks_total
	and (.parameters.target.areas_total >= 1)' <<<"$r" >/dev/null ||
	fail "GetTarget without chunks: $(head -c 2000 <<<"$r")"
r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$apid,\"chunks\":true}}")
expect_ok "$r"
jqe --arg p "$apid" '.parameters.target | (.summary.pid == ($p | tonumber))
	and (.exe | test("thp-target$")) and has("unit") and has("cgroup") and has("memory_cgroup")
	and (.scans >= 1) and (.attempts | type == "number") and (.by_result | has("ok"))
	and (.areas | length >= 1) and (.areas[0] | has("start") and has("end")
		and has("resident_bytes") and has("huge_bytes") and has("hot_percent"))
	and (.chunks | length >= 32) and (.chunks[0] | has("addr") and has("present")
		and has("state") and has("attempts") and has("last_errno") and has("retry_in_sec")
		and has("splits"))' <<<"$r" >/dev/null || fail "GetTarget: $(head -c 2000 <<<"$r")"
# Pages: chunk_limit chunks from chunk_offset, next_chunk_offset null at the end.
r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$apid,\"chunks\":true,\"chunk_limit\":16}}")
jqe '(.parameters.target.chunks | length) == 16 and .parameters.next_chunk_offset == 16' \
	<<<"$r" >/dev/null || fail "GetTarget page 1: $(head -c 2000 <<<"$r")"
r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$apid,\"chunks\":true,\"chunk_offset\":1000000}}")
jqe '(.parameters.target.chunks | length) == 0 and .parameters.next_chunk_offset == null' \
	<<<"$r" >/dev/null || fail "GetTarget past the end: $(head -c 2000 <<<"$r")"
r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$apid,\"chunks\":true,\"chunk_limit\":4097}}")
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == chunk_limit ]] || fail "chunk_limit 4097: $r"
r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$$}}")
expect_error "$r" io.thpd.Manager.NoSuchTarget
[[ $(jq .parameters.pid <<<"$r") == "$$" ]] || fail "NoSuchTarget pid: $r"
r=$(raw "{\"method\":\"$M.GetTarget\"}")
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == pid ]] || fail "GetTarget without pid: $r"
r=$(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":\"$apid\"}}")
expect_error "$r" org.varlink.service.InvalidParameter

r=$(raw "{\"method\":\"$M.GetCounters\"}")
expect_ok "$r"
jqe '.parameters.counters | (.targets_added >= 1) and (.discoveries >= 1) and (.scans >= 1)
	and (.by_result | has("ok") and has("eagain") and has("enomem")) and has("attempts")
	and has("collapsed_bytes") and has("collapse_sec") and has("scan_sec")
	and has("targets_removed") and has("enomem_pauses") and has("ebusy_pauses")
	and has("splits") and has("reloads") and has("reload_failures")' <<<"$r" >/dev/null ||
	fail "GetCounters: $r"

r=$(raw "{\"method\":\"$M.GetPolicy\"}")
expect_ok "$r"
jqe '.parameters | .config_generation == 1 and (.policy.policies | length == 1)
	and .policy.policies[0].name == "raw" and .policy.policies[0].max_rate == 4194304
	and .policy.daemon.scan_interval_sec == 1' <<<"$r" >/dev/null || fail "GetPolicy: $r"

# ---- Collapse ----------------------------------------------------------------
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid}}")
expect_ok "$r"
n=$(jq .parameters.chunks <<<"$r")
((n > 0)) || fail "Collapse of a rate-limited 64 MiB target made no chunk due: $r"
note "Collapse $apid: $n chunks due"
# A range of two chunks: at most two.
rs=$(printf '%d' "$astart")
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid,\"start\":$rs,\"end\":$((rs + 4 * 1048576))}}")
expect_ok "$r"
(($(jq .parameters.chunks <<<"$r") <= 2)) || fail "Collapse of a 4 MiB range: $r"
# null is an absent optional parameter.
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid,\"start\":null,\"end\":null}}")
expect_ok "$r"
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid,\"start\":8,\"end\":4}}")
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == end ]] || fail "Collapse end <= start: $r"
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid,\"start\":\"x\"}}")
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == start ]] || fail "Collapse with a string start names: $r"
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid,\"force\":true}}")
expect_error "$r" org.varlink.service.InvalidParameter
[[ $(jq -r .parameters.parameter <<<"$r") == force ]] || fail "Collapse unknown field: $r"
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$$}}")
expect_error "$r" io.thpd.Manager.NoSuchTarget

# ---- Pause and Resume of one target ------------------------------------------
state() { target_json "$apid" | jq -r .summary.state; }
r=$(raw "{\"method\":\"$M.Pause\",\"parameters\":{\"pid\":$apid}}")
expect_ok "$r"
[[ $(jq -c .parameters <<<"$r") == "{}" ]] || fail "Pause reply: $r"
[[ $(state) == paused ]] || fail "after Pause: state $(state)"
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid}}")
expect_error "$r" io.thpd.Manager.TargetNotActive
jqe --arg p "$apid" '.parameters.pid == ($p | tonumber) and .parameters.state == "paused"' \
	<<<"$r" >/dev/null || fail "TargetNotActive: $r"
wait_until 5 mon_has ".parameters.type == \"pause\" and .parameters.pid == $apid" ||
	fail "Monitor: no pause event for $apid"
r=$(raw "{\"method\":\"$M.Resume\",\"parameters\":{\"pid\":$apid}}")
expect_ok "$r"
[[ $(state) == active ]] || fail "after Resume: state $(state)"
wait_until 5 mon_has ".parameters.type == \"resume\" and .parameters.pid == $apid" ||
	fail "Monitor: no resume event for $apid"
r=$(raw "{\"method\":\"$M.Pause\",\"parameters\":{\"pid\":$$}}")
expect_error "$r" io.thpd.Manager.NoSuchTarget

# ---- oneway: no reply, but the call takes effect (global Pause/Resume) --------
out=$(raw "{\"method\":\"$M.Pause\",\"oneway\":true}" "{\"method\":\"$M.GetStatus\"}")
[[ $(grep -c . <<<"$out") -eq 1 ]] || fail "oneway Pause + GetStatus: expected 1 reply, got: $out"
jqe '.parameters.pauses | length == 1 and .[0].reason == "operator" and .[0].remaining_sec == null' \
	<<<"$out" >/dev/null || fail "GetStatus after oneway Pause shows no operator pause: $out"
r=$(raw "{\"method\":\"$M.Collapse\",\"parameters\":{\"pid\":$apid}}")
expect_error "$r" io.thpd.Manager.TargetNotActive
[[ $(jq -r .parameters.state <<<"$r") == daemon-paused ]] || fail "Collapse while paused: $r"
wait_until 5 mon_has '.parameters.type == "pause" and .parameters.reason == "operator" and (.parameters | has("pid") | not)' ||
	fail "Monitor: no global pause event"
out=$(raw "{\"method\":\"$M.Resume\",\"oneway\":true}" "{\"method\":\"$M.NoSuchMethod\",\"oneway\":true}" \
	"{\"method\":\"$M.GetStatus\"}")
[[ $(grep -c . <<<"$out") -eq 1 ]] || fail "oneway Resume + oneway unknown + GetStatus: expected 1 reply, got: $out"
jqe '.parameters.pauses == []' <<<"$out" >/dev/null || fail "GetStatus after oneway Resume: $out"
# null pid: the whole daemon.
out=$(raw "{\"method\":\"$M.Pause\",\"parameters\":{\"pid\":null}}" "{\"method\":\"$M.GetStatus\"}" \
	"{\"method\":\"$M.Resume\",\"parameters\":{\"pid\":null}}" "{\"method\":\"$M.GetStatus\"}")
[[ $(grep -c . <<<"$out") -eq 4 ]] || fail "Pause/Resume with pid null: $out"
expect_ok "$(sed -n 1p <<<"$out")"
[[ $(sed -n 2p <<<"$out" | jq '.parameters.pauses | length') -eq 1 ]] || fail "Pause(pid: null): $out"
[[ $(sed -n 4p <<<"$out" | jq '.parameters.pauses | length') -eq 0 ]] || fail "Resume(pid: null): $out"

# ---- Reload: success, then failure (the old policy stays) ----------------------
r=$(raw "{\"method\":\"$M.Reload\"}")
expect_ok "$r"
jqe '.parameters.policies == 1 and .parameters.config_generation == 2' <<<"$r" >/dev/null ||
	fail "Reload: $r"
wait_until 5 mon_has '.parameters.type == "reload"' || fail "Monitor: no reload event"
cp "$CONF" "$WORK/good.yaml"
printf 'daemon:\n  scan_intervall: 1s\npolicies: []\n' >"$CONF"
r=$(raw "{\"method\":\"$M.Reload\"}")
expect_error "$r" io.thpd.Manager.ReloadFailed
jqe '.parameters.problems | length >= 1 and (.[0] | (.file | endswith("thpd.yaml"))
	and .line == 2 and (.column | type == "number") and (.message | test("scan_intervall")))' \
	<<<"$r" >/dev/null || fail "ReloadFailed: $r"
cp "$WORK/good.yaml" "$CONF"
r=$(raw "{\"method\":\"$M.GetPolicy\"}")
jqe '.parameters.config_generation == 2 and .parameters.policy.policies[0].name == "raw"' \
	<<<"$r" >/dev/null || fail "GetPolicy after a failed reload: $r"
[[ $(target_json "$apid" | jq -r .summary.policy) == raw ]] || fail "target lost its policy"

# ---- pipelining: six calls in one write, six replies in order ----------------
out=$(raw '{"method":"org.varlink.service.GetInfo"}' \
	"{\"method\":\"$M.GetStatus\"}" \
	"{\"method\":\"$M.Bogus\"}" \
	"{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$$}}" \
	"{\"method\":\"$M.ListTargets\"}" \
	'{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.varlink.service"}}')
mapfile -t rep <<<"$out"
[[ ${#rep[@]} -eq 6 ]] || fail "pipelined: ${#rep[@]} replies: $out"
jqe '.parameters.interfaces | length == 2' <<<"${rep[0]}" >/dev/null || fail "pipelined 1: ${rep[0]}"
jqe '.parameters | has("uptime_sec")' <<<"${rep[1]}" >/dev/null || fail "pipelined 2: ${rep[1]}"
expect_error "${rep[2]}" org.varlink.service.MethodNotFound
expect_error "${rep[3]}" io.thpd.Manager.NoSuchTarget
jqe '.parameters.targets | length >= 1' <<<"${rep[4]}" >/dev/null || fail "pipelined 5: ${rep[4]}"
jqe '.parameters.description | startswith("#")' <<<"${rep[5]}" >/dev/null || fail "pipelined 6: ${rep[5]}"
# 50 calls in one write.
mapfile -t many < <(for i in $(seq 1 50); do echo "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$((1000000 + i))}}"; done)
out=$(raw "${many[@]}")
[[ $(jq -s '[.[].parameters.pid] == [range(1000001; 1000051)]' <<<"$out") == true ]] ||
	fail "50 pipelined calls: replies out of order or missing: $(head -c 600 <<<"$out")"

# ---- one call split over two writes ------------------------------------------
out=$({
	printf '%s' "{\"method\":\"$M.GetSt"
	sleep 0.3
	printf '%s\0' 'atus"}'
} | socat -t3 -T5 - "UNIX-CONNECT:$SOCK" | tr '\0' '\n')
jqe '.parameters | has("uptime_sec")' <<<"$out" >/dev/null || fail "split call: $out"

# ---- the Monitor stream: another target comes and goes ------------------------
start_target b --name "thpt-raw-${TAG}b" --size 16M
bpid=$(ready_get "$READY" pid)
wait_until 10 mon_has ".parameters.type == \"target-added\" and .parameters.pid == $bpid" ||
	fail "Monitor: no target-added for $bpid: $(mon_events | tail -n 5)"
kill -TERM "$bpid"
wait_until 10 mon_has ".parameters.type == \"target-removed\" and .parameters.pid == $bpid and .parameters.reason == \"exited\"" ||
	fail "Monitor: no target-removed for $bpid: $(mon_events | tail -n 5)"
wait_until 10 mon_has '.parameters.type == "collapse-done" and (.parameters.bytes | type == "number")
	and (.parameters.chunks_ok | type == "number")' ||
	fail "Monitor: no collapse-done event"
# A comm that is not UTF-8 (any bytes go): JSON strings are UTF-8, so the
# target is listed, shown and streamed with U+FFFD in its name.
start_target c --name "thpt-raw-$TAG"$'\xff' --size 8M
cpid=$(ready_get "$READY" pid)
wait_until 10 is_target "$cpid" || fail "target with a non-UTF-8 comm ($cpid) not shown by GetTarget: $(raw "{\"method\":\"$M.GetTarget\",\"parameters\":{\"pid\":$cpid}}")"
r=$(raw "{\"method\":\"$M.ListTargets\"}")
jqe --arg p "$cpid" --arg c "thpt-raw-$TAG"$'\xef\xbf\xbd' '.parameters.targets | map(select(.pid == ($p | tonumber))) | length == 1
	and .[0].comm == $c' <<<"$r" || fail "ListTargets lacks the non-UTF-8 target $cpid: $r"
wait_until 5 mon_has ".parameters.type == \"target-added\" and .parameters.pid == $cpid and .parameters.comm == \"thpt-raw-$TAG\\ufffd\"" ||
	fail "Monitor: target-added of $cpid: $(mon_events | grep "$cpid")"
kill -TERM "$cpid"
# Every streamed reply is a success with "continues": true.
mon_events | jqe -s 'all(.[]; .continues == true and (has("error") | not))' >/dev/null ||
	fail "Monitor reply without continues: $(mon_events | jq -c 'select(.continues != true)')"
note "Monitor: $(mon_events | jq -r .parameters.type | sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}')"
exec 3>&-
kill -0 "$THPD_PID" || fail "thpd died"

# ---- varlinkctl (systemd 255+), when there ----------------------------------
if command -v varlinkctl >/dev/null; then
	varlinkctl info "$SOCK" >"$WORK/vctl.info" 2>&1 || fail "varlinkctl info: $(cat "$WORK/vctl.info")"
	grep -q io.thpd.Manager "$WORK/vctl.info" || fail "varlinkctl info: $(cat "$WORK/vctl.info")"
	varlinkctl introspect "$SOCK" io.thpd.Manager >"$WORK/vctl.idl" 2>&1 ||
		fail "varlinkctl introspect: $(cat "$WORK/vctl.idl")"
	grep -q 'method GetStatus' "$WORK/vctl.idl" || fail "varlinkctl introspect: $(cat "$WORK/vctl.idl")"
	varlinkctl call "$SOCK" io.thpd.Manager.GetStatus '{}' >"$WORK/vctl.call" 2>&1 ||
		fail "varlinkctl call: $(cat "$WORK/vctl.call")"
	note "varlinkctl ($(varlinkctl --version | head -n 1)): info, introspect and call work"
else
	note "varlinkctl not available (systemd < 255): not introspected with it"
fi

# Counters saw the collapses; the daemon is still fine.
r=$(raw "{\"method\":\"$M.GetCounters\"}")
jqe '.parameters.counters | .attempts >= 1 and .collapsed_bytes > 0 and .reloads == 1
	and .reload_failures == 1 and .targets_removed >= 1' <<<"$r" >/dev/null ||
	fail "GetCounters at the end: $r"
thpd_alive
echo "PASS"
