#!/bin/sh
# Print the -D flag for the gdb that the crash owning defs.h in $1 was built with.
# A crash source tree says it in its Makefile (GDB=gdb-10.2); a packaged header
# does not, so fall back to what distinguishes the headers: gdb 10 brought
# GNU_ITERATE_DATATYPES (crash 8.0.0, commit 9fab193), gdb 16 crash 9.
dir=${1:-.}
if [ -f "$dir/Makefile" ] && v=$(sed -n 's/^GDB=gdb-\([0-9.]*\).*/\1/p' "$dir/Makefile" | head -n1) && [ -n "$v" ]; then
	echo "GDB_$(echo "$v" | tr . _)"
elif grep -q 'GDB_16_2' "$dir/defs.h" 2>/dev/null; then
	echo GDB_16_2
elif grep -q 'GNU_ITERATE_DATATYPES' "$dir/defs.h" 2>/dev/null; then
	echo GDB_10_2
else
	echo GDB_7_6
fi
