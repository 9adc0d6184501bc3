/*
 * crash/regs_crash.c - the vCPU registers crash has for the dump it opened
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The register sources that need crash: its accessors for the QEMU
 * CPU-state notes of ELF and kdump-compressed dumps, and the sadump and
 * VMSS CPU states.  Decoding the bytes is regs.c's (crash-free, unit-tested).
 */
#include "defs.h"

#include <string.h>

#include "regs.h"
#include "crash/regs_crash.h"

/*
 * Register sources crash exposes, one small function each.  A source returns
 * KASLR_NODATA when the open dump is not its format; the first that answers
 * wins.  Adding a format = one function + one table entry.
 */
static enum kaslr_status
regs_qemu_states(int nr, QEMUCPUState *(*get)(int), struct kaslr_cpu_regs *regs, int max,
		 int *nr_ret)
{
	int cpu, n = 0;

	for (cpu = 0; cpu < nr && n < max; cpu++) {
		QEMUCPUState *qs = get(cpu);
		size_t len;

		if (!qs)
			continue;
		/* No further than the note (the decoder also stops at the state's own size). */
		len = kaslr_qemu_note_descsz(qs);
		if (len > KASLR_QEMU_CPUSTATE_SIZE)
			len = KASLR_QEMU_CPUSTATE_SIZE;
		if (kaslr_regs_from_qemu_cpustate(qs, len, cpu, &regs[n]) == KASLR_OK)
			n++;
	}
	*nr_ret = n;
	return n ? KASLR_OK : KASLR_NODATA;
}

static enum kaslr_status
regs_qemu_elf(struct kaslr_cpu_regs *regs, int max, int *nr_ret)
{
	if (!KDUMP_DUMPFILE() || !(pc->flags2 & QEMU_MEM_DUMP_ELF))
		return KASLR_NODATA;
	return regs_qemu_states(kdump_get_nr_cpus(), kdump_get_qemucpustate, regs, max, nr_ret);
}

static enum kaslr_status
regs_qemu_compressed(struct kaslr_cpu_regs *regs, int max, int *nr_ret)
{
	if (!DISKDUMP_DUMPFILE() || !(pc->flags2 & QEMU_MEM_DUMP_COMPRESSED))
		return KASLR_NODATA;
	return regs_qemu_states(diskdump_get_nr_cpus(), diskdump_get_qemucpustate, regs, max,
				nr_ret);
}

/* sadump and VMSS give CR3, CR4 and the IDTR base only. */
static enum kaslr_status
regs_cr3_cr4_idtr(int nr, int (*get)(int, ulong *, ulong *, ulong *), struct kaslr_cpu_regs *regs,
		  int max, int *nr_ret)
{
	int cpu, n = 0;

	for (cpu = 0; cpu < nr && n < max; cpu++) {
		ulong cr3, cr4, idtr;

		if (!get(cpu, &cr3, &cr4, &idtr))
			continue;
		memset(&regs[n], 0, sizeof(regs[n]));
		regs[n].cpu = cpu;
		regs[n].cr3 = cr3;
		regs[n].cr4 = cr4;
		regs[n].idtr_base = idtr;
		regs[n].idtr_limit = 0xfff;	/* not given; a full 256-gate IDT */
		regs[n].valid = KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR;
		n++;
	}
	*nr_ret = n;
	return n ? KASLR_OK : KASLR_NODATA;
}

static enum kaslr_status
regs_sadump(struct kaslr_cpu_regs *regs, int max, int *nr_ret)
{
	if (!SADUMP_DUMPFILE())
		return KASLR_NODATA;
	return regs_cr3_cr4_idtr(sadump_get_nr_cpus(), sadump_get_cr3_cr4_idtr, regs, max, nr_ret);
}

static enum kaslr_status
regs_vmss(struct kaslr_cpu_regs *regs, int max, int *nr_ret)
{
	if (!VMSS_DUMPFILE())
		return KASLR_NODATA;
	return regs_cr3_cr4_idtr(vmware_vmss_get_nr_cpus(), vmware_vmss_get_cr3_cr4_idtr, regs,
				 max, nr_ret);
}

/* The register-source table, kept as the design: a format crash learns is one row. */
static const struct {
	const char *name;
	enum kaslr_status (*get)(struct kaslr_cpu_regs *, int, int *);
} crash_sources[] = {
	{ "QEMU ELF notes", regs_qemu_elf },
	{ "QEMU kdump-compressed notes", regs_qemu_compressed },
	{ "sadump CPU state", regs_sadump },
	{ "VMware VMSS", regs_vmss },
};

enum kaslr_status
kaslr_regs_get(struct kaslr_cpu_regs *regs, int max, int *nr_ret, const char **source_ret)
{
	size_t i;

	*nr_ret = 0;
	for (i = 0; i < sizeof(crash_sources) / sizeof(crash_sources[0]); i++) {
		if (crash_sources[i].get(regs, max, nr_ret) == KASLR_OK) {
			*source_ret = crash_sources[i].name;
			return KASLR_OK;
		}
	}
	return KASLR_NODATA;
}
