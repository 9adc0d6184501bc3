/*
 * kaslr_core.h - crash-free core of kaslr.so and kaslr-find
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Everything that finds or checks KERNELOFFSET and phys_base lives behind
 * this header.  The core reads guest physical memory only through
 * kaslr_ctx.read_phys (crash's readmem(PHYSADDR) in the module, a dump file
 * in kaslr-find, a synthetic image in the tests) and takes the vmlinux's
 * link-time values in a struct kaslr_vmlinux.  It includes no crash header.
 */
#ifndef KASLR_CORE_H
#define KASLR_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"
#include "core/vmlinux.h"
#include "core/x86_64/x86_64.h"




/*
 * Paging context: everything that varies between paging modes, in one
 * place (no globals, nothing of crash's machdep).
 */
struct kaslr_paging {
	uint64_t root_paddr;	/* top-level table, 4 KiB aligned */
	int levels;		/* 4 or 5 */
	uint64_t sme_mask;	/* memory-encryption bit(s) to strip from entries */
};

enum kaslr_method {
	KASLR_M_NONE = 0,
	KASLR_M_PAGETABLE,	/* lowest kernel text mapping through CR3 */
	KASLR_M_IDT,		/* gate 0 of the IDT through CR3 */
	KASLR_M_VMCOREINFO,	/* the kernel's vmcoreinfo in RAM, reached through a candidate */
	KASLR_M_ELFCOREHDR,	/* first kernel's vmcoreinfo via a capture kernel's elfcorehdr= */
	KASLR_M_SCAN,		/* vmcoreinfo page found by scanning physical memory */
	KASLR_M_PTSCAN,		/* page tables found by scanning physical memory */
	KASLR_M_MANUAL,		/* values given by the user */
	KASLR_M_COUNT
};

/* Checks a candidate passed (kaslr_verify). */
enum {
	KASLR_V_BANNER = 1 << 0,	/* full linux_banner equals the vmlinux's */
	KASLR_V_ALIGNED = 1 << 1,	/* offset 2 MiB aligned */
	KASLR_V_WINDOW = 1 << 2,	/* _text + offset inside [START_KERNEL_MAP, +1 GiB) */
	KASLR_V_PAGETABLE = 1 << 3,	/* page tables map the banner where phys_base says */
	KASLR_V_VMCOREINFO = 1 << 4,	/* the kernel's own vmcoreinfo (in RAM) agrees */
	KASLR_V_RELOC = 1 << 5,		/* relocated pointers in the image read link value + offset */
};

/* CPUs a candidate's CPU set can name; more are counted (count) but not named. */
#define KASLR_CPUSET_MAX 1024

/* One candidate answer and its evidence. */
struct kaslr_candidate {
	enum kaslr_method method;
	int cpu;			/* -1 when no CPU was involved; else the first CPU */
	/*
	 * How many times the search found exactly this candidate: for Methods
	 * 1 and 2, every CPU whose registers gave it (kaslr_find keeps one row
	 * for all of them, so 512 idle vCPUs on init_top_pgt are one row with
	 * count 512); 1 otherwise.  Agreement counts weigh candidates by it.
	 */
	int count;
	uint64_t cpu_set[KASLR_CPUSET_MAX / 64];	/* the CPUs of count, bit per CPU */
	uint64_t pgd_paddr;		/* table used, 0 if none */
	int levels;
	uint64_t kernel_offset;		/* KERNELOFFSET */
	int64_t phys_base;		/* signed: negative on some boots */
	unsigned checks;		/* KASLR_V_* passed */
	enum kaslr_status status;	/* KASLR_OK when found; else why not */
	char note[160];			/* short human-readable evidence or failure */
};

/* vmcoreinfo copy found in RAM. */
struct kaslr_vmci_copy {
	uint64_t paddr;			/* where the text starts (24 bytes into a note page) */
	size_t len;
	char osrelease[65];
	char build_id[41];
	int has_offset, has_phys_base;
	uint64_t kernel_offset;
	int64_t phys_base;
	int verified;			/* banner through its values equals the vmlinux's */
	unsigned checks;		/* KASLR_V_* its values passed (kaslr_verify, no page tables) */
	char why[160];			/* why it did not verify; "" when it did */
};

/* ---- paging (kaslr_core.c) ---------------------------------------- */

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

/* ---- methods (kaslr_core.c) ----------------------------------------- */

/*
 * Methods 1, 2 and 4 verify what they find (kaslr_verify) and return
 * KASLR_OK only for a verified candidate.  KASLR_NOTFOUND with
 * cand_ret->kernel_offset/phys_base set means values were found but failed
 * verification (cand_ret->note says why, ctx->err in full); other statuses
 * mean no values.  cand_ret->status always equals the return value.
 */

/* Method 1: the kernel text mapping through one CPU's page tables. */
enum kaslr_status kaslr_from_pagetables(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret);

/* Method 2: gate 0 of the IDT through one CPU's page tables. */
enum kaslr_status kaslr_from_idt(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret);

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

/* ---- driver (kaslr_core.c) ------------------------------------------ */

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
 * tried), KASLR_AMBIGUOUS (verified candidates disagree and nothing decides).
 */
enum kaslr_status kaslr_find(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			     const struct kaslr_cpu_regs *regs, int nr_cpus, unsigned methods,
			     struct kaslr_report *rep);

/**
 * kaslr_cpus_text - a candidate's CPUs as a list of ranges ("0-3,7", "-" for none)
 * @returns @buf.  A list that does not fit ends in "...".
 */
const char *kaslr_cpus_text(const struct kaslr_candidate *c, char *buf, size_t size);

/* Short names, for output and -m. */
const char *kaslr_method_name(enum kaslr_method m);
int kaslr_method_from_name(const char *name);	/* -1 if unknown */
const char *kaslr_status_name(enum kaslr_status s);

#endif /* KASLR_CORE_H */
