/*
 * core/dump_fix.c - write a verified vmcoreinfo into the dump file itself
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The layouts and the order of the writes are described in core/dump_fix.h.
 *
 * The undo record (in place only) sits at the end of the file:
 *
 *   record:  "KASLRREC", u64 first size, u32 nr_entries, u32 format,
 *            nr_entries x {u64 dst, u64 len, u64 src}, then saved bytes
 *   footer:  "KASLRFIX", u64 record offset, u64 record length,
 *            u32 crc32 of the record, u32 version (1)     - the last 32 bytes
 *
 * Restoring copies each entry's @len bytes at file offset @src to @dst, in
 * order, syncing after each, then cuts the file to its first size.  Every
 * @src lies past the first size, so a restore that is interrupted can be
 * run again.  Words are little-endian.
 */
#define _GNU_SOURCE	/* O_TMPFILE, copy_file_range, linkat AT_EMPTY_PATH */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/dump_fix.h"
#include "core/dump_int.h"
#include "core/notes.h"
#include "core/util.h"

/* Elf64_Ehdr and Elf64_Phdr fields (little-endian bytes). */
#define EH_SIZE		64
#define EH_PHOFF	32
#define EH_SHOFF	40
#define EH_PHENTSIZE	54
#define EH_PHNUM	56
#define EH_SHENTSIZE	58
#define EH_SHNUM	60
#define SH_SIZE		64
#define SH_TYPE		4
#define SH_OFFSET	24
#define SH_SIZEF	32
#define PH_SIZE		56
#define PH_TYPE		0
#define PH_OFFSET	8
#define PH_FILESZ	32
#define PH_MEMSZ	40

/* disk_dump_header / kdump_sub_header (makedumpfile's diskdump_mod.h), 64-bit. */
#define KDUMP_SIG	"KDUMP   "
#define DDH_VERSION	8
#define DDH_UTSNAME	12	/* struct new_utsname: 6 fields of 65 bytes */
#define UTS_FIELD	65
#define UTS_LEN		(6 * UTS_FIELD)
#define UTS_SYSNAME	0
#define UTS_RELEASE	2
#define UTS_VERSION	3
#define DDH_BLOCK_SIZE	428
#define DDH_SUB_HDR_SIZE 432
#define DDH_SIZE	464
#define KSH_PHYS_BASE	0
#define KSH_OFFSET_VMCI	32
#define KSH_SIZE_VMCI	40
#define KSH_OFFSET_NOTE	48
#define KSH_SIZE_NOTE	56
#define KSH_FIX_LEN	64	/* phys_base .. size_note: rewritten in one write */

#define REC_MAGIC	"KASLRREC"
#define FOOT_MAGIC	"KASLRFIX"
#define FOOT_SIZE	32
#define REC_HDR		24
#define REC_ENT		24
#define FIX_VERSION	1
#define MAX_ENTRIES	(2 + 2 * 4096)

enum fix_kind { FIX_ELF = 1, FIX_KDUMP = 2 };

/* One dump opened for a change. */
struct fixfile {
	const char *path;
	struct kaslr_dump_src src;
	uint64_t size;			/* of the real file */
	enum fix_kind kind;
	/* ELF */
	unsigned char eh[EH_SIZE];
	unsigned char *ph;		/* phnum x PH_SIZE, as in the file */
	unsigned phnum;
	uint64_t phoff;
	unsigned char *sh;		/* shnum x SH_SIZE (QEMU writes a .shstrtab), or NULL */
	unsigned shnum;
	uint64_t shoff;
	/* kdump-compressed */
	uint32_t block_size;
	uint64_t sub_off;
	unsigned char sub[KSH_FIX_LEN];
	unsigned char uts[UTS_LEN];	/* the header's utsname */
	/* the existing notes */
	unsigned char *notes;
	size_t notes_len;
};

static void
put_le32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> 8 * i);
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> 8 * i);
}

static uint64_t
round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static int
pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* "PATH: what: strerror" */
static enum kaslr_status
io_err(char *msg, size_t msglen, const char *path, const char *what)
{
	kaslr_errf(msg, msglen, "%s: %s: %s", path, what, strerror(errno));
	return KASLR_CORRUPT;
}

/* ---- the dump as it is ---- */

static void
fix_close(struct fixfile *f)
{
	if (f->src.fd >= 0)
		close(f->src.fd);
	kaslr_dump_flat_free(&f->src);
	free(f->ph);
	free(f->sh);
	free(f->notes);
	memset(f, 0, sizeof(*f));
	f->src.fd = -1;
}

static enum kaslr_status
read_notes(struct fixfile *f, uint64_t off, uint64_t len, char *msg, size_t msglen)
{
	if (!len)
		return KASLR_OK;
	if (len > KASLR_DUMP_MAX_NOTES_LEN) {
		kaslr_errf(msg, msglen, "%s: the note segment is implausibly large", f->path);
		return KASLR_CORRUPT;
	}
	if (!(f->notes = malloc(len))) {
		kaslr_errf(msg, msglen, "out of memory");
		return KASLR_NOMEM;
	}
	if (kaslr_dump_src_read(&f->src, off, f->notes, len) < 0) {
		kaslr_errf(msg, msglen, "%s: the note segment is truncated", f->path);
		return KASLR_CORRUPT;
	}
	f->notes_len = len;
	return KASLR_OK;
}

static unsigned char *
phdr(const struct fixfile *f, unsigned i)
{
	return f->ph + (size_t)i * PH_SIZE;
}

static enum kaslr_status
parse_elf(struct fixfile *f, char *msg, size_t msglen)
{
	unsigned i;
	int note = -1;

	if (kaslr_dump_src_read(&f->src, 0, f->eh, EH_SIZE) < 0 || f->eh[EI_CLASS] != ELFCLASS64 ||
	    f->eh[EI_DATA] != ELFDATA2LSB || kaslr_le16(f->eh + 16) != ET_CORE) {
		kaslr_errf(msg, msglen, "%s: not a 64-bit little-endian ELF core", f->path);
		return KASLR_NODATA;
	}
	f->phoff = kaslr_le64(f->eh + EH_PHOFF);
	f->phnum = kaslr_le16(f->eh + EH_PHNUM);
	if (kaslr_le16(f->eh + EH_PHENTSIZE) != PH_SIZE || f->phnum == 0 || f->phnum >= PN_XNUM) {
		kaslr_errf(msg, msglen, "%s: the ELF core has no usable program headers", f->path);
		return KASLR_CORRUPT;
	}
	f->shoff = kaslr_le64(f->eh + EH_SHOFF);
	f->shnum = kaslr_le16(f->eh + EH_SHNUM);
	if (f->shoff && (kaslr_le16(f->eh + EH_SHENTSIZE) != SH_SIZE || f->shnum == 0 || f->shnum >= SHN_LORESERVE)) {
		kaslr_errf(msg, msglen, "%s: ELF section headers this writer does not know (extended "
			   "numbering?)", f->path);
		return KASLR_NODATA;
	}
	if (!f->shoff)
		f->shnum = 0;
	if (f->shnum) {
		if (!(f->sh = malloc((size_t)f->shnum * SH_SIZE))) {
			kaslr_errf(msg, msglen, "out of memory");
			return KASLR_NOMEM;
		}
		if (kaslr_dump_src_read(&f->src, f->shoff, f->sh, (size_t)f->shnum * SH_SIZE) < 0) {
			kaslr_errf(msg, msglen, "%s: the ELF section headers are truncated", f->path);
			return KASLR_CORRUPT;
		}
	}
	if (!(f->ph = malloc((size_t)f->phnum * PH_SIZE))) {
		kaslr_errf(msg, msglen, "out of memory");
		return KASLR_NOMEM;
	}
	if (kaslr_dump_src_read(&f->src, f->phoff, f->ph, (size_t)f->phnum * PH_SIZE) < 0) {
		kaslr_errf(msg, msglen, "%s: the ELF program headers are truncated", f->path);
		return KASLR_CORRUPT;
	}
	for (i = 0; i < f->phnum; i++) {
		uint32_t type = kaslr_le32(phdr(f, i) + PH_TYPE);
		uint64_t off = kaslr_le64(phdr(f, i) + PH_OFFSET), filesz = kaslr_le64(phdr(f, i) + PH_FILESZ);

		if (filesz && (off + filesz < off || off + filesz > f->size)) {
			kaslr_errf(msg, msglen, "%s: program header %u runs past the end of the file "
				   "(a copy cut short?)", f->path, i);
			return KASLR_CORRUPT;
		}
		if (type == PT_NOTE && note < 0) {
			note = (int)i;
		} else if (type != PT_LOAD && type != PT_NOTE && filesz) {
			kaslr_errf(msg, msglen, "%s: program header %u (type %#x) holds data: a layout this "
				   "writer does not know", f->path, i, type);
			return KASLR_NODATA;
		}
	}
	if (note >= 0)
		return read_notes(f, kaslr_le64(phdr(f, note) + PH_OFFSET),
				  kaslr_le64(phdr(f, note) + PH_FILESZ), msg, msglen);
	return KASLR_OK;
}

static enum kaslr_status
parse_kdump(struct fixfile *f, char *msg, size_t msglen)
{
	unsigned char h[DDH_SIZE];
	int32_t version;
	uint32_t sub_blocks;

	if (kaslr_dump_src_read(&f->src, 0, h, sizeof(h)) < 0) {
		kaslr_errf(msg, msglen, "%s: the kdump-compressed header is truncated", f->path);
		return KASLR_CORRUPT;
	}
	version = (int32_t)kaslr_le32(h + DDH_VERSION);
	memcpy(f->uts, h + DDH_UTSNAME, UTS_LEN);
	f->block_size = kaslr_le32(h + DDH_BLOCK_SIZE);
	sub_blocks = kaslr_le32(h + DDH_SUB_HDR_SIZE);
	if (f->block_size < DDH_SIZE || f->block_size > (1u << 20) || (f->block_size & (f->block_size - 1))) {
		kaslr_errf(msg, msglen, "%s: kdump-compressed block size %u is not a page size", f->path,
			   f->block_size);
		return KASLR_CORRUPT;
	}
	// The note area (offset_note/size_note) came with header_version 4
	// (makedumpfile 1.3.5); older files have nowhere to carry a note.
	if (version < 4 || (uint64_t)sub_blocks * f->block_size < KSH_FIX_LEN) {
		kaslr_errf(msg, msglen, "%s: kdump-compressed header version %d has no note area (version 4 "
			   "and later have one): rewrite it with makedumpfile first", f->path, version);
		return KASLR_NODATA;
	}
	f->sub_off = f->block_size;
	if (kaslr_dump_src_read(&f->src, f->sub_off, f->sub, sizeof(f->sub)) < 0) {
		kaslr_errf(msg, msglen, "%s: the kdump-compressed sub-header is truncated", f->path);
		return KASLR_CORRUPT;
	}
	return read_notes(f, kaslr_le64(f->sub + KSH_OFFSET_NOTE), kaslr_le64(f->sub + KSH_SIZE_NOTE), msg,
			  msglen);
}

/* Open @path (for writing when @rw), see through a flattened stream, parse its headers. */
static enum kaslr_status
fix_open(struct fixfile *f, const char *path, int rw, char *msg, size_t msglen)
{
	unsigned char magic[16];
	char err[KASLR_ERRLEN];

	memset(f, 0, sizeof(*f));
	f->path = path;
	if ((f->src.fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0) {
		kaslr_errf(msg, msglen, "%s: cannot open%s: %s", path, rw ? " for writing" : "", strerror(errno));
		return KASLR_NODATA;
	}
	if (kaslr_dump_pread(f->src.fd, magic, sizeof(magic), 0) < 0) {
		kaslr_errf(msg, msglen, "%s: too short to be a dump", path);
		return KASLR_NODATA;
	}
	if (kaslr_dump_is_flat(magic, sizeof(magic))) {
		if (rw) {
			kaslr_errf(msg, msglen, "%s: a flattened dump (makedumpfile -F) cannot be changed in "
				   "place: write a copy, which is reassembled", path);
			return KASLR_NODATA;
		}
		if (kaslr_dump_flat_index(&f->src, path, err, sizeof(err)) < 0) {
			kaslr_errf(msg, msglen, "%s", err);
			return KASLR_CORRUPT;
		}
		if (kaslr_dump_src_read(&f->src, 0, magic, sizeof(magic)) < 0) {
			kaslr_errf(msg, msglen, "%s: the flattened dump does not start with a header", path);
			return KASLR_CORRUPT;
		}
	}
	if (kaslr_dump_src_size(&f->src, &f->size) < 0)
		return io_err(msg, msglen, path, "stat");
	if (!memcmp(magic, ELFMAG, SELFMAG)) {
		f->kind = FIX_ELF;
		return parse_elf(f, msg, msglen);
	}
	if (!memcmp(magic, KDUMP_SIG, 8)) {
		f->kind = FIX_KDUMP;
		return parse_kdump(f, msg, msglen);
	}
	kaslr_errf(msg, msglen, "%s: neither an ELF core nor a kdump-compressed dump", path);
	return KASLR_NODATA;
}

/* ---- the new notes ---- */

static void
note_put(unsigned char *p, size_t *len, const void *name, uint32_t namesz, uint32_t type, const void *desc,
	 uint32_t descsz)
{
	size_t n = *len;

	put_le32(p + n, namesz);
	put_le32(p + n + 4, descsz);
	put_le32(p + n + 8, type);
	n += 12;
	memset(p + n, 0, round_up(namesz, 4));
	memcpy(p + n, name, namesz);
	n += round_up(namesz, 4);
	memset(p + n, 0, round_up(descsz, 4));
	memcpy(p + n, desc, descsz);
	n += round_up(descsz, 4);
	*len = n;
}

/*
 * The existing notes but VMCOREINFO ones, then a VMCOREINFO note with
 * @fix's text (name "VMCOREINFO", type 0, as the kernel writes it).
 * @returns the malloc'ed notes, NULL with @msg set.
 */
static unsigned char *
notes_build(const struct fixfile *f, const struct kaslr_fix_in *fix, size_t *len_ret, size_t *desc_off_ret,
	    int *replaced_ret, char *msg, size_t msglen)
{
	struct kaslr_notes_iter it;
	struct kaslr_note n;
	enum kaslr_status st;
	unsigned char *out;
	size_t len = 0;

	*replaced_ret = 0;
	if (fix->vmcoreinfo_len > KASLR_DUMP_MAX_NOTES_LEN / 2) {
		kaslr_errf(msg, msglen, "the vmcoreinfo text is implausibly large");
		return NULL;
	}
	if (!(out = malloc(f->notes_len + 3 * 16 + fix->vmcoreinfo_len + 16))) {
		kaslr_errf(msg, msglen, "out of memory");
		return NULL;
	}
	kaslr_notes_begin(&it, f->notes, f->notes_len);
	while ((st = kaslr_notes_next(&it, &n)) == KASLR_OK) {
		if (kaslr_note_is(&n, "VMCOREINFO")) {
			(*replaced_ret)++;
			continue;
		}
		// A note's padded size never exceeds its bytes in the stream, so
		// the buffer (the stream's length and more) always holds it.
		note_put(out, &len, n.name, n.namesz, n.type, n.desc, n.descsz);
	}
	if (st == KASLR_CORRUPT) {
		kaslr_errf(msg, msglen, "%s: a note of the dump runs past its segment: the notes cannot be "
			   "kept as they are", f->path);
		free(out);
		return NULL;
	}
	*desc_off_ret = len + 12 + 12;	/* header, "VMCOREINFO\0" padded to 12 */
	note_put(out, &len, "VMCOREINFO", 11, 0, fix->vmcoreinfo, (uint32_t)fix->vmcoreinfo_len);
	*len_ret = len;
	return out;
}

/* ---- copying data ---- */

/*
 * Bytes [@from, @to) of @src's real file to @out at @dst (+ the same
 * distance), data extents only: holes are not written, so they stay holes
 * in a file that was sized beforehand.
 */
static int
copy_data(const struct kaslr_dump_src *src, uint64_t from, uint64_t to, int out, uint64_t dst)
{
	static const size_t chunk = 1 << 20;
	unsigned char *buf = NULL;
	uint64_t off = from, a, b;
	int r, use_cfr = !src->recs;

	while (off < to && (r = kaslr_dump_src_data(src, off, &a, &b)) != 0) {
		if (r < 0)
			goto fail;
		if (a >= to)
			break;
		if (b > to)
			b = to;
		while (a < b) {
			size_t n = b - a < chunk ? (size_t)(b - a) : chunk;
			ssize_t got;

			if (use_cfr) {
				loff_t in_off = (loff_t)a, out_off = (loff_t)(dst + (a - from));

				got = copy_file_range(src->fd, &in_off, out, &out_off, n, 0);
				if (got > 0) {
					a += (uint64_t)got;
					continue;
				}
				if (got < 0 && errno == EINTR)
					continue;
				if (got < 0 && errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
				    errno != EOPNOTSUPP && errno != EBADF)
					goto fail;
				use_cfr = 0;	/* not here: read and write */
			}
			if (!buf && !(buf = malloc(chunk))) {
				errno = ENOMEM;
				goto fail;
			}
			if (kaslr_dump_src_read(src, a, buf, n) < 0) {
				errno = EIO;
				goto fail;
			}
			if (pwrite_all(out, buf, n, dst + (a - from)) < 0)
				goto fail;
			a += n;
		}
		off = b;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

/* ---- a copy ---- */

/* Where the copy is written: an unnamed file in @out's directory, else a hidden temporary. */
struct outfile {
	int fd;
	char dir[4096];
	char tmp[8192 + 64];	/* "" for an unnamed (O_TMPFILE) file */
};

static int
out_create(struct outfile *o, const char *out)
{
	char copy[4096], *base;

	kaslr_str_copy(copy, sizeof(copy), out);
	kaslr_str_copy(o->dir, sizeof(o->dir), dirname(copy));
	o->tmp[0] = '\0';
	o->fd = open(o->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
	if (o->fd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	kaslr_str_copy(copy, sizeof(copy), out);
	base = basename(copy);
	snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.kaslr-XXXXXX", o->dir, base);
	if ((o->fd = mkstemp(o->tmp)) < 0) {
		o->tmp[0] = '\0';
		return -1;
	}
	fchmod(o->fd, 0666 & ~(mode_t)0);	/* mkstemp's 0600 would hide a dump that cp would share */
	return 0;
}

/* Give the written file its name @out; @returns 0, or -1 (EEXIST: @out exists and !@force). */
static int
out_commit(struct outfile *o, const char *out, int force)
{
	char proc[64], tmp[4096 + 32];
	int dfd, r;

	if (fsync(o->fd) < 0)
		return -1;
	if (o->tmp[0]) {
		if (!force) {
			if (link(o->tmp, out) < 0)
				return -1;
			unlink(o->tmp);
		} else if (rename(o->tmp, out) < 0) {
			return -1;
		}
		o->tmp[0] = '\0';
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->fd);
		if (!force) {
			r = linkat(o->fd, "", AT_FDCWD, out, AT_EMPTY_PATH);
			if (r < 0 && errno != EEXIST)
				r = linkat(AT_FDCWD, proc, AT_FDCWD, out, AT_SYMLINK_FOLLOW);
			if (r < 0)
				return -1;
		} else {
			/* A name of its own first, then over @out in one rename. */
			snprintf(tmp, sizeof(tmp), "%s.kaslr-%ld", out, (long)getpid());
			r = linkat(o->fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH);
			if (r < 0)
				r = linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW);
			if (r < 0)
				return -1;
			if (rename(tmp, out) < 0) {
				int e = errno;

				unlink(tmp);
				errno = e;
				return -1;
			}
		}
	}
	if ((dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void
out_abandon(struct outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}

/* The ELF copy's header region and the shift of its data (core/dump_fix.h). */
static enum kaslr_status
copy_elf(struct fixfile *f, const struct kaslr_fix_in *fix, int out, char *what, size_t whatlen, char *msg,
	 size_t msglen)
{
	unsigned char *notes = NULL, *hdr = NULL;
	size_t notes_len, desc_off;
	unsigned i, n = 0, nph;
	int replaced, note = -1;
	uint64_t d0 = UINT64_MAX, notes_off, hdr_len, delta, phoff, shoff;
	enum kaslr_status st = KASLR_CORRUPT;

	for (i = 0; i < f->phnum; i++) {
		uint32_t type = kaslr_le32(phdr(f, i) + PH_TYPE);

		if (type == PT_NOTE && note < 0)
			note = (int)i;
		if (type == PT_LOAD && kaslr_le64(phdr(f, i) + PH_FILESZ) && kaslr_le64(phdr(f, i) + PH_OFFSET) < d0)
			d0 = kaslr_le64(phdr(f, i) + PH_OFFSET);
	}
	if (d0 == UINT64_MAX) {
		kaslr_errf(msg, msglen, "%s: the ELF core holds no memory (no PT_LOAD with data)", f->path);
		return KASLR_NODATA;
	}
	if (!(notes = notes_build(f, fix, &notes_len, &desc_off, &replaced, msg, msglen)))
		return KASLR_NOMEM;
	nph = f->phnum + (note < 0);
	// Section data (QEMU's .shstrtab sits at the end) moves with the memory data.
	for (i = 0; i < f->shnum; i++) {
		const unsigned char *sh = f->sh + (size_t)i * SH_SIZE;

		if (kaslr_le32(sh + SH_TYPE) != SHT_NOBITS && kaslr_le64(sh + SH_SIZEF) &&
		    kaslr_le64(sh + SH_OFFSET) < d0) {
			kaslr_errf(msg, msglen, "%s: section %u holds data among the headers: a layout this "
				   "writer does not know", f->path, i);
			free(notes);
			return KASLR_NODATA;
		}
	}
	// The program headers right after the ELF header: makedumpfile reads
	// them there whatever e_phoff says (elf_info.c, get_elf64_phdr), so
	// it cannot read the order QEMU 7.2 and later write (ELF header,
	// section headers, program headers, notes; docs/vmcoreinfo.md).  The
	// section headers follow the program headers, the notes follow them.
	phoff = EH_SIZE;
	shoff = phoff + (uint64_t)nph * PH_SIZE;
	notes_off = round_up(shoff + (uint64_t)f->shnum * SH_SIZE, 8);
	hdr_len = notes_off + notes_len;
	delta = hdr_len > d0 ? round_up(hdr_len - d0, KASLR_PAGE_SIZE) : 0;
	if (!(hdr = calloc(1, hdr_len))) {
		kaslr_errf(msg, msglen, "out of memory");
		st = KASLR_NOMEM;
		goto out;
	}
	memcpy(hdr, f->eh, EH_SIZE);
	put_le64(hdr + EH_PHOFF, phoff);
	if (f->shnum)
		put_le64(hdr + EH_SHOFF, shoff);
	hdr[EH_PHNUM] = (unsigned char)nph;
	hdr[EH_PHNUM + 1] = (unsigned char)(nph >> 8);
	for (i = 0; i < f->shnum; i++) {
		unsigned char *sh = hdr + shoff + (size_t)i * SH_SIZE;

		memcpy(sh, f->sh + (size_t)i * SH_SIZE, SH_SIZE);
		if (kaslr_le32(sh + SH_TYPE) != SHT_NOBITS && kaslr_le64(sh + SH_SIZEF))
			put_le64(sh + SH_OFFSET, kaslr_le64(sh + SH_OFFSET) + delta);
	}
	// crash takes the first program header for the PT_NOTE (netdump.c).
	{
		unsigned char *p = hdr + phoff;

		if (note >= 0)
			memcpy(p, phdr(f, note), PH_SIZE);
		else
			put_le32(p + PH_TYPE, PT_NOTE);
		put_le64(p + PH_OFFSET, notes_off);
		put_le64(p + PH_FILESZ, notes_len);
		put_le64(p + PH_MEMSZ, notes_len);
		n = 1;
	}
	for (i = 0; i < f->phnum; i++) {
		unsigned char *p = hdr + phoff + (size_t)n * PH_SIZE;

		if ((int)i == note)
			continue;
		memcpy(p, phdr(f, i), PH_SIZE);
		if (kaslr_le32(p + PH_TYPE) == PT_LOAD)
			put_le64(p + PH_OFFSET, kaslr_le64(p + PH_OFFSET) + delta);
		n++;
	}
	memcpy(hdr + notes_off, notes, notes_len);
	if (ftruncate(out, (off_t)(f->size + delta)) < 0 || pwrite_all(out, hdr, hdr_len, 0) < 0 ||
	    copy_data(&f->src, d0, f->size, out, d0 + delta) < 0) {
		io_err(msg, msglen, "the copy", "write");
		goto out;
	}
	kaslr_errf(what, whatlen, "ELF core, %s VMCOREINFO note (%zu bytes of text)%s%s",
		   replaced ? "the dump's" : "a", fix->vmcoreinfo_len, replaced ? " replaced" : " added",
		   note < 0 ? ", with a new PT_NOTE" : "");
	st = KASLR_OK;
out:
	free(hdr);
	free(notes);
	return st;
}

/*
 * The header's utsname with what QEMU leaves empty filled in from the
 * verified banner, as makedumpfile fills it from the kernel's init_uts_ns:
 * sysname "Linux", release and version ("Linux version RELEASE (...) ...
 * VERSION\n").  libkdumpfile takes the architecture from utsname.machine
 * only when sysname is "Linux" and release, version and machine are set
 * (uts_looks_sane), so drgn 0.3.0 does not open QEMU's kdump files without
 * this.  A field the dump already has is kept.  @returns 1 when @uts
 * differs from the header's.
 */
static int
kdump_uts_new(const struct fixfile *f, const struct kaslr_fix_in *fix, unsigned char *uts)
{
	static const char prefix[] = "Linux version ";
	const char *b = fix->banner, *rel, *rel_end, *ver, *end;
	char field[UTS_FIELD];
	size_t n;

	memcpy(uts, f->uts, UTS_LEN);
	if (!b || fix->banner_len <= sizeof(prefix) || memcmp(b, prefix, sizeof(prefix) - 1))
		return 0;
	end = b + fix->banner_len;
	rel = b + sizeof(prefix) - 1;
	rel_end = memchr(rel, ' ', (size_t)(end - rel));
	// UTS_VERSION follows the compiler's closing parenthesis: ") #1 SMP ...".
	for (ver = rel_end; ver && ver + 2 < end && !(ver[0] == ')' && ver[1] == ' ' && ver[2] == '#'); ver++)
		;
	if (!rel_end || !ver || ver + 2 >= end)
		return 0;
	ver += 2;
	while (end > ver && (end[-1] == '\n' || end[-1] == '\0'))
		end--;
	if ((size_t)(rel_end - rel) >= UTS_FIELD || (size_t)(end - ver) >= UTS_FIELD)
		return 0;
	if (!uts[UTS_SYSNAME * UTS_FIELD])
		memcpy(uts + UTS_SYSNAME * UTS_FIELD, "Linux", 6);
	if (!uts[UTS_RELEASE * UTS_FIELD]) {
		n = (size_t)(rel_end - rel);
		memset(field, 0, sizeof(field));
		memcpy(field, rel, n);
		memcpy(uts + UTS_RELEASE * UTS_FIELD, field, UTS_FIELD);
	}
	if (!uts[UTS_VERSION * UTS_FIELD]) {
		n = (size_t)(end - ver);
		memset(field, 0, sizeof(field));
		memcpy(field, ver, n);
		memcpy(uts + UTS_VERSION * UTS_FIELD, field, UTS_FIELD);
	}
	return memcmp(uts, f->uts, UTS_LEN) != 0;
}

/* New sub-header bytes [0, 64): phys_base, the vmcoreinfo area, the note area. */
static void
kdump_sub_new(const struct fixfile *f, const struct kaslr_fix_in *fix, uint64_t notes_at, size_t notes_len,
	      size_t desc_off, unsigned char *sub)
{
	memcpy(sub, f->sub, KSH_FIX_LEN);
	put_le64(sub + KSH_PHYS_BASE, (uint64_t)fix->phys_base);
	put_le64(sub + KSH_OFFSET_VMCI, notes_at + desc_off);
	put_le64(sub + KSH_SIZE_VMCI, fix->vmcoreinfo_len);
	put_le64(sub + KSH_OFFSET_NOTE, notes_at);
	put_le64(sub + KSH_SIZE_NOTE, notes_len);
}

static enum kaslr_status
copy_kdump(struct fixfile *f, const struct kaslr_fix_in *fix, int out, char *what, size_t whatlen, char *msg,
	   size_t msglen)
{
	unsigned char *notes, sub[KSH_FIX_LEN], uts[UTS_LEN];
	size_t notes_len, desc_off;
	uint64_t at = round_up(f->size, 8);
	int replaced, uts_changed;
	enum kaslr_status st = KASLR_CORRUPT;

	if (!(notes = notes_build(f, fix, &notes_len, &desc_off, &replaced, msg, msglen)))
		return KASLR_NOMEM;
	kdump_sub_new(f, fix, at, notes_len, desc_off, sub);
	uts_changed = kdump_uts_new(f, fix, uts);
	if (ftruncate(out, (off_t)(at + notes_len)) < 0 || copy_data(&f->src, 0, f->size, out, 0) < 0 ||
	    pwrite_all(out, notes, notes_len, at) < 0 || pwrite_all(out, sub, sizeof(sub), f->sub_off) < 0 ||
	    (uts_changed && pwrite_all(out, uts, UTS_LEN, DDH_UTSNAME) < 0)) {
		io_err(msg, msglen, "the copy", "write");
		goto out;
	}
	kaslr_errf(what, whatlen, "kdump-compressed%s, %s VMCOREINFO note (%zu bytes of text)%s, note area at "
		   "the end%s", f->src.recs ? " (reassembled from the flattened stream)" : "",
		   replaced ? "the dump's" : "a", fix->vmcoreinfo_len, replaced ? " replaced" : " added",
		   uts_changed ? ", utsname filled in" : "");
	st = KASLR_OK;
out:
	free(notes);
	return st;
}

enum kaslr_status
kaslr_fix_copy(const char *in, const char *out, int force, const struct kaslr_fix_in *fix, char *msg,
	       size_t msglen)
{
	struct fixfile f;
	struct outfile o = { .fd = -1 };
	struct stat si, so;
	char what[KASLR_ERRLEN];
	enum kaslr_status st;

	if ((st = fix_open(&f, in, 0, msg, msglen)) != KASLR_OK)
		goto out;
	if (stat(out, &so) == 0) {
		if (fstat(f.src.fd, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
			kaslr_errf(msg, msglen, "%s: the copy would overwrite the dump itself (change it in "
				   "place instead)", out);
			st = KASLR_NODATA;
			goto out;
		}
		if (!force) {
			kaslr_errf(msg, msglen, "%s: exists (replace it with --force)", out);
			st = KASLR_NODATA;
			goto out;
		}
	}
	if (out_create(&o, out) < 0) {
		st = io_err(msg, msglen, out, "cannot create");
		goto out;
	}
	st = f.kind == FIX_ELF ? copy_elf(&f, fix, o.fd, what, sizeof(what), msg, msglen)
			       : copy_kdump(&f, fix, o.fd, what, sizeof(what), msg, msglen);
	if (st != KASLR_OK)
		goto out;
	if (out_commit(&o, out, force) < 0) {
		if (errno == EEXIST) {
			kaslr_errf(msg, msglen, "%s: exists (replace it with --force)", out);
			st = KASLR_NODATA;
		} else {
			st = io_err(msg, msglen, out, "write");
		}
		goto out;
	}
	kaslr_errf(msg, msglen, "wrote %s: %s", out, what);
out:
	out_abandon(&o);
	fix_close(&f);
	return st;
}

/* ---- in place ---- */

struct rec_entry {
	uint64_t dst, len;
	uint64_t src;		/* a file offset, or (in_rec) an offset among the saved bytes */
	int in_rec;
};

/* An undo record being put together: entries, and the bytes they keep. */
struct record {
	struct rec_entry ent[MAX_ENTRIES];
	unsigned nr;
	unsigned char *saved;
	size_t saved_len;
	uint64_t at;		/* file offset of the record */
};

/* Keep @len bytes (copied into the record) for @dst; their offset in the record is fixed up when it is laid out. */
static int
rec_save(struct record *r, uint64_t dst, const void *bytes, size_t len)
{
	unsigned char *n;

	if (r->nr == MAX_ENTRIES || !(n = realloc(r->saved, r->saved_len + len)))
		return -1;
	r->saved = n;
	memcpy(r->saved + r->saved_len, bytes, len);
	r->ent[r->nr].dst = dst;
	r->ent[r->nr].len = len;
	r->ent[r->nr].src = r->saved_len;
	r->ent[r->nr].in_rec = 1;
	r->nr++;
	r->saved_len += len;
	return 0;
}

/* An entry whose bytes already lie in the file (a moved segment). */
static int
rec_ref(struct record *r, uint64_t dst, uint64_t len, uint64_t src)
{
	if (r->nr == MAX_ENTRIES)
		return -1;
	r->ent[r->nr].dst = dst;
	r->ent[r->nr].len = len;
	r->ent[r->nr].src = src;
	r->ent[r->nr].in_rec = 0;
	r->nr++;
	return 0;
}

/* Lay out the record and its footer at r->at and write them; @returns 0 or -1 (errno). */
static int
rec_write(struct record *r, int fd, uint64_t first_size, enum fix_kind kind)
{
	size_t hdr = REC_HDR + (size_t)r->nr * REC_ENT, len = hdr + r->saved_len;
	unsigned char *b = calloc(1, len + FOOT_SIZE), *p;
	unsigned i;
	int ret;

	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(b, REC_MAGIC, 8);
	put_le64(b + 8, first_size);
	put_le32(b + 16, r->nr);
	put_le32(b + 20, kind);
	for (i = 0; i < r->nr; i++) {
		uint64_t src = r->ent[i].in_rec ? r->at + hdr + r->ent[i].src : r->ent[i].src;

		p = b + REC_HDR + (size_t)i * REC_ENT;
		put_le64(p, r->ent[i].dst);
		put_le64(p + 8, r->ent[i].len);
		put_le64(p + 16, src);
	}
	memcpy(b + hdr, r->saved, r->saved_len);
	p = b + len;
	memcpy(p, FOOT_MAGIC, 8);
	put_le64(p + 8, r->at);
	put_le64(p + 16, len);
	put_le32(p + 24, (uint32_t)crc32(0, b, (uInt)len));
	put_le32(p + 28, FIX_VERSION);
	ret = pwrite_all(fd, b, len + FOOT_SIZE, r->at);
	free(b);
	return ret;
}

/* A record as read back: entries checked against the file. */
struct undo {
	uint64_t first_size;
	uint32_t nr;
	enum fix_kind kind;
	unsigned char *rec;	/* the record's bytes */
};

/* @returns 1 with @u filled, 0 when the file has no footer, -1 when it has a damaged one (@msg). */
static int
undo_read(int fd, const char *path, struct undo *u, char *msg, size_t msglen)
{
	unsigned char foot[FOOT_SIZE];
	struct stat st;
	uint64_t size, at, len, i;

	memset(u, 0, sizeof(*u));
	if (fstat(fd, &st) < 0)
		return io_err(msg, msglen, path, "stat"), -1;
	size = (uint64_t)st.st_size;
	if (size < FOOT_SIZE || kaslr_dump_pread(fd, foot, FOOT_SIZE, size - FOOT_SIZE) < 0 ||
	    memcmp(foot, FOOT_MAGIC, 8))
		return 0;
	at = kaslr_le64(foot + 8);
	len = kaslr_le64(foot + 16);
	if (kaslr_le32(foot + 28) != FIX_VERSION || len < REC_HDR || len > (64ULL << 20) || at > size ||
	    at + len != size - FOOT_SIZE)
		goto bad;
	if (!(u->rec = malloc(len))) {
		kaslr_errf(msg, msglen, "out of memory");
		return -1;
	}
	if (kaslr_dump_pread(fd, u->rec, len, at) < 0 || crc32(0, u->rec, (uInt)len) != kaslr_le32(foot + 24) ||
	    memcmp(u->rec, REC_MAGIC, 8))
		goto bad;
	u->first_size = kaslr_le64(u->rec + 8);
	u->nr = kaslr_le32(u->rec + 16);
	u->kind = (enum fix_kind)kaslr_le32(u->rec + 20);
	if (u->first_size > at || u->nr > MAX_ENTRIES || REC_HDR + (uint64_t)u->nr * REC_ENT > len)
		goto bad;
	for (i = 0; i < u->nr; i++) {
		const unsigned char *p = u->rec + REC_HDR + i * REC_ENT;
		uint64_t dst = kaslr_le64(p), n = kaslr_le64(p + 8), src = kaslr_le64(p + 16);

		if (dst + n < dst || dst + n > u->first_size || src < u->first_size || src + n < src ||
		    src + n > size - FOOT_SIZE)
			goto bad;
	}
	return 1;
bad:
	free(u->rec);
	u->rec = NULL;
	kaslr_errf(msg, msglen, "%s: the undo record at its end is damaged: nothing was changed", path);
	return -1;
}

/* Copy @len bytes within the file from @src to @dst. */
static int
move_bytes(int fd, uint64_t src, uint64_t dst, uint64_t len)
{
	// Not copy_data: it skips holes, and here the target may hold data
	// that a hole's zeros must overwrite.
	unsigned char *buf = malloc(1 << 20);
	uint64_t done = 0;

	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	while (done < len) {
		size_t n = len - done < (1 << 20) ? (size_t)(len - done) : (1 << 20);

		if (kaslr_dump_pread(fd, buf, n, src + done) < 0) {
			if (!errno)
				errno = EIO;
			free(buf);
			return -1;
		}
		if (pwrite_all(fd, buf, n, dst + done) < 0) {
			free(buf);
			return -1;
		}
		done += n;
	}
	free(buf);
	return 0;
}

/* Apply a record: each entry, synced, then the cut to the first size. */
static enum kaslr_status
undo_apply(int fd, const char *path, const struct undo *u, char *msg, size_t msglen)
{
	uint32_t i;

	for (i = 0; i < u->nr; i++) {
		const unsigned char *p = u->rec + REC_HDR + (size_t)i * REC_ENT;

		if (move_bytes(fd, kaslr_le64(p + 16), kaslr_le64(p), kaslr_le64(p + 8)) < 0 || fdatasync(fd) < 0)
			return io_err(msg, msglen, path, "restore");
	}
	if (ftruncate(fd, (off_t)u->first_size) < 0 || fsync(fd) < 0)
		return io_err(msg, msglen, path, "restore");
	return KASLR_OK;
}

static int
writable(int fd, const char *path, char *msg, size_t msglen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return io_err(msg, msglen, path, "stat"), 0;
	// root may write a file whose mode says read-only: honour the mode.
	if (!(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH))) {
		kaslr_errf(msg, msglen, "%s: read-only (mode %03o): not changed", path, st.st_mode & 0777);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		kaslr_errf(msg, msglen, "%s: not a regular file: not changed", path);
		return 0;
	}
	return 1;
}

/* Cut off what a failed step 1 appended (errno is kept for the message already written). */
static void
cut_back(int fd, uint64_t size)
{
	int e = errno;

	if (ftruncate(fd, (off_t)size) == 0)
		fsync(fd);
	errno = e;
}

/* Where the next bytes a reader needs start at or after @off, once no PT_LOAD is left there: section data, or the end. */
static uint64_t
data_after(const struct fixfile *f, uint64_t off)
{
	uint64_t end = f->size;
	unsigned i;

	for (i = 0; i < f->shnum; i++) {
		const unsigned char *sh = f->sh + (size_t)i * SH_SIZE;
		uint64_t o = kaslr_le64(sh + SH_OFFSET);

		if (kaslr_le32(sh + SH_TYPE) != SHT_NOBITS && kaslr_le64(sh + SH_SIZEF) && o >= off && o < end)
			end = o;
	}
	if (f->shnum && f->shoff >= off && f->shoff < end)
		end = f->shoff;
	return end;
}

static enum kaslr_status
in_place_elf(struct fixfile *f, const struct kaslr_fix_in *fix, struct record *r, char *what, size_t whatlen,
	     char *msg, size_t msglen)
{
	int fd = f->src.fd, replaced;
	unsigned char *notes = NULL, *window = NULL, orig[KASLR_PAGE_SIZE], mid[KASLR_PAGE_SIZE],
		      after[KASLR_PAGE_SIZE];
	size_t notes_len, desc_off;
	unsigned i, k, order[4096], nl = 0, nmoved = 0;
	uint64_t note_off, note_end, start, room_end, tail, moved = 0, new_off[4096], hdr_end;
	enum kaslr_status st = KASLR_NODATA;

	if (kaslr_le32(phdr(f, 0) + PH_TYPE) != PT_NOTE) {
		kaslr_errf(msg, msglen, "%s: the first program header is not a PT_NOTE (crash reads the notes "
			   "only there): write a copy instead", f->path);
		return KASLR_NODATA;
	}
	note_off = kaslr_le64(phdr(f, 0) + PH_OFFSET);
	note_end = note_off + kaslr_le64(phdr(f, 0) + PH_FILESZ);
	/* The PT_LOADs with data, in file order. */
	for (i = 1; i < f->phnum; i++) {
		if (kaslr_le32(phdr(f, i) + PH_TYPE) != PT_LOAD || !kaslr_le64(phdr(f, i) + PH_FILESZ))
			continue;
		if (nl == sizeof(order) / sizeof(order[0])) {
			kaslr_errf(msg, msglen, "%s: more than %zu PT_LOAD segments: write a copy instead", f->path,
				   sizeof(order) / sizeof(order[0]));
			return KASLR_NODATA;
		}
		for (k = nl++; k && kaslr_le64(phdr(f, order[k - 1]) + PH_OFFSET) > kaslr_le64(phdr(f, i) + PH_OFFSET);
		     k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	if (!nl) {
		kaslr_errf(msg, msglen, "%s: the ELF core holds no memory (no PT_LOAD with data)", f->path);
		return KASLR_NODATA;
	}
	room_end = kaslr_le64(phdr(f, order[0]) + PH_OFFSET);
	/* The room starts after every header and the old notes (which stay, for the undo). */
	start = f->phoff + (uint64_t)f->phnum * PH_SIZE;
	if (note_end > start)
		start = note_end;
	if (f->shnum && f->shoff < room_end && f->shoff + (uint64_t)f->shnum * SH_SIZE > start)
		start = f->shoff + (uint64_t)f->shnum * SH_SIZE;
	if (start > room_end) {
		kaslr_errf(msg, msglen, "%s: the notes do not lie before the memory data: a layout this "
			   "writer does not change in place (write a copy instead)", f->path);
		return KASLR_NODATA;
	}
	start = round_up(start, 8);
	if (!(notes = notes_build(f, fix, &notes_len, &desc_off, &replaced, msg, msglen)))
		return KASLR_NOMEM;
	/* Move the file-first segments out of the way until the notes fit. */
	tail = round_up(f->size, KASLR_PAGE_SIZE);
	while (room_end < start || room_end - start < notes_len) {
		const unsigned char *p;
		uint64_t off, len;

		if (nmoved == nl) {
			kaslr_errf(msg, msglen, "%s: the notes do not fit even with every segment moved: write "
				   "a copy instead", f->path);
			goto out;
		}
		p = phdr(f, order[nmoved]);
		off = kaslr_le64(p + PH_OFFSET);
		len = kaslr_le64(p + PH_FILESZ);
		// Bytes between two segments belong to neither: they join the room.
		moved += len;
		if (moved > KASLR_FIX_MAX_MOVE) {
			kaslr_errf(msg, msglen, "%s: the notes need %" PRIu64 " MiB of memory data moved out of "
				   "their way (at most %llu MiB in place): write a copy instead", f->path,
				   (moved + (1 << 20) - 1) >> 20, KASLR_FIX_MAX_MOVE >> 20);
			goto out;
		}
		// Keep the offset within a page: crash guesses NETDUMP or KDUMP
		// ELF from the first PT_LOAD's alignment, and holes stay aligned.
		new_off[nmoved] = tail + (off & (KASLR_PAGE_SIZE - 1));
		tail = round_up(new_off[nmoved] + len, KASLR_PAGE_SIZE);
		nmoved++;
		room_end = nmoved < nl ? kaslr_le64(phdr(f, order[nmoved]) + PH_OFFSET) : data_after(f, off + len);
		if (nmoved < nl && room_end < off + len) {
			kaslr_errf(msg, msglen, "%s: PT_LOAD segments share file bytes: a layout this writer "
				   "does not change in place (write a copy instead)", f->path);
			goto out;
		}
	}
	/* The undo record: the PT_NOTE header, the bytes the notes cover, the moved data, their headers. */
	if (!(window = malloc(notes_len)) || kaslr_dump_pread(fd, window, notes_len, start) < 0) {
		if (!window) {
			kaslr_errf(msg, msglen, "out of memory");
			st = KASLR_NOMEM;
		} else {
			st = io_err(msg, msglen, f->path, "read");
		}
		goto out;
	}
	/*
	 * The headers as one block [0, hdr_end), written whole: as they are
	 * (orig), with the moved segments pointing at their copies (mid), and
	 * as after (new: the PT_NOTE pointing at the new notes and, where QEMU
	 * put the section headers first, the program headers first, where
	 * makedumpfile reads them whatever e_phoff says).  One write of one
	 * page at most: a killed writer leaves one block or the other.
	 */
	hdr_end = f->phoff + (uint64_t)f->phnum * PH_SIZE;
	if (f->shnum && f->shoff < start && f->shoff + (uint64_t)f->shnum * SH_SIZE > hdr_end)
		hdr_end = f->shoff + (uint64_t)f->shnum * SH_SIZE;
	if (hdr_end > KASLR_PAGE_SIZE) {
		kaslr_errf(msg, msglen, "%s: the headers take more than a page (%u program headers): write a "
			   "copy instead", f->path, f->phnum);
		st = KASLR_NODATA;
		goto out;
	}
	if (kaslr_dump_pread(fd, orig, hdr_end, 0) < 0) {
		st = io_err(msg, msglen, f->path, "read");
		goto out;
	}
	memcpy(mid, orig, hdr_end);
	for (k = 0; k < nmoved; k++)
		put_le64(mid + f->phoff + (uint64_t)order[k] * PH_SIZE + PH_OFFSET, new_off[k]);
	memcpy(after, mid, hdr_end);
	put_le64(after + f->phoff + PH_OFFSET, start);
	put_le64(after + f->phoff + PH_FILESZ, notes_len);
	put_le64(after + f->phoff + PH_MEMSZ, notes_len);
	if (f->shnum && f->shoff == EH_SIZE && f->phoff == EH_SIZE + (uint64_t)f->shnum * SH_SIZE) {
		size_t phlen = (size_t)f->phnum * PH_SIZE, shlen = (size_t)f->shnum * SH_SIZE;

		memcpy(after + EH_SIZE, mid + f->phoff, phlen);
		memcpy(after + EH_SIZE + phlen, orig + f->shoff, shlen);
		put_le64(after + EH_PHOFF, EH_SIZE);
		put_le64(after + EH_SHOFF, EH_SIZE + phlen);
		put_le64(after + EH_SIZE + PH_OFFSET, start);
		put_le64(after + EH_SIZE + PH_FILESZ, notes_len);
		put_le64(after + EH_SIZE + PH_MEMSZ, notes_len);
	}
	r->at = round_up(tail, 8);
	if (rec_save(r, 0, mid, hdr_end) < 0 || rec_save(r, start, window, notes_len) < 0)
		goto nomem;
	for (k = 0; k < nmoved; k++)
		if (rec_ref(r, kaslr_le64(phdr(f, order[k]) + PH_OFFSET), kaslr_le64(phdr(f, order[k]) + PH_FILESZ),
			    new_off[k]) < 0)
			goto nomem;
	if (rec_save(r, 0, orig, hdr_end) < 0)
		goto nomem;

	/* 1. The moved data and the record at the end: the dump opens as before. */
	for (k = 0; k < nmoved; k++) {
		const unsigned char *p = phdr(f, order[k]);

		if (move_bytes(fd, kaslr_le64(p + PH_OFFSET), new_off[k], kaslr_le64(p + PH_FILESZ)) < 0)
			goto cut;
	}
	if (rec_write(r, fd, f->size, FIX_ELF) < 0 || fsync(fd) < 0)
		goto cut;
	/* 2. The moved segments' headers: the same memory, read from the copies. */
	if (nmoved && (pwrite_all(fd, mid, hdr_end, 0) < 0 || fdatasync(fd) < 0))
		goto ioerr;
	/* 3. The notes into the room nothing refers to any more. */
	if (pwrite_all(fd, notes, notes_len, start) < 0 || fdatasync(fd) < 0)
		goto ioerr;
	/* 4. The headers as after: the dump opens with the new notes. */
	if (pwrite_all(fd, after, hdr_end, 0) < 0 || fsync(fd) < 0)
		goto ioerr;
	if (nmoved)
		kaslr_errf(what, whatlen, "ELF core, %s VMCOREINFO note (%zu bytes of text)%s; %u PT_LOAD "
			   "segment%s (%" PRIu64 " KiB) moved to the end to make room", replaced ? "the dump's" : "a",
			   fix->vmcoreinfo_len, replaced ? " replaced" : " added", nmoved, nmoved == 1 ? "" : "s",
			   moved >> 10);
	else
		kaslr_errf(what, whatlen, "ELF core, %s VMCOREINFO note (%zu bytes of text)%s",
			   replaced ? "the dump's" : "a", fix->vmcoreinfo_len, replaced ? " replaced" : " added");
	st = KASLR_OK;
	goto out;
nomem:
	kaslr_errf(msg, msglen, "out of memory");
	st = KASLR_NOMEM;
	goto out;
cut:
	// Nothing refers to what step 1 appended, and there is no record yet:
	// cut it off, so that the file is as it was, byte for byte.
	st = io_err(msg, msglen, f->path, "write");
	cut_back(fd, f->size);
	goto out;
ioerr:
	st = io_err(msg, msglen, f->path, "write");
out:
	free(window);
	free(notes);
	return st;
}

static enum kaslr_status
in_place_kdump(struct fixfile *f, const struct kaslr_fix_in *fix, struct record *r, char *what, size_t whatlen,
	       char *msg, size_t msglen)
{
	unsigned char *notes, sub[KSH_FIX_LEN], uts[UTS_LEN];
	size_t notes_len, desc_off;
	uint64_t at = round_up(f->size, 8);
	int replaced, fd = f->src.fd, uts_changed = kdump_uts_new(f, fix, uts);
	enum kaslr_status st = KASLR_OK;

	if (!(notes = notes_build(f, fix, &notes_len, &desc_off, &replaced, msg, msglen)))
		return KASLR_NOMEM;
	r->at = round_up(at + notes_len, 8);
	/* Undone in this order: the sub-header (the dump opens as before), then the utsname. */
	if (rec_save(r, f->sub_off, f->sub, KSH_FIX_LEN) < 0 ||
	    (uts_changed && rec_save(r, DDH_UTSNAME, f->uts, UTS_LEN) < 0)) {
		kaslr_errf(msg, msglen, "out of memory");
		free(notes);
		return KASLR_NOMEM;
	}
	kdump_sub_new(f, fix, at, notes_len, desc_off, sub);
	/*
	 * 1. The note area and the record at the end; 2. the utsname (a dump
	 * that opens as before, with a name); 3. the sub-header, one write.
	 */
	if (pwrite_all(fd, notes, notes_len, at) < 0 || rec_write(r, fd, f->size, FIX_KDUMP) < 0 || fsync(fd) < 0) {
		st = io_err(msg, msglen, f->path, "write");
		cut_back(fd, f->size);
	} else if ((uts_changed && (pwrite_all(fd, uts, UTS_LEN, DDH_UTSNAME) < 0 || fdatasync(fd) < 0)) ||
		   pwrite_all(fd, sub, sizeof(sub), f->sub_off) < 0 || fsync(fd) < 0)
		st = io_err(msg, msglen, f->path, "write");
	else
		kaslr_errf(what, whatlen, "kdump-compressed, %s VMCOREINFO note (%zu bytes of text)%s, note area "
			   "at the end%s", replaced ? "the dump's" : "a", fix->vmcoreinfo_len,
			   replaced ? " replaced" : " added", uts_changed ? ", utsname filled in" : "");
	free(notes);
	return st;
}

enum kaslr_status
kaslr_fix_in_place(const char *path, const struct kaslr_fix_in *fix, char *msg, size_t msglen)
{
	struct fixfile f;
	struct record *r = NULL;
	struct undo u;
	char what[KASLR_ERRLEN];
	enum kaslr_status st;
	int has;

	if ((st = fix_open(&f, path, 1, msg, msglen)) != KASLR_OK)
		goto out;
	if (!writable(f.src.fd, path, msg, msglen)) {
		st = KASLR_NODATA;
		goto out;
	}
	if ((has = undo_read(f.src.fd, path, &u, msg, msglen)) != 0) {
		free(u.rec);
		if (has > 0)
			kaslr_errf(msg, msglen, "%s: already changed in place and not restored: restore it first",
				   path);
		st = has > 0 ? KASLR_NODATA : KASLR_CORRUPT;
		goto out;
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		kaslr_errf(msg, msglen, "out of memory");
		st = KASLR_NOMEM;
		goto out;
	}
	st = f.kind == FIX_ELF ? in_place_elf(&f, fix, r, what, sizeof(what), msg, msglen)
			       : in_place_kdump(&f, fix, r, what, sizeof(what), msg, msglen);
	if (st == KASLR_OK)
		kaslr_errf(msg, msglen, "changed %s in place: %s; the undo record is at its end", path, what);
out:
	if (r)
		free(r->saved);
	free(r);
	fix_close(&f);
	return st;
}

enum kaslr_status
kaslr_fix_restore(const char *path, char *msg, size_t msglen)
{
	struct undo u;
	enum kaslr_status st;
	int fd, has;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		kaslr_errf(msg, msglen, "%s: cannot open for writing: %s", path, strerror(errno));
		return KASLR_NODATA;
	}
	if (!writable(fd, path, msg, msglen)) {
		close(fd);
		return KASLR_NODATA;
	}
	has = undo_read(fd, path, &u, msg, msglen);
	if (has <= 0) {
		if (!has)
			kaslr_errf(msg, msglen, "%s: carries no undo record (not changed in place, or restored "
				   "already)", path);
		close(fd);
		return has ? KASLR_CORRUPT : KASLR_NOTFOUND;
	}
	st = undo_apply(fd, path, &u, msg, msglen);
	if (st == KASLR_OK)
		kaslr_errf(msg, msglen, "restored %s: %u piece%s put back, cut to its first %" PRIu64 " bytes",
			   path, u.nr, u.nr == 1 ? "" : "s", u.first_size);
	free(u.rec);
	close(fd);
	return st;
}

int
kaslr_fix_changed(const char *path)
{
	struct undo u;
	char msg[KASLR_ERRLEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC), has;

	if (fd < 0)
		return -1;
	has = undo_read(fd, path, &u, msg, sizeof(msg));
	free(u.rec);
	close(fd);
	return has;
}
