/*
 * core/vmlinux.c - link-time values of a vmlinux, read with libelf
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One pass over .symtab collects every symbol the methods need; the
 * linux_banner bytes come from the section that holds the symbol, the
 * build-id from the NT_GNU_BUILD_ID note.  Nothing here knows about crash:
 * the module and kaslr-find both call kaslr_vmlinux_open().
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "core/vmlinux.h"
#include "core/x86_64/constants.h"

/* A banner is "Linux version ... \n"; anything this large is not one. */
#define BANNER_MAX	4096
/* Size of a pointer: vmcoreinfo_data is "unsigned char *" since 4.13 (commit 203e9e41219b). */
#define PTR_SIZE	8

/* The symbols of struct kaslr_vmlinux, in order of preference per slot. */
enum slot {
	S_TEXT,
	S_STEXT,
	S_DIVIDE_ERROR,		/* asm_exc_divide_error: 5.8+ (commit 9d06c4027f21) */
	S_DIVIDE_ERROR_OLD,	/* divide_error: before 5.8 */
	S_IDT_TABLE,
	S_LINUX_BANNER,
	S_VMCOREINFO_DATA,
	S_VMCOREINFO_SIZE,
	S_SAVED_COMMAND_LINE,
	S_PAGE_OFFSET_BASE,
	S_INIT_TOP_PGT,		/* init_top_pgt: 4.13+ (commit 65ade2f872b4) */
	S_INIT_LEVEL4_PGT,	/* init_level4_pgt: before 4.13 */
	S_PTI_INIT,		/* pti_init: 4.15+ */
	S_KAISER_INIT,		/* kaiser_init: the 4.4/4.9 stable backports of PTI */
	S_SYS_CALL_TABLE,	/* relocation probe: a .rodata array of text pointers */
	S_END,			/* _end: where the image ends (the probes' range) */
	S_SWAPPER_PG_DIR,	/* arm64 */
	S_MEMSTART_ADDR,	/* arm64: PHYS_OFFSET */
	S_VABITS_ACTUAL,	/* arm64, 5.4+ */
	S_KIMAGE_VOFFSET,	/* arm64 */
	S_COUNT
};

static const char *const slot_names[S_COUNT] = {
	[S_TEXT] = "_text",
	[S_STEXT] = "_stext",
	[S_DIVIDE_ERROR] = "asm_exc_divide_error",
	[S_DIVIDE_ERROR_OLD] = "divide_error",
	[S_IDT_TABLE] = "idt_table",
	[S_LINUX_BANNER] = "linux_banner",
	[S_VMCOREINFO_DATA] = "vmcoreinfo_data",
	[S_VMCOREINFO_SIZE] = "vmcoreinfo_size",
	[S_SAVED_COMMAND_LINE] = "saved_command_line",
	[S_PAGE_OFFSET_BASE] = "page_offset_base",
	[S_INIT_TOP_PGT] = "init_top_pgt",
	[S_INIT_LEVEL4_PGT] = "init_level4_pgt",
	[S_PTI_INIT] = "pti_init",
	[S_KAISER_INIT] = "kaiser_init",
	[S_SYS_CALL_TABLE] = "sys_call_table",
	[S_END] = "_end",
	[S_SWAPPER_PG_DIR] = "swapper_pg_dir",
	[S_MEMSTART_ADDR] = "memstart_addr",
	[S_VABITS_ACTUAL] = "vabits_actual",
	[S_KIMAGE_VOFFSET] = "kimage_voffset",
};

struct found {
	GElf_Sym sym;
	int have;		/* 0 none, 1 local, 2 global/weak */
};

/* An opened vmlinux: fd + libelf handle. */
struct elf_file {
	int fd;
	Elf *elf;
};

static enum kaslr_status
elf_file_open(const char *path, struct elf_file *ef, int *machine_ret, char *err, size_t errlen)
{
	GElf_Ehdr ehdr;

	ef->fd = -1;
	ef->elf = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "%s: libelf is unusable: %s", path, elf_errmsg(-1));
		return KASLR_CORRUPT;
	}
	if ((ef->fd = open(path, O_RDONLY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return KASLR_CORRUPT;
	}
	if (!(ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL))) {
		snprintf(err, errlen, "%s: cannot read as ELF: %s", path, elf_errmsg(-1));
		return KASLR_CORRUPT;
	}
	if (elf_kind(ef->elf) != ELF_K_ELF) {
		snprintf(err, errlen, "%s: not an ELF file (a compressed vmlinuz? use the "
			 "uncompressed vmlinux with symbols, e.g. from the -dbg package)", path);
		return KASLR_NODATA;
	}
	if (gelf_getclass(ef->elf) != ELFCLASS64 || !gelf_getehdr(ef->elf, &ehdr) ||
	    ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
	    (ehdr.e_machine != EM_X86_64 && ehdr.e_machine != EM_AARCH64)) {
		snprintf(err, errlen, "%s: not an x86_64 or arm64 vmlinux (ELF machine %u; the kernels "
			 "supported are 64-bit little-endian x86 and arm)", path,
			 gelf_getehdr(ef->elf, &ehdr) ? (unsigned)ehdr.e_machine : 0);
		return KASLR_NODATA;
	}
	if (machine_ret)
		*machine_ret = ehdr.e_machine;
	if (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN) {
		snprintf(err, errlen, "%s: ELF type %u is not an executable: give the vmlinux, "
			 "not a module or a core", path, (unsigned)ehdr.e_type);
		return KASLR_NODATA;
	}
	return KASLR_OK;
}

static void
elf_file_close(struct elf_file *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	ef->elf = NULL;
	ef->fd = -1;
}

/* The SHT_SYMTAB section, or NULL. */
static Elf_Scn *
find_symtab(Elf *elf, GElf_Shdr *shdr_ret)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, shdr_ret) && shdr_ret->sh_type == SHT_SYMTAB)
			return scn;
	return NULL;
}

/*
 * Walk .symtab once; @visit gets every named symbol and returns non-zero to
 * stop.  @returns KASLR_OK, KASLR_NODATA (no .symtab), KASLR_CORRUPT.
 */
static enum kaslr_status
symtab_walk(Elf *elf, const char *path, int (*visit)(void *arg, const char *name, const GElf_Sym *sym),
	    void *arg, char *err, size_t errlen)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *data = NULL;
	int e;

	if (!(scn = find_symtab(elf, &shdr))) {
		snprintf(err, errlen, "%s: no symbol table (stripped?): use the unstripped vmlinux, "
			 "e.g. from the kernel's -dbg package", path);
		return KASLR_NODATA;
	}
	if (!shdr.sh_entsize) {
		snprintf(err, errlen, "%s: symbol table has entry size 0", path);
		return KASLR_CORRUPT;
	}
	(void)elf_errno();	/* clear any earlier error: only this walk's count */
	while ((data = elf_getdata(scn, data))) {
		size_t i, n = data->d_size / shdr.sh_entsize;

		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			if (!sym.st_name || !(name = elf_strptr(elf, shdr.sh_link, sym.st_name)) || !*name)
				continue;
			if (visit(arg, name, &sym))
				return KASLR_OK;
		}
	}
	if ((e = elf_errno())) {
		snprintf(err, errlen, "%s: cannot read the symbol table: %s", path, elf_errmsg(e));
		return KASLR_CORRUPT;
	}
	return KASLR_OK;
}

static int
collect_visit(void *arg, const char *name, const GElf_Sym *sym)
{
	struct found *f = arg;
	int s, bind, rank;

	/* Cheap reject: every wanted name starts with one of these letters. */
	if (!strchr("_adilpsvkm", name[0]))
		return 0;
	for (s = 0; s < S_COUNT; s++)
		if (!strcmp(name, slot_names[s]))
			break;
	if (s == S_COUNT || sym->st_shndx == SHN_UNDEF)
		return 0;
	/* A global definition wins over a file-local one of the same name. */
	bind = GELF_ST_BIND(sym->st_info);
	rank = bind == STB_GLOBAL || bind == STB_WEAK ? 2 : 1;
	if (rank > f[s].have) {
		f[s].sym = *sym;
		f[s].have = rank;
	}
	return 0;
}

/* Section header of @ndx, or -1. */
static int
section_of(Elf *elf, size_t ndx, GElf_Shdr *shdr_ret, const char **name_ret)
{
	Elf_Scn *scn;
	size_t shstrndx;

	if (!(scn = elf_getscn(elf, ndx)) || !gelf_getshdr(scn, shdr_ret))
		return -1;
	*name_ret = NULL;
	if (elf_getshdrstrndx(elf, &shstrndx) == 0)
		*name_ret = elf_strptr(elf, shstrndx, shdr_ret->sh_name);
	if (!*name_ret)
		*name_ret = "(unnamed section)";
	return 0;
}

/*
 * Read the full linux_banner from the file.  The symbol is a char array
 * (init/version.c) whose st_size counts the NUL.
 */
static enum kaslr_status
read_banner(struct elf_file *ef, const char *path, const GElf_Sym *sym, struct kaslr_vmlinux *vml,
	    char *err, size_t errlen)
{
	GElf_Shdr shdr;
	const char *sname;
	uint64_t off;
	size_t len;
	char *buf;
	ssize_t got;

	if (sym->st_shndx >= SHN_LORESERVE || section_of(ef->elf, sym->st_shndx, &shdr, &sname) < 0) {
		snprintf(err, errlen, "%s: linux_banner is not in a section (st_shndx %u)", path,
			 (unsigned)sym->st_shndx);
		return KASLR_CORRUPT;
	}
	if (shdr.sh_type == SHT_NOBITS) {
		snprintf(err, errlen, "%s: vmlinux has no contents for %s (a debuginfo-only file?): "
			 "use the full vmlinux, not one made with objcopy --only-keep-debug", path, sname);
		return KASLR_NODATA;
	}
	if (shdr.sh_flags & SHF_COMPRESSED) {
		snprintf(err, errlen, "%s: section %s is compressed: decompress the vmlinux with "
			 "objcopy --decompress-debug-sections", path, sname);
		return KASLR_NODATA;
	}
	len = sym->st_size ? sym->st_size : BANNER_MAX;
	if (len > BANNER_MAX)
		len = BANNER_MAX;
	if (sym->st_value < shdr.sh_addr || sym->st_value - shdr.sh_addr >= shdr.sh_size) {
		snprintf(err, errlen, "%s: linux_banner (0x%llx) lies outside its section %s", path,
			 (unsigned long long)sym->st_value, sname);
		return KASLR_CORRUPT;
	}
	off = sym->st_value - shdr.sh_addr;
	if (len > shdr.sh_size - off)
		len = shdr.sh_size - off;
	if (!(buf = malloc(len + 1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		return KASLR_NOMEM;
	}
	got = pread(ef->fd, buf, len, (off_t)(shdr.sh_offset + off));
	if (got != (ssize_t)len) {
		snprintf(err, errlen, "%s: cannot read linux_banner from %s: %s", path, sname,
			 got < 0 ? strerror(errno) : "file is truncated");
		free(buf);
		return KASLR_CORRUPT;
	}
	buf[len] = '\0';
	/* The banner ends at its NUL (st_size counts it; without st_size we read ahead). */
	len = strnlen(buf, len);
	if (len < 14 || memcmp(buf, "Linux version ", 14)) {
		snprintf(err, errlen, "%s: linux_banner does not start with \"Linux version \": "
			 "not a Linux vmlinux, or a corrupt one", path);
		free(buf);
		return KASLR_CORRUPT;
	}
	vml->banner = buf;
	vml->banner_len = len;
	/* uts release: the token after "Linux version ", at most 64 bytes (__NEW_UTS_LEN). */
	{
		const char *p = buf + 14;
		size_t n = strcspn(p, " \n");

		if (n >= sizeof(vml->osrelease))
			n = sizeof(vml->osrelease) - 1;
		memcpy(vml->osrelease, p, n);
		vml->osrelease[n] = '\0';
	}
	return KASLR_OK;
}


static void
probe_add(struct kaslr_vmlinux *vml, uint64_t vaddr, uint64_t value)
{
	if (vml->nr_reloc < KASLR_MAX_RELOC) {
		vml->reloc[vml->nr_reloc].vaddr = vaddr;
		vml->reloc[vml->nr_reloc].value = value;
		vml->nr_reloc++;
	}
}

/* Entries of sys_call_table taken as probes (the rest comes from .rodata). */
#define SYSCALL_PROBES	4
/* .rodata is sampled in this many evenly spaced windows, one probe per window. */
#define RODATA_WINDOWS	(KASLR_MAX_RELOC - SYSCALL_PROBES)
#define RODATA_WINDOW	4096
/* Bytes of each window searched for a pointer-like word. */
#define RODATA_SCAN	(64 * RODATA_WINDOW)

/*
 * Relocation probes, source 1: the first entries of sys_call_table as the
 * file holds them (a .rodata array of text pointers on every x86_64 kernel
 * since 2.6).  Only entries that point into the image count.
 */
static void
probes_from_syscalls(struct elf_file *ef, const GElf_Sym *sym, uint64_t lo, uint64_t hi,
		     struct kaslr_vmlinux *vml)
{
	unsigned char buf[SYSCALL_PROBES * 8];
	GElf_Shdr shdr;
	const char *sname;
	uint64_t off;
	size_t i;

	if (sym->st_shndx >= SHN_LORESERVE || section_of(ef->elf, sym->st_shndx, &shdr, &sname) < 0 ||
	    shdr.sh_type == SHT_NOBITS || (shdr.sh_flags & SHF_COMPRESSED) ||
	    sym->st_size < sizeof(buf) || sym->st_value < shdr.sh_addr ||
	    sym->st_value - shdr.sh_addr + sizeof(buf) > shdr.sh_size)
		return;
	off = sym->st_value - shdr.sh_addr;
	if (pread(ef->fd, buf, sizeof(buf), (off_t)(shdr.sh_offset + off)) != (ssize_t)sizeof(buf))
		return;
	for (i = 0; i < SYSCALL_PROBES; i++) {
		uint64_t v = kaslr_le64(buf + 8 * i);

		if (v >= lo && v < hi)
			probe_add(vml, sym->st_value + 8 * i, v);
	}
}

/* The section called @want, or NULL. */
static Elf_Scn *
section_named(Elf *elf, const char *want, GElf_Shdr *shdr_ret)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	const char *name;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, shdr_ret) && (name = elf_strptr(elf, shstrndx, shdr_ret->sh_name)) &&
		    !strcmp(name, want))
			return scn;
	return NULL;
}

/* The 8 bytes the file holds at link address @va of section @shdr; -1 if outside it. */
static int
section_word(struct elf_file *ef, const GElf_Shdr *shdr, uint64_t va, uint64_t *val_ret)
{
	unsigned char b[8];

	if (va < shdr->sh_addr || va - shdr->sh_addr > shdr->sh_size - 8 || shdr->sh_size < 8 ||
	    pread(ef->fd, b, 8, (off_t)(shdr->sh_offset + (va - shdr->sh_addr))) != 8)
		return -1;
	*val_ret = kaslr_le64(b);
	return 0;
}

/* x86_64 psABI: a 64-bit absolute relocation, S + A (the words the boot-time pass moves). */
#define R_X86_64_64_TYPE	1

/*
 * Relocation probes, source 2: what the relocations say.  A vmlinux linked
 * with --emit-relocs (CONFIG_X86_NEED_RELOCS, every distribution KASLR
 * kernel; Debian's -dbg vmlinux keeps the .rela sections) lists in
 * .rela.rodata every 64-bit absolute pointer of .rodata: exactly the words
 * arch/x86/tools/relocs feeds to handle_relocations().  Entries are taken
 * evenly over the table.  @returns the number taken (0: no such section).
 */
static int
probes_from_relocations(struct elf_file *ef, const GElf_Shdr *rodata, size_t rodata_ndx, uint64_t lo,
			uint64_t hi, struct kaslr_vmlinux *vml)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	Elf_Data *data;
	size_t n, j, t, k, nabs = 0, want = (size_t)(KASLR_MAX_RELOC - vml->nr_reloc), taken = 0;
	GElf_Rela r;

	while ((scn = elf_nextscn(ef->elf, scn)))
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_RELA && shdr.sh_info == rodata_ndx &&
		    shdr.sh_entsize)
			break;
	if (!scn || !want || !(data = elf_getdata(scn, NULL)))
		return 0;
	n = data->d_size / shdr.sh_entsize;
	/* Pass 1: how many 64-bit absolute relocations (others are PC-relative: not moved). */
	for (j = 0; j < n; j++)
		if (gelf_getrela(data, (int)j, &r) && GELF_R_TYPE(r.r_info) == R_X86_64_64_TYPE)
			nabs++;
	/* Pass 2: probe t is the first usable one from the t-th of @want equal parts of them. */
	for (j = 0, t = 0, k = 0; j < n && t < want; j++) {
		uint64_t v;
		size_t q;

		if (!gelf_getrela(data, (int)j, &r) || GELF_R_TYPE(r.r_info) != R_X86_64_64_TYPE)
			continue;
		if (k++ < t * nabs / want)
			continue;
		if (section_word(ef, rodata, r.r_offset, &v) < 0 || v < lo || v >= hi)
			continue;	/* a per-cpu offset, or outside the image: try the next one */
		for (q = 0; q < (size_t)vml->nr_reloc && vml->reloc[q].vaddr != r.r_offset; q++)
			;
		if (q == (size_t)vml->nr_reloc) {	/* not a sys_call_table entry already taken */
			probe_add(vml, r.r_offset, v);
			taken++;
		}
		t++;
	}
	return (int)taken;
}

/*
 * Relocation probes, source 3, for a vmlinux without relocation sections:
 * aligned words of .rodata whose value lies inside the image [_text,
 * _end), one per window spread over the section.  Such a word is a pointer
 * into the kernel (an ops table, a string table): the relocation pass
 * moves it, and .rodata is not written after that (mark_rodata_ro()).  A
 * stray non-pointer word of that value is possible but rare; kaslr_verify
 * decides by majority, not by one word.
 */
static void
probes_from_rodata_words(struct elf_file *ef, const GElf_Shdr *shdr, uint64_t lo, uint64_t hi,
			 struct kaslr_vmlinux *vml)
{
	unsigned char buf[RODATA_WINDOW];
	uint64_t stride, start, end;
	size_t w, i, len;

	if (shdr->sh_addr % 8 || shdr->sh_size / RODATA_WINDOWS < 8)
		return;
	stride = shdr->sh_size / RODATA_WINDOWS & ~7ULL;
	for (w = 0; w < RODATA_WINDOWS && vml->nr_reloc < KASLR_MAX_RELOC; w++) {
		int found = 0;

		/* Window w: up to RODATA_SCAN bytes from the start of the w-th of RODATA_WINDOWS parts. */
		end = stride * w + (stride < RODATA_SCAN ? stride : RODATA_SCAN);
		for (start = stride * w; start < end && !found; start += len) {
			len = end - start < sizeof(buf) ? (size_t)(end - start) : sizeof(buf);
			if (pread(ef->fd, buf, len, (off_t)(shdr->sh_offset + start)) != (ssize_t)len)
				return;
			for (i = 0; i + 8 <= len; i += 8) {
				uint64_t v = kaslr_le64(buf + i), va = shdr->sh_addr + start + i;
				int k;

				if (v < lo || v >= hi)
					continue;
				for (k = 0; k < vml->nr_reloc && vml->reloc[k].vaddr != va; k++)
					;
				if (k < vml->nr_reloc)	/* a sys_call_table entry already taken */
					continue;
				probe_add(vml, va, v);
				found = 1;
				break;
			}
		}
	}
}

/* AArch64 ELF ABI: a relative relocation, Delta(S) + A (the words __relocate_kernel moves). */
#define R_AARCH64_RELATIVE_TYPE	1027

/*
 * arm64 relocation probes.  An arm64 KASLR kernel is linked -pie with
 * --no-apply-dynamic-relocs (arch/arm64/Makefile, 4.15+): the words of
 * the image hold 0 in the file and .rela.dyn holds one R_AARCH64_RELATIVE
 * entry per pointer, whose addend is the link-time value.  At boot the
 * kernel adds its offset to each (arch/arm64/kernel/pi/relocate.c, head.S
 * before 6.2), so in memory the word at r_offset reads r_addend +
 * KERNELOFFSET.  Only words of .rodata are taken (never written after
 * mark_rodata_ro(); .init words are freed, .data words change), evenly
 * over the entries that land there.
 */
static void
probes_from_rela_dyn(struct elf_file *ef, struct kaslr_vmlinux *vml)
{
	GElf_Shdr rodata, shdr;
	Elf_Scn *scn = section_named(ef->elf, ".rela.dyn", &shdr);
	Elf_Data *data;
	size_t n, j, k, nin = 0, t = 0, want = KASLR_MAX_RELOC;
	uint64_t lo = vml->text ? vml->text : vml->stext, hi = vml->end;
	GElf_Rela r;

	if (!scn || shdr.sh_type != SHT_RELA || !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)) ||
	    !section_named(ef->elf, ".rodata", &rodata) || !lo || hi <= lo)
		return;
	n = data->d_size / shdr.sh_entsize;
#define RELA_USABLE(r) (GELF_R_TYPE((r).r_info) == R_AARCH64_RELATIVE_TYPE && (r).r_offset % 8 == 0 && \
			(r).r_offset >= rodata.sh_addr && (r).r_offset - rodata.sh_addr <= rodata.sh_size - 8 && \
			(uint64_t)(r).r_addend >= lo && (uint64_t)(r).r_addend < hi)
	for (j = 0; j < n; j++)
		if (gelf_getrela(data, (int)j, &r) && RELA_USABLE(r))
			nin++;
	for (j = 0, k = 0; j < n && t < want && vml->nr_reloc < KASLR_MAX_RELOC; j++) {
		if (!gelf_getrela(data, (int)j, &r) || !RELA_USABLE(r))
			continue;
		if (k++ < t * nin / want)
			continue;
		probe_add(vml, r.r_offset, (uint64_t)r.r_addend);
		t++;
	}
#undef RELA_USABLE
}

#ifndef SHT_RELR
#define SHT_RELR 19
#endif

/*
 * Walk .relr.dyn (the ELF gABI's packed relative relocations): an even
 * entry is an address, an odd one a bitmap of the 63 words after the last
 * address.  @visit gets each address; @returns how many.
 */
static size_t
relr_walk(const unsigned char *p, size_t n, void (*visit)(void *arg, uint64_t addr), void *arg)
{
	uint64_t where = 0;
	size_t i, count = 0;
	int b;

	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t e = kaslr_le64(p + i);

		if (!(e & 1)) {
			if (visit)
				visit(arg, e);
			count++;
			where = e + 8;
			continue;
		}
		for (b = 0; b < 63; b++) {
			if ((e >> (b + 1)) & 1) {
				if (visit)
					visit(arg, where + 8 * (uint64_t)b);
				count++;
			}
		}
		where += 63 * 8;
	}
	return count;
}

struct relr_pick {
	struct elf_file *ef;
	const GElf_Shdr *rodata;
	struct kaslr_vmlinux *vml;
	uint64_t lo, hi;
	size_t seen, usable, want, taken;
	int counting;
};

static void
relr_visit(void *arg, uint64_t addr)
{
	struct relr_pick *r = arg;
	uint64_t v;

	if (addr % 8 || addr < r->rodata->sh_addr || addr - r->rodata->sh_addr > r->rodata->sh_size - 8)
		return;
	if (r->counting) {
		r->usable++;
		return;
	}
	/* Probe t is the first usable word from the t-th of @want equal parts. */
	if (r->taken >= r->want || r->seen++ < r->taken * r->usable / r->want)
		return;
	if (section_word(r->ef, r->rodata, addr, &v) < 0 || v < r->lo || v >= r->hi)
		return;
	probe_add(r->vml, addr, v);
	r->taken++;
}

/*
 * arm64 relocation probes from .relr.dyn (CONFIG_RELR, Debian's 6.x arm64
 * kernels: .rela.dyn then holds a handful of entries).  A RELR word keeps
 * its link-time value in place, and the kernel adds its offset at boot
 * (relocate_kernel()), so in memory it reads that value + KERNELOFFSET.
 */
static void
probes_from_relr_dyn(struct elf_file *ef, struct kaslr_vmlinux *vml)
{
	GElf_Shdr rodata, shdr;
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	struct relr_pick r;

	while ((scn = elf_nextscn(ef->elf, scn)))
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type == SHT_RELR)
			break;
	if (!scn || !(data = elf_getdata(scn, NULL)) || !data->d_buf || !section_named(ef->elf, ".rodata", &rodata) ||
	    rodata.sh_type != SHT_PROGBITS || vml->nr_reloc >= KASLR_MAX_RELOC)
		return;
	memset(&r, 0, sizeof(r));
	r.ef = ef;
	r.rodata = &rodata;
	r.vml = vml;
	r.lo = vml->text ? vml->text : vml->stext;
	r.hi = vml->end;
	r.want = (size_t)(KASLR_MAX_RELOC - vml->nr_reloc);
	if (!r.lo || r.hi <= r.lo)
		return;
	r.counting = 1;
	relr_walk(data->d_buf, data->d_size, relr_visit, &r);
	if (!r.usable)
		return;
	r.counting = 0;
	relr_walk(data->d_buf, data->d_size, relr_visit, &r);
}

/*
 * Relocation probes beyond sys_call_table, which a kernel may lack or a
 * vmlinux may have renamed: the relocations of .rodata, else pointer-like
 * words of it.
 */
static void
probes_from_rodata(struct elf_file *ef, uint64_t lo, uint64_t hi, struct kaslr_vmlinux *vml)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = section_named(ef->elf, ".rodata", &shdr);

	if (!scn || shdr.sh_type != SHT_PROGBITS || (shdr.sh_flags & SHF_COMPRESSED))
		return;
	if (!probes_from_relocations(ef, &shdr, elf_ndxscn(scn), lo, hi, vml))
		probes_from_rodata_words(ef, &shdr, lo, hi, vml);
}

/* The GNU build-id as lowercase hex into vml->build_id; leaves "" if there is none. */
static void
read_build_id(Elf *elf, struct kaslr_vmlinux *vml)
{
	static const char hex[] = "0123456789abcdef";
	Elf_Scn *scn = NULL;

	vml->build_id[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		GElf_Nhdr nhdr;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE || !(data = elf_getdata(scn, NULL)))
			continue;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
			size_t i, n;

			if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4) || !nhdr.n_descsz)
				continue;
			n = nhdr.n_descsz;
			if (n > (sizeof(vml->build_id) - 1) / 2)
				n = (sizeof(vml->build_id) - 1) / 2;
			for (i = 0; i < n; i++) {
				vml->build_id[2 * i] = hex[desc[i] >> 4];
				vml->build_id[2 * i + 1] = hex[desc[i] & 15];
			}
			vml->build_id[2 * n] = '\0';
			return;
		}
	}
}

static uint64_t
slot_value(const struct found *f, enum slot s)
{
	return f[s].have ? f[s].sym.st_value : 0;
}

enum kaslr_status
kaslr_vmlinux_open(const char *path, struct kaslr_vmlinux *vml, char *err, size_t errlen)
{
	struct elf_file ef;
	struct found f[S_COUNT];
	enum kaslr_status st;

	memset(vml, 0, sizeof(*vml));
	memset(f, 0, sizeof(f));
	if ((st = elf_file_open(path, &ef, &vml->machine, err, errlen)) != KASLR_OK)
		goto out;
	if ((st = symtab_walk(ef.elf, path, collect_visit, f, err, errlen)) != KASLR_OK)
		goto out;
	if (!f[S_TEXT].have && !f[S_STEXT].have) {
		snprintf(err, errlen, "%s: no _text or _stext symbol: not a Linux vmlinux", path);
		st = KASLR_NODATA;
		goto out;
	}
	if (!f[S_LINUX_BANNER].have) {
		snprintf(err, errlen, "%s: no linux_banner symbol: nothing to verify a result against "
			 "(not a Linux vmlinux?)", path);
		st = KASLR_NODATA;
		goto out;
	}

	vml->text = slot_value(f, S_TEXT);
	vml->stext = slot_value(f, S_STEXT);
	vml->divide_error = f[S_DIVIDE_ERROR].have ? slot_value(f, S_DIVIDE_ERROR)
						   : slot_value(f, S_DIVIDE_ERROR_OLD);
	vml->idt_table = slot_value(f, S_IDT_TABLE);
	vml->linux_banner = slot_value(f, S_LINUX_BANNER);
	vml->vmcoreinfo_data = slot_value(f, S_VMCOREINFO_DATA);
	// Before 4.13 vmcoreinfo_data was the char array itself; since commit
	// 203e9e41219b it is a pointer to a separately allocated page.
	vml->vmcoreinfo_data_is_array = f[S_VMCOREINFO_DATA].have &&
		GELF_ST_TYPE(f[S_VMCOREINFO_DATA].sym.st_info) == STT_OBJECT &&
		f[S_VMCOREINFO_DATA].sym.st_size > PTR_SIZE;
	vml->vmcoreinfo_size = slot_value(f, S_VMCOREINFO_SIZE);
	vml->saved_command_line = slot_value(f, S_SAVED_COMMAND_LINE);
	vml->page_offset_base = slot_value(f, S_PAGE_OFFSET_BASE);
	vml->init_top_pgt = f[S_INIT_TOP_PGT].have ? slot_value(f, S_INIT_TOP_PGT)
						   : slot_value(f, S_INIT_LEVEL4_PGT);
	vml->has_pti = f[S_PTI_INIT].have || f[S_KAISER_INIT].have;
	vml->swapper_pg_dir = slot_value(f, S_SWAPPER_PG_DIR);
	vml->memstart_addr = slot_value(f, S_MEMSTART_ADDR);
	vml->vabits_actual = slot_value(f, S_VABITS_ACTUAL);
	vml->kimage_voffset = slot_value(f, S_KIMAGE_VOFFSET);
	vml->end = slot_value(f, S_END);

	if ((st = read_banner(&ef, path, &f[S_LINUX_BANNER].sym, vml, err, errlen)) != KASLR_OK)
		goto out;
	read_build_id(ef.elf, vml);
	if (vml->machine == EM_AARCH64) {
		probes_from_rela_dyn(&ef, vml);
		probes_from_relr_dyn(&ef, vml);
	} else {
		/* Probes point into the image: [_text, _end), else the whole window. */
		uint64_t lo = vml->text ? vml->text : vml->stext ? vml->stext : START_KERNEL_MAP;
		uint64_t hi = f[S_END].have && slot_value(f, S_END) > lo ? slot_value(f, S_END)
									: START_KERNEL_MAP + KERNEL_IMAGE_SIZE;

		if (f[S_SYS_CALL_TABLE].have)
			probes_from_syscalls(&ef, &f[S_SYS_CALL_TABLE].sym, lo, hi, vml);
		probes_from_rodata(&ef, lo, hi, vml);
	}
out:
	elf_file_close(&ef);
	if (st != KASLR_OK)
		kaslr_vmlinux_close(vml);
	return st;
}

struct lookup {
	const char *name;
	uint64_t value;
	int have;
};

static int
lookup_visit(void *arg, const char *name, const GElf_Sym *sym)
{
	struct lookup *l = arg;
	int bind = GELF_ST_BIND(sym->st_info);

	if (sym->st_shndx == SHN_UNDEF || strcmp(name, l->name))
		return 0;
	l->value = sym->st_value;
	l->have = 1;
	/* A global definition is final; a local one may still be overridden. */
	return bind == STB_GLOBAL || bind == STB_WEAK;
}

uint64_t
kaslr_vmlinux_symbol(const char *path, const char *name)
{
	struct elf_file ef;
	struct lookup l = { name, 0, 0 };
	char err[KASLR_ERRLEN];

	if (elf_file_open(path, &ef, NULL, err, sizeof(err)) == KASLR_OK)
		symtab_walk(ef.elf, path, lookup_visit, &l, err, sizeof(err));
	elf_file_close(&ef);
	return l.have ? l.value : 0;
}

void
kaslr_vmlinux_close(struct kaslr_vmlinux *vml)
{
	free((char *)vml->banner);
	memset(vml, 0, sizeof(*vml));
}
