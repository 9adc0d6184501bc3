/*
 * test_find.c - kaslr_find: methods together, choice, diagnostics
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "unit.h"
#include "regs.h"

static struct kaslr_report rep;	/* large: keep off the stack */

static uint64_t low_page(uint64_t *rnd)
{
	return synth_rand_range(rnd, 0x100, 0x1000) * SYNTH_4K;
}

static int best_is(const struct kaslr_report *r, uint64_t off, int64_t pb, char *why, size_t whylen)
{
	const struct kaslr_candidate *c;

	if (r->best < 0) {
		snprintf(why, whylen, "no choice");
		return 0;
	}
	c = &r->cand[r->best];
	if (c->kernel_offset != off || c->phys_base != pb) {
		snprintf(why, whylen, "chose %s cpu %d offset " X64 " phys_base %" PRId64 ", want " X64
			 " %" PRId64, kaslr_method_name(c->method), c->cpu, c->kernel_offset, c->phys_base, off,
			 pb);
		return 0;
	}
	return 1;
}

/* Two CPUs (one in the PTI user half), vmcoreinfo in RAM: everything agrees. */
static int t_find_basic(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[2];
	struct fx f;
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, synth_rand(rnd) & 1 ? 5 : 4, 1, SYNTH_2M);
	synth_idt_map(&f.s, &f.k, f.root + SYNTH_4K);
	synth_vmci_install(&f.s, &f.k, low_page(rnd));
	regs[0] = f.regs;
	synth_regs(&regs[1], 1, f.root | PTI_USER_PGD_BIT | 7, f.k.levels);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s", why);
	FAIL_IF(!(rep.cand[rep.best].checks & KASLR_V_VMCOREINFO), "not confirmed by vmcoreinfo");
	FAIL_IF(rep.nr_agree != 5 || rep.nr_disagree != 0, "agree %d disagree %d", rep.nr_agree,
		rep.nr_disagree);
	FAIL_IF(rep.nr_vmci != 1 || !rep.vmci[0].verified, "%d vmcoreinfo copies", rep.nr_vmci);
	FAIL_IF(f.s.cross_page_reads, "cross-page reads");
out:
	fx_free(&f);
	return ret;
}

static int t_find_cpu0_offline(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[3];
	struct fx f;
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_regs(&regs[0], 0, 0, 4);
	synth_regs(&regs[1], 1, f.root, 4);
	regs[1].cr0 &= ~CR0_PG;
	synth_regs(&regs[2], 2, f.root | 0x12, 4);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 3, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s", why);
	FAIL_IF(rep.cand[rep.best].cpu != 2, "chose cpu %d", rep.cand[rep.best].cpu);
	FAIL_IF(rep.nr_agree != 2, "agree %d", rep.nr_agree);
out:
	fx_free(&f);
	return ret;
}

/*
 * Two kernel images of the same vmlinux, one per CPU's page tables (e.g.
 * a stale kexec'd kernel): both verify.  Returns the second kernel in @kb.
 */
static void two_kernels(struct fx *f, uint64_t *rnd, struct synth_kernel *kb, uint64_t *root_b)
{
	uint64_t off_b, pa_b;

	fx_build(f, rnd, 4, 1, SYNTH_2M);
	*kb = f->k;
	kb->vml.banner = kb->banner;
	do
		off_b = synth_rand_range(rnd, 0, 400) * SYNTH_2M;
	while (off_b == f->k.offset);
	pa_b = f->k.text_pa < (100ULL << 20) ? f->k.text_pa + (64ULL << 20) : f->k.text_pa - (64ULL << 20);
	synth_kernel_place_at(&f->s, kb, off_b, pa_b);
	*root_b = synth_pt_new(&f->s, 1);
	synth_kernel_map(&f->s, kb, *root_b, SYNTH_2M);
	synth_directmap(&f->s, kb, *root_b);
	/* B's IDT page holds B's gate; the alias in B's tables points there. */
	synth_idt_map(&f->s, kb, *root_b);
	synth_idt_gate(&f->s, kb, kb->vml.divide_error + kb->offset, 0x8e);
}

static int t_find_disagree(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[2];
	struct synth_kernel kb;
	struct fx f;
	uint64_t root_b;
	enum kaslr_status st;
	int ret = 0, a_first = synth_rand(rnd) & 1;

	two_kernels(&f, rnd, &kb, &root_b);
	synth_vmci_install(&f.s, &f.k, low_page(rnd));		/* only A's is set up */
	synth_regs(&regs[0], 0, a_first ? f.root : root_b, 4);
	synth_regs(&regs[1], 1, a_first ? root_b : f.root, 4);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s", why);
	FAIL_IF(rep.nr_agree != 3 || rep.nr_disagree != 2, "agree %d disagree %d", rep.nr_agree,
		rep.nr_disagree);
	FAIL_IF(!(rep.cand[rep.best].checks & KASLR_V_VMCOREINFO), "not confirmed");
out:
	fx_free(&f);
	return ret;
}

/* Same without any vmcoreinfo: nothing decides. */
static int t_find_ambiguous(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[2];
	struct synth_kernel kb;
	struct fx f;
	uint64_t root_b;
	enum kaslr_status st;
	int ret = 0;

	two_kernels(&f, rnd, &kb, &root_b);
	synth_regs(&regs[0], 0, f.root, 4);
	synth_regs(&regs[1], 1, root_b, 4);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_AMBIGUOUS || rep.best != -1, "status %s best %d", kaslr_status_name(st), rep.best);
	FAIL_IF(!strstr(f.ctx.err, "disagree") || !strstr(f.ctx.err, "by hand"), "message '%s'", f.ctx.err);
	/* A third CPU on A breaks the tie. */
	{
		struct kaslr_cpu_regs r3[3] = { regs[0], regs[1], regs[0] };

		r3[2].cpu = 2;
		st = kaslr_find(&f.ctx, &f.k.vml, r3, 3, KASLR_METHODS_ALL, &rep);
		FAIL_IF(st != KASLR_OK || !best_is(&rep, f.k.offset, f.k.phys_base, why, whylen),
			"majority: %s %s", kaslr_status_name(st), why);
		FAIL_IF(rep.nr_agree != 4 || rep.nr_disagree != 2, "agree %d disagree %d", rep.nr_agree,
			rep.nr_disagree);
	}
out:
	fx_free(&f);
	return ret;
}

static int t_find_no_regs_scan(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[1];
	struct fx f;
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_vmci_install(&f.s, &f.k, low_page(rnd));
	st = kaslr_find(&f.ctx, &f.k.vml, NULL, 0, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "no regs: %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s", why);
	FAIL_IF(rep.cand[rep.best].method != KASLR_M_SCAN, "method %s",
		kaslr_method_name(rep.cand[rep.best].method));
	/* Registers that lead nowhere: the scan still answers. */
	synth_regs(&regs[0], 0, (synth_rand_range(rnd, 1, 100) << 32), 4);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 1, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK || rep.cand[rep.best].method != KASLR_M_SCAN, "bad regs: %s: %s",
		kaslr_status_name(st), f.ctx.err);
	/* Scan not allowed: the page-table scan answers. */
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 1, ~KASLR_METHOD_BIT(KASLR_M_SCAN), &rep);
	FAIL_IF(st != KASLR_OK || rep.cand[rep.best].method != KASLR_M_PTSCAN, "without scan: %s: %s",
		kaslr_status_name(st), f.ctx.err);
	/* Neither scan allowed: nothing. */
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 1,
			~(KASLR_METHOD_BIT(KASLR_M_SCAN) | KASLR_METHOD_BIT(KASLR_M_PTSCAN)), &rep);
	FAIL_IF(st != KASLR_NOTFOUND, "without scans: %s", kaslr_status_name(st));
out:
	fx_free(&f);
	return ret;
}

static int t_find_wrong_vmlinux(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[2];
	struct synth_kernel other;
	struct fx f;
	enum kaslr_status st;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_vmci_install(&f.s, &f.k, low_page(rnd));
	synth_vmlinux(&other, "6.12.9-cloud-amd64");
	synth_regs(&regs[0], 0, 0, 4);
	regs[1] = f.regs;
	regs[1].cpu = 1;
	st = kaslr_find(&f.ctx, &other.vml, regs, 2, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_NOTFOUND || rep.best != -1, "status %s", kaslr_status_name(st));
	/* The message names the dump's kernel (core/diagnose.c); the candidates keep each CPU's failure. */
	FAIL_IF(rep.diag.kind != KASLR_DIAG_WRONG_VMLINUX || !strstr(f.ctx.err, "the dump holds Linux 6.1.0-26") ||
		!strstr(f.ctx.err, "linux-image-6.1.0-26-cloud-amd64-dbg"), "message '%s'", f.ctx.err);
	FAIL_IF(rep.nr_cand < 2 || rep.cand[0].status == KASLR_OK, "%d candidates", rep.nr_cand);
	/* CPU 1's candidate (the other kernel's tables) is kept, failed, with its reason. */
	{
		int failed = 0, i;

		for (i = 0; i < rep.nr_cand; i++)
			failed |= rep.cand[i].status != KASLR_OK &&
				  (strstr(rep.cand[i].note, "fails verification") || strstr(rep.cand[i].why, "does not match"));
		FAIL_IF(!failed, "no candidate failed verification (%d candidates)", rep.nr_cand);
	}
out:
	fx_free(&f);
	return ret;
}

/* Registers of a kdump capture kernel: the first kernel's values come from elfcorehdr=. */
static int t_find_elfcorehdr(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[1];
	struct synth_kernel kb;
	struct fx f;
	uint64_t root_b, hdr = low_page(rnd) & ~0x3fffULL, note_pa = hdr + 2 * SYNTH_4K, cmd_pa = hdr + 5 * SYNTH_4K;
	unsigned char eh[64], ph[56], nh[24];
	char cmdline[256], *text;
	enum kaslr_status st;
	int ret = 0, i;

	/* A = first (crashed) kernel, B = capture kernel running now. */
	two_kernels(&f, rnd, &kb, &root_b);
	text = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	memset(nh, 0, sizeof(nh));
	nh[0] = 11;
	for (i = 0; i < 4; i++)
		nh[4 + i] = (unsigned char)(strlen(text) >> (8 * i));
	memcpy(nh + 12, "VMCOREINFO", 11);
	synth_write(&f.s, note_pa, nh, sizeof(nh));
	synth_write(&f.s, note_pa + 24, text, strlen(text));
	memset(eh, 0, sizeof(eh));
	memcpy(eh, "\177ELF\2\1\1", 7);
	eh[16] = 4;		/* ET_CORE */
	eh[18] = 62;		/* EM_X86_64 */
	eh[32] = 64;		/* e_phoff */
	eh[54] = 56;		/* e_phentsize */
	eh[56] = 2;		/* e_phnum */
	synth_write(&f.s, hdr, eh, sizeof(eh));
	for (i = 0; i < 2; i++) {
		uint64_t off = i ? note_pa : hdr + SYNTH_4K, sz = i ? 24 + strlen(text) : 0x400;
		int b;

		memset(ph, 0, sizeof(ph));
		ph[0] = 4;	/* PT_NOTE */
		for (b = 0; b < 8; b++) {
			ph[8 + b] = (unsigned char)(off >> (8 * b));
			ph[24 + b] = (unsigned char)(off >> (8 * b));
			ph[32 + b] = (unsigned char)(sz >> (8 * b));
		}
		synth_write(&f.s, hdr + 64 + (uint64_t)i * 56, ph, sizeof(ph));
	}
	if (synth_rand(rnd) & 1)
		snprintf(cmdline, sizeof(cmdline), "BOOT_IMAGE=/vmlinuz root=/dev/vda1 irqpoll nr_cpus=1 "
			 "elfcorehdr=%" PRIu64 "K", hdr >> 10);
	else
		snprintf(cmdline, sizeof(cmdline), "elfcorehdr=%" PRIu64 "M@0x%" PRIx64 " console=ttyS0",
			 synth_rand_range(rnd, 1, 4), hdr);
	synth_write(&f.s, cmd_pa, cmdline, strlen(cmdline) + 1);
	synth_write_u64(&f.s, synth_kpa(&kb, kb.vml.saved_command_line), kb.page_offset + cmd_pa);
	synth_regs(&regs[0], 0, root_b, 4);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 1, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s (cmdline '%s')", why, cmdline);
	FAIL_IF(rep.cand[rep.best].method != KASLR_M_ELFCOREHDR, "method %s",
		kaslr_method_name(rep.cand[rep.best].method));
	/* Without Method 4 the capture kernel's own values win. */
	st = kaslr_find(&f.ctx, &f.k.vml, regs, 1, ~KASLR_METHOD_BIT(KASLR_M_ELFCOREHDR), &rep);
	FAIL_IF(st != KASLR_OK || !best_is(&rep, kb.offset, kb.phys_base, why, whylen), "no m4: %s", why);
out:
	free(text);
	fx_free(&f);
	return ret;
}

static int t_find_methods_mask(uint64_t *rnd, char *why, size_t whylen)
{
	struct fx f;
	enum kaslr_status st;
	int ret = 0, i;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	st = kaslr_find(&f.ctx, &f.k.vml, &f.regs, 1, KASLR_METHOD_BIT(KASLR_M_IDT), &rep);
	FAIL_IF(st != KASLR_OK || !best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s %s",
		kaslr_status_name(st), why);
	for (i = 0; i < rep.nr_cand; i++)
		FAIL_IF(rep.cand[i].method != KASLR_M_IDT, "candidate %d is %s", i,
			kaslr_method_name(rep.cand[i].method));
	FAIL_IF(rep.cand[rep.best].checks & KASLR_V_VMCOREINFO, "vmcoreinfo bit without method 3");
out:
	fx_free(&f);
	return ret;
}

/* Many CPUs on the same tables: one walk, every CPU counted. */
static int t_find_many_cpus(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[32];
	struct fx f;
	unsigned long one;
	enum kaslr_status st;
	int ret = 0, i, n = (int)synth_rand_range(rnd, 2, 33);

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	st = kaslr_find(&f.ctx, &f.k.vml, &f.regs, 1, KASLR_METHODS_ALL, &rep);
	one = f.ctx.nr_reads;
	for (i = 0; i < n; i++)
		synth_regs(&regs[i], i, f.root | synth_rand_range(rnd, 0, 4096), 4);
	f.ctx.nr_reads = 0;
	st = kaslr_find(&f.ctx, &f.k.vml, regs, n, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK || !best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s %s",
		kaslr_status_name(st), why);
	FAIL_IF(rep.nr_agree != 2 * n || rep.nr_disagree, "agree %d disagree %d for %d cpus", rep.nr_agree,
		rep.nr_disagree, n);
	FAIL_IF(f.ctx.nr_reads > one + (unsigned long)n * 8, "%lu entry reads for %d cpus, %lu for one",
		f.ctx.nr_reads, n, one);
out:
	fx_free(&f);
	return ret;
}

/* One QEMU note (CORE/PRSTATUS is not needed for registers) for a CPU, QEMUCPUState v1 layout. */
static size_t put_qemu_note(unsigned char *buf, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t idtr)
{
	static const uint32_t hdr[3] = { 5, 440, 0 };
	unsigned char *d = buf + 20;
	uint32_t v;

	memcpy(buf, hdr, 12);
	memcpy(buf + 12, "QEMU\0\0\0\0", 8);
	memset(d, 0, 440);
	v = 1;
	memcpy(d, &v, 4);		/* version */
	v = 440;
	memcpy(d + 4, &v, 4);		/* size */
	v = 0xfff;
	memcpy(d + 372, &v, 4);		/* idt.limit */
	memcpy(d + 384, &idtr, 8);	/* idt.base */
	memcpy(d + 392, &cr0, 8);	/* cr[0] */
	memcpy(d + 416, &cr3, 8);	/* cr[3] */
	memcpy(d + 424, &cr4, 8);	/* cr[4] */
	return 20 + 440;
}

/*
 * 512 vCPUs from a note set: most idle on init_top_pgt (PCID bits vary),
 * some on process PGDs that share the kernel half, some offline (CR3 0).
 * Every online CPU counts in "N of M agree" (the rows are deduplicated,
 * the counts are not); the rows name their CPUs.
 */
static int t_find_512_cpus(uint64_t *rnd, char *why, size_t whylen)
{
	enum { NCPU = 512, NPROC = 5 };
	static struct kaslr_cpu_regs regs[NCPU];
	static unsigned char notes[NCPU * 460];
	uint64_t procs[NPROC], cr4 = 0x3606f0, cr0 = 0x80050033;
	int ret = 0, i, k, n = 0, online = 0, nr_regs = 0, on_init = 0;
	size_t len = 0;
	struct fx f;
	enum kaslr_status st;
	char list[4096], want[4096];
	int wl = 0, run = -1;

	fx_build(&f, rnd, 4, 0, SYNTH_2M);
	for (i = 0; i < NPROC; i++) {
		procs[i] = synth_alloc_table(&f.s);
		for (k = 256; k < 512; k++)	/* pgd_alloc(): the kernel half is init_top_pgt's */
			synth_write_u64(&f.s, procs[i] + 8 * (uint64_t)k, synth_read_u64(&f.s, f.root + 8 * (uint64_t)k));
	}
	want[0] = '\0';
	for (i = 0; i < NCPU; i++) {
		uint64_t r = synth_rand_range(rnd, 0, 100), cr3;

		if (r < 4) {
			cr3 = 0;	/* offline */
		} else if (r < 20) {
			cr3 = procs[synth_rand_range(rnd, 0, NPROC)] | synth_rand_range(rnd, 0, 4096);
			online++;
		} else {
			cr3 = f.root | synth_rand_range(rnd, 0, 4096);
			online++;
			on_init++;
		}
		len += put_qemu_note(notes + len, cr0, cr3, cr4, SYNTH_IDT_ALIAS);
		/* The CPUs on init_top_pgt, as ranges. */
		if (cr3 && (cr3 & ~0xfffULL) == f.root) {
			if (run < 0)
				run = i;
		}
		if ((!cr3 || (cr3 & ~0xfffULL) != f.root || i == NCPU - 1) && run >= 0) {
			int last = cr3 && (cr3 & ~0xfffULL) == f.root ? i : i - 1;

			wl += snprintf(want + wl, sizeof(want) - (size_t)wl, run == last ? "%s%d" : "%s%d-%d",
				       wl ? "," : "", run, last);
			run = -1;
		}
	}
	FAIL_IF(kaslr_notes_parse(notes, len, regs, NCPU, &nr_regs, NULL) != KASLR_OK || nr_regs != NCPU,
		"note set: %d CPUs", nr_regs);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, nr_regs, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK || !best_is(&rep, f.k.offset, f.k.phys_base, why, whylen), "%s %s: %s",
		kaslr_status_name(st), why, f.ctx.err);
	FAIL_IF(rep.nr_agree != 2 * online || rep.nr_disagree || rep.nr_unrecorded,
		"agree %d disagree %d unrecorded %d, want %d agreeing (%d online CPUs)", rep.nr_agree,
		rep.nr_disagree, rep.nr_unrecorded, 2 * online, online);
	/* Rows: pagetable and idt per distinct PGD, not per CPU. */
	FAIL_IF(rep.nr_cand > 2 * (NPROC + 1) + 2, "%d rows for %d PGDs", rep.nr_cand, NPROC + 1);
	for (i = 0; i < rep.nr_cand; i++) {
		if (rep.cand[i].method != KASLR_M_PAGETABLE || rep.cand[i].pgd_paddr != f.root)
			continue;
		n++;
		FAIL_IF(rep.cand[i].count != on_init, "init_top_pgt row counts %d CPUs, want %d", rep.cand[i].count,
			on_init);
		kaslr_cpus_text(&rep.cand[i], list, sizeof(list));
		FAIL_IF(strcmp(list, want), "init_top_pgt row names CPUs '%.200s', want '%.200s'", list, want);
	}
	FAIL_IF(n != 1, "%d pagetable rows for init_top_pgt", n);
out:
	fx_free(&f);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_find");

	unit_run("find-basic", t_find_basic, &rnd);
	unit_run("find-cpu0-offline", t_find_cpu0_offline, &rnd);
	unit_run("find-disagree", t_find_disagree, &rnd);
	unit_run("find-ambiguous", t_find_ambiguous, &rnd);
	unit_run("find-no-regs-scan", t_find_no_regs_scan, &rnd);
	unit_run("find-wrong-vmlinux", t_find_wrong_vmlinux, &rnd);
	unit_run("find-elfcorehdr", t_find_elfcorehdr, &rnd);
	unit_run("find-methods-mask", t_find_methods_mask, &rnd);
	unit_run("find-many-cpus", t_find_many_cpus, &rnd);
	unit_run("find-512-cpus", t_find_512_cpus, &rnd);
	TAP_EXIT();
}
