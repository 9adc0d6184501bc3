#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""End-to-end tests: the real crash binary, real dumps, the real module.

Every dump of the lab (tests/lab/lab.sh) is opened in crash; what the module
says is compared with the ground truth recorded inside the guest (truth.env),
and a repaired session with a reference session of the same boot.

Groups (argv[1:], default all): baseline recover repair vmcoreinfo bad
Output: "PASS: name" / "FAIL: name: why" lines, as tests/run.sh counts them.
"""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.environ.get("KASLR_LAB_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ["HOME"], ".cache"), "kaslr-lab")
MODULE = os.path.join(ROOT, "kaslr.so")
OUT = os.path.join(ROOT, "build", "e2e")
CRASH = os.environ.get("KASLR_CRASH", "crash")
TIMEOUT = 600
failed = 0


def report(ok, name, why=""):
    global failed
    if ok:
        print("PASS: %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL: %s: %s" % (name, why), flush=True)


def info(msg):
    print("INFO: %s" % msg, flush=True)


def read_truth(d):
    t = {}
    with open(os.path.join(d, "truth.env")) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                t[k] = v.strip().strip('"').strip("'")
    t["ko"] = int(t["KERNELOFFSET"], 16)
    t["pb"] = int(t["PHYS_BASE"])
    return t


def boot_dirs():
    """The vmci, novmci and novmci-la57 (5-level paging) boots of the current kernel of every suite."""
    dirs = []
    for suite in os.environ.get("KASLR_LAB_SUITES", "bookworm trixie").split():
        with open(os.path.join(LAB, "kernels", suite + ".current")) as f:
            kver = f.read().strip()
        for boot in ("vmci", "novmci", "novmci-la57"):
            d = os.path.join(LAB, "dumps", kver, boot)
            if not os.path.exists(os.path.join(d, "DONE")):
                raise OSError("%s is not finished (no DONE)" % d)
            dirs.append(d)
    return dirs


def dumps():
    """(name, dumpdir, dumpfile, truth) for every dump of the lab's current kernels."""
    res = []
    dirs = boot_dirs()
    for d in dirs:
        t = read_truth(d)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".elf") or fn.endswith(".kdump"):
                rel = "/".join(os.path.join(d, fn).split(os.sep)[-3:])
                res.append((rel, d, os.path.join(d, fn), t))
    return res


def has_regs(path):
    b = os.path.basename(path)
    return "-noqemu" not in b and "-nonotes" not in b


class Session:
    """One crash run: commands in on stdin, output split per command."""

    def __init__(self, vmlinux, dump, opts=(), cmds=(), extend=True):
        self.cmds = list(cmds)
        script = []
        if extend:
            script.append("extend %s" % MODULE)
        for i, c in enumerate(self.cmds):
            script.append("!echo '@@CMD %d@@'" % i)
            script.append(c)
        script.append("!echo '@@END@@'")
        script.append("exit")
        argv = [CRASH, "-s", "--no_scroll"] + list(opts) + [vmlinux, dump]
        t0 = time.time()
        try:
            p = subprocess.run(argv, input="\n".join(script) + "\n", capture_output=True,
                               text=True, errors="replace", timeout=TIMEOUT)
            self.rc, self.stdout, self.stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            self.rc, self.stdout, self.stderr = -1, e.stdout or "", "timeout"
            if isinstance(self.stdout, bytes):
                self.stdout = self.stdout.decode(errors="replace")
        self.seconds = time.time() - t0
        self.argv = argv
        self.prompt = "@@END@@" in self.stdout
        self.out = {}
        parts = re.split(r"@@CMD (\d+)@@\n", self.stdout)
        for i in range(1, len(parts) - 1, 2):
            self.out[int(parts[i])] = parts[i + 1].split("@@END@@")[0]
        self.loaded = "kaslr.so: shared object loaded" in self.stdout

    def get(self, i):
        return self.out.get(i, "")

    def why(self):
        tail = (self.stdout + self.stderr).strip().splitlines()[-3:]
        return "rc %s, %s" % (self.rc, " | ".join(tail))


def parse_result(text):
    """KERNELOFFSET and PHYS_BASE from 'kaslr' output, or None."""
    ko = re.search(r"KERNELOFFSET: ([0-9a-f]+)", text)
    pb = re.search(r"PHYS_BASE: ([0-9a-f]+) \((-?\d+)\)", text)
    if not ko or not pb:
        return None
    return int(ko.group(1), 16), int(pb.group(2))


def session_line(text):
    m = re.search(r"SESSION: relocate ([0-9a-f]+), phys_base ([0-9a-f]+): (\S+)", text)
    if not m:
        return None
    return int(m.group(1), 16), int(m.group(2), 16), m.group(3)


def s64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def kernel_supported_full(t):
    """crash 8.0.2 predates the 6.4 struct module layout: full sessions need < 6.4."""
    m = re.match(r"(\d+)\.(\d+)", t["RELEASE"])
    return m and (int(m.group(1)), int(m.group(2))) < (6, 4)


def right_opts(t):
    return ["--kaslr=0x%x" % t["ko"], "--machdep", "phys_base=0x%x" % (t["pb"] & (2**64 - 1))]


# ---------------------------------------------------------------------------
# Commands compared between a repaired session and a reference one.
MINIMAL_CMDS = ["sym _stext", "sym linux_banner", "rd -a linux_banner", "dis -l start_kernel 4",
                "sym start_kernel", "log | tail -n 3"]
FULL_CMDS = ["sys", "p jiffies", "p init_uts_ns.name.release", "ps", "bt -a", "mod", "kmem -i",
             "log | tail -n 5", "dis -l start_kernel 4", "sym schedule", "rd -a linux_banner",
             "struct task_struct.comm init_task", "runq", "files", "net"]


# Repair is compared on five shapes of every boot: registers in an ELF dump, a
# kdump-compressed dump, and three register-less ones (ELF without QEMU notes,
# ELF and kdump-compressed without any note); KASLR_E2E_ALL=1 repairs all.
REPAIR_SET = {"idle.elf", "panic.kdump", "idle-noqemu.elf", "panic-nonotes.elf", "panic-nonotes.kdump"}


def normalise(text):
    return "\n".join(l.rstrip() for l in text.strip().splitlines())


def first_diff(a, b):
    al, bl = a.splitlines(), b.splitlines()
    for j in range(max(len(al), len(bl))):
        x = al[j] if j < len(al) else "<none>"
        y = bl[j] if j < len(bl) else "<none>"
        if x != y:
            return "line %d: repaired %r, reference %r" % (j + 1, x[:120], y[:120])
    return ""


def cmd_name(c):
    w = c.split(" ", 1)
    return w[0] + ("" if len(w) == 1 else "-" + re.sub(r"\W+", "_", w[1]).strip("_")[:24])


def check_dump(name, dump, t, groups):
    """All sessions of one dump; returns report tuples (ok, name, why) and baseline rows."""
    res, rows = [], []
    R = lambda ok, n, why="": res.append((bool(ok), n, why))
    full_ok = kernel_supported_full(t)
    # S1: a --minimal session as crash opens it by itself.
    s1 = Session(t["VMLINUX"], dump, ["--minimal"], ["rd -a linux_banner", "kaslr", "kaslr -v", "kaslr -c"])
    # S2: a full session as crash opens it by itself.
    s2 = Session(t["VMLINUX"], dump, [], ["sys", "kaslr"]) if "baseline" in groups or "recover" in groups else None
    if not s1.prompt:
        # crash itself stops before a prompt even with --minimal (a register-less dump of a
        # panicked 6.1 guest ends in "vmalloc_base"): nothing for the module to load into.
        # Such dumps are kaslr-find's (tests/e2e/kaslr-find.sh opens them with its crash line);
        # here the right values must open them.
        r = Session(t["VMLINUX"], dump, right_opts(t) + ([] if full_ok else ["--minimal"]),
                    ["rd -a linux_banner", "kaslr"])
        R(r.prompt and r.loaded and parse_result(r.get(1)) == (t["ko"], t["pb"]),
          "crash-cannot-open/right-values/" + name, r.why())
        rows.append((name, "minimal", False, False, "-", "-", hex(t["ko"]), t["pb"], "no prompt"))
        info("%s: crash 8.0.2 reaches no prompt, even --minimal: %s" % (name, s1.why()))
        return res, rows
    if "baseline" in groups:
        for mode, s, k in (("minimal", s1, 1), ("full", s2, 1)):
            sl = session_line(s.get(k))
            if sl:
                cko, cpb = sl[0], s64(sl[1])
                verdict = "right" if (cko, cpb) == (t["ko"], t["pb"]) else "WRONG"
            else:
                cko = cpb = None
                verdict = "no prompt" if not s.prompt else "?"
            rows.append((name, mode, s.prompt, t["RELEASE"] in s.get(0),
                         hex(cko) if cko is not None else "-", cpb if cpb is not None else "-",
                         hex(t["ko"]), t["pb"], verdict))
        R(s1.prompt and s1.loaded, "load/minimal/" + name, "module did not load: " + s1.why())
        if s2.prompt:
            R(s2.loaded, "load/full/" + name, "module did not load: " + s2.why())
        elif full_ok:
            # crash stops before a prompt by itself: with the right values it must come up,
            # and the module must load there.
            r = Session(t["VMLINUX"], dump, right_opts(t), ["sys"])
            R(r.prompt and r.loaded and t["RELEASE"] in r.get(0), "load/full-right-values/" + name, r.why())
    if "recover" in groups:
        got = parse_result(s1.get(1))
        R(got == (t["ko"], t["pb"]), "recover/minimal/" + name,
          "got %s, want (0x%x, %d): %s" % (got and (hex(got[0]), got[1]), t["ko"], t["pb"],
                                           (s1.get(1).strip().splitlines() or [s1.why()])[-1]))
        if has_regs(dump):
            # Each CPU on its own: it gave a verified candidate, and every one equals truth.
            cpus = {}
            for m in re.finditer(r"^\s*\d+\*?\s+(pagetable|idt)\s+(\d+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+ok\b",
                                 s1.get(2), re.M):
                cpus.setdefault(int(m.group(2)), []).append(
                    (m.group(1), hex(int(m.group(3), 16)), s64(int(m.group(4), 16))))
            for cpu in range(int(t.get("NCPUS", "2"))):
                c = cpus.get(cpu, [])
                ok = bool(c) and all((int(ko, 16), pb) == (t["ko"], t["pb"]) for _, ko, pb in c)
                R(ok, "recover/cpu%d/%s" % (cpu, name), "candidates %s, want (0x%x, %d)" % (c, t["ko"], t["pb"]))
        if s2 and s2.prompt:
            got = parse_result(s2.get(1))
            sl = session_line(s2.get(1))
            right = sl and (sl[0], s64(sl[1])) == (t["ko"], t["pb"])
            # The full session crash made by itself: the answer is truth, and "consistent"
            # exactly when crash itself was right.
            R(got == (t["ko"], t["pb"]) and sl and (sl[2] == "consistent") == bool(right),
              "recover/full-session/" + name, "got %s / %s" % (got, sl))
    if "repair" in groups and (os.path.basename(dump) in REPAIR_SET or os.environ.get("KASLR_E2E_ALL")):
        cmds = FULL_CMDS if full_ok else MINIMAL_CMDS
        opts = ["--minimal"]
        if session_line(s1.get(1)) and session_line(s1.get(1))[2] == "consistent":
            # crash placed this one right by itself: start it wrong on purpose, the way
            # crash 8.0.2's banner scan goes wrong (offset 0, phys_base + offset).
            opts += ["--kaslr=0", "--machdep", "phys_base=0x%x" % ((t["pb"] + t["ko"]) & (2**64 - 1))]
        s = Session(t["VMLINUX"], dump, opts, ["kaslr -r"] + cmds + ["kaslr -r", "sym _stext"])
        ref = Session(t["VMLINUX"], dump, right_opts(t) + ([] if full_ok else ["--minimal"]),
                      cmds + ["sym _stext"], extend=False)
        tag = "minimal" + ("+wrong-start" if len(opts) > 1 else "")
        if not ref.prompt:
            R(False, "repair/reference/" + name, "reference session failed: " + ref.why())
        else:
            rep = s.get(0)
            ok = "relocated to KERNELOFFSET %x" % t["ko"] in rep
            R(ok, "repair/%s/relocated/%s" % (tag, name), (rep.strip() or s.why())[:300])
            if ok:
                for i, c in enumerate(cmds):
                    a, b = normalise(s.get(i + 1)), normalise(ref.get(i))
                    R(a == b and b != "", "repair/%s/%s/%s" % (tag, cmd_name(c), name),
                      first_diff(a, b) or "empty output")
                n = len(cmds)
                R("already relocated" in s.get(n + 1) and normalise(s.get(n + 2)) == normalise(ref.get(n)),
                  "repair/%s/twice/%s" % (tag, name), s.get(n + 1).strip()[:200])
    return res, rows


def run_all(ds, groups):
    from concurrent.futures import ThreadPoolExecutor
    os.makedirs(OUT, exist_ok=True)
    jobs = int(os.environ.get("KASLR_E2E_JOBS", str(os.cpu_count() or 2)))
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(check_dump, name, dump, t, groups) for name, d, dump, t in ds]
        allrows = []
        for f in futs:
            res, rows = f.result()
            for ok, n, why in res:
                report(ok, n, why)
            allrows += rows
    if allrows:
        hdr = ("dump", "mode", "prompt", "release_ok", "crash_offset", "crash_phys_base",
               "truth_offset", "truth_phys_base", "verdict")
        lines = ["\t".join(hdr)] + ["\t".join(str(x) for x in r) for r in allrows]
        with open(os.path.join(OUT, "baseline.tsv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        for l in lines:
            info("baseline " + l.replace("\t", " | "))




def main():
    groups = sys.argv[1:] or ["baseline", "recover", "repair"]
    try:
        ds = dumps()
    except OSError as e:
        report(False, "e2e/lab", "no lab dumps (%s): run tests/lab/lab.sh all" % e)
        return 1
    if not ds:
        report(False, "e2e/lab", "the lab index lists no dumps")
        return 1
    only = os.environ.get("KASLR_E2E_ONLY")
    if only:
        ds = [x for x in ds if re.search(only, x[0])]
    run_all(ds, groups)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
