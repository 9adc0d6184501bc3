#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/kaslr-find.sh - kaslr-find on every real dump of the lab.
#
# For every boot directory of the lab and every dump in it (tests/lib/lab.py):
#  - `kaslr-find --json VMLINUX DUMP` must exit 0 with kernel_offset and
#    phys_base equal to the ground truth in truth.env (recorded inside the
#    guest);
#  - files both readers can read are read again with the other one
#    (--reader=own / --reader=libkdumpfile): the same answer;
#  - the printed crash command line must open the dump: full session and
#    `sys` on kernels crash can initialise, `--minimal` and
#    `rd -a linux_banner` on the others (crash says which: e2e.py
#    --full-session, as the e2e groups ask it); RELEASE must appear, and the session
#    must run to its end marker and exit 0 (tests/lib/crash-session.sh: one
#    that died, hung or exited non-zero is a FAIL naming the command).  By
#    default on panic-nonotes.elf and idle.kdump of every boot.
# Once per directory: --vmcoreinfo writes the values, and the other kernel's
# vmlinux must be refused (exit 1).
#
# Prints "PASS: kaslr-find/<kver>/<boot>/<file>..." or "FAIL: ...: why".  A
# missing lab, boot or dump is a failure, never a skip; so is a run that made
# fewer crash sessions than the lab holds cases for ("kaslr-find/count").
# KASLR_FIND_CRASH=0 leaves out the crash sessions (quick runs by hand: such a
# run fails its count), =all opens every dump; KASLR_FIND=PATH tests another
# binary.
set -u
cd "$(dirname "$0")/../.." || exit 1

FIND=${KASLR_FIND:-./kaslr-find}
CRASH=${KASLR_CRASH:-crash}
FIND_TIMEOUT=${KASLR_FIND_TIMEOUT:-300}
CRASH_TIMEOUT=${KASLR_CRASH_TIMEOUT:-300}
RUN_CRASH=${KASLR_FIND_CRASH:-1}
OUT=build/e2e/kaslr-find
mkdir -p "$OUT"
failed=0

# shellcheck source=tests/lib/crash-session.sh
. tests/lib/crash-session.sh

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; failed=1; }

# The lab: "DIR FILE" for every dump of every boot directory.
if ! labdumps=$(python3 tests/lib/lab.py dumps 2>"$OUT/lab.err"); then
	fail kaslr-find/lab "$(tail -n 1 "$OUT/lab.err")"
	exit 1
fi
if [ ! -x "$FIND" ]; then
	fail kaslr-find/build "no $FIND (make kaslr-find)"
	exit 1
fi

# truth DIR KEY: one value of DIR/truth.env, quotes removed.
truth() {
	sed -n "s/^$2=//p" "$1/truth.env" | tail -n 1 | tr -d "\"'"
}

# json_get FILE EXPR: a Python expression over the parsed object j.
json_get() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("null" if v is None else v)' "$1" "$2" 2>/dev/null
}

# full_session DIR DUMP: can this crash initialise the boot's kernel fully?
# Asked of crash itself, started with the truth (e2e.py --full-session; cached).
full_session() {
	[ "$(KASLR_CRASH=$CRASH python3 tests/e2e/e2e.py --full-session "$1" "$2" | tail -n 1)" = full ]
}

# check_find NAME VMLINUX DUMP WANT_KO WANT_PB [ARGS...]: one kaslr-find run against the truth.
check_find() {
	local name=$1 vmlinux=$2 dump=$3 want_ko=$4 want_pb=$5 json rc got_ko got_pb t0 t1
	shift 5
	json=$OUT/$(echo "$name" | tr / _).json
	t0=$(date +%s.%N)
	timeout "$FIND_TIMEOUT" "$FIND" --json "$@" "$vmlinux" "$dump" >"$json" 2>"$json.err"
	rc=$?
	t1=$(date +%s.%N)
	echo "INFO: $name: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s" \
		"$(json_get "$json" '"%s via %s, %s reader" % (j["method"], j["format"], j["reader"])')"
	if [ "$rc" = 124 ]; then
		fail "$name" "timed out after ${FIND_TIMEOUT}s"
		return 1
	fi
	got_ko=$(json_get "$json" 'j["kernel_offset"]')
	got_pb=$(json_get "$json" 'j["phys_base"]')
	if [ "$rc" != 0 ]; then
		fail "$name" "exit $rc: $(head -c 300 "$json.err" | tr '\n' ' ')"
		return 1
	fi
	if [ "$got_ko" != "$want_ko" ] || [ "$got_pb" != "$want_pb" ]; then
		fail "$name" "got kernel_offset=$got_ko phys_base=$got_pb want $want_ko $want_pb"
		return 1
	fi
	pass "$name"
}

# check_crash NAME RELEASE JSON DIR DUMP: the printed crash line opens the dump.
check_crash() {
	local name=$1 release=$2 json=$3 dir=$4 dump=$5 cmd out rc want
	local -a argv extra cmds
	cmd=$(json_get "$json" 'j["crash_command"]')
	case $cmd in
	"crash "*) ;;
	*) fail "$name" "no crash command in the kaslr-find output"; return 1 ;;
	esac
	# The line is shell-quoted by kaslr-find; let the shell split it.
	eval "argv=(${cmd#crash })"
	# What only a correctly relocated session prints: sys's RELEASE line,
	# or the banner read at the relocated linux_banner.
	if full_session "$dir" "$dump"; then
		extra=()
		cmds=("sys")
		want="RELEASE: $release"
	else
		extra=(--minimal)
		cmds=("rd -a linux_banner")
		want="Linux version $release"
	fi
	out=$OUT/$(echo "$name" | tr / _).out
	session_script "${cmds[@]}" |
		timeout "$CRASH_TIMEOUT" "$CRASH" -s --no_scroll "${extra[@]}" "${argv[@]}" >"$out" 2>&1
	rc=$?
	if ! why=$(session_verdict "$out" "$rc" "${cmds[@]}"); then
		fail "$name" "crash ${extra[*]} $cmd: $why"
		return 1
	fi
	if ! grep -qF -- "$want" "$out"; then
		fail "$name" "crash ${extra[*]} did not print '$want' for '${cmds[*]}': $(grep -v '^\s*$' "$out" | tail -n 1)"
		return 1
	fi
	pass "$name"
}

# crash_case FILE: is the printed crash line opened on this dump?  A
# register-less ELF dump (crash cannot place a panicked one itself) and a
# compressed one per boot; KASLR_FIND_CRASH=all opens every one.
crash_case() {
	[ "$RUN_CRASH" = all ] || { [ "$RUN_CRASH" = 1 ] && case $1 in panic-nonotes.elf | idle.kdump) true ;; *) false ;; esac; }
}

# The vmci, novmci and novmci-la57 (5-level paging) boots of the current kernel of every suite.
mapfile -t dirs < <(cut -d' ' -f1 <<<"$labdumps" | uniq)
# The crash sessions the lab holds cases for: two per boot (crash_case).
crash_want=$((2 * ${#dirs[@]})) crash_ran=0
# The la57 boots are the lab's 5-level paging dumps: at least one must be 5-level.
la57_5=0
for dir in "${dirs[@]}"; do
	case $dir in *-la57) grep -qx 'PAGING_LEVELS=5' "$dir/truth.env" 2>/dev/null && la57_5=1 ;; esac
done
if [ "$la57_5" = 1 ]; then
	pass kaslr-find/lab/5-level
else
	fail kaslr-find/lab/5-level "no novmci-la57 boot of ${KASLR_LAB_SUITES:-bookworm trixie sid} ran with 5-level paging"
fi
if [ "${#dirs[@]}" = 0 ]; then
	fail kaslr-find/lab "the lab lists no boot directories"
	exit 1
fi

for dir in "${dirs[@]}"; do
	boot=$(basename "$dir")
	kver=$(basename "$(dirname "$dir")")
	base=kaslr-find/$kver/$boot
	if [ ! -r "$dir/truth.env" ]; then
		fail "$base" "no truth.env in $dir"
		continue
	fi
	ko_hex=$(truth "$dir" KERNELOFFSET)
	pb=$(truth "$dir" PHYS_BASE)
	vmlinux=$(truth "$dir" VMLINUX)
	release=$(truth "$dir" RELEASE)
	if [ -z "$ko_hex" ] || [ -z "$pb" ] || [ ! -r "$vmlinux" ] || [ -z "$release" ]; then
		fail "$base" "truth.env lacks KERNELOFFSET/PHYS_BASE/VMLINUX/RELEASE or the vmlinux is missing"
		continue
	fi
	ko=$((16#${ko_hex#0x}))
	mkdir -p "$OUT"

	nfiles=0
	mapfile -t files < <(awk -v d="$dir" '$1 == d { print $2 }' <<<"$labdumps")
	for file in "${files[@]}"; do
		dump=$dir/$file
		nfiles=$((nfiles + 1))
		name=$base/$file
		if ! check_find "$name" "$vmlinux" "$dump" "$ko" "$pb"; then
			if crash_case "$file"; then
				crash_ran=$((crash_ran + 1))
				fail "$name/crash" "kaslr-find gave no crash line to open"
			fi
			continue
		fi
		json=$OUT/$(echo "$name" | tr / _).json
		# The paging mode the guest ran in (4 or 5 levels): every page-table walk saw it.
		levels=$(truth "$dir" PAGING_LEVELS)
		if [ -n "$levels" ]; then
			got=$(json_get "$json" '",".join(sorted({str(c["levels"]) for c in j["candidates"] if c["method"] in ("pagetable", "ptscan") and c["status"] == "ok"}))')
			case $file in
			*-noqemu.* | *-nonotes.*) ;;	# no registers: the chosen method may walk no table
			*) if [ "$got" = "$levels" ]; then pass "$name/levels"; else
				fail "$name/levels" "page-table candidates walked ${got:-no} level(s), the guest ran $levels"; fi ;;
			esac
		fi
		# Both readers must agree wherever both can read the file: the built-in
		# one reads plain ELF by default, libkdumpfile the rest it knows.
		case $(json_get "$json" 'j["reader"]') in
		libkdumpfile) check_find "$name/own-reader" "$vmlinux" "$dump" "$ko" "$pb" --reader=own ;;
		built-in) case $(json_get "$json" 'j["format"]') in
			ELF) check_find "$name/libkdumpfile" "$vmlinux" "$dump" "$ko" "$pb" --reader=libkdumpfile ;;
			esac ;;
		esac
		if crash_case "$file"; then
			crash_ran=$((crash_ran + 1))
			check_crash "$name/crash" "$release" "$json" "$dir" "$dump"
		fi
	done
	if [ "$nfiles" = 0 ]; then
		fail "$base" "no dumps in $dir"
		continue
	fi

	# --vmcoreinfo: the file carries the true values in the kernel's formats.
	dump=$dir/idle-noqemu.elf	# the first ELF dump by name, as always
	if [ -n "$dump" ]; then
		vf=$OUT/$kver-$boot.vmcoreinfo
		rm -f "$vf"
		timeout "$FIND_TIMEOUT" "$FIND" --vmcoreinfo "$vf" "$vmlinux" "$dump" >/dev/null 2>"$vf.err"
		if [ ! -s "$vf" ]; then
			fail "$base/vmcoreinfo" "no file written: $(tail -n 1 "$vf.err")"
		elif ! grep -qx "KERNELOFFSET=$(printf '%x' "$ko")" "$vf" ||
			! grep -qx "NUMBER(phys_base)=$pb" "$vf" || ! grep -qx "OSRELEASE=$release" "$vf"; then
			fail "$base/vmcoreinfo" "$vf lacks OSRELEASE=$release, KERNELOFFSET=$(printf '%x' "$ko") or NUMBER(phys_base)=$pb ($(tail -n 1 "$vf.err"))"
		else
			pass "$base/vmcoreinfo"
		fi
	fi

	# Another kernel's vmlinux must be refused, not fitted.
	other=
	for d2 in "${dirs[@]}"; do
		v2=$(truth "$d2" VMLINUX 2>/dev/null)
		if [ -n "$v2" ] && [ "$v2" != "$vmlinux" ] && [ -r "$v2" ]; then
			other=$v2
			break
		fi
	done
	if [ -n "$other" ] && [ -n "$dump" ]; then
		json=$OUT/$kver-$boot-wrong-vmlinux.json
		timeout "$FIND_TIMEOUT" "$FIND" --json "$other" "$dump" >"$json" 2>/dev/null
		rc=$?
		if [ "$rc" = 1 ] && [ "$(json_get "$json" 'j["verified"]')" = False ]; then
			pass "$base/wrong-vmlinux"
		else
			fail "$base/wrong-vmlinux" "exit $rc, verified=$(json_get "$json" 'j["verified"]') with $(basename "$other")"
		fi
	fi
done
if [ "$crash_ran" -ge "$crash_want" ]; then
	pass "kaslr-find/count ($crash_ran crash sessions, the lab holds $crash_want cases)"
else
	fail kaslr-find/count "opened $crash_ran crash sessions, the lab holds $crash_want cases$([ "$RUN_CRASH" = 1 ] || echo " (KASLR_FIND_CRASH=$RUN_CRASH: a partial run)")"
fi
exit $failed
