/*
 * core/x86_64/paging.c - x86_64 page tables: contexts from registers, walks
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * 4- and 5-level paging (CR4.LA57, 4.14+), 1 GiB / 2 MiB / 4 KiB leaves,
 * CR3's PCID and no-flush bits, the halves of a PTI PGD pair (4.15+), and
 * an AMD SME C-bit found by construction.  Every table is read at most once
 * per walk, so loops in corrupt tables end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/x86_64/x86_64.h"

/* Tables one first-mapping walk may visit before the data counts as garbage. */
#define MAX_WALK_TABLES		4096

static int va_bits(int levels)
{
	return levels == 5 ? 57 : 48;
}

static int is_canonical(uint64_t va, int levels)
{
	int sh = 64 - va_bits(levels);

	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

static uint64_t linear_mask(int levels)
{
	return (1ULL << va_bits(levels)) - 1;
}

static uint64_t sign_extend(uint64_t la, int levels)
{
	int sh = 64 - va_bits(levels);

	return (uint64_t)((int64_t)(la << sh) >> sh);
}

/* Linux's name of the table at @level (1 = PTE) under @levels-level paging. */
static const char *level_name(int level, int levels)
{
	switch (level) {
	case 5:
		return "PGD";
	case 4:
		return levels == 5 ? "P4D" : "PGD";
	case 3:
		return "PUD";
	case 2:
		return "PMD";
	default:
		return "PTE";
	}
}

enum kaslr_status kaslr_paging_from_regs(struct kaslr_ctx *ctx, const struct kaslr_cpu_regs *regs,
					 int user_half, struct kaslr_paging *pg_ret)
{
	uint64_t root;

	memset(pg_ret, 0, sizeof(*pg_ret));
	if (!(regs->valid & KASLR_REG_CR3) || !regs->cr3) {
		kaslr_set_err(ctx, "cpu %d: no CR3 (CPU offline, or its state was not saved)", regs->cpu);
		return KASLR_NODATA;
	}
	if ((regs->valid & KASLR_REG_CR0) && !(regs->cr0 & CR0_PG)) {
		kaslr_set_err(ctx, "cpu %d: paging is off (CR0 0x%" PRIx64 ")", regs->cpu, regs->cr0);
		return KASLR_NODATA;
	}
	pg_ret->levels = (regs->valid & KASLR_REG_CR4) && (regs->cr4 & CR4_LA57) ? 5 : 4;
	/* Bits 12..51 only: drops the PCID/PWT/PCD bits 0-11 and the no-flush bit 63. */
	root = regs->cr3 & PTE_ADDR_MASK;

	/*
	 * AMD SME (4.14) sets the C-bit (CPUID
	 * 0x8000001f EBX[5:0], bit 47 on EPYC) in CR3 and in every entry.  It
	 * shows as a table address beyond the dump that drops into it once
	 * its highest bit is cleared.  Only bits 32+ are taken as a C-bit, and
	 * never when clearing it leaves page 0 (no PGD lives there).
	 */
	if (kaslr_in_dump(ctx, root) == 0) {
		int bit = 63 - __builtin_clzll(root | 1);
		uint64_t stripped = root & ~(1ULL << bit);

		if (bit >= 32 && stripped && kaslr_in_dump(ctx, stripped) == 1) {
			pg_ret->sme_mask = 1ULL << bit;
			root = stripped;
		}
	}
	if (user_half == 1)
		root |= PTI_USER_PGD_BIT;
	else if (user_half == 0)
		root &= ~PTI_USER_PGD_BIT;
	if (kaslr_in_dump(ctx, root) == 0) {
		kaslr_set_err(ctx, "cpu %d: CR3 0x%" PRIx64 " points at 0x%" PRIx64 ", which is not in the dump",
			regs->cpu, regs->cr3, root);
		return KASLR_NODATA;
	}
	pg_ret->root_paddr = root;
	return KASLR_OK;
}

/* Physical address a leaf or table entry at @level points to. */
static uint64_t entry_addr(const struct kaslr_paging *pg, uint64_t e, int level, int leaf)
{
	uint64_t mask = PTE_ADDR_MASK;

	if (leaf && level == 3)
		mask = PTE_ADDR_MASK_1G;
	else if (leaf && level == 2)
		mask = PTE_ADDR_MASK_2M;	/* bit 12 is PAT in large leaves */
	return e & mask & ~pg->sme_mask;
}

enum kaslr_status kaslr_vtop(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t vaddr,
			     uint64_t *paddr_ret, uint64_t *pagesize_ret)
{
	uint64_t table = pg->root_paddr;
	int level;

	if (pg->levels != 4 && pg->levels != 5) {
		kaslr_set_err(ctx, "unsupported paging depth %d", pg->levels);
		return KASLR_CORRUPT;
	}
	if (!is_canonical(vaddr, pg->levels)) {
		kaslr_set_err(ctx, "0x%" PRIx64 " is not a canonical address with %d-level paging", vaddr,
			pg->levels);
		return KASLR_CORRUPT;
	}
	for (level = pg->levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t eaddr = table + ((vaddr >> shift) & 511) * 8, e, size;

		if (kaslr_phys_read_u64(ctx, eaddr, &e)) {
			kaslr_set_err(ctx, "%s table at 0x%" PRIx64 " (translating 0x%" PRIx64 ") is not in the dump",
				level_name(level, pg->levels), table, vaddr);
			return KASLR_NODATA;
		}
		ctx->nr_reads++;
		if (!(e & PTE_PRESENT)) {
			kaslr_set_err(ctx, "0x%" PRIx64 " is not mapped: %s entry at 0x%" PRIx64 " is 0x%" PRIx64,
				vaddr, level_name(level, pg->levels), eaddr, e);
			return KASLR_NOTFOUND;
		}
		if ((e & PTE_PSE) && level >= 4) {
			kaslr_set_err(ctx, "%s entry at 0x%" PRIx64 " has the reserved PS bit set (0x%" PRIx64 ")",
				level_name(level, pg->levels), eaddr, e);
			return KASLR_CORRUPT;
		}
		if (level == 1 || ((e & PTE_PSE) && (level == 2 || level == 3))) {
			size = 1ULL << shift;
			*paddr_ret = entry_addr(pg, e, level, 1) | (vaddr & (size - 1));
			if (pagesize_ret)
				*pagesize_ret = size;
			return KASLR_OK;
		}
		table = entry_addr(pg, e, level, 0);
	}
	return KASLR_CORRUPT;	/* not reached */
}

struct walk {
	struct kaslr_ctx *ctx;
	const struct kaslr_paging *pg;
	uint64_t lo, hi;		/* linear addresses, inclusive */
	int visits;
	int depth;
	uint64_t path[6];		/* tables on the way down, to catch cycles */
	uint64_t la, pa, size;		/* result */
};

/*
 * Visit the table at @table (@level) whose index 0 maps linear address
 * @base; entries outside [w->lo, w->hi] are not read.
 */
static enum kaslr_status walk_table(struct walk *w, int level, uint64_t table, uint64_t base)
{
	int shift = 12 + 9 * (level - 1), first, last, i;
	uint64_t span = 1ULL << shift;
	unsigned char buf[KASLR_PAGE_SIZE];
	enum kaslr_status st;

	if (++w->visits > MAX_WALK_TABLES) {
		kaslr_set_err(w->ctx, "page-table walk visited more than %d tables: the tables are garbage "
			"(wrong CR3?)", MAX_WALK_TABLES);
		return KASLR_CORRUPT;
	}
	for (i = 0; i < w->depth; i++) {
		if (w->path[i] == table) {
			kaslr_set_err(w->ctx, "page-table cycle: a %s entry points back to the table at 0x%" PRIx64,
				level_name(level + 1, w->pg->levels), table);
			return KASLR_CORRUPT;
		}
	}
	first = w->lo > base ? (int)((w->lo - base) >> shift) : 0;
	last = (w->hi - base) >> shift > 511 ? 511 : (int)((w->hi - base) >> shift);
	if (kaslr_phys_read(w->ctx, table + (uint64_t)first * 8, buf, (size_t)(last - first + 1) * 8)) {
		kaslr_set_err(w->ctx, "%s table at 0x%" PRIx64 " is not in the dump",
			level_name(level, w->pg->levels), table);
		return KASLR_NODATA;
	}
	w->ctx->nr_reads += (unsigned long)(last - first + 1);
	w->path[w->depth++] = table;
	for (i = first; i <= last; i++) {
		uint64_t e = kaslr_le64(buf + (size_t)(i - first) * 8), la = base + (uint64_t)i * span;

		if (!(e & PTE_PRESENT))
			continue;
		if ((e & PTE_PSE) && level >= 4) {
			kaslr_set_err(w->ctx, "%s entry at 0x%" PRIx64 " has the reserved PS bit set (0x%" PRIx64 ")",
				level_name(level, w->pg->levels), table + (uint64_t)i * 8, e);
			w->depth--;
			return KASLR_CORRUPT;
		}
		if (level == 1 || ((e & PTE_PSE) && (level == 2 || level == 3))) {
			w->la = la > w->lo ? la : w->lo;
			w->pa = entry_addr(w->pg, e, level, 1) + (w->la - la);
			w->size = span;
			w->depth--;
			return KASLR_OK;
		}
		st = walk_table(w, level - 1, entry_addr(w->pg, e, level, 0), la);
		if (st != KASLR_NOTFOUND) {
			w->depth--;
			return st;
		}
	}
	w->depth--;
	return KASLR_NOTFOUND;
}

enum kaslr_status kaslr_first_mapping(struct kaslr_ctx *ctx, const struct kaslr_paging *pg,
				      uint64_t start, uint64_t end, uint64_t *vaddr_ret,
				      uint64_t *paddr_ret, uint64_t *pagesize_ret)
{
	struct walk w;
	uint64_t last, half, low_max, high_min;
	enum kaslr_status st;

	if (pg->levels != 4 && pg->levels != 5) {
		kaslr_set_err(ctx, "unsupported paging depth %d", pg->levels);
		return KASLR_CORRUPT;
	}
	if (end && end <= start) {
		kaslr_set_err(ctx, "empty range [0x%" PRIx64 ", 0x%" PRIx64 ")", start, end);
		return KASLR_NOTFOUND;
	}
	last = end - 1;		/* end 0 means "to the top" */
	/* Clip the range to the canonical halves; the hole maps nothing. */
	half = 1ULL << (va_bits(pg->levels) - 1);
	low_max = half - 1;
	high_min = ~(half - 1);
	if (start > low_max && start < high_min)
		start = high_min;
	if (last > low_max && last < high_min)
		last = low_max;
	if (start > last) {
		kaslr_set_err(ctx, "range lies in the non-canonical hole");
		return KASLR_NOTFOUND;
	}

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.pg = pg;
	w.lo = start & linear_mask(pg->levels);
	w.hi = last & linear_mask(pg->levels);
	st = walk_table(&w, pg->levels, pg->root_paddr, 0);
	if (st == KASLR_NOTFOUND) {
		kaslr_set_err(ctx, "nothing is mapped in [0x%" PRIx64 ", 0x%" PRIx64 "] (%d tables visited)",
			start, last, w.visits);
		return st;
	}
	if (st != KASLR_OK)
		return st;
	*vaddr_ret = sign_extend(w.la, pg->levels);
	*paddr_ret = w.pa;
	if (pagesize_ret)
		*pagesize_ret = w.size;
	return KASLR_OK;
}

/* Read @len bytes at virtual @vaddr, translating page by page. */
enum kaslr_status kaslr_x86_virt_read(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t vaddr,
				   void *buf, size_t len)
{
	unsigned char *out = buf;

	while (len) {
		size_t chunk = KASLR_PAGE_SIZE - (vaddr & (KASLR_PAGE_SIZE - 1));
		uint64_t pa;
		enum kaslr_status st;

		if (chunk > len)
			chunk = len;
		st = kaslr_vtop(ctx, pg, vaddr, &pa, NULL);
		if (st != KASLR_OK)
			return st;
		if (kaslr_phys_read(ctx, pa, out, chunk)) {
			kaslr_set_err(ctx, "0x%" PRIx64 " maps to 0x%" PRIx64 ", which is not in the dump", vaddr, pa);
			return KASLR_NODATA;
		}
		vaddr += chunk;
		out += chunk;
		len -= chunk;
	}
	return KASLR_OK;
}

/*
 * PGD halves to try.  With PTI the kernel PGD is the even page of an
 * 8 KiB pair and the user one at +4 KiB.  Without PTI a PGD may sit at
 * any page, so CR3 is taken as it is, and the even page only as a second
 * try in case the vmlinux's PTI symbols were missed.
 */
int kaslr_x86_pgd_halves(const struct kaslr_vmlinux *vml, const struct kaslr_cpu_regs *regs, int halves[2])
{
	if (vml->has_pti) {
		halves[0] = 0;
		halves[1] = 1;
		return 2;
	}
	halves[0] = KASLR_PGD_AS_IS;
	halves[1] = 0;
	return (regs->cr3 & PTI_USER_PGD_BIT) ? 2 : 1;
}
