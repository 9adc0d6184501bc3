#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Bad input, real crash: every case ends in a clear one-line error (or a
right answer where one still exists), an unchanged session, and a next crash
command that still works.

Derived dumps are made from the lab's novmci boots into build/e2e/bad/
(sparse copies; removed at the end).  Cases, per novmci boot (and one
wrong-vmlinux pair per kernel):
  truncated              idle.elf cut 2 MiB past the kernel image's end
  truncated-before-kernel idle.elf cut 2 MiB before the kernel image
                         "kaslr -r": the right answer, or one "kaslr: " line and
                         an unchanged session.  When crash cannot open the cut
                         file at all, kaslr-find on it must give the truth or
                         refuse (exit 1, no values) - never another answer.
  cr3-zero, cr3-random, cr3-outside  every CPU's CR3 spoiled: "kaslr" still
                         gives the truth (from memory), "-m pagetable" one line
  pagetable-loop         CR3 at a page whose entries point at itself
  already-right          started right: "kaslr -r" has nothing to do
  manual                 an unknown option, bad manual values: one line each
  wrong-5level           started 5-level on a 4-level boot: after "kaslr -r"
                         the paging geometry equals a right start's
  wrong-vmlinux          the other kernel's vmlinux: refused in one line that
                         names the dump's kernel and the vmlinux (release and
                         build-id, as readelf reads them) and the Debian -dbg
                         package, session unchanged; when crash cannot open the pair itself,
                         kaslr-find must refuse it (exit 1, not verified)
Every start but crash's own (truncated-*, wrong-vmlinux: crash's own start is
the point there) is one crash survives on any boot (e2e.wrong_start or the
right values), so no case depends on where KASLR placed the kernel.  A
session that reached crash's prompt and then died, hung or exited non-zero
fails every check that reads it, naming the command that was running.
The run fails unless every case ran for every boot (KASLR_BAD_ONLY=regex
selects cases by name for runs by hand: that run then fails its count).
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
from e2e import Session, build_id, right_opts, read_truth, wrong_start  # noqa: E402

sys.path.insert(0, os.path.join(e2e.ROOT, "tests", "lab"))
import elfnotes  # noqa: E402

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


def check(ok, name, why="", *sessions):
    """One check; it fails if a session it reads reached crash's prompt and then broke."""
    for s in sessions:
        if s.broken():
            ok, why = False, s.broken()
            break
    e2e.report(ok, name, why)


def check_unchanged(name, s, before_idx, after_idx):
    a, b = s.get(before_idx).strip(), s.get(after_idx).strip()
    check(a == b and a != "", name + "/session-unchanged", "before %r after %r" % (a[:80], b[:80]), s)


def file_offset(path, paddr):
    """File offset of physical address @paddr in an ELF dump, or None."""
    with elfnotes.Elf(path) as e:
        for p in e.phdrs:
            if p[0] == elfnotes.PT_LOAD and p[4] <= paddr < p[4] + p[5]:
                return p[2] + paddr - p[4]
    return None


def cut_copy(src, dst, size):
    """The first @size bytes of @src as @dst (sparse)."""
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)
    os.truncate(dst, size)


STATE = ["sym _stext", "help -m | grep -E 'phys_base|flags:'"]


def case_truncated(kv, d, t, before):
    """A dump cut short: 2 MiB past the kernel image's end, or 2 MiB before its start."""
    name = "bad/%s/%s" % ("truncated-before-kernel" if before else "truncated", kv)
    src = os.path.join(d, "idle.elf")
    code = int(t["KERNEL_CODE"], 16)
    image = elfnotes.symbol_value(t["VMLINUX"], "_end") - elfnotes.symbol_value(t["VMLINUX"], "_text")
    cut = file_offset(src, code - (2 << 20) if before else code + image + (2 << 20))
    if cut is None:
        check(False, name, "no file offset for the cut in %s (KERNEL_CODE %#x)" % (src, code))
        return
    trunc = os.path.join(WORK, "trunc.elf")
    cut_copy(src, trunc, cut)
    s = Session(t["VMLINUX"], trunc, ["--minimal"] + wrong_start(t), STATE + ["kaslr -r"] + STATE)
    if s.reached:
        ok, lines = one_line_error(s.get(2))
        right = "relocated to KERNELOFFSET %x" % t["ko"] in s.get(2)
        check(ok or right, name, "output %s" % lines[:3], s)
        if not right:
            check_unchanged(name, s, 0, 3)
    else:
        # crash cannot open the cut file even from a start it survives on whole dumps:
        # kaslr-find must give the truth or refuse it, never another answer.
        rc, j, err = e2e.find(t["VMLINUX"], trunc)
        got = j and (j.get("kernel_offset"), j.get("phys_base"))
        refused = rc == 1 and j is not None and j.get("verified") is False and got == (None, None)
        check((rc == 0 and got == (t["ko"], t["pb"])) or refused, name,
              "crash cannot open it (%s); kaslr-find exit %s, got %s, want (%d, %d) or a refusal: %s"
              % (s.why(), rc, got, t["ko"], t["pb"], err))
        e2e.info("%s: crash cannot open the cut file (%s); kaslr-find exit %s" % (name, s.why(), rc))
    os.unlink(trunc)


def case_cr3(kv, d, t, case, fn):
    """Register notes spoiled: kaslr must fall back to memory and still give the truth."""
    p = os.path.join(WORK, case + ".elf")
    sparse_copy(os.path.join(d, "idle.elf"), p)
    patch_cr3(p, fn)
    s = Session(t["VMLINUX"], p, ["--minimal"] + wrong_start(t), STATE + ["kaslr", "kaslr -m pagetable"] + STATE)
    got = e2e.parse_result(s.get(2))
    check(got == (t["ko"], t["pb"]), "bad/%s/fallback/%s" % (case, kv),
          "got %s: %s" % (got, s.get(2).strip()[-200:]), s)
    ok, lines = one_line_error(s.get(3))
    check(ok, "bad/%s/pagetable-only-error/%s" % (case, kv), "output %s" % lines[:3], s)
    check_unchanged("bad/%s/%s" % (case, kv), s, 0, 4)
    os.unlink(p)


def case_loop(kv, d, t):
    """Every CPU's CR3 points at a page whose entries point at itself."""
    src = os.path.join(d, "idle.elf")
    p = os.path.join(WORK, "loop.elf")
    sparse_copy(src, p)
    loop_pa = 0x1000
    foff = file_offset(p, loop_pa)
    with open(p, "r+b") as f:
        f.seek(foff)
        f.write(struct.pack("<Q", loop_pa | 0x63) * 512)
    patch_cr3(p, lambda i: loop_pa)
    s = Session(t["VMLINUX"], p, ["--minimal"] + wrong_start(t), STATE + ["kaslr -m pagetable", "kaslr"] + STATE)
    ok, lines = one_line_error(s.get(2))
    check(s.reached and ok, "bad/pagetable-loop/error/%s" % kv, "output %s / %s" % (lines[:3], s.why()), s)
    check(e2e.parse_result(s.get(3)) == (t["ko"], t["pb"]), "bad/pagetable-loop/fallback/%s" % kv,
          s.get(3).strip()[-200:], s)
    check_unchanged("bad/pagetable-loop/%s" % kv, s, 0, 4)
    os.unlink(p)


def case_already_right(kv, d, t):
    """Started with the right values: nothing to do, nothing changed."""
    s = Session(t["VMLINUX"], os.path.join(d, "idle.elf"), right_opts(t) + ["--minimal"],
                STATE + ["kaslr -r"] + STATE)
    check("nothing to do" in s.get(2), "bad/already-right/%s" % kv, s.get(2).strip()[:200] or s.why(), s)
    check_unchanged("bad/already-right/%s" % kv, s, 0, 3)


def case_manual(kv, d, t):
    """An unknown option and bad manual values."""
    s = Session(t["VMLINUX"], os.path.join(d, "idle.elf"), ["--minimal"] + wrong_start(t),
                STATE + ["kaslr -z", "kaslr -r 1234567 0", "kaslr -r zz"] + STATE)
    check("Usage:" in s.get(2), "bad/unknown-option/%s" % kv, s.get(2)[:200] or s.why(), s)
    for i, c in ((3, "manual-unaligned"), (4, "manual-garbage")):
        ok, lines = one_line_error(s.get(i))
        check(ok, "bad/%s/%s" % (c, kv), "output %s" % lines[:3], s)
    check_unchanged("bad/manual/%s" % kv, s, 0, 5)


GEOMETRY = re.compile(r"^\s*(userspace_top|page_offset|vmalloc_start_addr|vmalloc_end|modules_vaddr|"
                      r"modules_end|vmemmap_vaddr|vmemmap_end|physical_mask_shift|pgdir_shift|"
                      r"ptrs_per_pgd): (\S+)", re.M)


def case_wrong_5level(kv, d, t):
    """A wrong 5-level guess (crash reads __pgtable_l5_enabled through a wrong offset;
    --machdep vm=5level makes the same state): after "kaslr -r" the paging geometry
    equals that of a session started with the right values.  The start is e2e.wrong_start:
    every kernel-image read lands on its right bytes, so crash survives it on any boot."""
    name = "bad/wrong-5level/%s" % kv
    dump = os.path.join(d, "panic-nonotes.elf")
    ref_opts = right_opts(t) + ([] if e2e.full_session(t, dump)[0] else ["--minimal"])
    ref = Session(t["VMLINUX"], dump, ref_opts, ["help -m"], extend=False)
    s = Session(t["VMLINUX"], dump, ["--minimal"] + wrong_start(t) + ["--machdep", "vm=5level"],
                ["help -m | grep -c VM_5LEVEL", "kaslr -r", "help -m"])
    if not (ref.reached and s.reached):
        check(False, name, "no prompt: reference %s / wrong start %s" % (ref.why(), s.why()))
        return
    want, got = dict(GEOMETRY.findall(ref.get(0))), dict(GEOMETRY.findall(s.get(2)))
    diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    check(s.get(0).strip() == "1" and len(want) >= 10 and not diff and "VM_5LEVEL" not in s.get(2),
          name, "started 5-level: %s; differs: %s" % (s.get(0).strip(),
          ", ".join("%s %s/%s" % (k, got.get(k), want.get(k)) for k in diff) or "-"), s, ref)


def case_wrong_vmlinux(t, d2, t2):
    """The vmlinux of @t with the dump of @d2 (another kernel): refused, session unchanged."""
    dump = os.path.join(d2, "idle.elf")
    name = "bad/wrong-vmlinux/%s-on-%s" % (t["RELEASE"], t2["RELEASE"])
    s = Session(t["VMLINUX"], dump, ["--minimal"], ["sym _stext", "kaslr", "kaslr -r", "sym _stext"])
    if not s.reached:
        # crash refuses the pair by itself: kaslr-find must refuse it too.
        rc, j, err = e2e.find(t["VMLINUX"], dump)
        check(rc == 1 and j is not None and j.get("verified") is False, name,
              "crash refuses the pair (%s); kaslr-find exit %s, verified %s: %s"
              % (s.why(), rc, j and j.get("verified"), err))
        e2e.info("%s: crash itself refuses: %s; kaslr-find refuses too" % (name, s.why()))
        return
    # What the user reads: the dump's kernel and the vmlinux, each release with its
    # build-id (readelf on each kernel's own vmlinux), and the package to get.
    ok, lines = one_line_error(s.get(1))
    words = ["the dump holds Linux %s (build-id %s)" % (t2["RELEASE"], build_id(t2["VMLINUX"])),
             "the vmlinux is %s (build-id %s)" % (t["RELEASE"], build_id(t["VMLINUX"])),
             "linux-image-%s-dbg" % t2["RELEASE"]]
    missing = [w for w in words if w not in s.get(1)]
    check(ok and not missing, name, "output %s, missing %s" % (lines[:3], missing), s)
    ok, lines = one_line_error(s.get(2))
    check(ok, name + "/repair-refused", "output %s" % lines[:3], s)
    check_unchanged(name, s, 0, 3)


def cases(rnd):
    """(case name, function of (kv, dir, truth)) run on every novmci boot."""
    res = [("truncated", lambda kv, d, t: case_truncated(kv, d, t, False)),
           ("truncated-before-kernel", lambda kv, d, t: case_truncated(kv, d, t, True))]
    for case, fn in (("cr3-zero", lambda i: 0),
                     ("cr3-random", lambda i: rnd.getrandbits(64)),
                     ("cr3-outside", lambda i: 0x7ff000000000 + i * 0x1000)):
        res.append((case, lambda kv, d, t, case=case, fn=fn: case_cr3(kv, d, t, case, fn)))
    res += [("pagetable-loop", case_loop), ("already-right", case_already_right), ("manual", case_manual),
            ("wrong-5level", case_wrong_5level)]
    return res


def run_case(case, fn, *args):
    try:
        fn(*args)
        return 1
    except Exception as e:      # a case that cannot run is a failure, never a skip
        e2e.report(False, "bad/%s" % case, "%s: %s" % (type(e).__name__, e))
        return 0


def main():
    try:
        dirs = e2e.boot_dirs()
    except (OSError, e2e.LabError) as e:
        e2e.report(False, "bad/lab", str(e))
        return 1
    novmci = [d for d in dirs if os.path.basename(d.rstrip("/")) == "novmci"]
    if not novmci:
        e2e.report(False, "bad/lab", "no novmci boot in %s" % dirs)
        return 1
    os.makedirs(WORK, exist_ok=True)
    rnd = random.Random(int(os.environ.get("KASLR_TEST_SEED", "0")) or None)
    only = os.environ.get("KASLR_BAD_ONLY")
    sel = lambda case: not only or re.search(only, case)
    truths = [read_truth(d) for d in novmci]
    want = ran = 0
    for d, t in zip(novmci, truths):
        for case, fn in cases(rnd):
            want += 1
            if sel(case):
                ran += run_case(case, fn, t["RELEASE"], d, t)

    # Wrong vmlinux: each kernel's vmlinux with the next kernel's dump.
    pairs = [(truths[i], novmci[(i + 1) % len(novmci)], truths[(i + 1) % len(novmci)])
             for i in range(len(novmci))] if len(novmci) > 1 else []
    if len(novmci) < 2:
        e2e.report(False, "bad/wrong-vmlinux", "needs novmci boots of two kernels, the lab has %s" % novmci)
    for t, d2, t2 in pairs:
        want += 1
        if sel("wrong-vmlinux"):
            ran += run_case("wrong-vmlinux", case_wrong_vmlinux, t, d2, t2)

    e2e.info("bad: %d of %d cases" % (ran, want))
    e2e.report(ran == want, "bad/count", "ran %d of the lab's %d cases%s" % (
        ran, want, " (KASLR_BAD_ONLY=%s: a partial run)" % only if only else ""))
    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
