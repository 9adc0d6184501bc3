#!/usr/bin/env bash
# tests/demo.sh - `make demo`: the main job on a real dump.
#
# Installs what it needs, builds, fetches a Debian 6.12 cloud kernel (one that
# Debian's crash 8.0.2 cannot place), boots it under QEMU with KASLR, takes a
# dump without vmcoreinfo (cached after the first run), opens it with
# `crash --minimal`, loads the module, runs `kaslr` and `kaslr -r`, and shows
# that the repaired session reads the kernel right.
set -eu
cd "$(dirname "$0")/.."
suite=${KASLR_DEMO_SUITE:-trixie}
bash tests/lab/lab.sh setup >&2
make -s kaslr.so kaslr-find
bash tests/lab/lab.sh dumps "$suite" >/dev/null
LAB=$(bash tests/lab/lab.sh path)
kver=$(cat "$LAB/kernels/$suite.current")
dir="$LAB/dumps/$kver/novmci"
# shellcheck disable=SC1091
. "$dir/truth.env"
dump="$dir/idle.elf"
echo
echo "== dump: $dump"
echo "== ground truth from inside the guest: KERNELOFFSET=$KERNELOFFSET phys_base=$PHYS_BASE_HEX ($PHYS_BASE)"
echo "== crash --minimal $VMLINUX $dump"
crash -s --minimal "$VMLINUX" "$dump" <<CMDS
sym _stext
extend $PWD/kaslr.so
kaslr
kaslr -r
sym _stext
rd -a linux_banner
log | tail -n 3
exit
CMDS
echo
echo "== kaslr-find $VMLINUX $dump"
./kaslr-find "$VMLINUX" "$dump"
