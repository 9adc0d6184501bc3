#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/arm64-repair.sh - "kaslr -r" in crash:arm64 against the same
# boot's dump with its vmcoreinfo note.
#
# Usage: arm64-repair.sh [--crash VER] [VMLINUX VMCI_DUMP]
#
# For each case: a copy of VMCI_DUMP without its VMCOREINFO note
# (tests/lab/strip-notes.py) is opened with "crash --minimal", repaired with
# "kaslr -r KERNELOFFSET KIMAGE_VOFFSET" taken from the note, and the output
# of the commands below must equal that of a session opened on VMCI_DUMP
# itself (sys without its DUMPFILE line; help -m only the layout lines, not
# heap pointers).  Without arguments the cases are the vmci boots listed in
# $LAB/dumps/index.arm64 (their truth.env names VMLINUX; the dump is
# panic.elf, else the first *.elf).  One "PASS name" / "FAIL name: why" line
# per check, then "N passed, N failed"; exit 1 on any failure.
#
# Emulated crash is slow (10 s --minimal, 45 s full start on a 1 GiB dump):
# two sessions per case, run one after the other.
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
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

mkdir -p "$OUT"
# The lab's crash:arm64 VER (made once, cached: crash-versions.sh arm64 VER).
line=$(bash "$ROOT/tests/lab/crash-versions.sh" list-arm64 | awk -v v="$VER" '$1 == v')
[ -n "$line" ] || line=$(bash "$ROOT/tests/lab/crash-versions.sh" arm64 "$VER" 2>"$OUT/provision.log") ||
	{ ko "arm64/crash-$VER" "$(tail -n 1 "$OUT/provision.log")"; echo "$pass passed, $fail failed"; exit 1; }
read -r _ CRASH _ _ <<<"$line"
SO=$ROOT/build/arm64-crash-$VER/kaslr.so
make -s -C "$ROOT" arm64 >"$OUT/build.log" 2>&1 && [ -f "$SO" ] ||
	{ ko "arm64/build" "make arm64: $(tail -n 1 "$OUT/build.log")"; echo "$pass passed, $fail failed"; exit 1; }

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

one_case() {	# one_case NAME VMLINUX VMCI_DUMP
	local name=$1 vml=$2 vmci=$3 dir=$OUT/$1 ko kv rc
	mkdir -p "$dir"
	ko=$(note_value "$vmci" KERNELOFFSET) && kv=$(note_value "$vmci" "NUMBER(kimage_voffset)") ||
		{ ko "$name/note" "$vmci has no VMCOREINFO note with KERNELOFFSET and kimage_voffset"; return; }
	rm -f "$dir/novmci.elf"
	python3 "$ROOT/tests/lab/strip-notes.py" --drop VMCOREINFO "$vmci" "$dir/novmci.elf" >/dev/null 2>&1 ||
		{ ko "$name/strip" "strip-notes.py failed"; return; }
	session_script "${CMDS[@]}" | timeout -k 10 600 "$CRASH" -s "$vml" "$vmci" >"$dir/vmci.log" 2>&1
	rc=$?
	if ! why=$(session_verdict "$dir/vmci.log" "$rc" "${CMDS[@]}"); then
		ko "$name/control" "crash $VER on the dump with its note: $why"
		rm -f "$dir/novmci.elf"
		return
	fi
	{ echo "extend $SO"; echo "kaslr -r $ko $kv"; session_script "${CMDS[@]}"; } |
		timeout -k 10 600 "$CRASH" -s --minimal "$vml" "$dir/novmci.elf" >"$dir/repair.log" 2>&1
	rc=$?
	rm -f "$dir/novmci.elf"
	if ! why=$(session_verdict "$dir/repair.log" "$rc" "${CMDS[@]}"); then
		ko "$name/repair" "$why"
		return
	fi
	if grep -q '^kaslr: relocated to' "$dir/repair.log" && ! grep -q 'full initialisation failed' "$dir/repair.log"; then
		ok "$name/repair"
	else
		ko "$name/repair" "$(grep -m1 '^kaslr:' "$dir/repair.log")"
		return
	fi
	if diff <(normalise "$dir/vmci.log") <(normalise "$dir/repair.log") >"$dir/diff"; then
		ok "$name/same-as-vmci"
	else
		ko "$name/same-as-vmci" "$(grep -c '^[<>]' "$dir/diff") lines differ ($dir/diff)"
	fi
}

if [ $# = 2 ]; then
	one_case "$(basename "$2" .elf)" "$1" "$2"
else
	[ -s "$LAB/dumps/index.arm64" ] || { ko arm64/index "no $LAB/dumps/index.arm64 (tests/lab/lab.sh makes the arm64 dumps)"; }
	while read -r d; do
		case $d in */vmci) ;; *) continue ;; esac
		VMLINUX=
		# shellcheck disable=SC1091
		. "$d/truth.env"
		dump=$d/panic.elf
		[ -f "$dump" ] || dump=$(ls "$d"/*.elf 2>/dev/null | head -n 1)
		if [ -z "$VMLINUX" ] || [ ! -f "$dump" ]; then
			ko "$(basename "$(dirname "$d")")/vmci" "no VMLINUX in truth.env or no .elf dump in $d"
			continue
		fi
		one_case "$(basename "$(dirname "$d")")" "$VMLINUX" "$dump"
	done <"$LAB/dumps/index.arm64"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
