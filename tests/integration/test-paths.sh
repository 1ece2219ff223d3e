#!/bin/bash
# One set of paths: the policy /etc/thpd/thpd.yaml, the socket
# /run/thpd/control.sock and the state /var/lib/thpd are the same in thpd's
# and thpctl's --help (the compiled-in defaults), the units, sysusers and
# tmpfiles files, the man pages and the README; `meson install` puts the
# policy where thpd and the unit look for it, whatever the prefix; and the
# README's commands need no sudo (not installed on Debian as root).
. "$(dirname "$0")/lib.sh"
: "${SRCDIR:?}" "${BUILD_ROOT:?}" "${THPCTL:?}"
CONFIG=/etc/thpd/thpd.yaml SOCKET=/run/thpd/control.sock STATE=/var/lib/thpd

# has FILE TEXT: FILE mentions TEXT.
has() { [[ $(cat "$1") == *"$2"* ]] || fail "$1 does not mention $2"; }

help=$("$THPD" --help)
[[ $help =~ policy\ file\ \(default\ ([^\)]*)\) ]] || fail "no default policy in thpd --help: $help"
[[ ${BASH_REMATCH[1]} == "$CONFIG" ]] || fail "thpd --help: policy ${BASH_REMATCH[1]}, want $CONFIG"
[[ $help == *"else $SOCKET)"* ]] || fail "thpd --help does not name $SOCKET: $help"
chelp=$("$THPCTL" --help)
[[ $chelp == *"(default $SOCKET)"* ]] || fail "thpctl --help does not name $SOCKET: $chelp"

unit="$BUILD_ROOT/systemd/thpd.service"
for key in ExecStartPre ExecStart; do
	line=$(sed -n "s/^$key=//p" "$unit")
	[[ $line == *" --config $CONFIG" ]] || fail "$key of thpd.service: $line"
done
grep -qx 'StateDirectory=thpd' "$unit" || fail "thpd.service has no StateDirectory=thpd ($STATE)"
grep -qx 'RuntimeDirectory=thpd' "$unit" || fail "thpd.service has no RuntimeDirectory=thpd"
grep -qx "ListenStream=$SOCKET" "$SRCDIR/systemd/thpd.socket" || fail "thpd.socket does not listen on $SOCKET"
grep -q "^d $STATE " "$SRCDIR/systemd/thpd.tmpfiles" || fail "thpd.tmpfiles does not make $STATE"
grep -q "^u thpd .* $STATE\$" "$SRCDIR/systemd/thpd.sysusers" || fail "user thpd's home is not $STATE"

for f in man/thpd.8 man/thpd.yaml.5 README.md; do has "$SRCDIR/$f" "$CONFIG"; done
for f in man/thpd.8 man/thpctl.1 README.md; do has "$SRCDIR/$f" "$SOCKET"; done
for f in man/thpd.8 README.md; do has "$SRCDIR/$f" "$STATE"; done
note "--help, units, sysusers, tmpfiles, man pages, README: $CONFIG, $SOCKET, $STATE"

# meson install (this build's prefix): the policy where thpd reads it.
dest="$WORK/dest"
out=$(meson install -C "$BUILD_ROOT" --destdir "$dest" --no-rebuild 2>&1) || fail "meson install: $out"
[[ -f $dest$CONFIG ]] || fail "meson install put no policy in $CONFIG: $(cd "$dest" && find . -name '*.yaml')"
prefix=$(sed -n "s/^ExecStart=\(.*\)\/sbin\/thpd .*/\1/p" "$unit")
[[ -z $(find "$dest$prefix" -path '*/etc/*' 2>/dev/null) ]] ||
	fail "meson install wrote under $prefix/etc: $(find "$dest$prefix" -path '*/etc/*')"
iunit=$(find "$dest" -name thpd.service)
if [[ -z $iunit ]] || ! grep -q -- "--config $CONFIG\$" "$iunit"; then
	fail "the installed unit does not read $CONFIG: ${iunit:-no thpd.service installed}"
fi
note "meson install (prefix $prefix): policy $CONFIG, unit reads it"

# The README's commands run as root on Debian, where sudo is not installed.
readme_sudo=$(grep -nE '(^|[;&|(`$] *)sudo ' "$SRCDIR/README.md") || true
[[ -z $readme_sudo ]] || fail "README.md runs commands with sudo: $readme_sudo"
echo PASS
