/*
 * core/dump_flat.c - the real file's bytes: a plain file, or makedumpfile's
 * flattened stream through an index of its records
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * makedumpfile's flattened format (makedumpfile -F; QEMU's kdump-* output,
 * which QEMU 7.2 writes this way for every kdump format) is a byte source,
 * not a dump format: a 4 KiB header starting with "makedumpfile", then
 * records of a big-endian {int64 offset, int64 size} header and @size bytes
 * that belong at @offset of the real file; a record with offset -1 ends the
 * stream.  The real file inside is ELF or kdump-compressed; its format
 * reads it through kaslr_dump_src_read like a plain file.
 */
#define _GNU_SOURCE	/* SEEK_DATA, SEEK_HOLE */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dump_int.h"
#include "core/util.h"

#define FLAT_SIG		"makedumpfile"
#define FLAT_HEADER_SIZE	4096

struct kaslr_flat_rec {
	uint64_t off;		/* offset in the real file */
	uint64_t size;
	uint64_t pos;		/* where the bytes are in the flattened file */
	uint64_t seq;		/* order in the stream: later records win */
};

int
kaslr_dump_pread(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int
kaslr_dump_is_flat(const unsigned char *magic, size_t len)
{
	return len >= strlen(FLAT_SIG) && !memcmp(magic, FLAT_SIG, strlen(FLAT_SIG));
}

static int
flat_rec_cmp(const void *a, const void *b)
{
	const struct kaslr_flat_rec *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Max-heap of record indices by stream order (seq): the active record that wins is on top. */
static void
heap_push(size_t *h, size_t *n, const struct kaslr_flat_rec *r, size_t x)
{
	size_t i = (*n)++;

	while (i && r[h[(i - 1) / 2]].seq < r[x].seq) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static void
heap_pop(size_t *h, size_t *n, const struct kaslr_flat_rec *r)
{
	size_t i = 0, x = h[--(*n)];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && r[h[c + 1]].seq > r[h[c]].seq)
			c++;
		if (r[h[c]].seq <= r[x].seq)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Records that overlap (a stream that rewrote part of the file: the
 * later one wins, as makedumpfile -R applies them in order) are resolved
 * once, here, into pieces that do not: between two consecutive record
 * boundaries the byte's owner is the active record latest in the stream.
 * A sweep over the boundaries with a heap of the active records, O(n log
 * n); reads then binary-search the pieces like any other index.
 * @returns 0, or -1 out of memory (s->recs unchanged).
 */
static int
flat_resolve(struct kaslr_dump_src *s)
{
	size_t n = s->nr_recs, nb = 0, i, k, next = 0, nh = 0, np = 0;
	uint64_t *bound = malloc(2 * n * sizeof(*bound));
	size_t *heap = malloc(n * sizeof(*heap));
	struct kaslr_flat_rec *out = malloc(2 * n * sizeof(*out)), *r = s->recs;

	if (!bound || !heap || !out) {
		free(bound);
		free(heap);
		free(out);
		return -1;
	}
	for (i = 0; i < n; i++) {
		bound[nb++] = r[i].off;
		bound[nb++] = r[i].off + r[i].size;
	}
	qsort(bound, nb, sizeof(*bound), u64_cmp);
	for (k = 0; k + 1 < nb; k++) {
		uint64_t a = bound[k], b = bound[k + 1];
		const struct kaslr_flat_rec *w;

		if (a == b)
			continue;
		while (next < n && r[next].off <= a)	/* r is sorted by off */
			heap_push(heap, &nh, r, next++);
		while (nh && r[heap[0]].off + r[heap[0]].size <= a)
			heap_pop(heap, &nh, r);
		if (!nh)
			continue;	/* a hole between records */
		w = &r[heap[0]];
		if (np && out[np - 1].seq == w->seq && out[np - 1].off + out[np - 1].size == a) {
			out[np - 1].size += b - a;
			continue;
		}
		out[np].off = a;
		out[np].size = b - a;
		out[np].pos = w->pos + (a - w->off);
		out[np].seq = w->seq;
		np++;
	}
	free(bound);
	free(heap);
	free(s->recs);
	s->recs = out;
	s->nr_recs = np;
	return 0;
}

int
kaslr_dump_flat_index(struct kaslr_dump_src *s, const char *path, char *err, size_t errlen)
{
	uint64_t pos = FLAT_HEADER_SIZE, end;
	size_t cap = 0, i;
	struct stat st;

	if (fstat(s->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	end = (uint64_t)st.st_size;
	for (;;) {
		unsigned char h[16];
		uint64_t off, size;

		if (pos + 16 > end || kaslr_dump_pread(s->fd, h, 16, pos) < 0) {
			snprintf(err, errlen, "%s: flattened dump ends without its end marker "
				 "(truncated at %" PRIu64 " bytes?)", path, end);
			return -1;
		}
		off = kaslr_be64(h);
		size = kaslr_be64(h + 8);
		if (off == UINT64_MAX)	/* END_FLAG_FLAT_HEADER (-1) */
			break;
		if ((int64_t)off < 0 || (int64_t)size < 0 || size > end - pos - 16) {
			snprintf(err, errlen, "%s: flattened dump has a corrupt record header at %" PRIu64,
				 path, pos);
			return -1;
		}
		if (s->nr_recs == cap) {
			struct kaslr_flat_rec *n;

			cap = cap ? cap * 2 : 4096;
			if (!(n = realloc(s->recs, cap * sizeof(*n)))) {
				snprintf(err, errlen, "%s: out of memory indexing the flattened dump", path);
				return -1;
			}
			s->recs = n;
		}
		s->recs[s->nr_recs].off = off;
		s->recs[s->nr_recs].size = size;
		s->recs[s->nr_recs].pos = pos + 16;
		s->recs[s->nr_recs].seq = s->nr_recs;
		s->nr_recs++;
		pos += 16 + size;
	}
	if (!s->nr_recs) {
		snprintf(err, errlen, "%s: flattened dump holds no data", path);
		return -1;
	}
	qsort(s->recs, s->nr_recs, sizeof(s->recs[0]), flat_rec_cmp);
	for (i = 1; i < s->nr_recs; i++)
		if (s->recs[i].off < s->recs[i - 1].off + s->recs[i - 1].size)
			break;
	if (i < s->nr_recs && flat_resolve(s) < 0) {
		snprintf(err, errlen, "%s: out of memory indexing the flattened dump", path);
		return -1;
	}
	return 0;
}

/* Copy the part of record @r that overlaps [off, off+len) into @buf; @returns bytes copied or -1. */
static int64_t
flat_copy(const struct kaslr_dump_src *s, const struct kaslr_flat_rec *r, uint64_t off, unsigned char *buf,
	  size_t len)
{
	uint64_t lo = off > r->off ? off : r->off;
	uint64_t hi = off + len < r->off + r->size ? off + len : r->off + r->size;

	if (lo >= hi)
		return 0;
	if (kaslr_dump_pread(s->fd, buf + (lo - off), hi - lo, r->pos + (lo - r->off)) < 0)
		return -1;
	return (int64_t)(hi - lo);
}

int
kaslr_dump_src_read(const struct kaslr_dump_src *s, uint64_t off, void *buf, size_t len)
{
	size_t lo, hi, i;
	uint64_t filled = 0;

	if (!s->recs)
		return kaslr_dump_pread(s->fd, buf, len, off);
	/* Non-overlapping, sorted: the last record starting at or below @off, then onwards. */
	lo = 0;
	hi = s->nr_recs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->recs[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (i = lo; i < s->nr_recs && s->recs[i].off < off + len; i++) {
		int64_t n = flat_copy(s, &s->recs[i], off, buf, len);

		if (n < 0)
			return -1;
		filled += (uint64_t)n;
	}
	return filled == len ? 0 : -1;
}

void
kaslr_dump_flat_free(struct kaslr_dump_src *s)
{
	free(s->recs);
	s->recs = NULL;
	s->nr_recs = 0;
}

int
kaslr_dump_src_size(const struct kaslr_dump_src *s, uint64_t *size_ret)
{
	struct stat st;

	if (s->recs) {
		const struct kaslr_flat_rec *last = &s->recs[s->nr_recs - 1];

		*size_ret = last->off + last->size;
		return 0;
	}
	if (fstat(s->fd, &st) < 0)
		return -1;
	*size_ret = (uint64_t)st.st_size;
	return 0;
}

int
kaslr_dump_src_data(const struct kaslr_dump_src *s, uint64_t off, uint64_t *start_ret, uint64_t *end_ret)
{
	uint64_t size;
	off_t d, h;
	size_t lo, hi;

	if (s->recs) {
		/* The first record that ends after @off (sorted, disjoint). */
		lo = 0;
		hi = s->nr_recs;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (s->recs[mid].off + s->recs[mid].size <= off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == s->nr_recs)
			return 0;
		*start_ret = s->recs[lo].off > off ? s->recs[lo].off : off;
		*end_ret = s->recs[lo].off + s->recs[lo].size;
		/* Records that touch are one extent. */
		while (++lo < s->nr_recs && s->recs[lo].off == *end_ret)
			*end_ret += s->recs[lo].size;
		return 1;
	}
	if (kaslr_dump_src_size(s, &size) < 0)
		return -1;
	if (off >= size)
		return 0;
	d = lseek(s->fd, (off_t)off, SEEK_DATA);
	if (d < 0 && errno == ENXIO)
		return 0;
	if (d < 0) {
		/* No SEEK_DATA here: everything is data. */
		*start_ret = off;
		*end_ret = size;
		return 1;
	}
	h = lseek(s->fd, d, SEEK_HOLE);
	*start_ret = (uint64_t)d;
	*end_ret = h < 0 || (uint64_t)h > size ? size : (uint64_t)h;
	return 1;
}
