/*
 * core/arm64/arch.c - the arm64 entry of the architecture table (core/arch.h)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>

#include "core/core.h"
#include "core/arm64/arm64.h"

static uint64_t image_paddr(uint64_t sym, uint64_t kernel_offset, int64_t kimage_voffset)
{
	return kaslr_arm64_image_paddr(sym, kernel_offset, kimage_voffset);
}

/* An arm64 paging context (core/x86_64 contexts have no granule). */
static int arm64_pg(const struct kaslr_paging *pg)
{
	return pg && pg->levels && pg->page_shift;
}

static enum kaslr_status vtop(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t va, uint64_t *pa_ret,
			      uint64_t *pagesize_ret)
{
	if (!arm64_pg(pg)) {
		kaslr_set_err(ctx, "no arm64 paging context");
		return KASLR_NODATA;
	}
	return kaslr_arm64_vtop(ctx, pg, va, pa_ret, pagesize_ret);
}

/*
 * Physical address of a kernel pointer: an image address by the
 * candidate's kimage_voffset; anything else (the linear map, where
 * vmcoreinfo_data and saved_command_line point) through the kernel's own
 * tables, found through the candidate when none are given.  The linear
 * map's base moved between releases (5.4 flipped the VA halves, 6.9
 * follows vabits_actual): the tables know where it is.
 */
static enum kaslr_status ptr_to_phys(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     const struct kaslr_paging *pg, uint64_t kernel_offset, int64_t kimage_voffset,
				     uint64_t va, uint64_t *pa_ret)
{
	struct kaslr_paging found;
	uint64_t text = kaslr_vml_text(vml);
	enum kaslr_status st;

	if (vml->end && va >= text + kernel_offset && va < vml->end + kernel_offset) {
		*pa_ret = va - (uint64_t)kimage_voffset;
		return KASLR_OK;
	}
	if (!arm64_pg(pg)) {
		st = kaslr_arm64_paging_for(ctx, vml, kernel_offset, (uint64_t)kimage_voffset, &found);
		if (st != KASLR_OK)
			return st;
		pg = &found;
	}
	return kaslr_arm64_vtop(ctx, pg, va, pa_ret, NULL);
}

/*
 * kimage_voffset as the kernel stored it at boot (arch/arm64/kernel/pi/
 * map_kernel.c; head.S before 6.9): read where the candidate puts it, it
 * must hold the candidate's own kimage_voffset.  A wrong split of the same
 * sum reads the same word and is off by what the offset is off by.
 */
static int runtime_pointer(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t kernel_offset,
			   int64_t kimage_voffset, uint64_t *pa_ret, uint64_t *got_ret, uint64_t *want_ret)
{
	if (!vml->kimage_voffset)
		return -1;
	*pa_ret = kaslr_arm64_image_paddr(vml->kimage_voffset, kernel_offset, kimage_voffset);
	*want_ret = (uint64_t)kimage_voffset;
	if (kaslr_phys_read_u64(ctx, *pa_ret, got_ret) || !*got_ret)
		return 0;
	return 1;
}

/*
 * QEMU's arm64 notes carry no TTBR1 or TCR: no register method applies.
 * The image route (Method 6) finds the tables instead.
 */
static const char *cpu_unusable(const struct kaslr_cpu_regs *r)
{
	(void)r;
	return "arm64 notes carry no page-table register (no TTBR1)";
}

static int same_cpu_state(const struct kaslr_cpu_regs *a, const struct kaslr_cpu_regs *b)
{
	(void)a;
	(void)b;
	return 1;
}

/* KASLR only adds to the link address: _text lies at or above it, anywhere in the kernel half. */
static int in_window(const struct kaslr_vmlinux *vml, uint64_t text_dump, char *why, size_t whysize)
{
	uint64_t text = kaslr_vml_text(vml);

	if (text_dump >= text)
		return 1;
	kaslr_errf(why, whysize, "_text would be at 0x%" PRIx64 ", below its link address 0x%" PRIx64, text_dump,
		   text);
	return 0;
}

const struct kaslr_arch kaslr_arch_arm64 = {
	.name = "arm64",
	.placement = "kimage_voffset",
	.align = ARM64_SEGMENT_ALIGN,
	.in_window = in_window,
	.image_paddr = image_paddr,
	.ptr_to_phys = ptr_to_phys,
	.vtop = vtop,
	.runtime_pointer = runtime_pointer,
	.cpu_unusable = cpu_unusable,
	.same_cpu_state = same_cpu_state,
	.cpu_methods = NULL,
	.nr_cpu_methods = 0,
	.ptscan = kaslr_arm64_image_scan,
};

const struct kaslr_arch *kaslr_arch_of(const struct kaslr_vmlinux *vml)
{
	return vml->machine == EM_AARCH64 ? &kaslr_arch_arm64 : &kaslr_arch_x86_64;
}
