#!/bin/bash
# Every manual page in man/ renders with `man -l` without a word on stderr
# (groff's default warnings, "cannot adjust line" among them, and man's
# macro warnings), passes groff with every warning enabled (-ww), has its
# NAME and DESCRIPTION sections, and is installed by man/meson.build.
. "$(dirname "$0")/lib.sh"
: "${SRCDIR:?}"
command -v man >/dev/null || skip "man not installed (package man-db)"
command -v groff >/dev/null || command -v nroff >/dev/null || skip "groff not installed (package groff-base)"

pages=("$SRCDIR"/man/*.[1-8])
((${#pages[@]} >= 3)) || fail "only ${#pages[@]} pages in $SRCDIR/man"
installed=$(cat "$SRCDIR/man/meson.build")
for page in "${pages[@]}"; do
	name=$(basename "$page")
	rc=0
	out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>"$WORK/err") || rc=$?
	err=$(cat "$WORK/err")
	[[ $rc -eq 0 ]] || fail "man -l $name: exit $rc: $err"
	[[ -z $err ]] || fail "man --warnings -l $name warns: $err"
	err=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff $name: $err"
	[[ -z $err ]] || fail "groff -ww $name warns: $err"
	for section in NAME DESCRIPTION; do
		grep -q "^$section\$" <<<"$out" || fail "man -l $name: no $section section in: ${out:0:400}"
	done
	lines=$(wc -l <<<"$out")
	[[ $installed == *"'$name'"* ]] || fail "$name is not installed by man/meson.build"
	note "$name: $lines lines, no warnings"
done
echo PASS
