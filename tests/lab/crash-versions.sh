#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/lab/crash-versions.sh - other crash releases, for building and testing
# kaslr.so against each (never installed over the system's crash).
#
# Usage: crash-versions.sh VERSION...   fetch (cached) and check each; prints
#                                       "VERSION BINARY DEFS_DIR" per version
#        crash-versions.sh list         the same line for every crash the lab
#                                       has, the system's own first; fetches nothing
#        crash-versions.sh path VERSION the directory of VERSION
#        crash-versions.sh arm64 VERSION...  an arm64 crash (crash:arm64 in an
#                                       arm64 root, run under qemu-user);
#                                       prints "VERSION BINARY DEFS_DIR ROOT"
#        crash-versions.sh list-arm64   that line for every arm64 crash the lab
#                                       has; fetches nothing ("list" never
#                                       names them: the x86_64 tests walk it)
#        crash-versions.sh path-arm64 VERSION   the directory of that crash
#        crash-versions.sh deb-root    a clean minbase root of Debian bookworm
#                                       (KASLR_DEB_SUITE) with apt lists, the
#                                       machine the package test copies to
#                                       build and install the .deb in; prints it
#
# Versions and where they come from:
#   7.2.9  Debian bullseye (gdb 7.6): the .deb, extracted into $LAB/crash/7.2.9
#          and run with this system's libraries (plus bullseye's, extracted
#          next to it, should one be missing here)
#   8.0.2  Debian bookworm (gdb 10.2): the system's crash when it is 8.0.2,
#          else extracted like 7.2.9
#   8.0.6  Debian trixie (gdb 10.2): needs a newer glibc, so a minbase
#          debootstrap root in $LAB/crash/8.0.6/root, run through that root's
#          own dynamic loader (no chroot: dumps and vmlinux stay visible)
#   9.0.2  Debian sid (gdb 16): a root like 8.0.6's, which also holds sid's
#          python3-drgn (tests/e2e/drgn.sh runs it there)
#   arm64 8.0.2  Debian bookworm's crash:arm64: debootstrap --arch=arm64 root
#          in $LAB/crash/arm64/8.0.2/root, made and run through qemu-user-static
#          (binfmt_misc, which this script sets up); the root also holds
#          libc6-dev, libelf-dev and zlib1g-dev, the sysroot make arm64 links
#          kaslr.so against
#
# Layout of $LAB/crash/VERSION/:
#   crash           wrapper that runs this crash (argv passed through)
#   drgn            the same for the root's drgn, where it has one (9.0.2: sid's
#                   python3-drgn, run by the root's python3 and loader)
#   include/defs.h  the header its package ships (for make CRASH_SRC=)
#   root/           the extracted package(s) or the debootstrap root
#   DONE            "VERSION BINARY DEFS_DIR", written once it was checked
# and of $LAB/crash/arm64/VERSION/ the same, DONE with "VERSION BINARY DEFS_DIR ROOT".
#
# Environment: KASLR_LAB_DIR (as lab.sh), KASLR_LAB_APT_KEYRING (keyring for
# the private apt configurations and debootstrap).
# Mirrors come from the system's apt configuration (apt-sources.py), never
# from this file.  Failures end with one "crash-versions.sh: error: ..." line.
# shellcheck disable=SC2016 # wrapper lines are single-quoted on purpose
set -euo pipefail
shopt -s nullglob

PROG=crash-versions.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${KASLR_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaslr-lab}
CDIR=$LAB/crash

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
set -E
trap 'die "unexpected failure (line $LINENO, exit $?): $BASH_COMMAND"' ERR

# suite_of VERSION - the Debian suite whose crash is VERSION.
suite_of() {
	case $1 in
	7.2.9) echo bullseye ;;
	8.0.2) echo bookworm ;;
	8.0.6) echo trixie ;;
	9.0.2) echo sid ;;
	*) die "unknown crash version '$1' (known: 7.2.9 8.0.2 8.0.6 9.0.2)" ;;
	esac
}

# binary_version BINARY... - "8.0.2" from the "crash 8.0.2" line of --version.
binary_version() {
	"$@" --version 2>/dev/null </dev/null | sed -n 's/^crash \([0-9][0-9.]*\).*/\1/p' | head -n1
}

SYS_CRASH=$(command -v crash || true)
SYS_VERSION=
if [ -n "$SYS_CRASH" ]; then SYS_VERSION=$(binary_version "$SYS_CRASH" || true); fi

###########################################################################
# apt: a private configuration for a suite, on the system's own mirrors
# (the same files lab.sh makes in $LAB/apt/SUITE, so lists are shared)

# shellcheck disable=SC1091
SYS_CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || SYS_CODENAME=
APT_OPTS=()

# mirror_lines - "main URI KEYRING" / "security URI KEYRING" of the system.
mirror_lines() {
	python3 "$HERE/apt-sources.py" || die "cannot find the system's Debian mirror in its apt configuration"
}

keyring_for() {	# keyring_for KEY - the keyring to use for an entry's Signed-By KEY
	local key=$1 k
	if [ -n "${KASLR_LAB_APT_KEYRING:-}" ]; then echo "$KASLR_LAB_APT_KEYRING"; return; fi
	if [ "$key" != - ]; then echo "$key"; return; fi
	k=$(dpkg -L debian-archive-keyring 2>/dev/null | grep '/debian-archive-keyring\.gpg$' | head -n1) ||
		die "debian-archive-keyring is not installed"
	echo "$k"
}

apt_config() {	# apt_config SUITE - set APT_OPTS (nothing for the system's release)
	local suite=$1 dir kind uri key
	APT_OPTS=()
	[ "$suite" = "$SYS_CODENAME" ] && return
	dir=$LAB/apt/$suite
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/empty"
	: >"$dir/sources.list.tmp"
	while read -r kind uri key; do
		case $kind in
		main) echo "deb [signed-by=$(keyring_for "$key")] $uri $suite main" ;;
		# sid (unstable) has no security suite.
		security) [ "$suite" = sid ] || echo "deb [signed-by=$(keyring_for "$key")] $uri $suite-security main" ;;
		esac >>"$dir/sources.list.tmp"
	done <<<"$(mirror_lines)"
	mv "$dir/sources.list.tmp" "$dir/sources.list"
	APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/empty"
		-o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$dir/empty"
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o "Dir::State::status=/dev/null" -o "Acquire::Languages=none")
}

# apt_download SUITE DIR PKG... - download PKGs of SUITE into DIR; the lists
# are refreshed once if the download fails with the cached ones.
apt_download() {
	local suite=$1 dir=$2
	shift 2
	apt_config "$suite"
	mkdir -p "$dir"
	if ! (cd "$dir" && apt-get "${APT_OPTS[@]}" -o APT::Sandbox::User=root -q download "$@") >/dev/null 2>&1; then
		note "apt-get update ($suite)"
		apt-get "${APT_OPTS[@]}" -q --error-on=any update >&2 || die "apt-get update for $suite failed"
		(cd "$dir" && apt-get "${APT_OPTS[@]}" -o APT::Sandbox::User=root -q download "$@") >&2 ||
			die "cannot download $* from $suite"
	fi
}

###########################################################################
# the two ways to get a crash

# write_wrapper DIR LINE - DIR/crash, a wrapper whose last line is LINE
# (with $R = DIR/root; LINE is written as is, hence single-quoted by callers).
write_wrapper() {
	local dir=$1 line=$2
	cat >"$dir/crash.tmp" <<EOF
#!/bin/sh
# Generated by tests/lab/crash-versions.sh: runs the crash in root/ next to this file.
R=\$(cd "\$(dirname "\$0")" && pwd)/root
$line
EOF
	chmod 755 "$dir/crash.tmp"
	mv "$dir/crash.tmp" "$dir/crash"
}

# missing_libs BINARY [LIBDIR] - sonames BINARY needs that are not found.
missing_libs() {
	local bin=$1 libdir=${2:-}
	LD_LIBRARY_PATH=$libdir ldd "$bin" 2>/dev/null | awk '/=> not found/ { print $1 }'
}

fetch_deb() {	# fetch_deb VERSION DIR - the suite's crash .deb, extracted
	local ver=$1 dir=$2 suite deb t0 libs pkgs=()
	suite=$(suite_of "$ver")
	rm -rf "$dir/root" "$dir/debs"
	t0=$SECONDS
	apt_download "$suite" "$dir/debs" crash
	deb=$(echo "$dir"/debs/crash_*.deb)
	[ -f "$deb" ] || die "apt-get download left no crash .deb in $dir/debs"
	case $(dpkg-deb -f "$deb" Version) in
	"$ver"-*) ;;
	*) die "$suite's crash is $(dpkg-deb -f "$deb" Version), not $ver" ;;
	esac
	dpkg-deb -x "$deb" "$dir/root" || die "cannot unpack $deb"
	note "$ver: $(basename "$deb") downloaded and unpacked in $((SECONDS - t0)) s"
	# Libraries this system lacks (a soname bumped since): the suite's own
	# packages of crash's dependencies, extracted next to it (never its libc).
	libs=$(missing_libs "$dir/root/usr/bin/crash" | tr '\n' ' ')
	if [ -n "$libs" ]; then
		note "$ver: this system lacks $libs: adding $suite's libraries"
		mapfile -t pkgs < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
			sed -n 's/^ *\(lib[^ (|]*\).*/\1/p' | grep -v '^libc6$')
		[ ${#pkgs[@]} != 0 ] || die "crash $ver needs $libs and names no library packages"
		apt_download "$suite" "$dir/debs" "${pkgs[@]}"
		for deb in "$dir"/debs/lib*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
		libs=$(missing_libs "$dir/root/usr/bin/crash" "$dir/root/lib/x86_64-linux-gnu:$dir/root/usr/lib/x86_64-linux-gnu" | tr '\n' ' ')
		[ -z "$libs" ] || die "crash $ver still lacks $libs with $suite's ${pkgs[*]}"
		write_wrapper "$dir" 'LD_LIBRARY_PATH=$R/lib/x86_64-linux-gnu:$R/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$R/usr/bin/crash" "$@"'
	else
		write_wrapper "$dir" 'exec "$R/usr/bin/crash" "$@"'
	fi
	rm -rf "$dir/debs"
}

# fetch_root VERSION DIR - a minbase root of the suite with crash (and the
# libelf kaslr.so links against; crash does not pull it in), run through the
# root's own loader.  sid's root also gets python3-drgn.
fetch_root() {
	local ver=$1 dir=$2 suite mirror key kr t0 extra=libelf1
	suite=$(suite_of "$ver")
	# kaslr.so links libelf; trixie renamed its package for the 64-bit time_t transition.
	case $suite in
	trixie) extra=libelf1t64 ;;
	sid) extra=libelf1t64,python3-drgn ;;
	esac
	command -v debootstrap >/dev/null || die "debootstrap not found: run 'tests/lab/lab.sh setup'"
	[ "$(id -u)" = 0 ] || die "debootstrap of $suite needs root"
	read -r _ mirror key <<<"$(mirror_lines | awk '$1 == "main"')"
	[ -n "$mirror" ] || die "no Debian mirror in the system's apt configuration"
	kr=$(keyring_for "$key")
	rm -rf "$dir/root" "$dir/root.part"
	mkdir -p "$dir"
	t0=$SECONDS
	note "$ver: debootstrap --variant=minbase $suite (takes a few minutes)"
	debootstrap --variant=minbase --include="crash,$extra" --keyring="$kr" \
		"$suite" "$dir/root.part" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 5 "$dir/debootstrap.log" >&2; die "debootstrap of $suite failed (log: $dir/debootstrap.log)"; }
	rm -rf "$dir/root.part/var/cache/apt/archives/"*.deb
	mv "$dir/root.part" "$dir/root"
	note "$ver: debootstrap done in $((SECONDS - t0)) s ($(du -sh "$dir/root" | cut -f1))"
	# The root's loader and libraries, the host's everything else (files, /proc, dumps).
	write_wrapper "$dir" 'exec "$R/lib64/ld-linux-x86-64.so.2" --library-path "$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu" "$R/usr/bin/crash" "$@"'
}

###########################################################################

# drgn_wrapper DIR - DIR/drgn, when the root in DIR has drgn: the root's
# python3 through the root's loader, with the root's standard library.
drgn_wrapper() {
	local dir=$1
	[ -x "$dir/root/usr/bin/drgn" ] || return 0
	cat >"$dir/drgn.tmp" <<'EOF'
#!/bin/sh
# Generated by tests/lab/crash-versions.sh: runs the drgn in root/ next to this file.
R=$(cd "$(dirname "$0")" && pwd)/root
PYTHONHOME=$R/usr PYTHONNOUSERSITE=1 exec "$R/lib64/ld-linux-x86-64.so.2" \
	--library-path "$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu" "$R/usr/bin/python3" "$R/usr/bin/drgn" "$@"
EOF
	chmod 755 "$dir/drgn.tmp"
	mv "$dir/drgn.tmp" "$dir/drgn"
}

# provide VERSION - make $CDIR/VERSION usable; prints its line.
provide() {
	local ver=$1 dir=$CDIR/$1 got defs
	suite_of "$ver" >/dev/null
	if [ "$ver" = "$SYS_VERSION" ]; then
		[ -f /usr/include/crash/defs.h ] || die "the system's crash $ver has no /usr/include/crash/defs.h"
		echo "$ver $SYS_CRASH /usr/include/crash"
		return
	fi
	if [ -s "$dir/DONE" ] && [ -x "$dir/crash" ]; then
		[ -x "$dir/drgn" ] || drgn_wrapper "$dir"
		cat "$dir/DONE"
		return
	fi
	rm -f "$dir/DONE"
	# A suite newer than this system needs its own glibc: straight to a root.
	# Otherwise the .deb, and a root only if that binary cannot run here.
	if [[ " trixie sid " == *" $(suite_of "$ver") "* ]]; then
		fetch_root "$ver" "$dir"
	else
		fetch_deb "$ver" "$dir"
		got=$(binary_version "$dir/crash") || true
		if [ "$got" != "$ver" ]; then
			note "$ver: the extracted crash does not run here ($("$dir/crash" --version 2>&1 </dev/null | grep -v '^$' | head -n1)); using a $(suite_of "$ver") root"
			fetch_root "$ver" "$dir"
		fi
	fi
	defs=$dir/root/usr/include/crash
	[ -f "$defs/defs.h" ] || die "crash $ver's package ships no usr/include/crash/defs.h"
	rm -rf "$dir/include"
	mkdir -p "$dir/include"
	cp "$defs/defs.h" "$dir/include/defs.h"
	drgn_wrapper "$dir"
	got=$(binary_version "$dir/crash") || true
	[ "$got" = "$ver" ] || die "$dir/crash does not run here: '$dir/crash --version' says '$("$dir/crash" --version 2>&1 </dev/null | head -n2 | tr '\n' ' ')'"
	echo "$ver $dir/crash $dir/include" >"$dir/DONE.tmp"
	mv "$dir/DONE.tmp" "$dir/DONE"
	note "$ver: crash $got runs here"
	cat "$dir/DONE"
}

cmd_list() {
	local f
	if [ -n "$SYS_VERSION" ] && [ -f /usr/include/crash/defs.h ]; then
		echo "$SYS_VERSION $SYS_CRASH /usr/include/crash"
	fi
	for f in "$CDIR"/*/DONE; do
		[ "$(cut -d' ' -f1 "$f")" = "$SYS_VERSION" ] || cat "$f"
	done
}

###########################################################################
# arm64: crash:arm64 in an arm64 root, under qemu-user

ARM64_DIR=$CDIR/arm64

# arm64_suite_of VERSION - the Debian suite whose crash:arm64 the lab uses.
arm64_suite_of() {
	case $1 in
	8.0.2) echo bookworm ;;
	8.0.6) echo trixie ;;
	*) die "unknown arm64 crash version '$1' (known: 8.0.2 8.0.6)" ;;
	esac
}

# qemu_user - make arm64 binaries run here: qemu-user-static and binfmt-support
# installed, binfmt_misc mounted, the qemu-aarch64 format enabled (debootstrap's
# second stage runs the root's own programs).
qemu_user() {
	local pkgs=() p
	for p in qemu-user-static binfmt-support; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || pkgs+=("$p")
	done
	if [ ${#pkgs[@]} != 0 ]; then
		note "apt-get install ${pkgs[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${pkgs[@]}" >&2 ||
			die "cannot install ${pkgs[*]} (arm64 crash runs under qemu-user)"
	fi
	if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
			die "binfmt_misc is not mounted and cannot be (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)"
	fi
	if ! grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
		update-binfmts --enable qemu-aarch64 >&2 || die "update-binfmts --enable qemu-aarch64 failed"
	fi
	grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null ||
		die "binfmt_misc has no enabled qemu-aarch64 entry after update-binfmts --enable qemu-aarch64"
}

# provide_arm64 VERSION - make $ARM64_DIR/VERSION usable; prints its line.
provide_arm64() {
	local ver=$1 dir=$ARM64_DIR/$1 suite mirror key kr t0 got
	suite=$(arm64_suite_of "$ver")
	if [ -s "$dir/DONE" ] && [ -x "$dir/crash" ]; then
		cat "$dir/DONE"
		return
	fi
	rm -f "$dir/DONE"
	[ "$(id -u)" = 0 ] || die "debootstrap of an arm64 $suite root needs root"
	command -v debootstrap >/dev/null || die "debootstrap not found: run 'tests/lab/lab.sh setup'"
	qemu_user
	# root/ appears only once debootstrap succeeded (root.part renamed): a
	# run stopped after that keeps it.
	if [ ! -x "$dir/root/usr/bin/crash" ]; then
		read -r _ mirror key <<<"$(mirror_lines | awk '$1 == "main"')"
		[ -n "$mirror" ] || die "no Debian mirror in the system's apt configuration"
		kr=$(keyring_for "$key")
		rm -rf "$dir/root" "$dir/root.part"
		mkdir -p "$dir"
		t0=$SECONDS
		note "arm64 $ver: debootstrap --arch=arm64 --variant=minbase $suite (emulated: several minutes)"
		# libc6-dev, libelf-dev, zlib1g-dev: the sysroot kaslr.so is cross-built against.
		debootstrap --arch=arm64 --variant=minbase --include=crash,libc6-dev,libelf-dev,zlib1g-dev \
			--keyring="$kr" "$suite" "$dir/root.part" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
			{ tail -n 5 "$dir/debootstrap.log" >&2; die "arm64 debootstrap of $suite failed (log: $dir/debootstrap.log)"; }
		rm -rf "$dir/root.part/var/cache/apt/archives/"*.deb
		mv "$dir/root.part" "$dir/root"
		note "arm64 $ver: debootstrap done in $((SECONDS - t0)) s ($(du -sh "$dir/root" | cut -f1))"
	fi
	# qemu-aarch64-static with QEMU_LD_PREFIX (its -L): the root's loader and
	# libraries, the host's files (dumps, vmlinux, kaslr.so) at their own
	# paths, no chroot.  crash itself needs no binfmt_misc; the programs it
	# starts ("!cmd") are the root's, run through binfmt_misc with the same
	# prefix (crash's "| cmd" pipes fail under qemu-user: "pipe operation failed").
	write_wrapper "$dir" 'QEMU_LD_PREFIX=$R exec qemu-aarch64-static "$R/usr/bin/crash" "$@"'
	[ -f "$dir/root/usr/include/crash/defs.h" ] || die "crash:arm64 $ver's package ships no usr/include/crash/defs.h"
	rm -rf "$dir/include"
	mkdir -p "$dir/include"
	cp "$dir/root/usr/include/crash/defs.h" "$dir/include/defs.h"
	got=$(binary_version "$dir/crash") || true
	[ "$got" = "$ver" ] || die "$dir/crash does not run here: '$dir/crash --version' says '$("$dir/crash" --version 2>&1 </dev/null | head -n2 | tr '\n' ' ')'"
	echo "$ver $dir/crash $dir/include $dir/root" >"$dir/DONE.tmp"
	mv "$dir/DONE.tmp" "$dir/DONE"
	note "arm64 $ver: crash $got runs here under qemu-user"
	cat "$dir/DONE"
}

###########################################################################
# deb-root: a clean Debian machine for tests/e2e/package.sh

# provide_deb_root - $LAB/deb-root/SUITE/root: debootstrap --variant=minbase
# with the system's mirror, apt lists fetched, nothing else installed.  The
# package test copies it (never changes it) and installs into the copies
# with the root's own apt, in a chroot.  Prints the root.
provide_deb_root() {
	local suite=${KASLR_DEB_SUITE:-bookworm} dir mirror key kr t0
	dir=$LAB/deb-root/$suite
	if [ -s "$dir/DONE" ] && [ -x "$dir/root/usr/bin/apt-get" ]; then
		echo "$dir/root"
		return
	fi
	command -v debootstrap >/dev/null || die "debootstrap not found: run 'tests/lab/lab.sh setup'"
	[ "$(id -u)" = 0 ] || die "debootstrap of $suite needs root"
	read -r _ mirror key <<<"$(mirror_lines | awk '$1 == "main"')"
	[ -n "$mirror" ] || die "no Debian mirror in the system's apt configuration"
	kr=$(keyring_for "$key")
	rm -rf "$dir/root" "$dir/root.part" "$dir/DONE"
	mkdir -p "$dir"
	t0=$SECONDS
	note "deb-root: debootstrap --variant=minbase $suite"
	debootstrap --variant=minbase --keyring="$kr" "$suite" "$dir/root.part" "$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 5 "$dir/debootstrap.log" >&2; die "debootstrap of $suite failed (log: $dir/debootstrap.log)"; }
	rm -f "$dir/root.part/var/cache/apt/archives/"*.deb
	# The host's resolver and apt settings (a snapshot mirror's Release files
	# may be past their Valid-Until), so that the root's apt reaches the mirror.
	cp /etc/resolv.conf "$dir/root.part/etc/resolv.conf"
	echo 'Acquire::Check-Valid-Until "false";' >"$dir/root.part/etc/apt/apt.conf.d/90kaslr-lab"
	chroot "$dir/root.part" apt-get -q update >>"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 5 "$dir/debootstrap.log" >&2; die "apt-get update in the $suite root failed (log: $dir/debootstrap.log)"; }
	mv "$dir/root.part" "$dir/root"
	echo "$suite" >"$dir/DONE"
	note "deb-root: $suite in $((SECONDS - t0)) s ($(du -sh "$dir/root" | cut -f1))"
	echo "$dir/root"
}

cmd_list_arm64() {
	local f
	for f in "$ARM64_DIR"/*/DONE; do cat "$f"; done
}

main() {
	local v t0=$SECONDS
	case ${1:-} in
	'' | -h | --help | help)
		sed -n '/^# Usage:/,/^# Versions/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
		[ $# != 0 ] || exit 2
		return ;;
	list) cmd_list; return ;;
	list-arm64) cmd_list_arm64; return ;;
	path-arm64) [ $# = 2 ] || die "usage: $PROG path-arm64 VERSION"; arm64_suite_of "$2" >/dev/null; echo "$ARM64_DIR/$2"; return ;;
	path) [ $# = 2 ] || die "usage: $PROG path VERSION"; suite_of "$2" >/dev/null; echo "$CDIR/$2"; return ;;
	esac
	mkdir -p "$CDIR"
	exec 8>"$CDIR/.lock"
	flock -w 3600 8 || die "$CDIR is locked by another $PROG for over an hour"
	if [ "${1:-}" = deb-root ]; then
		[ $# = 1 ] || die "usage: $PROG deb-root"
		provide_deb_root
	elif [ "${1:-}" = arm64 ]; then
		shift
		[ $# != 0 ] || die "usage: $PROG arm64 VERSION..."
		for v; do provide_arm64 "$v"; done
	else
		for v; do provide "$v"; done
	fi
	note "done in $((SECONDS - t0)) s"
}

main "$@"
