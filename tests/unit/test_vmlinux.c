/*
 * test_vmlinux.c - reading a vmlinux's link-time values (vmlinux.c)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each case writes a small ELF file with libelf: a .rodata holding the
 * banner (or NOBITS, as in a debuginfo-only file), a .symtab with the
 * symbols in random order and value, file-local decoys of the same names,
 * and a GNU build-id note; then checks what kaslr_vmlinux_open() read.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include "unit.h"
#include "core/vmlinux.h"

#define RODATA_ADDR	0xffffffff82000000ULL
#define RODATA_SIZE	0x2000

struct fake_sym {
	char name[48];
	uint64_t value, size;
	int type, bind;
};

struct fake {
	uint16_t machine;
	int rodata_nobits;
	int no_symtab;
	struct fake_sym syms[48];
	int nsyms;
	char banner[256];
	uint64_t banner_off;		/* in .rodata */
	int banner_size_zero;		/* st_size 0: the reader must stop at the NUL */
	unsigned char build_id[20];
	int has_build_id;
	/* Pointers into the image written into .rodata (relocation probes). */
	struct {
		uint64_t off, value;
	} ptrs[32];
	int nptrs;
	char path[4096];
};

/* mkstemp in $TMPDIR (default /tmp). */
static int tmp_file(char *path, size_t size, const char *stem)
{
	const char *dir = getenv("TMPDIR");

	snprintf(path, size, "%s/kaslr-test-%s.XXXXXX", dir && *dir ? dir : "/tmp", stem);
	return mkstemp(path);
}

static void fake_sym(struct fake *f, const char *name, uint64_t value, uint64_t size, int type, int bind)
{
	struct fake_sym *s = &f->syms[f->nsyms++];

	snprintf(s->name, sizeof(s->name), "%s", name);
	s->value = value;
	s->size = size;
	s->type = type;
	s->bind = bind;
}

static uint64_t rand_addr(uint64_t *rnd)
{
	return 0xffffffff81000000ULL + synth_rand_range(rnd, 0, 0x2000000) * 8;
}

/* A random kernel: release, banner, build-id, symbols (new names unless @old). */
static void fake_kernel(struct fake *f, uint64_t *rnd, int old)
{
	static const char *const flavours[] = { "cloud-amd64", "amd64", "rt-amd64" };

	memset(f, 0, sizeof(*f));
	f->machine = EM_X86_64;
	snprintf(f->banner, sizeof(f->banner),
		 "Linux version %u.%u.0-%u-%s (debian-kernel@lists.debian.org) (gcc-12) #1 SMP "
		 "PREEMPT_DYNAMIC Debian %u.%u.%u-1 (2026-01-01)\n",
		 (unsigned)synth_rand_range(rnd, 4, 7), (unsigned)synth_rand_range(rnd, 0, 20),
		 (unsigned)synth_rand_range(rnd, 1, 60), flavours[synth_rand(rnd) % 3],
		 (unsigned)synth_rand_range(rnd, 4, 7), (unsigned)synth_rand_range(rnd, 0, 20),
		 (unsigned)synth_rand_range(rnd, 0, 200));
	f->banner_off = synth_rand_range(rnd, 0, (RODATA_SIZE - sizeof(f->banner)) / 32) * 32;
	f->has_build_id = 1;
	for (size_t i = 0; i < sizeof(f->build_id); i++)
		f->build_id[i] = (unsigned char)synth_rand(rnd);

	fake_sym(f, "_text", 0xffffffff81000000ULL, 0, STT_NOTYPE, STB_GLOBAL);
	fake_sym(f, "_stext", 0xffffffff81000000ULL + synth_rand_range(rnd, 0, 2) * 0x1000, 0, STT_NOTYPE,
		 STB_GLOBAL);
	fake_sym(f, old ? "divide_error" : "asm_exc_divide_error", rand_addr(rnd), 32, STT_FUNC, STB_GLOBAL);
	fake_sym(f, "idt_table", rand_addr(rnd), 4096, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, "linux_banner", RODATA_ADDR + f->banner_off, strlen(f->banner) + 1, STT_OBJECT,
		 STB_GLOBAL);
	fake_sym(f, "vmcoreinfo_data", rand_addr(rnd), old ? 4096 : 8, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, "vmcoreinfo_size", rand_addr(rnd), 8, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, "saved_command_line", rand_addr(rnd), 8, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, "page_offset_base", rand_addr(rnd), 8, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, old ? "init_level4_pgt" : "init_top_pgt", rand_addr(rnd), 4096, STT_OBJECT, STB_GLOBAL);
	if (synth_rand(rnd) & 1)
		fake_sym(f, old ? "kaiser_init" : "pti_init", rand_addr(rnd), 64, STT_FUNC, STB_GLOBAL);
	/* Unrelated symbols and file-local decoys sharing wanted names. */
	fake_sym(f, "init_task", rand_addr(rnd), 4096, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, "idt_table", rand_addr(rnd), 16, STT_OBJECT, STB_LOCAL);
	fake_sym(f, "linux_banner_ptr", rand_addr(rnd), 8, STT_OBJECT, STB_GLOBAL);
	fake_sym(f, "page_offset_base", rand_addr(rnd), 8, STT_OBJECT, STB_LOCAL);
	fake_sym(f, "_stext_end", rand_addr(rnd), 0, STT_NOTYPE, STB_LOCAL);
}

static const struct fake_sym *fake_find(const struct fake *f, const char *name)
{
	for (int i = 0; i < f->nsyms; i++)
		if (!strcmp(f->syms[i].name, name) && f->syms[i].bind == STB_GLOBAL)
			return &f->syms[i];
	return NULL;
}

static uint64_t fake_value(const struct fake *f, const char *name)
{
	const struct fake_sym *s = fake_find(f, name);

	return s ? s->value : 0;
}

static Elf_Scn *new_section(Elf *e, size_t name, uint32_t type, uint64_t flags, uint64_t addr, void *buf,
			    size_t size, size_t align, Elf_Type dtype)
{
	Elf_Scn *scn = elf_newscn(e);
	Elf_Data *d = elf_newdata(scn);
	Elf64_Shdr *sh = elf64_getshdr(scn);

	d->d_buf = buf;
	d->d_size = size;
	d->d_align = align;
	d->d_type = dtype;
	d->d_version = EV_CURRENT;
	sh->sh_name = name;
	sh->sh_type = type;
	sh->sh_flags = flags;
	sh->sh_addr = addr;
	sh->sh_addralign = align;
	return scn;
}

/* Write @f to a temporary file (f->path).  @returns 0 or -1. */
static int fake_write(struct fake *f, uint64_t *rnd)
{
	static char shstr[] = "\0.rodata\0.symtab\0.strtab\0.note.gnu.build-id\0.shstrtab";
	enum { N_RODATA = 1, N_SYMTAB = 9, N_STRTAB = 17, N_NOTE = 25, N_SHSTRTAB = 44 };
	static unsigned char rodata[RODATA_SIZE];
	static char strtab[4096];
	static Elf64_Sym syms[64];
	static unsigned char note[16 + 20];
	int order[48], i, n, fd, nlocal = 0, ret = -1;
	size_t strlen_ = 1;
	Elf *e = NULL;
	Elf64_Ehdr *eh;
	Elf_Scn *rod, *symscn, *strscn, *shscn;

	if ((fd = tmp_file(f->path, sizeof(f->path), "vmlinux")) < 0)
		return -1;
	if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_WRITE, NULL)))
		goto out;
	eh = elf64_newehdr(e);
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = f->machine;
	eh->e_type = ET_EXEC;
	eh->e_version = EV_CURRENT;

	memset(rodata, 0xa5, sizeof(rodata));
	memcpy(rodata + f->banner_off, f->banner, strlen(f->banner) + 1);
	for (i = 0; i < f->nptrs; i++)
		for (int b = 0; b < 8; b++)
			rodata[f->ptrs[i].off + b] = (unsigned char)(f->ptrs[i].value >> (8 * b));
	rod = new_section(e, N_RODATA, f->rodata_nobits ? SHT_NOBITS : SHT_PROGBITS, SHF_ALLOC, RODATA_ADDR,
			  f->rodata_nobits ? NULL : rodata, sizeof(rodata), 32, ELF_T_BYTE);

	/* Symbols in random order, locals first as the gABI wants. */
	for (i = 0; i < f->nsyms; i++)
		order[i] = i;
	for (i = f->nsyms - 1; i > 0; i--) {
		int j = (int)synth_rand_range(rnd, 0, (uint64_t)i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	memset(syms, 0, sizeof(syms));
	memset(strtab, 0, sizeof(strtab));
	n = 1;
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < f->nsyms; i++) {
			const struct fake_sym *s = &f->syms[order[i]];
			Elf64_Sym *y;

			if ((s->bind == STB_LOCAL) != (pass == 0))
				continue;
			y = &syms[n++];
			y->st_name = (uint32_t)strlen_;
			memcpy(strtab + strlen_, s->name, strlen(s->name) + 1);
			strlen_ += strlen(s->name) + 1;
			y->st_value = s->value;
			y->st_size = !strcmp(s->name, "linux_banner") && f->banner_size_zero ? 0 : s->size;
			y->st_info = ELF64_ST_INFO(s->bind, s->type);
			y->st_shndx = (uint16_t)elf_ndxscn(rod);
		}
		if (pass == 0)
			nlocal = n;
	}
	if (!f->no_symtab) {
		strscn = new_section(e, N_STRTAB, SHT_STRTAB, 0, 0, strtab, strlen_, 1, ELF_T_BYTE);
		symscn = new_section(e, N_SYMTAB, SHT_SYMTAB, 0, 0, syms, n * sizeof(Elf64_Sym), 8, ELF_T_SYM);
		elf64_getshdr(symscn)->sh_link = (uint32_t)elf_ndxscn(strscn);
		elf64_getshdr(symscn)->sh_info = (uint32_t)nlocal;
		elf64_getshdr(symscn)->sh_entsize = sizeof(Elf64_Sym);
	}
	if (f->has_build_id) {
		uint32_t hdr[3] = { 4, 20, NT_GNU_BUILD_ID };

		memcpy(note, hdr, 12);
		memcpy(note + 12, "GNU", 4);
		memcpy(note + 16, f->build_id, 20);
		new_section(e, N_NOTE, SHT_NOTE, SHF_ALLOC, 0, note, sizeof(note), 4, ELF_T_NHDR);
	}
	shscn = new_section(e, N_SHSTRTAB, SHT_STRTAB, 0, 0, shstr, sizeof(shstr), 1, ELF_T_BYTE);
	eh->e_shstrndx = (uint16_t)elf_ndxscn(shscn);
	if (elf_update(e, ELF_C_WRITE) < 0)
		goto out;
	ret = 0;
out:
	if (e)
		elf_end(e);
	close(fd);
	if (ret)
		unlink(f->path);
	return ret;
}

static void hex(char *out, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* Everything read back equals what was written. */
static int check_all(const struct fake *f, int old, char *why, size_t whylen)
{
	struct kaslr_vmlinux v;
	char err[KASLR_ERRLEN], want_id[41], want_rel[65];
	enum kaslr_status st;
	int ret = 0;
	size_t n;

	st = kaslr_vmlinux_open(f->path, &v, err, sizeof(err));
	FAIL_IF(st != KASLR_OK, "open: %s: %s", kaslr_status_name(st), err);
	FAIL_IF(v.text != fake_value(f, "_text") || v.stext != fake_value(f, "_stext"), "_text/_stext " X64 "/" X64,
		v.text, v.stext);
	FAIL_IF(v.divide_error != fake_value(f, old ? "divide_error" : "asm_exc_divide_error"),
		"divide_error " X64, v.divide_error);
	FAIL_IF(v.idt_table != fake_value(f, "idt_table"), "idt_table " X64 " (a local decoy?)", v.idt_table);
	FAIL_IF(v.linux_banner != RODATA_ADDR + f->banner_off, "linux_banner " X64, v.linux_banner);
	FAIL_IF(v.vmcoreinfo_data != fake_value(f, "vmcoreinfo_data") || v.vmcoreinfo_data_is_array != old,
		"vmcoreinfo_data " X64 " array %d", v.vmcoreinfo_data, v.vmcoreinfo_data_is_array);
	FAIL_IF(v.vmcoreinfo_size != fake_value(f, "vmcoreinfo_size"), "vmcoreinfo_size");
	FAIL_IF(v.saved_command_line != fake_value(f, "saved_command_line"), "saved_command_line");
	FAIL_IF(v.page_offset_base != fake_value(f, "page_offset_base"), "page_offset_base " X64 " (a local decoy?)",
		v.page_offset_base);
	FAIL_IF(v.init_top_pgt != fake_value(f, old ? "init_level4_pgt" : "init_top_pgt"), "init_top_pgt");
	FAIL_IF(v.has_pti != !!fake_find(f, old ? "kaiser_init" : "pti_init"), "has_pti %d", v.has_pti);
	FAIL_IF(v.banner_len != strlen(f->banner) || memcmp(v.banner, f->banner, v.banner_len),
		"banner (%zu bytes) differs", v.banner_len);
	n = strcspn(f->banner + 14, " ");
	memcpy(want_rel, f->banner + 14, n);
	want_rel[n] = '\0';
	FAIL_IF(strcmp(v.osrelease, want_rel), "osrelease '%s' want '%s'", v.osrelease, want_rel);
	if (f->has_build_id)
		hex(want_id, f->build_id, 20);
	else
		want_id[0] = '\0';
	FAIL_IF(strcmp(v.build_id, want_id), "build-id '%s' want '%s'", v.build_id, want_id);
	FAIL_IF(kaslr_vmlinux_symbol(f->path, "init_task") != fake_value(f, "init_task"), "symbol lookup");
	FAIL_IF(kaslr_vmlinux_symbol(f->path, "idt_table") != fake_value(f, "idt_table"), "lookup prefers a local");
	FAIL_IF(kaslr_vmlinux_symbol(f->path, "no_such_symbol") != 0, "absent symbol found");
out:
	kaslr_vmlinux_close(&v);
	return ret;
}

static int t_symbols(uint64_t *rnd, char *why, size_t whylen)
{
	struct fake f;
	int ret = 0;

	fake_kernel(&f, rnd, 0);
	f.has_build_id = (int)(synth_rand(rnd) & 3) != 0;
	f.banner_size_zero = (int)(synth_rand(rnd) & 1);
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF: %s", elf_errmsg(-1));
	ret = check_all(&f, 0, why, whylen);
	unlink(f.path);
out:
	return ret;
}

/* Pre-4.13/5.8 names: init_level4_pgt, divide_error, an array vmcoreinfo_data, kaiser_init. */
static int t_old_names(uint64_t *rnd, char *why, size_t whylen)
{
	struct fake f;
	int ret = 0;

	fake_kernel(&f, rnd, 1);
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF: %s", elf_errmsg(-1));
	ret = check_all(&f, 1, why, whylen);
	unlink(f.path);
out:
	return ret;
}

/* Both divide-error names: the 5.8+ one wins. */
static int t_both_names(uint64_t *rnd, char *why, size_t whylen)
{
	struct fake f;
	struct kaslr_vmlinux v = { 0 };
	char err[KASLR_ERRLEN];
	int ret = 0;

	fake_kernel(&f, rnd, 0);
	fake_sym(&f, "divide_error", rand_addr(rnd), 8, STT_FUNC, STB_GLOBAL);
	fake_sym(&f, "init_level4_pgt", rand_addr(rnd), 8, STT_OBJECT, STB_GLOBAL);
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF");
	FAIL_IF(kaslr_vmlinux_open(f.path, &v, err, sizeof(err)) != KASLR_OK, "open: %s", err);
	FAIL_IF(v.divide_error != fake_value(&f, "asm_exc_divide_error"), "took divide_error");
	FAIL_IF(v.init_top_pgt != fake_value(&f, "init_top_pgt"), "took init_level4_pgt");
out:
	kaslr_vmlinux_close(&v);
	unlink(f.path);
	return ret;
}

/* Inputs that must be refused with a clear one-line reason. */
static int expect_refusal(const char *path, enum kaslr_status want, const char *words, char *why, size_t whylen)
{
	struct kaslr_vmlinux v;
	char err[KASLR_ERRLEN];
	enum kaslr_status st;
	int ret = 0;

	err[0] = '\0';
	st = kaslr_vmlinux_open(path, &v, err, sizeof(err));
	FAIL_IF(st != want, "status %s want %s (%s)", kaslr_status_name(st), kaslr_status_name(want), err);
	FAIL_IF(!strstr(err, words), "message '%s' lacks '%s'", err, words);
	FAIL_IF(strchr(err, '\n'), "message spans lines");
	FAIL_IF(v.banner != NULL, "banner left allocated");
out:
	if (st == KASLR_OK)
		kaslr_vmlinux_close(&v);
	return ret;
}

static int t_refusals(uint64_t *rnd, char *why, size_t whylen)
{
	struct fake f;
	int ret = 0, fd;
	char path[4096];

	fake_kernel(&f, rnd, 0);
	f.rodata_nobits = 1;
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF");
	ret = expect_refusal(f.path, KASLR_NODATA, "no contents for .rodata (a debuginfo-only file?)", why, whylen);
	unlink(f.path);
	if (ret)
		goto out;

	fake_kernel(&f, rnd, 0);
	f.machine = EM_PPC64;
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF");
	ret = expect_refusal(f.path, KASLR_NODATA, "not an x86_64 or arm64 vmlinux", why, whylen);
	unlink(f.path);
	if (ret)
		goto out;

	fake_kernel(&f, rnd, 0);
	f.no_symtab = 1;
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF");
	ret = expect_refusal(f.path, KASLR_NODATA, "no symbol table", why, whylen);
	unlink(f.path);
	if (ret)
		goto out;

	/* No linux_banner: nothing to verify against. */
	fake_kernel(&f, rnd, 0);
	strcpy(f.syms[4].name, "linux_banner_x");
	FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF");
	ret = expect_refusal(f.path, KASLR_NODATA, "no linux_banner", why, whylen);
	unlink(f.path);
	if (ret)
		goto out;

	fd = tmp_file(path, sizeof(path), "text");
	FAIL_IF(fd < 0, "mkstemp");
	FAIL_IF(write(fd, "not a kernel\n", 13) != 13, "write");
	close(fd);
	ret = expect_refusal(path, KASLR_NODATA, "not an ELF file", why, whylen);
	unlink(path);
	if (ret)
		goto out;
	ret = expect_refusal("/nonexistent/vmlinux", KASLR_CORRUPT, "No such file", why, whylen);
out:
	return ret;
}

/* Write a pointer into the image at a free 8-byte slot of .rodata (not over the banner). */
static uint64_t fake_ptr(struct fake *f, uint64_t *rnd, uint64_t off)
{
	uint64_t v = 0xffffffff81000000ULL + synth_rand_range(rnd, 0, 0x3000000 / 8) * 8;	/* < _end */

	if (off + 8 > f->banner_off && off < f->banner_off + strlen(f->banner) + 1)
		return 0;
	for (int i = 0; i < f->nptrs; i++)
		if (f->ptrs[i].off == off)	/* one word, one value */
			return 0;
	f->ptrs[f->nptrs].off = off;
	f->ptrs[f->nptrs].value = v;
	f->nptrs++;
	return v;
}

/*
 * Relocation probes: sys_call_table's first entries, then words of .rodata
 * that point into [_text, _end); with sys_call_table renamed away the
 * .rodata words still give probes.  Every probe is what the file holds.
 */
static int t_reloc_probes(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmlinux v;
	char err[KASLR_ERRLEN];
	struct fake f;
	uint64_t sct_off = 0;
	int ret = 0, i, k, with_sct;

	memset(&v, 0, sizeof(v));
	for (with_sct = 0; with_sct < 2; with_sct++) {
		fake_kernel(&f, rnd, 0);
		fake_sym(&f, "_end", 0xffffffff84000000ULL, 0, STT_NOTYPE, STB_GLOBAL);
		/* Banner in the first half: the pointers go into the second one. */
		f.banner_off = synth_rand_range(rnd, 0, (RODATA_SIZE / 2 - sizeof(f.banner)) / 32) * 32;
		for (i = 0; i < f.nsyms; i++)
			if (!strcmp(f.syms[i].name, "linux_banner"))
				f.syms[i].value = RODATA_ADDR + f.banner_off;
		if (with_sct) {
			sct_off = RODATA_SIZE / 2 + synth_rand_range(rnd, 0, 64) * 8;
			for (i = 0; i < 4; i++)
				fake_ptr(&f, rnd, sct_off + 8 * (uint64_t)i);
			fake_sym(&f, "sys_call_table", RODATA_ADDR + sct_off, 8 * 400, STT_OBJECT, STB_GLOBAL);
		}
		for (i = 0; i < 6; i++)
			fake_ptr(&f, rnd, RODATA_SIZE / 2 + 0x400 + synth_rand_range(rnd, 0, 0x80) * 8);
		/* Values outside the image are not pointers into it. */
		f.ptrs[f.nptrs].off = RODATA_SIZE - 8;
		f.ptrs[f.nptrs++].value = 0xffffffff85000000ULL;
		FAIL_IF(fake_write(&f, rnd) < 0, "cannot write the ELF: %s", elf_errmsg(-1));
		FAIL_IF(kaslr_vmlinux_open(f.path, &v, err, sizeof(err)) != KASLR_OK, "open: %s", err);
		unlink(f.path);
		FAIL_IF(v.nr_reloc < (with_sct ? 5 : 1) || v.nr_reloc > KASLR_MAX_RELOC, "%d probes (sys_call_table %d)",
			v.nr_reloc, with_sct);
		for (i = 0; i < v.nr_reloc; i++) {
			for (k = 0; k < f.nptrs; k++)
				if (RODATA_ADDR + f.ptrs[k].off == v.reloc[i].vaddr)
					break;
			FAIL_IF(k == f.nptrs || f.ptrs[k].value != v.reloc[i].value, "probe %d at " X64 " = " X64
				" is not a pointer the file holds", i, v.reloc[i].vaddr, v.reloc[i].value);
			FAIL_IF(v.reloc[i].value >= 0xffffffff84000000ULL, "probe outside [_text, _end)");
		}
		for (i = 0; with_sct && i < 4; i++)
			FAIL_IF(v.reloc[i].vaddr != RODATA_ADDR + sct_off + 8 * (uint64_t)i,
				"probe %d is not sys_call_table[%d]", i, i);
		kaslr_vmlinux_close(&v);
	}
out:
	kaslr_vmlinux_close(&v);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_vmlinux");

	unit_run("vmlinux-symbols", t_symbols, &rnd);
	unit_run("vmlinux-old-names", t_old_names, &rnd);
	unit_run("vmlinux-new-names-preferred", t_both_names, &rnd);
	unit_run("vmlinux-refusals", t_refusals, &rnd);
	unit_run("vmlinux-reloc-probes", t_reloc_probes, &rnd);
	TAP_EXIT();
}
