/*
 * core/verify.c - is a candidate this vmlinux's kernel, at these values?
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Verification (kaslr_verify)
 *	The full linux_banner at phys_base + (linux_banner + offset -
 *	START_KERNEL_MAP) must equal the vmlinux's byte for byte, the offset
 *	must be 2 MiB aligned, _text + offset must lie in the image window,
 *	and, with page tables, linux_banner + offset must translate to that
 *	same physical address.  crash's own check (kaslr_helper.c) only looks
 *	for a "Linux version" prefix and never checks phys_base.
 *
 *	The banner proves only the sum phys_base + KERNELOFFSET.  The offset
 *	itself is proven by pointers the kernel relocated (the vmlinux's
 *	relocation probes and the architecture's run-time pointer), by page
 *	tables, or by the kernel's own vmcoreinfo; without any of them the
 *	values are refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

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
	if (kaslr_phys_read(ctx, paddr, got, vml->banner_len)) {
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
	kaslr_printable(a, sizeof(a), got + from, n);
	kaslr_printable(b, sizeof(b), vml->banner + from, n);
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
 * the architecture's run-time pointer (x86_64: gate 0 of idt_table, written
 * at boot with asm_exc_divide_error's runtime address).  Each is read where @off and @pb put it; it must hold its
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
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	uint64_t delta[KASLR_MAX_RELOC + 1], first_pa = 0, first_got = 0, first_want = 0;
	int i, n = 0, match = 0, nd = 0, same = 0, words = vml->nr_reloc, had_runtime = 0;

	why[0] = '\0';
	if (words > KASLR_MAX_RELOC)
		words = KASLR_MAX_RELOC;
	for (i = 0; i <= words; i++) {
		uint64_t pa, got, want;
		unsigned char raw[8];

		if (i < words) {
			pa = arch->image_paddr(vml->reloc[i].vaddr, off, pb);
			want = vml->reloc[i].value + off;
			if (kaslr_phys_read(ctx, pa, raw, 8))
				continue;
			got = kaslr_le64(raw);	/* guest words are little-endian whatever the host is */
		} else {
			int r = arch->runtime_pointer(ctx, vml, off, pb, &pa, &got, &want);

			had_runtime = r >= 0;
			if (r <= 0)
				continue;	/* none, or not set up yet (early boot): no evidence either way */
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
		snprintf(why, whysize, "%s", vml->nr_reloc || had_runtime ?
			 "no relocated pointer of the image is in the dump" :
			 "the vmlinux has no relocated pointers to check");
		return 0;
	}
	if (match * 4 >= n * 3)
		return 1;
	for (i = 0; i < nd; i++)
		if (delta[i] == delta[0])
			same++;
	if (same * 2 > nd && delta[0] % arch->align == 0)
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
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	unsigned checks = cand->checks & KASLR_V_VMCOREINFO, need;
	uint64_t off = cand->kernel_offset, text = kaslr_vml_text(vml), text_dump = text + off;
	char why[KASLR_ERRLEN] = "", one[KASLR_ERRLEN];
	int reloc_wrong = 0;

	if (off % arch->align == 0)
		checks |= KASLR_V_ALIGNED;
	else
		kaslr_buf_append(why, sizeof(why), "%sKERNELOFFSET 0x%" PRIx64 " is not %" PRIu64 " %s aligned",
			   *why ? "; " : "", off, arch->align >= (1 << 20) ? arch->align >> 20 : arch->align >> 10,
			   arch->align >= (1 << 20) ? "MiB" : "KiB");
	if (text && arch->in_window) {
		if (arch->in_window(vml, text_dump, one, sizeof(one)))
			checks |= KASLR_V_WINDOW;
		else
			kaslr_buf_append(why, sizeof(why), "%s%s", *why ? "; " : "", one);
	} else if (text && text_dump >= arch->image_start && text_dump - arch->image_start < arch->image_size)
		checks |= KASLR_V_WINDOW;
	else if (!text)
		kaslr_buf_append(why, sizeof(why), "%sthe vmlinux has neither _text nor _stext",
			   *why ? "; " : "");
	else
		kaslr_buf_append(why, sizeof(why), "%s_text would be at 0x%" PRIx64 ", outside the kernel image "
			   "window [0x%" PRIx64 ", 0x%" PRIx64 ")", *why ? "; " : "", text_dump, arch->image_start,
			   arch->image_start + arch->image_size);

	if (!vml->linux_banner || !vml->banner || !vml->banner_len) {
		kaslr_buf_append(why, sizeof(why), "%sthe vmlinux has no linux_banner: nothing to check against",
			   *why ? "; " : "");
	} else {
		uint64_t bva = vml->linux_banner + off;
		uint64_t bpa = arch->image_paddr(vml->linux_banner, off, cand->phys_base), pa;
		enum kaslr_status st;

		if (banner_cmp_phys(ctx, vml, bpa, one, sizeof(one)) == 1)
			checks |= KASLR_V_BANNER;
		else
			kaslr_buf_append(why, sizeof(why), "%s%s", *why ? "; " : "", one);
		if (pg) {
			st = arch->vtop(ctx, pg, bva, &pa, NULL);
			if (st == KASLR_OK && pa == bpa)
				checks |= KASLR_V_PAGETABLE;
			else if (st == KASLR_OK)
				kaslr_buf_append(why, sizeof(why), "%sthe page tables map linux_banner 0x%" PRIx64
					   " to 0x%" PRIx64 ", not to 0x%" PRIx64 " as %s says",
					   *why ? "; " : "", bva, pa, bpa, arch->placement);
			else
				kaslr_buf_append(why, sizeof(why), "%slinux_banner 0x%" PRIx64 ": %s", *why ? "; " : "",
					   bva, ctx->err);
		}
	}
	switch (reloc_check(ctx, vml, off, cand->phys_base, one, sizeof(one))) {
	case 1:
		checks |= KASLR_V_RELOC;
		break;
	case -1:
		reloc_wrong = 1;
		kaslr_buf_append(why, sizeof(why), "%s%s", *why ? "; " : "", one);
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
		kaslr_buf_append(why, sizeof(why), "%snothing proves the offset apart from phys_base (%s; no page "
			   "tables, no kernel vmcoreinfo): only their sum is checked", *why ? "; " : "", one);
	} else if ((checks & need) == need && !reloc_wrong) {
		cand->status = KASLR_OK;
		cand->why[0] = '\0';
		return KASLR_OK;
	}
	cand->status = KASLR_NOTFOUND;
	kaslr_str_copy(cand->why, sizeof(cand->why), why);
	kaslr_verify_message(ctx->err, sizeof(ctx->err), vml, cand);
	return KASLR_NOTFOUND;
}

void kaslr_verify_message(char *buf, size_t size, const struct kaslr_vmlinux *vml, const struct kaslr_candidate *cand)
{
	const struct kaslr_arch *arch = kaslr_arch_of(vml);
	char pb[32];

	/* Cut to fit, as the reason may fill the buffer by itself. */
	buf[0] = '\0';
	if (arch == &kaslr_arch_x86_64)
		kaslr_pb_str(pb, sizeof(pb), cand->phys_base);
	else
		snprintf(pb, sizeof(pb), "0x%" PRIx64, (uint64_t)cand->phys_base);
	kaslr_buf_append(buf, size, "offset 0x%" PRIx64 " %s %s fails: %s", cand->kernel_offset, arch->placement, pb,
			 cand->why);
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
		snprintf(cand->why, sizeof(cand->why), "the kernel's own vmcoreinfo in RAM at 0x%" PRIx64
			 " contradicts these values: %.400s", paddr, why);
		kaslr_set_err(ctx, "%s", cand->why);
		return KASLR_NOTFOUND;
	}
	return KASLR_OK;
}
