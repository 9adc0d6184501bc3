#!/bin/sh
# Print the release ("8.0.2") of the crash whose defs.h is in $1, or nothing
# when it cannot be told.  A crash source tree says it in .rh_rpm_package; a
# packaged header is the crash package's own file (Debian, Fedora), so its
# release is that package's upstream version: "8.0.2-1" and "9.0.2+~16.3-1"
# (Debian, the "+~" part names the bundled gdb) give 8.0.2 and 9.0.2.
dir=${1:-.}
[ -f "$dir/defs.h" ] || exit 0
if [ -s "$dir/.rh_rpm_package" ]; then
	head -n1 "$dir/.rh_rpm_package"
	exit 0
fi
f=$(readlink -f "$dir/defs.h")
v=
if command -v dpkg-query >/dev/null 2>&1; then
	pkg=$(dpkg-query -S "$f" 2>/dev/null | sed -n '1s/:.*//p')
	if [ -n "$pkg" ]; then v=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null); fi
fi
if [ -z "$v" ] && command -v rpm >/dev/null 2>&1; then
	v=$(rpm -qf --qf '%{VERSION}' "$f" 2>/dev/null) || v=
fi
printf '%s\n' "$v" | sed -n 's/^[0-9]*://; s/[-+~].*//; /^[0-9][0-9.]*$/p'
