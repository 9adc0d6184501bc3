/*
 * regs.h - where vCPU registers come from
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_REGS_H
#define KASLR_REGS_H

#include "core/types.h"

/* QEMUCPUState version 1 as QEMU writes it (target/i386/arch_dump.c, QEMU 1.7+). */
#define KASLR_QEMU_CPUSTATE_SIZE 440

/* ELF note types and names seen in QEMU and kdump dumps. */
#define KASLR_NT_PRSTATUS 1

/* CPUs whose arm64 pc/sp kaslr_notes_info keeps. */
#define KASLR_ARM64_MAX_PCS 64

struct kaslr_notes_info {
	int nr_prstatus;		/* "CORE" NT_PRSTATUS notes */
	/*
	 * arm64 NT_PRSTATUS (struct elf_prstatus with user_pt_regs: x0-x30,
	 * sp, pc, pstate): pc and pstate of the first KASLR_ARM64_MAX_PCS, in
	 * note order.  They place no page table (no TTBR1): a cross-check.
	 */
	int nr_arm64;
	uint64_t arm64_pc[KASLR_ARM64_MAX_PCS];
	uint64_t arm64_pstate[KASLR_ARM64_MAX_PCS];
	int nr_qemu;			/* "QEMU" CPU-state notes */
	const char *vmcoreinfo;		/* points into the note buffer, not NUL-terminated */
	size_t vmcoreinfo_len;
};

/**
 * kaslr_qemu_note_descsz - the real size of the "QEMU" note whose descriptor is at @desc
 *
 * For a descriptor inside a note buffer that holds its note header (crash's
 * kdump_get_qemucpustate() hands out such pointers): the n_descsz of the
 * header right before it.  The state's own size field is the dump's claim,
 * not a bound on what may be read.
 *
 * @returns n_descsz, or 0 when no "QEMU" note header precedes @desc.
 */
size_t kaslr_qemu_note_descsz(const void *desc);

/**
 * kaslr_regs_from_qemu_cpustate - decode one "QEMU" note descriptor
 * @desc: note descriptor (QEMUCPUState)
 * @len:  its length
 * @cpu:  CPU number to record
 * @regs_ret: filled on success
 *
 * @returns KASLR_OK, or KASLR_CORRUPT for a short or unknown-version state.
 */
enum kaslr_status kaslr_regs_from_qemu_cpustate(const void *desc, size_t len, int cpu,
						struct kaslr_cpu_regs *regs_ret);

/**
 * kaslr_notes_parse - walk a 64-bit ELF note stream (a PT_NOTE segment)
 * @buf, @len: the segment's bytes, walked by core/notes.h (its tolerance rule)
 * @regs:      filled from "QEMU" notes in order (CPU n = n-th note); may be NULL
 * @max:       size of @regs
 * @nr_regs_ret: CPUs decoded
 * @info_ret:  counts and the VMCOREINFO note; may be NULL
 *
 * @returns KASLR_OK, or KASLR_CORRUPT if a note header runs past the buffer
 * (what was decoded before it is kept).
 */
enum kaslr_status kaslr_notes_parse(const void *buf, size_t len, struct kaslr_cpu_regs *regs,
				    int max, int *nr_regs_ret, struct kaslr_notes_info *info_ret);

#endif /* KASLR_REGS_H */
