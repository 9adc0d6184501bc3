/*
 * vmcoreinfo.c - vmcoreinfo text in and out, no crash dependency
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The kernel builds the text with the VMCOREINFO_* macros
 * (include/linux/vmcore_info.h since 6.9, include/linux/crash_core.h
 * before): one "KEY=VALUE\n" per line, SYMBOL() and KERNELOFFSET as bare
 * lowercase hex ("%lx"), NUMBER() as signed decimal ("%ld"), SIZE(),
 * OFFSET() and LENGTH() as unsigned decimal ("%lu").  The text sits in a
 * zeroed page, so it ends at the first NUL.  Parsing and formatting use the
 * same conventions so that what kaslr -D writes parses back unchanged.
 * This is the codec only; the rebuild from type information is
 * core/vmci_rebuild.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "vmcoreinfo.h"
#include "core/notes.h"

/* Append one entry, taking copies of @key[0..klen) and @value[0..vlen). */
static int vmci_append(struct kaslr_vmci *vmci, const char *key, size_t klen, const char *value,
		       size_t vlen)
{
	struct kaslr_vmci_entry *e;
	char *k, *v;

	if (vmci->n == vmci->cap) {
		int cap = vmci->cap ? vmci->cap * 2 : 64;

		e = realloc(vmci->e, (size_t)cap * sizeof(*e));
		if (!e)
			return -1;
		vmci->e = e;
		vmci->cap = cap;
	}
	k = malloc(klen + 1);
	v = malloc(vlen + 1);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	memcpy(k, key, klen);
	k[klen] = '\0';
	memcpy(v, value, vlen);
	v[vlen] = '\0';
	vmci->e[vmci->n].key = k;
	vmci->e[vmci->n].value = v;
	vmci->n++;
	return 0;
}

/**
 * kaslr_vmci_parse - parse vmcoreinfo text
 *
 * Only lines ended by '\n' count: whatever follows the last newline (up to
 * a NUL or @len) is ignored, because a copy cut off mid-line would
 * otherwise yield a shortened value ("KERNELOFFSET=1a0" of "1a000000").
 * Empty lines are skipped; any other line must be "KEY=VALUE" with a
 * non-empty key and printable ASCII only.
 */
enum kaslr_status kaslr_vmci_parse(const char *text, size_t len, struct kaslr_vmci *vmci_ret,
				   char *err, size_t errlen)
{
	const char *end, *p, *nul;
	int lineno = 0;

	memset(vmci_ret, 0, sizeof(*vmci_ret));
	if (!text) {
		kaslr_errf(err, errlen, "no vmcoreinfo text");
		return KASLR_CORRUPT;
	}
	nul = memchr(text, '\0', len);
	end = nul ? nul : text + len;

	for (p = text; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq, *q;

		if (!nl)
			break;	/* unterminated tail: ignored */
		lineno++;
		if (nl == p) {
			p = nl + 1;
			continue;
		}
		for (q = p; q < nl; q++) {
			unsigned char c = (unsigned char)*q;

			if (c < 0x20 || c > 0x7e) {
				kaslr_errf(err, errlen,
					    "vmcoreinfo line %d: non-printable byte 0x%02x at column %d",
					    lineno, c, (int)(q - p) + 1);
				kaslr_vmci_free(vmci_ret);
				return KASLR_CORRUPT;
			}
		}
		eq = memchr(p, '=', (size_t)(nl - p));
		if (!eq || eq == p) {
			kaslr_errf(err, errlen, "vmcoreinfo line %d: '%.*s' is not KEY=VALUE", lineno,
				    (int)(nl - p > 40 ? 40 : nl - p), p);
			kaslr_vmci_free(vmci_ret);
			return KASLR_CORRUPT;
		}
		if (vmci_append(vmci_ret, p, (size_t)(eq - p), eq + 1, (size_t)(nl - eq - 1))) {
			kaslr_errf(err, errlen, "out of memory parsing vmcoreinfo");
			kaslr_vmci_free(vmci_ret);
			return KASLR_NOMEM;
		}
		p = nl + 1;
	}
	if (!vmci_ret->n || strcmp(vmci_ret->e[0].key, "OSRELEASE")) {
		kaslr_errf(err, errlen, "vmcoreinfo text does not start with an OSRELEASE= line");
		kaslr_vmci_free(vmci_ret);
		return KASLR_CORRUPT;
	}
	return KASLR_OK;
}

void kaslr_vmci_free(struct kaslr_vmci *vmci)
{
	int i;

	if (!vmci)
		return;
	for (i = 0; i < vmci->n; i++) {
		free(vmci->e[i].key);
		free(vmci->e[i].value);
	}
	free(vmci->e);
	memset(vmci, 0, sizeof(*vmci));
}

const char *kaslr_vmci_get(const struct kaslr_vmci *vmci, const char *key)
{
	int i;

	for (i = 0; i < vmci->n; i++)
		if (!strcmp(vmci->e[i].key, key))
			return vmci->e[i].value;
	return NULL;
}

/* Bare hex as SYMBOL()/KERNELOFFSET print it; a 0x prefix is tolerated. */
static int parse_hex(const char *s, uint64_t *val_ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || *end || end == s)
		return -1;
	*val_ret = v;
	return 0;
}

/*
 * Signed decimal as NUMBER() prints it ("%ld").  A few NUMBER() keys hold
 * addresses some tools write in hex, so "0x"/"-0x" is accepted too; a bare
 * leading zero is never octal.
 */
static int parse_signed(const char *s, int64_t *val_ret)
{
	const char *p = s;
	int neg = 0, base = 10;
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return -1;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p || *p == '-' || *p == '+' || *p == ' ')
		return -1;
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno || *end || end == p)
		return -1;
	if (neg) {
		if (v > (unsigned long long)INT64_MAX + 1)
			return -1;
		*val_ret = v == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		/* Hex NUMBER()s are addresses: keep their bits even above INT64_MAX. */
		if (base == 10 && v > INT64_MAX)
			return -1;
		*val_ret = (int64_t)v;
	}
	return 0;
}

int kaslr_vmci_kernel_offset(const struct kaslr_vmci *vmci, uint64_t *offset_ret)
{
	return parse_hex(kaslr_vmci_get(vmci, "KERNELOFFSET"), offset_ret);
}

int kaslr_vmci_placement(const struct kaslr_vmci *vmci, int64_t *val_ret)
{
	/* An x86_64 text has NUMBER(phys_base), an arm64 one NUMBER(kimage_voffset); never both. */
	if (kaslr_vmci_get(vmci, "NUMBER(phys_base)"))
		return kaslr_vmci_number(vmci, "phys_base", val_ret);
	return kaslr_vmci_number(vmci, "kimage_voffset", val_ret);
}

int kaslr_vmci_symbol(const struct kaslr_vmci *vmci, const char *name, uint64_t *val_ret)
{
	char key[160];

	if ((size_t)snprintf(key, sizeof(key), "SYMBOL(%s)", name) >= sizeof(key))
		return -1;
	return parse_hex(kaslr_vmci_get(vmci, key), val_ret);
}

int kaslr_vmci_number(const struct kaslr_vmci *vmci, const char *name, int64_t *val_ret)
{
	char key[160];

	if ((size_t)snprintf(key, sizeof(key), "NUMBER(%s)", name) >= sizeof(key))
		return -1;
	return parse_signed(kaslr_vmci_get(vmci, key), val_ret);
}

/* write(2) all of @buf, retrying short writes; -1 with errno set on failure. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The directory part of @path ("." when it has none), in @buf. */
static void dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int kaslr_write_text_file(const char *path, const char *text, char *err, size_t errlen)
{
	size_t len = strlen(text);
	char *target = NULL, *tmp = NULL, dir[4096];
	struct stat st;
	mode_t mode, mask;
	int fd = -1, dfd, e = 0;

	/* Through a symlink to the file it names; keep an existing file's mode. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		target = realpath(path, NULL);
	if (!target)
		target = strdup(path);
	if (target)
		tmp = malloc(strlen(target) + 16);
	if (!target || !tmp) {
		kaslr_errf(err, errlen, "%s: out of memory", path);
		free(target);
		return -1;
	}
	mask = umask(0);
	umask(mask);
	mode = stat(target, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777 : 0666 & ~mask;
	snprintf(tmp, strlen(target) + 16, "%s.tmp.XXXXXX", target);
	if ((fd = mkstemp(tmp)) < 0) {
		kaslr_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		free(tmp);
		free(target);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, text, len) < 0 ||
	    (len && text[len - 1] != '\n' && write_all(fd, "\n", 1) < 0) || fsync(fd) < 0)
		e = errno ? errno : EIO;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, target) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		kaslr_errf(err, errlen, "cannot write %s: %s", path, strerror(e));
	} else {
		/* The rename itself survives a power loss once its directory is synced. */
		dir_of(target, dir, sizeof(dir));
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(tmp);
	free(target);
	return e ? -1 : 0;
}

int kaslr_vmci_agrees(const char *text, size_t len, const char *osrelease, const char *build_id,
		      uint64_t kernel_offset, int64_t phys_base, char *why, size_t whylen)
{
	struct kaslr_vmci v;
	char err[KASLR_ERRLEN];
	const char *rel, *id;
	uint64_t ko;
	int64_t pb;
	int ok = 0;

	if (kaslr_vmci_parse(text, len, &v, err, sizeof(err)) != KASLR_OK) {
		kaslr_errf(why, whylen, "it does not parse (%.200s)", err);
		return 0;
	}
	rel = kaslr_vmci_get(&v, "OSRELEASE");
	id = kaslr_vmci_get(&v, "BUILD-ID");
	if (!rel || strcmp(rel, osrelease))
		kaslr_errf(why, whylen, "its OSRELEASE is %.80s, the vmlinux is %.80s", rel ? rel : "missing",
			    osrelease);
	else if (id && build_id && *build_id && strcasecmp(id, build_id))
		kaslr_errf(why, whylen, "its BUILD-ID %.48s is not the vmlinux's %.48s", id, build_id);
	else if (kaslr_vmci_kernel_offset(&v, &ko) ? kernel_offset != 0 : ko != kernel_offset)
		ok = -1, kaslr_errf(why, whylen, "its KERNELOFFSET is %s, not %" PRIx64,
				     kaslr_vmci_get(&v, "KERNELOFFSET") ? kaslr_vmci_get(&v, "KERNELOFFSET") : "missing",
				     kernel_offset);
	else if (!kaslr_vmci_placement(&v, &pb) && pb != phys_base && kaslr_vmci_get(&v, "NUMBER(phys_base)"))
		ok = -1, kaslr_errf(why, whylen, "its NUMBER(phys_base) is %" PRId64 ", not %" PRId64,
				     pb, phys_base);
	else if (!kaslr_vmci_placement(&v, &pb) && pb != phys_base)
		ok = -1, kaslr_errf(why, whylen, "its NUMBER(kimage_voffset) is 0x%" PRIx64 ", not 0x%" PRIx64,
				     (uint64_t)pb, (uint64_t)phys_base);
	else
		ok = 1;
	kaslr_vmci_free(&v);
	return ok;
}

/* ---- building ---- */

int kaslr_vmci_add_raw(struct kaslr_vmci *vmci, const char *key, const char *value)
{
	/* A newline would split the line; '=' in a key would move the split. */
	if (!*key || strpbrk(key, "=\n") || strchr(value, '\n'))
		return -1;
	return vmci_append(vmci, key, strlen(key), value, strlen(value));
}

/* "WRAP(name)" = value, both formatted into small buffers. */
static int vmci_add_wrapped(struct kaslr_vmci *vmci, const char *wrap, const char *name,
			    const char *value)
{
	char key[160];

	if ((size_t)snprintf(key, sizeof(key), "%s(%s)", wrap, name) >= sizeof(key))
		return -1;
	return kaslr_vmci_add_raw(vmci, key, value);
}

/* VMCOREINFO_SYMBOL(): "SYMBOL(%s)=%lx\n". */
int kaslr_vmci_add_symbol(struct kaslr_vmci *vmci, const char *name, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIx64, value);
	return vmci_add_wrapped(vmci, "SYMBOL", name, v);
}

/* VMCOREINFO_NUMBER(): "NUMBER(%s)=%ld\n". */
int kaslr_vmci_add_number(struct kaslr_vmci *vmci, const char *name, int64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRId64, value);
	return vmci_add_wrapped(vmci, "NUMBER", name, v);
}

/* VMCOREINFO_SIZE(): "SIZE(%s)=%lu\n". */
int kaslr_vmci_add_size(struct kaslr_vmci *vmci, const char *name, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	return vmci_add_wrapped(vmci, "SIZE", name, v);
}

/* VMCOREINFO_OFFSET(): "OFFSET(%s.%s)=%lu\n"; @type_field is "struct.field". */
int kaslr_vmci_add_offset(struct kaslr_vmci *vmci, const char *type_field, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	return vmci_add_wrapped(vmci, "OFFSET", type_field, v);
}

/* VMCOREINFO_LENGTH(): "LENGTH(%s)=%lu\n". */
int kaslr_vmci_add_length(struct kaslr_vmci *vmci, const char *name, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	return vmci_add_wrapped(vmci, "LENGTH", name, v);
}

/* arch_crash_save_vmcoreinfo(): "KERNELOFFSET=%lx\n". */
int kaslr_vmci_add_kernel_offset(struct kaslr_vmci *vmci, uint64_t offset)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIx64, offset);
	return kaslr_vmci_add_raw(vmci, "KERNELOFFSET", v);
}

char *kaslr_vmci_format(const struct kaslr_vmci *vmci)
{
	size_t len = 1, off = 0;
	char *out;
	int i;

	for (i = 0; i < vmci->n; i++)
		len += strlen(vmci->e[i].key) + strlen(vmci->e[i].value) + 2;
	out = malloc(len);
	if (!out)
		return NULL;
	for (i = 0; i < vmci->n; i++) {
		size_t kl = strlen(vmci->e[i].key), vl = strlen(vmci->e[i].value);

		memcpy(out + off, vmci->e[i].key, kl);
		off += kl;
		out[off++] = '=';
		memcpy(out + off, vmci->e[i].value, vl);
		off += vl;
		out[off++] = '\n';
	}
	out[off] = '\0';
	return out;
}

/* ---- finding a note ---- */

/* The walk, and what it tolerates, is core/notes.c's. */
enum kaslr_status kaslr_vmci_from_notes(const void *notes, size_t len, char **text_ret)
{
	struct kaslr_notes_iter it;
	struct kaslr_note n;
	enum kaslr_status st;

	*text_ret = NULL;
	if (!notes)
		return KASLR_NODATA;
	kaslr_notes_begin(&it, notes, len);
	while ((st = kaslr_notes_next(&it, &n)) == KASLR_OK) {
		/* The kernel names it "VMCOREINFO" with its NUL (namesz 11), type 0. */
		if (kaslr_note_is(&n, "VMCOREINFO")) {
			char *t = malloc((size_t)n.descsz + 1);

			if (!t)
				return KASLR_NOMEM;
			memcpy(t, n.desc, n.descsz);
			t[n.descsz] = '\0';
			*text_ret = t;
			return KASLR_OK;
		}
	}
	return st;
}
