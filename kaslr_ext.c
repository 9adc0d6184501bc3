/*
 * kaslr_ext.c - the crash glue of kaslr.so: command, help, options, output
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Everything that finds or checks an answer is in the crash-free core; this
 * file only feeds it crash's memory, registers and vmlinux path, prints
 * what it says, and decides when "kaslr -r" may move crash's view of the
 * kernel.  The rest of the glue is in crash/: the registers crash has
 * (regs_crash.c), the repair transaction (repair.c), the vmcoreinfo rebuild
 * through crash's type information (vmci_crash.c), and what differs between
 * crash releases (crash_compat.h).
 */
#include "defs.h"

#include <ctype.h>
#include <inttypes.h>
#include <time.h>

#include "core/dump.h"
#include "core/dump_fix.h"
#include "core/names.h"
#include "core/vmci_source.h"
#include "crash/crash_compat.h"
#include "crash/regs_crash.h"
#include "crash/repair.h"
#ifdef ARM64
#include "crash/cmd_arm64.h"
#else
#include "crash/repair_x86_64.h"
#endif
#include "crash/vmci_crash.h"
#include "kaslr_core.h"
#include "core/crash_releases.h"
#include "regs.h"
#include "vmcoreinfo.h"
#include "core/vmlinux.h"

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
#ifdef ARM64
		fprintf(fp, "kaslr.so: %s: use build/arm64-crash-<that release>/kaslr.so (\"make "
			    "arm64\"); not registering the kaslr command\n", why);
#else
		fprintf(fp, "kaslr.so: %s: rebuild it with \"make CRASH_SRC=<that crash's "
			    "defs.h directory>\"; not registering the kaslr command\n", why);
#endif
		return;
	}
	register_extension(command_table);
}

static void __attribute__((destructor))
kaslr_fini(void)
{
}

#ifdef ARM64
/* The arm64 command: crash/cmd_arm64.c; -V here, as for x86_64. */
static void
cmd_kaslr(void)
{
	if (argcnt == 2 && !strcmp(args[1], "-V")) {
		fprintf(fp, "kaslr.so %s, built for %s (arm64)\n", KASLR_VERSION,
			KASLR_CRASH_BUILT_FOR);
		return;
	}
	kaslr_cmd_arm64();
}

#else /* x86_64 */
/* ---- what one run of the command works with ------------------------ */

#define KASLR_MAX_CPUS 1024

struct kaslr_session {
	struct kaslr_vmlinux vml;
	struct kaslr_cpu_regs regs[KASLR_MAX_CPUS];
	int nr_cpus;
	const char *regs_source;
	struct kaslr_dump *dump;	/* headers, notes; reads formats our reader knows */
	char dump_err[KASLR_ERRLEN];	/* why there is no dump object */
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

	if (s->dump && kaslr_dump_read_phys(s->dump, paddr, buf, len) == 0)
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
	kaslr_dump_close(s->dump);
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
	int n;

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
	if (kaslr_dump_open(pc->dumpfile, &s->dump, s->dump_err, sizeof(s->dump_err)) != KASLR_OK &&
	    CRASHDEBUG(1))
		error(INFO, "%s\n", s->dump_err);

	/*
	 * QEMU's CPU states from our own, bounds-checked copy of the note area
	 * when we parsed the file (crash's accessors hand out pointers into its
	 * buffer that only the note's own size field bounds); crash's accessors
	 * for the rest (sadump, VMSS, what our reader cannot parse).
	 */
	n = 0;
	if (s->dump && s->dump->notes &&
	    kaslr_notes_parse(s->dump->notes, s->dump->notes_len, s->regs, KASLR_MAX_CPUS, &n,
			      NULL) == KASLR_OK && n > 0) {
		s->nr_cpus = n;
		s->regs_source = strstr(s->dump->format, "ELF") ? "QEMU ELF notes" :
								   "QEMU kdump-compressed notes";
	} else if (kaslr_regs_get(s->regs, KASLR_MAX_CPUS, &s->nr_cpus, &s->regs_source) != KASLR_OK) {
		s->nr_cpus = 0;
		s->regs_source = NULL;
	}

	/*
	 * Dumps our reader knows (ELF, kdump-compressed with zlib or raw pages,
	 * flattened) are read straight from the file: the same bytes crash
	 * reads, but a scan's 1 MiB piece is one pread (crash's ELF reader makes
	 * it 256 lseek+read pairs) and zero pages are decompressed once.  What
	 * it cannot read (lzo/snappy/zstd pages, split dumps) crash reads.
	 */
	if (s->dump && kaslr_dump_reader_error(s->dump) && CRASHDEBUG(1))
		error(INFO, "%s\n", kaslr_dump_reader_error(s->dump));
	s->ctx.read_phys = session_read_phys;
	s->ctx.priv = s;
	s->ctx.ranges = s->dump ? s->dump->ranges : NULL;
	s->ctx.nr_ranges = s->dump ? s->dump->nr_ranges : 0;
	s->ctx.progress = crash_progress;
	return s;
}

/*
 * The dump types crash opens that the dump writer (core/dump_fix.h) does
 * not know: it writes ELF and kdump-compressed files only.
 */
static const struct {
	ulonglong flag;
	const char *name;
} crash_other_dumps[] = {
	{ SADUMP, "an sadump" },
	{ VMWARE_VMSS, "a VMware .vmss/.vmsn" },
	{ KVMDUMP, "a KVM savevm" },
	{ XENDUMP, "a Xen" },
	{ LKCD, "an LKCD" },
	{ MCLXCD, "an MCLX" },
	{ S390D, "an s390" },
	{ LIVE_RAMDUMP, "a raw RAM" },
};

/*
 * Can "kaslr -o" write a copy of this session's dump file?  Only of a
 * file crash opened as ELF (NETDUMP, KDUMP) or kdump-compressed
 * (DISKDUMP, flattened or not), whole, and whose headers our reader
 * parsed (the notes the copy keeps come from there).  @returns 1, or 0
 * with @why set.
 */
static int
dump_writable(const struct kaslr_session *s, char *why, size_t len)
{
	size_t i;

	if (!(pc->flags & (NETDUMP | KDUMP | DISKDUMP))) {
		const char *name = "this kind of";

		for (i = 0; i < sizeof(crash_other_dumps) / sizeof(crash_other_dumps[0]); i++)
			if (pc->flags & crash_other_dumps[i].flag)
				name = crash_other_dumps[i].name;
		snprintf(why, len, "crash opened %s as %s dump; the dump writer copies ELF and "
			 "kdump-compressed files only", pc->dumpfile, name);
		return 0;
	}
	if ((pc->flags & DISKDUMP) && dumpfile_is_split()) {
		snprintf(why, len, "%s is one part of a split dump; join the parts with "
			 "\"makedumpfile --reassemble\" and open that file", pc->dumpfile);
		return 0;
	}
	if (!s->dump) {
		snprintf(why, len, "%s", s->dump_err[0] ? s->dump_err : "the dump's headers cannot be read");
		return 0;
	}
	return 1;
}

/* ---- output ---------------------------------------------------------- */

/* The checks a candidate passed, in the module's words ("none" for none). */
static const char *
checks_text(unsigned checks, char *buf, size_t len)
{
	return kaslr_checks_join(checks, KASLR_CHECK_LONG, ", ", "none", buf, len);
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
	char buf[512];
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

/*
 * A dump without a VMCOREINFO note, or with one that is not this kernel's,
 * stays wrong for every tool that opens it: name the commands that fix
 * the file.  Nothing for a dump the writer cannot copy, or whose note
 * segment it cannot read either.
 */
static void
print_dumpfile_line(struct kaslr_session *s, const struct kaslr_candidate *c)
{
	struct kaslr_vmci_passed p;
	char why[KASLR_ERRLEN];

	if (!dump_writable(s, why, sizeof(why)) ||
	    kaslr_vmci_note_check(s->dump->notes, s->dump->notes_len, &s->vml, c, &p))
		return;
	if (p.why == KASLR_VMCI_ABSENT)
		fprintf(fp, "      DUMPFILE: no VMCOREINFO note");
	else if (p.why == KASLR_VMCI_DISAGREES)
		fprintf(fp, "      DUMPFILE: its VMCOREINFO note is not this kernel's (%s)", p.detail);
	else
		return;
	fprintf(fp, ": \"kaslr -o FILE\" writes a copy that crash, drgn and makedumpfile open with no "
		    "options");
	/* kaslr-find changes a flattened file only by a copy. */
	if (!s->dump->flattened)
		fprintf(fp, " (kaslr-find --in-place %s %s changes the dump itself)", pc->namelist,
			pc->dumpfile);
	fprintf(fp, "\n");
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
	char buf[512];

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
	print_dumpfile_line(s, c);
	if (s->rep.nr_disagree)
		fprintf(fp, "       WARNING: %d verified candidate(s) disagree: see \"kaslr -v\"\n",
			s->rep.nr_disagree);
	if (s->rep.nr_unrecorded)
		fprintf(fp, "       WARNING: %d candidate(s) beyond the first %d distinct ones are not in these counts\n",
			s->rep.nr_unrecorded, KASLR_MAX_CANDIDATES);
}

/* ---- "kaslr -r": move crash's view of the kernel -------------------- */

/*
 * After a repair: what crash itself now takes for this dump's vmcoreinfo
 * (pc->read_vmcoreinfo: the dump's note; crash 9 falls back to the kernel's
 * copy in RAM, which it can read only now that the offset is right: its
 * "cannot read vmcoreinfo_data" at the wrong start came from before).  Says
 * whether it agrees with the answer; silent when crash has none.
 */
static void
session_vmcoreinfo_line(struct kaslr_session *s, uint64_t ko, int64_t pb)
{
	char *off, *rel, *pbs;

	if (!pc->read_vmcoreinfo)
		return;
	rel = pc->read_vmcoreinfo("OSRELEASE");
	off = pc->read_vmcoreinfo("KERNELOFFSET");
	pbs = pc->read_vmcoreinfo("NUMBER(phys_base)");
	if (rel || off || pbs) {
		int bad_rel = rel && strcmp(rel, s->vml.osrelease) != 0;
		int bad_off = off && strtoull(off, NULL, 16) != ko;
		int bad_pb = pbs && strtoll(pbs, NULL, 10) != pb;

		if (bad_rel || bad_off || bad_pb)
			error(INFO, "WARNING: crash's vmcoreinfo (the dump's note, or the kernel's copy "
				    "in RAM) says OSRELEASE=%s KERNELOFFSET=%s NUMBER(phys_base)=%s, not "
				    "this answer: commands that read it get those values; \"kaslr -w "
				    "FILE\" writes the right one\n", rel ? rel : "?", off ? off : "?",
			      pbs ? pbs : "?");
		else
			fprintf(fp, "kaslr: crash's vmcoreinfo agrees with the answer (OSRELEASE=%s "
				    "KERNELOFFSET=%s NUMBER(phys_base)=%s)\n", rel ? rel : "-",
				off ? off : "-", pbs ? pbs : "-");
	}
	free(rel);
	free(off);
	free(pbs);
}

/*
 * What to use when this crash cannot initialise kernel @osrelease: the
 * first crash release that can (core/crash_releases.c, from crash's own
 * history), into @buf.
 */
static const char *
newer_crash(const char *osrelease, char *buf, size_t size)
{
	const char *why, *rel = kaslr_crash_release_for(osrelease, &why);

	if (rel && *rel && kaslr_crash_release_cmp(build_version, rel) < 0)
		snprintf(buf, size, "crash %s cannot initialise Linux %s; crash %s or later can (its commit "
			 "%s): open the dump with it and the line below", build_version, osrelease, rel, why);
	else if (!rel)
		snprintf(buf, size, "no crash release initialises Linux %s yet (the newest, %s, predates "
			 "the support: %s): use crash built from its development tree with the line "
			 "below, or this minimal session", osrelease, KASLR_CRASH_NEWEST, why);
	else
		snprintf(buf, size, "crash %s could not initialise this kernel (-v shows crash's own "
			 "messages in full); the line below starts a fresh session", build_version);
	return buf;
}

/*
 * Refuse what cannot be repaired in place, then run the repair transaction
 * (crash/repair.h): a failure up to the relocation leaves the session as it
 * was; a full initialisation that fails leaves it repaired and minimal.
 */
static void
repair_session(struct kaslr_session *s, uint64_t ko, int64_t pb, const char *source, int verbose)
{
	struct kaslr_repair *t;
	const char *how = "none", *step;
	char why[KASLR_ERRLEN];

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

	if (!(t = kaslr_repair_begin())) {
		error(INFO, "out of memory\n");
		return;
	}
	/* 1-2: phys_base, then symbols and hash. */
	kaslr_repair_relocate(t, ko, pb);
	/* 3: gdb. */
	if (kaslr_repair_gdb(t, ko, &how) < 0) {
		kaslr_repair_rollback(t);
		kaslr_repair_end(t);
		error(INFO, "gdb could not be relocated (%s): session left unchanged\n", how);
		return;
	}
	/* 4: what crash computed from the wrong values. */
	if (kaslr_repair_post_reloc(t, s->rep.best >= 0 ? s->rep.cand[s->rep.best].levels : 0) < 0) {
		kaslr_repair_rollback(t);
		kaslr_repair_end(t);
		error(INFO, "machdep_init(POST_RELOC) failed with the new values: session left "
			    "unchanged\n");
		return;
	}
	kaslr_repair_save(t);
	kaslr_repaired = 1;
	fprintf(fp, "kaslr: relocated to KERNELOFFSET %" PRIx64 ", phys_base %" PRIx64
		    " (%s); gdb: %s\n", ko, (uint64_t)pb, source, how);

	/* 5: come up as a full session; if crash cannot, return to the repaired minimal one. */
	if (kaslr_repair_full_init(t, verbose, &step) < 0) {
		kaslr_repair_rollback(t);
		kaslr_repair_end(t);
		error(INFO, "full initialisation failed in %s; this session stays minimal, with the "
			    "correct offset and phys_base: %s\n", step, newer_crash(s->vml.osrelease, why,
										sizeof(why)));
		print_restart_line(ko, pb);
		session_vmcoreinfo_line(s, ko, pb);
		return;
	}
	kaslr_repair_end(t);
	fprintf(fp, "\n");
	display_sys_stats();
	fprintf(fp, "\n");
	session_vmcoreinfo_line(s, ko, pb);
}

/* ---- "kaslr -D" / "kaslr -w" ---------------------------------------- */

/*
 * -D prints the text to fp (its source on stderr); -w FILE writes it whole
 * or not at all.  The source: the dump's note, else the kernel's copy in
 * RAM, each only if it agrees with the answer, else the rebuild through
 * crash (-R: the rebuild only).
 */
static void
write_vmcoreinfo(struct kaslr_session *s, const char *outname, int rebuild)
{
	struct kaslr_vmci_crash_build b = { &s->ctx, &s->vml, &s->rep.cand[s->rep.best] };
	struct kaslr_vmci_policy pol = {
		.sources = rebuild ? 0 : KASLR_VMCI_SRC_NOTE | KASLR_VMCI_SRC_RAM,
		.notes = s->dump ? s->dump->notes : NULL,
		.notes_len = s->dump ? s->dump->notes_len : 0,
		.build = kaslr_vmci_crash_build,
		.build_priv = &b,
	};
	struct kaslr_vmci_choice ch;
	char *text = NULL, err[KASLR_ERRLEN];

	if (kaslr_vmci_source(&s->ctx, &s->vml, b.cand, &pol, &text, &ch) != KASLR_OK) {
		error(INFO, "%s\n", ch.line);
		return;
	}
	if (!outname) {
		fputs(text, fp);
		fprintf(stderr, "vmcoreinfo: %s\n", ch.line);
	} else if (kaslr_write_text_file(outname, text, err, sizeof(err)) < 0) {
		error(INFO, "%s\n", err);
	} else {
		fprintf(fp, "%s: vmcoreinfo: %s\n", outname, ch.line);
	}
	free(text);
}

/* ---- "kaslr -o" ------------------------------------------------------- */

/*
 * Before anything is searched: what refuses "kaslr -o OUT" whatever the
 * answer (a live session, an OUT that exists without -f).  @returns 1
 * after saying why.
 */
static int
dump_out_refused(const char *outname, int force)
{
	struct stat st;

	if (ACTIVE()) {
		error(INFO, "not writing %s: this session reads a live system, not a dump file\n", outname);
		return 1;
	}
	if (!force && lstat(outname, &st) == 0) {
		error(INFO, "%s: exists (\"kaslr -f -o %s\" replaces it)\n", outname, outname);
		return 1;
	}
	return 0;
}

/*
 * -o OUT: a copy of the session's dump file that carries the vmcoreinfo
 * -D prints (the same source policy: the dump's note, else the kernel's
 * copy in RAM, each only if it agrees with the verified answer, else the
 * rebuild through crash; -R: the rebuild only), so that crash, drgn and
 * makedumpfile open it with no options.  The writer (core/dump_fix.h)
 * writes it whole or not at all.  Called with a verified answer only.
 */
static void
write_dump(struct kaslr_session *s, const char *outname, int force, int rebuild)
{
	struct kaslr_candidate *c = &s->rep.cand[s->rep.best];
	struct kaslr_vmci_crash_build b = { &s->ctx, &s->vml, c };
	struct kaslr_vmci_policy pol = {
		.sources = rebuild ? 0 : KASLR_VMCI_SRC_NOTE | KASLR_VMCI_SRC_RAM,
		.notes = s->dump->notes,
		.notes_len = s->dump->notes_len,
		.build = kaslr_vmci_crash_build,
		.build_priv = &b,
	};
	struct kaslr_vmci_choice ch;
	struct kaslr_fix_in fix;
	char *text = NULL, msg[KASLR_ERRLEN + 256];

	if (kaslr_vmci_source(&s->ctx, &s->vml, c, &pol, &text, &ch) != KASLR_OK) {
		error(INFO, "not writing %s: %s\n", outname, ch.line);
		return;
	}
	fix.vmcoreinfo = text;
	fix.vmcoreinfo_len = strlen(text);
	fix.phys_base = c->phys_base;
	fix.banner = s->vml.banner;
	fix.banner_len = s->vml.banner_len;
	if (kaslr_fix_copy(pc->dumpfile, outname, force, &fix, msg, sizeof(msg)) != KASLR_OK)
		error(INFO, "%s\n", msg);
	else
		fprintf(fp, "kaslr: %s (its vmcoreinfo: %s)\n", msg, ch.line);
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

#define KASLR_FLAGS "cvrDRVf"	/* the options that take no argument */

/* "-c", "-vr", "-cD": a cluster of flags (some of them are hex digits too). */
static int
flag_cluster(const char *a)
{
	return a[0] == '-' && a[1] && strspn(a + 1, KASLR_FLAGS) == strlen(a + 1);
}

/*
 * "kaslr -r OFFSET -PHYS_BASE": getopt would take "-5e00000" for options.
 * Take the operands that follow -r out of args[] before getopt runs:
 * "-r 13800000 -5e00000", "-vr 13800000 -5e00000" and "-r -- 13800000
 * -5e00000" work, and "-r -c" stays two options.  @returns how many were
 * taken (0..2); @ops_ret holds them.
 */
static int
take_r_operands(const char *ops_ret[2])
{
	int i, j, n = 0, after_dashes;
	int64_t v;

	for (i = 1; i < argcnt && strcmp(args[i], "--"); i++)
		if (flag_cluster(args[i]) && strchr(args[i], 'r'))
			break;
	if (i >= argcnt || !strcmp(args[i], "--"))
		return 0;
	j = i + 1;
	after_dashes = j < argcnt && !strcmp(args[j], "--");
	if (after_dashes)
		j++;
	/* "-r -c" is -r and -c, not the offset -0xc: only "--" makes it one. */
	while (n < 2 && j + n < argcnt && (after_dashes || !flag_cluster(args[j + n])) &&
	       parse_signed(args[j + n], &v) == 0) {
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
	int c, cflag = 0, vflag = 0, rflag = 0, Dflag = 0, Rflag = 0, fflag = 0, nops;
	char *wfile = NULL, *ofile = NULL, why[KASLR_ERRLEN];
	const char *ops[2] = { NULL, NULL };
	unsigned methods = KASLR_METHODS_ALL;
	struct kaslr_session *s;
	enum kaslr_status st_;

	nops = take_r_operands(ops);
	while ((c = getopt(argcnt, args, "cvrDRfw:o:m:V")) != EOF) {
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
		case 'o':
			ofile = optarg;
			break;
		case 'f':
			fflag = 1;
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
			fprintf(fp, "kaslr.so %s, built for %s\n", KASLR_VERSION,
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
	if (argerrs || args[optind] || (Rflag && !Dflag && !wfile && !ofile) || (fflag && !ofile) ||
	    (ofile && (rflag || cflag)))
		cmd_usage(pc->curcmd, SYNOPSIS);

	if (ofile && dump_out_refused(ofile, fflag))
		return;
	if (!(s = session_open()))
		return;
	/* Before the search: a dump that cannot be copied is refused whatever the answer. */
	if (ofile && !dump_writable(s, why, sizeof(why))) {
		error(INFO, "not writing %s: %s\n", ofile, why);
		session_free(s);
		return;
	}

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
		repair_session(s, m->kernel_offset, m->phys_base, "given by hand, verified", vflag);
		session_free(s);
		return;
	}
	st_ = kaslr_find(&s->ctx, &s->vml, s->regs, s->nr_cpus, methods, &s->rep);
	if (vflag)
		print_cpu_table(s);
	if (vflag)
		print_evidence(s);
	if (st_ != KASLR_OK || s->rep.best < 0) {
		/* -o writes nothing without a verified answer, and says so first. */
		char nothing[KASLR_ERRLEN] = "";

		if (ofile)
			snprintf(nothing, sizeof(nothing), "not writing %s: ", ofile);
		if (vflag)
			fprintf(fp, "\n");
		/* The dump predates the kernel, or holds another: the core's diagnosis says all. */
		if (s->rep.diag.kind == KASLR_DIAG_EARLY_BOOT || s->rep.diag.kind == KASLR_DIAG_WRONG_VMLINUX)
			error(INFO, "%s%s\n", nothing, s->ctx.err);
		else if (s->rep.diag.kind == KASLR_DIAG_NONE && vmlinux_mismatch(s))
			error(INFO, "%sthis vmlinux (%s) does not match this dump: the banner read through "
				    "every candidate differs from the vmlinux's; find the vmlinux whose "
				    "\"Linux version\" line is in the dump (\"kaslr -v\" shows the "
				    "evidence): %s\n", nothing, s->vml.osrelease, s->ctx.err);
		else
			error(INFO, "%s%s (here: kaslr -r OFFSET PHYS_BASE)\n", nothing,
			      s->ctx.err[0] ? s->ctx.err : "no method found a verified answer");
		session_free(s);
		return;
	}
	if (vflag)
		fprintf(fp, "\n");

	if (Dflag || wfile || ofile) {
		if (Dflag)
			write_vmcoreinfo(s, NULL, Rflag);
		if (wfile)
			write_vmcoreinfo(s, wfile, Rflag);
		if (ofile)
			write_dump(s, ofile, fflag, Rflag);
		session_free(s);
		return;
	}

	if (rflag) {
		struct kaslr_candidate *best = &s->rep.cand[s->rep.best];
		char src[64];

		snprintf(src, sizeof(src), "%s, verified", kaslr_method_name(best->method));
		repair_session(s, best->kernel_offset, best->phys_base, src, vflag);
	} else {
		print_result(s);
	}
	session_free(s);
}

#endif /* x86_64 */

static char *help_kaslr[] = {
	"kaslr",
	"recover KERNELOFFSET and phys_base, and repair the session",
#ifdef ARM64
	"[-r [offset kimage_voffset [phys_offset=X] [va_bits=N] [vabits_actual=N] [page_size=N] "
	"[kernelpacmask=X]]] [-V]",
#else
	"[-c | -v | -r [offset [phys_base]] | -D | -w file [-R] | -o file [-f] [-R]] [-m method] [-V]",
#endif
	"  Dumps taken from outside a guest (virsh dump --memory-only, QEMU",
	"  dump-guest-memory, VMware, sadump) often lack the vmcoreinfo note from which",
	"  crash learns where a KASLR kernel was loaded.  This command recovers the",
	"  kernel's virtual offset (KERNELOFFSET) and physical base (phys_base) from the",
	"  vCPU registers in the dump (page tables through CR3, the IDT through IDTR),",
	"  from the kernel's own vmcoreinfo in RAM, or by scanning memory, and accepts",
	"  an answer only when the full linux_banner read through it equals the",
	"  vmlinux's.  With no option it reports the answer, whether this session",
	"  agrees with it, the command line that opens the dump correctly, and, when",
	"  the dump file has no VMCOREINFO note or a wrong one, how to fix the file.",
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
	"  -o file  write a copy of the dump file that carries that vmcoreinfo in its",
	"           VMCOREINFO note (replacing a wrong one), so that crash, drgn and",
	"           makedumpfile open the copy with no options.  ELF and",
	"           kdump-compressed dumps (a flattened one is written reassembled);",
	"           the copy is written whole or not at all, and only for a verified",
	"           answer.  An existing file is refused.",
	"       -f  with -o: replace an existing file.",
	"       -R  with -D, -w or -o: always rebuild it from the debug information.",
	"-m method  use only one method: pagetable, idt, vmcoreinfo, elfcorehdr, scan,",
	"           ptscan.",
	"       -V  print the version of kaslr.so.",
	" ",
	"  On arm64 (a kaslr.so built with make arm64, for crash:arm64) QEMU's notes",
	"  carry no page-table register: the image is found by its banner and its",
	"  own swapper_pg_dir walked (docs/arm64.md).  With no option it prints",
	"  KERNELOFFSET, kimage_voffset, PHYS_OFFSET, VA_BITS and what proved them.",
	"       -r  relocate a --minimal session to them and bring it up full.",
	"  -r offset kimage_voffset [phys_offset=X] [va_bits=N] [vabits_actual=N]",
	"     [page_size=N] [kernelpacmask=X]",
	"           the same with values given by hand: offset is KERNELOFFSET",
	"           (runtime _text - its link address), kimage_voffset the image's",
	"           VA - PA (hex).  What is not given is read from the kernel",
	"           (memstart_addr, vabits_actual) and from its own vmcoreinfo in",
	"           RAM, which must agree; the banner read through the values must",
	"           equal the vmlinux's.",
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
	"          DUMPFILE: no VMCOREINFO note: \"kaslr -o FILE\" writes a copy that",
	"                    crash, drgn and makedumpfile open with no options",
	"                    (kaslr-find --in-place vmlinux-6.12.118+deb13-cloud-amd64",
	"                    idle.elf changes the dump itself)",
	" ",
	"  Repair the session in place.  crash 8.0.2 cannot initialise a 6.4+ kernel",
	"  as a full session, so this one stays minimal, now with the right values:",
	" ",
	"    crash> kaslr -r",
	"    kaslr: relocated to KERNELOFFSET fa00000, phys_base fffffffff8800000",
	"    (pagetable, verified); gdb: objfile_rebase",
	"    kaslr: invalid structure member offset: module_core_size",
	"           FILE: kernel.c  LINE: 3781  FUNCTION: module_init()",
	"    kaslr: full initialisation failed in module_init; this session stays",
	"    minimal, with the correct offset and phys_base: crash 8.0.2 cannot",
	"    initialise Linux 6.12.118+deb13-cloud-amd64; crash 8.0.6 or later can",
	"    (its commit 6752571 \"X86 64: fix for crash session loading failure\"):",
	"    open the dump with it and the line below",
	"           RESTART: crash --kaslr=0xfa00000 --machdep phys_base=0xfffffffff8800000",
	"                    vmlinux-6.12.118+deb13-cloud-amd64 idle.elf",
	"    crash> sym _stext",
	"    ffffffff90a00000 (T) _stext",
	" ",
	"  crash's own message is shown once (\"kaslr -v -r\": as crash printed it,",
	"  twice, with its error trace).  The release named comes from crash's own",
	"  history: the first release whose changes let it initialise that kernel.",
	" ",
	"  A vmlinux of another kernel, or a dump taken before the kernel ran, is",
	"  named for what it is:",
	" ",
	"    crash> kaslr",
	"    kaslr: this vmlinux is not the dump's kernel: the dump holds Linux",
	"    6.1.0-57-cloud-amd64 (build-id 01d2640d3a13145ee314eb05b155f141b7b7058b),",
	"    the vmlinux is 6.12.118+deb13-cloud-amd64 (build-id d01f77c7eb9976096e29",
	"    7898b0aa41e36eac404b); use the debug vmlinux of 6.1.0-57-cloud-amd64 (on",
	"    Debian: package linux-image-6.1.0-57-cloud-amd64-dbg, version 6.1.192-3)",
	" ",
	"    crash> kaslr",
	"    kaslr: the dump predates the kernel's relocation: vCPU 0 in the boot",
	"    decompressor (RIP 0x431dee3, CR3 0x4357000: identity tables, nothing",
	"    mapped in the kernel half), vCPU 1 in protected mode without paging (EIP",
	"    0xfd09a), and no banner of 6.1.0-57-cloud-amd64 is in memory; no kernel",
	"    has been placed yet, so no tool can place it: take the dump after the",
	"    guest has booted (once its console has printed \"Linux version\")",
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
	"    vmcoreinfo.txt: vmcoreinfo: the kernel's own copy in RAM at physical",
	"    18cb000 (no VMCOREINFO note in the dump)",
	" ",
	"  Write a copy of the dump file that carries it, which opens with no",
	"  options (in crash 8.0.6 and later: crash 8.0.2 does not place a 6.10+",
	"  kernel from its note either):",
	" ",
	"    crash> kaslr -o idle-fixed.elf",
	"    kaslr: wrote idle-fixed.elf: ELF core, a VMCOREINFO note (3262 bytes of",
	"    text) added (its vmcoreinfo: the kernel's own copy in RAM at physical",
	"    18cb000 (no VMCOREINFO note in the dump))",
	"    crash> kaslr -o idle-fixed.elf",
	"    kaslr: idle-fixed.elf: exists (\"kaslr -f -o idle-fixed.elf\" replaces it)",
	"    crash> exit",
	"    $ crash vmlinux-6.12.118+deb13-cloud-amd64 idle-fixed.elf",
	"    crash> sym _stext",
	"    ffffffff90a00000 (T) _stext",
	NULL
};
