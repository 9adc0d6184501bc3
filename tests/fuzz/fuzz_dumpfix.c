/*
 * fuzz_dumpfix.c - the dump writer (core/dump_fix.c) on any file
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: a whole dump file (ELF, kdump-compressed, flattened), written to a
 * memfd.  It is copied with a VMCOREINFO note (into a second memfd's
 * directory-less twin: an O_TMPFILE in /dev/shm), then changed in place
 * and restored.
 * Oracles: a refused change in place leaves every byte as it was; an
 * accepted one opens with kaslr_dump_open when the input did, and its
 * notes end with the VMCOREINFO note of exactly the text given; --restore
 * then gives back the input byte for byte; a copy that was written opens
 * the same way.  Messages are terminated strings; ASan: no leak.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "core/dump.h"
#include "core/dump_fix.h"
#include "core/notes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char text[] = "OSRELEASE=6.1.0-fuzz\nKERNELOFFSET=2200000\nNUMBER(phys_base)=27262976\n";

/* Does the dump at @path open, and is its last note VMCOREINFO = text? -1: does not open. */
static int opens_with_note(const char *path)
{
	struct kaslr_dump *d = NULL;
	struct kaslr_notes_iter it;
	struct kaslr_note n, last = { 0 };
	char err[256];
	int found = 0;

	if (kaslr_dump_open(path, &d, err, sizeof(err)) != KASLR_OK)
		return -1;
	kaslr_notes_begin(&it, d->notes, d->notes_len);
	while (kaslr_notes_next(&it, &n) == KASLR_OK) {
		last = n;
		found = 1;
	}
	found = found && kaslr_note_is(&last, "VMCOREINFO") && last.descsz == sizeof(text) - 1 &&
		!memcmp(last.desc, text, sizeof(text) - 1);
	kaslr_dump_close(d);
	return found;
}

static unsigned char *slurp(int fd, size_t *len)
{
	struct stat st;
	unsigned char *b;

	if (fstat(fd, &st) < 0)
		abort();
	*len = (size_t)st.st_size;
	b = malloc(*len + 1);
	if (!b || (*len && pread(fd, b, *len, 0) != (ssize_t)*len))
		abort();
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char banner[] = "Linux version 6.1.0-fuzz (fuzz@example) (gcc) #1 SMP\n";
	static const struct kaslr_fix_in fix = { text, sizeof(text) - 1, 27262976, banner, sizeof(banner) - 1 };
	static char path[64], out[64];
	static int fd = -1;
	struct kaslr_dump *d = NULL;
	char msg[512], err[256];
	unsigned char *now;
	size_t len;
	int opened, r;
	enum kaslr_status st;

	if (fd < 0) {
		if ((fd = memfd_create("kaslr-fuzz-fix", 0)) < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		snprintf(out, sizeof(out), "/dev/shm/kaslr-fuzz-fix.%d", (int)getpid());
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	opened = kaslr_dump_open(path, &d, err, sizeof(err)) == KASLR_OK;
	kaslr_dump_close(d);

	/* A copy. */
	unlink(out);
	st = kaslr_fix_copy(path, out, 0, &fix, msg, sizeof(msg));
	if (!memchr(msg, '\0', sizeof(msg)))
		FUZZ_FAIL("copy: unterminated message");
	if (st == KASLR_OK && opened && (r = opens_with_note(out)) != 1)
		FUZZ_FAIL("copy: %s, but the copy %s", msg, r < 0 ? "does not open" : "lacks the note");
	if (st != KASLR_OK && access(out, F_OK) == 0)
		FUZZ_FAIL("copy failed (%s) but left %s", msg, out);
	unlink(out);

	/* In place, and back. */
	st = kaslr_fix_in_place(path, &fix, msg, sizeof(msg));
	if (!memchr(msg, '\0', sizeof(msg)))
		FUZZ_FAIL("in place: unterminated message");
	now = slurp(fd, &len);
	if (st != KASLR_OK) {
		if (len != size || (size && memcmp(now, data, size)))
			FUZZ_FAIL("in place refused (%s) but the file changed", msg);
		free(now);
		return 0;
	}
	free(now);
	if (opened && (r = opens_with_note(path)) != 1)
		FUZZ_FAIL("in place: %s, but the dump %s", msg, r < 0 ? "no longer opens" : "lacks the note");
	if (kaslr_fix_changed(path) != 1)
		FUZZ_FAIL("in place: %s, but no undo record", msg);
	if (kaslr_fix_restore(path, msg, sizeof(msg)) != KASLR_OK)
		FUZZ_FAIL("restore: %s", msg);
	now = slurp(fd, &len);
	if (len != size || (size && memcmp(now, data, size)))
		FUZZ_FAIL("restore: %zu bytes, not the input's %zu bytes", len, size);
	free(now);
	return 0;
}
