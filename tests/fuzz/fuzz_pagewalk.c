/*
 * fuzz_pagewalk.c - page-table walking and the register methods on fuzzed memory
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: a 34-byte header, then chunks of a 64 KiB physical memory
 * starting at address 0 (fuzz_image in fuzz.h).
 *   0      flags: bit 0 CR4.LA57, bit 1 PTI vmlinux, bit 2 CR0.PG clear,
 *          bits 3-4 range layout (fuzz.h), bit 5 also run kaslr_find,
 *          bit 6 IDTR limit 0, bit 7 vmlinux with a relocation probe
 *   1      low nibble ORed into CR3 (PCID, PWT/PCD); high nibble n > 0:
 *          reads of page n fail
 *   2..9   CR3
 *  10..17  IDTR base
 *  18..25  a virtual address (vtop; start of a first_mapping range)
 *  26..33  end of that range (0 = to the top)
 * Oracles: reads stay in a page and in the ranges; a verified candidate
 * has the banner where it says; vtop and first_mapping agree.
 */
#include "fuzz.h"

#define HDR 34
#define MEM_SIZE (16 * FUZZ_PAGE)

static struct kaslr_report rep;
static uint8_t img[MEM_SIZE];
static struct fuzz_image fi = { img, sizeof(img), ~0u };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_vmlinux vml;
	struct kaslr_cpu_regs regs;
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct kaslr_ctx ctx;
	struct fuzz_mem m;
	uint64_t va, start, end, fva, fpa, fsize, pa, psize;
	enum kaslr_status st;
	uint8_t flags;

	if (size < HDR)
		return 0;
	flags = data[0];
	fuzz_vmlinux(&vml, (flags >> 1) & 1, flags >> 7);
	fuzz_image(&fi, data + HDR, size - HDR);
	fuzz_mem_init(&m, img, sizeof(img), (flags >> 3) & 3);
	fuzz_ctx(&ctx, &m);

	memset(&regs, 0, sizeof(regs));
	regs.cpu = 0;
	regs.valid = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR;
	regs.cr0 = (flags & 4) ? 0x50033 : 0x80050033ULL;
	m.bad_page = (uint64_t)(data[1] >> 4) * FUZZ_PAGE;
	regs.cr3 = fuzz_le64(data + 2) | (data[1] & 0xf);
	regs.cr4 = 0x3506f0ULL | ((flags & 1) ? CR4_LA57 : 0);
	regs.idtr_base = fuzz_le64(data + 10);
	regs.idtr_limit = (flags & 0x40) ? 0 : 0xfff;
	va = fuzz_le64(data + 18);
	start = va;
	end = fuzz_le64(data + 26);

	if (kaslr_paging_from_regs(&ctx, &regs, KASLR_PGD_AS_IS, &pg) == KASLR_OK) {
		if (pg.root_paddr & (FUZZ_PAGE - 1))
			FUZZ_FAIL("root 0x%" PRIx64 " not page aligned", pg.root_paddr);
		/* The image window, as Method 1 walks it. */
		st = kaslr_first_mapping(&ctx, &pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE, &fva,
					 &fpa, &fsize);
		if (st == KASLR_OK) {
			if (fva < START_KERNEL_MAP || fva - START_KERNEL_MAP >= KERNEL_IMAGE_SIZE)
				FUZZ_FAIL("first mapping 0x%" PRIx64 " outside the window", fva);
			/* What the walk found, a lookup finds too (unless a table beside it is unreadable). */
			if (kaslr_vtop(&ctx, &pg, fva, &pa, &psize) == KASLR_OK && (pa != fpa || psize != fsize))
				FUZZ_FAIL("walk says 0x%" PRIx64 " -> 0x%" PRIx64 " (%" PRIx64 "), vtop 0x%" PRIx64
					  " (%" PRIx64 ")", fva, fpa, fsize, pa, psize);
		}
		/* An arbitrary range, and an arbitrary address. */
		st = kaslr_first_mapping(&ctx, &pg, start, end, &fva, &fpa, &fsize);
		if (st == KASLR_OK && (fva < start || (end && fva >= end)))
			FUZZ_FAIL("first mapping 0x%" PRIx64 " outside [0x%" PRIx64 ", 0x%" PRIx64 ")", fva, start,
				  end);
		kaslr_vtop(&ctx, &pg, va, &pa, NULL);
		fuzz_check_err(&ctx);
	}

	st = kaslr_from_pagetables(&ctx, &vml, &regs, &c);
	if (st != c.status)
		FUZZ_FAIL("pagetables: returned %s, candidate says %s", kaslr_status_name(st),
			  kaslr_status_name(c.status));
	if (st == KASLR_OK)
		fuzz_check_verified(&m, &vml, "pagetables", c.kernel_offset, c.phys_base);
	fuzz_check_err(&ctx);

	st = kaslr_from_idt(&ctx, &vml, &regs, &c);
	if (st != c.status)
		FUZZ_FAIL("idt: returned %s, candidate says %s", kaslr_status_name(st), kaslr_status_name(c.status));
	if (st == KASLR_OK)
		fuzz_check_verified(&m, &vml, "idt", c.kernel_offset, c.phys_base);
	fuzz_check_err(&ctx);

	if (flags & 0x20) {
		st = kaslr_find(&ctx, &vml, &regs, 1, KASLR_METHODS_ALL, &rep);
		fuzz_check_report(&m, &vml, &rep, st);
		fuzz_check_err(&ctx);
	}
	return 0;
}
