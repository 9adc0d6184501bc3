#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer harnesses (make fuzz-build) and run
# each for FUZZ_SECONDS (default 10: the CI smoke run; `make fuzz` passes 60),
# or until FUZZ_RUNS executions if that is set and comes first.
# Prints "PASS: fuzz/<harness> (<N> execs in <S> s, <R> execs/s)" or "FAIL:
# fuzz/<harness>: <why>" per harness and exits non-zero if any failed.
#
# FUZZ_BUILD=san (default) fuzzes with build/fuzz (ASan + UBSan).
# FUZZ_BUILD=fast fuzzes with build/fuzz-fast (-O2, no sanitizer, about 3x
# the execs/s), then replays the harness's whole corpus, seeds and what the
# run kept, through build/fuzz; a sanitizer report there fails the harness.
# docs/fuzzing.md says what each build catches.
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
FUZZ_RUNS=${FUZZ_RUNS:-}
FUZZ_BUILD=${FUZZ_BUILD:-san}
FUZZ_ARGS=${FUZZ_ARGS:-}
FUZZ_OUT=${FUZZ_OUT:-build/fuzz}
if [ -z "${FUZZ_HARNESSES:-}" ]; then
	FUZZ_HARNESSES=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)
fi

# Largest input per harness: what its format needs, not more.
max_len() {
	case $1 in
	fuzz_pagewalk | fuzz_scan | fuzz_arm64) echo 16384 ;;	# header + chunks (fuzz_image)
	fuzz_dumpfile | fuzz_dumpfix) echo 16384 ;;
	fuzz_vmcoreinfo) echo 4096 ;;	# the kernel's note is a page (VMCOREINFO_BYTES)
	*) echo 8192 ;;			# notes: 4 CPUs' and a VMCOREINFO note
	esac
}

# Why a libFuzzer log ended in failure, and the input it wrote.
why() {
	grep -m 1 '^fuzz oracle:' "$1" ||
		grep -m 1 '^SUMMARY:' "$1" ||
		grep -m 1 'ERROR: libFuzzer' "$1" ||
		tail -n 1 "$1"
}
input() {
	sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$1" | tail -n 1
}

case $FUZZ_BUILD in
san) targets=fuzz-build fuzz_bin=build/fuzz ;;
fast) targets="fuzz-build fuzz-build-fast" fuzz_bin=build/fuzz-fast ;;
*)
	echo "FAIL: fuzz-build: FUZZ_BUILD=$FUZZ_BUILD (san or fast)"
	exit 1
	;;
esac
mkdir -p build/fuzz "$FUZZ_OUT/artifacts"
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "FAIL: fuzz-build: ${FUZZ_CC:-clang} not found (libFuzzer needs clang; set FUZZ_CC)"
	exit 1
fi
# shellcheck disable=SC2086
if ! make -s $targets >build/fuzz/build.log 2>&1; then
	cat build/fuzz/build.log >&2
	echo "FAIL: fuzz-build: make $targets failed (output on stderr)"
	exit 1
fi
echo "PASS: fuzz-build"

rc=0
for h in $FUZZ_HARNESSES; do
	log=$FUZZ_OUT/$h.log
	corpus=$FUZZ_OUT/corpus/$h
	mkdir -p "$corpus"
	start=$SECONDS
	# shellcheck disable=SC2086
	"$fuzz_bin/$h" -max_total_time="$FUZZ_SECONDS" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} \
		-max_len="$(max_len "$h")" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$FUZZ_OUT/artifacts/$h-" $FUZZ_ARGS "$corpus" "tests/fuzz/corpus/$h" >"$log" 2>&1
	status=$?
	secs=$((SECONDS - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ "$status" != 0 ]; then
		rc=1
		in=$(input "$log")
		echo "FAIL: fuzz/$h: $(why "$log") (input ${in:-none}, ${execs:-?} execs, log $log)"
		continue
	fi
	summary="${execs:-?} execs in $secs s, ${rate:-?} execs/s"
	if [ "$FUZZ_BUILD" = fast ]; then
		# Every input the fast run kept, and the seeds, once more under ASan + UBSan.
		rlog=$FUZZ_OUT/$h.replay.log
		"build/fuzz/$h" -runs=0 -max_len="$(max_len "$h")" -timeout=20 -rss_limit_mb=2048 \
			-artifact_prefix="$FUZZ_OUT/artifacts/$h-san-" "$corpus" "tests/fuzz/corpus/$h" >"$rlog" 2>&1
		status=$?
		n=$(sed -n 's/^#\([0-9]*\)[[:space:]]*INITED.*/\1/p' "$rlog" | tail -n 1)
		if [ "$status" != 0 ]; then
			rc=1
			in=$(input "$rlog")
			echo "FAIL: fuzz/$h: replay under ASan+UBSan: $(why "$rlog") (input ${in:-none}, fast run: $summary, log $rlog)"
			continue
		fi
		summary="$summary; ${n:-?} inputs replayed under ASan+UBSan"
	fi
	echo "PASS: fuzz/$h ($summary)"
done
exit $rc
