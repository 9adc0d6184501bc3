/*
 * vmcoreinfo.h - vmcoreinfo text in and out, no crash dependency
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The kernel writes "KEY=VALUE\n" lines (kernel/vmcore_info.c, 6.9+;
 * kernel/crash_core.c before): SYMBOL() and KERNELOFFSET in hex without 0x,
 * NUMBER() signed decimal, SIZE()/OFFSET()/LENGTH() unsigned decimal.
 */
#ifndef KASLR_VMCOREINFO_H
#define KASLR_VMCOREINFO_H

#include <stddef.h>
#include <stdint.h>
#include "core/types.h"

struct kaslr_vmci_entry {
	char *key;		/* "SYMBOL(_stext)", "KERNELOFFSET", ... */
	char *value;		/* as written, without the newline */
};

struct kaslr_vmci {
	struct kaslr_vmci_entry *e;
	int n, cap;
};

/**
 * kaslr_vmci_parse - parse vmcoreinfo text
 * @text, @len: the text (need not be NUL-terminated; parsing stops at a NUL)
 * @vmci_ret:   parsed lines, in order (free with kaslr_vmci_free)
 * @err, @errlen: reason on failure
 *
 * @returns KASLR_OK; KASLR_CORRUPT when a line has no '=' or a non-printable
 * byte, or no OSRELEASE line comes first; KASLR_NOMEM.
 */
enum kaslr_status kaslr_vmci_parse(const char *text, size_t len, struct kaslr_vmci *vmci_ret,
				   char *err, size_t errlen);
void kaslr_vmci_free(struct kaslr_vmci *vmci);

/* Value of @key, or NULL. */
const char *kaslr_vmci_get(const struct kaslr_vmci *vmci, const char *key);

/* KERNELOFFSET (hex) -> @offset_ret; @returns 0, or -1 if absent/invalid. */
int kaslr_vmci_kernel_offset(const struct kaslr_vmci *vmci, uint64_t *offset_ret);
/*
 * The value that with KERNELOFFSET places the image: NUMBER(phys_base)
 * (x86_64, signed decimal) or NUMBER(kimage_voffset) (arm64, hex), which
 * ever the text has.  @returns 0, or -1.
 */
int kaslr_vmci_placement(const struct kaslr_vmci *vmci, int64_t *val_ret);
/* SYMBOL(name) (hex) -> @val_ret; @returns 0, or -1. */
int kaslr_vmci_symbol(const struct kaslr_vmci *vmci, const char *name, uint64_t *val_ret);
/* NUMBER(name) (signed decimal) -> @val_ret; @returns 0, or -1. */
int kaslr_vmci_number(const struct kaslr_vmci *vmci, const char *name, int64_t *val_ret);

/**
 * kaslr_write_text_file - write @text (a newline added if missing) to @path, all or nothing
 * @err, @errlen: one line on failure
 *
 * Writes a temporary file beside @path, syncs it, renames it over @path
 * and syncs the directory: a reader never sees half a file, and a failure
 * (a full disk) leaves neither @path changed nor the temporary behind.  A
 * symlink is written through; an existing file keeps its mode, a new one
 * gets 0666 less the umask.
 *
 * @returns 0, or -1.
 */
int kaslr_write_text_file(const char *path, const char *text, char *err, size_t errlen);

/**
 * kaslr_vmci_agrees - is this vmcoreinfo the one of this kernel at these values?
 * @text, @len:     vmcoreinfo text (a dump's note, or a copy found in RAM)
 * @osrelease:      the vmlinux's release
 * @build_id:       the vmlinux's GNU build-id in hex, or "" when it has none
 * @kernel_offset, @phys_base: the verified answer
 * @why, @whylen:   on 0, which key disagrees and how
 *
 * A copy is emitted as "the kernel's own" only if it agrees: OSRELEASE
 * equal, BUILD-ID equal where both have one (the kernel writes it since
 * 5.9), KERNELOFFSET equal (absent only for offset 0: kernels before 3.14
 * write none), NUMBER(phys_base) equal where present (x86_64 writes it
 * since 4.10).  A note that is present but wrong (Hyper-V writes a
 * fabricated one, drgn issue #350) fails here.
 *
 * @returns 1 agrees; 0 another kernel's (release, build-id) or unparsable;
 * -1 this kernel's, with another KERNELOFFSET or phys_base.
 */
int kaslr_vmci_agrees(const char *text, size_t len, const char *osrelease, const char *build_id,
		      uint64_t kernel_offset, int64_t phys_base, char *why, size_t whylen);

/* ---- building a note (kaslr -D) ---- */

/* Append lines in the kernel's formats; each returns 0 or -1 (no memory). */
int kaslr_vmci_add_raw(struct kaslr_vmci *vmci, const char *key, const char *value);
int kaslr_vmci_add_symbol(struct kaslr_vmci *vmci, const char *name, uint64_t value);
int kaslr_vmci_add_number(struct kaslr_vmci *vmci, const char *name, int64_t value);
int kaslr_vmci_add_size(struct kaslr_vmci *vmci, const char *name, uint64_t value);
int kaslr_vmci_add_offset(struct kaslr_vmci *vmci, const char *type_field, uint64_t value);
int kaslr_vmci_add_length(struct kaslr_vmci *vmci, const char *name, uint64_t value);
int kaslr_vmci_add_kernel_offset(struct kaslr_vmci *vmci, uint64_t offset);

/**
 * kaslr_vmci_format - the text, one "KEY=VALUE\n" per entry, in order
 * @returns a malloc'ed NUL-terminated string, or NULL.
 */
char *kaslr_vmci_format(const struct kaslr_vmci *vmci);

/* ---- finding a note (source 1 of kaslr -D) ---- */

/**
 * kaslr_vmci_from_notes - the text of a VMCOREINFO ELF note among others
 * @notes, @len: a PT_NOTE segment or kdump note area, walked by
 *               core/notes.h (which says what it tolerates)
 * @text_ret:    malloc'ed NUL-terminated copy of the note's descriptor
 *
 * @returns KASLR_OK; KASLR_NODATA when there is no VMCOREINFO note;
 * KASLR_CORRUPT when a note before it runs past @len; KASLR_NOMEM.
 */
enum kaslr_status kaslr_vmci_from_notes(const void *notes, size_t len, char **text_ret);

#endif /* KASLR_VMCOREINFO_H */
