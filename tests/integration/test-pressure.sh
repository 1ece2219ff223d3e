#!/bin/bash
# Acceptance (issue 10): under real memory pressure thpd pauses, says why in
# `thpctl status`, and resumes when pressure falls.
#
# Pressure is made for real: a reader in a 64 MiB memory cgroup keeps
# faulting random pages of a 256 MiB file back in, so the kernel reclaims
# and refaults all the time and PSI (/proc/pressure/memory) "some" rises to
# several percent. thpd watches with a 3% threshold (full not watched).
. "$(dirname "$0")/lib.sh"
require_collapse
[[ -r /proc/pressure/memory ]] || skip "no PSI on this kernel (/proc/pressure/memory)"
command -v python3 >/dev/null || skip "python3 not installed"

CG_NAME=thpd-test-pressure-$$
if [[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then
	CG=/sys/fs/cgroup/memory/$CG_NAME
	LIMIT_FILE=memory.limit_in_bytes
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/$CG_NAME
	LIMIT_FILE=memory.max
else
	skip "no memory cgroup controller available"
fi
THRASH_PID=
cleanup_pressure() {
	[[ -z $THRASH_PID ]] || kill "$THRASH_PID" 2>/dev/null || true
	[[ -z $THRASH_PID ]] || wait "$THRASH_PID" 2>/dev/null || true
	[[ -d $CG ]] && rmdir "$CG" 2>/dev/null || true
}
on_exit cleanup_pressure

some_avg10() { awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/memory; }
below() { awk -v a="$(some_avg10)" -v b="$1" 'BEGIN { exit !(a < b) }'; }
wait_until 60 below 1.0 || skip "memory pressure on this machine is already $(some_avg10)% (need < 1% to start)"

write_config 1s \
	"  - name: pressure" \
	"    match: {comm: [thpt-psi]}"
sed -i 's/^daemon:$/daemon:\n  pressure: {some: 3%, full: 0%}/' "$CONF"
"$THPD" --check-config --config "$CONF" >/dev/null || fail "generated config rejected"
start_thpd

# The reader: random page reads of a file 4x its cgroup's limit.
dd if=/dev/urandom of="$WORK/big" bs=1M count=256 status=none
mkdir "$CG"
echo $((64 << 20)) >"$CG/$LIMIT_FILE"
cat >"$WORK/thrash.py" <<'EOF'
import mmap, os, random, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # charge the pages to this cgroup
m = mmap.mmap(fd, os.fstat(fd).st_size, prot=mmap.PROT_READ)
pages, r, s = len(m) // 4096, random.Random(1), 0
while True:
    for _ in range(2000):
        s += m[r.randrange(pages) * 4096]
EOF
sh -c "echo \$\$ > '$CG/cgroup.procs' && exec python3 '$WORK/thrash.py' '$WORK/big'" &
THRASH_PID=$!

pause_json() { vcall io.thpd.Manager.GetStatus | jq -c '.parameters.pauses[] | select(.reason == "pressure")'; }
paused() { [[ -n $(pause_json) ]]; }
wait_until 60 paused || fail "no pressure pause after 60 s (PSI some avg10 $(some_avg10)%)"
note "paused at PSI some avg10 $(some_avg10)%: $(pause_json)"
detail=$(pause_json | jq -r '.detail // empty')
[[ $detail =~ ^some\ avg10\ [0-9.]+%\ (\>|still\ above\ half\ of)\ 3\.00%$ ]] ||
	fail "pause detail does not name the PSI figure: '$detail'"
text=$("$THPCTL" --socket "$SOCK" status)
grep -q "pressure" <<<"$text" || fail "thpctl status does not show the pressure pause: $text"
grep -qF "some avg10" <<<"$text" || fail "thpctl status does not say why: $text"

# A target that appears while paused is not collapsed.
start_target psi --name thpt-psi --size 64M
pid=$(ready_get "$READY" pid)
start=$(ready_get "$READY" start)
end=$(ready_get "$READY" end)
sleep $((3 * TIME_SCALE))
kb=$(huge_kb "$pid" "$start" "$end")
[[ $kb =~ ^[0-9]+$ ]] || fail "no huge figure for the target: '$kb'"
((kb == 0)) || fail "collapsed $kb kB while memory pressure paused thpd"
attempts=$(target_json "$pid" | jq -e '.summary.attempts // .attempts') || fail "no attempts field"
((attempts == 0)) || fail "$attempts collapse attempts while paused"

# Pressure falls: thpd resumes (at half the threshold) and collapses.
kill "$THRASH_PID"
wait "$THRASH_PID" 2>/dev/null || true
THRASH_PID=
resumed() { ! paused; }
wait_until 90 resumed || fail "still paused 90 s after the pressure stopped (PSI some avg10 $(some_avg10)%)"
note "resumed at PSI some avg10 $(some_avg10)%"
done_huge() { (($(huge_kb "$pid" "$start" "$end") >= 64 * 1024 * 95 / 100)); }
wait_until 20 done_huge || fail "target not collapsed after the pause: $(huge_kb "$pid" "$start" "$end") kB huge"
grep -q "memory pressure (some avg10" "$LOG" || fail "no log line for the pause"
grep -q "memory pressure fell" "$LOG" || fail "no log line for the resume"
thpd_alive
echo "PASS"
