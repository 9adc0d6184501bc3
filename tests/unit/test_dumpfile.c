/*
 * test_dumpfile.c - the page reader on makedumpfile's flattened format (core/dump_flat.c)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * A plain ELF core (one PT_LOAD of random bytes) is cut into the records of
 * a flattened stream: first the whole file in random order, then records
 * that rewrite random spans with other random bytes, some overlapping each
 * other.  A model applies the same records in stream order (the later one
 * wins, as makedumpfile -R does); every read through kaslr_dump_read_phys
 * must give the model's bytes.
 */
#include <unistd.h>

#include "unit.h"
#include "core/dump.h"

#define HDR_SIZE	0x1000ULL		/* ELF header + program header, padded */
#define SEG_PADDR	0x100000ULL
#define SEG_SIZE	(256ULL << 10)
#define FILE_SIZE	(HDR_SIZE + SEG_SIZE)
#define FLAT_HDR	4096

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* The real file's first page: an ELF64 core with one PT_LOAD at SEG_PADDR. */
static void elf_header(unsigned char *f)
{
	memset(f, 0, HDR_SIZE);
	memcpy(f, "\177ELF", 4);
	f[4] = 2;			/* ELFCLASS64 */
	f[5] = 1;			/* little-endian */
	f[6] = 1;			/* EV_CURRENT */
	f[16] = 4;			/* ET_CORE */
	f[18] = 62;			/* EM_X86_64 */
	f[20] = 1;
	f[32] = 64;			/* e_phoff */
	f[52] = 64;			/* e_ehsize */
	f[54] = 56;			/* e_phentsize */
	f[56] = 1;			/* e_phnum */
	/* PT_LOAD: type 1, offset, vaddr, paddr, filesz, memsz (little-endian). */
	f[64] = 1;
	for (int i = 0; i < 8; i++) {
		f[64 + 8 + i] = (unsigned char)(HDR_SIZE >> (8 * i));
		f[64 + 16 + i] = f[64 + 24 + i] = (unsigned char)(SEG_PADDR >> (8 * i));
		f[64 + 32 + i] = f[64 + 40 + i] = (unsigned char)(SEG_SIZE >> (8 * i));
	}
}

struct rec {
	uint64_t off, size;
	unsigned char *data;
};

static int write_stream(const char *path, const struct rec *r, int n)
{
	unsigned char h[16], hdr[FLAT_HDR];
	FILE *f = fopen(path, "wb");
	int i, ok = 1;

	if (!f)
		return -1;
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, "makedumpfile", 12);
	hdr[19] = 1;			/* type (big-endian) */
	hdr[27] = 1;			/* version */
	ok &= fwrite(hdr, sizeof(hdr), 1, f) == 1;
	for (i = 0; i < n; i++) {
		put_be64(h, r[i].off);
		put_be64(h + 8, r[i].size);
		ok &= fwrite(h, 16, 1, f) == 1;
		ok &= fwrite(r[i].data, r[i].size, 1, f) == 1;
	}
	memset(h, 0xff, 16);		/* END_FLAG_FLAT_HEADER */
	ok &= fwrite(h, 16, 1, f) == 1;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

static int t_flat_overlap(uint64_t *rnd, char *why, size_t whylen)
{
	static unsigned char model[FILE_SIZE], got[8192];
	struct rec r[600];
	struct kaslr_dump *dump = NULL;
	char path[64], err[KASLR_ERRLEN];
	int n = 0, i, k, fd, ret = 0;
	uint64_t off;

	/* The whole file once, in random-sized pieces shuffled, header last-but-one. */
	for (off = 0; off < FILE_SIZE; off += r[n - 1].size) {
		r[n].off = off;
		r[n].size = synth_rand_range(rnd, 1, 9000);
		if (off + r[n].size > FILE_SIZE)
			r[n].size = FILE_SIZE - off;
		r[n].data = malloc(r[n].size);
		for (k = 0; k < (int)r[n].size; k++)
			r[n].data[k] = (unsigned char)synth_rand(rnd);
		n++;
	}
	for (i = n - 1; i > 0; i--) {
		int j = (int)synth_rand_range(rnd, 0, (uint64_t)i + 1);
		struct rec t = r[i];

		r[i] = r[j];
		r[j] = t;
	}
	/* Rewrites of random spans, overlapping each other and the pieces. */
	for (i = 0; i < 300; i++, n++) {
		r[n].size = synth_rand_range(rnd, 1, 20000);
		r[n].off = HDR_SIZE + synth_rand_range(rnd, 0, SEG_SIZE - r[n].size);
		r[n].data = malloc(r[n].size);
		for (k = 0; k < (int)r[n].size; k++)
			r[n].data[k] = (unsigned char)synth_rand(rnd);
	}
	/* The ELF header comes last: it must win over the random bytes written there. */
	r[n].off = 0;
	r[n].size = HDR_SIZE;
	r[n].data = malloc(HDR_SIZE);
	elf_header(r[n].data);
	n++;
	for (i = 0; i < n; i++)
		memcpy(model + r[i].off, r[i].data, r[i].size);

	snprintf(path, sizeof(path), "/tmp/kaslr-test-flat.XXXXXX");
	fd = mkstemp(path);
	FAIL_IF(fd < 0, "mkstemp");
	close(fd);
	FAIL_IF(write_stream(path, r, n) < 0, "cannot write %s", path);
	FAIL_IF(kaslr_dump_open(path, &dump, err, sizeof(err)) != KASLR_OK, "open: %s", err);
	FAIL_IF(strcmp(dump->format, "flattened ELF"), "opened as %s", dump->format);
	FAIL_IF(dump->nr_ranges != 1 || dump->ranges[0].start != SEG_PADDR ||
		dump->ranges[0].end != SEG_PADDR + SEG_SIZE, "%d ranges", dump->nr_ranges);
	for (i = 0; i < 2000; i++) {
		uint64_t len = synth_rand_range(rnd, 1, sizeof(got) + 1);
		uint64_t pa = SEG_PADDR + synth_rand_range(rnd, 0, SEG_SIZE - len + 1);

		FAIL_IF(kaslr_dump_read_phys(dump, pa, got, len) != 0, "read " X64 "+%" PRIu64 " failed", pa, len);
		for (k = 0; k < (int)len; k++)
			FAIL_IF(got[k] != model[HDR_SIZE + pa - SEG_PADDR + (uint64_t)k],
				"byte " X64 " reads %02x, the last record wrote %02x", pa + (uint64_t)k, got[k],
				model[HDR_SIZE + pa - SEG_PADDR + (uint64_t)k]);
	}
	/* The whole segment in one read, and nothing past it. */
	FAIL_IF(kaslr_dump_read_phys(dump, SEG_PADDR + SEG_SIZE - 16, got, 32) == 0, "read past the segment");
out:
	kaslr_dump_close(dump);
	unlink(path);
	for (i = 0; i < n; i++)
		free(r[i].data);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_dumpfile");

	unit_run("flattened-overlapping-records", t_flat_overlap, &rnd);
	TAP_EXIT();
}
