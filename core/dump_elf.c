/*
 * core/dump_elf.c - ELF64 cores: program headers, note segment, pages
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * QEMU dump-guest-memory / virsh dump --memory-only and copies of kdump's
 * /proc/vmcore: the guest's memory is the PT_LOAD segments (p_paddr,
 * p_filesz bytes at p_offset, zeros up to p_memsz), the CPU states and any
 * VMCOREINFO note are the first PT_NOTE segment.  A plain file is read
 * with one pread per segment a read touches (a scan's 1 MiB piece is one
 * pread, where crash's reader makes 256 page-sized ones).
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/dump_int.h"
#include "core/util.h"

/* Elf64_Ehdr and Elf64_Phdr fields, read as little-endian bytes on any host. */
#define EH_SIZE		64
#define EH_MACHINE	18
#define EH_PHOFF	32
#define EH_PHENTSIZE	54
#define EH_PHNUM	56
#define PH_SIZE		56
#define PH_TYPE		0
#define PH_OFFSET	8
#define PH_PADDR	24
#define PH_FILESZ	32
#define PH_MEMSZ	40

struct elf_seg {
	uint64_t paddr, filesz, memsz, offset;
};

/* The page reader's state: every PT_LOAD, sorted by paddr. */
struct elf_fmt {
	struct elf_seg *segs;
	int nr_segs;
};

static int
seg_cmp(const void *a, const void *b)
{
	const struct elf_seg *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* The first PT_NOTE segment with bytes, into f->notes. */
static enum kaslr_status
elf_notes(struct kaslr_dump_file *f, uint64_t offset, uint64_t filesz, char *err, size_t errlen)
{
	const char *path = f->pub.path;

	if (filesz > KASLR_DUMP_MAX_NOTES_LEN) {
		snprintf(err, errlen, "%s: PT_NOTE segment is implausibly large", path);
		return KASLR_CORRUPT;
	}
	if (!(f->notes = malloc(filesz))) {
		snprintf(err, errlen, "out of memory");
		return KASLR_NOMEM;
	}
	if (kaslr_dump_src_read(&f->src, offset, f->notes, filesz) < 0) {
		snprintf(err, errlen, "%s: PT_NOTE segment is truncated", path);
		free(f->notes);
		f->notes = NULL;
		return KASLR_CORRUPT;
	}
	f->pub.notes_len = filesz;
	return KASLR_OK;
}

static enum kaslr_status
elf_open(struct kaslr_dump_file *f, char *err, size_t errlen)
{
	const char *path = f->pub.path;
	unsigned char eh[EH_SIZE];
	unsigned phnum, i;
	struct elf_fmt *e;
	uint64_t phoff;

	if (kaslr_dump_src_read(&f->src, 0, eh, sizeof(eh)) < 0) {
		snprintf(err, errlen, "%s: not a 64-bit ELF core", path);
		return KASLR_NODATA;
	}
	/*
	 * QEMU's dump-guest-memory writes an i386 core when its first vCPU is
	 * not in 64-bit mode (seen on a guest stopped at its reset vector,
	 * tests/lab/lab.sh early; an ELF64 core there, and ELF32 would say the
	 * same): no 64-bit kernel is running in it.
	 */
	if (!memcmp(eh, ELFMAG, SELFMAG) && eh[EI_DATA] == ELFDATA2LSB && kaslr_le16(eh + EH_MACHINE) == EM_386) {
		snprintf(err, errlen, "%s: an i386 ELF core, as QEMU writes when vCPU 0 is not in 64-bit mode: "
			 "no 64-bit kernel ran yet (the dump predates it: firmware, boot loader or boot code; or "
			 "the guest is 32-bit), so no tool can place one in it: take the dump after the guest "
			 "has booted", path);
		return KASLR_NODATA;
	}
	if (eh[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen, "%s: not a 64-bit ELF core", path);
		return KASLR_NODATA;
	}
	if (eh[EI_DATA] != ELFDATA2LSB ||
	    (kaslr_le16(eh + EH_MACHINE) != EM_X86_64 && kaslr_le16(eh + EH_MACHINE) != EM_AARCH64)) {
		snprintf(err, errlen, "%s: not an x86_64 or arm64 ELF core (machine %u)", path,
			 (unsigned)kaslr_le16(eh + EH_MACHINE));
		return KASLR_NODATA;
	}
	f->pub.machine = kaslr_le16(eh + EH_MACHINE);
	phoff = kaslr_le64(eh + EH_PHOFF);
	phnum = kaslr_le16(eh + EH_PHNUM);
	if (kaslr_le16(eh + EH_PHENTSIZE) != PH_SIZE || phnum == 0 || phnum >= PN_XNUM) {
		snprintf(err, errlen, "%s: ELF core has no usable program headers", path);
		return KASLR_CORRUPT;
	}
	if (!(f->fmt = e = calloc(1, sizeof(*e))) ||
	    !(f->pub.ranges = calloc(phnum, sizeof(*f->pub.ranges)))) {
		snprintf(err, errlen, "out of memory");
		return KASLR_NOMEM;
	}
	if (!(e->segs = calloc(phnum, sizeof(*e->segs))))
		snprintf(f->reader_err, sizeof(f->reader_err), "out of memory");
	for (i = 0; i < phnum; i++) {
		unsigned char ph[PH_SIZE];
		uint64_t offset, paddr, filesz;
		uint32_t type;

		if (kaslr_dump_src_read(&f->src, phoff + (uint64_t)i * PH_SIZE, ph, sizeof(ph)) < 0) {
			snprintf(err, errlen, "%s: ELF program headers are truncated", path);
			return KASLR_CORRUPT;
		}
		type = kaslr_le32(ph + PH_TYPE);
		offset = kaslr_le64(ph + PH_OFFSET);
		paddr = kaslr_le64(ph + PH_PADDR);
		filesz = kaslr_le64(ph + PH_FILESZ);
		if (type == PT_LOAD && paddr + filesz < paddr) {
			snprintf(err, errlen, "%s: ELF PT_LOAD segment runs past the top of the physical "
				 "address space", path);
			return KASLR_CORRUPT;
		}
		if (type == PT_LOAD && e->segs) {
			e->segs[e->nr_segs].offset = offset;
			e->segs[e->nr_segs].paddr = paddr;
			e->segs[e->nr_segs].filesz = filesz;
			e->segs[e->nr_segs].memsz = kaslr_le64(ph + PH_MEMSZ);
			e->nr_segs++;
		}
		if (type == PT_LOAD && filesz) {
			f->pub.ranges[f->pub.nr_ranges].start = paddr;
			f->pub.ranges[f->pub.nr_ranges].end = paddr + filesz;
			f->pub.nr_ranges++;
		} else if (type == PT_NOTE && filesz && !f->notes) {
			enum kaslr_status st = elf_notes(f, offset, filesz, err, errlen);

			if (st != KASLR_OK)
				return st;
		}
	}
	kaslr_dump_ranges_merge(f);
	if (e->segs)
		qsort(e->segs, e->nr_segs, sizeof(e->segs[0]), seg_cmp);
	return KASLR_OK;
}

static int
elf_read(struct kaslr_dump_file *f, uint64_t paddr, unsigned char *buf, size_t len)
{
	const struct elf_fmt *e = f->fmt;

	while (len) {
		const struct elf_seg *sg = NULL;
		uint64_t in, n;
		int lo = 0, hi = e->nr_segs;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (e->segs[mid].paddr + e->segs[mid].memsz <= paddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < e->nr_segs && e->segs[lo].paddr <= paddr)
			sg = &e->segs[lo];
		if (!sg)
			return -1;
		in = paddr - sg->paddr;
		n = sg->memsz - in < len ? sg->memsz - in : len;
		if (in >= sg->filesz) {
			memset(buf, 0, n);
		} else {
			uint64_t got = sg->filesz - in < n ? sg->filesz - in : n;

			if (kaslr_dump_src_read(&f->src, sg->offset + in, buf, got) < 0)
				return -1;
			memset(buf + got, 0, n - got);
		}
		buf += n;
		paddr += n;
		len -= n;
	}
	return 0;
}

/* PT_LOAD bytes past the end of a plain file: a copy cut short. */
static uint64_t
elf_missing(const struct kaslr_dump_file *f)
{
	const struct elf_fmt *e = f->fmt;
	uint64_t missing = 0, size;
	struct stat st;
	int i;

	if (f->src.recs || fstat(f->src.fd, &st) < 0)
		return 0;
	size = (uint64_t)st.st_size;
	for (i = 0; i < e->nr_segs; i++) {
		const struct elf_seg *sg = &e->segs[i];

		if (sg->offset >= size)
			missing += sg->filesz;
		else if (sg->filesz > size - sg->offset)
			missing += sg->filesz - (size - sg->offset);
	}
	return missing;
}

static void
elf_close(struct kaslr_dump_file *f)
{
	struct elf_fmt *e = f->fmt;

	if (e)
		free(e->segs);
	free(e);
	f->fmt = NULL;
}

const struct kaslr_dump_ops kaslr_dump_elf_ops = {
	.open = elf_open,
	.read = elf_read,
	.missing = elf_missing,
	.close = elf_close,
};
