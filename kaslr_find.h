/*
 * kaslr_find.h - what kaslr-find's files share: the opened dump, one run, the printers
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_FIND_H
#define KASLR_FIND_H

#include <stdint.h>

#include <libkdumpfile/kdumpfile.h>

#include "kaslr_core.h"
#include "regs.h"
#include "core/dump.h"
#include "core/vmlinux.h"

#define PROG "kaslr-find"

#define EXIT_FOUND	0
#define EXIT_NOTFOUND	1
#define EXIT_USAGE	2

/* More vCPUs than this in one note area is not a QEMU dump but garbage. */
#define MAX_CPUS	8192


/* ==== the dump: format, reader, registers ============================= */

enum reader { READER_AUTO, READER_LIBKDUMPFILE, READER_OWN };

struct dump {
	const char *path;
	struct kaslr_dump *file;		/* format, ranges, notes; the built-in reader */
	kdump_ctx_t *kctx;			/* libkdumpfile (on file->fd), or NULL */
	const char *reader;
	char reader_note[256];			/* why not libkdumpfile */
	/* registers */
	struct kaslr_cpu_regs *regs;
	int nr_cpus;
	struct kaslr_notes_info notes;
	const char *regs_source;
	/* progress on a tty */
	int progress_tty;
	int progress_pct;
	double progress_t0;			/* when the search started */
};


struct run {
	const char *vmlinux_arg, *dump_arg;
	struct kaslr_vmlinux vml;
	struct dump dump;
	struct kaslr_ctx ctx;
	struct kaslr_report *rep;
	enum kaslr_status status;
	const char *error;		/* final one-line error, or NULL */
	double seconds;
	const struct kaslr_arch *arch;
	/* arm64: what crash needs besides the two values (have_a64: read through the answer). */
	struct kaslr_arm64_values a64;
	int have_a64;
	char a64_err[KASLR_ERRLEN];
	/* The dump's own VMCOREINFO note, if it has one. */
	int has_note_values;
	uint64_t note_offset;
	int64_t note_phys_base;
};


static inline const struct kaslr_candidate *
best_cand(const struct run *r)
{
	return r->rep && r->rep->best >= 0 && r->status == KASLR_OK ? &r->rep->cand[r->rep->best] : NULL;
}

/* kaslr_find_print.c: the result as text (-v: every candidate) or as one JSON object. */
void kaslr_find_print_human(const struct run *r, int verbose);
void kaslr_find_print_json(const struct run *r);

#endif /* KASLR_FIND_H */
