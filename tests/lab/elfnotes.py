# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (C) 2026 The kaslr.so authors
"""ELF64 core-file helpers shared by the lab scripts (stdlib only).

Only what the lab needs: the ELF header, the program headers, the notes of
the PT_NOTE segment(s), the VMCOREINFO note text, and the symbol table of a
vmlinux.  Little-endian ELF64 only (x86_64 and aarch64 files); anything else
is refused with a clear message rather than misread.
"""
import struct

PT_LOAD = 1
PT_NOTE = 4
SHT_SYMTAB = 2
NT_PRSTATUS = 1

# Elf64_Ehdr after e_ident: type, machine, version, entry, phoff, shoff,
# flags, ehsize, phentsize, phnum, shentsize, shnum, shstrndx.
_EHDR = struct.Struct("<HHIQQQIHHHHHH")
_PHDR = struct.Struct("<IIQQQQQQ")      # type, flags, offset, vaddr, paddr, filesz, memsz, align
_SHDR = struct.Struct("<IIQQQQIIQQ")    # name, type, flags, addr, offset, size, link, info, align, entsize
_SYM = struct.Struct("<IBBHQQ")         # name, info, other, shndx, value, size
_NHDR = struct.Struct("<III")           # namesz, descsz, type


class ElfError(Exception):
    """A file is not the ELF64 little-endian file the lab expects."""


def _align4(n):
    return (n + 3) & ~3


class Elf:
    """An open ELF64 LE file: header fields and program headers.

    @param path  file to read (opened read-only unless @writable)
    """

    def __init__(self, path, writable=False):
        self.path = path
        self.f = open(path, "r+b" if writable else "rb")
        ident = self.f.read(16)
        if len(ident) < 16 or ident[:4] != b"\x7fELF":
            raise ElfError("%s: not an ELF file" % path)
        if ident[4] != 2 or ident[5] != 1:
            raise ElfError("%s: not ELF64 little-endian" % path)
        (self.e_type, self.e_machine, _, _, self.e_phoff, self.e_shoff, _, _,
         self.e_phentsize, self.e_phnum, self.e_shentsize, self.e_shnum,
         self.e_shstrndx) = _EHDR.unpack(self.f.read(_EHDR.size))
        if self.e_phnum and self.e_phentsize != _PHDR.size:
            raise ElfError("%s: unexpected e_phentsize %d" % (path, self.e_phentsize))
        self.phdrs = []
        for i in range(self.e_phnum):
            self.f.seek(self.e_phoff + i * _PHDR.size)
            self.phdrs.append(list(_PHDR.unpack(self.f.read(_PHDR.size))))

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read(self, off, size):
        self.f.seek(off)
        data = self.f.read(size)
        if len(data) != size:
            raise ElfError("%s: short read at 0x%x (file truncated?)" % (self.path, off))
        return data

    def write_phdr(self, index):
        """Write program header @index (as edited in self.phdrs) back to the file."""
        self.f.seek(self.e_phoff + index * _PHDR.size)
        self.f.write(_PHDR.pack(*self.phdrs[index]))

    def note_segments(self):
        """Indexes of the PT_NOTE program headers."""
        return [i for i, p in enumerate(self.phdrs) if p[0] == PT_NOTE]

    def notes(self, index):
        """Parse the notes of PT_NOTE segment @index.

        @returns list of (name, type, raw_bytes) where raw_bytes is the whole
                 note record (header, padded name, padded desc), so that kept
                 notes can be written back byte for byte.
        """
        p = self.phdrs[index]
        buf = self.read(p[2], p[5])
        res, pos = [], 0
        while pos + _NHDR.size <= len(buf):
            namesz, descsz, ntype = _NHDR.unpack_from(buf, pos)
            end = pos + _NHDR.size + _align4(namesz) + _align4(descsz)
            if end > len(buf):
                raise ElfError("%s: note at segment offset 0x%x overruns PT_NOTE" % (self.path, pos))
            name = buf[pos + _NHDR.size:pos + _NHDR.size + namesz].rstrip(b"\0").decode("latin-1")
            res.append((name, ntype, buf[pos:end]))
            pos = end
        return res

    def all_notes(self):
        """Every note of every PT_NOTE segment, as notes() returns them."""
        out = []
        for i in self.note_segments():
            out.extend(self.notes(i))
        return out


def note_desc(raw):
    """The descriptor bytes of a raw note record returned by Elf.notes()."""
    namesz, descsz, _ = _NHDR.unpack_from(raw, 0)
    start = _NHDR.size + _align4(namesz)
    return raw[start:start + descsz]


def vmcoreinfo_text(path):
    """The VMCOREINFO note text of an ELF dump, or None when it has none."""
    with Elf(path) as e:
        for name, _, raw in e.all_notes():
            if name == "VMCOREINFO":
                return note_desc(raw).rstrip(b"\0").decode("latin-1")
    return None


def parse_vmcoreinfo(text):
    """Split vmcoreinfo text into a {KEY: value} dict (first occurrence wins)."""
    d = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            d.setdefault(k.strip(), v.strip())
    return d


def symbol_value(path, wanted):
    """Value of global/local symbol @wanted in the .symtab of ELF @path.

    @returns the st_value of the first symbol named @wanted
    @raises ElfError when there is no .symtab or no such symbol
    """
    with Elf(path) as e:
        if e.e_shentsize != _SHDR.size or not e.e_shnum:
            raise ElfError("%s: no section headers" % path)
        shdrs = [_SHDR.unpack(e.read(e.e_shoff + i * _SHDR.size, _SHDR.size))
                 for i in range(e.e_shnum)]
        want = wanted.encode() + b"\0"
        for sh in shdrs:
            if sh[1] != SHT_SYMTAB:
                continue
            strtab = shdrs[sh[6]]
            strs = e.read(strtab[4], strtab[5])
            syms = e.read(sh[4], sh[5])
            for off in range(0, len(syms) - _SYM.size + 1, _SYM.size):
                st_name, _, _, _, st_value, _ = _SYM.unpack_from(syms, off)
                if strs.startswith(want, st_name):
                    return st_value
        raise ElfError("%s: symbol %s not found in .symtab" % (path, wanted))


START_KERNEL_MAP = 0xffffffff80000000   # __START_KERNEL_map, x86_64 (arch/x86/include/asm/page_64_types.h)


def read_phys(path, paddr, size):
    """@size bytes at guest physical @paddr of an ELF dump (PT_LOAD p_paddr), or None."""
    with Elf(path) as e:
        for p in e.phdrs:
            if p[0] == PT_LOAD and p[4] <= paddr and paddr + size <= p[4] + p[5]:
                return e.read(p[2] + paddr - p[4], size)
    return None


def ram_vmcoreinfo(dump, vmlinux, kernel_offset, phys_base):
    """The kernel's own vmcoreinfo text in the RAM of an ELF dump, read with known values.

    The kernel fills the page vmcoreinfo_data points to at boot (kernel/crash_core.c,
    kernel/vmcore_info.c since 6.9; a pointer since 4.13, commit 203e9e41219b), whether
    or not a VMCOREINFO note reaches the dump.  A kernel-image variable at link address
    A is at physical A + kernel_offset - __START_KERNEL_map + phys_base; the page is a
    direct-map address, physical = pointer - page_offset_base (random since 4.8 with
    CONFIG_RANDOMIZE_MEMORY; read from the image).  x86_64 with a pointer only.

    @returns the text (up to vmcoreinfo_size bytes, without trailing NULs)
    @raises ElfError when a symbol or a page is missing
    """
    def image(sym, size=8):
        pa = symbol_value(vmlinux, sym) + kernel_offset - START_KERNEL_MAP + phys_base
        b = read_phys(dump, pa, size)
        if b is None:
            raise ElfError("%s: %s (physical 0x%x) is not in the dump" % (dump, sym, pa))
        return struct.unpack("<Q", b)[0]

    data, size, page_offset = image("vmcoreinfo_data"), image("vmcoreinfo_size"), image("page_offset_base")
    if not 0 < size <= 4096 or data < page_offset:
        raise ElfError("%s: vmcoreinfo_data 0x%x, size %d, page_offset_base 0x%x: no vmcoreinfo"
                       % (dump, data, size, page_offset))
    b = read_phys(dump, data - page_offset, size)
    if b is None:
        raise ElfError("%s: the vmcoreinfo page (physical 0x%x) is not in the dump" % (dump, data - page_offset))
    return b.split(b"\0", 1)[0].decode("latin-1")
