#!/usr/bin/env bash
# tests/e2e/run.sh - real dumps, real crash: provision the lab, then every e2e group.
# A lab that cannot be provisioned is a failure, never a skip.  So is a group
# that exits non-zero without a FAIL line, or prints no PASS/FAIL line at all.
set -u
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build
if ! bash tests/lab/lab.sh dumps >build/lab.log 2>&1; then
	echo "FAIL: e2e/lab: provisioning the real-dump lab failed: $(grep -v '^\s*$' build/lab.log | tail -n 1)"
	exit 1
fi
echo "PASS: e2e/lab"
if ! make -s kaslr.so kaslr-find >build/e2e-build.log 2>&1; then
	echo "FAIL: e2e/build: $(tail -n 1 build/e2e-build.log)"
	exit 1
fi
rc=0

# group NAME COMMAND...: run one group, pass its lines on, check that it reported.
group() {
	local name=$1 out grc
	shift
	out=$("$@"; echo "rc=$?")
	grc=${out##*rc=}
	out=${out%rc=*}
	printf '%s' "$out"
	if [ "$grc" != 0 ]; then
		rc=1
		grep -q '^FAIL:' <<<"$out" || echo "FAIL: e2e/$name: exited $grc without reporting a failure"
	elif ! grep -qE '^(PASS|FAIL):' <<<"$out"; then
		rc=1
		echo "FAIL: e2e/$name: reported nothing"
	fi
}

# shellcheck disable=SC2086 # KASLR_E2E_GROUPS is a list of words
group e2e.py python3 tests/e2e/e2e.py ${KASLR_E2E_GROUPS:-}
group bad.py python3 tests/e2e/bad.py
group versions.py python3 tests/e2e/versions.py
group checks.py python3 tests/e2e/checks.py
group drgn.py python3 tests/e2e/drgn.py
group fixdump.py python3 tests/e2e/fixdump.py
group messages.py python3 tests/e2e/messages.py
group arm64.py python3 tests/e2e/arm64.py
# vmcoreinfo.sh, the longest group that runs one thing at a time (12 min cold
# on 2 cores), goes on beside the other shell groups, which also keep one core
# busy each; its lines are passed on after theirs.
bg=build/e2e/vmcoreinfo.sh.out
mkdir -p build/e2e
{ bash tests/e2e/vmcoreinfo.sh; echo "rc=$?"; } >"$bg" &
bgpid=$!
for t in tests/e2e/*.sh; do
	[ "$t" = tests/e2e/run.sh ] || [ "$t" = tests/e2e/vmcoreinfo.sh ] && continue
	group "$(basename "$t")" bash "$t"
done
wait "$bgpid"
# replay FILE: the lines of a group run in the background, and its status.
replay() {
	local r
	r=$(sed -n '$s/^rc=//p' "$1")
	sed '$d' "$1"
	return "${r:-1}"
}
group vmcoreinfo.sh replay "$bg"
exit $rc
