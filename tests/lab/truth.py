#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Compute and check the ground truth of one lab boot; write truth.env.

    truth.py --guest guest.env --vmlinux VMLINUX --kver KVER --kaslr 0|1
             [--vmcoreinfo 0|1] [--mem MB] --out truth.env DUMP.elf... [DUMP.kdump...]

Truth comes from inside the guest (guest.env, written by qemu-driver.py from
the "LAB: key=value" console lines) and from the vmlinux symbol table:

    KERNELOFFSET = _text(/proc/kallsyms) - _text(vmlinux)
    PHYS_BASE    = "Kernel code" start (/proc/iomem) - (_text - __START_KERNEL_map)

PHYS_BASE is signed (it is negative on some boots); PHYS_BASE_HEX is its
64-bit two's complement, the form `crash --machdep phys_base=` takes.

Checks, each fatal (exit 1, one-line "truth: error: ..." on stderr):
  * the guest ran the kernel we meant (uname -r == KVER) and printed every key;
  * --kaslr 0 gives KERNELOFFSET 0; offsets are 4 KiB aligned, < 1 GiB;
  * every ELF dump has one QEMU and one CORE note per CPU;
  * all ELF dumps agree on having a VMCOREINFO note; it is there iff
    --vmcoreinfo 1, and its OSRELEASE, KERNELOFFSET and NUMBER(phys_base)
    equal the truth computed here;
  * kdump files carry a kdump or makedumpfile-flattened signature.
"""
import argparse
import os
import shlex
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elfnotes  # noqa: E402

START_KERNEL_MAP = 0xffffffff80000000   # x86_64 __START_KERNEL_map, unchanged since 2.6
KERNEL_IMAGE_SIZE = 1 << 30             # x86_64 with KASLR (CONFIG_RANDOMIZE_BASE) since 4.8
GUEST_KEYS = ("release", "_text", "_stext", "kernel_code", "fw_cfg", "ncpus")


class TruthError(Exception):
    pass


def read_env(path):
    d = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                d[k] = v
    return d


def hexval(s, what):
    try:
        return int(s, 16)
    except ValueError:
        raise TruthError("guest printed a bad %s value %r" % (what, s))


def check_elf(path, ncpus):
    """@returns the parsed VMCOREINFO dict of ELF dump @path, or None."""
    with elfnotes.Elf(path) as e:
        notes = e.all_notes()
    qemu = sum(1 for n, _, _ in notes if n == "QEMU")
    core = sum(1 for n, t, _ in notes if n == "CORE" and t == elfnotes.NT_PRSTATUS)
    if qemu != ncpus or core != ncpus:
        raise TruthError("%s: %d QEMU and %d CORE/NT_PRSTATUS notes for %d CPUs"
                         % (path, qemu, core, ncpus))
    text = elfnotes.vmcoreinfo_text(path)
    return elfnotes.parse_vmcoreinfo(text) if text is not None else None


def check_kdump(path):
    with open(path, "rb") as f:
        head = f.read(16)
    if not (head.startswith(b"makedumpfile") or head.startswith(b"KDUMP   ")):
        raise TruthError("%s: not a kdump-compressed (or flattened) file" % path)


def compute(a):
    g = read_env(a.guest)
    missing = [k for k in GUEST_KEYS if not g.get(k)]
    if missing:
        raise TruthError("guest did not print %s (see serial.log)" % ", ".join(missing))
    if g.get("insmod_failed"):
        raise TruthError("the guest could not insmod %s (see serial.log)" % g["insmod_failed"])
    if g["release"] != a.kver:
        raise TruthError("guest runs %s, expected %s" % (g["release"], a.kver))
    text_guest = hexval(g["_text"], "_text")
    kernel_code = hexval(g["kernel_code"], "kernel_code")
    if text_guest == 0 or kernel_code == 0:
        raise TruthError("guest shows zeroed addresses (kptr_restrict or not root?)")
    text_vmlinux = elfnotes.symbol_value(a.vmlinux, "_text")
    ko = text_guest - text_vmlinux
    pb = kernel_code - (text_guest - START_KERNEL_MAP)
    if ko < 0 or ko >= KERNEL_IMAGE_SIZE or ko & 0xfff:
        raise TruthError("implausible KERNELOFFSET 0x%x (wrong vmlinux?)" % ko)
    if not a.kaslr and ko:
        raise TruthError("booted with nokaslr but KERNELOFFSET is 0x%x" % ko)
    ncpus = int(g["ncpus"])

    notes = {}
    for d in a.dumps:
        if d.endswith(".elf"):
            notes[d] = check_elf(d, ncpus)
        else:
            check_kdump(d)
    have = {p: v is not None for p, v in notes.items()}
    if len(set(have.values())) > 1:
        raise TruthError("dumps disagree on having a VMCOREINFO note: %s" % have)
    has_note = bool(notes) and all(have.values())
    if a.vmcoreinfo and not has_note:
        raise TruthError("-device vmcoreinfo was given but the dump has no VMCOREINFO note (%s)"
                         % ("the guest had no /sys/firmware/qemu_fw_cfg: qemu_fw_cfg not loaded?"
                            if g["fw_cfg"] != "yes" else "yet the guest had fw_cfg"))
    if not a.vmcoreinfo and has_note:
        raise TruthError("the dump has a VMCOREINFO note although -device vmcoreinfo was not given")

    out = [("KVER", a.kver), ("RELEASE", g["release"]), ("VMLINUX", os.path.abspath(a.vmlinux)),
           ("NCPUS", str(ncpus)), ("MEM_MB", str(a.mem)),
           ("TEXT_GUEST", "0x%x" % text_guest), ("STEXT_GUEST", "0x%x" % hexval(g["_stext"], "_stext")),
           ("TEXT_VMLINUX", "0x%x" % text_vmlinux), ("KERNEL_CODE", "0x%x" % kernel_code),
           ("KERNELOFFSET", "0x%x" % ko), ("PHYS_BASE", str(pb)),
           ("PHYS_BASE_HEX", "0x%x" % (pb & 0xffffffffffffffff)),
           ("KASLR", "1" if a.kaslr else "0"), ("FW_CFG", g["fw_cfg"]),
           ("VMCOREINFO_NOTE", "1" if has_note else "0")]
    if g.get("paging_levels") in ("4", "5"):     # guests of older lab inits do not say
        out.append(("PAGING_LEVELS", g["paging_levels"]))
    if has_note:
        for path, vmci in notes.items():
            if vmci.get("OSRELEASE") != g["release"]:
                raise TruthError("%s: note OSRELEASE %r != guest %r"
                                 % (path, vmci.get("OSRELEASE"), g["release"]))
            try:
                nko = int(vmci["KERNELOFFSET"], 16)
                npb = int(vmci["NUMBER(phys_base)"], 10)
            except (KeyError, ValueError) as exc:
                raise TruthError("%s: VMCOREINFO note lacks a usable %s" % (path, exc))
            if (nko, npb) != (ko, pb):
                raise TruthError("%s: VMCOREINFO note says KERNELOFFSET=0x%x phys_base=%d, "
                                 "guest truth is 0x%x %d" % (path, nko, npb, ko, pb))
        out += [("NOTE_KERNELOFFSET", "0x%x" % nko), ("NOTE_PHYS_BASE", str(npb))]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--guest", required=True)
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--kver", required=True)
    ap.add_argument("--kaslr", type=int, choices=(0, 1), required=True)
    ap.add_argument("--vmcoreinfo", type=int, choices=(0, 1), default=0)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--out", required=True)
    ap.add_argument("dumps", nargs="+")
    a = ap.parse_args()
    try:
        out = compute(a)
    except (OSError, TruthError, elfnotes.ElfError) as exc:
        print("truth: error: %s" % exc, file=sys.stderr)
        return 1
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write("# Ground truth of this lab boot (tests/lab/truth.py); shell-sourceable.\n")
        for k, v in out:
            f.write("%s=%s\n" % (k, shlex.quote(v)))
    os.rename(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
