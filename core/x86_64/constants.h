/*
 * core/x86_64/constants.h - the x86_64 kernel-image window, paging bits and register bits
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Constants only, so that the bottom layers (the vmlinux reader, the
 * vmcoreinfo rebuild's x86_64 rules) can use them without the methods.
 */
#ifndef KASLR_CORE_X86_64_CONSTANTS_H
#define KASLR_CORE_X86_64_CONSTANTS_H

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
#define CR0_PE			(1ULL << 0)	/* protected mode */
/* The lowest kernel-half address (4-level; 5-level's lies below, so it is kernel half too). */
#define KERNEL_HALF_4L		0xffff800000000000ULL
/* With PTI (4.15+) CR3 may hold the user half of an 8 KiB PGD pair; bit 12 picks it. */
#define PTI_USER_PGD_BIT	(1ULL << 12)
/* CR3 bits 0-11 hold the PCID (with CR4.PCIDE) or PWT/PCD flags. */
#define CR3_PCID_MASK		0xfffULL
/* Bit 63 of a CR3 load means "do not flush": never part of the address. */
#define CR3_NOFLUSH		(1ULL << 63)

#define SIZE_2M			0x200000ULL
#define SIZE_1G			0x40000000ULL

/* x86 paging entry bits (SDM vol. 3, 4.5). */
#define PTE_PRESENT		(1ULL << 0)
#define PTE_PSE			(1ULL << 7)
/* Physical address bits 12..51 of an entry (MAXPHYADDR is at most 52). */
#define PTE_ADDR_MASK		0x000ffffffffff000ULL
#define PTE_ADDR_MASK_2M	0x000fffffffe00000ULL
#define PTE_ADDR_MASK_1G	0x000fffffc0000000ULL

/*
 * Direct-map bases without CONFIG_RANDOMIZE_MEMORY (4.8+ reads
 * page_offset_base instead).  4.20 moved them up by one PGD slot
 * (commit d52888aa2753 "x86/mm: Move LDT remap out of KASLR region on
 * 5-level paging").
 */
#define PAGE_OFFSET_4L		0xffff888000000000ULL
#define PAGE_OFFSET_4L_OLD	0xffff880000000000ULL	/* before 4.20 */
#define PAGE_OFFSET_5L		0xff11000000000000ULL
#define PAGE_OFFSET_5L_OLD	0xff10000000000000ULL	/* before 4.20 */

#endif /* KASLR_CORE_X86_64_CONSTANTS_H */
