/*
 * fuzz_notes.c - ELF note streams and QEMU CPU states
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Input: the bytes of a PT_NOTE segment (or a kdump-compressed note area),
 * read by kaslr_notes_parse (registers) and kaslr_vmci_from_notes (kaslr -D).
 * Oracles: no read outside the buffer (ASan: libFuzzer's buffer is exactly
 * @size bytes), no more CPUs than room, the VMCOREINFO note lies inside
 * the buffer, a decoded CPU state is marked valid, and the whole input read
 * as one QEMUCPUState decodes the same as when a note carries it.
 */
#include "fuzz.h"
#include "regs.h"
#include "vmcoreinfo.h"

#define MAX_CPUS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kaslr_cpu_regs regs[MAX_CPUS + 1], one;
	struct kaslr_notes_info info;
	struct kaslr_vmci v;
	char err[160];
	int nr = -1, i;
	char *text;
	enum kaslr_status st;

	memset(regs, 0x5a, sizeof(regs));
	st = kaslr_notes_parse(data, size, regs, MAX_CPUS, &nr, &info);
	if (st != KASLR_OK && st != KASLR_CORRUPT)
		FUZZ_FAIL("notes: status %s", kaslr_status_name(st));
	if (nr < 0 || nr > MAX_CPUS || nr > info.nr_qemu)
		FUZZ_FAIL("notes: %d CPUs decoded of %d QEMU notes, room for %d", nr, info.nr_qemu, MAX_CPUS);
	if (regs[MAX_CPUS].cpu != 0x5a5a5a5a)
		FUZZ_FAIL("notes: wrote past the regs array");
	for (i = 0; i < nr; i++)
		if (regs[i].cpu != i || (regs[i].valid && !(regs[i].valid & KASLR_REG_CR3)))
			FUZZ_FAIL("notes: CPU %d recorded as %d, valid 0x%x", i, regs[i].cpu, regs[i].valid);
	if (info.vmcoreinfo) {
		const uint8_t *p = (const uint8_t *)info.vmcoreinfo;

		if (p < data || p > data + size || info.vmcoreinfo_len > (size_t)(data + size - p))
			FUZZ_FAIL("notes: VMCOREINFO note outside the buffer");
		if (kaslr_vmci_parse(info.vmcoreinfo, info.vmcoreinfo_len, &v, err, sizeof(err)) == KASLR_OK)
			kaslr_vmci_free(&v);
	}

	/* The note kaslr -D starts from: a terminated copy no longer than the input. */
	st = kaslr_vmci_from_notes(data, size, &text);
	if ((st == KASLR_OK) != (text != NULL))
		FUZZ_FAIL("from_notes: status %s, text %p", kaslr_status_name(st), (void *)text);
	if (text && strnlen(text, size + 1) > size)
		FUZZ_FAIL("from_notes: text longer than the notes");
	free(text);

	/* The whole input as one descriptor. */
	st = kaslr_regs_from_qemu_cpustate(data, size, 7, &one);
	if (one.cpu != 7)
		FUZZ_FAIL("cpustate: cpu %d", one.cpu);
	if ((st == KASLR_OK) != (one.valid != 0))
		FUZZ_FAIL("cpustate: status %s, valid 0x%x", kaslr_status_name(st), one.valid);
	if (st == KASLR_OK && size < KASLR_QEMU_CPUSTATE_SIZE - 8)
		FUZZ_FAIL("cpustate: decoded from %zu bytes", size);
	return 0;
}
