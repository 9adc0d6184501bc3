/*
 * dumpfile.h - what a dump file says about itself: format, memory map, notes
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * kaslr_dumpfile_probe reads only headers (ELF program headers and PT_NOTE;
 * the kdump-compressed header, sub-header and note area; makedumpfile's
 * flattened stream).  kaslr_dumpread_* reads pages of the same formats.
 */
#ifndef KASLR_DUMPFILE_H
#define KASLR_DUMPFILE_H

#include "kaslr_core.h"

struct kaslr_dumpfile_info {
	const char *format;		/* "ELF", "kdump-compressed", "flattened kdump-compressed", ... */
	struct kaslr_range *ranges;	/* sorted, merged; malloc'ed */
	int nr_ranges;
	void *notes;			/* the PT_NOTE segment / note area; malloc'ed, may be NULL */
	size_t notes_len;
	int nr_cpus;			/* from the kdump header, 0 if unknown */
	int64_t header_phys_base;	/* kdump sub-header phys_base (QEMU 7.2 writes it wrong) */
	int has_header_phys_base;
};

/**
 * kaslr_dumpfile_probe - read a dump file's headers
 * @path:     the dump
 * @info_ret: filled on success (free with kaslr_dumpfile_free)
 * @err, @errlen: one-line reason on failure
 *
 * @returns KASLR_OK; KASLR_NODATA for a format it does not know; KASLR_CORRUPT
 * for a truncated or inconsistent header; KASLR_NOMEM.
 */
enum kaslr_status kaslr_dumpfile_probe(const char *path, struct kaslr_dumpfile_info *info_ret,
				       char *err, size_t errlen);
void kaslr_dumpfile_free(struct kaslr_dumpfile_info *info);

/* A page reader: ELF (plain or flattened), kdump-compressed with zlib or raw pages. */
struct kaslr_dumpread;

/**
 * kaslr_dumpread_open - open a dump for reading physical memory
 * @rd_ret: set to the reader on success (close with kaslr_dumpread_close)
 *
 * @returns KASLR_OK; KASLR_CORRUPT (unknown format, bad or truncated
 * headers: @err says which) or KASLR_NOMEM.
 */
enum kaslr_status kaslr_dumpread_open(const char *path, struct kaslr_dumpread **rd_ret,
				      char *err, size_t errlen);

/* A kaslr_ctx read_phys callback; @priv is the reader.  @returns 0 or -1. */
int kaslr_dumpread_phys(void *priv, uint64_t paddr, void *buf, size_t len);

/* 1 for an ELF core that is not flattened (every read is one pread). */
int kaslr_dumpread_is_plain_elf(const struct kaslr_dumpread *rd);

/* The compression ("lzo", "snappy", "zstd") a failed read met, else NULL. */
const char *kaslr_dumpread_unsupported(const struct kaslr_dumpread *rd);

/*
 * kdump-compressed: replace @info's memory map [0, max_mapnr) with the runs
 * of the 1st bitmap (the guest's RAM, without holes), which @rd read.
 * Nothing changes for other formats.
 */
void kaslr_dumpread_refine_ranges(struct kaslr_dumpread *rd, struct kaslr_dumpfile_info *info);

/* Bytes a plain ELF dump promises but does not hold (cut short); else 0. */
uint64_t kaslr_dumpread_missing(const struct kaslr_dumpread *rd);

void kaslr_dumpread_close(struct kaslr_dumpread *rd);

#endif /* KASLR_DUMPFILE_H */
