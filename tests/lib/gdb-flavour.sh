#!/bin/sh
# Print the -D flag for the gdb that the crash owning defs.h in $1 was built with.
# A crash source tree says it in its Makefile (GDB=gdb-16.3); a packaged header
# does not, but each crash release's defs.h names, in its "#if defined(GDB_...)"
# lists, every gdb flavour up to its own and none newer (crash 7.2.9: GDB_7_6,
# 8.0.x: GDB_10_2 since commit 9fab193, 9.0.2: GDB_16_3): the newest one named
# is the flavour.  Without any, the oldest the module supports, GDB_7_6.
dir=${1:-.}
if [ -f "$dir/Makefile" ] && v=$(sed -n 's/^GDB=gdb-\([0-9.]*\).*/\1/p' "$dir/Makefile" | head -n1) && [ -n "$v" ]; then
	echo "GDB_$(echo "$v" | tr . _)"
elif v=$(grep -oE '\bGDB_[0-9]+_[0-9]+(_[0-9]+)?\b' "$dir/defs.h" 2>/dev/null |
	sed 's/^GDB_//' | tr _ . | sort -u -V | tail -n1) && [ -n "$v" ]; then
	echo "GDB_$(echo "$v" | tr . _)"
else
	echo GDB_7_6
fi
