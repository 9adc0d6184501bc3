/*
 * core/arm64/values.c - what an arm64 crash needs beside KERNELOFFSET and kimage_voffset
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Read through a verified candidate from the kernel's own variables:
 * memstart_addr (PHYS_OFFSET, random with KASLR's linear-region
 * randomisation), vabits_actual (5.4+), and the translation regime of
 * swapper_pg_dir (page size and configured VA bits), the same values the
 * kernel's vmcoreinfo carries as NUMBER(PHYS_OFFSET), NUMBER(VA_BITS) and
 * PAGESIZE (arch/arm64/kernel/vmcore_info.c, crash_core.c before 6.9).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/arm64/arm64.h"

enum kaslr_status kaslr_arm64_values(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     const struct kaslr_candidate *cand, struct kaslr_arm64_values *ret)
{
	struct kaslr_paging pg;
	uint64_t v, at;
	enum kaslr_status st;

	memset(ret, 0, sizeof(*ret));
	ret->kernel_offset = cand->kernel_offset;
	ret->kimage_voffset = (uint64_t)cand->phys_base;
	ret->text_paddr = kaslr_arm64_image_paddr(kaslr_vml_text(vml), cand->kernel_offset, cand->phys_base);
	if (cand->pg.levels && cand->pg.page_shift) {
		pg = cand->pg;
	} else {
		st = kaslr_arm64_paging_for(ctx, vml, cand->kernel_offset, (uint64_t)cand->phys_base, &pg);
		if (st != KASLR_OK)
			return st;
	}
	ret->page_shift = pg.page_shift;
	ret->va_bits = pg.va_bits;
	ret->swapper_pg_dir_paddr = pg.root_paddr;
	if (!vml->memstart_addr) {
		kaslr_set_err(ctx, "the vmlinux has no memstart_addr: PHYS_OFFSET unknown");
		return KASLR_NODATA;
	}
	at = kaslr_arm64_image_paddr(vml->memstart_addr, cand->kernel_offset, cand->phys_base);
	if (kaslr_phys_read_u64(ctx, at, &v)) {
		kaslr_set_err(ctx, "memstart_addr at 0x%" PRIx64 " is not in the dump", at);
		return KASLR_NODATA;
	}
	ret->phys_offset = (int64_t)v;
	ret->vabits_actual = ret->va_bits;
	if (vml->vabits_actual) {
		at = kaslr_arm64_image_paddr(vml->vabits_actual, cand->kernel_offset, cand->phys_base);
		if (kaslr_phys_read_u64(ctx, at, &v)) {
			kaslr_set_err(ctx, "vabits_actual at 0x%" PRIx64 " is not in the dump", at);
			return KASLR_NODATA;
		}
		if (v < 36 || v > 52 || v > (uint64_t)ret->va_bits) {
			kaslr_set_err(ctx, "vabits_actual at 0x%" PRIx64 " reads %" PRIu64 ", not a VA size of a "
				      "%d-bit kernel", at, v, ret->va_bits);
			return KASLR_CORRUPT;
		}
		ret->vabits_actual = (int)v;
	}
	return KASLR_OK;
}
