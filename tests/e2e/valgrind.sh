#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/valgrind.sh - real crash sessions with kaslr.so under valgrind
# memcheck: no memory error and no definite leak may involve the module.
#
# Scenarios (commands on stdin of `crash -s --minimal --kaslr=0 --machdep
# phys_base=PHYS_BASE+KERNELOFFSET VMLINUX DUMP`: the wrong start crash 8.0.2's
# banner scan makes on dumps it cannot place, given explicitly so that crash
# reaches its prompt on any boot - every kernel-image read lands on its right
# physical bytes - while the offset is still wrong and "kaslr -r" has work):
#  session    bookworm (6.1) novmci panic-nonotes.elf (no note at all: no
#             vCPU registers, no vmcoreinfo):
#             extend, kaslr, -v, -c, -D, -m scan, -m ptscan, a bad option,
#             -r (relocates, crash's full initialisation succeeds), sys,
#             p jiffies, bt, -r again (refused), exit.
#  registers  trixie (6.12) novmci panic.kdump (QEMU registers,
#             kdump-compressed, read through crash): extend, kaslr, -v, -c,
#             -r (relocates; crash 8.0.2's full initialisation fails in
#             module_init and is rolled back), -r again (refused), exit.
#  nonotes    (not run by default: "session" covers it) bookworm novmci
#             idle-nonotes.elf: extend, kaslr, -r, exit.
# Each takes a few minutes under valgrind, nearly all of it in "kaslr -r"
# (gdb's rebase and crash's full initialisation); "session" and "registers"
# run side by side, about 5 minutes on 2 idle cores.
# Per scenario:
#  output     the session ran to its end marker and exited 0 (one that
#             reached crash's prompt and then died, hung or exited non-zero
#             fails, naming the command that was running: the markers are
#             tests/lib/crash-session.sh's), and still gives the module's answers under valgrind:
#             "  KERNELOFFSET: <truth>" and what each command must print.
#  errors     no memcheck error involves the module: a frame in kaslr.so or
#             in a function of our sources, in the error's stack or in its
#             allocation/free stack.  crash and its gdb have errors of their
#             own; those are ignored (counted in an INFO line).  An error
#             that goes through the module only because the module runs
#             crash's own initialisation again, and that crash makes by
#             itself in the same session at the same place (identical stack
#             up to the module's frame, ending in crash), is crash's: INFO.
#  leaks      no "definitely lost" block allocated through the module.
#             Exception, by design (crash/repair.c, "repaired minimal"):
#             when crash's full initialisation fails half-way, what it had
#             allocated is left allocated; those blocks (innermost module
#             frame full_init, session saying "full initialisation failed")
#             are an INFO line unless KASLR_VALGRIND_STRICT=1.
# Reports with full stacks: build/valgrind/<scenario>.report; raw XML,
# session output and valgrind's log next to it.
#
# Scenarios run in parallel, KASLR_VALGRIND_JOBS at a time (default: the
# number of CPUs); KASLR_VALGRIND_SCENARIOS="session registers nonotes"
# picks them (default "session registers").
# A missing lab, dump, module or valgrind is a failure, never a skip; so is a
# run that left out a default scenario ("e2e/valgrind/count").
set -u
cd "$(dirname "$0")/../.." || exit 1

LAB=${KASLR_LAB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kaslr-lab}
CRASH=${KASLR_CRASH:-crash}
MODULE=${KASLR_MODULE:-$PWD/kaslr.so}
VALGRIND=${KASLR_VALGRIND:-valgrind}
TIMEOUT=${KASLR_VALGRIND_TIMEOUT:-1500}
JOBS=${KASLR_VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 2)}
DEFAULT_SCENARIOS="session registers"
SCENARIOS=${KASLR_VALGRIND_SCENARIOS:-$DEFAULT_SCENARIOS}
STRICT=${KASLR_VALGRIND_STRICT:-0}
OUT=$PWD/build/valgrind
mkdir -p "$OUT"
# shellcheck source=tests/lib/crash-session.sh
. tests/lib/crash-session.sh
failed=0

pass() { echo "PASS: e2e/valgrind/$1"; }
fail() { echo "FAIL: e2e/valgrind/$1: $2"; failed=1; }
info() { echo "INFO: e2e/valgrind/$1"; }

if ! command -v "$VALGRIND" >/dev/null; then
	fail valgrind "no $VALGRIND (tests/lab/lab.sh setup installs it)"
	exit 1
fi
if ! "$VALGRIND" --tool=memcheck --version >/dev/null 2>&1; then
	fail valgrind "$VALGRIND --version fails: $("$VALGRIND" --version 2>&1 | tail -n 1)"
	exit 1
fi
if [ ! -f "$MODULE" ]; then
	fail module "no $MODULE (make kaslr.so)"
	exit 1
fi
# A private copy: the same object for every scenario, even if kaslr.so is rebuilt meanwhile.
cp "$MODULE" "$OUT/kaslr.so" || {
	fail module "cannot copy $MODULE to $OUT"
	exit 1
}
if [ ! -s "$LAB/dumps/index" ]; then
	fail lab "no dump index at $LAB/dumps/index (tests/lab/lab.sh dumps makes it)"
	exit 1
fi

# scenario NAME: SUITE BOOT DUMP, then the commands after "extend", one a line.
scenario() {
	case $1 in
	session)
		echo "bookworm novmci panic-nonotes.elf"
		printf '%s\n' kaslr "kaslr -v" "kaslr -c" "kaslr -D" "kaslr -m scan" "kaslr -m ptscan" \
			"kaslr -x" "kaslr -r" sys "p jiffies" bt "kaslr -r"
		;;
	registers)
		echo "trixie novmci panic.kdump"
		printf '%s\n' kaslr "kaslr -v" "kaslr -c" "kaslr -r" "kaslr -r"
		;;
	nonotes)
		echo "bookworm novmci idle-nonotes.elf"
		printf '%s\n' kaslr "kaslr -r"
		;;
	*) return 1 ;;
	esac
}

# run NAME DIR DUMP: one crash session under memcheck; NAME.{xml,log,vglog,rc,secs}.
run() {
	local name=$1 dir=$2 dump=$3 t0 t1 rc pb cmds=()
	# shellcheck disable=SC1091
	. "$dir/truth.env"
	pb=$(printf '0x%x' "$((PHYS_BASE + KERNELOFFSET))")
	mapfile -t cmds < <(echo "extend $OUT/kaslr.so"; scenario "$name" | tail -n +2)
	rm -f "$OUT/$name".{xml,log,vglog,rc,secs,report}
	t0=$(date +%s.%N)
	session_script "${cmds[@]}" |
		timeout -k 30 "$TIMEOUT" "$VALGRIND" --tool=memcheck --error-limit=no --num-callers=40 \
		--leak-check=full --show-leak-kinds=definite --keep-debuginfo=yes \
		--child-silent-after-fork=yes --xml=yes --xml-file="$OUT/$name.xml" \
		--log-file="$OUT/$name.vglog" \
		"$CRASH" -s --minimal --kaslr=0 --machdep phys_base="$pb" "$VMLINUX" "$dir/$dump" >"$OUT/$name.log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	echo "$rc" >"$OUT/$name.rc"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", b - a }' >"$OUT/$name.secs"
}

# expect NAME LOG: the module's answers are in the session output (lines "REGEX<TAB>MIN<TAB>WHAT" on stdin).
expect() {
	local name=$1 log=$2 re min what n missing=()
	while IFS=$'\t' read -r re min what; do
		n=$(grep -cE -- "$re" "$log")
		[ "$n" -ge "$min" ] || missing+=("$what (${n}x, want ${min}+)")
	done
	if [ ${#missing[@]} = 0 ]; then
		return 0
	fi
	fail "$name/output" "under valgrind the session lacks: $(printf '%s; ' "${missing[@]}")($OUT/$name.log)"
	return 1
}

# analyse NAME LOG: errors and leaks through the module, from NAME.xml.
analyse() {
	python3 - "$1" "$OUT/$1.xml" "$2" "$OUT/$1.report" "$STRICT" <<'EOF'
import os, sys
import glob
import xml.etree.ElementTree as ET

name, xml_path, log_path, report_path, strict = sys.argv[1:6]
strict = strict == "1"
# The project's own sources: a frame in one of them is the module's.
OURS = {os.path.basename(f) for pat in ("*.c", "core/*.c", "core/*/*.c", "crash/*.c") for f in glob.glob(pat)}

def out(kind, check, text):
    print("%s: e2e/valgrind/%s/%s%s" % (kind, name, check, text))

try:
    root = ET.parse(xml_path).getroot()
except (OSError, ET.ParseError) as e:
    for check in ("errors", "leaks"):
        out("FAIL", check, ": no complete valgrind XML (%s)" % e)
    sys.exit(1)

if "FINISHED" not in [st.findtext("state") for st in root.findall("status")]:
    for check in ("errors", "leaks"):
        out("FAIL", check, ": valgrind did not finish the run (no FINISHED status in %s)" % xml_path)
    sys.exit(1)

def frames(stack):
    return [{k: f.findtext(k) for k in ("ip", "obj", "fn", "dir", "file", "line")}
            for f in stack.findall("frame")]

def ours(f):
    return "kaslr.so" in os.path.basename(f["obj"] or "") or (f["file"] or "") in OURS

def key(f):
    return (os.path.basename(f["obj"] or "?"), f["fn"] or f["ip"])

def show(f):
    s = "%s:%s" % (os.path.basename(f["obj"] or "?"), f["fn"] or f["ip"])
    if f["file"]:
        s += " (%s:%s)" % (f["file"], f["line"])
    return s

counts = {}
for p in root.iter("pair"):
    counts[p.findtext("unique")] = int(p.findtext("count"))

errors = []
for e in root.findall("error"):
    stacks = [frames(s) for s in e.findall("stack")]
    what = e.findtext("what") or e.findtext("xwhat/text") or ""
    errors.append({"kind": e.findtext("kind"), "what": what, "stacks": stacks,
                   "aux": [a.text for a in e.findall("auxwhat")] + [a.findtext("text") for a in e.findall("xauxwhat")],
                   "count": counts.get(e.findtext("unique"), 1),
                   "leaksize": int(e.findtext("xwhat/leakedbytes") or 0)})

crash_only = [e for e in errors if not any(ours(f) for s in e["stacks"] for f in s)]

def crash_own(e):
    """Crash's own error, reached through the module re-running crash code."""
    st = e["stacks"][0]
    i = next((i for i, f in enumerate(st) if ours(f)), None)
    if not i or "kaslr.so" in (st[i - 1]["obj"] or "") or ".so" in os.path.basename(st[i - 1]["obj"] or ""):
        return False    # the module itself, or a library it called directly
    prefix = [key(f) for f in st[:i]]
    return any(c["kind"] == e["kind"] and [key(f) for f in c["stacks"][0][:i]] == prefix
               for c in crash_only)

failed_init = False
try:
    failed_init = "full initialisation failed" in open(log_path, errors="replace").read()
except OSError:
    pass

def by_design_leak(e):
    st = e["stacks"][0]
    first = next((f for f in st if ours(f)), None)
    return failed_init and first is not None and first["fn"] == "full_init"

bad_err, bad_leak, own, design = [], [], [], []
n_err = n_occ = n_leak = 0
for e in errors:
    leak = e["kind"].startswith("Leak_")
    if leak and e["kind"] != "Leak_DefinitelyLost":
        continue
    if leak:
        n_leak += 1
    else:
        n_err += 1
        n_occ += e["count"]
    if e in crash_only:
        continue
    if crash_own(e):
        own.append(e)
    elif leak and by_design_leak(e) and not strict:
        design.append(e)
    elif leak:
        bad_leak.append(e)
    else:
        bad_err.append(e)

def summary(e):
    st = e["stacks"][0]
    i = next((i for i, f in enumerate(st) if ours(f)), None)
    where = show(st[0])
    if i is not None and i > 0:
        where += " <- ... <- " + show(st[i])
    elif i is None:
        where += " (module only in: %s)" % next(show(f) for s in e["stacks"][1:] for f in s if ours(f))
    return "%s %s: %s" % (e["kind"], e["what"], where)

with open(report_path, "w") as r:
    for title, lst in (("ERRORS THROUGH THE MODULE", bad_err), ("DEFINITE LEAKS THROUGH THE MODULE", bad_leak),
                       ("CRASH'S OWN, REACHED THROUGH THE MODULE (not counted)", own),
                       ("LEFT ALLOCATED BY DESIGN AFTER A FAILED FULL INITIALISATION (not counted)", design)):
        r.write("==== %s: %d\n" % (title, len(lst)))
        for e in lst:
            r.write("\n%s (%dx)\n  %s\n" % (e["kind"], e["count"], e["what"]))
            for n, s in enumerate(e["stacks"]):
                if n:
                    r.write("  %s\n" % (e["aux"][n - 1] if n - 1 < len(e["aux"]) else "auxiliary stack"))
                for f in s:
                    r.write("    %s %s\n" % ("*" if ours(f) else " ", show(f)))
        r.write("\n")

rel = os.path.relpath(report_path)
own_err = [e for e in own if not e["kind"].startswith("Leak_")]
print("INFO: e2e/valgrind/%s: %d memcheck errors (%d occurrences) and %d definite leaks in all; "
      "through the module: %d errors, %d leaks; crash's own reached through it: %d errors, %d leaks%s"
      % (name, n_err, n_occ, n_leak, len(bad_err), len(bad_leak), len(own_err), len(own) - len(own_err),
         "; left allocated after the failed full initialisation, by design: %d blocks, %d bytes"
         % (len(design), sum(e["leaksize"] for e in design)) if design else ""))
if bad_err:
    out("FAIL", "errors", ": %d through kaslr.so, first: %s (%s)" % (len(bad_err), summary(bad_err[0]), rel))
else:
    out("PASS", "errors", " (%d of crash/gdb ignored)" % (n_err - len(own_err)))
if bad_leak:
    out("FAIL", "leaks", ": %d definitely lost through kaslr.so (%d bytes), first: %s (%s)"
        % (len(bad_leak), sum(e["leaksize"] for e in bad_leak), summary(bad_leak[0]), rel))
else:
    out("PASS", "leaks", "")
sys.exit(1 if bad_err or bad_leak else 0)
EOF
}

# Start every scenario (JOBS at a time), then check them.
declare -A DIR DUMP
started=()
for name in $SCENARIOS; do
	if ! scenario "$name" >/dev/null; then
		fail "$name" "unknown scenario (known: session registers nonotes)"
		continue
	fi
	read -r suite boot file < <(scenario "$name")
	kver=$(cat "$LAB/kernels/$suite.current" 2>/dev/null)
	d=$LAB/dumps/$kver/$boot
	if [ -z "$kver" ] || [ ! -f "$d/truth.env" ] || [ ! -f "$d/$file" ]; then
		fail "$name" "no $suite dump $boot/$file in the lab (${d}; tests/lab/lab.sh dumps makes it)"
		continue
	fi
	DIR[$name]=$d
	DUMP[$name]=$file
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	run "$name" "$d" "$file" &
	started+=("$name")
done
wait

for name in "${started[@]}"; do
	d=${DIR[$name]}
	VMLINUX='' KERNELOFFSET='' RELEASE='' PHYS_BASE=''
	# shellcheck disable=SC1091
	. "$d/truth.env"
	ko=$(printf '%x' "$((KERNELOFFSET))")
	rc=$(cat "$OUT/$name.rc" 2>/dev/null || echo '?')
	secs=$(cat "$OUT/$name.secs" 2>/dev/null || echo '?')
	info "$name: $RELEASE $(basename "$d")/${DUMP[$name]}: ${secs} s under valgrind, crash exit $rc"
	log=$OUT/$name.log
	mapfile -t cmds < <(echo "extend $OUT/kaslr.so"; scenario "$name" | tail -n +2)
	if ! why=$(session_verdict "$log" "$rc" "${cmds[@]}"); then
		fail "$name/output" "under valgrind: $why"
	else
		common="^/.*kaslr\.so: shared object loaded\$	1	the module loaded
^ +KERNELOFFSET: $ko\$	1	\"  KERNELOFFSET: $ko\""
		case $name in
		session)
			expect "$name" "$log" <<EOF && pass "$name/output (KERNELOFFSET $ko, relocated, full session: sys, p jiffies, bt)"
$common
^ +KERNELOFFSET: $ko\$	4	KERNELOFFSET from kaslr, -v, -m scan and -m ptscan
^ +#  METHOD 	1	the candidates of kaslr -v
^ +METHOD: scan 	1	kaslr -m scan
^ +METHOD: ptscan 	1	kaslr -m ptscan
^no vCPU registers in this dump\$|^CPU  CR0 	1	kaslr -c
^KERNELOFFSET=$ko\$	1	KERNELOFFSET= of kaslr -D
^OSRELEASE=$RELEASE\$	1	OSRELEASE= of kaslr -D
^kaslr: invalid option -- 'x'\$	1	the usage error of kaslr -x
^kaslr: relocated to KERNELOFFSET $ko, 	1	kaslr -r relocating
^ +RELEASE: $RELEASE\$	1	RELEASE of sys
^jiffies = \\\$1 = [0-9]+\$	1	p jiffies
^PID: [0-9]+ 	1	a task of bt
^kaslr: already relocated by "kaslr -r"	1	the second kaslr -r refused
EOF
			;;
		registers)
			expect "$name" "$log" <<EOF && pass "$name/output (KERNELOFFSET $ko from the vCPU registers, relocated, second -r refused)"
$common
^ +REGISTERS: [0-9]+ CPUs 	1	the vCPU registers
^ +METHOD: pagetable 	1	the pagetable method
^CPU  CR0 	1	the register table of kaslr -c
^ +[0-9]+\* pagetable 	1	the candidates of kaslr -v
^kaslr: relocated to KERNELOFFSET $ko, 	1	kaslr -r relocating
^kaslr: already relocated by "kaslr -r"	1	the second kaslr -r refused
EOF
			;;
		nonotes)
			expect "$name" "$log" <<EOF && pass "$name/output (KERNELOFFSET $ko without registers, relocated)"
$common
^ +REGISTERS: none\$	1	REGISTERS: none
^kaslr: relocated to KERNELOFFSET $ko, 	1	kaslr -r relocating
EOF
			;;
		esac
	fi
	res=$(analyse "$name" "$log" 2>"$OUT/$name.analyse.err")
	[ -n "$res" ] && echo "$res"
	if ! grep -q "^[A-Z]*: e2e/valgrind/$name/errors" <<<"$res"; then
		fail "$name/errors" "cannot analyse $OUT/$name.xml: $(tail -n 1 "$OUT/$name.analyse.err")"
	elif grep -q "^FAIL: " <<<"$res"; then
		failed=1
	fi
done
missing=()
for name in $DEFAULT_SCENARIOS; do
	[[ " ${started[*]} " == *" $name "* ]] || missing+=("$name")
done
if [ ${#missing[@]} = 0 ]; then
	pass "count (${#started[@]} scenarios)"
else
	fail count "scenario(s) ${missing[*]} did not run (KASLR_VALGRIND_SCENARIOS=$SCENARIOS)"
fi
exit $failed
