#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/lib/crash-standin.sh - a crash that breaks in the middle of a session,
# for the harness self-test (tests/e2e/selftest.sh): it proves that the e2e
# drivers can fail.
#
# Called as crash is (argv passed through), the session's script on stdin in
# the form the drivers write it ("!echo '@@CMD N@@'" before command N,
# "!echo '@@END@@'" and "exit" last).  It runs the real crash on the script cut
# right after the marker of command KASLR_STANDIN_AT (default 2): crash prints
# that marker, reads end of file and exits.  Then, by KASLR_STANDIN_MODE:
#   segv   it dies by SIGSEGV, as a crash that faulted in command N would
#   hang   it never exits and a child keeps stdout open: the driver's timeout
#          has to kill the whole process group
# A script with fewer commands is cut before its end marker (the last command
# "was running").  Only sessions whose argv matches the extended regex
# KASLR_STANDIN_MATCH (default: all) break; the others run the real crash.
# KASLR_STANDIN_CRASH is the real crash (default: crash on PATH).
set -u
CRASH=${KASLR_STANDIN_CRASH:-crash}
AT=${KASLR_STANDIN_AT:-2}
MODE=${KASLR_STANDIN_MODE:-segv}
MATCH=${KASLR_STANDIN_MATCH:-}

if [ -n "$MATCH" ] && ! grep -qE -- "$MATCH" <<<"$*"; then
	exec "$CRASH" "$@"
fi
case $MODE in
segv | hang) ;;
*) echo "crash-standin.sh: unknown KASLR_STANDIN_MODE '$MODE' (segv, hang)" >&2; exit 2 ;;
esac

script=$(cat)
cut=$(awk -v at="@@CMD $AT@@" '
	index($0, "@@END@@") { exit }
	{ print }
	index($0, at) { exit }' <<<"$script")
printf '%s\n' "$cut" | "$CRASH" "$@"

if [ "$MODE" = hang ]; then
	sleep 100000
	exit 0
fi
ulimit -c 0
kill -SEGV $$
