/*
 * fuzz_arm64.c - the arm64 page-table walk and image route on fuzzed memory
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: a 12-byte header, then chunks of a 128 KiB physical memory at 0
 * (fuzz_image in fuzz.h).
 *   0      flags: bits 0-3 translation regime (index into
 *          kaslr_arm64_geometries, modulo), bits 4-5 range layout
 *          (fuzz.h), bit 6 also run kaslr_find, bit 7 a relocation probe
 *   1      high nibble n > 0: reads of page n fail; low nibble: the page of
 *          swapper_pg_dir (and so of the image: _text 16 KiB below it)
 *   2..9   a virtual address (vtop, and mappings of what it maps to)
 *  10..11  linux_banner's offset from _text (low 13 bits)
 * Oracles: reads stay in a page and in the ranges (fuzz.h); a virtual
 * address vtop maps is the lowest address at or above it that
 * kaslr_arm64_mappings_of finds for the same physical address; a verified
 * image-route candidate has the vmlinux's banner where it says, with its
 * tables mapping the banner there.
 */
#include "fuzz.h"

#define HDR 12
#define MEM_SIZE (32 * FUZZ_PAGE)
#define A64_TEXT 0xffff800008000000ULL

static struct kaslr_report rep;
static uint8_t img[MEM_SIZE];
static struct fuzz_image fi = { img, sizeof(img), ~0u };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct kaslr_arm64_geometry *g;
	struct kaslr_candidate cands[8];
	struct kaslr_vmlinux vml;
	struct kaslr_paging pg;
	struct kaslr_ctx ctx;
	struct fuzz_mem m;
	uint64_t va, pa, psize, vas[4], text_pa;
	enum kaslr_status st;
	uint8_t flags;
	int n, i;

	if (size < HDR)
		return 0;
	flags = data[0];
	g = &kaslr_arm64_geometries[(flags & 15) % kaslr_arm64_nr_geometries];
	fuzz_image(&fi, data + HDR, size - HDR);
	fuzz_mem_init(&m, img, sizeof(img), (flags >> 4) & 3);
	fuzz_ctx(&ctx, &m);
	m.bad_page = (uint64_t)(data[1] >> 4) * FUZZ_PAGE;

	memset(&vml, 0, sizeof(vml));
	vml.machine = EM_AARCH64;
	vml.text = A64_TEXT;
	vml.stext = A64_TEXT + 0x1000;
	text_pa = (uint64_t)(data[1] & 15) * FUZZ_PAGE;
	vml.swapper_pg_dir = A64_TEXT + 0x4000;
	vml.linux_banner = A64_TEXT + ((data[10] | (uint64_t)data[11] << 8) & 0x1fff);
	vml.kimage_voffset = A64_TEXT + 0x3000;
	vml.memstart_addr = A64_TEXT + 0x3008;
	vml.end = A64_TEXT + 0x10000;
	vml.banner = FUZZ_BANNER;
	vml.banner_len = sizeof(FUZZ_BANNER) - 1;
	snprintf(vml.osrelease, sizeof(vml.osrelease), "%s", FUZZ_RELEASE);
	if (flags & 0x80) {
		vml.reloc[0].vaddr = A64_TEXT + 0x3010;
		vml.reloc[0].value = A64_TEXT + 0x1000;
		vml.nr_reloc = 1;
	}

	kaslr_arm64_paging_init(&pg, text_pa + 0x4000, g);
	va = fuzz_le64(data + 2);
	st = kaslr_arm64_vtop(&ctx, &pg, va, &pa, &psize);
	if (st == KASLR_OK) {
		if (psize < (1ULL << g->page_shift) || (psize & (psize - 1)))
			FUZZ_FAIL("vtop 0x%" PRIx64 ": page size 0x%" PRIx64, va, psize);
		st = kaslr_arm64_mappings_of(&ctx, &pg, va, pa, vas, 4, &n);
		if (st == KASLR_OK && (n < 1 || vas[0] != va))
			FUZZ_FAIL("vtop maps 0x%" PRIx64 " to 0x%" PRIx64 ", the walk finds %d mapping(s), first 0x%" PRIx64,
				  va, pa, n, n ? vas[0] : 0);
	}

	st = kaslr_arm64_image_scan(&ctx, &vml, cands, 8, &n, 0);
	for (i = 0; i < n && i < 8; i++) {
		const struct kaslr_candidate *c = &cands[i];
		uint64_t bpa = kaslr_arm64_image_paddr(vml.linux_banner, c->kernel_offset, c->phys_base), got;
		size_t k;

		if (c->status != KASLR_OK)
			continue;
		for (k = 0; k < vml.banner_len; k++)
			if (fuzz_byte(&m, bpa + k) != (unsigned char)vml.banner[k])
				FUZZ_FAIL("verified candidate %d: no banner at 0x%" PRIx64, i, bpa);
		if (kaslr_arm64_vtop(&ctx, &c->pg, vml.linux_banner + c->kernel_offset, &got, NULL) != KASLR_OK ||
		    got != bpa)
			FUZZ_FAIL("verified candidate %d: its tables do not map the banner to 0x%" PRIx64, i, bpa);
	}
	if (flags & 0x40) {
		st = kaslr_find(&ctx, &vml, NULL, 0, KASLR_METHODS_ALL, &rep);
		if (st == KASLR_OK && (rep.best < 0 || rep.cand[rep.best].status != KASLR_OK))
			FUZZ_FAIL("kaslr_find OK without a verified best candidate");
	}
	return 0;
}
