#!/bin/bash
# Kernel features found at start: thpd logs them in one line and `thpctl
# status` (text and --json) lists each with the value this machine really
# has, worked out here independently of thpd: process_madvise(MADV_COLLAPSE)
# on another process (root: yes), PAGEMAP_SCAN (Linux 6.7+), the proc
# connector, PSI, DAMON sysfs and vaddr (read-only: nothing under
# /sys/kernel/mm/damon is written), THP enabled/defrag from sysfs. Without
# CAP_SYS_NICE the probe says "denied (EPERM)" and thpd still runs;
# --check-config does not probe.
# shellcheck disable=SC2016 # $names in single quotes are jq variables
. "$(dirname "$0")/lib.sh"
require_collapse
: "${THPCTL:?THPCTL must point at the thpctl binary}"
# jqe ARGS...: jq -e on stdin, false on empty input (jq -e says true then).
jqe() {
	local in
	in=$(cat)
	[[ -n $in ]] && jq -e "$@" <<<"$in" >/dev/null
}

# ---- what this machine has -------------------------------------------------
release=$(uname -r)
# version_ge A B: A >= B as kernel versions.
version_ge() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1) == "$2" ]]; }
kver=${release%%-*}
if version_ge "$kver" 6.7; then want_pm=yes; else want_pm=no; fi
if head -c 1 /proc/pressure/memory >/dev/null 2>&1; then want_psi=yes; else want_psi=no; fi
# bracketed WORD of a THP sysfs file
bracketed() { sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1"; }
want_enabled=$(bracketed /sys/kernel/mm/transparent_hugepage/enabled)
want_defrag=$(bracketed /sys/kernel/mm/transparent_hugepage/defrag)
[[ -n $want_enabled && -n $want_defrag ]] || fail "cannot read THP enabled/defrag from sysfs"
# The kernel config of this kernel, if readable: /boot/config-RELEASE, else
# /proc/config.gz (thpd's order). kconfig_src prints which (empty if none).
kconfig_src() {
	if [[ -r /boot/config-$release ]]; then
		echo /boot/config
	elif [[ -r /proc/config.gz ]]; then
		echo /proc/config.gz
	fi
}
# kconfig OPTION: y, m, n (not set or not mentioned) or empty (no config).
kconfig() {
	local v
	case $(kconfig_src) in
	/boot/config) v=$(grep -E "^(# )?$1[= ]" "/boot/config-$release" || true) ;;
	/proc/config.gz) v=$(zcat /proc/config.gz | grep -E "^(# )?$1[= ]" || true) ;;
	*) return 0 ;;
	esac
	case $v in
	"$1=y") echo y ;;
	"$1=m") echo m ;;
	*) echo n ;;
	esac
}
# The proc connector: root binds and subscribes wherever the kernel has it.
if [[ $(kconfig CONFIG_CONNECTOR) == n ]]; then want_cn=no; else want_cn=yes; fi
# DAMON: sysfs; vaddr from an existing context's avail_operations (read
# only), else the kernel config.
if [[ -d /sys/kernel/mm/damon/admin ]]; then
	want_damon=yes
	want_vaddr=unknown
	want_vaddr_src="no DAMON context or kernel config readable"
	for f in /sys/kernel/mm/damon/admin/kdamonds/*/contexts/*/avail_operations; do
		[[ -r $f ]] || continue
		want_vaddr_src=avail_operations
		if grep -qx vaddr "$f"; then want_vaddr=yes; else want_vaddr=no; fi
		break
	done
	if [[ $want_vaddr_src != avail_operations ]]; then
		v=$(kconfig CONFIG_DAMON_VADDR)
		if [[ -n $v ]]; then
			want_vaddr_src=$(kconfig_src)
			if [[ $v == y ]]; then want_vaddr=yes; else want_vaddr=no; fi
		fi
	fi
	# Both sources, where both are there, must agree (this host: paddr
	# only, CONFIG_DAMON_VADDR not set).
	v=$(kconfig CONFIG_DAMON_VADDR)
	if [[ $want_vaddr_src == avail_operations && -n $v ]] &&
		[[ ($v == y && $want_vaddr != yes) || ($v != y && $want_vaddr == yes) ]]; then
		fail "avail_operations says vaddr $want_vaddr, $(kconfig_src) CONFIG_DAMON_VADDR=$v"
	fi
else
	want_damon=no
	want_vaddr=no
	want_vaddr_src="no DAMON sysfs"
fi
note "this machine: $release, PAGEMAP_SCAN $want_pm, PSI $want_psi, proc connector $want_cn," \
	"DAMON sysfs $want_damon, vaddr $want_vaddr ($want_vaddr_src), THP $want_enabled/$want_defrag"

# ---- --check-config does not probe -------------------------------------------
write_config 1s \
	"  - name: none" \
	"    match: {comm: [thpt-feat-none]}"
out=$("$THPD" --check-config --config "$CONF" 2>&1) || fail "--check-config: $out"
grep -q "MADV_COLLAPSE\|PAGEMAP_SCAN" <<<"$out" && fail "--check-config probed: $out"

# ---- the log line --------------------------------------------------------------
start_thpd
want_line="kernel $release: MADV_COLLAPSE on other processes: yes; PAGEMAP_SCAN: $want_pm"
[[ $want_pm == no ]] && want_line+=" (pagemap fallback)"
want_line+="; proc connector: $want_cn"
[[ $want_cn == no ]] && want_line+=" (EPROTONOSUPPORT)"
want_line+="; PSI: $want_psi"
[[ $want_psi == no ]] && want_line+=" (ENOENT)"
want_line+="; DAMON vaddr: $want_vaddr ($want_vaddr_src); THP enabled=$want_enabled"
want_line+=" defrag=$want_defrag"
grep -qxF "thpd: info: $want_line" "$LOG" ||
	fail "no features line \"$want_line\" in the log: $(grep -F 'kernel ' "$LOG")"
[[ $(grep -c "MADV_COLLAPSE on other processes" "$LOG") -eq 1 ]] || fail "features logged more than once"
note "log: $want_line"

# ---- thpctl status --json ----------------------------------------------------
json=$("$THPCTL" --socket "$SOCK" status --json) || fail "thpctl status --json failed"
jqe --arg k "$release" --arg pm "$want_pm" --arg psi "$want_psi" --arg cn "$want_cn" \
	--arg damon "$want_damon" --arg vaddr "$want_vaddr" --arg vsrc "$want_vaddr_src" \
	--arg en "$want_enabled" --arg df "$want_defrag" '
	.kernel == $k and (.kernel_features | type == "object") and (.kernel_features |
	 .madv_collapse == {state: "yes", errno: null, source: null}
	 and .pagemap_scan.state == $pm
	 and (if $pm == "yes" then .pagemap_scan.errno == null else .pagemap_scan.errno == "ENOTTY" end)
	 and .proc_connector == {state: $cn, errno: (if $cn == "yes" then null else "EPROTONOSUPPORT" end),
	                         source: null}
	 and .psi.state == $psi
	 and .damon_sysfs.state == $damon
	 and .damon_vaddr.state == $vaddr and .damon_vaddr.source == $vsrc
	 and .thp_enabled == $en and .thp_defrag == $df
	 and (keys | sort) == ["damon_sysfs", "damon_vaddr", "madv_collapse", "pagemap_scan",
	                       "proc_connector", "psi", "thp_defrag", "thp_enabled"])' \
	<<<"$json" || fail "status --json kernel_features: $(jq -c .kernel_features <<<"$json")"
note "status --json: $(jq -c '.kernel_features | map_values(if type == "object" then .state else . end)' <<<"$json")"

# ---- thpctl status (text) ----------------------------------------------------
text=$("$THPCTL" --socket "$SOCK" status) || fail "thpctl status failed"
expect_text() {
	grep -qE "^ *$1: $2\$" <<<"$text" || fail "status text lacks \"$1: $2\": $text"
}
grep -q "^Kernel features (found at start):" <<<"$text" || fail "no kernel features section: $text"
expect_text MADV_COLLAPSE yes
if [[ $want_pm == yes ]]; then
	expect_text PAGEMAP_SCAN yes
else
	expect_text PAGEMAP_SCAN "no \(ENOTTY; reads /proc/PID/pagemap instead\)"
fi
[[ $want_cn == yes ]] && expect_text "Proc connector" yes
[[ $want_psi == yes ]] && expect_text PSI yes
expect_text "DAMON sysfs" "$want_damon"
expect_text "DAMON vaddr" "$want_vaddr \\($want_vaddr_src\\)"
expect_text "THP enabled" "$want_enabled"
expect_text "THP defrag" "$want_defrag"
stop_thpd

# ---- without CAP_SYS_NICE: denied (EPERM), and thpd runs --------------------------
if command -v setpriv >/dev/null; then
	: >"$LOG"
	setpriv --inh-caps=-sys_nice --bounding-set=-sys_nice \
		"$THPD" --foreground --config "$CONF" --socket "$SOCK" >>"$LOG" 2>&1 &
	# shellcheck disable=SC2034 # lib.sh's cleanup and stop_thpd use it
	THPD_PID=$!
	wait_until 5 test -S "$SOCK" || fail "thpd without CAP_SYS_NICE did not start"
	wait_until 5 "$THPCTL" --socket "$SOCK" status --json >/dev/null 2>&1 ||
		fail "thpd without CAP_SYS_NICE does not answer"
	"$THPCTL" --socket "$SOCK" status --json |
		jqe '.kernel_features.madv_collapse == {state: "denied", errno: "EPERM", source: null}' ||
		fail "without CAP_SYS_NICE: $("$THPCTL" --socket "$SOCK" status --json | jq -c .kernel_features.madv_collapse)"
	grep -q "MADV_COLLAPSE on other processes: denied (EPERM);" "$LOG" || fail "log: $(cat "$LOG")"
	# The capability warning stays the one place that says what is missing.
	[[ $(grep -c "missing CAP_SYS_NICE" "$LOG") -eq 1 ]] || fail "capability warning: $(cat "$LOG")"
	stop_thpd
	note "without CAP_SYS_NICE: denied (EPERM), thpd runs"
fi
# ---- a kernel without MADV_COLLAPSE (test seam: the probe's errno) ---------------
# One clear line, exit status 1, never READY=1, no control socket.
NOTIFY="$WORK/notify.sock"
socat -u UNIX-RECV:"$NOTIFY" STDOUT >>"$WORK/notify.txt" 2>/dev/null &
CHILD_PIDS+=($!)
wait_until 5 test -S "$NOTIFY" || fail "notify socket not created"
for e in 22:"has no MADV_COLLAPSE (Linux 6.1 or later is needed)" \
	38:"has no process_madvise (ENOSYS; Linux 6.1 or later is needed)"; do
	rm -f "$SOCK"
	: >"$WORK/notify.txt"
	rc=0
	NOTIFY_SOCKET=$NOTIFY THPD_TEST_MADV_COLLAPSE_ERRNO=${e%%:*} timeout 10 \
		"$THPD" --foreground --config "$CONF" --socket "$SOCK" >"$WORK/nocollapse.out" 2>&1 || rc=$?
	((rc == 1)) || fail "errno ${e%%:*}: exit status $rc: $(cat "$WORK/nocollapse.out")"
	want="thpd: error: this kernel ($release) ${e#*:}; exiting"
	grep -qxF "$want" "$WORK/nocollapse.out" ||
		fail "errno ${e%%:*}: no \"$want\": $(cat "$WORK/nocollapse.out")"
	[[ $(grep -c "error" "$WORK/nocollapse.out") -eq 1 ]] ||
		fail "errno ${e%%:*}: more than one error line: $(cat "$WORK/nocollapse.out")"
	sleep 0.2
	grep -q READY=1 "$WORK/notify.txt" && fail "errno ${e%%:*}: READY=1 was sent"
	[[ -e $SOCK ]] && fail "errno ${e%%:*}: the control socket was created"
	note "errno ${e%%:*}: \"$want\", exit 1, no READY=1"
done
echo "PASS"
