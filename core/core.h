/*
 * core/core.h - what the files of the core share among themselves
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Internal to core/: candidate bookkeeping, the one memory-scan loop, and
 * the pieces one method lends another.  The shells (kaslr_ext.c,
 * kaslr_find.c) use kaslr_core.h instead.
 */
#ifndef KASLR_CORE_CORE_H
#define KASLR_CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/arch.h"
#include "core/candidate.h"
#include "core/paging.h"
#include "core/types.h"
#include "core/util.h"
#include "core/vmlinux.h"
#include "kaslr_core.h"	/* the API the core's files implement */
#include "vmcoreinfo.h"

/* The kernel's vmcoreinfo text fits a page (VMCOREINFO_BYTES = PAGE_SIZE). */
#define KASLR_VMCI_MAX		4096

/* _text, or _stext where the vmlinux has no _text. */
static inline uint64_t kaslr_vml_text(const struct kaslr_vmlinux *vml)
{
	return vml->text ? vml->text : vml->stext;
}

/* ---- candidates (core/candidate.c) ---- */

void kaslr_cand_init(struct kaslr_candidate *cand, enum kaslr_method method, int cpu);
void kaslr_cand_note(struct kaslr_candidate *cand, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append "; @why" to the candidate's note, as room allows. */
void kaslr_cand_note_failure(struct kaslr_candidate *cand, const char *why);

/*
 * Methods that try several paging contexts (both halves of a PTI PGD
 * pair, 4- and 5-level readings of a scanned table) keep the first
 * candidate that found values but failed verification, to report it when
 * none verifies.
 */
struct kaslr_first_failure {
	int have;
	struct kaslr_candidate cand;
};

/* Keep @c (noted "fails verification" when @found, else noted @why) if it is the first. */
void kaslr_first_failure_keep(struct kaslr_first_failure *ff, const struct kaslr_candidate *c, int found,
			      const char *why);

/*
 * A CPU method that did not verify: @cand_ret becomes the first candidate
 * kept (KASLR_NOTFOUND), or, with none, keeps no values, is noted @why and
 * gets @worst.  @returns the status.
 */
enum kaslr_status kaslr_first_failure_take(const struct kaslr_first_failure *ff, struct kaslr_candidate *cand_ret,
					   const char *why, enum kaslr_status worst);

/*
 * kaslr_verify's message for a candidate that failed it: "offset 0x...
 * phys_base 0x... fails: <cand->why>".
 */
void kaslr_verify_message(char *buf, size_t size, const struct kaslr_vmlinux *vml, const struct kaslr_candidate *cand);

/* ---- the memory scan (core/scan.c) ---- */

/* One page of a scan: its bytes when its piece read whole, else read on demand. */
struct kaslr_scan_page {
	uint64_t paddr;
	size_t avail;			/* bytes of the page inside its range (4096 but at a range's end) */
	const unsigned char *data;	/* the whole page, or NULL: use kaslr_scan_page_read */
};

/* @len bytes at @off of a scanned page, from its piece or in one read; @returns 0 or -1. */
int kaslr_scan_page_read(struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp, size_t off, void *buf,
			 size_t len);

/* A scan's look at one page: 0 go on, 1 stop the scan, -1 out of memory (stops it too). */
typedef int (*kaslr_scan_visit_fn)(void *arg, struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp);

/**
 * kaslr_scan_memory - visit every page start of the dump's physical memory
 * @min_avail: pages with fewer bytes left in their range are not visited
 * @total_ret: bytes in all ranges (for the caller's final progress report)
 *
 * The one scan loop of the core (Methods 5 and 6): memory is read in
 * pieces of up to 1 MiB (a pread per page head costs 5-8x as much as the
 * whole file in 1 MiB pieces), and a piece that does not read whole is
 * left to the visitor page by page, so one missing page hides none of its
 * neighbours.  Progress goes to ctx->progress every 64 MiB.
 *
 * @returns KASLR_OK (visited all, or a visitor stopped it), KASLR_NODATA
 * (the ranges are unknown: ctx->err not set, the caller says what it
 * wanted), KASLR_NOMEM.
 */
enum kaslr_status kaslr_scan_memory(struct kaslr_ctx *ctx, size_t min_avail, kaslr_scan_visit_fn visit,
				    void *arg, uint64_t *total_ret);

/* ---- Methods 3 and 5 share the vmcoreinfo copies (core/m3_vmcoreinfo.c) ---- */

/* Fill @copy from a parsed text found at @paddr. */
void kaslr_vmci_copy_from(struct kaslr_vmci_copy *copy, const struct kaslr_vmci *vmci, uint64_t paddr,
			  size_t len);

/*
 * Does a copy describe this vmlinux in this dump?  OSRELEASE (and BUILD-ID
 * where both have one) must match, and its values must pass kaslr_verify.
 * Sets copy->verified, copy->checks and copy->why (also in ctx->err).
 */
int kaslr_vmci_copy_verify(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, struct kaslr_vmci_copy *copy);

#endif /* KASLR_CORE_CORE_H */
