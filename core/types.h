/*
 * core/types.h - the vocabulary every layer of kaslr.so shares
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The bottom of the include graph (docs/design.md): a status enum with a
 * message in a context (libkdumpfile's model), the one callback through
 * which the core reads guest physical memory, the dump's memory map, and
 * the per-CPU register record every register source fills.  Anything may
 * include this; it includes nothing of the project.
 */
#ifndef KASLR_CORE_TYPES_H
#define KASLR_CORE_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum kaslr_status {
	KASLR_OK = 0,
	KASLR_NODATA,		/* method not applicable: try the next one */
	KASLR_NOTFOUND,		/* applicable, but found nothing */
	KASLR_AMBIGUOUS,	/* several candidates disagree */
	KASLR_CORRUPT,		/* the data contradicts itself (loop, garbage) */
	KASLR_NOMEM,
};

/* Room for one message: a context's error, a candidate's reason. */
#define KASLR_ERRLEN 512

/**
 * kaslr_read_phys_fn - read guest physical memory
 * @priv:  caller's cookie (kaslr_ctx.priv)
 * @paddr: guest physical address
 * @buf:   destination
 * @len:   bytes to read.  The core never crosses a 4 KiB page in one call
 *         but in the scans' pieces: page-aligned, at most 1 MiB, inside one
 *         range of kaslr_ctx.ranges.
 *
 * @returns 0 when all @len bytes were read, -1 otherwise (a piece with one
 * page missing fails whole: the scan then reads it page by page).
 */
typedef int (*kaslr_read_phys_fn)(void *priv, uint64_t paddr, void *buf, size_t len);

/**
 * kaslr_progress_fn - optional progress report for long scans
 * @priv:  caller's cookie (kaslr_ctx.priv)
 * @done:  bytes scanned so far
 * @total: bytes to scan in all
 */
typedef void (*kaslr_progress_fn)(void *priv, uint64_t done, uint64_t total);

/* A range of guest physical memory that the dump holds: [start, end). */
struct kaslr_range {
	uint64_t start;
	uint64_t end;
};

struct kaslr_ctx {
	kaslr_read_phys_fn read_phys;
	void *priv;
	/* The dump's physical ranges, sorted; NULL/0 = unknown (scans then refuse). */
	const struct kaslr_range *ranges;
	int nr_ranges;
	kaslr_progress_fn progress;	/* may be NULL */
	/* Filled by the core on failure; callers may prefix their own context. */
	char err[KASLR_ERRLEN];
	/* Page-table entries read since the context was made (for -v and benchmarks). */
	unsigned long nr_reads;
};

/* Where a register value is known. */
enum {
	KASLR_REG_CR0 = 1 << 0,
	KASLR_REG_CR3 = 1 << 1,
	KASLR_REG_CR4 = 1 << 2,
	KASLR_REG_IDTR = 1 << 3,
	KASLR_REG_RIP = 1 << 4,
	KASLR_REG_GSBASE = 1 << 5,
};

/*
 * One vCPU's registers, whatever format they came from (regs.c, crash/).
 * The x86_64 system registers are the ones the x86_64 methods read
 * (core/x86_64/); the shared layers name none of them.
 */
struct kaslr_cpu_regs {
	int cpu;
	unsigned valid;		/* KASLR_REG_* */
	uint64_t cr0, cr3, cr4;
	uint64_t idtr_base;
	uint32_t idtr_limit;
	uint64_t rip;
	uint64_t gs_base, kernel_gs_base;
};

#endif /* KASLR_CORE_TYPES_H */
