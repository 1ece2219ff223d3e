#!/bin/bash
# The unit suite under valgrind memcheck (errors and definite/indirect leaks
# fail). The daemon itself runs under memcheck in the integration test
# test-valgrind.sh. Expects a configured build in BUILD_DIR (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
set +e
meson test -C "$BUILD_DIR" --no-rebuild --suite unit --print-errorlogs \
	--wrapper "valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect"
set -e
log="$BUILD_DIR/meson-logs/testlog-valgrind.json"
[[ -f $log ]] || log="$BUILD_DIR/meson-logs/testlog.json"
passed=$(jq -s '[.[] | select(.result == "OK")] | length' "$log")
failed=$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")
echo "$passed passed, $failed failed"
((failed == 0))
