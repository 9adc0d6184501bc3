/*
 * core/util.c - messages and the page-split physical reader (core/util.h)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

void kaslr_set_err(struct kaslr_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
}

void kaslr_errf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

void kaslr_buf_append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

void kaslr_str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void kaslr_printable(char *out, size_t size, const char *s, size_t n)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '.';
	out[i] = '\0';
}

const char *kaslr_pb_str(char *buf, size_t size, int64_t pb)
{
	if (pb < 0)
		snprintf(buf, size, "-0x%" PRIx64, -(uint64_t)pb);
	else
		snprintf(buf, size, "0x%" PRIx64, (uint64_t)pb);
	return buf;
}

int kaslr_phys_read(struct kaslr_ctx *ctx, uint64_t paddr, void *buf, size_t len)
{
	unsigned char *out = buf;

	while (len) {
		size_t chunk = KASLR_PAGE_SIZE - (paddr & (KASLR_PAGE_SIZE - 1));

		if (chunk > len)
			chunk = len;
		if (ctx->read_phys(ctx->priv, paddr, out, chunk))
			return -1;
		paddr += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}

int kaslr_phys_read_u64(struct kaslr_ctx *ctx, uint64_t paddr, uint64_t *val_ret)
{
	unsigned char b[8];

	if (kaslr_phys_read(ctx, paddr, b, sizeof(b)))
		return -1;
	*val_ret = kaslr_le64(b);
	return 0;
}

size_t kaslr_phys_read_string(struct kaslr_ctx *ctx, uint64_t paddr, char *buf, size_t max)
{
	size_t got = 0;

	if (!max)
		return 0;
	while (got + 1 < max) {
		size_t chunk = KASLR_PAGE_SIZE - ((paddr + got) & (KASLR_PAGE_SIZE - 1));

		if (chunk > max - 1 - got)
			chunk = max - 1 - got;
		if (ctx->read_phys(ctx->priv, paddr + got, buf + got, chunk))
			break;
		if (memchr(buf + got, '\0', chunk)) {
			got += chunk;
			break;
		}
		got += chunk;
	}
	buf[got] = '\0';
	return strlen(buf);
}

int kaslr_in_dump(const struct kaslr_ctx *ctx, uint64_t paddr)
{
	int lo = 0, hi = ctx->nr_ranges - 1;

	if (!ctx->ranges || ctx->nr_ranges <= 0)
		return -1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (paddr < ctx->ranges[mid].start)
			hi = mid - 1;
		else if (paddr >= ctx->ranges[mid].end)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}
