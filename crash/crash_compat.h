/*
 * crash/crash_compat.h - what differs between the crash releases kaslr.so is built for
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * kaslr.so is built per crash release, against that release's own defs.h
 * (make CRASH_SRC=DIR, make versions).  Compared for everything kaslr_ext.c
 * and crash/ touch, the headers of crash 7.2.9 (Debian bullseye, gdb 7.6),
 * 8.0.2 (bookworm) and 8.0.6 (trixie, both gdb 10.2) agree on every name and
 * value used: kt->relocate and kt->flags RELOC_SET, kt->flags2 KASLR,
 * machdep->flags PHYS_BASE / VM_5LEVEL, machspec->phys_base, st->symtable and
 * the st->symval_hash[SYMVAL_HASH] chains (symval_hash_init() is the same
 * code in all three), pc->main_loop_env (a jmp_buf), the QEMUCPUState
 * accessors kdump_/diskdump_get_qemucpustate and the *_get_nr_cpus /
 * *_get_cr3_cr4_idtr functions (all since 7.2.9, crash commit 40b93af), and
 * the init chain main_loop() runs (read_in_kernel_config .. POST_INIT).
 * The struct layouts differ (offset_table, machdep_table, symbol_table_data,
 * program_context), which is why a build serves one release only; the
 * repair transaction (crash/repair.c) copies them whole, so it follows the
 * header.
 *
 * What differs in behaviour, and lives here:
 *  1. how gdb's view of the kernel is moved (kaslr_crash_gdb_relocate);
 *  2. how to tell, before any struct is touched, that this kaslr.so was
 *     built for another crash (kaslr_crash_mismatch).
 */
#ifndef KASLR_CRASH_COMPAT_H
#define KASLR_CRASH_COMPAT_H

/* Include after defs.h, which has no include guard. */
#include <dlfcn.h>

/*
 * gdb flavour: crash 8.0.0 moved from gdb 7.6 (C) to gdb 10.2 (C++) - crash
 * commit 9fab193 "Update to gdb-10.2" - and crash 9.0.0 to gdb 16 (16.2;
 * crash 9.0.2, as Debian sid ships it, names GDB_16_3 in defs.h).  The
 * Makefile passes the one crash's own extensions/Makefile would
 * (tests/lib/gdb-flavour.sh).  defs.h treats GDB_16_x as it treats GDB_10_2
 * in everything kaslr.so uses, and objfile_rebase(struct objfile *,
 * CORE_ADDR) is unchanged in gdb 16 (same mangled name, exported by crash
 * 9.0.2): the relocation path of gdb 10 serves gdb 16 as it is.
 */
#if defined(GDB_7_6)
#define KASLR_CRASH_GDB "gdb 7.6"
#define KASLR_CRASH_GDB_CXX 0
#elif defined(GDB_10_2)
#define KASLR_CRASH_GDB "gdb 10.2"
#define KASLR_CRASH_GDB_CXX 1
#elif defined(GDB_16_2)
#define KASLR_CRASH_GDB "gdb 16.2"
#define KASLR_CRASH_GDB_CXX 1
#elif defined(GDB_16_3)
#define KASLR_CRASH_GDB "gdb 16.3"
#define KASLR_CRASH_GDB_CXX 1
#else
#error "no gdb flavour: build with -DGDB_7_6, -DGDB_10_2, -DGDB_16_2 or -DGDB_16_3 (the Makefile does)"
#endif

/* For "kaslr -V": the release when the build was told it, else the gdb flavour. */
#ifdef KASLR_CRASH_VERSION
#define KASLR_CRASH_BUILT_FOR "crash " KASLR_CRASH_VERSION " (" KASLR_CRASH_GDB ")"
#else
#define KASLR_CRASH_BUILT_FOR "a crash with " KASLR_CRASH_GDB
#endif

/*
 * gdb's objfile_rebase(struct objfile *, CORE_ADDR): mangled in the C++ gdb
 * of crash 8 and 9 (gdb 10.2, 16.x), plain in gdb 7.6 (where crash never
 * calls it).
 */
#define KASLR_OBJFILE_REBASE_CXX "_Z14objfile_rebaseP7objfilem"
#define KASLR_OBJFILE_REBASE_C "objfile_rebase"

/**
 * kaslr_crash_mismatch - is the running crash another release than the one
 * whose defs.h this kaslr.so was built with?
 * @why: buffer for a one-line explanation
 * @len: its size
 *
 * Looks only at exported names and build_version, never at a struct: with
 * the wrong header every struct offset may be off.  The exact release first,
 * whenever the build knows it (KASLR_CRASH_VERSION: the Makefile reads it
 * from the header's package or source tree, tests/lib/crash-release.sh;
 * "make versions" passes it): any other release, even a later build of the
 * same branch, may lay its structs out differently - crash master after
 * 9.0.2 (commit abcb45e) inserted bfd_orig in struct symbol_table_data, and
 * calls itself "9.0.2++".  Then the gdb flavour (a gdb 7.6 crash has
 * objfile_rebase unmangled, a C++ one mangled), the one check left for a
 * build whose release is unknown.
 * This guard is what lets one source tree serve every crash release: kept
 * as it is, and the first thing the constructor runs.
 *
 * @returns 0 when this crash fits, 1 (and @why) when it does not.
 */
static inline int
kaslr_crash_mismatch(char *why, size_t len)
{
	int cxx = dlsym(RTLD_DEFAULT, KASLR_OBJFILE_REBASE_CXX) != NULL;
	int c = dlsym(RTLD_DEFAULT, KASLR_OBJFILE_REBASE_C) != NULL;

#ifdef KASLR_CRASH_VERSION
	if (strcmp(build_version, KASLR_CRASH_VERSION) != 0) {
		snprintf(why, len, "built for crash %s, but this is crash %s",
			 KASLR_CRASH_VERSION, build_version);
		return 1;
	}
#endif
	if ((cxx || c) && cxx != KASLR_CRASH_GDB_CXX) {
		snprintf(why, len, "built for a crash with %s, but this crash %s has %s",
			 KASLR_CRASH_GDB, build_version, cxx ? "gdb 10 or later" : "gdb 7");
		return 1;
	}
	return 0;
}

/**
 * kaslr_crash_gdb_relocate - move gdb's symbols to crash's relocated table
 * @ko:      the KERNELOFFSET crash's symbol table now has (kt->relocate = -ko)
 * @how_ret: what was done, for the user
 *
 * crash >= 8.0.0: objfile_rebase(gdb_kernel_objfile, ko), exactly what
 * crash's patched gdb main() does at startup (gdb-10.2.patch); it sets
 * absolute section offsets, so calling it again (undo) is safe.  crash 8
 * never patches minimal symbols any more (the call in gdb_session_init() is
 * under "#if 0"), and doing so on top of a rebase would relocate twice, so
 * there is no fallback: without the exported name the repair is refused.
 *
 * crash 7 (gdb 7.6): GNU_PATCH_SYMBOL_VALUES, what gdb_session_init() does
 * when RELOC_SET is set: gdb's minimal symbols take crash's values, lookups
 * of data symbols and function starts follow them ("bait and switch" in
 * gdb-7.6.patch), and crash itself subtracts kt->relocate before asking gdb
 * for line numbers (kernel.c, gdb_interface.c).  patch_kernel_symbol()
 * hands each symbol of a duplicated name out once, marking it
 * SYMBOL_NAME_USED, and crash 7 patched at startup whenever --kaslr= or
 * --reloc= was given; the marks are cleared first so a second patching
 * (here, or an undo) reaches every copy.  It prints crash's own
 * "kernel relocated [NMB]: patching N gdb minimal_symbol values" warning.
 *
 * @returns 0, or -1 when gdb could not be moved (nothing was changed).
 */
static inline int
kaslr_crash_gdb_relocate(ulong ko, const char **how_ret)
{
#if KASLR_CRASH_GDB_CXX
	typedef void (*rebase_fn)(void *objfile, unsigned long slide);
	rebase_fn rebase = (rebase_fn)dlsym(RTLD_DEFAULT, KASLR_OBJFILE_REBASE_CXX);
	void **objfile = (void **)dlsym(RTLD_DEFAULT, "gdb_kernel_objfile");

	if (!rebase || !objfile || !*objfile) {
		*how_ret = "this crash exports no objfile_rebase/gdb_kernel_objfile";
		return -1;
	}
	rebase(*objfile, ko);
	*how_ret = "objfile_rebase";
	return 0;
#else
	struct gnu_request req;
	struct syment *sp;

	(void)ko;	/* the values are already in st->symtable */
	for (sp = st->symtable; sp < st->symend; sp++)
		sp->flags &= ~SYMBOL_NAME_USED;
	memset(&req, 0, sizeof(req));
	req.command = GNU_PATCH_SYMBOL_VALUES;
	req.flags = GNU_RETURN_ON_ERROR;
	gdb_interface(&req);
	if (req.flags & GNU_COMMAND_FAILED) {
		*how_ret = "GNU_PATCH_SYMBOL_VALUES failed";
		return -1;
	}
	*how_ret = "minimal_symbol patching";
	return 0;
#endif
}

#endif /* KASLR_CRASH_COMPAT_H */
