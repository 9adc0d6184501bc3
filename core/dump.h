/*
 * core/dump.h - a dump file, opened once: what it says about itself, and
 * its pages
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * One object per open dump (libkdumpfile's format_ops idea): the file is
 * opened once, its headers are parsed once by the one format that knows
 * them, and the same object then reads guest physical memory.
 *
 *  - ELF64 cores (QEMU dump-guest-memory, virsh dump --memory-only, kdump
 *    /proc/vmcore copies): core/dump_elf.c;
 *  - kdump-compressed (makedumpfile -c/-l/-p, QEMU kdump-*; pages with
 *    zlib or without compression): core/dump_kdump.c;
 *  - makedumpfile's flattened stream (makedumpfile -F; QEMU 7.2 writes its
 *    kdump formats this way) is not a format but a byte source under
 *    either of them: core/dump_flat.c.
 *
 * What the reader cannot read (lzo, snappy or zstd pages; split dumps) the
 * caller reads some other way: crash's readmem in kaslr.so, libkdumpfile in
 * kaslr-find, which may share the object's file descriptor.
 */
#ifndef KASLR_CORE_DUMP_H
#define KASLR_CORE_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

/* What an open dump says about itself.  Read-only for callers. */
struct kaslr_dump {
	const char *path;
	/* "ELF", "flattened ELF", "kdump-compressed", "flattened kdump-compressed" */
	const char *format;
	int flattened;			/* read through makedumpfile's flattened stream */
	int fd;				/* the one open file (shareable: the reader uses pread) */
	/*
	 * Guest physical memory the dump holds: sorted, merged.  ELF: the
	 * PT_LOAD segments' file parts.  kdump-compressed: the runs of the 1st
	 * bitmap (the guest's RAM, without the PCI hole) when the reader could
	 * read it, else [0, max_mapnr).
	 */
	struct kaslr_range *ranges;
	int nr_ranges;
	const void *notes;		/* the PT_NOTE segment / kdump note area, or NULL */
	size_t notes_len;
	int nr_cpus;			/* from the kdump header; 0 if unknown */
	/* The dumped machine as an ELF e_machine (EM_X86_64, EM_AARCH64); 0 if the dump does not say. */
	int machine;
	int64_t header_phys_base;	/* kdump sub-header phys_base (QEMU 7.2 writes it wrong) */
	int has_header_phys_base;
};

/**
 * kaslr_dump_open - open a dump file and parse its headers
 * @path:     the dump
 * @dump_ret: set to the open dump on KASLR_OK (close with kaslr_dump_close),
 *            to NULL otherwise
 * @err:      one-line reason on failure ("PATH: what is wrong")
 * @errlen:   size of @err
 *
 * Opens the file once, recognises the format (through a flattened stream
 * if it is one), and parses the headers: memory ranges, note area, and the
 * kdump header's nr_cpus and phys_base.  It also sets up the page reader;
 * a format whose headers parse but whose pages this reader cannot read
 * (kaslr_dump_reader_error) still opens.
 *
 * @returns KASLR_OK; KASLR_NODATA for a file that cannot be opened or a
 * format it does not know; KASLR_CORRUPT for truncated or inconsistent
 * headers; KASLR_NOMEM.
 */
enum kaslr_status kaslr_dump_open(const char *path, struct kaslr_dump **dump_ret, char *err,
				  size_t errlen);

/**
 * kaslr_dump_read_phys - read guest physical memory from the dump
 * @dump:  the struct kaslr_dump (a kaslr_read_phys_fn, so a void cookie)
 * @paddr: guest physical address
 * @buf:   destination
 * @len:   bytes to read, any span (pages are joined here)
 *
 * ELF: bytes past a segment's file size but inside its memory size read
 * as zeros.  kdump-compressed: pages that were not dumped are missing.
 *
 * @returns 0 when all @len bytes were read, -1 otherwise (or when the
 * reader is not available: kaslr_dump_reader_error).
 */
int kaslr_dump_read_phys(void *dump, uint64_t paddr, void *buf, size_t len);

/**
 * kaslr_dump_reader_error - why kaslr_dump_read_phys cannot read this dump
 * @dump: an open dump
 *
 * @returns NULL when it can; else a one-line message ("PATH: kdump-compressed
 * block size 512 is not the x86_64 page size").
 */
const char *kaslr_dump_reader_error(const struct kaslr_dump *dump);

/**
 * kaslr_dump_unsupported - a page compression the reader met but cannot decode
 * @dump: an open dump
 *
 * @returns "lzo", "snappy" or "zstd" once a read failed on such a page; else
 * NULL.
 */
const char *kaslr_dump_unsupported(const struct kaslr_dump *dump);

/**
 * kaslr_dump_missing - bytes a plain ELF dump promises but does not hold
 * @dump: an open dump
 *
 * @returns the PT_LOAD file bytes that lie past the end of the file (a
 * copy cut short); 0 when complete or not a plain (unflattened) ELF file.
 */
uint64_t kaslr_dump_missing(const struct kaslr_dump *dump);

/**
 * kaslr_dump_close - close the file and free the dump
 * @dump: an open dump, or NULL
 */
void kaslr_dump_close(struct kaslr_dump *dump);

#endif /* KASLR_CORE_DUMP_H */
