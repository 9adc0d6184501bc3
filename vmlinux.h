/*
 * vmlinux.h - link-time values of a vmlinux, read with libelf
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_VMLINUX_H
#define KASLR_VMLINUX_H

#include "kaslr_core.h"

/**
 * kaslr_vmlinux_open - fill @vml from the vmlinux at @path
 * @err, @errlen: one-line reason on failure
 *
 * Reads the symbol table once for the symbols the methods need, the full
 * linux_banner from its section, and the GNU build-id note.
 *
 * @returns KASLR_OK; KASLR_NODATA if the file is not an x86_64 ELF vmlinux
 * or has no symbol table; KASLR_CORRUPT if it cannot be read.
 */
enum kaslr_status kaslr_vmlinux_open(const char *path, struct kaslr_vmlinux *vml, char *err,
				     size_t errlen);

/**
 * kaslr_vmlinux_symbol - link-time value of one symbol (0 if absent)
 *
 * Slow path (a pass over the symbol table); for the few symbols not in
 * struct kaslr_vmlinux.
 */
uint64_t kaslr_vmlinux_symbol(const char *path, const char *name);

/* Frees what kaslr_vmlinux_open allocated (the banner). */
void kaslr_vmlinux_close(struct kaslr_vmlinux *vml);

#endif /* KASLR_VMLINUX_H */
