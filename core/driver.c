/*
 * core/driver.c - kaslr_find: every method on every CPU, in order; verify; choose
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The order (docs/kaslr.md, "Decision order"): the architecture's register
 * methods on every CPU (CPUs whose registers are the same share the
 * answers), then Methods 4 and 3 through each distinct verified answer;
 * only when no CPU gave a verified answer the memory scan for vmcoreinfo
 * (Method 5), and only when nothing verified at all the page-table scan
 * (Method 6) followed by Methods 4 and 3 through what it found.  The
 * choice: a verified elfcorehdr candidate, else one the kernel's own
 * vmcoreinfo confirms, else the values most CPUs and methods agree on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* When the dump cannot be scanned for what it holds (core/diagnose.c). */
static const char HINT[] = "give the values by hand (OFFSET and PHYS_BASE)";

static int same_values(const struct kaslr_candidate *a, const struct kaslr_candidate *b)
{
	return a->kernel_offset == b->kernel_offset && a->phys_base == b->phys_base;
}

static int verified(const struct kaslr_candidate *c)
{
	return c->status == KASLR_OK;
}

static int same_row(const struct kaslr_candidate *a, const struct kaslr_candidate *b)
{
	return a->method == b->method && a->status == b->status && same_values(a, b) &&
	       a->pgd_paddr == b->pgd_paddr && a->levels == b->levels && a->checks == b->checks &&
	       !strcmp(a->note, b->note);
}

static void cpuset_add(struct kaslr_candidate *c, int cpu)
{
	if (cpu >= 0 && cpu < KASLR_CPUSET_MAX)
		c->cpu_set[cpu / 64] |= 1ULL << (cpu % 64);
}

/* Merge @c (count, CPUs) into the kept row @row. */
static void row_merge(struct kaslr_candidate *row, const struct kaslr_candidate *c)
{
	size_t i;

	row->count += c->count;
	for (i = 0; i < sizeof(row->cpu_set) / sizeof(row->cpu_set[0]); i++)
		row->cpu_set[i] |= c->cpu_set[i];
	if (row->cpu < 0 || (c->cpu >= 0 && c->cpu < row->cpu))
		row->cpu = c->cpu;
}

#define ROW_UNRECORDED (-2)	/* rows_of[]: the method ran, its candidate got no row */

/*
 * Add a candidate (it carries the paging it used).  A fresh candidate (count 0)
 * counts once, for its cpu.  Methods 1 and 2 candidates equal to a kept row
 * in all but the CPU join it; when the table is full, a candidate joins a
 * row of the same method and values, or is counted as unrecorded.
 * @returns the row, or NULL when the candidate got none.
 */
static struct kaslr_candidate *rep_add(struct kaslr_report *rep, const struct kaslr_candidate *c)
{
	struct kaslr_candidate one = *c;
	int i;

	if (!one.count) {
		one.count = 1;
		memset(one.cpu_set, 0, sizeof(one.cpu_set));
		cpuset_add(&one, one.cpu);
	}
	if (one.method == KASLR_M_PAGETABLE || one.method == KASLR_M_IDT) {
		for (i = 0; i < rep->nr_cand; i++) {
			if (same_row(&rep->cand[i], &one)) {
				row_merge(&rep->cand[i], &one);
				return &rep->cand[i];
			}
		}
	}
	if (rep->nr_cand >= KASLR_MAX_CANDIDATES) {
		for (i = 0; i < rep->nr_cand; i++) {
			if (rep->cand[i].method == one.method && rep->cand[i].status == one.status &&
			    same_values(&rep->cand[i], &one)) {
				row_merge(&rep->cand[i], &one);
				return &rep->cand[i];
			}
		}
		rep->nr_unrecorded += one.count;
		return NULL;
	}
	rep->cand[rep->nr_cand] = one;
	return &rep->cand[rep->nr_cand++];
}

/*
 * The choice, in order: a verified elfcorehdr candidate (the crashed
 * kernel, when the registers are the capture kernel's); a verified
 * candidate the in-RAM vmcoreinfo confirms; the verified values most
 * candidates share.  @returns the index, -1 if none verified, -2 on a tie.
 */
static int choose(const struct kaslr_report *rep)
{
	int i, j, best = -1, best_n = 0, tie = 0;

	for (i = 0; i < rep->nr_cand; i++)
		if (verified(&rep->cand[i]) && rep->cand[i].method == KASLR_M_ELFCOREHDR)
			return i;
	/* The kernel's own vmcoreinfo decides, unless two of its copies disagree. */
	for (i = 0; i < rep->nr_cand; i++)
		if (verified(&rep->cand[i]) && (rep->cand[i].checks & KASLR_V_VMCOREINFO))
			break;
	for (j = i + 1; j < rep->nr_cand; j++)
		if (verified(&rep->cand[j]) && (rep->cand[j].checks & KASLR_V_VMCOREINFO) &&
		    !same_values(&rep->cand[i], &rep->cand[j]))
			break;
	if (i < rep->nr_cand && j == rep->nr_cand)
		return i;
	/* Else the values most candidates share, every CPU counted. */
	for (i = 0; i < rep->nr_cand; i++) {
		int n = 0;

		if (!verified(&rep->cand[i]))
			continue;
		for (j = 0; j < rep->nr_cand; j++)
			if (verified(&rep->cand[j]) && same_values(&rep->cand[i], &rep->cand[j]))
				n += rep->cand[j].count;
		if (n > best_n) {
			best = i;
			best_n = n;
			tie = 0;
		} else if (n == best_n && !same_values(&rep->cand[i], &rep->cand[best])) {
			tie = 1;
		}
	}
	return tie ? -2 : best;
}

#define MAX_GROUPS 8
/* Page-table scan candidates kaslr_find records (the verified one always among them). */
#define PTSCAN_KEEP 8

/* "idt (cpu 1)", or "scan" when no CPU was involved. */
static const char *cand_who(char *buf, size_t size, const struct kaslr_candidate *c)
{
	if (c->cpu < 0)
		snprintf(buf, size, "%s", kaslr_method_name(c->method));
	else
		snprintf(buf, size, "%s (cpu %d)", kaslr_method_name(c->method), c->cpu);
	return buf;
}

#define MAX_REASONS 8

/*
 * What kaslr_find tried and why it failed, grouped by identical reason so
 * that N CPUs failing the same way take one line: "cpu 0 page tables,
 * cpu 1 page tables: <reason>".
 */
struct story {
	int n, dropped;
	struct {
		char who[96];
		char what[KASLR_ERRLEN];
	} r[MAX_REASONS];
};

static void story_add(struct story *st, const char *who, const char *what)
{
	int i;

	/* "cpu N ...: reason" messages: the who is given separately. */
	if (!strncmp(what, "cpu ", 4) && strstr(what, ": "))
		what = strstr(what, ": ") + 2;
	for (i = 0; i < st->n; i++) {
		if (!strcmp(st->r[i].what, what)) {
			kaslr_buf_append(st->r[i].who, sizeof(st->r[i].who), ", %s", who);
			return;
		}
	}
	if (st->n == MAX_REASONS) {
		st->dropped++;
		return;
	}
	snprintf(st->r[st->n].who, sizeof(st->r[st->n].who), "%s", who);
	snprintf(st->r[st->n].what, sizeof(st->r[st->n].what), "%s", what);
	st->n++;
}

static void story_format(const struct story *st, char *out, size_t size)
{
	int i;

	out[0] = '\0';
	for (i = 0; i < st->n; i++)
		kaslr_buf_append(out, size, "%s%s: %s", i ? "; " : "", st->r[i].who, st->r[i].what);
	if (st->dropped)
		kaslr_buf_append(out, size, "; %d more", st->dropped);
}

/* Record a CPU method's failure: the reason the candidate carries. */
static void story_method(struct story *story, const struct kaslr_vmlinux *vml, const char *what,
			 const struct kaslr_candidate *c)
{
	char who[64], msg[KASLR_ERRLEN];

	snprintf(who, sizeof(who), "cpu %d %s", c->cpu, what);
	if (c->levels && c->status == KASLR_NOTFOUND)
		kaslr_verify_message(msg, sizeof(msg), vml, c);	/* values found, not verified */
	else
		kaslr_str_copy(msg, sizeof(msg), c->why);	/* no values: the method's reason */
	story_add(story, who, msg);
}

/* First candidate of each distinct verified (offset, phys_base); @returns how many. */
static int distinct_verified(const struct kaslr_report *rep, int *idx, int max)
{
	int i, j, n = 0;

	for (i = 0; i < rep->nr_cand && n < max; i++) {
		if (!verified(&rep->cand[i]))
			continue;
		for (j = 0; j < n; j++)
			if (same_values(&rep->cand[idx[j]], &rep->cand[i]))
				break;
		if (j == n)
			idx[n++] = i;
	}
	return n;
}

/*
 * Method 3 on the chosen candidate: read the in-RAM vmcoreinfo and record
 * it as a candidate; mark every verified candidate it agrees with.
 */
static void confirm_with_vmcoreinfo(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				    struct kaslr_report *rep, int best, struct story *story)
{
	const struct kaslr_paging *pg = rep->cand[best].pg.levels ? &rep->cand[best].pg : NULL;
	struct kaslr_candidate c;
	struct kaslr_vmci vmci;
	struct kaslr_vmci_copy copy;
	uint64_t paddr;
	char *text, perr[160];
	int i;

	if (kaslr_vmci_read_ram(ctx, vml, pg, rep->cand[best].kernel_offset, rep->cand[best].phys_base,
				&text, &paddr) != KASLR_OK) {
		story_add(story, "vmcoreinfo", ctx->err);
		return;
	}
	if (kaslr_vmci_parse(text, strlen(text), &vmci, perr, sizeof(perr)) != KASLR_OK) {
		free(text);
		return;
	}
	kaslr_vmci_copy_from(&copy, &vmci, paddr, strlen(text));
	kaslr_vmci_free(&vmci);
	free(text);
	kaslr_cand_init(&c, KASLR_M_VMCOREINFO, rep->cand[best].cpu);
	c.pgd_paddr = rep->cand[best].pgd_paddr;
	c.levels = rep->cand[best].levels;
	if (!copy.has_offset || !copy.has_phys_base) {
		story_add(story, "vmcoreinfo", "the in-RAM copy lacks KERNELOFFSET or NUMBER(phys_base)");
		if (rep->nr_vmci < (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])))
			rep->vmci[rep->nr_vmci++] = copy;
		return;
	}
	c.kernel_offset = copy.kernel_offset;
	c.phys_base = copy.phys_base;
	kaslr_cand_note(&c, "in-RAM vmcoreinfo at 0x%" PRIx64 " (%s), read through the %s candidate", paddr,
		  copy.osrelease, kaslr_method_name(rep->cand[best].method));
	if (same_values(&c, &rep->cand[best])) {
		c.checks = KASLR_V_VMCOREINFO;
		kaslr_verify(ctx, vml, NULL, &c);
		for (i = 0; i < rep->nr_cand; i++)
			if (verified(&rep->cand[i]) && same_values(&rep->cand[i], &c))
				rep->cand[i].checks |= KASLR_V_VMCOREINFO;
	} else {
		if (kaslr_verify(ctx, vml, NULL, &c) != KASLR_OK)
			kaslr_cand_note_failure(&c, "fails verification");
		story_add(story, "vmcoreinfo", "the in-RAM copy disagrees with the candidate it was read through");
	}
	copy.verified = verified(&c);
	for (i = 0; i < rep->nr_vmci; i++)
		if (rep->vmci[i].paddr == copy.paddr)
			break;
	if (i == rep->nr_vmci && rep->nr_vmci < (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])))
		rep->vmci[rep->nr_vmci++] = copy;
	rep_add(rep, &c);
}

enum kaslr_status kaslr_find(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			     const struct kaslr_cpu_regs *regs, int nr_cpus, unsigned methods,
			     struct kaslr_report *rep)
{
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	const int nm = arch->nr_cpu_methods;
	struct story story;
	char sum[KASLR_ERRLEN], who[32];
	int i, j, g, m, best = -1, any_cpu_verified = 0, groups[MAX_GROUPS], *rows_of;
	enum kaslr_status st;

	memset(rep, 0, sizeof(*rep));
	memset(&story, 0, sizeof(story));
	rep->best = -1;
	/* The rows each CPU's register methods went to (-1: none), for CPUs with the same registers. */
	rows_of = regs && nr_cpus > 0 ? malloc((size_t)(nm ? nm : 1) * (size_t)nr_cpus * sizeof(*rows_of)) : NULL;
	if (regs && nr_cpus > 0 && !rows_of) {
		kaslr_set_err(ctx, "out of memory");
		return KASLR_NOMEM;
	}
	for (i = 0; rows_of && i < nm * nr_cpus; i++)
		rows_of[i] = -1;

	for (i = 0; i < nr_cpus && regs; i++) {
		const struct kaslr_cpu_regs *r = &regs[i];
		const char *unusable = arch->cpu_unusable(r);
		struct kaslr_candidate c;

		if (unusable) {
			snprintf(who, sizeof(who), "cpu %d", r->cpu);
			story_add(&story, who, unusable);
			continue;
		}
		/* CPUs with the same registers (idle ones on init_top_pgt) share the answers. */
		for (j = 0; j < i; j++)
			if (arch->same_cpu_state(&regs[j], r))
				break;
		if (j < i) {
			for (m = 0; m < nm; m++) {
				int k = rows_of[nm * j + m];

				if (k == ROW_UNRECORDED)
					rep->nr_unrecorded++;
				if (k < 0)
					continue;
				/* CPU j's row, counted once more for this CPU. */
				c = rep->cand[k];
				c.cpu = r->cpu;
				c.count = 0;
				rep_add(rep, &c);
				rows_of[nm * i + m] = k;
				if (c.status != KASLR_OK)
					story_method(&story, vml, arch->cpu_methods[m].what, &c);
			}
			continue;
		}
		/* The register methods, in their order, each verified on its own. */
		for (m = 0; m < nm; m++) {
			struct kaslr_candidate *row;

			if (!(methods & KASLR_METHOD_BIT(arch->cpu_methods[m].method)))
				continue;
			st = arch->cpu_methods[m].run(ctx, vml, r, &c);
			if (st == KASLR_NOMEM)
				goto nomem;
			/* A method that found no values says why in ctx->err: the row keeps it. */
			if (st != KASLR_OK && !(c.levels && c.status == KASLR_NOTFOUND))
				kaslr_str_copy(c.why, sizeof(c.why), ctx->err);
			row = rep_add(rep, &c);
			rows_of[nm * i + m] = row ? (int)(row - rep->cand) : ROW_UNRECORDED;
			if (st == KASLR_OK)
				any_cpu_verified = 1;
			else
				story_method(&story, vml, arch->cpu_methods[m].what, &c);
		}
	}
	free(rows_of);
	rows_of = NULL;

	/*
	 * Methods 4 and 3 through each distinct verified answer (usually one;
	 * two when CPUs disagree, and then the in-RAM vmcoreinfo may decide).
	 */
	if (methods & KASLR_METHOD_BIT(KASLR_M_ELFCOREHDR)) {
		int nr_groups = distinct_verified(rep, groups, MAX_GROUPS);

		for (g = 0; g < nr_groups; g++) {
			struct kaslr_candidate c;
			const struct kaslr_candidate *b = &rep->cand[groups[g]];

			st = kaslr_from_elfcorehdr(ctx, vml, b->pg.levels ? &b->pg : NULL, b->kernel_offset,
						   b->phys_base, &c);
			if (st == KASLR_NOMEM)
				goto nomem;
			if (st == KASLR_NODATA)
				continue;
			c.cpu = b->cpu;
			rep_add(rep, &c);
			if (st != KASLR_OK)
				story_add(&story, "elfcorehdr", ctx->err);
		}
	}
	if (methods & KASLR_METHOD_BIT(KASLR_M_VMCOREINFO)) {
		int nr_groups = distinct_verified(rep, groups, MAX_GROUPS);

		for (g = 0; g < nr_groups; g++)
			confirm_with_vmcoreinfo(ctx, vml, rep, groups[g], &story);
	}
	best = choose(rep);

	if (!any_cpu_verified && (methods & KASLR_METHOD_BIT(KASLR_M_SCAN))) {
		int n = 0, max = (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])) - rep->nr_vmci;

		st = kaslr_vmci_scan(ctx, vml, rep->vmci + rep->nr_vmci, max, &n, 0);
		if (st == KASLR_NOMEM)
			goto nomem;
		if (st != KASLR_OK) {
			story_add(&story, "scan", ctx->err);
		} else {
			int k, stored = n < max ? n : max, nr_verified = 0;

			for (k = 0; k < stored; k++) {
				struct kaslr_vmci_copy *copy = &rep->vmci[rep->nr_vmci + k];
				struct kaslr_candidate c;

				snprintf(who, sizeof(who), "scan 0x%" PRIx64, copy->paddr);
				if (!copy->has_offset || !copy->has_phys_base) {
					story_add(&story, who, copy->why);
					continue;
				}
				kaslr_cand_init(&c, KASLR_M_SCAN, -1);
				c.kernel_offset = copy->kernel_offset;
				c.phys_base = copy->phys_base;
				kaslr_cand_note(&c, "vmcoreinfo page at 0x%" PRIx64 " (%s)", copy->paddr,
					  copy->osrelease);
				/* The scan verified every copy it stored: no second read. */
				c.checks = copy->checks;
				if (copy->verified) {
					c.status = KASLR_OK;
					nr_verified++;
				} else {
					c.status = KASLR_NOTFOUND;
					kaslr_cand_note_failure(&c, copy->why);
					story_add(&story, who, copy->why);
				}
				rep_add(rep, &c);
			}
			rep->nr_vmci += stored;
			if (!nr_verified && n > stored)
				story_add(&story, "scan", "more vmcoreinfo copies than recorded, none verified");
		}
		best = choose(rep);
	}

	/* Method 6: nothing verified, whether from registers or vmcoreinfo copies. */
	if (best == -1 && !any_cpu_verified && (methods & KASLR_METHOD_BIT(KASLR_M_PTSCAN))) {
		struct kaslr_candidate pc[PTSCAN_KEEP];
		int n = 0, k;

		st = kaslr_ptscan(ctx, vml, pc, PTSCAN_KEEP, &n, 1);
		if (st == KASLR_NOMEM)
			goto nomem;
		if (st != KASLR_OK)
			story_add(&story, "ptscan", ctx->err);
		for (k = 0; k < n && k < PTSCAN_KEEP; k++) {
			struct kaslr_candidate *row = rep_add(rep, &pc[k]);

			if (!row || !verified(&pc[k]))
				continue;
			/* Through the tables found: the first kernel (4) and the in-RAM vmcoreinfo (3). */
			if (methods & KASLR_METHOD_BIT(KASLR_M_ELFCOREHDR)) {
				struct kaslr_candidate c;

				st = kaslr_from_elfcorehdr(ctx, vml, &pc[k].pg, pc[k].kernel_offset, pc[k].phys_base,
							   &c);
				if (st == KASLR_NOMEM)
					goto nomem;
				if (st != KASLR_NODATA) {
					rep_add(rep, &c);
					if (st != KASLR_OK)
						story_add(&story, "elfcorehdr", ctx->err);
				}
			}
			if (methods & KASLR_METHOD_BIT(KASLR_M_VMCOREINFO))
				confirm_with_vmcoreinfo(ctx, vml, rep, (int)(row - rep->cand), &story);
		}
		best = choose(rep);
	}

	if (best == -2) {
		char a[32], b[32], wa[48], wb[48];
		int j, first = -1;

		/* Name two disagreeing verified candidates. */
		for (i = 0; i < rep->nr_cand && first < 0; i++)
			if (verified(&rep->cand[i]))
				first = i;
		for (j = first + 1; j < rep->nr_cand; j++)
			if (verified(&rep->cand[j]) && !same_values(&rep->cand[j], &rep->cand[first]))
				break;
		kaslr_set_err(ctx, "verified candidates disagree and nothing decides: %s says offset 0x%" PRIx64
			" phys_base %s, %s says 0x%" PRIx64 " %s; give the right values by hand", cand_who(wa, sizeof(wa), &rep->cand[first]), rep->cand[first].kernel_offset,
			kaslr_pb_str(a, sizeof(a), rep->cand[first].phys_base), cand_who(wb, sizeof(wb), &rep->cand[j]),
			rep->cand[j].kernel_offset, kaslr_pb_str(b, sizeof(b), rep->cand[j].phys_base));
		return KASLR_AMBIGUOUS;
	}
	if (best < 0) {
		const char *tail;
		size_t hint_room;
		int found_values = 0;

		for (i = 0; i < rep->nr_cand; i++)
			if (rep->cand[i].status == KASLR_NOTFOUND &&
			    (rep->cand[i].levels || rep->cand[i].kernel_offset || rep->cand[i].phys_base))
				found_values = 1;
		if (kaslr_diagnose(ctx, vml, regs, nr_cpus, found_values, &rep->diag) == KASLR_NOMEM)
			goto nomem;
		/* Early boot and another kernel say it all: the per-CPU story is -v's. */
		if (rep->diag.kind == KASLR_DIAG_EARLY_BOOT || rep->diag.kind == KASLR_DIAG_WRONG_VMLINUX) {
			kaslr_set_err(ctx, "%s", rep->diag.msg);
			return KASLR_NOTFOUND;
		}
		tail = rep->diag.kind ? rep->diag.msg : HINT;
		hint_room = strlen(tail) + 4;
		if (hint_room > sizeof(ctx->err) / 2)
			hint_room = sizeof(ctx->err) / 2;
		story_format(&story, sum, sizeof(sum));
		if (!*sum)
			snprintf(sum, sizeof(sum), "%s", nr_cpus && regs ? "no method applied" :
				 "no registers and no scan");
		/* Keep room for the hint: cut the per-CPU story if it is long. */
		if (strlen(sum) > sizeof(ctx->err) - hint_room)
			strcpy(sum + sizeof(ctx->err) - hint_room - 4, "...");
		kaslr_set_err(ctx, "%s; %s", sum, tail);
		return KASLR_NOTFOUND;
	}
	rep->best = best;
	for (i = 0; i < rep->nr_cand; i++) {
		if (!verified(&rep->cand[i]))
			rep->nr_failed += rep->cand[i].count;
		else if (same_values(&rep->cand[i], &rep->cand[best]))
			rep->nr_agree += rep->cand[i].count;
		else
			rep->nr_disagree += rep->cand[i].count;
	}
	ctx->err[0] = '\0';
	return KASLR_OK;

nomem:
	free(rows_of);
	kaslr_set_err(ctx, "out of memory");
	return KASLR_NOMEM;
}

