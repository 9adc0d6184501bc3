/*
 * core/vmlinux.h - link-time values of a vmlinux, read with libelf
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef KASLR_VMLINUX_H
#define KASLR_VMLINUX_H

#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

/* Relocation probes kept per vmlinux (struct kaslr_vmlinux.reloc). */
#define KASLR_MAX_RELOC 24

/*
 * Link-time values of the vmlinux.  Zero means "the vmlinux has no such
 * symbol".  All addresses are as linked (no KASLR offset applied).
 */
struct kaslr_vmlinux {
	int machine;			/* ELF e_machine: EM_X86_64 or EM_AARCH64 */
	uint64_t text;			/* _text */
	uint64_t stext;			/* _stext */
	uint64_t divide_error;		/* asm_exc_divide_error (5.8+) or divide_error */
	uint64_t idt_table;
	uint64_t linux_banner;
	uint64_t vmcoreinfo_data;	/* pointer (4.13+) or array (older) */
	int vmcoreinfo_data_is_array;	/* 1 if vmcoreinfo_data is the text itself */
	uint64_t vmcoreinfo_size;	/* size_t holding the text length */
	uint64_t saved_command_line;	/* char * */
	uint64_t page_offset_base;	/* CONFIG_RANDOMIZE_MEMORY (4.8+) */
	uint64_t init_top_pgt;		/* init_top_pgt (4.13+) or init_level4_pgt */
	int has_pti;			/* pti_init or kaiser_init exists */
	/* arm64 */
	uint64_t swapper_pg_dir;	/* the kernel's page tables, inside the image */
	uint64_t memstart_addr;		/* s64: PHYS_OFFSET */
	uint64_t vabits_actual;		/* u64 (5.4+, commit 5383cc6efed1) */
	uint64_t kimage_voffset;	/* u64: the image's VA - PA, set at boot */
	uint64_t end;			/* _end */
	/* The full banner as stored in the vmlinux, NUL excluded. */
	const char *banner;
	size_t banner_len;
	/* uts release ("6.1.0-26-cloud-amd64"), taken from the banner; NUL-terminated. */
	char osrelease[65];
	/* GNU build-id of the vmlinux as 40 lowercase hex digits, or "" if absent. */
	char build_id[41];
	/*
	 * Relocation probes: 64-bit words of the image that hold link-time
	 * addresses inside the image, as the file stores them (the first entries
	 * of sys_call_table, then words sampled across .rodata).  KASLR
	 * relocation (arch/x86/boot/compressed/misc.c:handle_relocations) adds
	 * KERNELOFFSET to every such pointer, so in memory they read value +
	 * KERNELOFFSET.  They check the offset itself: the banner alone only
	 * checks phys_base + KERNELOFFSET.  nr_reloc 0: no probe.
	 */
	struct kaslr_reloc_probe {
		uint64_t vaddr;		/* link-time address of the word */
		uint64_t value;		/* what the file holds there */
	} reloc[KASLR_MAX_RELOC];
	int nr_reloc;
};


/**
 * kaslr_vmlinux_open - fill @vml from the vmlinux at @path
 * @err, @errlen: one-line reason on failure
 *
 * Reads the symbol table once for the symbols the methods need, the full
 * linux_banner from its section, and the GNU build-id note.
 *
 * @returns KASLR_OK; KASLR_NODATA if the file is not an x86_64 ELF vmlinux
 * or has no symbol table; KASLR_CORRUPT if it cannot be read.
 */
enum kaslr_status kaslr_vmlinux_open(const char *path, struct kaslr_vmlinux *vml, char *err,
				     size_t errlen);

/**
 * kaslr_vmlinux_symbol - link-time value of one symbol (0 if absent)
 *
 * Slow path (a pass over the symbol table); for the few symbols not in
 * struct kaslr_vmlinux.
 */
uint64_t kaslr_vmlinux_symbol(const char *path, const char *name);

/* Frees what kaslr_vmlinux_open allocated (the banner). */
void kaslr_vmlinux_close(struct kaslr_vmlinux *vml);

#endif /* KASLR_VMLINUX_H */
