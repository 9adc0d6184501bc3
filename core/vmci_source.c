/*
 * core/vmci_source.c - where the vmcoreinfo of "kaslr -D"/"-w" and
 * "kaslr-find --vmcoreinfo" comes from
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One policy for both shells: the kernel's own text where the dump has a
 * copy that agrees with the verified answer, else what the caller builds
 * (kaslr.so: a rebuild from the debug information through crash; kaslr-find:
 * a minimal one).  The shells differ only in which copies they look at
 * (kaslr-find has never read the dump's note) and in how they say it.
 * Shell side: it uses the method API (kaslr_core.h), no crash header.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kaslr_core.h"
#include "vmcoreinfo.h"
#include "core/util.h"
#include "core/vmci_source.h"

/* Largest copy in RAM worth reading: the kernel's is one page (VMCOREINFO_BYTES). */
#define VMCI_COPY_MAX (1 << 20)

static int
agrees(const char *text, const struct kaslr_vmlinux *vml, const struct kaslr_candidate *cand,
       char *why, size_t whylen)
{
	return kaslr_vmci_agrees(text, strlen(text), vml->osrelease, vml->build_id, cand->kernel_offset,
				 cand->phys_base, why, whylen) > 0;
}

/* Source 1: the dump's own note. */
static char *
from_note(const void *notes, size_t notes_len, const struct kaslr_vmlinux *vml,
	  const struct kaslr_candidate *cand, struct kaslr_vmci_passed *p)
{
	char *text = NULL;

	switch (kaslr_vmci_from_notes(notes, notes_len, &text)) {
	case KASLR_OK:
		break;
	case KASLR_NODATA:
		p->why = KASLR_VMCI_ABSENT;
		return NULL;
	default:
		p->why = KASLR_VMCI_UNREADABLE;
		return NULL;
	}
	if (agrees(text, vml, cand, p->detail, sizeof(p->detail)))
		return text;
	p->why = KASLR_VMCI_DISAGREES;
	free(text);
	return NULL;
}

/* A copy the scan found, read whole and cut at its first NUL; NULL if it cannot be. */
static char *
read_copy(struct kaslr_ctx *ctx, const struct kaslr_vmci_copy *v)
{
	char *text = calloc(1, v->len + 1);

	if (!text)
		return NULL;
	if (kaslr_phys_read(ctx, v->paddr, text, v->len) < 0) {
		free(text);
		return NULL;
	}
	text[strnlen(text, v->len)] = '\0';
	return text;
}

/*
 * Source 2: the kernel's copy in RAM.  Of the scan's copies only those whose
 * own values are the answer's; then vmcoreinfo_data.  When none agrees, the
 * last one read that disagreed is the reason, else that none could be read.
 */
static char *
from_ram(struct kaslr_ctx *ctx, const struct kaslr_vmci_policy *pol, const struct kaslr_vmlinux *vml,
	 const struct kaslr_candidate *cand, uint64_t *paddr_ret, struct kaslr_vmci_passed *p)
{
	enum kaslr_status st;
	char *text;
	int k;

	for (k = 0; k < pol->nr_copies; k++) {
		const struct kaslr_vmci_copy *v = &pol->copies[k];

		if (!v->verified || !v->has_offset || !v->has_phys_base ||
		    v->kernel_offset != cand->kernel_offset || v->phys_base != cand->phys_base || !v->len ||
		    v->len > VMCI_COPY_MAX || !(text = read_copy(ctx, v)))
			continue;
		if (agrees(text, vml, cand, p->detail, sizeof(p->detail))) {
			memset(p, 0, sizeof(*p));
			*paddr_ret = v->paddr;
			return text;
		}
		p->why = KASLR_VMCI_DISAGREES;
		p->paddr = v->paddr;
		free(text);
	}
	st = kaslr_vmci_read_ram(ctx, vml, NULL, cand->kernel_offset, cand->phys_base, &text, paddr_ret);
	if (st != KASLR_OK) {
		if (p->why == KASLR_VMCI_NOT_TRIED) {
			p->why = KASLR_VMCI_UNREADABLE;
			kaslr_str_copy(p->detail, sizeof(p->detail),
				       ctx->err[0] ? ctx->err : kaslr_status_name(st));
		}
		return NULL;
	}
	if (agrees(text, vml, cand, p->detail, sizeof(p->detail))) {
		memset(p, 0, sizeof(*p));
		return text;
	}
	p->why = KASLR_VMCI_DISAGREES;
	p->paddr = *paddr_ret;
	free(text);
	return NULL;
}

/* A passed-over source as the source line says it. */
static void
passed_text(char *buf, size_t len, int ram, const struct kaslr_vmci_passed *p)
{
	switch (p->why) {
	case KASLR_VMCI_ABSENT:
		snprintf(buf, len, "no VMCOREINFO note in the dump");
		break;
	case KASLR_VMCI_UNREADABLE:
		if (ram)
			snprintf(buf, len, "no readable copy in RAM: %.300s", p->detail);
		else
			snprintf(buf, len, "the dump's note segment is unreadable");
		break;
	case KASLR_VMCI_DISAGREES:
		if (ram)
			snprintf(buf, len, "the copy in RAM at physical %" PRIx64 " is not this kernel's: %.300s",
				 p->paddr, p->detail);
		else
			snprintf(buf, len, "the dump's VMCOREINFO note is not this kernel's: %.300s", p->detail);
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

enum kaslr_status
kaslr_vmci_source(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, const struct kaslr_candidate *cand,
		  const struct kaslr_vmci_policy *pol, char **text_ret, struct kaslr_vmci_choice *ch)
{
	char why_note[KASLR_ERRLEN], why_ram[KASLR_ERRLEN], note[KASLR_ERRLEN] = "";
	char reasons[2 * KASLR_ERRLEN] = "";
	const char *what = "built";
	enum kaslr_status st;

	memset(ch, 0, sizeof(*ch));
	*text_ret = NULL;
	if ((pol->sources & KASLR_VMCI_SRC_NOTE) &&
	    (*text_ret = from_note(pol->notes, pol->notes_len, vml, cand, &ch->note))) {
		ch->from = KASLR_VMCI_FROM_NOTE;
		kaslr_str_copy(ch->line, sizeof(ch->line), "the dump's own VMCOREINFO note");
		return KASLR_OK;
	}
	passed_text(why_note, sizeof(why_note), 0, &ch->note);
	if ((pol->sources & KASLR_VMCI_SRC_RAM) &&
	    (*text_ret = from_ram(ctx, pol, vml, cand, &ch->paddr, &ch->ram))) {
		ch->from = KASLR_VMCI_FROM_RAM;
		kaslr_buf_append(ch->line, sizeof(ch->line), "the kernel's own copy in RAM at physical %" PRIx64
				 "%s%s%s", ch->paddr, why_note[0] ? " (" : "", why_note, why_note[0] ? ")" : "");
		return KASLR_OK;
	}
	passed_text(why_ram, sizeof(why_ram), 1, &ch->ram);

	st = pol->build(pol->build_priv, text_ret, &what, note, sizeof(note));
	if (st != KASLR_OK) {
		free(*text_ret);
		*text_ret = NULL;
		kaslr_str_copy(ch->line, sizeof(ch->line), note);
		return st;
	}
	ch->from = KASLR_VMCI_FROM_BUILD;
	if (!pol->sources)
		kaslr_str_copy(reasons, sizeof(reasons), "forced");
	else
		kaslr_buf_append(reasons, sizeof(reasons), "%s%s%s", why_note,
				 why_note[0] && why_ram[0] ? "; " : "", why_ram);
	/* Cut to the line's size as a whole, never a reason on its own. */
	kaslr_buf_append(ch->line, sizeof(ch->line), "%s (%s)%s%s", what, reasons, note[0] ? "; " : "", note);
	return KASLR_OK;
}

int
kaslr_vmci_note_check(const void *notes, size_t notes_len, const struct kaslr_vmlinux *vml,
		      const struct kaslr_candidate *cand, struct kaslr_vmci_passed *p)
{
	char *text;

	memset(p, 0, sizeof(*p));
	if (!(text = from_note(notes, notes_len, vml, cand, p)))
		return 0;
	free(text);
	return 1;
}
