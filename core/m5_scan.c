/*
 * core/m5_scan.c - Method 5: vmcoreinfo pages found by scanning physical memory
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Method 5 - scan (kaslr_vmci_scan)
 *	No registers, or none that verified: look at the start of every 4 KiB
 *	page for "OSRELEASE=" (the vmcoreinfo_data page) or a "VMCOREINFO" ELF
 *	note header (the vmcoreinfo_note page, text 24 bytes in), parse each
 *	copy, and verify its values against the vmlinux.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* ELF note header (12 bytes) + "VMCOREINFO\0" padded to 12: where the text starts. */
#define VMCI_NOTE_TEXT_OFF	24
/* Bytes of each page the scan looks at first (vmci_page_kind). */
#define VMCI_HEAD		16

/*
 * What a page starting with @head (VMCI_HEAD bytes) holds: 0 nothing, 1 the text
 * itself, 2 a VMCOREINFO ELF note (to be confirmed on the full page).
 */
static int vmci_page_kind(const unsigned char *head)
{
	if (!memcmp(head, "OSRELEASE=", 10))
		return 1;
	if (kaslr_le32(head) == 11 && kaslr_le32(head + 8) == 0 && kaslr_le32(head + 4) > 10 && !memcmp(head + 12, "VMCO", 4))
		return 2;
	return 0;
}

struct vmci_scan {
	const struct kaslr_vmlinux *vml;
	struct kaslr_vmci_copy *copies;
	int max, n, nr_bad, stop_first_verified;
	unsigned char page[KASLR_PAGE_SIZE + 1];
};

/* One page: the head, then the rest only when the head looks like vmcoreinfo. */
static int vmci_visit(void *arg, struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp)
{
	struct vmci_scan *vs = arg;
	unsigned char *page = vs->page;
	struct kaslr_vmci_copy tmp, *slot;
	struct kaslr_vmci vmci;
	size_t off = 0, lim, avail = sp->avail;
	char perr[160];
	int kind;

	if (kaslr_scan_page_read(ctx, sp, 0, page, VMCI_HEAD))
		return 0;
	kind = vmci_page_kind(page);
	if (!kind || (avail > VMCI_HEAD && kaslr_scan_page_read(ctx, sp, VMCI_HEAD, page + VMCI_HEAD,
								 avail - VMCI_HEAD)))
		return 0;
	page[avail] = '\0';
	lim = avail;
	if (kind == 2) {
		uint32_t descsz = kaslr_le32(page + 4);

		if (avail < VMCI_NOTE_TEXT_OFF + 10 || memcmp(page + 12, "VMCOREINFO\0", 11))
			return 0;
		off = VMCI_NOTE_TEXT_OFF;
		lim = avail - off < descsz ? avail - off : descsz;
		if (strncmp((char *)page + off, "OSRELEASE=", 10))
			return 0;
	}
	lim = strnlen((char *)page + off, lim);
	if (kaslr_vmci_parse((char *)page + off, lim, &vmci, perr, sizeof(perr)) != KASLR_OK) {
		vs->nr_bad++;
		return 0;
	}
	/*
	 * Past @max a copy is only counted, unless the caller wants the first
	 * verified one: then it is checked, and kept in the last slot if it
	 * verifies.
	 */
	slot = vs->n < vs->max ? &vs->copies[vs->n] : &tmp;
	kaslr_vmci_copy_from(slot, &vmci, sp->paddr + off, lim);
	kaslr_vmci_free(&vmci);
	if (slot != &tmp || vs->stop_first_verified)
		kaslr_vmci_copy_verify(ctx, vs->vml, slot);
	vs->n++;
	if (slot->verified && vs->stop_first_verified) {
		if (slot == &tmp && vs->max > 0)
			vs->copies[vs->max - 1] = tmp;
		return 1;
	}
	return 0;
}

enum kaslr_status kaslr_vmci_scan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				  struct kaslr_vmci_copy *copies, int max, int *nr_ret,
				  int stop_first_verified)
{
	struct vmci_scan *vs;
	enum kaslr_status st;
	uint64_t total;

	*nr_ret = 0;
	if (!ctx->ranges || ctx->nr_ranges <= 0) {
		kaslr_set_err(ctx, "the dump's physical memory ranges are unknown: cannot scan for vmcoreinfo");
		return KASLR_NODATA;
	}
	if (!(vs = calloc(1, sizeof(*vs))))
		return KASLR_NOMEM;
	vs->vml = vml;
	vs->copies = copies;
	vs->max = max;
	vs->stop_first_verified = stop_first_verified;
	st = kaslr_scan_memory(ctx, VMCI_HEAD, vmci_visit, vs, &total);
	if (st != KASLR_OK) {
		free(vs);
		return st;
	}
	if (ctx->progress)
		ctx->progress(ctx->priv, total, total);
	*nr_ret = vs->n;
	if (!vs->n) {
		kaslr_set_err(ctx, "no page of the dump (%" PRIu64 " MiB scanned) starts with a vmcoreinfo text or "
			      "note%s", total >> 20, vs->nr_bad ? " that parses" : "");
		free(vs);
		return KASLR_NOTFOUND;
	}
	free(vs);
	return KASLR_OK;
}
