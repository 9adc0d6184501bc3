/*
 * core/notes.h - the one walker of ELF note streams
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A PT_NOTE segment, a kdump-compressed note area, the kernel's own
 * vmcoreinfo_note buffer: each is a run of 64-bit ELF notes (Elf64_Nhdr:
 * 32-bit namesz, descsz, type, little-endian; name and descriptor each
 * padded to 4 bytes - the kernel, QEMU and kexec pad to 4 in ELF64 cores,
 * whatever the gABI says about 8).  Every reader of notes in the project
 * walks them with this iterator, under one tolerance rule:
 *
 *  - an all-zero note header ends the stream: the kernel's final_note()
 *    and the zero padding after it (vmcoreinfo_note is a fixed-size
 *    buffer, and QEMU copies it whole);
 *  - fewer than 12 bytes left: zeros end the stream (padding), anything
 *    else is a cut header (KASLR_CORRUPT);
 *  - a name (with its padding) or a descriptor that runs past the end is
 *    KASLR_CORRUPT; only the last descriptor may lack its padding;
 *  - what came before a corrupt note stays valid: callers keep it.
 */
#ifndef KASLR_CORE_NOTES_H
#define KASLR_CORE_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

/* One note, pointing into the walked buffer. */
struct kaslr_note {
	const unsigned char *name;	/* namesz bytes, NUL included or not */
	uint32_t namesz;
	uint32_t type;
	const unsigned char *desc;	/* descsz bytes */
	uint32_t descsz;
};

/* Where a walk stands; fill with kaslr_notes_begin. */
struct kaslr_notes_iter {
	const unsigned char *buf;
	size_t len;
	size_t off;
	enum kaslr_status end;		/* KASLR_OK while notes may follow */
};

/**
 * kaslr_notes_begin - start a walk over a note stream
 * @it:       the iterator to set up
 * @buf:      the notes; NULL with @len 0 is an empty stream
 * @len:      their length in bytes
 */
void kaslr_notes_begin(struct kaslr_notes_iter *it, const void *buf, size_t len);

/**
 * kaslr_notes_next - the next note of a walk
 * @it:       the iterator (kaslr_notes_begin)
 * @note_ret: set to the note on KASLR_OK
 *
 * @returns KASLR_OK with a note; KASLR_NODATA at the end of the stream;
 * KASLR_CORRUPT when a note runs past the buffer (or @buf was NULL with a
 * length).  Once it has returned anything but KASLR_OK it returns the same
 * again.
 */
enum kaslr_status kaslr_notes_next(struct kaslr_notes_iter *it, struct kaslr_note *note_ret);

/**
 * kaslr_note_is - does a note carry the name @name?
 * @note: a note from kaslr_notes_next
 * @name: the name without its NUL ("CORE", "QEMU", "VMCOREINFO")
 *
 * The name's bytes followed by nothing but NULs up to namesz: a namesz that
 * counts the NUL (as the kernel and QEMU write it), one that does not, and
 * one that counts padding all match.
 *
 * @returns 1 or 0.
 */
int kaslr_note_is(const struct kaslr_note *note, const char *name);

#endif /* KASLR_CORE_NOTES_H */
