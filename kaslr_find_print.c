/*
 * kaslr_find_print.c - kaslr-find's output: the result as text or JSON
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kaslr_find.h"
#include "core/names.h"

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

static const char *const diag_kinds[] = {
	[KASLR_DIAG_NONE] = NULL,
	[KASLR_DIAG_EARLY_BOOT] = "early-boot",
	[KASLR_DIAG_WRONG_VMLINUX] = "wrong-vmlinux",
	[KASLR_DIAG_SAME_KERNEL] = "same-kernel",
	[KASLR_DIAG_NO_BANNER] = "no-banner",
};

/* The diagnosis of a failed search (core/diagnose.c), or null. */
static void
print_diag_json(FILE *f, const struct run *r)
{
	const struct kaslr_diagnosis *d = r->rep && r->status == KASLR_NOTFOUND ? &r->rep->diag : NULL;
	int k;

	if (!d || d->kind == KASLR_DIAG_NONE) {
		fputs("null", f);
		return;
	}
	fputs("{\"kind\": ", f);
	json_str(f, diag_kinds[d->kind]);
	fputs(", \"message\": ", f);
	json_str(f, d->msg);
	fputs(", \"vmlinux_banner_paddr\": ", f);
	if (d->vmlinux_banner_paddr)
		json_hex(f, d->vmlinux_banner_paddr);
	else
		fputs("null", f);
	fputs(", \"kernels\": [", f);
	for (k = 0; k < d->nr_kernels; k++) {
		const struct kaslr_diag_kernel *x = &d->kernels[k];

		fprintf(f, "%s{\"release\": ", k ? ", " : "");
		json_str(f, x->release);
		fprintf(f, ", \"banners\": %d, \"build_id\": ", x->banners);
		json_str(f, x->build_id[0] ? x->build_id : NULL);
		fputs(", \"build_id_from\": ", f);
		json_str(f, x->build_id_from[0] ? x->build_id_from : NULL);
		fputs(", \"debian_version\": ", f);
		json_str(f, x->debian_version[0] ? x->debian_version : NULL);
		fputs("}", f);
	}
	fputs("]}", f);
}

/* "  dump's kernel: ..." lines for another kernel than the vmlinux's. */
static void
print_diag_human(const struct run *r)
{
	const struct kaslr_diagnosis *d = r->rep ? &r->rep->diag : NULL;
	int k;

	if (!d || d->kind != KASLR_DIAG_WRONG_VMLINUX)
		return;
	for (k = 0; k < d->nr_kernels; k++) {
		const struct kaslr_diag_kernel *x = &d->kernels[k];

		printf("  dump's kernel: %s, build-id %s%s%s%s", x->release,
		       x->build_id[0] ? x->build_id : "not in the dump's memory", x->build_id_from[0] ? " from its " : "",
		       x->build_id_from, !strcmp(x->build_id_from, "vmcoreinfo") ? " in RAM" : "");
		if (x->banners)
			printf(" (banner at 0x%" PRIx64 ")", x->banner_paddr);
		printf("\n");
		printf("  its debug vmlinux: Debian package linux-image-%s-dbg%s%s\n", x->release,
		       x->debian_version[0] ? ", version " : "", x->debian_version);
	}
	printf("  vmlinux: %s, build-id %s\n", r->vml.osrelease, r->vml.build_id[0] ? r->vml.build_id : "none");
}

void
kaslr_find_print_json(const struct run *r)
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
	fputs(",\n  \"diagnosis\": ", f);
	print_diag_json(f, r);
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

void
kaslr_find_print_human(const struct run *r, int verbose)
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
		printf("  result: %s%s\n", r->status == KASLR_AMBIGUOUS ? "ambiguous" :
		       r->status == KASLR_NOTFOUND && rep && rep->diag.kind == KASLR_DIAG_EARLY_BOOT ?
		       "not found: the dump predates the kernel's relocation" :
		       r->status == KASLR_NOTFOUND && rep && rep->diag.kind == KASLR_DIAG_WRONG_VMLINUX ?
		       "not found: the dump holds another kernel" : "not found",
		       verbose ? "" : " (-v lists every candidate)");
		if (r->status == KASLR_NOTFOUND)
			print_diag_human(r);
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
