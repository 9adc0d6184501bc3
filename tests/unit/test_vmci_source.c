/*
 * test_vmci_source.c - which vmcoreinfo "kaslr -D" and "kaslr-find
 * --vmcoreinfo" pass on (core/vmci_source.c)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "unit.h"
#include "vmcoreinfo.h"
#include "core/vmci_source.h"

/* A random page in [1 MiB, 16 MiB): below every kernel placement and table. */
static uint64_t low_page(uint64_t *rnd)
{
	return synth_rand_range(rnd, 0x100, 0x1000) * SYNTH_4K;
}

/* A note segment with one VMCOREINFO note holding @text (malloc'ed, *len_ret bytes). */
static unsigned char *note_segment(const char *text, size_t *len_ret)
{
	uint32_t hdr[3] = { 11, (uint32_t)strlen(text), 0 };
	size_t len = 12 + 12 + ((strlen(text) + 3) & ~(size_t)3);
	unsigned char *buf = calloc(1, len);

	if (!buf)
		abort();
	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + 12, "VMCOREINFO", 11);
	memcpy(buf + 24, text, strlen(text));
	*len_ret = len;
	return buf;
}

static int builds;

static enum kaslr_status build_ok(void *priv, char **text_ret, const char **what_ret, char *note, size_t notelen)
{
	(void)priv;
	builds++;
	*what_ret = "built here";
	*text_ret = strdup("OSRELEASE=built\n");
	snprintf(note, notelen, "%s", "");
	return *text_ret ? KASLR_OK : KASLR_NOMEM;
}

static enum kaslr_status build_fails(void *priv, char **text_ret, const char **what_ret, char *note,
				     size_t notelen)
{
	(void)priv;
	builds++;
	*what_ret = "never";
	*text_ret = NULL;
	snprintf(note, notelen, "cannot build: %s", "no debug information");
	return KASLR_NOTFOUND;
}

/* The case's candidate: the kernel's true values. */
static void truth(const struct fx *f, struct kaslr_candidate *c)
{
	memset(c, 0, sizeof(*c));
	c->kernel_offset = f->k.offset;
	c->phys_base = f->k.phys_base;
	c->levels = f->k.levels;
	c->status = KASLR_OK;
}

/* Note first, then RAM, then the builder; each copy only when it agrees. */
static int t_order(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_policy pol = { KASLR_VMCI_SRC_NOTE | KASLR_VMCI_SRC_RAM, NULL, 0, NULL, 0, build_ok, NULL };
	struct kaslr_vmci_choice ch;
	struct kaslr_candidate c;
	struct fx f;
	uint64_t page = low_page(rnd);
	unsigned char *seg = NULL;
	char *good = NULL, *bad = NULL, *text = NULL, want[KASLR_ERRLEN];
	size_t seglen;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_vmci_install(&f.s, &f.k, page);
	truth(&f, &c);
	good = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	bad = synth_vmci_text(&f.k, f.k.offset + SYNTH_2M, f.k.phys_base - SYNTH_2M);

	/* The dump's note agrees. */
	seg = note_segment(good, &seglen);
	pol.notes = seg;
	pol.notes_len = seglen;
	builds = 0;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.from != KASLR_VMCI_FROM_NOTE || strcmp(text, good) || builds, "note: %s", ch.line);
	FAIL_IF(strcmp(ch.line, "the dump's own VMCOREINFO note"), "note line: %s", ch.line);
	free(text);
	text = NULL;
	free(seg);

	/* A note of other values is passed over, the copy in RAM taken. */
	seg = note_segment(bad, &seglen);
	pol.notes = seg;
	pol.notes_len = seglen;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.from != KASLR_VMCI_FROM_RAM || ch.paddr != page || strcmp(text, good) || builds,
		"bad note: %s", ch.line);
	FAIL_IF(ch.note.why != KASLR_VMCI_DISAGREES || !strstr(ch.note.detail, "KERNELOFFSET"), "note why %d %s",
		ch.note.why, ch.note.detail);
	snprintf(want, sizeof(want), "the kernel's own copy in RAM at physical %" PRIx64
		 " (the dump's VMCOREINFO note is not this kernel's: %.300s)", page, ch.note.detail);
	FAIL_IF(strcmp(ch.line, want), "line %s", ch.line);
	free(text);
	text = NULL;

	/* No note, and RAM holds other values: the builder, and both reasons. */
	pol.notes = NULL;
	pol.notes_len = 0;
	synth_write(&f.s, page, bad, strlen(bad) + 1);
	synth_write_u64(&f.s, synth_kpa(&f.k, f.k.vml.vmcoreinfo_size), strlen(bad));
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.from != KASLR_VMCI_FROM_BUILD || builds != 1 || strcmp(text, "OSRELEASE=built\n"),
		"build: %s", ch.line);
	FAIL_IF(ch.note.why != KASLR_VMCI_ABSENT || ch.ram.why != KASLR_VMCI_DISAGREES || ch.ram.paddr != page,
		"why %d %d", ch.note.why, ch.ram.why);
	snprintf(want, sizeof(want), "built here (no VMCOREINFO note in the dump; the copy in RAM at physical %"
		 PRIx64 " is not this kernel's: %.300s)", page, ch.ram.detail);
	FAIL_IF(strcmp(ch.line, want), "line %s", ch.line);
	free(text);
	text = NULL;

	/* Nothing readable in RAM. */
	f.k.vml.vmcoreinfo_data = 0;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.ram.why != KASLR_VMCI_UNREADABLE || !strstr(ch.line, "; no readable copy in RAM: "),
		"unreadable: %s", ch.line);
	free(text);
	text = NULL;

	/* Forced: the builder only. */
	pol.sources = 0;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		strcmp(ch.line, "built here (forced)"), "forced: %s", ch.line);
	free(text);
	text = NULL;

	/* A builder that fails: its status, its line, no text. */
	pol.build = build_fails;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_NOTFOUND || text ||
		ch.from != KASLR_VMCI_FROM_NONE || strcmp(ch.line, "cannot build: no debug information"),
		"failing builder: %s", ch.line);
out:
	free(text);
	free(seg);
	free(good);
	free(bad);
	fx_free(&f);
	return ret;
}

/* The scan's copies come before vmcoreinfo_data; one that disagrees is the reason if nothing agrees. */
static int t_copies(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_policy pol = { KASLR_VMCI_SRC_RAM, NULL, 0, NULL, 0, build_ok, NULL };
	struct kaslr_vmci_copy copy;
	struct kaslr_vmci_choice ch;
	struct kaslr_candidate c;
	struct fx f;
	uint64_t page = low_page(rnd), other = page + 16 * SYNTH_4K;
	char *good = NULL, *text = NULL, *p;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	synth_vmci_install(&f.s, &f.k, page);
	truth(&f, &c);
	good = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);

	memset(&copy, 0, sizeof(copy));
	copy.paddr = other + 24;
	copy.len = strlen(good);
	copy.verified = copy.has_offset = copy.has_phys_base = 1;
	copy.kernel_offset = c.kernel_offset;
	copy.phys_base = c.phys_base;
	pol.copies = &copy;
	pol.nr_copies = 1;

	/* The copy agrees: it is taken, vmcoreinfo_data not needed. */
	synth_vmci_note_page(&f.s, other, good);
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.from != KASLR_VMCI_FROM_RAM || ch.paddr != copy.paddr || strcmp(text, good), "copy: %s",
		ch.line);
	free(text);
	text = NULL;

	/* The copy is another build: vmcoreinfo_data is taken. */
	p = strstr(good, "BUILD-ID=") + 9;
	*p = *p == 'a' ? 'b' : 'a';
	synth_vmci_note_page(&f.s, other, good);
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.from != KASLR_VMCI_FROM_RAM || ch.paddr != page || ch.ram.why != KASLR_VMCI_NOT_TRIED,
		"data: %s", ch.line);
	free(text);
	text = NULL;

	/* And without vmcoreinfo_data the copy's disagreement is the reason. */
	f.k.vml.vmcoreinfo_data = 0;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.from != KASLR_VMCI_FROM_BUILD || ch.ram.why != KASLR_VMCI_DISAGREES ||
		ch.ram.paddr != copy.paddr || !strstr(ch.ram.detail, "BUILD-ID"), "reason: %s", ch.line);
	free(text);
	text = NULL;

	/* A copy with other values is not even read. */
	copy.kernel_offset += SYNTH_2M;
	FAIL_IF(kaslr_vmci_source(&f.ctx, &f.k.vml, &c, &pol, &text, &ch) != KASLR_OK ||
		ch.ram.why != KASLR_VMCI_UNREADABLE, "other values: %s", ch.line);
out:
	free(text);
	free(good);
	fx_free(&f);
	return ret;
}

/* The note on its own: agrees, missing, of other values, cut short. */
static int t_note_check(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_passed p;
	struct kaslr_candidate c;
	struct fx f;
	unsigned char *seg = NULL;
	char *good = NULL, *bad = NULL;
	size_t seglen;
	int ret = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	truth(&f, &c);
	good = synth_vmci_text(&f.k, f.k.offset, f.k.phys_base);
	bad = synth_vmci_text(&f.k, f.k.offset + SYNTH_2M, f.k.phys_base - SYNTH_2M);

	seg = note_segment(good, &seglen);
	FAIL_IF(kaslr_vmci_note_check(seg, seglen, &f.k.vml, &c, &p) != 1 || p.why != KASLR_VMCI_NOT_TRIED,
		"good note: %d %s", p.why, p.detail);
	/* A note segment cut inside the note's header (core/notes.h: corrupt). */
	FAIL_IF(kaslr_vmci_note_check(seg, 8, &f.k.vml, &c, &p) != 0 || p.why != KASLR_VMCI_UNREADABLE,
		"cut note: %d", p.why);
	free(seg);
	seg = note_segment(bad, &seglen);
	FAIL_IF(kaslr_vmci_note_check(seg, seglen, &f.k.vml, &c, &p) != 0 || p.why != KASLR_VMCI_DISAGREES ||
		!strstr(p.detail, "KERNELOFFSET"), "bad note: %d %s", p.why, p.detail);
	FAIL_IF(kaslr_vmci_note_check(NULL, 0, &f.k.vml, &c, &p) != 0 || p.why != KASLR_VMCI_ABSENT,
		"no note: %d", p.why);
out:
	free(seg);
	free(good);
	free(bad);
	fx_free(&f);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_vmci_source");

	unit_run("vmci-source-order", t_order, &rnd);
	unit_run("vmci-source-copies", t_copies, &rnd);
	unit_run("vmci-source-note-check", t_note_check, &rnd);
	TAP_EXIT();
}
