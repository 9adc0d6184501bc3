/*
 * fuzz_vmcoreinfo.c - vmcoreinfo text: parse, format, parse again
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: vmcoreinfo text as found in a dump (any bytes).
 * Oracles: whatever parses formats back to text that parses to the same
 * entries; rebuilding it with kaslr_vmci_add_raw gives the same text; the
 * typed builders write values the typed getters read back unchanged.
 */
#include "fuzz.h"
#include "vmcoreinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_entries(const struct kaslr_vmci *a, const struct kaslr_vmci *b, const char *what)
{
	int i;

	if (a->n != b->n)
		FUZZ_FAIL("%s: %d entries, then %d", what, a->n, b->n);
	for (i = 0; i < a->n; i++)
		if (strcmp(a->e[i].key, b->e[i].key) || strcmp(a->e[i].value, b->e[i].value))
			FUZZ_FAIL("%s: entry %d '%s=%s' became '%s=%s'", what, i, a->e[i].key, a->e[i].value,
				  b->e[i].key, b->e[i].value);
}

/* Typed values survive their builder's format and their getter's parse. */
static void typed_round_trip(const struct kaslr_vmci *v)
{
	struct kaslr_vmci out, back;
	char err[160], *text;
	uint64_t off, off2, sym, sym2;
	int64_t pb, pb2, num, num2;
	int has_off, has_pb, has_sym, has_num;

	has_off = !kaslr_vmci_kernel_offset(v, &off);
	has_pb = !kaslr_vmci_placement(v, &pb);
	has_sym = !kaslr_vmci_symbol(v, "_stext", &sym);
	has_num = !kaslr_vmci_number(v, "pgtable_l5_enabled", &num);
	memset(&out, 0, sizeof(out));
	if (kaslr_vmci_add_raw(&out, "OSRELEASE", kaslr_vmci_get(v, "OSRELEASE")) ||
	    (has_off && kaslr_vmci_add_kernel_offset(&out, off)) ||
	    (has_pb && kaslr_vmci_add_number(&out, "phys_base", pb)) ||
	    (has_sym && kaslr_vmci_add_symbol(&out, "_stext", sym)) ||
	    (has_num && kaslr_vmci_add_number(&out, "pgtable_l5_enabled", num)))
		FUZZ_FAIL("typed: a builder failed");
	text = kaslr_vmci_format(&out);
	if (!text)
		FUZZ_FAIL("typed: format failed");
	if (kaslr_vmci_parse(text, strlen(text), &back, err, sizeof(err)) != KASLR_OK)
		FUZZ_FAIL("typed: own text does not parse: %s", err);
	if (has_off && (kaslr_vmci_kernel_offset(&back, &off2) || off2 != off))
		FUZZ_FAIL("typed: KERNELOFFSET 0x%" PRIx64 " came back different", off);
	if (has_pb && (kaslr_vmci_placement(&back, &pb2) || pb2 != pb))
		FUZZ_FAIL("typed: phys_base %" PRId64 " came back different", pb);
	if (has_sym && (kaslr_vmci_symbol(&back, "_stext", &sym2) || sym2 != sym))
		FUZZ_FAIL("typed: SYMBOL(_stext) 0x%" PRIx64 " came back different", sym);
	if (has_num && (kaslr_vmci_number(&back, "pgtable_l5_enabled", &num2) || num2 != num))
		FUZZ_FAIL("typed: NUMBER(pgtable_l5_enabled) %" PRId64 " came back different", num);
	free(text);
	kaslr_vmci_free(&back);
	kaslr_vmci_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_vmci v, again, rebuilt;
	char err[160], *text, *text2;
	enum kaslr_status st;
	int i;

	err[0] = '\0';
	st = kaslr_vmci_parse((const char *)data, size, &v, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		FUZZ_FAIL("parse: unterminated error");
	if (st != KASLR_OK) {
		if (v.n || v.e)
			FUZZ_FAIL("parse: %s but entries left behind", kaslr_status_name(st));
		return 0;
	}
	if (!v.n || strcmp(v.e[0].key, "OSRELEASE"))
		FUZZ_FAIL("parse: OK without OSRELEASE first");

	text = kaslr_vmci_format(&v);
	if (!text)
		FUZZ_FAIL("format failed");
	if (kaslr_vmci_parse(text, strlen(text), &again, err, sizeof(err)) != KASLR_OK)
		FUZZ_FAIL("formatted text does not parse: %s", err);
	same_entries(&v, &again, "format+parse");

	memset(&rebuilt, 0, sizeof(rebuilt));
	for (i = 0; i < v.n; i++)
		if (kaslr_vmci_add_raw(&rebuilt, v.e[i].key, v.e[i].value))
			FUZZ_FAIL("add_raw refuses parsed entry '%s'", v.e[i].key);
	text2 = kaslr_vmci_format(&rebuilt);
	if (!text2 || strcmp(text, text2))
		FUZZ_FAIL("rebuilt text differs");

	typed_round_trip(&v);

	free(text);
	free(text2);
	kaslr_vmci_free(&v);
	kaslr_vmci_free(&again);
	kaslr_vmci_free(&rebuilt);
	return 0;
}
