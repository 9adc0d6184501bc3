/*
 * core/vmci_rebuild.c - the vmcoreinfo a kernel would have written, from its
 * type information
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The rebuild engine of "kaslr -D -R" and of "kaslr -D" when neither the
 * dump's note nor the kernel's copy in RAM can be passed on: one rule table
 * (below, kept whole: it is the record of which kernel emits which line and
 * why) walked against a struct kaslr_typeinfo_ops, which crash drives in
 * the module (crash/vmci_crash.c) and a fake drives in the unit tests.  The
 * text it produces goes through vmcoreinfo.c's codec.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "vmcoreinfo.h"
#include "core/vmci_rebuild.h"
#include "core/x86_64/constants.h"

/*
 * One table describes every line an x86_64 kernel writes into its
 * vmcoreinfo: crash_save_vmcoreinfo_init() (kernel/vmcore_info.c since 6.9,
 * kernel/crash_core.c before) including log_buf_vmcoreinfo_setup() of
 * kernel/printk/printk.c, then arch_crash_save_vmcoreinfo()
 * (arch/x86/kernel/vmcore_info_64.c since 6.9, crash_core_64.c before).
 * Entries are in emission order; where kernels replaced one key by another
 * the variants sit side by side and their conditions exclude each other.
 *
 * Whether a kernel emits a line is decided by construction wherever its
 * debug information can tell: a SYMBOL() needs the symbol, an OFFSET() the
 * member, a NUMBER() of an enumerator that enumerator of that very enum, a
 * SIZE() the type.  Only where a line was added by a code change that left
 * no trace in the types does an entry carry a "since" kernel version, with
 * the commit that added it.  Values the kernel computes from compile-time
 * macros, which DWARF does not record, are derived from the paging mode or
 * from kernel variables read through the verified placement, each with its
 * justification.
 */

/* Kernel version as a comparable number: KV(6, 9) for 6.9. */
#define KV(major, minor) ((unsigned)(major) << 8 | (unsigned)(minor))
#define KV_UNKNOWN KV(255, 255)

enum vmci_kind {
	VK_SYMBOL,	/* SYMBOL()=run-time address of symbol a (alternatives "x|y") */
	VK_SIZE,	/* SIZE()=sizeof(a) */
	VK_OFFSET,	/* OFFSET()=offsetof(a, b) */
	VK_LENGTH,	/* LENGTH()=elements of array member b of a (a NULL: of variable b) */
	VK_ENUM,	/* NUMBER()=enumerator b of enum a */
	VK_ENUM_BIT,	/* NUMBER()=1UL << enumerator b of enum a */
	VK_PAGE_TYPE,	/* NUMBER()=the _mapcount/page_type value of page type a */
	VK_SPECIAL,	/* value computed by the entry's function */
};

enum vmci_cond {
	VC_NONE,
	VC_SYMBOL,	/* symbol c exists */
	VC_NO_SYMBOL,	/* symbol c does not exist */
	VC_MEMBER,	/* member d of type c exists */
	VC_NO_MEMBER,	/* member d of type c does not exist */
};

struct vmci_build;
struct vmci_rule;

/* @returns 1 and the value text in @val, 0 when not emitted (b->why says why), -1 on error. */
typedef int (*vmci_special_fn)(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len);

struct vmci_rule {
	const char *key;	/* the full key, as the kernel prints it */
	enum vmci_kind kind;
	const char *a, *b;	/* operands, by kind */
	unsigned since;		/* KV() of the kernel that added the line; 0 when the types decide */
	enum vmci_cond cond;	/* further condition */
	const char *c, *d;
	vmci_special_fn fn;	/* VK_SPECIAL */
};

struct vmci_build {
	const struct kaslr_typeinfo_ops *ops;
	void *priv;
	const struct kaslr_vmci_rebuild_in *in;
	unsigned kver;		/* KV() of OSRELEASE */
	int levels;		/* 4 or 5 */
	char release[65];
	char why[160];		/* why the current entry is not emitted */
	char warn[512];		/* entries that should have been emitted but could not be computed */
	int nr_warn;
	enum kaslr_status fail;	/* set by a special on a hard error */
	char *err;
	size_t errlen;
};

static void vmci_why(struct vmci_build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vmci_why(struct vmci_build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
}

static int ti_symbol(struct vmci_build *b, const char *name, uint64_t *link_ret)
{
	return b->ops->symbol(b->priv, name, link_ret);
}

static int ti_size(struct vmci_build *b, const char *type, uint64_t *size_ret)
{
	return b->ops->type_size(b->priv, type, size_ret);
}

static int ti_offset(struct vmci_build *b, const char *type, const char *member, uint64_t *off_ret)
{
	return b->ops->member_offset(b->priv, type, member, off_ret);
}

static int ti_enum(struct vmci_build *b, const char *tag, const char *name, int64_t *val_ret)
{
	return b->ops->enumerator(b->priv, tag, name, val_ret);
}

/*
 * Read a kernel-image variable given its link-time address: the image is
 * mapped at run time at link + KERNELOFFSET, which __pa() turns into
 * link + KERNELOFFSET - __START_KERNEL_map + phys_base.  Reads are split at
 * 4 KiB pages, as kaslr_read_phys_fn asks.
 */
static int vmci_read_image(struct vmci_build *b, uint64_t link, void *buf, size_t len)
{
	uint64_t paddr = link + b->in->kernel_offset - START_KERNEL_MAP + (uint64_t)b->in->phys_base;
	unsigned char *out = buf;

	while (len) {
		size_t chunk = 4096 - (size_t)(paddr & 4095);

		if (chunk > len)
			chunk = len;
		if (b->ops->read_phys(b->priv, paddr, out, chunk))
			return -1;
		paddr += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}

/* Value of an unsigned long / u64 kernel variable; -1 if absent or unreadable (b->why). */
static int vmci_read_var64(struct vmci_build *b, const char *name, uint64_t *val_ret)
{
	uint64_t link;

	if (ti_symbol(b, name, &link)) {
		vmci_why(b, "no symbol %s", name);
		return -1;
	}
	if (vmci_read_image(b, link, val_ret, sizeof(*val_ret))) {
		vmci_why(b, "cannot read %s from the dump", name);
		return -1;
	}
	return 0;
}

static void fmt_dec(char *val, size_t len, int64_t v)
{
	snprintf(val, len, "%" PRId64, v);
}

static void fmt_udec(char *val, size_t len, uint64_t v)
{
	snprintf(val, len, "%" PRIu64, v);
}

static void fmt_hex(char *val, size_t len, uint64_t v)
{
	snprintf(val, len, "%" PRIx64, v);
}

/* ---- specials ---- */

/* BUILD-ID: VMCOREINFO_BUILD_ID() prints the vmlinux's 20-byte GNU build-id as 40 hex digits. */
static int sp_build_id(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	if (!b->in->build_id || strlen(b->in->build_id) != 40) {
		vmci_why(b, "the vmlinux has no GNU build-id note");
		return 0;
	}
	snprintf(val, len, "%s", b->in->build_id);
	return 1;
}

/* PAGESIZE: PAGE_SIZE, 4 KiB on x86_64 (arch/x86/include/asm/page_types.h, PAGE_SHIFT 12). */
static int sp_pagesize(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)b;
	(void)r;
	fmt_udec(val, len, 4096);
	return 1;
}

/*
 * SYMBOL(node_online_map): include/linux/nodemask.h defines node_online_map
 * as node_states[N_ONLINE] (since 2.6.23), so the kernel prints the address
 * of that element of the node_states array.
 */
static int sp_node_online_map(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t link, size;
	int64_t idx;

	(void)r;
	if (ti_symbol(b, "node_states", &link) || ti_enum(b, "node_states", "N_ONLINE", &idx) ||
	    ti_size(b, "nodemask_t", &size)) {
		vmci_why(b, "no node_states array, enum node_states or nodemask_t");
		return 0;
	}
	fmt_hex(val, len, link + b->in->kernel_offset + (uint64_t)idx * size);
	return 1;
}

/*
 * NUMBER(VMALLOC_START), printed "0x%lx" (not the %ld of other NUMBER()s):
 * on x86_64 VMALLOC_START is the variable vmalloc_base where the memory
 * layout is dynamic (CONFIG_DYNAMIC_MEMORY_LAYOUT, 4.17+), otherwise the
 * fixed __VMALLOC_BASE_L4/L5 of arch/x86/include/asm/pgtable_64_types.h.
 */
static int sp_vmalloc_start(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t v, link;

	(void)r;
	if (!ti_symbol(b, "vmalloc_base", &link)) {
		if (vmci_read_var64(b, "vmalloc_base", &v))
			return -2;
	} else {
		v = b->levels == 5 ? 0xffa0000000000000ULL : 0xffffc90000000000ULL;
	}
	snprintf(val, len, "0x%" PRIx64, v);
	return 1;
}

/*
 * SYMBOL(vmemmap): VMCOREINFO_SYMBOL_ARRAY(vmemmap) prints the value of the
 * macro vmemmap, (struct page *)VMEMMAP_START, which is the variable
 * vmemmap_base with a dynamic layout, else __VMEMMAP_BASE_L4/L5.
 */
static int sp_vmemmap(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t v, link;

	(void)r;
	if (!ti_symbol(b, "vmemmap_base", &link)) {
		if (vmci_read_var64(b, "vmemmap_base", &v))
			return -2;
	} else {
		v = b->levels == 5 ? 0xffd4000000000000ULL : 0xffffea0000000000ULL;
	}
	fmt_hex(val, len, v);
	return 1;
}

/*
 * SYMBOL(mem_section): VMCOREINFO_SYMBOL_ARRAY() prints (unsigned long)
 * mem_section, i.e. the array's address, or, with CONFIG_SPARSEMEM_EXTREME
 * where mem_section is a pointer (4.15+, 83e3c48729d9), the pointer's value
 * (a0b1280368d1 "kdump: write correct address of mem_section into
 * vmcoreinfo", 4.15; before it the pointer's own address was printed).
 */
static int sp_mem_section(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t link, n, v;

	(void)r;
	if (ti_symbol(b, "mem_section", &link)) {
		vmci_why(b, "no mem_section (not CONFIG_SPARSEMEM)");
		return 0;
	}
	if (!b->ops->array_length(b->priv, NULL, "mem_section", &n) || b->kver < KV(4, 15)) {
		fmt_hex(val, len, link + b->in->kernel_offset);
		return 1;
	}
	if (vmci_read_var64(b, "mem_section", &v))
		return -2;
	fmt_hex(val, len, v);
	return 1;
}

/* x86_64 SECTION_SIZE_BITS: 27 (128 MiB sections) in arch/x86/include/asm/sparsemem.h since 2.6.x. */
#define X86_64_SECTION_SIZE_BITS 27

/*
 * MAX_PHYSMEM_BITS (arch/x86/include/asm/sparsemem.h): 46 with 4-level
 * paging (since 2.6.35), 52 with 5-level; since 4.17 it is decided at boot,
 * pgtable_l5_enabled() ? 52 : 46, so it follows the dump's paging mode.
 */
static int x86_64_max_physmem_bits(const struct vmci_build *b)
{
	return b->levels == 5 ? 52 : 46;
}

static int sp_section_size_bits(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	(void)b;
	fmt_dec(val, len, X86_64_SECTION_SIZE_BITS);
	return 1;
}

static int sp_max_physmem_bits(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	fmt_dec(val, len, x86_64_max_physmem_bits(b));
	return 1;
}

/*
 * LENGTH(mem_section) = NR_SECTION_ROOTS (include/linux/mmzone.h): the
 * first dimension of the array, or, with CONFIG_SPARSEMEM_EXTREME,
 * DIV_ROUND_UP(NR_MEM_SECTIONS, SECTIONS_PER_ROOT) where NR_MEM_SECTIONS =
 * 1 << (MAX_PHYSMEM_BITS - SECTION_SIZE_BITS) and SECTIONS_PER_ROOT =
 * PAGE_SIZE / sizeof(struct mem_section).
 */
static int sp_nr_section_roots(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t n, size, sections, per_root;

	(void)r;
	if (!b->ops->array_length(b->priv, NULL, "mem_section", &n)) {
		fmt_udec(val, len, n);
		return 1;
	}
	if (ti_size(b, "struct mem_section", &size) || !size || size > 4096) {
		vmci_why(b, "no usable sizeof(struct mem_section)");
		return -2;
	}
	sections = 1ULL << (x86_64_max_physmem_bits(b) - X86_64_SECTION_SIZE_BITS);
	per_root = 4096 / size;
	fmt_udec(val, len, (sections + per_root - 1) / per_root);
	return 1;
}

/*
 * PAGE_*_MAPCOUNT_VALUE: what page->page_type (_mapcount before 4.18)
 * holds for a page of type @a.  Three encodings, told apart by the types:
 *  - 6.12+ (enum pagetype has PGTY_*: the type became the top byte of
 *    page_type): (PGTY_x << 24), an int shift into the sign bit, printed
 *    as long;
 *  - 6.9-6.11 (enum pagetype has PG_*; d99e3140a4d3 made the page types an
 *    enum): ~PG_x;
 *  - 4.18-6.8 (page.page_type exists, 6e292b9be7f4; the types are macros
 *    absent from DWARF): ~PG_buddy with PG_buddy 0x80, ~PG_offline with
 *    PG_offline 0x100 (5.0, ca215086b14b);
 *  - before 4.18: PAGE_BUDDY_MAPCOUNT_VALUE was the literal -128.
 * Before 6.9 PAGE_OFFLINE_MAPCOUNT_VALUE sat inside the #ifdef
 * CONFIG_HUGETLB_PAGE of HUGETLB_PAGE_DTOR/PG_hugetlb (d99e3140a4d3 moved
 * it out), so it is emitted only where one of those is.
 */
static int vmci_page_type(struct vmci_build *b, const char *type, int64_t *val_ret)
{
	char name[32];
	int64_t v;

	snprintf(name, sizeof(name), "PGTY_%s", type);
	if (!ti_enum(b, "pagetype", name, &v)) {
		*val_ret = (int32_t)((uint32_t)v << 24);
		return 1;
	}
	snprintf(name, sizeof(name), "PG_%s", type);
	if (!ti_enum(b, "pagetype", name, &v)) {
		*val_ret = ~v;
		return 1;
	}
	if (!strcmp(type, "buddy")) {
		uint64_t off;

		*val_ret = ti_offset(b, "struct page", "page_type", &off) ? -128 : ~(int64_t)0x80;
		return 1;
	}
	if (!strcmp(type, "offline") && b->kver >= KV(5, 0)) {
		if (!ti_enum(b, "compound_dtor_id", "HUGETLB_PAGE_DTOR", &v) ||
		    !ti_enum(b, "pageflags", "PG_hugetlb", &v)) {
			*val_ret = ~(int64_t)0x100;
			return 1;
		}
		vmci_why(b, "before 6.9 only emitted with CONFIG_HUGETLB_PAGE");
		return 0;
	}
	vmci_why(b, "no page type %s in enum pagetype", type);
	return 0;
}

/* NUMBER(phys_base): the kernel's phys_base variable (4.10+, 401721ecd1dc). */
static int sp_phys_base(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t v;

	(void)r;
	/* Read through the placement itself: it must give back the same phys_base. */
	if (!vmci_read_var64(b, "phys_base", &v) && (int64_t)v != b->in->phys_base) {
		snprintf(b->err, b->errlen,
			 "the dump's phys_base variable holds %" PRIx64 ", the verified phys_base is %" PRIx64
			 ": not rebuilding a vmcoreinfo from contradicting values",
			 v, (uint64_t)b->in->phys_base);
		b->fail = KASLR_CORRUPT;
		return -1;
	}
	fmt_dec(val, len, b->in->phys_base);
	return 1;
}

/* NUMBER(pgtable_l5_enabled): "%d" of pgtable_l5_enabled(), i.e. 5-level paging on (4.17+). */
static int sp_l5(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	fmt_dec(val, len, b->levels == 5);
	return 1;
}

/* KERNELOFFSET: "%lx" of kaslr_offset(). */
static int sp_kerneloffset(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	fmt_hex(val, len, b->in->kernel_offset);
	return 1;
}

/*
 * NUMBER(KERNEL_IMAGE_SIZE) (arch/x86/include/asm/page_64_types.h): 1 GiB
 * with CONFIG_RANDOMIZE_BASE, 512 MiB without.  A non-zero KERNELOFFSET
 * proves RANDOMIZE_BASE; with offset 0 (nokaslr) kaslr_get_random_long,
 * which only KASLR kernels link, tells.
 */
static int sp_kernel_image_size(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t link;

	(void)r;
	if (b->in->kernel_offset || !ti_symbol(b, "kaslr_get_random_long", &link))
		fmt_udec(val, len, KERNEL_IMAGE_SIZE);
	else
		fmt_udec(val, len, 512ULL << 20);
	return 1;
}

/*
 * NUMBER(sme_mask): the u64 sme_me_mask (CONFIG_AMD_MEM_ENCRYPT); without
 * that option sme_me_mask is the constant 0.
 */
static int sp_sme_mask(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t link, v = 0;

	(void)r;
	if (!ti_symbol(b, "sme_me_mask", &link) && vmci_read_var64(b, "sme_me_mask", &v))
		return -2;
	fmt_dec(val, len, (int64_t)v);
	return 1;
}

/*
 * ---- the table ----
 *
 * Kept as it was written when the engine moved out of vmcoreinfo.c: one
 * entry per line the kernel writes, in its order, each with the kernel
 * code (and commit, where a version decides) behind it.  A key a new
 * kernel adds is one entry here, not a new branch in the engine.
 */

#define SYM(key, sym) { key, VK_SYMBOL, sym, NULL, 0, VC_NONE, NULL, NULL, NULL }
#define SYM_IF(key, sym, cond, c) { key, VK_SYMBOL, sym, NULL, 0, cond, c, NULL, NULL }
#define SYM_SINCE(key, sym, kv) { key, VK_SYMBOL, sym, NULL, kv, VC_NONE, NULL, NULL, NULL }
#define SIZE(key, type) { key, VK_SIZE, type, NULL, 0, VC_NONE, NULL, NULL, NULL }
#define SIZE_IF(key, type, cond, c) { key, VK_SIZE, type, NULL, 0, cond, c, NULL, NULL }
#define OFF(key, type, member) { key, VK_OFFSET, type, member, 0, VC_NONE, NULL, NULL, NULL }
#define OFF_IF(key, type, member, cond, c) { key, VK_OFFSET, type, member, 0, cond, c, NULL, NULL }
#define LEN(key, type, member) { key, VK_LENGTH, type, member, 0, VC_NONE, NULL, NULL, NULL }
#define ENUM(key, tag, name) { key, VK_ENUM, tag, name, 0, VC_NONE, NULL, NULL, NULL }
#define ENUM_BIT(key, tag, name) { key, VK_ENUM_BIT, tag, name, 0, VC_NONE, NULL, NULL, NULL }
#define PTYPE(key, type) { key, VK_PAGE_TYPE, type, NULL, 0, VC_NONE, NULL, NULL, NULL }
#define SPECIAL(key, fn) { key, VK_SPECIAL, NULL, NULL, 0, VC_NONE, NULL, NULL, fn }
#define SPECIAL_IF(key, fn, kv, cond, c) { key, VK_SPECIAL, NULL, NULL, kv, cond, c, NULL, fn }

static const struct vmci_rule vmci_x86_64[] = {
	/* crash_save_vmcoreinfo_init(); OSRELEASE is handled before the walk. */
	/* BUILD-ID: 0935288c6e00 "kdump: append kernel build-id string to VMCOREINFO", 5.9. */
	SPECIAL_IF("BUILD-ID", sp_build_id, KV(5, 9), VC_NONE, NULL),
	SPECIAL("PAGESIZE", sp_pagesize),
	SYM("SYMBOL(init_uts_ns)", "init_uts_ns"),
	/*
	 * 55d9e11398a4 "kdump: append uts_namespace.name offset to VMCOREINFO"
	 * (5.11) followed 9a56493f6942 (5.11), which replaced the kref that
	 * used to precede name by ns_common's count: emitted exactly by the
	 * kernels whose uts_namespace has no kref.
	 */
	{ "OFFSET(uts_namespace.name)", VK_OFFSET, "struct uts_namespace", "name", 0, VC_NO_MEMBER,
	  "struct uts_namespace", "kref", NULL },
	SPECIAL("SYMBOL(node_online_map)", sp_node_online_map),
	/* x86_64 has no swapper_pg_dir symbol: the macro names init_top_pgt (init_level4_pgt < 4.13). */
	SYM("SYMBOL(swapper_pg_dir)", "swapper_pg_dir|init_top_pgt|init_level4_pgt"),
	SYM("SYMBOL(_stext)", "_stext"),
	SYM("SYMBOL(vmap_area_list)", "vmap_area_list"),
	/* 55c49fee57af "mm/vmalloc: remove vmap_area_list" (6.9) put this line in its place. */
	SPECIAL_IF("NUMBER(VMALLOC_START)", sp_vmalloc_start, KV(6, 9), VC_NO_SYMBOL, "vmap_area_list"),
	/* !CONFIG_NUMA: both symbols exist exactly then (mm/memory.c, mm/numa.c). */
	SYM("SYMBOL(mem_map)", "mem_map"),
	SYM("SYMBOL(contig_page_data)", "contig_page_data"),
	/*
	 * "crash: export vmemmap when CONFIG_SPARSEMEM_VMEMMAP is enabled"
	 * (Huang Shijie, 6.9); vmemmap_populate() is built exactly with
	 * CONFIG_SPARSEMEM_VMEMMAP.
	 */
	SPECIAL_IF("SYMBOL(vmemmap)", sp_vmemmap, KV(6, 9), VC_SYMBOL, "vmemmap_populate"),
	/* CONFIG_SPARSEMEM block: mem_section exists exactly then. */
	SPECIAL("SYMBOL(mem_section)", sp_mem_section),
	SPECIAL_IF("LENGTH(mem_section)", sp_nr_section_roots, 0, VC_SYMBOL, "mem_section"),
	SIZE_IF("SIZE(mem_section)", "struct mem_section", VC_SYMBOL, "mem_section"),
	OFF_IF("OFFSET(mem_section.section_mem_map)", "struct mem_section", "section_mem_map", VC_SYMBOL,
	       "mem_section"),
	/*
	 * 4f5aecdff25f "crash_core, vmcoreinfo: append 'SECTION_SIZE_BITS' to
	 * vmcoreinfo", 5.13, Cc: stable: 5.10.y has it too (Debian's 5.10.251
	 * does).  The release string does not carry the stable sublevel, so
	 * a 5.10.y from before the backport gets this one line too many.
	 */
	SPECIAL_IF("NUMBER(SECTION_SIZE_BITS)", sp_section_size_bits, KV(5, 10), VC_SYMBOL, "mem_section"),
	/* 1d50e5d0c505 "crash_core, vmcoreinfo: Append 'MAX_PHYSMEM_BITS'", 5.9. */
	SPECIAL_IF("NUMBER(MAX_PHYSMEM_BITS)", sp_max_physmem_bits, KV(5, 9), VC_SYMBOL, "mem_section"),
	SIZE("SIZE(page)", "struct page"),
	SIZE("SIZE(pglist_data)", "struct pglist_data"),
	SIZE("SIZE(zone)", "struct zone"),
	SIZE("SIZE(free_area)", "struct free_area"),
	SIZE("SIZE(list_head)", "struct list_head"),
	SIZE("SIZE(nodemask_t)", "nodemask_t"),
	OFF("OFFSET(page.flags)", "struct page", "flags"),
	OFF("OFFSET(page._refcount)", "struct page", "_refcount"),
	OFF("OFFSET(page._count)", "struct page", "_count"),	/* before 4.6 */
	OFF("OFFSET(page.mapping)", "struct page", "mapping"),
	OFF("OFFSET(page.lru)", "struct page", "lru"),
	OFF("OFFSET(page._mapcount)", "struct page", "_mapcount"),
	OFF("OFFSET(page.private)", "struct page", "private"),
	/* 4.4 .. 6.5: the members went away with the compound destructors. */
	OFF("OFFSET(page.compound_dtor)", "struct page", "compound_dtor"),
	OFF("OFFSET(page.compound_order)", "struct page", "compound_order"),
	OFF("OFFSET(page.compound_head)", "struct page", "compound_head"),
	OFF("OFFSET(pglist_data.node_zones)", "struct pglist_data", "node_zones"),
	OFF("OFFSET(pglist_data.nr_zones)", "struct pglist_data", "nr_zones"),
	/* CONFIG_FLATMEM (CONFIG_FLAT_NODE_MEM_MAP before 5.14): the member exists exactly then. */
	OFF("OFFSET(pglist_data.node_mem_map)", "struct pglist_data", "node_mem_map"),
	OFF("OFFSET(pglist_data.node_start_pfn)", "struct pglist_data", "node_start_pfn"),
	OFF("OFFSET(pglist_data.node_spanned_pages)", "struct pglist_data", "node_spanned_pages"),
	OFF("OFFSET(pglist_data.node_id)", "struct pglist_data", "node_id"),
	OFF("OFFSET(zone.free_area)", "struct zone", "free_area"),
	OFF("OFFSET(zone.vm_stat)", "struct zone", "vm_stat"),
	OFF("OFFSET(zone.spanned_pages)", "struct zone", "spanned_pages"),
	OFF("OFFSET(free_area.free_list)", "struct free_area", "free_list"),
	OFF("OFFSET(list_head.next)", "struct list_head", "next"),
	OFF("OFFSET(list_head.prev)", "struct list_head", "prev"),
	/* Removed with vmap_area_list (6.9), though struct vmap_area keeps the members. */
	OFF_IF("OFFSET(vmap_area.va_start)", "struct vmap_area", "va_start", VC_SYMBOL, "vmap_area_list"),
	OFF_IF("OFFSET(vmap_area.list)", "struct vmap_area", "list", VC_SYMBOL, "vmap_area_list"),
	/* MAX_ORDER, MAX_ORDER + 1 or NR_PAGE_ORDERS over the years: always the array's length. */
	LEN("LENGTH(zone.free_area)", "struct zone", "free_area"),

	/* log_buf_vmcoreinfo_setup(), before 5.10: the log_buf ring. */
	SYM_IF("SYMBOL(log_buf)", "log_buf", VC_NO_SYMBOL, "prb"),
	SYM_IF("SYMBOL(log_buf_len)", "log_buf_len", VC_NO_SYMBOL, "prb"),
	SYM("SYMBOL(log_first_idx)", "log_first_idx"),
	SYM("SYMBOL(clear_idx)", "clear_idx"),
	SYM("SYMBOL(log_next_idx)", "log_next_idx"),
	SIZE("SIZE(printk_log)", "struct printk_log"),
	OFF("OFFSET(printk_log.ts_nsec)", "struct printk_log", "ts_nsec"),
	OFF("OFFSET(printk_log.len)", "struct printk_log", "len"),
	OFF("OFFSET(printk_log.text_len)", "struct printk_log", "text_len"),
	OFF("OFFSET(printk_log.dict_len)", "struct printk_log", "dict_len"),
	/* 5.10+: the lockless ring buffer (896fbe20b4e2); its types exist exactly then. */
	SYM("SYMBOL(prb)", "prb"),
	SYM_IF("SYMBOL(printk_rb_static)", "printk_rb_static", VC_SYMBOL, "prb"),
	SYM_IF("SYMBOL(clear_seq)", "clear_seq", VC_SYMBOL, "prb"),
	SIZE("SIZE(printk_ringbuffer)", "struct printk_ringbuffer"),
	OFF("OFFSET(printk_ringbuffer.desc_ring)", "struct printk_ringbuffer", "desc_ring"),
	OFF("OFFSET(printk_ringbuffer.text_data_ring)", "struct printk_ringbuffer", "text_data_ring"),
	OFF("OFFSET(printk_ringbuffer.fail)", "struct printk_ringbuffer", "fail"),
	SIZE("SIZE(prb_desc_ring)", "struct prb_desc_ring"),
	OFF("OFFSET(prb_desc_ring.count_bits)", "struct prb_desc_ring", "count_bits"),
	OFF("OFFSET(prb_desc_ring.descs)", "struct prb_desc_ring", "descs"),
	OFF("OFFSET(prb_desc_ring.infos)", "struct prb_desc_ring", "infos"),
	OFF("OFFSET(prb_desc_ring.head_id)", "struct prb_desc_ring", "head_id"),
	OFF("OFFSET(prb_desc_ring.tail_id)", "struct prb_desc_ring", "tail_id"),
	SIZE("SIZE(prb_desc)", "struct prb_desc"),
	OFF("OFFSET(prb_desc.state_var)", "struct prb_desc", "state_var"),
	OFF("OFFSET(prb_desc.text_blk_lpos)", "struct prb_desc", "text_blk_lpos"),
	SIZE("SIZE(prb_data_blk_lpos)", "struct prb_data_blk_lpos"),
	OFF("OFFSET(prb_data_blk_lpos.begin)", "struct prb_data_blk_lpos", "begin"),
	OFF("OFFSET(prb_data_blk_lpos.next)", "struct prb_data_blk_lpos", "next"),
	SIZE("SIZE(printk_info)", "struct printk_info"),
	OFF("OFFSET(printk_info.seq)", "struct printk_info", "seq"),
	OFF("OFFSET(printk_info.ts_nsec)", "struct printk_info", "ts_nsec"),
	OFF("OFFSET(printk_info.text_len)", "struct printk_info", "text_len"),
	OFF("OFFSET(printk_info.caller_id)", "struct printk_info", "caller_id"),
	OFF("OFFSET(printk_info.dev_info)", "struct printk_info", "dev_info"),
	SIZE("SIZE(dev_printk_info)", "struct dev_printk_info"),
	OFF("OFFSET(dev_printk_info.subsystem)", "struct dev_printk_info", "subsystem"),
	/* The kernel prints sizeof() of these char arrays: their length. */
	LEN("LENGTH(printk_info_subsystem)", "struct dev_printk_info", "subsystem"),
	OFF("OFFSET(dev_printk_info.device)", "struct dev_printk_info", "device"),
	LEN("LENGTH(printk_info_device)", "struct dev_printk_info", "device"),
	SIZE("SIZE(prb_data_ring)", "struct prb_data_ring"),
	OFF("OFFSET(prb_data_ring.size_bits)", "struct prb_data_ring", "size_bits"),
	OFF("OFFSET(prb_data_ring.data)", "struct prb_data_ring", "data"),
	OFF("OFFSET(prb_data_ring.head_lpos)", "struct prb_data_ring", "head_lpos"),
	OFF("OFFSET(prb_data_ring.tail_lpos)", "struct prb_data_ring", "tail_lpos"),
	SIZE_IF("SIZE(atomic_long_t)", "atomic_long_t", VC_SYMBOL, "prb"),
	OFF_IF("OFFSET(atomic_long_t.counter)", "atomic_long_t", "counter", VC_SYMBOL, "prb"),
	SIZE("SIZE(latched_seq)", "struct latched_seq"),
	OFF("OFFSET(latched_seq.val)", "struct latched_seq", "val"),

	/* Back in crash_save_vmcoreinfo_init(). */
	LEN("LENGTH(free_area.free_list)", "struct free_area", "free_list"),
	ENUM("NUMBER(NR_FREE_PAGES)", "zone_stat_item", "NR_FREE_PAGES"),
	ENUM("NUMBER(PG_lru)", "pageflags", "PG_lru"),
	ENUM("NUMBER(PG_private)", "pageflags", "PG_private"),
	ENUM("NUMBER(PG_swapcache)", "pageflags", "PG_swapcache"),
	ENUM("NUMBER(PG_swapbacked)", "pageflags", "PG_swapbacked"),
	/* A page flag until 6.10 made slab a page type (46df8e73a4a3). */
	ENUM("NUMBER(PG_slab)", "pageflags", "PG_slab"),
	PTYPE("NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)", "slab"),
	/* CONFIG_MEMORY_FAILURE: the enumerator exists exactly then. */
	ENUM("NUMBER(PG_hwpoison)", "pageflags", "PG_hwpoison"),
	ENUM_BIT("NUMBER(PG_head_mask)", "pageflags", "PG_head"),
	PTYPE("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "buddy"),
	/*
	 * CONFIG_HUGETLB_PAGE: the compound destructor id until 6.6
	 * (9c5ccf2db04b), then the page flag PG_hugetlb, a page type since
	 * 6.9 (d99e3140a4d3).
	 */
	ENUM("NUMBER(HUGETLB_PAGE_DTOR)", "compound_dtor_id", "HUGETLB_PAGE_DTOR"),
	ENUM("NUMBER(PG_hugetlb)", "pageflags", "PG_hugetlb"),
	PTYPE("NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)", "hugetlb"),
	PTYPE("NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)", "offline"),
	/*
	 * "crash: export PAGE_UNACCEPTED_MAPCOUNT_VALUE to vmcoreinfo" (6.16),
	 * under CONFIG_UNACCEPTED_MEMORY, which adds zone.unaccepted_pages.
	 */
	{ "NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)", VK_PAGE_TYPE, "unaccepted", NULL, KV(6, 16), VC_MEMBER,
	  "struct zone", "unaccepted_pages", NULL },
	/*
	 * CONFIG_KALLSYMS: 5fd8fea935a1 "vmcoreinfo: include kallsyms
	 * symbols" and f09bddbd8661 (kallsyms_num_syms), 6.0.  The symbols
	 * themselves are much older, hence the version.
	 */
	SYM_SINCE("SYMBOL(kallsyms_names)", "kallsyms_names", KV(6, 0)),
	SYM_SINCE("SYMBOL(kallsyms_num_syms)", "kallsyms_num_syms", KV(6, 0)),
	SYM_SINCE("SYMBOL(kallsyms_token_table)", "kallsyms_token_table", KV(6, 0)),
	SYM_SINCE("SYMBOL(kallsyms_token_index)", "kallsyms_token_index", KV(6, 0)),
	/* CONFIG_KALLSYMS_BASE_RELATIVE: offsets + relative base, else absolute addresses. */
	SYM_SINCE("SYMBOL(kallsyms_offsets)", "kallsyms_offsets", KV(6, 0)),
	SYM_SINCE("SYMBOL(kallsyms_relative_base)", "kallsyms_relative_base", KV(6, 0)),
	SYM_SINCE("SYMBOL(kallsyms_addresses)", "kallsyms_addresses", KV(6, 0)),

	/* arch_crash_save_vmcoreinfo(), x86_64. */
	SPECIAL_IF("NUMBER(phys_base)", sp_phys_base, KV(4, 10), VC_NONE, NULL),
	SYM("SYMBOL(init_top_pgt)", "init_top_pgt"),
	SYM("SYMBOL(init_level4_pgt)", "init_level4_pgt"),	/* before 4.13 */
	/* Boot-time 5-level paging, 4.17. */
	SPECIAL_IF("NUMBER(pgtable_l5_enabled)", sp_l5, KV(4, 17), VC_NONE, NULL),
	/* CONFIG_NUMA: the array exists exactly then; MAX_NUMNODES is its length. */
	SYM("SYMBOL(node_data)", "node_data"),
	LEN("LENGTH(node_data)", NULL, "node_data"),
	SPECIAL("KERNELOFFSET", sp_kerneloffset),
	/*
	 * "x86/kdump: Export KERNEL_IMAGE_SIZE to vmcoreinfo": kernels with
	 * init_top_pgt (4.13) and SME (4.14) already had it, before
	 * pgtable_l5_enabled (4.17); gated at 4.15, not pinned more closely.
	 */
	SPECIAL_IF("NUMBER(KERNEL_IMAGE_SIZE)", sp_kernel_image_size, KV(4, 15), VC_NONE, NULL),
	/* 65f750e5457a "x86/kdump: Export the SME mask to vmcoreinfo", 5.1. */
	SPECIAL_IF("NUMBER(sme_mask)", sp_sme_mask, KV(5, 1), VC_NONE, NULL),
};

#undef SYM
#undef SYM_IF
#undef SYM_SINCE
#undef SIZE
#undef SIZE_IF
#undef OFF
#undef OFF_IF
#undef LEN
#undef ENUM
#undef ENUM_BIT
#undef PTYPE
#undef SPECIAL
#undef SPECIAL_IF

/* "6.12.117+deb13-cloud-amd64" -> KV(6, 12); KV_UNKNOWN if it does not start with N.N. */
static unsigned vmci_kver(const char *release)
{
	unsigned major, minor;

	if (sscanf(release, "%u.%u", &major, &minor) != 2 || major > 254 || minor > 255)
		return KV_UNKNOWN;
	return KV(major, minor);
}

/*
 * OSRELEASE: init_uts_ns.name.release as the dump holds it; the vmlinux's
 * release (from its banner) when it cannot be read.
 */
static int vmci_osrelease(struct vmci_build *b)
{
	uint64_t link, off_name, off_rel;
	char rel[65];
	size_t i;

	if (!ti_symbol(b, "init_uts_ns", &link) && !ti_offset(b, "struct uts_namespace", "name", &off_name) &&
	    !ti_offset(b, "struct new_utsname", "release", &off_rel) &&
	    !vmci_read_image(b, link + off_name + off_rel, rel, sizeof(rel))) {
		rel[sizeof(rel) - 1] = '\0';
		for (i = 0; rel[i]; i++)
			if (rel[i] < 0x21 || rel[i] > 0x7e)
				break;
		if (i && !rel[i]) {
			memcpy(b->release, rel, sizeof(rel));
			return 0;
		}
	}
	if (b->in->osrelease && b->in->osrelease[0]) {
		snprintf(b->release, sizeof(b->release), "%s", b->in->osrelease);
		return 0;
	}
	return -1;
}

static int vmci_cond_holds(struct vmci_build *b, const struct vmci_rule *r)
{
	uint64_t v;

	switch (r->cond) {
	case VC_NONE:
		return 1;
	case VC_SYMBOL:
		if (!ti_symbol(b, r->c, &v))
			return 1;
		vmci_why(b, "no symbol %s", r->c);
		return 0;
	case VC_NO_SYMBOL:
		if (ti_symbol(b, r->c, &v))
			return 1;
		vmci_why(b, "symbol %s exists", r->c);
		return 0;
	case VC_MEMBER:
		if (!ti_offset(b, r->c, r->d, &v))
			return 1;
		vmci_why(b, "no member %s.%s", r->c, r->d);
		return 0;
	case VC_NO_MEMBER:
		if (ti_offset(b, r->c, r->d, &v))
			return 1;
		vmci_why(b, "member %s.%s exists", r->c, r->d);
		return 0;
	}
	return 0;
}

/* Value of one entry: 1 emitted, 0 not emitted (b->why), -1 hard error, -2 not computable (b->why). */
static int vmci_resolve(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t u;
	int64_t n;

	if (r->since && b->kver < r->since) {
		vmci_why(b, "added in %u.%u, this is %s", r->since >> 8, r->since & 0xff, b->release);
		return 0;
	}
	if (!vmci_cond_holds(b, r))
		return 0;
	switch (r->kind) {
	case VK_SYMBOL: {
		/* "x|y": the first of these names the vmlinux has. */
		const char *p = r->a;

		while (*p) {
			size_t n = strcspn(p, "|");
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)n, p);
			if (!ti_symbol(b, name, &u)) {
				fmt_hex(val, len, u + b->in->kernel_offset);
				return 1;
			}
			p += n;
			if (*p == '|')
				p++;
		}
		vmci_why(b, "no symbol %s", r->a);
		return 0;
	}
	case VK_SIZE:
		if (ti_size(b, r->a, &u)) {
			vmci_why(b, "no type %s", r->a);
			return 0;
		}
		fmt_udec(val, len, u);
		return 1;
	case VK_OFFSET:
		if (ti_offset(b, r->a, r->b, &u)) {
			vmci_why(b, "no member %s.%s", r->a, r->b);
			return 0;
		}
		fmt_udec(val, len, u);
		return 1;
	case VK_LENGTH:
		if (b->ops->array_length(b->priv, r->a, r->b, &u)) {
			vmci_why(b, "no array %s%s%s", r->a ? r->a : "", r->a ? "." : "", r->b);
			return 0;
		}
		fmt_udec(val, len, u);
		return 1;
	case VK_ENUM:
	case VK_ENUM_BIT:
		if (ti_enum(b, r->a, r->b, &n)) {
			vmci_why(b, "no enumerator %s in enum %s", r->b, r->a);
			return 0;
		}
		if (r->kind == VK_ENUM_BIT) {
			if (n < 0 || n > 63) {
				vmci_why(b, "enumerator %s is %" PRId64 ", not a bit number", r->b, n);
				return -2;
			}
			n = (int64_t)(1ULL << n);
		}
		fmt_dec(val, len, n);
		return 1;
	case VK_PAGE_TYPE:
		if (vmci_page_type(b, r->a, &n) != 1)
			return 0;
		fmt_dec(val, len, n);
		return 1;
	case VK_SPECIAL:
		return r->fn(b, r, val, len);
	}
	return 0;
}

enum kaslr_status kaslr_vmci_rebuild(const struct kaslr_typeinfo_ops *ops, void *priv,
				     const struct kaslr_vmci_rebuild_in *in, struct kaslr_vmci *vmci_ret,
				     char *err, size_t errlen)
{
	struct vmci_build b;
	uint64_t u;
	size_t i;
	char val[80];

	memset(vmci_ret, 0, sizeof(*vmci_ret));
	memset(&b, 0, sizeof(b));
	b.ops = ops;
	b.priv = priv;
	b.in = in;
	b.err = err;
	b.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';

	if (ti_symbol(&b, "_stext", &u) || ti_symbol(&b, "init_uts_ns", &u)) {
		kaslr_errf(err, errlen, "the vmlinux has no _stext or init_uts_ns symbol: cannot rebuild "
					 "a vmcoreinfo from it");
		return KASLR_NOTFOUND;
	}
	if (vmci_osrelease(&b)) {
		kaslr_errf(err, errlen, "cannot read init_uts_ns.name.release from the dump and the "
					 "vmlinux's release is unknown");
		return KASLR_NOTFOUND;
	}
	b.kver = vmci_kver(b.release);
	/* The paging mode: CR4.LA57 when known, else what the kernel recorded (4.17+, CONFIG_X86_5LEVEL). */
	b.levels = in->levels == 5 ? 5 : 4;
	if (!in->levels && !ti_symbol(&b, "__pgtable_l5_enabled", &u)) {
		uint32_t l5;

		if (!vmci_read_image(&b, u, &l5, sizeof(l5)) && l5)
			b.levels = 5;
	}

	if (kaslr_vmci_add_raw(vmci_ret, "OSRELEASE", b.release))
		goto nomem;
	for (i = 0; i < sizeof(vmci_x86_64) / sizeof(vmci_x86_64[0]); i++) {
		const struct vmci_rule *r = &vmci_x86_64[i];
		int rc;

		b.why[0] = '\0';
		rc = vmci_resolve(&b, r, val, sizeof(val));
		if (rc == 1) {
			if (kaslr_vmci_add_raw(vmci_ret, r->key, val))
				goto nomem;
			continue;
		}
		if (rc == -1) {
			kaslr_vmci_free(vmci_ret);
			return b.fail ? b.fail : KASLR_CORRUPT;
		}
		if (rc == -2) {
			/* The kernel had this line; we cannot say what it held. */
			size_t n = strlen(b.warn);

			snprintf(b.warn + n, sizeof(b.warn) - n, "%s%s (%s)", b.nr_warn ? "; " : "", r->key,
				 b.why);
			b.nr_warn++;
		}
		if (ops->skipped)
			ops->skipped(priv, r->key, b.why[0] ? b.why : "not emitted");
	}
	if (b.nr_warn)
		kaslr_errf(err, errlen, "%d line(s) left out, their values could not be read: %s", b.nr_warn,
			    b.warn);
	return KASLR_OK;
nomem:
	kaslr_vmci_free(vmci_ret);
	kaslr_errf(err, errlen, "out of memory rebuilding vmcoreinfo");
	return KASLR_NOMEM;
}
