/*
 * test_dump_fix.c - writing a vmcoreinfo into a dump file (core/dump_fix.c)
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Random ELF cores laid out as QEMU writes them (ELF header, optionally its
 * two section headers, program headers, notes, then the PT_LOAD data with
 * no room between; the .shstrtab at the end) and random kdump-compressed
 * headers with a note area.  After a copy or a change in place, what every
 * reader of the result sees is compared with what was built: the same
 * guest memory through kaslr_dump_read_phys, the same notes but a
 * VMCOREINFO note with exactly the text given, the PT_NOTE first and
 * inside the header region (crash reads nothing else), each segment at the
 * same offset within its page; and after --restore the very same bytes.
 */
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "core/dump.h"
#include "core/dump_fix.h"
#include "core/notes.h"

#define MAX_SEGS 6

static const char vmci_text[] = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nKERNELOFFSET=2200000\n"
				"NUMBER(phys_base)=27262976\n";

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> 8 * i);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> 8 * i);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Append one note (name padded to 4, desc padded to 4). */
static size_t note_add(unsigned char *p, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t n = 0;

	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	n = 12;
	memset(p + n, 0, (namesz + 3) & ~3u);
	memcpy(p + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memset(p + n, 0, (descsz + 3) & ~3u);
	memcpy(p + n, desc, descsz);
	return n + ((descsz + 3) & ~3u);
}

/* A random note stream: CORE/QEMU notes and, with @old_vmci, a wrong VMCOREINFO among them. */
static size_t notes_random(unsigned char *p, uint64_t *rnd, int old_vmci)
{
	unsigned char desc[400];
	size_t n = 0;
	int k, count = (int)synth_rand_range(rnd, 0, 5), at = (int)synth_rand_range(rnd, 0, count + 1);

	for (k = 0; k <= count; k++) {
		uint32_t sz = (uint32_t)synth_rand_range(rnd, 1, sizeof(desc));

		for (uint32_t i = 0; i < sz; i++)
			desc[i] = (unsigned char)synth_rand(rnd);
		if (k == at && old_vmci)
			n += note_add(p + n, "VMCOREINFO", 0, "OSRELEASE=wrong\nKERNELOFFSET=4200000\n", 37);
		if (k < count)
			n += note_add(p + n, k & 1 ? "QEMU" : "CORE", k & 1 ? 0 : NT_PRSTATUS, desc, sz);
	}
	return n;
}

struct built {
	char path[64];
	unsigned char *bytes;	/* the whole file as built */
	size_t size;
	int nr_segs;
	uint64_t paddr[MAX_SEGS], len[MAX_SEGS];
	unsigned char notes[4096];	/* the notes but VMCOREINFO ones */
	size_t notes_len;
};

static int write_file(const char *path, const void *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ok = fd >= 0 && write(fd, b, n) == (ssize_t)n;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static unsigned char *read_file(const char *path, size_t *n)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b && read(fd, b, (size_t)st.st_size) != st.st_size) {
		free(b);
		b = NULL;
	}
	close(fd);
	*n = (size_t)st.st_size;
	return b;
}

/* The notes of @stream without its VMCOREINFO notes, for comparison. */
static size_t notes_without_vmci(const unsigned char *stream, size_t len, unsigned char *out)
{
	struct kaslr_notes_iter it;
	struct kaslr_note n;
	size_t o = 0;

	kaslr_notes_begin(&it, stream, len);
	while (kaslr_notes_next(&it, &n) == KASLR_OK)
		if (!kaslr_note_is(&n, "VMCOREINFO")) {
			char name[64] = "";

			memcpy(name, n.name, n.namesz < sizeof(name) ? n.namesz : sizeof(name) - 1);
			o += note_add(out + o, name, n.type, n.desc, n.descsz);
		}
	return o;
}

/*
 * A QEMU-like ELF core: [ehdr][shdrs?][phdrs][notes][load data...][.shstrtab?].
 * @note: 0 none, 1 PT_NOTE first; @old_vmci a wrong VMCOREINFO note inside.
 */
static int build_elf(struct built *b, uint64_t *rnd, int with_note, int old_vmci, int sections)
{
	unsigned char notes[4096];
	size_t notes_len = with_note ? notes_random(notes, rnd, old_vmci) : 0;
	unsigned nph = (unsigned)(with_note ? 1 : 0), shnum = sections ? 2 : 0, i;
	uint64_t phoff, off, paddr = 0, data_len = 0;

	b->nr_segs = (int)synth_rand_range(rnd, 1, MAX_SEGS + 1);
	nph += (unsigned)b->nr_segs;
	for (i = 0; i < (unsigned)b->nr_segs; i++) {
		// The first segment smaller or larger than the notes: both ways of moving.
		b->len[i] = synth_rand_range(rnd, 1, 64) * (i == 0 && b->nr_segs > 1 && synth_rand(rnd) & 1 ? 16 : 4096);
		paddr += synth_rand_range(rnd, 0, 4) * 0x100000;
		b->paddr[i] = paddr;
		paddr += b->len[i];
		data_len += b->len[i];
	}
	phoff = 64 + (uint64_t)shnum * 64;
	off = phoff + (uint64_t)nph * 56;
	b->size = off + notes_len + data_len + (sections ? 11 : 0);
	if (!(b->bytes = calloc(1, b->size)))
		return -1;
	memcpy(b->bytes, ELFMAG, SELFMAG);
	b->bytes[EI_CLASS] = ELFCLASS64;
	b->bytes[EI_DATA] = ELFDATA2LSB;
	b->bytes[EI_VERSION] = EV_CURRENT;
	b->bytes[16] = ET_CORE;
	b->bytes[18] = EM_X86_64;
	b->bytes[20] = 1;
	put64(b->bytes + 32, phoff);
	b->bytes[52] = 64;
	b->bytes[54] = 56;
	b->bytes[56] = (unsigned char)nph;
	if (sections) {
		put64(b->bytes + 40, 64);
		b->bytes[58] = 64;
		b->bytes[60] = 2;
		b->bytes[62] = 1;
		/* section 1: .shstrtab at the end of the file */
		put32(b->bytes + 64 + 64 + 4, SHT_STRTAB);
		put64(b->bytes + 64 + 64 + 24, b->size - 11);
		put64(b->bytes + 64 + 64 + 32, 11);
		memcpy(b->bytes + b->size - 11, "\0.shstrtab", 11);
	}
	i = 0;
	if (with_note) {
		unsigned char *p = b->bytes + phoff;

		put32(p, PT_NOTE);
		put64(p + 8, off);
		put64(p + 32, notes_len);
		put64(p + 40, notes_len);
		memcpy(b->bytes + off, notes, notes_len);
		i = 1;
	}
	off += notes_len;
	for (int s = 0; s < b->nr_segs; s++, i++) {
		unsigned char *p = b->bytes + phoff + (uint64_t)i * 56;

		put32(p, PT_LOAD);
		put64(p + 8, off);
		put64(p + 24, b->paddr[s]);
		put64(p + 32, b->len[s]);
		put64(p + 40, b->len[s]);
		for (uint64_t k = 0; k < b->len[s]; k += 8)
			put64(b->bytes + off + k, synth_rand(rnd));
		off += b->len[s];
	}
	b->notes_len = notes_without_vmci(notes, notes_len, b->notes);
	snprintf(b->path, sizeof(b->path), "/tmp/kaslr-fix-%d.elf", (int)getpid());
	return write_file(b->path, b->bytes, b->size);
}

/* What a reader sees in @path: the built memory, the built notes + the text, crash's layout rules. */
static int check_elf(const struct built *b, const char *path, char *why, size_t whylen)
{
	struct kaslr_dump *d = NULL;
	char err[512];
	unsigned char *f = NULL, *buf = NULL, expect[8192];
	size_t n, exp_len;
	uint64_t phoff, min_load = UINT64_MAX;
	unsigned phnum, i;
	int ret = 0;

	FAIL_IF(kaslr_dump_open(path, &d, err, sizeof(err)) != KASLR_OK, "reopen: %s", err);
	for (int s = 0; s < b->nr_segs; s++) {
		const unsigned char *src = NULL;

		FAIL_IF(!(buf = malloc(b->len[s])), "out of memory");
		FAIL_IF(kaslr_dump_read_phys(d, b->paddr[s], buf, b->len[s]) < 0, "segment %d unreadable", s);
		/* Where the builder put it. */
		phoff = get64(b->bytes + 32);
		for (i = 0; i < b->bytes[56]; i++) {
			const unsigned char *p = b->bytes + phoff + i * 56;

			if (get64(p + 24) == b->paddr[s] && p[0] == PT_LOAD)
				src = b->bytes + get64(p + 8);
		}
		FAIL_IF(!src || memcmp(buf, src, b->len[s]), "segment %d at " X64 " reads other bytes", s,
			b->paddr[s]);
		free(buf);
		buf = NULL;
	}
	exp_len = b->notes_len;
	memcpy(expect, b->notes, exp_len);
	exp_len += note_add(expect + exp_len, "VMCOREINFO", 0, vmci_text, (uint32_t)strlen(vmci_text));
	FAIL_IF(d->notes_len != exp_len || memcmp(d->notes, expect, exp_len),
		"notes are not the old ones + VMCOREINFO (%zu bytes, want %zu)", d->notes_len, exp_len);
	/* crash: phdr 0 is the PT_NOTE, and it lies before every PT_LOAD's data. */
	FAIL_IF(!(f = read_file(path, &n)), "cannot read %s", path);
	phoff = get64(f + 32);
	phnum = f[56] | f[57] << 8;
	/* makedumpfile reads the program headers right after the ELF header, whatever e_phoff says. */
	FAIL_IF(phoff != 64, "program headers at %" PRIu64 ", not right after the ELF header", phoff);
	FAIL_IF(get64(f + phoff) != PT_NOTE && (f[phoff] | f[phoff + 1] << 8) != PT_NOTE,
		"program header 0 is not the PT_NOTE");
	for (i = 1; i < phnum; i++) {
		const unsigned char *p = f + phoff + i * 56;

		if (p[0] == PT_LOAD && get64(p + 32) && get64(p + 8) < min_load)
			min_load = get64(p + 8);
	}
	FAIL_IF(get64(f + phoff + 8) + get64(f + phoff + 32) > min_load,
		"the notes end at " X64 ", after the first PT_LOAD data at " X64, get64(f + phoff + 8) + get64(f + phoff + 32),
		min_load);
	/* Each segment keeps its offset within a page. */
	for (i = 1; i < phnum; i++) {
		const unsigned char *p = f + phoff + i * 56, *q;
		uint64_t bphoff = get64(b->bytes + 32);

		for (unsigned j = 0; j < b->bytes[56]; j++) {
			q = b->bytes + bphoff + j * 56;
			if (q[0] == PT_LOAD && p[0] == PT_LOAD && get64(q + 24) == get64(p + 24))
				FAIL_IF((get64(q + 8) ^ get64(p + 8)) & 0xfff, "segment at " X64 " moved within its page",
					get64(p + 24));
		}
	}
out:
	free(buf);
	free(f);
	kaslr_dump_close(d);
	return ret;
}

static const char banner[] = "Linux version 6.1.0-test (debian-kernel@lists.debian.org) (gcc-12 (Debian "
			     "12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC "
			     "Debian 6.1.192-3 (2026-11-26)\n";

static const struct kaslr_fix_in fix_in = {
	.vmcoreinfo = vmci_text,
	.vmcoreinfo_len = sizeof(vmci_text) - 1,
	.phys_base = 27262976,
	.banner = banner,
	.banner_len = sizeof(banner) - 1,
};

static int t_elf_copy(uint64_t *rnd, char *why, size_t whylen)
{
	struct built b = { 0 };
	char out[80], msg[512];
	int ret = 0, with_note = synth_rand(rnd) & 1;

	FAIL_IF(build_elf(&b, rnd, with_note, synth_rand(rnd) & 1, synth_rand(rnd) & 1) < 0, "cannot build");
	snprintf(out, sizeof(out), "%s.fixed", b.path);
	unlink(out);
	FAIL_IF(kaslr_fix_copy(b.path, out, 0, &fix_in, msg, sizeof(msg)) != KASLR_OK, "copy: %s", msg);
	if (check_elf(&b, out, why, whylen))
		FAIL_IF(1, "copy (%s): %s", with_note ? "with PT_NOTE" : "no PT_NOTE", why);
	FAIL_IF(kaslr_fix_copy(b.path, out, 0, &fix_in, msg, sizeof(msg)) != KASLR_NODATA || !strstr(msg, "exists"),
		"an existing OUT was not refused: %s", msg);
	FAIL_IF(kaslr_fix_copy(b.path, out, 1, &fix_in, msg, sizeof(msg)) != KASLR_OK, "--force: %s", msg);
	FAIL_IF(kaslr_fix_copy(b.path, b.path, 1, &fix_in, msg, sizeof(msg)) != KASLR_NODATA,
		"a copy onto the dump itself was not refused");
out:
	unlink(out);
	unlink(b.path);
	free(b.bytes);
	return ret;
}

static int t_elf_in_place(uint64_t *rnd, char *why, size_t whylen)
{
	struct built b = { 0 };
	char msg[512];
	unsigned char *after = NULL, *again = NULL;
	size_t n, n2;
	int ret = 0;

	FAIL_IF(build_elf(&b, rnd, 1, synth_rand(rnd) & 1, synth_rand(rnd) & 1) < 0, "cannot build");
	FAIL_IF(kaslr_fix_changed(b.path) != 0, "a new dump counts as changed");
	FAIL_IF(kaslr_fix_in_place(b.path, &fix_in, msg, sizeof(msg)) != KASLR_OK, "in place: %s", msg);
	FAIL_IF(kaslr_fix_changed(b.path) != 1, "the change left no undo record");
	if (check_elf(&b, b.path, why, whylen))
		FAIL_IF(1, "in place: %s", why);
	/* A second change is refused until the first is undone, and changes nothing. */
	FAIL_IF(!(after = read_file(b.path, &n)), "cannot read");
	FAIL_IF(kaslr_fix_in_place(b.path, &fix_in, msg, sizeof(msg)) != KASLR_NODATA, "a second change was not refused");
	FAIL_IF(!(again = read_file(b.path, &n2)) || n != n2 || memcmp(after, again, n), "the refused change wrote");
	free(again);
	FAIL_IF(kaslr_fix_restore(b.path, msg, sizeof(msg)) != KASLR_OK, "restore: %s", msg);
	FAIL_IF(!(again = read_file(b.path, &n2)) || n2 != b.size || memcmp(again, b.bytes, b.size),
		"restore did not give back the same bytes (%zu, want %zu)", n2, b.size);
	FAIL_IF(kaslr_fix_restore(b.path, msg, sizeof(msg)) != KASLR_NOTFOUND, "a second restore was not refused");
out:
	free(after);
	free(again);
	unlink(b.path);
	free(b.bytes);
	return ret;
}

/* Refusals that must leave the file as it was. */
static int t_refusals(uint64_t *rnd, char *why, size_t whylen)
{
	struct built b = { 0 };
	char msg[512];
	unsigned char *now = NULL;
	size_t n;
	int ret = 0, fd;

	(void)whylen;
	/* No PT_NOTE: in place refused (crash reads notes only there), the copy adds one. */
	FAIL_IF(build_elf(&b, rnd, 0, 0, 0) < 0, "cannot build");
	FAIL_IF(kaslr_fix_in_place(b.path, &fix_in, msg, sizeof(msg)) != KASLR_NODATA || !strstr(msg, "PT_NOTE"),
		"no PT_NOTE: %s", msg);
	FAIL_IF(!(now = read_file(b.path, &n)) || n != b.size || memcmp(now, b.bytes, n), "no PT_NOTE: file changed");
	free(now);
	now = NULL;
	unlink(b.path);
	free(b.bytes);
	memset(&b, 0, sizeof(b));
	/* Read-only by its mode (root ignores it; the writer does not). */
	FAIL_IF(build_elf(&b, rnd, 1, 0, 0) < 0, "cannot build");
	chmod(b.path, 0444);
	FAIL_IF(kaslr_fix_in_place(b.path, &fix_in, msg, sizeof(msg)) != KASLR_NODATA || !strstr(msg, "read-only"),
		"read-only: %s", msg);
	chmod(b.path, 0644);
	/* A damaged undo record: restore refuses and writes nothing. */
	FAIL_IF(kaslr_fix_in_place(b.path, &fix_in, msg, sizeof(msg)) != KASLR_OK, "in place: %s", msg);
	FAIL_IF(!(now = read_file(b.path, &n)), "cannot read");
	fd = open(b.path, O_WRONLY);
	FAIL_IF(fd < 0 || pwrite(fd, "X", 1, (off_t)(n - 40)) != 1, "cannot damage");
	close(fd);
	now[n - 40] = 'X';
	FAIL_IF(kaslr_fix_restore(b.path, msg, sizeof(msg)) != KASLR_CORRUPT || !strstr(msg, "damaged"),
		"damaged record: %s", msg);
	free(now);
	{
		unsigned char *again = read_file(b.path, &n);

		FAIL_IF(!again, "cannot read");
		free(again);
	}
	/* A flattened dump is refused in place. */
	fd = open(b.path, O_WRONLY | O_TRUNC);
	FAIL_IF(fd < 0 || write(fd, "makedumpfile\0\0\0\0", 16) != 16, "cannot write");
	close(fd);
	FAIL_IF(kaslr_fix_in_place(b.path, &fix_in, msg, sizeof(msg)) != KASLR_NODATA || !strstr(msg, "flattened"),
		"flattened: %s", msg);
	now = NULL;
out:
	free(now);
	unlink(b.path);
	free(b.bytes);
	return ret;
}

/* kdump-compressed: header, sub-header with a note area, some blocks; only the headers matter here. */
#define KBLK 4096
static int t_kdump(uint64_t *rnd, char *why, size_t whylen)
{
	unsigned char notes[4096], *f, *g = NULL, expect[8192];
	size_t notes_len = notes_random(notes, rnd, synth_rand(rnd) & 1), n, exp_len;
	size_t size = 4 * KBLK + notes_len + synth_rand_range(rnd, 0, 3 * KBLK);
	char path[64], out[80], msg[512];
	uint64_t onote, snote, ovm, svm;
	int ret = 0, in_place = synth_rand(rnd) & 1;

	snprintf(path, sizeof(path), "/tmp/kaslr-fix-%d.kdump", (int)getpid());
	snprintf(out, sizeof(out), "%s.fixed", path);
	f = calloc(1, size);
	FAIL_IF(!f, "out of memory");
	for (size_t i = 2 * KBLK; i < size; i++)
		f[i] = (unsigned char)synth_rand(rnd);
	memcpy(f, "KDUMP   ", 8);
	put32(f + 8, 6);		/* header_version */
	memcpy(f + 12 + 4 * 65, "x86_64", 6);	/* utsname.machine: all QEMU fills in */
	if (synth_rand(rnd) & 1)
		memcpy(f + 12 + 2 * 65, "kept", 5);	/* a release the dump has is kept */
	put32(f + 428, KBLK);		/* block_size */
	put32(f + 432, 1);		/* sub_hdr_size */
	put64(f + KBLK, 0x1000000);	/* phys_base, wrong */
	put64(f + KBLK + 48, 2 * KBLK);
	put64(f + KBLK + 56, notes_len);
	memcpy(f + 2 * KBLK, notes, notes_len);
	FAIL_IF(write_file(path, f, size) < 0, "cannot write");
	unlink(out);
	if (in_place)
		FAIL_IF(kaslr_fix_in_place(path, &fix_in, msg, sizeof(msg)) != KASLR_OK, "in place: %s", msg);
	else
		FAIL_IF(kaslr_fix_copy(path, out, 0, &fix_in, msg, sizeof(msg)) != KASLR_OK, "copy: %s", msg);
	FAIL_IF(!(g = read_file(in_place ? path : out, &n)), "cannot read the result");
	FAIL_IF(n < size || memcmp(g + KBLK + 64, f + KBLK + 64, size - KBLK - 64) || memcmp(g, f, 12) ||
		memcmp(g + 12 + 6 * 65, f + 12 + 6 * 65, KBLK - 12 - 6 * 65),
		"bytes other than the utsname and the sub-header's first 64 changed");
	/* The utsname as libkdumpfile wants it: sysname, release, version; machine and a set release kept. */
	FAIL_IF(strcmp((char *)g + 12, "Linux") || strcmp((char *)g + 12 + 4 * 65, "x86_64") ||
		strcmp((char *)g + 12 + 2 * 65, f[12 + 2 * 65] ? "kept" : "6.1.0-test") ||
		strcmp((char *)g + 12 + 3 * 65, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)"),
		"utsname: sysname '%s' release '%s' version '%s'", (char *)g + 12, (char *)g + 12 + 2 * 65,
		(char *)g + 12 + 3 * 65);
	FAIL_IF((int64_t)get64(g + KBLK) != fix_in.phys_base, "sub-header phys_base " X64, get64(g + KBLK));
	ovm = get64(g + KBLK + 32);
	svm = get64(g + KBLK + 40);
	onote = get64(g + KBLK + 48);
	snote = get64(g + KBLK + 56);
	FAIL_IF(svm != strlen(vmci_text) || ovm + svm > n || memcmp(g + ovm, vmci_text, svm),
		"the vmcoreinfo area is not the text");
	exp_len = notes_without_vmci(notes, notes_len, expect);
	exp_len += note_add(expect + exp_len, "VMCOREINFO", 0, vmci_text, (uint32_t)strlen(vmci_text));
	FAIL_IF(snote != exp_len || onote + snote > n || memcmp(g + onote, expect, exp_len),
		"the note area is not the old notes + VMCOREINFO");
	if (in_place) {
		FAIL_IF(kaslr_fix_restore(path, msg, sizeof(msg)) != KASLR_OK, "restore: %s", msg);
		free(g);
		FAIL_IF(!(g = read_file(path, &n)) || n != size || memcmp(g, f, size), "restore: other bytes");
	}
out:
	(void)whylen;
	free(f);
	free(g);
	unlink(path);
	unlink(out);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_dump_fix");

	unit_run("dump-fix/elf-copy", t_elf_copy, &rnd);
	unit_run("dump-fix/elf-in-place-restore", t_elf_in_place, &rnd);
	unit_run("dump-fix/refusals", t_refusals, &rnd);
	unit_run("dump-fix/kdump", t_kdump, &rnd);
	TAP_EXIT();
}
