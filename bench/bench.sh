#!/usr/bin/env bash
# bench/bench.sh - figures for the docs: how long kaslr.so and kaslr-find take.
#
#   bench/bench.sh [recover] [repair] [scan] [fix] [arm64]     (default: all five)
#
# recover  per dump: one `kaslr` inside crash (a session running it 20 times
#          minus one running it never, / 20) and one `kaslr-find` run.
# repair   per dump crash cannot place: `crash --minimal` + `kaslr -r` (relocation,
#          gdb, full initialisation) against crash started with the right values;
#          the ratio of the two.
# scan     a 4 GiB guest dump (lab boot --mem 4096 --name big4g): the register-free
#          scans (kaslr-find -m scan/ptscan, `kaslr -m scan` in crash, a zlib kdump)
#          in MB/s against `cat DUMP > /dev/null` from page cache; best of 3 runs.
# fix      kaslr-find --in-place / --restore / --output-dump on the 512 MiB dumps of
#          the bookworm boot and on the 4 GiB big4g boot, ELF and kdump: the write
#          alone (kaslr-find -v's "writing took"), best of 3; a copy against
#          `cp --sparse=always` of the same dump to the same directory.
# arm64    per arm64 boot (1 GiB guests, tests/lab/lab.sh's index.arm64), idle-nonotes.elf:
#          the image route alone (kaslr-find -m ptscan), the vmcoreinfo scan
#          (-m scan) and the whole search against `cat DUMP > /dev/null` from
#          page cache; best of 3 runs.
#
# Results go to stdout as a table and to build/bench/*.tsv.  Timing tests are
# not part of `make check`: these are measurements, not assertions.
set -eu
cd "$(dirname "$0")/.."
what=${*:-recover repair scan fix arm64}
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

# best_of N CMD... - the shortest wall time of N runs of CMD, in seconds.
best_of() {
	local n=$1 best='' t0 t1 t
	shift
	for _ in $(seq "$n"); do
		t0=$(now)
		"$@" >/dev/null 2>&1 || true
		t1=$(now)
		t=$(secs "$t0" "$t1")
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
	done
	echo "$best"
}

crash_cmds() {	# crash_cmds DUMP COMMANDS - one --minimal session fed COMMANDS
	printf '%b' "$2" | crash -s --minimal "$VMLINUX" "$1"
}

# in_crash DUMP - seconds of one `kaslr -m scan` inside crash: a session running
# it 5 times minus one that only loads the module, / 5 (best of 3 each).
in_crash() {
	local base t
	base=$(best_of 3 crash_cmds "$1" "extend $PWD/kaslr.so\nexit\n")
	t=$(best_of 3 crash_cmds "$1" "extend $PWD/kaslr.so\n$(printf 'kaslr -m scan\\n%.0s' 1 2 3 4 5)exit\n")
	echo "($t - $base) / 5" | bc -l | awk '{printf "%.3f", ($1 < 0.001 ? 0.001 : $1)}'
}

bench_scan() {
	local out=build/bench/scan.tsv kver dir dump kd size c t base
	dir=$(big4g_dir)
	. "$dir/truth.env"
	dump="$dir/idle-nonotes.elf"
	kd="$dir/idle.kdump"
	size=$(stat -c %s "$dump")
	sync	# a fresh boot leaves GiBs of dirty pages: let writeback finish first
	cat "$dump" >/dev/null
	c=$(best_of 3 cat "$dump")
	printf 'what\tdump\tsize_MB\tseconds\tMB_s\tvs_cat\n' >"$out"
	row() {	# row WHAT FILE SECONDS
		local sz
		sz=$(stat -c %s "$2")
		printf '%s\t%s\t%d\t%s\t%.0f\t%.2f\n' "$1" "$(basename "$2")" $((sz >> 20)) "$3" \
			"$(echo "($size / 1048576) / $3" | bc -l)" "$(echo "$3 / $c" | bc -l)" >>"$out"
	}
	row "cat (page cache)" "$dump" "$c"
	row "kaslr-find -m scan" "$dump" "$(best_of 3 ./kaslr-find -m scan "$VMLINUX" "$dump")"
	row "kaslr-find -m scan --reader=own" "$dump" \
		"$(best_of 3 ./kaslr-find -m scan --reader=own "$VMLINUX" "$dump")"
	row "kaslr-find -m ptscan" "$dump" "$(best_of 3 ./kaslr-find -m ptscan "$VMLINUX" "$dump")"
	row "kaslr -m scan (in crash)" "$dump" "$(in_crash "$dump")"
	# kdump-compressed: bound by decompression (MB/s of guest memory, not of the file).
	row "kaslr-find -m scan (zlib kdump)" "$kd" "$(best_of 3 ./kaslr-find -m scan "$VMLINUX" "$kd")"
	row "kaslr -m scan (in crash, zlib kdump)" "$kd" "$(in_crash "$kd")"
	column -t -s "$(printf '\t')" "$out"
	echo "(MB_s: guest memory scanned per second, $((size >> 20)) MB; vs_cat: seconds / cat's seconds)"
}

bench_arm64() {
	local out=build/bench/arm64.tsv d dump c
	[ -s "$LAB/dumps/index.arm64" ] || { echo "bench arm64: no $LAB/dumps/index.arm64 (tests/lab/lab.sh dumps)" >&2; return 1; }
	printf 'dump\tsize_MB\tcat_s\tptscan_s\tscan_s\tscan_vs_cat\tsearch_s\n' >"$out"
	while read -r d; do
		. "$d/truth.env"
		dump="$d/idle-nonotes.elf"
		[ -f "$dump" ] || continue
		cat "$dump" >/dev/null
		c=$(best_of 3 cat "$dump")
		p=$(best_of 3 ./kaslr-find -m ptscan "$VMLINUX" "$dump")
		sc=$(best_of 3 ./kaslr-find -m scan "$VMLINUX" "$dump")
		a=$(best_of 3 ./kaslr-find "$VMLINUX" "$dump")
		printf '%s\t%d\t%s\t%s\t%s\t%.2f\t%s\n' "${d#"$LAB"/dumps/}/idle-nonotes.elf" \
			$(($(stat -c %s "$dump") >> 20)) "$c" "$p" "$sc" "$(echo "$sc / $c" | bc -l)" "$a" >>"$out"
	done <"$LAB/dumps/index.arm64"
	column -t -s "$(printf '\t')" "$out"
}

# big4g_dir - the 4 GiB boot of the bookworm kernel (booted and dumped once, then cached).
big4g_dir() {
	local kver dir
	kver=$(cat "$LAB/kernels/bookworm.current")
	dir=$(bash tests/lab/lab.sh boot "$kver" --mem 4096 --name big4g 2>/dev/null | tail -n 1)
	[ -d "$dir" ] || dir="$LAB/dumps/$kver/big4g"
	echo "$dir"
}

bench_fix() {
	local out=build/bench/fix.tsv work=build/bench/fix kver d f dump size i
	local -a k r t c cs
	kver=$(cat "$LAB/kernels/bookworm.current")
	rm -rf "$work"
	mkdir -p "$work"
	printf 'dump\tsize_MB\tin_place_s\trestore_s\tcopy_s\tcp_sparse_s\tcp_sync_s\tvs_cp\tvs_cp_sync\n' >"$out"
	# took CMD... - kaslr-find -v's "writing/restoring took N s" line.
	took() { "$@" 2>&1 >/dev/null | sed -n 's/.* took \([0-9.]*\) s$/\1/p' | tail -n 1; }
	min() { printf '%s\n' "$@" | grep . | sort -g | head -n 1 | grep . || echo -; }
	ratio() { if [ "$1" = - ] || [ "$2" = - ]; then echo -; else echo "$1 / $2" | bc -l | awk '{printf "%.2f", $1}'; fi; }
	cp_sync() { cp --sparse=always "$1" "$2" && sync "$2"; }
	for d in "$LAB/dumps/$kver/novmci" "$(big4g_dir)"; do
		. "$d/truth.env"
		for f in panic-nonotes.elf idle-nonotes.elf panic-nonotes.kdump idle.kdump; do
			dump="$d/$f"
			[ -f "$dump" ] || continue
			size=$(stat -c %s "$dump")
			cp --sparse=always "$dump" "$work/in"
			sync
			k=() r=() t=() c=() cs=()
			for i in 1 2 3; do
				k+=("$(took ./kaslr-find -v --in-place "$VMLINUX" "$work/in")")
				r+=("$(took ./kaslr-find -v --restore "$work/in")")
			done
			for i in 1 2 3; do
				rm -f "$work/out"
				t+=("$(took ./kaslr-find -v -O "$work/out" "$VMLINUX" "$dump")")
				rm -f "$work/out"
				sync
				c+=("$(best_of 1 cp --sparse=always "$dump" "$work/out")")
				rm -f "$work/out"
				sync
				cs+=("$(best_of 1 cp_sync "$dump" "$work/out")")
			done
			rm -f "$work/out" "$work/in"
			printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$d")/$f" $((size >> 20)) "$(min "${k[@]}")" \
				"$(min "${r[@]}")" "$(min "${t[@]}")" "$(min "${c[@]}")" "$(min "${cs[@]}")" \
				"$(ratio "$(min "${t[@]}")" "$(min "${c[@]}")")" \
				"$(ratio "$(min "${t[@]}")" "$(min "${cs[@]}")")" >>"$out"
		done
	done
	rm -rf "$work"
	column -t -s "$(printf '\t')" "$out"
	echo "(in place on a flattened kdump is refused: -; vs_cp_sync: the copy is synced before it is named)"
}

for w in $what; do
	echo "== $w"
	"bench_$w"
done
