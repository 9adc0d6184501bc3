/*
 * test_vmcoreinfo.c - vmcoreinfo parsing and formatting
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "vmcoreinfo.h"

static const char KERNEL_TEXT[] =
	"OSRELEASE=6.1.0-26-cloud-amd64\n"
	"BUILD-ID=6e1b1f44a5b2b3f2a0e9c0a6e1b1f44a5b2b3f2a\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffffa7c13440\n"
	"OFFSET(uts_namespace.name)=4\n"
	"SYMBOL(_stext)=ffffffffa5a00000\n"
	"NUMBER(phys_base)=-503316480\n"
	"SYMBOL(init_top_pgt)=ffffffffa7a0a000\n"
	"NUMBER(pgtable_l5_enabled)=0\n"
	"KERNELOFFSET=24a00000\n"
	"NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n"
	"NUMBER(sme_mask)=0\n";

static int t_parse_kernel_text(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci v;
	char err[200];
	uint64_t off, sym;
	int64_t pb, n;
	int ret = 0;

	(void)rnd;
	FAIL_IF(kaslr_vmci_parse(KERNEL_TEXT, sizeof(KERNEL_TEXT) - 1, &v, err, sizeof(err)) != KASLR_OK,
		"%s", err);
	FAIL_IF(v.n != 12, "%d entries", v.n);
	FAIL_IF(kaslr_vmci_kernel_offset(&v, &off) || off != 0x24a00000ULL, "KERNELOFFSET " X64, off);
	FAIL_IF(kaslr_vmci_placement(&v, &pb) || pb != -503316480, "phys_base %" PRId64, pb);
	FAIL_IF(kaslr_vmci_symbol(&v, "_stext", &sym) || sym != 0xffffffffa5a00000ULL, "_stext " X64, sym);
	FAIL_IF(kaslr_vmci_number(&v, "KERNEL_IMAGE_SIZE", &n) || n != 1073741824, "image size");
	FAIL_IF(strcmp(kaslr_vmci_get(&v, "OSRELEASE"), "6.1.0-26-cloud-amd64"), "OSRELEASE");
	FAIL_IF(strcmp(kaslr_vmci_get(&v, "OFFSET(uts_namespace.name)"), "4"), "OFFSET");
out:
	kaslr_vmci_free(&v);
	return ret;
}

/* Build with the add_* helpers from random values, format, parse back. */
static int t_roundtrip(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci a, b;
	uint64_t off = synth_rand(rnd) & 0x3fe00000ULL, sym = 0xffffffff80000000ULL | synth_rand(rnd), got;
	uint64_t sz = synth_rand(rnd) >> 1, ofs = synth_rand(rnd) & 0xffff, len = synth_rand(rnd);
	int64_t pb = (int64_t)synth_rand(rnd), num;
	char *t1 = NULL, *t2 = NULL, err[200];
	int ret = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	FAIL_IF(kaslr_vmci_add_raw(&a, "OSRELEASE", "6.12.9-cloud-amd64") ||
		kaslr_vmci_add_raw(&a, "PAGESIZE", "4096") ||
		kaslr_vmci_add_symbol(&a, "swapper_pg_dir", sym) ||
		kaslr_vmci_add_size(&a, "page", sz) ||
		kaslr_vmci_add_offset(&a, "page.flags", ofs) ||
		kaslr_vmci_add_length(&a, "mem_section", len) ||
		kaslr_vmci_add_number(&a, "phys_base", pb) ||
		kaslr_vmci_add_kernel_offset(&a, off), "add failed");
	t1 = kaslr_vmci_format(&a);
	FAIL_IF(!t1, "format failed");
	FAIL_IF(kaslr_vmci_parse(t1, strlen(t1), &b, err, sizeof(err)) != KASLR_OK, "%s", err);
	FAIL_IF(b.n != a.n, "%d entries, want %d", b.n, a.n);
	FAIL_IF(kaslr_vmci_kernel_offset(&b, &got) || got != off, "KERNELOFFSET " X64 " want " X64, got, off);
	FAIL_IF(kaslr_vmci_placement(&b, &num) || num != pb, "phys_base %" PRId64 " want %" PRId64, num, pb);
	FAIL_IF(kaslr_vmci_symbol(&b, "swapper_pg_dir", &got) || got != sym, "symbol");
	t2 = kaslr_vmci_format(&b);
	FAIL_IF(!t2 || strcmp(t1, t2), "second format differs");
out:
	free(t1);
	free(t2);
	kaslr_vmci_free(&a);
	kaslr_vmci_free(&b);
	return ret;
}

/* The kernel's exact formats: bare lowercase hex, signed and unsigned decimal. */
static int t_formats(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci a, p;
	char *t = NULL, want[512], err[200];
	uint64_t off = (synth_rand(rnd) & 0x1ff) * 0x200000ULL, sym = 0xffffffffa5a00000ULL;
	int64_t pb = -(int64_t)((synth_rand(rnd) & 0xff) * 0x200000), n;
	uint64_t h;
	int ret = 0;

	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	kaslr_vmci_add_raw(&a, "OSRELEASE", "6.1.0");
	kaslr_vmci_add_symbol(&a, "_stext", sym);
	kaslr_vmci_add_number(&a, "phys_base", pb);
	kaslr_vmci_add_size(&a, "page", 64);
	kaslr_vmci_add_offset(&a, "page.flags", 0);
	kaslr_vmci_add_length(&a, "free_area.free_list", 6);
	kaslr_vmci_add_kernel_offset(&a, off);
	t = kaslr_vmci_format(&a);
	snprintf(want, sizeof(want),
		 "OSRELEASE=6.1.0\nSYMBOL(_stext)=ffffffffa5a00000\nNUMBER(phys_base)=%" PRId64 "\n"
		 "SIZE(page)=64\nOFFSET(page.flags)=0\nLENGTH(free_area.free_list)=6\nKERNELOFFSET=%" PRIx64 "\n",
		 pb, off);
	FAIL_IF(!t || strcmp(t, want), "formatted:\n%s\nwant:\n%s", t ? t : "(null)", want);
	/* Decimal NUMBER is never read as hex (QEMU 7.2 bug), hex KERNELOFFSET never as decimal. */
	kaslr_vmci_free(&a);
	FAIL_IF(kaslr_vmci_parse("OSRELEASE=x\nNUMBER(phys_base)=20971520\nKERNELOFFSET=20971520\n"
				 "NUMBER(x)=010\nNUMBER(VMALLOC_START)=0xffffc90000000000\n", 200, &p, err,
				 sizeof(err)) != KASLR_OK, "%s", err);
	FAIL_IF(kaslr_vmci_placement(&p, &n) || n != 20971520, "phys_base %" PRId64, n);
	FAIL_IF(kaslr_vmci_kernel_offset(&p, &h) || h != 0x20971520, "KERNELOFFSET " X64, h);
	FAIL_IF(kaslr_vmci_number(&p, "x", &n) || n != 10, "leading zero read as octal: %" PRId64, n);
	FAIL_IF(kaslr_vmci_number(&p, "VMALLOC_START", &n) || (uint64_t)n != 0xffffc90000000000ULL,
		"hex NUMBER " X64, (uint64_t)n);
out:
	free(t);
	kaslr_vmci_free(&a);
	kaslr_vmci_free(&p);
	return ret;
}

static int t_missing_and_bad_values(uint64_t *rnd, char *why, size_t whylen)
{
	static const char text[] = "OSRELEASE=6.1.0\nKERNELOFFSET=\nNUMBER(phys_base)=12ab\n"
				   "NUMBER(big)=99999999999999999999\nSYMBOL(x)=-1\nSYMBOL(y)=12 \n"
				   "NUMBER(neg)=-9223372036854775808\n";
	struct kaslr_vmci v;
	char err[200];
	uint64_t u;
	int64_t n;
	int ret = 0;

	(void)rnd;
	FAIL_IF(kaslr_vmci_parse(text, sizeof(text) - 1, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	FAIL_IF(!kaslr_vmci_kernel_offset(&v, &u), "empty KERNELOFFSET accepted");
	FAIL_IF(!kaslr_vmci_placement(&v, &n), "12ab accepted as decimal");
	FAIL_IF(!kaslr_vmci_number(&v, "big", &n), "overflow accepted");
	FAIL_IF(!kaslr_vmci_symbol(&v, "x", &u), "negative symbol accepted");
	FAIL_IF(!kaslr_vmci_symbol(&v, "y", &u), "trailing space accepted");
	FAIL_IF(!kaslr_vmci_symbol(&v, "absent", &u) || kaslr_vmci_get(&v, "absent"), "absent key found");
	FAIL_IF(kaslr_vmci_number(&v, "neg", &n) || n != INT64_MIN, "INT64_MIN");
	kaslr_vmci_free(&v);
	FAIL_IF(kaslr_vmci_parse("OSRELEASE=6.1\n", 14, &v, err, sizeof(err)) != KASLR_OK, "%s", err);
	FAIL_IF(!kaslr_vmci_kernel_offset(&v, &u) || !kaslr_vmci_placement(&v, &n), "missing keys found");
out:
	kaslr_vmci_free(&v);
	return ret;
}

/* Stops at NUL; ignores an unterminated tail; strict inside lines. */
static int t_tolerance(uint64_t *rnd, char *why, size_t whylen)
{
	static const char nul_tail[] = "OSRELEASE=6.1\nPAGESIZE=4096\n\0\x01\x02garbage";
	static const char cut[] = "OSRELEASE=6.1\nPAGESIZE=4096\nKERNELOFFSET=1a0";
	static const char blank[] = "OSRELEASE=6.1\n\nPAGESIZE=4096\n";
	const char *bad[] = {
		"OSRELEASE=6.1\nPAGE\x01SIZE=4096\n",
		"OSRELEASE=6.1\nPAGESIZE=4096\r\n",
		"OSRELEASE=6.1\nno equals sign\n",
		"OSRELEASE=6.1\n=value\n",
		"PAGESIZE=4096\nOSRELEASE=6.1\n",
		"",
		"OSRELEASE=6.1",
	};
	struct kaslr_vmci v;
	char err[200];
	uint64_t u;
	size_t i;
	int ret = 0;

	(void)rnd;
	FAIL_IF(kaslr_vmci_parse(nul_tail, sizeof(nul_tail) - 1, &v, err, sizeof(err)) != KASLR_OK || v.n != 2,
		"NUL tail: %s", err);
	kaslr_vmci_free(&v);
	FAIL_IF(kaslr_vmci_parse(cut, sizeof(cut) - 1, &v, err, sizeof(err)) != KASLR_OK || v.n != 2 ||
		!kaslr_vmci_kernel_offset(&v, &u), "cut line: %s", err);
	kaslr_vmci_free(&v);
	FAIL_IF(kaslr_vmci_parse(blank, sizeof(blank) - 1, &v, err, sizeof(err)) != KASLR_OK || v.n != 2,
		"blank line: %s", err);
	kaslr_vmci_free(&v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		FAIL_IF(kaslr_vmci_parse(bad[i], strlen(bad[i]), &v, err, sizeof(err)) != KASLR_CORRUPT,
			"bad text %zu accepted", i);
		FAIL_IF(!err[0] || v.n || v.e, "bad text %zu: no message or entries left", i);
	}
	/* Newlines cannot be smuggled into a line. */
	FAIL_IF(!kaslr_vmci_add_raw(&v, "A", "x\nKERNELOFFSET=0") || !kaslr_vmci_add_raw(&v, "A=B", "1"),
		"newline or '=' accepted");
out:
	kaslr_vmci_free(&v);
	return ret;
}

/*
 * kaslr_vmci_agrees: the kernel's own text at the verified values agrees;
 * any one of KERNELOFFSET, NUMBER(phys_base), OSRELEASE, BUILD-ID changed
 * does not (values: -1, identity: 0), and the reason names the key.
 */
static int t_agrees(uint64_t *rnd, char *why, size_t whylen)
{
	uint64_t off = synth_rand_range(rnd, 1, 500) * 0x200000;
	int64_t pb = ((int64_t)synth_rand_range(rnd, 0, 200) - 100) * 0x200000;
	const char *id = "0123456789abcdef0123456789abcdef01234567";
	char text[1024], reason[256];
	int ret = 0, i, r;
	static const struct {
		const char *key;
		int want;
	} cases[] = { { "KERNELOFFSET", -1 }, { "NUMBER(phys_base)", -1 }, { "OSRELEASE", 0 }, { "BUILD-ID", 0 } };

	snprintf(text, sizeof(text), "OSRELEASE=6.1.0-26-cloud-amd64\nBUILD-ID=%s\nPAGESIZE=4096\n"
		 "NUMBER(phys_base)=%" PRId64 "\nKERNELOFFSET=%" PRIx64 "\n", id, pb, off);
	FAIL_IF(kaslr_vmci_agrees(text, strlen(text), "6.1.0-26-cloud-amd64", id, off, pb, reason, sizeof(reason)) != 1,
		"own text: %s", reason);
	for (i = 0; i < 4; i++) {
		uint64_t o = off;
		int64_t p = pb;
		const char *rel = "6.1.0-26-cloud-amd64", *bid = id;

		if (i == 0)
			o += 0x200000;
		else if (i == 1)
			p -= 0x200000;
		else if (i == 2)
			rel = "6.1.0-27-cloud-amd64";
		else
			bid = "fedcba9876543210fedcba9876543210fedcba98";
		r = kaslr_vmci_agrees(text, strlen(text), rel, bid, o, p, reason, sizeof(reason));
		FAIL_IF(r != cases[i].want || !strstr(reason, cases[i].key), "%s changed: %d '%s'", cases[i].key, r,
			reason);
	}
	/* No BUILD-ID in the vmlinux, no NUMBER(phys_base) in the text (before 4.10): not a disagreement. */
	snprintf(text, sizeof(text), "OSRELEASE=5.4.0\nKERNELOFFSET=%" PRIx64 "\n", off);
	FAIL_IF(kaslr_vmci_agrees(text, strlen(text), "5.4.0", "", off, pb, reason, sizeof(reason)) != 1, "old text: %s",
		reason);
	/* No KERNELOFFSET: only for offset 0 (before 3.14). */
	snprintf(text, sizeof(text), "OSRELEASE=3.10.0\n");
	FAIL_IF(kaslr_vmci_agrees(text, strlen(text), "3.10.0", "", 0, 0, reason, sizeof(reason)) != 1, "no offset: %s",
		reason);
	FAIL_IF(kaslr_vmci_agrees(text, strlen(text), "3.10.0", "", off, 0, reason, sizeof(reason)) != -1,
		"missing KERNELOFFSET taken for %" PRIx64, off);
out:
	return ret;
}

/* A small file's text in @buf (NUL-terminated); @returns -1 if it cannot be opened. */
static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* kaslr_write_text_file: the whole text and a final newline, or nothing and no temporary. */
static int t_write_file(uint64_t *rnd, char *why, size_t whylen)
{
	char dir[] = "/tmp/kaslr-test-wf.XXXXXX", path[256], buf[256], err[256], cmd[600];
	int ret = 0;

	(void)rnd;
	FAIL_IF(!mkdtemp(dir), "mkdtemp");
	snprintf(path, sizeof(path), "%s/vmcoreinfo.txt", dir);
	FAIL_IF(kaslr_write_text_file(path, "OSRELEASE=6.1.0\nPAGESIZE=4096", err, sizeof(err)) < 0, "%s", err);
	FAIL_IF(read_small(path, buf, sizeof(buf)) < 0, "no file");
	FAIL_IF(strcmp(buf, "OSRELEASE=6.1.0\nPAGESIZE=4096\n"), "file holds '%s'", buf);
	/* A new file gets 0666 less the umask; a rewritten one keeps its mode. */
	{
		struct stat st;
		mode_t old = umask(077);
		char link[300];

		snprintf(path, sizeof(path), "%s/private.txt", dir);
		FAIL_IF(kaslr_write_text_file(path, "A=1\n", err, sizeof(err)) < 0, "%s", err);
		FAIL_IF(stat(path, &st) || (st.st_mode & 0777) != 0600, "umask 077: mode %o", st.st_mode & 0777);
		umask(old);
		FAIL_IF(chmod(path, 0640), "chmod");
		FAIL_IF(kaslr_write_text_file(path, "A=2\n", err, sizeof(err)) < 0, "%s", err);
		FAIL_IF(stat(path, &st) || (st.st_mode & 0777) != 0640, "rewrite: mode %o, want 640",
			st.st_mode & 0777);
		/* A symlink is written through: it stays a link, its target holds the text. */
		snprintf(link, sizeof(link), "%s/link.txt", dir);
		FAIL_IF(symlink("private.txt", link), "symlink");
		FAIL_IF(kaslr_write_text_file(link, "A=3\n", err, sizeof(err)) < 0, "%s", err);
		FAIL_IF(lstat(link, &st) || !S_ISLNK(st.st_mode), "the symlink was replaced");
		FAIL_IF(read_small(path, buf, sizeof(buf)) < 0, "no target");
		FAIL_IF(strcmp(buf, "A=3\n"), "target holds '%s'", buf);
		unlink(link);
		unlink(path);
	}
	/* A directory that cannot be written: an error, and nothing left there. */
	snprintf(path, sizeof(path), "%s/no/such/dir/x", dir);
	FAIL_IF(kaslr_write_text_file(path, "A=1\n", err, sizeof(err)) == 0, "wrote into a missing directory");
	FAIL_IF(!strstr(err, "cannot write"), "message '%s'", err);
	/* A write that runs out of room (RLIMIT_FSIZE stands in for a full disk): no file, no temporary. */
	{
		pid_t pid;
		int status = 0;

		snprintf(path, sizeof(path), "%s/full.txt", dir);
		pid = fork();
		FAIL_IF(pid < 0, "fork");
		if (pid == 0) {
			struct rlimit rl = { 16, 16 };

			signal(SIGXFSZ, SIG_IGN);
			setrlimit(RLIMIT_FSIZE, &rl);
			_exit(kaslr_write_text_file(path, "OSRELEASE=6.1.0-26-cloud-amd64\nPAGESIZE=4096\n", err,
						    sizeof(err)) == 0 ? 0 : 3);
		}
		waitpid(pid, &status, 0);
		FAIL_IF(!WIFEXITED(status) || WEXITSTATUS(status) != 3, "write past the size limit succeeded");
	}
	/* Only the file written first is there: no temporaries, no half file. */
	snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s)\" = vmcoreinfo.txt", dir);
	FAIL_IF(system(cmd) != 0, "temporary files left in %s", dir);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ret = 1;
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_vmcoreinfo");

	unit_run("vmcoreinfo-parse-kernel-text", t_parse_kernel_text, &rnd);
	unit_run("vmcoreinfo-roundtrip", t_roundtrip, &rnd);
	unit_run("vmcoreinfo-decimal-vs-hex", t_formats, &rnd);
	unit_run("vmcoreinfo-missing-and-bad-values", t_missing_and_bad_values, &rnd);
	unit_run("vmcoreinfo-tolerance", t_tolerance, &rnd);
	unit_run("vmcoreinfo-agrees", t_agrees, &rnd);
	unit_run("vmcoreinfo-write-file", t_write_file, &rnd);
	TAP_EXIT();
}
