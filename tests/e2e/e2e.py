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


def dumps():
    """(name, dumpdir, dumpfile, truth) for every dump of the lab's current kernels."""
    index = os.path.join(LAB, "dumps", "index")
    res = []
    with open(index) as f:
        dirs = [l.strip() for l in f if l.strip()]
    for d in dirs:
        t = read_truth(d)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".elf") or fn.endswith(".kdump"):
                rel = os.path.relpath(os.path.join(d, fn), os.path.join(LAB, "dumps"))
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

def group_baseline(ds):
    """crash 8.0.2's own result on every dump; the module loads in full and minimal sessions."""
    os.makedirs(OUT, exist_ok=True)
    rows = ["dump\tmode\tprompt\trelease_ok\tcrash_offset\tcrash_phys_base\ttruth_offset\ttruth_phys_base\tverdict"]
    for name, d, dump, t in ds:
        for mode, opts in (("full", []), ("minimal", ["--minimal"])):
            s = Session(t["VMLINUX"], dump, opts, ["sys" if mode == "full" else "rd -a linux_banner", "kaslr"])
            sl = session_line(s.get(1))
            rel_ok = t["RELEASE"] in s.get(0)
            if sl:
                cko, cpb = sl[0], s64(sl[1])
                verdict = "right" if (cko, cpb) == (t["ko"], t["pb"]) else "WRONG"
            else:
                cko = cpb = None
                verdict = "no prompt" if not s.prompt else "?"
            rows.append("\t".join(str(x) for x in (
                name, mode, s.prompt, rel_ok, hex(cko) if cko is not None else "-",
                cpb if cpb is not None else "-", hex(t["ko"]), t["pb"], verdict)))
            if mode == "minimal" or s.prompt:
                report(s.prompt and s.loaded, "load/%s/%s" % (mode, name),
                       "module did not load: " + s.why())
            else:
                # crash itself stops before a prompt: a full session must then come up
                # with the right values, and the module must load in it.
                if kernel_supported_full(t):
                    r = Session(t["VMLINUX"], dump, right_opts(t), ["sys"])
                    report(r.prompt and r.loaded, "load/full-right-values/%s" % name, r.why())
                else:
                    info("load/full/%s: crash 8.0.2 cannot open %s fully (struct module "
                         "layout of 6.4+); minimal only" % (name, t["RELEASE"]))
    with open(os.path.join(OUT, "baseline.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    for r in rows:
        info("baseline " + r.replace("\t", " | "))


def group_recover(ds):
    """'kaslr' finds ground truth on every dump, in minimal and (where crash can) full sessions."""
    for name, d, dump, t in ds:
        s = Session(t["VMLINUX"], dump, ["--minimal"], ["kaslr", "kaslr -v"])
        res = parse_result(s.get(0))
        report(res == (t["ko"], t["pb"]), "recover/minimal/%s" % name,
               "got %s, want (0x%x, %d); %s" % (
                   res and (hex(res[0]), res[1]), t["ko"], t["pb"],
                   (s.get(0).strip().splitlines() or [s.why()])[-1]))
        if has_regs(dump):
            # Each CPU on its own: every register-based candidate that verified equals truth,
            # and every CPU gave one.
            cpus = {}
            for m in re.finditer(r"^\s*\d+\*?\s+(pagetable|idt)\s+(\d+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+OK",
                                 s.get(1), re.M):
                cpus.setdefault(int(m.group(2)), []).append(
                    (m.group(1), int(m.group(3), 16), s64(int(m.group(4), 16))))
            ncpus = int(t.get("NCPUS", "2"))
            for cpu in range(ncpus):
                c = cpus.get(cpu, [])
                ok = bool(c) and all((ko, pb) == (t["ko"], t["pb"]) for _, ko, pb in c)
                report(ok, "recover/cpu%d/%s" % (cpu, name),
                       "candidates %s, want (0x%x, %d)" % (c, t["ko"], t["pb"]))
        if kernel_supported_full(t):
            f = Session(t["VMLINUX"], dump, right_opts(t), ["kaslr"])
            res = parse_result(f.get(0))
            sl = session_line(f.get(0))
            report(res == (t["ko"], t["pb"]) and sl and sl[2] == "consistent",
                   "recover/full-session/%s" % name,
                   "got %s / %s: %s" % (res, sl, f.why()))


# Commands compared between a repaired session and a reference one.
MINIMAL_CMDS = ["sym _stext", "sym linux_banner", "rd -a linux_banner", "dis -l start_kernel 4",
                "sym -l start_kernel", "log | tail -n 3"]
FULL_CMDS = ["sys", "p jiffies", "p init_uts_ns.name.release", "ps", "bt -a", "mod", "kmem -i",
             "log | tail -n 5", "dis -l start_kernel 4", "sym schedule", "rd -a linux_banner",
             "struct task_struct.comm init_task"]


def normalise(text):
    # crash prints elapsed/uptime from the same dump: identical; nothing to strip but
    # the prompt echo of the shell escape.
    return "\n".join(l.rstrip() for l in text.strip().splitlines())


def group_repair(ds):
    """'kaslr -r' in a --minimal session gives what a right start gives."""
    for name, d, dump, t in ds:
        full = kernel_supported_full(t)
        cmds = FULL_CMDS if full else MINIMAL_CMDS
        s = Session(t["VMLINUX"], dump, ["--minimal"], ["kaslr -r"] + cmds)
        ref = Session(t["VMLINUX"], dump, right_opts(t) + ([] if full else ["--minimal"]),
                      cmds, extend=False)
        if not ref.prompt:
            report(False, "repair/reference/%s" % name, "reference session failed: " + ref.why())
            continue
        rep = s.get(0)
        ok = "relocated to KERNELOFFSET %x" % t["ko"] in rep
        report(ok, "repair/relocated/%s" % name, (rep.strip() or s.why())[:300])
        if not ok:
            continue
        for i, c in enumerate(cmds):
            a, b = normalise(s.get(i + 1)), normalise(ref.get(i))
            diff = ""
            if a != b:
                al, bl = a.splitlines(), b.splitlines()
                for j in range(max(len(al), len(bl))):
                    x = al[j] if j < len(al) else "<none>"
                    y = bl[j] if j < len(bl) else "<none>"
                    if x != y:
                        diff = "line %d: repaired %r, reference %r" % (j + 1, x[:120], y[:120])
                        break
            report(a == b and b != "", "repair/%s/%s" % (c.split()[0] + ("" if len(c.split()) == 1 else "-" + re.sub(r"\W+", "_", c.split(" ", 1)[1])[:24]), name),
                   diff or "empty output")
        # A second repair is refused, the session unchanged.
        s2 = Session(t["VMLINUX"], dump, ["--minimal"], ["kaslr -r", "kaslr -r", "sym _stext"])
        report("already relocated" in s2.get(1) and s2.get(2).strip() == normalise(ref.get(0)).strip(),
               "repair/twice/%s" % name, s2.get(1).strip()[:200])


GROUPS = {"baseline": group_baseline, "recover": group_recover, "repair": group_repair}


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
    for g in groups:
        GROUPS[g](ds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
