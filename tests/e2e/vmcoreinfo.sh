#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/vmcoreinfo.sh - "kaslr -D" / "kaslr -w" on every real dump of the
# lab, and the programs that consume what they write.
#
# For every dump directory in $LAB/dumps/index (truth.env: VMLINUX,
# KERNELOFFSET, PHYS_BASE, RELEASE, VMCOREINFO_NOTE) and every dump in it:
#  rebuild   crash --minimal placed with the true values, "kaslr -D -R -w"
#            (forced rebuild from the vmlinux's debug information) must give
#            every key of the kernel's own vmcoreinfo with the same value
#            (CRASHTIME aside) and no other key.  The reference is the
#            dump's VMCOREINFO note on `vmci` boots, the kernel's copy in RAM
#            (what plain "kaslr -w" picks there) on `novmci` boots.
#            "PASS: vmcoreinfo/rebuild/<kver>/<boot>/<dump> (N/N keys)".
#  source    plain "kaslr -w" names the right source: the dump's note when
#            the file has one, else the kernel's copy in RAM; the file holds
#            nothing but KEY=VALUE lines.
# Once per directory, on idle.elf:
#  unplaced  the same rebuild in a crash session started with no offset at
#            all (crash's own guess, or none), and again after "kaslr -r".
# Once per directory, on an ELF dump without VMCOREINFO note (idle.elf of a
# novmci boot, idle-nonotes.elf of a vmci boot):
#  makedumpfile  "makedumpfile -c -d 31 -i REBUILT DUMP OUT" must succeed
#            and crash must open OUT with no hint: `sys` shows RELEASE (a
#            full session, kernels < 6.4), or, where crash 8.0.2 only manages
#            --minimal (6.4+), `--minimal --kaslr=auto` relocates _stext to
#            the file's SYMBOL(_stext) and linux_banner shows RELEASE.
#            makedumpfile reads program headers right after the ELF header,
#            where QEMU 7.2+ puts section headers, so it gets a sparse copy
#            with the program headers moved there (same data offsets).
#  drgn      "drgn --vmcoreinfo FILE -c DUMP -s VMLINUX" must print RELEASE,
#            when the installed drgn has --vmcoreinfo (0.0.27+); Debian
#            bookworm's python3-drgn 0.0.22 has not: an INFO line says so.
#
# A missing lab is a failure, never a skip.  KASLR_VMCI_DUMPS=REGEX limits
# the dumps (by file name) for runs by hand.
set -u
cd "$(dirname "$0")/../.."

LAB=${KASLR_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaslr-lab}
INDEX=$LAB/dumps/index
CRASH=${KASLR_CRASH:-crash}
MODULE=${KASLR_MODULE:-$PWD/kaslr.so}
TIMEOUT=${KASLR_CRASH_TIMEOUT:-600}
# By default three shapes per boot: ELF with notes, kdump-compressed, ELF without any.
ONLY=${KASLR_VMCI_DUMPS:-'^(idle\.elf|panic\.kdump|idle-nonotes\.elf)$'}
OUT=$PWD/build/e2e/vmcoreinfo
mkdir -p "$OUT"
failed=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failed=1; }
info() { echo "INFO: $1"; }

if [ ! -s "$INDEX" ]; then
	fail vmcoreinfo/lab "no dump index at $INDEX (tests/lab/lab.sh dumps makes it)"
	exit 1
fi
if [ ! -f "$MODULE" ]; then
	fail vmcoreinfo/module "no $MODULE (make kaslr.so)"
	exit 1
fi

# crash_run LOG COMMANDS OPTS... VMLINUX DUMP: one crash session, commands on stdin.
crash_run() {
	local log=$1 cmds=$2
	shift 2
	printf '%s\nexit\n' "$cmds" | timeout "$TIMEOUT" "$CRASH" -s --no_scroll "$@" >"$log" 2>&1
}

# note_text DUMP: the VMCOREINFO note of an ELF dump on stdout (nothing if none).
note_text() {
	python3 - "$1" <<'EOF'
import sys
sys.path.insert(0, "tests/lab")
import elfnotes
t = elfnotes.vmcoreinfo_text(sys.argv[1])
if t:
    sys.stdout.write(t.split("\0", 1)[0])
EOF
}

# compare REFERENCE FILE: "N M" (keys of the reference matched, keys compared)
# on the first line, then one line per difference; exit 0 if all match.
compare() {
	python3 - "$1" "$2" <<'EOF'
import sys

def keys(path):
    d, order = {}, []
    with open(path) as f:
        for line in f.read().split("\0", 1)[0].splitlines():
            if not line:
                continue
            k, _, v = line.partition("=")
            if k == "CRASHTIME":
                continue
            d[k] = v
            order.append(k)
    return d, order

ref, ref_order = keys(sys.argv[1])
got, got_order = keys(sys.argv[2])
same = [k for k in ref_order if got.get(k) == ref[k]]
diffs = ["%s: %s, want %s" % (k, got.get(k, "(missing)"), ref[k]) for k in ref_order if got.get(k) != ref[k]]
diffs += ["%s=%s: not in the kernel's" % (k, got[k]) for k in got_order if k not in ref]
if not diffs and got_order != ref_order:
    diffs.append("same keys in another order")
print(len(same), len(ref))
for d in diffs:
    print(d)
sys.exit(1 if diffs else 0)
EOF
}

# pure FILE: every line KEY=VALUE, the first OSRELEASE=.
pure() {
	[ -s "$1" ] && head -n 1 "$1" | grep -q '^OSRELEASE=.' && ! grep -qv '^[^=[:space:]]\+=[^[:space:]]*$' "$1"
}

# kv RELEASE: major*256+minor.
kv() {
	local IFS=.- a b
	read -r a b _ <<<"$1"
	echo $((a * 256 + b))
}

# phdr64 IN OUT: sparse copy of a QEMU ELF dump with its program headers moved
# right after the ELF header (e_phoff 64) and the section headers dropped.
phdr64() {
	python3 - "$1" "$2" <<'EOF'
import os, struct, subprocess, sys
src, dst = sys.argv[1], sys.argv[2]
subprocess.run(["cp", "--sparse=always", "--", src, dst], check=True)
os.chmod(dst, 0o600)
with open(dst, "r+b") as f:
    eh = bytearray(f.read(64))
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    f.seek(phoff)
    ph = f.read(phentsize * phnum)
    first = min(struct.unpack_from("<Q", ph, i * phentsize + 8)[0] for i in range(phnum))
    if 64 + len(ph) > first:
        sys.exit("%s: no room for the program headers before the data" % src)
    struct.pack_into("<QQ", eh, 32, 64, 0)          # e_phoff, e_shoff
    struct.pack_into("<HHH", eh, 58, 0, 0, 0)       # e_shentsize, e_shnum, e_shstrndx
    f.seek(0)
    f.write(bytes(eh) + ph + b"\0" * (first - 64 - len(ph)))
EOF
}

# check_rebuild NAME REFERENCE FILE LOG
check_rebuild() {
	local name=$1 ref=$2 file=$3 log=$4 res
	if [ ! -s "$file" ]; then
		fail "$name" "no rebuilt vmcoreinfo ($(grep -m1 -i 'kaslr\|error\|cannot' "$log" || tail -n 1 "$log"))"
		return
	fi
	if ! pure "$file"; then
		fail "$name" "$file is not pure KEY=VALUE text"
		return
	fi
	if res=$(compare "$ref" "$file"); then
		pass "$name ($(head -n 1 <<<"$res" | tr ' ' /) keys)"
	else
		fail "$name" "$(head -n 1 <<<"$res" | tr ' ' /) keys; $(sed -n '2,6p' <<<"$res" | paste -sd ';' -)"
	fi
}

while read -r d; do
	[ -n "$d" ] || continue
	if [ ! -f "$d/truth.env" ]; then
		fail "vmcoreinfo/$d" "no truth.env"
		continue
	fi
	VMLINUX='' KERNELOFFSET='' PHYS_BASE='' RELEASE='' VMCOREINFO_NOTE=0
	# shellcheck disable=SC1091
	. "$d/truth.env"
	boot=$(basename "$d")
	id=$RELEASE/$boot
	o=$OUT/$RELEASE/$boot
	mkdir -p "$o"
	pb_hex=$(printf '0x%x' "$PHYS_BASE")

	# The reference: the kernel's own vmcoreinfo.
	ref=$o/reference
	if [ "$VMCOREINFO_NOTE" = 1 ]; then
		note_text "$d/idle.elf" >"$ref"
		refsrc="the dump's VMCOREINFO note"
	else
		: >"$ref"
		refsrc="the kernel's own copy in RAM"
	fi

	for f in "$d"/*.elf "$d"/*.kdump; do
		[ -f "$f" ] || continue
		b=$(basename "$f")
		[[ $b =~ $ONLY ]] || continue
		log=$o/$b.log
		crash_run "$log" "extend $MODULE
kaslr -w $o/$b.default
kaslr -D -R -w $o/$b.rebuilt" --minimal --kaslr="$KERNELOFFSET" --machdep phys_base="$pb_hex" \
			"$VMLINUX" "$f"

		# Which source plain -w took.
		has_note=0
		if [ "$VMCOREINFO_NOTE" = 1 ] && [[ $b != *-nonotes.elf ]]; then
			has_note=1
		fi
		want="the kernel's own copy in RAM"
		[ $has_note = 1 ] && want="the dump's own VMCOREINFO note"
		srcline=$(grep -m1 "$o/$b.default: vmcoreinfo:" "$log")
		if [[ $srcline != *"$want"* ]]; then
			fail "vmcoreinfo/source/$id/$b" "want \"$want\", got: ${srcline:-nothing ($(tail -n 1 "$log"))}"
		elif ! pure "$o/$b.default"; then
			fail "vmcoreinfo/source/$id/$b" "$o/$b.default is not pure KEY=VALUE text"
		elif [ "$VMCOREINFO_NOTE" = 1 ] && ! compare "$ref" "$o/$b.default" >/dev/null; then
			fail "vmcoreinfo/source/$id/$b" "text differs from the VMCOREINFO note of idle.elf"
		else
			pass "vmcoreinfo/source/$id/$b"
		fi
		# novmci: the RAM copy of the first dump is the reference for all.
		if [ ! -s "$ref" ] && [[ $srcline == *"$refsrc"* ]]; then
			cp "$o/$b.default" "$ref"
		fi
		if [ ! -s "$ref" ]; then
			fail "vmcoreinfo/rebuild/$id/$b" "no reference ($refsrc) to compare with"
			continue
		fi
		check_rebuild "vmcoreinfo/rebuild/$id/$b" "$ref" "$o/$b.rebuilt" "$log"
	done

	# A session crash placed by itself (or not at all), then the same after "kaslr -r".
	if [ -f "$d/idle.elf" ] && [[ idle.elf =~ $ONLY ]] && [ -s "$ref" ]; then
		log=$o/unplaced.log
		cmds="extend $MODULE
kaslr -D -R -w $o/unplaced.rebuilt
kaslr -r
kaslr -D -R -w $o/repaired.rebuilt"
		rm -f "$o/unplaced.rebuilt" "$o/repaired.rebuilt"
		crash_run "$log" "$cmds" --minimal "$VMLINUX" "$d/idle.elf"
		if ! grep -q 'shared object loaded' "$log"; then
			# crash 8.0.2 takes phys_base from a 6.10+ kernel's note but not its
			# KERNELOFFSET, and stops at the first read: let it place the kernel.
			info "vmcoreinfo/rebuild-unplaced/$id: crash --minimal alone cannot open idle.elf ($(crash -d1 --minimal "$VMLINUX" "$d/idle.elf" </dev/null 2>&1 | grep '^crash: ' | tail -n 1)): using --kaslr=auto"
			crash_run "$log" "$cmds" --minimal --kaslr=auto "$VMLINUX" "$d/idle.elf"
		fi
		check_rebuild "vmcoreinfo/rebuild-unplaced/$id/idle.elf" "$ref" "$o/unplaced.rebuilt" "$log"
		check_rebuild "vmcoreinfo/rebuild-repaired/$id/idle.elf" "$ref" "$o/repaired.rebuilt" "$log"
	fi

	# Consumers, on an ELF dump without the note: idle.elf of a novmci boot;
	# on a vmci boot idle.elf with its VMCOREINFO note dropped (makedumpfile
	# needs the other notes, so idle-nonotes.elf would not do).
	if [ -f "$d/idle.elf" ] && [[ idle.elf =~ $ONLY ]] && [ -s "$o/idle.elf.rebuilt" ]; then
		nonote=$d/idle.elf
		label=idle.elf
		if [ "$VMCOREINFO_NOTE" = 1 ]; then
			label=idle-novmcoreinfo.elf
			nonote=$o/$label
			python3 tests/lab/strip-notes.py --drop VMCOREINFO "$d/idle.elf" "$nonote" >"$o/strip.log" 2>&1 ||
				fail "vmcoreinfo/makedumpfile/$id/$label" "strip-notes.py: $(tail -n 1 "$o/strip.log")"
		fi
		name=vmcoreinfo/makedumpfile/$id/$label
		tmp=$o/$label.phdr64
		kd=$o/$label.makedumpfile.kdump
		rm -f "$kd"
		if [ ! -f "$nonote" ]; then
			:
		elif ! phdr64 "$nonote" "$tmp" 2>"$o/phdr64.log"; then
			fail "$name" "cannot copy the dump: $(tail -n 1 "$o/phdr64.log")"
		elif ! makedumpfile -c -d 31 -i "$o/idle.elf.rebuilt" "$tmp" "$kd" >"$o/makedumpfile.log" 2>&1 ||
			[ ! -s "$kd" ]; then
			fail "$name" "makedumpfile -i failed: $(tr '\r' '\n' <"$o/makedumpfile.log" | grep -v '^\s*$' | tail -n 2 | paste -sd ' ' -)"
		else
			stext=$(sed -n 's/^SYMBOL(_stext)=//p' "$o/idle.elf.rebuilt")
			log=$o/makedumpfile-crash.log
			if [ "$(kv "$RELEASE")" -lt "$(kv 6.4)" ]; then
				crash_run "$log" "sys" "$VMLINUX" "$kd"
				if grep -q "RELEASE: $RELEASE\$" "$log"; then
					pass "$name (-d 31: $(du -k "$kd" | cut -f1) KiB; crash: sys RELEASE $RELEASE)"
				else
					fail "$name" "crash $kd: no \"RELEASE: $RELEASE\" ($(tail -n 1 "$log"))"
				fi
			else
				crash_run "$log" "sym _stext
rd -a linux_banner" --minimal --kaslr=auto "$VMLINUX" "$kd"
				if grep -q "^$stext (T) _stext" "$log" && grep -q "Linux version $RELEASE " "$log"; then
					pass "$name (-d 31: $(du -k "$kd" | cut -f1) KiB; crash --minimal --kaslr=auto: _stext $stext, banner $RELEASE)"
				else
					fail "$name" "crash --minimal --kaslr=auto $kd: no _stext at $stext or no banner of $RELEASE ($(tail -n 2 "$log" | paste -sd ' ' -))"
				fi
			fi
		fi
		rm -f "$tmp"

		if drgn --help 2>/dev/null | grep -q -- '--vmcoreinfo'; then
			name=vmcoreinfo/drgn/$id/$label
			echo 'print(prog["init_uts_ns"].name.release.string_().decode())' >"$o/drgn-release.py"
			if timeout "$TIMEOUT" drgn -q --vmcoreinfo "$o/idle.elf.rebuilt" -c "$nonote" -s "$VMLINUX" \
				"$o/drgn-release.py" >"$o/drgn.log" 2>&1 &&
				grep -qx "$RELEASE" "$o/drgn.log"; then
				pass "$name"
			else
				fail "$name" "$(tail -n 1 "$o/drgn.log")"
			fi
		elif command -v drgn >/dev/null; then
			info "vmcoreinfo/drgn/$id: drgn $(drgn --version 2>&1 | awk '{print $2}') has no --vmcoreinfo (0.0.27+): not tested"
		else
			info "vmcoreinfo/drgn/$id: drgn not installed: not tested"
		fi
		[ "$nonote" = "$d/idle.elf" ] || rm -f "$nonote"
	fi
done < <(for suite in ${KASLR_LAB_SUITES:-bookworm trixie}; do
	kv=$(cat "$LAB/kernels/$suite.current") &&
		for b in ${KASLR_VMCI_BOOTS:-vmci novmci novmci-la57}; do echo "$LAB/dumps/$kv/$b"; done
done)
exit $failed
