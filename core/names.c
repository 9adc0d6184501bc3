/*
 * core/names.c - the names of the checks a candidate passed, for both shells
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One table for kaslr_ext.c and kaslr_find.c: the module prints the long
 * texts, kaslr-find the keys (JSON, -v) and the texts.  A check added to
 * kaslr_verify() gets its names here, once.  Shell side: it names bits of
 * the method API (kaslr_core.h).
 */
#include <stdio.h>

#include "core/candidate.h"
#include "core/names.h"

const struct kaslr_check_name kaslr_check_names[] = {
	{ KASLR_V_BANNER, "banner", "linux_banner equal", "linux_banner equal" },
	{ KASLR_V_ALIGNED, "aligned", "aligned", "aligned (2 MiB on x86_64, 64 KiB on arm64)" },
	{ KASLR_V_WINDOW, "window", "in window", "in the kernel image window" },
	{ KASLR_V_RELOC, "reloc", "relocated pointers agree", "relocated pointers agree" },
	{ KASLR_V_PAGETABLE, "pagetable", "page tables agree", "page tables agree" },
	{ KASLR_V_VMCOREINFO, "vmcoreinfo", "in-RAM vmcoreinfo agrees", "in-RAM vmcoreinfo agrees" },
};

const size_t kaslr_nr_check_names = sizeof(kaslr_check_names) / sizeof(kaslr_check_names[0]);

const char *
kaslr_checks_join(unsigned checks, enum kaslr_check_words words, const char *sep, const char *none,
		  char *buf, size_t len)
{
	size_t i, n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < kaslr_nr_check_names; i++) {
		const struct kaslr_check_name *c = &kaslr_check_names[i];

		if (!(checks & c->bit))
			continue;
		n += (size_t)snprintf(buf + (n < len ? n : len - 1), n < len ? len - n : 0, "%s%s",
				      n ? sep : "",
				      words == KASLR_CHECK_KEY ? c->key
				      : words == KASLR_CHECK_TEXT ? c->text : c->long_text);
	}
	if (!n)
		snprintf(buf, len, "%s", none);
	return buf;
}
