#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""What the real-dump lab holds: the one list every e2e group counts against.

tests/lab/lab.sh makes, for the current kernel of each suite (kernels/SUITE.current),
the boots BOOTS, each a directory dumps/KVER/BOOT listed in dumps/index, finished
(DONE), with a truth.env and every dump of DUMPS.  An e2e group derives from these
lists how many cases it must run and fails when it ran fewer; a lab that lacks any
of them is an error here, never a shorter list.

As a program (for the shell groups), stdlib only:
  lab.py dirs            one boot directory a line
  lab.py dumps           "DIR FILE" for every dump of every boot directory
  lab.py arm64-dirs      one arm64 boot directory a line (dumps/index.arm64)
  lab.py early-dir       the early-boot dump directory (lab.sh early)
Both exit 1 with one "lab.py: error: ..." line on stderr when the lab is incomplete.
Environment: KASLR_LAB_DIR, KASLR_LAB_SUITES (as lab.sh).
"""
import os
import sys

LAB = os.environ.get("KASLR_LAB_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ["HOME"], ".cache"), "kaslr-lab")
SUITES = os.environ.get("KASLR_LAB_SUITES", "bookworm trixie sid").split()
# The boots `lab.sh dumps` makes per kernel: with the vmcoreinfo device, without,
# and without on a la57 CPU (5-level paging where the kernel supports it).
BOOTS = ("vmci", "novmci", "novmci-la57")
# The dumps of every boot directory (tests/lab/README.md, "What a dump directory holds").
DUMPS = ("idle.elf", "idle.kdump", "panic.elf", "panic.kdump",
         "idle-noqemu.elf", "panic-noqemu.elf", "idle-nonotes.elf", "panic-nonotes.elf",
         "panic-nonotes.kdump")


# arm64 boots (tests/lab/README.md, "arm64"): listed in dumps/index.arm64, apart
# from the x86_64 ones every other group walks.
ARM64_SUITES = os.environ.get("KASLR_LAB_ARM64_SUITES", "bookworm trixie").split()
ARM64_BOOTS = ("vmci", "novmci")
ARM64_DUMPS = ("idle.elf", "idle.kdump", "panic.elf", "panic.kdump", "idle-nonotes.elf", "panic-nonotes.elf",
               "panic-nonotes.kdump")


class LabError(Exception):
    """The lab lacks something the tests count on."""


def current_kver(suite):
    path = os.path.join(LAB, "kernels", suite + ".current")
    try:
        with open(path) as f:
            kver = f.read().strip()
    except OSError as e:
        raise LabError("no current %s kernel (%s): run tests/lab/lab.sh dumps" % (suite, e))
    if not kver:
        raise LabError("%s is empty" % path)
    return kver


def boot_dirs(suites=None, boots=BOOTS):
    """Every boot directory of the current kernels; LabError unless all are finished and indexed."""
    try:
        with open(os.path.join(LAB, "dumps", "index")) as f:
            index = {l.strip().rstrip("/") for l in f if l.strip()}
    except OSError as e:
        raise LabError("no dump index (%s): run tests/lab/lab.sh dumps" % e)
    dirs = []
    for suite in suites or SUITES:
        kver = current_kver(suite)
        for boot in boots:
            d = os.path.join(LAB, "dumps", kver, boot)
            if not os.path.exists(os.path.join(d, "DONE")):
                raise LabError("%s is not finished (no DONE)" % d)
            if not os.path.exists(os.path.join(d, "truth.env")):
                raise LabError("%s has no truth.env" % d)
            if d not in index:
                raise LabError("%s is not in %s/dumps/index" % (d, LAB))
            dirs.append(d)
    return dirs


# The early-boot dumps (lab.sh early): of the first suite's kernel, not in the index.
EARLY_DUMPS = ("early.elf", "early-real.elf")


def early_dir():
    """dumps/KVER/early of the first suite's kernel; LabError unless finished, with truth and dumps."""
    d = os.path.join(LAB, "dumps", current_kver(SUITES[0]), "early")
    if not os.path.exists(os.path.join(d, "DONE")):
        raise LabError("%s is not finished (no DONE): run tests/lab/lab.sh dumps" % d)
    missing = [f for f in EARLY_DUMPS + ("truth.env",) if not os.path.isfile(os.path.join(d, f))]
    if missing:
        raise LabError("%s lacks %s" % (d, " ".join(missing)))
    return d


def dump_files(d):
    """The dumps of boot directory @d, in DUMPS order; LabError if one is missing."""
    missing = [f for f in DUMPS if not os.path.isfile(os.path.join(d, f))]
    if missing:
        raise LabError("%s lacks %s" % (d, " ".join(missing)))
    return list(DUMPS)


def arm64_boot_dirs():
    """Every arm64 boot directory of dumps/index.arm64; LabError unless every suite's
    kernel has every boot, finished, with a truth.env that says ARCH=arm64."""
    path = os.path.join(LAB, "dumps", "index.arm64")
    try:
        with open(path) as f:
            index = [l.strip().rstrip("/") for l in f if l.strip()]
    except OSError as e:
        raise LabError("no arm64 dump index (%s): run tests/lab/lab.sh dumps" % e)
    dirs, kvers = [], {}
    for d in index:
        if not os.path.exists(os.path.join(d, "DONE")):
            raise LabError("%s is not finished (no DONE)" % d)
        t = read_truth_file(d)
        if t.get("ARCH") != "arm64":
            raise LabError("%s/truth.env does not say ARCH=arm64" % d)
        kvers.setdefault(os.path.basename(os.path.dirname(d)), set()).add(os.path.basename(d))
        dirs.append(d)
    full = [k for k, boots in kvers.items() if all(b in boots for b in ARM64_BOOTS)]
    if len(full) < len(ARM64_SUITES):
        raise LabError("%s lists %d arm64 kernel(s) with every boot (%s), the lab makes %d (%s)" % (
            path, len(full), " ".join(ARM64_BOOTS), len(ARM64_SUITES), " ".join(ARM64_SUITES)))
    return dirs


def arm64_dump_files(d):
    """The dumps of arm64 boot directory @d: ARM64_DUMPS, then any other *.elf/*.kdump."""
    missing = [f for f in ARM64_DUMPS if not os.path.isfile(os.path.join(d, f))]
    if missing:
        raise LabError("%s lacks %s" % (d, " ".join(missing)))
    extra = sorted(f for f in os.listdir(d) if f.endswith((".elf", ".kdump")) and f not in ARM64_DUMPS
                   and not f.startswith("."))
    return list(ARM64_DUMPS) + extra


def read_truth_file(d):
    """truth.env of @d as a dict of strings."""
    t = {}
    with open(os.path.join(d, "truth.env")) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                t[k] = v.strip().strip('"').strip("'")
    return t


def read_truth_arm64(d):
    """truth.env of an arm64 boot, plus ko, kv (kimage_voffset), po (PHYS_OFFSET), va_bits, page_size."""
    t = read_truth_file(d)
    t["ko"] = int(t["KERNELOFFSET"], 16)
    t["kv"] = int(t["KIMAGE_VOFFSET"], 16)
    t["po"] = int(t["PHYS_OFFSET"], 16)
    t["va_bits"] = int(t["VA_BITS"], 0)
    t["page_size"] = int(t["PAGESIZE"], 0)
    return t


def read_truth(d):
    """truth.env of @d as a dict, plus ko (int) and pb (signed int)."""
    t = read_truth_file(d)
    t["ko"] = int(t["KERNELOFFSET"], 16)
    t["pb"] = int(t["PHYS_BASE"])
    return t


def main(argv):
    try:
        if argv == ["dirs"]:
            for d in boot_dirs():
                print(d)
        elif argv == ["dumps"]:
            for d in boot_dirs():
                for f in dump_files(d):
                    print(d, f)
        elif argv == ["early-dir"]:
            print(early_dir())
        elif argv == ["arm64-dirs"]:
            for d in arm64_boot_dirs():
                print(d)
        else:
            sys.stderr.write("usage: lab.py dirs|dumps|arm64-dirs|early-dir\n")
            return 2
    except LabError as e:
        sys.stderr.write("lab.py: error: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
