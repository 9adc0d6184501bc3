/*
 * crash/vmci_crash.h - the vmcoreinfo of "kaslr -D" / "kaslr -w", rebuilt through crash
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CRASH_VMCI_CRASH_H
#define KASLR_CRASH_VMCI_CRASH_H

#include <stddef.h>

#include "kaslr_core.h"

/* What the rebuild works from: kaslr_vmci_crash_build's @priv. */
struct kaslr_vmci_crash_build {
	struct kaslr_ctx *ctx;			/* the session's (its read_phys reads the dump) */
	const struct kaslr_vmlinux *vml;	/* osrelease, build_id */
	const struct kaslr_candidate *cand;	/* the verified KERNELOFFSET, phys_base, levels */
};

/**
 * kaslr_vmci_crash_build - the vmcoreinfo the kernel would have written,
 * rebuilt from the vmlinux's debug information through crash's symbol and
 * type functions (kaslr_vmci_rebuild): the module's kaslr_vmci_build_fn
 * (core/vmci_source.h), used when the dump's note and the kernel's copy in
 * RAM cannot be passed on, or always with "kaslr -D -R".
 *
 * Works in --minimal mode and in a session crash placed wrongly: symbol
 * values are taken back to link time and memory is read physically
 * through the candidate, never through crash's translation.
 *
 * @returns KASLR_OK (@note: the lines left out, if any), or the rebuild's
 * status (@note: why).
 */
enum kaslr_status kaslr_vmci_crash_build(void *priv, char **text_ret, const char **what_ret,
					 char *note, size_t notelen);

#endif /* KASLR_CRASH_VMCI_CRASH_H */
