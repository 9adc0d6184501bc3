/*
 * test_arm64.c - the arm64 core on synthetic kernels: every translation
 * regime Kconfig allows (4/16/64 KiB granules, 36-52 VA bits, LPA/LPA2),
 * the image route, the wrong split, aliases, stale copies and loops
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A case builds an arm64 kernel as the kernel itself lays it out: the
 * image at a random 64 KiB-aligned physical address, its virtual address
 * at a random KERNELOFFSET (a multiple of 64 KiB) above the link address
 * that the VA size gives, swapper_pg_dir inside the image mapping the
 * image with pages and RAM with the linear map, relocated pointers (the
 * .rela.dyn probes) and kimage_voffset/memstart_addr/vabits_actual written
 * where the kernel keeps them.  The expected answer is what was built.
 */
#include <elf.h>
#include <inttypes.h>

#include "unit.h"

#define RAM_SIZE	(256ULL << 20)
#define IMG_SIZE	(36ULL << 20)
/* Offsets into the image (link-time distances from _text). */
#define OFF_BANNER	0x00a101c0ULL	/* not page aligned: the scan must use the in-page offset */
#define OFF_PROBES	0x00800000ULL
#define OFF_VARS	0x01a00000ULL
#define OFF_SWAPPER	0x01f00000ULL	/* 64 KiB aligned: a table of any granule */
#define NR_PROBES	8

struct a64 {
	struct synth s;
	struct kaslr_vmlinux vml;
	struct kaslr_ctx ctx;
	char banner[128];
	struct kaslr_arm64_geometry g;
	int levels;
	uint64_t ram_base;		/* above 2^50 with 52-bit physical addresses: OA[51:48] is used */
	uint64_t text, offset, text_pa, kimage_voffset, root, next_table;
	int64_t memstart;
	int vabits_actual;
};

static int shift_of(const struct a64 *a, int lvl)
{
	return a->g.page_shift + (a->g.page_shift - 3) * (a->levels - 1 - lvl);
}

static uint64_t width_of(const struct a64 *a, int lvl)
{
	return 1ULL << (lvl ? a->g.page_shift - 3 : a->g.va_bits - shift_of(a, 0));
}

/* A descriptor's output-address bits for @pa in this regime. */
static uint64_t oa_bits(const struct a64 *a, uint64_t pa)
{
	if (a->g.lpa2)
		return (pa & ((1ULL << 50) - 1)) | ((pa >> 50) & 3) << 8;
	if (a->g.page_shift == 16)
		return (pa & ((1ULL << 48) - 1)) | ((pa >> 48) & 0xf) << 12;
	return pa;
}

static uint64_t table_alloc(struct a64 *a)
{
	uint64_t size = 1ULL << a->g.page_shift, pa = (a->next_table + size - 1) & ~(size - 1);

	a->next_table = pa + size;
	return pa;
}

/* Map @va to @pa with a leaf at level @leaf_lvl (the last level: a page; above: a block). */
static void a64_map(struct a64 *a, uint64_t va, uint64_t pa, int leaf_lvl)
{
	uint64_t table = a->root, e, ep;
	int lvl;

	for (lvl = 0; lvl < leaf_lvl; lvl++) {
		ep = table + ((va >> shift_of(a, lvl)) & (width_of(a, lvl) - 1)) * 8;
		e = synth_read_u64(&a->s, ep);
		if (!(e & 1)) {
			uint64_t t = table_alloc(a);

			e = oa_bits(a, t) | 3;
			synth_write_u64(&a->s, ep, e);
		}
		table = a->g.lpa2 ? ((e & ((1ULL << 50) - 1)) & ~0xfffULL) | ((e >> 8) & 3) << 50
				  : (e & ((1ULL << 48) - 1) & ~((1ULL << a->g.page_shift) - 1)) |
				    (a->g.page_shift == 16 ? ((e >> 12) & 0xf) << 48 : 0);
	}
	ep = table + ((va >> shift_of(a, leaf_lvl)) & (width_of(a, leaf_lvl) - 1)) * 8;
	/* AF, and (without LPA2) inner shareable: bits 9:8 that LPA2 reads as OA[51:50]. */
	e = oa_bits(a, pa) | 1ULL << 10 | (a->g.lpa2 ? 0 : 3ULL << 8) | (leaf_lvl == a->levels - 1 ? 3 : 1);
	synth_write_u64(&a->s, ep, e);
}

/* Map [va, va + len) with pages. */
static void a64_map_pages(struct a64 *a, uint64_t va, uint64_t pa, uint64_t len)
{
	uint64_t p, size = 1ULL << a->g.page_shift;

	for (p = 0; p < len; p += size)
		a64_map(a, va + p, pa + p, a->levels - 1);
}

/* Build a kernel in regime @g; @vabits_actual below g->va_bits for a 52-bit kernel on 48-bit CPUs. */
static void a64_build(struct a64 *a, uint64_t *rnd, const struct kaslr_arm64_geometry *g)
{
	int va_min = g->va_bits > 48 ? 48 : g->va_bits, i;
	uint64_t gran = 1ULL << g->page_shift, kimage_vaddr, range, linear;
	struct kaslr_paging pg;

	memset(a, 0, sizeof(*a));
	synth_init(&a->s);
	a->ram_base = g->va_bits == 52 ? 0x000c000040000000ULL : 0x40000000ULL;
	synth_add_range(&a->s, a->ram_base, a->ram_base + RAM_SIZE);
	a->g = *g;
	kaslr_arm64_paging_init(&pg, 0, g);
	a->levels = pg.levels;
	/* KIMAGE_VADDR = MODULES_END = _PAGE_END(VA_BITS_MIN) + MODULES_VSIZE (5.4+). */
	kimage_vaddr = (~0ULL << (va_min - 1)) + (128ULL << 20);
	a->text = kimage_vaddr;
	/* KASLR adds up to a quarter of the VA space above the link address, 64 KiB granular. */
	range = 1ULL << (va_min - 3);
	a->offset = synth_rand_range(rnd, 1, range / 0x10000) * 0x10000;
	a->text_pa = a->ram_base + synth_rand_range(rnd, 0, (RAM_SIZE / 2 - IMG_SIZE) / 0x10000) * 0x10000;
	a->kimage_voffset = a->text + a->offset - a->text_pa;
	a->root = a->text_pa + OFF_SWAPPER;
	a->next_table = a->ram_base + RAM_SIZE - (32ULL << 20);
	a->memstart = (int64_t)(a->ram_base - synth_rand_range(rnd, 0, 4) * (1ULL << 30));
	a->vabits_actual = va_min;

	snprintf(a->banner, sizeof(a->banner), "Linux version 6.1.0-50-cloud-arm64 (synthetic %" PRIu64 ") #1 SMP\n",
		 synth_rand(rnd) % 100000);
	a->vml.machine = EM_AARCH64;
	a->vml.text = a->text;
	a->vml.stext = a->text + 0x10000;
	a->vml.linux_banner = a->text + OFF_BANNER;
	a->vml.banner = a->banner;
	a->vml.banner_len = strlen(a->banner);
	snprintf(a->vml.osrelease, sizeof(a->vml.osrelease), "6.1.0-50-cloud-arm64");
	a->vml.swapper_pg_dir = a->text + OFF_SWAPPER;
	a->vml.memstart_addr = a->text + OFF_VARS;
	a->vml.vabits_actual = a->text + OFF_VARS + 8;
	a->vml.kimage_voffset = a->text + OFF_VARS + 16;
	a->vml.end = a->text + IMG_SIZE;
	for (i = 0; i < NR_PROBES; i++) {
		a->vml.reloc[i].vaddr = a->text + OFF_PROBES + 8 * (uint64_t)i;
		a->vml.reloc[i].value = a->text + 0x10000 * (uint64_t)(i + 1);
		synth_write_u64(&a->s, a->text_pa + OFF_PROBES + 8 * (uint64_t)i, a->vml.reloc[i].value + a->offset);
	}
	a->vml.nr_reloc = NR_PROBES;

	synth_write(&a->s, a->text_pa + OFF_BANNER, a->banner, a->vml.banner_len);
	synth_write_u64(&a->s, a->text_pa + OFF_VARS, (uint64_t)a->memstart);
	synth_write_u64(&a->s, a->text_pa + OFF_VARS + 8, (uint64_t)a->vabits_actual);
	synth_write_u64(&a->s, a->text_pa + OFF_VARS + 16, a->kimage_voffset);

	/* The image from _stext with pages (map_kernel leaves the header unmapped), 32 MiB of RAM linear. */
	a64_map_pages(a, a->text + 0x10000 + a->offset, a->text_pa + 0x10000, IMG_SIZE - 0x10000);
	linear = ~0ULL << g->va_bits;
	a64_map_pages(a, linear, a->ram_base, 32ULL << 20 < gran * 64 ? gran * 64 : 32ULL << 20);
	(void)gran;
	synth_ctx(&a->s, &a->ctx);
}

static void a64_free(struct a64 *a)
{
	synth_free(&a->s);
}

/* The image route on regime @g: exact values, tables, and the values crash needs. */
static int route_case(uint64_t *rnd, char *why, size_t whylen, const struct kaslr_arm64_geometry *g)
{
	struct kaslr_candidate c[8];
	struct kaslr_arm64_values v;
	struct a64 a;
	int n = 0, ret = 0, i, found = -1;
	enum kaslr_status st;

	a64_build(&a, rnd, g);
	st = kaslr_arm64_image_scan(&a.ctx, &a.vml, c, 8, &n, 1);
	FAIL_IF(st != KASLR_OK, "%d/%d-bit: image scan: %s: %s", 1 << (g->page_shift - 10), g->va_bits,
		kaslr_status_name(st), a.ctx.err);
	for (i = 0; i < n && i < 8; i++)
		if (c[i].status == KASLR_OK)
			found = i;
	FAIL_IF(found < 0, "no verified candidate");
	FAIL_IF(c[found].kernel_offset != a.offset || (uint64_t)c[found].phys_base != a.kimage_voffset,
		"offset " X64 " kimage_voffset " X64 ", want " X64 " " X64, c[found].kernel_offset,
		(uint64_t)c[found].phys_base, a.offset, a.kimage_voffset);
	FAIL_IF(!(c[found].checks & KASLR_V_PAGETABLE) || !(c[found].checks & KASLR_V_RELOC),
		"checks 0x%x", c[found].checks);
	FAIL_IF(c[found].pg.page_shift != g->page_shift || c[found].pg.va_bits != g->va_bits,
		"regime %d/%d, want %d/%d", c[found].pg.page_shift, c[found].pg.va_bits, g->page_shift, g->va_bits);
	st = kaslr_arm64_values(&a.ctx, &a.vml, &c[found], &v);
	FAIL_IF(st != KASLR_OK, "values: %s", a.ctx.err);
	FAIL_IF(v.phys_offset != a.memstart || v.va_bits != g->va_bits || v.vabits_actual != a.vabits_actual ||
		v.page_shift != g->page_shift || v.text_paddr != a.text_pa,
		"values: PHYS_OFFSET " X64 " VA_BITS %d/%d page_shift %d text " X64, (uint64_t)v.phys_offset,
		v.va_bits, v.vabits_actual, v.page_shift, v.text_paddr);
	/* Values without the tables (a vmcoreinfo copy's): the regime is found again. */
	c[found].pg.levels = 0;
	c[found].pg.page_shift = 0;
	st = kaslr_arm64_values(&a.ctx, &a.vml, &c[found], &v);
	FAIL_IF(st != KASLR_OK || v.va_bits != g->va_bits || v.page_shift != g->page_shift,
		"values without tables: %s", a.ctx.err);
out:
	a64_free(&a);
	return ret;
}

#define REGIME(name, ps, bits, lpa2)                                               \
	static int name(uint64_t *rnd, char *why, size_t whylen)                  \
	{                                                                         \
		static const struct kaslr_arm64_geometry g = { ps, bits, lpa2 };  \
		return route_case(rnd, why, whylen, &g);                          \
	}
REGIME(t_4k_48, 12, 48, 0)
REGIME(t_4k_39, 12, 39, 0)
REGIME(t_4k_52, 12, 52, 1)
REGIME(t_16k_36, 14, 36, 0)
REGIME(t_16k_47, 14, 47, 0)
REGIME(t_16k_48, 14, 48, 0)
REGIME(t_16k_52, 14, 52, 1)
REGIME(t_64k_42, 16, 42, 0)
REGIME(t_64k_48, 16, 48, 0)
REGIME(t_64k_52, 16, 52, 0)

/*
 * The whole search (kaslr_find, no registers, no vmcoreinfo in RAM) with an
 * alias of _text above the image (a fixmap-like mapping) and a stale copy
 * of the image (an EFI stub's first load) lower in RAM: the running image
 * and its own mapping win, on the evidence.
 */
static int t_find_alias_stale(uint64_t *rnd, char *why, size_t whylen)
{
	static const struct kaslr_arm64_geometry g = { 12, 48, 0 };
	struct kaslr_report *rep = calloc(1, sizeof(*rep));
	const struct kaslr_candidate *b;
	struct a64 a;
	uint64_t stale_pa, alias;
	int ret = 0;
	enum kaslr_status st;

	if (!rep)
		return -1;
	a64_build(&a, rnd, &g);
	/* A stale copy: banner and probes, unrelocated, no tables. */
	stale_pa = a.text_pa >= a.ram_base + IMG_SIZE + 0x100000 ? a.ram_base : a.text_pa + IMG_SIZE + 0x100000;
	synth_write(&a.s, stale_pa + OFF_BANNER, a.banner, a.vml.banner_len);
	/* An alias of the banner's page, high in the kernel half (a fixmap slot). */
	alias = ~0ULL - (8ULL << 20) + 1;
	a64_map(&a, alias, (a.text_pa + OFF_BANNER) & ~0xfffULL, a.levels - 1);
	st = kaslr_find(&a.ctx, &a.vml, NULL, 0, KASLR_METHODS_ALL, rep);
	FAIL_IF(st != KASLR_OK, "kaslr_find: %s: %s", kaslr_status_name(st), a.ctx.err);
	b = &rep->cand[rep->best];
	FAIL_IF(b->kernel_offset != a.offset || (uint64_t)b->phys_base != a.kimage_voffset,
		"best offset " X64 " kimage_voffset " X64 " (%s), want " X64 " " X64, b->kernel_offset,
		(uint64_t)b->phys_base, kaslr_method_name(b->method), a.offset, a.kimage_voffset);
out:
	free(rep);
	a64_free(&a);
	return ret;
}

/* The same sum split otherwise (offset + 64 KiB, kimage_voffset + 64 KiB) reads the same banner: refused. */
static int t_wrong_split(uint64_t *rnd, char *why, size_t whylen)
{
	static const struct kaslr_arm64_geometry g = { 12, 48, 0 };
	struct kaslr_candidate c;
	struct a64 a;
	int ret = 0;

	a64_build(&a, rnd, &g);
	memset(&c, 0, sizeof(c));
	c.method = KASLR_M_MANUAL;
	c.cpu = -1;
	c.kernel_offset = a.offset + 0x10000;
	c.phys_base = (int64_t)(a.kimage_voffset + 0x10000);
	FAIL_IF(kaslr_verify(&a.ctx, &a.vml, NULL, &c) == KASLR_OK, "a wrong split verified");
	FAIL_IF(!(c.checks & KASLR_V_BANNER), "the banner should still read right (checks 0x%x)", c.checks);
	FAIL_IF(!strstr(c.why, "wrong by -0x10000"), "why: %s", c.why);
	/* The right values verify by hand too. */
	c.kernel_offset = a.offset;
	c.phys_base = (int64_t)a.kimage_voffset;
	FAIL_IF(kaslr_verify(&a.ctx, &a.vml, NULL, &c) != KASLR_OK, "right values refused: %s", c.why);
out:
	a64_free(&a);
	return ret;
}

/* A table entry pointing back at swapper_pg_dir: the walk ends, with a clear error. */
static int t_loop(uint64_t *rnd, char *why, size_t whylen)
{
	static const struct kaslr_arm64_geometry g = { 12, 48, 0 };
	struct kaslr_candidate c[8];
	struct a64 a;
	uint64_t ep;
	int n = 0, ret = 0, i;
	enum kaslr_status st;

	a64_build(&a, rnd, &g);
	/* Every top-level entry of the kernel half above the image, and the image's own, into the root. */
	for (i = 256; i < 512; i++) {
		ep = a.root + 8 * (uint64_t)i;
		synth_write_u64(&a.s, ep, a.root | 3);
	}
	st = kaslr_arm64_image_scan(&a.ctx, &a.vml, c, 8, &n, 1);
	FAIL_IF(st == KASLR_OK, "verified through a looping table");
	FAIL_IF(!*a.ctx.err, "no error");
out:
	a64_free(&a);
	return ret;
}

/* The wrong vmlinux (another banner): one line saying so. */
static int t_wrong_vmlinux(uint64_t *rnd, char *why, size_t whylen)
{
	static const struct kaslr_arm64_geometry g = { 12, 48, 0 };
	struct kaslr_candidate c[8];
	struct a64 a;
	int n = 0, ret = 0;
	enum kaslr_status st;

	a64_build(&a, rnd, &g);
	a.banner[20] ^= 1;
	st = kaslr_arm64_image_scan(&a.ctx, &a.vml, c, 8, &n, 1);
	FAIL_IF(st != KASLR_NOTFOUND || !strstr(a.ctx.err, "not the dump's kernel"), "%s: %s",
		kaslr_status_name(st), a.ctx.err);
out:
	a64_free(&a);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_arm64");

	unit_run("arm64-4k-48", t_4k_48, &rnd);
	unit_run("arm64-4k-39", t_4k_39, &rnd);
	unit_run("arm64-4k-52-lpa2", t_4k_52, &rnd);
	unit_run("arm64-16k-36", t_16k_36, &rnd);
	unit_run("arm64-16k-47", t_16k_47, &rnd);
	unit_run("arm64-16k-48", t_16k_48, &rnd);
	unit_run("arm64-16k-52-lpa2", t_16k_52, &rnd);
	unit_run("arm64-64k-42", t_64k_42, &rnd);
	unit_run("arm64-64k-48", t_64k_48, &rnd);
	unit_run("arm64-64k-52-lpa", t_64k_52, &rnd);
	unit_run("arm64-find-alias-stale", t_find_alias_stale, &rnd);
	unit_run("arm64-wrong-split", t_wrong_split, &rnd);
	unit_run("arm64-loop", t_loop, &rnd);
	unit_run("arm64-wrong-vmlinux", t_wrong_vmlinux, &rnd);
	TAP_EXIT();
}
