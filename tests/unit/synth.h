/*
 * synth.h - synthetic guest physical memory for the unit tests
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A sparse image of 4 KiB pages (pages never written read as zeros inside
 * the ranges, reads outside fail), helpers that build x86_64 page tables
 * (4/5 levels, 1G/2M/4K leaves, PTI pairs, SME C-bit), a fake vmlinux with
 * a kernel placed at a random KASLR offset and phys_base, an IDT, and
 * vmcoreinfo pages.  Tests compute what they expect from what they built.
 */
#ifndef KASLR_SYNTH_H
#define KASLR_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "kaslr_core.h"

#define SYNTH_4K 0x1000ULL
#define SYNTH_2M 0x200000ULL
#define SYNTH_1G 0x40000000ULL

struct synth_page {
	uint64_t pfn;
	unsigned char *data;
};

struct synth {
	struct synth_page *pages;	/* open-addressing hash on pfn */
	size_t cap, n;
	struct kaslr_range ranges[16];
	int nr_ranges;
	uint64_t next_table;		/* bump allocator for table pages */
	uint64_t table_end;
	uint64_t sme_mask;		/* C-bit written into every entry */
	unsigned long reads, bad_reads, cross_page_reads;
	/*
	 * Piece reads (page-aligned, longer than a page: the scans' 1 MiB
	 * reads) are served, and counted here, unless refuse_pieces is set:
	 * then they fail, as on a dump with a page missing in the piece.
	 */
	unsigned long piece_reads;
	int refuse_pieces;
};

void synth_init(struct synth *s);
void synth_free(struct synth *s);
void synth_add_range(struct synth *s, uint64_t start, uint64_t end);
/* Where synth_alloc_table takes pages from: [start, end). */
void synth_table_area(struct synth *s, uint64_t start, uint64_t end);

void synth_write(struct synth *s, uint64_t paddr, const void *data, size_t len);
void synth_write_u64(struct synth *s, uint64_t paddr, uint64_t val);
uint64_t synth_read_u64(struct synth *s, uint64_t paddr);
/* kaslr_read_phys_fn over the image; @priv is the struct synth. */
int synth_read_phys(void *priv, uint64_t paddr, void *buf, size_t len);
/* A context reading this image with its ranges. */
void synth_ctx(struct synth *s, struct kaslr_ctx *ctx);

uint64_t synth_alloc_table(struct synth *s);
/* Top-level table; with @pti an 8 KiB-aligned pair (user half at +4 KiB). */
uint64_t synth_pt_new(struct synth *s, int pti);
/* Map [va, va+size) to pa with one leaf of @size (4K, 2M or 1G) below @root. */
void synth_map(struct synth *s, uint64_t root, int levels, uint64_t va, uint64_t pa, uint64_t size);
/* Map a range with leaves of @leaf size (va, pa, len aligned to it). */
void synth_map_range(struct synth *s, uint64_t root, int levels, uint64_t va, uint64_t pa, uint64_t len,
		     uint64_t leaf);
/* Write a raw entry at @level for @va (creating the tables above it). */
void synth_set_entry(struct synth *s, uint64_t root, int levels, uint64_t va, int level, uint64_t entry);

/* Deterministic PRNG (xorshift64*). */
uint64_t synth_rand(uint64_t *state);
uint64_t synth_rand_range(uint64_t *state, uint64_t lo, uint64_t hi);	/* [lo, hi) */
/* Seed: $KASLR_TEST_SEED or time; printed as "# seed N". */
uint64_t synth_seed(const char *prog);

/* ---- a fake kernel ---- */

#define SYNTH_IMAGE_SIZE (32ULL << 20)	/* mapped bytes from _text */

struct synth_kernel {
	struct kaslr_vmlinux vml;
	char banner[256];
	uint64_t offset;		/* KERNELOFFSET */
	int64_t phys_base;
	uint64_t text_pa;		/* physical _text */
	uint64_t page_offset;		/* direct map base */
	uint64_t ram;			/* RAM size ([0, ram) in the dump) */
	int levels;
};

/* Link-time values of a plausible 6.1 vmlinux, banner for @release. */
void synth_vmlinux(struct synth_kernel *k, const char *release);
/*
 * Choose a random offset and physical load address (phys_base may be
 * negative), write the banner, page_offset_base and the IDT page contents.
 */
void synth_kernel_place(struct synth *s, struct synth_kernel *k, uint64_t *rnd);
/* Write the vmlinux's relocation probes as relocated by k->offset (done by the place functions). */
void synth_kernel_relocate(struct synth *s, struct synth_kernel *k);
/* Relocation probes synth_vmlinux gives (struct kaslr_vmlinux.reloc). */
#define SYNTH_RELOC 8
/* Put the kernel at given values instead. */
void synth_kernel_place_at(struct synth *s, struct synth_kernel *k, uint64_t offset, uint64_t text_pa);
/* Standard memory: [0, 640K) and [1M, ram); tables at the top 16 MiB. */
void synth_memory(struct synth *s, struct synth_kernel *k, uint64_t ram);
/* Map the image with @leaf pages (4K maps the first 2 MiB with PTEs, the rest 2M). */
void synth_kernel_map(struct synth *s, struct synth_kernel *k, uint64_t root, uint64_t leaf);
/* Direct map of RAM with 1 GiB pages. */
void synth_directmap(struct synth *s, struct synth_kernel *k, uint64_t root);
/* Map the cpu_entry_area IDT alias 0xfffffe0000000000 to idt_table's page. */
#define SYNTH_IDT_ALIAS 0xfffffe0000000000ULL
void synth_idt_map(struct synth *s, struct synth_kernel *k, uint64_t root);
/* Write gate 0 (type 0xE, present) pointing at @handler into idt_table's page. */
void synth_idt_gate(struct synth *s, struct synth_kernel *k, uint64_t handler, uint8_t type_attr);
/* Physical address of a link-time kernel VA. */
uint64_t synth_kpa(const struct synth_kernel *k, uint64_t link_va);

/* vmcoreinfo text for given values (malloc'ed). */
char *synth_vmci_text(const struct synth_kernel *k, uint64_t offset, int64_t phys_base);
/* The kernel's vmcoreinfo_data page at @page_pa + pointer and size variables. */
void synth_vmci_install(struct synth *s, struct synth_kernel *k, uint64_t page_pa);
/* A vmcoreinfo_note-style page (ELF note header + text) at @page_pa. */
void synth_vmci_note_page(struct synth *s, uint64_t page_pa, const char *text);

/* CPU registers for a root table. */
void synth_regs(struct kaslr_cpu_regs *r, int cpu, uint64_t cr3, int levels);

#endif /* KASLR_SYNTH_H */
