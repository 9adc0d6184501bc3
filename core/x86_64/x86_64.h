/*
 * core/x86_64/x86_64.h - what is x86_64 about finding a KASLR kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The x86_64 methods and page-table walks (the constants they share are in
 * core/x86_64/constants.h).  The shared layers (the driver, the scans, the
 * vmcoreinfo code, the dump readers) reach them only through core/arch.h.
 */
#ifndef KASLR_CORE_X86_64_H
#define KASLR_CORE_X86_64_H

#include <stdint.h>

#include "core/candidate.h"
#include "core/paging.h"
#include "core/types.h"
#include "core/vmlinux.h"
#include "core/x86_64/constants.h"


/* ---- paging (core/x86_64/paging.c) ---- */

/*
 * kaslr_paging_from_regs @user_half: 0 kernel PGD (bit 12 cleared), 1 PTI
 * user PGD (bit 12 set), KASLR_PGD_AS_IS keeps CR3's bit 12 (kernels
 * without PTI allocate a PGD as one page, which may be an odd one).
 */
#define KASLR_PGD_AS_IS (-1)

/**
 * kaslr_paging_from_regs - build a paging context from a CPU's registers
 * @ctx:       core context (used to see where memory ends, for the SME bit)
 * @regs:      the CPU
 * @user_half: 1 to pick the PTI user PGD (bit 12 set), 0 for the kernel half
 * @pg_ret:    filled on success
 *
 * @returns KASLR_OK, or KASLR_NODATA when CR3 is missing/zero or paging is off.
 */
enum kaslr_status kaslr_paging_from_regs(struct kaslr_ctx *ctx, const struct kaslr_cpu_regs *regs,
					 int user_half, struct kaslr_paging *pg_ret);

/**
 * kaslr_vtop - translate a virtual address through a paging context
 * @paddr_ret:    physical address
 * @pagesize_ret: size of the leaf that maps it (4 KiB, 2 MiB or 1 GiB); may be NULL
 *
 * @returns KASLR_OK, KASLR_NOTFOUND (not present), KASLR_NODATA (a table is
 * outside the dump), KASLR_CORRUPT (non-canonical address).
 */
enum kaslr_status kaslr_vtop(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t vaddr,
			     uint64_t *paddr_ret, uint64_t *pagesize_ret);

/**
 * kaslr_first_mapping - lowest present virtual address in [start, end)
 *
 * Walks the tables in address order and stops at the first present leaf.
 * Visits each table at most once, so cycles in the tables cannot loop.
 */
enum kaslr_status kaslr_first_mapping(struct kaslr_ctx *ctx, const struct kaslr_paging *pg,
				      uint64_t start, uint64_t end, uint64_t *vaddr_ret,
				      uint64_t *paddr_ret, uint64_t *pagesize_ret);

/*
 * The PGD halves CR3 may stand for, in the order to try (@halves gets
 * KASLR_PGD_AS_IS, 0 or 1 as kaslr_paging_from_regs takes them).
 * @returns how many.
 */
int kaslr_x86_pgd_halves(const struct kaslr_vmlinux *vml, const struct kaslr_cpu_regs *regs, int halves[2]);

/* @len bytes at virtual @vaddr, translated page by page. */
enum kaslr_status kaslr_x86_virt_read(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t vaddr,
				      void *buf, size_t len);

/* Physical address of a kernel-image VA (link-time @sym) under a candidate: va - START_KERNEL_MAP + phys_base. */
static inline uint64_t kaslr_x86_image_paddr(uint64_t sym, uint64_t kernel_offset, int64_t phys_base)
{
	return sym + kernel_offset - START_KERNEL_MAP + (uint64_t)phys_base;
}

/*
 * An IDT gate (SDM vol. 3, 6.14.1): @returns 0 and the handler for a
 * present interrupt or trap gate; -1 otherwise (@type_ret/@present_ret say
 * what it was; both may be NULL).
 */
int kaslr_x86_gate_handler(const unsigned char g[16], uint64_t *handler_ret, unsigned *type_ret,
			   unsigned *present_ret);

/* ---- methods (core/x86_64/m1_pagetable.c, m2_idt.c, m6_ptscan.c) ---- */

/*
 * Methods 1 and 2 verify what they find (kaslr_verify) and return
 * KASLR_OK only for a verified candidate.  KASLR_NOTFOUND with
 * cand_ret->kernel_offset/phys_base set means values were found but failed
 * verification (cand_ret->note says why, ctx->err in full); other statuses
 * mean no values.  cand_ret->status always equals the return value, and
 * cand_ret->pg is the paging context the values came through.
 */
/* Method 1: the kernel text mapping through one CPU's page tables. */
enum kaslr_status kaslr_from_pagetables(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret);

/* Method 2: gate 0 of the IDT through one CPU's page tables. */
enum kaslr_status kaslr_from_idt(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret);

/*
 * Method 1 on one paging context (a CPU's PGD half, or a table the scan
 * found): the lowest mapping of the image window, then, if that does not
 * verify, the banner search.  @cand comes in initialised (method, cpu)
 * and holds the verified answer on KASLR_OK.  Otherwise *found_ret says
 * whether @cand holds values that failed verification, and the reason is
 * appended to @why, prefixed with @pgname.  @note_extra is appended to the
 * candidate's note (", user PGD").
 *
 * @returns KASLR_OK, KASLR_NOMEM, or the status of the window walk
 * (KASLR_NOTFOUND when values were found but failed).
 */
enum kaslr_status kaslr_x86_method1_on(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				       const struct kaslr_paging *pg, const char *pgname, const char *note_extra,
				       struct kaslr_candidate *cand, int *found_ret, char *why, size_t whysize);

/* Method 6, the page-table scan (kaslr_ptscan's contract, kaslr_core.h). */
enum kaslr_status kaslr_x86_ptscan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				   struct kaslr_candidate *cands, int max, int *nr_ret, int stop_first_verified);

#endif /* KASLR_CORE_X86_64_H */
