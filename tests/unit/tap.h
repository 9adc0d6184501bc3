/*
 * tap.h - the tests' one reporting convention
 *
 * Copyright (C) 2026 The kaslr.so authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Every test prints "PASS: name" or "FAIL: name: why"; tests/run.sh counts
 * them.  A test program exits 1 if anything failed.
 */
#ifndef KASLR_TAP_H
#define KASLR_TAP_H

#include <inttypes.h>
#include <stdio.h>

static int tap_failed;

#define TAP_CHECK(name, cond, ...)                                              \
	do {                                                                    \
		if (cond) {                                                     \
			printf("PASS: %s\n", (name));                           \
		} else {                                                        \
			tap_failed = 1;                                         \
			printf("FAIL: %s: ", (name));                           \
			printf(__VA_ARGS__);                                    \
			printf("\n");                                           \
		}                                                               \
	} while (0)

/* Equality of two 64-bit values, with both shown on failure. */
#define TAP_EQ(name, got, want)                                                 \
	TAP_CHECK(name, (uint64_t)(got) == (uint64_t)(want), "got 0x%" PRIx64 ", want 0x%" PRIx64, \
		  (uint64_t)(got), (uint64_t)(want))

#define TAP_EXIT() return tap_failed ? 1 : 0

#endif /* KASLR_TAP_H */
