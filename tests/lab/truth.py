#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Compute and check the ground truth of one lab boot; write truth.env.

    truth.py [--arch amd64|arm64] --guest guest.env [--serial serial.log]
             --vmlinux VMLINUX --kver KVER --kaslr 0|1
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

arm64 (--arch arm64, compute_arm64): the guest also prints the kernel's own
vmcoreinfo, read from the note of its /proc/kcore ("LAB: kcore: " lines of
serial.log, saved as kcore-vmcoreinfo.txt next to --out), and:

    KERNELOFFSET   = _text(/proc/kallsyms) - _text(vmlinux)
    KIMAGE_VOFFSET = S(guest) - "Kernel code" start (/proc/iomem), where S
                     (KERNEL_CODE_SYM) is the symbol the resource starts at:
                     _stext in 6.1, _text in 6.12.  The resource ends at
                     __pa_symbol(__init_begin) - 1 in both, so S is the one of
                     the two whose distance to __init_begin in the vmlinux is
                     the resource's size; neither is an error.
    TEXT_PHYS      = TEXT_GUEST - KIMAGE_VOFFSET (where _text is in RAM)
    PHYS_OFFSET, VA_BITS, KERNELPACMASK, PAGESIZE  from the kcore vmcoreinfo
                     (memstart_addr is not in kallsyms)

Checks, besides those above that apply (no QEMU notes on arm64): the boot
log said "KASLR enabled" when --kaslr 1; the kcore vmcoreinfo's OSRELEASE,
KERNELOFFSET and NUMBER(kimage_voffset) equal the kallsyms/iomem values;
a dump's VMCOREINFO note equals the kcore one (every key but CRASHTIME),
so NOTE_KERNELOFFSET, NOTE_KIMAGE_VOFFSET and NOTE_PHYS_OFFSET equal the truth.
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


def read_guest(a, keys):
    """guest.env of the boot: every key of @keys printed, the modules loaded, the kernel expected."""
    g = read_env(a.guest)
    missing = [k for k in keys if not g.get(k)]
    if missing:
        raise TruthError("guest did not print %s (see serial.log)" % ", ".join(missing))
    if g.get("insmod_failed"):
        raise TruthError("the guest could not insmod %s (see serial.log)" % g["insmod_failed"])
    if g["release"] != a.kver:
        raise TruthError("guest runs %s, expected %s" % (g["release"], a.kver))
    return g


def note_presence(notes, a, g):
    """Whether the dumps carry a VMCOREINFO note: all or none of them, and as -device vmcoreinfo says."""
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
    return has_note

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
    g = read_guest(a, GUEST_KEYS)
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
    has_note = note_presence(notes, a, g)

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


U64 = (1 << 64) - 1


def kcore_vmcoreinfo(serial):
    """The "LAB: kcore: " lines the guest printed before READY, as text.

    @raises TruthError when the guest printed no complete block
    """
    with open(serial, encoding="utf-8", errors="replace") as f:
        log = f.read().replace("\r", "")
    ready = log.find("LAB: READY")
    if ready < 0:
        raise TruthError("%s: no LAB: READY" % serial)
    head = log[:ready]
    begin, end = head.find("LAB: kcore_begin"), head.find("LAB: kcore_end")
    if begin < 0 or end < begin:
        raise TruthError("%s: the guest printed no kcore vmcoreinfo block" % serial)
    lines = [l.split("LAB: kcore: ", 1)[1].strip() for l in head[begin:end].splitlines()
             if "LAB: kcore: " in l]
    return "".join(l + "\n" for l in lines)


def parse_num(vmci, key, base, where):
    """Integer value of @key in vmcoreinfo dict @vmci (hex with or without 0x if @base is 16)."""
    try:
        v = vmci[key]
        return int(v, 16) if base == 16 else int(v, 10)
    except (KeyError, ValueError):
        raise TruthError("%s: no usable %s (%r)" % (where, key, vmci.get(key)))


def arm64_values(vmci, where):
    """(KERNELOFFSET, kimage_voffset, PHYS_OFFSET) of arm64 vmcoreinfo dict @vmci.

    arch/arm64/kernel/crash_core.c (vmcoreinfo.c since 6.9) writes
    NUMBER(kimage_voffset) and NUMBER(PHYS_OFFSET) as 0x-hex, KERNELOFFSET as
    bare hex (kernel/crash_core.c).
    """
    return (parse_num(vmci, "KERNELOFFSET", 16, where),
            parse_num(vmci, "NUMBER(kimage_voffset)", 16, where),
            parse_num(vmci, "NUMBER(PHYS_OFFSET)", 16, where))


def compute_arm64(a):
    """truth.env of an arm64 boot; see the module comment."""
    # arm64's /proc/kallsyms starts at _stext (it has no _text): "_text" may be empty.
    g = read_guest(a, tuple(k for k in GUEST_KEYS if k != "_text") + ("kernel_code_end", "kaslr_enabled"))
    if a.kaslr and g["kaslr_enabled"] == "0":
        raise TruthError("the boot log does not say \"KASLR enabled\" (no kaslr-seed? see serial.log)")
    stext_guest = hexval(g["_stext"], "_stext")
    kernel_code = hexval(g["kernel_code"], "kernel_code")
    kernel_code_end = hexval(g["kernel_code_end"], "kernel_code_end")
    if stext_guest == 0 or kernel_code == 0:
        raise TruthError("guest shows zeroed addresses (kptr_restrict or not root?)")
    text_vmlinux = elfnotes.symbol_value(a.vmlinux, "_text")
    stext_vmlinux = elfnotes.symbol_value(a.vmlinux, "_stext")
    # The image moves as one piece: _text is _stext less their link-time distance.
    text_guest = stext_guest - (stext_vmlinux - text_vmlinux)
    if g.get("_text") and hexval(g["_text"], "_text") != text_guest:
        raise TruthError("_stext - _text is 0x%x in the guest, 0x%x in the vmlinux (wrong vmlinux?)"
                         % (stext_guest - hexval(g["_text"], "_text"), stext_vmlinux - text_vmlinux))
    ko = text_guest - text_vmlinux
    init_vmlinux = elfnotes.symbol_value(a.vmlinux, "__init_begin")
    size = kernel_code_end + 1 - kernel_code
    starts = [(sym, v) for sym, v in (("_stext", stext_vmlinux), ("_text", text_vmlinux))
              if init_vmlinux - v == size]
    if not starts:
        raise TruthError("\"Kernel code\" is 0x%x bytes: neither _stext..__init_begin (0x%x) nor "
                         "_text..__init_begin (0x%x) of the vmlinux" % (
                             size, init_vmlinux - stext_vmlinux, init_vmlinux - text_vmlinux))
    code_sym, code_vmlinux = starts[0]
    kvo = (code_vmlinux + ko - kernel_code) & U64
    if ko < 0 or ko & 0xfff:
        raise TruthError("implausible KERNELOFFSET 0x%x (wrong vmlinux?)" % ko)
    if a.kaslr and not ko:
        raise TruthError("KASLR enabled but KERNELOFFSET is 0")
    if not a.kaslr and ko:
        raise TruthError("booted with nokaslr but KERNELOFFSET is 0x%x" % ko)

    text = kcore_vmcoreinfo(a.serial)
    kcore = elfnotes.parse_vmcoreinfo(text)
    where = "the guest's /proc/kcore vmcoreinfo"
    if kcore.get("OSRELEASE") != g["release"]:
        raise TruthError("%s: OSRELEASE %r != uname -r %r" % (where, kcore.get("OSRELEASE"), g["release"]))
    kko, kkvo, phys_offset = arm64_values(kcore, where)
    if (kko, kkvo) != (ko, kvo):
        raise TruthError("%s says KERNELOFFSET=0x%x kimage_voffset=0x%x; kallsyms and iomem say "
                         "0x%x 0x%x" % (where, kko, kkvo, ko, kvo))
    va_bits = parse_num(kcore, "NUMBER(VA_BITS)", 10, where)
    pagesize = parse_num(kcore, "PAGESIZE", 10, where)
    pacmask = kcore.get("NUMBER(KERNELPACMASK)")
    ncpus = int(g["ncpus"])

    notes = {}
    for d in a.dumps:
        if d.endswith(".elf"):
            with elfnotes.Elf(d) as e:
                core = sum(1 for n, t, _ in e.all_notes() if n == "CORE" and t == elfnotes.NT_PRSTATUS)
            if core != ncpus:
                raise TruthError("%s: %d CORE/NT_PRSTATUS notes for %d CPUs" % (d, core, ncpus))
            t = elfnotes.vmcoreinfo_text(d)
            notes[d] = elfnotes.parse_vmcoreinfo(t) if t is not None else None
        else:
            check_kdump(d)
    has_note = note_presence(notes, a, g)

    out = [("ARCH", "arm64"), ("KVER", a.kver), ("RELEASE", g["release"]),
           ("VMLINUX", os.path.abspath(a.vmlinux)), ("NCPUS", str(ncpus)), ("MEM_MB", str(a.mem)),
           ("TEXT_GUEST", "0x%x" % text_guest), ("STEXT_GUEST", "0x%x" % stext_guest),
           ("TEXT_VMLINUX", "0x%x" % text_vmlinux), ("STEXT_VMLINUX", "0x%x" % stext_vmlinux),
           ("KERNEL_CODE", "0x%x" % kernel_code), ("KERNEL_CODE_END", "0x%x" % kernel_code_end),
           ("KERNEL_CODE_SYM", code_sym),
           ("KERNELOFFSET", "0x%x" % ko), ("KIMAGE_VOFFSET", "0x%x" % kvo),
           ("TEXT_PHYS", "0x%x" % ((text_guest - kvo) & U64)),
           ("PHYS_OFFSET", "0x%x" % phys_offset), ("VA_BITS", str(va_bits)),
           ("KERNELPACMASK", pacmask if pacmask else ""), ("PAGESIZE", str(pagesize)),
           ("KASLR", "1" if a.kaslr else "0"), ("FW_CFG", g["fw_cfg"]),
           ("VMCOREINFO_NOTE", "1" if has_note else "0")]
    if has_note:
        for path, vmci in notes.items():
            if vmci.get("OSRELEASE") != g["release"]:
                raise TruthError("%s: note OSRELEASE %r != guest %r"
                                 % (path, vmci.get("OSRELEASE"), g["release"]))
            nko, nkvo, npo = arm64_values(vmci, path + ": VMCOREINFO note")
            # The note QEMU found is the kernel's one vmcoreinfo, as /proc/kcore
            # shows it (CRASHTIME aside: a crash kernel adds it).
            diff = sorted(k for k in set(kcore) | set(vmci)
                          if k != "CRASHTIME" and kcore.get(k) != vmci.get(k))
            if diff:
                raise TruthError("%s: VMCOREINFO note and the guest's /proc/kcore vmcoreinfo differ in %s"
                                 % (path, ", ".join(diff[:5])))
            if (nko, nkvo, npo) != (ko, kvo, phys_offset):
                raise TruthError("%s: VMCOREINFO note says KERNELOFFSET=0x%x kimage_voffset=0x%x "
                                 "PHYS_OFFSET=0x%x, guest truth is 0x%x 0x%x 0x%x"
                                 % (path, nko, nkvo, npo, ko, kvo, phys_offset))
        out += [("NOTE_KERNELOFFSET", "0x%x" % nko), ("NOTE_KIMAGE_VOFFSET", "0x%x" % nkvo),
                ("NOTE_PHYS_OFFSET", "0x%x" % npo)]
    with open(os.path.join(os.path.dirname(os.path.abspath(a.out)), "kcore-vmcoreinfo.txt"), "w") as f:
        f.write(text)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=("amd64", "arm64"), default="amd64")
    ap.add_argument("--serial", help="serial.log (arm64: the kcore vmcoreinfo lines)")
    ap.add_argument("--guest", required=True)
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--kver", required=True)
    ap.add_argument("--kaslr", type=int, choices=(0, 1), required=True)
    ap.add_argument("--vmcoreinfo", type=int, choices=(0, 1), default=0)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--out", required=True)
    ap.add_argument("dumps", nargs="+")
    a = ap.parse_args()
    if a.arch == "arm64" and not a.serial:
        ap.error("--arch arm64 needs --serial")
    try:
        out = compute_arm64(a) if a.arch == "arm64" else compute(a)
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
