/*
 * test_methods.c - Method 2 (IDT) and kaslr_verify
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "unit.h"

#define ALL4 (KASLR_V_BANNER | KASLR_V_ALIGNED | KASLR_V_WINDOW | KASLR_V_PAGETABLE | KASLR_V_RELOC)

/* IDTR at the cpu_entry_area alias, handler = divide_error + offset. */
static int t_idt_alias(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, synth_rand(rnd) & 1 ? 5 : 4, 1, synth_rand(rnd) & 1 ? SYNTH_4K : SYNTH_2M);
	f.regs.cr3 |= synth_rand_range(rnd, 0, 4096);
	kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
	FAIL_IF(c.method != KASLR_M_IDT || c.checks != ALL4, "method %d checks 0x%x", c.method, c.checks);
	FAIL_IF(!strstr(c.note, "gate 0"), "note '%s'", c.note);
out:
	fx_free(&f);
	return ret;
}

/* Only the IDT alias and the banner's page are mapped: phys_base from the IDT page. */
static int t_idt_phys_from_idt_page(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	uint64_t bva;
	int ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.12.9-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	f.root = synth_pt_new(&f.s, 1);
	bva = f.k.vml.linux_banner + f.k.offset;
	synth_map(&f.s, f.root, 4, bva & ~0xfffULL, synth_kpa(&f.k, f.k.vml.linux_banner) & ~0xfffULL, SYNTH_4K);
	synth_idt_map(&f.s, &f.k, f.root);
	synth_idt_gate(&f.s, &f.k, f.k.vml.divide_error + f.k.offset, 0x8f);
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, f.root, 4);
	kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
	FAIL_IF(!strstr(c.note, "idt_table"), "note '%s'", c.note);
out:
	fx_free(&f);
	return ret;
}

static int t_idt_bad_gate(uint64_t *rnd, char *why, size_t whylen)
{
	static const uint8_t bad[] = { 0x0e, 0x00, 0x8c, 0x85, 0x89 };	/* not present, call/task/TSS gates */
	struct kaslr_candidate c;
	struct fx f;
	enum kaslr_status st;
	uint8_t t = bad[synth_rand(rnd) % sizeof(bad)];
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_idt_gate(&f.s, &f.k, f.k.vml.divide_error + f.k.offset, t);
	st = kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st != KASLR_CORRUPT, "type_attr 0x%02x: %s", t, kaslr_status_name(st));
	FAIL_IF(!strstr(f.ctx.err, "interrupt/trap gate"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

static int t_idt_empty(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	f.regs.idtr_limit = 0;
	st = kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st != KASLR_NODATA || c.status != KASLR_NODATA, "limit 0: %s", kaslr_status_name(st));
	f.regs.idtr_limit = 0xfff;
	f.regs.idtr_base = 0;
	FAIL_IF(kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c) != KASLR_NODATA, "base 0 accepted");
	f.regs.idtr_base = SYNTH_IDT_ALIAS;
	f.k.vml.divide_error = 0;
	FAIL_IF(kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c) != KASLR_NODATA, "no divide_error accepted");
	FAIL_IF(!strstr(f.ctx.err, "divide_error"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/* A gate pointing elsewhere (early IDT, other handler): found but not verified. */
static int t_idt_wrong_handler(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	enum kaslr_status st;
	uint64_t h;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	h = f.k.vml.divide_error + f.k.offset + synth_rand_range(rnd, 1, 64) * 0x40;
	synth_idt_gate(&f.s, &f.k, h, 0x8e);
	st = kaslr_from_idt(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(st != KASLR_NOTFOUND || c.status != KASLR_NOTFOUND, "status %s", kaslr_status_name(st));
	FAIL_IF(c.kernel_offset != h - f.k.vml.divide_error, "candidate offset " X64, c.kernel_offset);
	FAIL_IF(!strstr(f.ctx.err, "handler") || !strstr(f.ctx.err, "not 2 MiB aligned"), "message '%s'",
		f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

static int t_verify_ok(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) != KASLR_OK, "%s", f.ctx.err);
	FAIL_IF(c.checks != (ALL4 & ~KASLR_V_PAGETABLE), "checks 0x%x", c.checks);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, &pg, &c) != KASLR_OK || c.checks != ALL4, "with pg: %s",
		f.ctx.err);
	/* KASLR_V_VMCOREINFO is the caller's: kept. */
	c.checks |= KASLR_V_VMCOREINFO;
	kaslr_verify(&f.ctx, &f.k.vml, &pg, &c);
	FAIL_IF(!(c.checks & KASLR_V_VMCOREINFO), "vmcoreinfo bit dropped");
	FAIL_IF(f.s.cross_page_reads, "cross-page reads");
out:
	fx_free(&f);
	return ret;
}

/* The dump holds another kernel's banner (same prefix, other version). */
static int t_verify_wrong_vmlinux(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct synth_kernel other;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_vmlinux(&other, synth_rand(rnd) & 1 ? "6.12.9-cloud-amd64" : "6.1.0-27-cloud-amd64");
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &other.vml, NULL, &c) != KASLR_NOTFOUND, "wrong vmlinux verified");
	FAIL_IF(c.checks & KASLR_V_BANNER, "banner check passed");
	FAIL_IF(!strstr(f.ctx.err, "this vmlinux does not match this dump") ||
		!strstr(f.ctx.err, "Linux version 6.1.0-26"), "message '%s'", f.ctx.err);
	/* Method 1 gives the same verdict. */
	FAIL_IF(kaslr_from_pagetables(&f.ctx, &other.vml, &f.regs, &c) == KASLR_OK, "method 1 verified");
	FAIL_IF(!strstr(f.ctx.err, "does not match"), "method 1 message '%s'", f.ctx.err);
	/* Same version, different build date deep in the banner. */
	synth_vmlinux(&other, f.k.vml.osrelease);
	memcpy(strstr(other.banner, "2024-09-30"), "2024-10-01", 10);
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &other.vml, NULL, &c) == KASLR_OK, "other build verified");
	FAIL_IF(!strstr(f.ctx.err, "2024-09-30") || !strstr(f.ctx.err, "2024-10-01"), "message '%s'",
		f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/* A kernel physically below its link-time address. */
static int t_verify_negative_phys_base(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	uint64_t off, text_pa;
	int ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	off = synth_rand_range(rnd, 200, 480) * SYNTH_2M;
	text_pa = synth_rand_range(rnd, 8, 90) * SYNTH_2M;
	f.k.page_offset = 0xffff888000000000ULL;
	synth_kernel_place_at(&f.s, &f.k, off, text_pa);
	f.root = synth_pt_new(&f.s, 1);
	synth_kernel_map(&f.s, &f.k, f.root, SYNTH_2M);
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, f.root, 4);
	FAIL_IF(f.k.phys_base >= 0, "fixture: phys_base %" PRId64, f.k.phys_base);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
out:
	fx_free(&f);
	return ret;
}

static int t_verify_unaligned_window(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset + synth_rand_range(rnd, 1, 512) * 0x1000;
	c.phys_base = f.k.phys_base - (int64_t)(c.kernel_offset - f.k.offset);	/* banner still found */
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "unaligned verified");
	FAIL_IF((c.checks & KASLR_V_ALIGNED) || !(c.checks & KASLR_V_BANNER), "checks 0x%x", c.checks);
	FAIL_IF(!strstr(f.ctx.err, "2 MiB"), "message '%s'", f.ctx.err);
	c.kernel_offset = KERNEL_IMAGE_SIZE + synth_rand_range(rnd, 0, 64) * SYNTH_2M;
	c.phys_base = f.k.phys_base - (int64_t)(c.kernel_offset - f.k.offset);
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "outside window verified");
	FAIL_IF(c.checks & KASLR_V_WINDOW, "checks 0x%x", c.checks);
	FAIL_IF(!strstr(f.ctx.err, "window"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/*
 * phys_base says one place, the page tables another (a stale banner copy at
 * the first).  The banner alone would take it; the page tables refuse it,
 * and so do the relocated pointers, which are not where phys_base says.
 */
static int t_verify_pagetable_mismatch(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	int64_t shift = (int64_t)synth_rand_range(rnd, 1, 8) * (int64_t)SYNTH_2M;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_write(&f.s, synth_kpa(&f.k, f.k.vml.linux_banner) + (uint64_t)shift, f.k.banner,
		    f.k.vml.banner_len);
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base + shift;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "banner copy verified");
	FAIL_IF(!(c.checks & KASLR_V_BANNER), "checks 0x%x", c.checks);
	FAIL_IF(!strstr(f.ctx.err, "relocated pointer"), "message '%s'", f.ctx.err);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, &pg, &c) == KASLR_OK, "page-table mismatch verified");
	FAIL_IF(c.checks != (KASLR_V_BANNER | KASLR_V_ALIGNED | KASLR_V_WINDOW), "checks 0x%x", c.checks);
	FAIL_IF(!strstr(f.ctx.err, "page tables map"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/*
 * The split: (offset + d, phys_base - d) reads the same banner.  The
 * relocated pointers say the offset is wrong by d; without any probe and
 * without page tables nothing proves the split and the pair is refused;
 * the kernel's own vmcoreinfo (the caller's bit) or page tables prove it.
 */
static int t_verify_shifted_pair(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct kaslr_paging pg;
	struct fx f;
	uint64_t d = synth_rand_range(rnd, 1, 16) * SYNTH_2M;
	char want[128];
	int ret = 0, neg = synth_rand(rnd) & 1;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	if (neg && f.k.offset < d)
		neg = 0;
	memset(&c, 0, sizeof(c));
	c.kernel_offset = neg ? f.k.offset - d : f.k.offset + d;
	c.phys_base = neg ? f.k.phys_base + (int64_t)d : f.k.phys_base - (int64_t)d;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "shifted pair verified");
	FAIL_IF(!(c.checks & KASLR_V_BANNER) || (c.checks & KASLR_V_RELOC), "checks 0x%x", c.checks);
	snprintf(want, sizeof(want), "wrong by %s0x%" PRIx64 ", the pointers say 0x%" PRIx64, neg ? "" : "-", d,
		 f.k.offset);
	FAIL_IF(!strstr(f.ctx.err, want), "message '%s' lacks '%s'", f.ctx.err, want);
	/* One stray probe word (not a pointer after all) does not sway the right answer. */
	synth_write_u64(&f.s, synth_kpa(&f.k, f.k.vml.reloc[synth_rand_range(rnd, 0, SYNTH_RELOC)].vaddr), 0);
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) != KASLR_OK || !(c.checks & KASLR_V_RELOC),
		"right pair with one stray probe: %s", f.ctx.err);
	/* No probes and no IDT: the banner cannot tell the pairs apart, so neither is taken. */
	f.k.vml.nr_reloc = 0;
	f.k.vml.idt_table = 0;
	c.kernel_offset = neg ? f.k.offset - d : f.k.offset + d;
	c.phys_base = neg ? f.k.phys_base + (int64_t)d : f.k.phys_base - (int64_t)d;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "unprovable split verified");
	FAIL_IF(!strstr(f.ctx.err, "nothing proves the offset"), "message '%s'", f.ctx.err);
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "right pair without proof verified");
	/* Page tables prove the right pair and refuse the shifted one. */
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, &pg, &c) != KASLR_OK, "with page tables: %s", f.ctx.err);
	c.kernel_offset = neg ? f.k.offset - d : f.k.offset + d;
	c.phys_base = neg ? f.k.phys_base + (int64_t)d : f.k.phys_base - (int64_t)d;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, &pg, &c) == KASLR_OK, "shifted pair verified by page tables");
	/* The kernel's own vmcoreinfo (the caller checked it) proves the right pair. */
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	c.checks = KASLR_V_VMCOREINFO;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) != KASLR_OK, "with vmcoreinfo: %s", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/* Only idt_table's gate 0 is there to prove the offset: enough, and it refuses a shift. */
static int t_verify_idt_table_probe(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	uint64_t d = synth_rand_range(rnd, 1, 16) * SYNTH_2M;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	f.k.vml.nr_reloc = 0;
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) != KASLR_OK || !(c.checks & KASLR_V_RELOC),
		"gate 0 alone: %s", f.ctx.err);
	c.kernel_offset = f.k.offset + d;
	c.phys_base = f.k.phys_base - (int64_t)d;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "shifted pair verified by gate 0");
	/* An IDT not set up yet (early boot) is no evidence either way. */
	synth_write(&f.s, synth_kpa(&f.k, f.k.vml.idt_table), "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "empty IDT verified a shift");
	FAIL_IF(!strstr(f.ctx.err, "nothing proves the offset"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/* linux_banner straddling a page boundary: two reads, none crossing. */
static int t_verify_banner_across_pages(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	int ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	f.k.vml.linux_banner = 0xffffffff82001000ULL - synth_rand_range(rnd, 1, f.k.vml.banner_len);
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	f.root = synth_pt_new(&f.s, 1);
	synth_kernel_map(&f.s, &f.k, f.root, SYNTH_4K);
	synth_ctx(&f.s, &f.ctx);
	synth_regs(&f.regs, 0, f.root, 4);
	kaslr_from_pagetables(&f.ctx, &f.k.vml, &f.regs, &c);
	FAIL_IF(!fx_cand_ok(&f, &c, why, whylen), "%s", why);
out:
	fx_free(&f);
	return ret;
}

static int t_verify_outside_dump(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c;
	struct fx f;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	memset(&c, 0, sizeof(c));
	c.kernel_offset = f.k.offset;
	c.phys_base = (int64_t)(synth_rand_range(rnd, 1, 1024) << 30);
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "verified");
	FAIL_IF(!strstr(f.ctx.err, "not in the dump"), "message '%s'", f.ctx.err);
	f.k.vml.banner_len = 0;
	c.phys_base = f.k.phys_base;
	FAIL_IF(kaslr_verify(&f.ctx, &f.k.vml, NULL, &c) == KASLR_OK, "verified without a banner");
	FAIL_IF(!strstr(f.ctx.err, "no linux_banner"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

static int t_names(uint64_t *rnd, char *why, size_t whylen)
{
	int m, ret = 0;

	(void)rnd;
	for (m = 0; m < KASLR_M_COUNT; m++)
		FAIL_IF(kaslr_method_from_name(kaslr_method_name(m)) != m, "method %d (%s)", m,
			kaslr_method_name(m));
	FAIL_IF(kaslr_method_from_name("nonsense") != -1, "nonsense accepted");
	FAIL_IF(strcmp(kaslr_status_name(KASLR_AMBIGUOUS), "ambiguous"), "status name");
out:
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_methods");

	unit_run("idt-alias", t_idt_alias, &rnd);
	unit_run("idt-phys-from-idt-page", t_idt_phys_from_idt_page, &rnd);
	unit_run("idt-bad-gate", t_idt_bad_gate, &rnd);
	unit_run("idt-empty-idtr", t_idt_empty, &rnd);
	unit_run("idt-wrong-handler", t_idt_wrong_handler, &rnd);
	unit_run("verify-ok", t_verify_ok, &rnd);
	unit_run("verify-wrong-vmlinux", t_verify_wrong_vmlinux, &rnd);
	unit_run("verify-negative-phys-base", t_verify_negative_phys_base, &rnd);
	unit_run("verify-unaligned-window", t_verify_unaligned_window, &rnd);
	unit_run("verify-pagetable-mismatch", t_verify_pagetable_mismatch, &rnd);
	unit_run("verify-shifted-pair", t_verify_shifted_pair, &rnd);
	unit_run("verify-idt-table-probe", t_verify_idt_table_probe, &rnd);
	unit_run("verify-banner-across-pages", t_verify_banner_across_pages, &rnd);
	unit_run("verify-outside-dump", t_verify_outside_dump, &rnd);
	unit_run("method-names", t_names, &rnd);
	TAP_EXIT();
}
