#!/bin/bash
# The unit suite under valgrind memcheck (errors and definite/indirect leaks
# fail). The daemon itself runs under memcheck in the integration test
# test-valgrind.sh. Expects a configured build in BUILD_DIR (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
set +e
# memcheck runs code 10-50x slower: meson's timeouts x4.
meson test -C "$BUILD_DIR" --no-rebuild --suite unit --print-errorlogs --timeout-multiplier 4 \
	--wrapper "valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect"
set -e
log="$BUILD_DIR/meson-logs/testlog-valgrind.json"
[[ -f $log ]] || log="$BUILD_DIR/meson-logs/testlog.json"
passed=$(jq -s '[.[] | select(.result == "OK")] | length' "$log")
failed=$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")
skipped=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")
jq -r 'select(.result == "SKIP") | "skipped: \(.name)"' "$log"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
