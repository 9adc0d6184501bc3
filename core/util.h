/*
 * core/util.h - small helpers every layer uses: messages, little-endian
 * words, and the one physical reader that keeps to the read callback's
 * contract
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CORE_UTIL_H
#define KASLR_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

/* Guest pages are 4 KiB on x86_64 (and the granule the readers work in everywhere). */
#define KASLR_PAGE_SIZE		0x1000ULL
#define KASLR_PAGE_MASK		(~(KASLR_PAGE_SIZE - 1))

/* Guest and file words are little-endian whatever the host is. */
static inline uint16_t kaslr_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t kaslr_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t kaslr_le64(const unsigned char *p)
{
	return (uint64_t)kaslr_le32(p) | (uint64_t)kaslr_le32(p + 4) << 32;
}

/* makedumpfile's flattened format stores its record headers big-endian. */
static inline uint64_t kaslr_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ctx->err = the formatted message (the core's way of saying why). */
void kaslr_set_err(struct kaslr_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format into a message buffer, cut to fit; a NULL or empty buffer takes nothing. */
void kaslr_errf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append to a fixed buffer after what is there, cut to fit. */
void kaslr_buf_append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copy @src into @dst (size @size), cut to fit, always terminated. */
void kaslr_str_copy(char *dst, size_t size, const char *src);

/* Copy @n bytes of @s into @out (size @size) with non-printables as '.'. */
void kaslr_printable(char *out, size_t size, const char *s, size_t n);

/* "0x..." or "-0x..." for a signed phys_base; @returns @buf. */
const char *kaslr_pb_str(char *buf, size_t size, int64_t pb);

/**
 * kaslr_phys_read - read @len bytes of guest physical memory at @paddr
 *
 * The one page-split reader: it calls ctx->read_phys once per 4 KiB page
 * touched, as the callback's contract (core/types.h) promises its
 * implementers.  @returns 0, or -1 if any byte is missing.
 */
int kaslr_phys_read(struct kaslr_ctx *ctx, uint64_t paddr, void *buf, size_t len);

/* A little-endian 64-bit word at @paddr; @returns 0 or -1. */
int kaslr_phys_read_u64(struct kaslr_ctx *ctx, uint64_t paddr, uint64_t *val_ret);

/*
 * A NUL-terminated string at @paddr, at most @max - 1 bytes, stopping at
 * the first page that cannot be read.  @returns its length.
 */
size_t kaslr_phys_read_string(struct kaslr_ctx *ctx, uint64_t paddr, char *buf, size_t max);

/* 1 if @paddr lies in a range of the dump, 0 if not, -1 if the ranges are unknown. */
int kaslr_in_dump(const struct kaslr_ctx *ctx, uint64_t paddr);

#endif /* KASLR_CORE_UTIL_H */
