/*
 * test_diagnose.c - kaslr_diagnose (core/diagnose.c) and the crash release table
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Synthetic dumps of the three failures a user meets: a guest stopped in
 * its boot decompressor (identity tables, RIP low, no banner), another
 * kernel's memory (its banner, vmcoreinfo or .notes), and this kernel not
 * placed.  Every expectation comes from what the case built.
 */
#include <inttypes.h>

#include "unit.h"
#include "core/crash_releases.h"

#define DECOMP_CR0 0x80050033ULL	/* PE, PG and the rest as the decompressor sets them */

/* An identity-mapped table (the decompressor's): 2 MiB leaves over [0, @len). */
static uint64_t identity_tables(struct synth *s, uint64_t len)
{
	uint64_t root = synth_pt_new(s, 0);

	synth_map_range(s, root, 4, 0, 0, len, SYNTH_2M);
	return root;
}

/* Memory with no kernel: RAM, the decompressor's tables, vCPU 0 in it, vCPU 1 in real mode. */
static void early_dump(struct fx *f, uint64_t *rnd, struct kaslr_cpu_regs regs[2])
{
	synth_init(&f->s);
	synth_vmlinux(&f->k, "6.1.0-26-cloud-amd64");
	synth_memory(&f->s, &f->k, 96ULL << 20);	/* small: every case scans it all */
	f->root = identity_tables(&f->s, 64ULL << 20);
	synth_ctx(&f->s, &f->ctx);
	memset(regs, 0, 2 * sizeof(regs[0]));
	regs[0].cpu = 0;
	regs[0].cr0 = DECOMP_CR0;
	regs[0].cr3 = f->root;
	regs[0].rip = synth_rand_range(rnd, 0x100000, 0x4000000);
	regs[0].idtr_base = synth_rand_range(rnd, 0x100000, 0x4000000);
	regs[0].valid = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR | KASLR_REG_RIP;
	regs[1].cpu = 1;
	regs[1].cr0 = 0x60000010ULL;	/* reset: PE clear */
	regs[1].rip = 0xfff0;
	regs[1].valid = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_RIP;
}

/* vCPU 0 in the decompressor, vCPU 1 at reset, no banner: early boot, said with the registers. */
static int t_early_boot(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[2];
	struct kaslr_report *rep = calloc(1, sizeof(*rep));
	char want[128];
	struct fx f;
	int ret = 0;

	early_dump(&f, rnd, regs);
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind != KASLR_DIAG_EARLY_BOOT, "kind %d: %s", rep->diag.kind, f.ctx.err);
	snprintf(want, sizeof(want), "vCPU 0 in the boot decompressor (RIP 0x%" PRIx64 ", CR3 0x%" PRIx64,
		 regs[0].rip, regs[0].cr3);
	FAIL_IF(!strstr(f.ctx.err, want) || !strstr(f.ctx.err, "vCPU 1 in real mode (IP 0xfff0)") ||
		!strstr(f.ctx.err, "predates the kernel's relocation") || strstr(f.ctx.err, "may not match"),
		"message '%.400s', wanted '%.200s'", f.ctx.err, want);
	/* Neighbours in one state share a phrase. */
	{
		struct kaslr_cpu_regs many[6];
		int k;

		many[0] = regs[0];
		for (k = 1; k < 6; k++) {
			many[k] = regs[1];
			many[k].cpu = k;
		}
		FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, many, 6, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND ||
			rep->diag.kind != KASLR_DIAG_EARLY_BOOT ||
			!strstr(f.ctx.err, "), vCPUs 1-5 in real mode (IP 0xfff0), and no banner"),
			"6 vCPUs: kind %d '%.400s'", rep->diag.kind, f.ctx.err);
	}
	/* Protected mode without paging is before the kernel too. */
	regs[1].cr0 = 0x11;
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND ||
		rep->diag.kind != KASLR_DIAG_EARLY_BOOT || !strstr(f.ctx.err, "vCPU 1 in protected mode"),
		"no paging: kind %d '%s'", rep->diag.kind, f.ctx.err);
out:
	free(rep);
	fx_free(&f);
	return ret;
}

/* Never early boot when a vCPU may be in the kernel, nor when the vmlinux's banner is in memory. */
static int t_early_boot_refused(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[2];
	struct kaslr_report *rep = calloc(1, sizeof(*rep));
	uint64_t banner_pa;
	struct fx f;
	int ret = 0;

	/* vCPU 1 in the kernel half. */
	early_dump(&f, rnd, regs);
	regs[1] = regs[0];
	regs[1].cpu = 1;
	regs[1].rip = 0xffffffff81000000ULL + synth_rand_range(rnd, 0, 1 << 20);
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind == KASLR_DIAG_EARLY_BOOT, "early boot with vCPU 1 at RIP " X64, regs[1].rip);
	fx_free(&f);

	/* vCPU 0 at a low RIP on tables that map the kernel half (a process in user mode). */
	early_dump(&f, rnd, regs);
	synth_map(&f.s, f.root, 4, 0xffffffff80000000ULL + synth_rand_range(rnd, 0, 512) * SYNTH_2M,
		  0x200000, SYNTH_2M);
	regs[1] = regs[0];
	regs[1].cpu = 1;
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind == KASLR_DIAG_EARLY_BOOT, "early boot on tables with a kernel half: %s",
		f.ctx.err);
	fx_free(&f);

	/* The vmlinux's banner is in memory (decompressed, not relocated yet). */
	early_dump(&f, rnd, regs);
	banner_pa = synth_rand_range(rnd, 0x1000000, 0x4000000) & ~0xfULL;
	synth_write(&f.s, banner_pa, f.k.banner, strlen(f.k.banner) + 1);
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind != KASLR_DIAG_SAME_KERNEL || rep->diag.vmlinux_banner_paddr != banner_pa,
		"banner at " X64 ": kind %d at " X64 " '%s'", banner_pa, rep->diag.kind,
		rep->diag.vmlinux_banner_paddr, f.ctx.err);
	FAIL_IF(strstr(f.ctx.err, "predates"), "claims early boot: '%s'", f.ctx.err);
out:
	free(rep);
	fx_free(&f);
	return ret;
}

/* Another kernel in memory: its release, its vmcoreinfo build-id, the vmlinux's, the -dbg package. */
static int t_wrong_vmlinux(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_report *rep = calloc(1, sizeof(*rep));
	struct synth_kernel other;
	char want[300];
	struct fx f;
	int ret = 0, i;

	fx_build(&f, rnd, 4, 0, SYNTH_2M);
	for (i = 0; i < 40; i++)
		f.k.vml.build_id[i] = "0123456789abcdef"[synth_rand(rnd) & 15];
	synth_vmci_install(&f.s, &f.k, (f.k.ram / 2) & ~0xfffULL);
	synth_vmlinux(&other, synth_rand(rnd) & 1 ? "6.12.9+deb13-cloud-amd64" : "5.10.0-43-cloud-amd64");
	FAIL_IF(kaslr_find(&f.ctx, &other.vml, &f.regs, 1, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind != KASLR_DIAG_WRONG_VMLINUX, "kind %d: %s", rep->diag.kind, f.ctx.err);
	snprintf(want, sizeof(want), "the dump holds Linux %.64s (build-id %.40s), the vmlinux is %.64s (build-id %.40s)",
		 f.k.vml.osrelease, f.k.vml.build_id, other.vml.osrelease, other.vml.build_id);
	FAIL_IF(!strstr(f.ctx.err, want), "message '%.400s', wanted '%.200s'", f.ctx.err, want);
	snprintf(want, sizeof(want), "linux-image-%s-dbg", f.k.vml.osrelease);
	FAIL_IF(!strstr(f.ctx.err, want) || strstr(f.ctx.err, "strings DUMP"), "message '%.400s', wanted '%.200s'",
		f.ctx.err, want);
	FAIL_IF(rep->diag.nr_kernels != 1 || strcmp(rep->diag.kernels[0].build_id_from, "vmcoreinfo"),
		"%d kernels, build-id from '%s'", rep->diag.nr_kernels, rep->diag.kernels[0].build_id_from);
out:
	free(rep);
	fx_free(&f);
	return ret;
}

/* Write one ELF note at @pa; @returns the address after it. */
static uint64_t put_note(struct synth *s, uint64_t pa, const char *name, uint32_t type, const void *desc,
			 uint32_t descsz)
{
	unsigned char buf[256];
	uint32_t namesz = (uint32_t)strlen(name) + 1, n = 12;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &namesz, 4);
	memcpy(buf + 4, &descsz, 4);
	memcpy(buf + 8, &type, 4);
	memcpy(buf + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memcpy(buf + n, desc, descsz);
	n += (descsz + 3) & ~3u;
	synth_write(s, pa, buf, n);
	return pa + n;
}

/*
 * Before 5.9 no vmcoreinfo says the build-id: the image's .notes does (a
 * Xen note, the GNU build-id, the "Linux" build salt), not a module's
 * notes nor a vDSO image's.
 */
static int t_build_id_from_notes(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_report *rep = calloc(1, sizeof(*rep));
	unsigned char id[20], decoy[20];
	struct synth_kernel other;
	uint64_t pa, xen = 1;
	char hex[41], want[128];
	struct fx f;
	int ret = 0, i;

	fx_build(&f, rnd, 4, 0, SYNTH_2M);
	for (i = 0; i < 20; i++) {
		id[i] = (unsigned char)synth_rand(rnd);
		decoy[i] = (unsigned char)~id[i];
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	}
	/* The image's .notes, a few MiB after the banner. */
	pa = synth_kpa(&f.k, f.k.vml.linux_banner) + 0x300000 + synth_rand_range(rnd, 0, 64) * 8;
	pa = put_note(&f.s, pa, "Xen", 6, &xen, 8);
	pa = put_note(&f.s, pa, "GNU", 3, id, 20);
	put_note(&f.s, pa, "Linux", 0x100, f.k.vml.osrelease, (uint32_t)strlen(f.k.vml.osrelease) + 1);
	/* A module: its build-id note starts a section, after a GNU property note. */
	pa = synth_kpa(&f.k, f.k.vml.linux_banner) + 0x500000;
	pa = put_note(&f.s, pa, "GNU", 5, &xen, 8);
	pa = put_note(&f.s, pa, "GNU", 3, decoy, 20);
	put_note(&f.s, pa, "Linux", 0x100, f.k.vml.osrelease, (uint32_t)strlen(f.k.vml.osrelease) + 1);
	/* A vDSO image: an ELF file whose notes follow a "Linux" version note. */
	pa = synth_kpa(&f.k, f.k.vml.linux_banner) + 0x600000;
	synth_write(&f.s, pa & ~0xfffULL, "\177ELF", 4);
	pa = put_note(&f.s, (pa & ~0xfffULL) + 0x200, "Linux", 0, &xen, 4);
	pa = put_note(&f.s, pa, "GNU", 3, decoy, 20);
	put_note(&f.s, pa, "Linux", 0x100, f.k.vml.osrelease, (uint32_t)strlen(f.k.vml.osrelease) + 1);

	synth_vmlinux(&other, "6.12.9+deb13-cloud-amd64");
	FAIL_IF(kaslr_find(&f.ctx, &other.vml, &f.regs, 1, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind != KASLR_DIAG_WRONG_VMLINUX, "kind %d: %s", rep->diag.kind, f.ctx.err);
	snprintf(want, sizeof(want), "Linux %s (build-id %s)", f.k.vml.osrelease, hex);
	FAIL_IF(!strstr(f.ctx.err, want), "message '%.400s', wanted '%.200s'", f.ctx.err, want);
	FAIL_IF(strcmp(rep->diag.kernels[0].build_id_from, ".notes"), "from '%s'", rep->diag.kernels[0].build_id_from);
out:
	free(rep);
	fx_free(&f);
	return ret;
}

/* Words that only look like a banner count for nothing; the scan stops at its bound. */
static int t_banner_lookalikes(uint64_t *rnd, char *why, size_t whylen)
{
	static const char packed[] = "Linux version 6.1.0-26-cloud-amd64 (debian-kernel@\004\001\"s.\024";
	static const char fmt[] = "Linux version %s (%s)\n";
	struct kaslr_report *rep = calloc(1, sizeof(*rep));
	struct kaslr_cpu_regs regs[2];
	struct fx f;
	int ret = 0, i;

	early_dump(&f, rnd, regs);
	synth_write(&f.s, synth_rand_range(rnd, 0x1000000, 0x2000000), packed, sizeof(packed));
	synth_write(&f.s, synth_rand_range(rnd, 0x2000000, 0x3000000), fmt, sizeof(fmt));
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind != KASLR_DIAG_EARLY_BOOT || rep->diag.nr_kernels, "kind %d, %d kernels: %s",
		rep->diag.kind, rep->diag.nr_kernels, f.ctx.err);
	/* A banner line copied into a log (the next line follows): not a kernel. */
	synth_write(&f.s, synth_rand_range(rnd, 0x3000000, 0x3800000), "Linux version 9.9.8 (x@y) #1\nnext", 34);
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.kind != KASLR_DIAG_EARLY_BOOT || rep->diag.nr_kernels, "log copy: kind %d, %d kernels: %s",
		rep->diag.kind, rep->diag.nr_kernels, f.ctx.err);
	/* Many copies of another banner: the scan stops and says nothing it did not see to the end. */
	for (i = 0; i < 64; i++)
		synth_write(&f.s, 0x4000000 + (uint64_t)i * 0x10000, "Linux version 9.9.9 (x@y) #1\n", 30);
	FAIL_IF(kaslr_find(&f.ctx, &f.k.vml, regs, 2, KASLR_METHODS_ALL, rep) != KASLR_NOTFOUND, "found");
	FAIL_IF(rep->diag.complete || rep->diag.kind == KASLR_DIAG_WRONG_VMLINUX ||
		rep->diag.kind == KASLR_DIAG_EARLY_BOOT, "complete %d kind %d: %s", rep->diag.complete,
		rep->diag.kind, f.ctx.err);
out:
	free(rep);
	fx_free(&f);
	return ret;
}

/* The table of crash releases (core/crash_releases.c). */
static int t_crash_releases(uint64_t *rnd, char *why, size_t whylen)
{
	static const struct {
		const char *kernel, *release;
	} cases[] = {
		{ "5.10.0-43-cloud-amd64", "" }, { "5.14.0", "8.0.0" }, { "5.17.3", "8.0.1" },
		{ "6.1.0-57-cloud-amd64", "8.0.1" }, { "6.4.0", "8.0.4" }, { "6.9.12", "8.0.4" },
		{ "6.12.118+deb13-cloud-amd64", "8.0.6" }, { "7.2.13+deb14-cloud-amd64", NULL },
	};
	const char *why_commit, *got;
	size_t i;
	int ret = 0;

	(void)rnd;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = kaslr_crash_release_for(cases[i].kernel, &why_commit);
		FAIL_IF(cases[i].release ? !got || strcmp(got, cases[i].release) : got != NULL, "%s: '%s', not '%s'",
			cases[i].kernel, got ? got : "(none)", cases[i].release ? cases[i].release : "(none)");
		FAIL_IF(*cases[i].kernel != '5' && cases[i].release && *cases[i].release && !why_commit,
			"%s: no commit", cases[i].kernel);
	}
	FAIL_IF(kaslr_crash_release_cmp("8.0.2", "8.0.6") >= 0 || kaslr_crash_release_cmp("9.0.2", "8.0.6") <= 0 ||
		kaslr_crash_release_cmp("8.0.6", "8.0.6") || kaslr_crash_release_cmp("8.0.10", "8.0.9") <= 0,
		"release order");
out:
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_diagnose");

	unit_run("diagnose-early-boot", t_early_boot, &rnd);
	unit_run("diagnose-early-boot-refused", t_early_boot_refused, &rnd);
	unit_run("diagnose-wrong-vmlinux", t_wrong_vmlinux, &rnd);
	unit_run("diagnose-build-id-from-notes", t_build_id_from_notes, &rnd);
	unit_run("diagnose-banner-lookalikes", t_banner_lookalikes, &rnd);
	unit_run("crash-releases", t_crash_releases, &rnd);
	TAP_EXIT();
}
