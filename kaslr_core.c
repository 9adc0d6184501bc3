/*
 * kaslr_core.c - find and check KERNELOFFSET and phys_base, crash-free
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Definitions (x86_64): KERNELOFFSET is the runtime virtual address of
 * _text minus its link-time address; phys_base is the physical address of
 * _text minus (_text's runtime VA - START_KERNEL_MAP), so that for any VA in
 * the kernel image  pa = va - START_KERNEL_MAP + phys_base.  phys_base is
 * signed: it is negative when the kernel runs physically below its
 * link-time physical address.  Since KASLR (3.14, x86_64 by default since
 * 4.12's CONFIG_RANDOMIZE_BASE=y in distributions) both are random and
 * 2 MiB aligned (CONFIG_PHYSICAL_ALIGN).
 *
 * Everything below reads guest memory through ctx->read_phys only.
 *
 * Method 1 - page tables (kaslr_from_pagetables)
 *	Walk the CPU's page tables (CR3) through the kernel image window
 *	[START_KERNEL_MAP, +KERNEL_IMAGE_SIZE) in address order and take the
 *	lowest present leaf: that is _text, because cleanup_highmap()
 *	(arch/x86/mm/init_64.c) zaps the level2_kernel_pgt entries below
 *	_text and, since 5.4 (and in stable kernels), __startup_64() clears
 *	them even earlier (commit 2aa85f246c18 "x86/boot/64: Make
 *	level2_kernel_pgt pages invalid outside kernel area").
 *	KERNELOFFSET = va - _text(vmlinux), phys_base = pa - (va -
 *	START_KERNEL_MAP): right by construction, not by fitting, and still
 *	verified (below).  If the lowest mapping does not verify, each 2 MiB
 *	slot of the window is tried: the one whose linux_banner translates to
 *	a page holding the vmlinux's banner wins.  With PTI (4.15, commit
 *	aa8c6248f8c7 "x86/mm/pti: Add infrastructure for page table
 *	isolation") CR3 may hold the user PGD (+4 KiB, bit 12), which maps
 *	little of the kernel (entry text, cpu_entry_area): the kernel half is
 *	tried first.  5-level paging (4.14, commit 77ef56e4f0fb) is taken
 *	from CR4.LA57; AMD SME's C-bit is stripped from CR3 and every entry.
 *
 * Method 2 - IDT (kaslr_from_idt)
 *	Gate 0 of the IDT points at the divide-error entry stub
 *	(asm_exc_divide_error since 5.8, commit 9d06c4027f21 "x86/entry: Convert
 *	Divide Error to IDTENTRY"; divide_error before).  KERNELOFFSET =
 *	handler - that symbol's link address.  IDTR holds a read-only alias
 *	of idt_table's page (the FIX_RO_IDT fixmap since 3.10; since 4.15's
 *	PTI work the cpu_entry_area slot at 0xfffffe0000000000, which every
 *	5.10/6.1/6.12 QEMU dump measured here shows), so the IDT is read through
 *	the page tables too.  phys_base comes from translating _text+offset;
 *	failing that, from the IDT page's physical address against idt_table.
 *	The IDT is unused on CPUs running FRED (6.9+, CONFIG_X86_FRED) and
 *	points at early tables in early-boot dumps: verification catches both.
 *
 * Method 3 - in-RAM vmcoreinfo (kaslr_vmci_read_ram)
 *	With a verified candidate, read the kernel's own vmcoreinfo_data
 *	(a pointer to a page since 4.13, commit 203e9e41219b; a static array
 *	before) and vmcoreinfo_size: its KERNELOFFSET and NUMBER(phys_base)
 *	(NUMBER(phys_base) since 4.10, commit 401721ecd1dc) confirm or refute
 *	the candidate.
 *
 * Method 4 - elfcorehdr (kaslr_from_elfcorehdr)
 *	If the registers belong to a kdump capture kernel, its command line
 *	(saved_command_line) holds elfcorehdr=[size@]addr: the ELF header the
 *	first kernel prepared, whose PT_NOTE segments include the first
 *	kernel's VMCOREINFO note.  Its values describe the crashed kernel.
 *
 * Method 5 - scan (kaslr_vmci_scan)
 *	No registers, or none that verified: look at the start of every 4 KiB
 *	page for "OSRELEASE=" (the vmcoreinfo_data page) or a "VMCOREINFO" ELF
 *	note header (the vmcoreinfo_note page, text 24 bytes in), parse each
 *	copy, and verify its values against the vmlinux.
 *
 * Method 6 - page-table scan (kaslr_ptscan)
 *	No usable registers and no vmcoreinfo copy that verifies (a kernel
 *	whose vmcoreinfo page is not in the dump, or was overwritten): find
 *	the top-level page tables themselves, as libvmi and mquire do for
 *	their DTB search.  Every PGD maps the kernel image through entry 511
 *	(START_KERNEL_MAP; the kernel half is shared by all PGDs,
 *	pgd_alloc() copies it from init_top_pgt), so each page whose entry
 *	511 is a present table entry into the dump is read whole; it is a
 *	candidate when every entry is 0 or such an entry and few are in the
 *	user half.  init_top_pgt has an empty user half and is tried first;
 *	process PGDs after the scan.  Each candidate gets Method 1 and
 *	kaslr_verify, so a page that merely looks like a table (a lower-level
 *	table, an EPT, data) gives no answer.
 *
 * Verification (kaslr_verify)
 *	The full linux_banner at phys_base + (linux_banner + offset -
 *	START_KERNEL_MAP) must equal the vmlinux's byte for byte, the offset
 *	must be 2 MiB aligned, _text + offset must lie in the image window,
 *	and, with page tables, linux_banner + offset must translate to that
 *	same physical address.  crash's own check (kaslr_helper.c) only looks
 *	for a "Linux version" prefix and never checks phys_base.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kaslr_core.h"
#include "regs.h"
#include "vmcoreinfo.h"

#define PAGE_SIZE_4K		0x1000ULL
#define PAGE_MASK_4K		(~(PAGE_SIZE_4K - 1))
#define SIZE_2M			0x200000ULL
#define SIZE_1G			0x40000000ULL

/* x86 paging entry bits (SDM vol. 3, 4.5). */
#define PTE_PRESENT		(1ULL << 0)
#define PTE_PSE			(1ULL << 7)
/* Physical address bits 12..51 of an entry (MAXPHYADDR is at most 52). */
#define PTE_ADDR_MASK		0x000ffffffffff000ULL
#define PTE_ADDR_MASK_2M	0x000fffffffe00000ULL
#define PTE_ADDR_MASK_1G	0x000fffffc0000000ULL

/*
 * Direct-map bases without CONFIG_RANDOMIZE_MEMORY (4.8+ reads
 * page_offset_base instead).  4.20 moved them up by one PGD slot
 * (commit d52888aa2753 "x86/mm: Move LDT remap out of KASLR region on
 * 5-level paging").
 */
#define PAGE_OFFSET_4L		0xffff888000000000ULL
#define PAGE_OFFSET_4L_OLD	0xffff880000000000ULL	/* before 4.20 */
#define PAGE_OFFSET_5L		0xff11000000000000ULL
#define PAGE_OFFSET_5L_OLD	0xff10000000000000ULL	/* before 4.20 */

/* Tables one first-mapping walk may visit before the data counts as garbage. */
#define MAX_WALK_TABLES		4096
/* Progress callback period of kaslr_vmci_scan. */
#define SCAN_PROGRESS_STEP	(64ULL << 20)
/* The kernel's vmcoreinfo text fits a page (VMCOREINFO_BYTES = PAGE_SIZE). */
#define VMCI_MAX		4096
/* ELF note header (12 bytes) + "VMCOREINFO\0" padded to 12: where the text starts. */
#define VMCI_NOTE_TEXT_OFF	24
/* Bytes of each page the vmcoreinfo scan looks at first (vmci_page_kind). */
#define VMCI_HEAD		16
/*
 * Scans read memory in pieces this large: per byte a big read costs far
 * less than one per page (a pread per page head takes 5-8x as long as
 * reading the whole file in 1 MiB pieces).  A piece that does not read
 * whole is read again page by page, so one missing page hides nothing.
 */
#define SCAN_CHUNK		(1u << 20)

static const char HINT[] =
	"the vmlinux may not match the dump: compare `strings DUMP | grep 'Linux version'` "
	"with the vmlinux; or give the values by hand (OFFSET and PHYS_BASE)";

/* ---- small helpers ---------------------------------------------------- */

static void set_err(struct kaslr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(struct kaslr_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
}

/* snprintf into a fixed buffer, appending after what is there. */
static void buf_append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void buf_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Copy @src into @dst (size @size), cut to fit, always terminated. */
static void str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Read @len bytes of guest physical memory, never crossing a 4 KiB page per call. */
static int phys_read(struct kaslr_ctx *ctx, uint64_t paddr, void *buf, size_t len)
{
	unsigned char *out = buf;

	while (len) {
		size_t chunk = PAGE_SIZE_4K - (paddr & (PAGE_SIZE_4K - 1));

		if (chunk > len)
			chunk = len;
		if (ctx->read_phys(ctx->priv, paddr, out, chunk))
			return -1;
		paddr += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}

static int phys_read_u64(struct kaslr_ctx *ctx, uint64_t paddr, uint64_t *val_ret)
{
	unsigned char b[8];

	if (phys_read(ctx, paddr, b, sizeof(b)))
		return -1;
	*val_ret = le64(b);
	return 0;
}

/* 1 if @paddr lies in a dump range, 0 if not, -1 if the ranges are unknown. */
static int in_dump(const struct kaslr_ctx *ctx, uint64_t paddr)
{
	int lo = 0, hi = ctx->nr_ranges - 1;

	if (!ctx->ranges || ctx->nr_ranges <= 0)
		return -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (paddr < ctx->ranges[mid].start)
			hi = mid - 1;
		else if (paddr >= ctx->ranges[mid].end)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

static uint64_t vml_text(const struct kaslr_vmlinux *vml)
{
	return vml->text ? vml->text : vml->stext;
}

/* Physical address of a kernel-image VA (link-time @sym) under a candidate. */
static uint64_t image_paddr(uint64_t sym, uint64_t kernel_offset, int64_t phys_base)
{
	return sym + kernel_offset - START_KERNEL_MAP + (uint64_t)phys_base;
}

/* Copy @s into @out (size @size) with non-printables as '.', at most @n bytes of @s. */
static void printable(char *out, size_t size, const char *s, size_t n)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '.';
	out[i] = '\0';
}

static void cand_init(struct kaslr_candidate *cand, enum kaslr_method method, int cpu)
{
	memset(cand, 0, sizeof(*cand));
	cand->method = method;
	cand->cpu = cpu;
	cand->status = KASLR_NOTFOUND;
}

static void cand_note(struct kaslr_candidate *cand, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cand_note(struct kaslr_candidate *cand, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cand->note, sizeof(cand->note), fmt, ap);
	va_end(ap);
}

static const char *size_name(uint64_t size)
{
	return size == SIZE_1G ? "1G" : size == SIZE_2M ? "2M" : "4K";
}

/* ---- paging ------------------------------------------------------------ */

static int va_bits(int levels)
{
	return levels == 5 ? 57 : 48;
}

static int is_canonical(uint64_t va, int levels)
{
	int sh = 64 - va_bits(levels);

	return (uint64_t)((int64_t)(va << sh) >> sh) == va;
}

static uint64_t linear_mask(int levels)
{
	return (1ULL << va_bits(levels)) - 1;
}

static uint64_t sign_extend(uint64_t la, int levels)
{
	int sh = 64 - va_bits(levels);

	return (uint64_t)((int64_t)(la << sh) >> sh);
}

/* Linux's name of the table at @level (1 = PTE) under @levels-level paging. */
static const char *level_name(int level, int levels)
{
	switch (level) {
	case 5:
		return "PGD";
	case 4:
		return levels == 5 ? "P4D" : "PGD";
	case 3:
		return "PUD";
	case 2:
		return "PMD";
	default:
		return "PTE";
	}
}

enum kaslr_status kaslr_paging_from_regs(struct kaslr_ctx *ctx, const struct kaslr_cpu_regs *regs,
					 int user_half, struct kaslr_paging *pg_ret)
{
	uint64_t root;

	memset(pg_ret, 0, sizeof(*pg_ret));
	if (!(regs->valid & KASLR_REG_CR3) || !regs->cr3) {
		set_err(ctx, "cpu %d: no CR3 (CPU offline, or its state was not saved)", regs->cpu);
		return KASLR_NODATA;
	}
	if ((regs->valid & KASLR_REG_CR0) && !(regs->cr0 & CR0_PG)) {
		set_err(ctx, "cpu %d: paging is off (CR0 0x%" PRIx64 ")", regs->cpu, regs->cr0);
		return KASLR_NODATA;
	}
	pg_ret->levels = (regs->valid & KASLR_REG_CR4) && (regs->cr4 & CR4_LA57) ? 5 : 4;
	/* Bits 12..51 only: drops the PCID/PWT/PCD bits 0-11 and the no-flush bit 63. */
	root = regs->cr3 & PTE_ADDR_MASK;

	/*
	 * AMD SME (4.14) sets the C-bit (CPUID
	 * 0x8000001f EBX[5:0], bit 47 on EPYC) in CR3 and in every entry.  It
	 * shows as a table address beyond the dump that drops into it once
	 * its highest bit is cleared.  Only bits 32+ are taken as a C-bit, and
	 * never when clearing it leaves page 0 (no PGD lives there).
	 */
	if (in_dump(ctx, root) == 0) {
		int bit = 63 - __builtin_clzll(root | 1);
		uint64_t stripped = root & ~(1ULL << bit);

		if (bit >= 32 && stripped && in_dump(ctx, stripped) == 1) {
			pg_ret->sme_mask = 1ULL << bit;
			root = stripped;
		}
	}
	if (user_half == 1)
		root |= PTI_USER_PGD_BIT;
	else if (user_half == 0)
		root &= ~PTI_USER_PGD_BIT;
	if (in_dump(ctx, root) == 0) {
		set_err(ctx, "cpu %d: CR3 0x%" PRIx64 " points at 0x%" PRIx64 ", which is not in the dump",
			regs->cpu, regs->cr3, root);
		return KASLR_NODATA;
	}
	pg_ret->root_paddr = root;
	return KASLR_OK;
}

/* Physical address a leaf or table entry at @level points to. */
static uint64_t entry_addr(const struct kaslr_paging *pg, uint64_t e, int level, int leaf)
{
	uint64_t mask = PTE_ADDR_MASK;

	if (leaf && level == 3)
		mask = PTE_ADDR_MASK_1G;
	else if (leaf && level == 2)
		mask = PTE_ADDR_MASK_2M;	/* bit 12 is PAT in large leaves */
	return e & mask & ~pg->sme_mask;
}

enum kaslr_status kaslr_vtop(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t vaddr,
			     uint64_t *paddr_ret, uint64_t *pagesize_ret)
{
	uint64_t table = pg->root_paddr;
	int level;

	if (pg->levels != 4 && pg->levels != 5) {
		set_err(ctx, "unsupported paging depth %d", pg->levels);
		return KASLR_CORRUPT;
	}
	if (!is_canonical(vaddr, pg->levels)) {
		set_err(ctx, "0x%" PRIx64 " is not a canonical address with %d-level paging", vaddr,
			pg->levels);
		return KASLR_CORRUPT;
	}
	for (level = pg->levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t eaddr = table + ((vaddr >> shift) & 511) * 8, e, size;

		if (phys_read_u64(ctx, eaddr, &e)) {
			set_err(ctx, "%s table at 0x%" PRIx64 " (translating 0x%" PRIx64 ") is not in the dump",
				level_name(level, pg->levels), table, vaddr);
			return KASLR_NODATA;
		}
		ctx->nr_reads++;
		if (!(e & PTE_PRESENT)) {
			set_err(ctx, "0x%" PRIx64 " is not mapped: %s entry at 0x%" PRIx64 " is 0x%" PRIx64,
				vaddr, level_name(level, pg->levels), eaddr, e);
			return KASLR_NOTFOUND;
		}
		if ((e & PTE_PSE) && level >= 4) {
			set_err(ctx, "%s entry at 0x%" PRIx64 " has the reserved PS bit set (0x%" PRIx64 ")",
				level_name(level, pg->levels), eaddr, e);
			return KASLR_CORRUPT;
		}
		if (level == 1 || ((e & PTE_PSE) && (level == 2 || level == 3))) {
			size = 1ULL << shift;
			*paddr_ret = entry_addr(pg, e, level, 1) | (vaddr & (size - 1));
			if (pagesize_ret)
				*pagesize_ret = size;
			return KASLR_OK;
		}
		table = entry_addr(pg, e, level, 0);
	}
	return KASLR_CORRUPT;	/* not reached */
}

struct walk {
	struct kaslr_ctx *ctx;
	const struct kaslr_paging *pg;
	uint64_t lo, hi;		/* linear addresses, inclusive */
	int visits;
	int depth;
	uint64_t path[6];		/* tables on the way down, to catch cycles */
	uint64_t la, pa, size;		/* result */
};

/*
 * Visit the table at @table (@level) whose index 0 maps linear address
 * @base; entries outside [w->lo, w->hi] are not read.
 */
static enum kaslr_status walk_table(struct walk *w, int level, uint64_t table, uint64_t base)
{
	int shift = 12 + 9 * (level - 1), first, last, i;
	uint64_t span = 1ULL << shift;
	unsigned char buf[PAGE_SIZE_4K];
	enum kaslr_status st;

	if (++w->visits > MAX_WALK_TABLES) {
		set_err(w->ctx, "page-table walk visited more than %d tables: the tables are garbage "
			"(wrong CR3?)", MAX_WALK_TABLES);
		return KASLR_CORRUPT;
	}
	for (i = 0; i < w->depth; i++) {
		if (w->path[i] == table) {
			set_err(w->ctx, "page-table cycle: a %s entry points back to the table at 0x%" PRIx64,
				level_name(level + 1, w->pg->levels), table);
			return KASLR_CORRUPT;
		}
	}
	first = w->lo > base ? (int)((w->lo - base) >> shift) : 0;
	last = (w->hi - base) >> shift > 511 ? 511 : (int)((w->hi - base) >> shift);
	if (phys_read(w->ctx, table + (uint64_t)first * 8, buf, (size_t)(last - first + 1) * 8)) {
		set_err(w->ctx, "%s table at 0x%" PRIx64 " is not in the dump",
			level_name(level, w->pg->levels), table);
		return KASLR_NODATA;
	}
	w->ctx->nr_reads += (unsigned long)(last - first + 1);
	w->path[w->depth++] = table;
	for (i = first; i <= last; i++) {
		uint64_t e = le64(buf + (size_t)(i - first) * 8), la = base + (uint64_t)i * span;

		if (!(e & PTE_PRESENT))
			continue;
		if ((e & PTE_PSE) && level >= 4) {
			set_err(w->ctx, "%s entry at 0x%" PRIx64 " has the reserved PS bit set (0x%" PRIx64 ")",
				level_name(level, w->pg->levels), table + (uint64_t)i * 8, e);
			w->depth--;
			return KASLR_CORRUPT;
		}
		if (level == 1 || ((e & PTE_PSE) && (level == 2 || level == 3))) {
			w->la = la > w->lo ? la : w->lo;
			w->pa = entry_addr(w->pg, e, level, 1) + (w->la - la);
			w->size = span;
			w->depth--;
			return KASLR_OK;
		}
		st = walk_table(w, level - 1, entry_addr(w->pg, e, level, 0), la);
		if (st != KASLR_NOTFOUND) {
			w->depth--;
			return st;
		}
	}
	w->depth--;
	return KASLR_NOTFOUND;
}

enum kaslr_status kaslr_first_mapping(struct kaslr_ctx *ctx, const struct kaslr_paging *pg,
				      uint64_t start, uint64_t end, uint64_t *vaddr_ret,
				      uint64_t *paddr_ret, uint64_t *pagesize_ret)
{
	struct walk w;
	uint64_t last, half, low_max, high_min;
	enum kaslr_status st;

	if (pg->levels != 4 && pg->levels != 5) {
		set_err(ctx, "unsupported paging depth %d", pg->levels);
		return KASLR_CORRUPT;
	}
	if (end && end <= start) {
		set_err(ctx, "empty range [0x%" PRIx64 ", 0x%" PRIx64 ")", start, end);
		return KASLR_NOTFOUND;
	}
	last = end - 1;		/* end 0 means "to the top" */
	/* Clip the range to the canonical halves; the hole maps nothing. */
	half = 1ULL << (va_bits(pg->levels) - 1);
	low_max = half - 1;
	high_min = ~(half - 1);
	if (start > low_max && start < high_min)
		start = high_min;
	if (last > low_max && last < high_min)
		last = low_max;
	if (start > last) {
		set_err(ctx, "range lies in the non-canonical hole");
		return KASLR_NOTFOUND;
	}

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.pg = pg;
	w.lo = start & linear_mask(pg->levels);
	w.hi = last & linear_mask(pg->levels);
	st = walk_table(&w, pg->levels, pg->root_paddr, 0);
	if (st == KASLR_NOTFOUND) {
		set_err(ctx, "nothing is mapped in [0x%" PRIx64 ", 0x%" PRIx64 "] (%d tables visited)",
			start, last, w.visits);
		return st;
	}
	if (st != KASLR_OK)
		return st;
	*vaddr_ret = sign_extend(w.la, pg->levels);
	*paddr_ret = w.pa;
	if (pagesize_ret)
		*pagesize_ret = w.size;
	return KASLR_OK;
}

/* Read @len bytes at virtual @vaddr, translating page by page. */
static enum kaslr_status virt_read(struct kaslr_ctx *ctx, const struct kaslr_paging *pg, uint64_t vaddr,
				   void *buf, size_t len)
{
	unsigned char *out = buf;

	while (len) {
		size_t chunk = PAGE_SIZE_4K - (vaddr & (PAGE_SIZE_4K - 1));
		uint64_t pa;
		enum kaslr_status st;

		if (chunk > len)
			chunk = len;
		st = kaslr_vtop(ctx, pg, vaddr, &pa, NULL);
		if (st != KASLR_OK)
			return st;
		if (phys_read(ctx, pa, out, chunk)) {
			set_err(ctx, "0x%" PRIx64 " maps to 0x%" PRIx64 ", which is not in the dump", vaddr, pa);
			return KASLR_NODATA;
		}
		vaddr += chunk;
		out += chunk;
		len -= chunk;
	}
	return KASLR_OK;
}

/*
 * An IDT gate (SDM vol. 3, 6.14.1): offset 15:0, selector, IST, type/attr,
 * offset 31:16, offset 63:32, reserved.  @returns 0 and the handler for a
 * present interrupt or trap gate; -1 otherwise (@type_ret/@present_ret say
 * what it was).
 */
static int gate_handler(const unsigned char g[16], uint64_t *handler_ret, unsigned *type_ret,
			unsigned *present_ret)
{
	unsigned type = g[5] & 0xf, present = g[5] >> 7;

	if (type_ret)
		*type_ret = type;
	if (present_ret)
		*present_ret = present;
	if (!present || (type != 0xe && type != 0xf))
		return -1;
	*handler_ret = (uint64_t)le16(g) | (uint64_t)le16(g + 6) << 16 | (uint64_t)le32(g + 8) << 32;
	return 0;
}

/* ---- verification -------------------------------------------------------- */

/*
 * Compare the dump's bytes at @paddr with the vmlinux banner.
 * @returns 1 equal, 0 different (@why says how), -1 unreadable.
 */
static int banner_cmp_phys(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t paddr,
			   char *why, size_t whysize)
{
	char stackbuf[512], *got = stackbuf;
	char a[80], b[80];
	size_t i, from, n;
	int ret;

	if (vml->banner_len > sizeof(stackbuf)) {
		got = malloc(vml->banner_len);
		if (!got) {
			snprintf(why, whysize, "out of memory");
			return -1;
		}
	}
	if (phys_read(ctx, paddr, got, vml->banner_len)) {
		snprintf(why, whysize, "linux_banner would be at physical 0x%" PRIx64 ", which is not in "
			 "the dump", paddr);
		ret = -1;
		goto out;
	}
	for (i = 0; i < vml->banner_len && got[i] == vml->banner[i]; i++)
		;
	if (i == vml->banner_len) {
		ret = 1;
		goto out;
	}
	/* Show the text around the first difference, the same window of both. */
	from = i > 40 ? i - 24 : 0;
	n = vml->banner_len - from < 40 ? vml->banner_len - from : 40;
	printable(a, sizeof(a), got + from, n);
	printable(b, sizeof(b), vml->banner + from, n);
	if (!memcmp(got, "Linux version ", 14))
		snprintf(why, whysize, "banner at 0x%" PRIx64 " reads '%s%s' but the vmlinux has '%s%s': "
			 "this vmlinux does not match this dump", paddr, from ? "..." : "", a,
			 from ? "..." : "", b);
	else
		snprintf(why, whysize, "no banner at 0x%" PRIx64 " (reads '%s%s', the vmlinux has '%s%s'): "
			 "offset or phys_base wrong", paddr, from ? "..." : "", a, from ? "..." : "", b);
	ret = 0;
out:
	if (got != stackbuf)
		free(got);
	return ret;
}

/*
 * The offset itself, from words the kernel wrote with it: every relocation
 * probe of the vmlinux (pointers the boot-time relocation pass moved) and
 * gate 0 of idt_table (written at boot with asm_exc_divide_error's runtime
 * address).  Each is read where @off and @pb put it; it must hold its
 * link-time value + @off.  A wrong split of the same sum reads the same
 * bytes and sees every word off by the same amount.
 *
 * @returns 1 when at least three quarters of the words that could be read
 * agree (a stray non-pointer among the sampled words is tolerated); -1
 * when they do not (@why names the first that disagrees, and by how much
 * the offset is wrong if the words agree on that); 0 when no word could be
 * read or the vmlinux has none (@why says so).
 */
static int reloc_check(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, uint64_t off, int64_t pb,
		       char *why, size_t whysize)
{
	uint64_t delta[KASLR_MAX_RELOC + 1], first_pa = 0, first_got = 0, first_want = 0;
	int i, n = 0, match = 0, nd = 0, same = 0, words = vml->nr_reloc;

	why[0] = '\0';
	if (words > KASLR_MAX_RELOC)
		words = KASLR_MAX_RELOC;
	for (i = 0; i <= words; i++) {
		uint64_t pa, got, want;
		unsigned char raw[16];

		if (i < words) {
			pa = image_paddr(vml->reloc[i].vaddr, off, pb);
			want = vml->reloc[i].value + off;
			if (phys_read(ctx, pa, raw, 8))
				continue;
			got = le64(raw);	/* guest words are little-endian whatever the host is */
		} else {
			/* idt_table[0], an interrupt gate whose handler is asm_exc_divide_error. */
			if (!vml->idt_table || !vml->divide_error)
				continue;
			pa = image_paddr(vml->idt_table, off, pb);
			want = vml->divide_error + off;
			if (phys_read(ctx, pa, raw, 16) || gate_handler(raw, &got, NULL, NULL) < 0)
				continue;	/* not set up yet (early boot): no evidence either way */
		}
		n++;
		if (got == want) {
			match++;
			continue;
		}
		if (!nd) {
			first_pa = pa;
			first_got = got;
			first_want = want - off;
		}
		delta[nd++] = got - want;
	}
	if (!n) {
		snprintf(why, whysize, "%s", vml->nr_reloc || vml->idt_table ?
			 "no relocated pointer of the image is in the dump" :
			 "the vmlinux has no relocated pointers to check");
		return 0;
	}
	if (match * 4 >= n * 3)
		return 1;
	for (i = 0; i < nd; i++)
		if (delta[i] == delta[0])
			same++;
	if (same * 2 > nd && delta[0] % KASLR_ALIGN == 0)
		/* Most words say the same: they name the offset they were relocated by. */
		snprintf(why, whysize, "relocated pointer at 0x%" PRIx64 " reads 0x%" PRIx64 ", not link value 0x%"
			 PRIx64 " + offset: the offset is wrong by %s0x%" PRIx64 ", the pointers say 0x%" PRIx64
			 " (%d of %d pointers agree)", first_pa, first_got, first_want,
			 (int64_t)delta[0] < 0 ? "-" : "", (int64_t)delta[0] < 0 ? -delta[0] : delta[0],
			 off + delta[0], match, n);
	else
		snprintf(why, whysize, "relocated pointer at 0x%" PRIx64 " reads 0x%" PRIx64 ", not link value 0x%"
			 PRIx64 " + offset (%d of %d pointers agree)", first_pa, first_got, first_want, match, n);
	return -1;
}

enum kaslr_status kaslr_verify(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			       const struct kaslr_paging *pg, struct kaslr_candidate *cand)
{
	unsigned checks = cand->checks & KASLR_V_VMCOREINFO, need;
	uint64_t off = cand->kernel_offset, text = vml_text(vml), text_dump = text + off;
	char why[KASLR_ERRLEN] = "", one[KASLR_ERRLEN];
	int reloc_wrong = 0;

	if (off % KASLR_ALIGN == 0)
		checks |= KASLR_V_ALIGNED;
	else
		buf_append(why, sizeof(why), "%sKERNELOFFSET 0x%" PRIx64 " is not 2 MiB aligned",
			   *why ? "; " : "", off);
	if (text && text_dump >= START_KERNEL_MAP && text_dump < START_KERNEL_MAP + KERNEL_IMAGE_SIZE)
		checks |= KASLR_V_WINDOW;
	else if (!text)
		buf_append(why, sizeof(why), "%sthe vmlinux has neither _text nor _stext",
			   *why ? "; " : "");
	else
		buf_append(why, sizeof(why), "%s_text would be at 0x%" PRIx64 ", outside the kernel image "
			   "window [0x%llx, 0x%llx)", *why ? "; " : "", text_dump, START_KERNEL_MAP,
			   START_KERNEL_MAP + KERNEL_IMAGE_SIZE);

	if (!vml->linux_banner || !vml->banner || !vml->banner_len) {
		buf_append(why, sizeof(why), "%sthe vmlinux has no linux_banner: nothing to check against",
			   *why ? "; " : "");
	} else {
		uint64_t bva = vml->linux_banner + off;
		uint64_t bpa = image_paddr(vml->linux_banner, off, cand->phys_base), pa;
		enum kaslr_status st;

		if (banner_cmp_phys(ctx, vml, bpa, one, sizeof(one)) == 1)
			checks |= KASLR_V_BANNER;
		else
			buf_append(why, sizeof(why), "%s%s", *why ? "; " : "", one);
		if (pg) {
			st = kaslr_vtop(ctx, pg, bva, &pa, NULL);
			if (st == KASLR_OK && pa == bpa)
				checks |= KASLR_V_PAGETABLE;
			else if (st == KASLR_OK)
				buf_append(why, sizeof(why), "%sthe page tables map linux_banner 0x%" PRIx64
					   " to 0x%" PRIx64 ", not to 0x%" PRIx64 " as phys_base says",
					   *why ? "; " : "", bva, pa, bpa);
			else
				buf_append(why, sizeof(why), "%slinux_banner 0x%" PRIx64 ": %s", *why ? "; " : "",
					   bva, ctx->err);
		}
	}
	switch (reloc_check(ctx, vml, off, cand->phys_base, one, sizeof(one))) {
	case 1:
		checks |= KASLR_V_RELOC;
		break;
	case -1:
		reloc_wrong = 1;
		buf_append(why, sizeof(why), "%s%s", *why ? "; " : "", one);
		break;
	default:
		break;
	}
	cand->checks = checks;
	need = KASLR_V_BANNER | KASLR_V_ALIGNED | KASLR_V_WINDOW | (pg ? KASLR_V_PAGETABLE : 0);
	/*
	 * The banner only proves phys_base + KERNELOFFSET: (offset + 2 MiB,
	 * phys_base - 2 MiB) reads the same bytes.  The offset itself needs
	 * one of: relocated pointers, page tables mapping the banner's VA, or
	 * the kernel's own vmcoreinfo (the caller's KASLR_V_VMCOREINFO).
	 */
	if ((checks & need) == need && !reloc_wrong &&
	    !(checks & (KASLR_V_RELOC | KASLR_V_PAGETABLE | KASLR_V_VMCOREINFO))) {
		buf_append(why, sizeof(why), "%snothing proves the offset apart from phys_base (%s; no page "
			   "tables, no kernel vmcoreinfo): only their sum is checked", *why ? "; " : "", one);
	} else if ((checks & need) == need && !reloc_wrong) {
		cand->status = KASLR_OK;
		return KASLR_OK;
	}
	cand->status = KASLR_NOTFOUND;
	set_err(ctx, "offset 0x%" PRIx64 " phys_base %s0x%" PRIx64 " fails: %s", off,
		cand->phys_base < 0 ? "-" : "",
		cand->phys_base < 0 ? -(uint64_t)cand->phys_base : (uint64_t)cand->phys_base, why);
	return KASLR_NOTFOUND;
}

/* "0x..." or "-0x..." for a signed phys_base. */
static const char *pb_str(char *buf, size_t size, int64_t pb)
{
	if (pb < 0)
		snprintf(buf, size, "-0x%" PRIx64, -(uint64_t)pb);
	else
		snprintf(buf, size, "0x%" PRIx64, (uint64_t)pb);
	return buf;
}

/* Append " (...failure...)" to a candidate's note, as room allows. */
static void cand_note_failure(struct kaslr_candidate *cand, const char *why)
{
	buf_append(cand->note, sizeof(cand->note), "; %s", why);
}

/* ---- Method 1 ------------------------------------------------------------ */

/*
 * PGD halves to try.  With PTI the kernel PGD is the even page of an
 * 8 KiB pair and the user one at +4 KiB.  Without PTI a PGD may sit at
 * any page, so CR3 is taken as it is, and the even page only as a second
 * try in case the vmlinux's PTI symbols were missed.
 */
static int pgd_halves(const struct kaslr_vmlinux *vml, const struct kaslr_cpu_regs *regs, int halves[2])
{
	if (vml->has_pti) {
		halves[0] = 0;
		halves[1] = 1;
		return 2;
	}
	halves[0] = KASLR_PGD_AS_IS;
	halves[1] = 0;
	return (regs->cr3 & PTI_USER_PGD_BIT) ? 2 : 1;
}

/*
 * Try every 2 MiB slot of the window for the one whose linux_banner
 * translates to the vmlinux's banner.  At most 512 slots.
 */
static enum kaslr_status banner_search(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				       const struct kaslr_paging *pg, struct kaslr_candidate *cand)
{
	uint64_t text = vml_text(vml), first, stop, off;
	char *buf;

	if (!vml->linux_banner || !vml->banner || !vml->banner_len || !text)
		return KASLR_NODATA;
	buf = malloc(vml->banner_len);
	if (!buf)
		return KASLR_NOMEM;
	/* Offsets (mod 2^64) putting _text inside the window, 2 MiB aligned, lowest first. */
	first = (START_KERNEL_MAP - text + KASLR_ALIGN - 1) & ~(KASLR_ALIGN - 1);
	stop = START_KERNEL_MAP + KERNEL_IMAGE_SIZE - text;
	for (off = first; off - first < stop - first; off += KASLR_ALIGN) {
		struct kaslr_candidate c = *cand;
		uint64_t bva = vml->linux_banner + off, bpa, tpa;

		if (virt_read(ctx, pg, bva, buf, vml->banner_len) != KASLR_OK ||
		    memcmp(buf, vml->banner, vml->banner_len))
			continue;
		if (kaslr_vtop(ctx, pg, text + off, &tpa, NULL) == KASLR_OK)
			c.phys_base = (int64_t)(tpa - (text + off - START_KERNEL_MAP));
		else if (kaslr_vtop(ctx, pg, bva, &bpa, NULL) == KASLR_OK)
			c.phys_base = (int64_t)(bpa - (bva - START_KERNEL_MAP));
		else
			continue;
		c.kernel_offset = off;
		if (kaslr_verify(ctx, vml, pg, &c) == KASLR_OK) {
			char pbs[32];

			cand_note(&c, "banner found through slot 0x%" PRIx64 " (phys_base %s); lowest "
				  "mapping did not verify", off, pb_str(pbs, sizeof(pbs), c.phys_base));
			*cand = c;
			free(buf);
			return KASLR_OK;
		}
	}
	free(buf);
	return KASLR_NOTFOUND;
}

/*
 * Method 1 on one paging context: the lowest mapping of the image window,
 * then, if that does not verify, the banner search.  @cand comes in
 * initialised (method, cpu) and holds the verified answer on KASLR_OK.
 * Otherwise *found_ret says whether @cand holds values that failed
 * verification, and the reason is appended to @why, prefixed with @pgname.
 * @note_extra is appended to the candidate's note (", user PGD").
 *
 * @returns KASLR_OK, KASLR_NOMEM, or the status of the window walk
 * (KASLR_NOTFOUND when values were found but failed).
 */
static enum kaslr_status method1_on(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				    const struct kaslr_paging *pg, const char *pgname, const char *note_extra,
				    struct kaslr_candidate *cand, int *found_ret, char *why, size_t whysize)
{
	uint64_t text = vml_text(vml), va, pa, size;
	enum kaslr_status st, walk;

	*found_ret = 0;
	cand->pgd_paddr = pg->root_paddr;
	cand->levels = pg->levels;
	walk = kaslr_first_mapping(ctx, pg, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE, &va, &pa,
				   &size);
	if (walk == KASLR_OK) {
		char pbs[32];

		cand->kernel_offset = va - text;
		cand->phys_base = (int64_t)(pa - (va - START_KERNEL_MAP));
		cand_note(cand, "first text mapping 0x%" PRIx64 " -> 0x%" PRIx64 " (%s page)%s%s", va, pa,
			  size_name(size), pg->sme_mask ? ", SME" : "", note_extra);
		if (kaslr_verify(ctx, vml, pg, cand) == KASLR_OK)
			return KASLR_OK;
		buf_append(why, whysize, "%s%s: first text mapping 0x%" PRIx64 " -> 0x%" PRIx64
			   " gives offset 0x%" PRIx64 " phys_base %s, which fails: %s",
			   *why ? "; " : "", pgname, va, pa, cand->kernel_offset,
			   pb_str(pbs, sizeof(pbs), cand->phys_base), strstr(ctx->err, "fails: ") ?
			   strstr(ctx->err, "fails: ") + 7 : ctx->err);
		*found_ret = 1;
		walk = KASLR_NOTFOUND;
	} else {
		buf_append(why, whysize, "%s%s: %s", *why ? "; " : "", pgname, ctx->err);
		/*
		 * A complete walk that met no leaf: nothing in the window is
		 * mapped, so no slot's banner can translate either.
		 */
		if (walk == KASLR_NOTFOUND)
			return walk;
	}
	st = banner_search(ctx, vml, pg, cand);
	if (st == KASLR_OK || st == KASLR_NOMEM)
		return st;
	return walk;
}

/* Method 1 on one CPU; @pg_ret gets the paging context of the answer. */
static enum kaslr_status pagetables_one(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret,
					struct kaslr_paging *pg_ret)
{
	struct kaslr_candidate first_c;
	struct kaslr_paging first_pg;
	char why[KASLR_ERRLEN] = "";
	int halves[2], nh, h, have_first = 0;
	enum kaslr_status st, worst = KASLR_NOTFOUND;

	cand_init(cand_ret, KASLR_M_PAGETABLE, regs->cpu);
	if (!vml_text(vml)) {
		set_err(ctx, "the vmlinux has neither _text nor _stext");
		cand_note(cand_ret, "%s", ctx->err);
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	nh = pgd_halves(vml, regs, halves);
	for (h = 0; h < nh; h++) {
		const char *hname = halves[h] == 1 ? "user PGD" : halves[h] == 0 ? "kernel PGD" : "PGD";
		struct kaslr_paging pg;
		struct kaslr_candidate c;
		int found;

		st = kaslr_paging_from_regs(ctx, regs, halves[h], &pg);
		if (st != KASLR_OK) {
			cand_note(cand_ret, "%s", ctx->err);
			cand_ret->status = st;
			return st;	/* CR3 itself is unusable: same for both halves */
		}
		cand_init(&c, KASLR_M_PAGETABLE, regs->cpu);
		st = method1_on(ctx, vml, &pg, hname, halves[h] == 1 ? ", user PGD" : "", &c, &found, why,
				sizeof(why));
		if (st == KASLR_OK) {
			*cand_ret = c;
			if (pg_ret)
				*pg_ret = pg;
			return KASLR_OK;
		}
		if (st == KASLR_NOMEM) {
			cand_ret->status = st;
			return st;
		}
		if (found && !have_first) {
			first_c = c;
			first_pg = pg;
			cand_note_failure(&first_c, "fails verification");
			have_first = 1;
		} else if (!found && st != KASLR_NOTFOUND) {
			worst = st;
		}
	}
	if (have_first) {
		*cand_ret = first_c;
		if (pg_ret)
			*pg_ret = first_pg;
	} else {
		cand_note(cand_ret, "%s", why);
	}
	cand_ret->status = have_first ? KASLR_NOTFOUND : worst;
	set_err(ctx, "cpu %d page tables: %s", regs->cpu, why);
	return cand_ret->status;
}

enum kaslr_status kaslr_from_pagetables(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret)
{
	return pagetables_one(ctx, vml, regs, cand_ret, NULL);
}

/* ---- Method 2 ------------------------------------------------------------ */

static enum kaslr_status idt_one(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret,
				 struct kaslr_paging *pg_ret)
{
	uint64_t text = vml_text(vml);
	struct kaslr_candidate first_c;
	struct kaslr_paging first_pg;
	char why[KASLR_ERRLEN] = "";
	int halves[2], nh, h, have_first = 0;
	enum kaslr_status st, worst = KASLR_NOTFOUND;

	cand_init(cand_ret, KASLR_M_IDT, regs->cpu);
	if (!(regs->valid & KASLR_REG_IDTR) || !regs->idtr_base || !regs->idtr_limit) {
		set_err(ctx, "cpu %d: IDTR is empty (base 0x%" PRIx64 ", limit 0x%x)", regs->cpu,
			regs->idtr_base, regs->idtr_limit);
		goto nodata;
	}
	if (regs->idtr_limit < 15) {
		set_err(ctx, "cpu %d: IDTR limit 0x%x cannot hold gate 0", regs->cpu, regs->idtr_limit);
		goto nodata;
	}
	if (!vml->divide_error) {
		set_err(ctx, "the vmlinux has neither asm_exc_divide_error nor divide_error");
		goto nodata;
	}
	nh = pgd_halves(vml, regs, halves);
	for (h = 0; h < nh; h++) {
		const char *hname = halves[h] == 1 ? "user PGD" : halves[h] == 0 ? "kernel PGD" : "PGD";
		unsigned char g[16];
		struct kaslr_paging pg;
		struct kaslr_candidate c;
		uint64_t idt_pa, handler, tpa;
		unsigned type, present;
		char pbs[32];

		st = kaslr_paging_from_regs(ctx, regs, halves[h], &pg);
		if (st != KASLR_OK) {
			cand_note(cand_ret, "%s", ctx->err);
			cand_ret->status = st;
			return st;
		}
		st = kaslr_vtop(ctx, &pg, regs->idtr_base, &idt_pa, NULL);
		if (st == KASLR_OK)
			st = virt_read(ctx, &pg, regs->idtr_base, g, sizeof(g));
		if (st != KASLR_OK) {
			buf_append(why, sizeof(why), "%s%s: IDT 0x%" PRIx64 ": %s", *why ? "; " : "", hname,
				   regs->idtr_base, ctx->err);
			if (st != KASLR_NOTFOUND)
				worst = st;
			continue;
		}
		if (gate_handler(g, &handler, &type, &present) < 0) {
			buf_append(why, sizeof(why), "%s%s: IDT gate 0 at 0x%" PRIx64 " is not a present "
				   "interrupt/trap gate (type 0x%x, P=%u)", *why ? "; " : "", hname, idt_pa,
				   type, present);
			worst = KASLR_CORRUPT;
			continue;
		}
		cand_init(&c, KASLR_M_IDT, regs->cpu);
		c.pgd_paddr = pg.root_paddr;
		c.levels = pg.levels;
		c.kernel_offset = handler - vml->divide_error;
		if (text && kaslr_vtop(ctx, &pg, text + c.kernel_offset, &tpa, NULL) == KASLR_OK) {
			c.phys_base = (int64_t)(tpa - (text + c.kernel_offset - START_KERNEL_MAP));
			cand_note(&c, "IDT 0x%" PRIx64 " gate 0 -> 0x%" PRIx64 "; _text -> 0x%" PRIx64,
				  regs->idtr_base, handler, tpa);
		} else if (vml->idt_table) {
			/* The IDTR page is idt_table's (itself or its cpu_entry_area alias). */
			c.phys_base = (int64_t)((idt_pa & PAGE_MASK_4K) -
						(vml->idt_table + c.kernel_offset - START_KERNEL_MAP));
			cand_note(&c, "IDT 0x%" PRIx64 " (0x%" PRIx64 ") gate 0 -> 0x%" PRIx64
				  "; phys_base from idt_table", regs->idtr_base, idt_pa, handler);
		} else {
			buf_append(why, sizeof(why), "%s%s: handler 0x%" PRIx64 " found, but _text+offset is "
				   "unmapped and the vmlinux has no idt_table", *why ? "; " : "", hname,
				   handler);
			continue;
		}
		if (kaslr_verify(ctx, vml, &pg, &c) == KASLR_OK) {
			*cand_ret = c;
			if (pg_ret)
				*pg_ret = pg;
			return KASLR_OK;
		}
		buf_append(why, sizeof(why), "%s%s: IDT gate 0 handler 0x%" PRIx64 " gives offset 0x%" PRIx64
			   " phys_base %s, which fails (does the handler match %s?): %s",
			   *why ? "; " : "", hname, handler, c.kernel_offset,
			   pb_str(pbs, sizeof(pbs), c.phys_base), "asm_exc_divide_error/divide_error",
			   strstr(ctx->err, "fails: ") ? strstr(ctx->err, "fails: ") + 7 : ctx->err);
		if (!have_first) {
			first_c = c;
			first_pg = pg;
			cand_note_failure(&first_c, "fails verification");
			have_first = 1;
		}
	}
	if (have_first) {
		*cand_ret = first_c;
		if (pg_ret)
			*pg_ret = first_pg;
	} else {
		cand_note(cand_ret, "%s", why);
	}
	cand_ret->status = have_first ? KASLR_NOTFOUND : worst;
	set_err(ctx, "cpu %d IDT: %s", regs->cpu, why);
	return cand_ret->status;

nodata:
	cand_note(cand_ret, "%s", ctx->err);
	cand_ret->status = KASLR_NODATA;
	return KASLR_NODATA;
}

enum kaslr_status kaslr_from_idt(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				 const struct kaslr_cpu_regs *regs, struct kaslr_candidate *cand_ret)
{
	return idt_one(ctx, vml, regs, cand_ret, NULL);
}

/* ---- Method 3 ------------------------------------------------------------ */

/*
 * Physical address of a kernel pointer (@va): the page tables when given,
 * else the kernel image (START_KERNEL_MAP + phys_base) or the direct map
 * (page_offset_base, random since 4.8 with CONFIG_RANDOMIZE_MEMORY).
 */
static enum kaslr_status ptr_to_phys(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     const struct kaslr_paging *pg, uint64_t kernel_offset, int64_t phys_base,
				     uint64_t va, uint64_t *pa_ret)
{
	uint64_t page_offset;

	if (pg && kaslr_vtop(ctx, pg, va, pa_ret, NULL) == KASLR_OK)
		return KASLR_OK;
	if (va >= START_KERNEL_MAP) {
		*pa_ret = va - START_KERNEL_MAP + (uint64_t)phys_base;
		return KASLR_OK;
	}
	if (vml->page_offset_base) {
		uint64_t at = image_paddr(vml->page_offset_base, kernel_offset, phys_base);

		if (phys_read_u64(ctx, at, &page_offset)) {
			set_err(ctx, "page_offset_base at 0x%" PRIx64 " is not in the dump", at);
			return KASLR_NODATA;
		}
		/* Randomized within the direct-map region, 1 GiB aligned (arch/x86/mm/kaslr.c). */
		if (!(page_offset >> 63) || page_offset >= START_KERNEL_MAP || page_offset % SIZE_1G) {
			set_err(ctx, "page_offset_base reads 0x%" PRIx64 ", not a direct-map base", page_offset);
			return KASLR_CORRUPT;
		}
	} else if (pg && pg->levels == 5) {
		page_offset = va < PAGE_OFFSET_5L && va >= PAGE_OFFSET_5L_OLD ? PAGE_OFFSET_5L_OLD : PAGE_OFFSET_5L;
	} else {
		/* Below the 4.20 base but above the old one: only the old layout explains it. */
		page_offset = va < PAGE_OFFSET_4L && va >= PAGE_OFFSET_4L_OLD ? PAGE_OFFSET_4L_OLD : PAGE_OFFSET_4L;
	}
	if (va < page_offset) {
		set_err(ctx, "pointer 0x%" PRIx64 " is below the direct map (0x%" PRIx64 ")", va, page_offset);
		return KASLR_CORRUPT;
	}
	*pa_ret = va - page_offset;
	return KASLR_OK;
}

enum kaslr_status kaslr_vmci_read_ram(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				      const struct kaslr_paging *pg, uint64_t kernel_offset,
				      int64_t phys_base, char **text_ret, uint64_t *paddr_ret)
{
	uint64_t data_pa, text_pa, ptr, size = VMCI_MAX;
	struct kaslr_vmci vmci;
	char perr[200], *text;
	enum kaslr_status st;
	size_t len;

	*text_ret = NULL;
	if (!vml->vmcoreinfo_data) {
		set_err(ctx, "the vmlinux has no vmcoreinfo_data (kernel without CONFIG_CRASH_CORE/KEXEC?)");
		return KASLR_NODATA;
	}
	data_pa = image_paddr(vml->vmcoreinfo_data, kernel_offset, phys_base);
	if (vml->vmcoreinfo_data_is_array) {
		text_pa = data_pa;	/* before 4.13 the text is a static array */
	} else {
		if (phys_read_u64(ctx, data_pa, &ptr)) {
			set_err(ctx, "vmcoreinfo_data at 0x%" PRIx64 " is not in the dump", data_pa);
			return KASLR_NODATA;
		}
		if (!ptr) {
			set_err(ctx, "vmcoreinfo_data is NULL (the kernel never set up its vmcoreinfo)");
			return KASLR_NOTFOUND;
		}
		st = ptr_to_phys(ctx, vml, pg, kernel_offset, phys_base, ptr, &text_pa);
		if (st != KASLR_OK)
			return st;
	}
	if (vml->vmcoreinfo_size) {
		uint64_t size_pa = image_paddr(vml->vmcoreinfo_size, kernel_offset, phys_base);

		if (phys_read_u64(ctx, size_pa, &size)) {
			set_err(ctx, "vmcoreinfo_size at 0x%" PRIx64 " is not in the dump", size_pa);
			return KASLR_NODATA;
		}
		if (size < 1 || size > VMCI_MAX) {
			set_err(ctx, "vmcoreinfo_size is %" PRIu64 ", not 1..%d", size, VMCI_MAX);
			return KASLR_CORRUPT;
		}
	}
	text = malloc(size + 1);
	if (!text)
		return KASLR_NOMEM;
	if (phys_read(ctx, text_pa, text, size)) {
		set_err(ctx, "vmcoreinfo text at 0x%" PRIx64 " is not in the dump", text_pa);
		free(text);
		return KASLR_NODATA;
	}
	text[size] = '\0';
	len = strlen(text);
	if (strncmp(text, "OSRELEASE=", 10)) {
		char shown[24];

		printable(shown, sizeof(shown), text, len < 16 ? len : 16);
		set_err(ctx, "no vmcoreinfo at 0x%" PRIx64 " (reads '%s')", text_pa, shown);
		free(text);
		return KASLR_NOTFOUND;
	}
	st = kaslr_vmci_parse(text, len, &vmci, perr, sizeof(perr));
	if (st != KASLR_OK) {
		set_err(ctx, "vmcoreinfo at 0x%" PRIx64 ": %s", text_pa, perr);
		free(text);
		return st;
	}
	kaslr_vmci_free(&vmci);
	*text_ret = text;
	if (paddr_ret)
		*paddr_ret = text_pa;
	return KASLR_OK;
}

/* Fill a copy record from parsed text. */
static void copy_from_vmci(struct kaslr_vmci_copy *copy, const struct kaslr_vmci *vmci, uint64_t paddr,
			   size_t len)
{
	const char *v;

	memset(copy, 0, sizeof(*copy));
	copy->paddr = paddr;
	copy->len = len;
	v = kaslr_vmci_get(vmci, "OSRELEASE");
	if (v)
		snprintf(copy->osrelease, sizeof(copy->osrelease), "%s", v);
	v = kaslr_vmci_get(vmci, "BUILD-ID");
	if (v)
		snprintf(copy->build_id, sizeof(copy->build_id), "%s", v);
	copy->has_offset = !kaslr_vmci_kernel_offset(vmci, &copy->kernel_offset);
	copy->has_phys_base = !kaslr_vmci_phys_base(vmci, &copy->phys_base);
}

/*
 * Does a copy describe this vmlinux in this dump?  OSRELEASE (and BUILD-ID
 * where both have one) must match, and its values must pass kaslr_verify.
 * Sets copy->verified, copy->checks and copy->why (also in ctx->err).
 */
static int copy_verify(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, struct kaslr_vmci_copy *copy)
{
	struct kaslr_candidate c;

	copy->verified = 0;
	copy->checks = 0;
	copy->why[0] = '\0';
	if (vml->osrelease[0] && strcmp(copy->osrelease, vml->osrelease)) {
		set_err(ctx, "vmcoreinfo at 0x%" PRIx64 " is for %s, the vmlinux is %s", copy->paddr,
			copy->osrelease, vml->osrelease);
	} else if (vml->build_id[0] && copy->build_id[0] && strcasecmp(copy->build_id, vml->build_id)) {
		set_err(ctx, "vmcoreinfo at 0x%" PRIx64 " has BUILD-ID %s, the vmlinux %s", copy->paddr,
			copy->build_id, vml->build_id);
	} else if (!copy->has_offset || !copy->has_phys_base) {
		set_err(ctx, "vmcoreinfo at 0x%" PRIx64 " lacks %s", copy->paddr,
			!copy->has_offset ? "KERNELOFFSET" : "NUMBER(phys_base) (kernel before 4.10?)");
	} else {
		cand_init(&c, KASLR_M_SCAN, -1);
		c.kernel_offset = copy->kernel_offset;
		c.phys_base = copy->phys_base;
		/* The values are the kernel's own record of the split (kaslr_verify). */
		c.checks = KASLR_V_VMCOREINFO;
		copy->verified = kaslr_verify(ctx, vml, NULL, &c) == KASLR_OK;
		copy->checks = c.checks;
		if (copy->verified)
			return 1;
	}
	str_copy(copy->why, sizeof(copy->why), ctx->err);
	return 0;
}

/* ---- Method 5 ------------------------------------------------------------ */

/* The scans' piece size: SCAN_CHUNK, or less when no range is that long. */
static size_t scan_chunk(const struct kaslr_ctx *ctx)
{
	uint64_t longest = 0;
	int r;

	for (r = 0; r < ctx->nr_ranges; r++)
		if (ctx->ranges[r].end > ctx->ranges[r].start &&
		    ctx->ranges[r].end - ctx->ranges[r].start > longest)
			longest = ctx->ranges[r].end - ctx->ranges[r].start;
	longest = (longest + PAGE_SIZE_4K - 1) & PAGE_MASK_4K;
	return longest && longest < SCAN_CHUNK ? (size_t)longest : SCAN_CHUNK;
}

/*
 * What a page starting with @head (VMCI_HEAD bytes) holds: 0 nothing, 1 the text
 * itself, 2 a VMCOREINFO ELF note (to be confirmed on the full page).
 */
static int vmci_page_kind(const unsigned char *head)
{
	if (!memcmp(head, "OSRELEASE=", 10))
		return 1;
	if (le32(head) == 11 && le32(head + 8) == 0 && le32(head + 4) > 10 && !memcmp(head + 12, "VMCO", 4))
		return 2;
	return 0;
}

enum kaslr_status kaslr_vmci_scan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				  struct kaslr_vmci_copy *copies, int max, int *nr_ret,
				  int stop_first_verified)
{
	uint64_t total = 0, done = 0, next_report = SCAN_PROGRESS_STEP;
	int r, n = 0, nr_bad = 0, stop = 0;
	unsigned char *page, *win;
	size_t chunk;

	*nr_ret = 0;
	if (!ctx->ranges || ctx->nr_ranges <= 0) {
		set_err(ctx, "the dump's physical memory ranges are unknown: cannot scan for vmcoreinfo");
		return KASLR_NODATA;
	}
	for (r = 0; r < ctx->nr_ranges; r++)
		if (ctx->ranges[r].end > ctx->ranges[r].start)
			total += ctx->ranges[r].end - ctx->ranges[r].start;
	chunk = scan_chunk(ctx);
	page = malloc(PAGE_SIZE_4K + 1);
	win = malloc(chunk);
	if (!page || !win) {
		free(page);
		free(win);
		return KASLR_NOMEM;
	}

	for (r = 0; r < ctx->nr_ranges && !stop; r++) {
		uint64_t start = ctx->ranges[r].start, end = ctx->ranges[r].end, w, p;
		size_t wlen;

		if (end <= start)
			continue;
		for (w = (start + PAGE_SIZE_4K - 1) & PAGE_MASK_4K; w < end && w >= start &&
		     end - w >= VMCI_HEAD && !stop; w += wlen) {
			const unsigned char *whole;

			wlen = end - w < chunk ? (size_t)(end - w) : chunk;
			whole = ctx->read_phys(ctx->priv, w, win, wlen) ? NULL : win;
			for (p = w; p < w + wlen && p >= w && end - p >= VMCI_HEAD && !stop; p += PAGE_SIZE_4K) {
				size_t avail = end - p < PAGE_SIZE_4K ? (size_t)(end - p) : PAGE_SIZE_4K;
				struct kaslr_vmci_copy tmp, *slot;
				struct kaslr_vmci vmci;
				size_t off = 0, lim;
				char perr[160];
				int kind;

				if (ctx->progress && done + (p - start) >= next_report) {
					uint64_t d = done + (p - start);

					ctx->progress(ctx->priv, d, total);
					next_report = (d / SCAN_PROGRESS_STEP + 1) * SCAN_PROGRESS_STEP;
				}
				if (whole) {
					kind = vmci_page_kind(whole + (p - w));
					if (kind)
						memcpy(page, whole + (p - w), avail);
				} else {
					/* Page by page: the head, then the rest only when it looks right. */
					if (ctx->read_phys(ctx->priv, p, page, VMCI_HEAD))
						continue;
					kind = vmci_page_kind(page);
					if (kind && avail > VMCI_HEAD &&
					    ctx->read_phys(ctx->priv, p + VMCI_HEAD, page + VMCI_HEAD,
							   avail - VMCI_HEAD))
						continue;
				}
				if (!kind)
					continue;
				page[avail] = '\0';
				lim = avail;
				if (kind == 2) {
					uint32_t descsz = le32(page + 4);

					if (avail < VMCI_NOTE_TEXT_OFF + 10 || memcmp(page + 12, "VMCOREINFO\0", 11))
						continue;
					off = VMCI_NOTE_TEXT_OFF;
					lim = avail - off < descsz ? avail - off : descsz;
					if (strncmp((char *)page + off, "OSRELEASE=", 10))
						continue;
				}
				lim = strnlen((char *)page + off, lim);
				if (kaslr_vmci_parse((char *)page + off, lim, &vmci, perr, sizeof(perr)) != KASLR_OK) {
					nr_bad++;
					continue;
				}
				/*
				 * Past @max a copy is only counted, unless the caller
				 * wants the first verified one: then it is checked, and
				 * kept in the last slot if it verifies.
				 */
				slot = n < max ? &copies[n] : &tmp;
				copy_from_vmci(slot, &vmci, p + off, lim);
				kaslr_vmci_free(&vmci);
				if (slot != &tmp || stop_first_verified)
					copy_verify(ctx, vml, slot);
				if (slot->verified && stop_first_verified) {
					if (slot == &tmp && max > 0)
						copies[max - 1] = tmp;
					stop = 1;
				}
				n++;
			}
		}
		done += end - start;
	}
	free(page);
	free(win);
	if (ctx->progress)
		ctx->progress(ctx->priv, total, total);
	*nr_ret = n;
	if (!n) {
		set_err(ctx, "no page of the dump (%" PRIu64 " MiB scanned) starts with a vmcoreinfo text or "
			"note%s", total >> 20, nr_bad ? " that parses" : "");
		return KASLR_NOTFOUND;
	}
	return KASLR_OK;
}

/* ---- Method 6 ------------------------------------------------------------ */

/*
 * Bits 52..62 of a table (non-leaf) entry: ignored by the CPU, never set
 * by Linux (its software bits and protection keys live in leaf entries).
 * Bit 63 (XD) is allowed: with PTI the kernel PGD marks user-half entries
 * NX (pti_set_user_pgtbl, 4.15).
 */
#define PTE_TABLE_HIGH_BITS	0x7ff0000000000000ULL
/* User-half entries a PGD may have; pages with more are taken for lower-level tables. */
#define PTSCAN_MAX_USER		128
/* Tables with user-half entries kept for the second round. */
#define PTSCAN_MAX_DEFERRED	4096
/* Entry indexes leading to START_KERNEL_MAP: PGD (and P4D) 511, PUD 510. */
#define KMAP_TOP_INDEX		((START_KERNEL_MAP >> 39) & 511)
#define KMAP_PUD_INDEX		((START_KERNEL_MAP >> 30) & 511)
/* Bytes the first failure reason keeps for the final message. */
#define PTSCAN_WHY		200
/* Distinct entry-511 tables remembered, so that PGDs sharing one are tried once. */
#define PTSCAN_MAX_TRIED	256

/* A page that looks like a top-level table. */
struct pt_table {
	uint64_t paddr;
	uint64_t next_pa;	/* the table entry 511 points to */
	uint64_t sme_mask;
	int nr_user;		/* present user-half entries */
	unsigned levels;	/* plausible depths: bit 4, bit 5 */
};

/*
 * Is @e a present table entry (PS clear, bits 52..62 clear) whose table,
 * @sme_mask stripped, lies in the dump?  @pa_ret gets that address.
 */
static int table_entry_ok(const struct kaslr_ctx *ctx, uint64_t e, uint64_t sme_mask, uint64_t *pa_ret)
{
	uint64_t pa = e & PTE_ADDR_MASK & ~sme_mask;

	if (!(e & PTE_PRESENT) || (e & PTE_PSE) || (e & PTE_TABLE_HIGH_BITS) || !pa)
		return 0;
	if (in_dump(ctx, pa) != 1)
		return 0;
	*pa_ret = pa;
	return 1;
}

/*
 * Entry 511 of a PGD candidate: a table entry into the dump, as it is or
 * with an SME C-bit stripped (its highest address bit, 32 or above, as in
 * kaslr_paging_from_regs).  @sme_ret gets the C-bit (0 if none).
 */
static int top_entry_ok(const struct kaslr_ctx *ctx, uint64_t e, uint64_t *sme_ret, uint64_t *pa_ret)
{
	uint64_t addr = e & PTE_ADDR_MASK;

	*sme_ret = 0;
	if (table_entry_ok(ctx, e, 0, pa_ret))
		return 1;
	if (addr >> 32) {
		uint64_t bit = 1ULL << (63 - __builtin_clzll(addr));

		if (table_entry_ok(ctx, e, bit, pa_ret)) {
			*sme_ret = bit;
			return 1;
		}
	}
	return 0;
}

/*
 * The full page @t: every entry zero or a table entry into the dump.
 * @returns the number of user-half entries, or -1 if it is no PGD.
 */
static int pgd_page_check(const struct kaslr_ctx *ctx, const unsigned char *t, uint64_t sme_mask)
{
	int i, nr_user = 0;
	uint64_t pa;

	for (i = 0; i < 512; i++) {
		uint64_t e = le64(t + (size_t)i * 8);

		if (!e)
			continue;
		/* Linux clears PGD entries to 0 (pgd_clear); no swap entries at this level. */
		if (!table_entry_ok(ctx, e, sme_mask, &pa))
			return -1;
		if (i < 256 && ++nr_user > PTSCAN_MAX_USER)
			return -1;
	}
	return nr_user;
}

/*
 * Depths at which the table whose entry 511 points at @next_pa could map
 * START_KERNEL_MAP: bit 4 when @next_pa, as the PUD, has entry 510 present;
 * bit 5 when, as the P4D, its entry 511 leads to a PUD with entry 510
 * present.  Two small reads, each inside one page.
 */
static unsigned pt_levels(struct kaslr_ctx *ctx, uint64_t next_pa, uint64_t sme_mask)
{
	unsigned char b[16];
	uint64_t e, pud_pa;
	unsigned levels = 0;

	/* Entries 510 and 511 are adjacent: one 16-byte read. */
	if (ctx->read_phys(ctx->priv, next_pa + KMAP_PUD_INDEX * 8, b, sizeof(b)))
		return 0;
	ctx->nr_reads += 2;
	if (le64(b) & PTE_PRESENT)
		levels |= 1u << 4;
	if (table_entry_ok(ctx, le64(b + 8), sme_mask, &pud_pa) &&
	    !phys_read_u64(ctx, pud_pa + KMAP_PUD_INDEX * 8, &e)) {
		ctx->nr_reads++;
		if (e & PTE_PRESENT)
			levels |= 1u << 5;
	}
	return levels;
}

struct ptscan {
	struct kaslr_ctx *ctx;
	const struct kaslr_vmlinux *vml;
	struct kaslr_candidate *cands;
	struct kaslr_paging *pgs;	/* may be NULL */
	int max, n, nr_verified;
	char first_why[PTSCAN_WHY];
	uint64_t tried[PTSCAN_MAX_TRIED];	/* next_pa of the tables tried */
	int nr_tried;
};

/* Keep a tried table's candidate; past @max only a verified one, in the last slot. */
static void ptscan_record(struct ptscan *ps, const struct kaslr_candidate *c, const struct kaslr_paging *pg)
{
	int slot = ps->n < ps->max ? ps->n : c->status == KASLR_OK && ps->max > 0 ? ps->max - 1 : -1;

	if (slot >= 0) {
		ps->cands[slot] = *c;
		if (ps->pgs)
			ps->pgs[slot] = *pg;
	}
	ps->n++;
}

/*
 * Method 1 on one table, at each plausible depth.  Method 1 reads nothing
 * but the subtree of entry 511, which every PGD shares with init_top_pgt
 * (pgd_alloc() copies the kernel half), so a table whose entry 511 points
 * where an earlier one's did is skipped: @returns KASLR_NODATA.
 * @returns KASLR_OK if verified, KASLR_NOTFOUND, KASLR_NOMEM.
 */
static enum kaslr_status ptscan_try(struct ptscan *ps, const struct pt_table *t)
{
	struct kaslr_candidate c, first_c;
	struct kaslr_paging pg, first_pg;
	char why[KASLR_ERRLEN], pgname[64];
	int i, levels, found, have_first = 0;
	enum kaslr_status st;

	for (i = 0; i < ps->nr_tried; i++)
		if (ps->tried[i] == t->next_pa)
			return KASLR_NODATA;
	if (ps->nr_tried < PTSCAN_MAX_TRIED)
		ps->tried[ps->nr_tried++] = t->next_pa;
	why[0] = '\0';
	for (levels = 4; levels <= 5; levels++) {
		if (!(t->levels & (1u << levels)))
			continue;
		memset(&pg, 0, sizeof(pg));
		pg.root_paddr = t->paddr;
		pg.levels = levels;
		pg.sme_mask = t->sme_mask;
		snprintf(pgname, sizeof(pgname), "%d-level PGD at 0x%" PRIx64, levels, t->paddr);
		cand_init(&c, KASLR_M_PTSCAN, -1);
		st = method1_on(ps->ctx, ps->vml, &pg, pgname, "", &c, &found, why, sizeof(why));
		if (st == KASLR_NOMEM)
			return st;
		if (st == KASLR_OK) {
			buf_append(c.note, sizeof(c.note), "; found by scan, %d user-half entries", t->nr_user);
			ps->nr_verified++;
			ptscan_record(ps, &c, &pg);
			return KASLR_OK;
		}
		if (!have_first) {
			first_c = c;
			first_pg = pg;
			if (found)
				cand_note_failure(&first_c, "fails verification");
			else
				cand_note(&first_c, "%s", why);
			first_c.status = st;
			have_first = 1;
		}
	}
	if (!have_first)
		return KASLR_NOTFOUND;
	if (!ps->first_why[0])
		str_copy(ps->first_why, sizeof(ps->first_why), why);
	ptscan_record(ps, &first_c, &first_pg);
	return KASLR_NOTFOUND;
}

/* Fewest user-half entries first, then lowest address. */
static int pt_table_cmp(const void *a, const void *b)
{
	const struct pt_table *x = a, *y = b;

	if (x->nr_user != y->nr_user)
		return x->nr_user < y->nr_user ? -1 : 1;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/*
 * kaslr_ptscan with the paging context of each candidate in @pgs (may be
 * NULL), for kaslr_find's follow-up methods.
 */
static enum kaslr_status ptscan_run(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				    struct kaslr_candidate *cands, struct kaslr_paging *pgs, int max, int *nr_ret,
				    int stop_first_verified)
{
	uint64_t total = 0, done = 0, next_report = SCAN_PROGRESS_STEP;
	struct pt_table *deferred = NULL;
	int r, i, nr_deferred = 0, cap_deferred = 0, nr_tables = 0, nr_dropped = 0, stop = 0;
	struct ptscan ps;
	unsigned char *page, *win;
	size_t chunk;
	enum kaslr_status st;

	*nr_ret = 0;
	memset(&ps, 0, sizeof(ps));
	ps.ctx = ctx;
	ps.vml = vml;
	ps.cands = cands;
	ps.pgs = pgs;
	ps.max = cands ? max : 0;
	if (!ctx->ranges || ctx->nr_ranges <= 0) {
		set_err(ctx, "the dump's physical memory ranges are unknown: cannot scan for page tables");
		return KASLR_NODATA;
	}
	if (!vml_text(vml)) {
		set_err(ctx, "the vmlinux has neither _text nor _stext: page tables found could not be checked");
		return KASLR_NODATA;
	}
	for (r = 0; r < ctx->nr_ranges; r++)
		if (ctx->ranges[r].end > ctx->ranges[r].start)
			total += ctx->ranges[r].end - ctx->ranges[r].start;
	chunk = scan_chunk(ctx);
	page = malloc(PAGE_SIZE_4K);
	win = malloc(chunk);
	if (!page || !win) {
		free(page);
		free(win);
		return KASLR_NOMEM;
	}

	for (r = 0; r < ctx->nr_ranges && !stop; r++) {
		uint64_t start = ctx->ranges[r].start, end = ctx->ranges[r].end, w, p;
		size_t wlen;

		if (end <= start)
			continue;
		for (w = (start + PAGE_SIZE_4K - 1) & PAGE_MASK_4K; w >= start && w < end &&
		     end - w >= PAGE_SIZE_4K && !stop; w += wlen) {
			const unsigned char *whole;

			wlen = end - w < chunk ? (size_t)(end - w) : chunk;
			whole = ctx->read_phys(ctx->priv, w, win, wlen) ? NULL : win;
			for (p = w; p >= w && p < w + wlen && end - p >= PAGE_SIZE_4K && !stop; p += PAGE_SIZE_4K) {
				struct pt_table t;
				uint64_t e511, next_pa;

				if (ctx->progress && done + (p - start) >= next_report) {
					uint64_t d = done + (p - start);

					ctx->progress(ctx->priv, d, total);
					next_report = (d / SCAN_PROGRESS_STEP + 1) * SCAN_PROGRESS_STEP;
				}
				/* Pre-filter: entry 511 only (read into its place in the page). */
				if (whole)
					memcpy(page + KMAP_TOP_INDEX * 8, whole + (p - w) + KMAP_TOP_INDEX * 8, 8);
				else if (ctx->read_phys(ctx->priv, p + KMAP_TOP_INDEX * 8, page + KMAP_TOP_INDEX * 8, 8))
					continue;
				ctx->nr_reads++;
				e511 = le64(page + KMAP_TOP_INDEX * 8);
				if (!top_entry_ok(ctx, e511, &t.sme_mask, &next_pa))
					continue;
				/* The other 511 entries: entry 511 is not read again. */
				if (whole)
					memcpy(page, whole + (p - w), KMAP_TOP_INDEX * 8);
				else if (ctx->read_phys(ctx->priv, p, page, KMAP_TOP_INDEX * 8))
					continue;
				ctx->nr_reads += KMAP_TOP_INDEX;
				t.nr_user = pgd_page_check(ctx, page, t.sme_mask);
				if (t.nr_user < 0)
					continue;
				t.paddr = p;
				t.next_pa = next_pa;
				t.levels = pt_levels(ctx, next_pa, t.sme_mask);
				if (!t.levels)
					continue;
				nr_tables++;
				if (t.nr_user) {
					/* A process PGD: after every table with an empty user half. */
					if (nr_deferred == cap_deferred) {
						struct pt_table *d;
						int cap = cap_deferred ? cap_deferred * 2 : 64;

						if (cap_deferred >= PTSCAN_MAX_DEFERRED) {
							nr_dropped++;
							continue;
						}
						d = realloc(deferred, (size_t)cap * sizeof(*d));
						if (!d)
							goto nomem;
						deferred = d;
						cap_deferred = cap;
					}
					deferred[nr_deferred++] = t;
					continue;
				}
				st = ptscan_try(&ps, &t);
				if (st == KASLR_NOMEM)
					goto nomem;
				if (st == KASLR_OK && stop_first_verified)
					stop = 1;
			}
		}
		done += end - start;
	}
	if (deferred && !(stop_first_verified && ps.nr_verified)) {
		qsort(deferred, (size_t)nr_deferred, sizeof(*deferred), pt_table_cmp);
		for (i = 0; i < nr_deferred; i++) {
			st = ptscan_try(&ps, &deferred[i]);
			if (st == KASLR_NOMEM)
				goto nomem;
			if (st == KASLR_OK && stop_first_verified)
				break;
		}
	}
	free(deferred);
	free(page);
	free(win);
	if (ctx->progress)
		ctx->progress(ctx->priv, total, total);
	*nr_ret = ps.n;
	if (ps.nr_verified) {
		ctx->err[0] = '\0';
		return KASLR_OK;
	}
	if (!nr_tables)
		set_err(ctx, "no page of the dump (%" PRIu64 " MiB scanned) looks like a top-level page table "
			"mapping START_KERNEL_MAP: is kernel memory missing from the dump?", total >> 20);
	else
		set_err(ctx, "%d page(s) look like top-level page tables%s, none maps this vmlinux's kernel; "
			"first: %s", nr_tables, nr_dropped ? " (some not tried)" : "", ps.first_why);
	return KASLR_NOTFOUND;

nomem:
	free(deferred);
	free(page);
	free(win);
	*nr_ret = ps.n;
	set_err(ctx, "out of memory");
	return KASLR_NOMEM;
}

enum kaslr_status kaslr_ptscan(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			       struct kaslr_candidate *cands, int max, int *nr_ret, int stop_first_verified)
{
	return ptscan_run(ctx, vml, cands, NULL, max, nr_ret, stop_first_verified);
}

/* ---- Method 4 ------------------------------------------------------------ */

/* memparse(): number with an optional K/M/G/T/P/E suffix (lib/cmdline.c). */
static uint64_t memparse(const char *s, const char **end_ret)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'E': case 'e': v <<= 10; /* fall through */
	case 'P': case 'p': v <<= 10; /* fall through */
	case 'T': case 't': v <<= 10; /* fall through */
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10;
		end++;
		break;
	default:
		break;
	}
	*end_ret = end;
	return v;
}

/* Read a NUL-terminated string at physical @pa, at most @max bytes, stopping at the first hole. */
static size_t phys_read_string(struct kaslr_ctx *ctx, uint64_t pa, char *buf, size_t max)
{
	size_t got = 0;

	while (got + 1 < max) {
		size_t chunk = PAGE_SIZE_4K - ((pa + got) & (PAGE_SIZE_4K - 1));

		if (chunk > max - 1 - got)
			chunk = max - 1 - got;
		if (ctx->read_phys(ctx->priv, pa + got, buf + got, chunk))
			break;
		if (memchr(buf + got, '\0', chunk)) {
			got += chunk;
			break;
		}
		got += chunk;
	}
	buf[got] = '\0';
	return strlen(buf);
}

#define PT_NOTE_TYPE	4
#define EHDR_SIZE	64
#define PHDR_SIZE	56
#define MAX_NOTE_SEG	(64 << 10)

enum kaslr_status kaslr_from_elfcorehdr(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_paging *pg, uint64_t kernel_offset,
					int64_t phys_base, struct kaslr_candidate *cand_ret)
{
	unsigned char eh[EHDR_SIZE];
	char cmdline[4096], perr[160];
	const char *p, *end;
	uint64_t ptr, pa, hdr, phoff;
	unsigned phnum, phentsize, i;
	enum kaslr_status st;

	cand_init(cand_ret, KASLR_M_ELFCOREHDR, -1);
	if (!vml->saved_command_line) {
		set_err(ctx, "the vmlinux has no saved_command_line");
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	pa = image_paddr(vml->saved_command_line, kernel_offset, phys_base);
	if (phys_read_u64(ctx, pa, &ptr) || !ptr) {
		set_err(ctx, "saved_command_line at 0x%" PRIx64 " is unreadable or NULL", pa);
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	st = ptr_to_phys(ctx, vml, pg, kernel_offset, phys_base, ptr, &pa);
	if (st != KASLR_OK) {
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	phys_read_string(ctx, pa, cmdline, sizeof(cmdline));
	for (p = cmdline; (p = strstr(p, "elfcorehdr=")); p++)
		if (p == cmdline || p[-1] == ' ')
			break;
	if (!p) {
		set_err(ctx, "no elfcorehdr= in the command line: not a kdump capture kernel");
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	/* elfcorehdr=[size[KMG]@]offset[KMG] (Documentation/admin-guide/kernel-parameters.txt) */
	hdr = memparse(p + 11, &end);
	if (*end == '@')
		hdr = memparse(end + 1, &end);
	if (phys_read(ctx, hdr, eh, sizeof(eh)) || memcmp(eh, "\177ELF", 4) || eh[4] != 2 || eh[5] != 1) {
		set_err(ctx, "elfcorehdr=0x%" PRIx64 ": no 64-bit little-endian ELF header there", hdr);
		cand_ret->status = KASLR_NOTFOUND;
		return KASLR_NOTFOUND;
	}
	phoff = le64(eh + 32);
	phentsize = le16(eh + 54);
	phnum = le16(eh + 56);
	if (phentsize < PHDR_SIZE || phnum > 4096) {
		set_err(ctx, "elfcorehdr=0x%" PRIx64 ": bad program headers (%u of %u bytes)", hdr, phnum,
			phentsize);
		cand_ret->status = KASLR_CORRUPT;
		return KASLR_CORRUPT;
	}
	for (i = 0; i < phnum; i++) {
		unsigned char ph[PHDR_SIZE], *notes;
		struct kaslr_notes_info info;
		struct kaslr_vmci vmci;
		uint64_t noff, nsz, ko;
		int64_t pb;

		if (phys_read(ctx, hdr + phoff + (uint64_t)i * phentsize, ph, sizeof(ph)))
			break;
		if (le32(ph) != PT_NOTE_TYPE)
			continue;
		/* kexec puts the notes' physical address in p_offset (and p_paddr). */
		noff = le64(ph + 8);
		nsz = le64(ph + 32);
		if (!nsz || nsz > MAX_NOTE_SEG)
			continue;
		notes = malloc(nsz);
		if (!notes)
			return KASLR_NOMEM;
		if (phys_read(ctx, noff, notes, nsz)) {
			free(notes);
			continue;
		}
		kaslr_notes_parse(notes, nsz, NULL, 0, NULL, &info);
		if (!info.vmcoreinfo ||
		    kaslr_vmci_parse(info.vmcoreinfo, info.vmcoreinfo_len, &vmci, perr, sizeof(perr))) {
			free(notes);
			continue;
		}
		if (kaslr_vmci_kernel_offset(&vmci, &ko) || kaslr_vmci_phys_base(&vmci, &pb)) {
			kaslr_vmci_free(&vmci);
			free(notes);
			set_err(ctx, "the first kernel's VMCOREINFO (elfcorehdr=0x%" PRIx64 ") lacks "
				"KERNELOFFSET or NUMBER(phys_base)", hdr);
			cand_ret->status = KASLR_NOTFOUND;
			return KASLR_NOTFOUND;
		}
		kaslr_vmci_free(&vmci);
		free(notes);
		cand_ret->kernel_offset = ko;
		cand_ret->phys_base = pb;
		cand_note(cand_ret, "first kernel's VMCOREINFO note at 0x%" PRIx64 " via elfcorehdr=0x%" PRIx64,
			  noff, hdr);
		/*
		 * The first kernel's mapping is not in the capture kernel's tables;
		 * its own note states the split (kaslr_verify).
		 */
		cand_ret->checks = KASLR_V_VMCOREINFO;
		st = kaslr_verify(ctx, vml, NULL, cand_ret);
		if (st != KASLR_OK)
			cand_note_failure(cand_ret, "fails verification");
		return st;
	}
	set_err(ctx, "elfcorehdr=0x%" PRIx64 " has no VMCOREINFO note", hdr);
	cand_ret->status = KASLR_NOTFOUND;
	return KASLR_NOTFOUND;
}

/* ---- driver -------------------------------------------------------------- */

static int same_values(const struct kaslr_candidate *a, const struct kaslr_candidate *b)
{
	return a->kernel_offset == b->kernel_offset && a->phys_base == b->phys_base;
}

static int verified(const struct kaslr_candidate *c)
{
	return c->status == KASLR_OK;
}

static int same_row(const struct kaslr_candidate *a, const struct kaslr_candidate *b)
{
	return a->method == b->method && a->status == b->status && same_values(a, b) &&
	       a->pgd_paddr == b->pgd_paddr && a->levels == b->levels && a->checks == b->checks &&
	       !strcmp(a->note, b->note);
}

static void cpuset_add(struct kaslr_candidate *c, int cpu)
{
	if (cpu >= 0 && cpu < KASLR_CPUSET_MAX)
		c->cpu_set[cpu / 64] |= 1ULL << (cpu % 64);
}

/* Merge @c (count, CPUs) into the kept row @row. */
static void row_merge(struct kaslr_candidate *row, const struct kaslr_candidate *c)
{
	size_t i;

	row->count += c->count;
	for (i = 0; i < sizeof(row->cpu_set) / sizeof(row->cpu_set[0]); i++)
		row->cpu_set[i] |= c->cpu_set[i];
	if (row->cpu < 0 || (c->cpu >= 0 && c->cpu < row->cpu))
		row->cpu = c->cpu;
}

/*
 * Add a candidate (and the paging it used).  A fresh candidate (count 0)
 * counts once, for its cpu.  Methods 1 and 2 candidates equal to a kept row
 * in all but the CPU join it; when the table is full, a candidate joins a
 * row of the same method and values, or is counted as unrecorded.
 * @returns the row, or NULL when the candidate got none.
 */
static struct kaslr_candidate *rep_add(struct kaslr_report *rep, struct kaslr_paging *pgs,
				       const struct kaslr_candidate *c, const struct kaslr_paging *pg)
{
	struct kaslr_candidate one = *c;
	int i;

	if (!one.count) {
		one.count = 1;
		memset(one.cpu_set, 0, sizeof(one.cpu_set));
		cpuset_add(&one, one.cpu);
	}
	if (one.method == KASLR_M_PAGETABLE || one.method == KASLR_M_IDT) {
		for (i = 0; i < rep->nr_cand; i++) {
			if (same_row(&rep->cand[i], &one)) {
				row_merge(&rep->cand[i], &one);
				return &rep->cand[i];
			}
		}
	}
	if (rep->nr_cand >= KASLR_MAX_CANDIDATES) {
		for (i = 0; i < rep->nr_cand; i++) {
			if (rep->cand[i].method == one.method && rep->cand[i].status == one.status &&
			    same_values(&rep->cand[i], &one)) {
				row_merge(&rep->cand[i], &one);
				return &rep->cand[i];
			}
		}
		rep->nr_unrecorded += one.count;
		return NULL;
	}
	rep->cand[rep->nr_cand] = one;
	if (pg)
		pgs[rep->nr_cand] = *pg;
	else
		memset(&pgs[rep->nr_cand], 0, sizeof(pgs[0]));
	return &rep->cand[rep->nr_cand++];
}

const char *kaslr_cpus_text(const struct kaslr_candidate *c, char *buf, size_t size)
{
	int cpu, start = -1, n = 0, any = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (cpu = 0; cpu <= KASLR_CPUSET_MAX; cpu++) {
		int in = cpu < KASLR_CPUSET_MAX && (c->cpu_set[cpu / 64] >> (cpu % 64) & 1);

		if (in && start < 0)
			start = cpu;
		if (!in && start >= 0) {
			int w = start == cpu - 1 ? snprintf(buf + n, size - (size_t)n, "%s%d", any ? "," : "", start)
						 : snprintf(buf + n, size - (size_t)n, "%s%d-%d", any ? "," : "", start,
							    cpu - 1);

			if (w < 0 || (size_t)(n + w) >= size) {
				/* No room: cut the list where "..." still fits. */
				size_t at = size > 4 ? size - 4 : 0;

				if (at > (size_t)n)
					at = (size_t)n;
				snprintf(buf + at, size - at, "...");
				return buf;
			}
			n += w;
			any = 1;
			start = -1;
		}
	}
	if (!any)
		snprintf(buf, size, c->cpu >= 0 ? "%d" : "-", c->cpu);
	return buf;
}

/*
 * The choice, in order: a verified elfcorehdr candidate (the crashed
 * kernel, when the registers are the capture kernel's); a verified
 * candidate the in-RAM vmcoreinfo confirms; the verified values most
 * candidates share.  @returns the index, -1 if none verified, -2 on a tie.
 */
static int choose(const struct kaslr_report *rep)
{
	int i, j, best = -1, best_n = 0, tie = 0;

	for (i = 0; i < rep->nr_cand; i++)
		if (verified(&rep->cand[i]) && rep->cand[i].method == KASLR_M_ELFCOREHDR)
			return i;
	/* The kernel's own vmcoreinfo decides, unless two of its copies disagree. */
	for (i = 0; i < rep->nr_cand; i++)
		if (verified(&rep->cand[i]) && (rep->cand[i].checks & KASLR_V_VMCOREINFO))
			break;
	for (j = i + 1; j < rep->nr_cand; j++)
		if (verified(&rep->cand[j]) && (rep->cand[j].checks & KASLR_V_VMCOREINFO) &&
		    !same_values(&rep->cand[i], &rep->cand[j]))
			break;
	if (i < rep->nr_cand && j == rep->nr_cand)
		return i;
	/* Else the values most candidates share, every CPU counted. */
	for (i = 0; i < rep->nr_cand; i++) {
		int n = 0;

		if (!verified(&rep->cand[i]))
			continue;
		for (j = 0; j < rep->nr_cand; j++)
			if (verified(&rep->cand[j]) && same_values(&rep->cand[i], &rep->cand[j]))
				n += rep->cand[j].count;
		if (n > best_n) {
			best = i;
			best_n = n;
			tie = 0;
		} else if (n == best_n && !same_values(&rep->cand[i], &rep->cand[best])) {
			tie = 1;
		}
	}
	return tie ? -2 : best;
}

#define MAX_GROUPS 8
/* Page-table scan candidates kaslr_find records (the verified one always among them). */
#define PTSCAN_KEEP 8

/* "idt (cpu 1)", or "scan" when no CPU was involved. */
static const char *cand_who(char *buf, size_t size, const struct kaslr_candidate *c)
{
	if (c->cpu < 0)
		snprintf(buf, size, "%s", kaslr_method_name(c->method));
	else
		snprintf(buf, size, "%s (cpu %d)", kaslr_method_name(c->method), c->cpu);
	return buf;
}
#define MAX_REASONS 8

/*
 * What kaslr_find tried and why it failed, grouped by identical reason so
 * that N CPUs failing the same way take one line: "cpu 0 page tables,
 * cpu 1 page tables: <reason>".
 */
struct story {
	int n, dropped;
	struct {
		char who[96];
		char what[KASLR_ERRLEN];
	} r[MAX_REASONS];
};

static void story_add(struct story *st, const char *who, const char *what)
{
	int i;

	/* "cpu N ...: reason" messages: the who is given separately. */
	if (!strncmp(what, "cpu ", 4) && strstr(what, ": "))
		what = strstr(what, ": ") + 2;
	for (i = 0; i < st->n; i++) {
		if (!strcmp(st->r[i].what, what)) {
			buf_append(st->r[i].who, sizeof(st->r[i].who), ", %s", who);
			return;
		}
	}
	if (st->n == MAX_REASONS) {
		st->dropped++;
		return;
	}
	snprintf(st->r[st->n].who, sizeof(st->r[st->n].who), "%s", who);
	snprintf(st->r[st->n].what, sizeof(st->r[st->n].what), "%s", what);
	st->n++;
}

static void story_format(const struct story *st, char *out, size_t size)
{
	int i;

	out[0] = '\0';
	for (i = 0; i < st->n; i++)
		buf_append(out, size, "%s%s: %s", i ? "; " : "", st->r[i].who, st->r[i].what);
	if (st->dropped)
		buf_append(out, size, "; %d more", st->dropped);
}

/* Record a CPU method's failure: re-verify found values for the precise reason. */
static void story_method(struct story *story, struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			 const struct kaslr_candidate *c, const struct kaslr_paging *pg)
{
	char who[64];

	snprintf(who, sizeof(who), "cpu %d %s", c->cpu, c->method == KASLR_M_IDT ? "IDT" : "page tables");
	if (c->levels && c->status == KASLR_NOTFOUND) {
		struct kaslr_candidate tmp = *c;

		kaslr_verify(ctx, vml, pg && pg->levels ? pg : NULL, &tmp);
	}
	story_add(story, who, ctx->err);
}

/* First candidate of each distinct verified (offset, phys_base); @returns how many. */
static int distinct_verified(const struct kaslr_report *rep, int *idx, int max)
{
	int i, j, n = 0;

	for (i = 0; i < rep->nr_cand && n < max; i++) {
		if (!verified(&rep->cand[i]))
			continue;
		for (j = 0; j < n; j++)
			if (same_values(&rep->cand[idx[j]], &rep->cand[i]))
				break;
		if (j == n)
			idx[n++] = i;
	}
	return n;
}

/* Would Methods 1 and 2 see exactly the same thing on these two CPUs? */
static int same_paging_regs(const struct kaslr_cpu_regs *a, const struct kaslr_cpu_regs *b)
{
	unsigned m = KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR;

	return (a->valid & m) == (b->valid & m) && (a->cr3 & PTE_ADDR_MASK) == (b->cr3 & PTE_ADDR_MASK) &&
	       !((a->cr4 ^ b->cr4) & CR4_LA57) && a->idtr_base == b->idtr_base &&
	       a->idtr_limit == b->idtr_limit && !((a->cr0 ^ b->cr0) & CR0_PG);
}

static const char *method_names[KASLR_M_COUNT] = {
	[KASLR_M_NONE] = "none",
	[KASLR_M_PAGETABLE] = "pagetable",
	[KASLR_M_IDT] = "idt",
	[KASLR_M_VMCOREINFO] = "vmcoreinfo",
	[KASLR_M_ELFCOREHDR] = "elfcorehdr",
	[KASLR_M_SCAN] = "scan",
	[KASLR_M_PTSCAN] = "ptscan",
	[KASLR_M_MANUAL] = "manual",
};

const char *kaslr_method_name(enum kaslr_method m)
{
	return (unsigned)m < KASLR_M_COUNT ? method_names[m] : "?";
}

int kaslr_method_from_name(const char *name)
{
	int m;

	for (m = 0; m < KASLR_M_COUNT; m++)
		if (!strcasecmp(name, method_names[m]))
			return m;
	return -1;
}

const char *kaslr_status_name(enum kaslr_status s)
{
	switch (s) {
	case KASLR_OK:
		return "ok";
	case KASLR_NODATA:
		return "nodata";
	case KASLR_NOTFOUND:
		return "notfound";
	case KASLR_AMBIGUOUS:
		return "ambiguous";
	case KASLR_CORRUPT:
		return "corrupt";
	case KASLR_NOMEM:
		return "nomem";
	}
	return "?";
}

/*
 * Method 3 on the chosen candidate: read the in-RAM vmcoreinfo and record
 * it as a candidate; mark every verified candidate it agrees with.
 */
static void confirm_with_vmcoreinfo(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				    struct kaslr_report *rep, struct kaslr_paging *pgs, int best,
				    struct story *story)
{
	const struct kaslr_paging *pg = pgs[best].levels ? &pgs[best] : NULL;
	struct kaslr_candidate c;
	struct kaslr_vmci vmci;
	struct kaslr_vmci_copy copy;
	uint64_t paddr;
	char *text, perr[160];
	int i;

	if (kaslr_vmci_read_ram(ctx, vml, pg, rep->cand[best].kernel_offset, rep->cand[best].phys_base,
				&text, &paddr) != KASLR_OK) {
		story_add(story, "vmcoreinfo", ctx->err);
		return;
	}
	if (kaslr_vmci_parse(text, strlen(text), &vmci, perr, sizeof(perr)) != KASLR_OK) {
		free(text);
		return;
	}
	copy_from_vmci(&copy, &vmci, paddr, strlen(text));
	kaslr_vmci_free(&vmci);
	free(text);
	cand_init(&c, KASLR_M_VMCOREINFO, rep->cand[best].cpu);
	c.pgd_paddr = rep->cand[best].pgd_paddr;
	c.levels = rep->cand[best].levels;
	if (!copy.has_offset || !copy.has_phys_base) {
		story_add(story, "vmcoreinfo", "the in-RAM copy lacks KERNELOFFSET or NUMBER(phys_base)");
		if (rep->nr_vmci < (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])))
			rep->vmci[rep->nr_vmci++] = copy;
		return;
	}
	c.kernel_offset = copy.kernel_offset;
	c.phys_base = copy.phys_base;
	cand_note(&c, "in-RAM vmcoreinfo at 0x%" PRIx64 " (%s), read through the %s candidate", paddr,
		  copy.osrelease, kaslr_method_name(rep->cand[best].method));
	if (same_values(&c, &rep->cand[best])) {
		c.checks = KASLR_V_VMCOREINFO;
		kaslr_verify(ctx, vml, NULL, &c);
		for (i = 0; i < rep->nr_cand; i++)
			if (verified(&rep->cand[i]) && same_values(&rep->cand[i], &c))
				rep->cand[i].checks |= KASLR_V_VMCOREINFO;
	} else {
		if (kaslr_verify(ctx, vml, NULL, &c) != KASLR_OK)
			cand_note_failure(&c, "fails verification");
		story_add(story, "vmcoreinfo", "the in-RAM copy disagrees with the candidate it was read through");
	}
	copy.verified = verified(&c);
	for (i = 0; i < rep->nr_vmci; i++)
		if (rep->vmci[i].paddr == copy.paddr)
			break;
	if (i == rep->nr_vmci && rep->nr_vmci < (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])))
		rep->vmci[rep->nr_vmci++] = copy;
	rep_add(rep, pgs, &c, NULL);
}

enum kaslr_status kaslr_verify_given(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				     struct kaslr_candidate *cand)
{
	char *text = NULL, why[KASLR_ERRLEN];
	uint64_t paddr = 0;
	int agrees = 0;

	cand->checks &= ~KASLR_V_VMCOREINFO;
	if (kaslr_vmci_read_ram(ctx, vml, NULL, cand->kernel_offset, cand->phys_base, &text, &paddr) ==
	    KASLR_OK) {
		agrees = kaslr_vmci_agrees(text, strlen(text), vml->osrelease, vml->build_id,
					   cand->kernel_offset, cand->phys_base, why, sizeof(why));
		free(text);
		if (agrees > 0)
			cand->checks |= KASLR_V_VMCOREINFO;
	}
	/* The vmlinux's own checks first: their message is the more precise one. */
	if (kaslr_verify(ctx, vml, NULL, cand) != KASLR_OK)
		return KASLR_NOTFOUND;
	if (agrees < 0) {
		/* The kernel itself says otherwise: never apply values it contradicts. */
		cand->status = KASLR_NOTFOUND;
		set_err(ctx, "the kernel's own vmcoreinfo in RAM at 0x%" PRIx64 " contradicts these values: %s",
			paddr, why);
		return KASLR_NOTFOUND;
	}
	return KASLR_OK;
}

enum kaslr_status kaslr_find(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
			     const struct kaslr_cpu_regs *regs, int nr_cpus, unsigned methods,
			     struct kaslr_report *rep)
{
	static const size_t hint_room = sizeof(HINT) + 4;
	static const enum kaslr_method cpu_methods[2] = { KASLR_M_PAGETABLE, KASLR_M_IDT };
	struct kaslr_paging *pgs;
	struct story story;
	char sum[KASLR_ERRLEN], who[32];
	int i, j, g, m, best = -1, any_cpu_verified = 0, groups[MAX_GROUPS], *rows_of;
	enum kaslr_status st;

	memset(rep, 0, sizeof(*rep));
	memset(&story, 0, sizeof(story));
	rep->best = -1;
	pgs = calloc(KASLR_MAX_CANDIDATES, sizeof(*pgs));
	/* The rows each CPU's Methods 1 and 2 went to (-1: none), for CPUs with the same registers. */
	rows_of = regs && nr_cpus > 0 ? malloc(2 * (size_t)nr_cpus * sizeof(*rows_of)) : NULL;
	if (!pgs || (regs && nr_cpus > 0 && !rows_of)) {
		free(pgs);
		free(rows_of);
		set_err(ctx, "out of memory");
		return KASLR_NOMEM;
	}
	for (i = 0; rows_of && i < 2 * nr_cpus; i++)
		rows_of[i] = -1;

	for (i = 0; i < nr_cpus && regs; i++) {
		const struct kaslr_cpu_regs *r = &regs[i];
		struct kaslr_candidate c;
		struct kaslr_paging pg;

		if (!(r->valid & KASLR_REG_CR3) || !r->cr3) {
			snprintf(who, sizeof(who), "cpu %d", r->cpu);
			story_add(&story, who, "no CR3 (offline?)");
			continue;
		}
		if ((r->valid & KASLR_REG_CR0) && !(r->cr0 & CR0_PG)) {
			snprintf(who, sizeof(who), "cpu %d", r->cpu);
			story_add(&story, who, "paging off");
			continue;
		}
		/* CPUs sharing CR3 and IDTR (idle ones on init_top_pgt) share the answers. */
		for (j = 0; j < i; j++)
			if (same_paging_regs(&regs[j], r))
				break;
		if (j < i) {
			for (m = 0; m < 2; m++) {
				int k = rows_of[2 * j + m];

				if (k < 0)
					continue;
				/* CPU j's row, counted once more for this CPU. */
				c = rep->cand[k];
				c.cpu = r->cpu;
				c.count = 0;
				pg = pgs[k];
				rep_add(rep, pgs, &c, pg.levels ? &pg : NULL);
				rows_of[2 * i + m] = k;
				if (c.status != KASLR_OK)
					story_method(&story, ctx, vml, &c, &pg);
			}
			continue;
		}
		/* Methods 1 and 2, in that order, each verified on its own. */
		for (m = 0; m < 2; m++) {
			struct kaslr_candidate *row;

			if (!(methods & KASLR_METHOD_BIT(cpu_methods[m])))
				continue;
			memset(&pg, 0, sizeof(pg));
			st = cpu_methods[m] == KASLR_M_PAGETABLE ? pagetables_one(ctx, vml, r, &c, &pg)
								 : idt_one(ctx, vml, r, &c, &pg);
			if (st == KASLR_NOMEM)
				goto nomem;
			if ((row = rep_add(rep, pgs, &c, pg.levels ? &pg : NULL)))
				rows_of[2 * i + m] = (int)(row - rep->cand);
			if (st == KASLR_OK)
				any_cpu_verified = 1;
			else
				story_method(&story, ctx, vml, &c, &pg);
		}
	}
	free(rows_of);
	rows_of = NULL;

	/*
	 * Methods 4 and 3 through each distinct verified answer (usually one;
	 * two when CPUs disagree, and then the in-RAM vmcoreinfo may decide).
	 */
	if (methods & KASLR_METHOD_BIT(KASLR_M_ELFCOREHDR)) {
		int nr_groups = distinct_verified(rep, groups, MAX_GROUPS);

		for (g = 0; g < nr_groups; g++) {
			struct kaslr_candidate c;
			const struct kaslr_candidate *b = &rep->cand[groups[g]];

			st = kaslr_from_elfcorehdr(ctx, vml, pgs[groups[g]].levels ? &pgs[groups[g]] : NULL,
						   b->kernel_offset, b->phys_base, &c);
			if (st == KASLR_NOMEM)
				goto nomem;
			if (st == KASLR_NODATA)
				continue;
			c.cpu = b->cpu;
			rep_add(rep, pgs, &c, NULL);
			if (st != KASLR_OK)
				story_add(&story, "elfcorehdr", ctx->err);
		}
	}
	if (methods & KASLR_METHOD_BIT(KASLR_M_VMCOREINFO)) {
		int nr_groups = distinct_verified(rep, groups, MAX_GROUPS);

		for (g = 0; g < nr_groups; g++)
			confirm_with_vmcoreinfo(ctx, vml, rep, pgs, groups[g], &story);
	}
	best = choose(rep);

	if (!any_cpu_verified && (methods & KASLR_METHOD_BIT(KASLR_M_SCAN))) {
		int n = 0, max = (int)(sizeof(rep->vmci) / sizeof(rep->vmci[0])) - rep->nr_vmci;

		st = kaslr_vmci_scan(ctx, vml, rep->vmci + rep->nr_vmci, max, &n, 0);
		if (st == KASLR_NOMEM)
			goto nomem;
		if (st != KASLR_OK) {
			story_add(&story, "scan", ctx->err);
		} else {
			int k, stored = n < max ? n : max, nr_verified = 0;

			for (k = 0; k < stored; k++) {
				struct kaslr_vmci_copy *copy = &rep->vmci[rep->nr_vmci + k];
				struct kaslr_candidate c;

				snprintf(who, sizeof(who), "scan 0x%" PRIx64, copy->paddr);
				if (!copy->has_offset || !copy->has_phys_base) {
					story_add(&story, who, copy->why);
					continue;
				}
				cand_init(&c, KASLR_M_SCAN, -1);
				c.kernel_offset = copy->kernel_offset;
				c.phys_base = copy->phys_base;
				cand_note(&c, "vmcoreinfo page at 0x%" PRIx64 " (%s)", copy->paddr,
					  copy->osrelease);
				/* The scan verified every copy it stored: no second read. */
				c.checks = copy->checks;
				if (copy->verified) {
					c.status = KASLR_OK;
					nr_verified++;
				} else {
					c.status = KASLR_NOTFOUND;
					cand_note_failure(&c, copy->why);
					story_add(&story, who, copy->why);
				}
				rep_add(rep, pgs, &c, NULL);
			}
			rep->nr_vmci += stored;
			if (!nr_verified && n > stored)
				story_add(&story, "scan", "more vmcoreinfo copies than recorded, none verified");
		}
		best = choose(rep);
	}

	/* Method 6: nothing verified, whether from registers or vmcoreinfo copies. */
	if (best == -1 && !any_cpu_verified && (methods & KASLR_METHOD_BIT(KASLR_M_PTSCAN))) {
		struct kaslr_candidate pc[PTSCAN_KEEP];
		struct kaslr_paging ppg[PTSCAN_KEEP];
		int n = 0, k;

		st = ptscan_run(ctx, vml, pc, ppg, PTSCAN_KEEP, &n, 1);
		if (st == KASLR_NOMEM)
			goto nomem;
		if (st != KASLR_OK)
			story_add(&story, "ptscan", ctx->err);
		for (k = 0; k < n && k < PTSCAN_KEEP; k++) {
			int idx = rep->nr_cand;

			if (!rep_add(rep, pgs, &pc[k], &ppg[k]) || !verified(&pc[k]))
				continue;
			/* Through the tables found: the first kernel (4) and the in-RAM vmcoreinfo (3). */
			if (methods & KASLR_METHOD_BIT(KASLR_M_ELFCOREHDR)) {
				struct kaslr_candidate c;

				st = kaslr_from_elfcorehdr(ctx, vml, &ppg[k], pc[k].kernel_offset, pc[k].phys_base,
							   &c);
				if (st == KASLR_NOMEM)
					goto nomem;
				if (st != KASLR_NODATA) {
					rep_add(rep, pgs, &c, NULL);
					if (st != KASLR_OK)
						story_add(&story, "elfcorehdr", ctx->err);
				}
			}
			if (methods & KASLR_METHOD_BIT(KASLR_M_VMCOREINFO))
				confirm_with_vmcoreinfo(ctx, vml, rep, pgs, idx, &story);
		}
		best = choose(rep);
	}
	free(pgs);
	pgs = NULL;

	if (best == -2) {
		char a[32], b[32], wa[48], wb[48];
		int j, first = -1;

		/* Name two disagreeing verified candidates. */
		for (i = 0; i < rep->nr_cand && first < 0; i++)
			if (verified(&rep->cand[i]))
				first = i;
		for (j = first + 1; j < rep->nr_cand; j++)
			if (verified(&rep->cand[j]) && !same_values(&rep->cand[j], &rep->cand[first]))
				break;
		set_err(ctx, "verified candidates disagree and nothing decides: %s says offset 0x%" PRIx64
			" phys_base %s, %s says 0x%" PRIx64 " %s; give the right values by hand", cand_who(wa, sizeof(wa), &rep->cand[first]), rep->cand[first].kernel_offset,
			pb_str(a, sizeof(a), rep->cand[first].phys_base), cand_who(wb, sizeof(wb), &rep->cand[j]),
			rep->cand[j].kernel_offset, pb_str(b, sizeof(b), rep->cand[j].phys_base));
		return KASLR_AMBIGUOUS;
	}
	if (best < 0) {
		story_format(&story, sum, sizeof(sum));
		if (!*sum)
			snprintf(sum, sizeof(sum), "%s", nr_cpus && regs ? "no method applied" :
				 "no registers and no scan");
		/* Keep room for the hint: cut the per-CPU story if it is long. */
		if (strlen(sum) > sizeof(ctx->err) - hint_room)
			strcpy(sum + sizeof(ctx->err) - hint_room - 4, "...");
		set_err(ctx, "%s; %s", sum, HINT);
		return KASLR_NOTFOUND;
	}
	rep->best = best;
	for (i = 0; i < rep->nr_cand; i++) {
		if (!verified(&rep->cand[i]))
			rep->nr_failed += rep->cand[i].count;
		else if (same_values(&rep->cand[i], &rep->cand[best]))
			rep->nr_agree += rep->cand[i].count;
		else
			rep->nr_disagree += rep->cand[i].count;
	}
	ctx->err[0] = '\0';
	return KASLR_OK;

nomem:
	free(pgs);
	free(rows_of);
	set_err(ctx, "out of memory");
	return KASLR_NOMEM;
}
