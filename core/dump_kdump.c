/*
 * core/dump_kdump.c - kdump-compressed dumps: headers, note area, bitmaps, pages
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * makedumpfile -c/-l/-p/-z output and QEMU's kdump-* formats ("KDUMP   ").
 * The layout (makedumpfile's diskdump_mod.h): block 0 struct
 * disk_dump_header, then sub_hdr_size blocks of struct kdump_sub_header
 * (offset_note/size_note since header_version 4, max_mapnr_64 since 6),
 * then bitmap_blocks blocks holding two bitmaps of equal size (1st: pages
 * that exist, 2nd: pages that were dumped), then one 24-byte page
 * descriptor per dumped page in pfn order {u64 offset, u32 size, u32 flags,
 * u64 page_flags}, then the page data.  Field offsets are for x86_64.
 *
 * The headers give the note area, nr_cpus and the sub-header's phys_base;
 * the page reader decodes zlib and uncompressed pages (what it cannot
 * decode it names: kaslr_dump_unsupported) and gives the memory map as the
 * runs of the 1st bitmap, which leave out the PCI hole.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "core/dump_int.h"
#include "core/util.h"

#define DDH_HEADER_VERSION	8
#define DDH_UTS_MACHINE		272	/* utsname.machine: QEMU writes "x86_64", "aarch64" */
#define DDH_BLOCK_SIZE		428
#define DDH_SUB_HDR_SIZE	432
#define DDH_BITMAP_BLOCKS	436
#define DDH_MAX_MAPNR		440
#define DDH_NR_CPUS		460
#define DDH_SIZE		464
#define KSH_PHYS_BASE		0
#define KSH_OFFSET_NOTE		48
#define KSH_SIZE_NOTE		56
#define KSH_SIZE_V4		64	/* up to size_note */
#define KSH_MAX_MAPNR_64	96
#define KSH_SIZE		104
#define PD_SIZE			24
/* page_desc.flags */
#define PD_ZLIB			0x01
#define PD_LZO			0x02
#define PD_SNAPPY		0x04
#define PD_ZSTD			0x20

/* MAXPHYADDR is at most 52 bits: 2^40 page frames. */
#define MAX_MAPNR		(1ULL << 40)

#define KD_CACHE		64
#define KD_DESC_BATCH		4096

struct kd_cached {
	uint64_t pfn;
	int valid;
	unsigned char *data;
};

/* The page reader's state. */
struct kdump_fmt {
	uint32_t block_size;	/* = page size */
	uint64_t max_mapnr;
	unsigned char *bitmap2;	/* dumped pages */
	uint64_t bitmap_bytes;
	uint64_t *rank;		/* set bits of bitmap2 before each 64-bit word */
	uint64_t desc_off;
	unsigned char *cbuf;	/* compressed page */
	struct kd_cached cache[KD_CACHE];
	/* Page descriptors, read KD_DESC_BATCH at a time (a scan wants them all). */
	unsigned char *descs;
	uint64_t descs_first, descs_n;
	/* The last page's data: zero pages (QEMU, makedumpfile) share one. */
	uint64_t last_off;
	uint32_t last_size, last_flags;
	int last_valid;
	unsigned char *last_data;
};

/* ---- headers ---- */

/* The note area (header_version 4+) into f->notes. */
static enum kaslr_status
kdump_notes(struct kaslr_dump_file *f, const unsigned char *sh, char *err, size_t errlen)
{
	uint64_t off_note = kaslr_le64(sh + KSH_OFFSET_NOTE), size_note = kaslr_le64(sh + KSH_SIZE_NOTE);

	if (!size_note || size_note > KASLR_DUMP_MAX_NOTES_LEN)
		return KASLR_OK;
	if (!(f->notes = malloc(size_note))) {
		snprintf(err, errlen, "out of memory");
		return KASLR_NOMEM;
	}
	if (kaslr_dump_src_read(&f->src, off_note, f->notes, size_note) < 0) {
		free(f->notes);
		f->notes = NULL;
		snprintf(err, errlen, "%s: kdump-compressed note area is truncated", f->pub.path);
		return KASLR_CORRUPT;
	}
	f->pub.notes_len = size_note;
	return KASLR_OK;
}

/* ---- the page reader ---- */

/*
 * The runs of set bits in the 1st bitmap (pages the guest had), read in
 * chunks.  A better memory map than [0, max_mapnr) for scans: it leaves
 * out the PCI hole.  @returns 0 or -1 (@ranges_ret may hold some runs).
 */
static int
kdump_ranges(struct kaslr_dump_file *f, uint64_t bitmap1_off, struct kaslr_range **ranges_ret,
	     int *nr_ret)
{
	struct kdump_fmt *kd = f->fmt;
	unsigned char buf[65536];
	uint64_t pfn = 0, start = 0;
	int in_run = 0, cap = 0;

	while (pfn < kd->max_mapnr) {
		uint64_t chunk_pfns = (uint64_t)sizeof(buf) * 8, i, n;

		if (chunk_pfns > kd->max_mapnr - pfn)
			chunk_pfns = kd->max_mapnr - pfn;
		n = (chunk_pfns + 7) / 8;
		if (kaslr_dump_src_read(&f->src, bitmap1_off + pfn / 8, buf, n) < 0)
			return -1;
		for (i = 0; i < chunk_pfns; i++) {
			int set = buf[i / 8] >> (i % 8) & 1;

			if (set && !in_run) {
				start = pfn + i;
				in_run = 1;
			} else if (!set && in_run) {
				if (*nr_ret == cap) {
					struct kaslr_range *r;

					cap = cap ? cap * 2 : 16;
					if (!(r = realloc(*ranges_ret, cap * sizeof(*r))))
						return -1;
					*ranges_ret = r;
				}
				(*ranges_ret)[*nr_ret].start = start * kd->block_size;
				(*ranges_ret)[*nr_ret].end = (pfn + i) * kd->block_size;
				(*nr_ret)++;
				in_run = 0;
			}
		}
		pfn += chunk_pfns;
	}
	if (in_run) {
		struct kaslr_range *r = realloc(*ranges_ret, (*nr_ret + 1) * sizeof(*r));

		if (!r)
			return -1;
		*ranges_ret = r;
		r[*nr_ret].start = start * kd->block_size;
		r[*nr_ret].end = pfn * kd->block_size;
		(*nr_ret)++;
	}
	return 0;
}

/*
 * Set up the page reader from the header @h and the max_mapnr the headers
 * gave.  @returns 0, or -1 with f->reader_err set (the headers stand).
 */
static int
kdump_reader(struct kaslr_dump_file *f, const unsigned char *h, uint64_t max_mapnr)
{
	struct kdump_fmt *kd = f->fmt;
	const char *path = f->pub.path;
	char *why = f->reader_err;
	size_t whylen = sizeof(f->reader_err);
	uint32_t sub_hdr_size, bitmap_blocks;
	uint64_t bitmap2_off, words, i, sum = 0;
	struct kaslr_range *ranges = NULL;
	int nr_ranges = 0;
	struct stat st;

	kd->block_size = kaslr_le32(h + DDH_BLOCK_SIZE);
	sub_hdr_size = kaslr_le32(h + DDH_SUB_HDR_SIZE);
	bitmap_blocks = kaslr_le32(h + DDH_BITMAP_BLOCKS);
	kd->max_mapnr = max_mapnr;
	/* A block is a page: 4 KiB on x86_64; 4, 16 or 64 KiB on arm64. */
	if (kd->block_size < KASLR_PAGE_SIZE || kd->block_size > 0x10000 || (kd->block_size & (kd->block_size - 1))) {
		snprintf(why, whylen, "%s: kdump-compressed block size %u is not a page size (4, 16 or 64 KiB)",
			 path, kd->block_size);
		return -1;
	}
	kd->bitmap_bytes = (uint64_t)bitmap_blocks / 2 * kd->block_size;
	if (!bitmap_blocks || kd->bitmap_bytes * 8 < kd->max_mapnr) {
		snprintf(why, whylen, "%s: kdump-compressed bitmap (%u blocks) is too small for %" PRIu64
			 " pages", path, bitmap_blocks, kd->max_mapnr);
		return -1;
	}
	/* Only the bits for pfns below max_mapnr count. */
	kd->bitmap_bytes = (kd->max_mapnr + 7) / 8;
	/* Both bitmaps are in the file: a header that says otherwise lies (and would cost GiBs). */
	if (fstat(f->src.fd, &st) < 0 || kd->bitmap_bytes > (uint64_t)st.st_size / 2) {
		snprintf(why, whylen, "%s: kdump-compressed header claims %" PRIu64 " pages, more than "
			 "the file can hold (truncated or corrupt)", path, kd->max_mapnr);
		return -1;
	}
	words = (kd->bitmap_bytes + 7) / 8;
	bitmap2_off = (1 + (uint64_t)sub_hdr_size + bitmap_blocks / 2) * kd->block_size;
	kd->desc_off = (1 + (uint64_t)sub_hdr_size + bitmap_blocks) * kd->block_size;
	if (!(kd->bitmap2 = calloc(words, 8)) || !(kd->rank = calloc(words + 1, 8)) ||
	    !(kd->cbuf = malloc(kd->block_size)) || !(kd->last_data = malloc(kd->block_size)) ||
	    !(kd->descs = malloc((size_t)KD_DESC_BATCH * PD_SIZE))) {
		snprintf(why, whylen, "%s: out of memory for the kdump-compressed bitmap", path);
		return -1;
	}
	if (kaslr_dump_src_read(&f->src, bitmap2_off, kd->bitmap2, kd->bitmap_bytes) < 0 ||
	    kdump_ranges(f, (1 + (uint64_t)sub_hdr_size) * kd->block_size, &ranges, &nr_ranges) < 0) {
		free(ranges);
		snprintf(why, whylen, "%s: kdump-compressed bitmap is truncated", path);
		return -1;
	}
	for (i = 0; i < words; i++) {
		kd->rank[i] = sum;
		sum += (uint64_t)__builtin_popcountll(kaslr_le64(kd->bitmap2 + 8 * i));
	}
	kd->rank[words] = sum;
	for (i = 0; i < KD_CACHE; i++)
		if (!(kd->cache[i].data = malloc(kd->block_size))) {
			free(ranges);
			snprintf(why, whylen, "out of memory");
			return -1;
		}
	/* The 1st bitmap's runs replace [0, max_mapnr) as the memory map. */
	if (nr_ranges) {
		free(f->pub.ranges);
		f->pub.ranges = ranges;
		f->pub.nr_ranges = nr_ranges;
	}
	return 0;
}

static enum kaslr_status
kdump_open(struct kaslr_dump_file *f, char *err, size_t errlen)
{
	const char *path = f->pub.path;
	unsigned char h[DDH_SIZE], sh[KSH_SIZE];
	uint32_t block_size;
	uint64_t max_mapnr;
	int version;

	if (kaslr_dump_src_read(&f->src, 0, h, sizeof(h)) < 0) {
		snprintf(err, errlen, "%s: kdump-compressed header is truncated", path);
		return KASLR_CORRUPT;
	}
	version = (int)kaslr_le32(h + DDH_HEADER_VERSION);
	block_size = kaslr_le32(h + DDH_BLOCK_SIZE);
	if (block_size < 512 || block_size > (1u << 20) || (block_size & (block_size - 1))) {
		snprintf(err, errlen, "%s: kdump-compressed header has a bad block_size", path);
		return KASLR_CORRUPT;
	}
	max_mapnr = kaslr_le32(h + DDH_MAX_MAPNR);
	f->pub.nr_cpus = (int)kaslr_le32(h + DDH_NR_CPUS);
	if (!strncmp((const char *)h + DDH_UTS_MACHINE, "x86_64", 7))
		f->pub.machine = EM_X86_64;
	else if (!strncmp((const char *)h + DDH_UTS_MACHINE, "aarch64", 8))
		f->pub.machine = EM_AARCH64;
	memset(sh, 0, sizeof(sh));
	if (kaslr_dump_src_read(&f->src, block_size, sh, version >= 6 ? KSH_SIZE : KSH_SIZE_V4) < 0) {
		snprintf(err, errlen, "%s: kdump-compressed sub-header is truncated", path);
		return KASLR_CORRUPT;
	}
	f->pub.header_phys_base = (int64_t)kaslr_le64(sh + KSH_PHYS_BASE);
	f->pub.has_header_phys_base = 1;
	if (version >= 6 && kaslr_le64(sh + KSH_MAX_MAPNR_64))
		max_mapnr = kaslr_le64(sh + KSH_MAX_MAPNR_64);
	if (max_mapnr > MAX_MAPNR) {
		snprintf(err, errlen, "%s: kdump-compressed header has an impossible max_mapnr", path);
		return KASLR_CORRUPT;
	}
	if (max_mapnr) {
		if (!(f->pub.ranges = calloc(1, sizeof(*f->pub.ranges)))) {
			snprintf(err, errlen, "out of memory");
			return KASLR_NOMEM;
		}
		f->pub.ranges[0].start = 0;
		f->pub.ranges[0].end = max_mapnr << 12;
		f->pub.nr_ranges = 1;
	}
	if (version >= 4) {
		enum kaslr_status st = kdump_notes(f, sh, err, errlen);

		if (st != KASLR_OK)
			return st;
	}
	if (!(f->fmt = calloc(1, sizeof(struct kdump_fmt)))) {
		snprintf(f->reader_err, sizeof(f->reader_err), "out of memory");
		return KASLR_OK;
	}
	kdump_reader(f, h, max_mapnr);
	return KASLR_OK;
}

/* Page descriptor number @idx into @pd; @returns 1, or 0 if it cannot be read. */
static int
kd_desc(struct kaslr_dump_file *f, uint64_t idx, unsigned char *pd)
{
	struct kdump_fmt *kd = f->fmt;
	uint64_t total = kd->rank[(kd->bitmap_bytes + 7) / 8], n;

	if (kd->descs && idx >= kd->descs_first && idx - kd->descs_first < kd->descs_n) {
		memcpy(pd, kd->descs + (idx - kd->descs_first) * PD_SIZE, PD_SIZE);
		return 1;
	}
	n = total > idx && total - idx < KD_DESC_BATCH ? total - idx : KD_DESC_BATCH;
	if (kd->descs && idx < total &&
	    kaslr_dump_src_read(&f->src, kd->desc_off + idx * PD_SIZE, kd->descs, n * PD_SIZE) == 0) {
		kd->descs_first = idx;
		kd->descs_n = n;
		memcpy(pd, kd->descs, PD_SIZE);
		return 1;
	}
	/* A short file: the one descriptor, if it is there. */
	return kaslr_dump_src_read(&f->src, kd->desc_off + idx * PD_SIZE, pd, PD_SIZE) == 0;
}

/* The page with frame @pfn, decompressed; NULL if it is not in the dump. */
static const unsigned char *
kdump_page(struct kaslr_dump_file *f, uint64_t pfn)
{
	struct kdump_fmt *kd = f->fmt;
	struct kd_cached *c = &kd->cache[pfn % KD_CACHE];
	uint64_t word, idx, off;
	unsigned char pd[PD_SIZE];
	uint32_t size, flags;

	if (c->valid && c->pfn == pfn)
		return c->data;
	if (pfn >= kd->max_mapnr || !(kd->bitmap2[pfn / 8] & (1u << (pfn % 8))))
		return NULL;
	word = pfn / 64;
	idx = kd->rank[word] +
	      (uint64_t)__builtin_popcountll(kaslr_le64(kd->bitmap2 + 8 * word) & ((1ULL << (pfn % 64)) - 1));
	if (!kd_desc(f, idx, pd))
		return NULL;
	off = kaslr_le64(pd);
	size = kaslr_le32(pd + 8);
	flags = kaslr_le32(pd + 12);
	c->valid = 0;
	if (kd->last_valid && off == kd->last_off && size == kd->last_size && flags == kd->last_flags) {
		memcpy(c->data, kd->last_data, kd->block_size);
		c->pfn = pfn;
		c->valid = 1;
		return c->data;
	}
	if (flags & PD_ZLIB) {
		uLongf dlen = kd->block_size;

		if (size > kd->block_size || kaslr_dump_src_read(&f->src, off, kd->cbuf, size) < 0 ||
		    uncompress(c->data, &dlen, kd->cbuf, size) != Z_OK || dlen != kd->block_size)
			return NULL;
	} else if (flags & (PD_LZO | PD_SNAPPY | PD_ZSTD)) {
		f->unsupported = flags & PD_LZO ? "lzo" : flags & PD_SNAPPY ? "snappy" : "zstd";
		return NULL;
	} else {
		if (size != kd->block_size || kaslr_dump_src_read(&f->src, off, c->data, size) < 0)
			return NULL;
	}
	c->pfn = pfn;
	c->valid = 1;
	memcpy(kd->last_data, c->data, kd->block_size);
	kd->last_off = off;
	kd->last_size = size;
	kd->last_flags = flags;
	kd->last_valid = 1;
	return c->data;
}

static int
kdump_read(struct kaslr_dump_file *f, uint64_t paddr, unsigned char *buf, size_t len)
{
	const struct kdump_fmt *kd = f->fmt;

	while (len) {
		uint64_t in = paddr % kd->block_size;
		size_t n = kd->block_size - in < len ? kd->block_size - in : len;
		const unsigned char *page = kdump_page(f, paddr / kd->block_size);

		if (!page)
			return -1;
		memcpy(buf, page + in, n);
		buf += n;
		paddr += n;
		len -= n;
	}
	return 0;
}

static void
kdump_close(struct kaslr_dump_file *f)
{
	struct kdump_fmt *kd = f->fmt;
	int i;

	if (!kd)
		return;
	free(kd->bitmap2);
	free(kd->rank);
	free(kd->cbuf);
	free(kd->last_data);
	free(kd->descs);
	for (i = 0; i < KD_CACHE; i++)
		free(kd->cache[i].data);
	free(kd);
	f->fmt = NULL;
}

const struct kaslr_dump_ops kaslr_dump_kdump_ops = {
	.open = kdump_open,
	.read = kdump_read,
	.close = kdump_close,
};
