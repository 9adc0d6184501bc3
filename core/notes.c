/*
 * core/notes.c - the one walker of ELF note streams (core/notes.h)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "core/notes.h"
#include "core/util.h"

#define NHDR_SIZE 12	/* Elf64_Nhdr: namesz, descsz, type */

static size_t
align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

void
kaslr_notes_begin(struct kaslr_notes_iter *it, const void *buf, size_t len)
{
	it->buf = buf;
	it->len = len;
	it->off = 0;
	it->end = KASLR_OK;
	if (!buf)
		it->end = len ? KASLR_CORRUPT : KASLR_NODATA;
}

/* @returns 1 if the @n bytes at @p are all zero. */
static int
all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

enum kaslr_status
kaslr_notes_next(struct kaslr_notes_iter *it, struct kaslr_note *note_ret)
{
	const unsigned char *p = it->buf;
	size_t left, name_off, desc_off, next;
	uint32_t namesz, descsz;

	if (it->end != KASLR_OK)
		return it->end;
	left = it->len - it->off;
	if (left < NHDR_SIZE) {
		/* Trailing zero padding is harmless; anything else is a cut header. */
		it->end = all_zero(p + it->off, left) ? KASLR_NODATA : KASLR_CORRUPT;
		return it->end;
	}
	if (all_zero(p + it->off, NHDR_SIZE)) {
		/* final_note(): the kernel's terminator. */
		it->end = KASLR_NODATA;
		return it->end;
	}
	namesz = kaslr_le32(p + it->off);
	descsz = kaslr_le32(p + it->off + 4);
	name_off = it->off + NHDR_SIZE;
	/* Sizes are 32-bit, lengths size_t: compare against what is left, never add first. */
	if (align4(namesz) > it->len - name_off) {
		it->end = KASLR_CORRUPT;
		return it->end;
	}
	desc_off = name_off + align4(namesz);
	if (descsz > it->len - desc_off) {
		it->end = KASLR_CORRUPT;
		return it->end;
	}
	next = desc_off + align4(descsz);
	if (next > it->len)
		next = it->len;	/* the last descriptor may lack its padding */
	note_ret->name = p + name_off;
	note_ret->namesz = namesz;
	note_ret->type = kaslr_le32(p + it->off + 8);
	note_ret->desc = p + desc_off;
	note_ret->descsz = descsz;
	it->off = next;
	return KASLR_OK;
}

int
kaslr_note_is(const struct kaslr_note *note, const char *name)
{
	size_t n = strlen(name);

	if (note->namesz < n || memcmp(note->name, name, n))
		return 0;
	return all_zero(note->name + n, note->namesz - n);
}
