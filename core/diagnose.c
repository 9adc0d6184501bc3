/*
 * core/diagnose.c - why nothing was found: what the dump holds, said to the user
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * When no method gives a verified answer, "not found" alone sends the user
 * hunting.  kaslr_diagnose looks once more, at what the dump itself says,
 * and names the case and what to do next (both shells print its line):
 *
 * Case 1 - early boot (kaslr_diag.kind KASLR_DIAG_EARLY_BOOT)
 *	Every vCPU with registers is before the kernel (the architecture's
 *	pre_kernel(): x86_64 real mode, protected mode without paging, or
 *	the boot decompressor's identity tables), no method found values,
 *	and no kernel image's banner is anywhere in memory: the kernel was
 *	not decompressed and relocated yet, no tool can place it.  Decided
 *	from the registers by construction, never by comparing with one dump.
 *
 * Case 2 - another kernel (KASLR_DIAG_WRONG_VMLINUX)
 *	"Linux version " banners of kernel images in memory (ending in "\n"
 *	and NUL, as linux_banner does; log copies do not), the scan run to
 *	the end, none equal to the vmlinux's: the
 *	dump holds another kernel.  Its release is the word after "Linux
 *	version "; its build-id comes from the kernel's vmcoreinfo in RAM
 *	(BUILD-ID=, 5.9+: commit 0935288c6e00 "kdump: append kernel build-id
 *	string to VMCOREINFO") or from the image's own .notes: a GNU
 *	build-id note after a note of another name (a module's build-id
 *	note starts its section, or follows a GNU property note), not in
 *	the vDSO images, with the "Linux" build-salt note
 *	(include/linux/build-salt.h, 4.19+) near it, whose text is the
 *	release, and near a banner of that release; all such must agree.
 *	The Debian package that carries that kernel's debug vmlinux is
 *	linux-image-RELEASE-dbg (a suggestion: nothing is downloaded).
 *
 * Case 3 - this kernel, not placed (KASLR_DIAG_SAME_KERNEL)
 *	The vmlinux's own banner is in memory, yet nothing verified.
 *
 * One scan of physical memory (kaslr_scan_memory, the core's one reader)
 * gathers banners and vmcoreinfo pages; it stops once it has seen
 * DIAG_MAX_HITS banners, so it stays at page-cache speed.
 */
#define _GNU_SOURCE	/* memmem */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

/* Banner occurrences the scan reads before it stops (linux_banner, the log's copy, a few more). */
#define DIAG_MAX_HITS	12
/* Longest banner read (the kernel's is under 300 bytes). */
#define BANNER_MAX	512
/* A banner is "Linux version R (" and more: at least this long. */
#define BANNER_MIN	24
/* NT_GNU_BUILD_ID (elf.h), under a name of its own; the kernel's "Linux"
 * build-salt note is another, type 0x100 (include/linux/build-salt.h). */
#define NT_GNU_BUILD_ID_	3

static const char BANNER_HEAD[] = "Linux version ";

/* .notes readings kept (the kernel's, modules'), and how near a banner the kernel's lies. */
#define DIAG_MAX_NOTES	64
#define DIAG_NOTES_NEAR	(32ULL << 20)
#define DIAG_BANNERS_KEPT 4

struct diag_note {
	uint64_t paddr;
	char release[65];
	char build_id[KASLR_DIAG_BUILD_ID_LEN];
};

struct diag_scan {
	const struct kaslr_vmlinux *vml;
	struct kaslr_diagnosis *d;
	int hits;
	struct diag_note notes[DIAG_MAX_NOTES];
	int nr_notes;
	/* Per kernel of d->kernels: where its banners are. */
	uint64_t banner_at[KASLR_DIAG_MAX_KERNELS][DIAG_BANNERS_KEPT];
	int nr_banner_at[KASLR_DIAG_MAX_KERNELS];
	unsigned char page[KASLR_PAGE_SIZE + 1];	/* a page read alone, or text given its NUL */
};

static int release_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
	       c == '-' || c == '+' || c == '_' || c == '~';
}

/*
 * The release of banner text @s (NUL-terminated) into @rel: "Linux version
 * R (" then printable text to a newline or the end.  @returns 0, or -1 when
 * @s is no banner (a format string, compressed data that happens to hold
 * the words).
 */
static int banner_release(const char *s, char *rel, size_t size)
{
	const char *p = s + sizeof(BANNER_HEAD) - 1, *q;
	size_t n;

	if (strncmp(s, BANNER_HEAD, sizeof(BANNER_HEAD) - 1) || *p < '0' || *p > '9')
		return -1;
	for (q = p; release_char(*q); q++)
		;
	n = (size_t)(q - p);
	if (!n || n >= size || strncmp(q, " (", 2))
		return -1;
	for (; *q && *q != '\n'; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
			return -1;
	if ((size_t)(q - s) < BANNER_MIN)
		return -1;
	memcpy(rel, p, n);
	rel[n] = '\0';
	return 0;
}

/* The kernel entry of @release, made if new; NULL when the table is full. */
static struct kaslr_diag_kernel *kernel_of(struct kaslr_diagnosis *d, const char *release)
{
	int i;

	for (i = 0; i < d->nr_kernels; i++)
		if (!strcmp(d->kernels[i].release, release))
			return &d->kernels[i];
	if (d->nr_kernels == KASLR_DIAG_MAX_KERNELS)
		return NULL;
	memset(&d->kernels[d->nr_kernels], 0, sizeof(d->kernels[0]));
	kaslr_str_copy(d->kernels[d->nr_kernels].release, sizeof(d->kernels[0].release), release);
	return &d->kernels[d->nr_kernels++];
}

/* A banner at @paddr: its release and whether it is the vmlinux's, byte for byte. */
static void banner_at(struct kaslr_ctx *ctx, struct diag_scan *ds, uint64_t paddr)
{
	struct kaslr_diagnosis *d = ds->d;
	struct kaslr_diag_kernel *k;
	char text[BANNER_MAX + 1], rel[65];
	size_t len;

	len = kaslr_phys_read_string(ctx, paddr, text, sizeof(text));
	/*
	 * A kernel image's linux_banner is "Linux version ...\n" and its NUL
	 * (init/version.c; init/version-timestamp.c from 6.1).  The same line in
	 * the printk buffer (kept without its newline) or in a cached log file
	 * (the next line follows) is a copy, not a kernel: skipped, not counted.
	 */
	if (!len || len >= BANNER_MAX || text[len - 1] != '\n' || banner_release(text, rel, sizeof(rel)))
		return;
	ds->hits++;
	if (ds->vml->banner_len && len >= ds->vml->banner_len &&
	    !memcmp(text, ds->vml->banner, ds->vml->banner_len)) {
		if (!d->vmlinux_banner_paddr)
			d->vmlinux_banner_paddr = paddr;
		return;
	}
	if (!(k = kernel_of(d, rel)))
		return;
	if (ds->nr_banner_at[k - d->kernels] < DIAG_BANNERS_KEPT)
		ds->banner_at[k - d->kernels][ds->nr_banner_at[k - d->kernels]++] = paddr;
	if (!k->banners++) {
		const char *deb = strstr(text, " Debian ");

		k->banner_paddr = paddr;
		/* Debian's banner ends "... Debian 6.1.192-3 (2026-11-26)": the package version. */
		if (deb && sscanf(deb, " Debian %39[^ \n]", k->debian_version) != 1)
			k->debian_version[0] = '\0';
	}
}

/* "KEY=value" of vmcoreinfo @text (lines) into @val, "" if absent. */
static void vmci_value(const char *text, const char *key, char *val, size_t size)
{
	size_t kl = strlen(key);
	const char *p;

	val[0] = '\0';
	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, "\n");

			if (n < size) {
				memcpy(val, p + kl + 1, n);
				val[n] = '\0';
			}
			return;
		}
	}
}

/* A vmcoreinfo text (page start, or 24 bytes into its note): release and build-id. */
static void vmcoreinfo_at(struct kaslr_diagnosis *d, const char *text)
{
	struct kaslr_diag_kernel *k;
	char rel[65], bid[KASLR_DIAG_BUILD_ID_LEN];

	vmci_value(text, "OSRELEASE", rel, sizeof(rel));
	vmci_value(text, "BUILD-ID", bid, sizeof(bid));
	/* The kernel's own record wins over a .notes reading. */
	if (!rel[0] || !bid[0] || !(k = kernel_of(d, rel)) || !strcmp(k->build_id_from, "vmcoreinfo"))
		return;
	kaslr_str_copy(k->build_id, sizeof(k->build_id), bid);
	kaslr_str_copy(k->build_id_from, sizeof(k->build_id_from), "vmcoreinfo");
}

/*
 * Is there a well-formed ELF note that ends exactly at @off of @page?  The
 * kernel's .notes holds other notes before its GNU build-id note (Xen's on
 * kernels built with Xen guest support, "Linux" ones); a module's
 * .note.gnu.build-id section starts its own, after at most a GNU
 * property note (.note.gnu.property, CET builds).  A build-id note after
 * no note or a GNU one may be a module's: not used.
 */
static int note_ends_at(const unsigned char *page, size_t off)
{
	size_t x, i;

	for (x = 16; x <= 16 + 64 && x <= off; x += 4) {
		const unsigned char *n = page + off - x;
		uint32_t namesz = kaslr_le32(n), descsz = kaslr_le32(n + 4);

		if (namesz < 2 || namesz > 8 || descsz > 64 || 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u) != x)
			continue;
		for (i = 0; i + 1 < namesz && n[12 + i] >= 'A' && n[12 + i] <= 'z'; i++)
			;
		if (i + 1 == namesz && !n[12 + i])
			return memcmp(n + 12, "GNU", 4) != 0;
	}
	return 0;
}

/*
 * The release a "Linux" build-salt note within 512 bytes of @off names
 * (the kernel's .notes: after the build-id note up to 6.1, before it
 * since), into @rel; @returns 0, or -1 when there is none.
 */
static int salt_near(const unsigned char *page, size_t avail, size_t off, char *rel, size_t size)
{
	static const unsigned char tail[12] = { 0, 1, 0, 0, 'L', 'i', 'n', 'u', 'x', 0, 0, 0 };
	size_t lo = off > 512 ? off - 512 : 0, hi = off + 512 < avail ? off + 512 : avail, i;
	const unsigned char *p;

	for (p = page + lo; p < page + hi && (p = memmem(p, (size_t)(page + hi - p), tail, sizeof(tail))); p += 4) {
		size_t n = (size_t)(p - page);
		uint32_t descsz;

		if (n < 8 || (n & 3) || kaslr_le32(page + n - 8) != 6)
			continue;
		descsz = kaslr_le32(page + n - 4);
		if (descsz < 2 || descsz > size || n + 12 + descsz > avail || page[n + 12 + descsz - 1])
			continue;
		memcpy(rel, page + n + 12, descsz);
		for (i = 0; rel[i] && release_char(rel[i]); i++)
			;
		if (!rel[i] && i)
			return 0;
	}
	return -1;
}

/*
 * A GNU build-id note at @off of @page, after a note of another name (the
 * kernel's .notes), with a "Linux" build-salt note near it: kept, to be
 * weighed once the banners are known (notes_decide).
 */
static void build_id_note_at(struct kaslr_ctx *ctx, struct diag_scan *ds, const struct kaslr_scan_page *sp,
			     const unsigned char *page, size_t off)
{
	unsigned char prev[4];
	struct diag_note *n;
	size_t i;

	if (ds->nr_notes == DIAG_MAX_NOTES || off + 36 > sp->avail || !note_ends_at(page, off))
		return;
	/*
	 * The vDSO images inside the kernel (vdso_image_64, _32: page-aligned
	 * ELF files) carry the same notes: a note in the first two pages of
	 * an ELF file is theirs.
	 */
	if (!memcmp(page, ELFMAG, SELFMAG) ||
	    (sp->paddr >= KASLR_PAGE_SIZE && !kaslr_phys_read(ctx, sp->paddr - KASLR_PAGE_SIZE, prev, sizeof(prev)) &&
	     !memcmp(prev, ELFMAG, SELFMAG)))
		return;
	n = &ds->notes[ds->nr_notes];
	if (salt_near(page, sp->avail, off, n->release, sizeof(n->release)))
		return;
	n->paddr = sp->paddr + off;
	for (i = 0; i < 20; i++)
		snprintf(n->build_id + 2 * i, 3, "%02x", page[off + 16 + i]);
	ds->nr_notes++;
}

/*
 * The build-id of each kernel without a vmcoreinfo one: the .notes
 * readings of its release that lie within DIAG_NOTES_NEAR of one of its
 * banners (the image's .notes follows linux_banner by a few MiB; a
 * module's notes lie wherever vmalloc put it), when they all agree.
 */
static void notes_decide(struct diag_scan *ds)
{
	struct kaslr_diagnosis *d = ds->d;
	int i, j, b;

	for (i = 0; i < d->nr_kernels; i++) {
		struct kaslr_diag_kernel *k = &d->kernels[i];
		const char *bid = NULL;
		int conflict = 0;

		if (k->build_id[0])
			continue;
		for (j = 0; j < ds->nr_notes; j++) {
			const struct diag_note *n = &ds->notes[j];
			int near = 0;

			if (strcmp(n->release, k->release))
				continue;
			for (b = 0; b < ds->nr_banner_at[i]; b++) {
				uint64_t at = ds->banner_at[i][b];

				if ((n->paddr > at ? n->paddr - at : at - n->paddr) < DIAG_NOTES_NEAR)
					near = 1;
			}
			if (!near)
				continue;
			if (bid && strcmp(bid, n->build_id))
				conflict = 1;
			bid = n->build_id;
		}
		if (bid && !conflict) {
			kaslr_str_copy(k->build_id, sizeof(k->build_id), bid);
			kaslr_str_copy(k->build_id_from, sizeof(k->build_id_from), ".notes");
		}
	}
}

/* Is the page all zero (most of an idle guest): nothing to look at. */
static int zero_page(const unsigned char *page, size_t len)
{
	static const unsigned char zero[KASLR_PAGE_SIZE];

	return len <= sizeof(zero) && !memcmp(page, zero, len);
}

/*
 * One page.  Speed: memchr for the first byte of each pattern (vectorised
 * in the C library) and the zero-page test keep the scan at the speed of
 * reading the file; memmem over every page took 10x as long on a 4 GiB
 * guest.  A page is copied only where text must end in a NUL (vmcoreinfo).
 */
static int diag_visit(void *arg, struct kaslr_ctx *ctx, const struct kaslr_scan_page *sp)
{
	static const unsigned char gnu_note[16] = { 4, 0, 0, 0, 20, 0, 0, 0, NT_GNU_BUILD_ID_, 0, 0, 0,
						    'G', 'N', 'U', 0 };
	struct diag_scan *ds = arg;
	const unsigned char *page = sp->data, *p, *end;

	if (!page) {
		if (kaslr_scan_page_read(ctx, sp, 0, ds->page, sp->avail))
			return 0;
		page = ds->page;
	}
	if (zero_page(page, sp->avail))
		return 0;
	end = page + sp->avail;
	if (sp->avail > 34 && (!memcmp(page, "OSRELEASE=", 10) ||
			       (kaslr_le32(page) == 11 && !memcmp(page + 12, "VMCOREINFO", 11) &&
				!memcmp(page + 24, "OSRELEASE=", 10)))) {
		if (page != ds->page)
			memcpy(ds->page, page, sp->avail);
		ds->page[sp->avail] = '\0';
		vmcoreinfo_at(ds->d, (const char *)ds->page + (ds->page[0] == 'O' ? 0 : 24));
	}
	for (p = page; (p = memchr(p, 'L', (size_t)(end - p))); p++) {
		if ((size_t)(end - p) < sizeof(BANNER_HEAD) - 1 || memcmp(p, BANNER_HEAD, sizeof(BANNER_HEAD) - 1))
			continue;
		banner_at(ctx, ds, sp->paddr + (uint64_t)(p - page));
		if (ds->hits >= DIAG_MAX_HITS)
			return 1;
	}
	/* 'G' of "GNU": the note header is the 12 bytes before it, 4-aligned. */
	for (p = page + 12; p < end && (p = memchr(p, 'G', (size_t)(end - p))); p++)
		if (!((p - 12 - page) & 3) && (size_t)(end - p) >= 4 && !memcmp(p - 12, gnu_note, sizeof(gnu_note)))
			build_id_note_at(ctx, ds, sp, page, (size_t)(p - 12 - page));
	return 0;
}

/* The kernel the dump holds: the one with a vmcoreinfo build-id, else the first banner's. */
static const struct kaslr_diag_kernel *dump_kernel(const struct kaslr_diagnosis *d)
{
	int i;

	for (i = 0; i < d->nr_kernels; i++)
		if (d->kernels[i].banners && !strcmp(d->kernels[i].build_id_from, "vmcoreinfo"))
			return &d->kernels[i];
	for (i = 0; i < d->nr_kernels; i++)
		if (d->kernels[i].banners)
			return &d->kernels[i];
	return d->nr_kernels ? &d->kernels[0] : NULL;	/* only its vmcoreinfo */
}

/* " (build-id X)" or "" into @buf. */
static const char *bid_text(char *buf, size_t size, const char *bid)
{
	if (bid && *bid)
		snprintf(buf, size, " (build-id %s)", bid);
	else
		buf[0] = '\0';
	return buf;
}

/* The dump's kernel has the vmlinux's release and, where both are known, its build-id. */
static int same_build(const struct kaslr_diagnosis *d, const struct kaslr_vmlinux *vml)
{
	const struct kaslr_diag_kernel *k = dump_kernel(d);

	return k && !strcmp(k->release, vml->osrelease) && k->build_id[0] && vml->build_id[0] &&
	       !strcmp(k->build_id, vml->build_id);
}

static void say_wrong_vmlinux(struct kaslr_diagnosis *d, const struct kaslr_vmlinux *vml)
{
	const struct kaslr_diag_kernel *k = dump_kernel(d);
	char a[80], b[80], others[200] = "";
	int i;

	for (i = 0; i < d->nr_kernels; i++)
		if (&d->kernels[i] != k && d->kernels[i].banners)
			kaslr_buf_append(others, sizeof(others), "%s%s", others[0] ? ", " : "; also banners of ",
					 d->kernels[i].release);
	if (!strcmp(k->release, vml->osrelease))
		kaslr_errf(d->msg, sizeof(d->msg),
			 "this vmlinux is not the dump's kernel: both are %s, but the dump's banner is another build's (the dump's"
			 "%s, the vmlinux's%s); use the debug vmlinux of the dump's build (on Debian: package "
			 "linux-image-%s-dbg%s%s)", k->release, bid_text(a, sizeof(a), k->build_id),
			 bid_text(b, sizeof(b), vml->build_id), k->release, k->debian_version[0] ? ", version " : "",
			 k->debian_version);
	else
		kaslr_errf(d->msg, sizeof(d->msg),
			 "this vmlinux is not the dump's kernel: the dump holds Linux %s%s%s, the vmlinux is %s%s; "
			 "use the debug vmlinux of %s (on Debian: package linux-image-%s-dbg%s%s)", k->release,
			 bid_text(a, sizeof(a), k->build_id), others, vml->osrelease, bid_text(b, sizeof(b), vml->build_id),
			 k->release, k->release, k->debian_version[0] ? ", version " : "", k->debian_version);
}

/* "vCPU 0 in ...", "vCPUs 1-3 in ..." appended to @buf (nothing for @first -1). */
static void say_cpus(char *buf, size_t size, int first, int last, const char *what)
{
	if (first < 0)
		return;
	if (first == last)
		kaslr_buf_append(buf, size, "%svCPU %d %s", buf[0] ? ", " : "", first, what);
	else
		kaslr_buf_append(buf, size, "%svCPUs %d-%d %s", buf[0] ? ", " : "", first, last, what);
}

enum kaslr_status kaslr_diagnose(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, int nr_cpus, int found_values,
				 struct kaslr_diagnosis *d)
{
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	struct diag_scan *ds;
	uint64_t total;
	char state[KASLR_ERRLEN], one[200], last[200] = "";
	int i, nr_pre = 0, nr_in = 0, first_cpu = -1, last_cpu = -1;
	enum kaslr_status st;

	memset(d, 0, sizeof(*d));
	state[0] = '\0';
	/*
	 * 1. Where the vCPUs are: every one that tells must be before the
	 * kernel.  Neighbours in the same state share a phrase ("vCPUs 1-63 in
	 * real mode (IP 0xfff0)"), so hundreds of vCPUs fit one line.
	 */
	for (i = 0; regs && arch->pre_kernel && i < nr_cpus; i++) {
		if (!arch->pre_kernel(ctx, &regs[i], one, sizeof(one))) {
			nr_in++;
			continue;
		}
		if (nr_pre++ && !strcmp(one, last) && regs[i].cpu == last_cpu + 1) {
			last_cpu = regs[i].cpu;
			continue;
		}
		say_cpus(state, sizeof(state), first_cpu, last_cpu, last);
		first_cpu = last_cpu = regs[i].cpu;
		kaslr_str_copy(last, sizeof(last), one);
	}
	if (nr_pre)
		say_cpus(state, sizeof(state), first_cpu, last_cpu, last);
	/* 2. What memory holds: banners, vmcoreinfo pages, the image's build-id note. */
	if (!(ds = calloc(1, sizeof(*ds))))
		return KASLR_NOMEM;
	ds->vml = vml;
	ds->d = d;
	st = kaslr_scan_memory(ctx, 1, diag_visit, ds, &total);
	if (st == KASLR_NOMEM) {
		free(ds);
		return st;
	}
	d->scanned = st == KASLR_OK;
	notes_decide(ds);
	d->complete = d->scanned && ds->hits < DIAG_MAX_HITS;
	free(ds);

	/* 3. The case, and what to do. */
	if (nr_pre && !nr_in && !found_values && d->complete && !d->vmlinux_banner_paddr && !d->nr_kernels) {
		d->kind = KASLR_DIAG_EARLY_BOOT;
		kaslr_errf(d->msg, sizeof(d->msg),
			 "the dump predates the kernel's relocation: %s, and no banner of %s is in memory; no "
			 "kernel has been placed yet, so no tool can place it: take the dump after the guest "
			 "has booted (once its console has printed \"Linux version\")", state, vml->osrelease);
	} else if (d->nr_kernels && !d->vmlinux_banner_paddr && d->complete && !same_build(d, vml)) {
		d->kind = KASLR_DIAG_WRONG_VMLINUX;
		say_wrong_vmlinux(d, vml);
	} else if (d->vmlinux_banner_paddr && nr_pre && !nr_in) {
		d->kind = KASLR_DIAG_SAME_KERNEL;
		kaslr_errf(d->msg, sizeof(d->msg),
			 "no vCPU runs in the kernel yet (%s), though the vmlinux's banner is in memory at 0x%"
			 PRIx64 ": the kernel may be decompressed but not relocated yet; take the dump after the "
			 "guest has booted", state, d->vmlinux_banner_paddr);
	} else if (d->vmlinux_banner_paddr) {
		d->kind = KASLR_DIAG_SAME_KERNEL;
		kaslr_errf(d->msg, sizeof(d->msg),
			 "the dump holds this vmlinux's kernel (its banner is at physical 0x%" PRIx64 "), but no "
			 "method placed it: give the values by hand (OFFSET and PHYS_BASE)", d->vmlinux_banner_paddr);
	} else if (d->complete) {
		d->kind = KASLR_DIAG_NO_BANNER;
		kaslr_errf(d->msg, sizeof(d->msg),
			 "no \"Linux version\" banner anywhere in the dump's memory (a filtered or truncated "
			 "dump?): give the values by hand (OFFSET and PHYS_BASE) if you know them");
	}
	return KASLR_OK;
}
