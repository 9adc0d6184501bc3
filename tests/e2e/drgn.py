#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""drgn on the vmcoreinfo kaslr-find writes: a dump without one becomes readable in drgn.

drgn 0.3.0 (Debian sid's python3-drgn) runs inside the lab's crash 9.0.2 root
(tests/lab/crash-versions.sh 9.0.2 provides it, with a "drgn" wrapper next to its
crash).  For every boot of the lab (tests/lib/lab.py) and two ELF dumps of it:
panic.elf (QEMU's registers; the kernel's note on vmci boots) and
panic-nonotes.elf (no note at all: no registers, no vmcoreinfo):

  drgn/vmcoreinfo/NAME  kaslr-find --vmcoreinfo FILE VMLINUX DUMP exits 0 and FILE
                        says the truth's KERNELOFFSET
  drgn/banner/NAME      drgn --vmcoreinfo FILE -c DUMP -s VMLINUX reads linux_banner:
                        it names the truth's RELEASE, and it is the text at
                        linux_banner in the dump where truth.env places the kernel
                        (read here, without drgn: tests/lab/elfnotes.py)
  drgn/comm/NAME        init_task.comm (drgn): non-empty, and the bytes at init_task +
                        offsetof(struct task_struct, comm) where truth.env places the
                        kernel; drgn's address of init_task is the truth's

A dump or a drgn that cannot be had is a FAIL, never a skip; "drgn/count" fails
unless every case the lab holds ran (KASLR_DRGN_ONLY=regex narrows it for runs by
hand, and then fails the count).

Output: "PASS: name" / "FAIL: name: why" lines (tests/run.sh counts them).
Environment: KASLR_FIND, KASLR_DRGN_ONLY, KASLR_E2E_JOBS, KASLR_CRASH_TIMEOUT.
"""
import ast
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "lab"))
import e2e  # noqa: E402
from e2e import info, report, tail  # noqa: E402
import elfnotes  # noqa: E402
import lab  # noqa: E402

DRGN_RELEASE = "9.0.2"     # the crash release whose lab root holds drgn (Debian sid)
DUMPS = ("panic.elf", "panic-nonotes.elf")
TIMEOUT = int(os.environ.get("KASLR_CRASH_TIMEOUT", "600"))

# Run by drgn: what it read, one "KEY=repr" line each.
SCRIPT = r'''
from drgn import offsetof
t = prog["init_task"]
print("BANNER=%r" % prog["linux_banner"].string_().decode(errors="replace"))
print("COMM=%r" % t.comm.string_().decode(errors="replace"))
print("COMM_OFFSET=%d" % offsetof(t.type_, "comm"))
print("INIT_TASK=0x%x" % t.address_)
'''


def at_truth(dump, t, sym, offset, size):
    """@size bytes at @sym + @offset of the kernel image, where truth.env places it."""
    vmlinux_vaddr = elfnotes.symbol_value(t["VMLINUX"], sym)
    paddr = vmlinux_vaddr + t["ko"] - elfnotes.START_KERNEL_MAP + t["pb"] + offset
    b = elfnotes.read_phys(dump, paddr, size)
    if b is None:
        raise elfnotes.ElfError("%s: %s+%d (physical 0x%x) is not in the dump" % (dump, sym, offset, paddr))
    return vmlinux_vaddr + t["ko"], b


def cstring(b):
    return b.split(b"\0", 1)[0].decode(errors="replace")


def check(drgn, d, fn, tmp):
    """The checks of one dump: [(ok, name, why)]."""
    t = lab.read_truth(d)
    dump = os.path.join(d, fn)
    name = "/".join(dump.split(os.sep)[-3:])
    res = []
    vmci = os.path.join(tmp, name.replace("/", "_") + ".vmcoreinfo")
    rc, out, err, to = e2e.run_killable([e2e.FIND, "--vmcoreinfo", vmci, t["VMLINUX"], dump], "", TIMEOUT)
    text = open(vmci).read() if os.path.exists(vmci) else ""
    ko = elfnotes.parse_vmcoreinfo(text).get("KERNELOFFSET")
    ok = rc == 0 and not to and ko == "%x" % t["ko"]
    res.append((ok, "drgn/vmcoreinfo/" + name, "kaslr-find exit %s, KERNELOFFSET=%s, want %x: %s" % (
        rc, ko, t["ko"], tail(err, 2))))
    if not ok:
        return res
    t0 = time.time()
    rc, out, err, to = e2e.run_killable([drgn, "--vmcoreinfo", vmci, "-c", dump, "-s", t["VMLINUX"],
                                         os.path.join(tmp, "read.py")], "", TIMEOUT)
    got = dict(re.findall(r"^([A-Z_]+)=(.*)$", out, re.M))
    info("%s: drgn %.1f s" % (name, time.time() - t0))
    if rc != 0 or to or set(got) != {"BANNER", "COMM", "COMM_OFFSET", "INIT_TASK"}:
        why = "drgn %s: %s" % ("timed out" if to else "exit %s" % rc, tail(err + out, 3))
        res += [(False, "drgn/banner/" + name, why), (False, "drgn/comm/" + name, why)]
        return res
    banner, comm = ast.literal_eval(got["BANNER"]), ast.literal_eval(got["COMM"])
    _, ref = at_truth(dump, t, "linux_banner", 0, len(banner.encode()) + 1)
    ok = banner == cstring(ref) and ("Linux version %s " % t["RELEASE"]) in banner
    res.append((ok, "drgn/banner/" + name, "drgn %r, at the truth %r, release %s" % (
        banner[:80], cstring(ref)[:80], t["RELEASE"])))
    addr, ref = at_truth(dump, t, "init_task", int(got["COMM_OFFSET"]), 16)
    ok = comm != "" and comm == cstring(ref) and int(got["INIT_TASK"], 16) == addr
    res.append((ok, "drgn/comm/" + name, "drgn %r at %s, at the truth %r at 0x%x" % (
        comm, got["INIT_TASK"], cstring(ref), addr)))
    return res


def main():
    t0 = time.time()
    p = subprocess.run(["bash", os.path.join(e2e.ROOT, "tests", "lab", "crash-versions.sh"), DRGN_RELEASE],
                       capture_output=True, text=True, errors="replace")
    line = p.stdout.split()
    drgn = os.path.join(os.path.dirname(line[1]), "drgn") if p.returncode == 0 and len(line) == 3 else None
    ok = bool(drgn) and os.access(drgn, os.X_OK)
    v = subprocess.run([drgn, "--version"], capture_output=True, text=True, errors="replace") if ok else None
    ok = ok and v.returncode == 0 and v.stdout.startswith("drgn ")
    report(ok, "drgn/provision", "crash-versions.sh %s: %s; %s" % (
        DRGN_RELEASE, tail(p.stderr, 2), v and tail(v.stdout + v.stderr, 2)))
    if not ok:
        return 1
    info("%s (%.0f s)" % (v.stdout.splitlines()[0], time.time() - t0))
    try:
        cases = [(d, fn) for d in lab.boot_dirs() for fn in DUMPS]
        for d in {d for d, _ in cases}:
            lab.dump_files(d)
    except (OSError, lab.LabError) as e:
        report(False, "drgn/lab", "the lab is incomplete (%s): run tests/lab/lab.sh dumps" % e)
        return 1
    only = os.environ.get("KASLR_DRGN_ONLY")
    run = [c for c in cases if not only or re.search(only, os.path.join(*c))]
    jobs = int(os.environ.get("KASLR_E2E_JOBS", str(os.cpu_count() or 2)))
    ran = 0
    with tempfile.TemporaryDirectory(prefix="kaslr-drgn.") as tmp, ThreadPoolExecutor(max_workers=jobs) as ex:
        with open(os.path.join(tmp, "read.py"), "w") as f:
            f.write(SCRIPT)
        futs = [(c, ex.submit(check, drgn, c[0], c[1], tmp)) for c in run]
        for (d, fn), f in futs:
            try:
                for ok, name, why in f.result():
                    report(ok, name, why)
                ran += 1
            except Exception as e:      # a case that cannot run is a failure, never a skip
                report(False, "drgn/" + os.path.join(d, fn), "%s: %s" % (type(e).__name__, e))
    report(ran == len(cases) and cases, "drgn/count", "ran %d of the lab's %d cases%s" % (
        ran, len(cases), " (KASLR_DRGN_ONLY=%s: a partial run)" % only if only else ""))
    info("drgn: %.0f s" % (time.time() - t0))
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
