#!/usr/bin/env bash
# tests/run.sh - every test of the project, as `make check` runs it.
#
# Each group prints "PASS: name" / "FAIL: name: why" lines; this script
# counts them and ends with "N passed, N failed".  A group that dies without
# reporting a failure, or reports nothing at all, counts as one failure.  Real-dump groups provision the lab first
# (tests/lab/lab.sh); if that fails, their tests fail, they are never skipped.
set -u
cd "$(dirname "$0")/.." || exit 1
LOG=${KASLR_TEST_LOG:-build/test.log}
mkdir -p build
: >"$LOG"
passed=0 failed=0

run_group() {	# run_group NAME COMMAND...
	local name=$1 out rc
	shift
	echo "== $name"
	out=$("$@" 2>>"$LOG"; echo "rc=$?")
	rc=${out##*rc=}
	out=${out%rc=*}
	printf '%s' "$out" | tee -a "$LOG" | grep -E '^(PASS|FAIL):' || true
	local p f
	p=$(printf '%s' "$out" | grep -c '^PASS:')
	f=$(printf '%s' "$out" | grep -c '^FAIL:')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL: $name: exited $rc without reporting a failure (see $LOG)"
		f=1
	elif [ "$p" = 0 ] && [ "$f" = 0 ]; then
		echo "FAIL: $name: reported no PASS or FAIL line (see $LOG)"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f))
}

groups=${KASLR_TEST_GROUPS:-"build unit fuzz e2e"}
for g in $groups; do
	case $g in
	build) run_group build bash tests/build-test.sh ;;
	unit) run_group unit bash tests/unit/run.sh ;;
	fuzz) run_group fuzz bash tests/fuzz/run.sh ;;
	e2e) run_group e2e bash tests/e2e/run.sh ;;
	*) echo "FAIL: unknown test group $g"; failed=$((failed + 1)) ;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
