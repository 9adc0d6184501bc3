/*
 * crash/regs_crash.h - the vCPU registers crash has for the dump it opened
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CRASH_REGS_CRASH_H
#define KASLR_CRASH_REGS_CRASH_H

#include "core/types.h"

/**
 * kaslr_regs_get - registers of every vCPU from the dump crash has open
 * @regs:       array to fill
 * @max:        its size
 * @nr_ret:     CPUs filled
 * @source_ret: name of the source that answered ("QEMU ELF note", ...)
 *
 * @returns KASLR_OK, or KASLR_NODATA when the dump format carries no
 * registers crash can give.
 */
enum kaslr_status kaslr_regs_get(struct kaslr_cpu_regs *regs, int max, int *nr_ret,
				 const char **source_ret);

#endif /* KASLR_CRASH_REGS_CRASH_H */
