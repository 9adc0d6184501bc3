/*
 * core/x86_64/x86_64.h - what is x86_64 about finding a KASLR kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The kernel-image window, the paging structures and the register bits the
 * x86_64 methods use.  The shared layers (the driver, the scans, the
 * vmcoreinfo code, the dump readers) reach them only through core/arch.h.
 */
#ifndef KASLR_CORE_X86_64_H
#define KASLR_CORE_X86_64_H

#include <stdint.h>

/* x86_64 constants (arch/x86/include/asm/page_64_types.h); unchanged since 2.6. */
#define START_KERNEL_MAP	0xffffffff80000000ULL
/* KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE: 1 GiB since 4.8 (commit 6145cfe394a7). */
#define KERNEL_IMAGE_SIZE	0x40000000ULL
/* CONFIG_PHYSICAL_ALIGN on every x86_64 distribution kernel: KASLR slots are 2 MiB apart. */
#define KASLR_ALIGN		0x200000ULL
/* CR4.LA57 (bit 12): 5-level paging, Linux 4.14+ with CONFIG_X86_5LEVEL. */
#define CR4_LA57		(1ULL << 12)
/* CR0.PG (bit 31). */
#define CR0_PG			(1ULL << 31)
/* With PTI (4.15+) CR3 may hold the user half of an 8 KiB PGD pair; bit 12 picks it. */
#define PTI_USER_PGD_BIT	(1ULL << 12)
/* CR3 bits 0-11 hold the PCID (with CR4.PCIDE) or PWT/PCD flags. */
#define CR3_PCID_MASK		0xfffULL
/* Bit 63 of a CR3 load means "do not flush": never part of the address. */
#define CR3_NOFLUSH		(1ULL << 63)

#endif /* KASLR_CORE_X86_64_H */
