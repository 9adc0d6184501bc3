/*
 * crash/repair.h - "kaslr -r": one transaction over crash's view of the kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A repair moves a --minimal session to verified values in steps, each of
 * which may fail.  The transaction has two save points a rollback returns
 * to:
 *
 *   "as before"         taken by kaslr_repair_begin(): what the relocation
 *                       (steps 1-4) changes - symbol values, kt's relocation
 *                       and flags, phys_base, machdep's flags and paging
 *                       geometry, and whether gdb was moved;
 *   "repaired minimal"  taken by kaslr_repair_save() once the relocation
 *                       holds: the tables crash's full initialisation fills
 *                       (kt, vt, machdep, st, tt, the offset/size/array
 *                       tables, pc's flags).
 *
 *	t = kaslr_repair_begin();			"as before"
 *	x86_64: kaslr_repair_relocate(t, ko, pb);	1-2: phys_base, symbols
 *	arm64:  kaslr_repair_symbols(t, ko);		2: symbols
 *	kaslr_repair_gdb(t, ko, &how);			3: gdb
 *	x86_64: kaslr_repair_post_reloc(t, levels);	4: machdep_init(POST_RELOC)
 *	arm64:  kaslr_repair_layout_arm64(t, &l, ...);	4: kimage/linear map, PRE_GDB
 *	kaslr_repair_save(t);				"repaired minimal"
 *	kaslr_repair_full_init(t, verbose, &step);		5: the chain --minimal skipped
 *	kaslr_repair_rollback(t);			on a failure: the last save point
 *	kaslr_repair_end(t);
 *
 * Steps 1 and 4 are the architecture's (crash/repair_x86_64.h,
 * crash/repair_arm64.h); the rest is shared.
 *
 * What a failed step of crash's initialisation allocated is left allocated
 * by a rollback (a small leak beats a pointer into freed memory); the
 * transaction frees all of its own memory in kaslr_repair_end().
 */
#ifndef KASLR_CRASH_REPAIR_H
#define KASLR_CRASH_REPAIR_H

#include <stdint.h>

struct kaslr_repair;

/**
 * kaslr_repair_begin - start a repair: take the "as before" save point
 *
 * @returns the transaction, or NULL when out of memory (nothing changed).
 */
struct kaslr_repair *kaslr_repair_begin(void);

/**
 * kaslr_repair_symbols - step 2: the symbol table
 * @ko: the KERNELOFFSET crash's symbols move to (those crash's own relocation
 *      moves: inside the image on x86_64, all of them on arm64),
 *      kt->relocate = -@ko, RELOC_SET and KASLR set
 */
void kaslr_repair_symbols(struct kaslr_repair *t, uint64_t ko);

/**
 * kaslr_repair_gdb - step 3: move gdb's symbols to the relocated table
 * @how_ret: what was done ("objfile_rebase"), or why it could not be
 *
 * @returns 0, or -1 when gdb could not be moved (roll back).
 */
int kaslr_repair_gdb(struct kaslr_repair *t, uint64_t ko, const char **how_ret);

/**
 * kaslr_repair_save - the relocation holds: take the "repaired minimal" save point
 *
 * A rollback from here on returns to the relocated --minimal session; the
 * "as before" state is dropped.
 */
void kaslr_repair_save(struct kaslr_repair *t);

/**
 * kaslr_repair_full_init - step 5: the initialisation crash's main_loop()
 * skips in --minimal mode, in its order, with MINIMAL_MODE cleared and
 * crash's FATAL errors caught
 * @verbose:  on failure, print crash's text as it came (else each message once, no trace)
 * @step_ret: on failure, the step that failed ("module_init")
 *
 * @returns 0 (a full session), or -1 (roll back to "repaired minimal").
 */
int kaslr_repair_full_init(struct kaslr_repair *t, int verbose, const char **step_ret);

/**
 * kaslr_repair_rollback - return to the last save point
 *
 * "as before": symbol values, kt, machdep and the arch's state as they were, gdb
 * moved back if it was moved.  "repaired minimal": the tables as they were
 * after the relocation, and MINIMAL_MODE set again.
 */
void kaslr_repair_rollback(struct kaslr_repair *t);

/* kaslr_repair_end - free the transaction (what it changed stays). */
void kaslr_repair_end(struct kaslr_repair *t);

#endif /* KASLR_CRASH_REPAIR_H */
