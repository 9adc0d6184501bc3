/*
 * test_vmcoreinfo_rebuild.c - finding a VMCOREINFO note, and rebuilding one
 * from type information (kaslr -D sources 1 and 3)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The rebuild is driven here by a fake kernel: tables of symbols, types,
 * members, enumerators and array variables, and a synthetic physical memory
 * holding the few variables the kernel prints by value, placed at a random
 * KERNELOFFSET and phys_base.  Each case builds one kernel generation
 * (4.19-, 6.1- and 6.12-like, 4- and 5-level) and checks the lines whose
 * presence or value depends on the generation.
 */
#include "unit.h"
#include "vmcoreinfo.h"
#include "core/vmci_rebuild.h"

/* ---- the fake kernel ---- */

struct fk_sym {
	const char *name;
	uint64_t link;
};

struct fk_type {
	const char *type;
	uint64_t size;
};

struct fk_member {
	const char *type, *member;
	uint64_t offset;
	uint64_t length;	/* elements if an array member, else 0 */
};

struct fk_enum {
	const char *tag, *name;
	int64_t value;
};

struct fk_array {
	const char *name;
	uint64_t length;
};

#define FK_MAX 160

struct fk {
	struct fk_sym sym[FK_MAX];
	struct fk_type type[FK_MAX];
	struct fk_member member[FK_MAX];
	struct fk_enum en[FK_MAX];
	struct fk_array array[8];
	int nsym, ntype, nmember, nen, narray;
	struct synth s;
	uint64_t offset;
	int64_t phys_base;
	int nskipped;
};

static void fk_sym(struct fk *f, const char *name, uint64_t link)
{
	f->sym[f->nsym].name = name;
	f->sym[f->nsym++].link = link;
}

static void fk_type(struct fk *f, const char *type, uint64_t size)
{
	f->type[f->ntype].type = type;
	f->type[f->ntype++].size = size;
}

static void fk_member(struct fk *f, const char *type, const char *member, uint64_t off, uint64_t len)
{
	struct fk_member *m = &f->member[f->nmember++];

	m->type = type;
	m->member = member;
	m->offset = off;
	m->length = len;
}

static void fk_enum(struct fk *f, const char *tag, const char *name, int64_t value)
{
	f->en[f->nen].tag = tag;
	f->en[f->nen].name = name;
	f->en[f->nen++].value = value;
}

static void fk_array(struct fk *f, const char *name, uint64_t length)
{
	f->array[f->narray].name = name;
	f->array[f->narray++].length = length;
}

/* Where a kernel-image variable lies in physical memory under the placement. */
static uint64_t fk_paddr(const struct fk *f, uint64_t link)
{
	return link + f->offset - START_KERNEL_MAP + (uint64_t)f->phys_base;
}

static void fk_poke(struct fk *f, uint64_t link, const void *data, size_t len)
{
	synth_write(&f->s, fk_paddr(f, link), data, len);
}

static void fk_poke64(struct fk *f, uint64_t link, uint64_t v)
{
	fk_poke(f, link, &v, sizeof(v));
}

static int fk_op_symbol(void *priv, const char *name, uint64_t *value_ret)
{
	struct fk *f = priv;
	int i;

	for (i = 0; i < f->nsym; i++)
		if (!strcmp(f->sym[i].name, name)) {
			*value_ret = f->sym[i].link;
			return 0;
		}
	return -1;
}

static int fk_op_type_size(void *priv, const char *type, uint64_t *size_ret)
{
	struct fk *f = priv;
	int i;

	for (i = 0; i < f->ntype; i++)
		if (!strcmp(f->type[i].type, type)) {
			*size_ret = f->type[i].size;
			return 0;
		}
	return -1;
}

static const struct fk_member *fk_find_member(const struct fk *f, const char *type, const char *member)
{
	int i;

	for (i = 0; i < f->nmember; i++)
		if (!strcmp(f->member[i].type, type) && !strcmp(f->member[i].member, member))
			return &f->member[i];
	return NULL;
}

static int fk_op_member_offset(void *priv, const char *type, const char *member, uint64_t *off_ret)
{
	const struct fk_member *m = fk_find_member(priv, type, member);

	if (!m)
		return -1;
	*off_ret = m->offset;
	return 0;
}

static int fk_op_array_length(void *priv, const char *type, const char *member, uint64_t *len_ret)
{
	struct fk *f = priv;
	int i;

	if (type) {
		const struct fk_member *m = fk_find_member(f, type, member);

		if (!m || !m->length)
			return -1;
		*len_ret = m->length;
		return 0;
	}
	for (i = 0; i < f->narray; i++)
		if (!strcmp(f->array[i].name, member)) {
			*len_ret = f->array[i].length;
			return 0;
		}
	return -1;
}

static int fk_op_enumerator(void *priv, const char *tag, const char *name, int64_t *value_ret)
{
	struct fk *f = priv;
	int i;

	for (i = 0; i < f->nen; i++)
		if (!strcmp(f->en[i].name, name)) {
			if (strcmp(f->en[i].tag, tag))
				return -1;
			*value_ret = f->en[i].value;
			return 0;
		}
	return -1;
}

static int fk_op_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct fk *f = priv;

	return synth_read_phys(&f->s, paddr, buf, len);
}

static void fk_op_skipped(void *priv, const char *key, const char *why)
{
	struct fk *f = priv;

	(void)key;
	(void)why;
	f->nskipped++;
}

static const struct kaslr_typeinfo_ops fk_ops = {
	.symbol = fk_op_symbol,
	.type_size = fk_op_type_size,
	.member_offset = fk_op_member_offset,
	.array_length = fk_op_array_length,
	.enumerator = fk_op_enumerator,
	.read_phys = fk_op_read_phys,
	.skipped = fk_op_skipped,
};

enum fk_gen {
	FK_4_19,	/* log_buf printk, page_type macros, no BUILD-ID, no kallsyms lines */
	FK_6_1,		/* prb printk, PG_slab flag, HUGETLB_PAGE_DTOR, vmap_area_list */
	FK_6_12,	/* PGTY_ page types, VMALLOC_START, vmemmap */
};

#define FK_UTS_LINK	0xffffffff82613440ULL
#define FK_MEMSEC_LINK	0xffffffff82eb2000ULL
#define FK_VMALLOC_LINK	0xffffffff8260c010ULL
#define FK_VMEMMAP_LINK	0xffffffff8260c018ULL
#define FK_PB_LINK	0xffffffff8260c020ULL
#define FK_SME_LINK	0xffffffff8260c028ULL
#define FK_L5_LINK	0xffffffff8260c030ULL
#define FK_NODE_STATES	0xffffffff82a3b400ULL
#define FK_MEMSEC_PTR	0xffff8a68dfeb2000ULL
#define FK_VMALLOC_BASE	0xffffd12840000000ULL
#define FK_VMEMMAP_BASE	0xfffff7fb00000000ULL

/*
 * A kernel of generation @gen at a random placement.  @l5 sets
 * __pgtable_l5_enabled in memory; @sme a memory-encryption mask.
 */
static void fk_build(struct fk *f, uint64_t *rnd, enum fk_gen gen, int l5, uint64_t sme, const char *release)
{
	char rel[65];
	uint32_t l5v = (uint32_t)l5;

	memset(f, 0, sizeof(*f));
	synth_init(&f->s);
	f->offset = synth_rand_range(rnd, 1, 0x1f0) * SYNTH_2M;
	/* Negative or positive (both occur), never placing the image below 16 MiB. */
	f->phys_base = (int64_t)(synth_rand_range(rnd, 0, f->offset / SYNTH_2M + 0x80) * SYNTH_2M) -
		       (int64_t)f->offset;
	synth_add_range(&f->s, fk_paddr(f, 0xffffffff81000000ULL), fk_paddr(f, 0xffffffff83000000ULL));

	fk_sym(f, "_stext", 0xffffffff81000000ULL);
	fk_sym(f, "init_uts_ns", FK_UTS_LINK);
	fk_sym(f, "node_states", FK_NODE_STATES);
	fk_sym(f, "init_top_pgt", 0xffffffff8260a000ULL);
	fk_sym(f, "mem_section", FK_MEMSEC_LINK);
	fk_sym(f, "phys_base", FK_PB_LINK);
	fk_sym(f, "sme_me_mask", FK_SME_LINK);
	fk_sym(f, "__pgtable_l5_enabled", FK_L5_LINK);
	fk_sym(f, "node_data", 0xffffffff82a368e0ULL);
	fk_sym(f, "vmemmap_populate", 0xffffffff81f00000ULL);
	fk_sym(f, "kaslr_get_random_long", 0xffffffff81f10000ULL);
	fk_sym(f, "kallsyms_names", 0xffffffff82175590ULL);
	fk_sym(f, "kallsyms_num_syms", 0xffffffff82175588ULL);
	fk_sym(f, "kallsyms_token_table", 0xffffffff822c9d08ULL);
	fk_sym(f, "kallsyms_token_index", 0xffffffff822ca0a0ULL);
	fk_sym(f, "kallsyms_offsets", 0xffffffff821200b0ULL);
	fk_sym(f, "kallsyms_relative_base", 0xffffffff82175580ULL);
	fk_array(f, "node_data", 1024);

	fk_type(f, "nodemask_t", 128);
	fk_type(f, "struct mem_section", 16);
	fk_type(f, "struct page", 64);
	fk_type(f, "struct pglist_data", 174208);
	fk_type(f, "struct zone", 1536);
	fk_type(f, "struct free_area", 88);
	fk_type(f, "struct list_head", 16);
	/* Before 5.11 a kref preceded name. */
	fk_member(f, "struct uts_namespace", "name", gen == FK_4_19 ? 4 : 0, 0);
	if (gen == FK_4_19)
		fk_member(f, "struct uts_namespace", "kref", 0, 0);
	fk_member(f, "struct new_utsname", "release", 130, 65);
	fk_member(f, "struct mem_section", "section_mem_map", 0, 0);
	fk_member(f, "struct page", "flags", 0, 0);
	fk_member(f, "struct page", "_refcount", 52, 0);
	fk_member(f, "struct page", "mapping", 24, 0);
	fk_member(f, "struct page", "lru", 8, 0);
	fk_member(f, "struct page", "_mapcount", 48, 0);
	fk_member(f, "struct page", "private", 40, 0);
	fk_member(f, "struct page", "compound_head", 8, 0);
	fk_member(f, "struct page", "page_type", 48, 0);
	fk_member(f, "struct pglist_data", "node_zones", 0, 5);
	fk_member(f, "struct zone", "free_area", 256, 11);
	fk_member(f, "struct free_area", "free_list", 0, 5);
	fk_member(f, "struct list_head", "next", 0, 0);
	fk_member(f, "struct list_head", "prev", 8, 0);
	fk_enum(f, "node_states", "N_POSSIBLE", 0);
	fk_enum(f, "node_states", "N_ONLINE", 1);
	fk_enum(f, "zone_stat_item", "NR_FREE_PAGES", 0);
	fk_enum(f, "pageflags", "PG_lru", gen == FK_6_12 ? 5 : 4);
	fk_enum(f, "pageflags", "PG_head", gen == FK_6_12 ? 6 : 16);

	switch (gen) {
	case FK_4_19:
		fk_sym(f, "log_buf", 0xffffffff82662200ULL);
		fk_sym(f, "log_buf_len", 0xffffffff82662208ULL);
		fk_sym(f, "log_first_idx", 0xffffffff82f00000ULL);
		fk_sym(f, "clear_idx", 0xffffffff82f00004ULL);
		fk_sym(f, "log_next_idx", 0xffffffff82f00008ULL);
		fk_sym(f, "vmap_area_list", 0xffffffff82f5a230ULL);
		fk_type(f, "struct printk_log", 16);
		fk_member(f, "struct printk_log", "ts_nsec", 0, 0);
		fk_member(f, "struct vmap_area", "va_start", 0, 0);
		fk_member(f, "struct vmap_area", "list", 40, 0);
		fk_enum(f, "pageflags", "PG_slab", 7);
		fk_enum(f, "compound_dtor_id", "HUGETLB_PAGE_DTOR", 2);
		break;
	case FK_6_1:
		fk_sym(f, "log_buf", 0xffffffff82662200ULL);	/* still there with prb */
		fk_sym(f, "prb", 0xffffffff826622c0ULL);
		fk_sym(f, "printk_rb_static", 0xffffffff826622e0ULL);
		fk_sym(f, "clear_seq", 0xffffffff82f16480ULL);
		fk_sym(f, "vmap_area_list", 0xffffffff82f5a230ULL);
		fk_type(f, "struct printk_ringbuffer", 88);
		fk_type(f, "atomic_long_t", 8);
		fk_type(f, "struct latched_seq", 24);
		fk_type(f, "struct dev_printk_info", 64);
		fk_member(f, "atomic_long_t", "counter", 0, 0);
		fk_member(f, "struct dev_printk_info", "subsystem", 0, 16);
		fk_member(f, "struct page", "compound_dtor", 16, 0);
		fk_member(f, "struct page", "compound_order", 17, 0);
		fk_member(f, "struct vmap_area", "va_start", 0, 0);
		fk_member(f, "struct vmap_area", "list", 40, 0);
		fk_enum(f, "pageflags", "PG_slab", 9);
		fk_enum(f, "compound_dtor_id", "HUGETLB_PAGE_DTOR", 2);
		break;
	case FK_6_12:
		fk_sym(f, "prb", 0xffffffff826622c0ULL);
		fk_sym(f, "vmalloc_base", FK_VMALLOC_LINK);
		fk_sym(f, "vmemmap_base", FK_VMEMMAP_LINK);
		fk_type(f, "atomic_long_t", 8);
		/* struct vmap_area keeps its members after vmap_area_list went away. */
		fk_member(f, "struct vmap_area", "va_start", 0, 0);
		fk_member(f, "struct vmap_area", "list", 40, 0);
		fk_member(f, "struct zone", "unaccepted_pages", 1400, 0);
		fk_enum(f, "pageflags", "PG_hwpoison", 20);
		fk_enum(f, "pagetype", "PGTY_buddy", 0xf0);
		fk_enum(f, "pagetype", "PGTY_offline", 0xf1);
		fk_enum(f, "pagetype", "PGTY_hugetlb", 0xf4);
		fk_enum(f, "pagetype", "PGTY_slab", 0xf5);
		fk_enum(f, "pagetype", "PGTY_unaccepted", 0xf7);
		fk_poke64(f, FK_VMALLOC_LINK, FK_VMALLOC_BASE);
		fk_poke64(f, FK_VMEMMAP_LINK, FK_VMEMMAP_BASE);
		break;
	}
	memset(rel, 0, sizeof(rel));
	snprintf(rel, sizeof(rel), "%s", release);
	fk_poke(f, FK_UTS_LINK + (gen == FK_4_19 ? 4 : 0) + 130, rel, sizeof(rel));
	fk_poke64(f, FK_MEMSEC_LINK, FK_MEMSEC_PTR);
	fk_poke64(f, FK_PB_LINK, (uint64_t)f->phys_base);
	fk_poke64(f, FK_SME_LINK, sme);
	fk_poke(f, FK_L5_LINK, &l5v, sizeof(l5v));
}

static void fk_free(struct fk *f)
{
	synth_free(&f->s);
}

static enum kaslr_status fk_rebuild(struct fk *f, int levels, struct kaslr_vmci *v, char *err, size_t errlen)
{
	struct kaslr_vmci_rebuild_in in;

	memset(&in, 0, sizeof(in));
	in.kernel_offset = f->offset;
	in.phys_base = f->phys_base;
	in.levels = levels;
	in.osrelease = "vmlinux-release";
	in.build_id = "3b43fad5034874490492495d552c0af6a5fab235";
	return kaslr_vmci_rebuild(&fk_ops, f, &in, v, err, errlen);
}

/* Value of @key, "" when absent (to compare with strcmp). */
static const char *get(const struct kaslr_vmci *v, const char *key)
{
	const char *s = kaslr_vmci_get(v, key);

	return s ? s : "";
}

static int index_of(const struct kaslr_vmci *v, const char *key)
{
	int i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->e[i].key, key))
			return i;
	return -1;
}

#define WANT(key, want)                                                                        \
	FAIL_IF(strcmp(get(&v, key), want), "%s=\"%s\", want \"%s\"", key, get(&v, key), want)
#define ABSENT(key) FAIL_IF(kaslr_vmci_get(&v, key), "%s present (%s)", key, get(&v, key))

static char *hex(char *buf, uint64_t v)
{
	sprintf(buf, "%" PRIx64, v);
	return buf;
}

/* ---- cases ---- */

/* A VMCOREINFO note among CORE and QEMU notes; none; a record running past the end. */
static int t_from_notes(uint64_t *rnd, char *why, size_t whylen)
{
	unsigned char buf[512];
	size_t off = 0;
	char *text = NULL;
	uint32_t h[3];
	const char body[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
	int ret = 0, k, vmci_at = (int)synth_rand_range(rnd, 0, 3);

	memset(buf, 0, sizeof(buf));
	for (k = 0; k < 3; k++) {
		if (k == vmci_at) {
			h[0] = 11;
			h[1] = sizeof(body) - 1;
			h[2] = 0;
			memcpy(buf + off, h, 12);
			memcpy(buf + off + 12, "VMCOREINFO", 11);
			memcpy(buf + off + 24, body, sizeof(body) - 1);
			off += 24 + ((sizeof(body) - 1 + 3) & ~3UL);
		}
		h[0] = 5;
		h[1] = 13 + k;	/* odd sizes: padding must be honoured */
		h[2] = 1;
		memcpy(buf + off, h, 12);
		memcpy(buf + off + 12, k & 1 ? "QEMU" : "CORE", 5);
		off += 12 + 8 + ((13 + k + 3) & ~3UL);
	}
	FAIL_IF(kaslr_vmci_from_notes(buf, off, &text) != KASLR_OK || !text || strcmp(text, body),
		"note at %d not found", vmci_at);
	free(text);
	text = NULL;
	/* The same notes with the VMCOREINFO name changed: not there. */
	for (k = 0; k + 10 <= (int)off; k++)
		if (!memcmp(buf + k, "VMCOREINFO", 10))
			buf[k] = 'X';
	FAIL_IF(kaslr_vmci_from_notes(buf, off, &text) != KASLR_NODATA || text, "renamed note found");
	FAIL_IF(kaslr_vmci_from_notes(NULL, 0, &text) != KASLR_NODATA, "NULL notes");
	/* A descriptor size running past the segment. */
	h[0] = 11;
	h[1] = 4096;
	h[2] = 0;
	memcpy(buf, h, 12);
	memcpy(buf + 12, "VMCOREINFO", 11);
	FAIL_IF(kaslr_vmci_from_notes(buf, 64, &text) != KASLR_CORRUPT || text, "overrun accepted");
out:
	free(text);
	return ret;
}

/* 6.1: vmap_area_list, PG_slab, HUGETLB_PAGE_DTOR, page_type macros, pointer mem_section. */
static int t_rebuild_6_1(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci v, p;
	struct fk f;
	char err[512], b[32], *text = NULL;
	uint64_t u;
	int64_t n;
	int ret = 0;

	memset(&v, 0, sizeof(v));
	memset(&p, 0, sizeof(p));
	fk_build(&f, rnd, FK_6_1, 0, 0, "6.1.0-56-cloud-amd64");
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	FAIL_IF(err[0], "warning: %s", err);
	FAIL_IF(v.n < 3 || strcmp(v.e[0].key, "OSRELEASE") || strcmp(v.e[1].key, "BUILD-ID") ||
		strcmp(v.e[2].key, "PAGESIZE"), "does not start OSRELEASE, BUILD-ID, PAGESIZE");
	WANT("OSRELEASE", "6.1.0-56-cloud-amd64");
	WANT("OFFSET(uts_namespace.name)", "0");
	WANT("SYMBOL(_stext)", hex(b, 0xffffffff81000000ULL + f.offset));
	WANT("SYMBOL(swapper_pg_dir)", hex(b, 0xffffffff8260a000ULL + f.offset));
	WANT("SYMBOL(init_top_pgt)", hex(b, 0xffffffff8260a000ULL + f.offset));
	WANT("SYMBOL(node_online_map)", hex(b, FK_NODE_STATES + 128 + f.offset));
	WANT("SYMBOL(vmap_area_list)", hex(b, 0xffffffff82f5a230ULL + f.offset));
	ABSENT("NUMBER(VMALLOC_START)");
	ABSENT("SYMBOL(vmemmap)");
	WANT("SYMBOL(mem_section)", hex(b, FK_MEMSEC_PTR));
	WANT("LENGTH(mem_section)", "2048");
	WANT("NUMBER(SECTION_SIZE_BITS)", "27");
	WANT("NUMBER(MAX_PHYSMEM_BITS)", "46");
	WANT("OFFSET(page.compound_dtor)", "16");
	WANT("OFFSET(vmap_area.list)", "40");
	WANT("LENGTH(zone.free_area)", "11");
	ABSENT("SYMBOL(log_buf)");
	WANT("SYMBOL(prb)", hex(b, 0xffffffff826622c0ULL + f.offset));
	WANT("LENGTH(printk_info_subsystem)", "16");
	WANT("OFFSET(atomic_long_t.counter)", "0");
	WANT("NUMBER(PG_slab)", "9");
	ABSENT("NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)");
	ABSENT("NUMBER(PG_hwpoison)");
	WANT("NUMBER(PG_head_mask)", "65536");
	WANT("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "-129");
	WANT("NUMBER(HUGETLB_PAGE_DTOR)", "2");
	ABSENT("NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)");
	WANT("NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)", "-257");
	WANT("SYMBOL(kallsyms_relative_base)", hex(b, 0xffffffff82175580ULL + f.offset));
	ABSENT("SYMBOL(kallsyms_addresses)");
	WANT("LENGTH(node_data)", "1024");
	WANT("NUMBER(pgtable_l5_enabled)", "0");
	WANT("NUMBER(KERNEL_IMAGE_SIZE)", "1073741824");
	WANT("NUMBER(sme_mask)", "0");
	/* Emission order: the printk block sits between the two free_area lengths. */
	FAIL_IF(!(index_of(&v, "LENGTH(zone.free_area)") < index_of(&v, "SYMBOL(prb)") &&
		  index_of(&v, "SYMBOL(prb)") < index_of(&v, "LENGTH(free_area.free_list)") &&
		  index_of(&v, "NUMBER(phys_base)") < index_of(&v, "KERNELOFFSET")), "order");
	/* What is formatted parses back, with the placement. */
	text = kaslr_vmci_format(&v);
	FAIL_IF(!text || kaslr_vmci_parse(text, strlen(text), &p, err, sizeof(err)) != KASLR_OK, "%s", err);
	FAIL_IF(kaslr_vmci_kernel_offset(&p, &u) || u != f.offset, "KERNELOFFSET " X64, u);
	FAIL_IF(kaslr_vmci_placement(&p, &n) || n != f.phys_base, "phys_base %" PRId64, n);
	FAIL_IF(f.s.cross_page_reads, "%lu reads crossed a page", f.s.cross_page_reads);
out:
	free(text);
	kaslr_vmci_free(&v);
	kaslr_vmci_free(&p);
	fk_free(&f);
	return ret;
}

/* 6.12: VMALLOC_START and vmemmap read from memory, PGTY_ page types, no PG_slab flag. */
static int t_rebuild_6_12(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci v;
	struct fk f;
	char err[512], b[32];
	int ret = 0;

	memset(&v, 0, sizeof(v));
	fk_build(&f, rnd, FK_6_12, 0, 0, "6.12.117+deb13-cloud-amd64");
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	ABSENT("SYMBOL(vmap_area_list)");
	ABSENT("OFFSET(vmap_area.va_start)");
	WANT("NUMBER(VMALLOC_START)", "0xffffd12840000000");
	WANT("SYMBOL(vmemmap)", "fffff7fb00000000");
	FAIL_IF(index_of(&v, "SYMBOL(_stext)") + 1 != index_of(&v, "NUMBER(VMALLOC_START)"),
		"VMALLOC_START not right after _stext");
	ABSENT("OFFSET(page.compound_dtor)");
	ABSENT("NUMBER(PG_slab)");
	WANT("NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)", "-184549376");
	WANT("NUMBER(PG_hwpoison)", "20");
	WANT("NUMBER(PG_head_mask)", "64");
	WANT("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "-268435456");
	ABSENT("NUMBER(HUGETLB_PAGE_DTOR)");
	WANT("NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)", "-201326592");
	WANT("NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)", "-251658240");
	/* Added in 6.16: not on a 6.12 kernel even with CONFIG_UNACCEPTED_MEMORY. */
	ABSENT("NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)");
	WANT("SYMBOL(init_uts_ns)", hex(b, FK_UTS_LINK + f.offset));
	WANT("KERNELOFFSET", hex(b, f.offset));
	WANT("OFFSET(page.compound_head)", "8");
	ABSENT("OFFSET(page.compound_info)");
	/* 7.x: the member (and the line) is compound_info, in compound_head's place. */
	kaslr_vmci_free(&v);
	{
		int i;

		for (i = 0; i < f.nmember; i++)
			if (!strcmp(f.member[i].member, "compound_head"))
				f.member[i].member = "compound_info";
	}
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	ABSENT("OFFSET(page.compound_head)");
	WANT("OFFSET(page.compound_info)", "8");
	FAIL_IF(index_of(&v, "OFFSET(page.private)") + 1 != index_of(&v, "OFFSET(page.compound_info)"),
		"compound_info not right after page.private");
out:
	kaslr_vmci_free(&v);
	fk_free(&f);
	return ret;
}

/* 5-level paging, from CR4 or, with levels unknown, from __pgtable_l5_enabled; SME mask. */
static int t_rebuild_5level(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci v;
	struct fk f;
	char err[512], b[32];
	uint64_t sme = 1ULL << 47;
	int ret = 0, pass;

	memset(&v, 0, sizeof(v));
	fk_build(&f, rnd, FK_6_1, 1, sme, "6.1.0-56-cloud-amd64");
	for (pass = 0; pass < 2; pass++) {
		FAIL_IF(fk_rebuild(&f, pass ? 0 : 5, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
		WANT("NUMBER(pgtable_l5_enabled)", "1");
		WANT("NUMBER(MAX_PHYSMEM_BITS)", "52");
		/* 2^(52-27) sections, 256 per root. */
		WANT("LENGTH(mem_section)", "131072");
		WANT("NUMBER(sme_mask)", (sprintf(b, "%" PRId64, (int64_t)sme), b));
		kaslr_vmci_free(&v);
	}
	/* The 6.12 fallbacks without vmalloc_base/vmemmap_base follow the paging mode. */
	fk_free(&f);
	fk_build(&f, rnd, FK_6_12, 1, 0, "6.12.1");
	{
		int i, j = 0;

		for (i = 0; i < f.nsym; i++)
			if (strcmp(f.sym[i].name, "vmalloc_base") && strcmp(f.sym[i].name, "vmemmap_base"))
				f.sym[j++] = f.sym[i];
		f.nsym = j;
	}
	FAIL_IF(fk_rebuild(&f, 5, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	WANT("NUMBER(VMALLOC_START)", "0xffa0000000000000");
	WANT("SYMBOL(vmemmap)", "ffd4000000000000");
out:
	kaslr_vmci_free(&v);
	fk_free(&f);
	return ret;
}

/* 4.19: lines added later are left out even though their symbols exist. */
static int t_rebuild_4_19(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci v;
	struct fk f;
	char err[512], b[32];
	int ret = 0;

	memset(&v, 0, sizeof(v));
	fk_build(&f, rnd, FK_4_19, 0, 0, "4.19.0-27-cloud-amd64");
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	WANT("OSRELEASE", "4.19.0-27-cloud-amd64");
	ABSENT("BUILD-ID");
	ABSENT("OFFSET(uts_namespace.name)");
	ABSENT("NUMBER(SECTION_SIZE_BITS)");
	ABSENT("NUMBER(MAX_PHYSMEM_BITS)");
	ABSENT("SYMBOL(kallsyms_names)");
	ABSENT("NUMBER(sme_mask)");
	ABSENT("NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)");
	WANT("NUMBER(KERNEL_IMAGE_SIZE)", "1073741824");
	WANT("NUMBER(pgtable_l5_enabled)", "0");
	WANT("SYMBOL(log_buf)", hex(b, 0xffffffff82662200ULL + f.offset));
	WANT("SIZE(printk_log)", "16");
	ABSENT("SYMBOL(prb)");
	WANT("NUMBER(PG_slab)", "7");
	WANT("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "-129");
	WANT("SYMBOL(mem_section)", hex(b, FK_MEMSEC_PTR));
	/* Before page_type (4.18) the buddy value was the literal -128. */
	{
		int i, j = 0;

		kaslr_vmci_free(&v);
		for (i = 0; i < f.nmember; i++)
			if (strcmp(f.member[i].member, "page_type"))
				f.member[j++] = f.member[i];
		f.nmember = j;
	}
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	WANT("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "-128");
out:
	kaslr_vmci_free(&v);
	fk_free(&f);
	return ret;
}

/* Memory that contradicts the placement, memory that cannot be read, a vmlinux without symbols. */
static int t_rebuild_failures(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci v;
	struct fk f;
	char err[512];
	int ret = 0;

	memset(&v, 0, sizeof(v));
	fk_build(&f, rnd, FK_6_12, 0, 0, "6.12.1");
	fk_poke64(&f, FK_PB_LINK, (uint64_t)f.phys_base + SYNTH_2M);
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_CORRUPT || v.n || !strstr(err, "phys_base"),
		"contradicting phys_base accepted: %s", err);
	fk_free(&f);

	/* Nothing readable: OSRELEASE from the vmlinux, the variables printed by value left out. */
	fk_build(&f, rnd, FK_6_12, 0, 0, "6.12.1");
	f.s.nr_ranges = 0;
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	WANT("OSRELEASE", "vmlinux-release");
	ABSENT("SYMBOL(mem_section)");
	ABSENT("NUMBER(VMALLOC_START)");
	FAIL_IF(!strstr(err, "SYMBOL(mem_section)") || !strstr(err, "NUMBER(VMALLOC_START)"),
		"unreadable lines not reported: %s", err);
	WANT("NUMBER(phys_base)", (sprintf(err, "%" PRId64, f.phys_base), err));
	kaslr_vmci_free(&v);
	fk_free(&f);

	fk_build(&f, rnd, FK_6_1, 0, 0, "6.1.0");
	f.nsym = 0;
	FAIL_IF(fk_rebuild(&f, 4, &v, err, sizeof(err)) != KASLR_NOTFOUND || v.n || !err[0],
		"no symbols accepted");
out:
	kaslr_vmci_free(&v);
	fk_free(&f);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_vmcoreinfo_rebuild");

	unit_run("vmcoreinfo-from-notes", t_from_notes, &rnd);
	unit_run("vmcoreinfo-rebuild-6.1", t_rebuild_6_1, &rnd);
	unit_run("vmcoreinfo-rebuild-6.12", t_rebuild_6_12, &rnd);
	unit_run("vmcoreinfo-rebuild-5level-sme", t_rebuild_5level, &rnd);
	unit_run("vmcoreinfo-rebuild-4.19", t_rebuild_4_19, &rnd);
	unit_run("vmcoreinfo-rebuild-failures", t_rebuild_failures, &rnd);
	TAP_EXIT();
}
