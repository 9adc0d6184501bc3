/*
 * crash/repair_x86_64.c - the x86_64 side of the "kaslr -r" transaction
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * phys_base (machdep and the dump format's copy), the 5-level geometry a
 * wrong offset can make crash guess, machdep_init(POST_RELOC), and the
 * kernel PGD page crash's run-time chain does not read (crash/repair.h,
 * crash/repair_arch.h).
 */
#include "defs.h"

#include "crash/crash_compat.h"
#include "crash/repair_arch.h"
#include "crash/repair_x86_64.h"

/* "as before": what steps 1 and 4 change in machdep. */
struct kaslr_repair_arch {
	ulong phys_base;
	ulong md_flags;
	struct machine_specific ms;	/* the paging geometry undo_wrong_5level changes */
	ulong kvbase, identity_map_base;
};

static void
set_phys_base(ulong pb)
{
	machdep->machspec->phys_base = pb;
	machdep->flags |= PHYS_BASE;
	/* The format's own copy, where crash keeps one (returns FALSE where it does not). */
	if (KDUMP_DUMPFILE())
		kdump_set_phys_base(pb);
	else if (DISKDUMP_DUMPFILE())
		diskdump_set_phys_base(pb);
	else if (SADUMP_DUMPFILE())
		sadump_set_phys_base(pb);
	else if (VMSS_DUMPFILE())
		vmware_vmss_set_phys_base(pb);
}

/*
 * The kernel's own __pgtable_l5_enabled, read at its physical address
 * through the new offset and phys_base: 1, 0, or -1 when it cannot be read
 * (no such symbol before 4.17, or not in the dump).
 */
static int
kernel_l5_enabled(void)
{
	struct syment *sp = symbol_search("__pgtable_l5_enabled");
	unsigned int v;

	if (!sp || sp->value < __START_KERNEL_map)
		return -1;
	if (!readmem(sp->value - __START_KERNEL_map + machdep->machspec->phys_base, PHYSADDR, &v,
		     sizeof(v), "__pgtable_l5_enabled", RETURN_ON_ERROR | QUIET))
		return -1;
	return v != 0;
}

/*
 * crash decides on 5-level paging in machdep_init(POST_RELOC) by reading
 * __pgtable_l5_enabled, and only while VM_5LEVEL is clear.  Read through
 * the wrong offset, garbage can set it; the 5-level geometry then stays
 * for good.  When the verified answer is 4-level, put back the geometry of
 * a 4-level 2.6.11+ kernel (crash's defs.h values) and clear the flag:
 * POST_RELOC then reads the kernel's own answer, and recomputes page_offset,
 * vmalloc, vmemmap and modules for RANDOMIZE_MEMORY kernels.
 */
static void
undo_wrong_5level(void)
{
	struct machine_specific *ms = machdep->machspec;

	machdep->flags &= ~VM_5LEVEL;
	ms->userspace_top = USERSPACE_TOP_2_6_11;
	ms->page_offset = PAGE_OFFSET_2_6_27;
	ms->vmalloc_start_addr = VMALLOC_START_ADDR_2_6_11;
	ms->vmalloc_end = VMALLOC_END_2_6_11;
	ms->modules_vaddr = MODULES_VADDR_2_6_11;
	ms->modules_end = MODULES_END_2_6_11;
	ms->vmemmap_vaddr = VMEMMAP_VADDR_2_6_24;
	ms->vmemmap_end = VMEMMAP_END_2_6_24;
	ms->physical_mask_shift = __PHYSICAL_MASK_SHIFT_2_6;
	ms->pgdir_shift = PGDIR_SHIFT;
	ms->ptrs_per_pgd = PTRS_PER_PGD;
	machdep->kvbase = ms->page_offset;
	machdep->identity_map_base = ms->page_offset;
}

struct kaslr_repair_arch *
kaslr_repair_arch_save(void)
{
	struct kaslr_repair_arch *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->phys_base = machdep->machspec->phys_base;
	a->md_flags = machdep->flags;
	a->ms = *machdep->machspec;
	a->kvbase = machdep->kvbase;
	a->identity_map_base = machdep->identity_map_base;
	return a;
}

void
kaslr_repair_arch_restore(const struct kaslr_repair_arch *a)
{
	machdep->flags = a->md_flags;
	*machdep->machspec = a->ms;
	machdep->kvbase = a->kvbase;
	machdep->identity_map_base = a->identity_map_base;
	set_phys_base(a->phys_base);
	if (!(a->md_flags & PHYS_BASE))
		machdep->flags &= ~PHYS_BASE;
}

void
kaslr_repair_arch_free(struct kaslr_repair_arch *a)
{
	free(a);
}

int
kaslr_repair_arch_moves(ulong raw)
{
	return raw >= st->first_section_start && raw <= st->last_section_end;
}

static void
post_reloc(void *arg)
{
	(void)arg;
	machdep_init(POST_RELOC);
	kdump_backup_region_init();
}

/*
 * crash fills machdep->pgd from vt->kernel_pgd[0] only before RUNTIME is set
 * (FILL_TOP_PGD), so the kernel PGD page must be read here, each time
 * init_kernel_pgd() (machdep_init(POST_GDB), vm_init()) computes it.
 */
static void (*saved_init_kernel_pgd)(void);

static void
init_kernel_pgd_and_fill(void)
{
	saved_init_kernel_pgd();
	if (vt->kernel_pgd[0] &&
	    readmem(vt->kernel_pgd[0], KVADDR, machdep->pgd, PAGESIZE(), "kernel pgd page",
		    RETURN_ON_ERROR | QUIET))
		machdep->last_pgd_read = vt->kernel_pgd[0];
}

/* POST_GDB already walks page tables (x86_64_ist_init's accessible()). */
void
kaslr_repair_arch_chain_enter(void)
{
	saved_init_kernel_pgd = machdep->init_kernel_pgd;
	machdep->init_kernel_pgd = init_kernel_pgd_and_fill;
}

void
kaslr_repair_arch_chain_leave(void)
{
	machdep->init_kernel_pgd = saved_init_kernel_pgd;
}

void
kaslr_repair_relocate(struct kaslr_repair *t, uint64_t ko, int64_t pb)
{
	set_phys_base((ulong)pb);
	kaslr_repair_symbols(t, ko);
}

int
kaslr_repair_post_reloc(struct kaslr_repair *t, int levels)
{
	(void)t;
	if (machdep->flags & VM_5LEVEL) {
		if (levels == 4 || (!levels && kernel_l5_enabled() == 0))
			undo_wrong_5level();
	}
	return kaslr_repair_catch_fatal(post_reloc, NULL);
}
