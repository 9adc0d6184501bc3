/*
 * crash/repair_arm64.c - the arm64 side of the "kaslr -r" transaction
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * What crash's arm64_init() takes from a dump's VMCOREINFO note, given to
 * it after the fact (crash/repair_arm64.h).  Read against crash 8.0.2's
 * arm64.c: without a note, PRE_SYMTAB finds no kimage_voffset (so no
 * NEW_VMEMMAP, no RELOC_AUTO|KASLR: symbols stay at their link addresses),
 * PRE_GDB warns "kimage_voffset cannot be determined", takes VA_BITS_ACTUAL
 * only from --machdep, and guesses the modules/vmalloc/vmemmap ranges that
 * a 5.18+ kernel's note states (NUMBER(MODULES_VADDR) ...).  arm64_init()
 * has no POST_RELOC case; POST_GDB and later run in the full chain.
 */
#include "defs.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include "crash/crash_compat.h"
#include "crash/repair_arch.h"
#include "crash/repair_arm64.h"

/* The kernel's vmcoreinfo is at most a page (VMCOREINFO_BYTES); 64 KiB pages at most. */
#define ARM64_VMCI_MAX 65536

/* "as before": arm64_init(PRE_GDB) rewrites most of machdep, and the vmcoreinfo hook. */
struct kaslr_repair_arch {
	struct machdep_table md;
	struct machine_specific ms;
	ulong stext_vmlinux;
	char *(*read_vmcoreinfo)(const char *);
	char *vmci_text;
};

/*
 * crash's vmcoreinfo lookups, served from vmci_text ("KEY=value" lines, the
 * first match wins) and then from crash's own reader (the dump's note).
 */
static char *(*crash_read_vmcoreinfo)(const char *);
static char *vmci_text;

static char *
vmci_lookup(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > klen && !strncmp(p, key, klen) && p[klen] == '=')
			return strndup(p + klen + 1, llen - klen - 1);
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static char *
repair_read_vmcoreinfo(const char *key)
{
	char *v = vmci_text ? vmci_lookup(vmci_text, key) : NULL;

	if (v)
		return v;
	return crash_read_vmcoreinfo ? crash_read_vmcoreinfo(key) : NULL;
}

struct kaslr_repair_arch *
kaslr_repair_arch_save(void)
{
	struct kaslr_repair_arch *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->md = *machdep;
	a->ms = *machdep->machspec;
	a->stext_vmlinux = st->_stext_vmlinux;
	a->read_vmcoreinfo = pc->read_vmcoreinfo;
	a->vmci_text = vmci_text;
	return a;
}

/*
 * What PRE_GDB allocated (page-table buffers) stays allocated: a small leak
 * beats a pointer into freed memory.
 */
void
kaslr_repair_arch_restore(const struct kaslr_repair_arch *a)
{
	*machdep = a->md;
	*machdep->machspec = a->ms;
	st->_stext_vmlinux = a->stext_vmlinux;
	pc->read_vmcoreinfo = a->read_vmcoreinfo;
	if (vmci_text != a->vmci_text) {
		free(vmci_text);
		vmci_text = a->vmci_text;
	}
}

void
kaslr_repair_arch_free(struct kaslr_repair_arch *a)
{
	free(a);
}

/* symbols.c:relocate(): on arm64 every symbol crash kept moves. */
int
kaslr_repair_arch_moves(ulong raw)
{
	(void)raw;
	return 1;
}

/* arm64's page-table walks fill machdep->pgd themselves (FILL_PGD). */
void
kaslr_repair_arch_chain_enter(void)
{
}

void
kaslr_repair_arch_chain_leave(void)
{
}

/* ---- step 4 ----------------------------------------------------------- */

static int
vmci_append(char **text, const char *fmt, ...)
{
	char line[256], *n;
	size_t old = *text ? strlen(*text) : 0;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(line))
		return -1;
	if (!(n = realloc(*text, old + len + 1)))
		return -1;
	memcpy(n + old, line, len + 1);
	*text = n;
	return 0;
}

/* An image variable, read at its physical address (VA - kimage_voffset). */
static int
read_image_var(const char *name, uint64_t kimage_voffset, void *buf, long len)
{
	struct syment *sp = symbol_search((char *)name);

	if (!sp)
		return -1;
	return readmem((ulonglong)(sp->value - kimage_voffset), PHYSADDR, buf, len, (char *)name,
		       RETURN_ON_ERROR | QUIET) ? 0 : -1;
}

/*
 * The keys @l gives, formatted as the kernel writes them
 * (arch/arm64/kernel/crash_core.c): crash 8.0.6+ parses some as hex
 * whatever their prefix (arm64_get_vmcoreinfo(NUM_HEX)).
 */
static char *
layout_text(const struct kaslr_arm64_layout *l)
{
	struct syment *sp;
	char *t = NULL;
	int bad = 0;
	uint64_t vabits = 0;

	bad |= vmci_append(&t, "NUMBER(kimage_voffset)=0x%" PRIx64 "\n", l->kimage_voffset);
	bad |= vmci_append(&t, "KERNELOFFSET=%" PRIx64 "\n", l->kernel_offset);
	if (l->known & KASLR_ARM64_PHYS_OFFSET)
		bad |= vmci_append(&t, "NUMBER(PHYS_OFFSET)=0x%" PRIx64 "\n", l->phys_offset);
	if (l->known & KASLR_ARM64_VA_BITS)
		bad |= vmci_append(&t, "NUMBER(VA_BITS)=%u\n", l->va_bits);
	// vabits_actual: given; else the kernel's variable (5.4, commit
	// 5383cc6efed1, where the kernel still has one); else, for a kernel
	// configured for at most 48 bits, VA_BITS, if it has the flipped layout
	// of 5.4 (commit 14c127c957c1: the image in the upper half of the kernel
	// space, bit VA_BITS-1 of _text set).  TCR_EL1_T1SZ is the key crash
	// takes it from (the kernel's vmcoreinfo has it from 5.12).
	if (l->known & KASLR_ARM64_VABITS_ACTUAL)
		vabits = l->vabits_actual;
	else if (read_image_var("vabits_actual", l->kimage_voffset, &vabits, sizeof(vabits)) < 0 ||
		 vabits < 36 || vabits > 52)
		vabits = 0;
	if (!vabits && (l->known & KASLR_ARM64_VA_BITS) && l->va_bits >= 36 && l->va_bits <= 48 &&
	    (sp = symbol_search("_text")) && ((sp->value >> (l->va_bits - 1)) & 1))
		vabits = l->va_bits;
	if (vabits)
		bad |= vmci_append(&t, "NUMBER(TCR_EL1_T1SZ)=0x%x\n", (unsigned)(64 - vabits));
	if (l->known & KASLR_ARM64_PAGE_SIZE)
		bad |= vmci_append(&t, "PAGESIZE=%u\n", l->page_size);
	if (l->known & KASLR_ARM64_KERNELPACMASK)
		bad |= vmci_append(&t, "NUMBER(KERNELPACMASK)=0x%" PRIx64 "\n", l->kernelpacmask);
	if (bad) {
		free(t);
		return NULL;
	}
	return t;
}

static ulong pre_gdb_md_flags;
static int pre_gdb_have_phys_offset;
static ulong pre_gdb_phys_offset;

/*
 * arm64_init(PRE_GDB), from the session's machdep flags (it ORs its paging
 * flags in).  PHYS_OFFSET, when known, is handed over the way --machdep
 * phys_offset= does (the PHYS_OFFSET flag, cleared again after): crash takes
 * a kdump-compressed dump's sub-header phys_base before any vmcoreinfo key,
 * and QEMU writes the start of RAM there, which is not memstart_addr once
 * the linear map is randomised.
 */
static void
pre_gdb(void *arg)
{
	(void)arg;
	machdep->flags = pre_gdb_md_flags;
	if (pre_gdb_have_phys_offset) {
		machdep->flags |= PHYS_OFFSET;
		machdep->machspec->phys_offset = pre_gdb_phys_offset;
	}
	arm64_init(PRE_GDB);
	if (!(pre_gdb_md_flags & PHYS_OFFSET))
		machdep->flags &= ~PHYS_OFFSET;
}

static void
post_reloc(void *arg)
{
	(void)arg;
	machdep_init(POST_RELOC);
}

/* The text at physical address @paddr if it is a vmcoreinfo: "OSRELEASE=" first, NUL-free. */
static char *
vmcoreinfo_at(physaddr_t paddr, ulong size)
{
	char *buf = calloc(1, size + 1);

	if (!buf)
		return NULL;
	if (!readmem(paddr, PHYSADDR, buf, size, "vmcoreinfo text", RETURN_ON_ERROR | QUIET) ||
	    strncmp(buf, "OSRELEASE=", 10) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The kernel's own vmcoreinfo (vmcoreinfo_data, a page allocated by
 * crash_save_vmcoreinfo_init(), 4.13+).  Its pointer and size are image
 * variables (read at VA - kimage_voffset); the text is in the linear map,
 * whose base depends on VA_BITS, which this text is the first to tell when
 * nobody gave it: each VA_BITS arm64 supports is tried, for the flipped
 * layout of 5.4+ (PAGE_OFFSET = -(1 << VA_BITS)) and the one before
 * (-(1 << (VA_BITS - 1))), both __pa(va) = (va & ~PAGE_OFFSET) + PHYS_OFFSET
 * (the physvirt_offset of 5.4-5.9 is PHYS_OFFSET - PAGE_OFFSET, the same).
 * A flipped candidate must name its own VA_BITS.  @returns the text
 * (malloc'd) or NULL.
 */
static char *
ram_vmcoreinfo(const struct kaslr_arm64_layout *l, ulong phys_offset, size_t *len_ret)
{
	static const unsigned int va_bits[] = { 48, 52, 47, 42, 39, 36 };
	ulong data = 0, size = 0;
	unsigned int i, pass;

	if (read_image_var("vmcoreinfo_data", l->kimage_voffset, &data, sizeof(data)) < 0 ||
	    read_image_var("vmcoreinfo_size", l->kimage_voffset, &size, sizeof(size)) < 0 ||
	    !data || !size || size > ARM64_VMCI_MAX)
		return NULL;
	for (pass = 0; pass < 2; pass++) {
		int flipped = pass == 0;

		for (i = 0; i < sizeof(va_bits) / sizeof(va_bits[0]); i++) {
			unsigned int vb = va_bits[i];
			ulong page_offset = -(1UL << (flipped ? vb : vb - 1));
			char *text, *named, want[8];

			if (((l->known & KASLR_ARM64_VA_BITS) && vb != l->va_bits) || data < page_offset)
				continue;
			if (!(text = vmcoreinfo_at((data & ~page_offset) + phys_offset, size)))
				continue;
			named = vmci_lookup(text, "NUMBER(VA_BITS)");
			snprintf(want, sizeof(want), "%u", vb);
			if (!flipped || !named || !strcmp(named, want)) {
				free(named);
				*len_ret = strlen(text);
				return text;
			}
			free(named);
			free(text);
		}
	}
	return NULL;
}

/* Does @text's KEY (hex) differ from @want?  Absent keys do not differ. */
static int
vmci_differs(const char *text, const char *key, uint64_t want)
{
	char *v = vmci_lookup(text, key);
	int differs;

	if (!v)
		return 0;
	differs = strtoull(v, NULL, 16) != want;
	free(v);
	return differs;
}

/*
 * The vmlinux's own linux_banner (at its link address), NUL-terminated in
 * @buf; @returns its length, or -1 when the file cannot tell.
 */
static long
vmlinux_banner(ulong link_addr, char *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	long n = -1;
	Elf *e;
	int fd;

	if (!pc->namelist || (fd = open(pc->namelist, O_RDONLY)) < 0)
		return -1;
	elf_version(EV_CURRENT);
	if (!(e = elf_begin(fd, ELF_C_READ, NULL))) {
		close(fd);
		return -1;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    link_addr < sh.sh_addr || link_addr >= sh.sh_addr + sh.sh_size)
			continue;
		off = link_addr - sh.sh_addr;
		if ((d = elf_getdata(scn, NULL)) && d->d_buf && off < d->d_size) {
			size_t max = d->d_size - off < len - 1 ? d->d_size - off : len - 1;

			memcpy(buf, (char *)d->d_buf + off, max);
			buf[max] = '\0';
			n = (long)strlen(buf);
		}
		break;
	}
	elf_end(e);
	close(fd);
	return n;
}

int
kaslr_repair_layout_arm64(struct kaslr_repair *t, const struct kaslr_arm64_layout *l,
			  struct kaslr_arm64_report *rep_ret, char *err, size_t errlen)
{
	struct kaslr_repair_arch *before = kaslr_repair_arch_of(t);
	struct kaslr_arm64_report rep = { 0 };
	char *text, *ram, mem[BUFSIZE], file[BUFSIZE];
	struct syment *sp;
	size_t ram_len = 0;
	uint64_t memstart;
	long flen;

	if ((ulong)(-(long)kt->relocate) != l->kernel_offset) {
		snprintf(err, errlen, "the symbols are at KERNELOFFSET %lx, not %" PRIx64,
			 (ulong)(-(long)kt->relocate), l->kernel_offset);
		return -1;
	}
	if (!(text = layout_text(l))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* 1: crash's vmcoreinfo lookups see the layout first. */
	if (pc->read_vmcoreinfo != repair_read_vmcoreinfo) {
		crash_read_vmcoreinfo = pc->read_vmcoreinfo;
		pc->read_vmcoreinfo = repair_read_vmcoreinfo;
	}
	if (vmci_text != before->vmci_text)
		free(vmci_text);
	vmci_text = text;

	/* 2: what PRE_SYMTAB does when a note names kimage_voffset. */
	machdep->machspec->kimage_voffset = l->kimage_voffset;
	kt->flags2 |= RELOC_AUTO | KASLR;
	// PRE_GDB's fallback modules range is computed from the link-time
	// _stext, which crash records only when it knows the kernel is KASLR.
	if ((!st->_stext_vmlinux || st->_stext_vmlinux == UNINITIALIZED) &&
	    (sp = symbol_search("_stext")))
		st->_stext_vmlinux = sp->value - l->kernel_offset;
	pre_gdb_md_flags = before->md.flags | NEW_VMEMMAP;
	pre_gdb_have_phys_offset = 1;
	if (l->known & KASLR_ARM64_PHYS_OFFSET)
		pre_gdb_phys_offset = (ulong)l->phys_offset;
	else if (read_image_var("memstart_addr", l->kimage_voffset, &memstart, sizeof(memstart)) == 0)
		pre_gdb_phys_offset = (ulong)memstart;
	else
		pre_gdb_have_phys_offset = 0;
	if (kaslr_repair_catch_fatal(pre_gdb, NULL) < 0) {
		snprintf(err, errlen, "arm64_init(PRE_GDB) failed with these values");
		return -1;
	}

	/*
	 * PHYS_OFFSET is memstart_addr (arch/arm64/mm/init.c); given by hand it
	 * must be the kernel's: only the image is checked by the banner below.
	 */
	if ((l->known & KASLR_ARM64_PHYS_OFFSET) &&
	    read_image_var("memstart_addr", l->kimage_voffset, &memstart, sizeof(memstart)) == 0 &&
	    memstart != l->phys_offset) {
		snprintf(err, errlen, "the kernel's memstart_addr (PHYS_OFFSET) is %" PRIx64 ", not %"
			 PRIx64, memstart, l->phys_offset);
		return -1;
	}

	/* 3: the kernel's own vmcoreinfo, now readable. */
	if ((ram = ram_vmcoreinfo(l, (l->known & KASLR_ARM64_PHYS_OFFSET) ? (ulong)l->phys_offset :
				  machdep->machspec->phys_offset, &ram_len))) {
		if (vmci_differs(ram, "KERNELOFFSET", l->kernel_offset) ||
		    vmci_differs(ram, "NUMBER(kimage_voffset)", l->kimage_voffset) ||
		    (pre_gdb_have_phys_offset &&
		     vmci_differs(ram, "NUMBER(PHYS_OFFSET)", pre_gdb_phys_offset))) {
			char *ko = vmci_lookup(ram, "KERNELOFFSET");
			char *kv = vmci_lookup(ram, "NUMBER(kimage_voffset)");
			char *po = vmci_lookup(ram, "NUMBER(PHYS_OFFSET)");

			snprintf(err, errlen, "the kernel's own vmcoreinfo in RAM says KERNELOFFSET=%s "
				 "kimage_voffset=%s PHYS_OFFSET=%s", ko ? ko : "?", kv ? kv : "?",
				 po ? po : "?");
			free(ko);
			free(kv);
			free(po);
			free(ram);
			return -1;
		}
		if ((text = realloc(vmci_text, strlen(vmci_text) + ram_len + 2))) {
			vmci_text = text;
			strcat(vmci_text, ram);
			if (ram[ram_len - 1] != '\n')
				strcat(vmci_text, "\n");
			rep.ram_vmcoreinfo = 1;
			rep.ram_vmcoreinfo_len = ram_len;
		}
		free(ram);
		if (rep.ram_vmcoreinfo && kaslr_repair_catch_fatal(pre_gdb, NULL) < 0) {
			snprintf(err, errlen, "arm64_init(PRE_GDB) failed with the kernel's vmcoreinfo");
			return -1;
		}
	}

	/* 4: what kernel_init()'s verify_version() reads; a mismatch there ends crash. */
	if (!(sp = symbol_search("linux_banner"))) {
		snprintf(err, errlen, "the vmlinux has no linux_banner");
		return -1;
	}
	memset(mem, 0, sizeof(mem));
	if (!readmem(sp->value, KVADDR, mem, sizeof(mem) - 1, "linux_banner",
		     RETURN_ON_ERROR | QUIET) || strncmp(mem, "Linux version ", 14) != 0) {
		snprintf(err, errlen, "no \"Linux version\" banner at linux_banner %lx (physical %lx)",
			 sp->value, sp->value - (ulong)l->kimage_voffset);
		return -1;
	}
	flen = vmlinux_banner(sp->value - (ulong)l->kernel_offset, file, sizeof(file));
	if (flen > 0) {
		if (strncmp(mem, file, (size_t)flen) != 0) {
			snprintf(err, errlen, "the banner in the dump (%.*s) is not the vmlinux's (%.*s)",
				 (int)strcspn(mem, "\n"), mem, (int)strcspn(file, "\n"), file);
			return -1;
		}
		rep.banner_checked = 1;
	}

	/* 5: arm64_init() has no POST_RELOC case today; run it as crash's startup does. */
	if (kaslr_repair_catch_fatal(post_reloc, NULL) < 0) {
		snprintf(err, errlen, "machdep_init(POST_RELOC) failed with these values");
		return -1;
	}
	if (rep_ret)
		*rep_ret = rep;
	return 0;
}
