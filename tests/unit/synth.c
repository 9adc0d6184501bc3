/*
 * synth.c - synthetic guest physical memory for the unit tests
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synth.h"

#define ENTRY_FLAGS 0x63ULL	/* present, writable, accessed, dirty */
#define ENTRY_PS (1ULL << 7)

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "synth: out of memory\n");
		abort();
	}
	return p;
}

void synth_init(struct synth *s)
{
	memset(s, 0, sizeof(*s));
	s->cap = 1024;
	s->pages = xcalloc(s->cap, sizeof(*s->pages));
}

void synth_free(struct synth *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->pages[i].data);
	free(s->pages);
	memset(s, 0, sizeof(*s));
}

void synth_add_range(struct synth *s, uint64_t start, uint64_t end)
{
	int i = s->nr_ranges++;

	if (s->nr_ranges > (int)(sizeof(s->ranges) / sizeof(s->ranges[0])))
		abort();
	/* Keep sorted. */
	while (i > 0 && s->ranges[i - 1].start > start) {
		s->ranges[i] = s->ranges[i - 1];
		i--;
	}
	s->ranges[i].start = start;
	s->ranges[i].end = end;
}

void synth_table_area(struct synth *s, uint64_t start, uint64_t end)
{
	s->next_table = start;
	s->table_end = end;
}

static size_t slot_of(const struct synth *s, uint64_t pfn)
{
	return (size_t)((pfn * 0x9e3779b97f4a7c15ULL) >> 20) & (s->cap - 1);
}

static unsigned char *page_lookup(struct synth *s, uint64_t pfn)
{
	size_t i = slot_of(s, pfn);

	while (s->pages[i].data) {
		if (s->pages[i].pfn == pfn)
			return s->pages[i].data;
		i = (i + 1) & (s->cap - 1);
	}
	return NULL;
}

static unsigned char *page_get(struct synth *s, uint64_t pfn)
{
	unsigned char *d = page_lookup(s, pfn);
	size_t i;

	if (d)
		return d;
	if ((s->n + 1) * 2 > s->cap) {
		struct synth_page *old = s->pages;
		size_t oldcap = s->cap, j;

		s->cap *= 2;
		s->pages = xcalloc(s->cap, sizeof(*s->pages));
		for (j = 0; j < oldcap; j++) {
			if (!old[j].data)
				continue;
			i = slot_of(s, old[j].pfn);
			while (s->pages[i].data)
				i = (i + 1) & (s->cap - 1);
			s->pages[i] = old[j];
		}
		free(old);
	}
	i = slot_of(s, pfn);
	while (s->pages[i].data)
		i = (i + 1) & (s->cap - 1);
	s->pages[i].pfn = pfn;
	s->pages[i].data = xcalloc(1, SYNTH_4K);
	s->n++;
	return s->pages[i].data;
}

void synth_write(struct synth *s, uint64_t paddr, const void *data, size_t len)
{
	const unsigned char *in = data;

	while (len) {
		size_t off = paddr & (SYNTH_4K - 1), chunk = SYNTH_4K - off;

		if (chunk > len)
			chunk = len;
		memcpy(page_get(s, paddr >> 12) + off, in, chunk);
		paddr += chunk;
		in += chunk;
		len -= chunk;
	}
}

void synth_write_u64(struct synth *s, uint64_t paddr, uint64_t val)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(val >> (8 * i));
	synth_write(s, paddr, b, 8);
}

uint64_t synth_read_u64(struct synth *s, uint64_t paddr)
{
	unsigned char *d = page_lookup(s, paddr >> 12);
	uint64_t v = 0;
	int i;

	if (!d)
		return 0;
	for (i = 7; i >= 0; i--)
		v = v << 8 | d[(paddr & 0xfff) + (uint64_t)i];
	return v;
}

static int in_ranges(const struct synth *s, uint64_t start, uint64_t len)
{
	int i;

	for (i = 0; i < s->nr_ranges; i++)
		if (start >= s->ranges[i].start && start < s->ranges[i].end &&
		    len <= s->ranges[i].end - start)
			return 1;
	return 0;
}

int synth_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct synth *s = priv;
	unsigned char *d;

	s->reads++;
	if (!(paddr & (SYNTH_4K - 1)) && len > SYNTH_4K) {
		unsigned char *out = buf;
		size_t done;

		s->piece_reads++;
		if (s->refuse_pieces || !in_ranges(s, paddr, len))
			return -1;
		for (done = 0; done < len; done += SYNTH_4K) {
			size_t n = len - done < SYNTH_4K ? len - done : SYNTH_4K;

			d = page_lookup(s, (paddr + done) >> 12);
			if (d)
				memcpy(out + done, d, n);
			else
				memset(out + done, 0, n);
		}
		return 0;
	}
	if ((paddr & (SYNTH_4K - 1)) + len > SYNTH_4K) {
		s->cross_page_reads++;
		return -1;
	}
	if (!in_ranges(s, paddr, len)) {
		s->bad_reads++;
		return -1;
	}
	d = page_lookup(s, paddr >> 12);
	if (d)
		memcpy(buf, d + (paddr & (SYNTH_4K - 1)), len);
	else
		memset(buf, 0, len);
	return 0;
}

void synth_ctx(struct synth *s, struct kaslr_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->read_phys = synth_read_phys;
	ctx->priv = s;
	ctx->ranges = s->ranges;
	ctx->nr_ranges = s->nr_ranges;
}

uint64_t synth_alloc_table(struct synth *s)
{
	uint64_t pa = s->next_table;

	if (!pa || pa + SYNTH_4K > s->table_end) {
		fprintf(stderr, "synth: table area exhausted\n");
		abort();
	}
	s->next_table += SYNTH_4K;
	page_get(s, pa >> 12);
	return pa;
}

uint64_t synth_pt_new(struct synth *s, int pti)
{
	if (pti) {
		uint64_t pa;

		if (s->next_table & SYNTH_4K)
			synth_alloc_table(s);
		pa = synth_alloc_table(s);
		synth_alloc_table(s);
		return pa;
	}
	return synth_alloc_table(s);
}

/* Table at @level below @root for @va, created as needed; returns its paddr. */
static uint64_t table_for(struct synth *s, uint64_t root, int levels, uint64_t va, int level)
{
	uint64_t table = root;
	int l;

	for (l = levels; l > level; l--) {
		uint64_t eaddr = table + ((va >> (12 + 9 * (l - 1))) & 511) * 8;
		uint64_t e = synth_read_u64(s, eaddr);

		if (!(e & 1)) {
			uint64_t t = synth_alloc_table(s);

			e = t | s->sme_mask | ENTRY_FLAGS;
			synth_write_u64(s, eaddr, e);
		}
		table = e & 0x000ffffffffff000ULL & ~s->sme_mask;
	}
	return table;
}

void synth_set_entry(struct synth *s, uint64_t root, int levels, uint64_t va, int level, uint64_t entry)
{
	uint64_t table = table_for(s, root, levels, va, level);

	synth_write_u64(s, table + ((va >> (12 + 9 * (level - 1))) & 511) * 8, entry);
}

void synth_map(struct synth *s, uint64_t root, int levels, uint64_t va, uint64_t pa, uint64_t size)
{
	int level = size == SYNTH_1G ? 3 : size == SYNTH_2M ? 2 : 1;
	uint64_t e = pa | s->sme_mask | ENTRY_FLAGS | (level > 1 ? ENTRY_PS : 0);

	synth_set_entry(s, root, levels, va, level, e);
}

void synth_map_range(struct synth *s, uint64_t root, int levels, uint64_t va, uint64_t pa, uint64_t len,
		     uint64_t leaf)
{
	uint64_t o;

	for (o = 0; o < len; o += leaf)
		synth_map(s, root, levels, va + o, pa + o, leaf);
}

uint64_t synth_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x2545f4914f6cdd1dULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t synth_rand_range(uint64_t *state, uint64_t lo, uint64_t hi)
{
	return hi > lo ? lo + synth_rand(state) % (hi - lo) : lo;
}

uint64_t synth_seed(const char *prog)
{
	const char *env = getenv("KASLR_TEST_SEED");
	uint64_t seed;

	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		seed = ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid() ^ ((uint64_t)clock() << 40);
	printf("# %s: seed %" PRIu64 " (rerun with KASLR_TEST_SEED=%" PRIu64 ")\n", prog, seed, seed);
	return seed;
}

/* ---- fake kernel ---- */

void synth_vmlinux(struct synth_kernel *k, const char *release)
{
	struct kaslr_vmlinux *v = &k->vml;
	int i;

	memset(k, 0, sizeof(*k));
	v->text = 0xffffffff81000000ULL;
	v->stext = 0xffffffff81000000ULL;
	v->divide_error = 0xffffffff81e00a40ULL;
	v->linux_banner = 0xffffffff82000180ULL;
	v->idt_table = 0xffffffff82a0d000ULL;
	v->init_top_pgt = 0xffffffff82a0a000ULL;
	v->vmcoreinfo_data = 0xffffffff82b10008ULL;
	v->vmcoreinfo_size = 0xffffffff82b10010ULL;
	v->saved_command_line = 0xffffffff82b10020ULL;
	v->page_offset_base = 0xffffffff82b10030ULL;
	v->has_pti = 1;
	/* Relocation probes: pointers into the image, spread over a .rodata area. */
	for (i = 0; i < SYNTH_RELOC; i++) {
		v->reloc[i].vaddr = 0xffffffff82100000ULL + (uint64_t)i * 0x1238;
		v->reloc[i].value = v->text + 0x1000 + (uint64_t)i * 0x2a4c0;
	}
	v->nr_reloc = SYNTH_RELOC;
	snprintf(k->banner, sizeof(k->banner),
		 "Linux version %s (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, "
		 "GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 "
		 "(2024-09-30)\n", release);
	v->banner = k->banner;
	v->banner_len = strlen(k->banner);
	snprintf(v->osrelease, sizeof(v->osrelease), "%s", release);
	snprintf(v->build_id, sizeof(v->build_id), "0123456789abcdef0123456789abcdef01234567");
	k->levels = 4;
}

uint64_t synth_kpa(const struct synth_kernel *k, uint64_t link_va)
{
	return link_va + k->offset - START_KERNEL_MAP + (uint64_t)k->phys_base;
}

void synth_kernel_place_at(struct synth *s, struct synth_kernel *k, uint64_t offset, uint64_t text_pa)
{
	k->offset = offset;
	k->text_pa = text_pa;
	k->phys_base = (int64_t)(text_pa - (k->vml.text + offset - START_KERNEL_MAP));
	synth_write(s, synth_kpa(k, k->vml.linux_banner), k->banner, k->vml.banner_len + 1);
	synth_write_u64(s, synth_kpa(k, k->vml.page_offset_base), k->page_offset);
	synth_kernel_relocate(s, k);
}

void synth_kernel_relocate(struct synth *s, struct synth_kernel *k)
{
	int i;

	/* What handle_relocations() does to each probe: link value + offset. */
	for (i = 0; i < k->vml.nr_reloc; i++)
		synth_write_u64(s, synth_kpa(k, k->vml.reloc[i].vaddr), k->vml.reloc[i].value + k->offset);
}

void synth_kernel_place(struct synth *s, struct synth_kernel *k, uint64_t *rnd)
{
	/* _text + image must stay inside [START_KERNEL_MAP, +1 GiB). */
	uint64_t slots = (KERNEL_IMAGE_SIZE - (k->vml.text - START_KERNEL_MAP) - SYNTH_IMAGE_SIZE) / SYNTH_2M;
	uint64_t offset = synth_rand_range(rnd, 0, slots) * SYNTH_2M;
	uint64_t text_pa = synth_rand_range(rnd, 8, (k->ram - (64ULL << 20)) / SYNTH_2M) * SYNTH_2M;

	if (!k->page_offset)
		k->page_offset = 0xffff888000000000ULL + synth_rand_range(rnd, 0, 64) * SYNTH_1G;
	synth_kernel_place_at(s, k, offset, text_pa);
}

void synth_memory(struct synth *s, struct synth_kernel *k, uint64_t ram)
{
	k->ram = ram;
	synth_add_range(s, 0, 0xa0000);
	synth_add_range(s, 0x100000, ram);
	synth_table_area(s, ram - (16ULL << 20), ram);
}

void synth_kernel_map(struct synth *s, struct synth_kernel *k, uint64_t root, uint64_t leaf)
{
	uint64_t va = k->vml.text + k->offset;

	if (leaf == SYNTH_4K) {
		synth_map_range(s, root, k->levels, va, k->text_pa, SYNTH_2M, SYNTH_4K);
		synth_map_range(s, root, k->levels, va + SYNTH_2M, k->text_pa + SYNTH_2M,
				SYNTH_IMAGE_SIZE - SYNTH_2M, SYNTH_2M);
	} else if (leaf == SYNTH_1G) {
		/* One 1 GiB page can only map the whole window from START_KERNEL_MAP. */
		synth_map(s, root, k->levels, START_KERNEL_MAP, (uint64_t)k->phys_base, SYNTH_1G);
	} else {
		synth_map_range(s, root, k->levels, va, k->text_pa, SYNTH_IMAGE_SIZE, SYNTH_2M);
	}
}

void synth_directmap(struct synth *s, struct synth_kernel *k, uint64_t root)
{
	uint64_t len = (k->ram + SYNTH_1G - 1) & ~(SYNTH_1G - 1);

	synth_map_range(s, root, k->levels, k->page_offset, 0, len, SYNTH_1G);
}

void synth_idt_map(struct synth *s, struct synth_kernel *k, uint64_t root)
{
	synth_map(s, root, k->levels, SYNTH_IDT_ALIAS, synth_kpa(k, k->vml.idt_table), SYNTH_4K);
}

void synth_idt_gate(struct synth *s, struct synth_kernel *k, uint64_t handler, uint8_t type_attr)
{
	unsigned char g[16];

	memset(g, 0, sizeof(g));
	g[0] = handler & 0xff;
	g[1] = (handler >> 8) & 0xff;
	g[2] = 0x10;		/* __KERNEL_CS */
	g[5] = type_attr;
	g[6] = (handler >> 16) & 0xff;
	g[7] = (handler >> 24) & 0xff;
	g[8] = (handler >> 32) & 0xff;
	g[9] = (handler >> 40) & 0xff;
	g[10] = (handler >> 48) & 0xff;
	g[11] = (handler >> 56) & 0xff;
	synth_write(s, synth_kpa(k, k->vml.idt_table), g, sizeof(g));
}

char *synth_vmci_text(const struct synth_kernel *k, uint64_t offset, int64_t phys_base)
{
	char *t = malloc(4096);

	if (!t)
		abort();
	snprintf(t, 4096,
		 "OSRELEASE=%s\n"
		 "BUILD-ID=%s\n"
		 "PAGESIZE=4096\n"
		 "SYMBOL(init_uts_ns)=%" PRIx64 "\n"
		 "OFFSET(uts_namespace.name)=4\n"
		 "SYMBOL(swapper_pg_dir)=%" PRIx64 "\n"
		 "SYMBOL(_stext)=%" PRIx64 "\n"
		 "SIZE(page)=64\n"
		 "NUMBER(phys_base)=%" PRId64 "\n"
		 "SYMBOL(init_top_pgt)=%" PRIx64 "\n"
		 "NUMBER(pgtable_l5_enabled)=%d\n"
		 "KERNELOFFSET=%" PRIx64 "\n"
		 "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n"
		 "NUMBER(sme_mask)=0\n",
		 k->vml.osrelease, k->vml.build_id, (uint64_t)0xffffffff82a13000ULL + offset,
		 k->vml.init_top_pgt + offset, k->vml.stext + offset, phys_base,
		 k->vml.init_top_pgt + offset, k->levels == 5, offset);
	return t;
}

void synth_vmci_install(struct synth *s, struct synth_kernel *k, uint64_t page_pa)
{
	char *t = synth_vmci_text(k, k->offset, k->phys_base);

	synth_write(s, page_pa, t, strlen(t) + 1);
	synth_write_u64(s, synth_kpa(k, k->vml.vmcoreinfo_data), k->page_offset + page_pa);
	synth_write_u64(s, synth_kpa(k, k->vml.vmcoreinfo_size), strlen(t));
	free(t);
}

void synth_vmci_note_page(struct synth *s, uint64_t page_pa, const char *text)
{
	unsigned char hdr[24];
	uint32_t descsz = (uint32_t)strlen(text);
	int i;

	memset(hdr, 0, sizeof(hdr));
	for (i = 0; i < 4; i++) {
		hdr[i] = (unsigned char)(11 >> (8 * i));
		hdr[4 + i] = (unsigned char)(descsz >> (8 * i));
	}
	memcpy(hdr + 12, "VMCOREINFO", 11);
	synth_write(s, page_pa, hdr, sizeof(hdr));
	synth_write(s, page_pa + 24, text, descsz);
}

void synth_regs(struct kaslr_cpu_regs *r, int cpu, uint64_t cr3, int levels)
{
	memset(r, 0, sizeof(*r));
	r->cpu = cpu;
	r->cr0 = 0x80050033ULL;
	r->cr3 = cr3;
	r->cr4 = 0x3506f0ULL | (levels == 5 ? CR4_LA57 : 0);
	r->valid = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR;
	r->idtr_base = SYNTH_IDT_ALIAS;
	r->idtr_limit = 0xfff;
}
