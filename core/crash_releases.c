/*
 * core/crash_releases.c - which crash release first initialises which kernel
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * When "kaslr -r" repairs the offsets but the running crash cannot come up
 * as a full session (crash 8.0.2 and Linux 6.12: "invalid structure member
 * offset: module_core_size" in module_init()), the user needs the release
 * that can.  The table comes from crash's own history
 * (github.com/crash-utility/crash: `git log`, and `git tag --contains
 * COMMIT` for the first release holding each change), not from what one
 * lab happened to run: one line per kernel change that stops crash's
 * start-up (task table, module list, slab layout, KASLR detection), with
 * the crash commit that handled it.  Commands that fail later in a
 * session (runq, kmem -i, bt details) are not start-up, and not listed.
 */
#include <stdio.h>
#include <string.h>

#include "core/crash_releases.h"

static const struct crash_release {
	int major, minor;		/* kernels from this version on ... */
	const char *release;		/* ... need this crash release (NULL: none released) */
	const char *why;		/* the crash commit, as its log says it */
} releases[] = {
	/* crash 8.0.0 (2021-11-24) */
	{ 5, 14, "8.0.0", "d6b4f36 \"Handle task_struct state member changes for kernels >= 5.14-rc1\"" },
	{ 5, 16, "8.0.0", "68870c8 \"Handle task_struct cpu member changes for kernels >= 5.16-rc1\"" },
	/* crash 8.0.1 (2022-04-26) */
	{ 5, 17, "8.0.1", "14f8c46 \"memory: Handle struct slab changes on Linux 5.17-rc1 and later\"" },
	/* crash 8.0.4 (2023-11-16) */
	{ 6, 4, "8.0.4", "7750e61 \"Support module memory layout change on Linux 6.4\"" },
	{ 6, 5, "8.0.4", "8858006 \"Fix failure of gathering task table on Linux 6.5-rc1 and later\"" },
	/* crash 8.0.6 (2024-11-12): 6.10 removed module_load_offset, crash's KASLR gate */
	{ 6, 10, "8.0.6", "6752571 \"X86 64: fix for crash session loading failure\"" },
	/*
	 * Linux 7: crash 9.0.2 (2026-04-24) is the newest release; the 7.x
	 * changes came after it (9550178 "Refactor kernel version checking
	 * code": "Extend kernel version sanity checking to Linux 7.x kernels";
	 * fa55e12, bb9a3fa, d0ee428: Linux 7.1 fixes), in no release yet.
	 */
	{ 7, 0, NULL, "9550178 \"Refactor kernel version checking code\" (after 9.0.2, not released)" },
};

const char *kaslr_crash_release_for(const char *osrelease, const char **why_ret)
{
	const struct crash_release *best = NULL;
	int major, minor;
	size_t i;

	if (why_ret)
		*why_ret = NULL;
	if (!osrelease || sscanf(osrelease, "%d.%d", &major, &minor) != 2)
		return "";
	for (i = 0; i < sizeof(releases) / sizeof(releases[0]); i++)
		if (major > releases[i].major || (major == releases[i].major && minor >= releases[i].minor))
			best = &releases[i];
	if (!best)
		return "";
	if (why_ret)
		*why_ret = best->why;
	return best->release;
}

int kaslr_crash_release_cmp(const char *a, const char *b)
{
	int x[3] = { 0, 0, 0 }, y[3] = { 0, 0, 0 }, i;

	sscanf(a, "%d.%d.%d", &x[0], &x[1], &x[2]);
	sscanf(b, "%d.%d.%d", &y[0], &y[1], &y[2]);
	for (i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}
