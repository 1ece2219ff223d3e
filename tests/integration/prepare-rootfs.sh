#!/bin/bash
# Make the cached root filesystem of the container tests (container.sh's
# make_rootfs: debootstrap, once) ahead of them. CI starts this at its
# beginning, so the download and unpacking overlap the build and the
# sanitizer tests; the container tests then find the cache (or wait on its
# lock while this is still at work). Exit 0 made or found, 77 the archive
# cannot be reached (the tests skip then, and say why), 1 debootstrap failed.
set -euo pipefail
WORK=$(mktemp -d /tmp/thpd-prepare-rootfs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
skip() {
	echo "prepare-rootfs: $*"
	exit 77
}
fail() {
	echo "prepare-rootfs: $*" >&2
	exit 1
}
note() { echo "prepare-rootfs: $*"; }
# shellcheck source=tests/integration/container.sh
source "$(dirname "$0")/container.sh"
t0=$SECONDS
make_rootfs
note "$CACHED ready ($((SECONDS - t0)) s)"
