#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""kaslr-find --output-dump, --in-place and --restore on the lab's real dumps (issue 16).

A dump that kaslr-find has given the verified vmcoreinfo must open with no
options in crash, drgn and makedumpfile, and the writer must never lose the
dump: every check compares with truth.env or with the dump as it was, never
with what kaslr-find says about its own output.

  fix        (case 1) every shape of the novmci boot of every kernel (panic.elf,
             panic-nonotes.elf, panic.kdump, panic-nonotes.kdump): "kaslr-find -O"
             writes a copy whose note says the truth's KERNELOFFSET and RELEASE
             (kdump: and phys_base in the sub-header), whose allocated blocks
             are within 10% of the input's and whose size grew a little; the
             crash releases of PLAN open it with NO option: "sym _text" is
             TEXT_GUEST, "sys" says RELEASE, "bt" shows frames on a dump with
             registers.  Where a crash cannot initialise the kernel at all
             (e2e.full_session asks it: Linux 7.2), its --minimal session must
             place _text and linux_banner right.
  drgn       (case 3) drgn 0.3.0 on the fixed ELF dumps, with no --vmcoreinfo:
             linux_banner and init_task.comm equal the bytes where truth.env
             places them (tests/e2e/drgn.py)
  makedumpfile (case 4) "makedumpfile -d 31 -c" (the system's) on every fixed
             panic.elf succeeds; drgn reads its output as above on every kernel,
             crash 8.0.2 (no option) on bookworm's
  altered    (case 2) bookworm's vmci panic.elf with its VMCOREINFO note lying
             (KERNELOFFSET and every kernel-image SYMBOL() moved by 32 MiB, same
             length): crash 8.0.2 comes up wrong or not at all (the premise);
             "-O" and "--in-place" replace the note by the truth's, "--restore"
             gives the lying file back; with the written note made to lie again,
             a second "--in-place" is refused (the undo record is there)
  inplace    (cases 5, 6, 7) on a sparse copy of bookworm's novmci panic.elf and
             panic-nonotes.kdump: --in-place then --restore gives the sha1 back;
             the changed file keeps its allocated size within 10%, and crash
             opens it with no option; a second --in-place finds the note right
             and changes nothing, one on a read-only (0444) file is refused, the
             file unchanged.  Then kaslr-find is killed (strace's syscall
             injection, SIGKILL) before each write-like system call of
             --in-place and of --restore in turn: each time the
             dump must read as before or as after (kaslr-find gives the truth,
             every PT_LOAD's bytes, or the kdump's headers and pages, are
             unchanged, the notes are the old ones or the old ones and the new
             VMCOREINFO), and --restore, where the undo record exists, must give
             the original sha1 back.
  refuse     (case 7) --in-place on a flattened kdump; -O over an existing file
             without --force (refused, the file unchanged) and with it
             (replaced); -O into a full 8 MiB tmpfs: non-zero exit, no file left;
             --in-place on a tmpfs with room for the dump and 300 KiB: non-zero
             exit, the file byte for byte as it was, no undo record.
  count      (case 8) the run fails unless it ran every case the lab holds
             (tests/lib/lab.py, and bullseye, which it provisions like
             versions.py).  A dump that cannot be had is a FAIL, never a skip.

strace's "when=N" counts each system call of an injection set on its own, so
the kill before the i-th write-like call of a run is injected into that call's
name at its own invocation number, and the killed run's trace is checked to
end there ("fixdump/kill/.../injected").

Output: "PASS: name" / "FAIL: name: why" lines (tests/run.sh counts them).
Environment: KASLR_FIND, KASLR_E2E_JOBS, KASLR_CRASH_TIMEOUT, KASLR_FIXDUMP_ONLY
(regex over job names, for runs by hand; that run fails its count).
"""
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "lab"))
import e2e  # noqa: E402
from e2e import ROOT, Session, full_session, info, report, tail  # noqa: E402
import drgn as drgn_e2e  # noqa: E402  (tests/e2e/drgn.py, not the drgn package)
import elfnotes  # noqa: E402
import lab  # noqa: E402

TIMEOUT = int(os.environ.get("KASLR_CRASH_TIMEOUT", "600"))
SHAPES = ("panic.elf", "panic-nonotes.elf", "panic.kdump", "panic-nonotes.kdump")
# The suites of case 1: the lab's, and bullseye (5.10, crash 7.2.9), provisioned as versions.py does.
SUITES = list(lab.SUITES) + [s for s in ("bullseye",) if s not in lab.SUITES]
# Which crash releases open which fixed shape, per suite.  One release per kernel for
# most shapes; every release on 5.10's panic-nonotes.elf; 8.0.6 and 9.0.2 share 6.12.
# On a kernel a release cannot initialise (e2e.full_session) its session is --minimal.
ALL = ("7.2.9", "8.0.2", "8.0.6", "9.0.2")
PLAN = {
    "bullseye": {"panic.elf": ("7.2.9",), "panic-nonotes.elf": ALL, "panic.kdump": ("7.2.9",),
                 "panic-nonotes.kdump": ("7.2.9",)},
    "bookworm": {s: ("8.0.2",) for s in SHAPES},
    "trixie": {"panic.elf": ("8.0.6",), "panic-nonotes.elf": ("9.0.2",), "panic.kdump": ("9.0.2",),
               "panic-nonotes.kdump": ("8.0.6",)},
    "sid": {s: ("9.0.2",) for s in SHAPES},
}
DEFAULT_PLAN = {s: ("9.0.2",) for s in SHAPES}  # a suite added to the lab later
# panic.kdump: QEMU's kdump file, which drgn (libkdumpfile) opens only once its header's
# utsname is filled in (sysname, release, version: QEMU writes only the machine).
DRGN_SHAPES = ("panic.elf", "panic-nonotes.elf", "panic.kdump")
UTSNAME = 12        # disk_dump_header.utsname: 6 fields of 65 bytes
MAKEDUMPFILE_SHAPE = "panic.elf"
# The boot and kernel of the cases on one dump (2, 5, 6, 7): crash 8.0.2's.
ONE_SUITE = "bookworm"
SHIFT = 32 << 20                  # how far the altered note moves the kernel
GROWTH_MAX = 4 << 20              # "a little": what a fix may add to a dump's size
WRITES = ("pwrite64", "write", "ftruncate", "fsync", "fdatasync", "copy_file_range")
FOOT_MAGIC = b"KASLRFIX"          # the undo record's footer, the last 32 bytes (core/dump_fix.c)
KDUMP_SIG = b"KDUMP   "
ZERO = memoryview(bytes(1 << 20))


# ---------------------------------------------------------------------------
# Files: hashes that read only the data of a sparse file, notes, kdump headers.

def feed(h, fd, start, end):
    """Hash bytes [@start, @end) of @fd into @h; holes are hashed as zeros, never read."""
    pos = start
    while pos < end:
        try:
            data = min(os.lseek(fd, pos, os.SEEK_DATA), end)
        except OSError:             # ENXIO: no data after pos
            data = end
        while pos < data:
            n = min(len(ZERO), data - pos)
            h.update(ZERO[:n])
            pos += n
        if pos >= end:
            break
        hole = min(os.lseek(fd, pos, os.SEEK_HOLE), end)
        while pos < hole:
            b = os.pread(fd, min(4 << 20, hole - pos), pos)
            if not b:
                raise OSError("%d: short read at %d" % (fd, pos))
            h.update(b)
            pos += len(b)


def sha1(path, end=None):
    """sha1 of @path (of its first @end bytes)."""
    h = hashlib.sha1()
    fd = os.open(path, os.O_RDONLY)
    try:
        feed(h, fd, 0, os.fstat(fd).st_size if end is None else end)
    finally:
        os.close(fd)
    return h.hexdigest()


def cp_sparse(src, dst):
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)


def is_kdump(path):
    with open(path, "rb") as f:
        return f.read(8) == KDUMP_SIG


def walk_notes(buf):
    """[(name, raw record)] of a note stream."""
    res, pos = [], 0
    while pos + 12 <= len(buf):
        namesz, descsz, _ = struct.unpack_from("<III", buf, pos)
        end = pos + 12 + (-(-namesz // 4) * 4) + (-(-descsz // 4) * 4)
        if end > len(buf):
            raise ValueError("a note at 0x%x runs past its segment" % pos)
        res.append((buf[pos + 12:pos + 12 + namesz].rstrip(b"\0").decode("latin-1"), buf[pos:end]))
        pos = end
    return res


def kdump_sub(path):
    """(block_size, the sub-header's first 64 bytes) of a plain kdump-compressed file."""
    with open(path, "rb") as f:
        h = f.read(464)
        if h[:8] != KDUMP_SIG:
            raise ValueError("%s: not a plain kdump-compressed file" % path)
        bs, = struct.unpack_from("<I", h, 428)
        f.seek(bs)
        return bs, f.read(64)


def notes_of(path):
    """The notes a reader takes: the first program header's PT_NOTE (crash's netdump.c) of
    an ELF dump, the note area of a kdump file (its sub-header's offset_note/size_note)."""
    if is_kdump(path):
        _, sub = kdump_sub(path)
        off, size = struct.unpack_from("<QQ", sub, 48)
        with open(path, "rb") as f:
            f.seek(off)
            return walk_notes(f.read(size)) if size else []
    with elfnotes.Elf(path) as e:
        if not e.phdrs or e.phdrs[0][0] != elfnotes.PT_NOTE:
            return []
        return walk_notes(e.read(e.phdrs[0][2], e.phdrs[0][5]))


def note_text(raw):
    return elfnotes.note_desc(raw).rstrip(b"\0").decode("latin-1")


def vmcoreinfo_of(path):
    """{KEY: value} of the dump's VMCOREINFO note (kdump: the text offset_vmcoreinfo points to),
    and how many VMCOREINFO notes it has."""
    notes = notes_of(path)
    vm = [r for n, r in notes if n == "VMCOREINFO"]
    if is_kdump(path):
        _, sub = kdump_sub(path)
        off, size = struct.unpack_from("<QQ", sub, 32)
        with open(path, "rb") as f:
            f.seek(off)
            text = f.read(size).rstrip(b"\0").decode("latin-1") if size else ""
    else:
        text = note_text(vm[0]) if vm else ""
    return elfnotes.parse_vmcoreinfo(text), len(vm)


def note_says_truth(path, t, kind):
    """(ok, why): the written note names the truth (and a kdump's sub-header its phys_base)."""
    v, n = vmcoreinfo_of(path)
    got = (v.get("KERNELOFFSET"), v.get("OSRELEASE"), n)
    want = ("%x" % t["ko"], t["RELEASE"], 1)
    if kind == "kdump":
        pb, = struct.unpack_from("<q", kdump_sub(path)[1], 0)
        got, want = got + (pb,), want + (t["pb"],)
    return got == want, "(KERNELOFFSET, OSRELEASE, VMCOREINFO notes%s) %s, want %s" % (
        ", sub-header phys_base" if kind == "kdump" else "", got, want)


def elf_memory(path):
    """What the guest's memory reads as: [(paddr, memsz, sha1 of the file bytes)] per PT_LOAD."""
    res = []
    with elfnotes.Elf(path) as e:
        segs = [p for p in e.phdrs if p[0] == elfnotes.PT_LOAD]
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        for p in segs:
            h = hashlib.sha1()
            if p[2] + p[5] > size:
                raise ValueError("%s: PT_LOAD at paddr 0x%x runs past the end" % (path, p[4]))
            feed(h, fd, p[2], p[2] + p[5])
            res.append((p[4], p[6], p[5], h.hexdigest()))
    finally:
        os.close(fd)
    return sorted(res)


def kdump_pages(path, size):
    """A kdump file's headers, bitmaps, page descriptors and pages: the sha1 of its first
    @size bytes (the size it had) with the header's utsname (filled in where QEMU left it
    empty) and the sub-header's first 64 bytes (the only bytes --in-place rewrites there)
    left out."""
    bs, _ = kdump_sub(path)
    h = hashlib.sha1()
    fd = os.open(path, os.O_RDONLY)
    try:
        feed(h, fd, 0, UTSNAME)
        feed(h, fd, UTSNAME + 6 * 65, bs)
        feed(h, fd, bs + 64, size)
    finally:
        os.close(fd)
    return h.hexdigest()


def blocks(path):
    return os.stat(path).st_blocks


def sparse_ok(out, inp, flat_input=False):
    """(ok, why): @out keeps @inp's allocation (within 10%) and its size grew a little."""
    bo, bi = blocks(out), blocks(inp)
    so, si = os.path.getsize(out), os.path.getsize(inp)
    ok = abs(bo - bi) <= bi // 10 and (flat_input or 0 <= so - si <= GROWTH_MAX)
    return ok, "allocated %d KiB (input %d KiB), size %d (input %d%s)" % (
        bo // 2, bi // 2, so, si, ", a flattened stream" if flat_input else "")


# ---------------------------------------------------------------------------
# Tools

def run(argv, timeout=TIMEOUT):
    rc, out, err, to = e2e.run_killable(argv, "", timeout)
    return ("timeout" if to else rc), out, err


def find_answer(t, path):
    return e2e.find_exact(t["VMLINUX"], path, t)


def crash_checks(res, name, ver, crash, t, path, regs, orig):
    """One crash session of release @ver on @path with no option: _text, RELEASE, bt."""
    full, why = full_session(t, orig, crash)
    tag = "crash-%s" % ver
    if full:
        s = Session(t["VMLINUX"], path, [], ["sym _text", "sys", "bt"], extend=False, crash=crash, timeout=TIMEOUT)
    else:
        info("%s: crash %s cannot initialise %s (\"%s\"): its --minimal session" % (name, ver, t["RELEASE"], why))
        tag += "-minimal"
        s = Session(t["VMLINUX"], path, ["--minimal"], ["sym _text", "rd -a linux_banner"], extend=False,
                    crash=crash, timeout=TIMEOUT)

    def R(ok, check, why):
        if s.broken() or not s.reached:
            ok, why = False, "no prompt: " + said(s) if not s.reached else s.broken()
        res.append((bool(ok), "fixdump/%s/%s/%s" % (tag, check, name), why))

    m = re.match(r"\s*([0-9a-f]+) ", s.get(0))
    R(m and int(m.group(1), 16) == int(t["TEXT_GUEST"], 16), "text",
      "sym _text: %r, want %s" % (tail(s.get(0)), t["TEXT_GUEST"]))
    if full:
        rel = re.search(r"^\s*RELEASE: (\S+)", s.get(1), re.M)
        R(rel and rel.group(1) == t["RELEASE"], "release", "sys: %r, want %s" % (
            rel and rel.group(0).strip() or tail(s.get(1)), t["RELEASE"]))
        if regs:
            frames = re.findall(r"^\s*#\d+ \[[0-9a-f]+\] \S+ at [0-9a-f]+", s.get(2), re.M)
            R(len(frames) >= 2, "bt", "%d frames: %s" % (len(frames), tail(s.get(2), 2)))
    else:
        R("Linux version %s " % t["RELEASE"] in s.get(1), "banner", tail(s.get(1)))
    info("%s: crash %s %.0f s" % (name, ver, s.seconds))


def said(s):
    """What crash said when it reached no prompt: its first "crash:" line, else the tail."""
    m = re.search(r"^crash: .*$", s.stdout + "\n" + s.stderr, re.M)
    return m.group(0) if m else s.why()


def drgn_checks(res, name, drgn, t, path, orig_elf, tmp):
    """drgn with no --vmcoreinfo reads linux_banner and init_task.comm where truth.env has them."""
    rc, out, err = run([drgn, "-c", path, "-s", t["VMLINUX"], os.path.join(tmp, "read.py")])
    got = dict(re.findall(r"^([A-Z_]+)=(.*)$", out, re.M))
    if rc != 0 or set(got) != {"BANNER", "COMM", "COMM_OFFSET", "INIT_TASK"}:
        why = "drgn exit %s: %s" % (rc, tail(err + out, 3))
        res += [(False, "fixdump/drgn/banner/" + name, why), (False, "fixdump/drgn/comm/" + name, why)]
        return
    import ast
    banner, comm = ast.literal_eval(got["BANNER"]), ast.literal_eval(got["COMM"])
    _, ref = drgn_e2e.at_truth(orig_elf, t, "linux_banner", 0, len(banner.encode()) + 1)
    ok = banner == drgn_e2e.cstring(ref) and ("Linux version %s " % t["RELEASE"]) in banner
    res.append((ok, "fixdump/drgn/banner/" + name, "drgn %r, at the truth %r" % (banner[:80], drgn_e2e.cstring(ref)[:80])))
    addr, ref = drgn_e2e.at_truth(orig_elf, t, "init_task", int(got["COMM_OFFSET"]), 16)
    ok = comm != "" and comm == drgn_e2e.cstring(ref) and int(got["INIT_TASK"], 16) == addr
    res.append((ok, "fixdump/drgn/comm/" + name, "drgn %r at %s, at the truth %r at 0x%x" % (
        comm, got["INIT_TASK"], drgn_e2e.cstring(ref), addr)))


# ---------------------------------------------------------------------------
# Case 1 (with 3 and 4): a fixed copy of one shape of one novmci boot

def job_fix(env, suite, d, shape):
    t = lab.read_truth(d)
    orig = os.path.join(d, shape)
    name = "/".join(orig.split(os.sep)[-3:])
    kind = "kdump" if shape.endswith(".kdump") else "elf"
    regs = "-nonotes" not in shape
    tmp = tempfile.mkdtemp(prefix="fix.", dir=env["tmp"])
    res = []
    try:
        out = os.path.join(tmp, shape)
        rc, _, err = run([e2e.FIND, "-O", out, t["VMLINUX"], orig])
        ok = rc == 0 and os.path.isfile(out) and ("wrote %s:" % out) in err
        res.append((ok, "fixdump/write/" + name, "kaslr-find -O exit %s: %s" % (rc, tail(err, 2))))
        if not ok:
            return res
        ok, why = note_says_truth(out, t, kind)
        res.append((ok, "fixdump/note/" + name, why))
        flat = kind == "kdump" and not is_kdump(orig)
        ok, why = sparse_ok(out, orig, flat)
        res.append((ok, "fixdump/sparse/" + name, why))
        for ver in PLAN.get(suite, DEFAULT_PLAN)[shape]:
            crash_checks(res, name, ver, env["crash"][ver], t, out, regs, orig)
        if shape in DRGN_SHAPES:
            # The reference bytes come from an ELF dump of the same paused guest.
            ref = orig if kind == "elf" else os.path.join(d, shape.replace(".kdump", ".elf"))
            drgn_checks(res, name, env["drgn"], t, out, ref, env["tmp"])
        if shape == MAKEDUMPFILE_SHAPE:
            kd = os.path.join(tmp, "makedumpfile.kdump")
            rc, mout, merr = run(["makedumpfile", "-d", "31", "-c", out, kd])
            ok = rc == 0 and os.path.isfile(kd)
            res.append((ok, "fixdump/makedumpfile/" + name, "makedumpfile -d 31 -c exit %s: %s" % (
                rc, tail(merr + mout, 3))))
            if ok:
                if "not supported" in merr + mout:
                    info("%s: makedumpfile %s" % (name, " | ".join(
                        l.strip() for l in (merr + mout).splitlines() if "not supported" in l)))
                os.unlink(out)      # one dump of this size at a time per job
                mname = name + "+makedumpfile"
                if suite == ONE_SUITE:   # crash once (sessions are the cost), drgn on every kernel
                    crash_checks(res, mname, "8.0.2", env["crash"]["8.0.2"], t, kd, regs, orig)
                drgn_checks(res, mname, env["drgn"], t, kd, orig, env["tmp"])
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Case 2: a note that lies

def alter_vmcoreinfo(path):
    """Move KERNELOFFSET and every kernel-image SYMBOL() of @path's VMCOREINFO note by
    SHIFT (up, or down where up would change the number's length), in place, the text
    keeping its length so that the file's layout holds.  @returns (old, new) KERNELOFFSET."""
    with elfnotes.Elf(path, writable=True) as e:
        for i in e.note_segments():
            off = e.phdrs[i][2]
            buf = e.read(off, e.phdrs[i][5])
            pos = 0
            while pos + 12 <= len(buf):
                namesz, descsz, _ = struct.unpack_from("<III", buf, pos)
                desc_at = pos + 12 + (-(-namesz // 4) * 4)
                if buf[pos + 12:pos + 12 + namesz].rstrip(b"\0") == b"VMCOREINFO":
                    text = buf[desc_at:desc_at + descsz].decode("latin-1")
                    ko = int(re.search(r"^KERNELOFFSET=([0-9a-f]+)$", text, re.M).group(1), 16)
                    delta = next(dl for dl in (SHIFT, -SHIFT)
                                 if ko + dl >= 0 and len("%x" % (ko + dl)) == len("%x" % ko))

                    def sym(m):
                        v = int(m.group(2), 16)
                        v += delta if v >= elfnotes.START_KERNEL_MAP else 0
                        return "%s%0*x" % (m.group(1), len(m.group(2)), v)
                    new = re.sub(r"^(SYMBOL\([^)]*\)=)([0-9a-f]+)$", sym, text, flags=re.M)
                    new = re.sub(r"^KERNELOFFSET=[0-9a-f]+$", "KERNELOFFSET=%x" % (ko + delta), new, flags=re.M)
                    if len(new) != len(text):
                        raise ValueError("the altered note changed its length")
                    e.f.seek(off + desc_at)
                    e.f.write(new.encode("latin-1"))
                    return ko, ko + delta
                pos = desc_at + (-(-descsz // 4) * 4)
    raise ValueError("%s has no VMCOREINFO note" % path)


def job_altered(env):
    d = lab.boot_dirs([ONE_SUITE], ("vmci",))[0]
    t = lab.read_truth(d)
    name = "/".join(d.split(os.sep)[-2:]) + "/panic.elf+altered-note"
    crash = env["crash"]["8.0.2"]
    tmp = tempfile.mkdtemp(prefix="alt.", dir=env["tmp"])
    res = []
    try:
        alt = os.path.join(tmp, "altered.elf")
        cp_sparse(os.path.join(d, "panic.elf"), alt)
        old, new = alter_vmcoreinfo(alt)
        ok = old == t["ko"] and vmcoreinfo_of(alt)[0].get("KERNELOFFSET") == "%x" % new
        res.append((ok, "fixdump/altered/premise-note/" + name, "the kernel's note said KERNELOFFSET %x "
                    "(truth %x); the altered one %s" % (old, t["ko"], vmcoreinfo_of(alt)[0].get("KERNELOFFSET"))))
        # Baseline: crash 8.0.2 believes the note, and comes up wrong or not at all.
        s = Session(t["VMLINUX"], alt, [], ["sym _text", "sys"], extend=False, crash=crash, timeout=TIMEOUT)
        m = re.match(r"\s*([0-9a-f]+) ", s.get(0))
        rel = re.search(r"^\s*RELEASE: (\S+)", s.get(1), re.M)
        right = s.clean and m and int(m.group(1), 16) == int(t["TEXT_GUEST"], 16) and rel and \
            rel.group(1) == t["RELEASE"]
        res.append((not right, "fixdump/altered/premise-crash-8.0.2/" + name,
                    "crash 8.0.2 opened the dump with the lying note right: nothing to fix"))
        info("%s: crash 8.0.2 on the lying note: %s" % (
            name, "no prompt: " + said(s) if not s.reached else "_text %s (truth %s), RELEASE %s" % (
                m and m.group(1), t["TEXT_GUEST"], rel and rel.group(1))))
        alt_sha = sha1(alt)
        out = os.path.join(tmp, "fixed.elf")
        rc, _, err = run([e2e.FIND, "-O", out, t["VMLINUX"], alt])
        ok = rc == 0 and "replaced" in err
        res.append((ok, "fixdump/altered/write/" + name, "kaslr-find -O exit %s: %s" % (rc, tail(err, 2))))
        if ok:
            ok, why = note_says_truth(out, t, "elf")
            res.append((ok, "fixdump/altered/note/" + name, why))
            crash_checks(res, name, "8.0.2", crash, t, out, True, os.path.join(d, "panic.elf"))
            os.unlink(out)
        # In place: the lying note replaced, the undo gives the lying file back.
        rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], alt])
        ok = rc == 0 and "replaced" in err
        res.append((ok, "fixdump/altered/in-place/" + name, "kaslr-find --in-place exit %s: %s" % (rc, tail(err, 2))))
        if ok:
            ok, why = note_says_truth(alt, t, "elf")
            res.append((ok, "fixdump/altered/in-place-note/" + name, why))
            ok, why = find_answer(t, alt)
            res.append((ok, "fixdump/altered/in-place-answer/" + name, why))
            # The note it wrote made to lie again: a second --in-place must leave the changed
            # file alone until --restore (the undo record is there), and --restore still
            # gives the first file back.
            alter_vmcoreinfo(alt)
            lied = sha1(alt)
            rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], alt])
            res.append((rc not in (0, "timeout") and "already changed" in err and sha1(alt) == lied,
                        "fixdump/refuse/twice/" + name, "exit %s: %s" % (rc, tail(err))))
        rc, _, err = run([e2e.FIND, "--restore", alt])
        got = sha1(alt)
        res.append((rc == 0 and got == alt_sha, "fixdump/altered/restore/" + name,
                    "--restore exit %s, sha1 %s, want %s: %s" % (rc, got, alt_sha, tail(err))))
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# Cases 5, 6, 7 on one ELF and one kdump file

class State:
    """What a dump reads as, taken from the original and from one --in-place run."""

    def __init__(self, t, orig, kind):
        self.t, self.orig, self.kind = t, orig, kind
        self.size = os.path.getsize(orig)
        self.sha = sha1(orig)
        self.notes = [r for _, r in notes_of(orig)]
        self.kept = [r for n, r in notes_of(orig) if n != "VMCOREINFO"]
        self.memory = self.read_memory(orig)
        self.sub = kdump_sub(orig)[1] if kind == "kdump" else None
        self.sub_after = None

    def read_memory(self, path):
        return elf_memory(path) if self.kind == "elf" else kdump_pages(path, self.size)

    def check(self, path):
        """(ok, why): @path reads as the original or as the original with the fix."""
        bad = []
        ok, why = find_answer(self.t, path)
        if not ok:
            bad.append(why)
        if self.read_memory(path) != self.memory:
            bad.append("the guest's memory (%s) changed" % (
                "PT_LOAD bytes" if self.kind == "elf" else "headers, bitmaps, descriptors or pages"))
        try:
            notes = notes_of(path)
        except (ValueError, OSError, elfnotes.ElfError) as e:
            return False, "unreadable", "; ".join(bad + ["its notes cannot be read: %s" % e])
        raws = [r for _, r in notes]
        if raws == self.notes:
            state = "before"
        elif (raws[:-1] == self.kept and notes and notes[-1][0] == "VMCOREINFO" and
              elfnotes.parse_vmcoreinfo(note_text(raws[-1])).get("KERNELOFFSET") == "%x" % self.t["ko"]):
            state = "after"
        else:
            state = "neither"
            bad.append("the notes are neither the old ones nor the old ones and the truth's VMCOREINFO "
                       "(%s)" % [n for n, _ in notes])
        if self.kind == "kdump":
            sub = kdump_sub(path)[1]
            if sub != self.sub and sub != self.sub_after:
                bad.append("the sub-header is neither the old one nor the new one")
        return not bad, state, "; ".join(bad) or state


def strace_calls(log):
    """(the write-like calls of a strace -o log in order, whether it ends killed by SIGKILL)."""
    with open(log, errors="replace") as f:
        text = f.read()
    calls = [m.group(1) for m in re.finditer(r"^\d+\s+(\w+)\(", text, re.M) if m.group(1) in WRITES]
    return calls, "+++ killed by SIGKILL +++" in text


def strace(log, argv, inject=None):
    cmd = ["strace", "-f", "-o", log, "-e", "trace=" + ",".join(WRITES)]
    if inject:
        cmd += ["-e", "inject=%s:signal=KILL:when=%d" % inject]
    return run(cmd + argv)


def has_record(path):
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 32))
        return f.read(8) == FOOT_MAGIC


def kill_points(res, st, work, tag, argv, prepare, tmp):
    """Kill @argv before each of its write-like system calls in turn, @work being the
    original (@prepare() sets it up for the run and returns None, or why it could not).
    Each time the file must read as before or as after, and --restore, where the undo
    record exists, must give the original back.  @returns the number of points."""
    log = os.path.join(tmp, "strace.log")
    why = prepare()
    rc, _, err = strace(log, argv)
    calls, _ = strace_calls(log)
    res.append((rc == 0 and calls and not why, "fixdump/kill/%s/count" % tag,
                "plain run exit %s, %d write-like calls: %s %s" % (rc, len(calls), why or "", tail(err))))
    run([e2e.FIND, "--restore", work])
    if sha1(work) != st.sha:
        cp_sparse(st.orig, work)
    outcomes = {}
    for i in range(1, len(calls) + 1):
        call = calls[i - 1]
        k = calls[:i].count(call)
        name = "fixdump/kill/%s/%d-%s" % (tag, i, call)
        why = prepare()
        if why:
            res.append((False, name, why))
            cp_sparse(st.orig, work)
            continue
        rc, _, err = strace(log, argv, (call, k))
        got, killed = strace_calls(log)
        ok = killed and rc == -9 and len(got) == i and got[-1] == call
        res.append((ok, name + "/injected", "exit %s, killed %s, the trace has %d write-like calls (%s), "
                    "want %d ending in %s" % (rc, killed, len(got), got[-1:] and got[-1], i, call)))
        ok, state, why = st.check(work)
        res.append((ok, name + "/reads", why))
        size = os.path.getsize(work)
        if has_record(work):
            rc, _, err = run([e2e.FIND, "--restore", work])
            now = sha1(work)
            res.append((rc == 0 and now == st.sha, name + "/restore",
                        "--restore exit %s, sha1 %s, want %s: %s" % (rc, now, st.sha, tail(err))))
            outcome = "%s, record, restored" % state
        else:
            # No undo record: the file must be the original, plus what was written past its end.
            now = sha1(work, st.size) if size >= st.size else "short"
            res.append((now == st.sha, name + "/unchanged",
                        "no undo record, and the first %d bytes changed (size %d)" % (st.size, size)))
            outcome = "%s, no record%s" % (state, ", %d bytes left past the end" % (size - st.size)
                                           if size > st.size else "")
            if size > st.size:
                os.truncate(work, st.size)   # the test's own clean-up: --restore has nothing to go by
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if now != st.sha:
            cp_sparse(st.orig, work)
    info("kill %s: %d points: %s" % (tag, len(calls), "; ".join("%d %s" % (n, o) for o, n in sorted(outcomes.items()))))
    return len(calls)


def job_inplace(env, shape):
    d = lab.boot_dirs([ONE_SUITE], ("novmci",))[0]
    t = lab.read_truth(d)
    orig = os.path.join(d, shape)
    kind = "kdump" if shape.endswith(".kdump") else "elf"
    name = "/".join(orig.split(os.sep)[-3:])
    tmp = tempfile.mkdtemp(prefix="inplace.", dir=env["tmp"])
    res = []
    try:
        st = State(t, orig, kind)
        work = os.path.join(tmp, shape)
        cp_sparse(orig, work)
        res.append((sha1(work) == st.sha, "fixdump/inplace/copy/" + name, "cp --sparse=always changed the sha1"))
        # Case 7: a read-only file (root may write it; the mode says no).
        os.chmod(work, 0o444)
        rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], work])
        res.append((rc not in (0, "timeout") and "read-only" in err and sha1(work) == st.sha,
                    "fixdump/refuse/read-only/" + name, "exit %s, %s" % (rc, tail(err))))
        os.chmod(work, 0o644)
        # Case 5: in place, the allocation kept, crash opens it, then the undo.
        rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], work])
        ok = rc == 0 and "changed %s in place" % work in err and has_record(work)
        res.append((ok, "fixdump/inplace/change/" + name, "exit %s: %s" % (rc, tail(err, 3))))
        if ok:
            if kind == "kdump":
                st.sub_after = kdump_sub(work)[1]
            ok, why = sparse_ok(work, orig)
            res.append((ok, "fixdump/inplace/sparse/" + name, why))
            ok, state, why = st.check(work)
            res.append((ok and state == "after", "fixdump/inplace/reads/" + name, why))
            crash_checks(res, name + "+in-place", "8.0.2", env["crash"]["8.0.2"], t, work, "-nonotes" not in shape,
                         orig)
            if kind == "elf":
                # makedumpfile reads the program headers right after the ELF header only: in place
                # they must have moved there from behind QEMU's section headers.
                kd = os.path.join(tmp, "makedumpfile.kdump")
                rc, mout, merr = run(["makedumpfile", "-d", "31", "-c", work, kd])
                res.append((rc == 0 and os.path.isfile(kd), "fixdump/inplace/makedumpfile/" + name,
                            "makedumpfile -d 31 -c exit %s: %s" % (rc, tail(merr + mout, 3))))
                if os.path.exists(kd):
                    os.unlink(kd)
            # A second run finds the note it wrote, which agrees: nothing to change (or, were it
            # to disagree, the undo record refuses it: job_altered).  Either way, the file stays.
            changed = sha1(work)
            rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], work])
            noop = rc == 0 and "nothing to change" in err
            res.append(((noop or (rc not in (0, "timeout") and "already changed" in err)) and sha1(work) == changed,
                        "fixdump/inplace/twice/" + name, "exit %s, sha1 %s: %s" % (
                            rc, "kept" if sha1(work) == changed else "CHANGED", tail(err))))
        rc, _, err = run([e2e.FIND, "--restore", work])
        got = sha1(work)
        res.append((rc == 0 and got == st.sha and blocks(work) <= blocks(orig) * 11 // 10,
                    "fixdump/inplace/restore/" + name, "--restore exit %s, sha1 %s, want %s; %d blocks, input %d: "
                    "%s" % (rc, got, st.sha, blocks(work), blocks(orig), tail(err))))
        if got != st.sha:
            cp_sparse(orig, work)
        # Case 6 (the file is the original here, and after each point): killed before each write-like call of --in-place, then of --restore.
        fix = [e2e.FIND, "--in-place", t["VMLINUX"], work]

        def changed():
            rc, _, err = run(fix)
            return None if rc == 0 and has_record(work) else "--in-place exit %s: %s" % (rc, tail(err))
        n = kill_points(res, st, work, "in-place/" + name, fix, lambda: None, tmp)
        n += kill_points(res, st, work, "restore/" + name, [e2e.FIND, "--restore", work], changed, tmp)
        info("%s: %d kill points" % (name, n))
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def job_refuse(env):
    d = lab.boot_dirs([ONE_SUITE], ("novmci",))[0]
    t = lab.read_truth(d)
    name = "/".join(d.split(os.sep)[-2:])
    tmp = tempfile.mkdtemp(prefix="refuse.", dir=env["tmp"])
    res = []
    try:
        # A flattened kdump (QEMU writes them so) cannot be changed in place.
        flat = os.path.join(tmp, "panic.kdump")
        shutil.copyfile(os.path.join(d, "panic.kdump"), flat)
        want = sha1(flat)
        rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], flat])
        res.append((rc not in (0, "timeout") and "flattened" in err and sha1(flat) == want and not is_kdump(flat),
                    "fixdump/refuse/flattened/%s/panic.kdump" % name, "exit %s, %s" % (rc, tail(err))))
        os.unlink(flat)
        # -O over an existing file: refused, then replaced with --force; nothing else left.
        outdir = os.path.join(tmp, "out")
        os.mkdir(outdir)
        out = os.path.join(outdir, "fixed.elf")
        with open(out, "w") as f:
            f.write("not a dump\n")
        src = os.path.join(d, "panic.elf")
        rc, _, err = run([e2e.FIND, "-O", out, t["VMLINUX"], src])
        with open(out, "rb") as f:
            kept = f.read() == b"not a dump\n"
        res.append((rc not in (0, "timeout") and kept and os.listdir(outdir) == ["fixed.elf"],
                    "fixdump/refuse/exists/%s/panic.elf" % name, "exit %s, file kept %s, %s: %s" % (
                        rc, kept, os.listdir(outdir), tail(err))))
        rc, _, err = run([e2e.FIND, "-O", out, "--force", t["VMLINUX"], src])
        ok, why = note_says_truth(out, t, "elf") if os.path.getsize(out) > 4096 else (False, "not replaced")
        res.append((rc == 0 and ok and os.listdir(outdir) == ["fixed.elf"],
                    "fixdump/force/%s/panic.elf" % name, "exit %s, %s, %s: %s" % (rc, why, os.listdir(outdir),
                                                                                  tail(err))))
        os.unlink(out)
        # A full disk: a small tmpfs as OUT's directory.
        mnt = os.path.join(tmp, "tmpfs")
        os.mkdir(mnt)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], capture_output=True, text=True)
        if p.returncode != 0:
            res.append((False, "fixdump/refuse/full-disk/" + name, "mount -t tmpfs: %s" % tail(p.stderr)))
            return res
        try:
            for shape in ("panic.elf", "panic-nonotes.kdump"):
                out = os.path.join(mnt, shape)
                rc, _, err = run([e2e.FIND, "-O", out, t["VMLINUX"], os.path.join(d, shape)])
                left = os.listdir(mnt)
                res.append((rc not in (0, "timeout") and not left, "fixdump/refuse/full-disk/%s/%s" % (name, shape),
                            "exit %s, left %s: %s" % (rc, left, tail(err))))
                for f in left:
                    os.unlink(os.path.join(mnt, f))
        finally:
            subprocess.run(["umount", mnt], capture_output=True)
        # In place on a full disk: the room for the moved data runs out before the undo record
        # is written; the writer must cut the file back, so that not one byte differs.
        src = os.path.join(d, "panic.elf")
        size = os.stat(src).st_blocks * 512 + (300 << 10)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", mnt], capture_output=True,
                           text=True)
        if p.returncode != 0:
            res.append((False, "fixdump/refuse/full-disk-in-place/" + name, "mount -t tmpfs: %s" % tail(p.stderr)))
            return res
        try:
            work = os.path.join(mnt, "panic.elf")
            cp_sparse(src, work)
            before, n0 = sha1(work), os.path.getsize(work)
            rc, _, err = run([e2e.FIND, "--in-place", t["VMLINUX"], work])
            after, n1 = sha1(work), os.path.getsize(work)
            res.append((rc not in (0, "timeout") and after == before and n1 == n0 and not has_record(work),
                        "fixdump/refuse/full-disk-in-place/%s/panic.elf" % name,
                        "exit %s, size %d -> %d, sha1 %s: %s" % (rc, n0, n1, "same" if after == before else "CHANGED",
                                                                 tail(err))))
        finally:
            subprocess.run(["umount", mnt], capture_output=True)
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------

def sh(argv, name):
    """A provisioning step; its stdout, or None after a FAIL line."""
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, errors="replace")
    if p.returncode != 0:
        report(False, name, "%s: %s" % (" ".join(argv), tail(p.stderr + p.stdout)))
        return None
    return p.stdout


def main():
    t0 = time.time()
    # Provisioning (each step cached; a failure is a FAIL): crash releases, drgn, bullseye's dumps.
    out = sh(["bash", "tests/lab/crash-versions.sh"] + list(ALL), "fixdump/crash-binaries")
    if out is None:
        return 1
    crashes = {l.split()[0]: l.split()[1] for l in out.splitlines() if len(l.split()) == 3}
    missing = [v for v in ALL if v not in crashes]
    drgn = os.path.join(os.path.dirname(crashes.get(drgn_e2e.DRGN_RELEASE, "/")), "drgn")
    ok = not missing and os.access(drgn, os.X_OK) and os.access(e2e.FIND, os.X_OK) and shutil.which("strace") \
        and shutil.which("makedumpfile")
    report(ok, "fixdump/provision", "crash releases missing %s; drgn %s; %s; strace %s; makedumpfile %s" % (
        missing, drgn, e2e.FIND, shutil.which("strace"), shutil.which("makedumpfile")))
    if not ok or sh(["bash", "tests/lab/lab.sh", "dumps", "bullseye"], "fixdump/lab") is None:
        return 1
    try:
        dirs = [(s, d) for s in SUITES for d in lab.boot_dirs([s], ("novmci",))]
        for s in (ONE_SUITE,):
            for d in lab.boot_dirs([s], ("vmci", "novmci")):
                lab.dump_files(d)
        for _, d in dirs:
            lab.dump_files(d)
    except (OSError, lab.LabError) as e:
        report(False, "fixdump/lab", "the lab is incomplete (%s): run tests/lab/lab.sh dumps" % e)
        return 1
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    env = {"crash": crashes, "drgn": drgn,
           "tmp": tempfile.mkdtemp(prefix="fixdump.", dir=os.path.join(ROOT, "build"))}
    with open(os.path.join(env["tmp"], "read.py"), "w") as f:
        f.write(drgn_e2e.SCRIPT)
    info("provisioning: %.0f s" % (time.time() - t0))
    jobs = [("inplace/panic.elf", lambda: job_inplace(env, "panic.elf")),
            ("inplace/panic-nonotes.kdump", lambda: job_inplace(env, "panic-nonotes.kdump")),
            ("altered", lambda: job_altered(env)),
            ("refuse", lambda: job_refuse(env))]
    jobs += [("fix/%s/%s" % (s, shape), (lambda s=s, d=d, shape=shape: job_fix(env, s, d, shape)))
             for s, d in dirs for shape in SHAPES]
    want = len(jobs)
    only = os.environ.get("KASLR_FIXDUMP_ONLY")
    if only:
        jobs = [j for j in jobs if re.search(only, j[0])]
    workers = int(os.environ.get("KASLR_E2E_JOBS", str(os.cpu_count() or 2)))
    ran = 0
    try:
        with ThreadPoolExecutor(max_workers=workers) as ex:
            futs = [(n, ex.submit(f)) for n, f in jobs]
            for n, f in futs:
                try:
                    for ok, name, why in f.result():
                        report(ok, name, why)
                    ran += 1
                except Exception as e:      # a case that cannot run is a failure, never a skip
                    report(False, "fixdump/" + n, "%s: %s" % (type(e).__name__, e))
    finally:
        shutil.rmtree(env["tmp"], ignore_errors=True)
    report(ran == want, "fixdump/count", "ran %d of the lab's %d cases%s" % (
        ran, want, " (KASLR_FIXDUMP_ONLY=%s: a partial run)" % only if only else ""))
    info("fixdump: %.0f s" % (time.time() - t0))
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
