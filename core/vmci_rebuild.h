/*
 * core/vmci_rebuild.h - the vmcoreinfo a kernel would have written, from its
 * type information
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CORE_VMCI_REBUILD_H
#define KASLR_CORE_VMCI_REBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"
#include "vmcoreinfo.h"

/*
 * How the rebuild asks about the vmlinux and the dump.  Every function
 * returns 0 with the answer, or -1 when the thing does not exist (which
 * decides whether the kernel would have emitted a key, so "absent" must
 * never be confused with "error").  Type names are spelled as in C:
 * "struct page", "nodemask_t".  Members may sit in anonymous structs or
 * unions.  The same table can be driven by crash (crash/vmci_crash.c) or libdw.
 */
struct kaslr_typeinfo_ops {
	/* Link-time value of a symbol of the vmlinux (no KASLR offset). */
	int (*symbol)(void *priv, const char *name, uint64_t *value_ret);
	/* sizeof(@type). */
	int (*type_size)(void *priv, const char *type, uint64_t *size_ret);
	/* offsetof(@type, @member). */
	int (*member_offset)(void *priv, const char *type, const char *member, uint64_t *offset_ret);
	/*
	 * Elements of the array member @member of @type, or, with @type NULL,
	 * of the array variable @member; -1 if it is not an array (a pointer).
	 */
	int (*array_length)(void *priv, const char *type, const char *member, uint64_t *len_ret);
	/* Value of enumerator @name, -1 unless it belongs to "enum @enum_tag". */
	int (*enumerator)(void *priv, const char *enum_tag, const char *name, int64_t *value_ret);
	/* Guest physical memory, as kaslr_read_phys_fn (never crosses a 4 KiB page). */
	kaslr_read_phys_fn read_phys;
	/* Optional: told about every table entry that was not emitted, and why. */
	void (*skipped)(void *priv, const char *key, const char *why);
};

struct kaslr_vmci_rebuild_in {
	uint64_t kernel_offset;		/* verified KERNELOFFSET */
	int64_t phys_base;		/* verified phys_base */
	int levels;			/* paging levels from CR4.LA57; 0 if unknown */
	const char *osrelease;		/* the vmlinux's, used if init_uts_ns cannot be read */
	const char *build_id;		/* the vmlinux's GNU build-id, 40 hex digits, or "" */
};

/**
 * kaslr_vmci_rebuild - the vmcoreinfo the kernel would have written
 * @ops, @priv: type information and memory of the vmlinux and dump
 * @in:         the verified placement
 * @vmci_ret:   the lines, in the kernel's emission order (x86_64)
 * @err, @errlen: reason on failure
 *
 * Walks one table of every key x86_64 kernels emit
 * (crash_save_vmcoreinfo_init() and arch_crash_save_vmcoreinfo()); each
 * entry decides from the type information whether this kernel emits it and
 * computes its value, reading kernel variables through the placement where
 * the kernel prints a run-time value.  SYMBOL() values are run-time
 * addresses (link-time + KERNELOFFSET).
 *
 * @returns KASLR_OK; KASLR_NOTFOUND when init_uts_ns or _stext is missing
 * (not a vmlinux with debug info); KASLR_CORRUPT when the dump's phys_base
 * variable contradicts @in; KASLR_NOMEM.
 */
enum kaslr_status kaslr_vmci_rebuild(const struct kaslr_typeinfo_ops *ops, void *priv,
				     const struct kaslr_vmci_rebuild_in *in, struct kaslr_vmci *vmci_ret,
				     char *err, size_t errlen);

#endif /* KASLR_CORE_VMCI_REBUILD_H */
