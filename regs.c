/*
 * regs.c - where vCPU registers come from
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One small decoder per dump source fills the neutral struct
 * kaslr_cpu_regs.  This file only decodes bytes (QEMU CPU-state notes, ELF
 * note streams) and is unit-tested without crash; the sources that ask
 * crash for them (the dump's note buffers, sadump and VMSS states) are in
 * crash/regs_crash.c.
 */
#include <stdint.h>
#include <string.h>

#include "regs.h"
#include "core/notes.h"
#include "core/util.h"

/*
 * QEMUCPUState, version 1 (QEMU target/i386/arch_dump.c, since QEMU 1.7):
 *
 *	u32 version, size;
 *	u64 rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags;	  8..151
 *	{u32 selector, limit, flags, pad; u64 base} cs ds es fs gs ss
 *						    ldt tr gdt idt;	152..391
 *	u64 cr[5];						392..431
 *	u64 kernel_gs_base;	(appended later, same version)	432..439
 *
 * QEMU documents that optional fields are appended without bumping the
 * version, and that readers should look at "size"; so 432 bytes (up to
 * cr[4]) are required and kernel_gs_base is taken only when present.
 */
#define QCS_VERSION		0
#define QCS_SIZE		4
#define QCS_RIP			136
#define QCS_SEG(n)		(152 + 24 * (n))
#define QCS_SEG_LIMIT		4
#define QCS_SEG_BASE		16
#define QCS_GS			4
#define QCS_IDT			9
#define QCS_CR(n)		(392 + 8 * (n))
#define QCS_KERNEL_GS_BASE	432
#define QCS_MIN_SIZE		QCS_KERNEL_GS_BASE

enum kaslr_status kaslr_regs_from_qemu_cpustate(const void *desc, size_t len, int cpu,
						struct kaslr_cpu_regs *regs_ret)
{
	const unsigned char *p = desc;
	uint32_t version, size;

	memset(regs_ret, 0, sizeof(*regs_ret));
	regs_ret->cpu = cpu;
	if (!desc || len < QCS_MIN_SIZE)
		return KASLR_CORRUPT;
	version = kaslr_le32(p + QCS_VERSION);
	size = kaslr_le32(p + QCS_SIZE);
	if (version != 1 || size < QCS_MIN_SIZE)
		return KASLR_CORRUPT;
	if (size < len)
		len = size;

	regs_ret->rip = kaslr_le64(p + QCS_RIP);
	regs_ret->gs_base = kaslr_le64(p + QCS_SEG(QCS_GS) + QCS_SEG_BASE);
	regs_ret->idtr_limit = kaslr_le32(p + QCS_SEG(QCS_IDT) + QCS_SEG_LIMIT);
	regs_ret->idtr_base = kaslr_le64(p + QCS_SEG(QCS_IDT) + QCS_SEG_BASE);
	regs_ret->cr0 = kaslr_le64(p + QCS_CR(0));
	regs_ret->cr3 = kaslr_le64(p + QCS_CR(3));
	regs_ret->cr4 = kaslr_le64(p + QCS_CR(4));
	regs_ret->valid = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR |
			  KASLR_REG_RIP | KASLR_REG_GSBASE;
	if (len >= QCS_KERNEL_GS_BASE + 8)
		regs_ret->kernel_gs_base = kaslr_le64(p + QCS_KERNEL_GS_BASE);
	return KASLR_OK;
}

/*
 * kaslr_qemu_note_descsz - see regs.h.  The header is 12 bytes, then the
 * name "QEMU\0" padded to 8, then the descriptor.
 */
size_t kaslr_qemu_note_descsz(const void *desc)
{
	const unsigned char *name = (const unsigned char *)desc - 8, *hdr = name - 12;

	if (kaslr_le32(hdr) != 5 || memcmp(name, "QEMU", 5))
		return 0;
	return kaslr_le32(hdr + 4);
}

/*
 * The walk itself, and its tolerance of padding and cut streams, is
 * core/notes.c's; this only counts and decodes the notes it hands out.
 */
#define ARM64_PRSTATUS_SIZE	392
#define ARM64_PR_REG		112

enum kaslr_status kaslr_notes_parse(const void *buf, size_t len, struct kaslr_cpu_regs *regs,
				    int max, int *nr_regs_ret, struct kaslr_notes_info *info_ret)
{
	struct kaslr_notes_info info;
	struct kaslr_notes_iter it;
	struct kaslr_note n;
	enum kaslr_status st;
	int nr_regs = 0;

	memset(&info, 0, sizeof(info));
	kaslr_notes_begin(&it, buf, len);
	while ((st = kaslr_notes_next(&it, &n)) == KASLR_OK) {
		if (kaslr_note_is(&n, "CORE") && n.type == KASLR_NT_PRSTATUS) {
			info.nr_prstatus++;
			/*
			 * arm64's struct elf_prstatus: 112 bytes of siginfo, signals,
			 * ids and times, then pr_reg (user_pt_regs: 31 x, sp, pc,
			 * pstate), pr_fpvalid and padding: 392 bytes; x86_64's is 336.
			 */
			if (n.descsz == ARM64_PRSTATUS_SIZE) {
				if (info.nr_arm64 < KASLR_ARM64_MAX_PCS) {
					info.arm64_pc[info.nr_arm64] = kaslr_le64(n.desc + ARM64_PR_REG + 32 * 8);
					info.arm64_pstate[info.nr_arm64] = kaslr_le64(n.desc + ARM64_PR_REG + 33 * 8);
				}
				info.nr_arm64++;
			}
		} else if (kaslr_note_is(&n, "QEMU")) {
			if (regs && nr_regs < max) {
				/* A bad state keeps its slot (valid = 0) so CPU numbers stay right. */
				kaslr_regs_from_qemu_cpustate(n.desc, n.descsz, info.nr_qemu, &regs[nr_regs]);
				nr_regs++;
			}
			info.nr_qemu++;
		} else if (kaslr_note_is(&n, "VMCOREINFO") && !info.vmcoreinfo) {
			info.vmcoreinfo = (const char *)n.desc;
			info.vmcoreinfo_len = n.descsz;
		}
	}
	if (nr_regs_ret)
		*nr_regs_ret = nr_regs;
	if (info_ret)
		*info_ret = info;
	return st == KASLR_CORRUPT ? KASLR_CORRUPT : KASLR_OK;
}
