/*
 * core/x86_64/m1_pagetable.c - Method 1: the kernel text mapping through a CPU's page tables
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Method 1 - page tables (kaslr_from_pagetables)
 *	Walk the CPU's page tables (CR3) through the kernel image window
 *	[START_KERNEL_MAP, +KERNEL_IMAGE_SIZE) in address order and take the
 *	lowest present leaf: that is _text, because cleanup_highmap()
 *	(arch/x86/mm/init_64.c) zaps the level2_kernel_pgt entries below
 *	_text and, since 5.4 (and in stable kernels), __startup_64() clears
 *	them even earlier (commit 2aa85f246c18 "x86/boot/64: Make
 *	level2_kernel_pgt pages invalid outside kernel area").
 *	KERNELOFFSET = va - _text(vmlinux), phys_base = pa - (va -
 *	START_KERNEL_MAP): right by construction, not by fitting, and still
 *	verified (below).  If the lowest mapping does not verify, each 2 MiB
 *	slot of the window is tried: the one whose linux_banner translates to
 *	a page holding the vmlinux's banner wins.  With PTI (4.15, commit
 *	aa8c6248f8c7 "x86/mm/pti: Add infrastructure for page table
 *	isolation") CR3 may hold the user PGD (+4 KiB, bit 12), which maps
 *	little of the kernel (entry text, cpu_entry_area): the kernel half is
 *	tried first.  5-level paging (4.14, commit 77ef56e4f0fb) is taken
 *	from CR4.LA57; AMD SME's C-bit is stripped from CR3 and every entry.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/x86_64/x86_64.h"

static const char *size_name(uint64_t size)
{
	return size == SIZE_1G ? "1G" : size == SIZE_2M ? "2M" : "4K";
}

/*
 * Try every 2 MiB slot of the window for the one whose linux_banner
 * translates to the vmlinux's banner.  At most 512 slots.
 */
static enum kaslr_status banner_search(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				       const struct kaslr_paging *pg, struct kaslr_candidate *cand)
{
	uint64_t text = kaslr_vml_text(vml), first, stop, off;
	char *buf;

	if (!vml->linux_banner || !vml->banner || !vml->banner_len || !text)
		return KASLR_NODATA;
	buf = malloc(vml->banner_len);
	if (!buf)
		return KASLR_NOMEM;
	/* Offsets (mod 2^64) putting _text inside the window, 2 MiB aligned, lowest first. */
	first = (START_KERNEL_MAP - text + KASLR_ALIGN - 1) & ~(KASLR_ALIGN - 1);
	stop = START_KERNEL_MAP + KERNEL_IMAGE_SIZE - text;
	for (off = first; off - first < stop - first; off += KASLR_ALIGN) {
		struct kaslr_candidate c = *cand;
		uint64_t bva = vml->linux_banner + off, bpa, tpa;

		if (kaslr_x86_virt_read(ctx, pg, bva, buf, vml->banner_len) != KASLR_OK ||
		    memcmp(buf, vml->banner, vml->banner_len))
			continue;
		if (kaslr_vtop(ctx, pg, text + off, &tpa, NULL) == KASLR_OK)
			c.phys_base = (int64_t)(tpa - (text + off - START_KERNEL_MAP));
		else if (kaslr_vtop(ctx, pg, bva, &bpa, NULL) == KASLR_OK)
			c.phys_base = (int64_t)(bpa - (bva - START_KERNEL_MAP));
		else
			continue;
		c.kernel_offset = off;
		if (kaslr_verify(ctx, vml, pg, &c) == KASLR_OK) {
			char pbs[32];

			kaslr_cand_note(&c, "banner found through slot 0x%" PRIx64 " (phys_base %s); lowest "
				  "mapping did not verify", off, kaslr_pb_str(pbs, sizeof(pbs), c.phys_base));
			*cand = c;
			free(buf);
			return KASLR_OK;
		}
	}
	free(buf);
	return KASLR_NOTFOUND;
}

/* kaslr_x86_method1_on: see core/x86_64/x86_64.h. */
enum kaslr_status kaslr_x86_method1_on(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				       const struct kaslr_paging *pg, const char *pgname, const char *note_extra,
				       struct kaslr_candidate *cand, int *found_ret, char *why, size_t whysize)
{
	uint64_t text = kaslr_vml_text(vml), va, pa, size;
	enum kaslr_status st, walk;

	*found_ret = 0;
	cand->pgd_paddr = pg->root_paddr;
	cand->levels = pg->levels;
	cand->pg = *pg;
	walk = kaslr_first_mapping(ctx, pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE, &va, &pa,
				   &size);
	if (walk == KASLR_OK) {
		char pbs[32];

		cand->kernel_offset = va - text;
		cand->phys_base = (int64_t)(pa - (va - START_KERNEL_MAP));
		kaslr_cand_note(cand, "first text mapping 0x%" PRIx64 " -> 0x%" PRIx64 " (%s page)%s%s", va, pa,
			  size_name(size), pg->sme_mask ? ", SME" : "", note_extra);
		if (kaslr_verify(ctx, vml, pg, cand) == KASLR_OK)
			return KASLR_OK;
		kaslr_buf_append(why, whysize, "%s%s: first text mapping 0x%" PRIx64 " -> 0x%" PRIx64
			   " gives offset 0x%" PRIx64 " phys_base %s, which fails: %s",
			   *why ? "; " : "", pgname, va, pa, cand->kernel_offset,
			   kaslr_pb_str(pbs, sizeof(pbs), cand->phys_base), cand->why);
		*found_ret = 1;
		walk = KASLR_NOTFOUND;
	} else {
		kaslr_buf_append(why, whysize, "%s%s: %s", *why ? "; " : "", pgname, ctx->err);
		/*
		 * A complete walk that met no leaf: nothing in the window is
		 * mapped, so no slot's banner can translate either.
		 */
		if (walk == KASLR_NOTFOUND)
			return walk;
	}
	st = banner_search(ctx, vml, pg, cand);
	if (st == KASLR_OK || st == KASLR_NOMEM)
		return st;
	return walk;
}

/* Method 1 on one CPU: each PGD half CR3 may stand for, the first that verifies. */
enum kaslr_status kaslr_from_pagetables(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret)
{
	struct kaslr_first_failure first = { 0 };
	char why[KASLR_ERRLEN] = "";
	int halves[2], nh, h;
	enum kaslr_status st, worst = KASLR_NOTFOUND;

	kaslr_cand_init(cand_ret, KASLR_M_PAGETABLE, regs->cpu);
	if (!kaslr_vml_text(vml)) {
		kaslr_set_err(ctx, "the vmlinux has neither _text nor _stext");
		kaslr_cand_note(cand_ret, "%s", ctx->err);
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	nh = kaslr_x86_pgd_halves(vml, regs, halves);
	for (h = 0; h < nh; h++) {
		const char *hname = halves[h] == 1 ? "user PGD" : halves[h] == 0 ? "kernel PGD" : "PGD";
		struct kaslr_paging pg;
		struct kaslr_candidate c;
		int found;

		st = kaslr_paging_from_regs(ctx, regs, halves[h], &pg);
		if (st != KASLR_OK) {
			kaslr_cand_note(cand_ret, "%s", ctx->err);
			cand_ret->status = st;
			return st;	/* CR3 itself is unusable: same for both halves */
		}
		kaslr_cand_init(&c, KASLR_M_PAGETABLE, regs->cpu);
		st = kaslr_x86_method1_on(ctx, vml, &pg, hname, halves[h] == 1 ? ", user PGD" : "", &c, &found, why,
					  sizeof(why));
		if (st == KASLR_OK) {
			*cand_ret = c;
			return KASLR_OK;
		}
		if (st == KASLR_NOMEM) {
			cand_ret->status = st;
			return st;
		}
		if (found)
			kaslr_first_failure_keep(&first, &c, 1, NULL);
		else if (st != KASLR_NOTFOUND)
			worst = st;
	}
	kaslr_set_err(ctx, "cpu %d page tables: %s", regs->cpu, why);
	return kaslr_first_failure_take(&first, cand_ret, why, worst);
}
