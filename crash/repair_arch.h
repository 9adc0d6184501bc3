/*
 * crash/repair_arch.h - what the "kaslr -r" transaction asks of each architecture
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * crash/repair.c is the transaction both architectures share (symbols, gdb,
 * save points, crash's full initialisation).  What crash does differently
 * per architecture lives in crash/repair_x86_64.c and crash/repair_arm64.c,
 * one of which is built (Makefile: crash/repair_$(TARGET).c); this header
 * is their interface to repair.c only.  kaslr_ext.c includes the public
 * headers (repair.h, repair_x86_64.h, repair_arm64.h), never this one.
 */
#ifndef KASLR_CRASH_REPAIR_ARCH_H
#define KASLR_CRASH_REPAIR_ARCH_H

/* Include after defs.h. */
#include "crash/repair.h"

/* The arch's part of the "as before" save point. */
struct kaslr_repair_arch;

/* @returns the arch's "as before" state (NULL when out of memory). */
struct kaslr_repair_arch *kaslr_repair_arch_save(void);

/* Puts the state of kaslr_repair_arch_save() back (symbols and kt are repair.c's). */
void kaslr_repair_arch_restore(const struct kaslr_repair_arch *a);

void kaslr_repair_arch_free(struct kaslr_repair_arch *a);

/* The arch's state saved by kaslr_repair_begin(). */
struct kaslr_repair_arch *kaslr_repair_arch_of(struct kaslr_repair *t);

/**
 * kaslr_repair_arch_moves - does crash's own relocation move this symbol?
 * @raw: the symbol's link-time value
 *
 * symbols.c:relocate(): x86_64 moves only values inside the image's
 * sections; every other architecture (arm64) moves every symbol it kept.
 */
int kaslr_repair_arch_moves(ulong raw);

/*
 * Around machdep_init(POST_GDB) .. vm_init() of the full initialisation:
 * what the architecture needs that crash's startup does but a run-time
 * chain does not (x86_64: fill machdep->pgd, FILL_TOP_PGD being a no-op
 * once RUNTIME is set).
 */
void kaslr_repair_arch_chain_enter(void);
void kaslr_repair_arch_chain_leave(void);

/**
 * kaslr_repair_catch_fatal - run @fn with crash's FATAL errors caught
 *
 * @returns 0 if @fn returned, -1 if it ended in error(FATAL).
 */
int kaslr_repair_catch_fatal(void (*fn)(void *), void *arg);

#endif /* KASLR_CRASH_REPAIR_ARCH_H */
