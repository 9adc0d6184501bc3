#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/layers.sh - the include layering of docs/design.md, checked by compiling
# each layer alone: its sources are compiled against a copy of the headers it may
# include and nothing else, so an include that points up a layer fails to build.
#
#   base     core/types.h core/util.* core/paging.h core/x86_64/constants.h
#   readers  core/vmlinux.* core/notes.* core/dump* regs.* vmcoreinfo.* (+ base)
#   core     the rest of core/ and kaslr_core.h (+ readers, base); never crash/ or defs.h
#   shells   kaslr_ext.c, crash/, kaslr_find.c: anything; only kaslr_ext.c and crash/
#            include crash's defs.h
# Prints one PASS/FAIL line per layer (tests/run.sh counts them).
set -u
cd "$(dirname "$0")/.." || exit 1
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0

BASE_H="core/types.h core/util.h core/paging.h core/x86_64/constants.h"
BASE_C="core/util.c"
READERS_H="core/vmlinux.h core/notes.h $(ls core/dump*.h) regs.h vmcoreinfo.h"
READERS_C="core/vmlinux.c core/notes.c $(ls core/dump*.c) regs.c vmcoreinfo.c"
CORE_H="kaslr_core.h $(ls core/*.h core/x86_64/*.h core/arm64/*.h)"
# The core: every other source of core/.
CORE_C=$(for f in core/*.c core/x86_64/*.c core/arm64/*.c; do case " $BASE_C $READERS_C " in *" $f "*) ;; *) echo "$f" ;; esac; done)

# layer NAME "HEADERS" "SOURCES": compile SOURCES with only HEADERS reachable.
layer() {
	local name=$1 hdrs=$2 srcs=$3 d=$tmp/$1 f out bad=""
	mkdir -p "$d"
	for f in $hdrs; do
		mkdir -p "$d/$(dirname "$f")"
		cp "$f" "$d/$f"
	done
	for f in $srcs; do
		mkdir -p "$d/$(dirname "$f")"
		cp "$f" "$d/$f"
		if ! out=$(cd "$d" && $CC -fsyntax-only -Wall -I. "$f" 2>&1); then
			bad="$bad $f: $(printf '%s' "$out" | grep -m1 -E 'error|fatal')"
		fi
	done
	if [ -z "$bad" ]; then
		echo "PASS: build/layers/$name"
	else
		echo "FAIL: build/layers/$name: includes from above its layer:$bad"
		rc=1
	fi
}

layer base "$BASE_H" "$BASE_C"
layer readers "$BASE_H $READERS_H" "$READERS_C"
layer core "$BASE_H $READERS_H $CORE_H" "$CORE_C"

# crash's defs.h: only in the crash glue.
# Any spelling: "defs.h", <crash/defs.h> (the crash package's include directory).
stray=$(grep -l -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]*/)?defs\.h[>"]' \
	$(git ls-files '*.c' '*.h' | grep -v '^tests/') 2>/dev/null |
	grep -v -E '^(kaslr_ext\.c|crash/)' | tr '\n' ' ')
if [ -z "$stray" ]; then
	echo "PASS: build/layers/defs.h"
else
	echo "FAIL: build/layers/defs.h: crash's defs.h included outside kaslr_ext.c and crash/: $stray"
	rc=1
fi
exit $rc
