#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""End-to-end tests: the real crash binary, real dumps, the real module.

Every dump of the lab (tests/lab/lab.sh; the list is tests/lib/lab.py) is opened
in crash; what the module says is compared with the ground truth recorded inside
the guest (truth.env), and a repaired session with a reference session of the
same boot.

Groups (argv[1:], default all; an unknown group is an error):
  baseline  the module loads into the --minimal and the full session crash makes
            by itself (a table of what crash got right: build/e2e/baseline.tsv)
  recover   "kaslr" in those sessions gives the truth; every CPU's candidate too
  repair    "kaslr -r" turns a wrongly started --minimal session into one whose
            commands print what a session started with the right values prints
            (REPAIR_SET: five shapes per boot).  The wrong start is crash's own
            where crash places the dump wrong by itself, else wrong_start(),
            which crash survives on any boot, wherever KASLR put the kernel.
A session that reached crash's prompt (its first marker printed) and then lost its
end marker, exited non-zero, died by a signal or timed out fails every check that
reads it, naming the command that was running.  A dump crash cannot open at all
(no marker) must open with the right values and be answered exactly by kaslr-find.
Each group fails unless it ran every case the lab holds (KASLR_E2E_ONLY=regex
narrows the dumps for runs by hand: that run then fails its count).

Output: "PASS: name" / "FAIL: name: why" lines, as tests/run.sh counts them.
"e2e.py --full-session BOOT_DIR DUMP" prints "full" or "minimal WHY" (full_session), for
the shell groups.
Environment: KASLR_CRASH (crash binary), KASLR_FIND (kaslr-find), KASLR_CRASH_TIMEOUT
(seconds per crash session, default 600), KASLR_E2E_JOBS, KASLR_E2E_ONLY, KASLR_E2E_ALL.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import lab  # noqa: E402
from lab import LAB, LabError, read_truth  # noqa: E402,F401

MODULE = os.path.join(ROOT, "kaslr.so")
FIND = os.environ.get("KASLR_FIND") or os.path.join(ROOT, "kaslr-find")
OUT = os.path.join(ROOT, "build", "e2e")
CRASH = os.environ.get("KASLR_CRASH", "crash")
TIMEOUT = int(os.environ.get("KASLR_CRASH_TIMEOUT", "600"))
GROUPS = ("baseline", "recover", "repair")
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


def tail(text, n=1):
    """The last @n non-blank lines of @text, joined for a one-line FAIL reason."""
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"


def boot_dirs():
    """The vmci, novmci and novmci-la57 (5-level paging) boots of the current kernel of every suite."""
    return lab.boot_dirs()


def dumps():
    """(name, dumpdir, dumpfile, truth) for every dump of the lab's current kernels."""
    res = []
    for d in boot_dirs():
        t = read_truth(d)
        for fn in lab.dump_files(d):
            rel = "/".join(os.path.join(d, fn).split(os.sep)[-3:])
            res.append((rel, d, os.path.join(d, fn), t))
    return res


def cpu_list(text):
    """CPUs of a candidate row: "0", "0-1", "0,2-3" (one row stands for every CPU that gave it)."""
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus

def has_regs(path):
    b = os.path.basename(path)
    return "-noqemu" not in b and "-nonotes" not in b


def run_killable(argv, stdin_text, timeout):
    """Run @argv in its own process group; on timeout kill the whole group.

    @returns (rc, stdout, stderr, timed_out); rc is -SIGNAL for a signal death.
    """
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors="replace", start_new_session=True)
    try:
        out, err = p.communicate(stdin_text, timeout=timeout)
        return p.returncode, out, err, False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        out, err = p.communicate()
        return p.returncode, out or "", err or "", True


def rc_text(rc):
    if rc is not None and rc < 0:
        try:
            return "died by %s" % signal.Signals(-rc).name
        except ValueError:
            return "died by signal %d" % -rc
    return "exited %s" % rc


class Session:
    """One crash run: commands in on stdin, output split per command.

    The script is "!echo @@START@@", "extend MODULE" (unless @extend is false), then
    "!echo @@CMD i@@" and command i for each command, "!echo @@END@@", "exit".
    reached: crash came to its prompt (the start marker printed).
    clean:   it then ran to the end marker and exited 0 in time.
    broken(): for a session that reached its prompt and is not clean, why, naming
             the command that was running (the one after the last marker printed).
    """

    def __init__(self, vmlinux, dump, opts=(), cmds=(), extend=True, crash=None, module=None, timeout=None):
        self.cmds = list(cmds)
        self.steps = [("@@START@@", "extend %s" % (module or MODULE) if extend else None)]
        self.steps += [("@@CMD %d@@" % i, c) for i, c in enumerate(self.cmds)]
        self.steps.append(("@@END@@", "exit"))
        script = []
        for marker, c in self.steps:
            script.append("!echo '%s'" % marker)
            if c:
                script.append(c)
        self.argv = [crash or CRASH, "-s", "--no_scroll"] + list(opts) + [vmlinux, dump]
        self.timeout = timeout or TIMEOUT
        t0 = time.time()
        self.rc, self.stdout, self.stderr, self.timed_out = run_killable(
            self.argv, "\n".join(script) + "\n", self.timeout)
        self.seconds = time.time() - t0
        # Unanchored: a command's output may not end in a newline ("rd -a").
        seen = set(re.findall(r"@@(?:START|END|CMD \d+)@@", self.stdout))
        self.reached = "@@START@@" in seen
        self.ended = "@@END@@" in seen
        self.clean = self.reached and self.ended and self.rc == 0 and not self.timed_out
        self.last = max((i for i, (m, _) in enumerate(self.steps) if m in seen), default=-1)
        self.out = {}
        parts = re.split(r"@@CMD (\d+)@@\n", self.stdout)
        for i in range(1, len(parts) - 1, 2):
            self.out[int(parts[i])] = parts[i + 1].split("@@END@@")[0]
        self.loaded = "kaslr.so: shared object loaded" in self.stdout
        # Compatibility for callers that ask "did it run to the end": clean.
        self.prompt = self.clean

    def get(self, i):
        return self.out.get(i, "")

    def running(self):
        """The command after the last marker printed."""
        marker, c = self.steps[self.last]
        if marker == "@@END@@":
            return "'exit' (after the last command)"
        if marker == "@@START@@":
            return "'%s' (before the first command)" % c if c else "the first command"
        return "'%s' (command %d of %d)" % (c, self.last, len(self.cmds))

    def broken(self):
        """None, or why a session that reached crash's prompt did not end cleanly."""
        if not self.reached or self.clean:
            return None
        if self.timed_out:
            what = "timed out after %d s" % self.timeout
        elif self.rc != 0:
            what = "crash %s" % rc_text(self.rc)
        else:
            what = "crash exited 0 without its end marker"
        return "%s during %s: %s" % (what, self.running(), self.tail())

    def tail(self, n=3):
        lines = [l for l in (self.stdout + "\n" + self.stderr).strip().splitlines() if l.strip()]
        return " | ".join(lines[-n:]) if lines else "(no output)"

    def why(self):
        return self.broken() or "rc %s%s, %s" % (self.rc, ", timed out" if self.timed_out else "", self.tail())


def build_id(vmlinux):
    """The GNU build-id of a vmlinux, as readelf reads it."""
    out = subprocess.run(["readelf", "-n", vmlinux], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    if not m:
        raise RuntimeError("readelf -n %s: no build-id" % vmlinux)
    return m.group(1)


def find(vmlinux, dump):
    """kaslr-find --json on a dump: (rc, parsed JSON or None, stderr tail)."""
    rc, out, err, to = run_killable([FIND, "--json", vmlinux, dump], "", TIMEOUT)
    try:
        j = json.loads(out)
    except ValueError:
        j = None
    tail = " | ".join(l for l in err.strip().splitlines()[-2:])
    return (rc if not to else "timeout"), j, tail


def find_exact(vmlinux, dump, t):
    """(ok, why): kaslr-find gives exactly the truth of @t for this dump."""
    rc, j, err = find(vmlinux, dump)
    got = j and (j.get("kernel_offset"), j.get("phys_base"))
    ok = rc == 0 and got == (t["ko"], t["pb"])
    return ok, "kaslr-find exit %s, got %s, want (%d, %d): %s" % (rc, got, t["ko"], t["pb"], err)


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


# crash's own words when a kernel structure has changed under it (its OFFSET() of a member
# the kernel no longer has): "crash: invalid structure member offset: module_core_size".
CANNOT_INIT = re.compile(r"invalid structure (?:member offset|size): \S+")
_full = {}
_full_lock = threading.Lock()


def full_session(t, dump, crash=None):
    """(ok, why): can @crash come up as a full session on this kernel at all?

    Asked of crash itself, once per crash and kernel: a full session started with the
    truth (--kaslr= and --machdep phys_base=).  Only when crash stops before its prompt
    with its own "invalid structure member offset" (a kernel newer than this crash knows:
    crash 8.0.2 on the struct module of 6.4 and later, crash 9.0.2 on 7.2's
    module_num_gpl_syms) is the answer no: then no repair can give a full session
    either, and a repaired session must stay minimal, right, and say so.  Any other
    failure is no excuse: the answer is yes, and the full sessions that follow fail.
    The answer is kept in build/e2e/full-session/ for the other groups, keyed by the
    crash binary (path, size, mtime) and the vmlinux.
    """
    path = shutil.which(crash or CRASH) or (crash or CRASH)
    st = os.stat(path)
    key = "%s %d %d %s" % (os.path.realpath(path), st.st_size, st.st_mtime_ns, t["VMLINUX"])
    cache = os.path.join(OUT, "full-session", hashlib.sha1(key.encode()).hexdigest())
    with _full_lock:
        entry = _full.setdefault(key, [threading.Lock(), None])
    with entry[0]:
        if entry[1] is None and os.path.exists(cache):
            with open(cache) as f:
                ok, _, why = f.read().strip().partition(" ")
            entry[1] = (ok == "1", why)
        if entry[1] is None:
            r = Session(t["VMLINUX"], dump, right_opts(t), ["sys"], extend=False, crash=crash)
            m = None if r.reached else CANNOT_INIT.search(r.stdout + r.stderr)
            entry[1] = (not m, m.group(0) if m else "")
            if m:
                info("%s cannot initialise %s as a full session (it says \"%s\"): a repaired "
                     "session must stay minimal with the right values, and say so" % (
                         crash or CRASH, t["KVER"], m.group(0)))
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(cache + ".tmp", "w") as f:
                f.write("%d %s\n" % entry[1])
            os.replace(cache + ".tmp", cache)
        return entry[1]


def right_opts(t):
    return ["--kaslr=0x%x" % t["ko"], "--machdep", "phys_base=0x%x" % (t["pb"] & (2**64 - 1))]


def wrong_start(t):
    """A wrong start crash survives on any boot: what crash 8.0.2's banner scan makes.

    --kaslr=0 with phys_base = PHYS_BASE + KERNELOFFSET: crash translates a kernel-image
    address as vaddr - __START_KERNEL_map + phys_base, so every read of a variable at its
    unrelocated address lands on the variable's right physical bytes, wherever KASLR put
    the kernel; crash reaches its prompt by construction.  The offset is still wrong (0),
    so "kaslr -r" has work to do.
    """
    return ["--kaslr=0", "--machdep", "phys_base=0x%x" % ((t["pb"] + t["ko"]) & (2**64 - 1))]


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
assert REPAIR_SET <= set(lab.DUMPS)


def repaired(dump):
    return os.path.basename(dump) in REPAIR_SET or bool(os.environ.get("KASLR_E2E_ALL"))


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
    """All sessions of one dump.

    @returns (report tuples (ok, name, why), baseline rows, the groups whose checks ran)
    """
    res, rows, covered = [], [], set()

    def R(ok, n, why="", ss=()):
        """One check; it fails if a session it reads reached crash's prompt and then broke."""
        for s in ss:
            if s.broken():
                ok, why = False, s.broken()
                break
        res.append((bool(ok), n, why))

    # Asked of crash only where a check depends on it (a run of "recover" alone never does).
    def full_ok():
        return full_session(t, dump)[0]
    want = (t["ko"], t["pb"])
    # S1: a --minimal session as crash opens it by itself.
    s1 = Session(t["VMLINUX"], dump, ["--minimal"], ["rd -a linux_banner", "kaslr", "kaslr -v", "kaslr -c"])
    # S2: a full session as crash opens it by itself.
    s2 = Session(t["VMLINUX"], dump, [], ["sys", "kaslr"]) if "baseline" in groups or "recover" in groups else None
    if not s1.reached and {"baseline", "recover"} & set(groups):
        # crash itself stops before its prompt even with --minimal (on a register-less dump
        # of a panicked 6.1 guest its banner scan can take a copy of the banner for the
        # kernel's, as KASLR placed it): nothing for the module to load into.  The right
        # values must open it, the module must load there and answer, and kaslr-find must
        # answer exactly on the same dump.
        r = Session(t["VMLINUX"], dump, right_opts(t) + ([] if full_ok() else ["--minimal"]),
                    ["rd -a linux_banner", "kaslr"])
        R(r.clean and r.loaded and parse_result(r.get(1)) == want,
          "crash-cannot-open/right-values/" + name, r.why(), ss=(r,))
        ok, why = find_exact(t["VMLINUX"], dump, t)
        R(ok, "crash-cannot-open/kaslr-find/" + name, why)
        rows.append((name, "minimal", False, False, "-", "-", hex(t["ko"]), t["pb"], "no prompt"))
        info("%s: crash reaches no prompt by itself, even --minimal: %s" % (name, s1.why()))
        covered |= {"baseline", "recover"} & set(groups)
    elif s1.reached:
        if "baseline" in groups:
            for mode, s, k in (("minimal", s1, 1), ("full", s2, 1)):
                sl = session_line(s.get(k))
                if sl:
                    cko, cpb = sl[0], s64(sl[1])
                    verdict = "right" if (cko, cpb) == want else "WRONG"
                else:
                    cko = cpb = None
                    verdict = "no prompt" if not s.reached else "broke" if s.broken() else "?"
                rows.append((name, mode, s.reached, t["RELEASE"] in s.get(0),
                             hex(cko) if cko is not None else "-", cpb if cpb is not None else "-",
                             hex(t["ko"]), t["pb"], verdict))
            R(s1.loaded, "load/minimal/" + name, "module did not load: " + s1.why(), ss=(s1,))
            if s2.reached:
                R(s2.loaded, "load/full/" + name, "module did not load: " + s2.why(), ss=(s2,))
            elif full_ok():
                # crash stops before its prompt by itself: with the right values it must come
                # up, and the module must load there.
                r = Session(t["VMLINUX"], dump, right_opts(t), ["sys"])
                R(r.clean and r.loaded and t["RELEASE"] in r.get(0), "load/full-right-values/" + name,
                  r.why(), ss=(r,))
            covered.add("baseline")
        if "recover" in groups:
            got = parse_result(s1.get(1))
            R(got == want, "recover/minimal/" + name,
              "got %s, want (0x%x, %d): %s" % (got and (hex(got[0]), got[1]), t["ko"], t["pb"],
                                               (s1.get(1).strip().splitlines() or [s1.why()])[-1]), ss=(s1,))
            if has_regs(dump):
                # Each CPU on its own: it gave a verified candidate, and every one equals truth.
                cpus = {}
                for m in re.finditer(r"^\s*\d+\*?\s+(pagetable|idt)\s+([0-9][0-9,-]*)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+ok\b",
                                     s1.get(2), re.M):
                    for cpu in cpu_list(m.group(2)):
                        cpus.setdefault(cpu, []).append(
                            (m.group(1), hex(int(m.group(3), 16)), s64(int(m.group(4), 16))))
                for cpu in range(int(t.get("NCPUS", "2"))):
                    c = cpus.get(cpu, [])
                    ok = bool(c) and all((int(ko, 16), pb) == want for _, ko, pb in c)
                    R(ok, "recover/cpu%d/%s" % (cpu, name), "candidates %s, want (0x%x, %d)" % (c, t["ko"], t["pb"]),
                      ss=(s1,))
            if s2 and s2.reached:
                got = parse_result(s2.get(1))
                sl = session_line(s2.get(1))
                right = sl and (sl[0], s64(sl[1])) == want
                # The full session crash made by itself: the answer is truth, and "consistent"
                # exactly when crash itself was right.
                R(got == want and sl and (sl[2] == "consistent") == bool(right),
                  "recover/full-session/" + name, "got %s / %s" % (got, sl), ss=(s2,))
            covered.add("recover")
    if "repair" in groups and repaired(dump):
        full = full_ok()
        cmds = FULL_CMDS if full else MINIMAL_CMDS
        sl = session_line(s1.get(1)) if s1.reached and not s1.broken() else None
        if sl and sl[2].startswith("WRONG"):
            # crash placed it wrong by itself: repair the session users get.
            opts = ["--minimal"]
        else:
            # crash placed it right by itself, or cannot open it at all: start it wrong on
            # purpose, the way crash 8.0.2's banner scan goes wrong, which crash survives
            # on any boot (wrong_start).
            opts = ["--minimal"] + wrong_start(t)
        s = Session(t["VMLINUX"], dump, opts, ["kaslr -r"] + cmds + ["kaslr -r", "sym _stext"])
        ref = Session(t["VMLINUX"], dump, right_opts(t) + ([] if full else ["--minimal"]),
                      cmds + ["sym _stext"], extend=False)
        tag = "minimal" + ("+wrong-start" if len(opts) > 1 else "")
        if not ref.reached:
            R(False, "repair/reference/" + name, "reference session failed: " + ref.why())
        else:
            rep = s.get(0)
            ok = "relocated to KERNELOFFSET %x" % t["ko"] in rep
            R(ok, "repair/%s/relocated/%s" % (tag, name), (rep.strip() or s.why())[:300], ss=(s,))
            if ok:
                # What crash can make of this kernel (full_session), the repair must make,
                # and say which: a full session, or "stays minimal" where crash cannot.
                says_minimal = "this session stays minimal" in rep
                R(says_minimal != full, "repair/%s/%s/%s" % (
                    tag, "full-session" if full else "stays-minimal", name), rep.strip()[-300:], ss=(s,))
                for i, c in enumerate(cmds):
                    a, b = normalise(s.get(i + 1)), normalise(ref.get(i))
                    R(a == b and b != "", "repair/%s/%s/%s" % (tag, cmd_name(c), name),
                      first_diff(a, b) or "empty output", ss=(s, ref))
                n = len(cmds)
                R("already relocated" in s.get(n + 1) and normalise(s.get(n + 2)) == normalise(ref.get(n)),
                  "repair/%s/twice/%s" % (tag, name), s.get(n + 1).strip()[:200], ss=(s, ref))
        covered.add("repair")
    return res, rows, covered


def run_all(ds, groups):
    """Every dump in @ds; returns {group: number of dumps whose checks of that group ran}."""
    from concurrent.futures import ThreadPoolExecutor
    os.makedirs(OUT, exist_ok=True)
    jobs = int(os.environ.get("KASLR_E2E_JOBS", str(os.cpu_count() or 2)))
    ran = {g: 0 for g in groups}
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [(name, ex.submit(check_dump, name, dump, t, groups)) for name, d, dump, t in ds]
        allrows = []
        for name, f in futs:
            try:
                res, rows, covered = f.result()
            except Exception as e:      # a dump that cannot be checked is a failure, never a skip
                report(False, "e2e/" + name, "%s: %s" % (type(e).__name__, e))
                continue
            for ok, n, why in res:
                report(ok, n, why)
            for g in covered:
                ran[g] += 1
            allrows += rows
    if allrows:
        hdr = ("dump", "mode", "prompt", "release_ok", "crash_offset", "crash_phys_base",
               "truth_offset", "truth_phys_base", "verdict")
        lines = ["\t".join(hdr)] + ["\t".join(str(x) for x in r) for r in allrows]
        with open(os.path.join(OUT, "baseline.tsv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        for l in lines:
            info("baseline " + l.replace("\t", " | "))
    return ran


def main():
    if sys.argv[1:2] == ["--full-session"]:
        # For the shell groups: "e2e.py --full-session DIR DUMP" prints "full", or
        # "minimal" and what crash said (full_session; the same cache).
        if len(sys.argv) != 4:
            sys.stderr.write("usage: e2e.py --full-session BOOT_DIR DUMP\n")
            return 2
        ok, why = full_session(read_truth(sys.argv[2]), sys.argv[3])
        print("full" if ok else "minimal %s" % why)
        return 0
    groups = sys.argv[1:] or list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        report(False, "e2e/groups", "unknown group %s (known: %s)" % (" ".join(unknown), " ".join(GROUPS)))
        return 1
    try:
        ds = dumps()
    except (OSError, LabError, KeyError, ValueError) as e:
        report(False, "e2e/lab", "the lab is incomplete (%s): run tests/lab/lab.sh dumps" % e)
        return 1
    # What each group must cover: every dump of the lab (repair: the REPAIR_SET ones).
    want = {g: sum(1 for x in ds if g != "repair" or repaired(x[2])) for g in groups}
    only = os.environ.get("KASLR_E2E_ONLY")
    if only:
        ds = [x for x in ds if re.search(only, x[0])]
    ran = run_all(ds, groups)
    for g in groups:
        info("%s: %d of the lab's %d cases" % (g, ran[g], want[g]))
        report(ran[g] == want[g] and want[g] > 0, "e2e/count/" + g,
               "ran %d of the lab's %d cases%s" % (ran[g], want[g],
                                                   " (KASLR_E2E_ONLY=%s: a partial run)" % only if only else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
