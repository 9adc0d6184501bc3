#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/e2e/selftest.sh - the e2e harness can fail: the e2e and bad-input
# drivers, run against a crash that breaks in the middle of a session, must
# print FAIL lines naming the command that was running and exit non-zero.
#
# The stand-in (tests/lib/crash-standin.sh) runs the real crash on the
# session's commands cut after the marker of command 2, then
#   segv  dies by SIGSEGV
#   hang  never exits, a child holding its stdout open
# It breaks only the --minimal sessions; the others run the real crash.
# Six driver runs, side by side, on the lab's bookworm vmci idle.elf (crash
# 8.0.2 reaches its prompt there by itself, from the dump's VMCOREINFO note)
# and bookworm novmci idle.elf:
#   segv/e2e.py   "e2e.py recover": FAIL recover/minimal/... "crash died by
#                 SIGSEGV during 'kaslr -v'" (command 2 of its session)
#   hang/e2e.py   the same with "timed out after N s during 'kaslr -v'": the
#                 driver must kill the whole process group and go on
#   segv/bad.py   "bad.py" case already-right: FAIL bad/already-right/...
#                 "crash died by SIGSEGV during 'kaslr -r'"
#   hang/bad.py   the same, timed out
#   segv/checks.py  "checks.py" case operands: FAIL checks/operands/...
#                 "crash died by SIGSEGV during 'kaslr -vr OFF -PB'"
#   hang/checks.py  the same, timed out
# Each must also exit non-zero, print no PASS for a check that reads the
# broken session, and finish (a driver still running after
# KASLR_SELFTEST_LIMIT seconds, default 600, is a FAIL: it did not kill the
# hung session).  KASLR_SELFTEST_TIMEOUT (default 60) is the drivers' session
# timeout here.  About a minute and a half on 2 cores.
set -u
cd "$(dirname "$0")/../.." || exit 1

OUT=$PWD/build/e2e/selftest
STANDIN=$PWD/tests/lib/crash-standin.sh
T=${KASLR_SELFTEST_TIMEOUT:-60}
LIMIT=${KASLR_SELFTEST_LIMIT:-600}
mkdir -p "$OUT"
failed=0

pass() { echo "PASS: e2e/selftest/$1"; }
fail() { echo "FAIL: e2e/selftest/$1: $2"; failed=1; }

# drive NAME MODE DRIVER...: one driver run against the stand-in; NAME.{out,err,rc}.
drive() {
	local name=$1 mode=$2
	shift 2
	KASLR_CRASH=$STANDIN KASLR_STANDIN_MODE=$mode KASLR_STANDIN_AT=2 KASLR_STANDIN_MATCH='--minimal' \
		KASLR_CRASH_TIMEOUT=$T KASLR_LAB_SUITES=bookworm KASLR_E2E_JOBS=1 \
		KASLR_E2E_ONLY='/vmci/idle\.elf$' KASLR_BAD_ONLY='^already-right$' KASLR_CHECKS_ONLY='^operands$' \
		timeout -k 10 "$LIMIT" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
	echo $? >"$OUT/$name.rc"
}

runs=(segv/e2e.py hang/e2e.py segv/bad.py hang/bad.py segv/checks.py hang/checks.py)
for r in "${runs[@]}"; do
	mode=${r%%/*} driver=${r#*/}
	args=()
	[ "$driver" = e2e.py ] && args=(recover)
	rm -f "$OUT/${r/\//-}".{out,err,rc}
	drive "${r/\//-}" "$mode" python3 "tests/e2e/$driver" "${args[@]}" &
done
wait

for r in "${runs[@]}"; do
	mode=${r%%/*} driver=${r#*/} f=$OUT/${r/\//-}
	rc=$(cat "$f.rc" 2>/dev/null || echo '?')
	case $r in
	*/e2e.py) check=recover/minimal cmd="kaslr -v" ;;
	*/bad.py) check=bad/already-right cmd="kaslr -r" ;;
	*/checks.py) check=checks/operands cmd="kaslr -vr " ;;
	esac
	case $mode in
	segv) cause="crash died by SIGSEGV" ;;
	hang) cause="timed out after $T s" ;;
	esac
	want="^FAIL: $check/[^:]*: $cause during '$cmd"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		fail "$r" "the driver was still running after ${LIMIT}s: the broken session was not ended"
	elif [ "$rc" = 0 ]; then
		fail "$r" "the driver exited 0 against a crash that broke in '$cmd' ($f.out)"
	elif ! grep -q -- "$want" "$f.out"; then
		fail "$r" "no line matching \"$want\" (exit $rc; $(grep -m1 '^FAIL:' "$f.out" || tail -n 1 "$f.err"))"
	elif grep -q "^PASS: $check/" "$f.out"; then
		fail "$r" "a check of the broken session passed: $(grep -m1 "^PASS: $check/" "$f.out")"
	else
		pass "$r"
	fi
done
exit $failed
