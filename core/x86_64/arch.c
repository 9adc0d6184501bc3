/*
 * core/x86_64/arch.c - the x86_64 entry of the architecture table (core/arch.h)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>

#include "core/core.h"
#include "core/x86_64/x86_64.h"

static uint64_t image_paddr(uint64_t sym, uint64_t kernel_offset, int64_t phys_base)
{
	return kaslr_x86_image_paddr(sym, kernel_offset, phys_base);
}

/*
 * Physical address of a kernel pointer (@va): the page tables when given,
 * else the kernel image (START_KERNEL_MAP + phys_base) or the direct map
 * (page_offset_base, random since 4.8 with CONFIG_RANDOMIZE_MEMORY).
 */
static enum kaslr_status ptr_to_phys(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     const struct kaslr_paging *pg, uint64_t kernel_offset, int64_t phys_base,
				     uint64_t va, uint64_t *pa_ret)
{
	uint64_t page_offset;

	if (pg && kaslr_vtop(ctx, pg, va, pa_ret, NULL) == KASLR_OK)
		return KASLR_OK;
	if (va >= START_KERNEL_MAP) {
		*pa_ret = va - START_KERNEL_MAP + (uint64_t)phys_base;
		return KASLR_OK;
	}
	if (vml->page_offset_base) {
		uint64_t at = kaslr_x86_image_paddr(vml->page_offset_base, kernel_offset, phys_base);

		if (kaslr_phys_read_u64(ctx, at, &page_offset)) {
			kaslr_set_err(ctx, "page_offset_base at 0x%" PRIx64 " is not in the dump", at);
			return KASLR_NODATA;
		}
		/* Randomized within the direct-map region, 1 GiB aligned (arch/x86/mm/kaslr.c). */
		if (!(page_offset >> 63) || page_offset >= START_KERNEL_MAP || page_offset % SIZE_1G) {
			kaslr_set_err(ctx, "page_offset_base reads 0x%" PRIx64 ", not a direct-map base", page_offset);
			return KASLR_CORRUPT;
		}
	} else if (pg && pg->levels == 5) {
		page_offset = va < PAGE_OFFSET_5L && va >= PAGE_OFFSET_5L_OLD ? PAGE_OFFSET_5L_OLD : PAGE_OFFSET_5L;
	} else {
		/* Below the 4.20 base but above the old one: only the old layout explains it. */
		page_offset = va < PAGE_OFFSET_4L && va >= PAGE_OFFSET_4L_OLD ? PAGE_OFFSET_4L_OLD : PAGE_OFFSET_4L;
	}
	if (va < page_offset) {
		kaslr_set_err(ctx, "pointer 0x%" PRIx64 " is below the direct map (0x%" PRIx64 ")", va, page_offset);
		return KASLR_CORRUPT;
	}
	*pa_ret = va - page_offset;
	return KASLR_OK;
}

/* Would Methods 1 and 2 see exactly the same thing on these two CPUs? */
static int same_paging_regs(const struct kaslr_cpu_regs *a, const struct kaslr_cpu_regs *b)
{
	unsigned m = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR;

	return (a->valid & m) == (b->valid & m) && (a->cr3 & PTE_ADDR_MASK) == (b->cr3 & PTE_ADDR_MASK) &&
	       !((a->cr4 ^ b->cr4) & CR4_LA57) && a->idtr_base == b->idtr_base &&
	       a->idtr_limit == b->idtr_limit && !((a->cr0 ^ b->cr0) & CR0_PG);
}

/*
 * idt_table[0]: an interrupt gate whose handler the kernel writes at boot
 * with asm_exc_divide_error's runtime address (divide_error before 5.8).
 */
static int runtime_pointer(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t kernel_offset,
			   int64_t phys_base, uint64_t *pa_ret, uint64_t *got_ret, uint64_t *want_ret)
{
	unsigned char raw[16];

	if (!vml->idt_table || !vml->divide_error)
		return -1;
	*pa_ret = kaslr_x86_image_paddr(vml->idt_table, kernel_offset, phys_base);
	*want_ret = vml->divide_error + kernel_offset;
	if (kaslr_phys_read(ctx, *pa_ret, raw, sizeof(raw)) || kaslr_x86_gate_handler(raw, got_ret, NULL, NULL) < 0)
		return 0;
	return 1;
}

static const char *cpu_unusable(const struct kaslr_cpu_regs *r)
{
	if (!(r->valid & KASLR_REG_CR3) || !r->cr3)
		return "no CR3 (offline?)";
	if ((r->valid & KASLR_REG_CR0) && !(r->cr0 & CR0_PG))
		return "paging off";
	return NULL;
}

/*
 * Not in the kernel yet, by construction from the registers (core/diagnose.c):
 * real mode (CR0.PE clear: firmware, the boot loader, the kernel's real-mode
 * setup); protected mode without paging (firmware, startup_32); or paging on
 * with RIP below the kernel half and no present entry in the kernel half of
 * the top-level table CR3 points at.  The last is the decompressor
 * (arch/x86/boot/compressed/head_64.S and ident_map_64.c build identity
 * tables only): the kernel's own tables, and every process's, map the
 * kernel half, and the kernel proper runs above 0xffffffff80000000.
 */
static int pre_kernel(struct kaslr_ctx *ctx, const struct kaslr_cpu_regs *r, char *buf, size_t size)
{
	unsigned char pgd[KASLR_PAGE_SIZE];
	uint64_t table = r->cr3 & PTE_ADDR_MASK;
	int i;

	if ((r->valid & (KASLR_REG_CR0 | KASLR_REG_RIP)) != (KASLR_REG_CR0 | KASLR_REG_RIP))
		return 0;
	if (!(r->cr0 & CR0_PE)) {
		snprintf(buf, size, "in real mode (IP 0x%" PRIx64 ")", r->rip);
		return 1;
	}
	if (!(r->cr0 & CR0_PG)) {
		snprintf(buf, size, "in protected mode without paging (EIP 0x%" PRIx64 ")", r->rip);
		return 1;
	}
	if (r->rip >= KERNEL_HALF_4L || !(r->valid & KASLR_REG_CR3) || !table ||
	    kaslr_phys_read(ctx, table, pgd, sizeof(pgd)))
		return 0;
	for (i = 256; i < 512; i++)
		if (kaslr_le64(pgd + 8 * i) & PTE_PRESENT)
			return 0;
	snprintf(buf, size, "in the boot decompressor (RIP 0x%" PRIx64 ", CR3 0x%" PRIx64
		 ": identity tables, nothing mapped in the kernel half)", r->rip, r->cr3);
	return 1;
}

/* Methods 1 and 2, in that order, each verified on its own. */
static const struct kaslr_cpu_method cpu_methods[] = {
	{ KASLR_M_PAGETABLE, kaslr_from_pagetables, "page tables" },
	{ KASLR_M_IDT, kaslr_from_idt, "IDT" },
};

const struct kaslr_arch kaslr_arch_x86_64 = {
	.name = "x86_64",
	.placement = "phys_base",
	.image_start = START_KERNEL_MAP,
	.image_size = KERNEL_IMAGE_SIZE,
	.align = KASLR_ALIGN,
	.image_paddr = image_paddr,
	.pre_kernel = pre_kernel,
	.ptr_to_phys = ptr_to_phys,
	.vtop = kaslr_vtop,
	.runtime_pointer = runtime_pointer,
	.cpu_unusable = cpu_unusable,
	.same_cpu_state = same_paging_regs,
	.cpu_methods = cpu_methods,
	.nr_cpu_methods = (int)(sizeof(cpu_methods) / sizeof(cpu_methods[0])),
	.ptscan = kaslr_x86_ptscan,
};
