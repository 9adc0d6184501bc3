/*
 * fuzz_scan.c - the memory scans (Methods 5 and 6) and kaslr_find without registers
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: a flag byte, a byte n (n mod 16 > 0: reads of that page fail, as
 * excluded pages of a filtered dump do), then chunks of a 64 KiB physical
 * memory starting at address 0 (fuzz_image in fuzz.h).
 * Flags:
 *   bits 0-1  range layout (fuzz.h)
 *   bit 2     kaslr_vmci_scan stops at the first verified copy
 *   bit 3     kaslr_ptscan stops at the first verified table
 *   bits 4-6  array sizes given to the scans (0..7)
 *   bit 7     vmlinux with a relocation probe
 * Oracles: reads stay in a page and in the ranges; counts and stored
 * entries are consistent; whatever claims to be verified has the banner
 * where its values say.
 */
#include "fuzz.h"
#include "vmcoreinfo.h"

/*
 * 16 pages: the seeds' kernels use pages 1 to 11.  Each scan mallocs a
 * window as long as the longest range (scan_chunk()): from 128 KiB on,
 * ASan serves that with an mmap and a munmap, four times an execution.
 */
#define MEM_SIZE (16 * FUZZ_PAGE)

static struct kaslr_report rep;
static uint8_t img[MEM_SIZE];
static struct fuzz_image fi = { img, sizeof(img), ~0u };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_vmci_copy copies[8];
	struct kaslr_candidate cands[8];
	struct kaslr_vmlinux vml;
	struct kaslr_ctx ctx;
	struct fuzz_mem m;
	enum kaslr_status st;
	int n = -1, i, max, nr_verified = 0;
	uint8_t flags;

	if (size < 2)
		return 0;
	flags = data[0];
	max = (flags >> 4) & 7;
	fuzz_vmlinux(&vml, 0, flags >> 7);
	fuzz_image(&fi, data + 2, size - 2);
	fuzz_mem_init(&m, img, sizeof(img), flags & 3);
	m.bad_page = (uint64_t)(data[1] % (MEM_SIZE / FUZZ_PAGE)) * FUZZ_PAGE;
	fuzz_ctx(&ctx, &m);

	/* Method 5. */
	memset(copies, 0xa5, sizeof(copies));
	st = kaslr_vmci_scan(&ctx, &vml, copies, max, &n, (flags >> 2) & 1);
	fuzz_check_err(&ctx);
	if (n < 0 || (st == KASLR_OK) != (n > 0))
		FUZZ_FAIL("vmci scan: %s with %d copies", kaslr_status_name(st), n);
	for (i = 0; i < n && i < max; i++) {
		const struct kaslr_vmci_copy *cp = &copies[i];

		if (!memchr(cp->osrelease, '\0', sizeof(cp->osrelease)) ||
		    !memchr(cp->build_id, '\0', sizeof(cp->build_id)) || !memchr(cp->why, '\0', sizeof(cp->why)))
			FUZZ_FAIL("vmci scan: copy %d has an unterminated string", i);
		if (cp->len > FUZZ_PAGE)
			FUZZ_FAIL("vmci scan: copy %d is %zu bytes long", i, cp->len);
		if (cp->verified) {
			nr_verified++;
			fuzz_check_verified(&m, &vml, "vmci scan", cp->kernel_offset, cp->phys_base);
		}
	}
	if ((flags & 4) && nr_verified > 1)
		FUZZ_FAIL("vmci scan: %d verified copies despite stop_first_verified", nr_verified);
	for (i = max; i < 8; i++) {
		const unsigned char *b = (const unsigned char *)&copies[i];
		size_t k;

		for (k = 0; k < sizeof(copies[i]); k++)
			if (b[k] != 0xa5)
				FUZZ_FAIL("vmci scan: wrote copy %d of an array of %d", i, max);
	}

	/* Method 6. */
	memset(cands, 0xa5, sizeof(cands));
	n = -1;
	nr_verified = 0;
	st = kaslr_ptscan(&ctx, &vml, cands, max, &n, (flags >> 3) & 1);
	fuzz_check_err(&ctx);
	if (n < 0 || (st == KASLR_OK && n == 0))
		FUZZ_FAIL("ptscan: %s with %d tables", kaslr_status_name(st), n);
	for (i = 0; i < n && i < max; i++) {
		if (cands[i].method != KASLR_M_PTSCAN || cands[i].cpu != -1)
			FUZZ_FAIL("ptscan: candidate %d is %s, cpu %d", i, kaslr_method_name(cands[i].method),
				  cands[i].cpu);
		if (!memchr(cands[i].note, '\0', sizeof(cands[i].note)))
			FUZZ_FAIL("ptscan: candidate %d has an unterminated note", i);
		if (cands[i].status == KASLR_OK) {
			nr_verified++;
			fuzz_check_verified(&m, &vml, "ptscan", cands[i].kernel_offset, cands[i].phys_base);
		}
	}
	if (st == KASLR_OK && max > 0 && !nr_verified)
		FUZZ_FAIL("ptscan: OK, but no verified candidate among %d stored", n < max ? n : max);
	if (st != KASLR_OK && nr_verified)
		FUZZ_FAIL("ptscan: %s with a verified candidate", kaslr_status_name(st));
	for (i = max; i < 8; i++) {
		const unsigned char *b = (const unsigned char *)&cands[i];
		size_t k;

		for (k = 0; k < sizeof(cands[i]); k++)
			if (b[k] != 0xa5)
				FUZZ_FAIL("ptscan: wrote candidate %d of an array of %d", i, max);
	}

	/* Everything without registers. */
	st = kaslr_find(&ctx, &vml, NULL, 0, KASLR_METHODS_ALL, &rep);
	fuzz_check_report(&m, &vml, &rep, st);
	fuzz_check_err(&ctx);
	return 0;
}
