#!/usr/bin/env python3
# tests/fuzz/mkcorpus.py - write the small seed corpora under tests/fuzz/corpus/
#
# Copyright (C) 2026 The kaslr.so authors
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Each seed is a valid input that reaches deep into its harness (a kernel
# that verifies, a note that parses, a dump header that probes), so the
# fuzzer mutates from there.  Deterministic: rerunning rewrites the same
# bytes.  The vmlinux layout must match tests/fuzz/fuzz.h.
import os
import struct
import sys

START_KERNEL_MAP = 0xffffffff80000000
TEXT = 0xffffffff81000000
DIVIDE_ERROR = TEXT + 0x100
LINUX_BANNER = TEXT + 0x200
IDT_TABLE = TEXT + 0x1000
VMCOREINFO_DATA = TEXT + 0x3000
VMCOREINFO_SIZE = TEXT + 0x3008
SAVED_COMMAND_LINE = TEXT + 0x3010
PAGE_OFFSET_BASE = TEXT + 0x3018
RELOC_PROBE = TEXT + 0x800          # 4 pointers, relocated by KERNELOFFSET
RELEASE = b"6.1.0-fuzz"
BANNER = b"Linux version " + RELEASE + b" (fuzz@example) #1 SMP\n"
PAGE_OFFSET = 0xffff888000000000
TABLE = 0x63
PAGE = 0x1000
SIZE_2M = 0x200000


class Mem:
    """Sparse little physical memory, flattened to bytes from 0."""

    def __init__(self):
        self.b = bytearray()

    def write(self, pa, data):
        if len(self.b) < pa + len(data):
            self.b.extend(b"\0" * (pa + len(data) - len(self.b)))
        self.b[pa:pa + len(data)] = data

    def u64(self, pa, v):
        self.write(pa, struct.pack("<Q", v & 0xffffffffffffffff))

    def chunks(self):
        """The non-zero bytes as fuzz_image() chunks: page, offset, length, bytes."""
        out = b""
        for page in range(0, len(self.b), PAGE):
            data = self.b[page:page + PAGE]
            i = 0
            while i < len(data):
                if not data[i]:
                    i += 1
                    continue
                j = i
                while j < len(data) and any(data[j:j + 16]):
                    j += 1
                while not data[j - 1]:
                    j -= 1
                out += struct.pack("<BHH", page // PAGE, i, j - i) + bytes(data[i:j])
                i = j
        return out


def vmci_text(offset, phys_base):
    return (b"OSRELEASE=" + RELEASE + b"\nPAGESIZE=4096\n"
            b"SYMBOL(swapper_pg_dir)=%x\n" % (TEXT + 0x2000 + offset) +
            b"NUMBER(phys_base)=%d\n" % phys_base +
            b"KERNELOFFSET=%x\n" % offset)


def note(name, ntype, desc):
    name = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def gate(handler):
    return struct.pack("<HHBBHII", handler & 0xffff, 0x10, 0, 0x8e, (handler >> 16) & 0xffff,
                       handler >> 32, 0)


def kernel(levels, slot, elfcorehdr=False, vmci_page=True):
    """Tables at 0x1000.., the kernel text mapped with 4 KiB pages right after them."""
    m = Mem()
    offset = slot * SIZE_2M
    tables = [PAGE * (i + 1) for i in range(levels)]   # PGD, (P4D,) PUD, PMD, PTE
    text_pa = PAGE * (levels + 1)
    va = TEXT + offset
    for lvl in range(levels, 1, -1):
        table = tables[levels - lvl]
        idx = (va >> (12 + 9 * (lvl - 1))) & 511
        m.u64(table + idx * 8, tables[levels - lvl + 1] | TABLE)
    pte = tables[-1]
    for i in range(8):
        m.u64(pte + i * 8, (text_pa + i * PAGE) | TABLE)
    phys_base = text_pa - (va - START_KERNEL_MAP)
    kpa = lambda sym: sym + offset - START_KERNEL_MAP + phys_base
    m.write(kpa(LINUX_BANNER), BANNER + b"\0")
    m.write(kpa(IDT_TABLE), gate(DIVIDE_ERROR + offset))
    text = vmci_text(offset, phys_base)
    if vmci_page:
        m.write(kpa(TEXT + 0x4000), text)      # a page of its own: the scan finds it
    m.u64(kpa(VMCOREINFO_DATA), TEXT + 0x4000 + offset)
    m.u64(kpa(VMCOREINFO_SIZE), len(text))
    m.u64(kpa(PAGE_OFFSET_BASE), PAGE_OFFSET)
    for i, sym in enumerate((DIVIDE_ERROR, LINUX_BANNER, IDT_TABLE, TEXT)):
        m.u64(kpa(RELOC_PROBE) + 8 * i, sym + offset)
    cmd = b"root=/dev/vda1 console=ttyS0"
    if elfcorehdr:
        hdr = kpa(TEXT + 0x5000)
        notes_pa = hdr + 0x100
        notes = note(b"VMCOREINFO", 0, text)
        eh = (b"\x7fELF\x02\x01\x01" + b"\0" * 9 +
              struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0))
        ph = struct.pack("<IIQQQQQQ", 4, 0, notes_pa, 0, notes_pa, len(notes), len(notes), 0)
        m.write(hdr, eh + ph)
        m.write(notes_pa, notes)
        cmd = b"elfcorehdr=0x%x irqpoll nr_cpus=1" % hdr
    m.write(kpa(TEXT + 0x3100), cmd + b"\0")
    m.u64(kpa(SAVED_COMMAND_LINE), TEXT + 0x3100 + offset)
    return m, offset, tables[0]


def pagewalk_seed(levels, slot, flags, elfcorehdr=False, bad_page=0):
    m, offset, root = kernel(levels, slot, elfcorehdr)
    hdr = bytes([flags | (1 if levels == 5 else 0), bad_page << 4])
    hdr += struct.pack("<QQQQ", root, IDT_TABLE + offset, TEXT + offset, 0)
    return hdr + m.chunks()


def scan_seed(flags, levels=4, slot=3, note_page=False, vmci_page=True, bad_page=0):
    m, offset, root = kernel(levels, slot, vmci_page=vmci_page)
    if note_page:
        phys_base = PAGE * (levels + 1) - (TEXT + offset - START_KERNEL_MAP)
        m.write(len(m.b) + (-len(m.b) % PAGE), note(b"VMCOREINFO", 0, vmci_text(offset, phys_base)))
    return bytes([flags, bad_page]) + m.chunks()


def qemu_cpustate(cr3, idtr):
    st = bytearray(440)
    struct.pack_into("<II", st, 0, 1, 440)
    struct.pack_into("<IIIIQ", st, 152 + 24 * 9, 0, 0xfff, 0, 0, idtr)     # idt
    struct.pack_into("<5Q", st, 392, 0x80050033, 0, 0, cr3, 0x3506f0)
    return bytes(st)


def note_stream():
    return (note(b"CORE", 1, b"\0" * 336) + note(b"QEMU", 0, qemu_cpustate(0x1000, IDT_TABLE)) +
            note(b"CORE", 1, b"\0" * 336) + note(b"QEMU", 0, qemu_cpustate(0x1000, IDT_TABLE)) +
            note(b"VMCOREINFO", 0, vmci_text(0x600000, -0x1000000)))


def elf_core():
    notes = note_stream()
    phoff, phnum = 64, 3
    noff = phoff + 56 * phnum
    eh = (b"\x7fELF\x02\x01\x01" + b"\0" * 9 +
          struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 0, 0, 0))
    phs = struct.pack("<IIQQQQQQ", 4, 0, noff, 0, 0, len(notes), len(notes), 0)
    phs += struct.pack("<IIQQQQQQ", 1, 7, 0x10000, 0, 0, 0xa0000, 0xa0000, 0)
    phs += struct.pack("<IIQQQQQQ", 1, 7, 0x10000, 0, 0x100000, 0x7f00000, 0x7f00000, 0)
    return eh + phs + notes


def kdump(version=6, block=512):
    notes = note_stream()
    h = bytearray(block)
    h[0:8] = b"KDUMP   "
    struct.pack_into("<i", h, 8, version)
    struct.pack_into("<i", h, 428, block)          # block_size
    struct.pack_into("<I", h, 440, 0x8000)         # max_mapnr
    struct.pack_into("<I", h, 460, 2)              # nr_cpus
    sh = bytearray(block)
    struct.pack_into("<Q", sh, 0, 0x1000000)       # phys_base
    struct.pack_into("<QQ", sh, 48, 2 * block, len(notes))
    struct.pack_into("<Q", sh, 96, 0x8000)         # max_mapnr_64
    return bytes(h) + bytes(sh) + notes


def flattened(inner):
    h = bytearray(4096)
    h[0:12] = b"makedumpfile"
    out = bytes(h)
    # Two records, the second out of order, then the end marker.
    cut = len(inner) // 2
    out += struct.pack(">qq", cut, len(inner) - cut) + inner[cut:]
    out += struct.pack(">qq", 0, cut) + inner[:cut]
    out += struct.pack(">qq", -1, -1)
    return out


def regress_elf_load_wraps():
    """Defect: a PT_LOAD whose p_paddr + p_filesz wraps gave a range ending below its start."""
    b = bytearray(elf_core())
    struct.pack_into("<Q", b, 64 + 56 * 2 + 24, 0xfffffffffff00000)
    return bytes(b)


def regress_kdump_max_mapnr():
    """Defect: max_mapnr_64 of 2^52 made the range end (max_mapnr << 12) wrap to 0."""
    b = bytearray(kdump())
    struct.pack_into("<Q", b, 512 + 96, 1 << 52)
    return bytes(b)


def elf_complete(with_vmci=True):
    """A whole QEMU-like ELF core: notes, then two PT_LOADs' data right after them."""
    notes = note_stream() if with_vmci else note_stream()[:-len(note(b"VMCOREINFO", 0, vmci_text(0x600000, -0x1000000)))]
    phoff, phnum = 64, 3
    noff = phoff + 56 * phnum
    d0 = noff + len(notes)
    eh = (b"\x7fELF\x02\x01\x01" + b"\0" * 9 +
          struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 0, 0, 0))
    phs = struct.pack("<IIQQQQQQ", 4, 0, noff, 0, 0, len(notes), len(notes), 0)
    phs += struct.pack("<IIQQQQQQ", 1, 7, d0, 0, 0, 0x800, 0x800, 0)
    phs += struct.pack("<IIQQQQQQ", 1, 7, d0 + 0x800, 0, 0x100000, 0x1000, 0x1000, 0)
    data = bytes((i * 7) & 0xff for i in range(0x1800))
    return eh + phs + notes + data


def kdump_with_sub_header():
    b = bytearray(kdump())
    struct.pack_into("<I", b, 432, 1)              # sub_hdr_size: one block
    return bytes(b) + bytes(512)


def vmcoreinfo_seeds():
    text = vmci_text(0x1e000000, -0x1000000).decode()
    full = (text + "SYMBOL(init_uts_ns)=ffffffff82a13000\nOFFSET(uts_namespace.name)=4\n"
            "SIZE(page)=64\nLENGTH(mem_section)=2048\nNUMBER(pgtable_l5_enabled)=0\n"
            "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\nNUMBER(sme_mask)=0\nBUILD-ID=0123456789abcdef\n")
    return {
        "kernel": full.encode(),
        "hex-numbers": b"OSRELEASE=5.10\nNUMBER(phys_base)=0xffffffffff000000\nKERNELOFFSET=0x3a000000\n",
        "truncated": (text + "KERNELOFFSET=1a").encode(),
        "nul-inside": b"OSRELEASE=6.1\nPAGESIZE=4096\n\0KERNELOFFSET=200000\n",
    }


def arm64_seed(flags, bad_page=0, geometry=0):
    """fuzz_arm64: a 4 KiB/48-bit swapper_pg_dir at page 5 mapping the banner's page (image at page 1)."""
    a64_text, ko, banner_off, text_pa = 0xffff800008000000, 0x10000, 0x800, 0x1000
    m = Mem()
    va = a64_text + ko + banner_off
    m.write(text_pa + banner_off, BANNER)
    m.u64(0x5000 + 8 * ((va >> 39) & 511), 0x6000 | 3)
    m.u64(0x6000 + 8 * ((va >> 30) & 511), 0x7000 | 3)
    m.u64(0x7000 + 8 * ((va >> 21) & 511), 0x8000 | 3)
    m.u64(0x8000 + 8 * ((va >> 12) & 511), text_pa | 0x703)
    m.u64(text_pa + 0x3000, va - (text_pa + banner_off))          # kimage_voffset, as the kernel keeps it
    m.u64(text_pa + 0x3010, a64_text + 0x1000 + ko)                # the relocation probe, relocated
    hdr = bytes([flags | geometry, (bad_page << 4) | (text_pa >> 12)]) + struct.pack("<QH", va, banner_off)
    return hdr + m.chunks()


def main():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    seeds = {
        "fuzz_pagewalk": {
            "4l-kernel": pagewalk_seed(4, 7, 0x20),
            "5l-kernel": pagewalk_seed(5, 100, 0x20),
            "4l-bad-pmd-page": pagewalk_seed(4, 7, 0x20, bad_page=3),
            "4l-pti-hole": pagewalk_seed(4, 0, 0x22 | (1 << 3)),
            "4l-elfcorehdr-reloc": pagewalk_seed(4, 12, 0xa0, elfcorehdr=True),
        },
        "fuzz_scan": {
            "vmci-and-tables": scan_seed(0x1c),
            "note-page-5l": scan_seed(0x30 | 3, levels=5, slot=40, note_page=True),
            "tables-only-reloc": scan_seed(0xa8, slot=300, vmci_page=False),
            "vmci-page-unreadable": scan_seed(0x1c, bad_page=9),
            "empty": bytes([0x52, 0]),
        },
        "fuzz_vmcoreinfo": vmcoreinfo_seeds(),
        "fuzz_notes": {
            "qemu-elf-notes": note_stream(),
            "cpustate": qemu_cpustate(0x1234000, 0xfffffe0000000000),
        },
        "fuzz_dumpfix": {
            "elf-wrong-note": elf_complete(),
            "elf-no-note": elf_complete(with_vmci=False),
            "kdump": kdump_with_sub_header(),
            "flattened-kdump": flattened(kdump_with_sub_header()),
        },
        "fuzz_arm64": {
            "4k-48-image": arm64_seed(0x80),
            "4k-48-find": arm64_seed(0xc0),
            "64k-48-garbage-regime": arm64_seed(0x80, geometry=4),
            "bad-table-page": arm64_seed(0x80, bad_page=7),
        },
        "fuzz_dumpfile": {
            "elf": elf_core(),
            "kdump": kdump(),
            "flattened-kdump": flattened(kdump()),
            "regress-elf-load-wraps": regress_elf_load_wraps(),
            "regress-kdump-max-mapnr-overflow": regress_kdump_max_mapnr(),
        },
    }
    for harness, files in seeds.items():
        d = os.path.join(top, harness)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
