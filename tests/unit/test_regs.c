/*
 * test_regs.c - QEMU CPU state and ELF note decoding
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>

#include "unit.h"
#include "regs.h"

/* QEMU's own declaration (target/i386/arch_dump.c), to lay out test data independently. */
struct qemu_seg {
	uint32_t selector, limit, flags, pad;
	uint64_t base;
};

struct qemu_cpustate {
	uint32_t version, size;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	struct qemu_seg cs, ds, es, fs, gs, ss;
	struct qemu_seg ldt, tr, gdt, idt;
	uint64_t cr[5];
	uint64_t kernel_gs_base;
};

_Static_assert(sizeof(struct qemu_cpustate) == KASLR_QEMU_CPUSTATE_SIZE, "QEMUCPUState is 440 bytes");
_Static_assert(offsetof(struct qemu_cpustate, idt.limit) == 372, "IDT limit at +372");
_Static_assert(offsetof(struct qemu_cpustate, idt.base) == 384, "IDT base at +384");
_Static_assert(offsetof(struct qemu_cpustate, cr[3]) == 416, "CR3 at +416");

static void random_state(struct qemu_cpustate *q, uint64_t *rnd)
{
	unsigned char *p = (unsigned char *)q;
	size_t i;

	for (i = 0; i < sizeof(*q); i++)
		p[i] = (unsigned char)synth_rand(rnd);
	q->version = 1;
	q->size = sizeof(*q);
}

static int t_cpustate(uint64_t *rnd, char *why, size_t whylen)
{
	unsigned char buf[KASLR_QEMU_CPUSTATE_SIZE + 1];
	struct qemu_cpustate q;
	struct kaslr_cpu_regs r;
	int cpu = (int)synth_rand_range(rnd, 0, 256), ret = 0;

	random_state(&q, rnd);
	/* Unaligned on purpose. */
	memcpy(buf + 1, &q, sizeof(q));
	FAIL_IF(kaslr_regs_from_qemu_cpustate(buf + 1, sizeof(q), cpu, &r) != KASLR_OK, "decode failed");
	FAIL_IF(r.cpu != cpu || r.cr0 != q.cr[0] || r.cr3 != q.cr[3] || r.cr4 != q.cr[4], "cr0/3/4 " X64 " "
		X64 " " X64 " want " X64 " " X64 " " X64, r.cr0, r.cr3, r.cr4, q.cr[0], q.cr[3], q.cr[4]);
	FAIL_IF(r.idtr_base != q.idt.base || r.idtr_limit != q.idt.limit, "idtr " X64 "/%x", r.idtr_base,
		r.idtr_limit);
	FAIL_IF(r.rip != q.rip || r.gs_base != q.gs.base || r.kernel_gs_base != q.kernel_gs_base, "rip/gs");
	FAIL_IF((r.valid & (KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR)) !=
		(KASLR_REG_CR0 | KASLR_REG_CR3 | KASLR_REG_CR4 | KASLR_REG_IDTR), "valid 0x%x", r.valid);
	/* Older QEMU: no kernel_gs_base. */
	q.size = 432;
	memcpy(buf, &q, sizeof(q));
	FAIL_IF(kaslr_regs_from_qemu_cpustate(buf, 432, cpu, &r) != KASLR_OK || r.kernel_gs_base ||
		r.cr3 != q.cr[3], "432-byte state");
	FAIL_IF(kaslr_regs_from_qemu_cpustate(buf, 431, cpu, &r) != KASLR_CORRUPT, "431 bytes accepted");
	q.size = sizeof(q);
	q.version = 2;
	memcpy(buf, &q, sizeof(q));
	FAIL_IF(kaslr_regs_from_qemu_cpustate(buf, sizeof(q), cpu, &r) != KASLR_CORRUPT, "version 2 accepted");
	FAIL_IF(r.valid, "rejected state left valid bits");
out:
	return ret;
}

/* Append a note (4-byte padded) to @buf at @*len. */
static void put_note(unsigned char *buf, size_t *len, const char *name, uint32_t type, const void *desc,
		     uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;

	memcpy(buf + *len, &namesz, 4);
	memcpy(buf + *len + 4, &descsz, 4);
	memcpy(buf + *len + 8, &type, 4);
	*len += 12;
	memset(buf + *len, 0, (namesz + 3) & ~3u);
	memcpy(buf + *len, name, namesz);
	*len += (namesz + 3) & ~3u;
	memset(buf + *len, 0, (descsz + 3) & ~3u);
	memcpy(buf + *len, desc, descsz);
	*len += (descsz + 3) & ~3u;
}

/* A QEMU ELF dump's PT_NOTE: N x CORE/PRSTATUS, N x QEMU, VMCOREINFO. */
static size_t build_notes(unsigned char *buf, struct qemu_cpustate *qs, int ncpu, uint64_t *rnd,
			  size_t offsets[], int *nnotes)
{
	static const char vmci[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
	unsigned char prstatus[336];
	size_t len = 0;
	int i, k = 0;

	memset(prstatus, 0, sizeof(prstatus));
	for (i = 0; i < ncpu; i++) {
		offsets[k++] = len;
		put_note(buf, &len, "CORE", 1, prstatus, sizeof(prstatus));
	}
	for (i = 0; i < ncpu; i++) {
		random_state(&qs[i], rnd);
		offsets[k++] = len;
		put_note(buf, &len, "QEMU", 0, &qs[i], sizeof(qs[i]));
	}
	offsets[k++] = len;
	put_note(buf, &len, "VMCOREINFO", 0, vmci, sizeof(vmci) - 1);
	offsets[k] = len;
	*nnotes = k;
	return len;
}

static int t_notes(uint64_t *rnd, char *why, size_t whylen)
{
	static unsigned char buf[8192];
	struct qemu_cpustate qs[4];
	struct kaslr_cpu_regs regs[4];
	struct kaslr_notes_info info;
	size_t offsets[16], len;
	int ncpu = (int)synth_rand_range(rnd, 1, 5), nnotes, nr = -1, i, ret = 0;

	len = build_notes(buf, qs, ncpu, rnd, offsets, &nnotes);
	FAIL_IF(kaslr_notes_parse(buf, len, regs, 4, &nr, &info) != KASLR_OK, "parse failed");
	FAIL_IF(nr != ncpu || info.nr_prstatus != ncpu || info.nr_qemu != ncpu, "%d regs, %d prstatus, %d qemu",
		nr, info.nr_prstatus, info.nr_qemu);
	for (i = 0; i < ncpu; i++)
		FAIL_IF(regs[i].cpu != i || regs[i].cr3 != qs[i].cr[3], "cpu %d cr3 " X64, i, regs[i].cr3);
	FAIL_IF(!info.vmcoreinfo || info.vmcoreinfo_len != 30 || strncmp(info.vmcoreinfo, "OSRELEASE=", 10),
		"vmcoreinfo note");
	/* Room for fewer CPUs than notes: counted, not stored. */
	FAIL_IF(kaslr_notes_parse(buf, len, regs, 1, &nr, &info) != KASLR_OK || nr != 1 || info.nr_qemu != ncpu,
		"max 1: %d regs", nr);
	/* Trailing zero padding is fine. */
	memset(buf + len, 0, 7);
	FAIL_IF(kaslr_notes_parse(buf, len + 7, NULL, 0, &nr, &info) != KASLR_OK, "zero padding rejected");
out:
	return ret;
}

/* Every cut of the stream: no overrun (ASan), what precedes the cut is kept. */
static int t_notes_truncated(uint64_t *rnd, char *why, size_t whylen)
{
	static unsigned char buf[8192];
	struct qemu_cpustate qs[4];
	struct kaslr_cpu_regs regs[4];
	struct kaslr_notes_info info;
	size_t offsets[16], len, cut;
	int nnotes, nr, ret = 0, k;

	len = build_notes(buf, qs, 3, rnd, offsets, &nnotes);
	for (cut = 0; cut < len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);
		enum kaslr_status st;
		int complete = 0;

		memcpy(copy, buf, cut);
		st = kaslr_notes_parse(copy, cut, regs, 4, &nr, &info);
		free(copy);
		for (k = 0; k <= nnotes; k++)
			if (offsets[k] == cut)
				complete = 1;
		/* A note cut only in its last descriptor's padding still counts. */
		if (!complete)
			for (k = 1; k <= nnotes; k++)
				if (cut < offsets[k] && cut + 3 >= offsets[k] && cut > offsets[k - 1] + 12)
					complete = 2;
		if (complete == 1)
			FAIL_IF(st != KASLR_OK, "cut at note boundary %zu rejected", cut);
		else if (!complete)
			FAIL_IF(st != KASLR_CORRUPT, "cut at %zu accepted", cut);
		/* QEMU notes are notes 3..5: those wholly before the cut are decoded. */
		for (k = 3; k < 6; k++)
			if (offsets[k + 1] <= cut)
				FAIL_IF(nr < k - 2 || regs[k - 3].cr3 != qs[k - 3].cr[3],
					"cut %zu: cpu %d lost (nr %d)", cut, k - 3, nr);
	}
out:
	return ret;
}

/* Header sizes chosen to overflow size_t arithmetic. */
static int t_notes_huge(uint64_t *rnd, char *why, size_t whylen)
{
	unsigned char buf[64];
	uint32_t sizes[][2] = { { 0xffffffffu, 0 }, { 5, 0xffffffffu }, { 0xfffffffdu, 0xfffffffdu },
				{ 40, 0 }, { 4, 30 } };
	struct kaslr_notes_info info;
	int nr, ret = 0;
	size_t i;

	(void)rnd;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &sizes[i][0], 4);
		memcpy(buf + 4, &sizes[i][1], 4);
		memcpy(buf + 12, "QEMU", 4);
		FAIL_IF(kaslr_notes_parse(buf, 40, NULL, 0, &nr, &info) != KASLR_CORRUPT, "sizes %u/%u accepted",
			sizes[i][0], sizes[i][1]);
	}
	FAIL_IF(kaslr_notes_parse(NULL, 0, NULL, 0, &nr, NULL) != KASLR_OK, "empty stream");
out:
	return ret;
}

/*
 * A QEMU note whose descriptor is shorter than the state claims (the last
 * one of a truncated note segment): its real size comes from the note
 * header before it, and the decoder, given that, refuses the state.
 */
static int t_note_descsz(uint64_t *rnd, char *why, size_t whylen)
{
	unsigned char buf[2048];
	struct qemu_cpustate q;
	struct kaslr_cpu_regs r;
	size_t len = 0, short_len = (size_t)synth_rand_range(rnd, 8, KASLR_QEMU_CPUSTATE_SIZE);
	size_t desc1, desc2;
	int ret = 0;

	random_state(&q, rnd);
	put_note(buf, &len, "CORE", KASLR_NT_PRSTATUS, "prstatus", 8);
	desc1 = len + 12 + 8;
	put_note(buf, &len, "QEMU", 0, &q, sizeof(q));
	desc2 = len + 12 + 8;
	put_note(buf, &len, "QEMU", 0, &q, short_len);	/* q.size still says 440 */
	FAIL_IF(kaslr_qemu_note_descsz(buf + desc1) != sizeof(q), "full note: %zu",
		kaslr_qemu_note_descsz(buf + desc1));
	FAIL_IF(kaslr_qemu_note_descsz(buf + desc2) != short_len, "short note: %zu, want %zu",
		kaslr_qemu_note_descsz(buf + desc2), short_len);
	FAIL_IF(kaslr_regs_from_qemu_cpustate(buf + desc2, kaslr_qemu_note_descsz(buf + desc2), 1, &r) !=
		(short_len >= 432 ? KASLR_OK : KASLR_CORRUPT), "short state decoded from %zu bytes", short_len);
	/* Not a QEMU note header before the pointer: no size, nothing read. */
	FAIL_IF(kaslr_qemu_note_descsz(buf + 12 + 8) != 0, "CORE note taken for QEMU");
out:
	return ret;
}

int main(void)
{
	uint64_t rnd = synth_seed("test_regs");

	unit_run("qemu-cpustate-decode", t_cpustate, &rnd);
	unit_run("notes-parse", t_notes, &rnd);
	unit_run("notes-truncated", t_notes_truncated, &rnd);
	unit_run("notes-huge-sizes", t_notes_huge, &rnd);
	unit_run("qemu-note-descsz", t_note_descsz, &rnd);
	TAP_EXIT();
}
