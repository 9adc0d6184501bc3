/*
 * core/scan.c - the one loop that scans physical memory (Methods 5 and 6)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Memory is read in pieces: per byte a big read costs far less than one
 * per page (a pread per page head took 5-8x as long as reading the whole
 * file in 1 MiB pieces, measured on the lab's 4 GiB dump).  A piece that
 * does not read whole (a page missing from a filtered dump) is handed to
 * the visitor page by page, so one missing page hides none of its
 * neighbours.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* Pieces are this large at most. */
#define SCAN_CHUNK		(1u << 20)
/* Progress callback period. */
#define SCAN_PROGRESS_STEP	(64ULL << 20)

/* The piece size: SCAN_CHUNK, or less when no range is that long. */
static size_t scan_chunk(const struct kaslr_ctx *ctx)
{
	uint64_t longest = 0;
	int r;

	for (r = 0; r < ctx->nr_ranges; r++)
		if (ctx->ranges[r].end > ctx->ranges[r].start &&
		    ctx->ranges[r].end - ctx->ranges[r].start > longest)
			longest = ctx->ranges[r].end - ctx->ranges[r].start;
	longest = (longest + KASLR_PAGE_SIZE - 1) & KASLR_PAGE_MASK;
	return longest && longest < SCAN_CHUNK ? (size_t)longest : SCAN_CHUNK;
}

int kaslr_scan_page_read(struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp, size_t off, void *buf,
			 size_t len)
{
	if (sp->data) {
		memcpy(buf, sp->data + off, len);
		return 0;
	}
	return ctx->read_phys(ctx->priv, sp->paddr + off, buf, len) ? -1 : 0;
}

enum kaslr_status kaslr_scan_memory(struct kaslr_ctx *ctx, size_t min_avail, kaslr_scan_visit_fn visit,
				    void *arg, uint64_t *total_ret)
{
	uint64_t total = 0, done = 0, next_report = SCAN_PROGRESS_STEP;
	int r, stop = 0;
	unsigned char *win;
	size_t chunk;

	*total_ret = 0;
	if (!ctx->ranges || ctx->nr_ranges <= 0)
		return KASLR_NODATA;
	for (r = 0; r < ctx->nr_ranges; r++)
		if (ctx->ranges[r].end > ctx->ranges[r].start)
			total += ctx->ranges[r].end - ctx->ranges[r].start;
	*total_ret = total;
	chunk = scan_chunk(ctx);
	if (!(win = malloc(chunk)))
		return KASLR_NOMEM;

	for (r = 0; r < ctx->nr_ranges && !stop; r++) {
		uint64_t start = ctx->ranges[r].start, end = ctx->ranges[r].end, w, p;
		size_t wlen;

		if (end <= start)
			continue;
		/* Every comparison also guards against wrapping at 2^64. */
		for (w = (start + KASLR_PAGE_SIZE - 1) & KASLR_PAGE_MASK; w >= start && w < end &&
		     end - w >= min_avail && !stop; w += wlen) {
			const unsigned char *whole;

			wlen = end - w < chunk ? (size_t)(end - w) : chunk;
			whole = ctx->read_phys(ctx->priv, w, win, wlen) ? NULL : win;
			for (p = w; p >= w && p < w + wlen && end - p >= min_avail && !stop; p += KASLR_PAGE_SIZE) {
				struct kaslr_scan_page sp;

				if (ctx->progress && done + (p - start) >= next_report) {
					uint64_t d = done + (p - start);

					ctx->progress(ctx->priv, d, total);
					next_report = (d / SCAN_PROGRESS_STEP + 1) * SCAN_PROGRESS_STEP;
				}
				sp.paddr = p;
				sp.avail = end - p < KASLR_PAGE_SIZE ? (size_t)(end - p) : KASLR_PAGE_SIZE;
				sp.data = whole ? whole + (p - w) : NULL;
				switch (visit(arg, ctx, &sp)) {
				case 0:
					break;
				case 1:
					stop = 1;
					break;
				default:
					free(win);
					return KASLR_NOMEM;
				}
			}
		}
		done += end - start;
	}
	free(win);
	return KASLR_OK;
}
