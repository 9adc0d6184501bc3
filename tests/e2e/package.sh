#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/package.sh - the packages, built and installed the distributions'
# way, and used on a real dump.
#
#  package/versions     debian/changelog, kaslr.spec and kaslr_core.h name one release
#  package/deb-root     a clean Debian bookworm root (crash-versions.sh deb-root)
#  package/deb-build    dpkg-buildpackage -us -uc -b from `make dist`'s tarball in a
#                       copy of that root holding build-essential and only the
#                       Build-Depends debian/control declares (apt-get build-dep)
#  package/deb-depends  crash-kaslr depends on exactly the crash release of the
#                       build root, kaslr-find not on crash
#  package/lintian      lintian on the .changes: no error (every tag is in the log)
#  package/deb-install  apt installs both .debs in another clean copy, pulling
#                       in crash; kaslr.so, kaslr-find and its man page are where
#                       Debian's crash and man look
#  package/crash-by-name  that root's crash, --minimal on a lab dump without
#                       vmcoreinfo: "extend kaslr.so" (no path) loads the
#                       packaged module, `kaslr` gives the truth's KERNELOFFSET
#                       and phys_base, `kaslr -r` then `sym _text` the guest's _text
#  package/kaslr-find   the packaged kaslr-find gives the same truth
#  package/rpm-build    make rpm: both RPMs, crash-kaslr-command requires the
#                       crash release and installs into %{_libdir}/crash/extensions
#  package/rpm-module   the RPM's kaslr.so loads in this system's crash
#
# The .deb is built with DEB_BUILD_OPTIONS=nocheck and the RPMs with
# rpmbuild --nocheck: their test step is tests/unit/run.sh, which make
# check's unit group runs on the same tree.
# Ground truth: the lab boot's truth.env (read inside the guest).
set -u
cd "$(dirname "$0")/../.." || exit 1
LAB=${KASLR_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaslr-lab}
SUITE=${KASLR_DEB_SUITE:-bookworm}
W=$LAB/deb-root/$SUITE
LOG=$PWD/build/package.log
mkdir -p build
: >"$LOG"
rc=0
pass() { echo "PASS: package/$1"; }
fail() { echo "FAIL: package/$1: $2"; rc=1; }
log() { printf '%s\n' "$*" >>"$LOG"; }

# The host's proxy settings, if any, for apt in the roots.
PROXY_ENV=()
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
	[ -z "${!v:-}" ] || PROXY_ENV+=("$v=${!v}")
done

# in_root ROOT CMD... - CMD in a chroot of ROOT with a clean environment.
in_root() {
	local root=$1
	shift
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "${PROXY_ENV[@]}" chroot "$root" "$@"
}

# fresh_copy NAME - a new copy of the clean root in $W/NAME; prints it.  The
# .debs apt fetched before are handed over (hard links), so a warm run
# downloads nothing.
fresh_copy() {
	local c=$W/$1
	rm -rf "$c"
	cp -a "$W/root" "$c" || return 1
	mkdir -p "$W/archives"
	find "$W/archives" -name '*.deb' -exec cp -l -t "$c/var/cache/apt/archives/" {} + 2>/dev/null ||
		find "$W/archives" -name '*.deb' -exec cp -t "$c/var/cache/apt/archives/" {} +
	echo "$c"
}

keep_debs() { find "$1/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$W/archives/" {} +; }

# apt_in ROOT ARGS... - apt-get -y ARGS in ROOT; once more after apt-get update
# if the root's lists have gone stale.
apt_in() {
	local root=$1
	shift
	in_root "$root" apt-get -y -q --no-install-recommends "$@" >>"$LOG" 2>&1 && return 0
	in_root "$root" apt-get -q update >>"$LOG" 2>&1 &&
		in_root "$root" apt-get -y -q --no-install-recommends "$@" >>"$LOG" 2>&1
}

###########################################################################
version=$(sed -n 's/^#define KASLR_VERSION "\(.*\)"/\1/p' kaslr_core.h)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
spec_version=$(sed -n 's/^Version: *//p' kaslr.spec)
if [ -n "$version" ] && [ "$deb_version" = "$version" ] && [ "$spec_version" = "$version" ]; then
	pass versions
else
	fail versions "kaslr_core.h '$version', debian/changelog '$deb_version', kaslr.spec '$spec_version'"
fi

# The lab dump: the novmci boot of bookworm's kernel (the crash 8.0.2 the
# package is built for opens it), its kdump without a vmcoreinfo note.
kver=$(cat "$LAB/kernels/$SUITE.current" 2>/dev/null)
boot=
while read -r d; do
	[ -f "$d/truth.env" ] || continue
	# shellcheck disable=SC1091
	(. "$d/truth.env" && [ "$RELEASE" = "$kver" ] && [ "$VMCOREINFO_NOTE" = 0 ] && [ "$KASLR" = 1 ]) || continue
	[ -f "$d/panic.kdump" ] && boot=$d && break
done <"$LAB/dumps/index"
# shellcheck disable=SC1091
[ -z "$boot" ] || . "$boot/truth.env"

if ! root=$(bash tests/lab/crash-versions.sh deb-root 2>>"$LOG"); then
	fail deb-root "$(tail -n 1 "$LOG")"
	echo "FAIL: package: no clean $SUITE root, nothing else ran"
	exit 1
fi
pass deb-root

###########################################################################
# Build in a clean copy: build-essential, then what debian/control declares.
debs=()
if ! tarball=$(make -s dist 2>>"$LOG"); then
	fail deb-build "make dist failed"
else
	src=/build/crash-kaslr-$version
	if ! B=$(fresh_copy build) || [ -z "$B" ] || ! mkdir -p "$B/build" || ! tar -C "$B/build" -xzf "$tarball"; then
		fail deb-build "cannot make a copy of $root with the source in it"
	elif ! log "== build in $B" || ! apt_in "$B" install build-essential; then
		fail deb-build "apt-get install build-essential failed in the clean root (see $LOG)"
	elif ! apt_in "$B" build-dep "$src"; then
		fail deb-build "apt-get build-dep of debian/control failed (see $LOG)"
	elif ! in_root "$B" sh -c "cd $src && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b" >>"$LOG" 2>&1; then
		fail deb-build "dpkg-buildpackage failed in the clean root: $(grep -m1 -E 'error:|unmet|: Error' "$LOG")"
	else
		keep_debs "$B"
		mkdir -p build/packages
		rm -f build/packages/*.deb build/packages/*.changes build/packages/*.buildinfo
		cp "$B/build/"*.deb "$B/build/"*.changes "$B/build/"*.buildinfo build/packages/
		for p in crash-kaslr kaslr-find; do
			f=$(ls build/packages/"${p}_${version}_"*.deb 2>/dev/null | head -n1)
			[ -n "$f" ] && debs+=("$f")
		done
		if [ ${#debs[@]} = 2 ]; then
			pass deb-build
		else
			fail deb-build "dpkg-buildpackage left $(ls build/packages/*.deb | wc -l) .debs, not crash-kaslr and kaslr-find"
		fi
	fi
fi

if [ ${#debs[@]} = 2 ]; then
	crash_release=$(in_root "$B" dpkg-query -W -f='${Version}' crash | sed 's/^[0-9]*://; s/[-+~].*//')
	dep=$(dpkg-deb -f "${debs[0]}" Depends)
	want="crash (>= $crash_release), crash (<< $crash_release.~)"
	if [ -n "$crash_release" ] && [[ "$dep" == "$want, "* ]] && ! dpkg-deb -f "${debs[1]}" Depends | grep -q crash; then
		pass deb-depends
	else
		fail deb-depends "crash-kaslr Depends '$dep', want '$want, ...' (build root's crash $crash_release)"
	fi
	# lintian: errors fail, warnings and the rest go to the log (docs/packaging.md lists them).
	lint=$(lintian --display-info --pedantic build/packages/*.changes 2>&1 | grep -v '^running with root')
	log "== lintian" "$lint"
	errors=$(printf '%s\n' "$lint" | grep -c '^E: ')
	if ! command -v lintian >/dev/null; then
		fail lintian "lintian not found: run 'tests/lab/lab.sh setup'"
	elif [ "$errors" = 0 ]; then
		pass lintian
		[ -z "$lint" ] || printf 'package: lintian: %s\n' "$lint" >&2
	else
		fail lintian "$errors error(s): $(printf '%s\n' "$lint" | grep -m1 '^E: ')"
	fi
fi

###########################################################################
# Install in another clean copy and use it there.
if [ ${#debs[@]} = 2 ]; then
	if ! I=$(fresh_copy install) || [ -z "$I" ] || ! mkdir -p "$I/tmp/debs" || ! cp "${debs[@]}" "$I/tmp/debs/"; then
		fail deb-install "cannot make a copy of $root with the .debs in it"
		I=
	elif ! log "== install in $I" || ! apt_in "$I" install /tmp/debs/"$(basename "${debs[0]}")" /tmp/debs/"$(basename "${debs[1]}")"; then
		fail deb-install "apt-get install of the two .debs failed in a clean root (see $LOG)"
		I=
	else
		keep_debs "$I"
		missing=()
		for f in /usr/lib/crash/extensions/kaslr.so /usr/bin/kaslr-find /usr/share/man/man1/kaslr-find.1.gz /usr/bin/crash; do
			[ -e "$I$f" ] || missing+=("$f")
		done
		if [ ${#missing[@]} = 0 ]; then pass deb-install; else fail deb-install "not installed: ${missing[*]}"; fi
	fi
	if [ -z "$boot" ]; then
		fail crash-by-name "no novmci boot of $SUITE's kernel '$kver' in $LAB/dumps/index (tests/lab/lab.sh dumps)"
		fail kaslr-find "no lab dump (see package/crash-by-name)"
	elif [ -n "$I" ]; then
		mkdir -p "$I/lab"
		for f in "$VMLINUX:vmlinux" "$boot/panic.kdump:vmcore"; do
			ln -f "${f%%:*}" "$I/lab/${f##*:}" 2>/dev/null || cp "${f%%:*}" "$I/lab/${f##*:}"
		done
		out=$(printf 'extend kaslr.so\nkaslr\nkaslr -r\nsym _text\nexit\n' |
			timeout 600 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
				chroot "$I" crash -s --minimal /lab/vmlinux /lab/vmcore 2>&1)
		crc=$?
		log "== crash in $I (exit $crc)" "$out"
		ko=$(printf '%s\n' "$out" | sed -n 's/^ *KERNELOFFSET: \([0-9a-f]*\)$/\1/p' | head -n1)
		pb=$(printf '%s\n' "$out" | sed -n 's/^ *PHYS_BASE: \([0-9a-f]*\) .*/\1/p' | head -n1)
		text=$(printf '%s\n' "$out" | awk '$3 == "_text" { print $1; exit }')
		verified=$(printf '%s\n' "$out" | sed -n 's/^ *VERIFIED: \(.*\) (vmlinux .*)$/\1/p' | head -n1)
		# Every check named in full, as core/names.c spells it (no cut text):
		# nothing but ", " is left once the long names are taken out.
		rest=$verified
		while IFS= read -r name; do
			rest=${rest//"$name"/}
		done < <(sed -n 's/^.*", "\([^"]*\)" },$/\1/p' core/names.c)
		rest=${rest//, /}
		why=
		if [ "$crc" != 0 ]; then why="crash exited $crc"
		elif ! grep -q '^/usr/lib/crash/extensions/kaslr.so: shared object loaded' <<<"$out"; then why="extend kaslr.so did not load /usr/lib/crash/extensions/kaslr.so: $(grep -m1 -i 'kaslr.so' <<<"$out")"
		elif ! [[ $ko =~ ^[0-9a-f]+$ ]] || (( 16#$ko != KERNELOFFSET )); then why="KERNELOFFSET '${ko}', truth $KERNELOFFSET"
		elif ! [[ $pb =~ ^[0-9a-f]+$ ]] || (( 16#$pb != PHYS_BASE_HEX )); then why="PHYS_BASE '${pb}', truth $PHYS_BASE_HEX"
		elif [ -z "$verified" ] || [ -n "$rest" ]; then why="VERIFIED line '$verified' ('$rest' is not a check's full name)"
		elif ! [[ $text =~ ^[0-9a-f]+$ ]] || (( 16#$text != TEXT_GUEST )); then why="sym _text after kaslr -r '${text}', truth $TEXT_GUEST"
		fi
		if [ -z "$why" ]; then pass crash-by-name; else fail crash-by-name "$why"; fi
		json=$(timeout 300 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$I" kaslr-find --json /lab/vmlinux /lab/vmcore 2>>"$LOG")
		fko=$(sed -n 's/^ *"kernel_offset": \([0-9]*\),$/\1/p' <<<"$json")
		fpb=$(sed -n 's/^ *"phys_base": \(-\{0,1\}[0-9]*\),$/\1/p' <<<"$json")
		if [ "${fko:-x}" = $((KERNELOFFSET)) ] && [ "${fpb:-x}" = "$PHYS_BASE" ]; then
			pass kaslr-find
		else
			fail kaslr-find "kernel_offset '$fko' phys_base '$fpb', truth $((KERNELOFFSET)) $PHYS_BASE"
		fi
	fi
else
	fail deb-install "no .debs were built"
	fail crash-by-name "no .debs were built"
	fail kaslr-find "no .debs were built"
fi

###########################################################################
# The RPMs, with this machine's rpmbuild (Debian's rpm) and crash headers.
# --nocheck: %check is tests/unit/run.sh, which make check's unit group runs.
if ! make -s rpm RPMBUILD_FLAGS=--nocheck >build/rpm.log 2>&1; then
	cat build/rpm.log >>"$LOG"
	fail rpm-build "make rpm failed: $(grep -m1 -E 'error:|Error' build/rpm.log)"
else
	mod=$(find build/rpm/RPMS -name "crash-kaslr-command-$version-*.rpm" | head -n1)
	find_rpm=$(find build/rpm/RPMS -name "kaslr-find-$version-*.rpm" | head -n1)
	release=$(sh tests/lib/crash-release.sh /usr/include/crash)
	libdir=$(rpm --eval '%{_libdir}')
	if [ -z "$mod" ] || [ -z "$find_rpm" ]; then
		fail rpm-build "make rpm left no crash-kaslr-command and kaslr-find $version RPMs"
	elif ! rpm -qp --requires "$mod" 2>/dev/null | grep -qx "crash = $release"; then
		fail rpm-build "crash-kaslr-command does not require 'crash = $release': $(rpm -qp --requires "$mod" 2>/dev/null | grep crash)"
	elif ! rpm -qlp "$mod" 2>/dev/null | grep -qx "$libdir/crash/extensions/kaslr.so"; then
		fail rpm-build "crash-kaslr-command has no $libdir/crash/extensions/kaslr.so"
	elif ! rpm -qlp "$find_rpm" 2>/dev/null | grep -q '/man1/kaslr-find\.1'; then
		fail rpm-build "kaslr-find's RPM has no man page"
	else
		pass rpm-build
		x=build/rpm/x
		rm -rf "$x" && mkdir -p "$x"
		(cd "$x" && rpm2cpio "../../../$mod" | cpio -idm --quiet) 2>>"$LOG"
		out=$(printf 'extend %s\nkaslr -V\nexit\n' "$x$libdir/crash/extensions/kaslr.so" |
			timeout 300 crash -s --minimal "${VMLINUX:-/nonexistent}" "${boot:-/nonexistent}/panic.kdump" 2>&1)
		if grep -q "^kaslr.so $version, built for crash $release " <<<"$out"; then
			pass rpm-module
		else
			fail rpm-module "the RPM's kaslr.so in crash $release: $(grep -v '^\s*$' <<<"$out" | tail -n 2 | tr '\n' ' ')"
		fi
	fi
fi
# The copies go (about 1 GiB); the clean root and apt's downloads stay.
rm -rf "$W/build" "$W/install"
exit $rc
