#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Make a register-less copy of a QEMU ELF dump.

    strip-notes.py --drop NAME[,NAME...] IN OUT   drop notes with these owner names
    strip-notes.py --drop-all IN OUT              drop every note
    strip-notes.py --list FILE                    print "name type size" per note

The copy is made with `cp --sparse=always` (so holes stay holes and it is
quick), then only the PT_NOTE segment is rewritten in place: the kept notes
are packed at the segment's start, the rest of the old note bytes is zeroed
(no stale register or vmcoreinfo bytes left for a scanner to find), and
p_filesz (and p_memsz when it was set) shrink to the new size.  Every other
byte, including every PT_LOAD offset, is unchanged.  OUT appears atomically
(written as OUT.tmp, then renamed).

Typical uses in the lab: `--drop QEMU` removes the QEMUCPUState notes (keeps
CORE/NT_PRSTATUS and VMCOREINFO); `--drop-all` leaves no note at all.
"""
import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elfnotes  # noqa: E402


def strip(src, dst, drop_names, drop_all):
    """Copy @src to @dst without the notes selected by @drop_names/@drop_all.

    @returns (kept, dropped) note counts
    """
    tmp = dst + ".tmp"
    subprocess.run(["cp", "--sparse=always", "--", src, tmp], check=True)
    os.chmod(tmp, os.stat(tmp).st_mode | 0o200)     # QEMU makes dumps read-only
    kept_n = dropped_n = 0
    try:
        with elfnotes.Elf(tmp, writable=True) as e:
            segs = e.note_segments()
            if not segs:
                raise elfnotes.ElfError("%s: no PT_NOTE segment" % src)
            for i in segs:
                notes = e.notes(i)
                kept = [raw for name, _, raw in notes
                        if not drop_all and name not in drop_names]
                kept_n += len(kept)
                dropped_n += len(notes) - len(kept)
                p = e.phdrs[i]
                old_size = p[5]
                new = b"".join(kept)
                e.f.seek(p[2])
                e.f.write(new + b"\0" * (old_size - len(new)))
                p[5] = len(new)                 # p_filesz
                if p[6]:
                    p[6] = len(new)             # p_memsz, when QEMU set it
                e.write_phdr(i)
        os.rename(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return kept_n, dropped_n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--drop", help="comma-separated note owner names to remove (e.g. QEMU)")
    g.add_argument("--drop-all", action="store_true", help="remove every note")
    g.add_argument("--list", action="store_true", help="list the notes of FILE")
    ap.add_argument("files", nargs="+", metavar="FILE")
    a = ap.parse_args()
    try:
        if a.list:
            for path in a.files:
                with elfnotes.Elf(path) as e:
                    for name, ntype, raw in e.all_notes():
                        print("%s %s %d %d" % (path, name, ntype, len(raw)))
            return 0
        if len(a.files) != 2:
            ap.error("need IN and OUT")
        drop = set(a.drop.split(",")) if a.drop else set()
        kept, dropped = strip(a.files[0], a.files[1], drop, a.drop_all)
        if not dropped:
            raise elfnotes.ElfError("%s: no note matched %s" % (a.files[0], a.drop or "--drop-all"))
        print("%s: kept %d notes, dropped %d" % (a.files[1], kept, dropped), file=sys.stderr)
        return 0
    except (OSError, elfnotes.ElfError, subprocess.CalledProcessError) as exc:
        print("strip-notes: error: %s" % exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
