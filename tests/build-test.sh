#!/usr/bin/env bash
# tests/build-test.sh - the build itself: warning-free, the right flags, installable.
set -u
cd "$(dirname "$0")/.."
out=$(make -s clean 2>&1; make kaslr.so kaslr-find 2>&1)
rc=$?
if [ $rc = 0 ] && [ -f kaslr.so ] && [ -x kaslr-find ]; then
	echo "PASS: build/make"
else
	echo "FAIL: build/make: rc $rc: $(printf '%s' "$out" | grep -m1 -E 'error|No rule' )"
	exit 1
fi
if printf '%s' "$out" | grep -q 'warning:'; then
	echo "FAIL: build/warning-free: $(printf '%s' "$out" | grep -m1 'warning:')"
else
	echo "PASS: build/warning-free"
fi
# The command line crash's extensions use on x86_64.
for f in -DX86_64 -DGDB_10_2 -fPIC -shared -rdynamic -Wall -Wextra; do
	printf '%s' "$out" | grep -q -- "$f" || { echo "FAIL: build/flags: $f missing"; continue; }
done
printf '%s' "$out" | grep -q -- "-DGDB_10_2" && echo "PASS: build/flags"
# Nothing leaves the module (-fvisibility=hidden): crash runs its constructor
# and looks up no name in it, so no function or variable of ours is exported.
extra=$(nm -D --defined-only kaslr.so | awk '$2 ~ /[TDB]/ {print $3}' |
	grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | head -5)
if [ -z "$extra" ]; then
	echo "PASS: build/no-stray-globals"
else
	echo "FAIL: build/no-stray-globals: exported $(echo $extra)"
fi
tmp=$(mktemp -d)
if make -s install DESTDIR="$tmp" PREFIX=/usr >/dev/null 2>&1 &&
	[ -f "$tmp/usr/lib64/crash/extensions/kaslr.so" ] && [ -x "$tmp/usr/bin/kaslr-find" ] &&
	[ -f "$tmp/usr/share/man/man1/kaslr-find.1" ]; then
	echo "PASS: build/install"
else
	echo "FAIL: build/install: files missing under DESTDIR"
fi
rm -rf "$tmp"
