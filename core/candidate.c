/*
 * core/candidate.c - candidates: making them, noting why, naming them
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

void kaslr_cand_init(struct kaslr_candidate *cand, enum kaslr_method method, int cpu)
{
	memset(cand, 0, sizeof(*cand));
	cand->method = method;
	cand->cpu = cpu;
	cand->status = KASLR_NOTFOUND;
}

void kaslr_cand_note(struct kaslr_candidate *cand, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cand->note, sizeof(cand->note), fmt, ap);
	va_end(ap);
}

/* Append "; @why" to a candidate's note, as room allows. */
void kaslr_cand_note_failure(struct kaslr_candidate *cand, const char *why)
{
	kaslr_buf_append(cand->note, sizeof(cand->note), "; %s", why);
}

void kaslr_first_failure_keep(struct kaslr_first_failure *ff, const struct kaslr_candidate *c, int found,
			      const char *why)
{
	if (ff->have)
		return;
	ff->cand = *c;
	if (found)
		kaslr_cand_note_failure(&ff->cand, "fails verification");
	else
		kaslr_cand_note(&ff->cand, "%s", why);
	ff->have = 1;
}

enum kaslr_status kaslr_first_failure_take(const struct kaslr_first_failure *ff, struct kaslr_candidate *cand_ret,
					   const char *why, enum kaslr_status worst)
{
	if (ff->have)
		*cand_ret = ff->cand;
	else
		kaslr_cand_note(cand_ret, "%s", why);
	cand_ret->status = ff->have ? KASLR_NOTFOUND : worst;
	return cand_ret->status;
}

const char *kaslr_cpus_text(const struct kaslr_candidate *c, char *buf, size_t size)
{
	int cpu, start = -1, n = 0, any = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (cpu = 0; cpu <= KASLR_CPUSET_MAX; cpu++) {
		int in = cpu < KASLR_CPUSET_MAX && (c->cpu_set[cpu / 64] >> (cpu % 64) & 1);

		if (in && start < 0)
			start = cpu;
		if (!in && start >= 0) {
			int w = start == cpu - 1 ? snprintf(buf + n, size - (size_t)n, "%s%d", any ? "," : "", start)
						 : snprintf(buf + n, size - (size_t)n, "%s%d-%d", any ? "," : "", start,
							    cpu - 1);

			if (w < 0 || (size_t)(n + w) >= size) {
				/* No room: cut the list where "..." still fits. */
				size_t at = size > 4 ? size - 4 : 0;

				if (at > (size_t)n)
					at = (size_t)n;
				snprintf(buf + at, size - at, "...");
				return buf;
			}
			n += w;
			any = 1;
			start = -1;
		}
	}
	if (!any)
		snprintf(buf, size, c->cpu >= 0 ? "%d" : "-", c->cpu);
	return buf;
}

static const char *method_names[KASLR_M_COUNT] = {
	[KASLR_M_NONE] = "none",
	[KASLR_M_PAGETABLE] = "pagetable",
	[KASLR_M_IDT] = "idt",
	[KASLR_M_VMCOREINFO] = "vmcoreinfo",
	[KASLR_M_ELFCOREHDR] = "elfcorehdr",
	[KASLR_M_SCAN] = "scan",
	[KASLR_M_PTSCAN] = "ptscan",
	[KASLR_M_MANUAL] = "manual",
};

const char *kaslr_method_name(enum kaslr_method m)
{
	return (unsigned)m < KASLR_M_COUNT ? method_names[m] : "?";
}

int kaslr_method_from_name(const char *name)
{
	int m;

	for (m = 0; m < KASLR_M_COUNT; m++)
		if (!strcasecmp(name, method_names[m]))
			return m;
	return -1;
}

const char *kaslr_status_name(enum kaslr_status s)
{
	switch (s) {
	case KASLR_OK:
		return "ok";
	case KASLR_NODATA:
		return "nodata";
	case KASLR_NOTFOUND:
		return "notfound";
	case KASLR_AMBIGUOUS:
		return "ambiguous";
	case KASLR_CORRUPT:
		return "corrupt";
	case KASLR_NOMEM:
		return "nomem";
	}
	return "?";
}
