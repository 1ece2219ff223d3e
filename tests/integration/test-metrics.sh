#!/bin/bash
# Prometheus metrics. thpd collapses a 64 MiB target and 21 small ones (two
# policies, a third without targets); then:
#  - `thpctl metrics` passes `promtool check metrics` (format and lint), and
#    its figures are the daemon's: collapses ok and bytes collapsed equal
#    GetCounters, the latency histogram counts every attempt, per-policy and
#    per-process series agree with ListTargets; per-process series are
#    bounded (20 targets and one pid="other" holding the rest);
#  - an unprivileged user gets the same minus the counters, said in a comment;
#  - the textfile of daemon.metrics_textfile (set in a drop-in) is written
#    atomically, mode 0644, passes promtool, and a real
#    prometheus-node-exporter with only its textfile collector serves thpd's
#    series from it;
#  - a reload pointing it at a missing directory is reported once, thpd goes
#    on; once the directory exists it is written again, and so after a reload
#    back to the first path.
. "$(dirname "$0")/lib.sh"
require_collapse
command -v promtool >/dev/null || skip "promtool not installed (package prometheus)"
command -v prometheus-node-exporter >/dev/null ||
	skip "prometheus-node-exporter not installed"
command -v timeout >/dev/null || skip "timeout not installed (coreutils)"
THPCTL=${THPCTL:-$BUILD_ROOT/client/thpctl}
TAG=$(printf '%03x' $(($$ % 4096)))
N_SMALL=21 # with the big one: one more than the per-process series (20)

PROM_DIR="$WORK/prom"
mkdir -p "$PROM_DIR" "$WORK/thpd.d"
# metrics_drop_in PATH: the textfile settings, in a drop-in beside the policy.
metrics_drop_in() {
	printf 'daemon:\n  metrics_textfile: %s\n  metrics_interval: 1s\n' "$1" \
		>"$WORK/thpd.d/metrics.yaml"
}
metrics_drop_in "$PROM_DIR/thpd.prom"
write_config 1s \
	"  - name: big" \
	"    match: {comm: [thpt-mbig-$TAG]}" \
	"  - name: small" \
	"    match: {comm: [thpt-msml-$TAG]}" \
	"  - name: idle" \
	"    match: {comm: [thpt-midl-$TAG]}"
start_thpd

start_target big --name "thpt-mbig-$TAG" --size 64M
pid=$(ready_get "$READY" pid)
for i in $(seq 1 $N_SMALL); do
	start_target "small$i" --name "thpt-msml-$TAG" --size 8M
done

targets() { vcall io.thpd.Manager.ListTargets | jq -c .parameters.targets; }
# Every target's memory huge (all of it: thpd may adopt a target, and
# collapse what it has, while it is still writing its memory), each chunk
# huge and counted: the collapse counters stand still.
all_huge() {
	local t
	t=$(targets)
	jq -e --argjson n $((N_SMALL + 1)) --arg big "thpt-mbig-$TAG" 'length == $n and all(.[];
		.huge_bytes == (if .comm == $big then 64 else 8 end) * 1048576 and
		.chunks.huge == (.chunks | add) and .collapsed_bytes == .huge_bytes)' <<<"$t" >/dev/null
}
wait_until 60 all_huge || fail "targets not all huge: $(targets)"
thpd_alive

# metric TEXT SAMPLE: the value of the sample line "SAMPLE VALUE" ("" if none).
metric() {
	awk -v k="$2" 'substr($0, 1, length(k) + 1) == k " " { print substr($0, length(k) + 2) }' <<<"$1"
}
# promtool_ok WHAT TEXT: promtool check metrics passes, without a lint remark.
promtool_ok() {
	local out rc=0
	out=$(promtool check metrics <<<"$2" 2>&1) || rc=$?
	((rc == 0)) && [[ -z $out ]] || fail "promtool check metrics on $1 (exit $rc): $out"
}

# ---- thpctl metrics ----------------------------------------------------------
m=$("$THPCTL" --socket "$SOCK" metrics)
k=$(counters)
promtool_ok "thpctl metrics" "$m"
note "thpctl metrics: $(grep -c '^thpd_' <<<"$m") samples in $(grep -c '^# TYPE' <<<"$m") families, promtool clean"

ok=$(metric "$m" 'thpd_collapses_total{result="ok"}')
require_num "thpd_collapses_total ok" "$ok"
((ok > 0)) || fail "no successful collapse in the metrics: $ok"
[[ $ok == $(jnum .by_result.ok "$k") ]] || fail "collapses ok: metrics $ok, GetCounters $(jq -c .by_result <<<"$k")"
bytes=$(metric "$m" thpd_collapsed_bytes_total)
require_num thpd_collapsed_bytes_total "$bytes"
((bytes >= (64 + N_SMALL * 4) << 20)) || fail "collapsed bytes $bytes below what was collapsed"
[[ $bytes == $(jnum .collapsed_bytes "$k") ]] || fail "collapsed bytes: metrics $bytes, GetCounters $(jq .collapsed_bytes <<<"$k")"
# Every attempt has its latency; every scan its duration.
n=$(metric "$m" thpd_collapse_duration_seconds_count)
[[ $n == $(jnum .attempts "$k") && $n == $(jnum .collapse_latency.count "$k") ]] ||
	fail "collapse latency count $n, attempts $(jq -c '[.attempts, .collapse_latency.count]' <<<"$k")"
[[ $(metric "$m" 'thpd_collapse_duration_seconds_bucket{le="+Inf"}') == "$n" ]] ||
	fail "+Inf bucket is not the count: $(grep duration_seconds_bucket <<<"$m")"
scans=$(metric "$m" thpd_scans_total)
require_num thpd_scans_total "$scans"
((scans >= N_SMALL + 1)) || fail "scans: $scans"
[[ $(metric "$m" thpd_scan_duration_seconds_count) == "$scans" ]] ||
	fail "scan duration count $(metric "$m" thpd_scan_duration_seconds_count), scans $scans"
full=$(metric "$m" thpd_full_scans_total)
require_num thpd_full_scans_total "$full"
((full >= 1 && full <= scans)) || fail "full scans $full of $scans"
[[ $(metric "$m" thpd_scan_cpu_seconds_total) =~ ^[0-9.e-]+$ ]] || fail "no scan CPU: $(grep scan_cpu <<<"$m")"
note "collapses ok $ok, collapsed $((bytes >> 20)) MiB, latency p(<=10 ms) $(metric "$m" 'thpd_collapse_duration_seconds_bucket{le="0.01"}')/$n; scans $scans ($full full)"

# Per policy, from the same ListTargets as the per-process series.
[[ $(metric "$m" 'thpd_policy_targets{policy="big"}') == 1 &&
	$(metric "$m" 'thpd_policy_targets{policy="small"}') == "$N_SMALL" &&
	$(metric "$m" 'thpd_policy_targets{policy="idle"}') == 0 ]] ||
	fail "policy targets: $(grep '^thpd_policy_targets' <<<"$m")"
cov=$(metric "$m" 'thpd_policy_coverage_ratio{policy="big"}')
awk -v c="$cov" 'BEGIN { exit !(c >= 0.95 && c <= 1) }' || fail "big's coverage $cov"
[[ -z $(metric "$m" 'thpd_policy_coverage_ratio{policy="idle"}') ]] || fail "coverage of a policy without targets"
[[ $(metric "$m" 'thpd_targets_in_state{state="active"}') == $((N_SMALL + 1)) ]] ||
	fail "active targets: $(grep targets_in_state <<<"$m")"

# Per process: the 20 largest by resident memory, the rest summed.
named=$(grep -c '^thpd_target_resident_bytes{pid="[0-9]' <<<"$m") || true
[[ $named == 20 ]] || fail "$named per-process series, want 20: $(grep '^thpd_target_resident' <<<"$m")"
other=$(metric "$m" 'thpd_target_resident_bytes{pid="other"}')
require_num "pid=other" "$other"
sum_named=$(awk '/^thpd_target_resident_bytes\{pid="[0-9]/ { s += $NF } END { printf "%d\n", s }' <<<"$m")
sum_policy=$(awk '/^thpd_policy_resident_bytes\{/ { s += $NF } END { printf "%d\n", s }' <<<"$m")
((other > 0 && sum_named + other == sum_policy)) ||
	fail "pid=other $other + named $sum_named != all targets' $sum_policy"
huge=$(metric "$m" "thpd_target_huge_bytes{pid=\"$pid\",comm=\"thpt-mbig-$TAG\",policy=\"big\"}")
require_num "big target's huge bytes" "$huge"
((huge >= 64 * 1048576 * 95 / 100)) || fail "big target's huge bytes: $huge"
[[ $(metric "$m" "thpd_target_info{pid=\"$pid\",comm=\"thpt-mbig-$TAG\",policy=\"big\",state=\"active\",hotness=\"none\"}") == 1 ]] ||
	fail "thpd_target_info of $pid: $(grep "^thpd_target_info{pid=\"$pid\"" <<<"$m")"
note "per-process series: 20 and pid=\"other\" ($((other >> 20)) MiB of $((sum_policy >> 20)) MiB)"

# Without privilege: no counters, said so; the rest is there.
if command -v setpriv >/dev/null; then
	chmod 0755 "$WORK"
	u=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$THPCTL" --socket "$SOCK" metrics)
	promtool_ok "thpctl metrics as nobody" "$u"
	grep -q '^# thpctl: counters left out' <<<"$u" || fail "no note of the counters left out: ${u:0:300}"
	[[ -z $(metric "$u" 'thpd_collapses_total{result="ok"}') && $(metric "$u" thpd_targets) == 0 ]] ||
		fail "unprivileged metrics: $(grep -E '^thpd_(collapses_total|targets) ' <<<"$u")"
	note "as nobody: no counters, 0 targets"
fi

# ---- the textfile --------------------------------------------------------------
f="$PROM_DIR/thpd.prom"
textfile_has() { # FILE: it exists and says what GetCounters says now
	local t
	t=$(cat "$1" 2>/dev/null) || return 1
	[[ $(metric "$t" thpd_collapsed_bytes_total) == "$bytes" ]]
}
wait_until 5 textfile_has "$f" || fail "$f: $(head -c 300 "$f" 2>&1)"
[[ $(stat -c %a "$f") == 644 ]] || fail "$f has mode $(stat -c %a "$f"), want 644 (node_exporter reads it as another user)"
promtool_ok "$f" "$(cat "$f")"
mtime=$(stat -c %Y.%y "$f")
wait_until 5 eval '[[ $(stat -c %Y.%y "$f") != "$mtime" ]]' || fail "$f not rewritten within 5 s (interval 1 s)"
leftovers=$(find "$PROM_DIR" -mindepth 1 ! -name thpd.prom)
[[ -z $leftovers ]] || fail "left in $PROM_DIR: $leftovers"
note "textfile $f: mode 644, rewritten every second, promtool clean"

# ---- node_exporter serving it ---------------------------------------------------
# http_get PORT PATH: the body of an HTTP/1.0 GET on 127.0.0.1 (bash's /dev/tcp).
http_get() {
	local fd reply
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&"$fd"
	reply=$(timeout "$(scaled 10)" cat <&"$fd") || true
	exec {fd}>&-
	[[ $reply == "HTTP/1."?" 200"* ]] || return 1
	printf '%s\n' "${reply#*$'\r\n\r\n'}"
}
ne_pid="" port=""
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # taken
	prometheus-node-exporter --collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$PROM_DIR" --web.disable-exporter-metrics \
		--web.listen-address="127.0.0.1:$port" >"$WORK/node-exporter.log" 2>&1 {NAP_FD}<&- &
	ne_pid=$!
	CHILD_PIDS+=("$ne_pid")
	ne_up() { kill -0 "$ne_pid" 2>/dev/null && http_get "$port" /metrics >/dev/null; }
	wait_until 10 ne_up && break
	kill "$ne_pid" 2>/dev/null || true
	ne_pid=""
done
[[ -n $ne_pid ]] || fail "prometheus-node-exporter did not serve: $(tail -5 "$WORK/node-exporter.log")"
# same_num A B: two numbers in any notation are equal (Go writes 2.4e+08).
same_num() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 == b + 0) }'
}
# node_exporter sorts the labels by name.
served() {
	local body
	body=$(http_get "$port" /metrics) || return 1
	same_num "$(metric "$body" thpd_collapsed_bytes_total)" "$bytes" &&
		same_num "$(metric "$body" node_textfile_scrape_error)" 0 &&
		same_num "$(metric "$body" "thpd_target_huge_bytes{comm=\"thpt-mbig-$TAG\",pid=\"$pid\",policy=\"big\"}")" "$huge"
}
wait_until 10 served || fail "node_exporter on :$port does not serve thpd's metrics: $(http_get "$port" /metrics | grep -E '^(thpd_collapsed|thpd_target_huge|node_textfile)' | head)"
body=$(http_get "$port" /metrics)
note "prometheus-node-exporter (pid $ne_pid, :$port) serves $(grep -c '^thpd_' <<<"$body") thpd_ samples"
kill "$ne_pid"
wait "$ne_pid" 2>/dev/null || true

# ---- a path that cannot be written: said once, thpd goes on ----------------------
metrics_drop_in "$WORK/missing/thpd.prom"
kill -HUP "$THPD_PID"
complained() { grep -q "cannot write metrics to $WORK/missing/thpd.prom: No such file or directory" "$LOG"; }
wait_until 10 complained || fail "no warning about the missing directory"
nap 3
thpd_alive
n=$(grep -c "write metrics to $WORK/missing/thpd.prom" "$LOG") || true
[[ $n == 1 ]] || fail "the failing textfile was reported $n times in 3 s, want once"
vcall io.thpd.Manager.GetStatus >/dev/null || fail "thpd does not answer after failed writes"
# The directory appears: written at the next interval, and said so.
mkdir "$WORK/missing"
wait_until 5 eval '[[ -s $WORK/missing/thpd.prom ]]' || fail "not written once the directory exists"
wait_until 2 grep -q "metrics written to $WORK/missing/thpd.prom again" "$LOG" ||
	fail "no note that the textfile is written again"
metrics_drop_in "$PROM_DIR/thpd.prom"
rm -f "$f"
kill -HUP "$THPD_PID"
wait_until 10 eval '[[ -s $f ]]' || fail "$f not written after the reload back"
n=$(grep -c "writing metrics to $f every 1.0 s" "$LOG") || true
[[ $n == 2 ]] || fail "'writing metrics to $f' said $n times, want 2 (start, reload back)"
thpd_alive
echo "PASS"
