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

#include "kaslr_find.h"

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
		kaslr_find_print_json(&r);
	else
		kaslr_find_print_human(&r, verbose);
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
