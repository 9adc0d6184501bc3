/*
 * kaslr_find.c - kaslr-find: KERNELOFFSET and phys_base of a dump, without crash
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A thin shell around kaslr_find() (kaslr_core.c), which does all the
 * recovery.  This file only
 *  - opens the dump once (core/dump.h parses its headers and reads plain
 *    ELF, kdump-compressed and flattened files); libkdumpfile, given the
 *    same file descriptor, reads kdump-compressed files unless --reader=own;
 *    makedumpfile's flattened stream (what QEMU 7.2 writes for its kdump-*
 *    formats), which libkdumpfile 0.5.1 cannot open, is read by our reader;
 *  - takes the vCPU registers from the dump's note area (core/dump.h finds
 *    it in every format, regs.c decodes it);
 *  - prints the answer (text or --json) and optionally a vmcoreinfo file.
 *
 * Exit status: 0 found and verified, 1 not found / not verified, 2 usage
 * error or unreadable input.
 */
#include <elf.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>

#include "kaslr_core.h"
#include "regs.h"
#include "vmcoreinfo.h"
#include "core/dump.h"
#include "core/dump_fix.h"
#include "core/names.h"
#include "core/vmci_source.h"
#include "core/vmlinux.h"

#define PROG "kaslr-find"
#ifndef KASLR_VERSION
#define KASLR_VERSION "0.1"
#endif

#define EXIT_FOUND	0
#define EXIT_NOTFOUND	1
#define EXIT_USAGE	2

/* More vCPUs than this in one note area is not a QEMU dump but garbage. */
#define MAX_CPUS	8192


/* ==== the dump: format, reader, registers ============================= */

enum reader { READER_AUTO, READER_LIBKDUMPFILE, READER_OWN };

struct dump {
	const char *path;
	struct kaslr_dump *file;		/* format, ranges, notes; the built-in reader */
	kdump_ctx_t *kctx;			/* libkdumpfile (on file->fd), or NULL */
	const char *reader;
	char reader_note[256];			/* why not libkdumpfile */
	/* registers */
	struct kaslr_cpu_regs *regs;
	int nr_cpus;
	struct kaslr_notes_info notes;
	const char *regs_source;
	/* progress on a tty */
	int progress_tty;
	int progress_pct;
	double progress_t0;			/* when the search started */
};

/* Seconds before a scan starts to report progress on a terminal. */
#define PROGRESS_AFTER 1.0

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
dump_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct dump *d = priv;

	if (d->kctx) {
		size_t n = len;

		return kdump_read(d->kctx, KDUMP_MACHPHYSADDR, paddr, buf, &n) == KDUMP_OK ? 0 : -1;
	}
	return kaslr_dump_read_phys(d->file, paddr, buf, len);
}

static void
dump_progress(void *priv, uint64_t done, uint64_t total)
{
	struct dump *d = priv;
	int pct;

	// Only scans that take a while are worth a progress line.
	if (!d->progress_tty || !total || now() - d->progress_t0 < PROGRESS_AFTER)
		return;
	pct = (int)(done * 100 / total);
	if (pct == d->progress_pct)
		return;
	d->progress_pct = pct;
	fprintf(stderr, "\r" PROG ": scanning physical memory: %3d%% of %" PRIu64 " MiB", pct, total >> 20);
	fflush(stderr);
}

static void
progress_done(struct dump *d)
{
	if (d->progress_tty && d->progress_pct >= 0)
		fprintf(stderr, "\r%-70s\r", "");
	d->progress_pct = -1;
}

static int
open_libkdumpfile(struct dump *d)
{
	kdump_attr_t attr;
	kdump_status st;

	if (!(d->kctx = kdump_new())) {
		snprintf(d->reader_note, sizeof(d->reader_note), "libkdumpfile: out of memory");
		return -1;
	}
	/* The file we opened: libkdumpfile neither closes it nor needs its offset (we pread). */
	st = kdump_open_fd(d->kctx, d->file->fd);
	if (st != KDUMP_OK) {
		snprintf(d->reader_note, sizeof(d->reader_note), "libkdumpfile: %s", kdump_get_err(d->kctx));
		goto fail;
	}
	/*
	 * Without a VMCOREINFO note libkdumpfile may leave the architecture
	 * unset (0.5.1 does for kdump-compressed files; drgn issue #382).
	 * Physical reads need no more than that; the Linux address layout
	 * (addrxlat.ostype) is never asked for: finding it is our job.
	 */
	attr.type = KDUMP_STRING;
	if (kdump_get_typed_attr(d->kctx, KDUMP_ATTR_ARCH_NAME, &attr) != KDUMP_OK)
		kdump_set_string_attr(d->kctx, KDUMP_ATTR_ARCH_NAME, KDUMP_ARCH_X86_64);
	return 0;
fail:
	kdump_free(d->kctx);
	d->kctx = NULL;
	return -1;
}

/* @returns 0, or -1 with @err set (unreadable input). */
static int
dump_open(struct dump *d, const char *path, enum reader want, char *err, size_t errlen)
{
	const char *why_not;

	memset(d, 0, sizeof(*d));
	d->path = path;
	d->progress_pct = -1;
	if (kaslr_dump_open(path, &d->file, err, errlen) != KASLR_OK)
		return -1;
	why_not = kaslr_dump_reader_error(d->file);

	// A plain ELF core is read with the built-in reader unless asked
	// otherwise: the same bytes, but a scan's 1 MiB read is one pread there,
	// where libkdumpfile 0.5.1 copies page by page and takes 4x as long.
	if (want == READER_AUTO && !strcmp(d->file->format, "ELF") && !why_not) {
		d->reader = "built-in";
		snprintf(d->reader_note, sizeof(d->reader_note), "plain ELF, read directly");
		return 0;
	}

	// libkdumpfile first; it learnt the flattened format only after 0.5.1
	// (Debian bookworm's), so there the built-in reader takes over.
	if (want != READER_OWN) {
		if (open_libkdumpfile(d) == 0) {
			d->reader = "libkdumpfile";
		} else if (d->file->flattened) {
			char why[sizeof(d->reader_note)];

			snprintf(why, sizeof(why), "%s", d->reader_note);
			snprintf(d->reader_note, sizeof(d->reader_note),
				 "this libkdumpfile cannot read the flattened format: %.180s", why);
		}
		if (!d->kctx && want == READER_LIBKDUMPFILE) {
			snprintf(err, errlen, "%s: %s (--reader=own reads it)", path, d->reader_note);
			goto fail;
		}
	}
	/* Without libkdumpfile the built-in reader reads it, or nothing does. */
	if (!d->kctx && why_not) {
		snprintf(err, errlen, "%s", why_not);
		goto fail;
	}
	if (!d->kctx)
		d->reader = "built-in";
	return 0;
fail:
	kaslr_dump_close(d->file);
	d->file = NULL;
	return -1;
}

/* Registers from the note area (ELF PT_NOTE or kdump-compressed note buffer). */
static void
dump_regs(struct dump *d)
{
	int n = 0;

	if (!d->file->notes)
		return;
	kaslr_notes_parse(d->file->notes, d->file->notes_len, NULL, 0, NULL, &d->notes);
	if (d->notes.nr_qemu <= 0)
		return;
	n = d->notes.nr_qemu < MAX_CPUS ? d->notes.nr_qemu : MAX_CPUS;
	if (!(d->regs = calloc(n, sizeof(*d->regs))))
		return;
	kaslr_notes_parse(d->file->notes, d->file->notes_len, d->regs, n, &d->nr_cpus, &d->notes);
	d->regs_source = strstr(d->file->format, "ELF") ? "QEMU ELF notes"
						       : "QEMU notes in the kdump-compressed note area";
}

static void
dump_close(struct dump *d)
{
	if (d->kctx)
		kdump_free(d->kctx);
	kaslr_dump_close(d->file);
	d->file = NULL;
	free(d->regs);
	d->kctx = NULL;
	d->regs = NULL;
}

/* ==== output ========================================================== */

/* Short check list for the -v table and JSON: "banner,aligned,window". */
static const char *
checks_short(unsigned checks, char *buf, size_t size)
{
	return kaslr_checks_join(checks, KASLR_CHECK_KEY, ",", "-", buf, size);
}

/* A word the shell passes through unchanged, quoted if it needs to be. */
static void
shell_word(char *out, size_t size, const char *s)
{
	size_t n = 0;
	const char *p;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-=:,@%") ==
		      strlen(s)) {
		snprintf(out, size, "%s", s);
		return;
	}
	if (size < 3) {
		if (size)
			out[0] = '\0';
		return;
	}
	out[n++] = '\'';
	for (p = s; *p && n + 6 < size; p++) {
		if (*p == '\'') {
			memcpy(out + n, "'\\''", 4);
			n += 4;
		} else {
			out[n++] = *p;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
}

static void
crash_command(char *out, size_t size, const char *vmlinux, const char *dump, uint64_t ko, int64_t pb)
{
	char v[1024], d[1024];

	shell_word(v, sizeof(v), vmlinux);
	shell_word(d, sizeof(d), dump);
	snprintf(out, size, "crash --kaslr=0x%" PRIx64 " --machdep phys_base=0x%" PRIx64 " %s %s", ko,
		 (uint64_t)pb, v, d);
}

static void
json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
json_hex(FILE *f, uint64_t v)
{
	fprintf(f, "\"0x%" PRIx64 "\"", v);
}

struct run {
	const char *vmlinux_arg, *dump_arg;
	struct kaslr_vmlinux vml;
	struct dump dump;
	struct kaslr_ctx ctx;
	struct kaslr_report *rep;
	enum kaslr_status status;
	const char *error;		/* final one-line error, or NULL */
	double seconds;
	const struct kaslr_arch *arch;
	/* arm64: what crash needs besides the two values (have_a64: read through the answer). */
	struct kaslr_arm64_values a64;
	int have_a64;
	char a64_err[KASLR_ERRLEN];
	/* The dump's own VMCOREINFO note, if it has one. */
	int has_note_values;
	uint64_t note_offset;
	int64_t note_phys_base;
};

static const struct kaslr_candidate *
best_cand(const struct run *r)
{
	return r->rep && r->rep->best >= 0 && r->status == KASLR_OK ? &r->rep->cand[r->rep->best] : NULL;
}

/*
 * Where each arm64 vCPU's pc lies under the answer: a CPU in the kernel
 * (EL1) runs in the image, or in modules/vmalloc'd code; a pc at EL1 below
 * the image's link address would contradict the answer.  A cross-check to
 * read, not evidence the search used.  @returns the text, "" without PCs.
 */
static const char *
arm64_pc_where(const struct run *r, const struct kaslr_candidate *b, int i, char *buf, size_t size)
{
	uint64_t pc = r->dump.notes.arm64_pc[i], text = r->vml.text ? r->vml.text : r->vml.stext;
	unsigned el = (unsigned)(r->dump.notes.arm64_pstate[i] >> 2) & 3;

	if (el == 0)
		snprintf(buf, size, "user space (EL0)");
	else if (pc >= text + b->kernel_offset && r->vml.end && pc < r->vml.end + b->kernel_offset)
		snprintf(buf, size, "in the kernel image, _text+0x%" PRIx64, pc - text - b->kernel_offset);
	else if (pc >> 63)
		snprintf(buf, size, "kernel, outside the image (a module or vmalloc'd code)");
	else
		snprintf(buf, size, "not a kernel address at EL%u", el);
	return buf;
}

static void
print_arm64_pcs(const struct run *r, const struct kaslr_candidate *b)
{
	int i, n = r->dump.notes.nr_arm64 < KASLR_ARM64_MAX_PCS ? r->dump.notes.nr_arm64 : KASLR_ARM64_MAX_PCS;
	char where[96];

	for (i = 0; i < n; i++)
		printf("  cpu %d pc: 0x%016" PRIx64 " %s\n", i, r->dump.notes.arm64_pc[i],
		       arm64_pc_where(r, b, i, where, sizeof(where)));
}

static void
print_json(const struct run *r)
{
	const struct kaslr_candidate *b = best_cand(r);
	const struct kaslr_report *rep = r->rep;
	FILE *f = stdout;
	char cmd[4096];
	size_t i;
	int k;

	fputs("{\n  \"vmlinux\": ", f);
	json_str(f, r->vmlinux_arg);
	fputs(",\n  \"dump\": ", f);
	json_str(f, r->dump_arg);
	fputs(",\n  \"format\": ", f);
	json_str(f, r->dump.file->format);
	fputs(",\n  \"reader\": ", f);
	json_str(f, r->dump.reader);
	fputs(",\n  \"arch\": ", f);
	json_str(f, r->arch->name);
	fputs(",\n  \"osrelease\": ", f);
	json_str(f, r->vml.osrelease[0] ? r->vml.osrelease : NULL);
	fputs(",\n  \"registers\": ", f);
	json_str(f, r->dump.regs_source);
	fprintf(f, ",\n  \"cpus\": %d", r->dump.nr_cpus);
	fputs(",\n  \"method\": ", f);
	json_str(f, b ? kaslr_method_name(b->method) : NULL);
	if (b && b->cpu >= 0)
		fprintf(f, ",\n  \"cpu\": %d", b->cpu);
	else
		fputs(",\n  \"cpu\": null", f);
	if (b) {
		fprintf(f, ",\n  \"kernel_offset\": %" PRIu64 ",\n  \"kernel_offset_hex\": ", b->kernel_offset);
		json_hex(f, b->kernel_offset);
		if (r->arch == &kaslr_arch_x86_64) {
			fprintf(f, ",\n  \"phys_base\": %" PRId64 ",\n  \"phys_base_hex\": ", b->phys_base);
			json_hex(f, (uint64_t)b->phys_base);
		} else {
			fputs(",\n  \"kimage_voffset\": ", f);
			json_hex(f, (uint64_t)b->phys_base);
		}
	} else if (r->arch == &kaslr_arch_x86_64) {
		fputs(",\n  \"kernel_offset\": null,\n  \"kernel_offset_hex\": null"
		      ",\n  \"phys_base\": null,\n  \"phys_base_hex\": null", f);
	} else {
		fputs(",\n  \"kernel_offset\": null,\n  \"kernel_offset_hex\": null,\n  \"kimage_voffset\": null", f);
	}
	if (r->arch == &kaslr_arch_arm64) {
		if (r->have_a64) {
			fputs(",\n  \"phys_offset\": ", f);
			json_hex(f, (uint64_t)r->a64.phys_offset);
			fputs(",\n  \"text_paddr\": ", f);
			json_hex(f, r->a64.text_paddr);
			fprintf(f, ",\n  \"va_bits\": %d,\n  \"vabits_actual\": %d,\n  \"page_size\": %d",
				r->a64.va_bits, r->a64.vabits_actual, 1 << r->a64.page_shift);
		} else {
			fputs(",\n  \"phys_offset\": null,\n  \"text_paddr\": null,\n  \"va_bits\": null"
			      ",\n  \"vabits_actual\": null,\n  \"page_size\": null", f);
		}
	}
	if (r->arch == &kaslr_arch_arm64) {
		int n = r->dump.notes.nr_arm64 < KASLR_ARM64_MAX_PCS ? r->dump.notes.nr_arm64 : KASLR_ARM64_MAX_PCS;
		char where[96];

		fputs(",\n  \"cpu_pcs\": [", f);
		for (k = 0; k < n; k++) {
			fprintf(f, "%s{\"cpu\": %d, \"pc\": ", k ? ", " : "", k);
			json_hex(f, r->dump.notes.arm64_pc[k]);
			fputs(", \"where\": ", f);
			json_str(f, b ? arm64_pc_where(r, b, k, where, sizeof(where)) : NULL);
			fputc('}', f);
		}
		fputc(']', f);
	}
	fprintf(f, ",\n  \"verified\": %s,\n  \"checks\": [", b ? "true" : "false");
	for (i = 0, k = 0; b && i < kaslr_nr_check_names; i++)
		if (b->checks & kaslr_check_names[i].bit)
			fprintf(f, "%s\"%s\"", k++ ? ", " : "", kaslr_check_names[i].key);
	fprintf(f, "],\n  \"agree\": %d,\n  \"disagree\": %d,\n  \"failed\": %d,\n  \"unrecorded\": %d",
		rep ? rep->nr_agree : 0, rep ? rep->nr_disagree : 0, rep ? rep->nr_failed : 0,
		rep ? rep->nr_unrecorded : 0);
	fputs(",\n  \"candidates\": [", f);
	for (k = 0; rep && k < rep->nr_cand; k++) {
		const struct kaslr_candidate *c = &rep->cand[k];
		char ck[128];

		fprintf(f, "%s\n    {\"method\": \"%s\", \"cpu\": ", k ? "," : "", kaslr_method_name(c->method));
		if (c->cpu >= 0)
			fprintf(f, "%d", c->cpu);
		else
			fputs("null", f);
		fprintf(f, ", \"count\": %d, \"cpus\": ", c->count);
		json_str(f, c->cpu >= 0 ? kaslr_cpus_text(c, cmd, sizeof(cmd)) : NULL);
		fputs(", \"pgd\": ", f);
		if (c->pgd_paddr)
			json_hex(f, c->pgd_paddr);
		else
			fputs("null", f);
		fprintf(f, ", \"levels\": %d, \"kernel_offset\": %" PRIu64 ", \"%s\": %" PRId64
			", \"status\": \"%s\", \"checks\": ", c->levels, c->kernel_offset, r->arch->placement,
			c->phys_base, kaslr_status_name(c->status));
		json_str(f, checks_short(c->checks, ck, sizeof(ck)));
		fputs(", \"note\": ", f);
		json_str(f, c->note);
		fputc('}', f);
	}
	fputs(rep && rep->nr_cand ? "\n  ]" : "]", f);
	fputs(",\n  \"crash_command\": ", f);
	if (b && r->arch == &kaslr_arch_x86_64) {
		crash_command(cmd, sizeof(cmd), r->vmlinux_arg, r->dump_arg, b->kernel_offset, b->phys_base);
		json_str(f, cmd);
	} else {
		fputs("null", f);
	}
	fputs(",\n  \"vmcoreinfo_copies\": [", f);
	for (k = 0; rep && k < rep->nr_vmci; k++) {
		const struct kaslr_vmci_copy *v = &rep->vmci[k];

		fprintf(f, "%s\n    {\"paddr\": ", k ? "," : "");
		json_hex(f, v->paddr);
		fprintf(f, ", \"len\": %zu, \"osrelease\": ", v->len);
		json_str(f, v->osrelease);
		fputs(", \"build_id\": ", f);
		json_str(f, v->build_id[0] ? v->build_id : NULL);
		if (v->has_offset)
			fprintf(f, ", \"kernel_offset\": %" PRIu64, v->kernel_offset);
		else
			fputs(", \"kernel_offset\": null", f);
		if (v->has_phys_base)
			fprintf(f, ", \"%s\": %" PRId64, r->arch->placement, v->phys_base);
		else
			fprintf(f, ", \"%s\": null", r->arch->placement);
		fprintf(f, ", \"verified\": %s}", v->verified ? "true" : "false");
	}
	fputs(rep && rep->nr_vmci ? "\n  ]" : "]", f);
	fputs(",\n  \"dump_vmcoreinfo_note\": ", f);
	if (r->has_note_values) {
		fprintf(f, "{\"kernel_offset\": %" PRIu64 ", \"%s\": %" PRId64 ", \"agrees\": %s}",
			r->note_offset, r->arch->placement, r->note_phys_base,
			b ? (b->kernel_offset == r->note_offset && b->phys_base == r->note_phys_base ? "true"
												  : "false")
			  : "null");
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\n  \"page_reads\": %lu,\n  \"seconds\": %.3f", r->ctx.nr_reads, r->seconds);
	fputs(",\n  \"error\": ", f);
	json_str(f, r->error);
	fputs("\n}\n", f);
}

static void
print_regs_table(const struct dump *d)
{
	int i;

	printf("  CPU  CR0               CR3               CR4               IDTR BASE         LIMIT\n");
	for (i = 0; i < d->nr_cpus; i++) {
		const struct kaslr_cpu_regs *c = &d->regs[i];

		if (!c->valid) {
			printf("  %3d  (unreadable CPU state)\n", c->cpu);
			continue;
		}
		printf("  %3d  %016" PRIx64 "  %016" PRIx64 "  %016" PRIx64 "  %016" PRIx64 "  %5" PRIx32 "\n",
		       c->cpu, c->cr0, c->cr3, c->cr4, c->idtr_base, c->idtr_limit);
	}
}

static void
print_candidates(const struct run *r, const struct kaslr_report *rep)
{
	int k;

	printf("  candidates:\n");
	printf("    %-10s %-3s %-12s %-2s %-10s %-18s %-9s %-42s %s\n", "METHOD", "CPU", "PGD", "LV",
	       "OFFSET", r->arch == &kaslr_arch_x86_64 ? "PHYS_BASE" : "KIMAGE_VOFFSET", "STATUS", "CHECKS", "NOTE");
	for (k = 0; k < rep->nr_cand; k++) {
		const struct kaslr_candidate *c = &rep->cand[k];
		char cpu[48], pgd[20], ck[128];

		kaslr_cpus_text(c, cpu, sizeof(cpu));
		if (c->pgd_paddr)
			snprintf(pgd, sizeof(pgd), "%" PRIx64, c->pgd_paddr);
		else
			snprintf(pgd, sizeof(pgd), "-");
		printf("    %-10s %-3s %-12s %-2d %-10" PRIx64 " %-18" PRIx64 " %-9s %-42s %s\n",
		       kaslr_method_name(c->method), cpu, pgd, c->levels, c->kernel_offset, (uint64_t)c->phys_base,
		       kaslr_status_name(c->status), checks_short(c->checks, ck, sizeof(ck)), c->note);
	}
	if (!rep->nr_cand)
		printf("    (none)\n");
}

static void
print_human(const struct run *r, int verbose)
{
	const struct kaslr_candidate *b = best_cand(r);
	const struct kaslr_report *rep = r->rep;
	const struct dump *d = &r->dump;
	char cmd[4096];
	size_t i;
	int k, n;

	printf(PROG ": %s %s\n", r->vmlinux_arg, r->dump_arg);
	if (verbose) {
		printf("  vmlinux: %s, build-id %s\n", r->vml.osrelease,
		       r->vml.build_id[0] ? r->vml.build_id : "(none)");
		printf("  dump: %s, read with %s%s%s%s\n", d->file->format,
		       d->kctx ? "libkdumpfile" : "the built-in reader", d->reader_note[0] ? " (" : "",
		       d->reader_note, d->reader_note[0] ? ")" : "");
		for (k = 0; k < d->file->nr_ranges; k++) {
			uint64_t len = d->file->ranges[k].end - d->file->ranges[k].start;

			printf("  memory: %#" PRIx64 "-%#" PRIx64 " (%" PRIu64 " %s)\n", d->file->ranges[k].start,
			       d->file->ranges[k].end - 1, len >= 1 << 20 ? len >> 20 : len >> 10,
			       len >= 1 << 20 ? "MiB" : "KiB");
		}
	}
	if (r->arch == &kaslr_arch_arm64 && d->notes.nr_arm64)
		printf("  registers: %d CPU%s from NT_PRSTATUS (pc, sp, pstate; no TTBR1: the image's own page "
		       "tables are used)\n", d->notes.nr_arm64, d->notes.nr_arm64 == 1 ? "" : "s");
	else if (r->arch == &kaslr_arch_arm64)
		printf("  registers: none (no CPU notes in the dump; the image's own page tables are used)\n");
	else if (d->nr_cpus)
		printf("  registers: %d CPU%s from %s\n", d->nr_cpus, d->nr_cpus == 1 ? "" : "s", d->regs_source);
	else if (d->notes.nr_prstatus)
		printf("  registers: none (%d NT_PRSTATUS notes but no QEMU CPU state: memory scan only)\n",
		       d->notes.nr_prstatus);
	else
		printf("  registers: none (no CPU notes in the dump: memory scan only)\n");
	if (verbose && d->nr_cpus)
		print_regs_table(d);
	if (r->has_note_values && r->arch == &kaslr_arch_arm64)
		printf("  dump's VMCOREINFO note: KERNELOFFSET=%" PRIx64 " NUMBER(kimage_voffset)=0x%" PRIx64 "%s\n",
		       r->note_offset, (uint64_t)r->note_phys_base,
		       !b ? "" : b->kernel_offset == r->note_offset && b->phys_base == r->note_phys_base
			     ? " (agrees)" : " (DISAGREES with the result)");
	else if (r->has_note_values)
		printf("  dump's VMCOREINFO note: KERNELOFFSET=%" PRIx64 " NUMBER(phys_base)=%" PRId64 "%s\n",
		       r->note_offset, r->note_phys_base,
		       !b ? "" : b->kernel_offset == r->note_offset && b->phys_base == r->note_phys_base
			     ? " (agrees)" : " (DISAGREES with the result)");
	if (verbose && rep)
		print_candidates(r, rep);
	if (!b) {
		printf("  result: %s%s\n", r->status == KASLR_AMBIGUOUS ? "ambiguous" : "not found",
		       verbose ? "" : " (-v lists every candidate)");
		return;
	}
	n = rep->nr_agree + rep->nr_disagree;
	if (b->cpu >= 0)
		printf("  method: %s (cpu%s %s, agreed by %d of %d verified candidates", kaslr_method_name(b->method),
		       b->count > 1 ? "s" : "", kaslr_cpus_text(b, cmd, sizeof(cmd)), rep->nr_agree, n);
	else
		printf("  method: %s (agreed by %d of %d verified candidates", kaslr_method_name(b->method),
		       rep->nr_agree, n);
	if (rep->nr_failed)
		printf("; %d other%s failed%s", rep->nr_failed, rep->nr_failed == 1 ? "" : "s",
		       verbose ? "" : ", -v shows why");
	if (rep->nr_unrecorded)
		printf("; %d more beyond the first %d distinct candidates, not counted", rep->nr_unrecorded,
		       KASLR_MAX_CANDIDATES);
	printf(")\n");
	printf("  KERNELOFFSET: 0x%" PRIx64 "\n", b->kernel_offset);
	if (r->arch == &kaslr_arch_x86_64) {
		printf("  phys_base: 0x%" PRIx64 " (%" PRId64 ")\n", (uint64_t)b->phys_base, b->phys_base);
	} else {
		printf("  kimage_voffset: 0x%" PRIx64 "\n", (uint64_t)b->phys_base);
		if (r->have_a64) {
			printf("  _text: 0x%" PRIx64 " at physical 0x%" PRIx64 "\n", (r->vml.text ? r->vml.text : r->vml.stext) +
			       b->kernel_offset, r->a64.text_paddr);
			printf("  PHYS_OFFSET: 0x%" PRIx64 "\n", (uint64_t)r->a64.phys_offset);
			printf("  VA_BITS: %d (running with %d), %d KiB pages\n", r->a64.va_bits, r->a64.vabits_actual,
			       1 << (r->a64.page_shift - 10));
		}
	}
	printf("  verified:");
	for (i = 0, k = 0; i < kaslr_nr_check_names; i++) {
		if (!(b->checks & kaslr_check_names[i].bit))
			continue;
		printf("%s %s", k++ ? "," : "", kaslr_check_names[i].text);
		if (kaslr_check_names[i].bit == KASLR_V_BANNER)
			printf(" (vmlinux %s)", r->vml.osrelease);
	}
	printf("\n");
	if (r->arch == &kaslr_arch_arm64)
		print_arm64_pcs(r, b);
	for (k = 0; k < rep->nr_vmci; k++) {
		const struct kaslr_vmci_copy *v = &rep->vmci[k];

		printf("  in-RAM vmcoreinfo: %#" PRIx64 " (%s)%s\n", v->paddr, v->osrelease,
		       v->verified ? ", verified" : ", does not verify");
	}
	if (verbose)
		printf("  page-table entries read: %lu; search took %.3f s\n", r->ctx.nr_reads, r->seconds);
	if (r->arch == &kaslr_arch_x86_64) {
		crash_command(cmd, sizeof(cmd), r->vmlinux_arg, r->dump_arg, b->kernel_offset, b->phys_base);
		printf("  %s\n", cmd);
	} else {
		/* crash's arm64 code takes no such values from its command line (crash-utility/crash #178, #210). */
		printf("  crash: its command line cannot place an arm64 kernel; fix the file (below), or run "
		       "\"extend kaslr.so\" then \"kaslr -r\" in crash --minimal\n");
	}
	/* A dump without a right note stays broken for every other tool: say how to fix the file. */
	if (!r->has_note_values || b->kernel_offset != r->note_offset || b->phys_base != r->note_phys_base)
		printf("  fix the file (%s): " PROG " --output-dump FIXED %s %s (or --in-place)\n",
		       r->has_note_values ? "its VMCOREINFO note is wrong" : "it has no VMCOREINFO note",
		       r->vmlinux_arg, r->dump_arg);
}

/* ==== --vmcoreinfo FILE ================================================ */

/*
 * The builder of last resort (kaslr_vmci_build_fn): the keys crash,
 * makedumpfile -i and drgn --vmcoreinfo need to place the kernel.  drgn
 * also requires SYMBOL(swapper_pg_dir), which on x86_64 is init_top_pgt
 * (4.13+) / init_level4_pgt.
 */
static enum kaslr_status
minimal_vmcoreinfo(void *priv, char **text_ret, const char **what_ret, char *note, size_t notelen)
{
	const struct run *r = priv;
	const struct kaslr_candidate *b = best_cand(r);
	struct kaslr_vmci v = { 0 };
	int ok;

	*what_ret = "a minimal vmcoreinfo built from the result";
	ok = !kaslr_vmci_add_raw(&v, "OSRELEASE", r->vml.osrelease);
	if (r->vml.build_id[0])
		ok = ok && !kaslr_vmci_add_raw(&v, "BUILD-ID", r->vml.build_id);
	if (r->arch == &kaslr_arch_arm64) {
		char num[32];

		/* The lines arch/arm64's arch_crash_save_vmcoreinfo() writes, in its formats. */
		if (!r->have_a64) {
			snprintf(note, notelen, "PHYS_OFFSET and VA_BITS could not be read: %s", r->a64_err);
			return KASLR_NODATA;
		}
		snprintf(num, sizeof(num), "%d", 1 << r->a64.page_shift);
		ok = ok && !kaslr_vmci_add_raw(&v, "PAGESIZE", num);
		if (r->vml.stext)
			ok = ok && !kaslr_vmci_add_symbol(&v, "_stext", r->vml.stext + b->kernel_offset);
		ok = ok && !kaslr_vmci_add_symbol(&v, "swapper_pg_dir", r->vml.swapper_pg_dir + b->kernel_offset);
		ok = ok && !kaslr_vmci_add_number(&v, "VA_BITS", r->a64.va_bits);
		snprintf(num, sizeof(num), "0x%" PRIx64, (uint64_t)b->phys_base);
		ok = ok && !kaslr_vmci_add_raw(&v, "NUMBER(kimage_voffset)", num);
		snprintf(num, sizeof(num), "0x%" PRIx64, (uint64_t)r->a64.phys_offset);
		ok = ok && !kaslr_vmci_add_raw(&v, "NUMBER(PHYS_OFFSET)", num);
		snprintf(num, sizeof(num), "0x%x", 64 - r->a64.vabits_actual);
		ok = ok && !kaslr_vmci_add_raw(&v, "NUMBER(TCR_EL1_T1SZ)", num);
		ok = ok && !kaslr_vmci_add_kernel_offset(&v, b->kernel_offset);
	} else {
		ok = ok && !kaslr_vmci_add_raw(&v, "PAGESIZE", "4096");
		if (r->vml.stext)
			ok = ok && !kaslr_vmci_add_symbol(&v, "_stext", r->vml.stext + b->kernel_offset);
		if (r->vml.init_top_pgt)
			ok = ok && !kaslr_vmci_add_symbol(&v, "swapper_pg_dir", r->vml.init_top_pgt + b->kernel_offset);
		ok = ok && !kaslr_vmci_add_number(&v, "phys_base", b->phys_base);
		ok = ok && !kaslr_vmci_add_kernel_offset(&v, b->kernel_offset);
	}
	*text_ret = ok ? kaslr_vmci_format(&v) : NULL;
	kaslr_vmci_free(&v);
	if (!*text_ret) {
		snprintf(note, notelen, "out of memory building the vmcoreinfo");
		return KASLR_NOMEM;
	}
	note[0] = '\0';
	return KASLR_OK;
}

/*
 * The kernel's copy in RAM (the scan's copies, then vmcoreinfo_data) when
 * it agrees with the result, else the minimal one.  The dump's own note is
 * not looked at: it is reported beside the result instead ("dump's
 * VMCOREINFO note").  @returns 0, or -1 after printing why.
 */
static int
write_vmcoreinfo(struct run *r, const char *path)
{
	const struct kaslr_candidate *b = best_cand(r);
	struct kaslr_vmci_policy pol = {
		.sources = KASLR_VMCI_SRC_RAM,
		.build = minimal_vmcoreinfo,
		.build_priv = r,
	};
	struct kaslr_vmci_choice ch;
	char *text, why[KASLR_ERRLEN], err[KASLR_ERRLEN];

	if (!b) {
		fprintf(stderr, PROG ": not writing %s: no verified result to describe\n", path);
		return -1;
	}
	pol.copies = r->rep->vmci;
	pol.nr_copies = r->rep->nr_vmci;
	if (kaslr_vmci_source(&r->ctx, &r->vml, b, &pol, &text, &ch) != KASLR_OK) {
		fprintf(stderr, PROG ": %s\n", ch.line);
		return -1;
	}
	if (kaslr_write_text_file(path, text, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		free(text);
		return -1;
	}
	free(text);
	if (ch.from == KASLR_VMCI_FROM_RAM) {
		fprintf(stderr, PROG ": wrote %s: the kernel's own vmcoreinfo, read from RAM at 0x%" PRIx64 "\n",
			path, ch.paddr);
		return 0;
	}
	/* kaslr-find's own words for why RAM was passed over, as it has always said them. */
	if (ch.ram.why == KASLR_VMCI_DISAGREES)
		snprintf(why, sizeof(why), "the copy at 0x%" PRIx64 " is not this kernel's: %.400s", ch.ram.paddr,
			 ch.ram.detail);
	else
		snprintf(why, sizeof(why), "no in-RAM copy found");
	fprintf(stderr, PROG ": wrote %s: a minimal vmcoreinfo built from the result (%s)\n", path, why);
	return 0;
}

/* ==== --output-dump, --in-place, --restore ============================= */

/*
 * Write the verified vmcoreinfo into a copy of the dump (@out) or into the
 * dump itself (@out NULL).  The text is what --vmcoreinfo writes, but the
 * dump's own note comes first when it agrees: then the file is right
 * already, and in place there is nothing to change.  @returns 0, or -1
 * after saying why.
 */
static int
fix_dump(struct run *r, const char *out, int force, int verbose)
{
	const struct kaslr_candidate *b = best_cand(r);
	struct kaslr_vmci_policy pol = {
		.sources = KASLR_VMCI_SRC_NOTE | KASLR_VMCI_SRC_RAM,
		.build = minimal_vmcoreinfo,
		.build_priv = r,
	};
	struct kaslr_vmci_choice ch;
	struct kaslr_fix_in fix;
	char *text, msg[KASLR_ERRLEN + 256];
	enum kaslr_status st;
	double t0;

	if (!b) {
		fprintf(stderr, PROG ": not writing %s: no verified answer to write into it\n", out ? out : r->dump_arg);
		return -1;
	}
	pol.notes = r->dump.file->notes;
	pol.notes_len = r->dump.file->notes_len;
	pol.copies = r->rep->vmci;
	pol.nr_copies = r->rep->nr_vmci;
	if (kaslr_vmci_source(&r->ctx, &r->vml, b, &pol, &text, &ch) != KASLR_OK) {
		fprintf(stderr, PROG ": %s\n", ch.line);
		return -1;
	}
	if (!out && ch.from == KASLR_VMCI_FROM_NOTE) {
		fprintf(stderr, PROG ": %s: its VMCOREINFO note agrees with the verified answer: nothing to "
			"change\n", r->dump_arg);
		free(text);
		return 0;
	}
	fix.vmcoreinfo = text;
	fix.vmcoreinfo_len = strlen(text);
	/* The kdump sub-header's phys_base: x86_64's, or arm64's PHYS_OFFSET (as makedumpfile writes it). */
	fix.phys_base = r->arch == &kaslr_arch_x86_64 ? b->phys_base : r->have_a64 ? r->a64.phys_offset : 0;
	fix.banner = r->vml.banner;
	fix.banner_len = r->vml.banner_len;
	t0 = now();
	st = out ? kaslr_fix_copy(r->dump_arg, out, force, &fix, msg, sizeof(msg))
		 : kaslr_fix_in_place(r->dump_arg, &fix, msg, sizeof(msg));
	t0 = now() - t0;
	free(text);
	fprintf(stderr, PROG ": %s\n", msg);
	if (verbose && st == KASLR_OK)
		fprintf(stderr, PROG ": writing took %.3f s\n", t0);
	if (st != KASLR_OK)
		return -1;
	fprintf(stderr, PROG ": its vmcoreinfo: %s\n", ch.line);
	if (!out)
		fprintf(stderr, PROG ": undo with: " PROG " --restore %s\n", r->dump_arg);
	return 0;
}

/* ==== main ============================================================= */

static void
usage(FILE *f)
{
	int m;

	fprintf(f,
		"Usage: " PROG " [OPTIONS] VMLINUX DUMP\n"
		"       " PROG " --restore DUMP\n"
		"Recover the KASLR offset (KERNELOFFSET) and phys_base (x86_64) or kimage_voffset,\n"
		"PHYS_OFFSET and VA_BITS (arm64) of a kernel dump that lacks vmcoreinfo, verify them\n"
		"against VMLINUX, and print how to open the dump in crash.\n"
		"\n"
		"  -v, --verbose          print every candidate, the registers and the memory map\n"
		"  -j, --json             print one JSON object instead of text\n"
		"  -m, --method=LIST      use only these methods (comma-separated, repeatable):");
	for (m = KASLR_M_NONE + 1; m < KASLR_M_COUNT; m++)
		if (m != KASLR_M_MANUAL)	/* values given by hand: not a search */
			fprintf(f, "%s%s", m == KASLR_M_NONE + 1 ? "\n                         " : ", ",
				kaslr_method_name((enum kaslr_method)m));
	fprintf(f,
		"\n"
		"  -o, --vmcoreinfo=FILE  write the kernel's vmcoreinfo (from RAM, else a minimal one)\n"
		"  -O, --output-dump=OUT  write a copy of DUMP that carries the verified vmcoreinfo,\n"
		"                         so that crash, drgn and makedumpfile open it with no options\n"
		"      --in-place         make the same change to DUMP itself (undo: --restore)\n"
		"  -f, --force            let --output-dump replace an existing OUT\n"
		"      --reader=WHICH     auto (default), libkdumpfile or own (built-in reader)\n"
		"      --restore          undo --in-place on DUMP, byte for byte\n"
		"  -V, --version          print the version\n"
		"  -h, --help             print this help\n"
		"\n"
		"Exit status: 0 found and verified, 1 not found or not verified, 2 usage error or\n"
		"unreadable input.\n");
}

static int
parse_methods(const char *arg, unsigned *mask)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int ok = 1;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int m;

		if (!strcmp(tok, "all")) {
			*mask |= KASLR_METHODS_ALL;
			continue;
		}
		m = kaslr_method_from_name(tok);
		if (m <= KASLR_M_NONE) {
			fprintf(stderr, PROG ": unknown method '%s' (see --help for the list)\n", tok);
			ok = 0;
			break;
		}
		*mask |= KASLR_METHOD_BIT(m);
	}
	free(copy);
	return ok ? 0 : -1;
}

/* Values of the dump's own VMCOREINFO note, for comparison only. */
static void
note_values(struct run *r)
{
	struct kaslr_vmci v;
	char err[160];

	if (!r->dump.notes.vmcoreinfo ||
	    kaslr_vmci_parse(r->dump.notes.vmcoreinfo, r->dump.notes.vmcoreinfo_len, &v, err, sizeof(err)) !=
		    KASLR_OK)
		return;
	r->has_note_values = kaslr_vmci_kernel_offset(&v, &r->note_offset) == 0 &&
			     kaslr_vmci_placement(&v, &r->note_phys_base) == 0;
	kaslr_vmci_free(&v);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "method", required_argument, NULL, 'm' },
		{ "vmcoreinfo", required_argument, NULL, 'o' },
		{ "reader", required_argument, NULL, 'R' },
		{ "output-dump", required_argument, NULL, 'O' },
		{ "in-place", no_argument, NULL, 'I' },
		{ "restore", no_argument, NULL, 'U' },
		{ "force", no_argument, NULL, 'f' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r;
	char err[KASLR_ERRLEN + 256];
	const char *vmci_out = NULL, *dump_out = NULL;
	int in_place = 0, restore = 0, force = 0;
	unsigned methods = 0;
	enum reader reader = READER_AUTO;
	int verbose = 0, json = 0, c, rc;
	uint64_t missing;
	double t0;

	memset(&r, 0, sizeof(r));
	while ((c = getopt_long(argc, argv, "vjm:o:O:fVh", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'm':
			if (parse_methods(optarg, &methods) < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			vmci_out = optarg;
			break;
		case 'O':
			dump_out = optarg;
			break;
		case 'I':
			in_place = 1;
			break;
		case 'U':
			restore = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'R':
			if (!strcmp(optarg, "auto"))
				reader = READER_AUTO;
			else if (!strcmp(optarg, "libkdumpfile"))
				reader = READER_LIBKDUMPFILE;
			else if (!strcmp(optarg, "own") || !strcmp(optarg, "built-in"))
				reader = READER_OWN;
			else {
				fprintf(stderr, PROG ": --reader takes auto, libkdumpfile or own, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'V':
			printf(PROG " " KASLR_VERSION "\n");
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (restore) {
		char msg[KASLR_ERRLEN];
		enum kaslr_status st;

		if (argc - optind != 1 || dump_out || in_place || vmci_out) {
			fprintf(stderr, PROG ": --restore takes one argument, the DUMP, and no other option\n");
			return EXIT_USAGE;
		}
		t0 = now();
		st = kaslr_fix_restore(argv[optind], msg, sizeof(msg));
		fprintf(stderr, PROG ": %s\n", msg);
		if (verbose && st == KASLR_OK)
			fprintf(stderr, PROG ": restoring took %.3f s\n", now() - t0);
		return st == KASLR_OK ? 0 : st == KASLR_NODATA ? EXIT_USAGE : EXIT_NOTFOUND;
	}
	if (dump_out && in_place) {
		fprintf(stderr, PROG ": --output-dump and --in-place exclude each other\n");
		return EXIT_USAGE;
	}
	if (force && !dump_out) {
		fprintf(stderr, PROG ": --force only applies to --output-dump\n");
		return EXIT_USAGE;
	}
	if (argc - optind != 2) {
		fprintf(stderr, PROG ": need exactly two arguments, VMLINUX and DUMP (see --help)\n");
		return EXIT_USAGE;
	}
	if (!methods)
		methods = KASLR_METHODS_ALL;
	r.vmlinux_arg = argv[optind];
	r.dump_arg = argv[optind + 1];

	if (kaslr_vmlinux_open(r.vmlinux_arg, &r.vml, err, sizeof(err)) != KASLR_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_USAGE;
	}
	if (dump_open(&r.dump, r.dump_arg, reader, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		kaslr_vmlinux_close(&r.vml);
		return EXIT_USAGE;
	}
	r.arch = kaslr_arch_of(&r.vml);
	if (r.dump.file->machine && r.dump.file->machine != r.vml.machine) {
		fprintf(stderr, PROG ": %s is an %s kernel but %s is an %s dump: give the vmlinux of the dumped "
			"kernel\n", r.vmlinux_arg, r.arch->name, r.dump_arg,
			r.dump.file->machine == EM_AARCH64 ? "arm64" : r.dump.file->machine == EM_X86_64 ? "x86_64"
												: "unknown");
		rc = EXIT_USAGE;
		goto out;
	}
	dump_regs(&r.dump);
	note_values(&r);
	if (!strcmp(r.dump.file->format, "ELF") && (missing = kaslr_dump_missing(r.dump.file)))
		fprintf(stderr, PROG ": warning: %s is truncated: %" PRIu64 " MiB of the memory its headers "
			"describe is missing (an incomplete copy?)\n", r.dump_arg, (missing + (1 << 20) - 1) >> 20);
	r.dump.progress_tty = isatty(STDERR_FILENO);

	r.ctx.read_phys = dump_read_phys;
	r.ctx.priv = &r.dump;
	r.ctx.ranges = r.dump.file->ranges;
	r.ctx.nr_ranges = r.dump.file->nr_ranges;
	r.ctx.progress = dump_progress;
	if (!(r.rep = calloc(1, sizeof(*r.rep)))) {
		fprintf(stderr, PROG ": out of memory\n");
		rc = EXIT_USAGE;
		goto out;
	}
	t0 = r.dump.progress_t0 = now();
	r.status = kaslr_find(&r.ctx, &r.vml, r.dump.regs, r.dump.nr_cpus, methods, r.rep);
	r.seconds = now() - t0;
	progress_done(&r.dump);
	if (r.status == KASLR_OK && r.rep->best < 0) {
		snprintf(r.ctx.err, sizeof(r.ctx.err), "no verified candidate");
		r.status = KASLR_NOTFOUND;
	}
	if (r.status != KASLR_OK) {
		if (!r.ctx.err[0])
			snprintf(r.ctx.err, sizeof(r.ctx.err), "%s", kaslr_status_name(r.status));
		if (kaslr_dump_unsupported(r.dump.file))
			snprintf(err, sizeof(err), "%s (pages compressed with %s are beyond the built-in "
				 "reader: run makedumpfile -R to unflatten the dump)", r.ctx.err,
				 kaslr_dump_unsupported(r.dump.file));
		else
			snprintf(err, sizeof(err), "%s", r.ctx.err);
		r.error = err;
	}
	if (r.status == KASLR_OK && r.arch == &kaslr_arch_arm64) {
		r.have_a64 = kaslr_arm64_values(&r.ctx, &r.vml, &r.rep->cand[r.rep->best], &r.a64) == KASLR_OK;
		if (!r.have_a64)
			snprintf(r.a64_err, sizeof(r.a64_err), "%s", r.ctx.err);
	}
	rc = r.status == KASLR_OK ? EXIT_FOUND : r.status == KASLR_NOMEM ? EXIT_USAGE : EXIT_NOTFOUND;

	if (json)
		print_json(&r);
	else
		print_human(&r, verbose);
	fflush(stdout);
	if (r.error)
		fprintf(stderr, PROG ": %s\n", r.error);
	if (vmci_out && write_vmcoreinfo(&r, vmci_out) < 0 && rc == EXIT_FOUND)
		rc = EXIT_NOTFOUND;
	if ((dump_out || in_place) && fix_dump(&r, dump_out, force, verbose) < 0 && rc == EXIT_FOUND)
		rc = EXIT_NOTFOUND;
out:
	free(r.rep);
	dump_close(&r.dump);
	kaslr_vmlinux_close(&r.vml);
	return rc;
}
