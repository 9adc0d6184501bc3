/*
 * dumpfile.c - dump files: format, physical ranges, notes, and page reads
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Formats:
 *  - ELF64 cores (QEMU dump-guest-memory/virsh dump --memory-only, kdump
 *    /proc/vmcore copies): PT_LOAD p_paddr..+p_filesz, PT_NOTE bytes.
 *  - kdump-compressed ("KDUMP   ", makedumpfile -c/-l/-p, QEMU kdump-*):
 *    block 0 disk_dump_header, block 1 kdump_sub_header with offset_note /
 *    size_note (header_version >= 4) and max_mapnr_64 (>= 6).
 *  - makedumpfile's flattened stream (makedumpfile -F; QEMU 7.2 writes its
 *    kdump formats this way): a 4 KiB header, then big-endian
 *    {offset, size} records, each followed by its bytes.  Reads of the
 *    inner file are answered from the records.
 *
 * kaslr_dumpfile_probe reads headers only.  kaslr_dumpread_* is a page
 * reader for the same formats (kdump-compressed: zlib or uncompressed
 * pages): kaslr-find's reader where libkdumpfile cannot go, and kaslr.so's
 * reader of plain ELF dumps (a scan's 1 MiB read is one pread, where
 * crash's reader makes it 256 page-sized ones).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "dumpfile.h"

#define MAX_NOTES_LEN (64u << 20)	/* more is not a note area but garbage */
#define FLAT_SIG		"makedumpfile"
#define FLAT_HEADER_SIZE	4096
#define KDUMP_SIG		"KDUMP   "

/*
 * kdump-compressed layout (makedumpfile's diskdump_mod.h): block 0 struct
 * disk_dump_header, then sub_hdr_size blocks of struct kdump_sub_header,
 * then bitmap_blocks blocks holding two bitmaps of equal size (1st: pages
 * that exist, 2nd: pages that were dumped), then one 24-byte page
 * descriptor per dumped page in pfn order {u64 offset, u32 size, u32 flags,
 * u64 page_flags}, then the page data.  Field offsets are for x86_64.
 */
#define DDH_HEADER_VERSION	8
#define DDH_BLOCK_SIZE		428
#define DDH_SUB_HDR_SIZE	432
#define DDH_BITMAP_BLOCKS	436
#define DDH_MAX_MAPNR		440
#define DDH_NR_CPUS		460
#define DDH_SIZE		464
#define KSH_PHYS_BASE		0
#define KSH_OFFSET_NOTE		48
#define KSH_SIZE_NOTE		56
#define KSH_MAX_MAPNR_64	96
#define KSH_SIZE		104
#define PD_SIZE			24
/* page_desc.flags */
#define PD_ZLIB			0x01
#define PD_LZO			0x02
#define PD_SNAPPY		0x04
#define PD_ZSTD			0x20

static void
set_err(char *err, size_t errlen, const char *fmt, const char *path, const char *what)
{
	snprintf(err, errlen, fmt, path, what);
}

/* ---- the real file's bytes: plain, or through a flattened stream's index ---- */
/*
 * makedumpfile's flattened format (makedumpfile -F; QEMU's kdump-* output):
 * a 4 KiB header starting with "makedumpfile", then records of a
 * big-endian {int64 offset, int64 size} header and @size bytes that belong
 * at @offset of the real file; a record with offset -1 ends the stream.
 * The index below maps real-file offsets to flattened-file positions.
 */

struct flat_rec {
	uint64_t off;		/* offset in the real file */
	uint64_t size;
	uint64_t pos;		/* where the bytes are in the flattened file */
	uint64_t seq;		/* order in the stream: later records win */
};

/* The real file's bytes: a plain file, or a flattened one through its index. */
struct src {
	int fd;
	struct flat_rec *recs;	/* sorted by off; NULL for a plain file */
	size_t nr_recs;
};

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const unsigned char *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static int
pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int
flat_rec_cmp(const void *a, const void *b)
{
	const struct flat_rec *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Max-heap of record indices by stream order (seq): the active record that wins is on top. */
static void
heap_push(size_t *h, size_t *n, const struct flat_rec *r, size_t x)
{
	size_t i = (*n)++;

	while (i && r[h[(i - 1) / 2]].seq < r[x].seq) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static void
heap_pop(size_t *h, size_t *n, const struct flat_rec *r)
{
	size_t i = 0, x = h[--(*n)];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && r[h[c + 1]].seq > r[h[c]].seq)
			c++;
		if (r[h[c]].seq <= r[x].seq)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Records that overlap (a stream that rewrote part of the file: the
 * later one wins, as makedumpfile -R applies them in order) are resolved
 * once, here, into pieces that do not: between two consecutive record
 * boundaries the byte's owner is the active record latest in the stream.
 * A sweep over the boundaries with a heap of the active records, O(n log
 * n); reads then binary-search the pieces like any other index.
 * @returns 0, or -1 out of memory (s->recs unchanged).
 */
static int
flat_resolve(struct src *s)
{
	size_t n = s->nr_recs, nb = 0, i, k, next = 0, nh = 0, np = 0;
	uint64_t *bound = malloc(2 * n * sizeof(*bound));
	size_t *heap = malloc(n * sizeof(*heap));
	struct flat_rec *out = malloc(2 * n * sizeof(*out)), *r = s->recs;

	if (!bound || !heap || !out) {
		free(bound);
		free(heap);
		free(out);
		return -1;
	}
	for (i = 0; i < n; i++) {
		bound[nb++] = r[i].off;
		bound[nb++] = r[i].off + r[i].size;
	}
	qsort(bound, nb, sizeof(*bound), u64_cmp);
	for (k = 0; k + 1 < nb; k++) {
		uint64_t a = bound[k], b = bound[k + 1];
		const struct flat_rec *w;

		if (a == b)
			continue;
		while (next < n && r[next].off <= a)	/* r is sorted by off */
			heap_push(heap, &nh, r, next++);
		while (nh && r[heap[0]].off + r[heap[0]].size <= a)
			heap_pop(heap, &nh, r);
		if (!nh)
			continue;	/* a hole between records */
		w = &r[heap[0]];
		if (np && out[np - 1].seq == w->seq && out[np - 1].off + out[np - 1].size == a) {
			out[np - 1].size += b - a;
			continue;
		}
		out[np].off = a;
		out[np].size = b - a;
		out[np].pos = w->pos + (a - w->off);
		out[np].seq = w->seq;
		np++;
	}
	free(bound);
	free(heap);
	free(s->recs);
	s->recs = out;
	s->nr_recs = np;
	return 0;
}

/* Index a flattened stream.  @returns 0, or -1 with @err set. */
static int
flat_index(struct src *s, const char *path, char *err, size_t errlen)
{
	uint64_t pos = FLAT_HEADER_SIZE, end;
	size_t cap = 0, i;
	struct stat st;

	if (fstat(s->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	end = (uint64_t)st.st_size;
	for (;;) {
		unsigned char h[16];
		uint64_t off, size;

		if (pos + 16 > end || pread_full(s->fd, h, 16, pos) < 0) {
			snprintf(err, errlen, "%s: flattened dump ends without its end marker "
				 "(truncated at %" PRIu64 " bytes?)", path, end);
			return -1;
		}
		off = get_be64(h);
		size = get_be64(h + 8);
		if (off == UINT64_MAX)	/* END_FLAG_FLAT_HEADER (-1) */
			break;
		if ((int64_t)off < 0 || (int64_t)size < 0 || size > end - pos - 16) {
			snprintf(err, errlen, "%s: flattened dump has a corrupt record header at %" PRIu64,
				 path, pos);
			return -1;
		}
		if (s->nr_recs == cap) {
			struct flat_rec *n;

			cap = cap ? cap * 2 : 4096;
			if (!(n = realloc(s->recs, cap * sizeof(*n)))) {
				snprintf(err, errlen, "%s: out of memory indexing the flattened dump", path);
				return -1;
			}
			s->recs = n;
		}
		s->recs[s->nr_recs].off = off;
		s->recs[s->nr_recs].size = size;
		s->recs[s->nr_recs].pos = pos + 16;
		s->recs[s->nr_recs].seq = s->nr_recs;
		s->nr_recs++;
		pos += 16 + size;
	}
	if (!s->nr_recs) {
		snprintf(err, errlen, "%s: flattened dump holds no data", path);
		return -1;
	}
	qsort(s->recs, s->nr_recs, sizeof(s->recs[0]), flat_rec_cmp);
	for (i = 1; i < s->nr_recs; i++)
		if (s->recs[i].off < s->recs[i - 1].off + s->recs[i - 1].size)
			break;
	if (i < s->nr_recs && flat_resolve(s) < 0) {
		snprintf(err, errlen, "%s: out of memory indexing the flattened dump", path);
		return -1;
	}
	return 0;
}

/* Copy the part of record @r that overlaps [off, off+len) into @buf; @returns bytes copied or -1. */
static int64_t
flat_copy(struct src *s, const struct flat_rec *r, uint64_t off, unsigned char *buf, size_t len)
{
	uint64_t lo = off > r->off ? off : r->off;
	uint64_t hi = off + len < r->off + r->size ? off + len : r->off + r->size;

	if (lo >= hi)
		return 0;
	if (pread_full(s->fd, buf + (lo - off), hi - lo, r->pos + (lo - r->off)) < 0)
		return -1;
	return (int64_t)(hi - lo);
}

/* Read [off, off+len) of the real file; @returns 0, or -1 if any byte is missing. */
static int
src_read(struct src *s, uint64_t off, void *buf, size_t len)
{
	size_t lo, hi, i;
	uint64_t filled = 0;

	if (!s->recs)
		return pread_full(s->fd, buf, len, off);
	/* Non-overlapping, sorted: the last record starting at or below @off, then onwards. */
	lo = 0;
	hi = s->nr_recs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->recs[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (i = lo; i < s->nr_recs && s->recs[i].off < off + len; i++) {
		int64_t n = flat_copy(s, &s->recs[i], off, buf, len);

		if (n < 0)
			return -1;
		filled += (uint64_t)n;
	}
	return filled == len ? 0 : -1;
}


/* ---- headers ---- */

static int
range_cmp(const void *a, const void *b)
{
	const struct kaslr_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void
ranges_merge(struct kaslr_dumpfile_info *info)
{
	int i, n = 0;

	if (!info->nr_ranges)
		return;
	qsort(info->ranges, info->nr_ranges, sizeof(info->ranges[0]), range_cmp);
	for (i = 1; i < info->nr_ranges; i++) {
		if (info->ranges[i].start <= info->ranges[n].end) {
			if (info->ranges[i].end > info->ranges[n].end)
				info->ranges[n].end = info->ranges[i].end;
		} else {
			info->ranges[++n] = info->ranges[i];
		}
	}
	info->nr_ranges = n + 1;
}

static enum kaslr_status
probe_elf(struct src *s, const char *path, struct kaslr_dumpfile_info *info, char *err,
	  size_t errlen)
{
	Elf64_Ehdr eh;
	int i;

	if (src_read(s, 0, &eh, sizeof(eh)) < 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		set_err(err, errlen, "%s: %s", path, "not a 64-bit ELF core");
		return KASLR_NODATA;
	}
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64) {
		set_err(err, errlen, "%s: %s", path, "not an x86_64 ELF core");
		return KASLR_NODATA;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum >= PN_XNUM) {
		set_err(err, errlen, "%s: %s", path, "ELF core has no usable program headers");
		return KASLR_CORRUPT;
	}
	if (!(info->ranges = calloc(eh.e_phnum, sizeof(*info->ranges))))
		return KASLR_NOMEM;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (src_read(s, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)) < 0) {
			set_err(err, errlen, "%s: %s", path, "ELF program headers are truncated");
			return KASLR_CORRUPT;
		}
		if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_filesz < ph.p_paddr) {
			set_err(err, errlen, "%s: %s", path,
				"ELF PT_LOAD segment runs past the top of the physical address space");
			return KASLR_CORRUPT;
		}
		if (ph.p_type == PT_LOAD && ph.p_filesz) {
			info->ranges[info->nr_ranges].start = ph.p_paddr;
			info->ranges[info->nr_ranges].end = ph.p_paddr + ph.p_filesz;
			info->nr_ranges++;
		} else if (ph.p_type == PT_NOTE && ph.p_filesz && !info->notes) {
			if (ph.p_filesz > MAX_NOTES_LEN) {
				set_err(err, errlen, "%s: %s", path, "PT_NOTE segment is implausibly large");
				return KASLR_CORRUPT;
			}
			if (!(info->notes = malloc(ph.p_filesz)))
				return KASLR_NOMEM;
			if (src_read(s, ph.p_offset, info->notes, ph.p_filesz) < 0) {
				set_err(err, errlen, "%s: %s", path, "PT_NOTE segment is truncated");
				free(info->notes);
				info->notes = NULL;
				return KASLR_CORRUPT;
			}
			info->notes_len = ph.p_filesz;
		}
	}
	ranges_merge(info);
	return KASLR_OK;
}

static enum kaslr_status
probe_kdump(struct src *s, const char *path, struct kaslr_dumpfile_info *info, char *err,
	    size_t errlen)
{
	unsigned char h[464], sh[104];
	int version;
	uint32_t block_size;
	uint64_t max_mapnr, off_note, size_note;

	if (src_read(s, 0, h, sizeof(h)) < 0) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed header is truncated");
		return KASLR_CORRUPT;
	}
	version = (int)get_le32(h + DDH_HEADER_VERSION);
	block_size = get_le32(h + DDH_BLOCK_SIZE);
	if (block_size < 512 || block_size > (1u << 20) || (block_size & (block_size - 1))) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed header has a bad block_size");
		return KASLR_CORRUPT;
	}
	max_mapnr = get_le32(h + DDH_MAX_MAPNR);
	info->nr_cpus = (int)get_le32(h + DDH_NR_CPUS);
	memset(sh, 0, sizeof(sh));
	if (src_read(s, block_size, sh, version >= 6 ? 104 : 64) < 0) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed sub-header is truncated");
		return KASLR_CORRUPT;
	}
	info->header_phys_base = (int64_t)get_le64(sh + KSH_PHYS_BASE);
	info->has_header_phys_base = 1;
	if (version >= 6 && get_le64(sh + KSH_MAX_MAPNR_64))
		max_mapnr = get_le64(sh + KSH_MAX_MAPNR_64);
	/* MAXPHYADDR is at most 52 bits: 2^40 page frames. */
	if (max_mapnr > (1ULL << 40)) {
		set_err(err, errlen, "%s: %s", path, "kdump-compressed header has an impossible max_mapnr");
		return KASLR_CORRUPT;
	}
	if (max_mapnr) {
		if (!(info->ranges = calloc(1, sizeof(*info->ranges))))
			return KASLR_NOMEM;
		info->ranges[0].start = 0;
		info->ranges[0].end = max_mapnr << 12;
		info->nr_ranges = 1;
	}
	if (version >= 4) {
		off_note = get_le64(sh + KSH_OFFSET_NOTE);
		size_note = get_le64(sh + KSH_SIZE_NOTE);
		if (size_note && size_note <= MAX_NOTES_LEN) {
			if (!(info->notes = malloc(size_note)))
				return KASLR_NOMEM;
			if (src_read(s, off_note, info->notes, size_note) < 0) {
				free(info->notes);
				info->notes = NULL;
				set_err(err, errlen, "%s: %s", path, "kdump-compressed note area is truncated");
				return KASLR_CORRUPT;
			}
			info->notes_len = size_note;
		}
	}
	return KASLR_OK;
}

enum kaslr_status
kaslr_dumpfile_probe(const char *path, struct kaslr_dumpfile_info *info, char *err, size_t errlen)
{
	struct src s = { .fd = -1 };
	unsigned char magic[16];
	enum kaslr_status ret;
	int flat = 0;

	memset(info, 0, sizeof(*info));
	if ((s.fd = open(path, O_RDONLY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return KASLR_NODATA;
	}
	if (pread(s.fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
		set_err(err, errlen, "%s: %s", path, "too short to be a dump");
		close(s.fd);
		return KASLR_CORRUPT;
	}
	if (!memcmp(magic, FLAT_SIG, strlen(FLAT_SIG))) {
		if (flat_index(&s, path, err, errlen) < 0) {
			ret = KASLR_CORRUPT;
			goto out;
		}
		flat = 1;
		if (src_read(&s, 0, magic, sizeof(magic)) < 0) {
			set_err(err, errlen, "%s: %s", path, "flattened dump holds no file header");
			ret = KASLR_CORRUPT;
			goto out;
		}
	}
	if (!memcmp(magic, ELFMAG, SELFMAG)) {
		info->format = flat ? "flattened ELF" : "ELF";
		ret = probe_elf(&s, path, info, err, errlen);
	} else if (!memcmp(magic, KDUMP_SIG, strlen(KDUMP_SIG))) {
		info->format = flat ? "flattened kdump-compressed" : "kdump-compressed";
		ret = probe_kdump(&s, path, info, err, errlen);
	} else {
		set_err(err, errlen, "%s: %s", path,
			"unknown dump format (not ELF, kdump-compressed or flattened)");
		ret = KASLR_NODATA;
	}
out:
	free(s.recs);
	close(s.fd);
	if (ret != KASLR_OK)
		kaslr_dumpfile_free(info);
	return ret;
}

void
kaslr_dumpfile_free(struct kaslr_dumpfile_info *info)
{
	free(info->ranges);
	free(info->notes);
	info->ranges = NULL;
	info->notes = NULL;
	info->nr_ranges = 0;
	info->notes_len = 0;
}

/* ---- pages ---- */

/* ---- ELF cores ---- */

struct elf_seg {
	uint64_t paddr, filesz, memsz, offset;
};

/* ---- kdump-compressed pages ---- */
#define KD_CACHE		64
#define KD_DESC_BATCH		4096

struct kd_cached {
	uint64_t pfn;
	int valid;
	unsigned char *data;
};

struct kdump_rd {
	struct kaslr_range *ranges;	/* runs of the 1st bitmap: the guest's RAM */
	int nr_ranges;
	uint32_t block_size;	/* = page size */
	uint64_t max_mapnr;
	unsigned char *bitmap2;	/* dumped pages */
	uint64_t bitmap_bytes;
	uint64_t *rank;		/* set bits of bitmap2 before each 64-bit word */
	uint64_t desc_off;
	unsigned char *cbuf;	/* compressed page */
	struct kd_cached cache[KD_CACHE];
	const char *unsupported;	/* compression we met but cannot decode */
	/* Page descriptors, read KD_DESC_BATCH at a time (a scan wants them all). */
	unsigned char *descs;
	uint64_t descs_first, descs_n;
	/* The last page's data: zero pages (QEMU, makedumpfile) share one. */
	uint64_t last_off;
	uint32_t last_size, last_flags;
	int last_valid;
	unsigned char *last_data;
};

struct kaslr_dumpread {
	struct src src;
	int is_elf;
	struct elf_seg *segs;
	int nr_segs;
	struct kdump_rd kd;
};

static int
seg_cmp(const void *a, const void *b)
{
	const struct elf_seg *x = a, *y = b;

	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

static int
rd_open_elf(struct kaslr_dumpread *o, const char *path, char *err, size_t errlen)
{
	unsigned char eh[64];
	uint64_t phoff;
	unsigned phnum, phentsize, i;

	if (src_read(&o->src, 0, eh, sizeof(eh)) < 0) {
		snprintf(err, errlen, "%s: ELF header is truncated", path);
		return -1;
	}
	if (eh[4] != 2 /* ELFCLASS64 */ || eh[5] != 1 /* ELFDATA2LSB */) {
		snprintf(err, errlen, "%s: not a little-endian 64-bit ELF core", path);
		return -1;
	}
	phoff = get_le64(eh + 32);
	phentsize = eh[54] | eh[55] << 8;
	phnum = eh[56] | eh[57] << 8;
	if (phentsize != 56 || !phnum || phnum == 0xffff) {
		snprintf(err, errlen, "%s: ELF core has no usable program headers", path);
		return -1;
	}
	if (!(o->segs = calloc(phnum, sizeof(*o->segs)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < phnum; i++) {
		unsigned char ph[56];

		if (src_read(&o->src, phoff + (uint64_t)i * 56, ph, sizeof(ph)) < 0) {
			snprintf(err, errlen, "%s: ELF program headers are truncated", path);
			return -1;
		}
		if (get_le32(ph) != 1 /* PT_LOAD */)
			continue;
		o->segs[o->nr_segs].offset = get_le64(ph + 8);
		o->segs[o->nr_segs].paddr = get_le64(ph + 24);
		o->segs[o->nr_segs].filesz = get_le64(ph + 32);
		o->segs[o->nr_segs].memsz = get_le64(ph + 40);
		o->nr_segs++;
	}
	qsort(o->segs, o->nr_segs, sizeof(o->segs[0]), seg_cmp);
	o->is_elf = 1;
	return 0;
}

static int
rd_read_elf(struct kaslr_dumpread *o, uint64_t paddr, unsigned char *buf, size_t len)
{
	while (len) {
		const struct elf_seg *sg = NULL;
		uint64_t in, n;
		int lo = 0, hi = o->nr_segs;

		while (lo < hi) {
			int mid = (lo + hi) / 2;

			if (o->segs[mid].paddr + o->segs[mid].memsz <= paddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < o->nr_segs && o->segs[lo].paddr <= paddr)
			sg = &o->segs[lo];
		if (!sg)
			return -1;
		in = paddr - sg->paddr;
		n = sg->memsz - in < len ? sg->memsz - in : len;
		if (in >= sg->filesz) {
			memset(buf, 0, n);
		} else {
			uint64_t f = sg->filesz - in < n ? sg->filesz - in : n;

			if (src_read(&o->src, sg->offset + in, buf, f) < 0)
				return -1;
			memset(buf + f, 0, n - f);
		}
		buf += n;
		paddr += n;
		len -= n;
	}
	return 0;
}

/*
 * The runs of set bits in the 1st bitmap (pages the guest had), read in
 * chunks.  A better memory map than [0, max_mapnr) for scans: it leaves
 * out the PCI hole.  @returns 0 or -1.
 */
static int
kdump_ranges(struct kaslr_dumpread *o, uint64_t bitmap1_off)
{
	struct kdump_rd *kd = &o->kd;
	unsigned char buf[65536];
	uint64_t pfn = 0, start = 0;
	int in_run = 0, cap = 0;

	while (pfn < kd->max_mapnr) {
		uint64_t chunk_pfns = (uint64_t)sizeof(buf) * 8, i, n;

		if (chunk_pfns > kd->max_mapnr - pfn)
			chunk_pfns = kd->max_mapnr - pfn;
		n = (chunk_pfns + 7) / 8;
		if (src_read(&o->src, bitmap1_off + pfn / 8, buf, n) < 0)
			return -1;
		for (i = 0; i < chunk_pfns; i++) {
			int set = buf[i / 8] >> (i % 8) & 1;

			if (set && !in_run) {
				start = pfn + i;
				in_run = 1;
			} else if (!set && in_run) {
				if (kd->nr_ranges == cap) {
					struct kaslr_range *r;

					cap = cap ? cap * 2 : 16;
					if (!(r = realloc(kd->ranges, cap * sizeof(*r))))
						return -1;
					kd->ranges = r;
				}
				kd->ranges[kd->nr_ranges].start = start * kd->block_size;
				kd->ranges[kd->nr_ranges].end = (pfn + i) * kd->block_size;
				kd->nr_ranges++;
				in_run = 0;
			}
		}
		pfn += chunk_pfns;
	}
	if (in_run) {
		struct kaslr_range *r = realloc(kd->ranges, (kd->nr_ranges + 1) * sizeof(*r));

		if (!r)
			return -1;
		kd->ranges = r;
		kd->ranges[kd->nr_ranges].start = start * kd->block_size;
		kd->ranges[kd->nr_ranges].end = pfn * kd->block_size;
		kd->nr_ranges++;
	}
	return 0;
}

static int
rd_open_kdump(struct kaslr_dumpread *o, const char *path, char *err, size_t errlen)
{
	struct kdump_rd *kd = &o->kd;
	unsigned char h[DDH_SIZE], sh[KSH_SIZE];
	int version;
	uint32_t sub_hdr_size, bitmap_blocks;
	uint64_t bitmap2_off, words, i, sum = 0;
	struct stat st;

	if (src_read(&o->src, 0, h, sizeof(h)) < 0) {
		snprintf(err, errlen, "%s: kdump-compressed header is truncated", path);
		return -1;
	}
	version = (int)get_le32(h + DDH_HEADER_VERSION);
	kd->block_size = get_le32(h + DDH_BLOCK_SIZE);
	sub_hdr_size = get_le32(h + DDH_SUB_HDR_SIZE);
	bitmap_blocks = get_le32(h + DDH_BITMAP_BLOCKS);
	kd->max_mapnr = get_le32(h + DDH_MAX_MAPNR);
	if (kd->block_size != 4096) {
		snprintf(err, errlen, "%s: kdump-compressed block size %u is not the x86_64 page size",
			 path, kd->block_size);
		return -1;
	}
	if (version >= 6 && src_read(&o->src, kd->block_size, sh, sizeof(sh)) == 0 &&
	    get_le64(sh + KSH_MAX_MAPNR_64))
		kd->max_mapnr = get_le64(sh + KSH_MAX_MAPNR_64);
	kd->bitmap_bytes = (uint64_t)bitmap_blocks / 2 * kd->block_size;
	if (!bitmap_blocks || kd->bitmap_bytes * 8 < kd->max_mapnr) {
		snprintf(err, errlen, "%s: kdump-compressed bitmap (%u blocks) is too small for %" PRIu64
			 " pages", path, bitmap_blocks, kd->max_mapnr);
		return -1;
	}
	/* Only the bits for pfns below max_mapnr count. */
	kd->bitmap_bytes = (kd->max_mapnr + 7) / 8;
	/* Both bitmaps are in the file: a header that says otherwise lies (and would cost GiBs). */
	if (fstat(o->src.fd, &st) < 0 || kd->bitmap_bytes > (uint64_t)st.st_size / 2) {
		snprintf(err, errlen, "%s: kdump-compressed header claims %" PRIu64 " pages, more than "
			 "the file can hold (truncated or corrupt)", path, kd->max_mapnr);
		return -1;
	}
	words = (kd->bitmap_bytes + 7) / 8;
	bitmap2_off = (1 + (uint64_t)sub_hdr_size + bitmap_blocks / 2) * kd->block_size;
	kd->desc_off = (1 + (uint64_t)sub_hdr_size + bitmap_blocks) * kd->block_size;
	if (!(kd->bitmap2 = calloc(words, 8)) || !(kd->rank = calloc(words + 1, 8)) ||
	    !(kd->cbuf = malloc(kd->block_size)) || !(kd->last_data = malloc(kd->block_size)) ||
	    !(kd->descs = malloc((size_t)KD_DESC_BATCH * PD_SIZE))) {
		snprintf(err, errlen, "%s: out of memory for the kdump-compressed bitmap", path);
		return -1;
	}
	if (src_read(&o->src, bitmap2_off, kd->bitmap2, kd->bitmap_bytes) < 0) {
		snprintf(err, errlen, "%s: kdump-compressed bitmap is truncated", path);
		return -1;
	}
	if (kdump_ranges(o, (1 + (uint64_t)sub_hdr_size) * kd->block_size) < 0) {
		snprintf(err, errlen, "%s: kdump-compressed bitmap is truncated", path);
		return -1;
	}
	for (i = 0; i < words; i++) {
		kd->rank[i] = sum;
		sum += (uint64_t)__builtin_popcountll(get_le64(kd->bitmap2 + 8 * i));
	}
	kd->rank[words] = sum;
	for (i = 0; i < KD_CACHE; i++)
		if (!(kd->cache[i].data = malloc(kd->block_size))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

/* Page descriptor number @idx into @pd; @returns 1, or 0 if it cannot be read. */
static int
kd_desc(struct kaslr_dumpread *o, uint64_t idx, unsigned char *pd)
{
	struct kdump_rd *kd = &o->kd;
	uint64_t total = kd->rank[(kd->bitmap_bytes + 7) / 8], n;

	if (kd->descs && idx >= kd->descs_first && idx - kd->descs_first < kd->descs_n) {
		memcpy(pd, kd->descs + (idx - kd->descs_first) * PD_SIZE, PD_SIZE);
		return 1;
	}
	n = total > idx && total - idx < KD_DESC_BATCH ? total - idx : KD_DESC_BATCH;
	if (kd->descs && idx < total &&
	    src_read(&o->src, kd->desc_off + idx * PD_SIZE, kd->descs, n * PD_SIZE) == 0) {
		kd->descs_first = idx;
		kd->descs_n = n;
		memcpy(pd, kd->descs, PD_SIZE);
		return 1;
	}
	/* A short file: the one descriptor, if it is there. */
	return src_read(&o->src, kd->desc_off + idx * PD_SIZE, pd, PD_SIZE) == 0;
}

/* The page with frame @pfn, decompressed; NULL if it is not in the dump. */
static const unsigned char *
kdump_page(struct kaslr_dumpread *o, uint64_t pfn)
{
	struct kdump_rd *kd = &o->kd;
	struct kd_cached *c = &kd->cache[pfn % KD_CACHE];
	uint64_t word, idx, off;
	unsigned char pd[PD_SIZE];
	uint32_t size, flags;

	if (c->valid && c->pfn == pfn)
		return c->data;
	if (pfn >= kd->max_mapnr || !(kd->bitmap2[pfn / 8] & (1u << (pfn % 8))))
		return NULL;
	word = pfn / 64;
	idx = kd->rank[word] +
	      (uint64_t)__builtin_popcountll(get_le64(kd->bitmap2 + 8 * word) & ((1ULL << (pfn % 64)) - 1));
	if (!kd_desc(o, idx, pd))
		return NULL;
	off = get_le64(pd);
	size = get_le32(pd + 8);
	flags = get_le32(pd + 12);
	c->valid = 0;
	if (kd->last_valid && off == kd->last_off && size == kd->last_size && flags == kd->last_flags) {
		memcpy(c->data, kd->last_data, kd->block_size);
		c->pfn = pfn;
		c->valid = 1;
		return c->data;
	}
	if (flags & PD_ZLIB) {
		uLongf dlen = kd->block_size;

		if (size > kd->block_size || src_read(&o->src, off, kd->cbuf, size) < 0 ||
		    uncompress(c->data, &dlen, kd->cbuf, size) != Z_OK || dlen != kd->block_size)
			return NULL;
	} else if (flags & (PD_LZO | PD_SNAPPY | PD_ZSTD)) {
		kd->unsupported = flags & PD_LZO ? "lzo" : flags & PD_SNAPPY ? "snappy" : "zstd";
		return NULL;
	} else {
		if (size != kd->block_size || src_read(&o->src, off, c->data, size) < 0)
			return NULL;
	}
	c->pfn = pfn;
	c->valid = 1;
	memcpy(kd->last_data, c->data, kd->block_size);
	kd->last_off = off;
	kd->last_size = size;
	kd->last_flags = flags;
	kd->last_valid = 1;
	return c->data;
}

static int
rd_read_kdump(struct kaslr_dumpread *o, uint64_t paddr, unsigned char *buf, size_t len)
{
	while (len) {
		uint64_t in = paddr % o->kd.block_size;
		size_t n = o->kd.block_size - in < len ? o->kd.block_size - in : len;
		const unsigned char *page = kdump_page(o, paddr / o->kd.block_size);

		if (!page)
			return -1;
		memcpy(buf, page + in, n);
		buf += n;
		paddr += n;
		len -= n;
	}
	return 0;
}

static void
rd_close(struct kaslr_dumpread *o)
{
	int i;

	if (o->src.fd >= 0)
		close(o->src.fd);
	free(o->src.recs);
	free(o->segs);
	free(o->kd.bitmap2);
	free(o->kd.rank);
	free(o->kd.cbuf);
	free(o->kd.last_data);
	free(o->kd.descs);
	free(o->kd.ranges);
	for (i = 0; i < KD_CACHE; i++)
		free(o->kd.cache[i].data);
	memset(o, 0, sizeof(*o));
	o->src.fd = -1;
}

/* Open @path with the built-in reader.  @returns 0, or -1 with @err set. */
static int
rd_open(struct kaslr_dumpread *o, const char *path, char *err, size_t errlen)
{
	unsigned char magic[16];

	memset(o, 0, sizeof(*o));
	if ((o->src.fd = open(path, O_RDONLY)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (pread_full(o->src.fd, magic, sizeof(magic), 0) < 0) {
		snprintf(err, errlen, "%s: too short to be a dump", path);
		return -1;
	}
	if (!memcmp(magic, FLAT_SIG, strlen(FLAT_SIG))) {
		if (flat_index(&o->src, path, err, errlen) < 0)
			return -1;
		if (src_read(&o->src, 0, magic, sizeof(magic)) < 0) {
			snprintf(err, errlen, "%s: flattened dump holds no file header", path);
			return -1;
		}
	}
	if (!memcmp(magic, "\177ELF", 4))
		return rd_open_elf(o, path, err, errlen);
	if (!memcmp(magic, KDUMP_SIG, strlen(KDUMP_SIG)))
		return rd_open_kdump(o, path, err, errlen);
	snprintf(err, errlen, "%s: the built-in reader knows ELF and kdump-compressed dumps "
		 "(plain or flattened) only", path);
	return -1;
}

static int
rd_read(struct kaslr_dumpread *o, uint64_t paddr, void *buf, size_t len)
{
	return o->is_elf ? rd_read_elf(o, paddr, buf, len) : rd_read_kdump(o, paddr, buf, len);
}

/* ---- public reader ---- */

enum kaslr_status
kaslr_dumpread_open(const char *path, struct kaslr_dumpread **rd_ret, char *err, size_t errlen)
{
	struct kaslr_dumpread *rd;

	*rd_ret = NULL;
	if (!(rd = calloc(1, sizeof(*rd)))) {
		snprintf(err, errlen, "out of memory");
		return KASLR_NOMEM;
	}
	if (rd_open(rd, path, err, errlen) < 0) {
		rd_close(rd);
		free(rd);
		return KASLR_CORRUPT;
	}
	*rd_ret = rd;
	return KASLR_OK;
}

int
kaslr_dumpread_phys(void *priv, uint64_t paddr, void *buf, size_t len)
{
	return rd_read(priv, paddr, buf, len);
}

int
kaslr_dumpread_is_plain_elf(const struct kaslr_dumpread *rd)
{
	return rd->is_elf && !rd->src.recs;
}

const char *
kaslr_dumpread_unsupported(const struct kaslr_dumpread *rd)
{
	return rd->kd.unsupported;
}

void
kaslr_dumpread_refine_ranges(struct kaslr_dumpread *rd, struct kaslr_dumpfile_info *info)
{
	if (!rd || !rd->kd.nr_ranges)
		return;
	free(info->ranges);
	info->ranges = rd->kd.ranges;
	info->nr_ranges = rd->kd.nr_ranges;
	rd->kd.ranges = NULL;
	rd->kd.nr_ranges = 0;
}

uint64_t
kaslr_dumpread_missing(const struct kaslr_dumpread *rd)
{
	struct stat st;
	uint64_t missing = 0, size;
	int i;

	if (!kaslr_dumpread_is_plain_elf(rd) || fstat(rd->src.fd, &st) < 0)
		return 0;
	size = (uint64_t)st.st_size;
	for (i = 0; i < rd->nr_segs; i++) {
		const struct elf_seg *sg = &rd->segs[i];

		if (sg->offset >= size)
			missing += sg->filesz;
		else if (sg->filesz > size - sg->offset)
			missing += sg->filesz - (size - sg->offset);
	}
	return missing;
}

void
kaslr_dumpread_close(struct kaslr_dumpread *rd)
{
	if (!rd)
		return;
	rd_close(rd);
	free(rd);
}
