/*
 * core/dump_int.h - what core/dump*.c share among themselves, and nobody else
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_CORE_DUMP_INT_H
#define KASLR_CORE_DUMP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/dump.h"
#include "core/types.h"

/* More than this is not a note area but garbage. */
#define KASLR_DUMP_MAX_NOTES_LEN (64u << 20)

/* ---- the real file's bytes (core/dump_flat.c) ---- */

struct kaslr_flat_rec;

/* A plain file, or a flattened stream through its index of records. */
struct kaslr_dump_src {
	int fd;
	struct kaslr_flat_rec *recs;	/* sorted by offset, disjoint; NULL for a plain file */
	size_t nr_recs;
};

/**
 * kaslr_dump_pread - read exactly @len bytes of the file at @off
 * @fd: the file
 * @buf, @len: where to, how many
 * @off: file offset
 *
 * @returns 0, or -1 at end of file or on an error.
 */
int kaslr_dump_pread(int fd, void *buf, size_t len, uint64_t off);

/**
 * kaslr_dump_src_read - read the real file's bytes [@off, @off + @len)
 * @src: plain or flattened (then the bytes are gathered from the records)
 *
 * @returns 0, or -1 if any byte is missing.
 */
int kaslr_dump_src_read(const struct kaslr_dump_src *src, uint64_t off, void *buf, size_t len);

/**
 * kaslr_dump_src_size - the size of the real file
 * @src: plain (its size on disk) or flattened (the end of its last record)
 * @size_ret: the size
 *
 * @returns 0, or -1 when the file cannot be stat'ed.
 */
int kaslr_dump_src_size(const struct kaslr_dump_src *src, uint64_t *size_ret);

/**
 * kaslr_dump_src_data - the next bytes of the real file that hold data
 * @src: plain (SEEK_DATA/SEEK_HOLE; a file system without them: all data)
 *       or flattened (its records; the gaps between them are holes)
 * @off: where to look from
 * @start_ret, @end_ret: the data extent [start, end) at or after @off
 *
 * Holes read as zeros; a writer that skips them keeps a sparse file sparse.
 *
 * @returns 1 with an extent, 0 when only holes follow @off, -1 on an error.
 */
int kaslr_dump_src_data(const struct kaslr_dump_src *src, uint64_t off, uint64_t *start_ret,
			uint64_t *end_ret);

/**
 * kaslr_dump_is_flat - is this the start of makedumpfile's flattened stream?
 * @magic: the file's first bytes
 * @len:   how many
 *
 * @returns 1 when they begin with "makedumpfile", else 0.
 */
int kaslr_dump_is_flat(const unsigned char *magic, size_t len);

/**
 * kaslr_dump_flat_index - index a flattened stream's records
 * @src:    its fd set; on success recs/nr_recs describe the real file
 * @path:   for messages
 * @err, @errlen: one-line reason on failure
 *
 * @returns 0, or -1 with @err set.
 */
int kaslr_dump_flat_index(struct kaslr_dump_src *src, const char *path, char *err, size_t errlen);

/**
 * kaslr_dump_flat_free - free a flattened stream's index
 * @src: plain or flattened; its fd stays open
 */
void kaslr_dump_flat_free(struct kaslr_dump_src *src);

/* ---- one format (libkdumpfile's format_ops) ---- */

struct kaslr_dump_file;

struct kaslr_dump_ops {
	/*
	 * Parse the headers into the public part and set up the page reader.
	 * A header the format refuses: a status and @err.  Headers that
	 * parse but pages this reader cannot read: KASLR_OK with reader_err.
	 */
	enum kaslr_status (*open)(struct kaslr_dump_file *f, char *err, size_t errlen);
	int (*read)(struct kaslr_dump_file *f, uint64_t paddr, unsigned char *buf, size_t len);
	uint64_t (*missing)(const struct kaslr_dump_file *f);	/* may be NULL: nothing missing */
	void (*close)(struct kaslr_dump_file *f);
};

extern const struct kaslr_dump_ops kaslr_dump_elf_ops;	/* core/dump_elf.c */
extern const struct kaslr_dump_ops kaslr_dump_kdump_ops;	/* core/dump_kdump.c */

/* The object behind a struct kaslr_dump pointer. */
struct kaslr_dump_file {
	struct kaslr_dump pub;		/* first: a struct kaslr_dump * is a struct kaslr_dump_file * */
	struct kaslr_dump_src src;
	const struct kaslr_dump_ops *ops;
	void *fmt;			/* the format's own state */
	void *notes;			/* pub.notes, owned */
	char reader_err[KASLR_ERRLEN];	/* why pages cannot be read; "" when they can */
	const char *unsupported;	/* compression a read met but cannot decode */
};

/* The whole object behind the public part @d (which is its first member). */
static inline struct kaslr_dump_file *
kaslr_dump_file(const struct kaslr_dump *d)
{
	return (struct kaslr_dump_file *)d;
}

/**
 * kaslr_dump_ranges_merge - sort a dump's ranges and merge those that touch or overlap
 * @f: the dump whose pub.ranges/pub.nr_ranges a format's open filled
 */
void kaslr_dump_ranges_merge(struct kaslr_dump_file *f);

#endif /* KASLR_CORE_DUMP_INT_H */
