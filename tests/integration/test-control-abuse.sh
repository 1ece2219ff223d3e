#!/bin/bash
# Abuse of the control socket while targets are being collapsed: garbage,
# invalid JSON, JSON that is not an object, unknown methods and fields,
# messages over the 64 KiB limit, 256 idle connections against the cap of
# 128 per unprivileged user (root still gets in), clients that never
# read their replies or events (also the one whose own Reload overflows its
# event queue), an idle connection (closed after IDLE_S; 60 s in production,
# shortened through the THPD_TEST_CONTROL_IDLE_S seam) next to a Monitor
# (kept). Afterwards the daemon answers promptly, still collapses a new
# target, and has as many file descriptors as before.
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
T0=$((${EPOCHREALTIME//[!0-9]/} * 1000))
elapsed() { echo $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - T0) / 1000000000)); }

# Raw sockets from python3; the interpreter must be runnable by nobody too.
PY=""
for p in /usr/bin/python3 "$(command -v python3 || true)"; do
	if [[ -x $p ]] && setpriv --reuid=nobody --regid=nogroup --clear-groups "$p" -c pass 2>/dev/null; then
		PY=$p
		break
	fi
done
[[ -n $PY ]] || skip "no python3 that user nobody can run"
getent passwd nobody >/dev/null || skip "no user nobody"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
chmod 755 "$WORK"
mkdir "$WORK/nobody"
chown nobody "$WORK/nobody"

cat >"$WORK/abuse.py" <<'EOF'
import codecs, fcntl, os, signal, socket, struct, sys, termios, time

M = "io.thpd.Manager."
LIMIT_OUT = 4 * 1024 * 1024


def connect(path, timeout=5.0):
    """Connect; a full listen backlog (EAGAIN: the daemon has not accepted
    yet) is waited out, up to 5 s."""
    deadline = time.monotonic() + 5
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def drain(s, wait, want=0):
    """Read until EOF, `want` replies or `wait` s of silence: (bytes, closed)."""
    out = b""
    s.settimeout(wait)
    try:
        while not want or out.count(b"\0") < want:
            d = s.recv(65536)
            if not d:
                return out, True
            out += d
        return out, False
    except socket.timeout:
        return out, False
    except (ConnectionResetError, BrokenPipeError):
        return out, True


def call_ok(s):
    """One GetStatus on an open connection: a reply?"""
    s.sendall(b'{"method":"' + M.encode() + b'GetStatus"}\0')
    data, _ = drain(s, 2.0, 1)
    return data.startswith(b'{"parameters":{"version"')


def report(**kw):
    print(" ".join("%s=%s" % kv for kv in kw.items()), flush=True)


def cmd_probe(path, payload):
    """Send the bytes; then is the connection closed, what came back?"""
    data = codecs.decode(payload, "unicode_escape").encode("latin-1")
    s = connect(path)
    t = time.monotonic()
    s.sendall(data)
    out, closed = drain(s, 2.0, 1)
    if not closed:
        more, closed = drain(s, 0.1)
        out += more
    alive = False
    if not closed:
        try:
            alive = call_ok(s)
        except OSError:
            pass
    report(closed=int(closed), ms=int((time.monotonic() - t) * 1000), replies=out.count(b"\0"),
           alive_after=int(alive))
    for r in out.split(b"\0")[:-1]:
        print(r.decode())


def cmd_sized(path, size, nul):
    """A GetStatus call padded with blanks to exactly `size` bytes."""
    head, tail = b'{"method":"' + M.encode() + b'GetStatus"', b"}"
    msg = head + b" " * (int(size) - len(head) - len(tail)) + tail
    assert len(msg) == int(size)
    s = connect(path)
    sent = 0
    try:
        for i in range(0, len(msg), 4096):
            s.sendall(msg[i:i + 4096])
            sent += len(msg[i:i + 4096])
        if nul == "nul":
            s.sendall(b"\0")
    except (BrokenPipeError, ConnectionResetError):
        pass
    out, closed = drain(s, 2.0)
    report(size=size, sent=sent, closed=int(closed), replies=out.count(b"\0"))


def cmd_flood(path, size):
    """`size` bytes without a NUL: how much goes in before the cut?"""
    s = connect(path)
    t, sent, err = time.monotonic(), 0, "none"
    chunk = b"x" * 16384
    try:
        while sent < int(size):
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError) as e:
        err = type(e).__name__
    except socket.timeout:
        err = "timeout"
    out, closed = drain(s, 2.0)
    report(sent=sent, error=err, closed=int(closed or err != "none"), replies=out.count(b"\0"),
           ms=int((time.monotonic() - t) * 1000))


def cmd_noread(path, msg, seconds):
    """Send calls and never read the replies: when is it cut off?"""
    data = (msg.encode() + b"\0") * 20
    s = connect(path, timeout=float(seconds))
    t, calls, err = time.monotonic(), 0, "none"
    try:
        while time.monotonic() - t < float(seconds):
            s.sendall(data)
            calls += 20
    except (BrokenPipeError, ConnectionResetError) as e:
        err = type(e).__name__
    except socket.timeout:
        err = "timeout"
    report(calls=calls, error=err, ms=int((time.monotonic() - t) * 1000))


def cmd_hold(path, n, outfile):
    """Open n connections and keep them until SIGTERM; report how many the
    daemon accepted (still open) and refused (closed at once)."""
    socks = []
    for _ in range(int(n)):
        try:
            socks.append(connect(path))
        except OSError:
            socks.append(None)
    time.sleep(0.7)
    refused = 0
    for s in socks:
        if s is None:
            refused += 1
            continue
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                refused += 1
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
    with open(outfile + ".tmp", "w") as f:
        f.write("accepted %d refused %d\n" % (int(n) - refused, refused))
    os.rename(outfile + ".tmp", outfile)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])


def cmd_idle(path, outfile):
    """Connect, say nothing; write when the daemon closes the connection."""
    s = connect(path)
    t = time.monotonic()
    s.settimeout(None)
    while s.recv(4096):
        pass
    with open(outfile, "w") as f:
        f.write("closed_after %.1f\n" % (time.monotonic() - t))


def cmd_monitor(path, outfile):
    """Subscribe and log every event; log EOF with the time it came."""
    s = connect(path)
    t = time.monotonic()
    s.sendall(b'{"method":"' + M.encode() + b'Monitor","more":true}\0')
    s.settimeout(None)
    buf = b""
    with open(outfile, "a") as f:
        while True:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                f.write("EOF %.1f\n" % (time.monotonic() - t))
                return
            buf += d
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                f.write(msg.decode() + "\n")
                f.flush()


def cmd_overflow_reload(path, conf, new_conf, victim):
    """A Monitor that never reads, filled to just under the 4 MiB limit,
    then its own Reload drops a target: two events in one call, the first
    crosses the limit. What is pending in the daemon is computed exactly:
    everything it was asked to answer minus what reached our socket."""
    s = connect(path)
    s.sendall(b'{"method":"' + M.encode() + b'Monitor","more":true}\0')
    total = len(b'{"parameters":{"type":"subscribed"},"continues":true}\0')
    tiny = b'{"method":"x"}\0'
    tiny_reply = len(b'{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"x"}}\0')

    def inq():
        return struct.unpack("i", fcntl.ioctl(s, termios.FIONREAD, b"\0\0\0\0"))[0]

    def pending():
        # Once the daemon has answered everything, what reached our socket
        # stops changing.
        seen = [-1, -2, -3]
        while len(set(seen[-3:])) > 1:
            time.sleep(0.02)
            seen.append(inq())
        return total - seen[-1]

    t = time.monotonic()
    while True:
        p = pending()
        if p > LIMIT_OUT - 100:
            break
        n = max(1, min(2000, (LIMIT_OUT - 100 - p) // tiny_reply))
        s.sendall(tiny * n)
        total += tiny_reply * n
    p = pending()
    os.replace(new_conf, conf)
    t_reload = time.monotonic()
    try:
        s.sendall(b'{"method":"' + M.encode() + b'Reload"}\0')
    except OSError:
        pass
    # Not a byte read before the Reload is done (reading lets the daemon
    # write, which would empty its queue): ask on another connection.
    call = b'{"method":"' + M.encode() + b'GetTarget","parameters":{"pid":%d}}\0' % int(victim)
    for _ in range(100):
        o = connect(path)
        o.sendall(call)
        r, _ = drain(o, 2.0, 1)
        o.close()
        if b"NoSuchTarget" in r:
            break
        time.sleep(0.05)
    # The daemon must drop this client: reading now, we get what was queued
    # and then EOF.
    closed = False
    s.settimeout(5)
    got = 0
    try:
        while True:
            d = s.recv(1 << 20)
            if not d:
                closed = True
                break
            got += len(d)
    except socket.timeout:
        pass
    except OSError:
        closed = True
    report(pending_before_reload=p, below_limit_by=LIMIT_OUT - p, closed=int(closed),
           fill_ms=int((t_reload - t) * 1000))


cmds = {"probe": cmd_probe, "sized": cmd_sized, "flood": cmd_flood, "noread": cmd_noread,
        "hold": cmd_hold, "idle": cmd_idle, "monitor": cmd_monitor,
        "overflow-reload": cmd_overflow_reload}
cmds[sys.argv[1]](*sys.argv[2:])
EOF
chmod 644 "$WORK/abuse.py"
# abuse CMD ARGS...: run a mode of abuse.py (in the background, start
# "$PY" "$WORK/abuse.py" itself so that $! is its pid).
abuse() { "$PY" "$WORK/abuse.py" "$@"; }
# kv LINE KEY: a value from a "k=v k=v" report.
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# A victim policy first (Reload turns it into an ignore policy), then the rest.
# Collapsing is rate-limited so that the big target takes a while.
policies=("  - name: victim" "    match: {comm: [thpt-abuse-${TAG}v]}"
	"  - name: abuse" "    match: {comm: [\"thpt-abuse-$TAG*\"]}")
write_config 1s "${policies[@]}"
sed -i 's/max_collapse_rate: .*/max_collapse_rate: 256MiB/' "$CONF"
cp "$CONF" "$WORK/main.yaml"
write_config 1s "  - name: victim" "    match: {comm: [thpt-abuse-${TAG}v]}" "    ignore: true" \
	"  - name: abuse" "    match: {comm: [\"thpt-abuse-$TAG*\"]}"
sed -i 's/max_collapse_rate: .*/max_collapse_rate: 256MiB/' "$CONF"
cp "$CONF" "$WORK/flipped.yaml"
cp "$WORK/main.yaml" "$CONF"
# The idle cut-off: 25 s instead of 60 (the abuse before the check takes
# about 20 s, so the test does not wait a minute for it).
IDLE_S=25
export THPD_TEST_CONTROL_IDLE_S=$IDLE_S
start_thpd

is_target() { [[ -n $(target_json "$1") ]]; }
no_target() { [[ -z $(target_json "$1") ]]; }
# fds: the fewest open fds of thpd over 10 samples (its workers briefly
# open /proc files).
fds() {
	local min=1000000 n
	for _ in $(seq 1 10); do
		n=$(find "/proc/$THPD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		((n < min)) && min=$n
		sleep 0.1
	done
	echo "$min"
}
# status_ms: GetStatus round trip in ms; fails without an answer.
status_ms() {
	local t r
	t=$((${EPOCHREALTIME//[!0-9]/} * 1000))
	r=$(vcall io.thpd.Manager.GetStatus 2>/dev/null)
	jqe '.parameters.version' <<<"$r" >/dev/null || return 1
	echo $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t) / 1000000))
}
healthy() {
	thpd_alive
	status_ms >/dev/null || fail "thpd does not answer GetStatus after: $1"
}

# A 1.5 GiB target, collapsed at 256 MiB/s while the abuse goes on.
start_target big --name "thpt-abuse-${TAG}b" --size 1536M
BIG=$READY
bigpid=$(ready_get "$BIG" pid)
wait_until 10 is_target "$bigpid" || fail "the big target never became a target"
BASE_FDS=$(fds)
note "thpd fds with one target and no clients: $BASE_FDS"

# Held for the whole test: an idle connection (the daemon closes it after
# IDLE_S) and a Monitor (which must stay: subscribers are not idle).
"$PY" "$WORK/abuse.py" idle "$SOCK" "$WORK/idle.closed" &
CHILD_PIDS+=("$!")
"$PY" "$WORK/abuse.py" monitor "$SOCK" "$WORK/monitor.log" &
MONPID=$!
CHILD_PIDS+=("$MONPID")
monitor_has() { grep -sv '^EOF' "$WORK/monitor.log" | jqe -s "any(.[]; $1)" >/dev/null; }
wait_until 5 monitor_has '.parameters.type == "subscribed"' || fail "Monitor did not subscribe"

collapsing() {
	local tj
	tj=$(target_json "$bigpid")
	(($(jq '.summary.chunks.huge' <<<"$tj") < 768))
}
collapsing || note "the big target was already collapsed when the abuse started"

# ---- garbage, invalid JSON, not an object: the connection is closed ----------
for payload in 'this is not json\x00' '\xff\xfe\x01garbage\x00' '{"method":\x00' \
	'{"method":"io.thpd.Manager.GetStatus",}\x00' '[1,2,3]\x00' '"a string"\x00' '42\x00' \
	'null\x00' '\x00' '{"method":"io.thpd.Manager.GetStatus","method":"x"}\x00'; do
	out=$(abuse probe "$SOCK" "$payload")
	head=$(head -n 1 <<<"$out")
	[[ $(kv "$head" closed) == 1 && $(kv "$head" replies) == 0 ]] ||
		fail "payload '$payload': expected the connection closed without a reply, got: $out"
done
note "10 kinds of garbage: each connection closed without a reply"
healthy "garbage"
start_target extra1 --name "thpt-abuse-${TAG}1" --size 256M
EXTRA1=$(ready_get "$READY" pid)

# ---- well-formed calls that are wrong: an error reply, the connection stays ----
out=$(abuse probe "$SOCK" '{"method":"io.thpd.Manager.Frobnicate"}\x00')
[[ $(kv "$(head -n 1 <<<"$out")" closed) == 0 && $(kv "$(head -n 1 <<<"$out")" alive_after) == 1 ]] ||
	fail "unknown method: connection not kept: $out"
[[ $(sed -n 2p <<<"$out" | jq -r .error) == org.varlink.service.MethodNotFound ]] ||
	fail "unknown method: $out"
[[ $(sed -n 2p <<<"$out" | jq -r .parameters.method) == io.thpd.Manager.Frobnicate ]] ||
	fail "MethodNotFound does not name the method: $out"
for c in "ListTargets {\"verbose\":1} verbose" "GetStatus {\"x\":null,\"y\":1} y" \
	"GetTarget {\"pid\":$bigpid,\"detail\":true} detail" \
	"Collapse {\"pid\":$bigpid,\"start\":0,\"stride\":2} stride" "Pause {\"pid\":$bigpid,\"for\":5} for" \
	"GetCounters {\"reset\":true} reset" "Monitor {\"filter\":\"x\"} filter"; do
	read -r method params field <<<"$c"
	out=$(abuse probe "$SOCK" "{\"method\":\"io.thpd.Manager.$method\",\"parameters\":$params}\\x00")
	r=$(sed -n 2p <<<"$out")
	[[ $(jq -r .error <<<"$r") == org.varlink.service.InvalidParameter &&
		$(jq -r .parameters.parameter <<<"$r") == "$field" ]] ||
		fail "$method $params: expected InvalidParameter naming $field, got: $out"
	[[ $(kv "$(head -n 1 <<<"$out")" alive_after) == 1 ]] || fail "$method $params: connection lost"
done
[[ $(target_json "$bigpid" | jq -r .summary.state) == active ]] || fail "a rejected Pause paused the target"
# Unknown or mistyped fields of the call itself.
for call in '{"method":"io.thpd.Manager.GetStatus","bogus":1}' '{"parameters":{}}' \
	'{"method":42}' '{"method":"io.thpd.Manager.GetStatus","parameters":[]}' \
	'{"method":"io.thpd.Manager.GetStatus","oneway":"yes"}'; do
	out=$(abuse probe "$SOCK" "$call\\x00")
	[[ $(sed -n 2p <<<"$out" | jq -r .error) == org.varlink.service.InvalidParameter ]] ||
		fail "$call: expected InvalidParameter, got: $out"
done
note "unknown methods and fields: MethodNotFound / InvalidParameter naming them, connection kept"
healthy "wrong calls"

# ---- message size: 64 KiB is the limit -------------------------------------------
r=$(abuse sized "$SOCK" 65536 nul)
[[ $(kv "$r" replies) == 1 ]] || fail "a 65536-byte call was not answered: $r"
r=$(abuse sized "$SOCK" 65537 nul)
[[ $(kv "$r" replies) == 0 && $(kv "$r" closed) == 1 ]] || fail "a 65537-byte call was not cut off: $r"
r=$(abuse flood "$SOCK" $((1024 * 1024)))
[[ $(kv "$r" closed) == 1 && $(kv "$r" replies) == 0 ]] || fail "1 MiB without NUL: not cut off: $r"
(($(kv "$r" sent) < 1024 * 1024)) || fail "1 MiB without NUL: all of it was taken: $r"
note "1 MiB without NUL: cut off after $(kv "$r" sent) bytes sent ($(kv "$r" error), $(kv "$r" ms) ms)"
healthy "oversized messages"
start_target extra2 --name "thpt-abuse-${TAG}2" --size 256M
EXTRA2=$(ready_get "$READY" pid)

# ---- clients that never read ----------------------------------------------------
r=$(abuse noread "$SOCK" "{\"method\":\"io.thpd.Manager.GetTarget\",\"parameters\":{\"pid\":$bigpid,\"chunks\":true}}" 20)
[[ $(kv "$r" error) == BrokenPipeError || $(kv "$r" error) == ConnectionResetError ]] ||
	fail "a client that never reads GetTarget replies was not disconnected: $r"
note "never reads GetTarget($bigpid): disconnected after $(kv "$r" calls) calls, $(kv "$r" ms) ms"
r=$(abuse noread "$SOCK" '{"method":"io.thpd.Manager.GetPolicy"}' 20)
[[ $(kv "$r" error) != none && $(kv "$r" error) != timeout ]] ||
	fail "a client that never reads GetPolicy replies was not disconnected: $r"
note "never reads GetPolicy: disconnected after $(kv "$r" calls) calls, $(kv "$r" ms) ms"
healthy "clients that never read"
collapsing && note "the big target was still being collapsed ($(target_json "$bigpid" | jq .summary.chunks.huge)/768 huge)"

# ---- 256 idle connections of an unprivileged user against its cap of 128 ------------
# (Held now by root: the idle connection and the Monitor.)
setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" "$WORK/abuse.py" hold "$SOCK" 256 "$WORK/nobody/hold" &
HOLD_NOBODY=$!
CHILD_PIDS+=("$HOLD_NOBODY")
wait_until 15 test -f "$WORK/nobody/hold" || fail "the 256 connections were not set up"
read -r _ acc _ ref <"$WORK/nobody/hold"
note "nobody, 256 idle connections: $acc accepted, $ref refused (per-user cap 128)"
((acc == 128 && acc + ref == 256)) ||
	fail "expected 128 of 256 connections accepted (per-user cap), got $acc accepted, $ref refused"
# nobody is at its cap; everyone else still gets in.
ms=$(status_ms) || fail "root is locked out while nobody holds 128 connections"
note "root's GetStatus with nobody at its cap: ${ms} ms"
out=$(printf '%s\0' '{"method":"io.thpd.Manager.GetStatus"}' |
	as_nobody socat -t2 -T3 - "UNIX-CONNECT:$SOCK" 2>/dev/null | tr -d '\0' || true)
[[ -z $out ]] || fail "nobody got an answer beyond its cap: $out"
# Root holding more: well below the global cap of 1024, all accepted.
"$PY" "$WORK/abuse.py" hold "$SOCK" 32 "$WORK/hold.root" &
HOLD_ROOT=$!
CHILD_PIDS+=("$HOLD_ROOT")
wait_until 15 test -f "$WORK/hold.root" || fail "root's 32 connections were not set up"
read -r _ racc _ rref <"$WORK/hold.root"
note "root, 32 more idle connections: $racc accepted, $rref refused"
((racc == 32)) || fail "root got $racc of 32 connections"
kill -TERM "$HOLD_ROOT"
wait "$HOLD_ROOT" 2>/dev/null || true
wait_until 5 status_ms >/dev/null || fail "root's GetStatus fails after its connections were closed"
kill -TERM "$HOLD_NOBODY"
wait "$HOLD_NOBODY" 2>/dev/null || true
nobody_ok() {
	printf '%s\0' '{"method":"io.thpd.Manager.GetStatus"}' |
		as_nobody socat -t2 -T3 - "UNIX-CONNECT:$SOCK" 2>/dev/null | tr -d '\0' |
		jqe .parameters.version >/dev/null 2>&1
}
wait_until 5 nobody_ok || fail "nobody still refused after its connections were closed"
healthy "256 idle connections"
start_target extra3 --name "thpt-abuse-${TAG}3" --size 256M
EXTRA3=$(ready_get "$READY" pid)

# The targets started during the abuse got collapsed all the same.
extra_done() { [[ $(target_json "$1" | jq -r '.summary.huge_bytes') -ge $((256 * 1048576 * 95 / 100)) ]]; }
for p in "$EXTRA1" "$EXTRA2" "$EXTRA3"; do
	wait_until 20 extra_done "$p" || fail "target $p not collapsed: $(target_json "$p" | jq -c .summary)"
done
note "the three targets started during the abuse are collapsed ($(elapsed) s into the test)"

# ---- a Monitor that never reads, whose own Reload overflows it ----------------------
# Collapsing is paused so that no other event reaches this (root) monitor.
start_target victim --name "thpt-abuse-${TAG}v" --size 4M
vpid=$(ready_get "$READY" pid)
wait_until 10 is_target "$vpid" || fail "the victim never became a target"
vcall io.thpd.Manager.Pause >/dev/null
sleep 0.5
r=$(abuse overflow-reload "$SOCK" "$CONF" "$WORK/flipped.yaml" "$vpid")
note "Monitor that never reads, own Reload at $(kv "$r" below_limit_by) bytes under the limit: $r"
thpd_alive
[[ $(kv "$r" closed) == 1 ]] || fail "the overflowing Monitor was not disconnected: $r"
wait_until 5 no_target "$vpid" || fail "the Reload did not drop the victim"
cp "$WORK/main.yaml" "$CONF"
r=$(vcall io.thpd.Manager.Reload)
jqe .parameters.config_generation <<<"$r" >/dev/null || fail "Reload back: $r"
vcall io.thpd.Manager.Resume >/dev/null
healthy "a Monitor overflowed by its own Reload"

# ---- afterwards ----------------------------------------------------------------------

# The idle connection goes at IDLE_S; the Monitor stays.
wait_until $((IDLE_S + 10)) test -s "$WORK/idle.closed" || fail "the idle connection was never closed"
read -r _ idle_s <"$WORK/idle.closed"
note "idle connection closed by thpd after $idle_s s"
awk -v s="$idle_s" -v t="$IDLE_S" 'BEGIN { exit !(s >= t - 1 && s <= t + 3) }' ||
	fail "idle connection closed after $idle_s s (timeout $IDLE_S s)"
sleep 2
grep -q '^EOF' "$WORK/monitor.log" &&
	fail "the Monitor subscriber was disconnected: $(grep '^EOF' "$WORK/monitor.log") s"

# A new target now: collapsed, and the Monitor (subscribed over IDLE_S ago) sees it.
ms=$(status_ms) || fail "no GetStatus answer at the end"
((ms < 1000)) || fail "GetStatus took $ms ms at the end"
note "GetStatus at the end: ${ms} ms"
t=$((${EPOCHREALTIME//[!0-9]/} * 1000))
start_target final --name "thpt-abuse-${TAG}f" --size 64M
F=$READY
fpid=$(ready_get "$F" pid)
final_done() {
	local kb
	kb=$(huge_kb "$fpid" "$(ready_get "$F" start)" "$(ready_get "$F" end)")
	((kb * 100 >= 64 * 1024 * 95))
}
wait_until 10 final_done || fail "the final 64 MiB target: $(huge_kb "$fpid" "$(ready_get "$F" start)" "$(ready_get "$F" end)") kB huge after 10 s"
note "final 64 MiB target collapsed in $((($((${EPOCHREALTIME//[!0-9]/} * 1000)) - t) / 1000000)) ms"
wait_until 5 monitor_has ".parameters.type == \"target-added\" and .parameters.pid == $fpid" ||
	fail "the Monitor subscribed $(elapsed) s ago saw no target-added for $fpid"
grep -q '^EOF' "$WORK/monitor.log" && fail "the Monitor was disconnected"
note "Monitor still subscribed after $(elapsed) s: $(grep -vc '^EOF' "$WORK/monitor.log") events"

# ---- file descriptors back to the baseline ------------------------------------------
kill -TERM "$MONPID"
for p in "$EXTRA1" "$EXTRA2" "$EXTRA3" "$fpid" "$vpid"; do
	kill -TERM "$p" 2>/dev/null || true
done
only_big() { [[ $(vcall io.thpd.Manager.ListTargets | jq -c '[.parameters.targets[].pid]') == "[$bigpid]" ]]; }
wait_until 10 only_big || fail "targets left: $(vcall io.thpd.Manager.ListTargets | jq -c '[.parameters.targets[].pid]')"
fds_back() { [[ $(fds) -le $BASE_FDS ]]; }
wait_until 5 fds_back || fail "thpd has $(fds) fds, $BASE_FDS before the abuse: $(ls -l "/proc/$THPD_PID/fd")"
note "thpd fds after the abuse: $(fds) (baseline $BASE_FDS)"
note "runtime $(elapsed) s"
thpd_alive
echo "PASS"
