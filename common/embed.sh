#!/bin/sh
# embed.sh NAME INPUT OUTPUT: write a C file defining `const char NAME[]`
# holding INPUT's text (used for the Varlink interface description).
set -eu
{
	printf '/* Generated from %s by embed.sh; do not edit. */\n' "$(basename "$2")"
	printf 'const char %s[] =\n' "$1"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$2"
	printf ';\n'
} >"$3"
