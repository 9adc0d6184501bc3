/*
 * test_ptscan.c - Method 6 (page tables found by scanning memory), the
 * scans' read economy, and kaslr_find without registers or vmcoreinfo
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Decoys sit in [1 MiB, 16 MiB), below every kernel placement and the
 * real tables (top 16 MiB of RAM), so the scan meets them first.
 */
#include "unit.h"

#define TABLE 0x63ULL		/* present, writable, accessed, dirty */
#define LEAF_2M 0xe3ULL		/* the same plus PS */

static struct kaslr_report rep;	/* large: keep off the stack */

/* Pages for decoys, handed out upwards from a random start in [1 MiB, 8 MiB). */
struct low {
	uint64_t next;
};

static void low_init(struct low *l, uint64_t *rnd)
{
	l->next = synth_rand_range(rnd, 0x100, 0x800) * SYNTH_4K;
}

static uint64_t low_page(struct low *l)
{
	uint64_t p = l->next;

	l->next += SYNTH_4K;
	return p;
}

/* A page of random words whose entry 511 is the real PGD's: fails the full-page check. */
static void decoy_random_words(struct fx *f, struct low *l, uint64_t *rnd)
{
	uint64_t p = low_page(l);
	int i;

	for (i = 0; i < 511; i++)
		synth_write_u64(&f->s, p + (uint64_t)i * 8, synth_rand(rnd) | 1);
	synth_write_u64(&f->s, p + 511 * 8, synth_read_u64(&f->s, f->root + 511 * 8));
}

/* Entry 511 pointing past the end of memory: fails the pre-filter. */
static void decoy_outside(struct fx *f, struct low *l, uint64_t *rnd)
{
	uint64_t p = low_page(l);

	synth_write_u64(&f->s, p + 511 * 8, (f->k.ram + synth_rand_range(rnd, 0, 1 << 20) * SYNTH_4K) | TABLE);
}

/* Entry 511 into memory, but the PUD's entry 510 points past its end: the walk fails. */
static void decoy_outside_below(struct fx *f, struct low *l, uint64_t *rnd)
{
	uint64_t p = low_page(l), q = low_page(l);

	synth_write_u64(&f->s, p + 511 * 8, q | TABLE);
	synth_write_u64(&f->s, q + 510 * 8, (f->k.ram + synth_rand_range(rnd, 0, 1 << 20) * SYNTH_4K) | TABLE);
}

/*
 * A well-formed 4-level table mapping the window with 2 MiB pages onto
 * memory that holds no banner; @nr_user user-half entries to empty tables.
 */
static void decoy_bogus_kernel(struct fx *f, struct low *l, uint64_t *rnd, int nr_user)
{
	uint64_t p = low_page(l), pud = low_page(l), pmd = low_page(l), i, first;

	for (i = 0; i < (uint64_t)nr_user; i++)
		synth_write_u64(&f->s, p + synth_rand_range(rnd, 0, 256) * 8, low_page(l) | 0x67);
	synth_write_u64(&f->s, p + 511 * 8, pud | TABLE);
	synth_write_u64(&f->s, pud + 510 * 8, pmd | TABLE);
	/* 16 pages of 2 MiB somewhere in the window, onto the low 32 MiB (zeros and decoys). */
	first = synth_rand_range(rnd, 0, 512 - 16);
	for (i = 0; i < 16; i++)
		synth_write_u64(&f->s, pmd + (first + i) * 8, (i * SYNTH_2M) | LEAF_2M);
}

/* A process PGD: user-half entries and the real kernel half (verifies, but is not init_top_pgt). */
static uint64_t process_pgd(struct fx *f, struct low *l, uint64_t *rnd)
{
	uint64_t p = low_page(l), i, n = synth_rand_range(rnd, 1, 9);

	for (i = 0; i < n; i++)
		synth_write_u64(&f->s, p + synth_rand_range(rnd, 0, 256) * 8,
				low_page(l) | 0x67 | (synth_rand(rnd) & 1 ? 1ULL << 63 : 0));
	for (i = 256; i < 512; i++)
		synth_write_u64(&f->s, p + i * 8, synth_read_u64(&f->s, f->root + i * 8));
	return p;
}

/* Every decoy kind, in random order; @returns the process PGD's address. */
static uint64_t decoys(struct fx *f, struct low *l, uint64_t *rnd)
{
	uint64_t proc = 0;
	int order[6], i, j;

	for (i = 0; i < 6; i++)
		order[i] = i;
	for (i = 5; i > 0; i--) {
		int t;

		j = (int)synth_rand_range(rnd, 0, (uint64_t)i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 6; i++) {
		switch (order[i]) {
		case 0:
			decoy_random_words(f, l, rnd);
			break;
		case 1:
			decoy_outside(f, l, rnd);
			break;
		case 2:
			decoy_outside_below(f, l, rnd);
			break;
		case 3:
			decoy_bogus_kernel(f, l, rnd, 0);
			break;
		case 4:
			decoy_bogus_kernel(f, l, rnd, (int)synth_rand_range(rnd, 1, 9));
			break;
		default:
			proc = process_pgd(f, l, rnd);
			break;
		}
	}
	return proc;
}

/* The one verified candidate of @c[0..n) (n capped at @max); -1 if none, -2 if several. */
static int only_verified(const struct kaslr_candidate *c, int n, int max)
{
	int i, found = -1;

	for (i = 0; i < n && i < max; i++) {
		if (c[i].status != KASLR_OK)
			continue;
		if (found >= 0)
			return -2;
		found = i;
	}
	return found;
}

static int best_ok(const struct fx *f, const struct kaslr_report *r, char *why, size_t whylen)
{
	if (r->best < 0) {
		snprintf(why, whylen, "no choice");
		return 0;
	}
	return fx_cand_ok(f, &r->cand[r->best], why, whylen);
}

static int check_cand(const struct fx *f, const struct kaslr_candidate *c, int levels, char *why, size_t whylen)
{
	if (!fx_cand_ok(f, c, why, whylen))
		return 0;
	if (c->method != KASLR_M_PTSCAN || c->cpu != -1 || c->pgd_paddr != f->root || c->levels != levels) {
		snprintf(why, whylen, "method %s cpu %d pgd " X64 " levels %d, want ptscan -1 " X64 " %d",
			 kaslr_method_name(c->method), c->cpu, c->pgd_paddr, c->levels, f->root, levels);
		return 0;
	}
	return 1;
}

/* The real table among decoys; the one with an empty user half wins over a process PGD. */
static int t_ptscan_decoys(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[16];
	struct low l;
	struct fx f;
	uint64_t proc;
	int ret = 0, n = 0, v, i, nr_ok;
	enum kaslr_status st;

	fx_build(&f, rnd, 4, synth_rand(rnd) & 1, synth_rand(rnd) & 1 ? SYNTH_4K : SYNTH_2M);
	low_init(&l, rnd);
	proc = decoys(&f, &l, rnd);
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 16, &n, 1);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	v = only_verified(c, n, 16);
	FAIL_IF(v < 0, "%d tried, verified index %d", n, v);
	FAIL_IF(!check_cand(&f, &c[v], 4, why, whylen), "%s", why);
	FAIL_IF(v != n - 1, "scan went on after the verified table (%d of %d)", v, n);
	/* The decoys with an empty user half (the bogus kernel, the outside walk) come first. */
	FAIL_IF(n != 3, "%d tables tried before stopping, want 3", n);
	FAIL_IF(!strstr(c[v].note, "0 user-half"), "note '%s'", c[v].note);

	/*
	 * Without stopping: every table-like page tried once, except the
	 * process PGD, whose kernel half is init_top_pgt's.
	 */
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 16, &n, 0);
	FAIL_IF(st != KASLR_OK || n != 4, "all: status %s, %d tried", kaslr_status_name(st), n);
	for (i = 0, nr_ok = 0; i < n; i++) {
		FAIL_IF(c[i].pgd_paddr == proc, "process PGD tried again");
		if (c[i].status != KASLR_OK)
			continue;
		nr_ok++;
		FAIL_IF(!check_cand(&f, &c[i], 4, why, whylen), "all: %s", why);
	}
	FAIL_IF(nr_ok != 1, "%d verified, want 1", nr_ok);
	/* Without init_top_pgt the process PGD answers, after the decoy with user entries if that has fewer. */
	synth_write_u64(&f.s, f.root + 511 * 8, 0);
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 16, &n, 1);
	v = only_verified(c, n, 16);
	FAIL_IF(st != KASLR_OK || v < 0 || c[v].pgd_paddr != proc, "process PGD: %s, verified %d: %s",
		kaslr_status_name(st), v, f.ctx.err);
	FAIL_IF(!strstr(c[v].note, "user-half entries") || strstr(c[v].note, " 0 user-half"), "note '%s'",
		c[v].note);
	FAIL_IF(f.s.cross_page_reads, "%lu reads crossed a page", f.s.cross_page_reads);
out:
	fx_free(&f);
	return ret;
}

/* Only decoys: nothing verified, and the message says what was seen. */
static int t_ptscan_decoys_only(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[16];
	struct low l;
	struct fx f;
	int ret = 0, n = 0, i;
	enum kaslr_status st;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	f.root = synth_pt_new(&f.s, 0);		/* the random-words decoy copies its entry 511 */
	synth_write_u64(&f.s, f.root + 511 * 8, synth_alloc_table(&f.s) | TABLE);
	synth_ctx(&f.s, &f.ctx);
	low_init(&l, rnd);
	decoy_random_words(&f, &l, rnd);
	decoy_outside(&f, &l, rnd);
	decoy_outside_below(&f, &l, rnd);
	decoy_bogus_kernel(&f, &l, rnd, 0);
	decoy_bogus_kernel(&f, &l, rnd, (int)synth_rand_range(rnd, 1, 9));
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 16, &n, synth_rand(rnd) & 1);
	FAIL_IF(st != KASLR_NOTFOUND, "status %s", kaslr_status_name(st));
	for (i = 0; i < n && i < 16; i++)
		FAIL_IF(c[i].status == KASLR_OK, "decoy " X64 " verified", c[i].pgd_paddr);
	FAIL_IF(n != 3, "%d tried, want 3", n);
	FAIL_IF(!strstr(f.ctx.err, "3 page(s) look like top-level page tables") ||
		!strstr(f.ctx.err, "none maps"), "message '%s'", f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/* No table at all, or no ranges. */
static int t_ptscan_none(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[4];
	struct fx f;
	uint64_t pages = 0, pieces = 0, reads;
	int ret = 0, n = -1, r;
	enum kaslr_status st;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	synth_ctx(&f.s, &f.ctx);
	for (r = 0; r < f.s.nr_ranges; r++) {
		uint64_t len = f.s.ranges[r].end - f.s.ranges[r].start;

		pages += len / SYNTH_4K;
		pieces += (len + (1u << 20) - 1) >> 20;
	}
	/* Memory in 1 MiB pieces: one read per piece, nothing more. */
	reads = f.s.reads;
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 4, &n, 1);
	FAIL_IF(st != KASLR_NOTFOUND || n != 0, "status %s, %d tried", kaslr_status_name(st), n);
	FAIL_IF(!strstr(f.ctx.err, "MiB scanned) looks like a top-level page table"),
		"message '%s'", f.ctx.err);
	FAIL_IF(f.s.reads - reads != pieces, "%lu reads for %" PRIu64 " pieces", (unsigned long)(f.s.reads - reads),
		pieces);
	/* Pieces that do not read: the pre-filter, one 8-byte read per page. */
	f.s.refuse_pieces = 1;
	reads = f.s.reads;
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 4, &n, 1);
	FAIL_IF(st != KASLR_NOTFOUND || n != 0, "page by page: status %s, %d tried", kaslr_status_name(st), n);
	FAIL_IF(f.s.reads - reads != pieces + pages, "page by page: %lu reads for %" PRIu64 " pages",
		(unsigned long)(f.s.reads - reads), pages);
	f.ctx.nr_ranges = 0;
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 4, &n, 1);
	FAIL_IF(st != KASLR_NODATA || !strstr(f.ctx.err, "ranges are unknown"), "no ranges: %s '%s'",
		kaslr_status_name(st), f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

/*
 * 5-level: PGD[511] -> P4D[511] -> PUD[510].  Sometimes the P4D also has
 * an entry 510 (espfix's slot), which makes a 4-level reading plausible
 * too: that one must fail and the 5-level one win.
 */
static int t_ptscan_5level(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[8];
	struct low l;
	struct fx f;
	int ret = 0, n = 0, v, espfix = synth_rand(rnd) & 1;
	enum kaslr_status st;

	fx_build(&f, rnd, 5, synth_rand(rnd) & 1, SYNTH_2M);
	if (espfix)
		synth_map(&f.s, f.root, 5, 0xffffff0000000000ULL, synth_rand_range(rnd, 0x100, 0x800) * SYNTH_4K,
			  SYNTH_4K);
	low_init(&l, rnd);
	decoy_random_words(&f, &l, rnd);
	decoy_outside(&f, &l, rnd);
	st = kaslr_ptscan(&f.ctx, &f.k.vml, c, 8, &n, 1);
	FAIL_IF(st != KASLR_OK, "status %s (espfix %d): %s", kaslr_status_name(st), espfix, f.ctx.err);
	v = only_verified(c, n, 8);
	FAIL_IF(v < 0, "verified index %d", v);
	FAIL_IF(!check_cand(&f, &c[v], 5, why, whylen), "espfix %d: %s", espfix, why);
	FAIL_IF(f.s.cross_page_reads, "cross-page reads");
out:
	fx_free(&f);
	return ret;
}

/* AMD SME: the C-bit in every entry, found from entry 511. */
static int t_ptscan_sme(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[4];
	struct fx f;
	uint64_t cbit = 1ULL << (synth_rand(rnd) & 1 ? 47 : 51);
	int ret = 0, n = 0, v;

	synth_init(&f.s);
	f.s.sme_mask = cbit;
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	f.root = synth_pt_new(&f.s, 1);
	synth_kernel_map(&f.s, &f.k, f.root, SYNTH_2M);
	synth_directmap(&f.s, &f.k, f.root);
	synth_ctx(&f.s, &f.ctx);
	FAIL_IF(kaslr_ptscan(&f.ctx, &f.k.vml, c, 4, &n, 1) != KASLR_OK, "%s", f.ctx.err);
	v = only_verified(c, n, 4);
	FAIL_IF(v < 0, "verified index %d", v);
	FAIL_IF(!check_cand(&f, &c[v], 4, why, whylen), "%s", why);
	FAIL_IF(!strstr(c[v].note, "SME"), "note '%s'", c[v].note);
out:
	fx_free(&f);
	return ret;
}

/* More tables than room: the verified one still comes back, in the last slot. */
static int t_ptscan_small_array(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[1];
	struct low l;
	struct fx f;
	int ret = 0, n = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	low_init(&l, rnd);
	decoy_bogus_kernel(&f, &l, rnd, 0);
	decoy_bogus_kernel(&f, &l, rnd, 0);
	FAIL_IF(kaslr_ptscan(&f.ctx, &f.k.vml, c, 1, &n, 1) != KASLR_OK, "%s", f.ctx.err);
	FAIL_IF(n != 3, "%d tried", n);
	FAIL_IF(!check_cand(&f, &c[0], 4, why, whylen), "%s", why);
	FAIL_IF(kaslr_ptscan(&f.ctx, &f.k.vml, NULL, 0, &n, 1) != KASLR_OK || n != 3, "no array: %d", n);
out:
	fx_free(&f);
	return ret;
}

static uint64_t prog_last, prog_total;
static int prog_calls, prog_backwards;

static void progress(void *priv, uint64_t done, uint64_t total)
{
	(void)priv;
	if (done < prog_last)
		prog_backwards = 1;
	prog_last = done;
	prog_total = total;
	prog_calls++;
}

static int t_ptscan_progress(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_candidate c[4];
	struct fx f;
	int ret = 0, n = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	f.ctx.progress = progress;
	prog_last = prog_total = 0;
	prog_calls = prog_backwards = 0;
	kaslr_ptscan(&f.ctx, &f.k.vml, c, 4, &n, 0);
	FAIL_IF(prog_calls < 3 || prog_backwards, "%d calls, backwards %d", prog_calls, prog_backwards);
	FAIL_IF(prog_last != prog_total || prog_total != 0xa0000 + (256ULL << 20) - 0x100000,
		"last " X64 " total " X64, prog_last, prog_total);
out:
	fx_free(&f);
	return ret;
}

/* ---- read economy of the vmcoreinfo scan ---- */

/* Reads through the image, with a bitmap of every byte read so far. */
/* kaslr_core.c's scan piece: the ranges here start at multiples of it. */
#define SCAN_PIECE (1u << 20)

struct watch {
	struct synth *s;
	unsigned char *seen;		/* bit per byte of [0, limit) */
	uint64_t limit;
	unsigned long rereads;
	uint64_t last_head;		/* highest piece (or page head) the scan read */
	/*
	 * idt_table[0]: kaslr_verify reads its 16 bytes (page-aligned, like a
	 * scan's page head) wherever a candidate puts it, a multiple of 2 MiB
	 * away from the true one.  Those reads are not the scan's.
	 */
	uint64_t idt_pa;
};

static int watch_read(void *priv, uint64_t paddr, void *buf, size_t len)
{
	struct watch *w = priv;
	uint64_t a;

	/* The scan's own reads: 1 MiB pieces, or page heads where a piece fails. */
	if (paddr & (SYNTH_4K - 1) || (len != 16 && len <= SYNTH_4K) || (len == 16 && (paddr - w->idt_pa) % SYNTH_2M == 0))
		return synth_read_phys(w->s, paddr, buf, len);
	if (paddr > w->last_head)
		w->last_head = paddr;
	for (a = paddr; a < paddr + len && a < w->limit; a++) {
		if (w->seen[a >> 3] & (1u << (a & 7)))
			w->rereads++;
		w->seen[a >> 3] |= (unsigned char)(1u << (a & 7));
	}
	return synth_read_phys(w->s, paddr, buf, len);
}

static void watch_start(struct watch *w, struct fx *f)
{
	memset(w->seen, 0, w->limit / 8);
	w->rereads = 0;
	w->last_head = 0;
	w->idt_pa = synth_kpa(&f->k, f->k.vml.idt_table);
	w->s = &f->s;
	f->ctx.read_phys = watch_read;
	f->ctx.priv = w;
}

/* A small guest: [0, 640K) and [1M, 96M), no page tables. */
static void small_guest(struct fx *f, uint64_t *rnd)
{
	synth_init(&f->s);
	synth_vmlinux(&f->k, "6.1.0-26-cloud-amd64");
	synth_memory(&f->s, &f->k, 96ULL << 20);
	synth_kernel_place(&f->s, &f->k, rnd);
	synth_ctx(&f->s, &f->ctx);
}

static int t_vmci_scan_no_reread(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[4];
	struct watch w;
	struct fx f;
	uint64_t page;
	int ret = 0, n = 0;
	enum kaslr_status st;

	memset(&w, 0, sizeof(w));
	w.limit = 96ULL << 20;
	w.seen = malloc(w.limit / 8);
	small_guest(&f, rnd);
	page = synth_rand_range(rnd, 0x100, 0x1000) * SYNTH_4K;
	synth_vmci_install(&f.s, &f.k, page);
	if (synth_rand(rnd) & 1)
		synth_vmci_note_page(&f.s, page + SYNTH_4K, "OSRELEASE=6.1.0-26-cloud-amd64\nPAGESIZE=4096\n");
	watch_start(&w, &f);
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 4, &n, 0);
	FAIL_IF(st != KASLR_OK || !copies[0].verified, "status %s, %d copies: %s", kaslr_status_name(st), n,
		f.ctx.err);
	FAIL_IF(w.rereads, "scan read %lu bytes twice", w.rereads);
	/* kaslr_find without registers: scan, verify, choose, nothing read twice. */
	watch_start(&w, &f);
	st = kaslr_find(&f.ctx, &f.k.vml, NULL, 0, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK || rep.cand[rep.best].method != KASLR_M_SCAN, "find: %s: %s",
		kaslr_status_name(st), f.ctx.err);
	FAIL_IF(w.rereads, "kaslr_find read %lu bytes twice", w.rereads);
	FAIL_IF(f.s.cross_page_reads, "cross-page reads");
out:
	free(w.seen);
	fx_free(&f);
	return ret;
}

/* stop_first_verified: a stale copy first, a full array, then the good copy; nothing read after it. */
static int t_vmci_scan_stop_first(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_vmci_copy copies[1];
	struct watch w;
	struct fx f;
	uint64_t stale_pa, good_pa;
	char *stale;
	int ret = 0, n = 0;
	enum kaslr_status st;

	memset(&w, 0, sizeof(w));
	w.limit = 96ULL << 20;
	w.seen = malloc(w.limit / 8);
	small_guest(&f, rnd);
	stale_pa = synth_rand_range(rnd, 0x100, 0x800) * SYNTH_4K;
	good_pa = synth_rand_range(rnd, 0x800, 0x1000) * SYNTH_4K;
	stale = synth_vmci_text(&f.k, (f.k.offset + 64 * SYNTH_2M) % (512 * SYNTH_2M), f.k.phys_base);
	synth_write(&f.s, stale_pa, stale, strlen(stale) + 1);
	synth_vmci_install(&f.s, &f.k, good_pa);
	watch_start(&w, &f);
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 1, &n, 1);
	FAIL_IF(st != KASLR_OK || n != 2, "status %s, %d copies", kaslr_status_name(st), n);
	FAIL_IF(!copies[0].verified || copies[0].paddr != good_pa, "kept " X64 " verified %d", copies[0].paddr,
		copies[0].verified);
	FAIL_IF(w.last_head != (good_pa & ~(uint64_t)(SCAN_PIECE - 1)),
		"scanned up to " X64 ", past the piece of the verified copy at " X64, w.last_head, good_pa);
	FAIL_IF(w.rereads, "%lu bytes read twice", w.rereads);
	/* Not stopping: both counted, the stale one stored, its reason kept. */
	watch_start(&w, &f);
	st = kaslr_vmci_scan(&f.ctx, &f.k.vml, copies, 1, &n, 0);
	FAIL_IF(st != KASLR_OK || n != 2 || copies[0].paddr != stale_pa || copies[0].verified, "no stop: %d",
		n);
	FAIL_IF(!strstr(copies[0].why, "fails"), "why '%s'", copies[0].why);
out:
	free(stale);
	free(w.seen);
	fx_free(&f);
	return ret;
}

/* ---- kaslr_find ---- */

static int t_find_ptscan(uint64_t *rnd, char *why, size_t whylen)
{
	struct kaslr_cpu_regs regs[1];
	struct low l;
	struct fx f;
	enum kaslr_status st;
	int ret = 0, i, levels = synth_rand(rnd) & 1 ? 5 : 4;

	fx_build(&f, rnd, levels, 1, SYNTH_2M);
	low_init(&l, rnd);
	decoys(&f, &l, rnd);
	/* No registers, or registers that lead nowhere; no vmcoreinfo. */
	synth_regs(&regs[0], 0, synth_rand_range(rnd, 1, 100) << 32, levels);
	st = kaslr_find(&f.ctx, &f.k.vml, regs, synth_rand(rnd) & 1, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!check_cand(&f, &rep.cand[rep.best], levels, why, whylen), "%s", why);
	for (i = 0; i < rep.nr_cand; i++)
		FAIL_IF(rep.cand[i].status == KASLR_OK && rep.cand[i].pgd_paddr != f.root &&
			rep.cand[i].method == KASLR_M_PTSCAN, "decoy " X64 " verified", rep.cand[i].pgd_paddr);
out:
	fx_free(&f);
	return ret;
}

/* A vmcoreinfo page that verifies: the scan answers and the page-table scan never runs. */
static int t_find_ptscan_not_needed(uint64_t *rnd, char *why, size_t whylen)
{
	struct low l;
	struct fx f;
	enum kaslr_status st;
	int ret = 0, i;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	low_init(&l, rnd);
	decoys(&f, &l, rnd);
	synth_vmci_install(&f.s, &f.k, low_page(&l));
	st = kaslr_find(&f.ctx, &f.k.vml, NULL, 0, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK || rep.cand[rep.best].method != KASLR_M_SCAN, "status %s: %s",
		kaslr_status_name(st), f.ctx.err);
	for (i = 0; i < rep.nr_cand; i++)
		FAIL_IF(rep.cand[i].method == KASLR_M_PTSCAN, "page-table scan ran");
	/* Asked for the page-table scan only: it runs, vmcoreinfo or not. */
	st = kaslr_find(&f.ctx, &f.k.vml, &f.regs, 1, KASLR_METHOD_BIT(KASLR_M_PTSCAN), &rep);
	FAIL_IF(st != KASLR_OK, "ptscan only: %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!check_cand(&f, &rep.cand[rep.best], 4, why, whylen), "%s", why);
	for (i = 0; i < rep.nr_cand; i++)
		FAIL_IF(rep.cand[i].method != KASLR_M_PTSCAN, "candidate %d is %s", i,
			kaslr_method_name(rep.cand[i].method));
out:
	fx_free(&f);
	return ret;
}

/*
 * A stale vmcoreinfo copy (another boot's values) fails; the page-table
 * scan answers, and the kernel's own vmcoreinfo, which is not at a page
 * start, confirms it through the tables found (Method 3).
 */
static int t_find_ptscan_stale_vmci(uint64_t *rnd, char *why, size_t whylen)
{
	struct low l;
	struct fx f;
	char *stale;
	enum kaslr_status st;
	int ret = 0, i, scan_failed = 0;

	fx_build(&f, rnd, 4, 1, SYNTH_2M);
	low_init(&l, rnd);
	stale = synth_vmci_text(&f.k, (f.k.offset + 64 * SYNTH_2M) % (512 * SYNTH_2M), f.k.phys_base);
	synth_write(&f.s, low_page(&l), stale, strlen(stale) + 1);
	synth_vmci_install(&f.s, &f.k, low_page(&l) + 0x100);
	st = kaslr_find(&f.ctx, &f.k.vml, NULL, 0, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_OK, "status %s: %s", kaslr_status_name(st), f.ctx.err);
	FAIL_IF(!best_ok(&f, &rep, why, whylen), "%s", why);
	FAIL_IF(!(rep.cand[rep.best].checks & KASLR_V_VMCOREINFO), "not confirmed by the in-RAM vmcoreinfo");
	for (i = 0; i < rep.nr_cand; i++)
		if (rep.cand[i].method == KASLR_M_SCAN && rep.cand[i].status != KASLR_OK)
			scan_failed = 1;
	FAIL_IF(!scan_failed, "the stale copy is not reported");
out:
	free(stale);
	fx_free(&f);
	return ret;
}

/* Nothing at all: the message names both scans and what to do. */
static int t_find_nothing(uint64_t *rnd, char *why, size_t whylen)
{
	struct fx f;
	enum kaslr_status st;
	int ret = 0;

	synth_init(&f.s);
	synth_vmlinux(&f.k, "6.1.0-26-cloud-amd64");
	synth_memory(&f.s, &f.k, 256ULL << 20);
	synth_kernel_place(&f.s, &f.k, rnd);
	synth_ctx(&f.s, &f.ctx);
	st = kaslr_find(&f.ctx, &f.k.vml, NULL, 0, KASLR_METHODS_ALL, &rep);
	FAIL_IF(st != KASLR_NOTFOUND || rep.best != -1, "status %s", kaslr_status_name(st));
	FAIL_IF(!strstr(f.ctx.err, "scan: no page") || !strstr(f.ctx.err, "ptscan: no page") ||
		!strstr(f.ctx.err, "top-level page table") || !strstr(f.ctx.err, "by hand"), "message '%s'",
		f.ctx.err);
out:
	fx_free(&f);
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_ptscan");

	unit_run("ptscan-decoys", t_ptscan_decoys, &rnd);
	unit_run("ptscan-decoys-only", t_ptscan_decoys_only, &rnd);
	unit_run("ptscan-no-table", t_ptscan_none, &rnd);
	unit_run("ptscan-5level", t_ptscan_5level, &rnd);
	unit_run("ptscan-sme", t_ptscan_sme, &rnd);
	unit_run("ptscan-small-array", t_ptscan_small_array, &rnd);
	unit_run("ptscan-progress", t_ptscan_progress, &rnd);
	unit_run("vmci-scan-no-reread", t_vmci_scan_no_reread, &rnd);
	unit_run("vmci-scan-stop-first-verified", t_vmci_scan_stop_first, &rnd);
	unit_run("find-ptscan", t_find_ptscan, &rnd);
	unit_run("find-ptscan-not-needed", t_find_ptscan_not_needed, &rnd);
	unit_run("find-ptscan-stale-vmcoreinfo", t_find_ptscan_stale_vmci, &rnd);
	unit_run("find-nothing", t_find_nothing, &rnd);
	TAP_EXIT();
}
