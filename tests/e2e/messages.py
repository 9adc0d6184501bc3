#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""What a user reads when nothing can be found, or crash cannot go on (issue 19).

Real dumps, real crash; every expected word comes from the lab's truth, the
vmlinux files (readelf) or crash itself, never from kaslr's own output:
  early/kaslr-find   the early-boot dump (lab.sh early: vCPU 0 in the boot
                     decompressor): exit 1 and one line saying the dump predates
                     the kernel's relocation, with each vCPU's state as truth.env
                     records it (RIP, CR3), and no hint at the vmlinux;
                     --json "diagnosis" kind "early-boot" (where truth.env says
                     the decompressor had written the banner out already: that
                     no vCPU runs in the kernel yet, kind "same-kernel")
  early/crash        the same line from "kaslr" in crash --minimal on that dump
  early/real         the reset-vector dump (an i386 core): one line, exit 2,
                     saying no 64-bit kernel ran
  wrong-vmlinux/KVER-on-KVER2  each kernel's vmlinux with the next kernel's dump:
                     exit 1, the dump's release and build-id and the vmlinux's
                     (readelf -n of each kernel's vmlinux), the Debian package
                     linux-image-RELEASE-dbg; --json kind "wrong-vmlinux"
                     (crash's "kaslr" on the same pairs: bad.py wrong-vmlinux)
  too-new/KVER       each kernel the system's crash cannot bring up as a full
                     session (e2e.full_session): "kaslr -r" in --minimal prints
                     crash's own "invalid structure ..." message once and no
                     error trace (with -v: the trace), then one "kaslr: full
                     initialisation failed" line naming the first crash
                     release that can, or saying none released can
  releases/KVER      that claim against the lab's crash releases: every one at
                     or after the release named opens the kernel's vmci dump
                     (its own vmcoreinfo, no option) as a full session, every
                     one before it does not (none, where none is named)
A dump the lab lacks is a FAIL, never a skip; the run fails unless every case ran
(KASLR_MESSAGES_ONLY=regex selects cases by name for runs by hand: that run then
fails its count).
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import Session, build_id, read_truth, report  # noqa: E402
import lab  # noqa: E402

ran = want = 0


def run_find(vmlinux, dump, json_out=False):
    """kaslr-find [--json] VMLINUX DUMP: (rc, stdout, stderr)."""
    argv = [e2e.FIND] + (["--json"] if json_out else []) + [vmlinux, dump]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=e2e.TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def one_line(text, prefix):
    """(ok, lines): @text's non-empty lines that start with @prefix: exactly one."""
    lines = [l for l in text.splitlines() if l.startswith(prefix)]
    return len(lines) == 1, lines


def case(name, fn, *args):
    global ran, want
    want += 1
    only = os.environ.get("KASLR_MESSAGES_ONLY")
    if only and not re.search(only, name):
        return
    try:
        fn(name, *args)
        ran += 1
    except Exception as e:      # a case that cannot run is a failure, never a skip
        report(False, name, "%s: %s" % (type(e).__name__, e))


def early_text(t, key):
    """What a user must read about each vCPU of dump @key (EARLY, EARLY_REAL) of truth @t."""
    want_words, n = [], int(t["%s_NCPUS" % key])
    for cpu in range(n):
        mode = t["%s_CPU%d_MODE" % (key, cpu)]
        rip = int(t["%s_CPU%d_RIP" % (key, cpu)], 16)
        if mode == "decompressor":
            want_words.append("vCPU %d in the boot decompressor (RIP 0x%x, CR3 0x%x" % (
                cpu, rip, int(t["%s_CPU%d_CR3" % (key, cpu)], 16)))
        elif mode == "protected":
            want_words.append("vCPU %d in protected mode without paging (EIP 0x%x)" % (cpu, rip))
        elif mode == "real":
            want_words.append("vCPU %d in real mode (IP 0x%x)" % (cpu, rip))
        else:
            raise RuntimeError("truth.env: vCPU %d of %s is in mode %r" % (cpu, key, mode))
    return want_words


def early_words(t):
    """The verdict truth.env calls for: no banner yet, or the vmlinux's banner already written out."""
    if t["EARLY_BANNER_IN_MEMORY"] == "0":
        return ["the dump predates the kernel's relocation", "no banner of %s is in memory" % t["RELEASE"],
                "no tool can place it"]
    return ["no vCPU runs in the kernel yet", "the kernel may be decompressed but not relocated yet"]


def c_early_find(name, d, t):
    dump = os.path.join(d, "early.elf")
    rc, out, err = run_find(t["VMLINUX"], dump)
    ok, lines = one_line(err, "kaslr-find: ")
    words = early_text(t, "EARLY") + early_words(t)
    missing = [w for w in words if not lines or w not in lines[0]]
    report(rc == 1 and ok and not missing and "may not match" not in err and
           ("predates the kernel's relocation" in out or t["EARLY_BANNER_IN_MEMORY"] == "1"), name,
           "exit %s, stderr %r, missing %s, stdout %r" % (rc, err[-400:], missing, out[-200:]))
    rc, out, err = run_find(t["VMLINUX"], dump, json_out=True)
    j = json.loads(out)
    kind = "early-boot" if t["EARLY_BANNER_IN_MEMORY"] == "0" else "same-kernel"
    report(rc == 1 and (j.get("diagnosis") or {}).get("kind") == kind, name + "/json",
           "exit %s, diagnosis %s" % (rc, j.get("diagnosis")))


def c_early_crash(name, d, t):
    s = Session(t["VMLINUX"], os.path.join(d, "early.elf"), ["--minimal"], ["kaslr"])
    if not s.clean:
        report(False, name, "crash --minimal on the early-boot dump: %s" % s.why())
        return
    ok, lines = one_line(s.get(0), "kaslr: ")
    words = early_text(t, "EARLY") + early_words(t)
    missing = [w for w in words if not lines or w not in lines[0]]
    others = [l for l in s.get(0).splitlines() if l.strip() and not l.startswith("kaslr: ")]
    report(ok and not missing and not others, name, "lines %r, missing %s, other lines %r" % (
        lines, missing, others[:3]))


def c_early_real(name, d, t):
    rc, out, err = run_find(t["VMLINUX"], os.path.join(d, "early-real.elf"))
    if any(t["EARLY_REAL_CPU%d_MODE" % c] == "decompressor" for c in range(int(t["EARLY_REAL_NCPUS"]))):
        raise RuntimeError("truth.env: the reset-vector dump has a vCPU in 64-bit mode")
    ok, lines = one_line(err, "kaslr-find: ")
    report(rc == 2 and ok and "i386 ELF core" in lines[0] and "no 64-bit kernel ran yet" in lines[0], name,
           "exit %s, stderr %r" % (rc, err[-300:]))


def c_wrong_vmlinux(name, t, d2, t2):
    dump = os.path.join(d2, "idle.elf")
    bid, bid2 = build_id(t["VMLINUX"]), build_id(t2["VMLINUX"])
    rc, out, err = run_find(t["VMLINUX"], dump)
    ok, lines = one_line(err, "kaslr-find: ")
    words = ["the dump holds Linux %s (build-id %s)" % (t2["RELEASE"], bid2),
             "the vmlinux is %s (build-id %s)" % (t["RELEASE"], bid),
             "linux-image-%s-dbg" % t2["RELEASE"]]
    missing = [w for w in words if not lines or w not in lines[0]]
    report(rc == 1 and ok and not missing and "strings DUMP" not in err, name,
           "exit %s, stderr %r, missing %s" % (rc, err[-500:], missing))
    stdout_words = ["dump's kernel: %s, build-id %s" % (t2["RELEASE"], bid2),
                    "Debian package linux-image-%s-dbg" % t2["RELEASE"],
                    "vmlinux: %s, build-id %s" % (t["RELEASE"], bid)]
    missing = [w for w in stdout_words if w not in out]
    report(not missing, name + "/text", "missing %s in %r" % (missing, out[-500:]))
    rc, out, err = run_find(t["VMLINUX"], dump, json_out=True)
    dg = json.loads(out).get("diagnosis") or {}
    ks = dg.get("kernels") or [{}]
    report(rc == 1 and dg.get("kind") == "wrong-vmlinux" and ks[0].get("release") == t2["RELEASE"] and
           ks[0].get("build_id") == bid2, name + "/json", "exit %s, diagnosis %s" % (rc, dg))


def c_too_new(name, d, t):
    dump = os.path.join(d, "idle.elf")
    s = Session(t["VMLINUX"], dump, ["--minimal"], ["kaslr -r", "sym _text"])
    v = Session(t["VMLINUX"], dump, ["--minimal"], ["kaslr -v -r"])
    if not s.clean or not v.clean:
        report(False, name, "crash --minimal: %s / -v: %s" % (s.why(), v.why()))
        return None
    text = s.get(0)
    crash_msgs = e2e.CANNOT_INIT.findall(text)
    ok, lines = one_line(text, "kaslr: full initialisation failed in ")
    m = lines and re.search(r"crash (\S+) or later can|(no crash release initialises)", lines[0])
    named = m and (m.group(1) or "none")
    after = text.split(lines[0])[0] if lines else ""
    report(len(crash_msgs) == 1 and "error trace" not in text and ok and named and
           crash_msgs and crash_msgs[0] in after and "RESTART: crash --kaslr=" in text, name,
           "crash's message %d times (%s), error trace %s, failure line %r, release %s" % (
               len(crash_msgs), crash_msgs[:1], "error trace" in text, lines, named))
    report("error trace" in v.get(0) and len(e2e.CANNOT_INIT.findall(v.get(0))) >= 1, name + "/verbose",
           "kaslr -v -r: %r" % v.get(0)[-400:])
    return named


def opens_full(crash, t, dump):
    """Does @crash open @dump (its own vmcoreinfo, no option) as a full session of @t's kernel?"""
    r = Session(t["VMLINUX"], dump, [], ["sys"], extend=False, crash=crash)
    return r.clean and re.search(r"RELEASE: %s\b" % re.escape(t["RELEASE"]), r.get(0)) is not None, r


def c_releases(name, t, vmci_dump, named, crashes):
    if named is None:
        raise RuntimeError("the too-new case named no release")
    bad = []
    for ver, binary in crashes:
        ok, r = opens_full(binary, t, vmci_dump)
        expect = named != "none" and e2e_cmp(ver, named) >= 0
        e2e.info("%s: crash %s %s %s as a full session" % (name, ver, "opens" if ok else "does not open",
                                                          t["RELEASE"]))
        if ok != expect:
            bad.append("crash %s %s (%s)" % (ver, "opens it" if ok else "does not: " + r.tail(2), named))
    report(not bad, name, "; ".join(bad))


def e2e_cmp(a, b):
    x = [int(p) for p in a.split(".")]
    y = [int(p) for p in b.split(".")]
    return (x > y) - (x < y)


def lab_crashes():
    out = subprocess.run(["bash", "tests/lab/crash-versions.sh", "list"], cwd=e2e.ROOT, capture_output=True,
                         text=True)
    res = []
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and re.match(r"^\d+\.\d+\.\d+$", f[0]) and os.access(f[1], os.X_OK):
            res.append((f[0], f[1]))
    if len(res) < 2:
        raise RuntimeError("crash-versions.sh list gave %r (%s)" % (res, out.stderr.strip()[-200:]))
    return res


def main():
    try:
        dirs = e2e.boot_dirs()
        early = lab.early_dir()
    except (OSError, e2e.LabError) as e:
        report(False, "messages/lab", str(e))
        return 1
    te = lab.read_truth_file(early)
    case("messages/early/kaslr-find", c_early_find, early, te)
    case("messages/early/crash", c_early_crash, early, te)
    case("messages/early/real", c_early_real, early, te)

    novmci = [d for d in dirs if os.path.basename(d) == "novmci"]
    truths = [read_truth(d) for d in novmci]
    if len(novmci) < 2:
        report(False, "messages/wrong-vmlinux", "needs novmci boots of two kernels, the lab has %s" % novmci)
    for i in range(len(novmci) if len(novmci) > 1 else 0):
        t, j = truths[i], (i + 1) % len(novmci)
        case("messages/wrong-vmlinux/%s-on-%s" % (t["KVER"], truths[j]["KVER"]), c_wrong_vmlinux, t,
             novmci[j], truths[j])

    try:
        crashes = lab_crashes()
    except (OSError, RuntimeError) as e:
        report(False, "messages/crash-releases", str(e))
        crashes = []
    too_new = 0
    for d, t in zip(novmci, truths):
        full, _ = e2e.full_session(t, os.path.join(d, "idle.elf"))
        if full:
            continue
        too_new += 1
        named = []
        case("messages/too-new/%s" % t["KVER"], lambda n, d, t: named.append(c_too_new(n, d, t)), d, t)
        vmci = os.path.join(os.path.dirname(d), "vmci", "idle.elf")
        case("messages/releases/%s" % t["KVER"], c_releases, t, vmci, named[0] if named else None, crashes)
    # The lab holds 6.12 and 7.2, which crash 8.0.2 cannot initialise.
    report(too_new > 0, "messages/too-new", "the system's crash initialises every lab kernel: no case")
    report(ran == want, "messages/count", "ran %d of %d cases" % (ran, want))
    return 1 if e2e.failed else 0


if __name__ == "__main__":
    sys.exit(main())
