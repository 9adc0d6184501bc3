#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/lab/lab.sh - the real-dump lab: Debian cloud kernels booted under QEMU
# (TCG) with KASLR, dumped over QMP, with ground truth recorded inside the guest.
#
# Usage: lab.sh COMMAND [ARGS]
#   setup                 apt-get install whatever the lab, build and tests need
#   kernel SUITE          fetch the newest cloud kernel + vmlinux of SUITE
#                         (bookworm, trixie, bullseye; sid and forky: the
#                         newest series they hold, 7.x today); prints its kver
#   initramfs KVER        build the busybox initramfs of a fetched kernel
#   boot KVER [--vmcoreinfo] [--nokaslr] [--la57] [--mem MB] [--name NAME]
#                         boot once, take idle and panic dumps; prints the dir
#                         (a ...-cloud-arm64 KVER boots on qemu-system-aarch64;
#                         --la57 is x86_64 only)
#   dumps [SUITE...]      kernel + initramfs + vmci and novmci boots per suite
#                         (default $KASLR_LAB_SUITES or "bookworm trixie sid");
#                         prints the dump dirs, rewrites $LAB/dumps/index.
#                         The first x86_64 suite's kernel also gets its
#                         early-boot dumps (early KVER), not in the index.
#                         Without SUITEs it then does dumps-arm64 too.
#   early KVER            dumps of a guest stopped before its kernel runs:
#                         dumps/KVER/early/early-real.elf (reset vector) and
#                         early.elf (vCPU 0 in the boot decompressor); its
#                         truth.env says every vCPU's state; prints the dir
#   all                   setup + dumps
#   reboot [SUITE...]     boot the suites' current kernels again: new vmci,
#                         novmci and novmci-la57 boots (KASLR places each
#                         anew) replace the old ones; downloads nothing.
#                         Without SUITEs it then does reboot-arm64 too.
#                         Never on a lab others are testing against.
#   kernel-arm64 SUITE    kernel SUITE for arm64 (-cloud-arm64)
#   dumps-arm64 [SUITE...] arm64 kernels booted on qemu-system-aarch64 -M virt:
#                         vmci and novmci boots per suite (default
#                         $KASLR_LAB_ARM64_SUITES or "bookworm trixie"),
#                         listed in $LAB/dumps/index.arm64
#   reboot-arm64 [SUITE...] reboot for the arm64 kernels
#   share FROM            take the kernels (SUITE.current, SUITE.current-arm64;
#                         kernels/KVER copied, its vmlinux a symlink) and the
#                         crash releases
#                         (crash/, a symlink) of lab FROM, so that `reboot`
#                         and `dumps` make a separate lab without downloading:
#                           KASLR_LAB_DIR=NEW lab.sh share OLD
#                           KASLR_LAB_DIR=NEW lab.sh reboot
#   gc                    delete kernels and dumps no SUITE.current(-arm64) names
#   path                  print the lab directory
#
# Environment:
#   KASLR_LAB_DIR         lab directory (default ${XDG_CACHE_HOME:-~/.cache}/kaslr-lab)
#   KASLR_LAB_SUITES      suites of `dumps` (default "bookworm trixie sid")
#   KASLR_LAB_KVER_<SUITE> pin a kernel, e.g. KASLR_LAB_KVER_TRIXIE=6.12.57+deb13-cloud-amd64
#   KASLR_LAB_ARM64_SUITES suites of `dumps-arm64` (default "bookworm trixie";
#                         empty: `dumps` and `reboot` make no arm64 boots)
#   KASLR_LAB_ARM64_KVER_<SUITE> pin an arm64 kernel
#   KASLR_LAB_REFRESH=1   look for a newer kernel even when one is cached
#   KASLR_LAB_APT_KEYRING keyring for the private apt configurations (testing)
#
# Layout of $LAB:
#   apt/SUITE/            private apt configuration and lists of a non-system suite
#   apt/SUITE-arm64/      the same for the suite's arm64 packages
#   kernels/SUITE.current kver of the suite's current kernel
#   kernels/SUITE.current-arm64  kver of the suite's current arm64 kernel
#                         (not *.current: x86_64-only tools never see it)
#   kernels/KVER/         vmlinuz vmlinux qemu_fw_cfg.ko (+ deps) modules release
#                         packages initrd.cpio.gz initrd.stamp (+ busybox:
#                         the guest's, for a foreign architecture)
#   dumps/KVER/NAME/      idle.elf idle.kdump panic.elf panic.kdump
#                         {idle,panic}-noqemu.elf {idle,panic}-nonotes.elf panic-nonotes.kdump
#                         truth.env guest.env serial.log qemu.log qemu.cmdline DONE
#   dumps/index           one dump dir per line, for every current x86_64 kernel
#   dumps/index.arm64     the same for the current arm64 kernels
#   dumps/KVER/NAME/ of an arm64 kernel: idle.elf idle.kdump panic.elf panic.kdump
#                         {idle,panic}-nonotes.elf panic-nonotes.kdump truth.env
#                         kcore-vmcoreinfo.txt guest.env serial.log qemu.log
#                         qemu.cmdline DONE
#
# Everything is cached: a warm run downloads nothing and boots nothing.  Any
# failure ends with one "lab.sh: error: ..." line on stderr and exit status 1;
# nothing is ever skipped silently.  Progress goes to stderr, results to stdout.
set -euo pipefail
shopt -s nullglob

PROG=lab.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${KASLR_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaslr-lab}
DEFAULT_SUITES="bookworm trixie sid"
DEFAULT_ARM64_SUITES="bookworm trixie"
BOOT_TRIES=3		# boots of one guest whose kernel crashes while booting (boot())
PKGS=(crash qemu-system-x86 qemu-system-arm busybox-static cpio makedumpfile xz-utils zstd kmod
	libelf-dev libkdumpfile-dev zlib1g-dev gcc make python3 clang binutils debootstrap valgrind bc
	qemu-user-static binfmt-support gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	debhelper dpkg-dev lintian rpm)

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
set -E
trap 'die "unexpected failure (line $LINENO, exit $?): $BASH_COMMAND"' ERR

# need CMD... - every command must exist, else tell the user to run setup.
need() {
	local c
	for c; do
		command -v "$c" >/dev/null || die "'$c' not found: run 'tests/lab/lab.sh setup' (as root)"
	done
}

# lock - one lab.sh at a time per lab directory (others wait up to an hour).
lock() {
	mkdir -p "$LAB" || die "cannot create $LAB"
	exec 9>"$LAB/.lock"
	flock -w 3600 9 || die "$LAB is locked by another lab.sh for over an hour"
}

###########################################################################
# architectures: the guest's, chosen per command (x86_64 unless told) and
# per kernel (from its kver: ...-cloud-amd64, ...-cloud-arm64)

NATIVE_ARCH=$(dpkg --print-architecture 2>/dev/null) || NATIVE_ARCH=amd64

# arch_select ARCH - set what differs between the guest architectures:
#   ARCH          Debian architecture (amd64, arm64): package names, flavour
#   QEMU, QEMU_OPTS  the emulator and its machine options for qemu-driver.py
#   GUEST_TTY     the first serial port as the guest names it
#   GUEST_CMDLINE the kernel command line (kaslr/nokaslr added per boot)
#   BOOT_MEM      default guest memory (MiB)
#   STD_BOOTS     the boots `dumps` makes of each kernel
#   CURRENT_EXT   kernels/SUITE$CURRENT_EXT names the suite's current kernel
#   INDEX         the index of the finished standard boots
# The x86_64 names are those the lab always had, so that whatever walks
# dumps/index or kernels/*.current sees only x86_64 kernels.
arch_select() {
	ARCH=$1
	case $ARCH in
	amd64)
		QEMU=qemu-system-x86_64 QEMU_OPTS=() GUEST_TTY=ttyS0 BOOT_MEM=512
		STD_BOOTS="vmci novmci novmci-la57" CURRENT_EXT=.current INDEX=$LAB/dumps/index ;;
	arm64)
		# virt: PL011 console (ttyAMA0), fw_cfg over MMIO, and a kaslr-seed in
		# the device tree, so KASLR works without UEFI.
		QEMU=qemu-system-aarch64 QEMU_OPTS=(--machine virt --cpu max) GUEST_TTY=ttyAMA0 BOOT_MEM=1024
		STD_BOOTS="vmci novmci" CURRENT_EXT=.current-arm64 INDEX=$LAB/dumps/index.arm64 ;;
	*) die "unknown architecture '$ARCH' (known: amd64 arm64)" ;;
	esac
	GUEST_CMDLINE="console=$GUEST_TTY panic=0"
}

# kver_arch KVER - the Debian architecture of a kernel, from its flavour.
kver_arch() {
	case $1 in
	*-arm64) echo arm64 ;;
	*) echo amd64 ;;
	esac
}

arch_select amd64

###########################################################################
# setup

cmd_setup() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" = "ii " ] || missing+=("$p")
	done
	if [ ${#missing[@]} = 0 ]; then
		note "setup: all ${#PKGS[@]} packages are installed"
		return
	fi
	[ "$(id -u)" = 0 ] || die "setup: must be root to install: ${missing[*]}"
	note "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2 || die "setup: apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "setup: apt-get install ${missing[*]} failed"
}

###########################################################################
# apt: the system's configuration for its own release, private ones for others

# shellcheck disable=SC1091
SYS_CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || SYS_CODENAME=
APT_OPTS=()	# set by apt_config: options selecting a suite's configuration

# kernel_prefix SUITE - the upstream series of the suite's kernel ABI names.
# The released suites keep one series; sid and forky (testing) move on to
# each new one, so they take the newest kernel of any series (7.x in 2026).
kernel_prefix() {
	case $1 in
	bullseye) echo "5.10.0-" ;;
	bookworm) echo "6.1.0-" ;;
	trixie) echo "6.12." ;;
	forky | sid) echo "" ;;
	*) die "unknown suite '$1' (known: bullseye bookworm trixie forky sid)" ;;
	esac
}

# Two packagings of a cloud kernel KVER (both with linux-image-KVER-dbg):
#   bullseye..trixie  linux-image-KVER-unsigned: /boot/vmlinuz-KVER and the
#                     modules (under /lib or /usr/lib/modules/KVER)
#   forky/sid (7.x)   linux-image-KVER is a meta package of
#                     linux-binary-KVER (usr/lib/modules/KVER/vmlinuz),
#                     linux-modules-KVER (the .ko files) and linux-base-KVER
#                     (System.map, modules.builtin); the -dbg package's
#                     usr/lib/debug/boot/vmlinux-KVER is a symlink to
#                     ../lib/modules/KVER/vmlinux
# kernel_packages KVER - the packages to download for KVER, as the lists
# name them (the old layout when its -unsigned image is listed), the -dbg
# package last.
kernel_packages() {
	local kver=$1
	if apt-cache "${APT_OPTS[@]}" show "linux-image-$kver-unsigned" >/dev/null 2>&1; then
		echo "linux-image-$kver-unsigned linux-image-$kver-dbg"
	else
		echo "linux-binary-$kver linux-modules-$kver linux-base-$kver linux-image-$kver-dbg"
	fi
}

# archive_keyring - path of the installed Debian archive keyring.
archive_keyring() {
	local k
	k=$(dpkg -L debian-archive-keyring 2>/dev/null | grep '/debian-archive-keyring\.gpg$' | head -n1) ||
		die "debian-archive-keyring is not installed"
	echo "$k"
}

# fresh_keyring - the newest debian-archive-keyring the system's mirrors offer
# (bookworm-updates or -backports when configured), unpacked under $LAB/apt.
# Used when the installed keyring cannot verify a newer suite.
fresh_keyring() {
	local d=$LAB/apt/keyring ver
	rm -rf "$d" && mkdir -p "$d/root"
	ver=$(apt-cache madison debian-archive-keyring | awk '{print $3}' |
		sort -V -r | head -n1) || true
	[ -n "$ver" ] || die "no debian-archive-keyring in the system's apt lists"
	(cd "$d" && apt-get -o APT::Sandbox::User=root -q download "debian-archive-keyring=$ver") >&2 ||
		die "cannot download debian-archive-keyring $ver"
	dpkg-deb -x "$d"/debian-archive-keyring_*.deb "$d/root" ||
		die "cannot unpack debian-archive-keyring $ver"
	FRESH_KEYRING=$(find "$d/root" -name debian-archive-keyring.gpg | head -n1)
	[ -n "$FRESH_KEYRING" ] || die "debian-archive-keyring $ver has no debian-archive-keyring.gpg"
	note "using debian-archive-keyring $ver from the system's mirrors"
}

# system_lists SUITE - true when the system's own apt lists serve SUITE's
# $ARCH packages (its own release, its own architecture).
system_lists() { [ "$1" = "$SYS_CODENAME" ] && [ "$ARCH" = "$NATIVE_ARCH" ]; }

# apt_config SUITE - set APT_OPTS for SUITE's $ARCH packages: nothing when
# the system's lists serve them, else a private configuration under
# $LAB/apt/SUITE (SUITE-ARCH for a foreign architecture, whose lists hold
# only that architecture) whose sources point at the system's mirrors (never
# at a hard-coded host).
apt_config() {
	local suite=$1 dir mirrors kind uri key keyring arch_opt=
	APT_OPTS=()
	system_lists "$suite" && return
	dir=$LAB/apt/$suite
	if [ "$ARCH" != "$NATIVE_ARCH" ]; then
		dir=$LAB/apt/$suite-$ARCH arch_opt="arch=$ARCH "
	fi
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/empty"
	mirrors=$(python3 "$HERE/apt-sources.py") || die "cannot find the system's Debian mirror in its apt configuration"
	: >"$dir/sources.list.tmp"
	while read -r kind uri key; do
		# Keyring: a fresher one fetched by apt_update, else the override,
		# else the system entry's Signed-By, else the installed archive keyring.
		keyring=${FRESH_KEYRING:-${KASLR_LAB_APT_KEYRING:-}}
		if [ -z "$keyring" ]; then
			if [ "$key" != - ]; then keyring=$key; else keyring=$(archive_keyring); fi
		fi
		case $kind in
		main) echo "deb [${arch_opt}signed-by=$keyring] $uri $suite main" ;;
		# sid (unstable) has no security suite.
		security) [ "$suite" = sid ] || echo "deb [${arch_opt}signed-by=$keyring] $uri $suite-security main" ;;
		esac >>"$dir/sources.list.tmp"
	done <<<"$mirrors"
	mv "$dir/sources.list.tmp" "$dir/sources.list"
	APT_OPTS=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/empty"
		-o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$dir/empty"
		-o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
		-o "Dir::State::status=/dev/null" -o "Acquire::Languages=none")
	if [ "$ARCH" != "$NATIVE_ARCH" ]; then
		APT_OPTS+=(-o "APT::Architecture=$ARCH" -o "APT::Architectures::=$ARCH")
	fi
}

# apt_update SUITE - refresh SUITE's package lists (private lists for a
# non-system suite; the system's lists otherwise).  Signatures are always
# checked; if the installed keyring cannot verify the suite, retry once with
# the newest keyring package of the system's mirrors.
apt_update() {
	local suite=$1 log
	apt_config "$suite"
	log=$LAB/tmp/apt-update-$suite-$ARCH.log
	mkdir -p "$LAB/tmp"
	note "apt-get update ($suite $ARCH)"
	if apt-get "${APT_OPTS[@]}" -q --error-on=any update >"$log" 2>&1; then
		rm -f "$log"
		return
	fi
	if [ ${#APT_OPTS[@]} != 0 ] && [ -z "${FRESH_KEYRING:-}" ] &&
		grep -qE "NO_PUBKEY|EXPKEYSIG|not signed|signatures couldn't be verified|Signed-By" "$log"; then
		note "the installed keyring cannot verify $suite; trying a newer debian-archive-keyring"
		fresh_keyring
		apt_config "$suite"
		if apt-get "${APT_OPTS[@]}" -q --error-on=any update >"$log" 2>&1; then
			rm -f "$log"
			return
		fi
	fi
	cat "$log" >&2
	die "apt-get update for $suite failed: $(grep -E '^(E|W):' "$log" | tail -n1)"
}

# kernel_candidates SUITE - set KVERS to SUITE's cloud kernels whose
# -unsigned image and -dbg packages both appear in the current lists, newest
# first; false when there is none.
kernel_candidates() {
	local suite=$1 prefix re pkgs=() pkg abi v i
	local -A ver=()
	prefix=$(kernel_prefix "$suite") || exit 1
	re="^linux-(image|binary)-${prefix//./\\.}[0-9][0-9A-Za-z.+~]*-cloud-$ARCH(-unsigned|-dbg)?\$"
	mapfile -t pkgs < <(apt-cache "${APT_OPTS[@]}" pkgnames linux- 2>/dev/null | grep -E "$re" |
		grep -E -e '-(unsigned|dbg)$' -e '^linux-binary-')
	KVERS=()
	[ ${#pkgs[@]} != 0 ] || return 1
	# One madison call for all candidates (apt-cache is slow to start):
	# "package | version | source" per available version, newest first.
	while IFS='|' read -r pkg v _; do
		pkg=${pkg// /} v=${v// /}
		[ -n "${ver[$pkg]:-}" ] || ver[$pkg]=$v
	done < <(apt-cache "${APT_OPTS[@]}" madison "${pkgs[@]}" 2>/dev/null)
	# The kernel image package: linux-image-KVER-unsigned (old layout) or
	# linux-binary-KVER (forky/sid); either with linux-image-KVER-dbg.
	local -A img=()
	for pkg in "${!ver[@]}"; do
		case $pkg in
		linux-image-*-unsigned) abi=${pkg#linux-image-} abi=${abi%-unsigned} ;;
		linux-binary-*) abi=${pkg#linux-binary-} ;;
		*) continue ;;
		esac
		[ -n "${ver[linux-image-$abi-dbg]:-}" ] && [ -z "${img[$abi]:-}" ] || continue
		img[$abi]=$pkg
		# Insert by package version (dpkg's ordering), newest first.
		v=${ver[$pkg]}
		for ((i = 0; i < ${#KVERS[@]}; i++)); do
			dpkg --compare-versions "$v" gt "${ver[${img[${KVERS[i]}]}]}" && break
		done
		KVERS=("${KVERS[@]:0:i}" "$abi" "${KVERS[@]:i}")
	done
	[ ${#KVERS[@]} != 0 ]
}

# pick_kernel SUITE - set KVER to the newest candidate of SUITE that is in
# the lab or can be fetched.  A mirror may list packages it no longer (or not
# yet) serves: then the next older candidates are tried, loudly, up to 5.
pick_kernel() {
	local suite=$1 kv
	kernel_candidates "$suite" || return 1
	for kv in "${KVERS[@]:0:5}"; do
		if kernel_complete "$kv" || fetch_kernel "$suite" "$kv"; then
			KVER=$kv
			return 0
		fi
		note "WARNING: $kv is listed in $suite but its packages cannot be downloaded; trying an older one"
	done
	return 1
}

###########################################################################
# kernel

# kernel_complete KVER - true when $LAB/kernels/KVER was fully extracted
# (with the guest's busybox, for a kernel of a foreign architecture).
kernel_complete() {
	[ -s "$LAB/kernels/$1/release" ] && [ -s "$LAB/kernels/$1/vmlinux" ] &&
		{ [ "$(kver_arch "$1")" = "$NATIVE_ARCH" ] || [ -s "$LAB/kernels/$1/busybox" ]; }
}

# modules_in_order DEPFILE MOD - print MOD's dependencies (recursively, the
# deepest first, as modprobe loads them) and then MOD, one path a line.
modules_in_order() {
	local depfile=$1 mod=$2 line deps=() i
	line=$(awk -F: -v m="$mod" '$1 == m { print $2; found = 1; exit } END { exit !found }' "$depfile") ||
		{ echo "$mod is not in modules.dep" >&2; return 1; }
	read -r -a deps <<<"$line"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		modules_in_order "$depfile" "${deps[i]}" || return 1
	done
	echo "$mod"
}

# copy_module SRC DSTDIR - copy a module, decompressing .ko.xz/.ko.zst/.ko.gz;
# prints the resulting file name.
copy_module() {
	local src=$1 dst=$2 base
	base=$(basename "$src")
	case $base in
	*.ko.xz) xz -dc "$src" >"$dst/${base%.xz}" && echo "${base%.xz}" ;;
	*.ko.zst) zstd -q -dc "$src" >"$dst/${base%.zst}" && echo "${base%.zst}" ;;
	*.ko.gz) gzip -dc "$src" >"$dst/${base%.gz}" && echo "${base%.gz}" ;;
	*.ko) cp "$src" "$dst/$base" && echo "$base" ;;
	*) die "unexpected module file $src" ;;
	esac
}

# fetch_kernel SUITE KVER - download and unpack KVER's image (either
# packaging, kernel_packages) and -dbg packages into $LAB/kernels/KVER.
# Returns 1 if the download fails (the caller decides what next); every later
# failure is fatal.
fetch_kernel() {
	local suite=$1 kver=$2 kdir tmp img dbg pkgs=() debs=() p deb dbgdeb mods root member target m order dep vmlinuz
	kdir=$LAB/kernels/$kver
	kernel_complete "$kver" && return
	read -r -a pkgs <<<"$(kernel_packages "$kver")"
	img=${pkgs[0]} dbg=linux-image-$kver-dbg
	# A foreign guest needs its own static busybox: the suite's, with the
	# kernel (so that the kernel directory is all `share` and `reboot` need).
	if [ "$ARCH" != "$NATIVE_ARCH" ]; then
		pkgs=("${pkgs[@]:0:${#pkgs[@]}-1}" busybox-static "${pkgs[-1]}")
	fi
	tmp=$LAB/tmp/kernel-$kver
	rm -rf "$tmp" "$kdir" "$kdir.part"
	mkdir -p "$tmp/root" "$tmp/dbg" "$kdir.part"
	local t0=$SECONDS
	note "downloading ${pkgs[*]} ($suite)"
	if ! (cd "$tmp" && apt-get "${APT_OPTS[@]}" -o APT::Sandbox::User=root -q download "${pkgs[@]}") >&2; then
		rm -rf "$tmp" "$kdir.part"
		return 1
	fi
	for p in "${pkgs[@]}"; do
		deb=$(echo "$tmp/${p}"_*.deb)
		[ -f "$deb" ] || die "apt-get download left no $p .deb in $tmp"
		debs+=("$deb")
	done
	dbgdeb=${debs[-1]}
	note "downloaded in $((SECONDS - t0)) s: $(du -ch "${debs[@]}" | tail -n1 | cut -f1)"

	# The image: vmlinuz and the fw_cfg module with its dependencies.
	root=$tmp/root
	for deb in "${debs[@]}"; do
		[ "$deb" = "$dbgdeb" ] || dpkg-deb -x "$deb" "$root" || die "cannot unpack $deb"
	done
	vmlinuz=
	for p in "boot/vmlinuz-$kver" "usr/lib/modules/$kver/vmlinuz" "lib/modules/$kver/vmlinuz"; do
		if [ -f "$root/$p" ]; then vmlinuz=$root/$p && break; fi
	done
	[ -n "$vmlinuz" ] || die "$img has no vmlinuz for $kver (boot/ or usr/lib/modules/$kver/)"
	cp "$vmlinuz" "$kdir.part/vmlinuz"
	if [ "$ARCH" != "$NATIVE_ARCH" ]; then
		for p in bin/busybox usr/bin/busybox ''; do
			if [ -f "$root/$p" ]; then break; fi
		done
		[ -n "$p" ] || die "busybox-static ($ARCH, $suite) has no bin/busybox"
		cp "$root/$p" "$kdir.part/busybox"
	fi
	# modules.dep is made by depmod at install time, not shipped: make it.
	# Trixie ships modules under /usr/lib/modules; bookworm's depmod looks in /lib.
	if [ ! -d "$root/lib/modules/$kver" ] && [ -d "$root/usr/lib/modules/$kver" ]; then
		mkdir -p "$root/lib/modules"
		ln -s "../../usr/lib/modules/$kver" "$root/lib/modules/$kver"
	fi
	mods=$root/lib/modules/$kver
	[ -d "$mods" ] || die "$img has no modules directory for $kver"
	depmod -b "$root" "$kver" || die "depmod failed on $img"
	m=$(grep -oE '^[^:]*/qemu_fw_cfg\.ko(\.xz|\.zst|\.gz)?:' "$mods/modules.dep" | head -n1) || true
	: >"$kdir.part/modules"
	if [ -n "$m" ]; then
		order=$(modules_in_order "$mods/modules.dep" "${m%:}") ||
			die "cannot resolve the dependencies of qemu_fw_cfg in $img's modules.dep"
		for dep in $order; do
			copy_module "$mods/$dep" "$kdir.part" >>"$kdir.part/modules" ||
				die "cannot copy module $dep"
		done
		note "fw_cfg modules (load order): $(tr '\n' ' ' <"$kdir.part/modules")"
	elif grep -q '/qemu_fw_cfg\.ko$' "$mods/modules.builtin" 2>/dev/null; then
		note "qemu_fw_cfg is built into $kver: no module to load"
	else
		die "$img has no qemu_fw_cfg module (needed for the vmcoreinfo device)"
	fi

	# The debug package: only its vmlinux.  --occurrence stops tar at the
	# member; dpkg-deb then dies of SIGPIPE, which is expected (hence "|| true").
	# forky/sid ship boot/vmlinux-KVER as a symlink to the real file: follow
	# it (one more pass over the package).
	member=./usr/lib/debug/boot/vmlinux-$kver
	t0=$SECONDS
	{ dpkg-deb --fsys-tarfile "$dbgdeb" 2>/dev/null || true; } |
		tar -x -C "$tmp/dbg" --occurrence=1 "$member" ||
		die "cannot extract $member from $(basename "$dbgdeb")"
	if [ -L "$tmp/dbg/$member" ]; then
		target=$(readlink "$tmp/dbg/$member")
		target=./$(realpath -m --relative-to="$tmp/dbg" "$tmp/dbg/$(dirname "$member")/$target")
		note "$member is a symlink to $target"
		rm -f "$tmp/dbg/$member"
		member=$target
		{ dpkg-deb --fsys-tarfile "$dbgdeb" 2>/dev/null || true; } |
			tar -x -C "$tmp/dbg" --occurrence=1 "$member" ||
			die "cannot extract $member from $(basename "$dbgdeb")"
	fi
	[ -f "$tmp/dbg/$member" ] && [ ! -L "$tmp/dbg/$member" ] || die "no $member (a file) in $(basename "$dbgdeb")"
	mv "$tmp/dbg/$member" "$kdir.part/vmlinux"
	note "vmlinux extracted in $((SECONDS - t0)) s"
	python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import elfnotes; elfnotes.symbol_value(sys.argv[2], "_text")' \
		"$HERE" "$kdir.part/vmlinux" || die "$member has no usable symbol table"

	for deb in "${debs[@]}"; do basename "$deb"; done >"$kdir.part/packages"
	echo "$kver" >"$kdir.part/release"
	mv "$kdir.part" "$kdir"
	rm -rf "$tmp"
}

# resolve_kernel SUITE - set KVER to SUITE's $ARCH kernel, fetching it if needed:
# KASLR_LAB_KVER_<SUITE> (KASLR_LAB_ARM64_KVER_<SUITE>) if set, else the
# cached SUITE.current (SUITE.current-arm64), else (or with
# KASLR_LAB_REFRESH=1) the newest one the suite's mirror serves.
resolve_kernel() {
	local suite=$1 pinvar cur prefix refresh=${KASLR_LAB_REFRESH:-0}
	prefix=$(kernel_prefix "$suite") || exit 1
	pinvar=KASLR_LAB_KVER_${suite^^}
	[ "$ARCH" = amd64 ] || pinvar=KASLR_LAB_${ARCH^^}_KVER_${suite^^}
	cur=$LAB/kernels/$suite$CURRENT_EXT
	mkdir -p "$LAB/kernels"
	if [ -n "${!pinvar:-}" ]; then
		KVER=${!pinvar}
		[[ $KVER == "$prefix"*-cloud-$ARCH ]] ||
			die "$pinvar=$KVER is not a $suite cloud kernel (${prefix}*-cloud-$ARCH)"
		if ! kernel_complete "$KVER"; then
			if system_lists "$suite"; then apt_config "$suite"; else apt_update "$suite"; fi
			fetch_kernel "$suite" "$KVER" ||
				{ system_lists "$suite" && apt_update "$suite" && fetch_kernel "$suite" "$KVER"; } ||
				die "cannot download $(kernel_packages "$KVER") ($pinvar) from $suite"
		fi
	elif [ -s "$cur" ] && [ "$refresh" != 1 ] && kernel_complete "$(cat "$cur")"; then
		KVER=$(cat "$cur")
		return
	elif system_lists "$suite" && [ "$refresh" != 1 ]; then
		# The system's own lists as they are; refreshed once if they are stale.
		apt_config "$suite"
		pick_kernel "$suite" || { apt_update "$suite" && pick_kernel "$suite"; } ||
			die "no downloadable ${prefix}*-cloud-$ARCH kernel (linux-image-KVER-unsigned or linux-binary-KVER) with its -dbg in $suite"
	else
		apt_update "$suite"
		pick_kernel "$suite" ||
			die "no downloadable ${prefix}*-cloud-$ARCH kernel (linux-image-KVER-unsigned or linux-binary-KVER) with its -dbg in $suite"
	fi
	echo "$KVER" >"$cur.tmp" && mv "$cur.tmp" "$cur"
}

cmd_kernel() {
	[ $# = 1 ] || die "usage: lab.sh kernel$([ "$ARCH" = amd64 ] || echo "-$ARCH") SUITE"
	need apt-get apt-cache dpkg-deb tar depmod xz zstd python3
	resolve_kernel "$1"
	echo "$KVER"
}

###########################################################################
# initramfs

# The guest's /init.  It prints its ground truth as "LAB: key=value" lines,
# then "LAB: READY", then obeys commands read from the serial console.
# Keep the keys in step with GUEST_KEYS in truth.py.  What differs by $ARCH:
# the console ($GUEST_TTY) and the lines between "ncpus" and "READY"
# (guest_init_arch).
guest_init() {
	guest_init_common | sed -e "s,/dev/ttyS0,/dev/$GUEST_TTY,g" -e '/^@ARCH@$/,$d'
	guest_init_arch
	guest_init_common | sed -e '1,/^@ARCH@$/d'
}

# guest_init_arch - the guest's lines of $ARCH before READY.
guest_init_arch() {
	case $ARCH in
	amd64) cat <<'EOF'
# The kernel clears the la57 flag unless it runs with 5-level page tables.
if grep -qw la57 /proc/cpuinfo; then echo "LAB: paging_levels=5"; else echo "LAB: paging_levels=4"; fi
EOF
		;;
	# arm64: the boot log's KASLR verdict (the kaslr-seed of virt's device
	# tree), the whole "Kernel code" range, and the kernel's own vmcoreinfo,
	# which /proc/kcore carries as a note whether or not fw_cfg is used
	# (since 4.19, commit 23c85094fe18): its text lines, as "LAB: kcore: ".
	# (arm64's /proc/kallsyms starts at _stext: it has no _text, and truth.py
	# derives it.)
	arm64) cat <<'EOF'
dmesg | grep KASLR | sed 's/^/LAB: dmesg: /'
echo "LAB: kaslr_enabled=$(dmesg | grep -c 'KASLR enabled')"
echo "LAB: kernel_code_end=$(sed -n 's/^ *[0-9a-f]*-\([0-9a-f]*\) : Kernel code$/\1/p' /proc/iomem | head -n1)"
echo "LAB: kcore_begin"
# The note: "VMCOREINFO" NUL, padding, then the text up to its NUL.
head -c 65536 /proc/kcore | tr '\000' '\n' |
	awk 'f == 2 && $0 == "" { exit } f && $0 != "" { f = 2; print "LAB: kcore: " $0 } !f && $0 == "VMCOREINFO" { f = 1 }'
echo "LAB: kcore_end"
EOF
		;;
	esac
}

guest_init_common() {
	cat <<'EOF'
#!/bin/sh
# /init of the kaslr.so lab guest (generated by tests/lab/lab.sh)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Talk on the first serial port, whatever /dev/console turned out to be.
exec 0</dev/ttyS0 1>/dev/ttyS0 2>&1
echo 1 >/proc/sys/kernel/printk		# only emergencies interleave with our lines
echo 0 >/proc/sys/kernel/kptr_restrict	# real addresses in /proc/kallsyms
echo 1 >/proc/sys/kernel/sysrq
for m in $(cat /lib/modules/load-order); do
	insmod "/lib/modules/$m" || echo "LAB: insmod_failed=$m"
done
ksym() { grep -m1 " $1\$" /proc/kallsyms | cut -d' ' -f1; }
echo "LAB: release=$(uname -r)"
echo "LAB: _text=$(ksym _text)"
echo "LAB: _stext=$(ksym _stext)"
echo "LAB: kernel_code=$(sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* : Kernel code$/\1/p' /proc/iomem | head -n1)"
if [ -d /sys/firmware/qemu_fw_cfg ]; then echo "LAB: fw_cfg=yes"; else echo "LAB: fw_cfg=no"; fi
echo "LAB: ncpus=$(grep -c '^processor' /proc/cpuinfo)"
@ARCH@
echo "LAB: READY"
while :; do
	read -r cmd || { sleep 1; continue; }
	case $cmd in
	panic) echo "LAB: panicking"; echo c >/proc/sysrq-trigger ;;
	poweroff) poweroff -f ;;
	ping) echo "LAB: pong" ;;
	'') ;;
	*) echo "LAB: unknown-command=$cmd" ;;
	esac
done
EOF
}

# build_initramfs KVER - $LAB/kernels/KVER/initrd.cpio.gz, rebuilt only when
# /init, busybox or the modules changed (initrd.stamp).  The system's
# busybox for a native guest, the kernel directory's for a foreign one.
build_initramfs() {
	local kver=$1 kdir busybox root stamp m
	kdir=$LAB/kernels/$kver
	arch_select "$(kver_arch "$kver")"
	kernel_complete "$kver" || die "kernel $kver is not in the lab: run 'lab.sh kernel SUITE' first"
	if [ "$ARCH" = "$NATIVE_ARCH" ]; then
		busybox=$(command -v busybox) || die "busybox not found: run 'tests/lab/lab.sh setup'"
	else
		busybox=$kdir/busybox
	fi
	readelf -l "$busybox" | grep -q INTERP && die "$busybox is not static: install busybox-static"
	stamp=$( {
		guest_init
		sha256sum "$busybox" | cut -d' ' -f1
		cat "$kdir/modules"
		while read -r m; do sha256sum "$kdir/$m" | cut -d' ' -f1; done <"$kdir/modules"
	} | sha256sum | cut -d' ' -f1)
	if [ -s "$kdir/initrd.cpio.gz" ] && [ "$(cat "$kdir/initrd.stamp" 2>/dev/null)" = "$stamp" ]; then
		return
	fi
	need cpio gzip
	root=$LAB/tmp/initramfs-$kver
	rm -rf "$root"
	mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
	cp "$busybox" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	guest_init >"$root/init"
	chmod 755 "$root/init"
	# The kernel opens /dev/console before /init runs; give it one.
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || note "cannot mknod dev/console (not root?): relying on /dev/$GUEST_TTY"
	while read -r m; do cp "$kdir/$m" "$root/lib/modules/"; done <"$kdir/modules"
	cp "$kdir/modules" "$root/lib/modules/load-order"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -6) \
		>"$kdir/initrd.cpio.gz.tmp" || die "cannot build the initramfs of $kver"
	mv "$kdir/initrd.cpio.gz.tmp" "$kdir/initrd.cpio.gz"
	echo "$stamp" >"$kdir/initrd.stamp"
	rm -rf "$root"
	note "initramfs of $kver built"
}

cmd_initramfs() {
	[ $# = 1 ] || die "usage: lab.sh initramfs KVER"
	build_initramfs "$1"
	echo "$LAB/kernels/$1/initrd.cpio.gz"
}

###########################################################################
# boot

# new_dump_dir KVER NAME: $LAB/dumps/KVER/NAME made empty for a boot, with
# the initramfs built; DUMP_CACHED=1 (and a note) instead when it is done
# already.  Called as a plain command, so that set -e holds inside it.
new_dump_dir() {
	local dir=$LAB/dumps/$1/$2
	DUMP_CACHED=0
	if [ -e "$dir/DONE" ]; then
		note "$1/$2: cached"
		DUMP_CACHED=1
		return 0
	fi
	need "$QEMU" python3 fallocate
	build_initramfs "$1"
	rm -rf "$dir"
	mkdir -p "$dir"
}

# boot KVER [--vmcoreinfo] [--nokaslr] [--la57] [--mem MB] [--name NAME] - one boot
# (--la57: a CPU with 5-level paging, which the kernel then uses; x86_64 only)
# and its dumps in $LAB/dumps/KVER/NAME; sets BOOT_DIR.  A dir without DONE is
# remade from scratch.  The guest's architecture is the kernel's (kver_arch).
# BOOT_MADE is 1 when it booted, 0 when the boot was cached.
boot() {
	local kver=${1:-} vmci=0 kaslr=1 la57=0 mem name='' d kdir t0 x rc opts=()
	[ -n "$kver" ] || die "usage: lab.sh boot KVER [--vmcoreinfo] [--nokaslr] [--la57] [--mem MB] [--name NAME]"
	shift
	arch_select "$(kver_arch "$kver")"
	mem=$BOOT_MEM
	while [ $# -gt 0 ]; do
		case $1 in
		--vmcoreinfo) vmci=1 ;;
		--nokaslr) kaslr=0 ;;
		--la57) la57=1 ;;
		--mem) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || die "--mem needs a size in MiB"
			mem=$2; shift ;;
		--name) [ $# -ge 2 ] && [[ $2 =~ ^[A-Za-z0-9._-]+$ ]] || die "--name needs a plain name"
			name=$2; shift ;;
		*) die "boot: unknown option $1" ;;
		esac
		shift
	done
	if [ -z "$name" ]; then
		if [ $vmci = 1 ]; then name=vmci; else name=novmci; fi
		if [ $kaslr = 0 ]; then name=$name-nokaslr; fi
		if [ $la57 = 1 ]; then name=$name-la57; fi
	fi
	if [ $la57 = 1 ] && [ "$ARCH" != amd64 ]; then die "boot: --la57 is for x86_64 kernels, not $kver"; fi
	opts+=(--qemu "$QEMU" "${QEMU_OPTS[@]}")
	if [ $vmci = 1 ]; then opts+=(--vmcoreinfo); fi
	if [ $la57 = 1 ]; then opts+=(--cpu qemu64,+la57); fi
	if [ $kaslr = 1 ]; then opts+=(--append "$GUEST_CMDLINE kaslr"); else opts+=(--append "$GUEST_CMDLINE nokaslr"); fi
	kdir=$LAB/kernels/$kver
	d=$LAB/dumps/$kver/$name
	BOOT_DIR=$d BOOT_MADE=0
	new_dump_dir "$kver" "$name"
	if [ $DUMP_CACHED = 1 ]; then
		derive "$d"
		return
	fi
	t0=$SECONDS
	# A guest kernel that crashes while booting under TCG (seen: 6.12.118 with 2
	# vCPUs, an int3 left by a text_poke_bp() race, 1 boot in 3) is booted
	# again, at most BOOT_TRIES times in all; its console stays in
	# serial.crash-N.log.  The dumps come only from a boot that reached READY,
	# and any other failure ends the lab at once.
	x=1
	while :; do
		note "booting $kver ($name: vmcoreinfo=$vmci kaslr=$kaslr mem=${mem}M)"
		rc=0
		python3 "$HERE/qemu-driver.py" --kernel "$kdir/vmlinuz" --initrd "$kdir/initrd.cpio.gz" \
			--mem "$mem" --smp 2 "${opts[@]}" --outdir "$d" \
			idle.elf=elf idle.kdump=kdump-zlib panic panic.elf=elf panic.kdump=kdump-zlib || rc=$?
		[ $rc = 0 ] && break
		if [ $rc = 2 ] && [ $x -lt $BOOT_TRIES ]; then
			mv "$d/serial.log" "$d/serial.crash-$x.log"
			note "$kver/$name: $(cat "$d/driver.err"); booting again ($((x + 1)) of $BOOT_TRIES)"
			rm -f "$d/driver.err"
			x=$((x + 1))
			continue
		fi
		die "boot $kver/$name failed: $(cat "$d/driver.err" 2>/dev/null || echo 'qemu-driver died')$([ $rc = 2 ] && echo " ($x boots in a row)") (logs in $d)"
	done
	python3 "$HERE/truth.py" --arch "$ARCH" --guest "$d/guest.env" --serial "$d/serial.log" \
		--vmlinux "$kdir/vmlinux" --kver "$kver" \
		--kaslr $kaslr --vmcoreinfo $vmci --mem "$mem" --out "$d/truth.env" \
		"$d/idle.elf" "$d/panic.elf" "$d/idle.kdump" "$d/panic.kdump" ||
		die "ground truth of $kver/$name is inconsistent (see truth: error above; logs in $d)"
	# A kernel built without CONFIG_X86_5LEVEL stays 4-level on a la57 CPU (Debian's 5.10
	# cloud kernel): truth.env says so, and the tests check what it says.  kaslr-find.sh
	# fails if no la57 boot of the kernels under test ran 5-level.
	if [ $la57 = 1 ] && ! grep -qx 'PAGING_LEVELS=5' "$d/truth.env"; then
		note "$kver/$name: the kernel did not use 5-level paging on a la57 CPU (PAGING_LEVELS=$(sed -n 's/^PAGING_LEVELS=//p' "$d/truth.env"))"
	fi
	chmod 644 "$d"/*.elf "$d"/*.kdump	# QEMU creates them 0400
	for x in idle panic; do
		fallocate --dig-holes "$d/$x.elf"	# QEMU writes zero pages out: make them holes
		# QEMU writes QEMUCPUState notes for x86 guests only.
		if [ "$ARCH" = amd64 ]; then
			python3 "$HERE/strip-notes.py" --drop QEMU "$d/$x.elf" "$d/$x-noqemu.elf" ||
				die "cannot make $x-noqemu.elf in $d"
		fi
		python3 "$HERE/strip-notes.py" --drop-all "$d/$x.elf" "$d/$x-nonotes.elf" ||
			die "cannot make $x-nonotes.elf in $d"
	done
	derive "$d"
	date -u +%FT%TZ >"$d/DONE"
	BOOT_MADE=1
	note "$kver/$name done in $((SECONDS - t0)) s ($(du -sh "$d" | cut -f1) on disk)"
}

# early KVER - dumps of a guest that never reached its kernel, in
# $LAB/dumps/KVER/early (not in the index: no kernel is placed in them):
# early-real.elf at the reset vector, early.elf with vCPU 0 in the boot
# decompressor.  qemu-driver.py --early stops the guest in short slices and
# reads the state back after each, so no delay is tuned to one machine.
# truth.env: KVER, RELEASE, VMLINUX and every vCPU's MODE/RIP/CR0/CR3/EFER
# per dump (EARLY_CPU0_MODE=decompressor, EARLY_REAL_CPU0_MODE=real), and
# EARLY_BANNER_IN_MEMORY (1: the decompressor had written the banner out).
# Sets BOOT_DIR.
early() {
	local kver=${1:-} d kdir t0 banner
	[ -n "$kver" ] || die "usage: lab.sh early KVER"
	arch_select "$(kver_arch "$kver")"
	[ "$ARCH" = amd64 ] || die "early: x86_64 kernels only, not $kver"
	kdir=$LAB/kernels/$kver
	d=$LAB/dumps/$kver/early
	BOOT_DIR=$d
	new_dump_dir "$kver" early
	[ $DUMP_CACHED = 0 ] || return 0
	t0=$SECONDS
	# 256 MiB: the decompressor's tables and output fit; the dumps stay small.
	python3 "$HERE/qemu-driver.py" --kernel "$kdir/vmlinuz" --initrd "$kdir/initrd.cpio.gz" \
		--mem 256 --smp 2 --qemu "$QEMU" --append "$GUEST_CMDLINE kaslr" --outdir "$d" --early early ||
		die "early-boot dumps of $kver failed: $(cat "$d/driver.err" 2>/dev/null || echo 'qemu-driver died') (logs in $d)"
	{
		echo "# Ground truth of the early-boot dumps (lab.sh early): no kernel runs in them."
		echo "KVER=$kver"
		echo "RELEASE=$(cat "$kdir/release")"
		echo "VMLINUX=$kdir/vmlinux"
		grep -v '^#' "$d/early.env"
		# Whether the decompressor had written the vmlinux's banner out yet (a later stop).
		banner=$(LC_ALL=C grep -a -o -m1 -E 'Linux version [[:print:]]+' "$kdir/vmlinux") ||
			die "early: no Linux version banner in $kdir/vmlinux"
		banner=${banner%%$'\n'*}
		if grep -qaF -- "$banner" "$d/early.elf"; then echo "EARLY_BANNER_IN_MEMORY=1"; else echo "EARLY_BANNER_IN_MEMORY=0"; fi
	} >"$d/truth.env"
	chmod 644 "$d"/*.elf
	fallocate --dig-holes "$d/early-real.elf"
	fallocate --dig-holes "$d/early.elf"
	date -u +%FT%TZ >"$d/DONE"
	note "$kver/early done in $((SECONDS - t0)) s ($(du -sh "$d" | cut -f1) on disk)"
}

cmd_early() {
	early "$@"
	echo "$BOOT_DIR"
}

# derive DIR - dumps made from a boot's dumps that QEMU cannot write itself;
# made when missing, so a cached boot gains them too.
#   panic-nonotes.kdump  the panicked guest as kdump-compressed without any
#                        note (no registers, no vmcoreinfo)
derive() {
	local d=$1
	if [ ! -e "$d/panic-nonotes.kdump" ]; then
		python3 "$HERE/elf2kdump.py" "$d/panic-nonotes.elf" "$d/panic-nonotes.kdump" ||
			die "cannot make panic-nonotes.kdump in $d"
	fi
}

cmd_boot() {
	boot "$@"
	update_index	# of the kernel's architecture (boot selected it)
	echo "$BOOT_DIR"
}

###########################################################################
# dumps, index, gc

# current_kvers - the kvers named by $LAB/kernels/*$CURRENT_EXT (the
# current kernels of $ARCH), unique.
current_kvers() {
	local f
	for f in "$LAB"/kernels/*"$CURRENT_EXT"; do cat "$f"; done | sort -u
}

# update_index - $INDEX ($LAB/dumps/index, or index.ARCH for a foreign
# architecture): every finished dump dir of a current $ARCH kernel, but for
# boots given their own --name (benchmarks' big guests): the tests walk the
# index and need not read 4 GiB dumps.
update_index() {
	local kver d
	mkdir -p "$LAB/dumps"
	for kver in $(current_kvers); do
		for d in "$LAB/dumps/$kver"/*/; do
			d=${d%/}
			case ${d##*/} in vmci | novmci | vmci-nokaslr | novmci-nokaslr | vmci-la57 | novmci-la57) ;; *) continue ;; esac
			if [ -e "$d/DONE" ]; then echo "$d"; fi
		done
	done >"$INDEX.tmp"
	mv "$INDEX.tmp" "$INDEX"
}

# arch_suites ARCH - the suites `dumps` and `reboot` take for ARCH when none
# are named: KASLR_LAB_SUITES (x86_64; empty means the default) or
# KASLR_LAB_ARM64_SUITES (set but empty: none).
arch_suites() {
	case $1 in
	amd64) echo "${KASLR_LAB_SUITES:-$DEFAULT_SUITES}" ;;
	arm64) echo "${KASLR_LAB_ARM64_SUITES-$DEFAULT_ARM64_SUITES}" ;;
	esac
}

# dumps_of ARCH SUITE... - kernel, initramfs and the standard boots
# ($STD_BOOTS) of each suite's ARCH kernel; the index is rewritten after every
# boot made, so that a finished boot is listed while the next one runs.
dumps_of() {
	local s b opts
	arch_select "$1"
	shift
	[ $# != 0 ] || die "no suites given"
	need apt-get apt-cache dpkg-deb tar depmod xz zstd python3 "$QEMU" cpio fallocate
	for s; do
		kernel_prefix "$s" >/dev/null
	done
	for s; do
		arch_select "$ARCH"
		resolve_kernel "$s"
		note "$s ($ARCH): $KVER"
		build_initramfs "$KVER"
		for b in $STD_BOOTS; do
			case $b in
			vmci) opts=(--vmcoreinfo) ;;
			novmci) opts=() ;;
			novmci-la57) opts=(--la57) ;;
			esac
			boot "$KVER" "${opts[@]}"
			if [ "$BOOT_MADE" = 1 ]; then update_index; fi
			DUMP_DIRS+=("$BOOT_DIR")
		done
		# The early-boot dumps: of the first x86_64 suite's kernel only.
		if [ "$ARCH" = amd64 ] && [ "$s" = "$1" ]; then
			early "$KVER"
			DUMP_DIRS+=("$BOOT_DIR")
		fi
	done
	update_index
}

# cmd_dumps [SUITE...] - the named x86_64 suites; without any, the x86_64
# suites and then the arm64 ones.
cmd_dumps() {
	local suites=()
	DUMP_DIRS=()
	if [ $# != 0 ]; then
		dumps_of amd64 "$@"
	else
		read -r -a suites <<<"$(arch_suites amd64)"
		dumps_of amd64 "${suites[@]}"
		read -r -a suites <<<"$(arch_suites arm64)"
		if [ ${#suites[@]} != 0 ]; then dumps_of arm64 "${suites[@]}"; fi
	fi
	printf '%s\n' "${DUMP_DIRS[@]}"
}

cmd_dumps_arm64() {
	local suites=("$@")
	DUMP_DIRS=()
	[ ${#suites[@]} != 0 ] || read -r -a suites <<<"$(arch_suites arm64)"
	[ ${#suites[@]} != 0 ] || die "no arm64 suites given (KASLR_LAB_ARM64_SUITES is empty)"
	dumps_of arm64 "${suites[@]}"
	printf '%s\n' "${DUMP_DIRS[@]}"
}

# reboot_of ARCH SUITE... - new standard boots of the suites' current ARCH
# kernels, nothing downloaded.
reboot_of() {
	local s kver b
	arch_select "$1"
	shift
	[ $# != 0 ] || die "no suites given"
	for s; do
		kernel_prefix "$s" >/dev/null
		kver=$(cat "$LAB/kernels/$s$CURRENT_EXT" 2>/dev/null) ||
			die "reboot: no current $s $ARCH kernel in $LAB (lab.sh dumps, or lab.sh share FROM)"
		kernel_complete "$kver" || die "reboot: the $s kernel $kver is not complete in $LAB"
		for b in $STD_BOOTS; do
			rm -rf "${LAB:?}/dumps/$kver/$b"
		done
		note "reboot: $s ($ARCH): $kver booted anew"
	done
	# The current kernels as they are: never a newer one, never a download.
	KASLR_LAB_REFRESH=0 dumps_of "$ARCH" "$@"
}

# cmd_reboot [SUITE...] - the named x86_64 suites; without any, the x86_64
# suites and then the arm64 ones.
cmd_reboot() {
	local suites=()
	DUMP_DIRS=()
	if [ $# != 0 ]; then
		reboot_of amd64 "$@"
	else
		read -r -a suites <<<"$(arch_suites amd64)"
		reboot_of amd64 "${suites[@]}"
		read -r -a suites <<<"$(arch_suites arm64)"
		if [ ${#suites[@]} != 0 ]; then reboot_of arm64 "${suites[@]}"; fi
	fi
	printf '%s\n' "${DUMP_DIRS[@]}"
}

cmd_reboot_arm64() {
	local suites=("$@")
	DUMP_DIRS=()
	[ ${#suites[@]} != 0 ] || read -r -a suites <<<"$(arch_suites arm64)"
	[ ${#suites[@]} != 0 ] || die "no arm64 suites given (KASLR_LAB_ARM64_SUITES is empty)"
	reboot_of arm64 "${suites[@]}"
	printf '%s\n' "${DUMP_DIRS[@]}"
}

# cmd_share FROM - the kernels (of every architecture) and crash releases of
# lab FROM, for this lab.
cmd_share() {
	local from=${1:-} f kver x d
	if [ $# != 1 ] || [ ! -d "$from/kernels" ]; then die "usage: lab.sh share FROM (a lab directory with kernels/)"; fi
	from=$(cd "$from" && pwd)
	[ "$from" != "$(cd "$LAB" && pwd)" ] || die "share: $from is this lab"
	mkdir -p "$LAB/kernels"
	for f in "$from"/kernels/*.current "$from"/kernels/*.current-arm64; do
		kver=$(cat "$f")
		if [ ! -s "$from/kernels/$kver/release" ] || [ ! -s "$from/kernels/$kver/vmlinux" ]; then
			die "share: $from/kernels/$kver is not complete"
		fi
		d=$LAB/kernels/$kver
		if ! kernel_complete "$kver"; then
			rm -rf "$d" "$d.part"
			mkdir -p "$d.part"
			# Everything but the vmlinux is small: a copy, so that nothing here
			# (an initramfs rebuilt by a newer lab.sh) writes into FROM.
			for x in "$from/kernels/$kver"/*; do
				if [ "$(basename "$x")" = vmlinux ]; then ln -s "$x" "$d.part/vmlinux"; else cp -a "$x" "$d.part/"; fi
			done
			mv "$d.part" "$d"
		fi
		cp "$f" "$LAB/kernels/$(basename "$f")"
		note "share: $(basename "$f"): $kver"
	done
	if [ -d "$from/crash" ] && [ ! -e "$LAB/crash" ]; then
		ln -s "$from/crash" "$LAB/crash"
		note "share: crash releases of $from"
	fi
}

# cmd_gc - delete the kernels and dumps no current kernel of any
# architecture names; rewrite every index.
cmd_gc() {
	local keep=' ' d kver a
	for a in amd64 arm64; do
		arch_select $a
		keep+="$(current_kvers | tr '\n' ' ')"
	done
	for d in "$LAB"/kernels/*/ "$LAB"/dumps/*/; do
		kver=$(basename "$d")
		if [[ $keep == *" $kver "* ]]; then continue; fi
		note "gc: removing ${d%/}"
		rm -rf "$d"
	done
	rm -rf "$LAB/tmp"
	for a in amd64 arm64; do
		arch_select $a
		update_index
	done
}

###########################################################################

main() {
	local cmd=${1:-}
	[ $# = 0 ] || shift
	case $cmd in
	path) echo "$LAB"; return ;;
	setup | kernel | kernel-arm64 | initramfs | boot | early | dumps | dumps-arm64 | all | reboot | reboot-arm64 | share | gc) ;;
	'' | -h | --help | help)
		sed -n '/^# Usage:/,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
		if [ -z "$cmd" ]; then exit 2; fi
		return ;;
	*) die "unknown command '$cmd' (try: lab.sh help)" ;;
	esac
	need flock
	lock
	local t0=$SECONDS
	case $cmd in
	setup) cmd_setup "$@" ;;
	kernel) cmd_kernel "$@" ;;
	kernel-arm64) arch_select arm64; cmd_kernel "$@" ;;
	initramfs) cmd_initramfs "$@" ;;
	boot) cmd_boot "$@" ;;
	early) cmd_early "$@" ;;
	dumps) cmd_dumps "$@" ;;
	dumps-arm64) cmd_dumps_arm64 "$@" ;;
	all) [ $# = 0 ] || die "usage: lab.sh all"; cmd_setup; cmd_dumps ;;
	reboot) cmd_reboot "$@" ;;
	reboot-arm64) cmd_reboot_arm64 "$@" ;;
	share) cmd_share "$@" ;;
	gc) cmd_gc ;;
	esac
	note "$cmd: done in $((SECONDS - t0)) s"
}

main "$@"
