/*
 * core/vmci_rules.h - between the vmcoreinfo rebuild engine and an architecture's rule table
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Internal to core/vmci_rebuild.c and core/<arch>/vmci_rules.c: the rule
 * format, the build state, and the helpers a rule's special function uses.
 */
#ifndef KASLR_CORE_VMCI_RULES_H
#define KASLR_CORE_VMCI_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"
#include "core/vmci_rebuild.h"

/* Kernel version as a comparable number: KV(6, 9) for 6.9. */
#define KV(major, minor) ((unsigned)(major) << 8 | (unsigned)(minor))
#define KV_UNKNOWN KV(255, 255)

enum vmci_kind {
	VK_SYMBOL,	/* SYMBOL()=run-time address of symbol a (alternatives "x|y") */
	VK_SIZE,	/* SIZE()=sizeof(a) */
	VK_OFFSET,	/* OFFSET()=offsetof(a, b) */
	VK_LENGTH,	/* LENGTH()=elements of array member b of a (a NULL: of variable b) */
	VK_ENUM,	/* NUMBER()=enumerator b of enum a */
	VK_ENUM_BIT,	/* NUMBER()=1UL << enumerator b of enum a */
	VK_PAGE_TYPE,	/* NUMBER()=the _mapcount/page_type value of page type a */
	VK_SPECIAL,	/* value computed by the entry's function */
};

enum vmci_cond {
	VC_NONE,
	VC_SYMBOL,	/* symbol c exists */
	VC_NO_SYMBOL,	/* symbol c does not exist */
	VC_MEMBER,	/* member d of type c exists */
	VC_NO_MEMBER,	/* member d of type c does not exist */
};

struct vmci_build;
struct vmci_rule;

/* @returns 1 and the value text in @val, 0 when not emitted (b->why says why), -1 on error. */
typedef int (*vmci_special_fn)(struct vmci_build *b, const struct vmci_rule *r, char *val, size_t len);

struct vmci_rule {
	const char *key;	/* the full key, as the kernel prints it */
	enum vmci_kind kind;
	const char *a, *b;	/* operands, by kind */
	unsigned since;		/* KV() of the kernel that added the line; 0 when the types decide */
	enum vmci_cond cond;	/* further condition */
	const char *c, *d;
	vmci_special_fn fn;	/* VK_SPECIAL */
};

struct vmci_build {
	const struct kaslr_typeinfo_ops *ops;
	void *priv;
	const struct kaslr_vmci_rebuild_in *in;
	unsigned kver;		/* KV() of OSRELEASE */
	int levels;		/* 4 or 5 */
	char release[65];
	char why[160];		/* why the current entry is not emitted */
	char warn[512];		/* entries that should have been emitted but could not be computed */
	int nr_warn;
	enum kaslr_status fail;	/* set by a special on a hard error */
	char *err;
	size_t errlen;
};


/* b->why = why the current entry is not emitted. */
void kaslr_vr_why(struct vmci_build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Type information through the caller's ops: 0 found, else not. */
int kaslr_vr_symbol(struct vmci_build *b, const char *name, uint64_t *link_ret);
int kaslr_vr_size(struct vmci_build *b, const char *type, uint64_t *size_ret);
int kaslr_vr_offset(struct vmci_build *b, const char *type, const char *member, uint64_t *off_ret);
int kaslr_vr_enum(struct vmci_build *b, const char *tag, const char *name, int64_t *val_ret);
/* @len bytes of the image at link address @link, read through the verified placement. */
int kaslr_vr_read_image(struct vmci_build *b, uint64_t link, void *buf, size_t len);
/* A 64-bit kernel variable by name. */
int kaslr_vr_read_var64(struct vmci_build *b, const char *name, uint64_t *val_ret);
/* A value as NUMBER() (signed decimal), SIZE()/OFFSET()/LENGTH() (unsigned decimal), SYMBOL() (bare hex). */
void kaslr_vr_dec(char *val, size_t len, int64_t v);
void kaslr_vr_udec(char *val, size_t len, uint64_t v);
void kaslr_vr_hex(char *val, size_t len, uint64_t v);

/* The x86_64 rules (core/x86_64/vmci_rules.c), in the order the kernel writes the lines. */
extern const struct vmci_rule kaslr_vmci_rules_x86_64[];
extern const size_t kaslr_vmci_rules_x86_64_count;

#endif /* KASLR_CORE_VMCI_RULES_H */
