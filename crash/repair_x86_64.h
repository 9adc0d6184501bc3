/*
 * crash/repair_x86_64.h - the x86_64 steps of "kaslr -r" (see crash/repair.h)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CRASH_REPAIR_X86_64_H
#define KASLR_CRASH_REPAIR_X86_64_H

#include "crash/repair.h"

/**
 * kaslr_repair_relocate - steps 1 and 2: phys_base, then the symbol table
 * @ko: the KERNELOFFSET crash's symbols move to (only those inside the image,
 *      as crash's own relocation does), kt->relocate = -@ko
 * @pb: phys_base, in machdep and in the dump format's own copy
 */
void kaslr_repair_relocate(struct kaslr_repair *t, uint64_t ko, int64_t pb);

/**
 * kaslr_repair_post_reloc - step 4: what crash computed from the wrong values
 * @levels: paging levels of the verified answer (4 or 5), 0 if unknown (the
 *          kernel's own __pgtable_l5_enabled is read then)
 *
 * Undoes a 5-level geometry the wrong offset made crash guess, then runs
 * machdep_init(POST_RELOC) and kdump_backup_region_init() with crash's
 * FATAL errors caught.
 *
 * @returns 0, or -1 when POST_RELOC failed (roll back).
 */
int kaslr_repair_post_reloc(struct kaslr_repair *t, int levels);

#endif /* KASLR_CRASH_REPAIR_X86_64_H */
