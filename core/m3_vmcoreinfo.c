/*
 * core/m3_vmcoreinfo.c - Method 3: the kernel's own vmcoreinfo in RAM, through a candidate
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Method 3 - in-RAM vmcoreinfo (kaslr_vmci_read_ram)
 *	With a verified candidate, read the kernel's own vmcoreinfo_data
 *	(a pointer to a page since 4.13, commit 203e9e41219b; a static array
 *	before) and vmcoreinfo_size: its KERNELOFFSET and NUMBER(phys_base)
 *	(NUMBER(phys_base) since 4.10, commit 401721ecd1dc) confirm or refute
 *	the candidate.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

enum kaslr_status kaslr_vmci_read_ram(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml,
				      const struct kaslr_paging *pg, uint64_t kernel_offset,
				      int64_t phys_base, char **text_ret, uint64_t *paddr_ret)
{
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	uint64_t data_pa, text_pa, ptr, size = KASLR_VMCI_MAX;
	struct kaslr_vmci vmci;
	char perr[200], *text;
	enum kaslr_status st;
	size_t len;

	*text_ret = NULL;
	if (!vml->vmcoreinfo_data) {
		kaslr_set_err(ctx, "the vmlinux has no vmcoreinfo_data (kernel without CONFIG_CRASH_CORE/KEXEC?)");
		return KASLR_NODATA;
	}
	data_pa = arch->image_paddr(vml->vmcoreinfo_data, kernel_offset, phys_base);
	if (vml->vmcoreinfo_data_is_array) {
		text_pa = data_pa;	/* before 4.13 the text is a static array */
	} else {
		if (kaslr_phys_read_u64(ctx, data_pa, &ptr)) {
			kaslr_set_err(ctx, "vmcoreinfo_data at 0x%" PRIx64 " is not in the dump", data_pa);
			return KASLR_NODATA;
		}
		if (!ptr) {
			kaslr_set_err(ctx, "vmcoreinfo_data is NULL (the kernel never set up its vmcoreinfo)");
			return KASLR_NOTFOUND;
		}
		st = arch->ptr_to_phys(ctx, vml, pg, kernel_offset, phys_base, ptr, &text_pa);
		if (st != KASLR_OK)
			return st;
	}
	if (vml->vmcoreinfo_size) {
		uint64_t size_pa = arch->image_paddr(vml->vmcoreinfo_size, kernel_offset, phys_base);

		if (kaslr_phys_read_u64(ctx, size_pa, &size)) {
			kaslr_set_err(ctx, "vmcoreinfo_size at 0x%" PRIx64 " is not in the dump", size_pa);
			return KASLR_NODATA;
		}
		if (size < 1 || size > KASLR_VMCI_MAX) {
			kaslr_set_err(ctx, "vmcoreinfo_size is %" PRIu64 ", not 1..%d", size, KASLR_VMCI_MAX);
			return KASLR_CORRUPT;
		}
	}
	text = malloc(size + 1);
	if (!text)
		return KASLR_NOMEM;
	if (kaslr_phys_read(ctx, text_pa, text, size)) {
		kaslr_set_err(ctx, "vmcoreinfo text at 0x%" PRIx64 " is not in the dump", text_pa);
		free(text);
		return KASLR_NODATA;
	}
	text[size] = '\0';
	len = strlen(text);
	if (strncmp(text, "OSRELEASE=", 10)) {
		char shown[24];

		kaslr_printable(shown, sizeof(shown), text, len < 16 ? len : 16);
		kaslr_set_err(ctx, "no vmcoreinfo at 0x%" PRIx64 " (reads '%s')", text_pa, shown);
		free(text);
		return KASLR_NOTFOUND;
	}
	st = kaslr_vmci_parse(text, len, &vmci, perr, sizeof(perr));
	if (st != KASLR_OK) {
		kaslr_set_err(ctx, "vmcoreinfo at 0x%" PRIx64 ": %s", text_pa, perr);
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
void kaslr_vmci_copy_from(struct kaslr_vmci_copy *copy, const struct kaslr_vmci *vmci, uint64_t paddr,
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
	copy->has_phys_base = !kaslr_vmci_placement(vmci, &copy->phys_base);
}

/* kaslr_vmci_copy_verify: see core/core.h. */
int kaslr_vmci_copy_verify(struct kaslr_ctx *ctx, const struct kaslr_vmlinux *vml, struct kaslr_vmci_copy *copy)
{
	struct kaslr_candidate c;

	copy->verified = 0;
	copy->checks = 0;
	copy->why[0] = '\0';
	if (vml->osrelease[0] && strcmp(copy->osrelease, vml->osrelease)) {
		kaslr_set_err(ctx, "vmcoreinfo at 0x%" PRIx64 " is for %s, the vmlinux is %s", copy->paddr,
			copy->osrelease, vml->osrelease);
	} else if (vml->build_id[0] && copy->build_id[0] && strcasecmp(copy->build_id, vml->build_id)) {
		kaslr_set_err(ctx, "vmcoreinfo at 0x%" PRIx64 " has BUILD-ID %s, the vmlinux %s", copy->paddr,
			copy->build_id, vml->build_id);
	} else if (!copy->has_offset || !copy->has_phys_base) {
		kaslr_set_err(ctx, "vmcoreinfo at 0x%" PRIx64 " lacks %s", copy->paddr,
			!copy->has_offset ? "KERNELOFFSET" : "NUMBER(phys_base) or NUMBER(kimage_voffset) (x86_64 kernel before 4.10?)");
	} else {
		kaslr_cand_init(&c, KASLR_M_SCAN, -1);
		c.kernel_offset = copy->kernel_offset;
		c.phys_base = copy->phys_base;
		/* The values are the kernel's own record of the split (kaslr_verify). */
		c.checks = KASLR_V_VMCOREINFO;
		copy->verified = kaslr_verify(ctx, vml, NULL, &c) == KASLR_OK;
		copy->checks = c.checks;
		if (copy->verified)
			return 1;
	}
	kaslr_str_copy(copy->why, sizeof(copy->why), ctx->err);
	return 0;
}
