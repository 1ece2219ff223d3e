#!/bin/bash
# Acceptance: --check-config on good and bad files gives the right exit code
# and names file:line:column (unknown key, bad size, bad YAML, ...).
set -euo pipefail
: "${THPD:?}" "${SRCDIR:?}"
DATA="$SRCDIR/tests/data/configs"
failures=0
check() {
	local file=$1 want_rc=$2 out rc
	set +e
	out=$("$THPD" --check-config --config "$file" 2>&1)
	rc=$?
	set -e
	if [[ $rc -ne $want_rc ]]; then
		echo "FAIL: $file: exit $rc, want $want_rc: $out"
		failures=$((failures + 1))
		return
	fi
	if [[ $want_rc -eq 1 ]]; then
		local pos
		pos=$(sed -n '1s/^# expect: *\([0-9]*:[0-9]*\).*/\1/p' "$file")
		if [[ -n $pos ]] && ! grep -qF "$file:$pos: " <<<"$out"; then
			echo "FAIL: $file: no diagnostic at $pos: $out"
			failures=$((failures + 1))
			return
		fi
		echo "ok: $(basename "$file") -> $(head -n 1 <<<"$out")"
	else
		echo "ok: $(basename "$file") -> $out"
	fi
}
n=0
for f in "$DATA"/good-*.yaml "$SRCDIR"/config/thpd.yaml "$SRCDIR"/config/examples/*.yaml; do
	check "$f" 0
	n=$((n + 1))
done
for f in "$DATA"/bad-*.yaml; do
	check "$f" 1
	n=$((n + 1))
done
for kind in unknown-key size yaml-syntax; do
	[[ -f "$DATA/bad-$kind.yaml" ]] || {
		echo "FAIL: missing sample bad-$kind.yaml"
		failures=$((failures + 1))
	}
done
# A missing file is an error that names it.
set +e
out=$("$THPD" --check-config --config /nonexistent/thpd.yaml 2>&1)
rc=$?
set -e
[[ $rc -eq 1 && $out == *"/nonexistent/thpd.yaml"* ]] || {
	echo "FAIL: missing file: rc=$rc $out"
	failures=$((failures + 1))
}
echo "# $n files checked, $failures failures"
[[ $failures -eq 0 ]] && echo PASS
exit $((failures > 0))
