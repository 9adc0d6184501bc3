/*
 * crash/vmci_crash.c - the vmcoreinfo of "kaslr -D" / "kaslr -w", rebuilt through crash
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The module's last source of a vmcoreinfo text (core/vmci_source.c
 * decides when): a rebuild that answers the questions of the rule table
 * in core/vmci_rebuild.c with crash's symbol table and gdb's type
 * information.  All of this works in --minimal mode (gdb has read the
 * vmlinux) and does not depend on crash having placed the kernel right:
 * symbol values are taken back to link time, and memory is read physically
 * through the verified candidate.  Only long-standing exported functions
 * are used (symbol_search, datatype_info, get_symbol_type, gdb_pass_through):
 * checked with crash 7.2.9 (gdb 7.6), 8.0.2 and 8.0.6 (gdb 10.2).
 */
#include "defs.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include "crash/vmci_crash.h"
#include "kaslr_core.h"
#include "vmcoreinfo.h"
#include "core/vmci_rebuild.h"

struct vmci_crash {
	struct kaslr_ctx *ctx;
};

/*
 * Link-time value.  crash's table holds values shifted by its current
 * KERNELOFFSET (-kt->relocate; 0 if it never relocated), and only for
 * symbols inside the image's sections (symbols.c:relocate(), and "kaslr -r"
 * the same way): undo exactly that.
 */
static int
crash_ti_symbol(void *priv, const char *name, uint64_t *value_ret)
{
	ulong cur = (ulong)(-(long)kt->relocate), raw;
	struct syment *sp;
	char buf[BUFSIZE];

	(void)priv;
	snprintf(buf, sizeof(buf), "%s", name);
	if (!(sp = symbol_search(buf)))
		return -1;
	raw = sp->value - cur;
	*value_ret = (raw >= st->first_section_start && raw <= st->last_section_end) ? raw : sp->value;
	return 0;
}

/* STRUCT_SIZE(): structs, unions and typedefs of them ("struct page", "nodemask_t"). */
static int
crash_ti_type_size(void *priv, const char *type, uint64_t *size_ret)
{
	char buf[BUFSIZE];
	long size;

	(void)priv;
	snprintf(buf, sizeof(buf), "%s", type);
	size = datatype_info(buf, NULL, STRUCT_SIZE_REQUEST);
	if (size < 0)
		return -1;
	*size_ret = (uint64_t)size;
	return 0;
}

/* MEMBER_OFFSET(); gdb's get_member_data() also looks inside anonymous structs and unions. */
static int
crash_ti_member_offset(void *priv, const char *type, const char *member, uint64_t *offset_ret)
{
	char tbuf[BUFSIZE], mbuf[BUFSIZE];
	long off;

	(void)priv;
	snprintf(tbuf, sizeof(tbuf), "%s", type);
	snprintf(mbuf, sizeof(mbuf), "%s", member);
	off = datatype_info(tbuf, mbuf, NULL);
	if (off < 0)
		return -1;
	*offset_ret = (uint64_t)off;
	return 0;
}

/* An unsigned value of a gdb expression, "p/u (unsigned long)(EXPR)" -> "$N = VALUE". */
static int
gdb_eval_ulong(const char *expr, uint64_t *val_ret)
{
	char cmd[BUFSIZE + 32], line[BUFSIZE], *p, *end;
	int ret = -1;

	snprintf(cmd, sizeof(cmd), "p/u (unsigned long)(%s)", expr);
	open_tmpfile2();
	if (gdb_pass_through(cmd, pc->tmpfile2, GNU_RETURN_ON_ERROR)) {
		rewind(pc->tmpfile2);
		while (fgets(line, sizeof(line), pc->tmpfile2)) {
			if (line[0] != '$' || !(p = strstr(line, " = ")))
				continue;
			errno = 0;
			*val_ret = strtoull(p + 3, &end, 10);
			if (!errno && end != p + 3 && (*end == '\n' || *end == '\0'))
				ret = 0;
			break;
		}
	}
	close_tmpfile2();
	return ret;
}

/*
 * st_size of a symbol in the vmlinux's ELF symbol table: the size of its
 * definition.  @returns 0, or -1 if there is no such sized symbol.
 */
static int
elf_symbol_size(const char *path, const char *name, uint64_t *size_ret)
{
	Elf_Scn *scn = NULL;
	Elf *elf;
	int fd, ret = -1;

	if (elf_version(EV_CURRENT) == EV_NONE || (fd = open(path, O_RDONLY)) < 0)
		return -1;
	if (!(elf = elf_begin(fd, ELF_C_READ_MMAP, NULL))) {
		close(fd);
		return -1;
	}
	while (ret && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB || !shdr.sh_entsize ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		n = shdr.sh_size / shdr.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(data, (int)i, &sym) || !sym.st_size ||
			    GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
			    !(s = elf_strptr(elf, shdr.sh_link, sym.st_name)) || strcmp(s, name))
				continue;
			*size_ret = sym.st_size;
			ret = 0;
			break;
		}
	}
	elf_end(elf);
	close(fd);
	return ret;
}

/*
 * Elements of an array: a variable's from gdb's symbol type (as crash's
 * get_array_length() does), a member's from MEMBER_SIZE() over the size of
 * one element.  Pointers are not arrays: -1.
 *
 * gdb may answer for a variable with the type of an extern declaration
 * whose bound is missing ("pg_data_t *node_data[]" of asm/mmzone_64.h)
 * until the defining unit is expanded; the definition's size is then the
 * symbol's st_size in the ELF symbol table.
 */
static int
crash_ti_array_length(void *priv, const char *type, const char *member, uint64_t *len_ret)
{
	char tbuf[BUFSIZE], mbuf[BUFSIZE], expr[BUFSIZE];
	uint64_t elem;
	long size;

	(void)priv;
	snprintf(mbuf, sizeof(mbuf), "%s", member);
	if (!type) {
		struct gnu_request req;

		uint64_t size;

		if (get_symbol_type(mbuf, NULL, &req) != TYPE_CODE_ARRAY || !req.target_length)
			return -1;
		size = req.length;
		if (!size && elf_symbol_size(pc->namelist, member, &size))
			return -1;
		*len_ret = size / req.target_length;
		return 0;
	}
	snprintf(tbuf, sizeof(tbuf), "%s", type);
	if (MEMBER_TYPE(tbuf, mbuf) != TYPE_CODE_ARRAY || (size = MEMBER_SIZE(tbuf, mbuf)) <= 0)
		return -1;
	snprintf(expr, sizeof(expr), "sizeof(((%s *)0)->%s[0])", type, member);
	if (gdb_eval_ulong(expr, &elem) || !elem)
		return -1;
	*len_ret = (uint64_t)size / elem;
	return 0;
}

/*
 * An enumerator through datatype_info(): gdb reports the value and the tag
 * of the enum it belongs to (gdb_get_datatype(), OP_VAR_VALUE of enum
 * type), so PG_slab of enum pageflags and PG_slab of enum pagetype are
 * told apart.
 */
static int
crash_ti_enumerator(void *priv, const char *enum_tag, const char *name, int64_t *value_ret)
{
	struct datatype_member dm;
	char buf[BUFSIZE];

	(void)priv;
	BZERO(&dm, sizeof(dm));
	snprintf(buf, sizeof(buf), "%s", name);
	if (datatype_info(buf, NULL, &dm) < 0 || !dm.tagname || strcmp(dm.tagname, enum_tag))
		return -1;
	*value_ret = dm.value;
	return 0;
}

static int
crash_ti_read_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct vmci_crash *vc = priv;

	return vc->ctx->read_phys(vc->ctx->priv, paddr, buf, len);
}

static void
crash_ti_skipped(void *priv, const char *key, const char *why)
{
	(void)priv;
	if (CRASHDEBUG(1))
		fprintf(fp, "kaslr: vmcoreinfo: %s not emitted: %s\n", key, why);
}

static const struct kaslr_typeinfo_ops crash_typeinfo_ops = {
	.symbol = crash_ti_symbol,
	.type_size = crash_ti_type_size,
	.member_offset = crash_ti_member_offset,
	.array_length = crash_ti_array_length,
	.enumerator = crash_ti_enumerator,
	.read_phys = crash_ti_read_phys,
	.skipped = crash_ti_skipped,
};

enum kaslr_status
kaslr_vmci_crash_build(void *priv, char **text_ret, const char **what_ret, char *note, size_t notelen)
{
	struct kaslr_vmci_crash_build *b = priv;
	struct kaslr_vmci_rebuild_in in;
	struct kaslr_vmci v;
	struct vmci_crash vc;
	char err[KASLR_ERRLEN];
	enum kaslr_status st_;

	*text_ret = NULL;
	*what_ret = "rebuilt from the vmlinux's debug information";
	memset(&in, 0, sizeof(in));
	in.kernel_offset = b->cand->kernel_offset;
	in.phys_base = b->cand->phys_base;
	in.levels = b->cand->levels;
	in.osrelease = b->vml->osrelease;
	in.build_id = b->vml->build_id;
	vc.ctx = b->ctx;
	st_ = kaslr_vmci_rebuild(&crash_typeinfo_ops, &vc, &in, &v, err, sizeof(err));
	if (st_ != KASLR_OK) {
		snprintf(note, notelen, "cannot rebuild a vmcoreinfo: %s", err);
		return st_;
	}
	*text_ret = kaslr_vmci_format(&v);
	kaslr_vmci_free(&v);
	if (!*text_ret) {
		snprintf(note, notelen, "out of memory");
		return KASLR_NOMEM;
	}
	/* Lines the kernel had but whose values could not be read, if any. */
	snprintf(note, notelen, "%s", err);
	return KASLR_OK;
}
