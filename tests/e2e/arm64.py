#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""kaslr-find on the lab's arm64 dumps, against the truth read inside each guest.

For every arm64 boot of the lab (tests/lib/lab.py arm64_boot_dirs: bookworm 6.1 and
trixie 6.12, vmci and novmci, under qemu-system-aarch64 with KASLR) and every dump of
it (ELF and kdump-zlib, idle and panicked, and copies with no note at all):

  arm64/find/NAME      kaslr-find --json exits 0, verified, and its kernel_offset,
                       kimage_voffset, phys_offset, va_bits and page_size are the
                       truth's (KERNELOFFSET from /proc/kallsyms, kimage_voffset from
                       _stext minus /proc/iomem's "Kernel code", PHYS_OFFSET, VA_BITS
                       and PAGESIZE from the guest's /proc/kcore note)
  arm64/route/NAME     the same with -m ptscan alone: the image found by its banner
                       and its own swapper_pg_dir, no vmcoreinfo copy used; its checks
                       include the page tables and the relocated pointers (.rela.dyn
                       on 6.1, .relr.dyn on 6.12)
  arm64/vmcoreinfo/B   --vmcoreinfo FILE on panic-nonotes.elf: FILE's KERNELOFFSET,
                       NUMBER(kimage_voffset), NUMBER(PHYS_OFFSET), NUMBER(VA_BITS)
                       are the truth's
  arm64/fixed/B        --output-dump on panic-nonotes.elf: kaslr-find on the copy reads
                       its new note, and the note agrees with the truth; crash:arm64
                       8.0.2 --minimal on the copy puts _text at the truth's TEXT_GUEST
  arm64/bad/...        an x86_64 vmlinux with an arm64 dump, and an arm64 vmlinux with
                       an x86_64 dump: exit 2 and one line naming both machines

A lab that lacks a boot or a dump is a FAIL, never a skip; "arm64/count" fails unless
every case the lab holds ran (KASLR_ARM64_ONLY=regex narrows a run by hand, and then
fails the count).  Output: "PASS: name" / "FAIL: name: why" lines.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from e2e import report, tail  # noqa: E402
import lab  # noqa: E402

FIND = os.environ.get("KASLR_FIND", os.path.join(ROOT, "kaslr-find"))
ONLY = os.environ.get("KASLR_ARM64_ONLY")
TIMEOUT = int(os.environ.get("KASLR_FIND_TIMEOUT", "300"))
CRASH = None    # crash:arm64 8.0.2 (tests/lab/crash-versions.sh arm64 8.0.2)


def run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % TIMEOUT


def values_ok(j, t):
    """None when the JSON result is the truth, else why not."""
    want = {"kernel_offset": t["ko"], "kimage_voffset": t["kv"], "phys_offset": t["po"],
            "va_bits": t["va_bits"], "page_size": t["page_size"]}
    if j.get("arch") != "arm64":
        return "arch %r" % j.get("arch")
    if not j.get("verified"):
        return "not verified: %s" % j.get("error")
    got = {}
    for k, v in want.items():
        g = j.get(k)
        if isinstance(g, str):
            g = int(g, 16)
        got[k] = g
        if g != v:
            return "%s %s, the truth %s" % (k, hex(g) if isinstance(g, int) else g, hex(v))
    return None


def find_case(name, vmlinux, dump, t, extra=(), need_checks=()):
    rc, out, err = run([FIND, "--json"] + list(extra) + [vmlinux, dump])
    if rc != 0:
        report(False, name, "kaslr-find exited %s: %s" % (rc, tail(err)))
        return None
    try:
        j = json.loads(out)
    except ValueError as e:
        report(False, name, "not JSON (%s): %s" % (e, tail(out)))
        return None
    why = values_ok(j, t)
    # The image route proves the offset itself twice: its tables, and the pointers the kernel relocated.
    if not why and need_checks and not all(c in j.get("checks", []) for c in need_checks):
        why = "checks %s, want %s among them" % (j.get("checks"), list(need_checks))
    report(why is None, name, why or "")
    return j


def vmci_values(text):
    v = dict(l.split("=", 1) for l in text.splitlines() if "=" in l)
    return {"ko": int(v.get("KERNELOFFSET", "-1"), 16), "kv": int(v.get("NUMBER(kimage_voffset)", "-1"), 0),
            "po": int(v.get("NUMBER(PHYS_OFFSET)", "-1"), 0), "va_bits": int(v.get("NUMBER(VA_BITS)", "-1"), 0)}


def vmci_case(name, vmlinux, dump, t, tmp):
    out = os.path.join(tmp, "vmcoreinfo")
    rc, _, err = run([FIND, "--vmcoreinfo", out, vmlinux, dump])
    if rc != 0 or not os.path.exists(out):
        report(False, name, "kaslr-find --vmcoreinfo exited %s: %s" % (rc, tail(err)))
        return
    with open(out) as f:
        got = vmci_values(f.read())
    bad = [k for k in ("ko", "kv", "po", "va_bits") if got[k] != t[k]]
    report(not bad, name, "; ".join("%s %s, the truth %s" % (k, hex(got[k]), hex(t[k])) for k in bad))


def fixed_case(name, vmlinux, dump, t, tmp):
    out = os.path.join(tmp, "fixed.elf")
    rc, _, err = run([FIND, "--output-dump", out, vmlinux, dump])
    if rc != 0:
        report(False, name, "kaslr-find --output-dump exited %s: %s" % (rc, tail(err)))
        return
    rc, o, err = run([FIND, "--json", vmlinux, out])
    try:
        j = json.loads(o)
    except ValueError:
        report(False, name, "kaslr-find on the copy exited %s: %s" % (rc, tail(err)))
        return
    note = j.get("dump_vmcoreinfo_note")
    why = values_ok(j, t) if rc == 0 else "exited %s: %s" % (rc, tail(err))
    if not why and not (note and note.get("agrees") and note.get("kernel_offset") == t["ko"]
                        and (note.get("kimage_voffset") or 0) & (2**64 - 1) == t["kv"]):
        why = "the copy's note is %s" % note
    if why is None and CRASH:
        # crash:arm64 places the kernel from the copy's note alone (--minimal: every kernel, even one
        # no Debian crash:arm64 initialises whole).
        try:
            p = subprocess.run([CRASH, "-s", "--minimal", vmlinux, out], input="sym _text\nsym linux_banner\nexit\n",
                               capture_output=True, text=True, errors="replace", timeout=600)
            m = re.search(r"^([0-9a-f]+) \(\w\) _text\b", p.stdout, re.M)
            if not m or int(m.group(1), 16) != int(t["TEXT_GUEST"], 16):
                why = "crash:arm64 --minimal on the copy: sym _text %s, the truth %s (%s)" % (
                    m.group(1) if m else "missing", t["TEXT_GUEST"], tail(p.stdout + p.stderr))
        except subprocess.TimeoutExpired:
            why = "crash:arm64 --minimal on the copy did not finish in 600 s"
    report(why is None, name, why or "")
    os.unlink(out)


def bad_case(name, vmlinux, dump, want):
    rc, out, err = run([FIND, vmlinux, dump])
    lines = [l for l in err.splitlines() if l.strip()]
    ok = rc == 2 and len(lines) == 1 and all(w in lines[0] for w in want)
    report(ok, name, "exit %s, stderr %r (want exit 2 and one line naming %s)" % (rc, err[-300:], want))


def main():
    try:
        dirs = lab.arm64_boot_dirs()
        cases = [(d, f) for d in dirs for f in lab.arm64_dump_files(d)]
    except lab.LabError as e:
        report(False, "arm64/lab", str(e))
        return 1
    global CRASH
    try:
        p = subprocess.run(["bash", os.path.join(ROOT, "tests", "lab", "crash-versions.sh"), "arm64", "8.0.2"],
                           capture_output=True, text=True, timeout=3600)
        CRASH = p.stdout.split()[1] if p.returncode == 0 and p.stdout.split() else None
        if not CRASH:
            report(False, "arm64/crash", "no crash:arm64 8.0.2: %s" % tail(p.stderr))
    except (subprocess.TimeoutExpired, IndexError) as e:
        report(False, "arm64/crash", "no crash:arm64 8.0.2: %s" % e)
    if not os.access(FIND, os.X_OK):
        report(False, "arm64/build", "no %s (make kaslr-find)" % FIND)
        return 1
    ran = expected = 0
    with tempfile.TemporaryDirectory(prefix="kaslr-arm64-") as tmp:
        for d, f in cases:
            t = lab.read_truth_arm64(d)
            base = "%s/%s/%s" % (os.path.basename(os.path.dirname(d)), os.path.basename(d), f)
            for kind, extra, need in (("find", (), ("banner", "reloc")),
                                      ("route", ("-m", "ptscan"), ("banner", "reloc", "pagetable"))):
                expected += 1
                if ONLY and not re.search(ONLY, "%s/%s" % (kind, base)):
                    continue
                find_case("arm64/%s/%s" % (kind, base), t["VMLINUX"], os.path.join(d, f), t, extra, need)
                ran += 1
        for d in dirs:
            t = lab.read_truth_arm64(d)
            base = "%s/%s" % (os.path.basename(os.path.dirname(d)), os.path.basename(d))
            dump = os.path.join(d, "panic-nonotes.elf")
            for kind, fn in (("vmcoreinfo", vmci_case), ("fixed", fixed_case)):
                expected += 1
                if ONLY and not re.search(ONLY, "%s/%s" % (kind, base)):
                    continue
                fn("arm64/%s/%s" % (kind, base), t["VMLINUX"], dump, t, tmp)
                ran += 1
        # Machines crossed: an x86_64 vmlinux of the lab with an arm64 dump, and the reverse.
        expected += 2
        if not ONLY:
            try:
                x86 = lab.boot_dirs(suites=lab.SUITES[:1], boots=("novmci",))[0]
                xt = lab.read_truth(x86)
                a = dirs[0]
                at = lab.read_truth_arm64(a)
                bad_case("arm64/bad/x86_64-vmlinux", xt["VMLINUX"], os.path.join(a, "panic.elf"),
                         ("x86_64 kernel", "arm64 dump"))
                bad_case("arm64/bad/arm64-vmlinux", at["VMLINUX"], os.path.join(x86, "panic.elf"),
                         ("arm64 kernel", "x86_64 dump"))
                ran += 2
            except lab.LabError as e:
                report(False, "arm64/bad", "no x86_64 boot to cross with: %s" % e)
    report(ran == expected and ran > 0, "arm64/count",
           "ran %d of the %d cases the lab holds%s" % (ran, expected, " (KASLR_ARM64_ONLY)" if ONLY else ""))
    return 0


if __name__ == "__main__":
    rc = main()
    import e2e as _e
    sys.exit(1 if _e.failed or rc else 0)
