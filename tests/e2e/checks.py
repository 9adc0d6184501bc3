#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""One full check for every answer, on real dumps with the real crash.

Every value kaslr.so applies or writes must be proven, the offset itself and not
only phys_base + offset (which the banner check alone cannot tell apart).  Per
kernel of the lab (bookworm 6.1, trixie 6.12), against truth.env:

  split       "kaslr -r OFF+2M PB-2M" (the same sum, the wrong split) is refused,
              naming the offset the relocated pointers give, and the session is
              unchanged; the same with a copy of the vmlinux whose sys_call_table
              symbol is renamed away (objcopy --redefine-sym), where "kaslr" still
              finds the truth with "relocated pointers agree" (the probes come from
              the relocations or .rodata, not from that one symbol)
  operands    "kaslr -r OFF -PB", "kaslr -r -- OFF -PB" and "kaslr -vr OFF -PB"
              parse a negative phys_base (a refusal that prints it, not a usage
              error); "kaslr -r -D" stays two options; the truth in its signed form
              relocates the session
  5level      on the la57 boot, manual "kaslr -r" with the true values leaves the
              paging geometry (5-level where the kernel runs 5-level) equal to a
              session started right
  full        a full session started wrong refuses "kaslr -r" and prints a RESTART
              line; that line, run, opens the dump right (sym _stext, sys)
  wrong-note  a vmci dump whose VMCOREINFO note says another KERNELOFFSET: "kaslr -D"
              does not pass that note on, says why, and prints the true values;
              "kaslr" names the note's wrong value on its DUMPFILE line
  wrong-ram   a dump whose in-RAM vmcoreinfo copies say another KERNELOFFSET: the
              answer is still the truth, and neither "kaslr -D" nor kaslr-find
              --vmcoreinfo emits those copies as the kernel's own
  dump-out    "kaslr -o OUT" in a --minimal session (started wrong) of the register-less
              panic-nonotes.elf and of panic.kdump writes a copy that crash opens with
              no --kaslr/--machdep (--minimal only where crash cannot initialise the
              kernel): "sym _text" is truth's TEXT_GUEST, and "kaslr" there has no
              DUMPFILE line; the copy's own vmcoreinfo (ELF note, kdump vmcoreinfo
              area and sub-header phys_base) holds the truth's values.  "kaslr" on the original names "kaslr -o FILE" on its
              DUMPFILE line; an OUT that exists is refused without -f (and left as
              it was), replaced with it; an answer that did not verify ("-m pagetable"
              on a dump without registers) writes nothing.  Where the system's crash
              cannot place even the kernel's own noted dump of the vmci boot (crash
              8.0.2 does not know a 6.10+ kernel is KASLR), the lab's crash NEWEST_CRASH
              opens the copy.

KASLR_CHECKS_ONLY=regex selects cases by name for runs by hand (that run then
fails its count).  Sessions start --minimal from e2e.wrong_start() (survived by construction on any
boot) unless a case says otherwise.  Output: PASS/FAIL lines; a case that ran
fewer times than the lab has kernels fails.
"""
import os
import re
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e  # noqa: E402
from e2e import Session, info, read_truth, report, right_opts, wrong_start  # noqa: E402

sys.path.insert(0, os.path.join(e2e.ROOT, "tests", "lab"))
import elfnotes  # noqa: E402

WORK = os.path.join(e2e.OUT, "checks")
ran = {}


def count(case):
    ran[case] = ran.get(case, 0) + 1


def signed_hex(v):
    return "-0x%x" % -v if v < 0 else "0x%x" % v


def one_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[0] if len(lines) == 1 and lines[0].startswith("kaslr: ") else None


def session_ok(name, s):
    """A session that must run to its end: FAIL naming why when it did not."""
    if s.clean:
        return True
    report(False, name, s.why() if s.reached else "crash reached no prompt: " + s.why())
    return False


def renamed_vmlinux(t):
    """A copy of the vmlinux whose sys_call_table symbol has another name (cached)."""
    src = t["VMLINUX"]
    st = os.stat(src)
    dst = os.path.join(WORK, "vmlinux-%s-renamed" % t["RELEASE"])
    stamp = "%d %d" % (st.st_size, int(st.st_mtime))
    if os.path.exists(dst) and open(dst + ".stamp").read() == stamp:
        return dst
    subprocess.run(["objcopy", "--redefine-sym", "sys_call_table=kaslr_test_renamed_table", src, dst + ".tmp"],
                   check=True)
    os.replace(dst + ".tmp", dst)
    with open(dst + ".stamp", "w") as f:
        f.write(stamp)
    return dst


def check_split(d, t):
    kv = t["RELEASE"]
    dump = os.path.join(d, "idle-nonotes.elf")
    d2 = 0x200000
    shifted = "kaslr -r %x %s" % (t["ko"] + d2, signed_hex(t["pb"] - d2))
    want = "wrong by -0x%x, the pointers say 0x%x" % (d2, t["ko"])
    s = Session(t["VMLINUX"], dump, ["--minimal"] + wrong_start(t), ["sym _stext", shifted, "sym _stext"])
    count("split")
    if session_ok("checks/split/%s" % kv, s):
        line = one_line(s.get(1))
        report(line and want in line and "does not verify" in line, "checks/split/%s" % kv,
               "want one line with '%s': %r" % (want, s.get(1).strip()[:300]))
        report(s.get(0).strip() and s.get(0) == s.get(2), "checks/split/unchanged/%s" % kv,
               "before %r after %r" % (s.get(0).strip(), s.get(2).strip()))
    # The same without sys_call_table: the other probes prove the offset.
    vml = renamed_vmlinux(t)
    count("split-renamed")
    name = "checks/split-renamed/%s" % kv
    try:
        elfnotes.symbol_value(vml, "sys_call_table")
        report(False, name, "objcopy left sys_call_table in %s" % vml)
        return
    except elfnotes.ElfError:
        pass	# renamed away, as wanted
    s = Session(vml, dump, ["--minimal"] + wrong_start(t), ["kaslr", shifted])
    if session_ok(name, s):
        got = e2e.parse_result(s.get(0))
        report(got == (t["ko"], t["pb"]) and "relocated pointers agree" in s.get(0), name + "/found",
               "got %s, want (0x%x, %d): %s" % (got, t["ko"], t["pb"], s.get(0).strip()[-300:]))
        line = one_line(s.get(1))
        report(line and want in line, name + "/refused", "want '%s': %r" % (want, s.get(1).strip()[:300]))


def check_operands(d, t):
    kv = t["RELEASE"]
    dump = os.path.join(d, "idle-nonotes.elf")
    # A negative phys_base that is wrong for this boot (it differs from the truth).
    neg = "-1000000" if t["pb"] != -0x1000000 else "-3000000"
    cmds = ["kaslr -r %x %s" % (t["ko"], neg), "kaslr -r -- %x %s" % (t["ko"], neg),
            "kaslr -vr %x %s" % (t["ko"], neg), "kaslr -r -D",
            "kaslr -r %x %s" % (t["ko"], signed_hex(t["pb"])), "sym _stext"]
    s = Session(t["VMLINUX"], dump, ["--minimal"] + wrong_start(t), cmds)
    count("operands")
    name = "checks/operands/%s" % kv
    if not session_ok(name, s):
        return
    shown = "phys_base %x" % (int(neg, 16) & (2**64 - 1))
    for i, form in ((0, "plain"), (1, "after --"), (2, "cluster -vr")):
        line = one_line(s.get(i))
        report(line and shown in line and "does not verify" in line, "%s/negative-%s" % (name, form.replace(" ", "")),
               "want a refusal naming '%s': %r" % (shown, s.get(i).strip()[:300]))
    # "-r -D" is two options (-D wins), not the operand -0xd.
    report("OSRELEASE=%s" % kv in s.get(3) and "does not verify" not in s.get(3), name + "/flags-not-operands",
           "kaslr -r -D: %r" % s.get(3).strip()[:300])
    report("relocated to KERNELOFFSET %x" % t["ko"] in s.get(4), name + "/signed-truth", s.get(4).strip()[:300])
    report(("%x" % int(t["STEXT_GUEST"], 16)) in s.get(5), name + "/stext",
           "sym _stext %r, want %s" % (s.get(5).strip(), t["STEXT_GUEST"]))


GEOMETRY = re.compile(r"^\s*(userspace_top|page_offset|vmalloc_start_addr|vmalloc_end|modules_vaddr|"
                      r"modules_end|vmemmap_vaddr|vmemmap_end|physical_mask_shift|pgdir_shift|"
                      r"ptrs_per_pgd): (\S+)", re.M)


def check_5level(d, t):
    kv = t["RELEASE"]
    dump = os.path.join(d, "idle.elf")
    minimal = [] if e2e.full_session(t, dump)[0] else ["--minimal"]
    ref = Session(t["VMLINUX"], dump, right_opts(t) + minimal, ["help -m"], extend=False)
    s = Session(t["VMLINUX"], dump, ["--minimal"] + wrong_start(t),
                ["kaslr -r %x %s" % (t["ko"], signed_hex(t["pb"])), "help -m"])
    count("5level")
    name = "checks/5level/%s" % kv
    if not (session_ok(name + "/reference", ref) and session_ok(name, s)):
        return
    want, got = dict(GEOMETRY.findall(ref.get(0))), dict(GEOMETRY.findall(s.get(1)))
    diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    l5 = "VM_5LEVEL" in ref.get(0)
    report("relocated to KERNELOFFSET %x" % t["ko"] in s.get(0) and len(want) >= 10 and not diff and
           ("VM_5LEVEL" in s.get(1)) == l5 and l5 == (t.get("PAGING_LEVELS") == "5"), name,
           "paging levels %s, right start VM_5LEVEL %s; differs: %s; %s" % (
               t.get("PAGING_LEVELS"), l5, ", ".join("%s %s/%s" % (k, got.get(k), want.get(k)) for k in diff) or "-",
               s.get(0).strip()[:200]))


def restart_argv(text):
    m = re.search(r"RESTART: (crash .*)$", text, re.M)
    return m.group(1).split() if m else None


def check_full(d, t):
    kv = t["RELEASE"]
    name = "checks/full/%s" % kv
    count("full")
    if not e2e.full_session(t, os.path.join(d, "idle.elf"))[0]:
        # This crash cannot bring this kernel up in full (e2e.full_session): the RESTART line of a minimal
        # session, run --minimal, must open the dump right.
        s = Session(t["VMLINUX"], os.path.join(d, "idle-nonotes.elf"), ["--minimal"] + wrong_start(t), ["kaslr"])
        if not session_ok(name, s):
            return
        argv = restart_argv(s.get(0))
        if not argv:
            report(False, name + "/restart", "no RESTART line: %r" % s.get(0).strip()[-300:])
            return
        r = Session(argv[-2], argv[-1], ["--minimal"] + argv[1:-2], ["sym _stext"], extend=False)
        report(r.clean and ("%x" % int(t["STEXT_GUEST"], 16)) in r.get(0), name + "/restart",
               "%s: %s" % (" ".join(argv), r.get(0).strip() or r.why()))
        return
    # A full session started wrong: the first dump whose wrong start crash survives.
    for fn in ("panic.elf", "idle.elf", "idle-nonotes.elf"):
        s = Session(t["VMLINUX"], os.path.join(d, fn), wrong_start(t), ["sym _stext", "kaslr -r", "sym _stext"])
        if s.reached:
            break
        info("%s: crash 8.0.2 died before its prompt by itself on %s started wrong: %s" % (name, fn, s.why()))
    if not session_ok(name, s):
        return
    report("cannot be repaired in place" in s.get(1) and s.get(0) == s.get(2) and s.get(0).strip(), name + "/refused",
           "%r; sym _stext %r then %r" % (s.get(1).strip()[:300], s.get(0).strip(), s.get(2).strip()))
    argv = restart_argv(s.get(1))
    if not argv:
        report(False, name + "/restart", "no RESTART line: %r" % s.get(1).strip()[:300])
        return
    r = Session(argv[-2], argv[-1], argv[1:-2], ["sym _stext", "sys"], extend=False)
    report(r.clean and ("%x" % int(t["STEXT_GUEST"], 16)) in r.get(0) and t["RELEASE"] in r.get(1),
           name + "/restart", "%s: %s | %s" % (" ".join(argv), r.get(0).strip(), r.why()))


def note_span(path):
    """(file offset, bytes) of the VMCOREINFO note's descriptor in an ELF dump, or (None, None)."""
    with elfnotes.Elf(path) as e:
        for idx in e.note_segments():
            pos = e.phdrs[idx][2]	# p_offset
            for name, _, raw in e.notes(idx):
                if name == "VMCOREINFO":
                    namesz = struct.unpack_from("<I", raw, 0)[0]
                    return pos + 12 + ((namesz + 3) & ~3), elfnotes.note_desc(raw)
                pos += len(raw)
    return None, None


def patch_offsets(path, spans, t):
    """Rewrite KERNELOFFSET=<truth> in each (offset, text) span with another value of the same length."""
    old = "KERNELOFFSET=%x\n" % t["ko"]
    width = len("%x" % t["ko"])
    # Another 2 MiB-aligned offset of the same width; for 0 (width 1) none exists,
    # so the last digit changes (still another value the note claims).
    cands = [c for c in (t["ko"] + 0x2000000, t["ko"] - 0x2000000, t["ko"] ^ 0x200000,
                         t["ko"] ^ 0x400000) if c > 0 and len("%x" % c) == width]
    new = "KERNELOFFSET=%x\n" % (cands[0] if cands else t["ko"] ^ 1)
    n = 0
    with open(path, "r+b") as f:
        for off, text in spans:
            i = text.find(old.encode())
            if i < 0:
                continue
            f.seek(off + i)
            f.write(new.encode())
            n += 1
    return n, int(new.split("=")[1], 16)


def vmcoreinfo_value(text, key):
    m = re.search(r"^%s=(\S+)$" % re.escape(key), text, re.M)
    return m.group(1) if m else None


def patch_phys_base(path, spans, t):
    """Rewrite NUMBER(phys_base)=<truth> in each span with another decimal of the same length."""
    old = "NUMBER(phys_base)=%d\n" % t["pb"]
    digits = str(t["pb"])
    new_v = int(digits[:-1] + ("1" if digits[-1] != "1" else "3"))	# the last digit changed
    new = "NUMBER(phys_base)=%d\n" % new_v
    n = 0
    with open(path, "r+b") as f:
        for off, text in spans:
            i = text.find(old.encode())
            if i >= 0:
                f.seek(off + i)
                f.write(new.encode())
                n += 1
    return n, new_v


def check_wrong_note(t_vmci, d_vmci):
    """A note that names another KERNELOFFSET, then one that names another phys_base."""
    t, kv = t_vmci, t_vmci["RELEASE"]
    count("wrong-note")
    src = os.path.join(d_vmci, "idle.elf")
    dump = os.path.join(WORK, "wrong-note.elf")
    for key, patch, shown in (("KERNELOFFSET", patch_offsets, "its KERNELOFFSET is %x"),
                              ("phys_base", patch_phys_base, "its NUMBER(phys_base) is %d")):
        name = "checks/wrong-note/%s/%s" % (key, kv)
        subprocess.run(["cp", "--sparse=always", src, dump], check=True)
        off, desc = note_span(dump)
        n, bad = patch(dump, [(off, desc)] if off is not None else [], t)
        if n != 1:
            report(False, name, "%s has no VMCOREINFO note with the true %s" % (src, key))
            continue
        s = Session(t["VMLINUX"], dump, ["--minimal"] + wrong_start(t), ["kaslr -D", "kaslr"])
        if session_ok(name, s):
            text = s.get(0)
            got = (vmcoreinfo_value(text, "KERNELOFFSET"), vmcoreinfo_value(text, "NUMBER(phys_base)"))
            report(got == ("%x" % t["ko"], "%d" % t["pb"]) and
                   "the dump's VMCOREINFO note is not this kernel's: " + shown % bad in s.stderr, name,
                   "KERNELOFFSET, phys_base %s, want (%x, %d); source %r" % (
                       got, t["ko"], t["pb"], " ".join(l for l in s.stderr.splitlines() if "vmcoreinfo:" in l)[:300]))
            fix = [l for l in s.get(1).splitlines() if "DUMPFILE:" in l]
            report(len(fix) == 1 and ("its VMCOREINFO note is not this kernel's (" + shown % bad) in fix[0] and
                   '"kaslr -o FILE"' in fix[0], name + "/dumpfile-line",
                   "want one DUMPFILE line naming the note's %s: %r" % (key, s.get(1).strip()[-400:]))
        os.unlink(dump)


def ram_copies(path, release):
    """(file offset, text) of every page-aligned OSRELEASE=<release> text in an ELF dump's PT_LOADs."""
    want = ("OSRELEASE=%s\n" % release).encode()
    res = []
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        loads = []
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _, p_offset, _, _, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
            if p_type == 1:
                loads.append((p_offset, p_filesz))
        for p_offset, p_filesz in loads:
            pos = 0
            while pos < p_filesz:
                f.seek(p_offset + pos)
                chunk = f.read(min(1 << 20, p_filesz - pos))
                for k in range(0, len(chunk), 4096):
                    # The vmcoreinfo_data page (text at 0) and the note page (text at 24).
                    for at in (0, 24):
                        if chunk[k + at:k + at + len(want)] == want:
                            res.append((p_offset + pos + k + at, chunk[k + at:k + 4096]))
                pos += len(chunk)
    return res


def check_wrong_ram(d, t):
    kv = t["RELEASE"]
    name = "checks/wrong-ram/%s" % kv
    count("wrong-ram")
    dump = os.path.join(WORK, "wrong-ram.elf")
    subprocess.run(["cp", "--sparse=always", os.path.join(d, "idle.elf"), dump], check=True)
    n, bad = patch_offsets(dump, ram_copies(dump, t["RELEASE"]), t)
    if n < 1:
        report(False, name, "no in-RAM vmcoreinfo copy with KERNELOFFSET=%x in %s" % (t["ko"], dump))
        return
    s = Session(t["VMLINUX"], dump, ["--minimal"] + wrong_start(t), ["kaslr", "kaslr -D"])
    if session_ok(name, s):
        got = e2e.parse_result(s.get(0))
        report(got == (t["ko"], t["pb"]), name + "/found", "got %s: %s" % (got, s.get(0).strip()[-300:]))
        report(vmcoreinfo_value(s.get(1), "KERNELOFFSET") == "%x" % t["ko"] and "rebuilt" in s.stderr and
               "its KERNELOFFSET is %x" % bad in s.stderr, name + "/kaslr-D",
               "KERNELOFFSET=%s; %r" % (vmcoreinfo_value(s.get(1), "KERNELOFFSET"),
                                       " ".join(l for l in s.stderr.splitlines() if "vmcoreinfo" in l)[:300]))
    out = os.path.join(WORK, "wrong-ram.vmcoreinfo")
    p = subprocess.run([e2e.FIND, "--vmcoreinfo", out, t["VMLINUX"], dump], capture_output=True, text=True)
    text = open(out).read() if os.path.exists(out) else ""
    report(p.returncode == 0 and vmcoreinfo_value(text, "KERNELOFFSET") == "%x" % t["ko"] and
           "its KERNELOFFSET is %x" % bad in p.stderr, name + "/kaslr-find",
           "exit %d, KERNELOFFSET=%s: %s" % (p.returncode, vmcoreinfo_value(text, "KERNELOFFSET"), p.stderr.strip()[-300:]))
    for f in (dump, out):
        if os.path.exists(f):
            os.unlink(f)


# The lab's crash that knows every lab kernel is KASLR (tests/lab/crash-versions.sh).
NEWEST_CRASH = "9.0.2"
_newest = []


def newest_crash():
    """Path of the lab's NEWEST_CRASH (fetched and cached by crash-versions.sh), or None after a FAIL."""
    if not _newest:
        p = subprocess.run(["bash", "tests/lab/crash-versions.sh", NEWEST_CRASH], cwd=e2e.ROOT,
                           capture_output=True, text=True, errors="replace")
        words = p.stdout.split()
        if p.returncode != 0 or len(words) < 2 or words[0] != NEWEST_CRASH:
            report(False, "checks/dump-out/crash-%s" % NEWEST_CRASH, e2e.tail(p.stderr + p.stdout))
            _newest.append(None)
        else:
            _newest.append(words[1])
    return _newest[0]


def sym_text(text):
    """The address of "sym _text" output, or None."""
    m = re.search(r"^([0-9a-f]+) \(\w\) _text\b", text, re.M)
    return int(m.group(1), 16) if m else None


def open_plain(t, dump, orig, crash=None, kaslr=True):
    """@dump in @crash with no --kaslr/--machdep: a full session where that crash can initialise
    this kernel (e2e.full_session, asked on the original @orig), else --minimal.  In the system's
    crash (@crash None) the module is loaded and "kaslr" runs too, unless @kaslr is false."""
    opts = [] if e2e.full_session(t, orig, crash=crash)[0] else ["--minimal"]
    if crash or not kaslr:
        return Session(t["VMLINUX"], dump, opts, ["sym _text"], extend=False, crash=crash)
    return Session(t["VMLINUX"], dump, opts, ["sym _text", "kaslr"])


def written_vmcoreinfo(path):
    """({KEY: value}, kdump sub-header phys_base or None) of a written copy: the VMCOREINFO note
    of an ELF core, the vmcoreinfo area of a kdump-compressed file (what makedumpfile and drgn
    read; crash places the kernel by SYMBOL(_stext), so a wrong KERNELOFFSET alone would not show
    in "sym _text"); ({}, None) when it has none."""
    with open(path, "rb") as f:
        head = f.read(464)
        if head[:4] == b"\x7fELF":
            text = elfnotes.vmcoreinfo_text(path)
            return (elfnotes.parse_vmcoreinfo(text) if text else {}), None
        if head[:8] != b"KDUMP   " or len(head) < 464:
            return {}, None
        block, = struct.unpack_from("<i", head, 428)
        f.seek(block)
        sub = f.read(64)
        phys_base, = struct.unpack_from("<q", sub, 0)
        off, size = struct.unpack_from("<QQ", sub, 32)
        if not off or not size:
            return {}, phys_base
        f.seek(off)
        return elfnotes.parse_vmcoreinfo(f.read(size).decode("latin-1")), phys_base


def check_written(name, t, path):
    vmci, sub_pb = written_vmcoreinfo(path)
    got = (vmci.get("OSRELEASE"), vmci.get("KERNELOFFSET"), vmci.get("NUMBER(phys_base)"))
    want = (t["RELEASE"], "%x" % t["ko"], "%d" % t["pb"])
    report(got == want and sub_pb in (None, t["pb"]), name + "/note",
           "OSRELEASE, KERNELOFFSET, NUMBER(phys_base) %s, want %s; kdump sub-header phys_base %s" % (
               got, want, sub_pb))


def check_opened(name, t, s, crash):
    want = int(t["TEXT_GUEST"], 16)
    got = sym_text(s.get(0))
    report(s.clean and got == want, name + "/sym-text", "crash %s: sym _text %s, want %x: %s" % (
        crash or "(system)", "%x" % got if got else None, want, s.get(0).strip()[:200] or s.why()))
    if not crash and s.clean:
        sl = e2e.session_line(s.get(1))
        report(e2e.parse_result(s.get(1)) == (t["ko"], t["pb"]) and sl and sl[2] == "consistent" and
               "DUMPFILE:" not in s.get(1), name + "/kaslr",
               "want the truth, a consistent session and no DUMPFILE line: %r" % s.get(1).strip()[-400:])


def check_dump_out(d, t, d_vmci):
    """kaslr -o on a register-less ELF dump and a kdump-compressed one, then the copies opened plainly."""
    kv = t["RELEASE"]
    name = "checks/dump-out/%s" % kv
    count("dump-out")
    out_elf = os.path.join(WORK, "dump-out-%s.elf" % kv)
    out_kd = os.path.join(WORK, "dump-out-%s.kdump" % kv)
    out_none = os.path.join(WORK, "dump-out-%s.none" % kv)
    for f in (out_elf, out_kd, out_none):
        if os.path.exists(f):
            os.unlink(f)
    keep = "not a dump: kaslr -o must leave this file alone\n"
    with open(out_kd, "w") as f:
        f.write(keep)
    try:
        # The register-less ELF dump: the DUMPFILE line, nothing written without a verified answer, the copy.
        elf = os.path.join(d, "panic-nonotes.elf")
        a = Session(t["VMLINUX"], elf, ["--minimal"] + wrong_start(t),
                    ["kaslr", "kaslr -m pagetable -o " + out_none, "kaslr -o " + out_elf])
        # The kdump-compressed dump: an OUT that exists is refused and kept, -f replaces it.
        kd = os.path.join(d, "panic.kdump")
        b = Session(t["VMLINUX"], kd, ["--minimal"] + wrong_start(t),
                    ["kaslr -o " + out_kd, "!cat " + out_kd, "kaslr -f -o " + out_kd])
        if session_ok(name + "/elf", a):
            fix = [l for l in a.get(0).splitlines() if "DUMPFILE:" in l]
            report(e2e.parse_result(a.get(0)) == (t["ko"], t["pb"]) and len(fix) == 1 and
                   "no VMCOREINFO note" in fix[0] and '"kaslr -o FILE"' in fix[0] and
                   "kaslr-find --in-place" in fix[0], name + "/dumpfile-line",
                   "want the truth and one DUMPFILE line naming kaslr -o: %r" % a.get(0).strip()[-400:])
            line = one_line(a.get(1))
            report(line and line.startswith("kaslr: not writing %s: " % out_none) and not os.path.exists(out_none),
                   name + "/unverified", "want one 'not writing' line and no file: %r, exists %s" % (
                       a.get(1).strip()[:300], os.path.exists(out_none)))
            line = one_line(a.get(2))
            report(line and line.startswith("kaslr: wrote %s: ELF core" % out_elf) and "(its vmcoreinfo: " in line
                   and os.path.exists(out_elf), name + "/elf-written", a.get(2).strip()[:300])
        if session_ok(name + "/kdump", b):
            line = one_line(b.get(0))
            report(line and line.startswith("kaslr: %s: exists" % out_kd) and
                   '"kaslr -f -o %s"' % out_kd in line and
                   b.get(1).strip() == keep.strip(), name + "/exists-refused",
                   "want one 'exists' line and the file unchanged: %r, then %r" % (b.get(0).strip()[:300],
                                                                                  b.get(1)[:100]))
            line = one_line(b.get(2))
            report(line and line.startswith("kaslr: wrote %s: kdump-compressed" % out_kd) and
                   "(its vmcoreinfo: " in line, name + "/force", b.get(2).strip()[:300])
        # The copies, opened plainly: the system's crash, or where it cannot place even the kernel's
        # own noted dump (the vmci boot), the lab's newest.
        crash = None
        for out, orig, what in ((out_elf, elf, "elf"), (out_kd, kd, "kdump")):
            if not os.path.exists(out) or open(out, "rb").read(len(keep)) == keep.encode():
                report(False, "%s/%s-opened" % (name, what), "no copy was written")
                continue
            check_written("%s/%s-written" % (name, what), t, out)
            s = open_plain(t, out, orig, crash)
            if crash is None and sym_text(s.get(0)) != int(t["TEXT_GUEST"], 16):
                tv = read_truth(d_vmci)
                ref = open_plain(tv, os.path.join(d_vmci, "idle.elf"), os.path.join(d_vmci, "idle.elf"), kaslr=False)
                if sym_text(ref.get(0)) == int(tv["TEXT_GUEST"], 16):
                    report(False, "%s/%s-opened" % (name, what), "the system's crash places the kernel's own "
                           "noted dump (%s) but not the copy: %s" % (ref.argv[-1], s.get(0).strip()[:200] or s.why()))
                    continue
                crash = newest_crash()
                if not crash:
                    continue
                info("%s: the system's crash cannot place even the kernel's own noted dump %s (%s): the copies "
                     "are opened in crash %s" % (name, ref.argv[-1], ref.get(0).strip()[:100] or ref.why(),
                                                 NEWEST_CRASH))
                s = open_plain(t, out, orig, crash)
            check_opened("%s/%s-opened" % (name, what), t, s, crash)
    finally:
        for f in (out_elf, out_kd, out_none):
            if os.path.exists(f):
                os.unlink(f)


def main():
    try:
        dirs = e2e.boot_dirs()
    except e2e.LabError as e:
        report(False, "checks/lab", str(e))
        return 1
    os.makedirs(WORK, exist_ok=True)
    by_boot = {}
    for d in dirs:
        by_boot.setdefault(os.path.basename(d.rstrip("/")), []).append(d)
    kernels = len(by_boot.get("novmci", []))
    only = re.compile(os.environ.get("KASLR_CHECKS_ONLY", ""))
    for d in by_boot.get("novmci", []):
        t = read_truth(d)
        for case, fn in (("split", check_split), ("operands", check_operands), ("full", check_full),
                         ("wrong-ram", check_wrong_ram)):
            if only.search(case):
                fn(d, t)
    for d in by_boot.get("novmci-la57", []):
        if only.search("5level"):
            check_5level(d, read_truth(d))
    for d in by_boot.get("vmci", []):
        if only.search("wrong-note"):
            check_wrong_note(read_truth(d), d)
    vmci = {read_truth(d)["KVER"]: d for d in by_boot.get("vmci", [])}
    for d in by_boot.get("novmci", []):
        t = read_truth(d)
        if only.search("dump-out"):
            if t["KVER"] in vmci:
                check_dump_out(d, t, vmci[t["KVER"]])
            else:
                report(False, "checks/dump-out/%s" % t["RELEASE"], "no vmci boot of %s" % t["KVER"])
    for case in ("split", "split-renamed", "operands", "full", "wrong-ram", "5level", "wrong-note", "dump-out"):
        report(kernels > 0 and ran.get(case, 0) == kernels, "checks/count/%s" % case,
               "ran %d, the lab has %d kernels" % (ran.get(case, 0), kernels))
    shutil.rmtree(os.path.join(WORK, "tmp"), ignore_errors=True)
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
