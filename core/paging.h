/*
 * core/paging.h - a paging context: how one set of page tables is walked
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One struct for everything that varies between paging modes (no globals,
 * nothing of crash's machdep).  A candidate carries the context it was
 * found through, so that later reads (the kernel's vmcoreinfo, a capture
 * kernel's command line) follow the same tables.  The fields are those of
 * x86_64 (core/x86_64/paging.c walks them); another architecture adds its
 * own beside them.
 */
#ifndef KASLR_CORE_PAGING_H
#define KASLR_CORE_PAGING_H

#include <stdint.h>

struct kaslr_paging {
	uint64_t root_paddr;	/* top-level table, 4 KiB aligned */
	int levels;		/* x86_64: 4 or 5; arm64: 2 to 5; 0: no paging context */
	uint64_t sme_mask;	/* x86_64: memory-encryption bit(s) to strip from entries */
	/*
	 * arm64 (core/arm64/paging.c): the translation granule (12, 14, 16),
	 * the VA size the tables are indexed with (CONFIG_ARM64_VA_BITS), and
	 * whether entries carry 52-bit output addresses (FEAT_LPA2 with 4/16
	 * KiB pages: OA[51:50] in bits 9:8).  64 KiB granules always read
	 * OA[51:48] from bits 15:12 (FEAT_LPA; zero otherwise).
	 */
	int page_shift;
	int va_bits;
	int lpa2;
};

#endif /* KASLR_CORE_PAGING_H */
