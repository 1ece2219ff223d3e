#!/bin/bash
# Static analysis of the C sources; any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	--inline-suppr --std=c11 -D_GNU_SOURCE -Icommon -Idaemon -Iclient \
	--suppress=missingIncludeSystem --suppress=unknownMacro \
	common daemon client tests/fixtures
echo "cppcheck: clean"
