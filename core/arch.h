/*
 * core/arch.h - the architecture boundary of the core
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What differs between architectures sits behind one table of operations,
 * in the way libaddrxlat keeps one file set per architecture: where the
 * kernel image may lie, how an image address and a kernel pointer become
 * physical, which register methods a CPU offers, how page tables are found
 * by scanning.  The shared layers (the driver, verification, the vmcoreinfo
 * methods and scan) call these and never name a register or a page-table
 * bit.  x86_64 is core/x86_64/, arm64 core/arm64/ (swapper_pg_dir found
 * through the image, kimage_voffset, PHYS_OFFSET, VA_BITS).
 *
 * A candidate's second value (struct kaslr_candidate.phys_base) is what
 * turns an image address into a physical one with the offset: phys_base on
 * x86_64, kimage_voffset on arm64; @placement names it.
 */
#ifndef KASLR_CORE_ARCH_H
#define KASLR_CORE_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/candidate.h"
#include "core/paging.h"
#include "core/types.h"
#include "core/vmlinux.h"

/*
 * A register method: one CPU's registers in, one candidate out, verified
 * (KASLR_OK) or not; the candidate carries the paging context it used.
 */
typedef enum kaslr_status (*kaslr_cpu_method_fn)(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
						 const struct kaslr_cpu_regs *regs,
						 struct kaslr_candidate *cand_ret);

struct kaslr_cpu_method {
	enum kaslr_method method;
	kaslr_cpu_method_fn run;
	const char *what;		/* how a failure names it: "cpu 1 <what>" */
};

struct kaslr_arch {
	const char *name;
	const char *placement;	/* the second value's name: "phys_base", "kimage_voffset" */
	/*
	 * The image window: a KASLR kernel's _text + KERNELOFFSET lies in
	 * [image_start, image_start + image_size), or where in_window() says
	 * when given (@why: why not), and KERNELOFFSET is a multiple of align.
	 */
	uint64_t image_start, image_size, align;
	int (*in_window)(const struct kaslr_vmlinux *vml, uint64_t text_dump, char *why, size_t whysize);
	/* Physical address of link-time image address @sym under a candidate. */
	uint64_t (*image_paddr)(uint64_t sym, uint64_t kernel_offset, int64_t phys_base);
	/*
	 * Physical address of kernel pointer @va (the image or the direct
	 * map), through @pg when given.  ctx->err says why on failure.
	 */
	enum kaslr_status (*ptr_to_phys)(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					 const struct kaslr_paging *pg, uint64_t kernel_offset, int64_t phys_base,
					 uint64_t va, uint64_t *pa_ret);
	/* Translate @va through a paging context (ctx->err says why not). */
	enum kaslr_status (*vtop)(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t va,
				  uint64_t *pa_ret, uint64_t *pagesize_ret);
	/*
	 * A pointer the kernel wrote at run time with the offset in it
	 * (x86_64: gate 0 of idt_table), checked with the relocation probes:
	 * @returns 1 with where it lies, what it holds and what it should hold
	 * under the candidate; 0 when there is nothing to read (no symbol, not
	 * set up yet).
	 */
	int (*runtime_pointer)(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t kernel_offset,
			       int64_t phys_base, uint64_t *pa_ret, uint64_t *got_ret, uint64_t *want_ret);
	/* NULL when the CPU's registers can be used, else why not ("paging off"). */
	const char *(*cpu_unusable)(const struct kaslr_cpu_regs *regs);
	/*
	 * Where a CPU's registers say it is when it is not in the kernel yet
	 * (x86_64: real mode, protected mode without paging, 64-bit code
	 * below the kernel half on tables that map nothing there): @returns 1
	 * and a description in @buf ("in the boot decompressor (RIP ...)"), 0
	 * when it may be in the kernel or the registers cannot tell.  NULL:
	 * the architecture's registers never tell (core/diagnose.c).
	 */
	int (*pre_kernel)(struct kaslr_ctx *ctx, const struct kaslr_cpu_regs *regs, char *buf, size_t size);
	/* Would the register methods see exactly the same thing on these two CPUs? */
	int (*same_cpu_state)(const struct kaslr_cpu_regs *a, const struct kaslr_cpu_regs *b);
	/* The register methods, in the order they run on each CPU. */
	const struct kaslr_cpu_method *cpu_methods;
	int nr_cpu_methods;
	/*
	 * The page-table scan (Method 6): kaslr_ptscan's contract
	 * (kaslr_core.h); each candidate carries the table it came from.
	 */
	enum kaslr_status (*ptscan)(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				    struct kaslr_candidate *cands, int max, int *nr_ret, int stop_first_verified);
};

extern const struct kaslr_arch kaslr_arch_x86_64;
extern const struct kaslr_arch kaslr_arch_arm64;

/* The architecture of a vmlinux (its ELF machine). */
const struct kaslr_arch *kaslr_arch_of(const struct kaslr_vmlinux *vml);

#endif /* KASLR_CORE_ARCH_H */
