#!/usr/bin/env bash
# tests/unit/run.sh - build the unit tests with `make unit` and run every
# binary twice: plain (build/unit/) and under ASan+UBSan (build/unit-san/,
# names prefixed "san/").  Prints the tests' PASS/FAIL lines; exits non-zero
# if anything failed, or if a binary died without saying FAIL.
#
# KASLR_TEST_SEED fixes the random layouts (one seed for the whole run,
# printed first); KASLR_TEST_ROUNDS sets the rounds per case (default 8).
set -u
cd "$(dirname "$0")/../.."

if [ -z "${KASLR_TEST_SEED:-}" ]; then
	KASLR_TEST_SEED=$(( $(date +%s) * 1000003 + $$ ))
fi
export KASLR_TEST_SEED
echo "# unit: KASLR_TEST_SEED=$KASLR_TEST_SEED"

mkdir -p build
if ! make -s unit >build/unit.log 2>&1; then
	cat build/unit.log >&2
	rm -f build/unit.log
	echo "FAIL: unit-build: make unit failed (output on stderr)"
	exit 1
fi
# Warnings are failures too: the core must build clean with -Wall -Wextra.
if grep -q 'warning:' build/unit.log; then
	cat build/unit.log >&2
	rm -f build/unit.log
	echo "FAIL: unit-build: compiler warnings (output on stderr)"
	exit 1
fi
rm -f build/unit.log
echo "PASS: unit-build"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rc=0
run_one() {	# run_one BINARY PREFIX
	local bin=$1 prefix=$2 out status name
	name=$(basename "$bin")
	out=$("$bin")
	status=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed -e "s#^\(PASS\|FAIL\): #\1: $prefix#"
	if [ "$status" != 0 ]; then
		rc=1
		if ! printf '%s\n' "$out" | grep -q '^FAIL:'; then
			echo "FAIL: $prefix$name: exited $status without reporting a failure (see stderr)"
		fi
	fi
}

found=0
for bin in build/unit/test_*; do
	[ -x "$bin" ] || continue
	found=1
	run_one "$bin" ""
done
for bin in build/unit-san/test_*; do
	[ -x "$bin" ] || continue
	run_one "$bin" "san/"
done
if [ "$found" = 0 ]; then
	echo "FAIL: unit: no test binaries in build/unit"
	rc=1
fi
exit $rc
