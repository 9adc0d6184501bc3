/*
 * crash/vmci_crash.h - the vmcoreinfo of "kaslr -D" / "kaslr -w", inside crash
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CRASH_VMCI_CRASH_H
#define KASLR_CRASH_VMCI_CRASH_H

#include <stddef.h>
#include <stdint.h>

#include "kaslr_core.h"

/**
 * kaslr_vmci_crash_text - the vmcoreinfo the dump should have had
 * @ctx:       core context of the session (its read_phys reads the dump)
 * @vml:       the vmlinux's link-time values (osrelease, build_id)
 * @notes, @notes_len: the dump's note segment or note area (may be NULL/0)
 * @cand:      the verified candidate (KERNELOFFSET, phys_base, paging levels)
 * @force_rebuild: skip sources 1 and 2 (kaslr -D -R: compare the rebuild with them)
 * @text_ret:  malloc'ed "KEY=VALUE\n" text, nothing else in it
 * @source, @sourcelen: one line saying where the text came from, or on
 *             failure why there is none
 *
 * Sources, first that works: (1) the dump's own VMCOREINFO note and (2)
 * the kernel's copy in RAM (kaslr_vmci_read_ram), each only when it agrees
 * with @cand and the vmlinux (kaslr_vmci_agrees: KERNELOFFSET,
 * NUMBER(phys_base), OSRELEASE, BUILD-ID), so a wrong note is never passed
 * on as the kernel's own; (3) a rebuild from the vmlinux's debug
 * information through crash's symbol and type functions
 * (kaslr_vmci_rebuild).  @source says why (1) and (2) were passed over.
 * Works in --minimal mode and in a session crash placed wrongly: symbol
 * values are taken back to link time and memory is read physically
 * through @cand, never through crash's translation.
 *
 * @returns KASLR_OK, or the rebuild's status.
 */
enum kaslr_status kaslr_vmci_crash_text(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const void *notes, size_t notes_len,
					const struct kaslr_candidate *cand, int force_rebuild, char **text_ret,
					char *source, size_t sourcelen);

#endif /* KASLR_CRASH_VMCI_CRASH_H */
