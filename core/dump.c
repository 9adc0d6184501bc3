/*
 * core/dump.c - a dump file, opened once (core/dump.h): the format's
 * recognition, the shared parts of every format, the public object
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The file is opened here and nowhere else.  Its first bytes choose the
 * byte source (a flattened stream is indexed by core/dump_flat.c and read
 * through the index from then on) and then the format, whose open parses
 * the headers once: core/dump_elf.c, core/dump_kdump.c.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dump_int.h"

#define KDUMP_SIG "KDUMP   "

static int
range_cmp(const void *a, const void *b)
{
	const struct kaslr_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

void
kaslr_dump_ranges_merge(struct kaslr_dump_file *f)
{
	struct kaslr_range *r = f->pub.ranges;
	int i, n = 0;

	if (!f->pub.nr_ranges)
		return;
	qsort(r, f->pub.nr_ranges, sizeof(r[0]), range_cmp);
	for (i = 1; i < f->pub.nr_ranges; i++) {
		if (r[i].start <= r[n].end) {
			if (r[i].end > r[n].end)
				r[n].end = r[i].end;
		} else {
			r[++n] = r[i];
		}
	}
	f->pub.nr_ranges = n + 1;
}

static void
dump_free(struct kaslr_dump_file *f)
{
	if (f->ops && f->ops->close)
		f->ops->close(f);
	kaslr_dump_flat_free(&f->src);
	if (f->src.fd >= 0)
		close(f->src.fd);
	free(f->pub.ranges);
	free(f->notes);
	free(f);
}

enum kaslr_status
kaslr_dump_open(const char *path, struct kaslr_dump **dump_ret, char *err, size_t errlen)
{
	struct kaslr_dump_file *f;
	unsigned char magic[16];
	enum kaslr_status ret;
	int fd;

	*dump_ret = NULL;
	if ((fd = open(path, O_RDONLY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return KASLR_NODATA;
	}
	if (!(f = calloc(1, sizeof(*f)))) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return KASLR_NOMEM;
	}
	f->src.fd = fd;
	f->pub.path = path;
	f->pub.fd = fd;
	if (kaslr_dump_pread(fd, magic, sizeof(magic), 0) < 0) {
		snprintf(err, errlen, "%s: too short to be a dump", path);
		ret = KASLR_CORRUPT;
		goto fail;
	}
	if (kaslr_dump_is_flat(magic, sizeof(magic))) {
		if (kaslr_dump_flat_index(&f->src, path, err, errlen) < 0) {
			ret = KASLR_CORRUPT;
			goto fail;
		}
		f->pub.flattened = 1;
		if (kaslr_dump_src_read(&f->src, 0, magic, sizeof(magic)) < 0) {
			snprintf(err, errlen, "%s: flattened dump holds no file header", path);
			ret = KASLR_CORRUPT;
			goto fail;
		}
	}
	if (!memcmp(magic, ELFMAG, SELFMAG)) {
		f->pub.format = f->pub.flattened ? "flattened ELF" : "ELF";
		f->ops = &kaslr_dump_elf_ops;
	} else if (!memcmp(magic, KDUMP_SIG, strlen(KDUMP_SIG))) {
		f->pub.format = f->pub.flattened ? "flattened kdump-compressed" : "kdump-compressed";
		f->ops = &kaslr_dump_kdump_ops;
	} else {
		snprintf(err, errlen, "%s: unknown dump format (not ELF, kdump-compressed or flattened)", path);
		ret = KASLR_NODATA;
		goto fail;
	}
	ret = f->ops->open(f, err, errlen);
	if (ret != KASLR_OK)
		goto fail;
	f->pub.notes = f->notes;
	*dump_ret = &f->pub;
	return KASLR_OK;
fail:
	dump_free(f);
	return ret;
}

int
kaslr_dump_read_phys(void *dump, uint64_t paddr, void *buf, size_t len)
{
	struct kaslr_dump_file *f = dump;

	if (f->reader_err[0])
		return -1;
	return f->ops->read(f, paddr, buf, len);
}

const char *
kaslr_dump_reader_error(const struct kaslr_dump *dump)
{
	const struct kaslr_dump_file *f = kaslr_dump_file(dump);

	return f->reader_err[0] ? f->reader_err : NULL;
}

const char *
kaslr_dump_unsupported(const struct kaslr_dump *dump)
{
	return kaslr_dump_file(dump)->unsupported;
}

uint64_t
kaslr_dump_missing(const struct kaslr_dump *dump)
{
	const struct kaslr_dump_file *f = kaslr_dump_file(dump);

	if (f->reader_err[0] || !f->ops->missing)
		return 0;
	return f->ops->missing(f);
}

void
kaslr_dump_close(struct kaslr_dump *dump)
{
	if (dump)
		dump_free(kaslr_dump_file(dump));
}
