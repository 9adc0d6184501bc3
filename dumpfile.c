/*
 * dumpfile.c - dump file headers: format, physical ranges, notes
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Formats:
 *  - ELF64 cores (QEMU dump-guest-memory/virsh dump --memory-only, kdump
 *    /proc/vmcore copies): PT_LOAD p_paddr..+p_filesz, PT_NOTE bytes.
 *  - kdump-compressed ("KDUMP   ", makedumpfile -c/-l/-p, QEMU kdump-*):
 *    block 0 disk_dump_header, block 1 kdump_sub_header with offset_note /
 *    size_note (header_version >= 4) and max_mapnr_64 (>= 6).
 *  - makedumpfile's flattened stream (makedumpfile -F; QEMU 7.2 writes its
 *    kdump formats this way): a 4 KiB header, then big-endian
 *    {offset, size} records, each followed by its bytes.  Reads of the
 *    inner file are answered from the records.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dumpfile.h"

#define MAX_NOTES_LEN (64u << 20)	/* more is not a note area but garbage */
#define FLAT_HEADER_SIZE 4096
#define KDUMP_SIG "KDUMP   "
#define FLAT_SIG "makedumpfile"

struct flat_rec {
	int64_t offset;		/* offset in the inner file */
	int64_t size;
	off_t pos;		/* where its bytes are in the flattened file */
};

struct src {
	int fd;
	struct flat_rec *recs;	/* NULL for a plain file */
	size_t nr_recs;
};

static void
set_err(char *err, size_t errlen, const char *fmt, const char *path, const char *what)
{
	snprintf(err, errlen, fmt, path, what);
}

static uint64_t
be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Read [off, off+len) of the (inner) file; @returns 0 or -1 (missing bytes). */
static int
src_pread(struct src *s, uint64_t off, void *buf, size_t len)
{
	size_t i;
	unsigned char *out = buf;
	size_t filled = 0;

	if (!s->recs)
		return pread(s->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
	/* Later records overwrite earlier ones, as makedumpfile -R writes them in order. */
	memset(buf, 0, len);
	for (i = 0; i < s->nr_recs; i++) {
		const struct flat_rec *r = &s->recs[i];
		uint64_t a = (uint64_t)r->offset, b = a + (uint64_t)r->size;
		uint64_t lo = off > a ? off : a, hi = off + len < b ? off + len : b;

		if (lo >= hi)
			continue;
		if (pread(s->fd, out + (lo - off), hi - lo, r->pos + (off_t)(lo - a)) !=
		    (ssize_t)(hi - lo))
			return -1;
		filled += hi - lo;
	}
	return filled >= len ? 0 : -1;
}

static enum kaslr_status
flat_index(struct src *s, const char *path, char *err, size_t errlen)
{
	off_t pos = FLAT_HEADER_SIZE;
	size_t cap = 0;
	unsigned char h[16];

	for (;;) {
		int64_t off, size;

		if (pread(s->fd, h, sizeof(h), pos) != (ssize_t)sizeof(h)) {
			set_err(err, errlen, "%s: %s", path,
				"flattened dump ends without its end marker (truncated?)");
			return KASLR_CORRUPT;
		}
		off = (int64_t)be64(h);
		size = (int64_t)be64(h + 8);
		if (off == -1)
			return KASLR_OK;
		if (off < 0 || size < 0 || size > (1LL << 32)) {
			set_err(err, errlen, "%s: %s", path, "flattened dump has a corrupt record header");
			return KASLR_CORRUPT;
		}
		if (s->nr_recs == cap) {
			struct flat_rec *n;

			cap = cap ? cap * 2 : 1024;
			if (!(n = realloc(s->recs, cap * sizeof(*n))))
				return KASLR_NOMEM;
			s->recs = n;
		}
		s->recs[s->nr_recs].offset = off;
		s->recs[s->nr_recs].size = size;
		s->recs[s->nr_recs].pos = pos + 16;
		s->nr_recs++;
		pos += 16 + size;
	}
}

static int
range_cmp(const void *a, const void *b)
{
	const struct kaslr_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void
ranges_merge(struct kaslr_dumpfile_info *info)
{
	int i, n = 0;

	if (!info->nr_ranges)
		return;
	qsort(info->ranges, info->nr_ranges, sizeof(info->ranges[0]), range_cmp);
	for (i = 1; i < info->nr_ranges; i++) {
		if (info->ranges[i].start <= info->ranges[n].end) {
			if (info->ranges[i].end > info->ranges[n].end)
				info->ranges[n].end = info->ranges[i].end;
		} else {
			info->ranges[++n] = info->ranges[i];
		}
	}
	info->nr_ranges = n + 1;
}

static enum kaslr_status
probe_elf(struct src *s, const char *path, struct kaslr_dumpfile_info *info, char *err,
	  size_t errlen)
{
	Elf64_Ehdr eh;
	int i;

	if (src_pread(s, 0, &eh, sizeof(eh)) < 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		set_err(err, errlen, "%s: %s", path, "not a 64-bit ELF core");
		return KASLR_NODATA;
	}
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64) {
		set_err(err, errlen, "%s: %s", path, "not an x86_64 ELF core");
		return KASLR_NODATA;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum >= PN_XNUM) {
		set_err(err, errlen, "%s: %s", path, "ELF core has no usable program headers");
		return KASLR_CORRUPT;
	}
	if (!(info->ranges = calloc(eh.e_phnum, sizeof(*info->ranges))))
		return KASLR_NOMEM;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (src_pread(s, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)) < 0) {
			set_err(err, errlen, "%s: %s", path, "ELF program headers are truncated");
			return KASLR_CORRUPT;
		}
		if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_filesz < ph.p_paddr) {
			set_err(err, errlen, "%s: %s", path,
				"ELF PT_LOAD segment runs past the top of the physical address space");
			return KASLR_CORRUPT;
		}
		if (ph.p_type == PT_LOAD && ph.p_filesz) {
			info->ranges[info->nr_ranges].start = ph.p_paddr;
			info->ranges[info->nr_ranges].end = ph.p_paddr + ph.p_filesz;
			info->nr_ranges++;
		} else if (ph.p_type == PT_NOTE && ph.p_filesz && !info->notes) {
			if (ph.p_filesz > MAX_NOTES_LEN) {
				set_err(err, errlen, "%s: %s", path, "PT_NOTE segment is implausibly large");
				return KASLR_CORRUPT;
			}
			if (!(info->notes = malloc(ph.p_filesz)))
				return KASLR_NOMEM;
			if (src_pread(s, ph.p_offset, info->notes, ph.p_filesz) < 0) {
				set_err(err, errlen, "%s: %s", path, "PT_NOTE segment is truncated");
				free(info->notes);
				info->notes = NULL;
				return KASLR_CORRUPT;
			}
			info->notes_len = ph.p_filesz;
		}
	}
	ranges_merge(info);
	return KASLR_OK;
}

static uint32_t
le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Field offsets of disk_dump_header / kdump_sub_header on x86_64 (makedumpfile's diskdump_mod.h). */
#define DDH_HEADER_VERSION 8
#define DDH_BLOCK_SIZE 428
#define DDH_MAX_MAPNR 440
#define DDH_NR_CPUS 460
#define KSH_PHYS_BASE 0
#define KSH_OFFSET_NOTE 48
#define KSH_SIZE_NOTE 56
#define KSH_MAX_MAPNR_64 96

static enum kaslr_status
probe_kdump(struct src *s, const char *path, struct kaslr_dumpfile_info *info, char *err,
	    size_t errlen)
{
	unsigned char h[464], sh[104];
	int version;
	uint32_t block_size;
	uint64_t max_mapnr, off_note, size_note;

	if (src_pread(s, 0, h, sizeof(h)) < 0) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed header is truncated");
		return KASLR_CORRUPT;
	}
	version = (int)le32(h + DDH_HEADER_VERSION);
	block_size = le32(h + DDH_BLOCK_SIZE);
	if (block_size < 512 || block_size > (1u << 20) || (block_size & (block_size - 1))) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed header has a bad block_size");
		return KASLR_CORRUPT;
	}
	max_mapnr = le32(h + DDH_MAX_MAPNR);
	info->nr_cpus = (int)le32(h + DDH_NR_CPUS);
	memset(sh, 0, sizeof(sh));
	if (src_pread(s, block_size, sh, version >= 6 ? 104 : 64) < 0) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed sub-header is truncated");
		return KASLR_CORRUPT;
	}
	info->header_phys_base = (int64_t)le64(sh + KSH_PHYS_BASE);
	info->has_header_phys_base = 1;
	if (version >= 6 && le64(sh + KSH_MAX_MAPNR_64))
		max_mapnr = le64(sh + KSH_MAX_MAPNR_64);
	/* MAXPHYADDR is at most 52 bits: 2^40 page frames. */
	if (max_mapnr > (1ULL << 40)) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed header has an impossible max_mapnr");
		return KASLR_CORRUPT;
	}
	if (max_mapnr) {
		if (!(info->ranges = calloc(1, sizeof(*info->ranges))))
			return KASLR_NOMEM;
		info->ranges[0].start = 0;
		info->ranges[0].end = max_mapnr << 12;
		info->nr_ranges = 1;
	}
	if (version >= 4) {
		off_note = le64(sh + KSH_OFFSET_NOTE);
		size_note = le64(sh + KSH_SIZE_NOTE);
		if (size_note && size_note <= MAX_NOTES_LEN) {
			if (!(info->notes = malloc(size_note)))
				return KASLR_NOMEM;
			if (src_pread(s, off_note, info->notes, size_note) < 0) {
				free(info->notes);
				info->notes = NULL;
				set_err(err, errlen, "%s: %s", path, "kdump-compressed note area is truncated");
				return KASLR_CORRUPT;
			}
			info->notes_len = size_note;
		}
	}
	return KASLR_OK;
}

enum kaslr_status
kaslr_dumpfile_probe(const char *path, struct kaslr_dumpfile_info *info, char *err, size_t errlen)
{
	struct src s = { -1, NULL, 0 };
	unsigned char magic[16];
	enum kaslr_status ret;
	int flat = 0;

	memset(info, 0, sizeof(*info));
	if ((s.fd = open(path, O_RDONLY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return KASLR_NODATA;
	}
	if (pread(s.fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
		set_err(err, errlen, "%s: %s", path, "too short to be a dump");
		close(s.fd);
		return KASLR_CORRUPT;
	}
	if (!memcmp(magic, FLAT_SIG, strlen(FLAT_SIG))) {
		if ((ret = flat_index(&s, path, err, errlen)) != KASLR_OK)
			goto out;
		flat = 1;
		if (src_pread(&s, 0, magic, sizeof(magic)) < 0) {
			set_err(err, errlen, "%s: %s", path, "flattened dump holds no file header");
			ret = KASLR_CORRUPT;
			goto out;
		}
	}
	if (!memcmp(magic, ELFMAG, SELFMAG)) {
		info->format = flat ? "flattened ELF" : "ELF";
		ret = probe_elf(&s, path, info, err, errlen);
	} else if (!memcmp(magic, KDUMP_SIG, strlen(KDUMP_SIG))) {
		info->format = flat ? "flattened kdump-compressed" : "kdump-compressed";
		ret = probe_kdump(&s, path, info, err, errlen);
	} else {
		set_err(err, errlen, "%s: %s", path,
			"unknown dump format (not ELF, kdump-compressed or flattened)");
		ret = KASLR_NODATA;
	}
out:
	free(s.recs);
	close(s.fd);
	if (ret != KASLR_OK)
		kaslr_dumpfile_free(info);
	return ret;
}

void
kaslr_dumpfile_free(struct kaslr_dumpfile_info *info)
{
	free(info->ranges);
	free(info->notes);
	info->ranges = NULL;
	info->notes = NULL;
	info->nr_ranges = 0;
	info->notes_len = 0;
}
