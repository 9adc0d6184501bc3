/*
 * core/candidate.h - a candidate answer, its evidence, and the checks it passed
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every method produces candidates; kaslr_verify (core/verify.c) decides
 * which checks they pass; the driver (core/driver.c) keeps them in a
 * report and chooses.  A candidate carries as data what later steps need:
 * the paging context it was found through and, when it failed, why.
 */
#ifndef KASLR_CORE_CANDIDATE_H
#define KASLR_CORE_CANDIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/paging.h"
#include "core/types.h"

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
	KASLR_V_ALIGNED = 1 << 1,	/* offset aligned as KASLR places it (struct kaslr_arch.align) */
	KASLR_V_WINDOW = 1 << 2,	/* _text + offset inside the image window (x86_64: [START_KERNEL_MAP, +1 GiB)) */
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
	/*
	 * The paging context the values were found through (levels 0: none),
	 * for the methods that read through a verified candidate.
	 */
	struct kaslr_paging pg;
	/* Why kaslr_verify refused the values ("" when they verified or were never checked). */
	char why[KASLR_ERRLEN];
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

/**
 * kaslr_cpus_text - a candidate's CPUs as a list of ranges ("0-3,7", "-" for none)
 * @returns @buf.  A list that does not fit ends in "...".
 */
const char *kaslr_cpus_text(const struct kaslr_candidate *c, char *buf, size_t size);

/* Short names, for output and -m. */
const char *kaslr_method_name(enum kaslr_method m);
int kaslr_method_from_name(const char *name);	/* -1 if unknown */
const char *kaslr_status_name(enum kaslr_status s);

#endif /* KASLR_CORE_CANDIDATE_H */
