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
#include "kaslr_core.h"

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
/* NUMBER(phys_base) (signed decimal) -> @pb_ret; @returns 0, or -1. */
int kaslr_vmci_phys_base(const struct kaslr_vmci *vmci, int64_t *pb_ret);
/* SYMBOL(name) (hex) -> @val_ret; @returns 0, or -1. */
int kaslr_vmci_symbol(const struct kaslr_vmci *vmci, const char *name, uint64_t *val_ret);
/* NUMBER(name) (signed decimal) -> @val_ret; @returns 0, or -1. */
int kaslr_vmci_number(const struct kaslr_vmci *vmci, const char *name, int64_t *val_ret);

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

#endif /* KASLR_VMCOREINFO_H */
