/*
 * test_paging.c - page-table walking and Method 1 on synthetic tables
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "unit.h"

/* Method 1 on a fixture; expect the fixture's values and @want_size leaves. */
static int method1_case(uint64_t *rnd, char *why, size_t whylen, int levels, uint64_t leaf,
			const char *want_note)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	uint64_t delta, pa, size;
	int ret = 0;

	fx_build(&f, rnd, levels, 1, leaf);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
	FAIL_IF(c.levels != levels, "levels %d, want %d", c.levels, levels);
	FAIL_IF(c.pgd_paddr != f.root, "pgd " X64 ", want " X64, c.pgd_paddr, f.root);
	FAIL_IF(c.checks != (KASLR_V_BANNER | KASLR_V_ALIGNED | KASLR_V_WINDOW | KASLR_V_PAGETABLE |
			     KASLR_V_RELOC),
		"checks 0x%x", c.checks);
	FAIL_IF(want_note && !strstr(c.note, want_note), "note '%s' lacks '%s'", c.note, want_note);

	/* Any address of the image translates linearly, with the right leaf size. */
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	delta = synth_rand_range(rnd, 0, SYNTH_IMAGE_SIZE);
	FAIL_IF(kaslr_vtop(&f.ctx, &pg, f.k.vml.text + f.k.offset + delta, &pa, &size) != KASLR_OK,
		"vtop: %s", f.ctx.err);
	FAIL_IF(pa != f.k.text_pa + delta, "vtop " X64 ", want " X64, pa, f.k.text_pa + delta);
	if (leaf != SYNTH_4K)
		FAIL_IF(size != leaf, "leaf size " X64 ", want " X64, size, leaf);
	/* The direct map: 1 GiB pages. */
	delta = synth_rand_range(rnd, 0, f.k.ram);
	FAIL_IF(kaslr_vtop(&f.ctx, &pg, f.k.page_offset + delta, &pa, &size) != KASLR_OK || pa != delta ||
		size != SYNTH_1G, "direct map vtop " X64 " size " X64, pa, size);
out:
	fx_free(&f);
	return ret;
}

static int t_4l_2m(uint64_t *rnd, char *why, size_t whylen)
{
	return method1_case(rnd, why, whylen, 4, SYNTH_2M, "(2M page)");
}

static int t_5l_2m(uint64_t *rnd, char *why, size_t whylen)
{
	return method1_case(rnd, why, whylen, 5, SYNTH_2M, "(2M page)");
}

/* 1 GiB leaf over the whole window: first mapping is START_KERNEL_MAP, the banner search decides. */
static int t_5l_1g(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_paging pg;
	struct fx f;
	uint64_t va, pa, size;
	int ret = method1_case(rnd, why, whylen, 5, SYNTH_1G, NULL);

	if (ret)
		return ret;
	fx_build(&f, rnd, 5, 1, SYNTH_1G);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	FAIL_IF(pg.levels != 5, "levels %d", pg.levels);
	FAIL_IF(kaslr_first_mapping(&f.ctx, &pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE,
				    &va, &pa, &size) != KASLR_OK, "first mapping: %s", f.ctx.err);
	FAIL_IF(va != START_KERNEL_MAP || pa != (uint64_t)f.k.phys_base || size != SYNTH_1G,
		"first mapping " X64 " -> " X64 " size " X64, va, pa, size);
out:
	fx_free(&f);
	return ret;
}

/* _text mapped with 4 KiB PTEs: the address must come from the PTE, not the PMD. */
static int t_4k_text(uint64_t *rnd, char *why, size_t whylen)
{
	return method1_case(rnd, why, whylen, (synth_rand(rnd) & 1) ? 5 : 4, SYNTH_4K, "(4K page)");
}

/* CR3 holds the PTI user half, which maps one entry page above _text; the kernel half wins. */
static int t_pti_user_half(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	uint64_t entry_va;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	entry_va = f.k.vml.text + f.k.offset + 0x1000000 + synth_rand_range(rnd, 0, 512) * SYNTH_4K;
	synth_map(&f.s, f.root + SYNTH_4K, 4, entry_va, f.k.text_pa + (entry_va - f.k.vml.text - f.k.offset),
		  SYNTH_4K);
	synth_idt_map(&f.s, &f.k, f.root + SYNTH_4K);
	f.regs.cr3 = f.root | PTI_USER_PGD_BIT | synth_rand_range(rnd, 1, 4096);
	FAIL_IF(kaslr_paging_from_regs(&f.ctx, &f.regs, 1, &pg) != KASLR_OK ||
		pg.root_paddr != f.root + SYNTH_4K, "user half " X64, pg.root_paddr);
	FAIL_IF(kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg) != KASLR_OK || pg.root_paddr != f.root,
		"kernel half " X64, pg.root_paddr);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
	FAIL_IF(c.pgd_paddr != f.root, "used pgd " X64 ", want the kernel half " X64, c.pgd_paddr, f.root);
	/* Without PTI symbols CR3 is taken as is first, then the even page. */
	f.k.vml.has_pti = 0;
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "no-PTI vmlinux: %s", why);
out:
	fx_free(&f);
	return ret;
}

/* A non-PTI kernel's PGD on an odd page: bit 12 must be kept. */
static int t_odd_pgd(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	int ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "5.10.0-32-cloud-amd64");
	f.k.vml.has_pti = 0;
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	if (!(f.s.next_table & SYNTH_4K))
		synth_alloc_table(&f.s);
	f.root = synth_pt_new(&f.s, 0);
	synth_kernel_map(&f.s, &f.k, f.root, SYNTH_2M);
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, f.root, 4);
	FAIL_IF(!(f.root & SYNTH_4K), "fixture: root " X64 " is even", f.root);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
out:
	fx_free(&f);
	return ret;
}

static int t_pcid(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, (synth_rand(rnd) & 1) ? 5 : 4, 1, SYNTH_2M);
	f.regs.cr3 = f.root | synth_rand_range(rnd, 1, 4096) | ((synth_rand(rnd) & 1) ? CR3_NOFLUSH : 0);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "cr3 " X64 ": %s", f.regs.cr3, why);
	FAIL_IF(c.pgd_paddr != f.root, "pgd " X64, c.pgd_paddr);
out:
	fx_free(&f);
	return ret;
}

/* AMD SME: the C-bit in CR3 and in every entry. */
static int t_sme(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	uint64_t cbit = 1ULL << (synth_rand(rnd) & 1 ? 47 : 51);
	int ret = 0;

	synth_init(&f.s);
	f.s.sme_mask = cbit;
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	f.root = synth_pt_new(&f.s, 1);
	synth_kernel_map(&f.s, &f.k, f.root, synth_rand(rnd) & 1 ? SYNTH_4K : SYNTH_2M);
	synth_directmap(&f.s, &f.k, f.root);
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, f.root | cbit | 0x5, 4);
	FAIL_IF(kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg) != KASLR_OK, "%s", f.ctx.err);
	FAIL_IF(pg.sme_mask != cbit || pg.root_paddr != f.root, "sme_mask " X64 " root " X64, pg.sme_mask,
		pg.root_paddr);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
	FAIL_IF(!strstr(c.note, "SME"), "note '%s' does not say SME", c.note);
out:
	fx_free(&f);
	return ret;
}

/* Entries pointing back up the walk must end it, as CORRUPT. */
static int t_cycle(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_paging pg;
	struct kaslr_candidate c;
	struct fx f;
	uint64_t va, pa, size, pud, pmd;
	int ret = 0, level = (int)synth_rand_range(rnd, 2, 4);	/* PMD or PUD entry loops */
	enum kaslr_status st;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	/* Point the lowest window entry at @level back to the root (or the PUD). */
	pud = synth_read_u64(&f.s, f.root + 511 * 8) & 0xffffffffff000ULL;
	pmd = synth_read_u64(&f.s, pud + 510 * 8) & 0xffffffffff000ULL;
	if (level == 3)
		synth_write_u64(&f.s, pud + 510 * 8, f.root | 0x63);
	else
		synth_write_u64(&f.s, pmd + 0, (synth_rand(rnd) & 1 ? pud : pmd) | 0x63);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	st = kaslr_first_mapping(&f.ctx, &pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE, &va,
				 &pa, &size);
	FAIL_IF(st != KASLR_CORRUPT, "level %d loop: status %s (%s)", level, kaslr_status_name(st),
		f.ctx.err);
	FAIL_IF(!strstr(f.ctx.err, "cycle"), "message '%s'", f.ctx.err);
	st = kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st == KASLR_OK && level == 3, "method 1 verified through a looped PUD");
out:
	fx_free(&f);
	return ret;
}

/* Tables of random entries all pointing at each other: bounded, never verified. */
static int t_garbage(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	uint64_t pages[64], va, pa, size;
	enum kaslr_status st;
	int i, j, ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	for (i = 0; i < 64; i++)
		pages[i] = synth_alloc_table(&f.s);
	for (i = 0; i < 64; i++)
		for (j = 0; j < 512; j++) {
			uint64_t e = synth_rand(rnd);

			/* Mostly present non-leaf entries to other garbage tables, some random words. */
			if (synth_rand(rnd) % 4)
				e = pages[synth_rand(rnd) % 64] | 0x63 | (e & 0xfff0000000000000ULL);
			synth_write_u64(&f.s, pages[i] + (uint64_t)j * 8, e & ~0x80ULL);
		}
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, pages[0], synth_rand(rnd) & 1 ? 5 : 4);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	st = kaslr_first_mapping(&f.ctx, &pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE, &va,
				 &pa, &size);
	FAIL_IF(f.ctx.nr_reads > 4097UL * 512, "walk read %lu entries", f.ctx.nr_reads);
	(void)st;
	st = kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st == KASLR_OK, "garbage verified: offset " X64, c.kernel_offset);
	st = kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st == KASLR_OK, "garbage IDT verified");
	FAIL_IF(f.s.cross_page_reads, "cross-page reads");
out:
	fx_free(&f);
	return ret;
}

static int t_table_outside_dump(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	uint64_t va, pa, size, pud, far = (synth_rand_range(rnd, 1, 1000) << 30) + (4ULL << 30);
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	pud = synth_read_u64(&f.s, f.root + 511 * 8) & 0xffffffffff000ULL;
	synth_write_u64(&f.s, pud + 510 * 8, far | 0x63);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	st = kaslr_first_mapping(&f.ctx, &pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE, &va,
				 &pa, &size);
	FAIL_IF(st != KASLR_NODATA || !strstr(f.ctx.err, "not in the dump"), "first mapping: %s %s",
		kaslr_status_name(st), f.ctx.err);
	st = kaslr_vtop(&f.ctx, &pg, f.k.vml.text + f.k.offset, &pa, NULL);
	FAIL_IF(st != KASLR_NODATA, "vtop: %s", kaslr_status_name(st));
	st = kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st != KASLR_NODATA, "method 1: %s (%s)", kaslr_status_name(st), f.ctx.err);
	/* CR3 itself beyond the dump. */
	f.regs.cr3 = far;
	st = kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	FAIL_IF(st != KASLR_NODATA || !strstr(f.ctx.err, "not in the dump"), "cr3 outside: %s %s",
		kaslr_status_name(st), f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

static int t_noncanonical(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_paging pg;
	struct fx f;
	uint64_t pa, hole4 = 0x0000800000000000ULL + (synth_rand(rnd) & 0x00007fffffffffffULL);
	uint64_t hole5 = 0x0100000000000000ULL + (synth_rand(rnd) & 0x00ffffffffffffffULL);
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	st = kaslr_vtop(&f.ctx, &pg, hole4, &pa, NULL);
	FAIL_IF(st != KASLR_CORRUPT, "4-level " X64 ": %s", hole4, kaslr_status_name(st));
	pg.levels = 5;
	st = kaslr_vtop(&f.ctx, &pg, hole5, &pa, NULL);
	FAIL_IF(st != KASLR_CORRUPT, "5-level " X64 ": %s", hole5, kaslr_status_name(st));
	st = kaslr_vtop(&f.ctx, &pg, 0x0000800000000000ULL, &pa, NULL);
	FAIL_IF(st == KASLR_CORRUPT, "5-level 0x0000800000000000 is canonical");
out:
	fx_free(&f);
	return ret;
}

/* Lowest mapping in arbitrary ranges versus brute force over what was mapped. */
static int t_first_mapping(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_paging pg;
	struct fx f;
	uint64_t vas[16], pas[16], sz[16], base = 0xffffc90000000000ULL, va, pa, size;
	int i, n = 16, ret = 0, trial;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	f.root = synth_pt_new(&f.s, 0);
	for (i = 0; i < n; i++) {
		sz[i] = i % 3 == 0 ? SYNTH_2M : SYNTH_4K;
		vas[i] = base + (synth_rand_range(rnd, 0, 1ULL << 35) & ~(sz[i] - 1));
		pas[i] = synth_rand_range(rnd, 1, 100) * SYNTH_2M;
		synth_map(&f.s, f.root, 4, vas[i], pas[i], sz[i]);
	}
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, f.root, 4);
	kaslr_paging_from_regs(&f.ctx, &f.regs, KASLR_PGD_AS_IS, &pg);
	for (trial = 0; trial < 20; trial++) {
		uint64_t a = base + synth_rand_range(rnd, 0, 1ULL << 35), b = a + synth_rand_range(rnd, 1, 1ULL << 34);
		uint64_t best = 0, best_pa = 0;
		int found = 0;
		enum kaslr_status st;

		/* Ranges 2 MiB or 4 KiB leaves may overlap: later maps override earlier; skip overlaps. */
		for (i = 0; i < n; i++) {
			uint64_t lo = vas[i] > a ? vas[i] : a, end = vas[i] + sz[i];
			int j, shadowed = 0;

			if (end <= a || vas[i] >= b)
				continue;
			for (j = 0; j < n; j++)
				if (j != i && vas[j] / SYNTH_2M == vas[i] / SYNTH_2M)
					shadowed = 1;
			if (shadowed)
				goto skip;
			if (!found || lo < best) {
				best = lo;
				best_pa = pas[i] + (lo - vas[i]);
				found = 1;
			}
		}
		st = kaslr_first_mapping(&f.ctx, &pg, a, b, &va, &pa, &size);
		if (!found)
			FAIL_IF(st != KASLR_NOTFOUND, "[" X64 ", " X64 "): %s, want notfound", a, b,
				kaslr_status_name(st));
		else
			FAIL_IF(st != KASLR_OK || va != best || pa != best_pa,
				"[" X64 ", " X64 "): %s " X64 " -> " X64 ", want " X64 " -> " X64, a, b,
				kaslr_status_name(st), va, pa, best, best_pa);
skip:
		;
	}
out:
	fx_free(&f);
	return ret;
}

static int t_paging_off(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	f.regs.cr0 &= ~CR0_PG;
	FAIL_IF(kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg) != KASLR_NODATA, "CR0.PG clear accepted");
	FAIL_IF(kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c) != KASLR_NODATA, "method 1 ran");
	f.regs.valid &= ~KASLR_REG_CR0;		/* CR0 unknown: assume paging */
	FAIL_IF(kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg) != KASLR_OK, "%s", f.ctx.err);
	f.regs.cr3 = 0;
	FAIL_IF(kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg) != KASLR_NODATA, "CR3 0 accepted");
	FAIL_IF(!strstr(f.ctx.err, "no CR3"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

static int t_reserved_ps(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_paging pg;
	struct fx f;
	uint64_t pa;
	int ret = 0;
	enum kaslr_status st;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_write_u64(&f.s, f.root + 511 * 8, synth_read_u64(&f.s, f.root + 511 * 8) | 0x80);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	st = kaslr_vtop(&f.ctx, &pg, f.k.vml.text + f.k.offset, &pa, NULL);
	FAIL_IF(st != KASLR_CORRUPT, "PS in a PGD entry: %s", kaslr_status_name(st));
out:
	fx_free(&f);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_paging");

	unit_run("pt-4l-2m", t_4l_2m, &rnd);
	unit_run("pt-5l-2m", t_5l_2m, &rnd);
	unit_run("pt-5l-1g", t_5l_1g, &rnd);
	unit_run("pt-4k-text", t_4k_text, &rnd);
	unit_run("pt-pti-user-half", t_pti_user_half, &rnd);
	unit_run("pt-odd-pgd-no-pti", t_odd_pgd, &rnd);
	unit_run("pt-pcid", t_pcid, &rnd);
	unit_run("pt-sme", t_sme, &rnd);
	unit_run("pt-cycle", t_cycle, &rnd);
	unit_run("pt-garbage", t_garbage, &rnd);
	unit_run("pt-table-outside-dump", t_table_outside_dump, &rnd);
	unit_run("pt-noncanonical", t_noncanonical, &rnd);
	unit_run("pt-first-mapping-ranges", t_first_mapping, &rnd);
	unit_run("pt-paging-off", t_paging_off, &rnd);
	unit_run("pt-reserved-ps", t_reserved_ps, &rnd);
	TAP_EXIT();
}
