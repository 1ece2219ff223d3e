#!/bin/bash
# Build thpd and run every test suite (unit + integration) in BUILD_DIR
# (default build/). Run as root: integration tests drive process_madvise on
# real processes (without root they skip with 77). Extra arguments go to
# `meson setup` (e.g. -Db_sanitize=address,undefined); MESON_TEST_ARGS (split
# on spaces) go to `meson test` (e.g. "--no-suite slow").
# Prints "N passed, N failed, N skipped" last; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
bash scripts/install-deps.sh
if [[ -d $BUILD_DIR ]]; then
	meson setup --reconfigure "$BUILD_DIR" "$@" >/dev/null
else
	meson setup "$BUILD_DIR" "$@" >/dev/null
fi
ninja -C "$BUILD_DIR"
set +e
# shellcheck disable=SC2086 # MESON_TEST_ARGS holds several words
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-}
rc=$?
set -e
log="$BUILD_DIR/meson-logs/testlog.json"
passed=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")
failed=$(jq -s '[.[] | select(.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR" or .result == "UNEXPECTEDPASS")] | length' "$log")
skipped=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")
jq -r -s '.[] | select(.result == "SKIP") | "skipped: \(.name)"' "$log"
echo "$passed passed, $failed failed, $skipped skipped"
if ((failed > 0 || rc != 0)); then exit 1; fi
