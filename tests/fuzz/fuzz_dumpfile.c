/*
 * fuzz_dumpfile.c - dump file headers (ELF, kdump-compressed, flattened)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: the first bytes of a dump file, written to a memfd that
 * kaslr_dumpfile_probe opens by its /proc/self/fd path.
 * Oracles: on success the ranges are sorted, disjoint and non-empty (the
 * scans and in_dump's binary search rely on it), notes and notes_len
 * agree and the notes parse without reading outside them; on failure
 * nothing is left allocated and the message is a terminated string.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "dumpfile.h"
#include "regs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_dumpfile_info info;
	struct kaslr_cpu_regs regs[4];
	struct kaslr_notes_info ni;
	char path[64], err[256];
	enum kaslr_status st;
	int fd, i, nr;

	fd = memfd_create("kaslr-fuzz-dump", 0);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	if (size && write(fd, data, size) != (ssize_t)size) {
		perror("write");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(err, 0x5a, sizeof(err));
	err[0] = '\0';
	st = kaslr_dumpfile_probe(path, &info, err, sizeof(err));
	close(fd);
	if (!memchr(err, '\0', sizeof(err)))
		FUZZ_FAIL("probe: unterminated message");
	if (st != KASLR_OK) {
		if (info.ranges || info.notes || info.nr_ranges || info.notes_len)
			FUZZ_FAIL("probe: %s but ranges/notes left behind", kaslr_status_name(st));
		return 0;
	}
	if (!info.format)
		FUZZ_FAIL("probe: OK without a format name");
	if (info.nr_ranges < 0 || (info.nr_ranges && !info.ranges))
		FUZZ_FAIL("probe: %d ranges", info.nr_ranges);
	for (i = 0; i < info.nr_ranges; i++) {
		if (info.ranges[i].end <= info.ranges[i].start)
			FUZZ_FAIL("probe (%s): range %d [0x%" PRIx64 ", 0x%" PRIx64 ") is empty or wraps",
				  info.format, i, info.ranges[i].start, info.ranges[i].end);
		if (i && info.ranges[i].start <= info.ranges[i - 1].end)
			FUZZ_FAIL("probe (%s): range %d [0x%" PRIx64 ", ...) not after range %d's end 0x%" PRIx64,
				  info.format, i, info.ranges[i].start, i - 1, info.ranges[i - 1].end);
	}
	if (!info.notes != !info.notes_len)
		FUZZ_FAIL("probe: notes %p with length %zu", info.notes, info.notes_len);
	if (info.notes)
		kaslr_notes_parse(info.notes, info.notes_len, regs, 4, &nr, &ni);
	kaslr_dumpfile_free(&info);
	return 0;
}
