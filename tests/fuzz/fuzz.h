/*
 * fuzz.h - what the libFuzzer harnesses share
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A fixed synthetic vmlinux whose symbols sit close to _text (so that a
 * few pages of fuzzed "physical memory" can hold a whole verifiable
 * kernel), a physical-memory model over the fuzzer's bytes with a choice
 * of range layouts, and the oracles: the core's read contract (never
 * across a 4 KiB page, never outside the ranges it was given) and "a
 * verified answer really has the vmlinux's banner where it says".
 * A broken oracle aborts, so libFuzzer records the input as a crash.
 */
#ifndef KASLR_FUZZ_H
#define KASLR_FUZZ_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kaslr_core.h"

#define FUZZ_PAGE 4096ULL

/* Link-time layout of the fuzz vmlinux (tests/fuzz/mkcorpus.py uses the same numbers). */
#define FUZZ_TEXT		0xffffffff81000000ULL
#define FUZZ_DIVIDE_ERROR	(FUZZ_TEXT + 0x100)
#define FUZZ_LINUX_BANNER	(FUZZ_TEXT + 0x200)
#define FUZZ_IDT_TABLE		(FUZZ_TEXT + 0x1000)
#define FUZZ_INIT_TOP_PGT	(FUZZ_TEXT + 0x2000)
#define FUZZ_VMCOREINFO_DATA	(FUZZ_TEXT + 0x3000)
#define FUZZ_VMCOREINFO_SIZE	(FUZZ_TEXT + 0x3008)
#define FUZZ_SAVED_COMMAND_LINE	(FUZZ_TEXT + 0x3010)
#define FUZZ_PAGE_OFFSET_BASE	(FUZZ_TEXT + 0x3018)
/* Relocation probe (kaslr_verify's KASLR_V_RELOC): 4 pointers at _text + 0x800. */
#define FUZZ_RELOC_PROBE	(FUZZ_TEXT + 0x800)
#define FUZZ_RELEASE		"6.1.0-fuzz"
#define FUZZ_BANNER		"Linux version " FUZZ_RELEASE " (fuzz@example) #1 SMP\n"

/*
 * The memory model and the oracles are not what is under test: no coverage
 * feedback from them (libFuzzer's comparison hooks in fuzz_read_phys and
 * fuzz_in_ranges took a tenth of fuzz_scan's time).  Clang 13 and later.
 */
#if defined(__clang__) && __clang_major__ >= 13
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NOCOV
#endif

#define FUZZ_FAIL(...)                                                          \
	do {                                                                    \
		fprintf(stderr, "fuzz oracle: " __VA_ARGS__);                   \
		fprintf(stderr, "\n");                                          \
		abort();                                                        \
	} while (0)

/* @reloc: also give the relocation probe, so verification checks the pointers too. */
static inline void fuzz_vmlinux(struct kaslr_vmlinux *vml, int has_pti, int reloc)
{
	memset(vml, 0, sizeof(*vml));
	vml->text = FUZZ_TEXT;
	vml->stext = FUZZ_TEXT;
	vml->divide_error = FUZZ_DIVIDE_ERROR;
	vml->linux_banner = FUZZ_LINUX_BANNER;
	vml->idt_table = FUZZ_IDT_TABLE;
	vml->init_top_pgt = FUZZ_INIT_TOP_PGT;
	vml->vmcoreinfo_data = FUZZ_VMCOREINFO_DATA;
	vml->vmcoreinfo_size = FUZZ_VMCOREINFO_SIZE;
	vml->saved_command_line = FUZZ_SAVED_COMMAND_LINE;
	vml->page_offset_base = FUZZ_PAGE_OFFSET_BASE;
	vml->has_pti = has_pti;
	vml->banner = FUZZ_BANNER;
	vml->banner_len = sizeof(FUZZ_BANNER) - 1;
	snprintf(vml->osrelease, sizeof(vml->osrelease), "%s", FUZZ_RELEASE);
	if (reloc) {
		static const uint64_t values[4] = { FUZZ_DIVIDE_ERROR, FUZZ_LINUX_BANNER, FUZZ_IDT_TABLE, FUZZ_TEXT };
		int k;

		for (k = 0; k < 4; k++) {
			vml->reloc[k].vaddr = FUZZ_RELOC_PROBE + 8 * (uint64_t)k;
			vml->reloc[k].value = values[k];
		}
		vml->nr_reloc = 4;
	}
}

/* Physical memory: [0, len) holds the image, the rest of every range reads as zeros. */
struct fuzz_mem {
	const uint8_t *img;
	size_t len;
	struct kaslr_range ranges[4];
	int nr_ranges;
	/* A page inside the ranges whose reads fail (an excluded page of a filtered dump); 0: none. */
	uint64_t bad_page;
	unsigned long reads;
};

FUZZ_NOCOV static inline int fuzz_in_ranges(const struct fuzz_mem *m, uint64_t paddr, size_t len)
{
	int i;

	for (i = 0; i < m->nr_ranges; i++)
		if (paddr >= m->ranges[i].start && paddr < m->ranges[i].end &&
		    len <= m->ranges[i].end - paddr)
			return 1;
	return 0;
}

FUZZ_NOCOV static inline int fuzz_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct fuzz_mem *m = priv;
	unsigned char *out = buf;
	size_t from_img = 0;

	m->reads++;
	/*
	 * kaslr_read_phys_fn contract: no call crosses a 4 KiB page but the
	 * scans' pieces (page-aligned, at most 1 MiB, inside one range).
	 */
	if ((paddr & (FUZZ_PAGE - 1)) + len > FUZZ_PAGE) {
		if (paddr & (FUZZ_PAGE - 1) || len > (1u << 20))
			FUZZ_FAIL("read of %zu bytes at 0x%" PRIx64 " crosses a page", len, paddr);
		if (!fuzz_in_ranges(m, paddr, len))
			FUZZ_FAIL("piece of %zu bytes at 0x%" PRIx64 " leaves its range", len, paddr);
	}
	if (!fuzz_in_ranges(m, paddr, len))
		return -1;
	if (m->bad_page && m->bad_page >= (paddr & ~(uint64_t)(FUZZ_PAGE - 1)) && m->bad_page < paddr + len)
		return -1;
	if (paddr < m->len)
		from_img = m->len - paddr < len ? (size_t)(m->len - paddr) : len;
	if (len == 8 && from_img == 8) {	/* a page-table entry: most reads of the core */
		memcpy(out, m->img + paddr, 8);
		return 0;
	}
	memcpy(out, m->img + (from_img ? paddr : 0), from_img);
	memset(out + from_img, 0, len - from_img);
	return 0;
}

/*
 * Range layouts, chosen by the input:
 *  0  one range over the image, rounded up to a page
 *  1  the same with a one-page hole in the middle
 *  2  unaligned ends: [0x10, len - 3)
 *  3  layout 0 plus a small range at the very top of the address space
 */
static inline void fuzz_mem_init(struct fuzz_mem *m, const uint8_t *img, size_t len, unsigned layout)
{
	uint64_t top = (len + FUZZ_PAGE - 1) & ~(FUZZ_PAGE - 1);

	memset(m, 0, sizeof(*m));
	m->img = img;
	m->len = len;
	if (!top)
		top = FUZZ_PAGE;
	switch (layout & 3) {
	case 1:
		if (top >= 4 * FUZZ_PAGE) {
			uint64_t mid = (top / 2) & ~(FUZZ_PAGE - 1);

			m->ranges[0].start = 0;
			m->ranges[0].end = mid;
			m->ranges[1].start = mid + FUZZ_PAGE;
			m->ranges[1].end = top;
			m->nr_ranges = 2;
			return;
		}
		break;
	case 2:
		if (len > 0x20) {
			m->ranges[0].start = 0x10;
			m->ranges[0].end = len - 3;
			m->nr_ranges = 1;
			return;
		}
		break;
	case 3:
		m->ranges[0].start = 0;
		m->ranges[0].end = top;
		m->ranges[1].start = 0 - 3 * FUZZ_PAGE - 5;
		m->ranges[1].end = UINT64_MAX;
		m->nr_ranges = 2;
		return;
	}
	m->ranges[0].start = 0;
	m->ranges[0].end = top;
	m->nr_ranges = 1;
}

/*
 * A fuzzed physical memory image of at most 32 pages, and a mask of the
 * pages the last input wrote: the next input clears those, not the whole
 * image.
 */
struct fuzz_image {
	uint8_t *img;
	size_t size;		/* bytes, a multiple of FUZZ_PAGE, at most 32 pages */
	uint32_t dirty;		/* bit n: page n may be non-zero */
};

/*
 * Fill the image @fi (zeroed first) from chunks: each is a page number
 * (1 byte, modulo the image's pages), an offset in the page (2 bytes LE,
 * low 12 bits), a length (2 bytes LE) and that many bytes (fewer if the
 * input ends), written from that address on and cut at the end of the
 * image.  A few hundred bytes of input describe page tables, a kernel and
 * vmcoreinfo spread over a 64 KiB memory.
 */
FUZZ_NOCOV static inline void fuzz_image(struct fuzz_image *fi, const uint8_t *in, size_t n)
{
	size_t pages = fi->size / FUZZ_PAGE, p;

	for (p = 0; p < pages; p++)
		if (fi->dirty >> p & 1)
			memset(fi->img + p * FUZZ_PAGE, 0, FUZZ_PAGE);
	fi->dirty = 0;
	while (n >= 5) {
		size_t at = (in[0] % pages) * FUZZ_PAGE + ((in[1] | (size_t)in[2] << 8) & (FUZZ_PAGE - 1));
		size_t len = in[3] | (size_t)in[4] << 8, copy;

		in += 5;
		n -= 5;
		if (len > n)
			len = n;
		copy = len < fi->size - at ? len : fi->size - at;
		memcpy(fi->img + at, in, copy);
		for (p = at / FUZZ_PAGE; copy && p <= (at + copy - 1) / FUZZ_PAGE; p++)
			fi->dirty |= 1u << p;
		in += len;
		n -= len;
	}
}

static inline void fuzz_ctx(struct kaslr_ctx *ctx, struct fuzz_mem *m)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->read_phys = fuzz_read_phys;
	ctx->priv = m;
	ctx->ranges = m->ranges;
	ctx->nr_ranges = m->nr_ranges;
}

/* The error text is always a terminated string of printable text. */
static inline void fuzz_check_err(const struct kaslr_ctx *ctx)
{
	if (!memchr(ctx->err, '\0', sizeof(ctx->err)))
		FUZZ_FAIL("ctx->err is not terminated");
}

/* Byte @a of physical memory, or -1 where a read fails. */
FUZZ_NOCOV static inline int fuzz_byte(const struct fuzz_mem *m, uint64_t a)
{
	if (!fuzz_in_ranges(m, a, 1) || (m->bad_page && (a & ~(FUZZ_PAGE - 1)) == m->bad_page))
		return -1;
	return a < m->len ? m->img[a] : 0;
}

/*
 * A verified (offset, phys_base) must be 2 MiB aligned, put _text in the
 * image window, and have the vmlinux's banner (and relocated probe
 * pointers, if it has a probe) at the physical address it implies, in the
 * memory the core was given.
 */
FUZZ_NOCOV static inline void fuzz_check_verified(const struct fuzz_mem *m, const struct kaslr_vmlinux *vml,
				       const char *who, uint64_t off, int64_t pb)
{
	uint64_t bpa = vml->linux_banner + off - START_KERNEL_MAP + (uint64_t)pb, text = vml->text + off;
	size_t i;
	int k, b, readable = 0, agree = 0;

	/* Relocated probe words: where readable, at least three quarters hold link value + offset. */
	for (k = 0; k < vml->nr_reloc; k++) {
		uint64_t ppa = vml->reloc[k].vaddr + off - START_KERNEL_MAP + (uint64_t)pb, want = vml->reloc[k].value + off;
		int ok = 1;

		for (b = 0; b < 8; b++) {
			int c = fuzz_byte(m, ppa + (uint64_t)b);

			if (c < 0) {
				ok = -1;
				break;
			}
			if (c != (int)((want >> (8 * b)) & 0xff))
				ok = 0;
		}
		if (ok >= 0) {
			readable++;
			agree += ok;
		}
	}
	/* And gate 0 of idt_table, when it is a present interrupt/trap gate. */
	{
		uint64_t gpa = vml->idt_table + off - START_KERNEL_MAP + (uint64_t)pb, h = 0;
		int g[16];

		for (b = 0; b < 16 && (g[b] = fuzz_byte(m, gpa + (uint64_t)b)) >= 0; b++)
			;
		if (vml->idt_table && vml->divide_error && b == 16 && (g[5] & 0x80) &&
		    ((g[5] & 0xf) == 0xe || (g[5] & 0xf) == 0xf)) {
			h = (uint64_t)g[0] | (uint64_t)g[1] << 8 | (uint64_t)g[6] << 16 | (uint64_t)g[7] << 24 |
			    (uint64_t)g[8] << 32 | (uint64_t)g[9] << 40 | (uint64_t)g[10] << 48 | (uint64_t)g[11] << 56;
			readable++;
			agree += h == vml->divide_error + off;
		}
	}
	if (readable && agree * 4 < readable * 3)
		FUZZ_FAIL("%s: verified, but only %d of %d relocated pointers read link value + 0x%" PRIx64, who,
			  agree, readable, off);

	if (off % KASLR_ALIGN)
		FUZZ_FAIL("%s: verified offset 0x%" PRIx64 " is not 2 MiB aligned", who, off);
	if (text < START_KERNEL_MAP || text >= START_KERNEL_MAP + KERNEL_IMAGE_SIZE)
		FUZZ_FAIL("%s: verified offset 0x%" PRIx64 " puts _text outside the window", who, off);
	for (i = 0; i < vml->banner_len; i++) {
		uint64_t a = bpa + i;
		int c = fuzz_byte(m, a);

		if (c < 0)
			FUZZ_FAIL("%s: verified, but banner byte %zu at 0x%" PRIx64 " is not in memory", who, i, a);
		if (c != (unsigned char)vml->banner[i])
			FUZZ_FAIL("%s: verified, but banner byte %zu at 0x%" PRIx64 " differs", who, i, a);
	}
}

/* Every candidate of a report that claims KASLR_OK passes fuzz_check_verified. */
static inline void fuzz_check_report(const struct fuzz_mem *m, const struct kaslr_vmlinux *vml,
				     const struct kaslr_report *rep, enum kaslr_status st)
{
	int i;

	if (rep->nr_cand < 0 || rep->nr_cand > KASLR_MAX_CANDIDATES)
		FUZZ_FAIL("report: %d candidates", rep->nr_cand);
	if (st == KASLR_OK && (rep->best < 0 || rep->best >= rep->nr_cand))
		FUZZ_FAIL("report: OK with best %d of %d", rep->best, rep->nr_cand);
	if (st != KASLR_OK && rep->best != -1)
		FUZZ_FAIL("report: %s with best %d", kaslr_status_name(st), rep->best);
	for (i = 0; i < rep->nr_cand; i++)
		if (rep->cand[i].status == KASLR_OK)
			fuzz_check_verified(m, vml, kaslr_method_name(rep->cand[i].method),
					    rep->cand[i].kernel_offset, rep->cand[i].phys_base);
	if (rep->nr_vmci < 0 || rep->nr_vmci > (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])))
		FUZZ_FAIL("report: %d vmcoreinfo copies", rep->nr_vmci);
}

static inline uint64_t fuzz_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif /* KASLR_FUZZ_H */
