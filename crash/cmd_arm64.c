/*
 * crash/cmd_arm64.c - the "kaslr" command in crash:arm64: the core's search,
 * its answer printed, and the repair transaction with the arm64 step
 * (crash/repair_arm64.c)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Built for ARM64 only (the Makefile leaves it out of the x86_64 module).
 */
#include "defs.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>

#include "core/dump.h"
#include "core/names.h"
#include "crash/cmd_arm64.h"
#include "crash/crash_compat.h"
#include "crash/repair.h"
#include "crash/repair_arm64.h"
#include "kaslr_core.h"

/* ---- arm64: "kaslr -r" with the layout given ------------------------- */

/* Set once a "kaslr -r" has moved the session; a second one refuses. */
static int kaslr_repaired;

static void
print_arm64_session(void)
{
	struct machine_specific *ms = machdep->machspec;

	fprintf(fp, "       SESSION: relocate %lx, kimage_voffset %lx, phys_offset %lx, "
		    "VA_BITS %ld, VA_BITS_ACTUAL %ld%s\n", (ulong)(-(long)kt->relocate),
		ms->kimage_voffset, ms->phys_offset, ms->VA_BITS, ms->VA_BITS_ACTUAL,
		(pc->flags & MINIMAL_MODE) ? " (--minimal)" : "");
}

/*
 * The arm64 repair: the transaction of crash/repair.h with the arm64 step 4
 * (crash/repair_arm64.h).  @l is what the user typed, or (later) the core's
 * answer; @source says which, for the output.
 */
static void
repair_session_arm64(const struct kaslr_arm64_layout *l, const char *source)
{
	struct kaslr_arm64_report rep;
	struct kaslr_repair *t;
	const char *how = "none", *step;
	char err[KASLR_ERRLEN];

	if (kaslr_repaired) {
		error(INFO, "already relocated by \"kaslr -r\": KERNELOFFSET %lx, kimage_voffset %lx\n",
		      (ulong)(-(long)kt->relocate), machdep->machspec->kimage_voffset);
		return;
	}
	if ((ulong)(-(long)kt->relocate) == l->kernel_offset &&
	    machdep->machspec->kimage_voffset == l->kimage_voffset) {
		fprintf(fp, "session already uses KERNELOFFSET %" PRIx64 " and kimage_voffset %" PRIx64
			    ": nothing to do\n", l->kernel_offset, l->kimage_voffset);
		return;
	}
	if (!(pc->flags & MINIMAL_MODE)) {
		error(INFO, "this full session was initialised with KERNELOFFSET %lx and "
			    "kimage_voffset %lx; its caches cannot be repaired in place: restart crash "
			    "with --minimal and run \"kaslr -r\" there\n",
		      (ulong)(-(long)kt->relocate), machdep->machspec->kimage_voffset);
		return;
	}
	if (!(t = kaslr_repair_begin())) {
		error(INFO, "out of memory\n");
		return;
	}
	/* 2: symbols and hash. */
	kaslr_repair_symbols(t, l->kernel_offset);
	/* 3: gdb. */
	if (kaslr_repair_gdb(t, l->kernel_offset, &how) < 0) {
		kaslr_repair_rollback(t);
		kaslr_repair_end(t);
		error(INFO, "gdb could not be relocated (%s): session left unchanged\n", how);
		return;
	}
	/* 4: kimage_voffset, PHYS_OFFSET, VA_BITS..., arm64_init(PRE_GDB), the banner. */
	if (kaslr_repair_layout_arm64(t, l, &rep, err, sizeof(err)) < 0) {
		kaslr_repair_rollback(t);
		kaslr_repair_end(t);
		error(INFO, "KERNELOFFSET %" PRIx64 " with kimage_voffset %" PRIx64 " does not hold: %s: "
			    "session left unchanged\n", l->kernel_offset, l->kimage_voffset, err);
		return;
	}
	kaslr_repair_save(t);
	kaslr_repaired = 1;
	fprintf(fp, "kaslr: relocated to KERNELOFFSET %" PRIx64 ", kimage_voffset %" PRIx64
		    ", phys_offset %lx, VA_BITS_ACTUAL %ld (%s); gdb: %s; banner: %s; "
		    "vmcoreinfo: %s\n", l->kernel_offset, l->kimage_voffset,
		machdep->machspec->phys_offset, machdep->machspec->VA_BITS_ACTUAL, source, how,
		rep.banner_checked ? "equals the vmlinux's" : "\"Linux version\" (vmlinux unreadable)",
		rep.ram_vmcoreinfo ? "the kernel's copy in RAM, agreeing" : "these values only");

	/* 5: come up as a full session; if crash cannot, return to the repaired minimal one. */
	if (kaslr_repair_full_init(t, 0, &step) < 0) {
		kaslr_repair_rollback(t);
		kaslr_repair_end(t);
		error(INFO, "full initialisation failed in %s; this session stays minimal, with the "
			    "correct layout: crash %s cannot initialise this kernel as a full session; "
			    "write a fixed copy with \"kaslr-find --output-dump FIXED %s %s\" and open it "
			    "in a newer crash\n", step, build_version, pc->namelist, pc->dumpfile);
		return;
	}
	kaslr_repair_end(t);
	fprintf(fp, "\n");
	display_sys_stats();
	fprintf(fp, "\n");
}

/* "name=value" operands after -r, named as crash's --machdep options are. */
static int
arm64_layout_option(const char *a, struct kaslr_arm64_layout *l)
{
	static const struct {
		const char *name;
		unsigned int bit;
		int base;
	} opts[] = {
		{ "phys_offset", KASLR_ARM64_PHYS_OFFSET, 16 },
		{ "va_bits", KASLR_ARM64_VA_BITS, 10 },
		{ "vabits_actual", KASLR_ARM64_VABITS_ACTUAL, 10 },
		{ "page_size", KASLR_ARM64_PAGE_SIZE, 10 },
		{ "kernelpacmask", KASLR_ARM64_KERNELPACMASK, 16 },
	};
	const char *eq = strchr(a, '=');
	unsigned i;

	if (!eq)
		return -1;
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char *end;
		uint64_t v;

		if (strlen(opts[i].name) != (size_t)(eq - a) || strncmp(a, opts[i].name, eq - a))
			continue;
		errno = 0;
		v = strtoull(eq + 1, &end, opts[i].base);
		if (errno || end == eq + 1 || *end)
			return -1;
		switch (opts[i].bit) {
		case KASLR_ARM64_PHYS_OFFSET: l->phys_offset = v; break;
		case KASLR_ARM64_VA_BITS: l->va_bits = (unsigned)v; break;
		case KASLR_ARM64_VABITS_ACTUAL: l->vabits_actual = (unsigned)v; break;
		case KASLR_ARM64_PAGE_SIZE: l->page_size = (unsigned)v; break;
		case KASLR_ARM64_KERNELPACMASK: l->kernelpacmask = v; break;
		}
		l->known |= opts[i].bit;
		return 0;
	}
	return -1;
}

static int
arm64_hex(const char *s, uint64_t *v_ret)
{
	char *end;

	errno = 0;
	*v_ret = strtoull(s, &end, 16);
	return (errno || end == s || *end || *s == '-') ? -1 : 0;
}

/* Our reader where it knows the format, crash's readmem(PHYSADDR) where it does not. */
static int
arm64_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct kaslr_dump *d = priv;

	if (d && kaslr_dump_read_phys(d, paddr, buf, len) == 0)
		return 0;
	return readmem((ulonglong)paddr, PHYSADDR, buf, (long)len, "kaslr physical read",
		       RETURN_ON_ERROR | QUIET) ? 0 : -1;
}

/*
 * The core's search on this session's vmlinux and dump (the same as
 * kaslr-find's): the verified answer and the values crash needs, as a
 * layout for repair_session_arm64().  Prints what it found unless @quiet.
 * @returns 0, or -1 after one line saying why.
 */
static int
arm64_search(struct kaslr_arm64_layout *l, int quiet)
{
	struct kaslr_vmlinux vml;
	struct kaslr_dump *d = NULL;
	struct kaslr_report *rep = NULL;
	struct kaslr_arm64_values v;
	struct kaslr_ctx ctx;
	const struct kaslr_candidate *b;
	char err[KASLR_ERRLEN], checks[512];
	enum kaslr_status st;
	int ret = -1;

	if (kaslr_vmlinux_open(pc->namelist, &vml, err, sizeof(err)) != KASLR_OK) {
		error(INFO, "%s\n", err);
		return -1;
	}
	if (vml.machine != EM_AARCH64) {
		error(INFO, "%s is not an arm64 vmlinux\n", pc->namelist);
		goto out;
	}
	if (kaslr_dump_open(pc->dumpfile, &d, err, sizeof(err)) != KASLR_OK) {
		error(INFO, "%s: the dump's memory map is needed to find the image: %s\n", pc->dumpfile, err);
		goto out;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.read_phys = arm64_read_phys;
	ctx.priv = d;
	ctx.ranges = d->ranges;
	ctx.nr_ranges = d->nr_ranges;
	if (!(rep = calloc(1, sizeof(*rep)))) {
		error(INFO, "out of memory\n");
		goto out;
	}
	st = kaslr_find(&ctx, &vml, NULL, 0, KASLR_METHODS_ALL, rep);
	if (st != KASLR_OK || rep->best < 0) {
		error(INFO, "%s\n", ctx.err[0] ? ctx.err : "no verified answer");
		goto out;
	}
	b = &rep->cand[rep->best];
	if (kaslr_arm64_values(&ctx, &vml, b, &v) != KASLR_OK) {
		error(INFO, "KERNELOFFSET %" PRIx64 " verified, but %s\n", b->kernel_offset, ctx.err);
		goto out;
	}
	memset(l, 0, sizeof(*l));
	l->kernel_offset = v.kernel_offset;
	l->kimage_voffset = v.kimage_voffset;
	l->phys_offset = (uint64_t)v.phys_offset;
	l->va_bits = (unsigned)v.va_bits;
	l->vabits_actual = (unsigned)v.vabits_actual;
	l->page_size = 1u << v.page_shift;
	l->known = KASLR_ARM64_PHYS_OFFSET | KASLR_ARM64_VA_BITS | KASLR_ARM64_VABITS_ACTUAL | KASLR_ARM64_PAGE_SIZE;
	if (!quiet) {
		fprintf(fp, "        METHOD: %s\n", kaslr_method_name(b->method));
		fprintf(fp, "  KERNELOFFSET: %" PRIx64 "\n", v.kernel_offset);
		fprintf(fp, "KIMAGE_VOFFSET: %" PRIx64 "\n", v.kimage_voffset);
		fprintf(fp, "   PHYS_OFFSET: %" PRIx64 "\n", (uint64_t)v.phys_offset);
		fprintf(fp, "       VA_BITS: %d (running with %d), %d KiB pages\n", v.va_bits, v.vabits_actual,
			1 << (v.page_shift - 10));
		fprintf(fp, "      VERIFIED: %s\n",
			kaslr_checks_join(b->checks, KASLR_CHECK_LONG, ", ", "-", checks, sizeof(checks)));
	}
	ret = 0;
out:
	free(rep);
	kaslr_dump_close(d);
	kaslr_vmlinux_close(&vml);
	return ret;
}

/*
 * arm64: "kaslr" (the answer, and the session's layout), "kaslr -r" (the
 * answer applied), "kaslr -r OFFSET KIMAGE_VOFFSET [phys_offset=X]
 * [va_bits=N] [vabits_actual=N] [page_size=N] [kernelpacmask=X]" (values
 * given by hand, checked the same way by the repair), "kaslr -V".
 */
void
kaslr_cmd_arm64(void)
{
	struct kaslr_arm64_layout l;
	int i;

	memset(&l, 0, sizeof(l));
	if (ACTIVE()) {
		error(INFO, "live system: crash reads the layout from /proc/kcore; nothing to recover\n");
		return;
	}
	if (argcnt == 1) {
		if (arm64_search(&l, 0) == 0) {
			print_arm64_session();
			if ((ulong)(-(long)kt->relocate) == l.kernel_offset &&
			    machdep->machspec->kimage_voffset == l.kimage_voffset)
				fprintf(fp, "         AGREE: this session uses these values\n");
			else
				fprintf(fp, "       RESTART: this session does not use them: \"kaslr -r\" in "
					    "crash --minimal, or open a copy written by \"kaslr-find --output-dump "
					    "FIXED %s %s\"\n", pc->namelist, pc->dumpfile);
		}
		return;
	}
	if (argcnt == 2 && !strcmp(args[1], "-r")) {
		if (arm64_search(&l, 1) == 0)
			repair_session_arm64(&l, "found and verified");
		return;
	}
	if (argcnt < 4 || strcmp(args[1], "-r") || arm64_hex(args[2], &l.kernel_offset) < 0 ||
	    arm64_hex(args[3], &l.kimage_voffset) < 0) {
		cmd_usage(pc->curcmd, SYNOPSIS);
		return;
	}
	for (i = 4; i < argcnt; i++) {
		if (arm64_layout_option(args[i], &l) < 0) {
			error(INFO, "\"%s\": expected phys_offset=HEX, va_bits=N, vabits_actual=N, "
				    "page_size=N or kernelpacmask=HEX\n", args[i]);
			return;
		}
	}
	repair_session_arm64(&l, "given by hand");
}
