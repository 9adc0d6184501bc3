/*
 * core/x86_64/vmci_rules.c - every line an x86_64 kernel writes into its vmcoreinfo
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The rule table of the rebuild engine (core/vmci_rebuild.c), kept whole:
 * it is the record of which kernel emits which line and why, each entry
 * with the kernel commit that added or changed it, and the special
 * functions for the values the kernel computes from compile-time macros.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/vmci_rules.h"
#include "core/x86_64/constants.h"

/* ---- specials ---- */

/* BUILD-ID: VMCOREINFO_BUILD_ID() prints the vmlinux's 20-byte GNU build-id as 40 hex digits. */
static int sp_build_id(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	if (!b->in->build_id || strlen(b->in->build_id) != 40) {
		kaslr_vr_why(b, "the vmlinux has no GNU build-id note");
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
	kaslr_vr_udec(val, len, 4096);
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
	if (kaslr_vr_symbol(b, "node_states", &link) || kaslr_vr_enum(b, "node_states", "N_ONLINE", &idx) ||
	    kaslr_vr_size(b, "nodemask_t", &size)) {
		kaslr_vr_why(b, "no node_states array, enum node_states or nodemask_t");
		return 0;
	}
	kaslr_vr_hex(val, len, link + b->in->kernel_offset + (uint64_t)idx * size);
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
	if (!kaslr_vr_symbol(b, "vmalloc_base", &link)) {
		if (kaslr_vr_read_var64(b, "vmalloc_base", &v))
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
	if (!kaslr_vr_symbol(b, "vmemmap_base", &link)) {
		if (kaslr_vr_read_var64(b, "vmemmap_base", &v))
			return -2;
	} else {
		v = b->levels == 5 ? 0xffd4000000000000ULL : 0xffffea0000000000ULL;
	}
	kaslr_vr_hex(val, len, v);
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
	if (kaslr_vr_symbol(b, "mem_section", &link)) {
		kaslr_vr_why(b, "no mem_section (not CONFIG_SPARSEMEM)");
		return 0;
	}
	if (!b->ops->array_length(b->priv, NULL, "mem_section", &n) || b->kver < KV(4, 15)) {
		kaslr_vr_hex(val, len, link + b->in->kernel_offset);
		return 1;
	}
	if (kaslr_vr_read_var64(b, "mem_section", &v))
		return -2;
	kaslr_vr_hex(val, len, v);
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
	kaslr_vr_dec(val, len, X86_64_SECTION_SIZE_BITS);
	return 1;
}

static int sp_max_physmem_bits(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	kaslr_vr_dec(val, len, x86_64_max_physmem_bits(b));
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
		kaslr_vr_udec(val, len, n);
		return 1;
	}
	if (kaslr_vr_size(b, "struct mem_section", &size) || !size || size > 4096) {
		kaslr_vr_why(b, "no usable sizeof(struct mem_section)");
		return -2;
	}
	sections = 1ULL << (x86_64_max_physmem_bits(b) - X86_64_SECTION_SIZE_BITS);
	per_root = 4096 / size;
	kaslr_vr_udec(val, len, (sections + per_root - 1) / per_root);
	return 1;
}


/* NUMBER(phys_base): the kernel's phys_base variable (4.10+, 401721ecd1dc). */
static int sp_phys_base(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	uint64_t v;

	(void)r;
	/* Read through the placement itself: it must give back the same phys_base. */
	if (!kaslr_vr_read_var64(b, "phys_base", &v) && (int64_t)v != b->in->phys_base) {
		snprintf(b->err, b->errlen,
			 "the dump's phys_base variable holds %" PRIx64 ", the verified phys_base is %" PRIx64
			 ": not rebuilding a vmcoreinfo from contradicting values",
			 v, (uint64_t)b->in->phys_base);
		b->fail = KASLR_CORRUPT;
		return -1;
	}
	kaslr_vr_dec(val, len, b->in->phys_base);
	return 1;
}

/* NUMBER(pgtable_l5_enabled): "%d" of pgtable_l5_enabled(), i.e. 5-level paging on (4.17+). */
static int sp_l5(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	kaslr_vr_dec(val, len, b->levels == 5);
	return 1;
}

/* KERNELOFFSET: "%lx" of kaslr_offset(). */
static int sp_kerneloffset(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len)
{
	(void)r;
	kaslr_vr_hex(val, len, b->in->kernel_offset);
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
	if (b->in->kernel_offset || !kaslr_vr_symbol(b, "kaslr_get_random_long", &link))
		kaslr_vr_udec(val, len, KERNEL_IMAGE_SIZE);
	else
		kaslr_vr_udec(val, len, 512ULL << 20);
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
	if (!kaslr_vr_symbol(b, "sme_me_mask", &link) && kaslr_vr_read_var64(b, "sme_me_mask", &v))
		return -2;
	kaslr_vr_dec(val, len, (int64_t)v);
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

const struct vmci_rule kaslr_vmci_rules_x86_64[] = {
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
	/*
	 * Linux 7.x (Debian sid's 7.2.13): struct page's compound_head is
	 * compound_info, and the line is written under the new name in the
	 * same place; the member exists exactly when the line is written.
	 */
	OFF("OFFSET(page.compound_info)", "struct page", "compound_info"),
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

const size_t kaslr_vmci_rules_x86_64_count = sizeof(kaslr_vmci_rules_x86_64) / sizeof(kaslr_vmci_rules_x86_64[0]);
