#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""Write an ELF core's memory as a plain kdump-compressed file, without notes.

    elf2kdump.py IN.elf OUT.kdump

The result has no note area, no vmcoreinfo and no registers: the shape of a
kdump file made from a dump that had none (makedumpfile run on a hypervisor
dump without VMCOREINFO, a converted VMware snapshot).  QEMU cannot write
it: its kdump formats always carry the vCPU notes.

Layout (makedumpfile's diskdump_mod.h, header_version 6, 4 KiB blocks; the
header's utsname.machine is the ELF's: "x86_64" or "aarch64", which crash
checks against its own architecture): block 0 disk_dump_header, block 1 kdump_sub_header (phys_base 0,
offset_note/size_note 0, max_mapnr_64), then the two bitmaps (1st: pages the
ELF's PT_LOADs hold, 2nd: the same: every page is dumped), then one 24-byte
page descriptor per dumped page, then page data: zlib where that is smaller,
raw otherwise, and one shared block for every all-zero page (as makedumpfile
writes them).  Nothing of the guest's memory is changed or left out.  OUT
appears atomically (written as OUT.tmp, then renamed).
"""
import os
import struct
import sys
import zlib

PAGE = 4096
# ELF e_machine -> utsname.machine (what `uname -m` says on that machine).
MACHINES = {62: b"x86_64", 183: b"aarch64"}   # EM_X86_64, EM_AARCH64
HEADER_VERSION = 6
DUMP_DH_COMPRESSED_ZLIB = 0x1


def load_segments(f):
    """(machine, [(paddr, filesz, offset)]) of ELF64 core @f: its utsname
    machine and its PT_LOAD segments."""
    eh = f.read(64)
    if eh[:4] != b"\x7fELF" or eh[4] != 2 or eh[5] != 1:
        sys.exit("elf2kdump: not a little-endian ELF64 core")
    e_machine, = struct.unpack_from("<H", eh, 18)
    if e_machine not in MACHINES:
        sys.exit("elf2kdump: ELF machine %d is neither x86_64 nor aarch64" % e_machine)
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    segs = []
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        ptype, _flags, off, _va, pa, filesz, _memsz, _al = struct.unpack("<IIQQQQQQ", f.read(56))
        if ptype == 1 and filesz:
            segs.append((pa, filesz, off))
    if not segs:
        sys.exit("elf2kdump: no PT_LOAD segment")
    return MACHINES[e_machine], sorted(segs)


def convert(src, dst):
    with open(src, "rb") as f:
        machine, segs = load_segments(f)
        max_mapnr = max((pa + sz + PAGE - 1) // PAGE for pa, sz, _ in segs)
        present = bytearray((max_mapnr + 7) // 8)
        for pa, sz, _ in segs:
            for pfn in range(pa // PAGE, (pa + sz + PAGE - 1) // PAGE):
                present[pfn // 8] |= 1 << (pfn % 8)
        bitmap_bytes = -(-len(present) // PAGE) * PAGE
        bitmap_blocks = 2 * (bitmap_bytes // PAGE)
        nr_dumped = sum(bin(b).count("1") for b in present)
        desc_off = (1 + 1 + bitmap_blocks) * PAGE
        data_off = desc_off + -(-nr_dumped * 24 // PAGE) * PAGE

        tmp = dst + ".tmp"
        with open(tmp, "wb") as out:
            hdr = bytearray(PAGE)
            hdr[0:8] = b"KDUMP   "
            struct.pack_into("<i", hdr, 8, HEADER_VERSION)
            utsname = [b"Linux", b"", b"", b"", machine, b""]
            for i, s in enumerate(utsname):
                hdr[12 + 65 * i:12 + 65 * i + len(s)] = s
            struct.pack_into("<IiiIIIIIIi", hdr, 424,
                             0,                     # status: zlib pages inside
                             PAGE,                  # block_size
                             1,                     # sub_hdr_size (blocks)
                             bitmap_blocks,
                             min(max_mapnr, 0xffffffff),
                             nr_dumped,             # total_ram_blocks
                             0, nr_dumped,          # device_blocks, written_blocks
                             0, 1)                  # current_cpu, nr_cpus
            sub = bytearray(PAGE)
            # phys_base 0, dump_level 0, split 0, no vmcoreinfo, no notes, no eraseinfo.
            struct.pack_into("<QQQ", sub, 80, 0, max_mapnr, max_mapnr)  # start/end_pfn_64, max_mapnr_64
            out.write(hdr)
            out.write(sub)
            bm = bytes(present) + bytes(bitmap_bytes - len(present))
            out.write(bm)
            out.write(bm)

            descs = bytearray()
            pos = data_off
            zero_off = None
            out.seek(data_off)
            for pfn in range(max_mapnr):
                if not present[pfn // 8] >> (pfn % 8) & 1:
                    continue
                page = read_page(f, segs, pfn * PAGE)
                if page.count(0) == PAGE:
                    if zero_off is None:
                        zero_off = pos
                        out.write(page)
                        pos += PAGE
                    descs += struct.pack("<QIIQ", zero_off, PAGE, 0, 0)
                    continue
                z = zlib.compress(page, 6)
                if len(z) < PAGE:
                    out.write(z)
                    descs += struct.pack("<QIIQ", pos, len(z), DUMP_DH_COMPRESSED_ZLIB, 0)
                    pos += len(z)
                else:
                    out.write(page)
                    descs += struct.pack("<QIIQ", pos, PAGE, 0, 0)
                    pos += PAGE
            out.seek(desc_off)
            out.write(descs)
        os.rename(tmp, dst)


def read_page(f, segs, pa):
    """4 KiB at physical @pa from the ELF (zeros where no segment holds it)."""
    page = bytearray(PAGE)
    for spa, sz, off in segs:
        lo, hi = max(pa, spa), min(pa + PAGE, spa + sz)
        if lo < hi:
            f.seek(off + lo - spa)
            page[lo - pa:hi - pa] = f.read(hi - lo)
    return bytes(page)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().split("\n\n")[1])
    convert(sys.argv[1], sys.argv[2])
