#!/usr/bin/env bash
# tests/e2e/run.sh - real dumps, real crash: provision the lab, then every e2e group.
# A lab that cannot be provisioned is a failure, never a skip.
set -u
cd "$(dirname "$0")/../.."
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
python3 tests/e2e/e2e.py ${KASLR_E2E_GROUPS:-} || rc=1
python3 tests/e2e/bad.py || rc=1
python3 tests/e2e/versions.py || rc=1
for t in tests/e2e/*.sh; do
	[ "$t" = tests/e2e/run.sh ] && continue
	bash "$t" || rc=1
done
exit $rc
