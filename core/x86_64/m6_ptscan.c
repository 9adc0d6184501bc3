/*
 * core/x86_64/m6_ptscan.c - Method 6: top-level page tables found by scanning physical memory
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Method 6 - page-table scan (kaslr_ptscan)
 *	No usable registers and no vmcoreinfo copy that verifies (a kernel
 *	whose vmcoreinfo page is not in the dump, or was overwritten): find
 *	the top-level page tables themselves, as libvmi and mquire do for
 *	their DTB search.  Every PGD maps the kernel image through entry 511
 *	(START_KERNEL_MAP; the kernel half is shared by all PGDs,
 *	pgd_alloc() copies it from init_top_pgt), so each page whose entry
 *	511 is a present table entry into the dump is read whole; it is a
 *	candidate when every entry is 0 or such an entry and few are in the
 *	user half.  init_top_pgt has an empty user half and is tried first;
 *	process PGDs after the scan.  Each candidate gets Method 1 and
 *	kaslr_verify, so a page that merely looks like a table (a lower-level
 *	table, an EPT, data) gives no answer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/x86_64/x86_64.h"

/*
 * Bits 52..62 of a table (non-leaf) entry: ignored by the CPU, never set
 * by Linux (its software bits and protection keys live in leaf entries).
 * Bit 63 (XD) is allowed: with PTI the kernel PGD marks user-half entries
 * NX (pti_set_user_pgtbl, 4.15).
 */
#define PTE_TABLE_HIGH_BITS	0x7ff0000000000000ULL
/* User-half entries a PGD may have; pages with more are taken for lower-level tables. */
#define PTSCAN_MAX_USER		128
/* Tables with user-half entries kept for the second round. */
#define PTSCAN_MAX_DEFERRED	4096
/* Entry indexes leading to START_KERNEL_MAP: PGD (and P4D) 511, PUD 510. */
#define KMAP_TOP_INDEX		((START_KERNEL_MAP >> 39) & 511)
#define KMAP_PUD_INDEX		((START_KERNEL_MAP >> 30) & 511)
/* Bytes the first failure reason keeps for the final message. */
#define PTSCAN_WHY		200
/* Distinct entry-511 tables remembered, so that PGDs sharing one are tried once. */
#define PTSCAN_MAX_TRIED	256

/* A page that looks like a top-level table. */
struct pt_table {
	uint64_t paddr;
	uint64_t next_pa;	/* the table entry 511 points to */
	uint64_t sme_mask;
	int nr_user;		/* present user-half entries */
	unsigned levels;	/* plausible depths: bit 4, bit 5 */
};

/*
 * Is @e a present table entry (PS clear, bits 52..62 clear) whose table,
 * @sme_mask stripped, lies in the dump?  @pa_ret gets that address.
 */
static int table_entry_ok(const struct kaslr_ctx *ctx, uint64_t e, uint64_t sme_mask, uint64_t *pa_ret)
{
	uint64_t pa = e & PTE_ADDR_MASK & ~sme_mask;

	if (!(e & PTE_PRESENT) || (e & PTE_PSE) || (e & PTE_TABLE_HIGH_BITS) || !pa)
		return 0;
	if (kaslr_in_dump(ctx, pa) != 1)
		return 0;
	*pa_ret = pa;
	return 1;
}

/*
 * Entry 511 of a PGD candidate: a table entry into the dump, as it is or
 * with an SME C-bit stripped (its highest address bit, 32 or above, as in
 * kaslr_paging_from_regs).  @sme_ret gets the C-bit (0 if none).
 */
static int top_entry_ok(const struct kaslr_ctx *ctx, uint64_t e, uint64_t *sme_ret, uint64_t *pa_ret)
{
	uint64_t addr = e & PTE_ADDR_MASK;

	*sme_ret = 0;
	if (table_entry_ok(ctx, e, 0, pa_ret))
		return 1;
	if (addr >> 32) {
		uint64_t bit = 1ULL << (63 - __builtin_clzll(addr));

		if (table_entry_ok(ctx, e, bit, pa_ret)) {
			*sme_ret = bit;
			return 1;
		}
	}
	return 0;
}

/*
 * The full page @t: every entry zero or a table entry into the dump.
 * @returns the number of user-half entries, or -1 if it is no PGD.
 */
static int pgd_page_check(const struct kaslr_ctx *ctx, const unsigned char *t, uint64_t sme_mask)
{
	int i, nr_user = 0;
	uint64_t pa;

	for (i = 0; i < 512; i++) {
		uint64_t e = kaslr_le64(t + (size_t)i * 8);

		if (!e)
			continue;
		/* Linux clears PGD entries to 0 (pgd_clear); no swap entries at this level. */
		if (!table_entry_ok(ctx, e, sme_mask, &pa))
			return -1;
		if (i < 256 && ++nr_user > PTSCAN_MAX_USER)
			return -1;
	}
	return nr_user;
}

/*
 * Depths at which the table whose entry 511 points at @next_pa could map
 * START_KERNEL_MAP: bit 4 when @next_pa, as the PUD, has entry 510 present;
 * bit 5 when, as the P4D, its entry 511 leads to a PUD with entry 510
 * present.  Two small reads, each inside one page.
 */
static unsigned pt_levels(struct kaslr_ctx *ctx, uint64_t next_pa, uint64_t sme_mask)
{
	unsigned char b[16];
	uint64_t e, pud_pa;
	unsigned levels = 0;

	/* Entries 510 and 511 are adjacent: one 16-byte read. */
	if (ctx->read_phys(ctx->priv, next_pa + KMAP_PUD_INDEX * 8, b, sizeof(b)))
		return 0;
	ctx->nr_reads += 2;
	if (kaslr_le64(b) & PTE_PRESENT)
		levels |= 1u << 4;
	if (table_entry_ok(ctx, kaslr_le64(b + 8), sme_mask, &pud_pa) &&
	    !kaslr_phys_read_u64(ctx, pud_pa + KMAP_PUD_INDEX * 8, &e)) {
		ctx->nr_reads++;
		if (e & PTE_PRESENT)
			levels |= 1u << 5;
	}
	return levels;
}

struct ptscan {
	struct kaslr_ctx *ctx;
	const struct kaslr_vmlinux *vml;
	struct kaslr_candidate *cands;
	int max, n, nr_verified;
	char first_why[PTSCAN_WHY];
	uint64_t tried[PTSCAN_MAX_TRIED];	/* next_pa of the tables tried */
	int nr_tried;
	/* The scan's state. */
	int stop_first_verified, nr_tables, nr_dropped;
	struct pt_table *deferred;	/* tables with user-half entries, tried after the scan */
	int nr_deferred, cap_deferred;
	unsigned char page[KASLR_PAGE_SIZE];
};

/* Keep a tried table's candidate; past @max only a verified one, in the last slot. */
static void ptscan_record(struct ptscan *ps, const struct kaslr_candidate *c)
{
	int slot = ps->n < ps->max ? ps->n : c->status == KASLR_OK && ps->max > 0 ? ps->max - 1 : -1;

	if (slot >= 0)
		ps->cands[slot] = *c;
	ps->n++;
}

/*
 * Method 1 on one table, at each plausible depth.  Method 1 reads nothing
 * but the subtree of entry 511, which every PGD shares with init_top_pgt
 * (pgd_alloc() copies the kernel half), so a table whose entry 511 points
 * where an earlier one's did is skipped: @returns KASLR_NODATA.
 * @returns KASLR_OK if verified, KASLR_NOTFOUND, KASLR_NOMEM.
 */
static enum kaslr_status ptscan_try(struct ptscan *ps, const struct pt_table *t)
{
	struct kaslr_first_failure first = { 0 };
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	char why[KASLR_ERRLEN], pgname[64];
	int i, levels, found;
	enum kaslr_status st;

	for (i = 0; i < ps->nr_tried; i++)
		if (ps->tried[i] == t->next_pa)
			return KASLR_NODATA;
	if (ps->nr_tried < PTSCAN_MAX_TRIED)
		ps->tried[ps->nr_tried++] = t->next_pa;
	why[0] = '\0';
	for (levels = 4; levels <= 5; levels++) {
		if (!(t->levels & (1u << levels)))
			continue;
		memset(&pg, 0, sizeof(pg));
		pg.root_paddr = t->paddr;
		pg.levels = levels;
		pg.sme_mask = t->sme_mask;
		snprintf(pgname, sizeof(pgname), "%d-level PGD at 0x%" PRIx64, levels, t->paddr);
		kaslr_cand_init(&c, KASLR_M_PTSCAN, -1);
		st = kaslr_x86_method1_on(ps->ctx, ps->vml, &pg, pgname, "", &c, &found, why, sizeof(why));
		if (st == KASLR_NOMEM)
			return st;
		if (st == KASLR_OK) {
			kaslr_buf_append(c.note, sizeof(c.note), "; found by scan, %d user-half entries", t->nr_user);
			ps->nr_verified++;
			ptscan_record(ps, &c);
			return KASLR_OK;
		}
		c.pg = pg;	/* also when the walk found nothing */
		c.status = st;
		kaslr_first_failure_keep(&first, &c, found, why);
	}
	if (!first.have)
		return KASLR_NOTFOUND;
	if (!ps->first_why[0])
		kaslr_str_copy(ps->first_why, sizeof(ps->first_why), why);
	ptscan_record(ps, &first.cand);
	return KASLR_NOTFOUND;
}

/* Fewest user-half entries first, then lowest address. */
static int pt_table_cmp(const void *a, const void *b)
{
	const struct pt_table *x = a, *y = b;

	if (x->nr_user != y->nr_user)
		return x->nr_user < y->nr_user ? -1 : 1;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* One page: entry 511 first; the rest only when it is a table entry into the dump. */
static int pt_visit(void *arg, struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp)
{
	struct ptscan *ps = arg;
	unsigned char *page = ps->page;
	struct pt_table t;
	uint64_t e511, next_pa;
	enum kaslr_status st;

	/* Pre-filter: entry 511 only (read into its place in the page). */
	if (kaslr_scan_page_read(ctx, sp, KMAP_TOP_INDEX * 8, page + KMAP_TOP_INDEX * 8, 8))
		return 0;
	ctx->nr_reads++;
	e511 = kaslr_le64(page + KMAP_TOP_INDEX * 8);
	if (!top_entry_ok(ctx, e511, &t.sme_mask, &next_pa))
		return 0;
	/* The other 511 entries: entry 511 is not read again. */
	if (kaslr_scan_page_read(ctx, sp, 0, page, KMAP_TOP_INDEX * 8))
		return 0;
	ctx->nr_reads += KMAP_TOP_INDEX;
	t.nr_user = pgd_page_check(ctx, page, t.sme_mask);
	if (t.nr_user < 0)
		return 0;
	t.paddr = sp->paddr;
	t.next_pa = next_pa;
	t.levels = pt_levels(ctx, next_pa, t.sme_mask);
	if (!t.levels)
		return 0;
	ps->nr_tables++;
	if (t.nr_user) {
		/* A process PGD: after every table with an empty user half. */
		if (ps->nr_deferred == ps->cap_deferred) {
			struct pt_table *d;
			int cap = ps->cap_deferred ? ps->cap_deferred * 2 : 64;

			if (ps->cap_deferred >= PTSCAN_MAX_DEFERRED) {
				ps->nr_dropped++;
				return 0;
			}
			if (!(d = realloc(ps->deferred, (size_t)cap * sizeof(*d))))
				return -1;
			ps->deferred = d;
			ps->cap_deferred = cap;
		}
		ps->deferred[ps->nr_deferred++] = t;
		return 0;
	}
	st = ptscan_try(ps, &t);
	if (st == KASLR_NOMEM)
		return -1;
	return st == KASLR_OK && ps->stop_first_verified;
}

enum kaslr_status kaslr_x86_ptscan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				   struct kaslr_candidate *cands, int max, int *nr_ret, int stop_first_verified)
{
	struct ptscan *ps;
	uint64_t total;
	int i;
	enum kaslr_status st;

	*nr_ret = 0;
	if (!ctx->ranges || ctx->nr_ranges <= 0) {
		kaslr_set_err(ctx, "the dump's physical memory ranges are unknown: cannot scan for page tables");
		return KASLR_NODATA;
	}
	if (!kaslr_vml_text(vml)) {
		kaslr_set_err(ctx, "the vmlinux has neither _text nor _stext: page tables found could not be checked");
		return KASLR_NODATA;
	}
	if (!(ps = calloc(1, sizeof(*ps))))
		return KASLR_NOMEM;
	ps->ctx = ctx;
	ps->vml = vml;
	ps->cands = cands;
	ps->max = cands ? max : 0;
	ps->stop_first_verified = stop_first_verified;
	st = kaslr_scan_memory(ctx, KASLR_PAGE_SIZE, pt_visit, ps, &total);
	if (st == KASLR_OK && ps->deferred && !(stop_first_verified && ps->nr_verified)) {
		qsort(ps->deferred, (size_t)ps->nr_deferred, sizeof(*ps->deferred), pt_table_cmp);
		for (i = 0; i < ps->nr_deferred; i++) {
			st = ptscan_try(ps, &ps->deferred[i]);
			if (st == KASLR_NOMEM || (st == KASLR_OK && stop_first_verified))
				break;
		}
		if (st != KASLR_NOMEM)
			st = KASLR_OK;
	}
	free(ps->deferred);
	*nr_ret = ps->n;
	if (st == KASLR_NOMEM) {
		free(ps);
		kaslr_set_err(ctx, "out of memory");
		return KASLR_NOMEM;
	}
	if (ctx->progress)
		ctx->progress(ctx->priv, total, total);
	if (ps->nr_verified) {
		free(ps);
		ctx->err[0] = '\0';
		return KASLR_OK;
	}
	if (!ps->nr_tables)
		kaslr_set_err(ctx, "no page of the dump (%" PRIu64 " MiB scanned) looks like a top-level page table "
			      "mapping START_KERNEL_MAP: is kernel memory missing from the dump?", total >> 20);
	else
		kaslr_set_err(ctx, "%d page(s) look like top-level page tables%s, none maps this vmlinux's kernel; "
			      "first: %s", ps->nr_tables, ps->nr_dropped ? " (some not tried)" : "", ps->first_why);
	free(ps);
	return KASLR_NOTFOUND;
}

enum kaslr_status kaslr_ptscan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			       struct kaslr_candidate *cands, int max, int *nr_ret, int stop_first_verified)
{
	return kaslr_arch_of(vml)->ptscan(ctx, vml, cands, max, nr_ret, stop_first_verified);
}
