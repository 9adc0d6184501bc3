/*
 * core/arm64/m6_image.c - Method 6 on arm64: the image, found physically, and its own page tables
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * With no TTBR1 in the dump (QEMU's arm64 notes hold none), the tables
 * are reached through the image:
 *
 *   1. The image starts on a page boundary (SEGMENT_ALIGN), so linux_banner
 *      lies at the same offset into its page as in the vmlinux: every page
 *      of the dump whose bytes at that offset start "Linux version " is
 *      read for the full banner; a match puts _text at banner - (linux_banner
 *      - _text).  A copy of the image that is not the running one (an EFI
 *      stub's first load) matches too: step 3 tells them apart.
 *   2. swapper_pg_dir lies at its link-time distance from _text.  Every
 *      translation regime is tried on it; each address at or above the
 *      link-time linux_banner that maps the banner found is a candidate
 *      (KASLR only adds to the link address).  The banner, not _text: the
 *      image header before _stext is not mapped.
 *   3. Each candidate is verified like any other (kaslr_verify with the
 *      tables): the full banner, the page tables mapping it, and the
 *      relocated pointers plus kimage_voffset as the kernel stored it,
 *      which tell the image's own mapping from an alias of the same page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/arm64/arm64.h"

/* Virtual addresses kept per image and regime (an alias or two besides the image). */
#define MAX_ALIASES	8
/* Banner matches tried: the running image, a stale copy, a page-cache copy of vmlinux. */
#define MAX_IMAGES	16

static enum kaslr_status try_image(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t text_pa,
				   struct kaslr_candidate *cands, int max, int *nr, int *nr_verified,
				   char *why, size_t whysize);

struct image_scan {
	const struct kaslr_vmlinux *vml;
	size_t page_off;		/* linux_banner's offset into its page */
	uint64_t first_pa;		/* the first copy's physical _text */
	int nr_images;
	struct kaslr_candidate *cands;
	int max, nr, nr_verified, stop_first_verified;
	enum kaslr_status st;		/* KASLR_NOMEM when try_image ran out */
	char why[KASLR_ERRLEN];
};

static int banner_visit(void *arg, struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp)
{
	struct image_scan *s = arg;
	const struct kaslr_vmlinux *vml = s->vml;
	uint64_t boff = vml->linux_banner - kaslr_vml_text(vml), pa = sp->paddr + s->page_off;
	unsigned char head[14];
	char *full;

	if (sp->avail < s->page_off + sizeof(head) ||
	    kaslr_scan_page_read(ctx, sp, s->page_off, head, sizeof(head)) || memcmp(head, vml->banner, sizeof(head)))
		return 0;
	if (pa < boff)
		return 0;
	if (!(full = malloc(vml->banner_len)))
		return -1;
	if (kaslr_phys_read(ctx, pa, full, vml->banner_len) || memcmp(full, vml->banner, vml->banner_len)) {
		free(full);
		return 0;
	}
	free(full);
	if (!s->nr_images++)
		s->first_pa = pa - boff;
	if (s->nr_images > MAX_IMAGES)
		return 0;	/* counted, not tried: MAX_IMAGES copies of one banner are no kernel's */
	s->st = try_image(ctx, vml, pa - boff, s->cands, s->max, &s->nr, &s->nr_verified, s->why, sizeof(s->why));
	if (s->st == KASLR_NOMEM)
		return -1;
	return s->nr_verified && s->stop_first_verified;
}

/* Candidates from one image copy at @text_pa: every regime, every address mapping it. */
static enum kaslr_status try_image(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t text_pa,
				   struct kaslr_candidate *cands, int max, int *nr, int *nr_verified,
				   char *why, size_t whysize)
{
	uint64_t text = kaslr_vml_text(vml), root = text_pa + (vml->swapper_pg_dir - text);
	/*
	 * The anchor is linux_banner's page, not _text's: the image header
	 * (_text up to _stext) is not mapped since 4.x (map_kernel maps from
	 * _stext), .rodata always is.
	 */
	uint64_t banner_pa = text_pa + (vml->linux_banner - text);
	int g, k, n, mapped = 0;
	enum kaslr_status st;

	for (g = 0; g < kaslr_arm64_nr_geometries; g++) {
		uint64_t vas[MAX_ALIASES];
		struct kaslr_paging pg;

		kaslr_arm64_paging_init(&pg, root, &kaslr_arm64_geometries[g]);
		st = kaslr_arm64_mappings_of(ctx, &pg, vml->linux_banner, banner_pa, vas, MAX_ALIASES, &n);
		if (st == KASLR_NOMEM)
			return st;
		if (st != KASLR_OK || !n)
			continue;
		mapped = 1;
		for (k = 0; k < n && k < MAX_ALIASES; k++) {
			struct kaslr_candidate c;
			int j;

			kaslr_cand_init(&c, KASLR_M_PTSCAN, -1);
			c.kernel_offset = vas[k] - vml->linux_banner;
			c.phys_base = (int64_t)(vas[k] - banner_pa);	/* kimage_voffset */
			c.pgd_paddr = root;
			c.levels = pg.levels;
			c.pg = pg;
			/* Another regime that maps the image the same way adds nothing. */
			for (j = 0; j < *nr && j < max; j++)
				if (cands[j].kernel_offset == c.kernel_offset && cands[j].phys_base == c.phys_base)
					break;
			if (j < *nr && j < max)
				continue;
			kaslr_cand_note(&c, "image at physical 0x%" PRIx64 ", its swapper_pg_dir (%d KiB pages, "
					"%d-bit VA) maps linux_banner at 0x%" PRIx64, text_pa, 1 << (pg.page_shift - 10),
					pg.va_bits, vas[k]);
			if (kaslr_verify(ctx, vml, &c.pg, &c) == KASLR_OK)
				(*nr_verified)++;
			else if (!*why)
				kaslr_str_copy(why, whysize, ctx->err);
			if (*nr < max || c.status == KASLR_OK) {
				/* A verified candidate found when the array is full replaces the last one. */
				cands[*nr < max ? *nr : max - 1] = c;
			}
			(*nr)++;
		}
	}
	if (!mapped && !*why)
		kaslr_errf(why, whysize, "the image at physical 0x%" PRIx64 " has no swapper_pg_dir at 0x%" PRIx64
			   " that maps its linux_banner in any arm64 translation regime (a stale copy of the image?)",
			   text_pa, root);
	return KASLR_OK;
}

enum kaslr_status kaslr_arm64_image_scan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					 struct kaslr_candidate *cands, int max, int *nr_ret,
					 int stop_first_verified)
{
	struct image_scan s;
	uint64_t total, text = kaslr_vml_text(vml);
	enum kaslr_status st;

	*nr_ret = 0;
	if (!vml->swapper_pg_dir || !text || !vml->banner_len || vml->linux_banner < text || max < 1) {
		kaslr_set_err(ctx, "the vmlinux lacks swapper_pg_dir, _text or linux_banner: no image to find");
		return KASLR_NODATA;
	}
	memset(&s, 0, sizeof(s));
	s.vml = vml;
	s.page_off = (size_t)((vml->linux_banner - text) & (KASLR_PAGE_SIZE - 1));
	s.cands = cands;
	s.max = max;
	s.stop_first_verified = stop_first_verified;
	st = kaslr_scan_memory(ctx, s.page_off + 14, banner_visit, &s, &total);
	*nr_ret = s.nr;
	if (st == KASLR_NODATA) {
		kaslr_set_err(ctx, "the dump's physical ranges are unknown: cannot look for the image");
		return st;
	}
	if (st != KASLR_OK || s.st == KASLR_NOMEM) {
		kaslr_set_err(ctx, "out of memory");
		return KASLR_NOMEM;
	}
	if (ctx->progress)
		ctx->progress(ctx->priv, total, total);
	if (s.nr_verified)
		return KASLR_OK;
	if (!s.nr_images)
		kaslr_set_err(ctx, "the vmlinux's linux_banner is nowhere in the dump's %" PRIu64 " MiB of memory: "
			      "this vmlinux is not the dump's kernel", total >> 20);
	else
		kaslr_set_err(ctx, "%d cop%s of the image found (the first at physical 0x%" PRIx64 "), none verified: "
			      "%s", s.nr_images, s.nr_images == 1 ? "y" : "ies", s.first_pa, *s.why ? s.why : "no candidate");
	return KASLR_NOTFOUND;
}
