/*
 * fuzz_dumpfile.c - dump file headers (ELF, kdump-compressed, flattened)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: the first bytes of a dump file, written to a memfd (one for the
 * whole run, truncated to each input) that kaslr_dump_open opens by its
 * /proc/self/fd path; the page reader then reads a page head, a 4-page
 * piece and a page-crossing span of each of the first ranges.
 * Oracles: on success the ranges are sorted, disjoint and non-empty (the
 * scans and in_dump's binary search rely on it), notes and notes_len
 * agree and the notes parse without reading outside them, a reader that
 * cannot read says why; on failure no object is handed out and the
 * message is a terminated string (ASan's leak check: nothing left
 * allocated).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "regs.h"
#include "core/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The page reader: any result but a crash or a leak. */
static void read_some(struct kaslr_dump *dump)
{
	/* A piece of 4 pages takes the paths a scan's 1 MiB read takes, for less copying. */
	static unsigned char buf[4 * FUZZ_PAGE];
	const char *why = kaslr_dump_reader_error(dump);
	int i;

	if (why && !memchr(why, '\0', KASLR_ERRLEN))
		FUZZ_FAIL("reader: unterminated message");
	for (i = 0; i < dump->nr_ranges && i < 3; i++) {
		uint64_t a = dump->ranges[i].start;

		if (kaslr_dump_read_phys(dump, a, buf, 16) == 0 && why)
			FUZZ_FAIL("reader: read although \"%s\"", why);
		kaslr_dump_read_phys(dump, a, buf, sizeof(buf));
		kaslr_dump_read_phys(dump, a + 4090, buf, 12);
	}
	(void)kaslr_dump_unsupported(dump);
	(void)kaslr_dump_missing(dump);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_dump *dump = (struct kaslr_dump *)1;
	struct kaslr_cpu_regs regs[4];
	struct kaslr_notes_info ni;
	static char path[64];
	static int fd = -1;
	char err[256];
	enum kaslr_status st;
	int i, nr;

	/* One memfd for the run: a new one per input cost 15 us more (memfd_create, close). */
	if (fd < 0) {
		fd = memfd_create("kaslr-fuzz-dump", 0);
		if (fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if ((size && pwrite(fd, data, size, 0) != (ssize_t)size) || ftruncate(fd, (off_t)size)) {
		perror("memfd");
		abort();
	}
	memset(err, 0x5a, sizeof(err));
	err[0] = '\0';
	st = kaslr_dump_open(path, &dump, err, sizeof(err));
	if (!memchr(err, '\0', sizeof(err)))
		FUZZ_FAIL("open: unterminated message");
	if (st != KASLR_OK) {
		if (dump)
			FUZZ_FAIL("open: %s but a dump handed out", kaslr_status_name(st));
		return 0;
	}
	if (!dump)
		FUZZ_FAIL("open: OK without a dump");
	if (!dump->format)
		FUZZ_FAIL("open: OK without a format name");
	if (dump->nr_ranges < 0 || (dump->nr_ranges && !dump->ranges))
		FUZZ_FAIL("open: %d ranges", dump->nr_ranges);
	for (i = 0; i < dump->nr_ranges; i++) {
		if (dump->ranges[i].end <= dump->ranges[i].start)
			FUZZ_FAIL("open (%s): range %d [0x%" PRIx64 ", 0x%" PRIx64 ") is empty or wraps",
				  dump->format, i, dump->ranges[i].start, dump->ranges[i].end);
		if (i && dump->ranges[i].start <= dump->ranges[i - 1].end)
			FUZZ_FAIL("open (%s): range %d [0x%" PRIx64 ", ...) not after range %d's end 0x%" PRIx64,
				  dump->format, i, dump->ranges[i].start, i - 1, dump->ranges[i - 1].end);
	}
	if (!dump->notes != !dump->notes_len)
		FUZZ_FAIL("open: notes %p with length %zu", dump->notes, dump->notes_len);
	if (dump->notes)
		kaslr_notes_parse(dump->notes, dump->notes_len, regs, 4, &nr, &ni);
	read_some(dump);
	kaslr_dump_close(dump);
	return 0;
}
