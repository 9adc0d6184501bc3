#!/usr/bin/env bash
# bench/bench.sh - figures for the docs: how long kaslr.so and kaslr-find take.
#
#   bench/bench.sh [recover] [repair] [scan]     (default: all three)
#
# recover  per dump: one `kaslr` inside crash (a session running it 20 times
#          minus one running it never, / 20) and one `kaslr-find` run.
# repair   per dump crash cannot place: `crash --minimal` + `kaslr -r` (relocation,
#          gdb, full initialisation) against crash started with the right values;
#          the ratio of the two.
# scan     a 4 GiB guest dump (lab boot --mem 4096): the register-free memory scan
#          (kaslr-find -m scan) in MB/s against `cat DUMP > /dev/null` from page cache.
#
# Results go to stdout as a table and to build/bench/*.tsv.  Timing tests are
# not part of `make check`: these are measurements, not assertions.
set -eu
cd "$(dirname "$0")/.."
what=${*:-recover repair scan}
make -s kaslr.so kaslr-find
LAB=$(bash tests/lab/lab.sh path)
mkdir -p build/bench
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | awk '{printf "%.3f", $1}'; }

crash_run() {	# crash_run OPTS... -- commands on stdin
	crash -s "$@" >/dev/null 2>&1 || true
}

bench_recover() {
	local out=build/bench/recover.tsv
	printf 'dump\tkaslr_in_crash_ms\tkaslr_find_ms\n' >"$out"
	while read -r d; do
		# shellcheck disable=SC1091
		. "$d/truth.env"
		for f in idle.elf idle.kdump panic-nonotes.elf; do
			dump="$d/$f"
			[ -f "$dump" ] || continue
			t0=$(now)
			printf 'extend %s\nexit\n' "$PWD/kaslr.so" | crash_run --minimal "$VMLINUX" "$dump"
			t1=$(now)
			{ printf 'extend %s\n' "$PWD/kaslr.so"; for _ in $(seq 20); do echo kaslr; done; echo exit; } |
				crash_run --minimal "$VMLINUX" "$dump"
			t2=$(now)
			./kaslr-find "$VMLINUX" "$dump" >/dev/null 2>&1 || true
			t3=$(now)
			per=$(echo "(($t2 - $t1) - ($t1 - $t0)) / 20 * 1000" | bc -l | awk '{printf "%.1f", $1}')
			fnd=$(echo "($t3 - $t2) * 1000" | bc -l | awk '{printf "%.0f", $1}')
			printf '%s\t%s\t%s\n' "${d#"$LAB"/dumps/}/$f" "$per" "$fnd" >>"$out"
		done
	done <"$LAB/dumps/index"
	column -t -s "$(printf '\t')" "$out"
}

bench_repair() {
	local out=build/bench/repair.tsv
	printf 'dump\tkaslr_r_s\tright_start_s\tratio\n' >"$out"
	while read -r d; do
		. "$d/truth.env"
		dump="$d/idle.elf"
		opts=()
		case $RELEASE in 6.[4-9]* | 6.[1-9][0-9]* | [7-9].*) opts=(--minimal) ;; esac
		t0=$(now)
		printf 'extend %s\nkaslr -r\nexit\n' "$PWD/kaslr.so" | crash_run --minimal --kaslr=0 "$VMLINUX" "$dump"
		t1=$(now)
		echo exit | crash_run "${opts[@]}" --kaslr="$KERNELOFFSET" --machdep phys_base="$PHYS_BASE_HEX" "$VMLINUX" "$dump"
		t2=$(now)
		a=$(secs "$t0" "$t1") b=$(secs "$t1" "$t2")
		printf '%s\t%s\t%s\t%s\n' "${d#"$LAB"/dumps/}/idle.elf" "$a" "$b" "$(echo "$a / $b" | bc -l | awk '{printf "%.2f", $1}')" >>"$out"
	done <"$LAB/dumps/index"
	column -t -s "$(printf '\t')" "$out"
}

bench_scan() {
	local out=build/bench/scan.tsv kver dir dump size
	kver=$(cat "$LAB/kernels/bookworm.current")
	dir=$(bash tests/lab/lab.sh boot "$kver" --mem 4096 --name big4g 2>/dev/null | tail -n 1)
	[ -d "$dir" ] || dir="$LAB/dumps/$kver/big4g"
	. "$dir/truth.env"
	dump="$dir/idle-nonotes.elf"
	size=$(stat -c %s "$dump")
	cat "$dump" >/dev/null
	t0=$(now)
	cat "$dump" >/dev/null
	t1=$(now)
	./kaslr-find -m scan "$VMLINUX" "$dump" >/dev/null
	t2=$(now)
	c=$(secs "$t0" "$t1") s=$(secs "$t1" "$t2")
	printf 'dump\tsize_MB\tcat_s\tcat_MB_s\tscan_s\tscan_MB_s\tratio\n' >"$out"
	printf '%s\t%d\t%s\t%.0f\t%s\t%.0f\t%.2f\n' "${dump#"$LAB"/dumps/}" $((size >> 20)) "$c" \
		"$(echo "($size / 1048576) / $c" | bc -l)" "$s" "$(echo "($size / 1048576) / $s" | bc -l)" \
		"$(echo "$s / $c" | bc -l)" >>"$out"
	column -t -s "$(printf '\t')" "$out"
}

for w in $what; do
	echo "== $w"
	"bench_$w"
done
