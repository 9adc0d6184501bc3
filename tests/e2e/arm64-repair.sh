#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/arm64-repair.sh - "kaslr -r" in crash:arm64 against the same
# boot's dump with its vmcoreinfo note.
#
# Usage: arm64-repair.sh [--crash VER] [VMLINUX VMCI_DUMP]
#
# Cases, from $LAB/dumps/index.arm64 (truth.env names VMLINUX, KERNELOFFSET,
# KIMAGE_VOFFSET, TEXT_GUEST):
#   KVER/vmci    a copy of panic.elf without its VMCOREINFO note
#                (tests/lab/strip-notes.py) is opened with "crash --minimal"
#                and repaired with "kaslr -r KERNELOFFSET KIMAGE_VOFFSET"; the
#                commands below must print what a session on panic.elf itself
#                prints (sys without its DUMPFILE line; help -m only the
#                layout lines, not heap pointers);
#   KVER/novmci  panic.elf and panic.kdump (no note: another boot) repaired
#                with "kaslr -r" alone, the values found and verified by the
#                module (the core's search): sym _text must be TEXT_GUEST.
# Each repaired session must come up full, unless this crash cannot open the
# same kernel's dump with its note either (the vmci control never reached
# its prompt): then it must stay a relocated --minimal session.
# With VMLINUX VMCI_DUMP: that one vmci case, the values from the note.
# One "PASS: arm64-repair/name" / "FAIL: arm64-repair/name: why" line per
# check (tests/run.sh counts them); exit 1 on any failure.
#
# Emulated crash is slow (8.0.2: 10 s --minimal, 45 s full start on a 1 GiB
# dump): the sessions run one after the other.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=${KASLR_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaslr-lab}
OUT=$ROOT/build/e2e/arm64-repair
# shellcheck source=../lib/crash-session.sh
. "$ROOT/tests/lib/crash-session.sh"

VER=8.0.2
if [ "${1:-}" = --crash ]; then VER=$2; shift 2; fi
pass=0 fail=0
ok() { echo "PASS: arm64-repair/$1"; pass=$((pass + 1)); }
ko() { echo "FAIL: arm64-repair/$1: $2"; fail=$((fail + 1)); }

mkdir -p "$OUT"
# The lab's crash:arm64 VER (made once, cached: crash-versions.sh arm64 VER).
line=$(bash "$ROOT/tests/lab/crash-versions.sh" list-arm64 | awk -v v="$VER" '$1 == v')
[ -n "$line" ] || line=$(bash "$ROOT/tests/lab/crash-versions.sh" arm64 "$VER" 2>"$OUT/provision.log") ||
	{ ko "arm64/crash-$VER" "$(tail -n 1 "$OUT/provision.log")"; echo "# arm64-repair: $pass passed, $fail failed"; exit 1; }
read -r _ CRASH _ _ <<<"$line"
SO=$ROOT/build/arm64-crash-$VER/kaslr.so
make -s -C "$ROOT" arm64 >"$OUT/build.log" 2>&1 && [ -f "$SO" ] ||
	{ ko "arm64/build" "make arm64: $(tail -n 1 "$OUT/build.log")"; echo "# arm64-repair: $pass passed, $fail failed"; exit 1; }

CMDS=("sym _text" "sys" "bt -a" "ps" "p jiffies" "mod" "kmem -i" "help -m")
LAYOUT='^ *(flags|kvbase|identity_map_base|pagesize|VA_BITS|CONFIG_ARM64_VA_BITS|VA_START|VA_BITS_ACTUAL|CONFIG_ARM64_KERNELPACMASK|userspace_top|page_offset|vmalloc_start_addr|vmalloc_end|modules_vaddr|modules_end|vmemmap_vaddr|vmemmap_end|kimage_text|kimage_end|kimage_voffset|phys_offset|physvirt_offset|struct_page_size|section_size_bits|max_physmem_bits):'

# normalise LOG - the command outputs, for comparison
normalise() {
	sed -n '/@@CMD 0@@/,/@@END@@/p' "$1" | grep -v '^ *DUMPFILE:' |
		awk -v re="$LAYOUT" '/@@CMD 7@@/ { m = 1 } /@@END@@/ { m = 0 } !m || $0 ~ re || /@@/'
}

# note_value DUMP KEY - KEY's value in DUMP's VMCOREINFO note
note_value() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
f = open(sys.argv[1], 'rb'); h = f.read(64)
phoff, = struct.unpack_from('<Q', h, 32); phnum, = struct.unpack_from('<H', h, 56)
for i in range(phnum):
    f.seek(phoff + 56 * i)
    t, _, off, _, _, fs, _, _ = struct.unpack('<IIQQQQQQ', f.read(56))
    if t != 4:
        continue
    f.seek(off); d = f.read(fs); o = 0
    while o + 12 <= len(d):
        n, sz, _ = struct.unpack_from('<III', d, o)
        name = d[o + 12:o + 12 + n]; o2 = o + 12 + ((n + 3) & ~3)
        desc = d[o2:o2 + sz]; o = o2 + ((sz + 3) & ~3)
        if name.startswith(b'VMCOREINFO'):
            for l in desc.decode(errors='replace').splitlines():
                if l.startswith(sys.argv[2] + '='):
                    print(l.split('=', 1)[1]); sys.exit(0)
sys.exit(1)
EOF
}

# repair NAME VMLINUX DUMP KO KV TEXT CONTROL_STATE - repair DUMP in a
# --minimal session; CONTROL_STATE: ok (a session with the note came up:
# $dir/vmci.log), noprompt (it never reached its prompt), none (no control).
repair() {
	local name=$1 vml=$2 dump=$3 ko=$4 kv=$5 text=$6 ctl=$7 dir=$OUT/$1 rc got
	mkdir -p "$dir"
	# Without values: "kaslr -r" finds and verifies them itself (the core, as kaslr-find).
	{ echo "extend $SO"; if [ -n "$ko" ]; then echo "kaslr -r $ko $kv"; else echo "kaslr -r"; fi
	  session_script "${CMDS[@]}"; } |
		timeout -k 10 900 "$CRASH" -s --minimal "$vml" "$dump" >"$dir/repair.log" 2>&1
	rc=$?
	if ! why=$(session_verdict "$dir/repair.log" "$rc" "${CMDS[@]}"); then
		ko "$name/repair" "$why"
		return
	fi
	if ! grep -q '^kaslr: relocated to' "$dir/repair.log"; then
		ko "$name/repair" "$(grep -m1 '^kaslr:' "$dir/repair.log")"
		return
	fi
	if [ -z "$ko" ] && ! grep -q '^kaslr: relocated to .*(found and verified)' "$dir/repair.log"; then
		ko "$name/found" "kaslr -r did not find the values itself: $(grep -m1 '^kaslr:' "$dir/repair.log")"
		return
	fi
	got=$(sed -n '/@@CMD 0@@/,/@@CMD 1@@/s/^\([0-9a-f]*\) (T) _text.*/\1/p' "$dir/repair.log")
	if [ "0x$got" = "$text" ]; then ok "$name/sym-_text"; else ko "$name/sym-_text" "${got:-none}, truth $text"; fi
	if ! grep -q 'full initialisation failed' "$dir/repair.log"; then
		ok "$name/full"
	elif [ "$ctl" = noprompt ]; then
		ok "$name/minimal ($(grep -m1 -o 'full initialisation failed in [^;]*' "$dir/repair.log"); crash $VER cannot open this kernel's dump with its note either)"
	else
		ko "$name/full" "$(grep -m1 -o 'full initialisation failed in [^;]*' "$dir/repair.log")"
	fi
	[ "$ctl" = ok ] || return
	if diff <(normalise "$dir/vmci.log") <(normalise "$dir/repair.log") >"$dir/diff"; then
		ok "$name/same-as-vmci"
	else
		ko "$name/same-as-vmci" "$(grep -c '^[<>]' "$dir/diff") lines differ ($dir/diff)"
	fi
}

# vmci_case NAME VMLINUX VMCI_DUMP KO KV TEXT - the control, then the repair
# of a note-less copy; sets CONTROL (ok, noprompt, broken).
vmci_case() {
	local name=$1 vml=$2 vmci=$3 dir=$OUT/$1 rc why
	mkdir -p "$dir"
	rm -f "$dir/novmci.elf"
	python3 "$ROOT/tests/lab/strip-notes.py" --drop VMCOREINFO "$vmci" "$dir/novmci.elf" >/dev/null 2>&1 ||
		{ ko "$name/strip" "strip-notes.py failed"; return; }
	session_script "${CMDS[@]}" | timeout -k 10 900 "$CRASH" -s "$vml" "$vmci" >"$dir/vmci.log" 2>&1
	rc=$?
	CONTROL=ok
	why=$(session_verdict "$dir/vmci.log" "$rc" "${CMDS[@]}")
	case $? in
	0) ok "$name/control" ;;
	2) CONTROL=noprompt; ok "$name/control (crash $VER cannot open it: $why)" ;;
	*) CONTROL=broken; ko "$name/control" "$why" ;;
	esac
	[ "$CONTROL" = broken ] || repair "$name" "$vml" "$dir/novmci.elf" "$4" "$5" "$6" "$CONTROL"
	rm -f "$dir/novmci.elf"
}

if [ $# = 2 ]; then
	ko_=$(note_value "$2" KERNELOFFSET) && kv_=$(note_value "$2" "NUMBER(kimage_voffset)") &&
		st_=$(note_value "$2" "SYMBOL(_stext)") ||
		{ ko "note" "$2 has no VMCOREINFO note with KERNELOFFSET, kimage_voffset, _stext"; exit 1; }
	# _text is _stext - 64 KiB on arm64 since 5.11 (head.S's image header page)
	vmci_case "$(basename "$2" .elf)" "$1" "$2" "$ko_" "$kv_" "$(printf '0x%x' $((0x$st_ - 0x10000)))"
else
	[ -s "$LAB/dumps/index.arm64" ] || ko arm64/index "no $LAB/dumps/index.arm64 (tests/lab/lab.sh makes the arm64 dumps)"
	declare -A CTL
	while read -r d; do
		kver=$(basename "$(dirname "$d")")
		VMLINUX= KERNELOFFSET= KIMAGE_VOFFSET= TEXT_GUEST=
		# shellcheck disable=SC1091
		. "$d/truth.env"
		if [ -z "$VMLINUX" ] || [ -z "$KERNELOFFSET" ] || [ -z "$KIMAGE_VOFFSET" ] || [ -z "$TEXT_GUEST" ]; then
			ko "$kver/$(basename "$d")/truth" "$d/truth.env lacks VMLINUX, KERNELOFFSET, KIMAGE_VOFFSET or TEXT_GUEST"
			continue
		fi
		case $d in
		*/vmci)
			CONTROL=broken
			vmci_case "$kver/vmci" "$VMLINUX" "$d/panic.elf" "$KERNELOFFSET" "$KIMAGE_VOFFSET" "$TEXT_GUEST"
			CTL[$kver]=$CONTROL ;;
		*/novmci)
			for f in panic.elf panic.kdump; do
				repair "$kver/novmci/$f" "$VMLINUX" "$d/$f" "" "" \
					"$TEXT_GUEST" "$([ "${CTL[$kver]:-}" = noprompt ] && echo noprompt || echo none)"
			done ;;
		esac
	# vmci boots first: whether crash opens a kernel with its note decides
	# what its novmci boots must do.
	done < <(grep '/vmci$' "$LAB/dumps/index.arm64"; grep '/novmci$' "$LAB/dumps/index.arm64")
fi
echo "# arm64-repair: $pass passed, $fail failed"
[ "$fail" = 0 ]
