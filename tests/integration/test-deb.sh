#!/bin/bash
# The Debian package: `dpkg-buildpackage -us -uc` builds it from a copy of
# the source (the checkout stays clean), lintian reports no error and no
# warning, the package holds every file in its place, and installed with
# dpkg -i in a booted Debian 12 container (the one of test-systemd-e2e.sh)
# it creates user thpd, enables and starts thpd.service, which answers
# `thpctl status`; `thpd --check-config` without arguments reads
# /etc/thpd/thpd.yaml; purging it stops the service and removes the policy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container.sh"
require_root
: "${SRCDIR:?}"
for cmd in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian systemd-nspawn:systemd-container \
	debootstrap:debootstrap nsenter:util-linux; do
	command -v "${cmd%%:*}" >/dev/null || skip "${cmd%%:*} not installed (package ${cmd#*:})"
done
t0=${EPOCHREALTIME//[!0-9]/}
elapsed() { echo "$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000000)) s"; }

# ---- build, from the files of the checkout (tracked and new, not ignored) ----
SRC="$WORK/src/thpd"
mkdir -p "$SRC"
if git -C "$SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRCDIR" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$SRC"
else
	tar -C "$SRCDIR" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -xf - -C "$SRC"
fi
[[ -f $SRC/debian/control ]] || fail "no debian/control in $SRCDIR"
if ! (cd "$SRC" && DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=$(nproc)" \
	dpkg-buildpackage -us -uc) >"$WORK/build.log" 2>&1; then
	fail "dpkg-buildpackage: $(tail -n 25 "$WORK/build.log")"
fi
version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
DEB="$WORK/src/thpd_${version}_$(dpkg --print-architecture).deb"
CHANGES="$WORK/src/thpd_${version}_$(dpkg --print-architecture).changes"
[[ -f $DEB ]] || fail "no $DEB after the build: $(ls "$WORK/src")"
note "dpkg-buildpackage -us -uc: $(basename "$DEB") in $(elapsed)"
# The package's version is the project's (meson.build).
thpd_version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$SRC/meson.build")
[[ ${version%%-*} == "$thpd_version" ]] ||
	fail "debian/changelog says $version, meson.build $thpd_version"

# ---- lintian: no error, no warning (info and pedantic tags are printed) ----
lint=$(lintian --info --pedantic "$CHANGES" 2>&1) || true
lint=$(grep -v 'running with root privileges is not recommended' <<<"$lint") || true
if grep -qE '^[EW]: ' <<<"$lint"; then
	fail "lintian: $lint"
fi
note "lintian: no errors, no warnings${lint:+; also: $(grep -cE '^[IPX]: ' <<<"$lint") info/pedantic tags}"
if [[ -n $lint ]]; then
	while read -r line; do note "  $line"; done <<<"$lint"
fi

# ---- contents: every file in its place, the policy a conffile ----
contents=$(dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|')
for f in /usr/sbin/thpd /usr/bin/thpctl /etc/thpd/thpd.yaml \
	/lib/systemd/system/thpd.service /lib/systemd/system/thpd.socket \
	/usr/lib/sysusers.d/thpd.conf /usr/lib/tmpfiles.d/thpd.conf \
	/usr/share/man/man8/thpd.8.gz /usr/share/man/man5/thpd.yaml.5.gz /usr/share/man/man1/thpctl.1.gz \
	/usr/share/bash-completion/completions/thpctl /usr/share/zsh/vendor-completions/_thpctl \
	/usr/share/fish/vendor_completions.d/thpctl.fish \
	/usr/share/thpd/refs-hotness.conf /usr/share/thpd/damon-hotness.conf; do
	grep -qx "$f" <<<"$contents" || fail "$f not in the package: $contents"
done
grep -q /usr/local <<<"$contents" && fail "the package installs to /usr/local: $(grep /usr/local <<<"$contents")"
conffiles=$(dpkg-deb -I "$DEB" conffiles)
[[ $conffiles == */etc/thpd/thpd.yaml* ]] || fail "/etc/thpd/thpd.yaml is not a conffile: $conffiles"
unit=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./lib/systemd/system/thpd.service)
exec_start=$(sed -n 's/^ExecStart=//p' <<<"$unit")
[[ $exec_start == "/usr/sbin/thpd --foreground --config /etc/thpd/thpd.yaml" ]] ||
	fail "the unit starts: $exec_start"
note "contents: binaries in /usr, policy /etc/thpd/thpd.yaml (conffile), units, sysusers, tmpfiles, man pages, completions"

# ---- install into a booted container ----
make_rootfs
ROOT="$WORK/container"
cp -a "$CACHED" "$ROOT"
cp "$DEB" "$ROOT/root/thpd.deb"
boot_container "$ROOT" thpd-deb
note "container booted in $(elapsed)"
in_ct getent passwd thpd >/dev/null && fail "the cached root filesystem already has a user thpd"
if ! out=$(in_ct env DEBIAN_FRONTEND=noninteractive dpkg -i /root/thpd.deb 2>&1); then
	fail "dpkg -i: $out"
fi
in_ct getent passwd thpd >/dev/null || fail "dpkg -i made no user thpd"
for u in thpd.service thpd.socket; do
	[[ $(in_ct systemctl is-enabled "$u" 2>&1) == enabled ]] ||
		fail "$u not enabled after dpkg -i: $(in_ct systemctl is-enabled "$u" 2>&1)"
done
active() { [[ $(in_ct systemctl is-active thpd.service) == active ]]; }
wait_until 15 active || fail "thpd.service not active after dpkg -i: $(in_ct systemctl status thpd --no-pager 2>&1)"
main_pid=$(in_ct systemctl show -p MainPID --value thpd.service)
[[ $(in_ct ps -o user= -p "$main_pid") == thpd ]] || fail "thpd does not run as user thpd"
[[ $(in_ct stat -c %U /var/lib/thpd) == thpd ]] || fail "/var/lib/thpd is not thpd's"
note "dpkg -i: user thpd, thpd.service and thpd.socket enabled, service active (MainPID $main_pid) after $(elapsed)"

# thpctl status against the started service, on the default socket.
status=$(in_ct thpctl status 2>&1) || fail "thpctl status: $status"
[[ $status == *"Version: $thpd_version"* ]] || fail "thpctl status: $status"
# thpd --check-config without arguments reads /etc/thpd/thpd.yaml.
check=$(in_ct thpd --check-config 2>&1) || fail "thpd --check-config: $check"
[[ $check == "/etc/thpd/thpd.yaml: OK"* ]] || fail "thpd --check-config: $check"
npol=$(in_ct thpctl --json policy | jq '.policy.policies | length')
require_num "policies in thpctl policy" "$npol"
[[ $check =~ OK,\ $npol\ polic ]] || fail "check-config says '$check', the service runs $npol policies"
in_ct cp /etc/thpd/thpd.yaml /root/thpd.yaml.good
in_ct sh -c 'printf "daemon:\n  scan_intervall: 1s\n" >/etc/thpd/thpd.yaml'
rc=0
check=$(in_ct thpd --check-config 2>&1) || rc=$?
in_ct cp /root/thpd.yaml.good /etc/thpd/thpd.yaml
[[ $rc -eq 1 && $check == */etc/thpd/thpd.yaml:*scan_intervall* ]] ||
	fail "check-config of a broken /etc/thpd/thpd.yaml: exit $rc: $check"
note "thpctl status: Version $thpd_version; thpd --check-config: $(head -n 1 <<<"$(in_ct thpd --check-config)")"

# ---- purge: stopped, policy gone ----
if ! out=$(in_ct env DEBIAN_FRONTEND=noninteractive dpkg --purge thpd 2>&1); then
	fail "dpkg --purge: $out"
fi
for u in thpd.service thpd.socket; do
	st=$(in_ct systemctl is-active "$u" 2>&1) || true
	[[ $st == inactive || $st == unknown ]] || fail "$u is $st after dpkg --purge"
done
in_ct test -e /etc/thpd/thpd.yaml && fail "/etc/thpd/thpd.yaml left after dpkg --purge"
note "dpkg --purge: service and socket stopped, policy removed"
note "test-deb took $(elapsed)"
echo PASS
