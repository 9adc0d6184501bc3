/*
 * test_vmci.c - Method 3 (in-RAM vmcoreinfo) and Method 5 (scan)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "unit.h"
#include "vmcoreinfo.h"

/* A random page in [1 MiB, 16 MiB): below every kernel placement and table. */
static uint64_t low_page(uint64_t *rnd)
{
	return synth_rand_range(rnd, 0x100, 0x1000) * SYNTH_4K;
}

/* Read through the candidate, with and without page tables. */
static int t_vmci_ram(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_paging pg;
	struct fx f;
	uint64_t page = low_page(rnd), paddr = 0;
	char *text = NULL, *want = NULL;
	int ret = 0, pass;

	fx_build(&f, rnd, synth_rand(rnd) & 1 ? 5 : 4, 1, SYNTH_2M);
	synth_vmci_install(&f.s, &f.k, page);
	want = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	kaslr_paging_from_regs(&f.ctx, &f.regs, 0, &pg);
	for (pass = 0; pass < 2; pass++) {
		enum kaslr_status st = kaslr_vmci_read_ram(&f.ctx, &f.k.vml, pass ? NULL : &pg, f.k.offset,
							   f.k.phys_base, &text, &paddr);

		FAIL_IF(st != KASLR_OK, "pass %d: %s: %s", pass, kaslr_status_name(st), f.ctx.err);
		FAIL_IF(paddr != page, "pass %d: paddr " X64 ", want " X64, pass, paddr, page);
		FAIL_IF(strcmp(text, want), "pass %d: text differs", pass);
		free(text);
		text = NULL;
	}
out:
	free(text);
	free(want);
	fx_free(&f);
	return ret;
}

/* No page_offset_base symbol: the fixed 4-level direct map base. */
static int t_vmci_ram_default_base(uint64_t *rnd, char *why, size_t whylen)
{
	struct fx f;
	uint64_t page = low_page(rnd), paddr;
	char *text = NULL;
	int ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "5.10.0-32-cloud-amd64");
	f.k.vml.page_offset_base = 0;
	f.k.page_offset = 0xffff888000000000ULL;
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	synth_vmci_install(&f.s, &f.k, page);
	synth_ctx(&f.s, &f.ctx);
	FAIL_IF(kaslr_vmci_read_ram(&f.ctx, &f.k.vml, NULL, f.k.offset, f.k.phys_base, &text, &paddr) !=
		KASLR_OK || paddr != page, "%s", f.ctx.err);
out:
	free(text);
	fx_free(&f);
	return ret;
}

/* Before 4.13 vmcoreinfo_data is the text itself, inside the image. */
static int t_vmci_ram_array(uint64_t *rnd, char *why, size_t whylen)
{
	struct fx f;
	uint64_t paddr;
	char *text = NULL, *want;
	int ret = 0;

	fx_build(&f, rnd, 4, 0, SYNTH_2M);
	f.k.vml.vmcoreinfo_data = 0xffffffff82b20000ULL;
	f.k.vml.vmcoreinfo_size = 0xffffffff82b10010ULL;
	f.k.vml.vmcoreinfo_data_is_array = 1;
	want = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	synth_write(&f.s, synth_kpa(&f.k, f.k.vml.vmcoreinfo_data), want, strlen(want) + 1);
	synth_write_u64(&f.s, synth_kpa(&f.k, f.k.vml.vmcoreinfo_size), strlen(want));
	FAIL_IF(kaslr_vmci_read_ram(&f.ctx, &f.k.vml, NULL, f.k.offset, f.k.phys_base, &text, &paddr) !=
		KASLR_OK, "%s", f.ctx.err);
	FAIL_IF(paddr != synth_kpa(&f.k, f.k.vml.vmcoreinfo_data) || strcmp(text, want), "paddr " X64, paddr);
out:
	free(text);
	free(want);
	fx_free(&f);
	return ret;
}

static int t_vmci_ram_bad(uint64_t *rnd, char *why, size_t whylen)
{
	struct fx f;
	uint64_t page = low_page(rnd), paddr, sizes[] = { 0, 4097, 1ULL << 40 };
	char *text = NULL;
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_vmci_install(&f.s, &f.k, page);
	synth_write_u64(&f.s, synth_kpa(&f.k, f.k.vml.vmcoreinfo_size), sizes[synth_rand(rnd) % 3]);
	st = kaslr_vmci_read_ram(&f.ctx, &f.k.vml, NULL, f.k.offset, f.k.phys_base, &text, &paddr);
	FAIL_IF(st != KASLR_CORRUPT || text, "bad size: %s", kaslr_status_name(st));
	synth_vmci_install(&f.s, &f.k, page);
	synth_write_u64(&f.s, synth_kpa(&f.k, f.k.vml.vmcoreinfo_data), 0);
	st = kaslr_vmci_read_ram(&f.ctx, &f.k.vml, NULL, f.k.offset, f.k.phys_base, &text, &paddr);
	FAIL_IF(st != KASLR_NOTFOUND || !strstr(f.ctx.err, "NULL"), "NULL pointer: %s %s",
		kaslr_status_name(st), f.ctx.err);
	/* Pointer to a page that holds something else. */
	synth_write_u64(&f.s, synth_kpa(&f.k, f.k.vml.vmcoreinfo_data), f.k.page_offset + page + SYNTH_4K);
	synth_write(&f.s, page + SYNTH_4K, "garbage\n", 8);
	st = kaslr_vmci_read_ram(&f.ctx, &f.k.vml, NULL, f.k.offset, f.k.phys_base, &text, &paddr);
	FAIL_IF(st == KASLR_OK, "garbage accepted");
	f.k.vml.vmcoreinfo_data = 0;
	st = kaslr_vmci_read_ram(&f.ctx, &f.k.vml, NULL, f.k.offset, f.k.phys_base, &text, &paddr);
	FAIL_IF(st != KASLR_NODATA, "no symbol: %s", kaslr_status_name(st));
out:
	free(text);
	fx_free(&f);
	return ret;
}

/* Scan fixture: a kernel in memory, no registers needed. */
static void scan_fx(struct fx *f, uint64_t *rnd)
{
	fx_build(f, rnd, 4, 1, SYNTH_2M);
}

static int t_scan_zero(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct fx f;
	int n = -1, ret = 0;
	enum kaslr_status st;

	scan_fx(&f, rnd);
	/* Near misses: "OSRELEASE" not at a page start, a note with another name. */
	synth_write(&f.s, low_page(rnd) + 8, "OSRELEASE=6.1.0\n", 16);
	synth_vmci_note_page(&f.s, low_page(rnd), "PAGESIZE=4096\n");
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0);
	FAIL_IF(st != KASLR_NOTFOUND || n != 0, "status %s, %d copies", kaslr_status_name(st), n);
	f.ctx.nr_ranges = 0;
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0);
	FAIL_IF(st != KASLR_NODATA, "no ranges: %s", kaslr_status_name(st));
out:
	fx_free(&f);
	return ret;
}

/* One copy, found from 1 MiB pieces and again page by page (pieces that do not read). */
static int t_scan_one(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct fx f;
	uint64_t page = low_page(rnd);
	int n = 0, ret = 0, refuse;
	enum kaslr_status st;

	scan_fx(&f, rnd);
	synth_vmci_install(&f.s, &f.k, page);
	for (refuse = 0; refuse < 2; refuse++) {
		unsigned long pieces = f.s.piece_reads, reads = f.s.reads;

		f.s.refuse_pieces = refuse;
		memset(copies, 0, sizeof(copies));
		st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0);
		FAIL_IF(st != KASLR_OK || n != 1, "refuse %d: status %s, %d copies (%s)", refuse,
			kaslr_status_name(st), n, f.ctx.err);
		FAIL_IF(copies[0].paddr != page || !copies[0].verified || !copies[0].has_offset ||
			copies[0].kernel_offset != f.k.offset || copies[0].phys_base != f.k.phys_base,
			"refuse %d: copy at " X64 " verified %d offset " X64 " phys_base %" PRId64, refuse,
			copies[0].paddr, copies[0].verified, copies[0].kernel_offset, copies[0].phys_base);
		FAIL_IF(strcmp(copies[0].osrelease, f.k.vml.osrelease) ||
			strcmp(copies[0].build_id, f.k.vml.build_id),
			"refuse %d: osrelease '%s' build-id '%s'", refuse, copies[0].osrelease, copies[0].build_id);
		FAIL_IF(f.s.piece_reads == pieces, "refuse %d: no 1 MiB piece was read", refuse);
		/* Page by page costs a read per page; in pieces far fewer. */
		FAIL_IF(!refuse && f.s.reads - reads > 2 * (f.s.piece_reads - pieces) + 64,
			"%lu reads for %lu pieces", f.s.reads - reads, f.s.piece_reads - pieces);
	}
	FAIL_IF(f.s.cross_page_reads, "cross-page reads");
out:
	fx_free(&f);
	return ret;
}

/* The data page, the note page, another kernel's stale copy, a wrong-build copy. */
static int t_scan_several(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[8];
	struct fx f;
	uint64_t pages[4], stale_off;
	char *text, *stale, *p;
	int i, n = 0, ret = 0;
	enum kaslr_status st;

	scan_fx(&f, rnd);
	/* Four distinct pages in ascending order. */
	for (i = 0; i < 4; i++)
		pages[i] = (0x100 + (uint64_t)i * 0x3c0 + synth_rand_range(rnd, 0, 0x3c0)) * SYNTH_4K;
	synth_vmci_install(&f.s, &f.k, pages[0]);
	text = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	synth_vmci_note_page(&f.s, pages[1], text);
	stale_off = (f.k.offset + 64 * SYNTH_2M) % (512 * SYNTH_2M);
	stale = synth_vmci_text(&f.k, stale_off, f.k.phys_base);
	synth_write(&f.s, pages[2], stale, strlen(stale) + 1);
	p = strstr(text, "BUILD-ID=") + 9;
	*p = *p == 'f' ? 'e' : 'f';
	synth_write(&f.s, pages[3], text, strlen(text) + 1);

	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 8, &n, 0);
	FAIL_IF(st != KASLR_OK || n != 4, "status %s, %d copies", kaslr_status_name(st), n);
	FAIL_IF(copies[0].paddr != pages[0] || copies[1].paddr != pages[1] + 24, "paddrs " X64 " " X64,
		copies[0].paddr, copies[1].paddr);
	FAIL_IF(!copies[0].verified || !copies[1].verified || copies[2].verified || copies[3].verified,
		"verified %d %d %d %d", copies[0].verified, copies[1].verified, copies[2].verified,
		copies[3].verified);
	FAIL_IF(copies[2].kernel_offset != stale_off, "stale offset " X64, copies[2].kernel_offset);
	/* Only room for 2: all counted, 2 stored. */
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 2, &n, 0);
	FAIL_IF(st != KASLR_OK || n != 4, "max 2: %d copies", n);
	/* Stop at the first verified. */
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 8, &n, 1);
	FAIL_IF(st != KASLR_OK || n != 1 || !copies[0].verified, "stop first: %d copies", n);
out:
	free(text);
	free(stale);
	fx_free(&f);
	return ret;
}

/* A copy cut inside its KERNELOFFSET line: the partial line is ignored. */
static int t_scan_truncated(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct fx f;
	uint64_t page = low_page(rnd);
	char *text, *cut;
	int n = 0, ret = 0;

	scan_fx(&f, rnd);
	text = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	/* Fewer digits than the value has (offset 0 is one digit): a line known to be cut. */
	cut = strstr(text, "KERNELOFFSET=") + 13;
	cut += synth_rand_range(rnd, 0, strcspn(cut, "\n") < 3 ? strcspn(cut, "\n") : 3);
	synth_write(&f.s, page, text, (size_t)(cut - text));
	FAIL_IF(kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0) != KASLR_OK || n != 1, "%d copies", n);
	FAIL_IF(copies[0].has_offset || copies[0].verified, "truncated copy has offset " X64,
		copies[0].kernel_offset);
	FAIL_IF(!copies[0].has_phys_base || copies[0].phys_base != f.k.phys_base, "phys_base lost");
out:
	free(text);
	fx_free(&f);
	return ret;
}

/* Copies at the last page of a range, and in a range ending mid-page. */
static int t_scan_last_page(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct fx f;
	uint64_t extra = (512ULL << 20) + synth_rand_range(rnd, 0, 1024) * SYNTH_4K, end;
	char *text;
	int n = 0, ret = 0;

	scan_fx(&f, rnd);
	text = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	end = extra + 3 * SYNTH_4K + strlen(text) + 1 + synth_rand_range(rnd, 0, 64);
	synth_add_range(&f.s, extra, end);
	synth_write(&f.s, extra + 3 * SYNTH_4K, text, strlen(text) + 1);
	/* Last page of the first range too ([0, 640K)). */
	synth_write(&f.s, 0xa0000 - SYNTH_4K, text, strlen(text) + 1);
	synth_ctx(&f.s, &f.ctx);
	FAIL_IF(kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0) != KASLR_OK || n != 2, "%d copies", n);
	FAIL_IF(copies[0].paddr != 0xa0000 - SYNTH_4K || copies[1].paddr != extra + 3 * SYNTH_4K,
		"paddrs " X64 " " X64, copies[0].paddr, copies[1].paddr);
	FAIL_IF(!copies[0].verified || !copies[1].verified, "not verified");
	FAIL_IF(f.s.bad_reads, "%lu reads outside the ranges", f.s.bad_reads);
out:
	free(text);
	fx_free(&f);
	return ret;
}

static uint64_t prog_last, prog_total;
static int prog_calls, prog_backwards;

static void progress(void *priv, uint64_t done, uint64_t total)
{
	(void)priv;
	if (done < prog_last)
		prog_backwards = 1;
	prog_last = done;
	prog_total = total;
	prog_calls++;
}

static int t_scan_progress(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct fx f;
	int n = 0, ret = 0;

	scan_fx(&f, rnd);
	f.ctx.progress = progress;
	prog_last = prog_total = 0;
	prog_calls = prog_backwards = 0;
	kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0);
	FAIL_IF(prog_calls < 3 || prog_backwards, "%d calls, backwards %d", prog_calls, prog_backwards);
	FAIL_IF(prog_last != prog_total || prog_total != 0xa0000 + (256ULL << 20) - 0x100000,
		"last " X64 " total " X64, prog_last, prog_total);
out:
	fx_free(&f);
	return ret;
}

/* Another kernel release's copy: parsed, reported, not verified. */
static int t_scan_wrong_release(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct fx f;
	uint64_t page = low_page(rnd);
	int n = 0, ret = 0;

	scan_fx(&f, rnd);
	synth_vmci_install(&f.s, &f.k, page);
	snprintf(f.k.vml.osrelease, sizeof(f.k.vml.osrelease), "6.12.9-cloud-amd64");
	FAIL_IF(kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0) != KASLR_OK || n != 1, "%d copies", n);
	FAIL_IF(copies[0].verified, "other release verified");
out:
	fx_free(&f);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_vmci");

	unit_run("vmci-ram", t_vmci_ram, &rnd);
	unit_run("vmci-ram-default-page-offset", t_vmci_ram_default_base, &rnd);
	unit_run("vmci-ram-array", t_vmci_ram_array, &rnd);
	unit_run("vmci-ram-bad", t_vmci_ram_bad, &rnd);
	unit_run("vmci-scan-zero", t_scan_zero, &rnd);
	unit_run("vmci-scan-one", t_scan_one, &rnd);
	unit_run("vmci-scan-several", t_scan_several, &rnd);
	unit_run("vmci-scan-truncated", t_scan_truncated, &rnd);
	unit_run("vmci-scan-last-page", t_scan_last_page, &rnd);
	unit_run("vmci-scan-progress", t_scan_progress, &rnd);
	unit_run("vmci-scan-wrong-release", t_scan_wrong_release, &rnd);
	TAP_EXIT();
}
