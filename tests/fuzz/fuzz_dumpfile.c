/*
 * fuzz_dumpfile.c - dump file headers (ELF, kdump-compressed, flattened)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: the first bytes of a dump file, written to a memfd (one for the
 * whole run, truncated to each input) that kaslr_dumpfile_probe and the
 * page reader (kaslr_dumpread_*) open by its /proc/self/fd path; the reader
 * then reads a page head, a 4-page piece and a page-crossing span of each
 * of the first ranges.
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

/* The page reader on the same file: any result but a crash or a leak. */
static void read_some(const char *path, const struct kaslr_dumpfile_info *info)
{
	/* A piece of 4 pages takes the paths a scan's 1 MiB read takes, for less copying. */
	static unsigned char buf[4 * FUZZ_PAGE];
	struct kaslr_dumpfile_info copy;
	struct kaslr_dumpread *rd;
	char err[256];
	int i;

	if (kaslr_dumpread_open(path, &rd, err, sizeof(err)) != KASLR_OK) {
		if (rd)
			FUZZ_FAIL("reader: failed open left a reader");
		if (!memchr(err, '\0', sizeof(err)))
			FUZZ_FAIL("reader: unterminated message");
		return;
	}
	for (i = 0; i < info->nr_ranges && i < 3; i++) {
		uint64_t a = info->ranges[i].start;

		kaslr_dumpread_phys(rd, a, buf, 16);
		kaslr_dumpread_phys(rd, a, buf, sizeof(buf));
		kaslr_dumpread_phys(rd, a + 4090, buf, 12);
	}
	(void)kaslr_dumpread_is_plain_elf(rd);
	(void)kaslr_dumpread_unsupported(rd);
	(void)kaslr_dumpread_missing(rd);
	copy = *info;
	copy.ranges = NULL;
	copy.notes = NULL;
	kaslr_dumpread_refine_ranges(rd, &copy);
	if (copy.ranges && copy.nr_ranges <= 0)
		FUZZ_FAIL("reader: %d ranges handed over", copy.nr_ranges);
	free(copy.ranges);
	kaslr_dumpread_close(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_dumpfile_info info;
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
	st = kaslr_dumpfile_probe(path, &info, err, sizeof(err));
	if (st == KASLR_OK)
		read_some(path, &info);
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
