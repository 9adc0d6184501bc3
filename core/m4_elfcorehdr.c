/*
 * core/m4_elfcorehdr.c - Method 4: the first kernel's values from a kdump capture kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Method 4 - elfcorehdr (kaslr_from_elfcorehdr)
 *	If the registers belong to a kdump capture kernel, its command line
 *	(saved_command_line) holds elfcorehdr=[size@]addr: the ELF header the
 *	first kernel prepared, whose PT_NOTE segments include the first
 *	kernel's VMCOREINFO note.  Its values describe the crashed kernel.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "regs.h"

#define PT_NOTE_TYPE	4
#define EHDR_SIZE	64
#define PHDR_SIZE	56
#define MAX_NOTE_SEG	(64 << 10)

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

enum kaslr_status kaslr_from_elfcorehdr(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
					const struct kaslr_paging *pg, uint64_t kernel_offset,
					int64_t phys_base, struct kaslr_candidate *cand_ret)
{
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	unsigned char eh[EHDR_SIZE];
	char cmdline[4096], perr[160];
	const char *p, *end;
	uint64_t ptr, pa, hdr, phoff;
	unsigned phnum, phentsize, i;
	enum kaslr_status st;

	kaslr_cand_init(cand_ret, KASLR_M_ELFCOREHDR, -1);
	if (!vml->saved_command_line) {
		kaslr_set_err(ctx, "the vmlinux has no saved_command_line");
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	pa = arch->image_paddr(vml->saved_command_line, kernel_offset, phys_base);
	if (kaslr_phys_read_u64(ctx, pa, &ptr) || !ptr) {
		kaslr_set_err(ctx, "saved_command_line at 0x%" PRIx64 " is unreadable or NULL", pa);
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	st = arch->ptr_to_phys(ctx, vml, pg, kernel_offset, phys_base, ptr, &pa);
	if (st != KASLR_OK) {
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	kaslr_phys_read_string(ctx, pa, cmdline, sizeof(cmdline));
	for (p = cmdline; (p = strstr(p, "elfcorehdr=")); p++)
		if (p == cmdline || p[-1] == ' ')
			break;
	if (!p) {
		kaslr_set_err(ctx, "no elfcorehdr= in the command line: not a kdump capture kernel");
		cand_ret->status = KASLR_NODATA;
		return KASLR_NODATA;
	}
	/* elfcorehdr=[size[KMG]@]offset[KMG] (Documentation/admin-guide/kernel-parameters.txt) */
	hdr = memparse(p + 11, &end);
	if (*end == '@')
		hdr = memparse(end + 1, &end);
	if (kaslr_phys_read(ctx, hdr, eh, sizeof(eh)) || memcmp(eh, "\177ELF", 4) || eh[4] != 2 || eh[5] != 1) {
		kaslr_set_err(ctx, "elfcorehdr=0x%" PRIx64 ": no 64-bit little-endian ELF header there", hdr);
		cand_ret->status = KASLR_NOTFOUND;
		return KASLR_NOTFOUND;
	}
	phoff = kaslr_le64(eh + 32);
	phentsize = kaslr_le16(eh + 54);
	phnum = kaslr_le16(eh + 56);
	if (phentsize < PHDR_SIZE || phnum > 4096) {
		kaslr_set_err(ctx, "elfcorehdr=0x%" PRIx64 ": bad program headers (%u of %u bytes)", hdr, phnum,
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

		if (kaslr_phys_read(ctx, hdr + phoff + (uint64_t)i * phentsize, ph, sizeof(ph)))
			break;
		if (kaslr_le32(ph) != PT_NOTE_TYPE)
			continue;
		/* kexec puts the notes' physical address in p_offset (and p_paddr). */
		noff = kaslr_le64(ph + 8);
		nsz = kaslr_le64(ph + 32);
		if (!nsz || nsz > MAX_NOTE_SEG)
			continue;
		notes = malloc(nsz);
		if (!notes)
			return KASLR_NOMEM;
		if (kaslr_phys_read(ctx, noff, notes, nsz)) {
			free(notes);
			continue;
		}
		kaslr_notes_parse(notes, nsz, NULL, 0, NULL, &info);
		if (!info.vmcoreinfo ||
		    kaslr_vmci_parse(info.vmcoreinfo, info.vmcoreinfo_len, &vmci, perr, sizeof(perr))) {
			free(notes);
			continue;
		}
		if (kaslr_vmci_kernel_offset(&vmci, &ko) || kaslr_vmci_placement(&vmci, &pb)) {
			kaslr_vmci_free(&vmci);
			free(notes);
			kaslr_set_err(ctx, "the first kernel's VMCOREINFO (elfcorehdr=0x%" PRIx64 ") lacks "
				"KERNELOFFSET or NUMBER(phys_base)", hdr);
			cand_ret->status = KASLR_NOTFOUND;
			return KASLR_NOTFOUND;
		}
		kaslr_vmci_free(&vmci);
		free(notes);
		cand_ret->kernel_offset = ko;
		cand_ret->phys_base = pb;
		kaslr_cand_note(cand_ret, "first kernel's VMCOREINFO note at 0x%" PRIx64 " via elfcorehdr=0x%" PRIx64,
			  noff, hdr);
		/*
		 * The first kernel's mapping is not in the capture kernel's tables;
		 * its own note states the split (kaslr_verify).
		 */
		cand_ret->checks = KASLR_V_VMCOREINFO;
		st = kaslr_verify(ctx, vml, NULL, cand_ret);
		if (st != KASLR_OK)
			kaslr_cand_note_failure(cand_ret, "fails verification");
		return st;
	}
	kaslr_set_err(ctx, "elfcorehdr=0x%" PRIx64 " has no VMCOREINFO note", hdr);
	cand_ret->status = KASLR_NOTFOUND;
	return KASLR_NOTFOUND;
}
