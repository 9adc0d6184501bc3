/*
 * kaslr_core.h - the core's methods, verification and driver: the API of the shells
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Everything that finds or checks KERNELOFFSET and phys_base lives behind
 * this header, in core/ (docs/design.md draws the layers).  The core reads
 * guest physical memory only through kaslr_ctx.read_phys (crash's
 * readmem(PHYSADDR) in the module, a dump file in kaslr-find, a synthetic
 * image in the tests) and takes the vmlinux's link-time values in a struct
 * kaslr_vmlinux.  It includes no crash header.  Only the shells
 * (kaslr_ext.c, kaslr_find.c) and the tests include this file; the layers
 * below it never do.
 */
#ifndef KASLR_CORE_H
#define KASLR_CORE_H

#include <stddef.h>
#include <stdint.h>

/* The project's release: kaslr.so -V, kaslr-find --version, debian/changelog
 * and kaslr.spec say the same (tests/e2e/package.sh checks). */
#define KASLR_VERSION "0.1.0"

#include "core/arch.h"
#include "core/candidate.h"
#include "core/paging.h"
#include "core/types.h"
#include "core/vmlinux.h"
#include "core/x86_64/x86_64.h"
#include "core/arm64/arm64.h"

/* ---- verification (core/verify.c) ---- */

/**
 * kaslr_verify - check a candidate against the vmlinux
 *
 * Sets cand->checks.  The banner check reads the full linux_banner at
 * phys_base + (linux_banner + offset - START_KERNEL_MAP) and compares it with
 * vml->banner byte for byte.  When @pg is not NULL the banner's virtual
 * address must also translate to that physical address.
 *
 * The banner proves only phys_base + KERNELOFFSET.  The offset itself
 * must be proven too, by one of: the relocation probes (and idt_table's
 * gate 0) reading link value + offset, page tables (@pg) mapping the
 * banner's VA, or KASLR_V_VMCOREINFO set by the caller (the values are
 * the kernel's own vmcoreinfo).  Probes that disagree refuse the values.
 *
 * @returns KASLR_OK when banner, alignment, window and the offset itself
 * all pass.
 */
enum kaslr_status kaslr_verify(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			       const struct kaslr_paging *pg, struct kaslr_candidate *cand);

/**
 * kaslr_verify_given - verify values that no method found (given by hand)
 *
 * kaslr_verify without page tables, after reading the kernel's own
 * vmcoreinfo in RAM through the values: when it agrees (KERNELOFFSET,
 * NUMBER(phys_base), OSRELEASE, BUILD-ID) it proves the split of offset and
 * phys_base (KASLR_V_VMCOREINFO); when its KERNELOFFSET or phys_base
 * disagrees, the values are refused whatever else passes.
 *
 * @returns KASLR_OK when verified (cand->status equal), else KASLR_NOTFOUND
 * with ctx->err saying why.
 */
enum kaslr_status kaslr_verify_given(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     struct kaslr_candidate *cand);

/* ---- Method 3 (core/m3_vmcoreinfo.c) ---- */

/**
 * kaslr_vmci_read_ram - read the kernel's own vmcoreinfo text through a candidate
 * @text_ret: malloc'ed NUL-terminated text (caller frees)
 * @paddr_ret: where it lies
 *
 * Uses vmcoreinfo_data (+ vmcoreinfo_size) of the vmlinux relocated by the
 * candidate; the pointer is translated with @pg when given, else through
 * page_offset_base read from the dump.
 */
enum kaslr_status kaslr_vmci_read_ram(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				      const struct kaslr_paging *pg, uint64_t kernel_offset,
				      int64_t phys_base, char **text_ret, uint64_t *paddr_ret);

/* ---- Method 4 (core/m4_elfcorehdr.c) ---- */

/**
 * kaslr_from_elfcorehdr - Method 4: the first kernel's values from a capture kernel
 * @pg:            paging of the verified candidate (NULL: direct map via page_offset_base)
 * @kernel_offset: verified values of the running (capture) kernel
 * @phys_base:     ditto
 * @cand_ret:      KASLR_M_ELFCOREHDR candidate (cpu -1: caller may set it)
 *
 * Reads saved_command_line, finds elfcorehdr=[size@]addr, walks that ELF
 * header's PT_NOTE segments to the VMCOREINFO note and takes its
 * KERNELOFFSET and NUMBER(phys_base): the crashed kernel's values, verified
 * with kaslr_verify without page tables.
 *
 * @returns KASLR_OK (verified); KASLR_NODATA when there is no elfcorehdr=
 * (not a capture kernel); KASLR_NOTFOUND/KASLR_CORRUPT otherwise.
 */
enum kaslr_status kaslr_from_elfcorehdr(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_paging *pg, uint64_t kernel_offset,
					int64_t phys_base, struct kaslr_candidate *cand_ret);

/* ---- Method 5 (core/m5_scan.c) ---- */

/**
 * kaslr_vmci_scan - find vmcoreinfo pages in physical memory (Method 5)
 * @copies:     array to fill
 * @max:        its size
 * @nr_ret:     number of copies found (may exceed @max: only @max stored)
 * @stop_first_verified: stop at the first copy that verifies against @vml;
 *              if @max copies are stored by then, it replaces the last one
 *
 * Reads memory in 1 MiB pieces and looks at the first 16 bytes of every
 * page, at the rest only when those look like vmcoreinfo; a piece that does
 * not read whole is read page by page (head first), so one missing page
 * hides none of its neighbours.
 */
enum kaslr_status kaslr_vmci_scan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				  struct kaslr_vmci_copy *copies, int max, int *nr_ret,
				  int stop_first_verified);

/* ---- Method 6 (the architecture's: core/x86_64/m6_ptscan.c) ---- */

/**
 * kaslr_ptscan - find top-level page tables in physical memory (Method 6)
 * @cands:      array to fill, one KASLR_M_PTSCAN candidate (cpu -1) per
 *              table tried, verified (status KASLR_OK) or not
 * @max:        its size
 * @nr_ret:     tables tried (may exceed @max: only @max stored; a verified
 *              candidate found after that replaces the last one stored)
 * @stop_first_verified: stop at the first table whose candidate verifies
 *
 * For dumps with neither usable registers nor a vmcoreinfo copy.  Reads
 * ctx->ranges in 1 MiB pieces (page by page where a piece does not read
 * whole) and looks at entry 511 (8 bytes at +4088) of every page; only when
 * it is a present table entry into the dump is the rest of the page used.
 * A page is tried as a PGD when every entry is zero or such an entry, at
 * most 128 of them in the user half, and the entries below 511 reach a
 * present entry for START_KERNEL_MAP (4-level: PGD[511] -> PUD[510];
 * 5-level: PGD[511] -> P4D[511] -> PUD[510]).  Tables with an empty user
 * half (init_top_pgt) are tried as they are met; those with user entries
 * (process PGDs) after the scan, fewest first.  Each try is Method 1 on
 * that table, verified with kaslr_verify; a table whose entry 511 points
 * where a table tried before did (all PGDs share the kernel half) is not
 * tried again, nor counted.
 *
 * @returns KASLR_OK (at least one verified), KASLR_NOTFOUND (ctx->err says
 * how many tables were found and why the first failed), KASLR_NODATA
 * (ranges unknown), KASLR_NOMEM.
 */
enum kaslr_status kaslr_ptscan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			       struct kaslr_candidate *cands, int max, int *nr_ret, int stop_first_verified);

/* ---- why nothing was found (core/diagnose.c) ---- */

enum kaslr_diag_kind {
	KASLR_DIAG_NONE = 0,		/* nothing to add (no scan possible) */
	KASLR_DIAG_EARLY_BOOT,		/* every vCPU before the kernel, no banner of it in memory */
	KASLR_DIAG_WRONG_VMLINUX,	/* banners of another kernel, none of this vmlinux */
	KASLR_DIAG_SAME_KERNEL,		/* this vmlinux's banner is in memory, nothing placed it */
	KASLR_DIAG_NO_BANNER,		/* no banner at all, the vCPUs in the kernel or silent */
};

#define KASLR_DIAG_MAX_KERNELS 4
#define KASLR_DIAG_BUILD_ID_LEN 65	/* hex digits of a build-id (SHA-1: 40) + NUL */

/* A kernel other than the vmlinux's whose banner or vmcoreinfo is in the dump. */
struct kaslr_diag_kernel {
	char release[65];
	int banners;			/* its banners seen (0: only its vmcoreinfo) */
	uint64_t banner_paddr;		/* the first */
	char debian_version[40];	/* "6.1.192-3" from a Debian banner, or "" */
	char build_id[KASLR_DIAG_BUILD_ID_LEN];	/* "" when the dump does not say */
	char build_id_from[16];		/* "vmcoreinfo" (BUILD-ID=) or ".notes" (GNU note) */
};

struct kaslr_diagnosis {
	enum kaslr_diag_kind kind;
	char msg[KASLR_ERRLEN];		/* one line: what happened, what to do */
	int scanned;			/* memory was scanned */
	int complete;			/* ... to the end (not stopped at the banner bound) */
	uint64_t vmlinux_banner_paddr;	/* the vmlinux's own banner, 0 if not seen */
	struct kaslr_diag_kernel kernels[KASLR_DIAG_MAX_KERNELS];
	int nr_kernels;
};

/**
 * kaslr_diagnose - why no method found an answer, from the dump itself
 * @regs, @nr_cpus: the registers kaslr_find was given (may be NULL/0)
 * @found_values:   some method found values that then failed verification
 * @d:              filled; d->kind KASLR_DIAG_NONE when there is nothing to say
 *
 * Early boot: every vCPU with registers before the kernel (the
 * architecture's pre_kernel()), no values found, and no banner of this
 * vmlinux or any other in memory.  Another kernel: "Linux version "
 * banners in memory, none the vmlinux's; with their releases and the
 * build-ids the dump holds (the kernel's vmcoreinfo in RAM, or its .notes).
 * One bounded scan of memory through ctx.
 *
 * @returns KASLR_OK, or KASLR_NOMEM.
 */
enum kaslr_status kaslr_diagnose(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, int nr_cpus, int found_values,
				 struct kaslr_diagnosis *d);

/* ---- the driver (core/driver.c) ---- */

/*
 * Distinct candidates kept per search.  Candidates equal in every respect
 * but the CPU share one row (struct kaslr_candidate.count), so this bounds
 * distinct evidence, not CPUs; beyond it, a candidate joins a kept row of
 * the same method and values, or is counted in nr_unrecorded.
 */
#define KASLR_MAX_CANDIDATES 256

struct kaslr_report {
	struct kaslr_candidate cand[KASLR_MAX_CANDIDATES];
	int nr_cand;
	int best;			/* index of the chosen candidate, -1 if none */
	/* Weighed by count: every CPU counts once. */
	int nr_agree;			/* verified candidates that equal the chosen one */
	int nr_disagree;		/* verified candidates that differ from it */
	int nr_failed;			/* candidates that did not verify */
	int nr_unrecorded;		/* candidates with no row (a full table): in no count above */
	struct kaslr_vmci_copy vmci[8];
	int nr_vmci;
	/* KASLR_NOTFOUND: what the dump says instead (kaslr_diagnose); kind 0 otherwise. */
	struct kaslr_diagnosis diag;
};

/* Which methods kaslr_find may use (bit per enum kaslr_method). */
#define KASLR_METHODS_ALL 0xffffffffu
#define KASLR_METHOD_BIT(m) (1u << (m))

/**
 * kaslr_find - run every applicable method on every CPU, verify, choose
 * @regs:    per-CPU registers (may be NULL with @nr_cpus 0: memory methods only)
 * @methods: KASLR_METHOD_BIT mask
 * @rep:     filled with all candidates and the choice
 *
 * The choice is a verified elfcorehdr candidate (the crashed kernel, when
 * the registers are a kdump capture kernel's) if any, else the verified
 * candidate confirmed by the in-RAM vmcoreinfo if any, else the verified one
 * that most candidates agree with.  The memory scan runs only when no CPU
 * gave a verified candidate, the page-table scan (kaslr_ptscan, stopping at
 * the first verified table, followed by Methods 4 and 3 through it) only
 * when nothing verified before it.  nr_agree counts the chosen one itself.
 *
 * @returns KASLR_OK, KASLR_NOTFOUND (nothing verified; ctx->err says what was
 * tried, then rep->diag.msg, what the dump says instead), KASLR_AMBIGUOUS (verified candidates disagree and nothing decides).
 */
enum kaslr_status kaslr_find(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			     const struct kaslr_cpu_regs *regs, int nr_cpus, unsigned methods,
			     struct kaslr_report *rep);

#endif /* KASLR_CORE_H */
