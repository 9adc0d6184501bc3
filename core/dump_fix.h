/*
 * core/dump_fix.h - write a verified vmcoreinfo into the dump file itself
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A dump that carries the right VMCOREINFO note opens in every tool with no
 * options: crash, drgn, makedumpfile, a colleague's crash.  These write the
 * note the caller verified (the core never checks the text: the callers
 * only pass a verified answer) into a copy of the dump, or into the dump
 * itself with a record that undoes the change byte for byte.
 *
 * ELF cores.  crash reads the notes only from the header region: the bytes
 * before the file-first PT_LOAD's data (netdump.c, resize_elf_header), and
 * takes the first program header for the PT_NOTE.  QEMU leaves no room
 * there (its first PT_LOAD's data starts right after the notes).
 *  - A copy is laid out anew: the ELF header, the program headers with the
 *    PT_NOTE first (added when the dump has none), the section headers
 *    (QEMU writes a .shstrtab; makedumpfile finds the program headers only
 *    right after the ELF header, so they come first), the notes, and the
 *    PT_LOAD data shifted by whole pages (holes stay holes, and each
 *    segment keeps its offset within a page, which decides crash's
 *    NETDUMP/KDUMP guess).
 *  - In place, the file-first PT_LOAD segments are moved to the end of the
 *    file, one after the other, until the notes fit into the room they
 *    leave; a cost that does not depend on the dump's size (QEMU: 640 KiB).
 *    The headers (ELF header, program and section headers: at most a page)
 *    are rewritten as one block, with the program headers first.
 * kdump-compressed files.  The note area and the vmcoreinfo area are
 * appended at the end and the sub-header points to them (header version 4
 * and later), with its phys_base set to the verified one (QEMU 7.2 writes
 * a wrong one there) and the header's utsname filled in where QEMU left
 * it empty (libkdumpfile, and so drgn, needs sysname, release, version).  A flattened input is written out reassembled.
 *
 * Every existing note is kept but VMCOREINFO notes, which are replaced.
 *
 * Safety.  A copy is written to an unnamed file beside OUT (a hidden
 * temporary where O_TMPFILE is not supported), synced, then linked to OUT:
 * a failed or killed copy leaves no OUT.  In place, every step that
 * changes what a reader sees is one write of one header block (the ELF
 * headers, at most a page; the kdump sub-header's first 64 bytes) between
 * synced states, so a writer killed at any point leaves a dump that opens
 * as before or as after.  The undo record is written and synced, at the end of the file,
 * before the first such step.
 */
#ifndef KASLR_CORE_DUMP_FIX_H
#define KASLR_CORE_DUMP_FIX_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

/* Segments moved out of an ELF dump's way in place, at most (else: write a copy). */
#define KASLR_FIX_MAX_MOVE	(64ULL << 20)

struct kaslr_fix_in {
	const char *vmcoreinfo;		/* the verified text, "KEY=VALUE\n" lines */
	size_t vmcoreinfo_len;
	int64_t phys_base;		/* the verified phys_base (kdump sub-header) */
	/*
	 * The verified linux_banner (kdump: the header's empty utsname fields
	 * are filled from it, as makedumpfile fills them), or NULL.
	 */
	const char *banner;
	size_t banner_len;
};

/**
 * kaslr_fix_copy - write a copy of a dump that carries the vmcoreinfo
 * @in:     the dump (ELF or kdump-compressed, plain or flattened)
 * @out:    the copy to write
 * @force:  replace @out when it exists (otherwise refused)
 * @fix:    what to write
 * @msg, @msglen: on KASLR_OK what was written ("ELF, notes ... "), else
 *          one line saying why nothing was written
 *
 * @returns KASLR_OK; KASLR_NODATA when refused (@out exists, a layout it
 * does not know) with nothing written; KASLR_CORRUPT for an unreadable or
 * inconsistent input or a failed write (no @out, no temporary left);
 * KASLR_NOMEM.
 */
enum kaslr_status kaslr_fix_copy(const char *in, const char *out, int force, const struct kaslr_fix_in *fix,
				 char *msg, size_t msglen);

/**
 * kaslr_fix_in_place - make the same change to the dump itself
 * @path: the dump (plain ELF or kdump-compressed; not flattened)
 * @fix:  what to write
 * @msg, @msglen: what was done, or why nothing was
 *
 * @returns KASLR_OK; KASLR_NODATA when refused with the file unchanged (read
 * only, flattened, already changed and not restored, segments too large
 * to move, no PT_NOTE, a kdump header older than version 4); KASLR_CORRUPT
 * for an unreadable input or a failed write (before the undo record is
 * complete the file is cut back to what it was; after, it opens as before
 * and kaslr_fix_restore puts it back); KASLR_NOMEM.
 */
enum kaslr_status kaslr_fix_in_place(const char *path, const struct kaslr_fix_in *fix, char *msg,
				     size_t msglen);

/**
 * kaslr_fix_restore - undo kaslr_fix_in_place, byte for byte
 * @path: the dump
 * @msg, @msglen: what was done, or why nothing was
 *
 * Also finishes an interrupted change or restore: the record stays until
 * the last step, which cuts the file back to its first size.
 *
 * @returns KASLR_OK; KASLR_NOTFOUND when the file carries no record;
 * KASLR_CORRUPT when the record is damaged or a write failed; KASLR_NODATA
 * when the file cannot be opened for writing.
 */
enum kaslr_status kaslr_fix_restore(const char *path, char *msg, size_t msglen);

/**
 * kaslr_fix_changed - does the dump carry an undo record?
 * @path: the dump
 *
 * @returns 1 when it was changed in place and not restored, 0 when not,
 * -1 when it cannot be read.
 */
int kaslr_fix_changed(const char *path);

#endif /* KASLR_CORE_DUMP_FIX_H */
