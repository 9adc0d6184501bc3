#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/vmcoreinfo.sh - "kaslr -D" / "kaslr -w" on every real dump of the
# lab, and the programs that consume what they write.
#
# For every boot directory of the lab (tests/lib/lab.py; truth.env: VMLINUX,
# KERNELOFFSET, PHYS_BASE, RELEASE, VMCOREINFO_NOTE, PAGING_LEVELS):
#  reference the kernel's own vmcoreinfo, read without the module
#            (tests/lab/vmci_reference.py): the VMCOREINFO note of idle.elf
#            on `vmci` boots, where the page vmcoreinfo_data points to in RAM,
#            read with truth.env's values, must hold the same text; that page
#            on `novmci` boots.  It must say truth.env's KERNELOFFSET,
#            PHYS_BASE, RELEASE and paging mode, and on novmci boots agree key
#            by key with the note of the twin vmci boot of the same kernel
#            (image addresses moved by the two offsets' difference).
#            "PASS: vmcoreinfo/reference/<kver>/<boot>".
# and for every dump of it (by default idle.elf, panic.kdump, idle-nonotes.elf):
#  rebuild   crash --minimal placed with the true values, "kaslr -D -R -w"
#            (forced rebuild from the vmlinux's debug information) must give
#            every key of the reference with the same value (CRASHTIME aside)
#            and no other key.
#            "PASS: vmcoreinfo/rebuild/<kver>/<boot>/<dump> (N/N keys)".
#  source    plain "kaslr -w" names the right source (the dump's note when
#            the file has one, else the kernel's copy in RAM) and writes the
#            reference's text, nothing but KEY=VALUE lines.
# Once per directory, on idle.elf:
#  unplaced  the same rebuild in a crash session started with no offset at
#            all (crash's own guess), and again after "kaslr -r".  Where crash
#            cannot open idle.elf by itself (no prompt: 6.12 with a note and
#            crash 8.0.2), it is started wrong the way it survives on any boot
#            (--kaslr=0, phys_base = PHYS_BASE + KERNELOFFSET).
# Once per directory, on an ELF dump without VMCOREINFO note (idle.elf of a
# novmci boot, idle.elf with its note dropped on a vmci boot):
#  makedumpfile  "makedumpfile -c -d 31 -i REBUILT DUMP OUT" must succeed
#            and crash must open OUT with no hint: `sys` shows RELEASE (a
#            full session), or, where crash only manages --minimal (it says
#            so: e2e.py --full-session), `--minimal --kaslr=auto` relocates _stext to
#            the file's SYMBOL(_stext) and linux_banner shows RELEASE.
#            makedumpfile reads program headers right after the ELF header,
#            where QEMU 7.2+ puts section headers, so it gets a sparse copy
#            with the program headers moved there (same data offsets).
#  drgn      "drgn --vmcoreinfo FILE -c DUMP -s VMLINUX" must print RELEASE:
#            drgn 0.3.0 of the lab's sid root (tests/lab/crash-versions.sh
#            9.0.2; KASLR_DRGN=PATH another one with --vmcoreinfo, 0.0.27+).
# Every crash session carries tests/lib/crash-session.sh's markers: one that
# reached crash's prompt and then died, hung or exited non-zero is a FAIL
# naming the command that was running.
#
# A missing lab, boot or dump is a failure, never a skip, and so is a run that
# checked fewer cases than the lab holds ("vmcoreinfo/count").
# KASLR_VMCI_DUMPS=REGEX (dump file names) and KASLR_VMCI_BOOTS="vmci ..."
# narrow a run by hand; such a run fails its count.
set -u
cd "$(dirname "$0")/../.." || exit 1

CRASH=${KASLR_CRASH:-crash}
MODULE=${KASLR_MODULE:-$PWD/kaslr.so}
TIMEOUT=${KASLR_CRASH_TIMEOUT:-600}
# By default three shapes per boot: ELF with notes, kdump-compressed, ELF without any.
DEFAULT_DUMPS='^(idle\.elf|panic\.kdump|idle-nonotes\.elf)$'
DEFAULT_BOOTS="vmci novmci novmci-la57"
ONLY=${KASLR_VMCI_DUMPS:-$DEFAULT_DUMPS}
BOOTS=${KASLR_VMCI_BOOTS:-$DEFAULT_BOOTS}
OUT=$PWD/build/e2e/vmcoreinfo
mkdir -p "$OUT"
failed=0
# shellcheck source=tests/lib/crash-session.sh
. tests/lib/crash-session.sh

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failed=1; }
info() { echo "INFO: $1"; }

# drgn with --vmcoreinfo: the lab's (sid's drgn 0.3.0), unless KASLR_DRGN names one.
DRGN=${KASLR_DRGN:-}
if [ -z "$DRGN" ] && line=$(bash tests/lab/crash-versions.sh 9.0.2 2>"$OUT/drgn-provision.log"); then
	DRGN=$(dirname "$(cut -d' ' -f2 <<<"$line")")/drgn
fi
if [ -n "$DRGN" ] && "$DRGN" --help 2>/dev/null | grep -q -- '--vmcoreinfo'; then
	pass "vmcoreinfo/drgn-provision ($("$DRGN" --version 2>&1 | head -n 1 | cut -d' ' -f1-2))"
else
	fail vmcoreinfo/drgn-provision "no drgn with --vmcoreinfo (${DRGN:-crash-versions.sh 9.0.2: $(tail -n 1 "$OUT/drgn-provision.log")})"
fi

# The lab: "DIR FILE" for every dump of every boot directory.
if ! labdumps=$(python3 tests/lib/lab.py dumps 2>"$OUT/lab.err"); then
	fail vmcoreinfo/lab "$(tail -n 1 "$OUT/lab.err")"
	exit 1
fi
if [ ! -f "$MODULE" ]; then
	fail vmcoreinfo/module "no $MODULE (make kaslr.so)"
	exit 1
fi

# crash_run LOG COMMANDS OPTS... VMLINUX DUMP: one crash session, the commands
# (one a line) on stdin between markers.  Returns session_verdict's status (0
# clean, 1 broke after reaching the prompt, 2 never reached it), its message
# in SESSION_WHY.
SESSION_WHY= SAME_EXCLUSION=
crash_run() {
	local log=$1 rc cmds=()
	mapfile -t cmds <<<"$2"
	shift 2
	session_script "${cmds[@]}" | timeout "$TIMEOUT" "$CRASH" -s --no_scroll "$@" >"$log" 2>&1
	rc=$?
	SESSION_WHY=$(session_verdict "$log" "$rc" "${cmds[@]}")
}

# same_exclusion LOG CMDS CRASH-ARGS... (the dump last): when crash, on
# makedumpfile's -d 31 output made with the rebuilt vmcoreinfo, stopped at
# "page excluded", make the same dump with the kernel's own vmcoreinfo
# ($ref) from the same input ($tmp) and run the same session on it.  Exit 0
# when that stops at the same excluded page: makedumpfile's page filter,
# not the vmcoreinfo, dropped it (bookworm's makedumpfile 1.7.2 misreads
# some page types of newer kernels; which page depends on the placement).
same_exclusion() {
	local log=$1 cmds=$2 excl kd
	shift 2
	excl=$(grep -m1 -o 'page excluded: [^"]*"[^"]*"' "$log") || return 1
	[ -s "$ref" ] || return 1
	kd=$o/$label.reference.kdump
	rm -f "$kd"
	makedumpfile -c -d 31 -i "$ref" "$tmp" "$kd" >"$o/makedumpfile-reference.log" 2>&1 || return 1
	crash_run "$log.reference" "$cmds" "${@:1:$#-1}" "$kd"
	grep -qF "$excl" "$log.reference" || return 1
	SAME_EXCLUSION="makedumpfile -d 31 with the kernel's own vmcoreinfo excluded the same page ($excl), which crash needs"
	rm -f "$kd"
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

# The cases the lab holds, for the count: per boot directory the rebuild of
# every default dump, the unplaced session and makedumpfile.
want=0 ran=0
while read -r d f; do
	[[ $f =~ $DEFAULT_DUMPS ]] && want=$((want + 1))
done <<<"$labdumps"
want=$((want + 2 * $(cut -d' ' -f1 <<<"$labdumps" | sort -u | wc -l)))

for d in $(cut -d' ' -f1 <<<"$labdumps" | uniq); do
	boot=$(basename "$d")
	[[ " $BOOTS " == *" $boot "* ]] || continue
	VMLINUX='' KERNELOFFSET='' PHYS_BASE='' RELEASE='' VMCOREINFO_NOTE=0
	# shellcheck disable=SC1091
	. "$d/truth.env"
	id=$RELEASE/$boot
	o=$OUT/$RELEASE/$boot
	mkdir -p "$o"
	pb_hex=$(printf '0x%x' "$PHYS_BASE")
	wrong_pb=$(printf '0x%x' "$((PHYS_BASE + KERNELOFFSET))")

	# The reference: the kernel's own vmcoreinfo, read and checked without the module.
	ref=$o/reference
	rm -f "$ref"
	if res=$(python3 tests/lab/vmci_reference.py "$d" "$(dirname "$d")/vmci" "$ref" 2>"$o/reference.err"); then
		pass "vmcoreinfo/reference/$id ($res)"
	else
		fail "vmcoreinfo/reference/$id" "$(tail -n 1 "$o/reference.err")"
		rm -f "$ref"
	fi

	mapfile -t files < <(awk -v d="$d" '$1 == d { print $2 }' <<<"$labdumps")
	for b in "${files[@]}"; do
		[[ $b =~ $ONLY ]] || continue
		f=$d/$b
		log=$o/$b.log
		rm -f "$o/$b.default" "$o/$b.rebuilt"
		crash_run "$log" "extend $MODULE
kaslr -w $o/$b.default
kaslr -D -R -w $o/$b.rebuilt" --minimal --kaslr="$KERNELOFFSET" --machdep phys_base="$pb_hex" \
			"$VMLINUX" "$f"
		sv=$?
		ran=$((ran + 1))
		if [ $sv != 0 ]; then
			fail "vmcoreinfo/rebuild/$id/$b" "$SESSION_WHY"
			continue
		fi

		# Which source plain -w took, and what it wrote.
		want_src="the kernel's own copy in RAM"
		if [ "$VMCOREINFO_NOTE" = 1 ] && [[ $b != *-nonotes.* ]]; then
			want_src="the dump's own VMCOREINFO note"
		fi
		srcline=$(grep -m1 "$o/$b.default: vmcoreinfo:" "$log")
		if [[ $srcline != *"$want_src"* ]]; then
			fail "vmcoreinfo/source/$id/$b" "want \"$want_src\", got: ${srcline:-nothing ($(tail -n 1 "$log"))}"
		elif ! pure "$o/$b.default"; then
			fail "vmcoreinfo/source/$id/$b" "$o/$b.default is not pure KEY=VALUE text"
		elif [ ! -s "$ref" ]; then
			fail "vmcoreinfo/source/$id/$b" "no reference to compare with (vmcoreinfo/reference/$id)"
		elif ! res=$(compare "$ref" "$o/$b.default"); then
			fail "vmcoreinfo/source/$id/$b" "text differs from the reference: $(sed -n '2,4p' <<<"$res" | paste -sd ';' -)"
		else
			pass "vmcoreinfo/source/$id/$b"
		fi
		if [ ! -s "$ref" ]; then
			fail "vmcoreinfo/rebuild/$id/$b" "no reference to compare with (vmcoreinfo/reference/$id)"
			continue
		fi
		check_rebuild "vmcoreinfo/rebuild/$id/$b" "$ref" "$o/$b.rebuilt" "$log"
	done

	# A session crash placed by itself, then the same after "kaslr -r".
	if [[ idle.elf =~ $ONLY ]]; then
		ran=$((ran + 1))
		log=$o/unplaced.log
		ucmds="extend $MODULE
kaslr -D -R -w $o/unplaced.rebuilt
kaslr -r
kaslr -D -R -w $o/repaired.rebuilt"
		rm -f "$o/unplaced.rebuilt" "$o/repaired.rebuilt"
		crash_run "$log" "$ucmds" --minimal "$VMLINUX" "$d/idle.elf"
		sv=$?
		if [ $sv = 2 ]; then
			# crash 8.0.2 takes phys_base from a 6.10+ kernel's note but not its
			# KERNELOFFSET, and stops at the first read: start it wrong the way
			# it survives on any boot.
			info "vmcoreinfo/rebuild-unplaced/$id: crash --minimal alone cannot open idle.elf ($SESSION_WHY): starting it with --kaslr=0 --machdep phys_base=$wrong_pb"
			crash_run "$log" "$ucmds" --minimal --kaslr=0 --machdep phys_base="$wrong_pb" "$VMLINUX" "$d/idle.elf"
			sv=$?
		fi
		if [ $sv != 0 ]; then
			fail "vmcoreinfo/rebuild-unplaced/$id/idle.elf" "$SESSION_WHY"
		elif [ ! -s "$ref" ]; then
			fail "vmcoreinfo/rebuild-unplaced/$id/idle.elf" "no reference to compare with (vmcoreinfo/reference/$id)"
		else
			check_rebuild "vmcoreinfo/rebuild-unplaced/$id/idle.elf" "$ref" "$o/unplaced.rebuilt" "$log"
			check_rebuild "vmcoreinfo/rebuild-repaired/$id/idle.elf" "$ref" "$o/repaired.rebuilt" "$log"
		fi
	fi

	# Consumers, on an ELF dump without the note: idle.elf of a novmci boot;
	# on a vmci boot idle.elf with its VMCOREINFO note dropped (makedumpfile
	# needs the other notes, so idle-nonotes.elf would not do).
	if [[ idle.elf =~ $ONLY ]]; then
		ran=$((ran + 1))
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
		if [ ! -s "$o/idle.elf.rebuilt" ]; then
			fail "$name" "no rebuilt vmcoreinfo of idle.elf to give it (vmcoreinfo/rebuild/$id/idle.elf)"
		elif [ ! -f "$nonote" ]; then
			:	# strip-notes.py failed: reported above
		elif ! phdr64 "$nonote" "$tmp" 2>"$o/phdr64.log"; then
			fail "$name" "cannot copy the dump: $(tail -n 1 "$o/phdr64.log")"
		elif ! makedumpfile -c -d 31 -i "$o/idle.elf.rebuilt" "$tmp" "$kd" >"$o/makedumpfile.log" 2>&1 ||
			[ ! -s "$kd" ]; then
			fail "$name" "makedumpfile -i failed: $(tr '\r' '\n' <"$o/makedumpfile.log" | grep -v '^\s*$' | tail -n 2 | paste -sd ' ' -)"
		else
			stext=$(sed -n 's/^SYMBOL(_stext)=//p' "$o/idle.elf.rebuilt")
			log=$o/makedumpfile-crash.log
			# Whether crash can initialise this kernel fully, asked of crash itself.
			if [ "$(KASLR_CRASH=$CRASH python3 tests/e2e/e2e.py --full-session "$d" "$d/idle.elf" | tail -n 1)" = full ]; then
				crash_run "$log" "sys" "$VMLINUX" "$kd"
				if [ $? = 1 ]; then
					fail "$name" "$SESSION_WHY"
				elif grep -q "RELEASE: $RELEASE\$" "$log"; then
					pass "$name (-d 31: $(du -k "$kd" | cut -f1) KiB; crash: sys RELEASE $RELEASE)"
				elif same_exclusion "$log" "sys" "$VMLINUX" "$kd"; then
					pass "$name (the same as the kernel's own: $SAME_EXCLUSION)"
				else
					fail "$name" "crash $kd: no \"RELEASE: $RELEASE\" ($SESSION_WHY$(tail -n 1 "$log"))"
				fi
			else
				crash_run "$log" "sym _stext
rd -a linux_banner" --minimal --kaslr=auto "$VMLINUX" "$kd"
				if [ $? = 1 ]; then
					fail "$name" "$SESSION_WHY"
				elif grep -q "^$stext (T) _stext" "$log" && grep -q "Linux version $RELEASE " "$log"; then
					pass "$name (-d 31: $(du -k "$kd" | cut -f1) KiB; crash --minimal --kaslr=auto: _stext $stext, banner $RELEASE)"
				elif same_exclusion "$log" "sym _stext
rd -a linux_banner" --minimal --kaslr=auto "$VMLINUX" "$kd"; then
					pass "$name (the same as the kernel's own: $SAME_EXCLUSION)"
				else
					fail "$name" "crash --minimal --kaslr=auto $kd: no _stext at $stext or no banner of $RELEASE ($SESSION_WHY$(tail -n 2 "$log" | paste -sd ' ' -))"
				fi
			fi
		fi
		rm -f "$tmp"

		if [ ! -s "$o/idle.elf.rebuilt" ] || [ ! -f "$nonote" ]; then
			:	# reported above
		else
			name=vmcoreinfo/drgn/$id/$label
			echo 'print(prog["init_uts_ns"].name.release.string_().decode())' >"$o/drgn-release.py"
			if [ -n "$DRGN" ] && timeout "$TIMEOUT" "$DRGN" -q --vmcoreinfo "$o/idle.elf.rebuilt" -c "$nonote" -s "$VMLINUX" \
				"$o/drgn-release.py" >"$o/drgn.log" 2>&1 &&
				grep -qx "$RELEASE" "$o/drgn.log"; then
				pass "$name"
			else
				fail "$name" "${DRGN:-no drgn (vmcoreinfo/drgn-provision)}: $(tail -n 1 "$o/drgn.log" 2>/dev/null)"
			fi
		fi
		[ "$nonote" = "$d/idle.elf" ] || rm -f "$nonote"
	fi
done

if [ "$ran" = "$want" ]; then
	pass "vmcoreinfo/count ($ran of the lab's $want cases)"
else
	fail vmcoreinfo/count "ran $ran of the lab's $want cases$([ "$ONLY$BOOTS" = "$DEFAULT_DUMPS$DEFAULT_BOOTS" ] || echo " (KASLR_VMCI_DUMPS/KASLR_VMCI_BOOTS: a partial run)")"
fi
exit $failed
