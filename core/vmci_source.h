/*
 * core/vmci_source.h - where the vmcoreinfo of "kaslr -D"/"-w" and
 * "kaslr-find --vmcoreinfo" comes from
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CORE_VMCI_SOURCE_H
#define KASLR_CORE_VMCI_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/candidate.h"
#include "core/types.h"
#include "core/vmlinux.h"

/* The kernel's own copies a policy may pass on, tried in this order. */
enum {
	KASLR_VMCI_SRC_NOTE = 1 << 0,	/* the dump's own VMCOREINFO note */
	KASLR_VMCI_SRC_RAM = 1 << 1,	/* the kernel's copy in RAM */
};

/**
 * kaslr_vmci_build_fn - the last source: the caller's builder
 * @priv:     kaslr_vmci_policy.build_priv
 * @text_ret: malloc'ed "KEY=VALUE\n" text
 * @what_ret: what was built, for the source line ("rebuilt from the
 *            vmlinux's debug information")
 * @note, @notelen: on KASLR_OK what the text lacks ("" when nothing);
 *            otherwise one line saying why there is no text
 *
 * @returns KASLR_OK, or why there is no text.
 */
typedef enum kaslr_status (*kaslr_vmci_build_fn)(void *priv, char **text_ret, const char **what_ret,
						 char *note, size_t notelen);

struct kaslr_vmci_policy {
	unsigned sources;		/* KASLR_VMCI_SRC_*; 0: the builder only ("forced") */
	const void *notes;		/* SRC_NOTE: the dump's note segment or note area */
	size_t notes_len;
	/* SRC_RAM: copies the memory scan found (kaslr_report.vmci), tried before vmcoreinfo_data */
	const struct kaslr_vmci_copy *copies;
	int nr_copies;
	kaslr_vmci_build_fn build;
	void *build_priv;
};

/* Where the text came from. */
enum kaslr_vmci_from {
	KASLR_VMCI_FROM_NONE = 0,	/* the builder failed: no text */
	KASLR_VMCI_FROM_NOTE,
	KASLR_VMCI_FROM_RAM,
	KASLR_VMCI_FROM_BUILD,
};

/* Why a source was passed over. */
enum kaslr_vmci_pass {
	KASLR_VMCI_NOT_TRIED = 0,	/* not in the policy, or an earlier source answered */
	KASLR_VMCI_ABSENT,		/* no such note */
	KASLR_VMCI_UNREADABLE,		/* the note segment, or no copy in RAM could be read */
	KASLR_VMCI_DISAGREES,		/* kaslr_vmci_agrees() says it is not this kernel's */
};

struct kaslr_vmci_passed {
	enum kaslr_vmci_pass why;
	uint64_t paddr;			/* a copy in RAM that DISAGREES: where it lies */
	char detail[KASLR_ERRLEN];	/* DISAGREES: how; UNREADABLE in RAM: the reader's error */
};

struct kaslr_vmci_choice {
	enum kaslr_vmci_from from;
	uint64_t paddr;			/* FROM_RAM: where the copy lies */
	struct kaslr_vmci_passed note, ram;
	/*
	 * One line: which source, and why the ones before it were passed over
	 * ("the kernel's own copy in RAM at physical 183b000 (no VMCOREINFO
	 * note in the dump)"); FROM_NONE: why there is no text.
	 */
	char line[KASLR_ERRLEN];
};

/**
 * kaslr_vmci_source - the vmcoreinfo to pass on for a verified answer
 * @ctx:  the session's context (reads the dump)
 * @vml:  the vmlinux (OSRELEASE, BUILD-ID)
 * @cand: the verified answer (KERNELOFFSET, phys_base)
 * @pol:  which of the kernel's copies to try, and the builder
 * @text_ret: malloc'ed text (NULL when FROM_NONE)
 * @ch:   where it came from, and why earlier sources were passed over
 *
 * The policy, first that answers: (1) the dump's own VMCOREINFO note,
 * (2) the kernel's copy in RAM - the copies a memory scan found, then
 * vmcoreinfo_data read through @cand - each only when kaslr_vmci_agrees()
 * says it is this kernel's at these values (OSRELEASE, BUILD-ID,
 * KERNELOFFSET, NUMBER(phys_base)), so a wrong note is never passed on as
 * the kernel's own; (3) the caller's builder.
 *
 * @returns KASLR_OK, or the builder's status (@ch->line says why).
 */
enum kaslr_status kaslr_vmci_source(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				    const struct kaslr_candidate *cand, const struct kaslr_vmci_policy *pol,
				    char **text_ret, struct kaslr_vmci_choice *ch);

/**
 * kaslr_vmci_note_check - may the dump's own note be passed on?
 * @notes, @notes_len: the dump's note segment or note area (NULL, 0: none)
 * @vml:  the vmlinux (OSRELEASE, BUILD-ID)
 * @cand: the verified answer
 * @p:    on 0, why not: ABSENT, UNREADABLE, or DISAGREES with how in
 *        @p->detail (the test kaslr_vmci_source makes of its first source)
 *
 * For the shells' advice to fix the file: a dump whose note is missing or
 * wrong stays wrong for every tool that reads it.
 *
 * @returns 1 when the note agrees with @cand, else 0.
 */
int kaslr_vmci_note_check(const void *notes, size_t notes_len, const struct kaslr_vmlinux *vml,
			  const struct kaslr_candidate *cand, struct kaslr_vmci_passed *p);

#endif /* KASLR_CORE_VMCI_SOURCE_H */
