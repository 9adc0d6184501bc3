/*
 * crash/repair.c - "kaslr -r": one transaction over crash's view of the kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The steps that move a --minimal session to verified values (symbols,
 * phys_base, gdb, what crash derived from the wrong values) and then bring
 * it up as a full session, each undone when a later one fails: see
 * crash/repair.h for the save points.  kaslr_ext.c decides whether to
 * repair and prints what happened; this file only changes crash's state.
 */
#include "defs.h"

#include <setjmp.h>

#include "crash/crash_compat.h"
#include "crash/repair.h"
#include "crash/repair_arch.h"

/*
 * The tables crash's initialisation fills.  A chain that stops half-way
 * (crash 8.0.2 on a 6.4+ struct module) would leave them half-filled; they
 * are put back as they were, so the session is the repaired minimal one.
 * What the chain allocated is left allocated: a small leak beats a pointer
 * into freed memory.
 */
struct repair_tables {
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

/*
 * One repair, all or nothing up to the relocation, then all or "repaired
 * minimal".  Symbol values are saved whole: restoring them and rebuilding
 * the hash returns the table to what it was.
 */
struct kaslr_repair {
	int saved_minimal;		/* the save point a rollback returns to */
	/* "as before": what steps 1-4 change */
	ulong *symvals;
	long nsyms;
	ulong relocate;
	ulong kt_flags;
	ulonglong kt_flags2;
	struct kaslr_repair_arch *arch;	/* machdep and the arch's own state */
	int gdb_rebased;
	/* "repaired minimal" */
	struct repair_tables minimal;
};

/*
 * The value hash, and what symtab_init() cached from the table: the per-cpu
 * section bounds (symname_hash_init()), absolute on x86_64, moving with the
 * image on arm64.
 */
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
	if ((sp = symbol_search("__per_cpu_start")))
		st->__per_cpu_start = sp->value;
	if ((sp = symbol_search("__per_cpu_end")))
		st->__per_cpu_end = sp->value;
}

/* gdb follows crash's table: objfile_rebase (crash 8+) or msymbol patching (crash 7). */
static int
gdb_rebase(uint64_t ko, const char **how_ret)
{
	return kaslr_crash_gdb_relocate((ulong)ko, how_ret);
}

static void
relocate_symbols(uint64_t ko)
{
	ulong cur = (ulong)(-(long)kt->relocate);
	struct syment *sp;

	/* Like crash's own relocation (x86_64: only symbols inside the image move). */
	for (sp = st->symtable; sp < st->symend; sp++) {
		ulong raw = sp->value - cur;

		if (kaslr_repair_arch_moves(raw))
			sp->value = raw + (ulong)ko;
	}
	symval_hash_rebuild();
	kt->relocate = (ulong)(-(long)ko);
	kt->flags |= RELOC_SET;
	kt->flags2 |= KASLR;
}

/* Back to "as before" (kaslr_repair_begin). */
static void
rollback_as_before(struct kaslr_repair *u)
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
	kaslr_repair_arch_restore(u->arch);
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
int
kaslr_repair_catch_fatal(void (*fn)(void *), void *arg)
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
	kaslr_repair_arch_chain_enter();
	full_init_step = "machdep_init(POST_GDB)";
	machdep_init(POST_GDB);
	full_init_step = "vm_init";
	vm_init();
	kaslr_repair_arch_chain_leave();
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

static void
tables_take(struct repair_tables *sn)
{
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
}

static void
tables_restore(const struct repair_tables *sn)
{
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

struct kaslr_repair *
kaslr_repair_begin(void)
{
	struct kaslr_repair *u = calloc(1, sizeof(*u));
	long i;

	if (!u)
		return NULL;
	u->nsyms = st->symend - st->symtable;
	if (!(u->symvals = malloc(u->nsyms * sizeof(ulong)))) {
		free(u);
		return NULL;
	}
	for (i = 0; i < u->nsyms; i++)
		u->symvals[i] = st->symtable[i].value;
	u->relocate = kt->relocate;
	u->kt_flags = kt->flags;
	u->kt_flags2 = kt->flags2;
	if (!(u->arch = kaslr_repair_arch_save())) {
		free(u->symvals);
		free(u);
		return NULL;
	}
	return u;
}

void
kaslr_repair_symbols(struct kaslr_repair *t, uint64_t ko)
{
	(void)t;
	relocate_symbols(ko);
}

struct kaslr_repair_arch *
kaslr_repair_arch_of(struct kaslr_repair *t)
{
	return t->arch;
}

int
kaslr_repair_gdb(struct kaslr_repair *t, uint64_t ko, const char **how_ret)
{
	if (gdb_rebase(ko, how_ret) < 0)
		return -1;
	t->gdb_rebased = 1;
	return 0;
}

void
kaslr_repair_save(struct kaslr_repair *t)
{
	free(t->symvals);
	t->symvals = NULL;
	tables_take(&t->minimal);
	t->saved_minimal = 1;
}

/*
 * crash's own words when the full initialisation fails, once: a failing
 * OFFSET() check (symbols.c:datatype_error()) writes its message to
 * stderr, then its "error trace" line, then error(FATAL) writes the same
 * message again to crash's output.  Paragraphs (blank-line separated) are
 * printed once each, and the trace only with -v.
 */
static void
print_once(const char *text, int verbose)
{
	char *copy, *para, *next, *seen[32];
	int nseen = 0, i, dup;

	if (verbose || !(copy = strdup(text))) {
		fputs(text, fp);
		return;
	}
	for (para = copy; para && *para; para = next) {
		char *end = strstr(para, "\n\n");

		next = end ? end + 2 : NULL;
		if (end)
			*end = '\0';
		while (*para == '\n')
			para++;
		if (!*para || (para[0] == '[' && strstr(para, "error trace:")))
			continue;
		for (dup = 0, i = 0; i < nseen; i++)
			if (!strcmp(seen[i], para))
				dup = 1;
		if (dup)
			continue;
		if (nseen < (int)(sizeof(seen) / sizeof(seen[0])))
			seen[nseen++] = para;
		fprintf(fp, "%s\n", para);
	}
	free(copy);
}

int
kaslr_repair_full_init(struct kaslr_repair *t, int verbose, const char **step_ret)
{
	FILE *cap = tmpfile(), *saved_fp = NULL;
	int out = -1, err = -1, rc = 0;
	char *text = NULL;
	long len;

	(void)t;
	/* What crash prints on the way (stdout and stderr) is held back, to be printed once. */
	fflush(fp);
	fflush(stdout);
	fflush(stderr);
	if (cap && ((out = dup(STDOUT_FILENO)) < 0 || (err = dup(STDERR_FILENO)) < 0 ||
		    dup2(fileno(cap), STDOUT_FILENO) < 0 || dup2(fileno(cap), STDERR_FILENO) < 0)) {
		if (out >= 0)
			dup2(out, STDOUT_FILENO);
		if (err >= 0)
			dup2(err, STDERR_FILENO);
		fclose(cap);
		cap = NULL;
	}
	/* Output redirected ("kaslr -r > FILE"): error() writes to fp as well; hold that back too. */
	if (cap && fp != stdout) {
		saved_fp = fp;
		fp = cap;
	}
	pc->flags &= ~MINIMAL_MODE;
	if (kaslr_repair_catch_fatal(full_init, NULL) < 0) {
		*step_ret = full_init_step ? full_init_step : "?";
		rc = -1;
	}
	if (!cap)
		return rc;
	fflush(fp);
	fflush(stdout);
	fflush(stderr);
	if (saved_fp)
		fp = saved_fp;
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	if ((len = ftell(cap)) > 0 && (text = calloc(1, (size_t)len + 1)) && !fseek(cap, 0, SEEK_SET) &&
	    fread(text, 1, (size_t)len, cap) == (size_t)len) {
		if (rc < 0)
			print_once(text, verbose);
		else
			fputs(text, fp);
	}
	free(text);
	fclose(cap);
	return rc;
}

void
kaslr_repair_rollback(struct kaslr_repair *t)
{
	if (!t->saved_minimal) {
		rollback_as_before(t);
		return;
	}
	tables_restore(&t->minimal);
	pc->flags |= MINIMAL_MODE;
}

void
kaslr_repair_end(struct kaslr_repair *t)
{
	if (!t)
		return;
	free(t->symvals);
	kaslr_repair_arch_free(t->arch);
	free(t);
}
