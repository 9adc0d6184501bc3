# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
#
# tests/lib/crash-session.sh - crash sessions for the shell e2e groups, with
# the markers tests/e2e/e2e.py uses (sourced; bash).
#
#   session_script CMD...   the script for crash's stdin: "!echo '@@START@@'",
#                           then "!echo '@@CMD i@@'" and CMD i for each, then
#                           "!echo '@@END@@'" and "exit"
#   session_verdict LOG RC CMD...
#                           how the session whose output is LOG and whose exit
#                           status (of crash, or of timeout(1) around it) is RC
#                           went, for the same CMDs:
#                           0  clean: the end marker printed and exit status 0
#                           1  it reached crash's prompt (the start marker
#                              printed) and then broke: prints why, naming the
#                              command that was running (after the last marker)
#                           2  crash never reached its prompt: prints why
# The rule of every e2e group: a session that reached the prompt and broke is
# a FAIL naming the command; only one that never reached it may be taken for
# "crash cannot open this dump", and is then checked another way.

session_script() {
	local i=0 c
	echo "!echo '@@START@@'"
	for c; do
		echo "!echo '@@CMD $i@@'"
		printf '%s\n' "$c"
		i=$((i + 1))
	done
	echo "!echo '@@END@@'"
	echo exit
}

# rc_text RC: "exited N", "died by SIGNAME", "timed out" (timeout(1): 124, or 137 after -k).
rc_text() {
	case $1 in
	124 | 137) echo "timed out" ;;
	*) if [ "$1" -gt 128 ] 2>/dev/null && [ "$1" -lt 160 ]; then
		echo "died by SIG$(kill -l "$(($1 - 128))" 2>/dev/null || echo "$(($1 - 128))")"
	else
		echo "exited $1"
	fi ;;
	esac
}

session_verdict() {
	local log=$1 rc=$2 last tail
	shift 2
	tail=$(grep -v '^\s*$' "$log" 2>/dev/null | tail -n 2 | paste -sd '|' - | cut -c1-300)
	if ! grep -q '@@START@@' "$log" 2>/dev/null; then
		echo "crash never reached its prompt ($(rc_text "$rc"): $tail)"
		return 2
	fi
	if grep -q '@@END@@' "$log" && [ "$rc" = 0 ]; then
		return 0
	fi
	last=$(grep -o '@@CMD [0-9]*@@' "$log" | tail -n 1 | tr -dc 0-9)
	local what
	if [ "$rc" = 0 ]; then what="crash exited 0 without its end marker"; else what="crash $(rc_text "$rc")"; fi
	if grep -q '@@END@@' "$log"; then
		echo "$what at 'exit' (after the last command): $tail"
	elif [ -z "$last" ]; then
		echo "$what before the first command: $tail"
	else
		shift "$last"
		echo "$what during '$1' (command $((last + 1))): $tail"
	fi
	return 1
}
