#!/bin/bash
# The systemd units pass `systemd-analyze verify` and the service's offline
# security exposure is 2.0 or lower.
set -euo pipefail
: "${THPD:?}" "${BUILD_ROOT:?}"
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }
work=$(mktemp -d /tmp/thpd-test-units.XXXXXX)
trap 'rm -rf "$work"' EXIT

service="$BUILD_ROOT/systemd/thpd.service"
[[ -f $service ]] || { echo "FAIL: $service not generated"; exit 1; }
sbin=$(sed -n 's|^ExecStart=\(.*\)/thpd .*|\1|p' "$service")
# verify checks that executables exist: point the copy at the built binary.
sed "s|$sbin/thpd|$THPD|g" "$service" >"$work/thpd.service"
cp "$(dirname "$0")/../../systemd/thpd.socket" "$work/thpd.socket"
if ! out=$(systemd-analyze verify --man=no "$work/thpd.service" "$work/thpd.socket" 2>&1); then
	echo "FAIL: systemd-analyze verify: $out"
	exit 1
fi
[[ -z $out ]] || { echo "FAIL: systemd-analyze verify warned: $out"; exit 1; }
echo "# systemd-analyze verify: clean"

out=$(systemd-analyze security --offline=yes "$work/thpd.service" 2>&1) || true
score=$(sed -n 's/.*Overall exposure level for thpd.service: \([0-9.]*\).*/\1/p' <<<"$out")
[[ -n $score ]] || { echo "FAIL: no exposure score: $out"; exit 1; }
echo "# systemd-analyze security --offline=yes: exposure $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "FAIL: exposure $score > 2.0"; exit 1; }

# The capabilities the unit grants are the three ARCHITECTURE.md (Privileges) names, no more.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$service")
[[ $caps == "CAP_SYS_NICE CAP_SYS_PTRACE CAP_DAC_READ_SEARCH" ]] || { echo "FAIL: bounding set: $caps"; exit 1; }
grep -q '^SystemCallFilter=.*process_madvise' "$service" || { echo "FAIL: process_madvise not allowed"; exit 1; }
echo PASS
