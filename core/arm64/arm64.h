/*
 * core/arm64/arm64.h - the arm64 side of the core: constants, paging, methods
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An arm64 kernel is placed by two values: KERNELOFFSET (the image's
 * virtual address minus its link address) and kimage_voffset (the image's
 * virtual address minus its physical address).  The core keeps the second
 * in the slot x86_64 uses for phys_base (struct kaslr_candidate.phys_base,
 * as int64_t): on both it is what turns an image address into a physical
 * one once the offset is known.  PHYS_OFFSET (memstart_addr), VA_BITS and
 * the page size follow from the kernel's memory once those two are proven
 * (kaslr_arm64_values).
 *
 * QEMU's arm64 notes carry x0-x30, sp, pc and pstate but no system
 * register (no TTBR1, no TCR): the kernel's page tables are found through
 * the image itself.  swapper_pg_dir lies at a fixed distance from _text,
 * so once the image is found physically (its linux_banner), its tables are
 * known, and the lowest virtual address mapping _text gives the offset.
 */
#ifndef KASLR_CORE_ARM64_H
#define KASLR_CORE_ARM64_H

#include <stdint.h>

#include "core/candidate.h"
#include "core/paging.h"
#include "core/types.h"
#include "core/vmlinux.h"

#ifndef EM_AARCH64
#define EM_AARCH64 183
#endif

/*
 * SEGMENT_ALIGN (arch/arm64/include/asm/memory.h, 4.6+): the image's
 * segments, and so its physical placement (EFI_KIMG_ALIGN), are 64 KiB
 * aligned; the virtual offset keeps the physical address's low bits
 * (arch/arm64/kernel/pi/map_kernel.c), so KERNELOFFSET is a multiple of it.
 */
#define ARM64_SEGMENT_ALIGN	0x10000ULL

/* ---- paging (core/arm64/paging.c) ---- */

/*
 * The translation regimes a kernel's swapper_pg_dir may use: granule and
 * VA size as Kconfig allows them (ARM64_VA_BITS_* per ARM64_*K_PAGES),
 * with 52-bit output addresses where they need their own descriptor format.
 */
struct kaslr_arm64_geometry {
	int page_shift;
	int va_bits;
	int lpa2;
};

extern const struct kaslr_arm64_geometry kaslr_arm64_geometries[];
extern const int kaslr_arm64_nr_geometries;

/* Make a paging context for a table at @root_paddr in geometry @g. */
void kaslr_arm64_paging_init(struct kaslr_paging *pg, uint64_t root_paddr, const struct kaslr_arm64_geometry *g);

/**
 * kaslr_arm64_vtop - translate a kernel (TTBR1) address through @pg
 * @pagesize_ret: size of the page or block that maps it (may be NULL)
 *
 * Walks the table as the kernel's own software walk does (pgd_offset_k):
 * indexed with the configured VA size.  @returns KASLR_OK, KASLR_NOTFOUND
 * (not mapped, or not a kernel address), KASLR_CORRUPT (a table is not in
 * the dump, or an entry is malformed); ctx->err says why.
 */
enum kaslr_status kaslr_arm64_vtop(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t va,
				   uint64_t *pa_ret, uint64_t *pagesize_ret);

/**
 * kaslr_arm64_mappings_of - virtual addresses >= @va_min that map physical @pa
 * @vas_ret: up to @max of them, lowest first
 * @nr_ret:  how many were found (may exceed @max)
 *
 * Walks every table of @pg below [@va_min, 2^64), each entry once; a table
 * reached more often than the dump has pages is a loop.  @returns KASLR_OK
 * (even with none found), KASLR_CORRUPT (loop, table outside the dump),
 * KASLR_NOMEM.
 */
enum kaslr_status kaslr_arm64_mappings_of(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t va_min,
					  uint64_t pa, uint64_t *vas_ret, int max, int *nr_ret);

/**
 * kaslr_arm64_paging_for - the regime of the image's swapper_pg_dir under a candidate
 *
 * Tries every geometry on swapper_pg_dir where @kernel_offset and
 * @kimage_voffset put it; one fits when it maps linux_banner's address to
 * where the candidate puts the banner.  @returns KASLR_OK with @pg_ret;
 * KASLR_NOTFOUND when none fits; KASLR_AMBIGUOUS when two that disagree on
 * another image address fit; KASLR_NODATA without swapper_pg_dir.
 */
enum kaslr_status kaslr_arm64_paging_for(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					 uint64_t kernel_offset, uint64_t kimage_voffset,
					 struct kaslr_paging *pg_ret);

/* Physical address of link-time image address @sym: sym + KERNELOFFSET - kimage_voffset. */
static inline uint64_t kaslr_arm64_image_paddr(uint64_t sym, uint64_t kernel_offset, int64_t kimage_voffset)
{
	return sym + kernel_offset - (uint64_t)kimage_voffset;
}

/* ---- the image route (core/arm64/m6_image.c) ---- */

/*
 * Method 6 on arm64 (kaslr_ptscan's contract): find the image in physical
 * memory by its full linux_banner, take its swapper_pg_dir, and read the
 * offset off the lowest kernel address that maps _text.
 */
enum kaslr_status kaslr_arm64_image_scan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					 struct kaslr_candidate *cands, int max, int *nr_ret,
					 int stop_first_verified);

/* ---- what else crash needs (core/arm64/values.c) ---- */

struct kaslr_arm64_values {
	uint64_t kernel_offset;		/* KERNELOFFSET */
	uint64_t kimage_voffset;	/* image VA - PA */
	uint64_t text_paddr;		/* physical _text */
	int64_t phys_offset;		/* PHYS_OFFSET: memstart_addr (signed: may be "negative") */
	int va_bits;			/* CONFIG_ARM64_VA_BITS: how swapper_pg_dir is indexed */
	int vabits_actual;		/* what the CPU runs with (vabits_actual; = va_bits without it) */
	int page_shift;			/* 12, 14, 16 */
	uint64_t swapper_pg_dir_paddr;
	uint64_t kernelpacmask;		/* from the kernel's own vmcoreinfo; 0 unknown */
	int have_kernelpacmask;
};

/**
 * kaslr_arm64_values - read PHYS_OFFSET, VA_BITS and the page size through a verified candidate
 *
 * @returns KASLR_OK; otherwise ctx->err says which value could not be read.
 */
enum kaslr_status kaslr_arm64_values(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     const struct kaslr_candidate *cand, struct kaslr_arm64_values *ret);

#endif /* KASLR_CORE_ARM64_H */
