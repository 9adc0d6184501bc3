/*
 * core/x86_64/m2_idt.c - Method 2: gate 0 of the IDT through a CPU's page tables
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Method 2 - IDT (kaslr_from_idt)
 *	Gate 0 of the IDT points at the divide-error entry stub
 *	(asm_exc_divide_error since 5.8, commit 9d06c4027f21 "x86/entry: Convert
 *	Divide Error to IDTENTRY"; divide_error before).  KERNELOFFSET =
 *	handler - that symbol's link address.  IDTR holds a read-only alias
 *	of idt_table's page (the FIX_RO_IDT fixmap since 3.10; since 4.15's
 *	PTI work the cpu_entry_area slot at 0xfffffe0000000000, which every
 *	5.10/6.1/6.12 QEMU dump measured here shows), so the IDT is read through
 *	the page tables too.  phys_base comes from translating _text+offset;
 *	failing that, from the IDT page's physical address against idt_table.
 *	The IDT is unused on CPUs running FRED (6.9+, CONFIG_X86_FRED) and
 *	points at early tables in early-boot dumps: verification catches both.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/x86_64/x86_64.h"

/* The gate's layout: offset 15:0, selector, IST, type/attr, offset 31:16, offset 63:32, reserved. */
int kaslr_x86_gate_handler(const unsigned char g[16], uint64_t *handler_ret, unsigned *type_ret,
			unsigned *present_ret)
{
	unsigned type = g[5] & 0xf, present = g[5] >> 7;

	if (type_ret)
		*type_ret = type;
	if (present_ret)
		*present_ret = present;
	if (!present || (type != 0xe && type != 0xf))
		return -1;
	*handler_ret = (uint64_t)kaslr_le16(g) | (uint64_t)kaslr_le16(g + 6) << 16 | (uint64_t)kaslr_le32(g + 8) << 32;
	return 0;
}

/* Method 2 on one CPU: each PGD half CR3 may stand for, the first that verifies. */
enum kaslr_status kaslr_from_idt(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret)
{
	uint64_t text = kaslr_vml_text(vml);
	struct kaslr_first_failure first = { 0 };
	char why[KASLR_ERRLEN] = "";
	int halves[2], nh, h;
	enum kaslr_status st, worst = KASLR_NOTFOUND;

	kaslr_cand_init(cand_ret, KASLR_M_IDT, regs->cpu);
	if (!(regs->valid & KASLR_REG_IDTR) || !regs->idtr_base || !regs->idtr_limit) {
		kaslr_set_err(ctx, "cpu %d: IDTR is empty (base 0x%" PRIx64 ", limit 0x%x)", regs->cpu,
			regs->idtr_base, regs->idtr_limit);
		goto nodata;
	}
	if (regs->idtr_limit < 15) {
		kaslr_set_err(ctx, "cpu %d: IDTR limit 0x%x cannot hold gate 0", regs->cpu, regs->idtr_limit);
		goto nodata;
	}
	if (!vml->divide_error) {
		kaslr_set_err(ctx, "the vmlinux has neither asm_exc_divide_error nor divide_error");
		goto nodata;
	}
	nh = kaslr_x86_pgd_halves(vml, regs, halves);
	for (h = 0; h < nh; h++) {
		const char *hname = halves[h] == 1 ? "user PGD" : halves[h] == 0 ? "kernel PGD" : "PGD";
		unsigned char g[16];
		struct kaslr_paging pg;
		struct kaslr_candidate c;
		uint64_t idt_pa, handler, tpa;
		unsigned type, present;
		char pbs[32];

		st = kaslr_paging_from_regs(ctx, regs, halves[h], &pg);
		if (st != KASLR_OK) {
			kaslr_cand_note(cand_ret, "%s", ctx->err);
			cand_ret->status = st;
			return st;
		}
		st = kaslr_vtop(ctx, &pg, regs->idtr_base, &idt_pa, NULL);
		if (st == KASLR_OK)
			st = kaslr_x86_virt_read(ctx, &pg, regs->idtr_base, g, sizeof(g));
		if (st != KASLR_OK) {
			kaslr_buf_append(why, sizeof(why), "%s%s: IDT 0x%" PRIx64 ": %s", *why ? "; " : "", hname,
				   regs->idtr_base, ctx->err);
			if (st != KASLR_NOTFOUND)
				worst = st;
			continue;
		}
		if (kaslr_x86_gate_handler(g, &handler, &type, &present) < 0) {
			kaslr_buf_append(why, sizeof(why), "%s%s: IDT gate 0 at 0x%" PRIx64 " is not a present "
				   "interrupt/trap gate (type 0x%x, P=%u)", *why ? "; " : "", hname, idt_pa,
				   type, present);
			worst = KASLR_CORRUPT;
			continue;
		}
		kaslr_cand_init(&c, KASLR_M_IDT, regs->cpu);
		c.pgd_paddr = pg.root_paddr;
		c.levels = pg.levels;
		c.kernel_offset = handler - vml->divide_error;
		if (text && kaslr_vtop(ctx, &pg, text + c.kernel_offset, &tpa, NULL) == KASLR_OK) {
			c.phys_base = (int64_t)(tpa - (text + c.kernel_offset - START_KERNEL_MAP));
			kaslr_cand_note(&c, "IDT 0x%" PRIx64 " gate 0 -> 0x%" PRIx64 "; _text -> 0x%" PRIx64,
				  regs->idtr_base, handler, tpa);
		} else if (vml->idt_table) {
			/* The IDTR page is idt_table's (itself or its cpu_entry_area alias). */
			c.phys_base = (int64_t)((idt_pa & KASLR_PAGE_MASK) -
						(vml->idt_table + c.kernel_offset - START_KERNEL_MAP));
			kaslr_cand_note(&c, "IDT 0x%" PRIx64 " (0x%" PRIx64 ") gate 0 -> 0x%" PRIx64
				  "; phys_base from idt_table", regs->idtr_base, idt_pa, handler);
		} else {
			kaslr_buf_append(why, sizeof(why), "%s%s: handler 0x%" PRIx64 " found, but _text+offset is "
				   "unmapped and the vmlinux has no idt_table", *why ? "; " : "", hname,
				   handler);
			continue;
		}
		c.pg = pg;
		if (kaslr_verify(ctx, vml, &pg, &c) == KASLR_OK) {
			*cand_ret = c;
			return KASLR_OK;
		}
		kaslr_buf_append(why, sizeof(why), "%s%s: IDT gate 0 handler 0x%" PRIx64 " gives offset 0x%" PRIx64
			   " phys_base %s, which fails (does the handler match %s?): %s",
			   *why ? "; " : "", hname, handler, c.kernel_offset,
			   kaslr_pb_str(pbs, sizeof(pbs), c.phys_base), "asm_exc_divide_error/divide_error", c.why);
		kaslr_first_failure_keep(&first, &c, 1, NULL);
	}
	kaslr_set_err(ctx, "cpu %d IDT: %s", regs->cpu, why);
	return kaslr_first_failure_take(&first, cand_ret, why, worst);

nodata:
	kaslr_cand_note(cand_ret, "%s", ctx->err);
	cand_ret->status = KASLR_NODATA;
	return KASLR_NODATA;
}
