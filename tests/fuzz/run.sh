#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer harnesses (make fuzz-build) and run
# each for FUZZ_SECONDS (default 10: the CI smoke run; `make fuzz` passes 60).
# Prints "PASS: fuzz/<harness> (<N> execs, <R> execs/s)" or "FAIL:
# fuzz/<harness>: <why>" per harness and exits non-zero if any failed.
#
# Each harness starts from its seeds (tests/fuzz/corpus/<harness>/, which
# also keep the inputs of fixed defects as regressions) and from what
# earlier runs found (build/fuzz/corpus/<harness>/, where new inputs go).
# Crashing inputs land in build/fuzz/artifacts/.  FUZZ_HARNESSES="fuzz_scan
# fuzz_notes" limits the run; FUZZ_ARGS adds libFuzzer options; FUZZ_OUT
# moves corpora, logs and artifacts out of build/ (which `make clean` empties).
set -u
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-10}
FUZZ_ARGS=${FUZZ_ARGS:-}
FUZZ_OUT=${FUZZ_OUT:-build/fuzz}
if [ -z "${FUZZ_HARNESSES:-}" ]; then
	FUZZ_HARNESSES=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)
fi

# Largest input per harness: what its format needs, not more.
max_len() {
	case $1 in
	fuzz_pagewalk | fuzz_scan) echo 16384 ;;	# header + chunks (fuzz_image)
	fuzz_dumpfile) echo 16384 ;;
	*) echo 8192 ;;
	esac
}

mkdir -p build/fuzz "$FUZZ_OUT/artifacts"
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "FAIL: fuzz-build: ${FUZZ_CC:-clang} not found (libFuzzer needs clang; set FUZZ_CC)"
	exit 1
fi
if ! make -s fuzz-build >build/fuzz/build.log 2>&1; then
	cat build/fuzz/build.log >&2
	echo "FAIL: fuzz-build: make fuzz-build failed (output on stderr)"
	exit 1
fi
echo "PASS: fuzz-build"

rc=0
for h in $FUZZ_HARNESSES; do
	bin=build/fuzz/$h
	log=$FUZZ_OUT/$h.log
	corpus=$FUZZ_OUT/corpus/$h
	mkdir -p "$corpus"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$h")" -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$FUZZ_OUT/artifacts/$h-" \
		$FUZZ_ARGS "$corpus" "tests/fuzz/corpus/$h" >"$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ "$status" = 0 ]; then
		echo "PASS: fuzz/$h (${execs:-?} execs, ${rate:-?} execs/s)"
		continue
	fi
	rc=1
	why=$(grep -m 1 '^fuzz oracle:' "$log" ||
	      grep -m 1 '^SUMMARY:' "$log" ||
	      grep -m 1 'ERROR: libFuzzer' "$log" ||
	      tail -n 1 "$log")
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	echo "FAIL: fuzz/$h: $why (input ${input:-none}, ${execs:-?} execs, log $log)"
done
exit $rc
