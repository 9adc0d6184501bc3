#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Bad input, real crash: every case ends in a clear one-line error (or a
right answer where one still exists), an unchanged session, and a next crash
command that still works.

Derived dumps are made from the lab's novmci boots into build/e2e/bad/
(sparse copies; removed at the end).
"""
import os
import random
import re
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Session, report, right_opts, read_truth  # noqa: E402

WORK = os.path.join(e2e.OUT, "bad")
QEMU_STATE_SIZE = 440
CR3_OFF = 416


def notes_segment(path):
    """(file offset, size) of the PT_NOTE segment of an ELF64 core."""
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _, p_offset, _, _, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
            if p_type == 4:
                return p_offset, p_filesz
    raise RuntimeError("%s: no PT_NOTE" % path)


def qemu_note_descs(path):
    """File offsets of every "QEMU" note descriptor."""
    off, size = notes_segment(path)
    with open(path, "rb") as f:
        f.seek(off)
        buf = f.read(size)
    res, pos = [], 0
    while pos + 12 <= len(buf):
        namesz, descsz, _ = struct.unpack_from("<III", buf, pos)
        name = buf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
        dpos = pos + 12 + ((namesz + 3) & ~3)
        if name == b"QEMU":
            res.append(off + dpos)
        pos = dpos + ((descsz + 3) & ~3)
    return res


def sparse_copy(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)


def patch_cr3(path, value_fn):
    descs = qemu_note_descs(path)
    with open(path, "r+b") as f:
        for i, d in enumerate(descs):
            f.seek(d + CR3_OFF)
            f.write(struct.pack("<Q", value_fn(i)))
    return len(descs)


def one_line_error(text):
    """The command's own lines: exactly one, and it starts with 'kaslr: '."""
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return len(lines) == 1 and lines[0].startswith("kaslr: "), lines


def check_unchanged(name, s, before_idx, after_idx):
    a, b = s.get(before_idx).strip(), s.get(after_idx).strip()
    report(a == b and a != "", name + "/session-unchanged", "before %r after %r" % (a[:80], b[:80]))


def main():
    try:
        dirs = e2e.boot_dirs()
    except OSError as e:
        report(False, "bad/lab", str(e))
        return 1
    novmci = [d for d in dirs if d.rstrip("/").endswith("novmci")]
    if len(novmci) < 2:
        report(False, "bad/lab", "need novmci boots of two kernels, have %s" % novmci)
        return 1
    os.makedirs(WORK, exist_ok=True)
    rnd = random.Random(int(os.environ.get("KASLR_TEST_SEED", "0")) or None)
    truths = [read_truth(d) for d in novmci]
    for d, t in zip(novmci, truths):
        kv = t["RELEASE"]
        src = os.path.join(d, "idle.elf")
        state = ["sym _stext", "help -m | grep -E 'phys_base|flags:'"]

        # 1. Truncated dump: a clear line, or the right answer from what is left.
        trunc = os.path.join(WORK, "trunc.elf")
        with open(src, "rb") as fi, open(trunc, "wb") as fo:
            fo.write(fi.read(os.path.getsize(src) // 3))
        s = Session(t["VMLINUX"], trunc, ["--minimal"], state + ["kaslr -r"] + state)
        if s.prompt:
            ok, lines = one_line_error(s.get(2))
            right = "relocated to KERNELOFFSET %x" % t["ko"] in s.get(2)
            report(ok or right, "bad/truncated/%s" % kv, "output %s" % lines[:3])
            if not right:
                check_unchanged("bad/truncated/%s" % kv, s, 0, 3)
        else:
            report(True, "bad/truncated/%s" % kv)
            e2e.info("crash itself refuses the truncated dump: %s" % s.why())

        # 2. Register notes: CR3 zeroed, random, outside memory.  kaslr must fall back to
        # memory and still give the truth (the in-RAM vmcoreinfo is there).
        for case, fn in (("cr3-zero", lambda i: 0),
                         ("cr3-random", lambda i: rnd.getrandbits(64)),
                         ("cr3-outside", lambda i: 0x7ff000000000 + i * 0x1000)):
            p = os.path.join(WORK, case + ".elf")
            sparse_copy(src, p)
            patch_cr3(p, fn)
            s = Session(t["VMLINUX"], p, ["--minimal"], state + ["kaslr", "kaslr -m pagetable"] + state)
            got = e2e.parse_result(s.get(2))
            report(got == (t["ko"], t["pb"]), "bad/%s/fallback/%s" % (case, kv),
                   "got %s: %s" % (got, s.get(2).strip()[-200:]))
            ok, lines = one_line_error(s.get(3))
            report(ok, "bad/%s/pagetable-only-error/%s" % (case, kv), "output %s" % lines[:3])
            check_unchanged("bad/%s/%s" % (case, kv), s, 0, 4)
            os.unlink(p)

        # 3. Page-table loop: every CPU's CR3 points at a page whose entries point at itself.
        p = os.path.join(WORK, "loop.elf")
        sparse_copy(src, p)
        loop_pa = 0x1000
        off, _ = notes_segment(p)
        with open(p, "r+b") as f:
            # PT_LOADs: find the file offset of physical page loop_pa.
            eh = open(src, "rb").read(64)
            phoff, = struct.unpack_from("<Q", eh, 32)
            phentsize, phnum = struct.unpack_from("<HH", eh, 54)
            foff = None
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                p_type, _, p_offset, _, p_paddr, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
                if p_type == 1 and p_paddr <= loop_pa < p_paddr + p_filesz:
                    foff = p_offset + loop_pa - p_paddr
            f.seek(foff)
            f.write(struct.pack("<Q", loop_pa | 0x63) * 512)
        patch_cr3(p, lambda i: loop_pa)
        s = Session(t["VMLINUX"], p, ["--minimal"], state + ["kaslr -m pagetable", "kaslr"] + state)
        ok, lines = one_line_error(s.get(2))
        report(s.prompt and ok, "bad/pagetable-loop/error/%s" % kv, "output %s / %s" % (lines[:3], s.why()))
        report(e2e.parse_result(s.get(3)) == (t["ko"], t["pb"]), "bad/pagetable-loop/fallback/%s" % kv,
               s.get(3).strip()[-200:])
        check_unchanged("bad/pagetable-loop/%s" % kv, s, 0, 4)
        os.unlink(p)

        # 4. Already right: nothing to do, nothing changed.
        s = Session(t["VMLINUX"], src, right_opts(t) + ["--minimal"], state + ["kaslr -r"] + state)
        report("nothing to do" in s.get(2), "bad/already-right/%s" % kv, s.get(2).strip()[:200])
        check_unchanged("bad/already-right/%s" % kv, s, 0, 3)

        # 5. Unknown option and bad manual values.
        s = Session(t["VMLINUX"], src, ["--minimal"], state + ["kaslr -z", "kaslr -r 1234567 0", "kaslr -r zz"] + state)
        report("Usage:" in s.get(2), "bad/unknown-option/%s" % kv, s.get(2)[:200])
        for i, c in ((3, "manual-unaligned"), (4, "manual-garbage")):
            ok, lines = one_line_error(s.get(i))
            report(ok, "bad/%s/%s" % (c, kv), "output %s" % lines[:3])
        check_unchanged("bad/manual/%s" % kv, s, 0, 5)

        # 6. A wrong 5-level guess (crash reads __pgtable_l5_enabled through the wrong
        # offset; --machdep vm=5level makes the same state): after kaslr -r the paging
        # geometry equals a session started with the right values.
        dump = os.path.join(d, "panic-nonotes.elf")
        ref_opts = right_opts(t) + ([] if e2e.kernel_supported_full(t) else ["--minimal"])
        ref = Session(t["VMLINUX"], dump, ref_opts, ["help -m"], extend=False)
        s = Session(t["VMLINUX"], dump, ["--minimal", "--machdep", "vm=5level"],
                    ["help -m | grep -c VM_5LEVEL", "kaslr -r", "help -m"])
        name = "bad/wrong-5level/%s" % kv
        if not (ref.prompt and s.prompt):
            report(False, name, "no prompt: %s / %s" % (ref.why(), s.why()))
        else:
            geo = lambda text: dict(m.groups() for m in re.finditer(
                r"^\s*(userspace_top|page_offset|vmalloc_start_addr|vmalloc_end|modules_vaddr|"
                r"modules_end|vmemmap_vaddr|vmemmap_end|physical_mask_shift|pgdir_shift|"
                r"ptrs_per_pgd): (\S+)", text, re.M))
            want, got = geo(ref.get(0)), geo(s.get(2))
            diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            report(s.get(0).strip() == "1" and len(want) >= 10 and not diff and "VM_5LEVEL" not in s.get(2),
                   name, "started 5-level: %s; differs: %s" % (s.get(0).strip(),
                   ", ".join("%s %s/%s" % (k, got.get(k), want.get(k)) for k in diff) or "-"))

    # 7. Wrong vmlinux: each kernel's vmlinux with the other kernel's dump.
    for (d, t), (d2, t2) in ((list(zip(novmci, truths))[0], list(zip(novmci, truths))[1]),
                             (list(zip(novmci, truths))[1], list(zip(novmci, truths))[0])):
        dump = os.path.join(d2, "idle.elf")
        name = "bad/wrong-vmlinux/%s-on-%s" % (t["RELEASE"], t2["RELEASE"])
        s = Session(t["VMLINUX"], dump, ["--minimal"], ["sym _stext", "kaslr", "kaslr -r", "sym _stext"])
        if not s.prompt:
            report(True, name)
            e2e.info("%s: crash itself refuses: %s" % (name, s.why()))
            continue
        ok, lines = one_line_error(s.get(1))
        report(ok and "does not match" in s.get(1), name, "output %s" % lines[:3])
        ok, lines = one_line_error(s.get(2))
        report(ok, name + "/repair-refused", "output %s" % lines[:3])
        check_unchanged(name, s, 0, 3)

    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
