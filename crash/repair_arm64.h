/*
 * crash/repair_arm64.h - the arm64 steps of "kaslr -r" (see crash/repair.h)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * An arm64 dump without a VMCOREINFO note leaves crash (8.0.2) with an
 * unrelocated symbol table, no kimage_voffset ("kimage_voffset cannot be
 * determined from the dumpfile"), a phys_offset read from the wrong place,
 * no VA_BITS_ACTUAL and guessed modules/vmalloc/vmemmap ranges: everything
 * arm64_init(PRE_GDB) derives from the note.  The repair gives crash those
 * values as if the dump had carried them, and runs PRE_GDB again.
 */
#ifndef KASLR_CRASH_REPAIR_ARM64_H
#define KASLR_CRASH_REPAIR_ARM64_H

#include <stddef.h>
#include <stdint.h>

#include "crash/repair.h"

/* struct kaslr_arm64_layout.known: which of the optional fields hold a value. */
#define KASLR_ARM64_PHYS_OFFSET		(1u << 0)
#define KASLR_ARM64_VA_BITS		(1u << 1)
#define KASLR_ARM64_VABITS_ACTUAL	(1u << 2)
#define KASLR_ARM64_PAGE_SIZE		(1u << 3)
#define KASLR_ARM64_KERNELPACMASK	(1u << 4)

/*
 * Where an arm64 kernel sits, in the kernel's own vmcoreinfo terms
 * (arch/arm64/kernel/crash_core.c, vmcore_info.c since 6.9).
 * kernel_offset and kimage_voffset are required; the rest is optional
 * (@known): what is not given is read from the kernel's memory through the
 * relocated symbols (memstart_addr, vabits_actual) and the kernel's own
 * vmcoreinfo in RAM, or left to crash's own derivation.
 */
struct kaslr_arm64_layout {
	uint64_t kernel_offset;		/* KERNELOFFSET: runtime VA of _text - its link address */
	uint64_t kimage_voffset;	/* kimage_voffset: runtime VA - PA of the kernel image */
	uint64_t phys_offset;		/* PHYS_OFFSET (memstart_addr, an s64: may be "negative") */
	unsigned int va_bits;		/* VA_BITS: CONFIG_ARM64_VA_BITS */
	unsigned int vabits_actual;	/* vabits_actual (64 - TCR_EL1.T1SZ) */
	unsigned int page_size;		/* PAGESIZE: 4096, 16384, 65536 */
	uint64_t kernelpacmask;		/* KERNELPACMASK (pointer authentication) */
	unsigned int known;		/* KASLR_ARM64_*: which optional fields are set */
};

/* What step 4 found, for the user. */
struct kaslr_arm64_report {
	int ram_vmcoreinfo;		/* the kernel's vmcoreinfo in RAM was read and agrees */
	size_t ram_vmcoreinfo_len;
	int banner_checked;		/* the banner equals the vmlinux's (else: only its prefix) */
};

/**
 * kaslr_repair_layout_arm64 - step 4 on arm64: the kernel image and linear map
 * @l: the layout; l->kernel_offset must be what kaslr_repair_symbols() was given
 * @rep_ret: what was found (may be NULL)
 * @err, @errlen: why it failed
 *
 * 1. Serve crash's vmcoreinfo lookups (pc->read_vmcoreinfo) from @l's
 *    values, as NUMBER(kimage_voffset), NUMBER(PHYS_OFFSET), NUMBER(VA_BITS),
 *    NUMBER(TCR_EL1_T1SZ), PAGESIZE, NUMBER(KERNELPACMASK), KERNELOFFSET;
 *    vabits_actual, when not given, from the kernel's variable.
 * 2. machspec->kimage_voffset, NEW_VMEMMAP, kt->flags2 RELOC_AUTO|KASLR (what
 *    arm64_init(PRE_SYMTAB) does with a note), then arm64_init(PRE_GDB).
 * 3. The kernel's own vmcoreinfo in RAM (vmcoreinfo_data), read through
 *    that: if it agrees with @l (KERNELOFFSET, kimage_voffset, PHYS_OFFSET),
 *    it serves every other key (MODULES_/VMALLOC_/VMEMMAP_ ranges,
 *    SIZE(page), OSRELEASE...), and PRE_GDB runs again; if it disagrees,
 *    the step fails.
 * 4. linux_banner read through the new layout must equal the vmlinux's
 *    (kernel_init() ends crash when it does not start "Linux version").
 * 5. machdep_init(POST_RELOC).
 * crash's FATAL errors are caught throughout.
 *
 * @returns 0, or -1 (roll back).
 */
int kaslr_repair_layout_arm64(struct kaslr_repair *t, const struct kaslr_arm64_layout *l,
			      struct kaslr_arm64_report *rep_ret, char *err, size_t errlen);

#endif /* KASLR_CRASH_REPAIR_ARM64_H */
