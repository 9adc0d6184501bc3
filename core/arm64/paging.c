/*
 * core/arm64/paging.c - walking an arm64 kernel's swapper_pg_dir
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * VMSAv8-64 stage 1 translation tables (Arm ARM D8), as the kernel builds
 * them for TTBR1: 4, 16 or 64 KiB granules, 36 to 52 VA bits, 2 to 5
 * levels.  With no TTBR1 or TCR in the dump, the regime is not read but
 * tried: every geometry Kconfig allows is walked, and only one that maps
 * an address of the image where the image lies is kept
 * (kaslr_arm64_paging_for).  The walk indexes the table as the kernel's
 * software walk does (pgd_offset_k with CONFIG_ARM64_VA_BITS), so a
 * 52-bit kernel running with 48 bits is walked with its own table layout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/arm64/arm64.h"

/* Descriptor bits (Arm ARM D8.3): valid, and table/page (1) or block (0). */
#define DESC_VALID	0x1ULL
#define DESC_TABLE	0x2ULL

/* Kconfig's ARM64_VA_BITS choices per granule; the most common first. */
const struct kaslr_arm64_geometry kaslr_arm64_geometries[] = {
	{ 12, 48, 0 }, { 12, 39, 0 }, { 12, 52, 1 },	/* 4 KiB (52: FEAT_LPA2, 6.9+) */
	{ 16, 48, 0 }, { 16, 42, 0 }, { 16, 52, 0 },	/* 64 KiB (52: FEAT_LPA, 5.4+) */
	{ 14, 48, 0 }, { 14, 47, 0 }, { 14, 36, 0 }, { 14, 52, 1 },	/* 16 KiB */
};
const int kaslr_arm64_nr_geometries = (int)(sizeof(kaslr_arm64_geometries) / sizeof(kaslr_arm64_geometries[0]));

void kaslr_arm64_paging_init(struct kaslr_paging *pg, uint64_t root_paddr, const struct kaslr_arm64_geometry *g)
{
	int per = g->page_shift - 3;

	memset(pg, 0, sizeof(*pg));
	pg->root_paddr = root_paddr;
	pg->page_shift = g->page_shift;
	pg->va_bits = g->va_bits;
	pg->lpa2 = g->lpa2;
	/* ARM64_HW_PGTABLE_LEVELS(va_bits): levels of (page_shift - 3) bits above the page offset. */
	pg->levels = (g->va_bits - g->page_shift + per - 1) / per;
}

/* Shift of the addresses one entry of level @lvl (0 = top) covers. */
static int level_shift(const struct kaslr_paging *pg, int lvl)
{
	return pg->page_shift + (pg->page_shift - 3) * (pg->levels - 1 - lvl);
}

/* Entries in a table of level @lvl: the top one holds what the VA size leaves. */
static uint64_t level_entries(const struct kaslr_paging *pg, int lvl)
{
	int bits = lvl ? pg->page_shift - 3 : pg->va_bits - level_shift(pg, 0);

	return 1ULL << bits;
}

/* Output address of a descriptor (Arm ARM D8.3.1): bits 47:page_shift, plus OA[51:48|50]. */
static uint64_t desc_oa(const struct kaslr_paging *pg, uint64_t e)
{
	uint64_t oa;

	if (pg->lpa2) {
		oa = e & (((1ULL << 50) - 1) & ~((1ULL << pg->page_shift) - 1));
		oa |= ((e >> 8) & 3) << 50;
	} else {
		oa = e & (((1ULL << 48) - 1) & ~((1ULL << pg->page_shift) - 1));
		if (pg->page_shift == 16)
			oa |= ((e >> 12) & 0xf) << 48;
	}
	return oa;
}

/*
 * May a block descriptor sit at shift @shift?  Blocks are 1 GiB and 2 MiB
 * (4 KiB granule; 512 GiB with LPA2), 32 MiB (16 KiB; 64 GiB with LPA2),
 * 512 MiB (64 KiB; 4 TiB with LPA).
 */
static int block_allowed(const struct kaslr_paging *pg, int shift)
{
	int max = pg->page_shift == 12 ? (pg->lpa2 ? 39 : 30) : pg->page_shift == 14 ? (pg->lpa2 ? 36 : 25) : 42;

	return shift > pg->page_shift && shift <= max;
}

/* Is @va a TTBR1 address for this VA size (every bit from va_bits up set)? */
static int kernel_va(const struct kaslr_paging *pg, uint64_t va)
{
	return pg->va_bits >= 64 || (va >> pg->va_bits) == (~0ULL >> pg->va_bits);
}

enum kaslr_status kaslr_arm64_vtop(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t va,
				   uint64_t *pa_ret, uint64_t *pagesize_ret)
{
	uint64_t table = pg->root_paddr, e, ep;
	int lvl;

	if (!pg->levels || !pg->page_shift) {
		kaslr_set_err(ctx, "no arm64 paging context");
		return KASLR_NODATA;
	}
	if (!kernel_va(pg, va)) {
		kaslr_set_err(ctx, "0x%" PRIx64 " is not a kernel address with %d-bit VAs", va, pg->va_bits);
		return KASLR_NOTFOUND;
	}
	for (lvl = 0; lvl < pg->levels; lvl++) {
		int shift = level_shift(pg, lvl);
		uint64_t idx = (va >> shift) & (level_entries(pg, lvl) - 1);

		ep = table + idx * 8;
		ctx->nr_reads++;
		if (kaslr_phys_read_u64(ctx, ep, &e)) {
			kaslr_set_err(ctx, "level %d table entry at 0x%" PRIx64 " (for 0x%" PRIx64 ") is not in the dump",
				      lvl, ep, va);
			return KASLR_CORRUPT;
		}
		if (!(e & DESC_VALID)) {
			kaslr_set_err(ctx, "0x%" PRIx64 " is not mapped (level %d entry at 0x%" PRIx64 " is 0x%" PRIx64 ")",
				      va, lvl, ep, e);
			return KASLR_NOTFOUND;
		}
		if (lvl == pg->levels - 1 || !(e & DESC_TABLE)) {
			uint64_t size = 1ULL << shift;

			if (lvl == pg->levels - 1 ? !(e & DESC_TABLE) : !block_allowed(pg, shift)) {
				kaslr_set_err(ctx, "level %d entry 0x%" PRIx64 " at 0x%" PRIx64 " is not a valid %s "
					      "descriptor", lvl, e, ep, lvl == pg->levels - 1 ? "page" : "block");
				return KASLR_CORRUPT;
			}
			*pa_ret = (desc_oa(pg, e) & ~(size - 1)) | (va & (size - 1));
			if (pagesize_ret)
				*pagesize_ret = size;
			return KASLR_OK;
		}
		table = desc_oa(pg, e);
	}
	kaslr_set_err(ctx, "0x%" PRIx64 ": walk ended without a page", va);
	return KASLR_CORRUPT;
}

struct mapwalk {
	struct kaslr_ctx *ctx;
	const struct kaslr_paging *pg;
	uint64_t va_min, pa;
	uint64_t *vas;
	int max, nr;
	uint64_t budget;	/* tables left to read: a loop exhausts it */
	unsigned char *buf[5];	/* one table per level */
};

/* Insert @va into the sorted list (lowest first), counting every one found. */
static void mapwalk_found(struct mapwalk *w, uint64_t va)
{
	int i, n = w->nr < w->max ? w->nr : w->max;

	w->nr++;
	for (i = n; i > 0 && w->vas[i - 1] > va; i--)
		if (i < w->max)
			w->vas[i] = w->vas[i - 1];
	if (i < w->max)
		w->vas[i] = va;
}

/* Walk the table at @table (level @lvl) whose entries cover VAs from @base. */
static enum kaslr_status mapwalk_table(struct mapwalk *w, int lvl, uint64_t table, uint64_t base)
{
	const struct kaslr_paging *pg = w->pg;
	int shift = level_shift(pg, lvl);
	uint64_t n = level_entries(pg, lvl), i, first = 0;
	unsigned char *t = w->buf[lvl];
	enum kaslr_status st;

	if (!w->budget--) {
		kaslr_set_err(w->ctx, "the page tables at 0x%" PRIx64 " reach more tables than the dump has pages: "
			      "a loop", pg->root_paddr);
		return KASLR_CORRUPT;
	}
	w->ctx->nr_reads++;
	if (kaslr_phys_read(w->ctx, table, t, n * 8)) {
		kaslr_set_err(w->ctx, "level %d table at 0x%" PRIx64 " is not in the dump", lvl, table);
		return KASLR_CORRUPT;
	}
	/* Entries wholly below va_min are skipped. */
	if (w->va_min > base)
		first = (w->va_min - base) >> shift;
	for (i = first; i < n; i++) {
		uint64_t e = kaslr_le64(t + i * 8), va = base + (i << shift), size = 1ULL << shift, oa;

		if (!(e & DESC_VALID))
			continue;
		if (lvl < pg->levels - 1 && (e & DESC_TABLE)) {
			st = mapwalk_table(w, lvl + 1, desc_oa(pg, e), va);
			if (st != KASLR_OK)
				return st;
			continue;
		}
		if (lvl == pg->levels - 1 ? !(e & DESC_TABLE) : !block_allowed(pg, shift))
			continue;	/* malformed: maps nothing */
		oa = desc_oa(pg, e) & ~(size - 1);
		if (w->pa >= oa && w->pa - oa < size && va + (w->pa - oa) >= w->va_min)
			mapwalk_found(w, va + (w->pa - oa));
	}
	return KASLR_OK;
}

enum kaslr_status kaslr_arm64_mappings_of(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t va_min,
					  uint64_t pa, uint64_t *vas_ret, int max, int *nr_ret)
{
	struct mapwalk w;
	enum kaslr_status st;
	uint64_t pages = 0, base;
	int i;

	memset(&w, 0, sizeof(w));
	*nr_ret = 0;
	if (!pg->levels || pg->levels > 5) {
		kaslr_set_err(ctx, "no arm64 paging context");
		return KASLR_NODATA;
	}
	for (i = 0; i < ctx->nr_ranges; i++)
		pages += (ctx->ranges[i].end - ctx->ranges[i].start) >> 12;
	w.ctx = ctx;
	w.pg = pg;
	w.va_min = va_min;
	w.pa = pa;
	w.vas = vas_ret;
	w.max = max;
	w.budget = (ctx->nr_ranges ? pages : 1ULL << 20) + 64;
	for (i = 0; i < pg->levels; i++) {
		if (!(w.buf[i] = malloc(level_entries(pg, i) * 8))) {
			st = KASLR_NOMEM;
			kaslr_set_err(ctx, "out of memory");
			goto out;
		}
	}
	/* The table covers [2^64 - 2^va_bits, 2^64). */
	base = pg->va_bits >= 64 ? 0 : ~0ULL << pg->va_bits;
	st = mapwalk_table(&w, 0, pg->root_paddr, base);
	*nr_ret = w.nr;
out:
	for (i = 0; i < 5; i++)
		free(w.buf[i]);
	return st;
}

enum kaslr_status kaslr_arm64_paging_for(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					 uint64_t kernel_offset, uint64_t kimage_voffset,
					 struct kaslr_paging *pg_ret)
{
	/* linux_banner and _stext (the image header before _stext is not mapped): both where the image lies. */
	uint64_t root, bva = vml->linux_banner + kernel_offset, tva = (vml->stext ? vml->stext : vml->linux_banner) +
								     kernel_offset;
	uint64_t want_b = bva - kimage_voffset, want_t = tva - kimage_voffset, pa;
	int g, found = -1;

	if (!vml->swapper_pg_dir) {
		kaslr_set_err(ctx, "the vmlinux has no swapper_pg_dir");
		return KASLR_NODATA;
	}
	root = kaslr_arm64_image_paddr(vml->swapper_pg_dir, kernel_offset, (int64_t)kimage_voffset);
	for (g = 0; g < kaslr_arm64_nr_geometries; g++) {
		struct kaslr_paging pg;

		kaslr_arm64_paging_init(&pg, root, &kaslr_arm64_geometries[g]);
		if (kaslr_arm64_vtop(ctx, &pg, bva, &pa, NULL) != KASLR_OK || pa != want_b ||
		    kaslr_arm64_vtop(ctx, &pg, tva, &pa, NULL) != KASLR_OK || pa != want_t)
			continue;
		if (found < 0) {
			found = g;
			*pg_ret = pg;
		}
		/* Two regimes mapping the image the same way agree on it: the first (the common one) stays. */
	}
	if (found < 0) {
		kaslr_set_err(ctx, "swapper_pg_dir at 0x%" PRIx64 " maps linux_banner 0x%" PRIx64 " to 0x%" PRIx64
			      " in no arm64 translation regime (4/16/64 KiB pages, 36-52 VA bits)", root, bva, want_b);
		return KASLR_NOTFOUND;
	}
	return KASLR_OK;
}
