/*
 * unit.h - running randomized unit cases with tap.h
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A case is a function that builds its own synthetic memory from a PRNG,
 * computes what it expects from what it built, and reports the first
 * mismatch in @why.  unit_run() runs it KASLR_TEST_ROUNDS times (default 8)
 * with the PRNG carried on from the printed seed, and prints one PASS/FAIL.
 */
#ifndef KASLR_UNIT_H
#define KASLR_UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "synth.h"

typedef int (*unit_fn)(uint64_t *rnd, char *why, size_t whylen);

static inline int unit_rounds(void)
{
	const char *env = getenv("KASLR_TEST_ROUNDS");
	int n = env ? atoi(env) : 8;

	return n > 0 ? n : 8;
}

static inline void unit_run(const char *name, unit_fn fn, uint64_t *rnd)
{
	char why[1024];
	int round, rounds = unit_rounds();

	for (round = 0; round < rounds; round++) {
		why[0] = '\0';
		if (fn(rnd, why, sizeof(why))) {
			TAP_CHECK(name, 0, "%s (round %d)", why, round);
			return;
		}
	}
	TAP_CHECK(name, 1, "-");
}

/* Inside a case: record why and jump to the cleanup label "out". */
#define FAIL_IF(cond, ...)                                                      \
	do {                                                                    \
		if (cond) {                                                     \
			char tmp_[1024];                                        \
			snprintf(tmp_, sizeof(tmp_), __VA_ARGS__);              \
			snprintf(why, whylen, "%s", tmp_);                      \
			ret = -1;                                               \
			goto out;                                               \
		}                                                               \
	} while (0)

#define X64 "0x%" PRIx64

/* A standard guest: one kernel, its page tables, direct map and IDT. */
struct fx {
	struct synth s;
	struct synth_kernel k;
	struct kaslr_ctx ctx;
	uint64_t root;
	struct kaslr_cpu_regs regs;
};

static inline void fx_build(struct fx *f, uint64_t *rnd, int levels, int pti, uint64_t leaf)
{
	synth_init(&f->s);
	synth_vmlinux(&f->k, "6.1.0-26-cloud-amd64");
	f->k.levels = levels;
	f->k.vml.has_pti = pti;
	synth_memory(&f->s, &f->k, 256ULL << 20);
	if (leaf == SYNTH_1G) {
		/* A 1 GiB page maps the whole window from physical 0: phys_base 0. */
		uint64_t off = synth_rand_range(rnd, 0, ((256ULL << 20) - (64ULL << 20)) / SYNTH_2M) * SYNTH_2M;

		f->k.page_offset = 0xffff888000000000ULL + synth_rand_range(rnd, 0, 64) * SYNTH_1G;
		synth_kernel_place_at(&f->s, &f->k, off, f->k.vml.text - START_KERNEL_MAP + off);
	} else {
		synth_kernel_place(&f->s, &f->k, rnd);
	}
	f->root = synth_pt_new(&f->s, pti);
	synth_kernel_map(&f->s, &f->k, f->root, leaf);
	synth_directmap(&f->s, &f->k, f->root);
	synth_idt_map(&f->s, &f->k, f->root);
	synth_idt_gate(&f->s, &f->k, f->k.vml.divide_error + f->k.offset, 0x8e);
	synth_ctx(&f->s, &f->ctx);
	synth_regs(&f->regs, 0, f->root, levels);
}

static inline void fx_free(struct fx *f)
{
	synth_free(&f->s);
}

/* Common result check for a candidate against the fixture's truth. */
static inline int fx_cand_ok(const struct fx *f, const struct kaslr_candidate *c, char *why, size_t whylen)
{
	if (c->status != KASLR_OK) {
		snprintf(why, whylen, "status %s: %s / %s", kaslr_status_name(c->status), c->note,
			 f->ctx.err);
		return 0;
	}
	if (c->kernel_offset != f->k.offset || c->phys_base != f->k.phys_base) {
		snprintf(why, whylen, "got offset " X64 " phys_base %" PRId64 ", want " X64 " %" PRId64,
			 c->kernel_offset, c->phys_base, f->k.offset, f->k.phys_base);
		return 0;
	}
	if (f->s.cross_page_reads) {
		snprintf(why, whylen, "%lu reads crossed a 4 KiB page", f->s.cross_page_reads);
		return 0;
	}
	return 1;
}

#endif /* KASLR_UNIT_H */
