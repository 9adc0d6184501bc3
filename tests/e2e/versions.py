#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""kaslr.so on other crash releases: 7.2.9 (gdb 7.6), 8.0.6 and 9.0.2 (gdb 16), next to the system's.

Provisions what it needs (each step cached, a failure is a FAIL, never a skip):
the crash binaries and headers (tests/lab/crash-versions.sh), the dumps of
the suites the cases name (tests/lab/lab.sh dumps), build/crash-VER/kaslr.so
(make versions).  Then, per case (a crash release and a dump):

  recover   a --minimal session: "kaslr" gives the ground truth (truth.env)
  repair    "kaslr -r" in a --minimal session that crash opened wrong (or was
            started wrong with --kaslr=0) brings up a full session whose
            commands print what a session started with the right
            --kaslr=/--machdep phys_base= prints.  Where that crash cannot
            open the dump from the case's start at all (how its own guess
            goes depends on where KASLR put the kernel), it is started from
            e2e.wrong_start, which it survives on any boot.  Where that crash
            cannot initialise the kernel at all, even from the right values
            (e2e.full_session: crash 9.0.2 on Linux 7.2), the repaired session
            must say that it stays minimal, and its minimal commands must
            print what a --minimal session with the right values prints.
  vmcoreinfo "kaslr -D" in the repaired session prints the truth's
            KERNELOFFSET, phys_base and OSRELEASE
  load      each kaslr.so loads into its own crash only, and says which one
            it was built for

A session that reached crash's prompt and then died, hung or exited non-zero
fails every check that reads it, naming the command that was running (the
markers of tests/e2e/e2e.py's Session).  The run fails unless every case ran
("versions/count"; KASLR_VERSIONS_ONLY narrows it for runs by hand and then
fails the count).

Output: "PASS: name" / "FAIL: name: why" lines (tests/run.sh counts them).
Environment: KASLR_VERSIONS_ONLY=regex (case names), KASLR_E2E_JOBS,
KASLR_CRASH_TIMEOUT (seconds per session, default 900 here).
"""
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e  # noqa: E402
from e2e import (LAB, MINIMAL_CMDS, ROOT, Session, cmd_name, first_diff, full_session, info,  # noqa: E402
                 normalise, parse_result, read_truth, report, s64, session_line, tail, wrong_start)

TIMEOUT = int(os.environ.get("KASLR_CRASH_TIMEOUT", "900"))

# Commands compared between the repaired and the reference session.
CMDS_729 = ["sys", "sym schedule", "sym _stext", "p jiffies", "dis -l schedule 4", "ps", "bt -a",
            "log | tail -n 5"]
CMDS_806 = ["sys", "p jiffies", "ps", "bt -a", "mod", "log | tail -n 5", "sym schedule",
            "dis -l schedule 4"]

# The start of a case that is wrong on any boot: e2e.wrong_start (for dumps crash places right
# by itself from their registers).
WRONG = object()

# (crash release, suite of the kernel, boot, dump file, how to start it wrong, commands)
CASES = [
    # No registers at all: crash 7.2.9 cannot place it; kaslr finds it by scanning.
    ("7.2.9", "bullseye", "novmci", "idle-nonotes.elf", [], CMDS_729),
    # QEMU notes: crash 7.2.9 places it right itself (5.10 has module_load_offset), so it is
    # started wrong with --kaslr=0; gdb's minimal symbols, patched at startup, are patched again.
    ("7.2.9", "bullseye", "novmci", "idle.elf", ["--kaslr=0"], CMDS_729),
    # 6.12 without registers, crash 8.0.6 (which can initialise a 6.12 kernel fully).
    ("8.0.6", "trixie", "novmci", "idle-nonotes.elf", [], CMDS_806),
    # crash 9.0.2 (gdb 16) on 6.1, 6.12 and the newest kernel (sid: 7.x), each without
    # registers (crash 9.0.2 fails every such dump by itself) and with QEMU's (it places
    # those right, so they are started wrong on purpose).
    ("9.0.2", "bookworm", "novmci", "idle-nonotes.elf", [], CMDS_806),
    ("9.0.2", "bookworm", "novmci", "idle.elf", WRONG, CMDS_806),
    ("9.0.2", "trixie", "novmci", "panic-nonotes.elf", [], CMDS_806),
    ("9.0.2", "trixie", "novmci", "idle.elf", WRONG, CMDS_806),
    ("9.0.2", "sid", "novmci", "idle-nonotes.elf", [], CMDS_806),
    ("9.0.2", "sid", "novmci", "panic.elf", WRONG, CMDS_806),
]


def Run(crash, vmlinux, dump, opts=(), cmds=()):
    """One crash run of @crash; every command's output kept apart (e2e.Session, no extend)."""
    return Session(vmlinux, dump, opts, cmds, extend=False, crash=crash, timeout=TIMEOUT)


def broken_first(ok, why, *sessions):
    """(ok, why), or a failure naming the command a session broke in."""
    for s in sessions:
        if s.broken():
            return False, s.broken()
    return ok, why


def right_opts(t):
    return ["--kaslr=0x%x" % t["ko"], "--machdep", "phys_base=0x%x" % (t["pb"] & (2**64 - 1))]


def sh(argv, name):
    """Run a provisioning step; its stdout, or None after a FAIL line."""
    t0 = time.time()
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, errors="replace")
    if p.returncode != 0:
        report(False, name, "%s: %s" % (" ".join(argv), tail(p.stderr + p.stdout)))
        return None
    info("%s: %.0f s" % (name, time.time() - t0))
    return p.stdout


def module(ver):
    return os.path.join(ROOT, "build", "crash-%s" % ver, "kaslr.so")


def boot_dir(suite, boot):
    with open(os.path.join(LAB, "kernels", suite + ".current")) as f:
        kver = f.read().strip()
    d = os.path.join(LAB, "dumps", kver, boot)
    if not os.path.exists(os.path.join(d, "DONE")):
        raise OSError("%s is not finished (no DONE)" % d)
    return d


def refusals(r, first, own, others, tag):
    """Report on "extend" of the other releases' kaslr.so (commands first..) then our own.

    A kaslr.so built for another release says so in one line of its own, naming both
    releases, registers nothing (crash unloads it), and the session goes on: the next
    extend, of this release's kaslr.so, loads and runs "kaslr -V".
    """
    res = []
    for i, v in enumerate(others):
        out = r.get(first + i)
        ours = [l for l in out.splitlines() if l.startswith("kaslr.so:")]
        ok = (len(ours) == 1 and "built for crash %s, but this is crash %s" % (v, own) in ours[0]
              and "not registering" in ours[0] and "no commands registered" in out)
        ok, why = broken_first(ok, tail(out or r.why(), 3), r)
        res.append((ok, "versions/refuse/%s/kaslr.so-of-%s" % (tag, v), why))
    out = r.get(first + len(others)) + r.get(first + len(others) + 1)
    ok, why = broken_first("shared object loaded" in out and "built for crash %s" % own in out,
                           tail(out or r.why()), r)
    res.append((ok, "versions/accept/" + tag, why))
    return res


def check_case(case, crashes):
    """One case: a repaired session against a reference one; returns (ok, name, why) tuples."""
    ver, suite, boot, fn, wrong, cmds = case
    d = boot_dir(suite, boot)
    t = read_truth(d)
    dump = os.path.join(d, fn)
    name = "%s/%s/%s/%s" % (ver, t["RELEASE"].split("-")[0], boot, fn)
    tag = "minimal+wrong-start" if wrong is WRONG else "+".join(o.lstrip("-") for o in ["--minimal"] + wrong)
    if wrong is WRONG:
        wrong = wrong_start(t)
    crash = crashes[ver]
    # What this crash can make of this kernel at all, asked of itself (e2e.full_session).
    full_ok, cannot = full_session(t, dump, crash)
    if not full_ok:
        info("%s: crash %s cannot initialise %s (\"%s\"): the repaired session must stay minimal" % (
            name, ver, t["RELEASE"], cannot))
        cmds = MINIMAL_CMDS
    others = [v for v in crashes if v != ver]
    # The other releases' modules must be refused, ours taken; then kaslr must find the
    # truth in a session that is wrong, and "kaslr -r" must make it equal to the reference.
    pre = ["extend " + module(v) for v in others] + ["extend " + module(ver), "kaslr -V"]
    k = len(pre)
    script = pre + ["kaslr", "kaslr -r"] + cmds + ["kaslr", "kaslr -D"]
    with ThreadPoolExecutor(max_workers=2) as ex:
        fs = ex.submit(Run, crash, t["VMLINUX"], dump, ["--minimal"] + wrong, script)
        fr = ex.submit(Run, crash, t["VMLINUX"], dump, right_opts(t) + ([] if full_ok else ["--minimal"]), cmds)
        s, ref = fs.result(), fr.result()
    if not s.reached:
        # This crash cannot open the dump from this start by itself, as KASLR placed this
        # boot: start it wrong the way it survives on any boot (e2e.wrong_start).
        info("%s: crash %s reaches no prompt from %s (%s): starting it from %s" % (
            name, ver, " ".join(["--minimal"] + wrong), s.why(), " ".join(wrong_start(t))))
        s = Run(crash, t["VMLINUX"], dump, ["--minimal"] + wrong_start(t), script)
    info("%s: repaired session %.0f s, reference %.0f s" % (name, s.seconds, ref.seconds))
    res = refusals(s, 0, ver, others, name)

    def R(ok, n, why="", ss=(s,)):
        ok, why = broken_first(ok, why, *ss)
        res.append((bool(ok), n, why))

    got = parse_result(s.get(k))
    R(got == (t["ko"], t["pb"]), "versions/recover/" + name,
      "got %s, want (0x%x, %d): %s" % (got and (hex(got[0]), got[1]), t["ko"], t["pb"], tail(s.get(k) or s.why())))
    sl = session_line(s.get(k))
    # The premise: crash (as started) has it wrong, else there is nothing to repair.
    R(sl and sl[2] == "WRONG", "versions/wrong-start/%s/%s" % (tag, name),
      "crash %s placed it right itself: start it wrong (--kaslr=0): %s" % (ver, tail(s.get(k))))
    if not ref.reached:
        R(False, "versions/reference/" + name, "crash %s with the right values: %s" % (ver, ref.why()))
        return res
    rep = s.get(k + 1)
    ok = "relocated to KERNELOFFSET %x" % t["ko"] in rep
    R(ok, "versions/repair/%s/relocated/%s" % (tag, name), tail(rep or s.why(), 3))
    if not ok:
        return res
    # crash's own vmcoreinfo after the repair never contradicts the answer, and a crash
    # that reads the kernel's copy in RAM (crash 9: "cannot read vmcoreinfo_data" while
    # it was wrong) reads it right now, and the module says so.
    reads_ram = "cannot read vmcoreinfo_data" in s.stdout + s.stderr
    agrees = "crash's vmcoreinfo agrees with the answer" in rep
    R("WARNING: crash's vmcoreinfo" not in rep and (agrees or not reads_ram),
      "versions/repair/%s/session-vmcoreinfo/%s" % (tag, name),
      "%s: %s" % ("crash read vmcoreinfo_data from RAM" if reads_ram else "", tail(rep, 3)))
    says_minimal = "this session stays minimal" in rep
    R(says_minimal != full_ok, "versions/repair/%s/%s/%s" % (tag, "full-session" if full_ok else "stays-minimal", name),
      tail(rep, 3))
    for i, c in enumerate(cmds):
        a, b = normalise(s.get(k + 2 + i)), normalise(ref.get(i))
        R(a == b and b != "", "versions/repair/%s/%s/%s" % (tag, cmd_name(c), name),
          first_diff(a, b) or "empty output", ss=(s, ref))
    last = s.get(k + 2 + len(cmds))
    after = session_line(last)
    R(after and (after[0], s64(after[1]), after[2]) == (t["ko"], t["pb"], "consistent"),
      "versions/repair/%s/consistent/%s" % (tag, name), tail(last or s.why()))
    # kaslr -D: vmcoreinfo text with the truth in the kernel's own formats.
    vmci = dict(l.split("=", 1) for l in s.get(k + 3 + len(cmds)).splitlines() if "=" in l)
    want = {"KERNELOFFSET": "%x" % t["ko"], "NUMBER(phys_base)": "%d" % t["pb"], "OSRELEASE": t["RELEASE"]}
    got = {key: vmci.get(key) for key in want}
    R(got == want, "versions/vmcoreinfo/%s/%s" % (tag, name), "got %s, want %s" % (got, want))
    return res


def check_system(crashes, system_version, dump, vmlinux):
    """The system's crash takes its own build/crash-VER/kaslr.so and refuses the others."""
    others = [v for v in crashes if v != system_version]
    r = Run(crashes[system_version], vmlinux, dump, ["--minimal"],
            ["extend " + module(v) for v in others] + ["extend " + module(system_version), "kaslr -V"])
    return refusals(r, 0, system_version, others, "crash-%s" % system_version)


def main():
    only = os.environ.get("KASLR_VERSIONS_ONLY")
    cases = [c for c in CASES if not only or re.search(only, "%s/%s/%s" % (c[0], c[2], c[3]))]
    t0 = time.time()

    # Provisioning: crash releases, dumps, modules.
    vers = sorted({c[0] for c in CASES})
    out = sh(["bash", "tests/lab/crash-versions.sh"] + vers, "versions/crash-binaries")
    if out is None:
        return 1
    crashes = dict(line.split()[:2] for line in out.splitlines() if len(line.split()) == 3)
    missing = [v for v in vers if v not in crashes]
    report(not missing, "versions/crash-binaries", "crash-versions.sh gave no %s" % missing)
    out = sh(["bash", "tests/lab/crash-versions.sh", "list"], "versions/crash-list")
    if out is None or missing:
        return 1
    system = out.split()[:2]
    if len(system) != 2 or system[0] in vers:
        report(False, "versions/system-crash", "no system crash besides %s: %s" % (vers, out.strip()))
        return 1
    crashes[system[0]] = system[1]
    if sh(["bash", "tests/lab/lab.sh", "dumps"] + sorted({c[1] for c in CASES}), "versions/lab") is None:
        return 1
    if sh(["make", "-s", "versions"], "versions/build") is None:
        return 1
    for v in sorted(crashes):
        report(os.path.exists(module(v)), "versions/build/crash-%s" % v, "make versions made no %s" % module(v))
    info("provisioning: %.0f s" % (time.time() - t0))

    d = boot_dir("bullseye", "novmci")
    jobs = [("crash-" + system[0], lambda: check_system(crashes, system[0], os.path.join(d, "idle-nonotes.elf"),
                                                       read_truth(d)["VMLINUX"]))]
    jobs += [("/".join((c[0], c[2], c[3])), (lambda c=c: check_case(c, crashes))) for c in cases]
    # Each case runs its two sessions side by side already.
    workers = max(1, int(os.environ.get("KASLR_E2E_JOBS", str(os.cpu_count() or 2))) // 2)
    ran = 0
    with ThreadPoolExecutor(max_workers=workers) as ex:
        futs = [(n, ex.submit(f)) for n, f in jobs]
        for n, f in futs:
            try:
                for ok, name, why in f.result():
                    report(ok, name, why)
                ran += 1
            except Exception as e:      # a case that cannot run is a failure, never a skip
                report(False, "versions/" + n, "%s: %s" % (type(e).__name__, e))
    report(ran == len(CASES) + 1, "versions/count", "ran %d of %d cases%s" % (
        ran, len(CASES) + 1, " (KASLR_VERSIONS_ONLY=%s: a partial run)" % only if only else ""))
    info("versions suite: %.0f s" % (time.time() - t0))
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
