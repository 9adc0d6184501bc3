#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""The kernel's own vmcoreinfo of a lab boot, read without kaslr.so, and checked.

Usage: vmci_reference.py DIR TWIN OUT

DIR is a boot directory of the lab, TWIN the vmci boot of the same kernel (may be
DIR itself).  Writes the text of the kernel's own vmcoreinfo of DIR/idle.elf to OUT
and prints "N keys: how it was checked"; exits 1 with the reason on stderr when a
check fails.  This is the independent reference tests/e2e/vmcoreinfo.sh compares
the module's output with:

 - a vmci boot: the dump's VMCOREINFO note; the page the kernel's vmcoreinfo_data
   points to in RAM, read with truth.env's values (elfnotes.ram_vmcoreinfo), must
   hold the same text - that proves the RAM reader on the boots that have a note;
 - a novmci boot: that RAM page, read the same way;
 - either: KERNELOFFSET, NUMBER(phys_base), OSRELEASE and NUMBER(pgtable_l5_enabled)
   equal truth.env's KERNELOFFSET, PHYS_BASE, RELEASE and PAGING_LEVELS;
 - a novmci boot against the twin's note: the same keys in the same order; a
   kernel-image address (SYMBOL in the 1 GiB window above __START_KERNEL_map)
   moved by the difference of the two boots' offsets; the direct-map, vmalloc and
   vmemmap bases, random per boot (CONFIG_RANDOMIZE_MEMORY), kernel addresses;
   NUMBER(MAX_PHYSMEM_BITS) and LENGTH(mem_section) those of the boot's paging
   mode; every other value equal.
Stdlib only.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import elfnotes  # noqa: E402
import lab  # noqa: E402

IMAGE = (elfnotes.START_KERNEL_MAP, elfnotes.START_KERNEL_MAP + (1 << 30))  # KERNEL_IMAGE_SIZE, 1 GiB
# MAX_PHYSMEM_BITS by paging levels: arch/x86/include/asm/sparsemem.h (5-level since 4.14).
MAX_PHYSMEM_BITS = {4: 46, 5: 52}
# Bases KASLR places anew on every boot (arch/x86/mm/kaslr.c, 4.8+).
RANDOM = ("SYMBOL(mem_section)", "SYMBOL(vmemmap)", "NUMBER(VMALLOC_START)")


class Mismatch(Exception):
    pass


def keys(text):
    res = []
    for line in text.splitlines():
        if line:
            k, _, v = line.partition("=")
            res.append((k, v))
    return res


def levels(t):
    return int(t.get("PAGING_LEVELS") or 4)


def reference(d, twin):
    """(text, how) of the kernel's own vmcoreinfo of boot @d; Mismatch when a check fails."""
    t = lab.read_truth(d)
    dump = os.path.join(d, "idle.elf")
    try:
        ram = elfnotes.ram_vmcoreinfo(dump, t["VMLINUX"], t["ko"], t["pb"])
    except elfnotes.ElfError as e:
        raise Mismatch("cannot read the kernel's vmcoreinfo from RAM with the truth: %s" % e)
    note = elfnotes.vmcoreinfo_text(dump)
    if t.get("VMCOREINFO_NOTE") == "1":
        if not note:
            raise Mismatch("truth.env says VMCOREINFO_NOTE=1, idle.elf has no note")
        note = note.split("\0", 1)[0]
        if keys(note) != keys(ram):
            diff = sorted(set(keys(note)) ^ set(keys(ram)))[:3]
            raise Mismatch("the note and the RAM copy read with the truth differ: %s" % diff)
        text, how = note, "the dump's note, equal to the RAM copy read with the truth"
    else:
        if note:
            raise Mismatch("truth.env says VMCOREINFO_NOTE=0, idle.elf has a note")
        text, how = ram, "the RAM copy read with the truth"
    got = dict(keys(text))
    want = {"KERNELOFFSET": "%x" % t["ko"], "NUMBER(phys_base)": str(t["pb"]), "OSRELEASE": t["RELEASE"],
            "NUMBER(pgtable_l5_enabled)": "1" if levels(t) == 5 else "0"}
    bad = ["%s=%s, truth.env says %s" % (k, got.get(k), v) for k, v in want.items() if got.get(k) != v]
    if bad:
        raise Mismatch("; ".join(bad))
    if os.path.realpath(twin) == os.path.realpath(d):
        return text, how + ", agreeing with truth.env"
    tt = lab.read_truth(twin)
    tnote = (elfnotes.vmcoreinfo_text(os.path.join(twin, "idle.elf")) or "").split("\0", 1)[0]
    if not tnote:
        raise Mismatch("the twin vmci boot %s has no note" % twin)
    tk = keys(tnote)
    if [k for k, _ in tk] != [k for k, _ in keys(text)]:
        raise Mismatch("keys differ from the twin vmci boot's note: %s" % sorted(set(dict(tk)) ^ set(got))[:5])
    for k, v in tk:
        if k in want:
            continue
        if k in RANDOM:
            exp, ok = "a kernel address", int(got[k], 16) >= 0xff00000000000000
        elif k == "NUMBER(MAX_PHYSMEM_BITS)":
            exp = str(MAX_PHYSMEM_BITS[levels(t)])
            ok = got[k] == exp
        elif k == "LENGTH(mem_section)":
            exp = str(int(v) << (MAX_PHYSMEM_BITS[levels(t)] - MAX_PHYSMEM_BITS[levels(tt)]))
            ok = got[k] == exp
        elif k.startswith("SYMBOL(") and IMAGE[0] <= int(v, 16) < IMAGE[1]:
            exp = "%x" % (int(v, 16) - tt["ko"] + t["ko"])
            ok = got[k] == exp
        else:
            exp, ok = v, got[k] == v
        if not ok:
            bad.append("%s=%s, want %s" % (k, got[k], exp))
    if bad:
        raise Mismatch("against the twin vmci boot's note: " + "; ".join(bad[:4]))
    return text, how + ", agreeing with truth.env and the twin vmci boot's note"


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: vmci_reference.py DIR TWIN OUT\n")
        return 2
    try:
        text, how = reference(argv[0], argv[1])
    except (Mismatch, OSError, KeyError, ValueError) as e:
        sys.stderr.write("%s\n" % e)
        return 1
    with open(argv[2], "w") as f:
        f.write(text)
    print("%d keys: %s" % (len(keys(text)), how))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
