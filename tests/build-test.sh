#!/usr/bin/env bash
# tests/build-test.sh - the build itself: warning-free, the right flags, installable.
#
#  build/make              kaslr.so and kaslr-find build (remade from scratch with
#                          make -B, so every compiler line and warning is seen;
#                          build/ is left alone: it holds the test log and the
#                          fuzz corpus)
#  build/warning-free      no "warning:" in the output of that build
#  build/flags             kaslr.so is compiled with the command line crash's
#                          extensions use on x86_64, and with the -DGDB_x_y of the
#                          crash whose defs.h the compiler line includes
#                          (tests/lib/gdb-flavour.sh reads that crash)
#  build/release           kaslr.so is built for the release of the crash owning
#                          that defs.h (tests/lib/crash-release.sh; a packaged
#                          header always tells it), so that it refuses any other
#  build/no-stray-globals  only crash's entry points and kaslr_* leave the module
#  build/install           make install DESTDIR= puts the three files in place
set -u
cd "$(dirname "$0")/.." || exit 1
rm -f kaslr.so kaslr-find
out=$(make -B kaslr.so kaslr-find 2>&1)
rc=$?
if [ $rc = 0 ] && [ -f kaslr.so ] && [ -x kaslr-find ]; then
	echo "PASS: build/make"
else
	echo "FAIL: build/make: rc $rc: $(printf '%s' "$out" | grep -m1 -E 'error|No rule')"
	exit 1
fi
if printf '%s' "$out" | grep -q 'warning:'; then
	echo "FAIL: build/warning-free: $(printf '%s' "$out" | grep -m1 'warning:')"
else
	echo "PASS: build/warning-free"
fi
# The compiler line of kaslr.so (make prints the recipe's continued lines as
# they are: join them), its defs.h directory, and that crash's gdb flavour.
line=$(printf '%s\n' "$out" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -E -- '-o kaslr\.so( |$)' | tail -n 1)
defs=
for w in $line; do
	case $w in -I*) [ -f "${w#-I}/defs.h" ] && defs=${w#-I} && break ;; esac
done
missing=()
if [ -z "$line" ]; then
	missing+=("no compiler line for kaslr.so in the make output")
elif [ -z "$defs" ]; then
	missing+=("no -I directory with a defs.h on the kaslr.so line")
else
	flavour=$(sh tests/lib/gdb-flavour.sh "$defs")
	for f in -DX86_64 "-D$flavour" -fPIC -shared -rdynamic -Wall -Wextra; do
		grep -q -- " $f\( \|$\)" <<<" $line" || missing+=("$f")
	done
fi
if [ ${#missing[@]} = 0 ]; then
	echo "PASS: build/flags"
else
	echo "FAIL: build/flags: missing ${missing[*]} (defs.h in ${defs:-?})"
fi
# The release kaslr.so is built for: the one of the crash owning that defs.h.
release=
if [ -n "$defs" ]; then release=$(sh tests/lib/crash-release.sh "$defs"); fi
if [ -n "$release" ] && grep -qF -- "-DKASLR_CRASH_VERSION='\"$release\"'" <<<"$line"; then
	echo "PASS: build/release"
else
	echo "FAIL: build/release: defs.h in ${defs:-?} belongs to crash '${release:-unknown}'; the kaslr.so line has $(grep -oE -- "-DKASLR_CRASH_VERSION=[^ ]*" <<<"$line" || echo 'no -DKASLR_CRASH_VERSION')"
fi
# Nothing leaves the module (-fvisibility=hidden): crash runs its constructor
# and looks up no name in it, so no function or variable of ours is exported.
extra=$(nm -D --defined-only kaslr.so | awk '$2 ~ /[TDB]/ {print $3}' |
	grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' | head -5)
if [ -z "$extra" ]; then
	echo "PASS: build/no-stray-globals"
else
	echo "FAIL: build/no-stray-globals: exported $(tr "\n" " " <<<"$extra")"
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
# The include layering of docs/design.md: each layer compiled on its own.
bash tests/layers.sh
