/*
 * dumpfile.h - what a dump file says about itself: format, memory map, notes
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Reads only headers (ELF program headers and PT_NOTE; the kdump-compressed
 * header, sub-header and note area; makedumpfile's flattened stream), never
 * page contents, so the module can use it beside crash's own reader.
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

#endif /* KASLR_DUMPFILE_H */
