#!/bin/bash
# Build thpd and run every test suite (unit, fuzz replay, integration,
# benchmark smoke test). Run as root: integration tests drive process_madvise
# on real processes (without root they skip with 77).
#
# Two builds:
#   build/       plain (what scripts/demo.sh and the kernel matrix run); the
#                tests of suite "plain" run here: those that cannot run a
#                sanitized binary (thpd under valgrind, thpd inside a systemd
#                container without the sanitizer runtime), and pid-reuse
#                (1280 processes: twice as long under ASan).
#   build-asan/  ASan + UBSan (-fno-sanitize-recover): every other test. A
#                sanitizer report in thpd's output fails the test.
# SANITIZE=0 runs every test on the plain build instead (no build-asan/).
# MESON_TEST_ARGS (split on spaces) go to both `meson test` runs, e.g.
# "--no-suite slow".
# Prints "N passed, N failed, N skipped" last; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SANITIZE=${SANITIZE:-1}
# What the builds need first; the tests' tools after the builds (in CI they
# are being installed in the background meanwhile: this waits for that).
bash scripts/install-deps.sh --build

# setup DIR MESON_ARGS...: configure DIR (again, if it exists) and build it.
setup() {
	local dir=$1
	shift
	if [[ -d $dir ]]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

# run_suite DIR MESON_TEST_ARGS...: meson test in DIR; results appended to
# $RESULTS (one JSON object per test).
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
rc=0
run_suite() {
	local dir=$1
	shift
	# shellcheck disable=SC2086 # MESON_TEST_ARGS holds several words
	meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "$@" ${MESON_TEST_ARGS:-} || rc=1
	cat "$dir/meson-logs/testlog.json" >>"$RESULTS"
}

setup build -Db_sanitize=none
((SANITIZE)) && setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
bash scripts/install-deps.sh
if ((SANITIZE)); then
	# The sanitized tests first: meanwhile CI's prefetch makes the root
	# filesystem that two of the plain tests (containers) need.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		run_suite build-asan --no-suite plain
	run_suite build --suite plain
else
	run_suite build
fi

passed=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$RESULTS")
failed=$(jq -s '[.[] | select(.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR" or .result == "UNEXPECTEDPASS")] | length' "$RESULTS")
skipped=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$RESULTS")
jq -r -s '.[] | select(.result == "SKIP") | "skipped: \(.name)"' "$RESULTS"
echo "$passed passed, $failed failed, $skipped skipped"
if ((failed > 0 || rc != 0)); then exit 1; fi
