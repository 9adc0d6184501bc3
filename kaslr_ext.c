/*
 * kaslr_ext.c - the crash glue of kaslr.so: command, help, output, repair
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Everything that finds or checks an answer is in kaslr_core.c; this file
 * only feeds it crash's memory, registers and vmlinux path, prints what it
 * says, and - for "kaslr -r" - moves crash's view of the kernel to the
 * verified answer.
 */
#include "defs.h"

#include <ctype.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <setjmp.h>
#include <time.h>

#include "crash/crash_compat.h"
#include "crash/regs_crash.h"
#include "crash/vmci_crash.h"
#include "dumpfile.h"
#include "kaslr_core.h"
#include "regs.h"
#include "vmcoreinfo.h"
#include "core/vmlinux.h"

#define KASLR_EXT_VERSION "0.1.0"

static void cmd_kaslr(void);
static char *help_kaslr[];

static struct command_table_entry command_table[] = {
	{ "kaslr", cmd_kaslr, help_kaslr, MINIMAL },
	{ NULL },
};

static void __attribute__((constructor))
kaslr_init(void)
{
	char why[160];

	/* Built against another crash's defs.h, every struct offset may be wrong: stay out. */
	if (kaslr_crash_mismatch(why, sizeof(why))) {
		fprintf(fp, "kaslr.so: %s: rebuild it with \"make CRASH_SRC=<that crash's "
			    "defs.h directory>\"; not registering the kaslr command\n", why);
		return;
	}
	register_extension(command_table);
}

static void __attribute__((destructor))
kaslr_fini(void)
{
}

/* ---- what one run of the command works with ------------------------ */

#define KASLR_MAX_CPUS 1024

struct kaslr_session {
	struct kaslr_vmlinux vml;
	struct kaslr_cpu_regs regs[KASLR_MAX_CPUS];
	int nr_cpus;
	const char *regs_source;
	struct kaslr_dumpfile_info dinfo;
	struct kaslr_dumpread *rd;	/* plain ELF dumps: read the file directly */
	struct kaslr_ctx ctx;
	struct kaslr_report rep;
};

/* Set once a "kaslr -r" has moved the session; a second one refuses. */
static int kaslr_repaired;

static int
crash_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	(void)priv;
	return readmem((ulonglong)paddr, PHYSADDR, buf, (long)len, "kaslr physical read",
		       RETURN_ON_ERROR | QUIET) ? 0 : -1;
}

/* Our reader first where it knows the format, crash's where it fails. */
static int
session_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct kaslr_session *s = priv;

	if (s->rd && kaslr_dumpread_phys(s->rd, paddr, buf, len) == 0)
		return 0;
	return crash_read_phys(NULL, paddr, buf, len);
}

/*
 * Long scans report progress on the terminal, never into fp (which may be a
 * pipe): only once a scan has run a second, so quick ones stay silent.
 */
static void
crash_progress(void *priv, uint64_t done, uint64_t total)
{
	static struct timespec t0;
	static uint64_t last;
	static int shown;
	struct timespec t;

	(void)priv;
	if (!isatty(fileno(stderr)) || !total)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (done <= last || !t0.tv_sec) {	/* a new scan */
		t0 = t;
		shown = 0;
	}
	last = done;
	if (done >= total) {
		if (shown)
			fprintf(stderr, "\r%*s\r", 45, "");
		shown = 0;
		last = 0;
		t0.tv_sec = 0;
	} else if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >= 1.0) {
		fprintf(stderr, "\rkaslr: scanning physical memory: %3d%%", (int)(done * 100 / total));
		shown = 1;
	}
	fflush(stderr);
}

static void
session_free(struct kaslr_session *s)
{
	if (!s)
		return;
	kaslr_vmlinux_close(&s->vml);
	kaslr_dumpfile_free(&s->dinfo);
	kaslr_dumpread_close(s->rd);
	free(s);
}

/*
 * Gather vmlinux values, registers and the dump's memory map.  On failure
 * prints one line and returns NULL; crash's state is never touched.
 */
static struct kaslr_session *
session_open(void)
{
	struct kaslr_session *s;
	char err[KASLR_ERRLEN];
	enum kaslr_status st_;

	if (!machine_type("X86_64")) {
		error(INFO, "only x86_64 kernels are supported (this is %s)\n", MACHINE_TYPE);
		return NULL;
	}
	if (ACTIVE()) {
		error(INFO, "live system: crash takes the offset from /proc/kallsyms and "
			    "phys_base from /proc/iomem; there is nothing to recover\n");
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		error(INFO, "out of memory\n");
		return NULL;
	}
	st_ = kaslr_vmlinux_open(pc->namelist, &s->vml, err, sizeof(err));
	if (st_ != KASLR_OK) {
		error(INFO, "%s\n", err);
		session_free(s);
		return NULL;
	}
	/* The memory map only bounds scans; a dump we cannot parse still gets the register methods. */
	if (kaslr_dumpfile_probe(pc->dumpfile, &s->dinfo, err, sizeof(err)) != KASLR_OK &&
	    CRASHDEBUG(1))
		error(INFO, "%s\n", err);

	if (kaslr_regs_get(s->regs, KASLR_MAX_CPUS, &s->nr_cpus, &s->regs_source) != KASLR_OK) {
		/* crash has no accessor for this format: read the notes ourselves. */
		int n = 0;
		if (s->dinfo.notes &&
		    kaslr_notes_parse(s->dinfo.notes, s->dinfo.notes_len, s->regs, KASLR_MAX_CPUS,
				      &n, NULL) == KASLR_OK && n > 0) {
			s->nr_cpus = n;
			s->regs_source = "QEMU notes (read from the dump file)";
		} else {
			s->nr_cpus = 0;
			s->regs_source = NULL;
		}
	}

	/*
	 * Dumps our reader knows (ELF, kdump-compressed with zlib or raw pages,
	 * flattened) are read straight from the file: the same bytes crash
	 * reads, but a scan's 1 MiB piece is one pread (crash's ELF reader makes
	 * it 256 lseek+read pairs) and zero pages are decompressed once.  What
	 * it cannot read (lzo/snappy/zstd pages, split dumps) crash reads.
	 */
	if (kaslr_dumpread_open(pc->dumpfile, &s->rd, err, sizeof(err)) == KASLR_OK)
		kaslr_dumpread_refine_ranges(s->rd, &s->dinfo);
	else if (CRASHDEBUG(1))
		error(INFO, "%s\n", err);
	s->ctx.read_phys = session_read_phys;
	s->ctx.priv = s;
	s->ctx.ranges = s->dinfo.ranges;
	s->ctx.nr_ranges = s->dinfo.nr_ranges;
	s->ctx.progress = crash_progress;
	return s;
}

/* ---- output ---------------------------------------------------------- */

static const char *
checks_text(unsigned checks, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *text;
	} names[] = {
		{ KASLR_V_BANNER, "linux_banner equal" },
		{ KASLR_V_ALIGNED, "2 MiB aligned" },
		{ KASLR_V_WINDOW, "in the 1 GiB window" },
		{ KASLR_V_RELOC, "relocated pointers agree" },
		{ KASLR_V_PAGETABLE, "page tables agree" },
		{ KASLR_V_VMCOREINFO, "in-RAM vmcoreinfo agrees" },
	};
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (checks & names[i].bit)
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
				      names[i].text);
	if (!n)
		snprintf(buf, len, "none");
	return buf;
}

static void
print_restart_line(uint64_t ko, int64_t pb)
{
	fprintf(fp, "       RESTART: crash --kaslr=0x%" PRIx64 " --machdep phys_base=0x%" PRIx64 " %s %s\n",
		ko, (uint64_t)pb, pc->namelist, pc->dumpfile);
}

static void
print_cpu_table(struct kaslr_session *s)
{
	int i;

	if (!s->nr_cpus) {
		fprintf(fp, "no vCPU registers in this dump\n");
		return;
	}
	fprintf(fp, "REGISTERS: %d CPUs from %s\n", s->nr_cpus, s->regs_source);
	fprintf(fp, "CPU  CR0               CR3               CR4               "
		    "IDTR BASE         LIMIT  RIP\n");
	for (i = 0; i < s->nr_cpus; i++) {
		struct kaslr_cpu_regs *r = &s->regs[i];
		char cr0[20], cr3[20], cr4[20], idt[20], lim[8], rip[20];

		if (r->valid & KASLR_REG_CR0) snprintf(cr0, sizeof(cr0), "%016" PRIx64, r->cr0); else strcpy(cr0, "-");
		if (r->valid & KASLR_REG_CR3) snprintf(cr3, sizeof(cr3), "%016" PRIx64, r->cr3); else strcpy(cr3, "-");
		if (r->valid & KASLR_REG_CR4) snprintf(cr4, sizeof(cr4), "%016" PRIx64, r->cr4); else strcpy(cr4, "-");
		if (r->valid & KASLR_REG_IDTR) {
			snprintf(idt, sizeof(idt), "%016" PRIx64, r->idtr_base);
			snprintf(lim, sizeof(lim), "%x", r->idtr_limit);
		} else {
			strcpy(idt, "-");
			strcpy(lim, "-");
		}
		if (r->valid & KASLR_REG_RIP) snprintf(rip, sizeof(rip), "%016" PRIx64, r->rip); else strcpy(rip, "-");
		fprintf(fp, "%3d  %-16s  %-16s  %-16s  %-16s  %-5s  %s\n", r->cpu, cr0, cr3, cr4,
			idt, lim, rip);
	}
}

static void
print_evidence(struct kaslr_session *s)
{
	char buf[160];
	int i;

	fprintf(fp, "\n  #  METHOD      CPU  PGD               KERNELOFFSET      PHYS_BASE         STATUS    CHECKS\n");
	for (i = 0; i < s->rep.nr_cand; i++) {
		struct kaslr_candidate *c = &s->rep.cand[i];
		char cpu[48], pgd[20], ko[20], pb[20];

		kaslr_cpus_text(c, cpu, sizeof(cpu));
		snprintf(pgd, sizeof(pgd), c->pgd_paddr ? "%" PRIx64 : "-", c->pgd_paddr);
		if (c->status == KASLR_OK) {
			snprintf(ko, sizeof(ko), "%" PRIx64, c->kernel_offset);
			snprintf(pb, sizeof(pb), "%" PRIx64, (uint64_t)c->phys_base);
		} else {
			strcpy(ko, "-");
			strcpy(pb, "-");
		}
		fprintf(fp, "%3d%s %-11s %3s  %-16s  %-16s  %-16s  %-8s  %s\n", i,
			i == s->rep.best ? "*" : " ", kaslr_method_name(c->method), cpu, pgd, ko, pb,
			kaslr_status_name(c->status), checks_text(c->checks, buf, sizeof(buf)));
		if (c->note[0])
			fprintf(fp, "                  %s\n", c->note);
	}
	for (i = 0; i < s->rep.nr_vmci && i < (int)(sizeof(s->rep.vmci) / sizeof(s->rep.vmci[0])); i++) {
		struct kaslr_vmci_copy *v = &s->rep.vmci[i];
		fprintf(fp, "  vmcoreinfo copy at %" PRIx64 ": OSRELEASE=%s KERNELOFFSET=%s%" PRIx64
			    " phys_base=%" PRId64 " %s\n",
			v->paddr, v->osrelease, v->has_offset ? "" : "?", v->kernel_offset, v->phys_base,
			v->verified ? "(verified)" : "(does not verify)");
	}
}

/* What crash currently uses, against the answer. */
static int
session_consistent(uint64_t ko, int64_t pb)
{
	uint64_t cur_ko = (uint64_t)(-(long)kt->relocate);
	uint64_t cur_pb = machdep->machspec->phys_base;

	return cur_ko == ko && cur_pb == (uint64_t)pb;
}

static void
print_result(struct kaslr_session *s)
{
	struct kaslr_candidate *c = &s->rep.cand[s->rep.best];
	uint64_t cur_ko = (uint64_t)(-(long)kt->relocate);
	char buf[160];

	if (s->nr_cpus)
		fprintf(fp, "     REGISTERS: %d CPUs (%s)\n", s->nr_cpus, s->regs_source);
	else
		fprintf(fp, "     REGISTERS: none\n");
	if (c->cpu >= 0)
		fprintf(fp, "        METHOD: %s (cpu%s %s; %d of %d verified candidates agree)\n",
			kaslr_method_name(c->method), c->count > 1 ? "s" : "",
			kaslr_cpus_text(c, buf, sizeof(buf)), s->rep.nr_agree,
			s->rep.nr_agree + s->rep.nr_disagree);
	else
		fprintf(fp, "        METHOD: %s (%d of %d verified candidates agree)\n",
			kaslr_method_name(c->method), s->rep.nr_agree,
			s->rep.nr_agree + s->rep.nr_disagree);
	fprintf(fp, "  KERNELOFFSET: %" PRIx64 "\n", c->kernel_offset);
	fprintf(fp, "     PHYS_BASE: %" PRIx64 " (%" PRId64 ")\n", (uint64_t)c->phys_base, c->phys_base);
	fprintf(fp, "      VERIFIED: %s (vmlinux %s)\n", checks_text(c->checks, buf, sizeof(buf)),
		s->vml.osrelease);
	fprintf(fp, "       SESSION: relocate %" PRIx64 ", phys_base %lx: %s\n", cur_ko,
		machdep->machspec->phys_base,
		session_consistent(c->kernel_offset, c->phys_base) ? "consistent"
		: (pc->flags & MINIMAL_MODE) ? "WRONG (\"kaslr -r\" repairs this session)"
					     : "WRONG (restart crash as below)");
	print_restart_line(c->kernel_offset, c->phys_base);
	if (s->rep.nr_disagree)
		fprintf(fp, "       WARNING: %d verified candidate(s) disagree: see \"kaslr -v\"\n",
			s->rep.nr_disagree);
}

/* ---- "kaslr -r": move crash's view of the kernel -------------------- */

/*
 * Saved state for an all-or-nothing repair.  Symbol values are saved whole:
 * restoring them and rebuilding the hash returns the table to what it was.
 */
struct kaslr_undo {
	ulong *symvals;
	long nsyms;
	ulong relocate;
	ulong kt_flags;
	ulonglong kt_flags2;
	ulong phys_base;
	ulong md_flags;
	struct machine_specific ms;	/* the paging geometry undo_wrong_5level changes */
	ulong kvbase, identity_map_base;
	int gdb_rebased;
};

static void
symval_hash_rebuild(void)
{
	struct syment *sp;
	int i;

	for (i = 0; i < SYMVAL_HASH; i++) {
		st->symval_hash[i].val_hash_head = NULL;
		st->symval_hash[i].val_hash_last = NULL;
	}
	for (sp = st->symtable; sp < st->symend; sp++) {
		int idx = SYMVAL_HASH_INDEX(sp->value);

		sp->val_hash_next = NULL;
		if (!st->symval_hash[idx].val_hash_head)
			st->symval_hash[idx].val_hash_head = sp;
		else
			st->symval_hash[idx].val_hash_last->val_hash_next = sp;
		st->symval_hash[idx].val_hash_last = sp;
	}
}

/* gdb follows crash's table: objfile_rebase (crash 8+) or msymbol patching (crash 7). */
static int
gdb_rebase(uint64_t ko, const char **how_ret)
{
	return kaslr_crash_gdb_relocate((ulong)ko, how_ret);
}

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

static void
relocate_symbols(uint64_t ko)
{
	ulong cur = (ulong)(-(long)kt->relocate);
	struct syment *sp;

	/* Like crash's own relocation: only symbols inside the image move. */
	for (sp = st->symtable; sp < st->symend; sp++) {
		ulong raw = sp->value - cur;

		if (raw >= st->first_section_start && raw <= st->last_section_end)
			sp->value = raw + (ulong)ko;
	}
	symval_hash_rebuild();
	kt->relocate = (ulong)(-(long)ko);
	kt->flags |= RELOC_SET;
	kt->flags2 |= KASLR;
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

static void
undo_repair(struct kaslr_undo *u)
{
	long i;

	if (u->symvals) {
		for (i = 0; i < u->nsyms; i++)
			st->symtable[i].value = u->symvals[i];
		symval_hash_rebuild();
	}
	kt->relocate = u->relocate;
	kt->flags = u->kt_flags;
	kt->flags2 = u->kt_flags2;
	machdep->flags = u->md_flags;
	*machdep->machspec = u->ms;
	machdep->kvbase = u->kvbase;
	machdep->identity_map_base = u->identity_map_base;
	set_phys_base(u->phys_base);
	if (!(u->md_flags & PHYS_BASE))
		machdep->flags &= ~PHYS_BASE;
	if (u->gdb_rebased) {
		const char *how;
		gdb_rebase((uint64_t)(-(long)u->relocate), &how);
	}
}

/*
 * Run fn with crash's FATAL caught: error(FATAL) longjmps to
 * pc->main_loop_env at run time; point it here for the duration.
 * @returns 0 if fn returned, -1 if it ended in a FATAL error.
 */
static int
catch_fatal(void (*fn)(void *), void *arg)
{
	jmp_buf saved;
	volatile int failed = 0;

	memcpy(saved, pc->main_loop_env, sizeof(jmp_buf));
	if (setjmp(pc->main_loop_env))
		failed = 1;
	else
		fn(arg);
	memcpy(pc->main_loop_env, saved, sizeof(jmp_buf));
	return failed ? -1 : 0;
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

/* The initialisation that crash's main_loop() skips in --minimal mode, in its order. */
static const char *full_init_step;

static void
full_init(void *arg)
{
	(void)arg;
	full_init_step = "read_in_kernel_config";
	read_in_kernel_config(IKCFG_INIT);
	full_init_step = "kernel_init";
	kernel_init();
	/* POST_GDB already walks page tables (x86_64_ist_init's accessible()). */
	saved_init_kernel_pgd = machdep->init_kernel_pgd;
	machdep->init_kernel_pgd = init_kernel_pgd_and_fill;
	full_init_step = "machdep_init(POST_GDB)";
	machdep_init(POST_GDB);
	full_init_step = "vm_init";
	vm_init();
	machdep->init_kernel_pgd = saved_init_kernel_pgd;
	full_init_step = "machdep_init(POST_VM)";
	machdep_init(POST_VM);
	full_init_step = "module_init";
	module_init();
	full_init_step = "help_init";
	help_init();
	full_init_step = "task_init";
	task_init();
	full_init_step = "vfs_init";
	vfs_init();
	full_init_step = "net_init";
	net_init();
	full_init_step = "dev_init";
	dev_init();
	full_init_step = "machdep_init(POST_INIT)";
	machdep_init(POST_INIT);
	full_init_step = NULL;
}

/*
 * The tables crash's initialisation fills.  A chain that stops half-way
 * (crash 8.0.2 on a 6.4+ struct module) would leave them half-filled; they
 * are put back as they were, so the session is the repaired minimal one.
 * What the chain allocated is left allocated: a small leak beats a pointer
 * into freed memory.
 */
struct kaslr_snapshot {
	struct kernel_table kt;
	struct vm_table vt;
	struct machdep_table md;
	struct machine_specific ms;
	struct symbol_table_data st;
	struct task_table tt;
	struct offset_table ot;
	struct size_table szt;
	struct array_table at;
	ulonglong pc_flags, pc_flags2;
};

static int
snapshot_take(struct kaslr_snapshot **snap_ret)
{
	struct kaslr_snapshot *sn = malloc(sizeof(*sn));

	if (!sn)
		return -1;
	sn->kt = *kt;
	sn->vt = *vt;
	sn->md = *machdep;
	sn->ms = *machdep->machspec;
	sn->st = *st;
	sn->tt = *tt;
	sn->ot = offset_table;
	sn->szt = size_table;
	sn->at = array_table;
	sn->pc_flags = pc->flags;
	sn->pc_flags2 = pc->flags2;
	*snap_ret = sn;
	return 0;
}

static void
snapshot_restore(struct kaslr_snapshot **snap)
{
	struct kaslr_snapshot *sn = *snap;

	*kt = sn->kt;
	*vt = sn->vt;
	*machdep = sn->md;
	*machdep->machspec = sn->ms;
	*st = sn->st;
	*tt = sn->tt;
	offset_table = sn->ot;
	size_table = sn->szt;
	array_table = sn->at;
	pc->flags = sn->pc_flags;
	pc->flags2 = sn->pc_flags2;
}

static void
snapshot_free(struct kaslr_snapshot **snap)
{
	free(*snap);
	*snap = NULL;
}

static void
kaslr_repair(struct kaslr_session *s, uint64_t ko, int64_t pb, const char *source)
{
	struct kaslr_snapshot *snap = NULL;
	struct kaslr_undo u;
	const char *how = "none";
	long i;

	if (kaslr_repaired) {
		error(INFO, "already relocated by \"kaslr -r\": KERNELOFFSET %lx, phys_base %lx\n",
		      (ulong)(-(long)kt->relocate), machdep->machspec->phys_base);
		return;
	}
	if (session_consistent(ko, pb)) {
		fprintf(fp, "session already uses KERNELOFFSET %" PRIx64 " and phys_base %" PRIx64
			    ": nothing to do\n", ko, (uint64_t)pb);
		return;
	}
	if (!(pc->flags & MINIMAL_MODE)) {
		error(INFO, "this full session was initialised with KERNELOFFSET %lx and phys_base "
			    "%lx; its caches cannot be repaired in place: restart crash as below\n",
		      (ulong)(-(long)kt->relocate), machdep->machspec->phys_base);
		print_restart_line(ko, pb);
		return;
	}

	memset(&u, 0, sizeof(u));
	u.nsyms = st->symend - st->symtable;
	if (!(u.symvals = malloc(u.nsyms * sizeof(ulong)))) {
		error(INFO, "out of memory\n");
		return;
	}
	for (i = 0; i < u.nsyms; i++)
		u.symvals[i] = st->symtable[i].value;
	u.relocate = kt->relocate;
	u.kt_flags = kt->flags;
	u.kt_flags2 = kt->flags2;
	u.phys_base = machdep->machspec->phys_base;
	u.md_flags = machdep->flags;
	u.ms = *machdep->machspec;
	u.kvbase = machdep->kvbase;
	u.identity_map_base = machdep->identity_map_base;

	/* 1-2: phys_base, then symbols and hash. */
	set_phys_base((ulong)pb);
	relocate_symbols(ko);
	/* 3: gdb. */
	if (gdb_rebase(ko, &how) < 0) {
		undo_repair(&u);
		free(u.symvals);
		error(INFO, "gdb could not be relocated (%s): session left unchanged\n", how);
		return;
	}
	u.gdb_rebased = 1;
	/* 4: what crash computed from the wrong values. */
	if (machdep->flags & VM_5LEVEL) {
		int levels = s->rep.best >= 0 ? s->rep.cand[s->rep.best].levels : 0;

		if (levels == 4 || (!levels && kernel_l5_enabled() == 0))
			undo_wrong_5level();
	}
	if (catch_fatal(post_reloc, NULL) < 0) {
		undo_repair(&u);
		free(u.symvals);
		error(INFO, "machdep_init(POST_RELOC) failed with the new values: session left "
			    "unchanged\n");
		return;
	}
	free(u.symvals);
	kaslr_repaired = 1;
	fprintf(fp, "kaslr: relocated to KERNELOFFSET %" PRIx64 ", phys_base %" PRIx64
		    " (%s); gdb: %s\n", ko, (uint64_t)pb, source, how);

	/* 5: come up as a full session; if crash cannot, return to the repaired minimal one. */
	if (snapshot_take(&snap) < 0) {
		error(INFO, "out of memory: this session stays minimal\n");
		return;
	}
	pc->flags &= ~MINIMAL_MODE;
	if (catch_fatal(full_init, NULL) < 0) {
		snapshot_restore(&snap);
		snapshot_free(&snap);
		pc->flags |= MINIMAL_MODE;
		error(INFO, "full initialisation failed in %s; this session stays minimal, with the "
			    "correct offset and phys_base (this crash cannot initialise this kernel: "
			    "a newer crash is needed for a full session)\n",
		      full_init_step ? full_init_step : "?");
		return;
	}
	snapshot_free(&snap);
	fprintf(fp, "\n");
	display_sys_stats();
	fprintf(fp, "\n");
}

/* ---- "kaslr -D" / "kaslr -w" ---------------------------------------- */

/* -D prints the text to fp (its source on stderr); -w FILE writes it whole or not at all. */
static void
write_vmcoreinfo(struct kaslr_session *s, const char *outname, int rebuild)
{
	char *text = NULL, source[KASLR_ERRLEN], err[KASLR_ERRLEN];

	if (kaslr_vmci_crash_text(&s->ctx, &s->vml, s->dinfo.notes, s->dinfo.notes_len,
				  &s->rep.cand[s->rep.best], rebuild, &text, source,
				  sizeof(source)) != KASLR_OK) {
		error(INFO, "%s\n", source);
		return;
	}
	if (!outname) {
		fputs(text, fp);
		fprintf(stderr, "vmcoreinfo: %s\n", source);
	} else if (kaslr_write_text_file(outname, text, err, sizeof(err)) < 0) {
		error(INFO, "%s\n", err);
	} else {
		fprintf(fp, "%s: vmcoreinfo: %s\n", outname, source);
	}
	free(text);
}

/* ---- the command ------------------------------------------------------ */

/*
 * A hex value, optionally "0x"-prefixed and "-"-signed, that fits 64 bits:
 * "-5e00000" is -0x5e00000; "ffffffffa2200000" (64-bit two's complement,
 * as crash prints phys_base) is taken as it is.
 */
static int
parse_signed(const char *s, int64_t *val_ret)
{
	char *end;
	int neg = 0;
	uint64_t v;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 16);	/* base 16 takes an optional 0x itself */
	if (errno || end == s || *end || (neg && v > (uint64_t)INT64_MAX + 1))
		return -1;
	*val_ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/*
 * "kaslr -r OFFSET -PHYS_BASE": getopt would take "-5e00000" for options.
 * Take the operands that follow -r out of args[] before getopt runs (both
 * "-r 13800000 -5e00000" and "-r -- 13800000 -5e00000" work).  @returns
 * how many were taken (0..2); @ops_ret holds them.
 */
static int
take_r_operands(const char *ops_ret[2])
{
	int i, j, n = 0;
	int64_t v;

	for (i = 1; i < argcnt && strcmp(args[i], "--"); i++)
		if (!strcmp(args[i], "-r"))
			break;
	if (i >= argcnt || strcmp(args[i], "-r"))
		return 0;
	j = i + 1;
	if (j < argcnt && !strcmp(args[j], "--"))
		j++;
	while (n < 2 && j + n < argcnt && parse_signed(args[j + n], &v) == 0) {
		ops_ret[n] = args[j + n];
		n++;
	}
	/* Close the gap: "--" too, when it only separated the operands. */
	if (n || j > i + 1) {
		int from = n ? j + n : j, to = i + 1;

		while (from < argcnt)
			args[to++] = args[from++];
		argcnt = to;
		args[argcnt] = NULL;
	}
	return n;
}

/*
 * Every candidate that produced values failed only on the banner (aligned,
 * in the window): the values are plausible, the vmlinux is not this kernel's.
 */
static int
vmlinux_mismatch(struct kaslr_session *s)
{
	int i, n = 0;

	for (i = 0; i < s->rep.nr_cand; i++) {
		struct kaslr_candidate *c = &s->rep.cand[i];

		if (c->status != KASLR_NOTFOUND || !c->kernel_offset)
			continue;
		if (!(c->checks & KASLR_V_ALIGNED) || !(c->checks & KASLR_V_WINDOW))
			continue;
		if (c->checks & KASLR_V_BANNER)
			return 0;
		n++;
	}
	return n > 0;
}

static void
cmd_kaslr(void)
{
	int c, cflag = 0, vflag = 0, rflag = 0, Dflag = 0, Rflag = 0, nops;
	char *wfile = NULL;
	const char *ops[2] = { NULL, NULL };
	unsigned methods = KASLR_METHODS_ALL;
	struct kaslr_session *s;
	enum kaslr_status st_;

	nops = take_r_operands(ops);
	while ((c = getopt(argcnt, args, "cvrDRw:m:V")) != EOF) {
		switch (c) {
		case 'c':
			cflag = 1;
			break;
		case 'v':
			vflag = 1;
			break;
		case 'r':
			rflag = 1;
			break;
		case 'D':
			Dflag = 1;
			break;
		case 'R':
			Rflag = 1;
			break;
		case 'w':
			wfile = optarg;
			break;
		case 'm': {
			int m = kaslr_method_from_name(optarg);
			if (m < 0) {
				error(INFO, "unknown method \"%s\": pagetable, idt, vmcoreinfo, "
					    "elfcorehdr, scan, ptscan\n", optarg);
				return;
			}
			methods = KASLR_METHOD_BIT(m);
			break;
		}
		case 'V':
			fprintf(fp, "kaslr.so %s, built for %s\n", KASLR_EXT_VERSION,
				KASLR_CRASH_BUILT_FOR);
			return;
		default:
			argerrs++;
			break;
		}
	}
	/* Anything left over is an operand -r did not take: a bad value, or one too many. */
	if (!argerrs && rflag && args[optind]) {
		error(INFO, "\"%s\": OFFSET and PHYS_BASE are at most two hex numbers (PHYS_BASE may "
			    "start with -)\n", args[optind]);
		return;
	}
	if (argerrs || args[optind] || (Rflag && !Dflag && !wfile))
		cmd_usage(pc->curcmd, SYNOPSIS);

	if (!(s = session_open()))
		return;

	if (cflag) {
		print_cpu_table(s);
		session_free(s);
		return;
	}

	if (rflag && nops) {
		/* Manual values: verified like found ones, and against the kernel's own vmcoreinfo. */
		struct kaslr_candidate *m = &s->rep.cand[0];
		int64_t ko, pb = 0;
		int levels = 0;

		memset(&s->rep, 0, sizeof(s->rep));
		parse_signed(ops[0], &ko);	/* take_r_operands parsed both already */
		if (nops > 1) {
			parse_signed(ops[1], &pb);
		} else {
			/* No phys_base given: take what the methods say, if they agree on the offset. */
			if (kaslr_find(&s->ctx, &s->vml, s->regs, s->nr_cpus, methods, &s->rep) ==
				    KASLR_OK &&
			    s->rep.cand[s->rep.best].kernel_offset == (uint64_t)ko) {
				pb = s->rep.cand[s->rep.best].phys_base;
				levels = s->rep.cand[s->rep.best].levels;
			} else {
				pb = (int64_t)machdep->machspec->phys_base;
			}
			memset(&s->rep, 0, sizeof(s->rep));
		}
		m->method = KASLR_M_MANUAL;
		m->cpu = -1;
		m->kernel_offset = (uint64_t)ko;
		m->phys_base = pb;
		/* Paging levels unknown (0): the repair reads the kernel's own __pgtable_l5_enabled. */
		m->levels = levels;
		s->rep.nr_cand = 1;
		s->rep.best = 0;
		s->rep.nr_agree = 1;
		if (kaslr_verify_given(&s->ctx, &s->vml, m) != KASLR_OK) {
			error(INFO, "KERNELOFFSET %" PRIx64 " with phys_base %" PRIx64
				    " does not verify: %s\n", (uint64_t)ko, (uint64_t)pb, s->ctx.err);
			session_free(s);
			return;
		}
		kaslr_repair(s, m->kernel_offset, m->phys_base, "given by hand, verified");
		session_free(s);
		return;
	}
	st_ = kaslr_find(&s->ctx, &s->vml, s->regs, s->nr_cpus, methods, &s->rep);
	if (vflag)
		print_cpu_table(s);
	if (vflag)
		print_evidence(s);
	if (st_ != KASLR_OK || s->rep.best < 0) {
		if (vflag)
			fprintf(fp, "\n");
		if (vmlinux_mismatch(s))
			error(INFO, "this vmlinux (%s) does not match this dump: the banner read through "
				    "every candidate differs from the vmlinux's; find the vmlinux whose "
				    "\"Linux version\" line is in the dump (\"kaslr -v\" shows the "
				    "evidence): %s\n", s->vml.osrelease, s->ctx.err);
		else
			error(INFO, "%s (here: kaslr -r OFFSET PHYS_BASE)\n", s->ctx.err[0] ? s->ctx.err : "no method found a verified answer");
		session_free(s);
		return;
	}
	if (vflag)
		fprintf(fp, "\n");

	if (Dflag || wfile) {
		if (Dflag)
			write_vmcoreinfo(s, NULL, Rflag);
		if (wfile)
			write_vmcoreinfo(s, wfile, Rflag);
		session_free(s);
		return;
	}

	if (rflag) {
		struct kaslr_candidate *best = &s->rep.cand[s->rep.best];
		char src[64];

		snprintf(src, sizeof(src), "%s, verified", kaslr_method_name(best->method));
		kaslr_repair(s, best->kernel_offset, best->phys_base, src);
	} else {
		print_result(s);
	}
	session_free(s);
}

static char *help_kaslr[] = {
	"kaslr",
	"recover KERNELOFFSET and phys_base, and repair the session",
	"[-c | -v | -r [offset [phys_base]] | -D | -w file [-R]] [-m method] [-V]",
	"  Dumps taken from outside a guest (virsh dump --memory-only, QEMU",
	"  dump-guest-memory, VMware, sadump) often lack the vmcoreinfo note from which",
	"  crash learns where a KASLR kernel was loaded.  This command recovers the",
	"  kernel's virtual offset (KERNELOFFSET) and physical base (phys_base) from the",
	"  vCPU registers in the dump (page tables through CR3, the IDT through IDTR),",
	"  from the kernel's own vmcoreinfo in RAM, or by scanning memory, and accepts",
	"  an answer only when the full linux_banner read through it equals the",
	"  vmlinux's.  With no option it reports the answer, whether this session",
	"  agrees with it, and the command line that opens the dump correctly.",
	" ",
	"       -c  print the registers of every vCPU found in the dump.",
	"       -v  also print every candidate: method, CPU, page table, values, checks.",
	"       -r  relocate this session to the verified answer: symbols, gdb and",
	"           phys_base; a --minimal session then comes up as a full one.",
	"           Refused in a full session that came up wrong (restart instead).",
	"  -r offset [phys_base]",
	"           the same with values given by hand (hex; a negative phys_base",
	"           keeps its sign, or follows \"--\"); verified the same way, the",
	"           offset itself by relocated pointers, and refused if the kernel's",
	"           own vmcoreinfo in RAM says otherwise.",
	"       -D  print the vmcoreinfo the dump should have had, in the kernel's format.",
	"  -w file  write that vmcoreinfo to a file (for makedumpfile -i, drgn",
	"           --vmcoreinfo).  Both take the dump's own VMCOREINFO note, else",
	"           the kernel's copy in RAM, each only if it agrees with the answer",
	"           (KERNELOFFSET, phys_base, OSRELEASE, BUILD-ID), else rebuild it",
	"           from the vmlinux's debug information, and say which and why on a",
	"           line of their own.  -w replaces the file whole or not at all.",
	"       -R  with -D or -w: always rebuild it from the debug information.",
	"-m method  use only one method: pagetable, idt, vmcoreinfo, elfcorehdr, scan,",
	"           ptscan.",
	"       -V  print the version of kaslr.so.",
	"\nEXAMPLES",
	"  A QEMU dump (dump-guest-memory, no vmcoreinfo device) of a Debian 6.12",
	"  kernel, opened with crash 8.0.2, which does not know this kernel is KASLR:",
	" ",
	"    $ crash --minimal vmlinux-6.12.118+deb13-cloud-amd64 idle.elf",
	"    crash> extend kaslr.so",
	"    ./kaslr.so: shared object loaded",
	"    crash> kaslr",
	"         REGISTERS: 2 CPUs (QEMU ELF notes)",
	"            METHOD: pagetable (cpu 0; 5 of 5 verified candidates agree)",
	"      KERNELOFFSET: fa00000",
	"         PHYS_BASE: fffffffff8800000 (-125829120)",
	"          VERIFIED: linux_banner equal, 2 MiB aligned, in the 1 GiB window,",
	"                    relocated pointers agree, page tables agree, in-RAM",
	"                    vmcoreinfo agrees (vmlinux 6.12.118+deb13-cloud-amd64)",
	"           SESSION: relocate 0, phys_base 8200000: WRONG (\"kaslr -r\" repairs",
	"                    this session)",
	"           RESTART: crash --kaslr=0xfa00000 --machdep phys_base=0xfffffffff8800000",
	"                    vmlinux-6.12.118+deb13-cloud-amd64 idle.elf",
	" ",
	"  Repair the session in place.  crash 8.0.2 cannot initialise a 6.4+ kernel",
	"  as a full session, so this one stays minimal, now with the right values:",
	" ",
	"    crash> kaslr -r",
	"    kaslr: relocated to KERNELOFFSET fa00000, phys_base fffffffff8800000",
	"    (pagetable, verified); gdb: objfile_rebase",
	"    kaslr: full initialisation failed in module_init; this session stays",
	"    minimal, with the correct offset and phys_base (this crash cannot",
	"    initialise this kernel: a newer crash is needed for a full session)",
	"    crash> sym _stext",
	"    ffffffff90a00000 (T) _stext",
	" ",
	"  On a 6.1 kernel the same \"kaslr -r\" brings the session up as a full one,",
	"  printing what \"sys\" prints; \"ps\", \"bt -a\", \"mod\" then work.",
	" ",
	"  Values given by hand are verified the same way, the offset itself by the",
	"  pointers the kernel relocated (the banner alone cannot tell offset 0 with",
	"  phys_base 8200000 from the truth: crash 8.0.2's own mistake on this dump):",
	" ",
	"    crash> kaslr -r 0 8200000",
	"    kaslr: KERNELOFFSET 0 with phys_base 8200000 does not verify: offset 0x0",
	"    phys_base 0x8200000 fails: relocated pointer at 0xa2003a0 reads",
	"    0xffffffff90e36400, not link value 0xffffffff81436400 + offset: the offset",
	"    is wrong by 0xfa00000, the pointers say 0xfa00000 (0 of 13 pointers agree)",
	" ",
	"  A negative phys_base is given with its sign: kaslr -r fa00000 -7800000",
	"  (or kaslr -r -- fa00000 -7800000).",
	" ",
	"  Write the vmcoreinfo the dump should have had, for makedumpfile -i or",
	"  drgn --vmcoreinfo:",
	" ",
	"    crash> kaslr -w vmcoreinfo.txt",
	NULL
};
