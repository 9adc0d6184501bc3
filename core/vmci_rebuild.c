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
#include "core/vmci_rules.h"
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

void kaslr_vr_why(struct vmci_build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
}

int kaslr_vr_symbol(struct vmci_build *b, const char *name, uint64_t *link_ret)
{
	return b->ops->symbol(b->priv, name, link_ret);
}

int kaslr_vr_size(struct vmci_build *b, const char *type, uint64_t *size_ret)
{
	return b->ops->type_size(b->priv, type, size_ret);
}

int kaslr_vr_offset(struct vmci_build *b, const char *type, const char *member, uint64_t *off_ret)
{
	return b->ops->member_offset(b->priv, type, member, off_ret);
}

int kaslr_vr_enum(struct vmci_build *b, const char *tag, const char *name, int64_t *val_ret)
{
	return b->ops->enumerator(b->priv, tag, name, val_ret);
}

/*
 * Read a kernel-image variable given its link-time address: the image is
 * mapped at run time at link + KERNELOFFSET, which __pa() turns into
 * link + KERNELOFFSET - __START_KERNEL_map + phys_base.  Reads are split at
 * 4 KiB pages, as kaslr_read_phys_fn asks.
 */
int kaslr_vr_read_image(struct vmci_build *b, uint64_t link, void *buf, size_t len)
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
int kaslr_vr_read_var64(struct vmci_build *b, const char *name, uint64_t *val_ret)
{
	uint64_t link;

	if (kaslr_vr_symbol(b, name, &link)) {
		kaslr_vr_why(b, "no symbol %s", name);
		return -1;
	}
	if (kaslr_vr_read_image(b, link, val_ret, sizeof(*val_ret))) {
		kaslr_vr_why(b, "cannot read %s from the dump", name);
		return -1;
	}
	return 0;
}

void kaslr_vr_dec(char *val, size_t len, int64_t v)
{
	snprintf(val, len, "%" PRId64, v);
}

void kaslr_vr_udec(char *val, size_t len, uint64_t v)
{
	snprintf(val, len, "%" PRIu64, v);
}

void kaslr_vr_hex(char *val, size_t len, uint64_t v)
{
	snprintf(val, len, "%" PRIx64, v);
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
	if (!kaslr_vr_enum(b, "pagetype", name, &v)) {
		*val_ret = (int32_t)((uint32_t)v << 24);
		return 1;
	}
	snprintf(name, sizeof(name), "PG_%s", type);
	if (!kaslr_vr_enum(b, "pagetype", name, &v)) {
		*val_ret = ~v;
		return 1;
	}
	if (!strcmp(type, "buddy")) {
		uint64_t off;

		*val_ret = kaslr_vr_offset(b, "struct page", "page_type", &off) ? -128 : ~(int64_t)0x80;
		return 1;
	}
	if (!strcmp(type, "offline") && b->kver >= KV(5, 0)) {
		if (!kaslr_vr_enum(b, "compound_dtor_id", "HUGETLB_PAGE_DTOR", &v) ||
		    !kaslr_vr_enum(b, "pageflags", "PG_hugetlb", &v)) {
			*val_ret = ~(int64_t)0x100;
			return 1;
		}
		kaslr_vr_why(b, "before 6.9 only emitted with CONFIG_HUGETLB_PAGE");
		return 0;
	}
	kaslr_vr_why(b, "no page type %s in enum pagetype", type);
	return 0;
}


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

	if (!kaslr_vr_symbol(b, "init_uts_ns", &link) && !kaslr_vr_offset(b, "struct uts_namespace", "name", &off_name) &&
	    !kaslr_vr_offset(b, "struct new_utsname", "release", &off_rel) &&
	    !kaslr_vr_read_image(b, link + off_name + off_rel, rel, sizeof(rel))) {
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
		if (!kaslr_vr_symbol(b, r->c, &v))
			return 1;
		kaslr_vr_why(b, "no symbol %s", r->c);
		return 0;
	case VC_NO_SYMBOL:
		if (kaslr_vr_symbol(b, r->c, &v))
			return 1;
		kaslr_vr_why(b, "symbol %s exists", r->c);
		return 0;
	case VC_MEMBER:
		if (!kaslr_vr_offset(b, r->c, r->d, &v))
			return 1;
		kaslr_vr_why(b, "no member %s.%s", r->c, r->d);
		return 0;
	case VC_NO_MEMBER:
		if (kaslr_vr_offset(b, r->c, r->d, &v))
			return 1;
		kaslr_vr_why(b, "member %s.%s exists", r->c, r->d);
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
		kaslr_vr_why(b, "added in %u.%u, this is %s", r->since >> 8, r->since & 0xff, b->release);
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
			if (!kaslr_vr_symbol(b, name, &u)) {
				kaslr_vr_hex(val, len, u + b->in->kernel_offset);
				return 1;
			}
			p += n;
			if (*p == '|')
				p++;
		}
		kaslr_vr_why(b, "no symbol %s", r->a);
		return 0;
	}
	case VK_SIZE:
		if (kaslr_vr_size(b, r->a, &u)) {
			kaslr_vr_why(b, "no type %s", r->a);
			return 0;
		}
		kaslr_vr_udec(val, len, u);
		return 1;
	case VK_OFFSET:
		if (kaslr_vr_offset(b, r->a, r->b, &u)) {
			kaslr_vr_why(b, "no member %s.%s", r->a, r->b);
			return 0;
		}
		kaslr_vr_udec(val, len, u);
		return 1;
	case VK_LENGTH:
		if (b->ops->array_length(b->priv, r->a, r->b, &u)) {
			kaslr_vr_why(b, "no array %s%s%s", r->a ? r->a : "", r->a ? "." : "", r->b);
			return 0;
		}
		kaslr_vr_udec(val, len, u);
		return 1;
	case VK_ENUM:
	case VK_ENUM_BIT:
		if (kaslr_vr_enum(b, r->a, r->b, &n)) {
			kaslr_vr_why(b, "no enumerator %s in enum %s", r->b, r->a);
			return 0;
		}
		if (r->kind == VK_ENUM_BIT) {
			if (n < 0 || n > 63) {
				kaslr_vr_why(b, "enumerator %s is %" PRId64 ", not a bit number", r->b, n);
				return -2;
			}
			n = (int64_t)(1ULL << n);
		}
		kaslr_vr_dec(val, len, n);
		return 1;
	case VK_PAGE_TYPE:
		if (vmci_page_type(b, r->a, &n) != 1)
			return 0;
		kaslr_vr_dec(val, len, n);
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

	if (kaslr_vr_symbol(&b, "_stext", &u) || kaslr_vr_symbol(&b, "init_uts_ns", &u)) {
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
	if (!in->levels && !kaslr_vr_symbol(&b, "__pgtable_l5_enabled", &u)) {
		uint32_t l5;

		if (!kaslr_vr_read_image(&b, u, &l5, sizeof(l5)) && l5)
			b.levels = 5;
	}

	if (kaslr_vmci_add_raw(vmci_ret, "OSRELEASE", b.release))
		goto nomem;
	for (i = 0; i < kaslr_vmci_rules_x86_64_count; i++) {
		const struct vmci_rule *r = &kaslr_vmci_rules_x86_64[i];
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

